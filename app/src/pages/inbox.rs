//! The **Inbox** (`/accounts/{id}/inbox`): the account's one-to-one conversations with its
//! subscribers, newest first with unread marks; open one (`?with={user}`) to read it and reply
//! as the account. A new subscriber message shows without reloading: the page listens on
//! `/accounts/{id}/inbox/live`, a WebSocket fed by this node's hub (the same changes the client
//! protocol's events come from), and reloads what moved.

use super::account::{use_account_id, AccountHead, Tab};
use super::layout::Frame;
use crate::error::ConsoleError;
use crate::paths;
use crate::time_fmt::utc_minutes;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

/// Conversations listed; messages shown of the open one.
#[cfg(feature = "ssr")]
const LISTED: i64 = 50;
#[cfg(feature = "ssr")]
const SHOWN: i64 = 100;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InboxItem {
    pub subscriber: String,
    pub last_time: i64,
    /// The last message, shortened (not one sent with NoLastMsg).
    pub last_text: String,
    pub unread: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatLine {
    pub msg_key: String,
    pub from_account: bool,
    pub text: String,
    pub time: i64,
    pub revoked: bool,
}

#[server(endpoint = "list_inbox", output = crate::codec::Json)]
pub async fn list_inbox(account: String) -> Result<Vec<InboxItem>, ConsoleError> {
    let id = crate::ssr::account_id(&account)?;
    let (state, _user) = crate::ssr::allowed(messaging::Action::View, Some(&id)).await?;
    Ok(state
        .messaging
        .inbox(&id, LISTED)
        .await?
        .into_iter()
        .map(|r| InboxItem { subscriber: r.subscriber, last_time: r.last_time, last_text: r.last_text, unread: r.unread })
        .collect())
}

/// The open conversation, oldest first; reading it marks it read for the account.
#[server(endpoint = "inbox_conversation", output = crate::codec::Json)]
pub async fn inbox_conversation(account: String, subscriber: String) -> Result<Vec<ChatLine>, ConsoleError> {
    use messaging::post::{PlainElement, PostContent, PostWire};
    let id = crate::ssr::account_id(&account)?;
    let (state, _user) = crate::ssr::allowed(messaging::Action::View, Some(&id)).await?;
    let user = messaging::UserId::parse("subscriber", &subscriber).map_err(messaging::Error::from)?;
    let messages = state.messaging.inbox_conversation(&id, &user, SHOWN).await?;
    Ok(messages
        .into_iter()
        .map(|m| {
            let text = match PostContent::from_msg_body(&m.body) {
                PostWire::Post(post) => post.summary(),
                PostWire::Elements(elements) => elements
                    .iter()
                    .map(|e| match e {
                        PlainElement::Text(t) => t.clone(),
                        PlainElement::Image(_) => "[Image]".into(),
                        PlainElement::Other(t) => format!("[{t}]"),
                    })
                    .collect::<Vec<_>>()
                    .join(" "),
            };
            ChatLine { msg_key: m.key.to_string(), from_account: m.sender == m.account, text, time: m.time, revoked: m.revoked }
        })
        .collect())
}

#[server(endpoint = "inbox_reply", output = crate::codec::Json)]
pub async fn inbox_reply(account: String, subscriber: String, text: String) -> Result<(), ConsoleError> {
    let id = crate::ssr::account_id(&account)?;
    let (state, _user) = crate::ssr::allowed(messaging::Action::ManageSubscribers, Some(&id)).await?;
    let user = messaging::UserId::parse("subscriber", &subscriber).map_err(messaging::Error::from)?;
    state.messaging.reply_as_account(&id, &user, &text).await?;
    Ok(())
}

pub fn inbox_path(account: &str, with: Option<&str>) -> String {
    let base = format!("{}/inbox", paths::account(account));
    match with {
        Some(u) => format!("{base}?with={}", paths::encode(u)),
        None => base,
    }
}

#[component]
pub fn InboxPage() -> impl IntoView {
    let account = use_account_id();
    let query = use_query_map();
    let with = Memo::new(move |_| query.read().get("with").filter(|w| !w.is_empty()));
    let version = RwSignal::new(0u32);
    let list = Resource::new(move || (account.get(), version.get()), |(a, _)| list_inbox(a));
    let chat = Resource::new(
        move || (account.get(), with.get(), version.get()),
        |(a, w, _)| async move {
            match w {
                Some(w) => inbox_conversation(a, w).await.map(Some),
                None => Ok(None),
            }
        },
    );
    let reply = ServerAction::<InboxReply>::new();
    let reply_text = RwSignal::new(String::new());
    Effect::new(move |_| {
        if let Some(Ok(())) = reply.value().get() {
            reply_text.set(String::new());
            version.update(|v| *v += 1);
        }
    });
    #[cfg(feature = "hydrate")]
    {
        Effect::new(move |_| live::listen(&account.get(), move || version.update(|v| *v += 1)));
    }

    let conversations = move |items: Vec<InboxItem>| {
        let a = account.get_untracked();
        let open = with.get_untracked();
        if items.is_empty() {
            return view! { <p class="empty">"No messages yet. When a subscriber writes to this account, the conversation shows here."</p> }.into_any();
        }
        view! {
            <ul class="inbox-list">
                {items.into_iter().map(|i| {
                    let current = open.as_deref() == Some(i.subscriber.as_str());
                    let unread = (i.unread > 0 && !current).then(|| view! { <span class="badge">{format!("{} unread", i.unread)}</span> });
                    view! {
                        <li class:current=current>
                            <a href=inbox_path(&a, Some(&i.subscriber)) aria-current=current.then_some("page")>
                                <strong>{i.subscriber.clone()}</strong>
                                {unread}
                                <span class="meta">{(i.last_time > 0).then(|| utc_minutes(i.last_time))}</span>
                                <span class="last-message">{i.last_text.clone()}</span>
                            </a>
                        </li>
                    }
                }).collect_view()}
            </ul>
        }
        .into_any()
    };
    let conversation = move |lines: Vec<ChatLine>| {
        let subscriber = with.get_untracked().unwrap_or_default();
        let title = format!("Conversation with {subscriber}");
        let label = title.clone();
        view! {
            <section class="chat" aria-label=label>
                <h2>{title}</h2>
                <ol class="chat-lines">
                    {lines.into_iter().map(|l| {
                        let who = if l.from_account { "You (the account)".to_owned() } else { subscriber.clone() };
                        let text = if l.revoked { "This message was recalled.".to_owned() } else { l.text.clone() };
                        view! {
                            <li class:from-account=l.from_account class:revoked=l.revoked>
                                <span class="meta">{format!("{who} · {}", utc_minutes(l.time))}</span>
                                <p>{text}</p>
                            </li>
                        }
                    }).collect_view()}
                </ol>
                <ActionForm action=reply>
                    <input type="hidden" name="account" value=account.get_untracked()/>
                    <input type="hidden" name="subscriber" value=subscriber.clone()/>
                    <label for="reply">"Reply"</label>
                    <textarea id="reply" name="text" rows="3" required
                        prop:value=move || reply_text.get() on:input=move |ev| reply_text.set(event_target_value(&ev))></textarea>
                    <button type="submit" class="primary">"Send reply"</button>
                    {move || reply.value().get().and_then(|r| r.err()).map(|e| view! { <p role="alert" class="form-error">{e.to_string()}</p> })}
                </ActionForm>
            </section>
        }
    };

    view! {
        <Frame>
            <AccountHead tab=Tab::Inbox/>
            <div class="inbox">
                <nav aria-label="Conversations">
                    <Transition fallback=|| view! { <p>"Loading…"</p> }>
                        {move || Suspend::new(async move {
                            match list.await {
                                Ok(items) => conversations(items),
                                Err(e) => view! { <p role="alert" class="form-error">{e.to_string()}</p> }.into_any(),
                            }
                        })}
                    </Transition>
                </nav>
                <Transition fallback=|| view! { <p>"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match chat.await {
                            Ok(Some(lines)) => conversation(lines).into_any(),
                            Ok(None) => view! { <p class="empty">"Open a conversation to read it and reply."</p> }.into_any(),
                            Err(e) => view! { <p role="alert" class="form-error">{e.to_string()}</p> }.into_any(),
                        }
                    })}
                </Transition>
            </div>
        </Frame>
    }
}

/// The browser's side of `/accounts/{id}/inbox/live`: a WebSocket whose every frame means
/// "something moved"; it reconnects a second after it drops, until the page goes away.
#[cfg(feature = "hydrate")]
mod live {
    use leptos::prelude::*;
    use leptos::wasm_bindgen::{closure::Closure, JsCast};
    use send_wrapper::SendWrapper;
    use std::cell::Cell;
    use std::rc::Rc;

    /// Listens while the calling reactive scope lives.
    pub fn listen(account: &str, changed: impl Fn() + Clone + 'static) {
        let stopped = Rc::new(Cell::new(false));
        let socket = open(account.to_owned(), changed, stopped.clone());
        let on_leave = SendWrapper::new((socket, stopped));
        on_cleanup(move || {
            let (socket, stopped) = on_leave.take();
            stopped.set(true);
            let open = socket.borrow_mut().take();
            if let Some(s) = open {
                let _ = s.close();
            }
        });
    }

    type Current = Rc<std::cell::RefCell<Option<web_sys::WebSocket>>>;

    fn open(account: String, changed: impl Fn() + Clone + 'static, stopped: Rc<Cell<bool>>) -> Current {
        let current: Current = Default::default();
        connect(account, changed, stopped, current.clone());
        current
    }

    fn connect(account: String, changed: impl Fn() + Clone + 'static, stopped: Rc<Cell<bool>>, current: Current) {
        let Some(window) = web_sys::window() else { return };
        let location = window.location();
        let (Ok(protocol), Ok(host)) = (location.protocol(), location.host()) else { return };
        let scheme = if protocol == "https:" { "wss" } else { "ws" };
        let url = format!("{scheme}://{host}{}/inbox/live", crate::paths::account(&account));
        let Ok(socket) = web_sys::WebSocket::new(&url) else { return };
        let on_message = Closure::<dyn Fn(web_sys::MessageEvent)>::new({
            let changed = changed.clone();
            move |_| changed()
        });
        socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        on_message.forget();
        let on_close = Closure::<dyn Fn()>::new({
            let (stopped, current) = (stopped.clone(), current.clone());
            move || {
                if stopped.get() {
                    return;
                }
                let (account, changed, stopped, current) = (account.clone(), changed.clone(), stopped.clone(), current.clone());
                let again = SendWrapper::new(move || connect(account, changed, stopped, current));
                set_timeout(move || (again.take())(), std::time::Duration::from_secs(1));
            }
        });
        socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        on_close.forget();
        *current.borrow_mut() = Some(socket);
    }
}
