//! The **Posts** page (`/accounts/{id}/posts`): posts not sent yet (drafts, scheduled, refused),
//! then the account's broadcasts newest first, paged by MsgKey, with **Recall**. Broadcasts sent
//! over REST are here too: they are the same messages. A sent post opens read-only
//! (`/accounts/{id}/posts/{MsgKey}`), rendered by the one renderer.

use super::account::{use_account_id, AccountHead, Tab};
use super::dialog::ModalDialog;
use super::layout::Frame;
use crate::error::ConsoleError;
use crate::paths;
use crate::time_fmt::utc_minutes;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

/// Broadcasts per page.
#[cfg(feature = "ssr")]
const SENT_PAGE: i64 = 20;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnsentRow {
    pub id: String,
    pub kind: String,
    pub summary: String,
    pub status: messaging::PostStatus,
    pub publish_at: Option<i64>,
    pub failure: Option<String>,
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SentRow {
    pub msg_key: String,
    pub msg_time: i64,
    /// "Text", "Image", "Text and image", or "Message" for one not made in the composer.
    pub kind: String,
    pub summary: String,
    pub recalled: bool,
    /// Subscribers' reactions (reaction, how many), most first.
    pub reactions: Vec<(String, i64)>,
    /// Subscribers when it was sent and those who read it (the Insights figures).
    pub recipients: i64,
    pub reads: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PostsData {
    pub unsent: Vec<UnsentRow>,
    pub sent: Vec<SentRow>,
    /// The MsgKey to continue from for older broadcasts, if there are any.
    pub older: Option<String>,
}

#[cfg(feature = "ssr")]
fn sent_row(b: &messaging::broadcasts::StoredBroadcast) -> SentRow {
    let (kind, summary) = kind_and_summary(&b.body_json());
    SentRow {
        msg_key: b.msg_key(),
        msg_time: b.msg_time,
        kind,
        summary,
        recalled: b.recalled_at.is_some(),
        reactions: vec![],
        recipients: 0,
        reads: 0,
    }
}

/// What a broadcast's MsgBody was, as the posts tables say it: its type ("Text", "Image",
/// "Text and image", or "Message" for one not made in the composer) and its first words.
#[cfg(feature = "ssr")]
pub fn kind_and_summary(body: &serde_json::Value) -> (String, String) {
    use messaging::post::{PlainElement, PostContent, PostWire};
    match PostContent::from_msg_body(body) {
        PostWire::Post(post) => (post.kind.label().to_owned(), post.summary()),
        PostWire::Elements(elements) => {
            let summary = elements
                .iter()
                .map(|e| match e {
                    PlainElement::Text(t) => t.chars().take(100).collect::<String>(),
                    PlainElement::Image(_) => "[Image]".into(),
                    PlainElement::Other(t) => format!("[{t}]"),
                })
                .collect::<Vec<_>>()
                .join(" ");
            ("Message".to_owned(), summary)
        }
    }
}

/// "3 of 5 (60%)": readers of a post of its recipients, as the Insights tab counts them.
fn reads_text(reads: i64, recipients: i64) -> String {
    if recipients == 0 {
        return format!("{reads}");
    }
    format!("{reads} of {recipients} ({:.0}%)", reads as f64 * 100.0 / recipients as f64)
}

/// "👍 2 · 🎉 1", or a dash for none.
fn reactions_text(reactions: &[(String, i64)]) -> String {
    if reactions.is_empty() {
        return "–".into();
    }
    reactions.iter().map(|(r, n)| format!("{r} {n}")).collect::<Vec<_>>().join(" · ")
}

#[server(endpoint = "list_posts", output = crate::codec::Json)]
pub async fn list_posts(account: String, older_than: Option<String>) -> Result<PostsData, ConsoleError> {
    let id = crate::ssr::account_id(&account)?;
    let (state, _user) = crate::ssr::allowed(messaging::Action::View, Some(&id)).await?;
    let m = &state.messaging;
    let unsent = if older_than.is_none() {
        m.unsent_posts(&id)
            .await?
            .into_iter()
            .map(|p| UnsentRow {
                kind: p.content.kind.label().to_owned(),
                summary: p.content.summary(),
                status: p.status,
                publish_at: p.publish_at,
                failure: p.failure,
                updated_at: p.updated_at,
                id: p.id,
            })
            .collect()
    } else {
        vec![]
    };
    let page = m.broadcast_history(&id, SENT_PAGE, older_than.as_deref(), true).await?;
    let older = if page.finished { None } else { page.messages.last().map(|b| b.msg_key()) };
    let keys: Vec<String> = page.messages.iter().map(|b| b.msg_key()).collect();
    let mut reactions = m.broadcast_reaction_counts(&id, &keys).await?;
    let figures: std::collections::HashMap<String, messaging::insights::PostFigures> = if keys.is_empty() {
        Default::default()
    } else {
        m.insights().posts(&id, &keys).await?.into_iter().flatten().map(|f| (f.msg_key.clone(), f)).collect()
    };
    let sent = page
        .messages
        .iter()
        .map(|b| {
            let f = figures.get(&b.msg_key());
            SentRow {
                reactions: reactions.remove(&b.msg_key()).unwrap_or_default(),
                recipients: f.map_or(0, |f| f.recipients),
                reads: f.map_or(0, |f| f.reads),
                ..sent_row(b)
            }
        })
        .collect();
    Ok(PostsData { unsent, sent, older })
}

/// Recalls a sent post, through the same `messaging` call as REST recall.
#[server(endpoint = "recall_post", output = crate::codec::Json)]
pub async fn recall_post(account: String, msg_key: String) -> Result<(), ConsoleError> {
    let id = crate::ssr::account_id(&account)?;
    let (state, user) = crate::ssr::allowed(messaging::Action::Publish, Some(&id)).await?;
    let outcome = state.messaging.recall_broadcasts(&id, std::slice::from_ref(&msg_key), "").await?;
    if outcome.first() != Some(&messaging::broadcasts::Recall::Done) {
        return Err(ConsoleError::Refused("This post does not exist any more.".into()));
    }
    tracing::info!(account = %id, msg_key = %msg_key, by = %user.username, "post recalled from the console");
    Ok(())
}

#[server(endpoint = "delete_post", output = crate::codec::Json)]
pub async fn delete_post(account: String, id: String) -> Result<(), ConsoleError> {
    let account = crate::ssr::account_id(&account)?;
    let (state, user) = crate::ssr::allowed(messaging::Action::Publish, Some(&account)).await?;
    state.messaging.delete_post(&account, &id).await?;
    tracing::info!(account = %account, post = %id, by = %user.username, "draft deleted in the console");
    Ok(())
}

/// A sent post, rendered on the server by the one renderer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SentPostView {
    pub row: SentRow,
    pub html: String,
}

#[server(endpoint = "sent_post", output = crate::codec::Json)]
pub async fn sent_post(account: String, msg_key: String) -> Result<SentPostView, ConsoleError> {
    use messaging::post::{render_elements, render_post, PostContent, PostWire};
    let id = crate::ssr::account_id(&account)?;
    let (state, _user) = crate::ssr::allowed(messaging::Action::View, Some(&id)).await?;
    let Some(b) = state.messaging.broadcast(&id, &msg_key).await? else {
        return Err(ConsoleError::Refused("This post does not exist.".into()));
    };
    let html = match PostContent::from_msg_body(&b.body_json()) {
        PostWire::Post(post) => {
            let (body, images) = post.published_parts();
            render_post(body, images)
        }
        PostWire::Elements(elements) => render_elements(&elements),
    };
    Ok(SentPostView { row: sent_row(&b), html })
}

/// What the Recall / Delete confirmation is about.
#[derive(Debug, Clone, PartialEq)]
enum Confirm {
    Recall(SentRow),
    Delete(UnsentRow),
}

#[component]
pub fn PostsPage() -> impl IntoView {
    let account = use_account_id();
    let query = use_query_map();
    let older_than = Memo::new(move |_| query.read().get("before"));
    let published = Memo::new(move |_| query.read().get("published").is_some());
    let version = RwSignal::new(0u32);
    let data = Resource::new(move || (account.get(), older_than.get(), version.get()), |(a, o, _)| list_posts(a, o));
    let confirm = RwSignal::new(None::<Confirm>);
    let may = super::account::use_permissions();

    let unsent_table = move |rows: Vec<UnsentRow>| {
        let a = account.get_untracked();
        let empty = rows.is_empty();
        view! {
            <h2>"Drafts and scheduled"</h2>
            {if rows.is_empty() { Some(view! { <p class="empty">"No drafts."</p> }) } else { None }}
            <table class="posts" class:hidden-part=empty>
                <thead><tr><th scope="col">"Status"</th><th scope="col">"Post"</th><th scope="col">"Type"</th>
                    <th scope="col">"Time"</th><th scope="col"><span class="visually-hidden">"Actions"</span></th></tr></thead>
                <tbody>
                    {rows.into_iter().map(|r| {
                        let href = paths::post(&a, &r.id);
                        let summary = if r.summary.is_empty() { "(empty draft)".to_owned() } else { r.summary.clone() };
                        let time = match (r.status, r.publish_at) {
                            (messaging::PostStatus::Scheduled, Some(at)) => format!("for {}", utc_minutes(at)),
                            _ => format!("edited {}", utc_minutes(r.updated_at)),
                        };
                        let for_delete = r.clone();
                        view! {
                            <tr>
                                <td><span class=format!("status {}", r.status.label().to_lowercase())>{r.status.label()}</span></td>
                                <td><a href=href>{summary}</a>
                                    {r.failure.clone().map(|f| view! { <p class="form-error">{f}</p> })}</td>
                                <td>{r.kind.clone()}</td>
                                <td>{time}</td>
                                <td class="actions">
                                    {let label = format!("Delete draft {}", r.summary);
                                     move || may.get().publish.then(|| {
                                        let for_delete = for_delete.clone();
                                        view! { <button class="danger" aria-label=label.clone()
                                            on:click=move |_| confirm.set(Some(Confirm::Delete(for_delete.clone())))>"Delete"</button> }
                                    })}
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        }
    };
    let sent_table = move |rows: Vec<SentRow>, older: Option<String>| {
        let a = account.get_untracked();
        let empty = rows.is_empty();
        let newer = older_than.get_untracked().is_some();
        view! {
            <h2>"Sent"</h2>
            {if rows.is_empty() { Some(view! { <p class="empty">"Nothing sent yet."</p> }) } else { None }}
            <table class="posts" class:hidden-part=empty>
                <thead><tr><th scope="col">"Status"</th><th scope="col">"Post"</th><th scope="col">"Type"</th>
                    <th scope="col">"Sent"</th><th scope="col">"Reads"</th><th scope="col">"Reactions"</th><th scope="col">"MsgKey"</th><th scope="col"><span class="visually-hidden">"Actions"</span></th></tr></thead>
                <tbody>
                    {rows.into_iter().map(|r| {
                        let for_recall = r.clone();
                        let status = if r.recalled { "Recalled" } else { "Sent" };
                        view! {
                            <tr>
                                <td><span class=format!("status {}", status.to_lowercase())>{status}</span></td>
                                <td><a href=paths::post(&a, &r.msg_key)>{r.summary.clone()}</a></td>
                                <td>{r.kind.clone()}</td>
                                <td>{utc_minutes(r.msg_time)}</td>
                                <td class="reads">{reads_text(r.reads, r.recipients)}</td>
                                <td class="reactions">{reactions_text(&r.reactions)}</td>
                                <td><code>{r.msg_key.clone()}</code></td>
                                <td class="actions">
                                    {let label = format!("Recall {}", r.msg_key);
                                     let recalled = r.recalled;
                                     move || (!recalled && may.get().publish).then(|| {
                                        let for_recall = for_recall.clone();
                                        view! { <button class="danger" aria-label=label.clone()
                                            on:click=move |_| confirm.set(Some(Confirm::Recall(for_recall.clone())))>"Recall"</button> }
                                    })}
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            <nav class="pager" aria-label="Sent posts pages">
                {newer.then(|| view! { <a href=paths::posts(&a)>"Newest"</a> })}
                {older.map(|k| view! { <a href=format!("{}?before={}", paths::posts(&a), paths::encode(&k))>"Older"</a> })}
            </nav>
        }
    };

    view! {
        <Frame>
            <AccountHead tab=Tab::Posts/>
            {move || published.get().then(|| view! { <p role="status" class="notice">"Published."</p> })}
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    may.loaded().await; // the rows' buttons
                    match data.await {
                        Ok(d) => view! { {unsent_table(d.unsent)} {sent_table(d.sent, d.older)} }.into_any(),
                        Err(e) => view! { <p role="alert" class="form-error">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
            {move || confirm.get().map(|c| view! {
                <ConfirmPostAction what=c account=account.get_untracked()
                    on_close=Callback::new(move |_| confirm.set(None))
                    on_done=Callback::new(move |_| { confirm.set(None); version.update(|v| *v += 1); })/>
            })}
        </Frame>
    }
}

#[component]
fn ConfirmPostAction(what: Confirm, account: String, on_close: Callback<()>, on_done: Callback<()>) -> impl IntoView {
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let (title, text, button) = match &what {
        Confirm::Recall(r) => (
            "Recall this post?",
            format!("\u{201c}{}\u{201d} ({}) disappears from every subscriber's history. This cannot be undone.", r.summary, r.msg_key),
            "Recall",
        ),
        Confirm::Delete(r) => ("Delete this draft?", format!("\u{201c}{}\u{201d} will be gone for good.", r.summary), "Delete"),
    };
    let act = move |_| {
        busy.set(true);
        let (what, account) = (what.clone(), account.clone());
        leptos::task::spawn_local(async move {
            let result = match what {
                Confirm::Recall(r) => recall_post(account, r.msg_key).await,
                Confirm::Delete(r) => delete_post(account, r.id).await,
            };
            busy.set(false);
            match result {
                Ok(()) => on_done.run(()),
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    view! {
        <ModalDialog labelled_by="confirm-title" on_close>
            <h2 id="confirm-title">{title}</h2>
            <p>{text}</p>
            <p class="form-error" role="alert">{move || error.get()}</p>
            <div class="buttons">
                <button type="button" on:click=move |_| on_close.run(())>"Cancel"</button>
                <button type="button" class="danger" on:click=act disabled=move || busy.get()>{button}</button>
            </div>
        </ModalDialog>
    }
}

/// A sent post, read-only: the subscriber's view of it.
#[component]
pub fn SentPostPage(msg_key: String) -> impl IntoView {
    let account = use_account_id();
    let key = msg_key.clone();
    let post = Resource::new(move || account.get(), move |a| sent_post(a, key.clone()));
    view! {
        <Frame>
            <AccountHead tab=Tab::Posts/>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match post.await {
                        Ok(p) => view! {
                            <p class="muted">
                                {if p.row.recalled { "Recalled" } else { "Sent" }} " · " {utc_minutes(p.row.msg_time)} " · "
                                <code>{p.row.msg_key.clone()}</code> " · " {p.row.kind.clone()}
                            </p>
                            <section class="phone" role="region" aria-label="Post">
                                <article class="post-rendered bubble" inner_html=p.html></article>
                            </section>
                            <p><a href=paths::posts(&account.get_untracked())>"Back to posts"</a></p>
                        }.into_any(),
                        Err(e) => view! { <p role="alert" class="form-error">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </Frame>
    }
}
