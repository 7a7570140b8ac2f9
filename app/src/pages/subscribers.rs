//! The **Subscribers** page (`/accounts/{id}/subscribers`): the account's subscribers in user-ID
//! order with the keyset cursor of REST `get_subscriber_info` (Next / Previous), search by user-ID
//! prefix, MsgFlag and subscribe time; **Add subscribers** (one user ID a line; users that were
//! never imported are reported) and **Remove** with confirmation, all through `messaging`.

use super::account::{use_account_id, AccountHead, Tab};
use super::dialog::ModalDialog;
use super::layout::Frame;
use crate::error::ConsoleError;
use crate::time_fmt::utc_minutes;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Subscribers per page.
#[cfg(feature = "ssr")]
const PAGE: i64 = 50;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubscriberRow {
    pub user: String,
    pub msg_flag: String,
    pub subscribed_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubscribersData {
    pub rows: Vec<SubscriberRow>,
    /// The cursor of the next page; empty when this is the last.
    pub next: String,
    pub total: i64,
}

#[server(endpoint = "list_subscribers", output = crate::codec::Json)]
pub async fn list_subscribers(account: String, prefix: String, cursor: String) -> Result<SubscribersData, ConsoleError> {
    let id = crate::ssr::account_id(&account)?;
    let (state, _user) = crate::ssr::allowed(messaging::Action::View, Some(&id)).await?;
    let page = state.messaging.subscribers_matching(&id, prefix.trim(), PAGE, &cursor).await?;
    Ok(SubscribersData {
        rows: page
            .subscribers
            .into_iter()
            .map(|s| SubscriberRow { user: s.subscriber_account, msg_flag: s.msg_flag, subscribed_at: s.subscribed_at })
            .collect(),
        next: page.next,
        total: page.subscriber_num,
    })
}

/// What Add subscribers did, user by user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct AddReport {
    pub added: Vec<String>,
    pub already: Vec<String>,
    /// Never imported: the REST `account_import` (or an account's owner) creates users.
    pub unknown: Vec<String>,
    /// Refused for another reason (the account is full, or the app's webhook refused them).
    pub refused: Vec<String>,
    /// Lines that are not user IDs, with the rule they break.
    pub invalid: Vec<String>,
}

#[server(endpoint = "add_subscribers", output = crate::codec::Json)]
pub async fn add_subscribers(account: String, user_ids: String) -> Result<AddReport, ConsoleError> {
    use messaging::subscribers::{BatchResult, SUBSCRIBER_BATCH_MAX};
    let id = crate::ssr::account_id(&account)?;
    let (state, user) = crate::ssr::allowed(messaging::Action::ManageSubscribers, Some(&id)).await?;
    let m = &state.messaging;
    let mut report = AddReport::default();
    let mut users = Vec::new();
    for line in user_ids.lines().map(str::trim).filter(|l| !l.is_empty()) {
        match messaging::UserId::parse("UserID", line) {
            Ok(u) if !users.contains(&u) => users.push(u),
            Ok(_) => {}
            Err(e) => report.invalid.push(format!("{line}: {}", crate::error::sentence(&e.rule))),
        }
    }
    if users.is_empty() && report.invalid.is_empty() {
        return Err(ConsoleError::Invalid { field: "UserIDs".into(), message: "Enter at least one user ID.".into() });
    }
    for batch in users.chunks(SUBSCRIBER_BATCH_MAX) {
        let outcome = m.add_subscribers(&id, batch, &user.username, messaging::insights::Source::Console).await?;
        for (u, result) in outcome.results {
            match result {
                BatchResult::Done => report.added.push(u),
                BatchResult::Unchanged => report.already.push(u),
                BatchResult::Failed => {
                    let known = m.user_exists(&messaging::UserId::parse("UserID", &u)?).await?;
                    if known {
                        report.refused.push(u)
                    } else {
                        report.unknown.push(u)
                    }
                }
            }
        }
    }
    tracing::info!(account = %id, by = %user.username, added = report.added.len(), "subscribers added in the console");
    Ok(report)
}

#[server(endpoint = "remove_subscriber", output = crate::codec::Json)]
pub async fn remove_subscriber(account: String, user_id: String) -> Result<(), ConsoleError> {
    let id = crate::ssr::account_id(&account)?;
    let (state, user) = crate::ssr::allowed(messaging::Action::ManageSubscribers, Some(&id)).await?;
    let subscriber = messaging::UserId::parse("UserID", &user_id)?;
    state.messaging.delete_subscribers(&id, &[subscriber], &user.username).await?;
    tracing::info!(account = %id, subscriber = %user_id, by = %user.username, "subscriber removed in the console");
    Ok(())
}

#[component]
pub fn SubscribersPage() -> impl IntoView {
    let account = use_account_id();
    let prefix = RwSignal::new(String::new());
    // Cursors of the pages before this one (Previous pops), and this page's.
    let previous = RwSignal::new(Vec::<String>::new());
    let cursor = RwSignal::new(String::new());
    let version = RwSignal::new(0u32);
    let data = Resource::new(move || (account.get(), prefix.get(), cursor.get(), version.get()), |(a, p, c, _)| list_subscribers(a, p, c));
    let adding = RwSignal::new(false);
    let removing = RwSignal::new(None::<String>);
    let changed = move || version.update(|v| *v += 1);
    let may = super::account::use_permissions();

    let table = move |d: SubscribersData| {
        let first = previous.with(Vec::is_empty);
        let next = d.next.clone();
        view! {
            <p class="muted" role="status">
                {if prefix.get_untracked().is_empty() {
                    format!("{} subscribers", d.total)
                } else {
                    format!("{} shown starting with \u{201c}{}\u{201d}", d.rows.len(), prefix.get_untracked())
                }}
            </p>
            <table class="subscribers">
                <thead><tr><th scope="col">"User ID"</th><th scope="col">"MsgFlag"</th><th scope="col">"Subscribed"</th>
                    <th scope="col"><span class="visually-hidden">"Actions"</span></th></tr></thead>
                <tbody>
                    {d.rows.into_iter().map(|r| {
                        let user = r.user.clone();
                        view! {
                            <tr>
                                <td><code>{r.user.clone()}</code></td>
                                <td>{r.msg_flag}</td>
                                <td>{utc_minutes(r.subscribed_at)}</td>
                                <td class="actions">
                                    {let label = format!("Remove {}", r.user);
                                     move || may.get().manage_subscribers.then(|| {
                                        let user = user.clone();
                                        view! { <button class="danger" aria-label=label.clone()
                                            on:click=move |_| removing.set(Some(user.clone()))>"Remove"</button> }
                                    })}
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            <nav class="pager" aria-label="Subscriber pages">
                <button type="button" disabled=first on:click=move |_| {
                    let mut stack = previous.get_untracked();
                    if let Some(c) = stack.pop() {
                        previous.set(stack);
                        cursor.set(c);
                    }
                }>"Previous"</button>
                <button type="button" disabled=next.is_empty() on:click=move |_| {
                    previous.update(|p| p.push(cursor.get_untracked()));
                    cursor.set(next.clone());
                }>"Next"</button>
            </nav>
        }
    };

    view! {
        <Frame>
            <AccountHead tab=Tab::Subscribers version=Signal::derive(move || version.get())/>
            <div class="page-head">
                <div class="search">
                    <label for="subscriber-search">"Search by user ID"</label>
                    <input id="subscriber-search" type="search" placeholder="Start of a user ID"
                        on:input=move |ev| {
                            prefix.set(event_target_value(&ev));
                            previous.set(vec![]);
                            cursor.set(String::new());
                        }/>
                </div>
                <Transition fallback=|| ()>
                    {move || may.get().manage_subscribers.then(|| view! {
                        <button class="primary" on:click=move |_| adding.set(true)>"Add subscribers"</button>
                    })}
                </Transition>
            </div>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    may.loaded().await; // the rows' Remove buttons
                    match data.await {
                        Ok(d) => table(d).into_any(),
                        Err(e) => view! { <p role="alert" class="form-error">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
            <Show when=move || adding.get()>
                <AddSubscribersDialog account=account.get_untracked() on_close=Callback::new(move |_| adding.set(false))
                    on_added=Callback::new(move |_| changed())/>
            </Show>
            {move || removing.get().map(|user| view! {
                <RemoveDialog account=account.get_untracked() user on_close=Callback::new(move |_| removing.set(None))
                    on_removed=Callback::new(move |_| { removing.set(None); changed(); })/>
            })}
        </Frame>
    }
}

#[component]
fn AddSubscribersDialog(account: String, on_close: Callback<()>, on_added: Callback<()>) -> impl IntoView {
    let text = RwSignal::new(String::new());
    let report = RwSignal::new(None::<AddReport>);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        let account = account.clone();
        leptos::task::spawn_local(async move {
            let result = add_subscribers(account, text.get_untracked()).await;
            busy.set(false);
            match result {
                Ok(r) => {
                    error.set(None);
                    report.set(Some(r));
                    on_added.run(());
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    let line = |label: &'static str, users: Vec<String>| {
        (!users.is_empty()).then(|| view! { <li><strong>{label}</strong> " " {users.join(", ")}</li> })
    };
    view! {
        <ModalDialog labelled_by="add-subscribers-title" on_close first_field="subscriber-ids">
            <h2 id="add-subscribers-title">"Add subscribers"</h2>
            <form on:submit=submit novalidate>
                <div class="field">
                    <label for="subscriber-ids">"User IDs, one a line"</label>
                    <textarea id="subscriber-ids" rows="8" aria-describedby="subscriber-ids-error"
                        prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev))></textarea>
                    <p class="field-error" id="subscriber-ids-error">{move || error.get()}</p>
                </div>
                <div role="status" class="report">
                    {move || report.get().map(|r| view! {
                        <ul>
                            {line("Added:", r.added)}
                            {line("Already subscribed:", r.already)}
                            {line("Not imported users (import them over REST first):", r.unknown)}
                            {line("Refused (the account is full or the app refused them):", r.refused)}
                            {line("Not user IDs:", r.invalid)}
                        </ul>
                    })}
                </div>
                <div class="buttons">
                    <button type="button" on:click=move |_| on_close.run(())>"Close"</button>
                    <button type="submit" class="primary" disabled=move || busy.get()>"Add"</button>
                </div>
            </form>
        </ModalDialog>
    }
}

#[component]
fn RemoveDialog(account: String, user: String, on_close: Callback<()>, on_removed: Callback<()>) -> impl IntoView {
    let error = RwSignal::new(None::<String>);
    let who = user.clone();
    let remove = move |_| {
        let (account, user) = (account.clone(), user.clone());
        leptos::task::spawn_local(async move {
            match remove_subscriber(account, user).await {
                Ok(()) => on_removed.run(()),
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    view! {
        <ModalDialog labelled_by="remove-title" on_close>
            <h2 id="remove-title">"Remove subscriber?"</h2>
            <p><code>{who}</code> " stops receiving this account's posts."</p>
            <p class="form-error" role="alert">{move || error.get()}</p>
            <div class="buttons">
                <button type="button" on:click=move |_| on_close.run(())>"Cancel"</button>
                <button type="button" class="danger" on:click=remove>"Remove"</button>
            </div>
        </ModalDialog>
    }
}
