//! How an account grows, and its export, on its Overview: the **Public web page** switch with its **Handle**,
//! and the **Links** section (invite links: create with a name, an optional expiry and use
//! limit; copy the URL; download the QR code; uses and subscribers gained; revoke). Both are for
//! the account's owner and the platform owner ([`messaging::Action::ManageAccount`]); the rules
//! (handle characters, names, limits) are `messaging::public`'s.

use crate::error::ConsoleError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// One invite link as the Links table shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkRow {
    pub code: String,
    pub name: String,
    /// The absolute URL (what Copy copies) and its path (what the table shows).
    pub url: String,
    pub path: String,
    pub uses: String,
    pub subscribed: i64,
    pub expires: String,
    pub state: String,
    pub active: bool,
}

/// The account's public web as its owner sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Growth {
    pub handle: String,
    pub enabled: bool,
    /// The public page's absolute URL, once a handle is set.
    pub page_url: Option<String>,
    pub links: Vec<LinkRow>,
}

#[cfg(feature = "ssr")]
async fn public_base() -> String {
    let state = crate::ssr::state().ok();
    if let Some(url) = state.as_ref().and_then(|s| s.public_url.clone()) {
        return url;
    }
    let headers: Option<http::HeaderMap> = leptos_axum::extract().await.ok();
    let host = headers
        .as_ref()
        .and_then(|h| h.get(http::header::HOST))
        .and_then(|h| h.to_str().ok())
        .filter(|h| h.chars().all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c)))
        .unwrap_or("localhost")
        .to_owned();
    format!("http://{host}")
}

#[server(endpoint = "account_growth", output = crate::codec::Json)]
pub async fn account_growth(id: String) -> Result<Growth, ConsoleError> {
    let id = crate::ssr::account_id(&id)?;
    let (state, _user) = crate::ssr::allowed(messaging::Action::ManageAccount, Some(&id)).await?;
    let public = state.messaging.public();
    let setting = public.page_setting(&id).await?;
    let base = public_base().await;
    let now = public.now();
    let links = public
        .invite_links(&id)
        .await?
        .into_iter()
        .map(|l| {
            let state = l.state(now);
            LinkRow {
                url: format!("{base}/join/{}", l.code),
                path: format!("/join/{}", l.code),
                uses: match l.max_uses {
                    Some(max) => format!("{} of {max}", l.uses),
                    None => l.uses.to_string(),
                },
                subscribed: l.subscribed,
                expires: l.expire_time.map_or_else(|| "Never".to_owned(), crate::time_fmt::utc_minutes),
                state: state.label().to_owned(),
                active: state == messaging::public::InviteState::Active,
                code: l.code,
                name: l.name,
            }
        })
        .collect();
    Ok(Growth {
        page_url: setting.handle.as_ref().map(|h| format!("{base}/c/{h}")),
        handle: setting.handle.unwrap_or_default(),
        enabled: setting.enabled,
        links,
    })
}

/// Sets the handle and the switch (`enabled` is the checkbox: present when ticked).
#[server(endpoint = "set_public_web", output = crate::codec::Json)]
pub async fn set_public_web(id: String, handle: String, enabled: Option<String>) -> Result<(), ConsoleError> {
    let id = crate::ssr::account_id(&id)?;
    let (state, _user) = crate::ssr::allowed(messaging::Action::ManageAccount, Some(&id)).await?;
    let handle = messaging::public::Handle::parse("Handle", handle.trim())?;
    state.messaging.public().set_public_page(&id, &handle, enabled.is_some()).await?;
    Ok(())
}

/// `2026-12-31T18:00` (an `<input type="datetime-local">`, read as UTC) in Unix seconds.
#[cfg(feature = "ssr")]
fn parse_utc_minutes(text: &str) -> Option<i64> {
    let (date, time) = text.split_once('T')?;
    let day = messaging::insights::Day::parse("ExpireTime", date).ok()?;
    let mut t = time.splitn(3, ':').map(str::parse::<i64>);
    let (h, min) = (t.next()?.ok()?, t.next()?.ok()?);
    ((0..24).contains(&h) && (0..60).contains(&min)).then(|| day.start() + h * 3600 + min * 60)
}

#[server(endpoint = "create_invite_link", output = crate::codec::Json)]
pub async fn create_invite_link(id: String, name: String, expires: String, max_uses: String) -> Result<(), ConsoleError> {
    let id = crate::ssr::account_id(&id)?;
    let (state, _user) = crate::ssr::allowed(messaging::Action::ManageAccount, Some(&id)).await?;
    let expire_time = match expires.trim() {
        "" => None,
        text => Some(parse_utc_minutes(text).ok_or_else(|| ConsoleError::Invalid {
            field: "ExpireTime".into(),
            message: "Give the expiry as a date and time (UTC).".into(),
        })?),
    };
    let max_uses = match max_uses.trim() {
        "" => None,
        text => Some(text.parse::<i64>().map_err(|_| ConsoleError::Invalid {
            field: "MaxUses".into(),
            message: "Give the most uses as a whole number, or leave it empty for no limit.".into(),
        })?),
    };
    let link = messaging::public::NewInviteLink::parse(&name, expire_time, max_uses, state.messaging.now())?;
    state.messaging.public().create_invite(&id, &link).await?;
    Ok(())
}

#[server(endpoint = "revoke_invite_link", output = crate::codec::Json)]
pub async fn revoke_invite_link(id: String, code: String) -> Result<(), ConsoleError> {
    let id = crate::ssr::account_id(&id)?;
    let (state, _user) = crate::ssr::allowed(messaging::Action::ManageAccount, Some(&id)).await?;
    let code = messaging::public::InviteCode::parse("InviteCode", &code)?;
    state.messaging.public().revoke_invite(&id, &code).await?;
    Ok(())
}

/// Copies `text` to the clipboard; says so in `said` (a live region).
fn copy(text: String, said: RwSignal<String>) {
    #[cfg(feature = "hydrate")]
    {
        let clipboard = leptos::web_sys::window().map(|w| w.navigator().clipboard());
        match clipboard {
            Some(c) => {
                let _ = c.write_text(&text);
                said.set("Link copied.".into());
            }
            None => said.set("Copy the link from the table.".into()),
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (text, said);
}

fn field_error(result: Option<Result<(), ConsoleError>>, field: &str) -> Option<String> {
    match result {
        Some(Err(ConsoleError::Invalid { field: f, message })) if f == field => Some(message),
        _ => None,
    }
}

fn other_error(result: Option<Result<(), ConsoleError>>, fields: &[&str]) -> Option<String> {
    match result {
        Some(Err(ConsoleError::Invalid { field, .. })) if fields.contains(&field.as_str()) => None,
        Some(Err(e)) => Some(e.to_string()),
        _ => None,
    }
}

/// The **Public web page** and **Links** sections of the Overview, for those who may manage
/// the account (nothing for the others).
#[component]
pub fn GrowthSections() -> impl IntoView {
    let id = super::account::use_account_id();
    let set_page = ServerAction::<SetPublicWeb>::new();
    let create = ServerAction::<CreateInviteLink>::new();
    let revoke = ServerAction::<RevokeInviteLink>::new();
    let growth = Resource::new(
        move || (id.get(), set_page.version().get(), create.version().get(), revoke.version().get()),
        |(id, ..)| account_growth(id),
    );
    let said = RwSignal::new(String::new());
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                growth.await.ok().map(|g| {
                    let account = id.get_untracked();
                    let export_href = format!("{}/export.zip", crate::paths::account(&account));
                    let (for_page, for_links, for_rows) = (account.clone(), account.clone(), account);
                    view! {
                        <section class="card" aria-labelledby="public-title">
                            <h2 id="public-title">"Public web page"</h2>
                            <p class="muted">"Anyone can read the account's posts at its page, in its feeds and in embeds. Off: every public address of the account answers Not found."</p>
                            <ActionForm action=set_page attr:class="public-form">
                                <input type="hidden" name="id" value=for_page/>
                                <label for="public-handle">"Handle"</label>
                                <input id="public-handle" name="handle" value=g.handle.clone() required
                                    minlength=messaging::public::HANDLE_MIN.to_string() maxlength=messaging::public::HANDLE_MAX.to_string()
                                    pattern="[a-z0-9_\\-]+" autocomplete="off" spellcheck="false"
                                    aria-describedby="public-handle-help public-handle-error"
                                    aria-invalid=move || field_error(set_page.value().get(), "Handle").is_some().then_some("true")/>
                                <p id="public-handle-help" class="muted">{format!("{}–{} of {}, unique: the page is at /c/handle.", messaging::public::HANDLE_MIN, messaging::public::HANDLE_MAX, messaging::public::HANDLE_CHARS)}</p>
                                <p id="public-handle-error" role="alert" class="form-error">{move || field_error(set_page.value().get(), "Handle")}</p>
                                <label class="check"><input type="checkbox" name="enabled" checked=g.enabled/>"Public web page"</label>
                                <button type="submit">"Save"</button>
                            </ActionForm>
                            {move || other_error(set_page.value().get(), &["Handle"]).map(|e| view! { <p role="alert" class="form-error">{e}</p> })}
                            {match (g.enabled, g.page_url.clone()) {
                                (true, Some(url)) => Some(view! { <p>"On at " <a href=url.clone() target="_blank" rel="noopener">{url.clone()}</a></p> }.into_any()),
                                (false, Some(_)) => Some(view! { <p class="muted">"Off."</p> }.into_any()),
                                _ => None,
                            }}
                        </section>
                        <section class="card wide" aria-labelledby="links-title">
                            <h2 id="links-title">"Links"</h2>
                            <p class="muted">"Invite links bring subscribers from posters, flyers and other sites; each counts who it brought (Insights shows them as link:name)."</p>
                            <ActionForm action=create attr:class="link-form">
                                <input type="hidden" name="id" value=for_links/>
                                <div>
                                    <label for="link-name">"Name"</label>
                                    <input id="link-name" name="name" required maxlength=messaging::public::INVITE_NAME_MAX.to_string()
                                        aria-describedby="link-name-error"
                                        aria-invalid=move || field_error(create.value().get(), "Name").is_some().then_some("true")/>
                                    <p id="link-name-error" role="alert" class="form-error">{move || field_error(create.value().get(), "Name")}</p>
                                </div>
                                <div>
                                    <label for="link-expires">"Expires (UTC, optional)"</label>
                                    <input id="link-expires" name="expires" type="datetime-local" aria-describedby="link-expires-error"/>
                                    <p id="link-expires-error" role="alert" class="form-error">{move || field_error(create.value().get(), "ExpireTime")}</p>
                                </div>
                                <div>
                                    <label for="link-max">"Most uses (optional)"</label>
                                    <input id="link-max" name="max_uses" type="number" min="1" inputmode="numeric" aria-describedby="link-max-error"/>
                                    <p id="link-max-error" role="alert" class="form-error">{move || field_error(create.value().get(), "MaxUses")}</p>
                                </div>
                                <button type="submit" class="primary">"Create link"</button>
                            </ActionForm>
                            {move || other_error(create.value().get(), &["Name", "ExpireTime", "MaxUses"]).map(|e| view! { <p role="alert" class="form-error">{e}</p> })}
                            <p class="visually-hidden" aria-live="polite">{move || said.get()}</p>
                            {if g.links.is_empty() {
                                view! { <p class="empty">"No invite links yet."</p> }.into_any()
                            } else {
                                view! {
                                    <table class="links">
                                        <thead><tr>
                                            <th scope="col">"Name"</th><th scope="col">"Link"</th><th scope="col">"Uses"</th>
                                            <th scope="col">"Subscribers gained"</th><th scope="col">"Expires"</th><th scope="col">"State"</th>
                                            <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                                        </tr></thead>
                                        <tbody>
                                            {g.links.into_iter().map(|l| link_row(l, for_rows.clone(), revoke, said)).collect_view()}
                                        </tbody>
                                    </table>
                                }.into_any()
                            }}
                            {move || revoke.value().get().and_then(|r| r.err()).map(|e| view! { <p role="alert" class="form-error">{e.to_string()}</p> })}
                        </section>
                        <section class="card" aria-labelledby="export-title">
                            <h2 id="export-title">"Export"</h2>
                            <p class="muted">"One ZIP of the account: every sent post with its images, the subscribers as CSV and the Insights tables."</p>
                            <a class="button" href=export_href download>"Download the account (ZIP)"</a>
                        </section>
                    }
                })
            })}
        </Transition>
    }
}

fn link_row(l: LinkRow, account: String, revoke: ServerAction<RevokeInviteLink>, said: RwSignal<String>) -> impl IntoView {
    let url = l.url.clone();
    let copy_label = format!("Copy the link {}", l.name);
    let png_label = format!("QR PNG of {}", l.name);
    let svg_label = format!("QR SVG of {}", l.name);
    let revoke_label = format!("Revoke {}", l.name);
    let file = |ext: &str| format!("invite-{}.{ext}", l.code);
    view! {
        <tr>
            <td data-label="Name">{l.name.clone()}</td>
            <td data-label="Link"><a class="link-url" href=l.path.clone() target="_blank" rel="noopener">{l.path.clone()}</a></td>
            <td data-label="Uses" class="num">{l.uses.clone()}</td>
            <td data-label="Subscribers gained" class="num">{l.subscribed}</td>
            <td data-label="Expires">{l.expires.clone()}</td>
            <td data-label="State">{l.state.clone()}</td>
            <td class="actions">
                <button type="button" aria-label=copy_label on:click=move |_| copy(url.clone(), said)>"Copy"</button>
                <a class="button" href=format!("/join/{}/qr.png", l.code) download=file("png") aria-label=png_label>"QR PNG"</a>
                <a class="button" href=format!("/join/{}/qr.svg", l.code) download=file("svg") aria-label=svg_label>"QR SVG"</a>
                {l.active.then(|| view! {
                    <ActionForm action=revoke attr:class="inline">
                        <input type="hidden" name="id" value=account/>
                        <input type="hidden" name="code" value=l.code.clone()/>
                        <button type="submit" class="danger" aria-label=revoke_label>"Revoke"</button>
                    </ActionForm>
                })}
            </td>
        </tr>
    }
}
