//! The post composer (`/accounts/{id}/posts/new`, `/accounts/{id}/posts/{draft}`): type, a
//! Markdown body with Bold / Italic / Add link, images with upload progress, a live preview
//! shaped like a subscriber's phone, the 12 KB size meter, autosaved drafts, Publish now and
//! Schedule.
//!
//! The preview and the meter run `messaging::post` in the browser (the renderer and the size
//! function the server uses), so they update on every keystroke without a server round trip.
//! The server stays the judge: publishing goes through `messaging`, and its refusal is shown.

#[cfg(feature = "hydrate")]
mod browser;
#[cfg(feature = "hydrate")]
pub use browser::upload as upload_file;
mod editor;
mod images;
mod poll;

use super::account::{AccountHead, Tab};
use super::layout::Frame;
use crate::error::ConsoleError;
use crate::paths;
use editor::BodyEditor;
use images::ImagesField;
use leptos::prelude::*;
use messaging::post::{render_content, PostContent, PostKind, PostStatus};
use messaging::OfficialAccount;
use poll::{PollDraft, PollFields};
use serde::{Deserialize, Serialize};

/// A post as the composer loads it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PostView {
    pub id: String,
    pub content: PostContent,
    pub status: PostStatus,
    pub publish_at: Option<i64>,
    pub failure: Option<String>,
    pub msg_key: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComposerLoad {
    pub account: OfficialAccount,
    pub post: Option<PostView>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedPost {
    pub id: String,
    pub updated_at: i64,
}

#[cfg(feature = "ssr")]
impl From<messaging::StoredPost> for PostView {
    fn from(p: messaging::StoredPost) -> Self {
        PostView { id: p.id, content: p.content, status: p.status, publish_at: p.publish_at, failure: p.failure, msg_key: p.msg_key }
    }
}

/// The account, and the post when continuing one (`post` is a draft ID). The composer is for
/// those who may publish: a viewer gets the refusal's sentence instead of a form.
#[server(endpoint = "composer_data", output = crate::codec::Json)]
pub async fn composer_data(account: String, post: Option<String>) -> Result<ComposerLoad, ConsoleError> {
    let id = crate::ssr::account_id(&account)?;
    let (state, _user) = crate::ssr::allowed(messaging::Action::Publish, Some(&id)).await?;
    let account = state.messaging.account(&id).await?;
    let post = match post {
        Some(p) => Some(state.messaging.post(&id, &p).await?.into()),
        None => None,
    };
    Ok(ComposerLoad { account, post })
}

/// Creates (`id` None) or updates a draft; the composer calls it as the editor types.
#[server(input = leptos::server_fn::codec::Json, endpoint = "save_post", output = crate::codec::Json)]
pub async fn save_post(account: String, id: Option<String>, content: PostContent) -> Result<SavedPost, ConsoleError> {
    let account = crate::ssr::account_id(&account)?;
    let (state, user) = crate::ssr::allowed(messaging::Action::Publish, Some(&account)).await?;
    let post = state.messaging.save_post(&account, id.as_deref(), &content, &user.username).await?;
    Ok(SavedPost { id: post.id, updated_at: post.updated_at })
}

/// A publishing refusal as the editor should read it.
#[cfg(feature = "ssr")]
fn publish_refusal(e: messaging::Error) -> ConsoleError {
    match e {
        e @ (messaging::Error::Invalid(_) | messaging::Error::PostNotFound(_) | messaging::Error::PostAlreadySent(_)) => e.into(),
        e @ (messaging::Error::Storage(_) | messaging::Error::Internal(_)) => e.into(),
        e => ConsoleError::Refused(messaging::post::store::refusal_sentence(&e)),
    }
}

/// Publishes a saved draft now, as one broadcast; answers its MsgKey.
#[server(endpoint = "publish_post", output = crate::codec::Json)]
pub async fn publish_post(account: String, id: String) -> Result<String, ConsoleError> {
    let account = crate::ssr::account_id(&account)?;
    let (state, user) = crate::ssr::allowed(messaging::Action::Publish, Some(&account)).await?;
    let sent = state.messaging.publish_post(&account, &id).await.map_err(publish_refusal)?;
    tracing::info!(account = %account, post = %id, by = %user.username, msg_key = %sent.msg_key, "post published from the console");
    Ok(sent.msg_key)
}

/// Schedules a saved draft for `at` (Unix seconds, UTC), or unschedules it (`None`).
#[server(endpoint = "schedule_post", output = crate::codec::Json)]
pub async fn schedule_post(account: String, id: String, at: Option<i64>) -> Result<PostView, ConsoleError> {
    let account = crate::ssr::account_id(&account)?;
    let (state, user) = crate::ssr::allowed(messaging::Action::Publish, Some(&account)).await?;
    let post = state.messaging.schedule_post(&account, &id, at).await.map_err(publish_refusal)?;
    tracing::info!(account = %account, post = %id, by = %user.username, at = ?at, "post scheduled from the console");
    Ok(post.into())
}

/// A sent post as the composer edits it: its account and content (made in the composer; a
/// message sent some other way is edited over REST).
#[server(endpoint = "sent_post_for_edit", output = crate::codec::Json)]
pub async fn sent_post_for_edit(account: String, msg_key: String) -> Result<(OfficialAccount, PostContent), ConsoleError> {
    use messaging::post::PostWire;
    let id = crate::ssr::account_id(&account)?;
    let (state, _user) = crate::ssr::allowed(messaging::Action::Publish, Some(&id)).await?;
    let account = state.messaging.account(&id).await?;
    let Some(b) = state.messaging.broadcast(&id, &msg_key).await? else {
        return Err(ConsoleError::Refused("This post does not exist.".into()));
    };
    if b.recalled_at.is_some() {
        return Err(ConsoleError::Refused("The post was recalled; a recalled post cannot be edited.".into()));
    }
    match PostContent::from_msg_body(&b.body_json()) {
        PostWire::Post(content) => Ok((account, content)),
        PostWire::Elements(_) => Err(ConsoleError::Refused(
            "This message was not made in the composer; change it with the REST command official_account_msg_modify.".into(),
        )),
    }
}

/// Saves changes to a sent post through the same `messaging` rules as REST's edit.
#[server(input = leptos::server_fn::codec::Json, endpoint = "edit_sent_post", output = crate::codec::Json)]
pub async fn edit_sent_post(account: String, msg_key: String, content: PostContent) -> Result<(), ConsoleError> {
    let id = crate::ssr::account_id(&account)?;
    let (state, user) = crate::ssr::allowed(messaging::Action::Publish, Some(&id)).await?;
    content.check_publishable()?;
    let body = messaging::message::MsgBody::parse("Body", content.to_msg_body())?;
    state.messaging.edit_broadcast(&id, &msg_key, body).await.map_err(publish_refusal)?;
    tracing::info!(account = %id, msg_key = %msg_key, by = %user.username, "sent post edited in the console");
    Ok(())
}

/// `/accounts/{id}/posts/{MsgKey}/edit`: the composer on a sent post, with **Save changes**.
#[component]
pub fn EditSentPostPage() -> impl IntoView {
    let account = super::account::use_account_id();
    let params = leptos_router::hooks::use_params_map();
    let key = Memo::new(move |_| paths::decode(&params.read().get("post").unwrap_or_default()));
    let data = Resource::new(move || (account.get(), key.get()), |(a, k)| sent_post_for_edit(a, k));
    view! {
        <Frame>
            <AccountHead tab=Tab::Posts/>
            <h2>"Edit sent post"</h2>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok((account, content)) => view! {
                            <Composer account initial=None editing=(key.get_untracked(), content)/>
                        }.into_any(),
                        Err(e) => view! { <p role="alert" class="form-error">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </Frame>
    }
}

/// `/accounts/{id}/posts/{post}`: `new`, a draft (the composer) or a sent post (read-only).
#[component]
pub fn PostPage() -> impl IntoView {
    let account = super::account::use_account_id();
    let params = leptos_router::hooks::use_params_map();
    let post = Memo::new(move |_| paths::decode(&params.read().get("post").unwrap_or_default()));
    move || {
        let p = post.get();
        if p.contains('_') {
            view! { <super::posts::SentPostPage msg_key=p/> }.into_any()
        } else {
            let draft = (p != "new").then_some(p);
            let data = Resource::new(move || account.get(), move |a| composer_data(a, draft.clone()));
            view! {
                <Frame>
                    <AccountHead tab=if post.get_untracked() == "new" { Tab::NewPost } else { Tab::Posts }/>
                    <Transition fallback=|| view! { <p>"Loading…"</p> }>
                        {move || Suspend::new(async move {
                            match data.await {
                                Ok(ComposerLoad { post: Some(p), .. }) if p.status.is_published() => {
                                    let key = p.msg_key.clone().unwrap_or_default();
                                    view! {
                                        <p role="status">"This post has been published. "
                                            <a href=paths::post(&account.get_untracked(), &key)>"Open it"</a></p>
                                    }.into_any()
                                }
                                Ok(d) => view! { <Composer account=d.account initial=d.post/> }.into_any(),
                                Err(e) => view! { <p role="alert" class="form-error">{e.to_string()}</p> }.into_any(),
                            }
                        })}
                    </Transition>
                </Frame>
            }
            .into_any()
        }
    }
}

/// The composer's state, shared by its parts.
#[derive(Clone, Copy)]
pub(crate) struct Draft {
    pub kind: RwSignal<PostKind>,
    pub body: RwSignal<String>,
    pub images: RwSignal<Vec<messaging::post::PostImage>>,
    pub poll: PollDraft,
}

/// A poll is kept with the draft once it has a question, whatever the type (like the body).
fn kept_poll(kind: PostKind, poll: messaging::polls::Poll) -> Option<messaging::polls::Poll> {
    (kind == PostKind::Poll || !poll.question.is_empty()).then_some(poll)
}

impl Draft {
    fn content(&self) -> PostContent {
        let kind = self.kind.get();
        PostContent { kind, body: self.body.get(), images: self.images.get(), poll: kept_poll(kind, self.poll.poll()) }
    }
    /// The content now; None once the composer is gone.
    fn try_content_untracked(&self) -> Option<PostContent> {
        let kind = self.kind.try_get_untracked()?;
        Some(PostContent {
            kind,
            body: self.body.try_get_untracked()?,
            images: self.images.try_get_untracked()?,
            poll: kept_poll(kind, self.poll.try_poll_untracked()?),
        })
    }
}

/// Where the draft stands on the server.
#[derive(Debug, Clone, PartialEq)]
enum SaveState {
    Unsaved,
    Saving,
    Saved(i64),
    Failed(String),
}

#[component]
fn Composer(
    account: OfficialAccount,
    initial: Option<PostView>,
    /// Editing a sent post (its MsgKey and content): **Save changes** instead of publishing.
    #[prop(optional)]
    editing: Option<(String, PostContent)>,
) -> impl IntoView {
    let account_id = account.id.clone();
    let initial_content = match &editing {
        Some((_, content)) => content.clone(),
        None => initial.as_ref().map(|p| p.content.clone()).unwrap_or_default(),
    };
    let draft = Draft {
        kind: RwSignal::new(initial_content.kind),
        body: RwSignal::new(initial_content.body.clone()),
        images: RwSignal::new(initial_content.images.clone()),
        poll: PollDraft::new(initial_content.poll.as_ref()),
    };
    let edit_key = editing.map(|(key, _)| key);
    let is_edit = edit_key.is_some();
    let post_id = RwSignal::new(initial.as_ref().map(|p| p.id.clone()));
    let status = RwSignal::new(initial.as_ref().map(|p| p.status).unwrap_or_default());
    let publish_at = RwSignal::new(initial.as_ref().and_then(|p| p.publish_at));
    let failure = RwSignal::new(initial.as_ref().and_then(|p| p.failure.clone()));
    let save_state = RwSignal::new(if initial.is_some() { SaveState::Saved(0) } else { SaveState::Unsaved });
    let error = RwSignal::new(None::<ConsoleError>);
    let busy = RwSignal::new(false);
    let content = Memo::new(move |_| draft.content());

    // One save at a time, in order: the first creates the draft, the next ones update it.
    let save_lock = StoredValue::new(std::sync::Arc::new(futures::lock::Mutex::new(())));
    let account_for_save = account_id.clone();
    // A save may still be under way when the editor leaves the page (Publish navigates to the
    // Posts page): the composer's signals are gone then, and the save ends without touching them.
    let persist = move || {
        let lock = save_lock.try_get_value();
        let account = account_for_save.clone();
        async move {
            let gone = || ConsoleError::Refused("The composer was closed.".into());
            let lock = lock.ok_or_else(gone)?;
            let _turn = lock.lock().await;
            let (Some(id), Some(content)) = (post_id.try_get_untracked(), draft.try_content_untracked()) else {
                return Err(gone());
            };
            save_state.set(SaveState::Saving);
            let result = save_post(account.clone(), id, content).await;
            match &result {
                Ok(saved) => {
                    if post_id.try_get_untracked().is_some_and(|id| id.is_none()) {
                        post_id.set(Some(saved.id.clone()));
                        #[cfg(feature = "hydrate")]
                        browser::replace_path(&paths::post(&account, &saved.id));
                    }
                    // Saved content is an edit: a refused post is a draft again (messaging's rule).
                    if let Some(now) = status.try_get_untracked().filter(|s| s.after_edit() != *s) {
                        status.set(now.after_edit());
                    }
                    save_state.set(SaveState::Saved(saved.updated_at));
                }
                Err(e) => save_state.set(SaveState::Failed(e.to_string())),
            }
            result.map(|s| s.id)
        }
    };

    // Autosave: 600 ms after the last change (a draft; a sent post changes only on Save changes).
    #[cfg(feature = "hydrate")]
    if !is_edit {
        let pending = StoredValue::new(None::<TimeoutHandle>);
        let persist = persist.clone();
        Effect::new(move |first: Option<()>| {
            content.track();
            if first.is_none() {
                return;
            }
            save_state.set(SaveState::Unsaved);
            if let Some(h) = pending.get_value() {
                h.clear();
            }
            let persist = persist.clone();
            let handle = set_timeout_with_handle(
                move || {
                    leptos::task::spawn_local(async move {
                        let _ = persist().await;
                    })
                },
                std::time::Duration::from_millis(600),
            );
            pending.set_value(handle.ok());
        });
        // Leaving the page cancels an autosave that has not started yet.
        on_cleanup(move || {
            if let Some(Some(h)) = pending.try_get_value() {
                h.clear();
            }
        });
    }

    let navigate = leptos_router::hooks::use_navigate();
    let account_for_publish = account_id.clone();
    let persist_for_publish = persist.clone();
    let publish = move |_| {
        if let Err(f) = content.get_untracked().check_publishable() {
            error.set(Some(ConsoleError::Invalid { field: f.field, message: f.rule }));
            return;
        }
        error.set(None);
        busy.set(true);
        let (account, persist, navigate) = (account_for_publish.clone(), persist_for_publish.clone(), navigate.clone());
        leptos::task::spawn_local(async move {
            let outcome = match persist().await {
                Ok(id) => publish_post(account.clone(), id).await,
                Err(e) => Err(e),
            };
            busy.set(false);
            match outcome {
                Ok(_) => navigate(&format!("{}?published=1", paths::posts(&account)), Default::default()),
                Err(e) => error.set(Some(e)),
            }
        });
    };

    let schedule_input = RwSignal::new(String::new());
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if let Some(at) = publish_at.get() {
            schedule_input.set(browser::unix_to_local(at));
        }
    });
    let account_for_schedule = account_id.clone();
    let persist_for_schedule = persist.clone();
    let schedule = move |at: Option<i64>| {
        if at.is_some() {
            if let Err(f) = content.get_untracked().check_publishable() {
                error.set(Some(ConsoleError::Invalid { field: f.field, message: f.rule }));
                return;
            }
        }
        error.set(None);
        busy.set(true);
        let (account, persist) = (account_for_schedule.clone(), persist_for_schedule.clone());
        leptos::task::spawn_local(async move {
            let outcome = match persist().await {
                Ok(id) => schedule_post(account, id, at).await,
                Err(e) => Err(e),
            };
            busy.set(false);
            match outcome {
                Ok(view) => {
                    status.set(view.status);
                    publish_at.set(view.publish_at);
                    failure.set(None);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let schedule_now = schedule.clone();
    let on_schedule = move |_| {
        #[cfg(feature = "hydrate")]
        let at = browser::local_to_unix(&schedule_input.get_untracked());
        #[cfg(not(feature = "hydrate"))]
        let at: Option<i64> = None;
        match at {
            Some(at) => schedule_now(Some(at)),
            None => error.set(Some(ConsoleError::Invalid { field: "PublishAt".into(), message: "Choose a date and time.".into() })),
        }
    };
    let unschedule = move |_| schedule(None);

    let navigate_after_edit = leptos_router::hooks::use_navigate();
    let account_for_edit = account_id.clone();
    let save_changes = move |_| {
        let Some(key) = edit_key.clone() else { return };
        if let Err(f) = content.get_untracked().check_publishable() {
            error.set(Some(ConsoleError::Invalid { field: f.field, message: f.rule }));
            return;
        }
        error.set(None);
        busy.set(true);
        let (account, navigate) = (account_for_edit.clone(), navigate_after_edit.clone());
        leptos::task::spawn_local(async move {
            let outcome = edit_sent_post(account.clone(), key.clone(), content.get_untracked()).await;
            busy.set(false);
            match outcome {
                Ok(()) => navigate(&format!("{}?edited=1", paths::post(&account, &key)), Default::default()),
                Err(e) => error.set(Some(e)),
            }
        });
    };

    let time_zone = RwSignal::new(String::from("your time zone"));
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| time_zone.set(browser::time_zone()));

    let field_error = move |field: &'static str| Signal::derive(move || error.get().and_then(|e| e.message_for(field)));
    let general_error = move || {
        error
            .get()
            .filter(
                |e| !matches!(e, ConsoleError::Invalid { field, .. } if ["Body", "Images", "PublishAt", "Poll"].contains(&field.as_str())),
            )
            .map(|e| e.to_string())
    };
    let saved_text = move || match save_state.get() {
        SaveState::Unsaved => String::new(),
        SaveState::Saving => "Saving…".into(),
        SaveState::Saved(0) => "Saved".into(),
        SaveState::Saved(at) => format!("Saved at {}", local_time(at)),
        SaveState::Failed(why) => format!("Not saved: {why}"),
    };

    let size = Memo::new(move |_| content.with(PostContent::wire_size));
    const BUDGET: usize = messaging::error::MESSAGE_MAX_BYTES;
    let near_limit = move || size.get() * 10 > BUDGET * 9;
    let preview_html = move || content.with(render_content);
    let name = account.name.clone();

    view! {
        <div class="composer">
            <form class="compose-form" on:submit=|ev| ev.prevent_default()>
                {move || (status.get() == PostStatus::Failed).then(|| view! {
                    <p role="alert" class="form-error">"The scheduled publish was refused: " {failure.get()}</p>
                })}
                <fieldset class="kind">
                    <legend>"Type"</legend>
                    {PostKind::ALL.into_iter().map(|k| view! {
                        <label class="choice">
                            <input type="radio" name="post-kind" value=k.as_str() disabled=is_edit
                                prop:checked=move || draft.kind.get() == k
                                on:change=move |_| draft.kind.set(k)/>
                            {k.label()}
                        </label>
                    }).collect_view()}
                    {is_edit.then(|| view! { <p class="field-note">"A sent post keeps its type."</p> })}
                </fieldset>
                <BodyEditor draft error=field_error("Body")/>
                <ImagesField draft account=account.id.clone() error=field_error("Images")/>
                <PollFields draft error=field_error("Poll") time_zone/>
                <div class="meter-line">
                    <label for="post-size">"Message size"</label>
                    <meter id="post-size" min="0" max=BUDGET.to_string() high=(BUDGET * 9 / 10).to_string()
                        value=move || size.get().to_string()></meter>
                    <span class="size" class:warning=near_limit role="status">
                        {move || {
                            let note = if size.get() > BUDGET { " — too large to publish" } else if near_limit() { " — close to the limit" } else { "" };
                            format!("{} of {BUDGET} bytes{note}", size.get())
                        }}
                    </span>
                </div>
                {is_edit.then(|| view! {
                    <div class="publish">
                        <button type="button" class="primary" on:click=save_changes.clone() disabled=move || busy.get()>"Save changes"</button>
                        <p class="field-note">"Subscribers see the post change in place: no new notification, no unread count."</p>
                    </div>
                })}
                <div class="publish" class:hidden-part=is_edit>
                    <button type="button" class="primary" on:click=publish disabled=move || busy.get()>"Publish now"</button>
                    <div class="schedule field">
                        <label for="publish-at">"Publish at"</label>
                        <input id="publish-at" type="datetime-local" step="1" aria-describedby="publish-at-zone publish-at-error"
                            prop:value=move || schedule_input.get() on:input=move |ev| schedule_input.set(event_target_value(&ev))/>
                        <span class="field-note" id="publish-at-zone">"Time zone: " {move || time_zone.get()}</span>
                        <p class="field-error" id="publish-at-error">{move || field_error("PublishAt").get()}</p>
                    </div>
                    <button type="button" on:click=on_schedule disabled=move || busy.get()>"Schedule"</button>
                    {move || (status.get() == PostStatus::Scheduled).then(|| view! {
                        <p role="status" class="scheduled">
                            "Scheduled for " {move || publish_at.get().map(local_time_full).unwrap_or_default()} ". "
                            <button type="button" class="link" on:click=unschedule.clone()>"Unschedule"</button>
                        </p>
                    })}
                </div>
                <p class="form-error" role="alert">{general_error}</p>
                {(!is_edit).then(|| view! { <p class="saved" role="status">{saved_text}</p> })}
            </form>
            <section class="phone" role="region" aria-label="Preview">
                <div class="phone-head">
                    <super::account::Avatar account=account.clone()/>
                    <strong>{name}</strong>
                </div>
                <article class="post-rendered bubble" inner_html=preview_html></article>
            </section>
        </div>
    }
}

/// "14:03:22" in the browser's time zone (the server renders nothing time-zoned).
fn local_time(unix: i64) -> String {
    #[cfg(feature = "hydrate")]
    {
        let d = js_sys::Date::new(&leptos::wasm_bindgen::JsValue::from_f64(unix as f64 * 1000.0));
        format!("{:02}:{:02}:{:02}", d.get_hours(), d.get_minutes(), d.get_seconds())
    }
    #[cfg(not(feature = "hydrate"))]
    crate::time_fmt::utc_minutes(unix)
}

/// "2026-11-23 14:03:22" in the browser's time zone.
fn local_time_full(unix: i64) -> String {
    #[cfg(feature = "hydrate")]
    {
        browser::unix_to_local(unix).replace('T', " ")
    }
    #[cfg(not(feature = "hydrate"))]
    crate::time_fmt::utc_minutes(unix)
}
