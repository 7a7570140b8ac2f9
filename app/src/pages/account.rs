//! One official account's pages share a head: avatar, name, ID, subscriber count and the tabs
//! **Overview**, **Posts**, **Subscribers**, **New post**. `/accounts/{id}` is the overview.

use super::layout::Frame;
use crate::error::ConsoleError;
use crate::paths;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use messaging::OfficialAccount;

#[server(endpoint = "account_overview", output = crate::codec::Json)]
pub async fn account_overview(id: String) -> Result<OfficialAccount, ConsoleError> {
    let id = crate::ssr::account_id(&id)?;
    let (state, _user) = crate::ssr::allowed(messaging::Action::View, Some(&id)).await?;
    Ok(state.messaging.account(&id).await?)
}

/// What the signed-in user may do on the account: pages show only those buttons.
#[server(endpoint = "account_permissions", output = crate::codec::Json)]
pub async fn account_permissions(id: String) -> Result<messaging::Permissions, ConsoleError> {
    let id = crate::ssr::account_id(&id)?;
    let (state, user) = crate::ssr::allowed(messaging::Action::View, Some(&id)).await?;
    Ok(state.messaging.console().permissions(&user, &id).await?)
}

/// The signed-in user's [`messaging::Permissions`] on the current page's account. Fetched once
/// per page: the page and its [`AccountHead`] share them through the context.
#[derive(Clone, Copy)]
pub struct PagePermissions(Resource<Result<messaging::Permissions, ConsoleError>>);

impl PagePermissions {
    /// The permissions now (none while loading or on an error: buttons appear once allowed,
    /// never before). Reactive.
    pub fn get(&self) -> messaging::Permissions {
        self.0.get().and_then(Result::ok).unwrap_or_default()
    }

    /// Waits until they are known. A `Suspend` whose view shows buttons by them awaits this
    /// first: otherwise the server may render its HTML before they arrive (no buttons) while
    /// the browser hydrates with them, and hydration fails.
    pub async fn loaded(self) {
        let _ = self.0.await;
    }
}

pub fn use_permissions() -> PagePermissions {
    if let Some(shared) = use_context::<PagePermissions>() {
        return shared;
    }
    let id = use_account_id();
    let permissions = PagePermissions(Resource::new(move || id.get(), account_permissions));
    provide_context(permissions);
    permissions
}

/// Who works on an account, and who could be assigned (for its owner and the platform owner).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct People {
    /// (user, role label, "Owner" or "Assigned")
    pub people: Vec<(String, String, String)>,
    pub assignable: Vec<String>,
}

#[server(endpoint = "account_people", output = crate::codec::Json)]
pub async fn account_people(id: String) -> Result<People, ConsoleError> {
    let id = crate::ssr::account_id(&id)?;
    let (state, _user) = crate::ssr::allowed(messaging::Action::ManageAccount, Some(&id)).await?;
    let people = state
        .messaging
        .console()
        .people_of_account(&id)
        .await?
        .into_iter()
        .map(|(u, role, owner)| (u, role.label().to_owned(), if owner { "Owner" } else { "Assigned" }.to_owned()))
        .collect();
    Ok(People { people, assignable: state.messaging.console().assignable_users().await? })
}

/// Assigns an editor or viewer to the account, or (`assign` false) takes it away.
#[server(endpoint = "assign_person", output = crate::codec::Json)]
pub async fn assign_person(id: String, username: String, assign: bool) -> Result<(), ConsoleError> {
    let id = crate::ssr::account_id(&id)?;
    let (state, user) = crate::ssr::allowed(messaging::Action::ManageAccount, Some(&id)).await?;
    let account = state.messaging.account(&id).await?;
    state.messaging.console().assign_to_account(&account, username.trim(), assign).await?;
    tracing::info!(account = %id, by = %user.username, person = %username, assign, "account access changed");
    Ok(())
}

/// **People** on the overview: who works on the account; its owner (or the platform owner)
/// assigns editors and viewers. Shown only to those who may change it.
#[component]
fn PeopleSection() -> impl IntoView {
    let id = use_account_id();
    let assign = ServerAction::<AssignPerson>::new();
    let people = Resource::new(move || (id.get(), assign.version().get()), |(id, _)| account_people(id));
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                // Refused (not the account's owner): nothing to show.
                people.await.ok().map(|p| {
                    let account = id.get_untracked();
                    view! {
                        <section class="card" aria-labelledby="people-title">
                            <h2 id="people-title">"People"</h2>
                            {p.people.is_empty().then(|| view! { <p class="empty">"Only platform owners work on this account."</p> })}
                            <ul>
                                {p.people.into_iter().map(|(u, role, access)| {
                                    let label = format!("Remove {u}");
                                    let (account, who) = (account.clone(), u.clone());
                                    view! {
                                        <li>{format!("{u} · {role} · {access}")}
                                            {(access == "Assigned").then(|| view! {
                                                <ActionForm action=assign attr:class="inline">
                                                    <input type="hidden" name="id" value=account/>
                                                    <input type="hidden" name="username" value=who/>
                                                    <input type="hidden" name="assign" value="false"/>
                                                    <button type="submit" class="danger" aria-label=label>"Remove"</button>
                                                </ActionForm>
                                            })}
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                            {if p.assignable.is_empty() {
                                view! {
                                    <p class="muted">"No editors or viewers to assign yet: the platform owner invites them under Users."</p>
                                }.into_any()
                            } else {
                                view! {
                                    <ActionForm action=assign>
                                        <input type="hidden" name="id" value=account.clone()/>
                                        <input type="hidden" name="assign" value="true"/>
                                        <label for="assign-user">"Editor or viewer"</label>
                                        <select id="assign-user" name="username">
                                            {p.assignable.into_iter().map(|u| view! { <option value=u.clone()>{u.clone()}</option> }).collect_view()}
                                        </select>
                                        <button type="submit">"Assign"</button>
                                    </ActionForm>
                                }.into_any()
                            }}
                            {move || assign.value().get().and_then(|r| r.err()).map(|e| view! { <p role="alert" class="form-error">{e.to_string()}</p> })}
                        </section>
                    }
                })
            })}
        </Transition>
    }
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
    Insights,
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
    let may = use_permissions();
    // On a phone the tabs scroll sideways: the current one is brought into view.
    let tab_bar = NodeRef::<leptos::html::Nav>::new();
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(bar) = tab_bar.get() {
            use leptos::wasm_bindgen::JsCast;
            let current = bar.query_selector("a[aria-current=page]").ok().flatten();
            if let Some(current) = current.and_then(|c| c.dyn_into::<leptos::web_sys::HtmlElement>().ok()) {
                let overflow = current.offset_left() + current.offset_width() - bar.client_width();
                if overflow > 0 {
                    bar.set_scroll_left(overflow + 16);
                }
            }
        }
    });
    let tabs = move |a: &OfficialAccount| {
        let new_post = paths::new_post(&a.id);
        let link = move |t: Tab, href: String, label: &'static str| {
            view! { <a href=href aria-current=if t == tab { Some("page") } else { None }>{label}</a> }
        };
        view! {
            <nav class="tabs" aria-label="Account" node_ref=tab_bar>
                {link(Tab::Overview, paths::account(&a.id), "Overview")}
                {link(Tab::Posts, paths::posts(&a.id), "Posts")}
                {link(Tab::Subscribers, paths::subscribers(&a.id), "Subscribers")}
                {link(Tab::Inbox, format!("{}/inbox", paths::account(&a.id)), "Inbox")}
                {link(Tab::Insights, paths::insights(&a.id), "Insights")}
                {move || may.get().publish.then(|| link(Tab::NewPost, new_post.clone(), "New post"))}
            </nav>
        }
    };
    view! {
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                may.loaded().await; // the New post tab
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
    let may = use_permissions();
    view! {
        <Frame>
            <AccountHead tab=Tab::Overview/>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    may.loaded().await; // Write a post
                    account.await.ok().map(|a| view! {
                        <super::insights::HeadlineFigures account=a.id.clone()/>
                        <dl class="profile">
                            <dt>"Owner"</dt><dd>{a.owner.clone()}</dd>
                            <dt>"Introduction"</dt><dd>{a.introduction.clone()}</dd>
                            <dt>"Organization"</dt><dd>{a.organization.clone()}</dd>
                            <dt>"Subscribers"</dt><dd>{a.subscriber_num} " of at most " {a.max_subscriber_num}</dd>
                            <dt>"Created"</dt><dd>{crate::time_fmt::utc_minutes(a.create_time)}</dd>
                        </dl>
                        {let href = paths::new_post(&a.id);
                         move || may.get().publish.then(|| view! { <p><a class="button primary" href=href.clone()>"Write a post"</a></p> })}
                    })
                })}
            </Transition>
            <super::growth::GrowthSections/>
            <PeopleSection/>
        </Frame>
    }
}
