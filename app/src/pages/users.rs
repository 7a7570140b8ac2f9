//! **Users** (`/settings/users`, platform owner): the console's team. **Invite user** makes a
//! one-time link (72 h, shown once) for a user name and role (editors and viewers: the accounts
//! they work on); **Disable** ends the user's sessions at their next request; **New link** is a
//! password reset; **Change role**. The invitee opens `/invite/{token}`, chooses a password
//! (rated by zxcvbn while typing) and is signed in. Every rule lives in `messaging`.

use super::layout::Frame;
use crate::error::ConsoleError;
use crate::time_fmt::utc_minutes;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use messaging::{PasswordRating, Role, TeamMember};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeamData {
    pub members: Vec<TeamMember>,
    /// Account IDs and names, for the invitation's account choice.
    pub accounts: Vec<(String, String)>,
}

#[server(endpoint = "list_team", output = crate::codec::Json)]
pub async fn list_team() -> Result<TeamData, ConsoleError> {
    let (state, _user) = crate::ssr::allowed(messaging::Action::ManageApp, None).await?;
    let accounts = state.messaging.search_accounts("", 200).await?.into_iter().map(|a| (a.id, a.name)).collect();
    Ok(TeamData { members: state.messaging.console().team().await?, accounts })
}

#[cfg(feature = "ssr")]
fn role_of(s: &str) -> Result<Role, ConsoleError> {
    Role::parse(s).ok_or_else(|| ConsoleError::Invalid { field: "role".into(), message: "Choose a role.".into() })
}

/// Invites a user; answers the invitation link's path (shown once).
#[server(endpoint = "invite_user", output = crate::codec::Json)]
/// `accounts`: account IDs, one a line.
pub async fn invite_user(username: String, role: String, accounts: String) -> Result<String, ConsoleError> {
    let (state, user) = crate::ssr::allowed(messaging::Action::ManageApp, None).await?;
    let ids = accounts.lines().filter(|a| !a.is_empty()).map(crate::ssr::account_id).collect::<Result<Vec<_>, _>>()?;
    let mut accounts = Vec::with_capacity(ids.len());
    for id in &ids {
        accounts.push(state.messaging.account(id).await?);
    }
    let token = state.messaging.console().invite_console_user(&user.username, username.trim(), role_of(&role)?, &accounts).await?;
    Ok(format!("/invite/{token}"))
}

#[server(endpoint = "set_user_disabled", output = crate::codec::Json)]
pub async fn set_user_disabled(username: String, disabled: bool) -> Result<(), ConsoleError> {
    let (state, _user) = crate::ssr::allowed(messaging::Action::ManageApp, None).await?;
    Ok(state.messaging.console().set_console_user_disabled(&username, disabled).await?)
}

#[server(endpoint = "change_user_role", output = crate::codec::Json)]
pub async fn change_user_role(username: String, role: String) -> Result<(), ConsoleError> {
    let (state, _user) = crate::ssr::allowed(messaging::Action::ManageApp, None).await?;
    Ok(state.messaging.console().change_console_role(&username, role_of(&role)?).await?)
}

/// A new one-time link (the user's password is removed).
#[server(endpoint = "new_user_link", output = crate::codec::Json)]
pub async fn new_user_link(username: String) -> Result<String, ConsoleError> {
    let (state, _user) = crate::ssr::allowed(messaging::Action::ManageApp, None).await?;
    Ok(format!("/invite/{}", state.messaging.console().new_invitation_link(&username).await?))
}

/// `https://herald.example.com`, for a link to copy (empty while rendering on the server).
fn browser_origin() -> String {
    #[cfg(feature = "hydrate")]
    {
        web_sys::window().and_then(|w| w.location().origin().ok()).unwrap_or_default()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        String::new()
    }
}

#[component]
pub fn UsersPage() -> impl IntoView {
    let version = RwSignal::new(0u32);
    let data = Resource::new(move || version.get(), |_| list_team());
    let invite = ServerAction::<InviteUser>::new();
    let disable = ServerAction::<SetUserDisabled>::new();
    let role = ServerAction::<ChangeUserRole>::new();
    let link = ServerAction::<NewUserLink>::new();
    let role_choice = RwSignal::new(Role::Editor.as_str().to_owned());
    let chosen = RwSignal::new(Vec::<String>::new());
    Effect::new(move |_| {
        let changed = [invite.version().get(), disable.version().get(), role.version().get(), link.version().get()];
        if changed.iter().any(|v| *v > 0) {
            version.update(|v| *v += 1);
        }
    });
    let shown_link = move |result: Option<Result<String, ConsoleError>>| {
        result.map(|r| match r {
            Ok(path) => {
                let origin = browser_origin();
                view! { <p role="status" class="notice">"Send this one-time link (valid 72 hours; shown once): " <code>{format!("{origin}{path}")}</code></p> }.into_any()
            }
            Err(e) => view! { <p role="alert" class="form-error">{e.to_string()}</p> }.into_any(),
        })
    };
    let members = move |d: TeamData| {
        view! {
            <table class="accounts">
                <thead><tr><th scope="col">"User"</th><th scope="col">"Role"</th><th scope="col">"Accounts"</th>
                    <th scope="col">"Last sign-in"</th><th scope="col">"Status"</th><th scope="col"><span class="visually-hidden">"Actions"</span></th></tr></thead>
                <tbody>
                    {d.members.into_iter().map(|m| {
                        let status = if m.disabled { "Disabled" } else if m.has_password { "Active" } else { "Invited" };
                        let accounts = if m.role == Role::PlatformOwner { "All".to_owned() } else { m.accounts.join(", ") };
                        let name = m.username.clone();
                        let toggle = if m.disabled { "Enable" } else { "Disable" };
                        let toggle_label = format!("{toggle} {name}");
                        let link_label = format!("New link for {name}");
                        let role_label = format!("Role of {name}");
                        let change_label = format!("Change role of {name}");
                        let (for_disable, for_link, for_role) = (name.clone(), name.clone(), name.clone());
                        let current = m.role;
                        let enable_next = (!m.disabled).to_string();
                        let last = m.last_sign_in_at.map(utc_minutes).unwrap_or_else(|| "never".into());
                        view! {
                            <tr>
                                <td>{name}</td>
                                <td>{m.role.label()}</td>
                                <td>{accounts}</td>
                                <td>{last}</td>
                                <td>{status}</td>
                                <td class="actions">
                                    <ActionForm action=disable>
                                        <input type="hidden" name="username" value=for_disable/>
                                        <input type="hidden" name="disabled" value=enable_next/>
                                        <button type="submit" class:danger=!m.disabled aria-label=toggle_label>{toggle}</button>
                                    </ActionForm>
                                    <ActionForm action=link>
                                        <input type="hidden" name="username" value=for_link/>
                                        <button type="submit" aria-label=link_label>"New link"</button>
                                    </ActionForm>
                                    <ActionForm action=role>
                                        <input type="hidden" name="username" value=for_role/>
                                        <select name="role" aria-label=role_label>
                                            {Role::ALL.into_iter().map(|r| view! { <option value=r.as_str() selected=r == current>{r.label()}</option> }).collect_view()}
                                        </select>
                                        <button type="submit" aria-label=change_label>"Change role"</button>
                                    </ActionForm>
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            <section aria-labelledby="invite-title" class="card">
                <h2 id="invite-title">"Invite user"</h2>
                <ActionForm action=invite>
                    <label for="invite-username">"User name"</label>
                    <input id="invite-username" name="username" required maxlength="32" autocomplete="off"/>
                    <label for="invite-role">"Role"</label>
                    <select id="invite-role" name="role" on:change=move |ev| role_choice.set(event_target_value(&ev))>
                        {[Role::Editor, Role::Viewer, Role::AccountOwner, Role::PlatformOwner].into_iter()
                            .map(|r| view! { <option value=r.as_str() selected=r == Role::Editor>{r.label()}</option> }).collect_view()}
                    </select>
                    <fieldset class:hidden-part=move || !role_choice.with(|r| Role::parse(r).is_some_and(Role::works_on_assigned_accounts))>
                        <legend>"Accounts they work on"</legend>
                        {d.accounts.is_empty().then(|| view! { <p class="empty">"No accounts yet: create one first."</p> })}
                        {d.accounts.into_iter().map(|(id, name)| {
                            let toggled = id.clone();
                            view! {
                                <label class="check"><input type="checkbox" value=id.clone()
                                    on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        chosen.update(|c| { c.retain(|x| *x != toggled); if on { c.push(toggled.clone()); } });
                                    }/>{format!("{name} ({id})")}</label>
                            }
                        }).collect_view()}
                    </fieldset>
                    <input type="hidden" name="accounts" prop:value=move || chosen.get().join("\n")/>
                    <button type="submit" class="primary">"Invite user"</button>
                </ActionForm>
                {move || shown_link(invite.value().get())}
            </section>
        }
    };
    view! {
        <Frame>
            <h1>"Users"</h1>
            {move || shown_link(link.value().get())}
            {move || [disable.value().get().and_then(|r| r.err()), role.value().get().and_then(|r| r.err())]
                .into_iter().flatten().map(|e| view! { <p role="alert" class="form-error">{e.to_string()}</p> }).collect_view()}
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(d) => members(d).into_any(),
                        Err(e) => view! { <p role="alert" class="form-error">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </Frame>
    }
}

/// Rates a password being chosen on an invitation page (the token names the user).
#[server(endpoint = "rate_new_password", output = crate::codec::Json)]
pub async fn rate_new_password(password: String) -> Result<PasswordRating, ConsoleError> {
    Ok(messaging::rate_password(&password, ""))
}

/// Accepts an invitation: stores the password and signs the user in.
#[server(endpoint = "accept_invitation", output = crate::codec::Json)]
pub async fn accept_invitation(token: String, password: String) -> Result<(), ConsoleError> {
    let state = crate::ssr::state()?;
    let user = state.messaging.console().accept_invitation(&token, &password).await?;
    crate::ssr::start_session_here(&user, "invitation accepted").await?;
    leptos_axum::redirect("/accounts");
    Ok(())
}

#[component]
pub fn InvitationPage() -> impl IntoView {
    let params = use_params_map();
    let token = move || params.read().get("token").unwrap_or_default();
    let accept = ServerAction::<AcceptInvitation>::new();
    let password = RwSignal::new(String::new());
    let rating = Resource::new(
        move || password.get(),
        |p| async move {
            if p.is_empty() {
                Ok(None)
            } else {
                rate_new_password(p).await.map(Some)
            }
        },
    );
    view! {
        <main class="sign-in">
            <h1>"Welcome to Herald"</h1>
            <p>"Choose a password to finish your invitation: at least 12 characters, hard to guess."</p>
            <ActionForm action=accept>
                <input type="hidden" name="token" value=token/>
                <label for="new-password">"New password"</label>
                <input id="new-password" name="password" type="password" autocomplete="new-password" required minlength="12"
                    on:input=move |ev| password.set(event_target_value(&ev))/>
                <Transition>
                    {move || Suspend::new(async move {
                        rating.await.ok().flatten().map(|r| view! {
                            <div class="password-rating" aria-live="polite">
                                <p>{format!("Strength {} of 4{}", r.score, if r.acceptable { " — good" } else { "" })}</p>
                                <ul>{r.feedback.into_iter().map(|f| view! { <li>{f}</li> }).collect_view()}</ul>
                            </div>
                        })
                    })}
                </Transition>
                <p class="form-error" role="alert">{move || accept.value().get().and_then(|r| r.err()).map(|e| e.to_string())}</p>
                <button type="submit" class="primary" disabled=move || accept.pending().get()>"Set password and sign in"</button>
            </ActionForm>
        </main>
    }
}
