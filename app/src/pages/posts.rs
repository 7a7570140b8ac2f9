//! The **Posts** page (`/accounts/{id}/posts`): posts not sent yet (drafts, scheduled, refused),
//! then the pinned post, then the account's broadcasts newest first, paged by MsgKey, with
//! **Edit**, **Pin** / **Unpin** and **Recall**; a poll shows its results as bars. Broadcasts
//! sent over REST are here too: they are the same messages. A sent post opens read-only
//! (`/accounts/{id}/posts/{MsgKey}`), rendered by the one renderer, with its versions when edited.

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
    /// Edited after sending (docs/rest-api.md §9).
    pub edited: bool,
    pub pinned: bool,
    /// A poll's results, rendered (bars), for a poll.
    pub poll_html: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PostsData {
    pub unsent: Vec<UnsentRow>,
    pub sent: Vec<SentRow>,
    /// The MsgKey to continue from for older broadcasts, if there are any.
    pub older: Option<String>,
    /// The account's pinned post (first page only).
    pub pinned: Option<SentRow>,
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
        edited: b.edited_at.is_some(),
        pinned: false,
        poll_html: None,
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
    let pinned_key = m.account(&id).await?.pinned_msg_key;
    let pinned = match (older_than.is_none(), pinned_key.is_empty()) {
        (true, false) => m.broadcast(&id, &pinned_key).await?,
        _ => None,
    };
    let mut page = m.broadcast_history(&id, SENT_PAGE, older_than.as_deref(), true).await?;
    let older = if page.finished { None } else { page.messages.last().map(|b| b.msg_key()) };
    if let Some(p) = &pinned {
        page.messages.retain(|b| b.seq != p.seq);
        page.messages.insert(0, p.clone());
    }
    let keys: Vec<String> = page.messages.iter().map(|b| b.msg_key()).collect();
    let mut reactions = m.broadcast_reaction_counts(&id, &keys).await?;
    let figures: std::collections::HashMap<String, messaging::insights::PostFigures> = if keys.is_empty() {
        Default::default()
    } else {
        m.insights().posts(&id, &keys).await?.into_iter().flatten().map(|f| (f.msg_key.clone(), f)).collect()
    };
    let seqs: Vec<i64> = page.messages.iter().map(|b| b.seq).collect();
    let mut polls = m.polls().results(&id, &seqs).await?;
    let mut sent: Vec<SentRow> = page
        .messages
        .iter()
        .map(|b| {
            let f = figures.get(&b.msg_key());
            let poll_html = poll_html(&b.body_json(), polls.remove(&b.seq));
            SentRow {
                reactions: reactions.remove(&b.msg_key()).unwrap_or_default(),
                recipients: f.map_or(0, |f| f.recipients),
                reads: f.map_or(0, |f| f.reads),
                pinned: b.msg_key() == pinned_key,
                poll_html,
                ..sent_row(b)
            }
        })
        .collect();
    let pinned = pinned.is_some().then(|| sent.remove(0));
    Ok(PostsData { unsent, sent, older, pinned })
}

/// A poll's results as bars (the renderer's), or None for any other post.
#[cfg(feature = "ssr")]
pub fn poll_html(body: &serde_json::Value, results: Option<messaging::polls::PollResults>) -> Option<String> {
    let poll = messaging::polls::Poll::from_msg_body("MsgBody", body)?.ok()?;
    Some(messaging::post::render_poll(&poll, Some(&results.unwrap_or_default())))
}

/// Pins a sent post (`msg_key`), or unpins (`None`): one pinned post per account.
#[server(endpoint = "pin_post", output = crate::codec::Json)]
pub async fn pin_post(account: String, msg_key: Option<String>) -> Result<(), ConsoleError> {
    let id = crate::ssr::account_id(&account)?;
    let (state, user) = crate::ssr::allowed(messaging::Action::Publish, Some(&id)).await?;
    state.messaging.set_pinned(&id, msg_key.as_deref()).await?;
    tracing::info!(account = %id, msg_key = ?msg_key, by = %user.username, "pinned post changed from the console");
    Ok(())
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
    /// Every version when it was edited, oldest first: (version, who, when, HTML).
    pub versions: Vec<(i64, String, i64, String)>,
    /// Made in the composer (it can be edited there).
    pub editable: bool,
}

/// A stored body as a reader sees it.
#[cfg(feature = "ssr")]
fn body_html(body: &serde_json::Value) -> String {
    use messaging::post::{render_content, render_elements, PostContent, PostWire};
    match PostContent::from_msg_body(body) {
        PostWire::Post(post) => render_content(&post),
        PostWire::Elements(elements) => render_elements(&elements),
    }
}

#[server(endpoint = "sent_post", output = crate::codec::Json)]
pub async fn sent_post(account: String, msg_key: String) -> Result<SentPostView, ConsoleError> {
    let id = crate::ssr::account_id(&account)?;
    let (state, _user) = crate::ssr::allowed(messaging::Action::View, Some(&id)).await?;
    let m = &state.messaging;
    let Some(b) = m.broadcast(&id, &msg_key).await? else {
        return Err(ConsoleError::Refused("This post does not exist.".into()));
    };
    let poll = poll_html(&b.body_json(), m.polls().results(&id, &[b.seq]).await?.remove(&b.seq));
    let html = poll.clone().unwrap_or_else(|| body_html(&b.body_json()));
    let versions = m
        .post_versions(&id, &msg_key)
        .await?
        .into_iter()
        .map(|v| {
            let body: serde_json::Value = serde_json::from_str(&v.body).unwrap_or_default();
            let by = if v.made_by.is_empty() { "sent".to_owned() } else { v.made_by };
            (v.version, by, v.made_at, body_html(&body))
        })
        .collect();
    let editable = matches!(messaging::post::PostContent::from_msg_body(&b.body_json()), messaging::post::PostWire::Post(_));
    let pinned = m.account(&id).await?.pinned_msg_key == msg_key;
    Ok(SentPostView { row: SentRow { pinned, poll_html: poll, ..sent_row(&b) }, html, versions, editable })
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
    let pin_error = RwSignal::new(None::<String>);
    let pin = move |msg_key: Option<String>| {
        let a = account.get_untracked();
        leptos::task::spawn_local(async move {
            match pin_post(a, msg_key).await {
                Ok(()) => {
                    pin_error.set(None);
                    version.update(|v| *v += 1);
                }
                Err(e) => pin_error.set(Some(e.to_string())),
            }
        });
    };
    let sent_table = move |rows: Vec<SentRow>, older: Option<String>, pinned: Option<SentRow>| {
        let a = account.get_untracked();
        let empty = rows.is_empty() && pinned.is_none();
        let newer = older_than.get_untracked().is_some();
        let rows: Vec<SentRow> = pinned.into_iter().chain(rows).collect();
        view! {
            <h2>"Sent"</h2>
            {if empty { Some(view! { <p class="empty">"Nothing sent yet."</p> }) } else { None }}
            <p class="form-error" role="alert">{move || pin_error.get()}</p>
            <table class="posts" class:hidden-part=empty>
                <thead><tr><th scope="col">"Status"</th><th scope="col">"Post"</th><th scope="col">"Type"</th>
                    <th scope="col">"Sent"</th><th scope="col">"Reads"</th><th scope="col">"Reactions"</th><th scope="col">"MsgKey"</th><th scope="col"><span class="visually-hidden">"Actions"</span></th></tr></thead>
                <tbody>
                    {rows.into_iter().map(|r| {
                        let for_recall = r.clone();
                        let status = if r.recalled { "Recalled" } else { "Sent" };
                        let editable = !r.recalled && r.kind != "Message";
                        let (edit_href, edit_label) = (paths::edit_post(&a, &r.msg_key), format!("Edit {}", r.msg_key));
                        let (pin_key, pinned, recalled) = (r.msg_key.clone(), r.pinned, r.recalled);
                        let pin_label = format!("{} {}", if pinned { "Unpin" } else { "Pin" }, r.msg_key);
                        view! {
                            <tr class:pinned=pinned>
                                <td><span class=format!("status {}", status.to_lowercase())>{status}</span>
                                    {pinned.then(|| view! { " " <span class="badge pinned-badge">"Pinned"</span> })}
                                    {(r.edited && !r.recalled).then(|| view! { " " <span class="badge edited-badge">"Edited"</span> })}</td>
                                <td><a href=paths::post(&a, &r.msg_key)>{r.summary.clone()}</a>
                                    {r.poll_html.clone().map(|h| view! { <div class="poll-results" inner_html=h></div> })}</td>
                                <td>{r.kind.clone()}</td>
                                <td>{utc_minutes(r.msg_time)}</td>
                                <td class="reads">{reads_text(r.reads, r.recipients)}</td>
                                <td class="reactions">{reactions_text(&r.reactions)}</td>
                                <td><code>{r.msg_key.clone()}</code></td>
                                <td class="actions">
                                    {move || (editable && may.get().publish).then(|| view! {
                                        <a class="button" href=edit_href.clone() aria-label=edit_label.clone()>"Edit"</a>
                                    })}
                                    {move || (!recalled && may.get().publish).then(|| {
                                        let key = pin_key.clone();
                                        view! { <button type="button" aria-label=pin_label.clone()
                                            on:click=move |_| pin((!pinned).then(|| key.clone()))>{if pinned { "Unpin" } else { "Pin" }}</button> }
                                    })}
                                    {let label = format!("Recall {}", r.msg_key);
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
                        Ok(d) => view! { {unsent_table(d.unsent)} {sent_table(d.sent, d.older, d.pinned)} }.into_any(),
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
    let query = use_query_map();
    let edited_now = Memo::new(move |_| query.read().get("edited").is_some());
    let may = super::account::use_permissions();
    view! {
        <Frame>
            <AccountHead tab=Tab::Posts/>
            {move || edited_now.get().then(|| view! { <p role="status" class="notice">"Changes saved. Subscribers see the post as edited."</p> })}
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    may.loaded().await;
                    match post.await {
                        Ok(p) => {
                            let a = account.get_untracked();
                            let can_edit = p.editable && !p.row.recalled;
                            let edit_href = paths::edit_post(&a, &p.row.msg_key);
                            view! {
                            <p class="muted">
                                {if p.row.recalled { "Recalled" } else { "Sent" }} " · " {utc_minutes(p.row.msg_time)} " · "
                                <code>{p.row.msg_key.clone()}</code> " · " {p.row.kind.clone()}
                                {p.row.pinned.then(|| view! { " · " <span class="badge pinned-badge">"Pinned"</span> })}
                                {(p.row.edited && !p.row.recalled).then(|| view! { " · " <span class="badge edited-badge">"Edited"</span> })}
                            </p>
                            {move || (can_edit && may.get().publish).then(|| view! { <p><a class="button" href=edit_href.clone()>"Edit"</a></p> })}
                            <section class="phone" role="region" aria-label="Post">
                                <article class="post-rendered bubble" inner_html=p.html></article>
                            </section>
                            {(!p.versions.is_empty()).then(|| view! {
                                <section class="versions" aria-labelledby="versions-title">
                                    <h2 id="versions-title">"Versions"</h2>
                                    <ol reversed>
                                        {p.versions.iter().rev().map(|(v, by, at, html)| view! {
                                            <li class="version">
                                                <p class="muted">{format!("Version {v} · {by} · {}", utc_minutes(*at))}</p>
                                                <div class="post-rendered" inner_html=html.clone()></div>
                                            </li>
                                        }).collect_view()}
                                    </ol>
                                </section>
                            })}
                            <p><a href=paths::posts(&a)>"Back to posts"</a></p>
                        }.into_any()
                        }
                        Err(e) => view! { <p role="alert" class="form-error">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </Frame>
    }
}
