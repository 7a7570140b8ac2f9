//! One official account's pages share a head: avatar, name, ID, subscriber count and the tabs
//! **Overview**, **Posts**, **Subscribers**, **New post**. `/accounts/{id}` is the overview.

use super::layout::Frame;
use crate::error::ConsoleError;
use crate::paths;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use messaging::OfficialAccount;

#[server(endpoint = "account_overview")]
pub async fn account_overview(id: String) -> Result<OfficialAccount, ConsoleError> {
    let id = crate::ssr::account_id(&id)?;
    let (state, _user) = crate::ssr::allowed(messaging::Action::View, Some(&id)).await?;
    Ok(state.messaging.account(&id).await?)
}

/// The account ID of the current page (`:id`, decoded).
pub fn use_account_id() -> Memo<String> {
    let params = use_params_map();
    Memo::new(move |_| paths::decode(&params.read().get("id").unwrap_or_default()))
}

/// Which tab a page is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Overview,
    Posts,
    Subscribers,
    Inbox,
    NewPost,
}

/// The account's avatar, or its initial when it has none.
#[component]
pub fn Avatar(account: OfficialAccount, #[prop(optional)] class: &'static str) -> impl IntoView {
    let class = format!("avatar {class}");
    if account.face_url.starts_with("https://") || account.face_url.starts_with("http://") || account.face_url.starts_with('/') {
        view! { <img class=class src=account.face_url alt=""/> }.into_any()
    } else {
        let initial = account.name.chars().next().unwrap_or('?').to_uppercase().to_string();
        view! { <span class=class aria-hidden="true">{initial}</span> }.into_any()
    }
}

/// The head of every account page, loading the account itself.
#[component]
pub fn AccountHead(tab: Tab, #[prop(optional, into)] version: Signal<u32>) -> impl IntoView {
    let id = use_account_id();
    let account = Resource::new(move || (id.get(), version.get()), |(id, _)| account_overview(id));
    let tabs = move |a: &OfficialAccount| {
        let link = |t: Tab, href: String, label: &'static str| {
            view! { <a href=href aria-current=if t == tab { Some("page") } else { None }>{label}</a> }
        };
        view! {
            <nav class="tabs" aria-label="Account">
                {link(Tab::Overview, paths::account(&a.id), "Overview")}
                {link(Tab::Posts, paths::posts(&a.id), "Posts")}
                {link(Tab::Subscribers, paths::subscribers(&a.id), "Subscribers")}
                {link(Tab::Inbox, format!("{}/inbox", paths::account(&a.id)), "Inbox")}
                {link(Tab::NewPost, paths::new_post(&a.id), "New post")}
            </nav>
        }
    };
    view! {
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match account.await {
                    Ok(a) => view! {
                        <div class="account-head">
                            <Avatar account=a.clone() class="large"/>
                            <div>
                                <p class="crumbs"><a href="/accounts">"Official accounts"</a></p>
                                <h1>{a.name.clone()}</h1>
                                <p class="muted"><code>{a.id.clone()}</code> " · " {a.subscriber_num} " subscribers"</p>
                            </div>
                        </div>
                        {tabs(&a)}
                    }.into_any(),
                    Err(e) => view! { <h1>"Official account"</h1><p role="alert" class="form-error">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
pub fn AccountPage() -> impl IntoView {
    let id = use_account_id();
    let account = Resource::new(move || id.get(), account_overview);
    view! {
        <Frame>
            <AccountHead tab=Tab::Overview/>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    account.await.ok().map(|a| view! {
                        <dl class="profile">
                            <dt>"Owner"</dt><dd>{a.owner.clone()}</dd>
                            <dt>"Introduction"</dt><dd>{a.introduction.clone()}</dd>
                            <dt>"Organization"</dt><dd>{a.organization.clone()}</dd>
                            <dt>"Subscribers"</dt><dd>{a.subscriber_num} " of at most " {a.max_subscriber_num}</dd>
                            <dt>"Created"</dt><dd>{crate::time_fmt::utc_minutes(a.create_time)}</dd>
                        </dl>
                        <p><a class="button primary" href=paths::new_post(&a.id)>"Write a post"</a></p>
                    })
                })}
            </Transition>
        </Frame>
    }
}
