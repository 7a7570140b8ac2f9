//! **Settings** (platform owner): the app's REST identity and the owner's password.

use super::layout::Frame;
use crate::error::ConsoleError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What the page shows of the REST identity. The secret key is not here: it reaches a page
/// only through [`reveal_secret_key`], never in server-rendered hydration data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RestSettings {
    pub sdkappid: u64,
    pub admin_identifier: String,
    pub from_environment: bool,
    /// Whether the signed-in user has a password (then a change asks for it).
    pub has_password: bool,
}

#[cfg(feature = "ssr")]
async fn platform_owner() -> Result<(crate::ssr::ConsoleState, messaging::ConsoleUser), ConsoleError> {
    crate::ssr::allowed(messaging::Action::ManageApp, None).await
}

/// The REST identity without its secret, for the platform owner only.
#[server(endpoint = "get_rest_settings")]
pub async fn get_rest_settings() -> Result<RestSettings, ConsoleError> {
    let (state, user) = platform_owner().await?;
    Ok(RestSettings {
        sdkappid: state.identity.sdkappid,
        admin_identifier: state.admin_identifier.clone(),
        from_environment: state.identity.from_environment,
        has_password: state.messaging.has_console_password(&user.username).await?,
    })
}

/// The secret key, on the platform owner's explicit request (the **Show** button); logged.
#[server(endpoint = "reveal_secret_key")]
pub async fn reveal_secret_key() -> Result<String, ConsoleError> {
    let (state, user) = platform_owner().await?;
    let client = crate::ssr::client_address().await;
    tracing::warn!(username = ?user.username, client, "the secret key was revealed in the console");
    Ok(state.identity.secret_key.clone())
}

/// Changes the signed-in user's password; asks for the current one when there is one.
#[server(endpoint = "change_password")]
pub async fn change_password(current_password: String, password: String) -> Result<(), ConsoleError> {
    let (state, user) = crate::ssr::signed_in().await?;
    let client = crate::ssr::client_address().await;
    state.messaging.change_console_password(&user.username, &current_password, &password, &client).await?;
    Ok(())
}

/// A webhook event or push job Herald gave up on (see README, Webhooks).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailedDelivery {
    pub what: String,
    pub attempts: i64,
    pub given_up_at: i64,
}

/// Deliveries given up on, newest first (platform owner).
#[server(endpoint = "failed_deliveries")]
pub async fn failed_deliveries() -> Result<Vec<FailedDelivery>, ConsoleError> {
    let (state, _) = platform_owner().await?;
    let (webhooks, pushes) = state.messaging.dead_letters().await?;
    let mut all: Vec<FailedDelivery> = webhooks
        .into_iter()
        .map(|w| FailedDelivery { what: format!("Webhook {} (event {})", w.command, w.event_id), attempts: w.attempts, given_up_at: w.dead_at })
        .chain(pushes.into_iter().map(|p| FailedDelivery {
            what: format!("Offline push of message {} of {} (job {}, {} batches sent)", p.seq, p.account_id, p.job_id, p.batches_sent),
            attempts: p.attempts,
            given_up_at: p.dead_at,
        }))
        .collect();
    all.sort_by(|a, b| b.given_up_at.cmp(&a.given_up_at));
    Ok(all)
}

/// Queues every failed delivery again; answers how many.
#[server(endpoint = "retry_failed_deliveries")]
pub async fn retry_failed_deliveries() -> Result<u64, ConsoleError> {
    let (state, user) = platform_owner().await?;
    let n = state.messaging.retry_dead_letters().await?;
    tracing::info!(by = %user.username, n, "failed deliveries queued again from the console");
    Ok(n)
}

#[component]
fn FailedDeliveries() -> impl IntoView {
    let retry = ServerAction::<RetryFailedDeliveries>::new();
    let list = Resource::new(move || retry.version().get(), |_| failed_deliveries());
    view! {
        <section aria-labelledby="failed-title">
            <h2 id="failed-title">"Failed deliveries"</h2>
            <p class="note">"Webhook events and offline pushes the receiver kept refusing. Later ones were delivered; these wait here until you retry them."</p>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match list.await {
                        Ok(items) if items.is_empty() => view! { <p>"None."</p> }.into_any(),
                        Ok(items) => view! {
                            <table>
                                <thead><tr><th>"What"</th><th>"Attempts"</th><th>"Given up"</th></tr></thead>
                                <tbody>
                                    {items.into_iter().map(|f| view! {
                                        <tr><td>{f.what}</td><td>{f.attempts}</td><td>{crate::time_fmt::utc_minutes(f.given_up_at)}</td></tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                            <button on:click=move |_| { retry.dispatch(RetryFailedDeliveries {}); }>"Retry all"</button>
                        }.into_any(),
                        Err(e) => view! { <p role="alert" class="form-error">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
pub fn SettingsPage() -> impl IntoView {
    let settings = Resource::new(|| (), |_| get_rest_settings());
    let reveal = ServerAction::<RevealSecretKey>::new();
    let revealed = RwSignal::new(false);
    let change = ServerAction::<ChangePassword>::new();
    let password_result = move || match change.value().get() {
        Some(Ok(())) => Some("Password changed.".to_string()),
        Some(Err(e)) => Some(
            e.message_for("password")
                .or_else(|| e.message_for("current_password").map(|m| format!("Current password: {m}")))
                .unwrap_or_else(|| e.to_string()),
        ),
        None => None,
    };
    let key_text = move || match (revealed.get(), reveal.value().get()) {
        (true, Some(Ok(key))) => key,
        (true, Some(Err(e))) => e.to_string(),
        _ => "•".repeat(16),
    };
    let toggle_key = move |_| {
        if !revealed.get_untracked() && reveal.value().get_untracked().is_none() {
            reveal.dispatch(RevealSecretKey {});
        }
        revealed.update(|r| *r = !*r);
    };
    let has_password = move || settings.get().and_then(|s| s.ok()).map(|s| s.has_password).unwrap_or(true);
    view! {
        <Frame>
            <h1>"Settings"</h1>
            <section aria-labelledby="rest-title">
                <h2 id="rest-title">"REST API identity"</h2>
                <Transition fallback=|| view! { <p>"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match settings.await {
                            Ok(s) => {
                                view! {
                                    <dl class="settings">
                                        <dt>"SDKAppID"</dt><dd><code>{s.sdkappid}</code></dd>
                                        <dt>"Administrator identifier"</dt><dd><code>{s.admin_identifier.clone()}</code></dd>
                                        <dt>"Secret key"</dt>
                                        <dd>
                                            <code>{key_text}</code>
                                            " "
                                            <button on:click=toggle_key>
                                                {move || if revealed.get() { "Hide" } else { "Show" }}
                                            </button>
                                        </dd>
                                    </dl>
                                    <p class="note">
                                        {if s.from_environment {
                                            "Set by HERALD_SDKAPPID and HERALD_SECRET_KEY."
                                        } else {
                                            "Generated on first start and kept in the database. Set HERALD_SDKAPPID and HERALD_SECRET_KEY to choose your own."
                                        }}
                                    </p>
                                }
                                .into_any()
                            }
                            Err(e) => view! { <p role="alert" class="form-error">{e.to_string()}</p> }.into_any(),
                        }
                    })}
                </Transition>
            </section>
            <FailedDeliveries/>
            <section aria-labelledby="password-title">
                <h2 id="password-title">"Your password"</h2>
                <ActionForm action=change>
                    <Show when=has_password fallback=|| view! { <input type="hidden" name="current_password" value=""/> }>
                        <label for="current-password">"Current password"</label>
                        <input id="current-password" name="current_password" type="password" autocomplete="current-password" required/>
                    </Show>
                    <label for="new-password">"New password"</label>
                    <input id="new-password" name="password" type="password" autocomplete="new-password" minlength="8" required/>
                    <p role="status">{password_result}</p>
                    <button type="submit">"Change password"</button>
                </ActionForm>
            </section>
        </Frame>
    }
}
