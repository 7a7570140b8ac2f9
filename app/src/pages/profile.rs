//! **Your account** (`/profile`, every console user): change your password (the current one is
//! asked for), see where you are signed in and end any of those sessions, or all of them.

use super::layout::Frame;
use crate::error::ConsoleError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The signed-in user, for the page head and the navigation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Me {
    pub username: String,
    pub role: messaging::Role,
    /// Whether they have a password (then a change asks for it).
    pub has_password: bool,
}

#[server(endpoint = "who_am_i", output = crate::codec::Json)]
pub async fn who_am_i() -> Result<Me, ConsoleError> {
    let (state, user) = crate::ssr::signed_in().await?;
    Ok(Me { has_password: state.messaging.console().has_console_password(&user.username).await?, username: user.username, role: user.role })
}

/// Changes the signed-in user's password; asks for the current one when there is one.
#[server(endpoint = "change_password", output = crate::codec::Json)]
pub async fn change_password(current_password: String, password: String) -> Result<(), ConsoleError> {
    let (state, user) = crate::ssr::signed_in().await?;
    let client = crate::ssr::client_address().await;
    state.messaging.console().change_console_password(&user.username, &current_password, &password, &client).await?;
    Ok(())
}

/// A session as the page lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionRow {
    pub handle: String,
    pub address: String,
    pub browser: String,
    pub created_at: i64,
    pub last_used_at: i64,
    pub current: bool,
}

#[cfg(any(feature = "ssr", test))]
/// "Chrome on Linux" from a User-Agent, or the text itself when it names neither.
fn browser_name(agent: &str) -> String {
    let browser = [("Edg/", "Edge"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Safari/", "Safari"), ("curl/", "curl")]
        .iter()
        .find(|(mark, _)| agent.contains(mark))
        .map(|(_, name)| *name);
    let system = [("Windows", "Windows"), ("Android", "Android"), ("iPhone", "iOS"), ("Mac OS X", "macOS"), ("Linux", "Linux")]
        .iter()
        .find(|(mark, _)| agent.contains(mark))
        .map(|(_, name)| *name);
    match (browser, system) {
        (Some(b), Some(s)) => format!("{b} on {s}"),
        (Some(b), None) => b.to_owned(),
        _ if agent.is_empty() => "Unknown browser".to_owned(),
        _ => agent.chars().take(60).collect(),
    }
}

#[server(endpoint = "my_sessions", output = crate::codec::Json)]
pub async fn my_sessions() -> Result<Vec<SessionRow>, ConsoleError> {
    let (state, me) = crate::ssr::signed_in_session().await?;
    let sessions = state.messaging.console().console_sessions(&me.user.username, &me.session_id).await?;
    Ok(sessions
        .into_iter()
        .map(|s| SessionRow {
            browser: browser_name(&s.user_agent),
            handle: s.handle,
            address: s.address,
            created_at: s.created_at,
            last_used_at: s.last_used_at,
            current: s.current,
        })
        .collect())
}

/// Ends one of your sessions (another browser is signed out at its next request).
#[server(endpoint = "end_session", output = crate::codec::Json)]
pub async fn end_session(handle: String) -> Result<(), ConsoleError> {
    let (state, me) = crate::ssr::signed_in_session().await?;
    state.messaging.console().end_console_session(&me.user.username, &handle).await?;
    Ok(())
}

/// Ends every session of yours, this one too, and goes to the sign-in page.
#[server(endpoint = "sign_out_everywhere", output = crate::codec::Json)]
pub async fn sign_out_everywhere() -> Result<(), ConsoleError> {
    let (state, me) = crate::ssr::signed_in_session().await?;
    state.messaging.console().end_all_console_sessions(&me.user.username).await?;
    let session = crate::ssr::session().await?;
    session.flush().await.map_err(|e| ConsoleError::Server(e.to_string()))?;
    leptos_axum::redirect("/login");
    Ok(())
}

/// Rates a new password as it is typed (zxcvbn, with the user name as a known word).
#[server(endpoint = "rate_my_new_password", output = crate::codec::Json)]
pub async fn rate_my_new_password(password: String) -> Result<messaging::PasswordRating, ConsoleError> {
    let (_, user) = crate::ssr::signed_in().await?;
    Ok(messaging::rate_password(&password, &user.username))
}

#[component]
fn PasswordSection(has_password: bool) -> impl IntoView {
    let change = ServerAction::<ChangePassword>::new();
    let typed = RwSignal::new(String::new());
    let rating = Resource::new(
        move || typed.get(),
        |p| async move {
            if p.is_empty() {
                Ok(None)
            } else {
                rate_my_new_password(p).await.map(Some)
            }
        },
    );
    let result = move || match change.value().get() {
        Some(Ok(())) => Some("Password changed.".to_string()),
        Some(Err(e)) => Some(
            e.message_for("password")
                .map(|m| format!("New password: {m}"))
                .or_else(|| e.message_for("current_password").map(|m| format!("Current password: {m}")))
                .unwrap_or_else(|| e.to_string()),
        ),
        None => None,
    };
    view! {
        <section aria-labelledby="password-title">
            <h2 id="password-title">"Password"</h2>
            <ActionForm action=change>
                {if has_password {
                    view! {
                        <label for="current-password">"Current password"</label>
                        <input id="current-password" name="current_password" type="password" autocomplete="current-password" required/>
                    }.into_any()
                } else {
                    view! { <input type="hidden" name="current_password" value=""/> }.into_any()
                }}
                <label for="new-password">"New password"</label>
                <input id="new-password" name="password" type="password" autocomplete="new-password" minlength="12" required
                    on:input=move |ev| typed.set(event_target_value(&ev))/>
                <Transition fallback=|| ()>
                    {move || rating.get().and_then(Result::ok).flatten().map(|r| view! {
                        <p class="strength" aria-live="polite">
                            {format!("Strength {} of 4{}", r.score, if r.acceptable { " — good" } else { "" })}
                            {r.feedback.into_iter().map(|f| view! { <br/>{f} }).collect_view()}
                        </p>
                    })}
                </Transition>
                <p role="status">{result}</p>
                <button type="submit">"Change password"</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn SessionsSection() -> impl IntoView {
    let end = ServerAction::<EndSession>::new();
    let everywhere = ServerAction::<SignOutEverywhere>::new();
    let sessions = Resource::new(move || end.version().get(), |_| my_sessions());
    view! {
        <section aria-labelledby="sessions-title">
            <h2 id="sessions-title">"Where you are signed in"</h2>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match sessions.await {
                        Ok(rows) => view! {
                            <table class="sessions">
                                <thead><tr><th scope="col">"Browser"</th><th scope="col">"Address"</th><th scope="col">"Signed in"</th>
                                    <th scope="col">"Last used"</th><th scope="col"><span class="visually-hidden">"Actions"</span></th></tr></thead>
                                <tbody>
                                    {rows.into_iter().map(|s| {
                                        let handle = s.handle.clone();
                                        let label = format!("End session {} from {}", s.browser, s.address);
                                        view! {
                                            <tr>
                                                <td>{s.browser.clone()}{s.current.then(|| view! { " " <span class="status sent">"This browser"</span> })}</td>
                                                <td>{s.address.clone()}</td>
                                                <td>{crate::time_fmt::utc_minutes(s.created_at)}</td>
                                                <td>{crate::time_fmt::utc_minutes(s.last_used_at)}</td>
                                                <td class="actions">
                                                    {(!s.current).then(|| view! {
                                                        <button class="danger" aria-label=label on:click=move |_| { end.dispatch(EndSession { handle: handle.clone() }); }>"End"</button>
                                                    })}
                                                </td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                        Err(e) => view! { <p role="alert" class="form-error">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
            <ActionForm action=everywhere>
                <button type="submit" class="danger">"Sign out everywhere"</button>
            </ActionForm>
            <p class="note">"Sessions also end after a time without use (the Settings page says how long)."</p>
        </section>
    }
}

#[component]
pub fn ProfilePage() -> impl IntoView {
    let me = Resource::new(|| (), |_| who_am_i());
    view! {
        <Frame>
            <h1>"Your account"</h1>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match me.await {
                        Ok(me) => view! {
                            <p class="muted">"Signed in as " <strong>{me.username.clone()}</strong> " · " {me.role.label()}</p>
                            <PasswordSection has_password=me.has_password/>
                        }.into_any(),
                        Err(e) => view! { <p role="alert" class="form-error">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
            <SessionsSection/>
        </Frame>
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn browsers_are_named_in_a_few_words() {
        let chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36";
        assert_eq!(super::browser_name(chrome), "Chrome on Linux");
        assert_eq!(super::browser_name(""), "Unknown browser");
        assert_eq!(super::browser_name("curl/8.0"), "curl");
    }
}
