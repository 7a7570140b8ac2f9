//! **Settings** (platform owner): the app's REST identity and key rotation, the editable app
//! settings (hooks, quotas, session inactivity) with a test callback, failed deliveries.
//! Values given in the environment win and are shown as such, not editable.

use super::layout::Frame;
use crate::error::ConsoleError;
use leptos::prelude::*;
use messaging::{SettingField, SettingsView};
use serde::{Deserialize, Serialize};

/// What the page shows of the REST identity. The secret key is not here: it reaches a page
/// only through [`reveal_secret_key`], never in server-rendered hydration data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RestSettings {
    pub sdkappid: u64,
    pub admin_identifier: String,
    pub from_environment: bool,
    /// Until when UserSigs signed with the previous key still work, after a rotation.
    pub previous_key_until: Option<i64>,
    pub app: SettingsView,
}

#[cfg(feature = "ssr")]
async fn platform_owner() -> Result<(crate::ssr::ConsoleState, messaging::ConsoleUser), ConsoleError> {
    crate::ssr::allowed(messaging::Action::ManageApp, None).await
}

/// The REST identity without its secret, and the app settings in force (platform owner).
#[server(endpoint = "get_rest_settings", output = crate::codec::Json)]
pub async fn get_rest_settings() -> Result<RestSettings, ConsoleError> {
    let (state, _) = platform_owner().await?;
    let identity = state.messaging.identity();
    Ok(RestSettings {
        sdkappid: identity.sdkappid,
        admin_identifier: state.admin_identifier.clone(),
        from_environment: identity.from_environment,
        previous_key_until: identity.previous_key_until,
        app: state.messaging.settings_view(),
    })
}

/// The secret key, on the platform owner's explicit request (the **Show** button); logged and
/// audited.
#[server(endpoint = "reveal_secret_key", output = crate::codec::Json)]
pub async fn reveal_secret_key() -> Result<String, ConsoleError> {
    let (state, user) = platform_owner().await?;
    let client = crate::ssr::client_address().await;
    tracing::warn!(username = ?user.username, client, "the secret key was revealed in the console");
    state.messaging.audit(messaging::audit::AuditAction::SecretKeyRevealed, None, "shown on the Settings page").await?;
    Ok(state.messaging.secret_key())
}

/// A new secret key; the old one keeps working for `grace_hours`. Answers the new key (shown
/// once).
#[server(endpoint = "rotate_secret_key", output = crate::codec::Json)]
pub async fn rotate_secret_key(grace_hours: String) -> Result<String, ConsoleError> {
    let (state, user) = platform_owner().await?;
    let grace: i64 =
        grace_hours.trim().parse().map_err(|_| messaging::Error::from(messaging::InvalidField::new("grace", "a number of hours")))?;
    let key = state.messaging.rotate_secret_key(grace.saturating_mul(3600)).await?;
    tracing::warn!(by = %user.username, grace_hours = grace, "the secret key was rotated");
    Ok(key)
}

/// A number field of the form, or the refusal naming it.
#[cfg(feature = "ssr")]
fn number(field: SettingField, text: &str) -> Result<u32, ConsoleError> {
    let (min, max) = field.range();
    text.trim().parse().map_err(|_| {
        messaging::Error::from(messaging::InvalidField::new(field.name(), format!("a whole number from {min} to {max}"))).into()
    })
}

/// The Settings form as the browser posts it (`form[webhook_url]`, …): each field as typed;
/// [`save_app_settings`] parses it into `messaging`'s settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SettingsForm {
    pub webhook_url: String,
    /// Empty keeps the secret that is set.
    pub webhook_secret: String,
    pub push_url: String,
    pub broadcasts_per_second: String,
    pub broadcasts_per_hour: String,
    pub rest_calls_per_second: String,
    pub session_idle_hours: String,
    /// Absent (an older form): the setting in force stays.
    #[serde(default)]
    pub edit_window_days: String,
}

/// The name a setting's input posts under: a field of [`SettingsForm`].
fn form_name(field: SettingField) -> String {
    format!("form[{}]", field.name())
}

/// Stores the app settings from the form; an empty webhook secret keeps the one set.
#[server(endpoint = "save_app_settings", output = crate::codec::Json)]
pub async fn save_app_settings(form: SettingsForm) -> Result<(), ConsoleError> {
    let (state, user) = platform_owner().await?;
    let url = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    let change = messaging::SettingsChange {
        values: messaging::AppSettings {
            webhook_url: url(&form.webhook_url),
            push_url: url(&form.push_url),
            broadcasts_per_second: number(SettingField::BroadcastsPerSecond, &form.broadcasts_per_second)?,
            broadcasts_per_hour: number(SettingField::BroadcastsPerHour, &form.broadcasts_per_hour)?,
            rest_calls_per_second: number(SettingField::RestCallsPerSecond, &form.rest_calls_per_second)?,
            session_idle_hours: number(SettingField::SessionIdleHours, &form.session_idle_hours)?,
            edit_window_days: match form.edit_window_days.trim() {
                "" => state.messaging.settings().edit_window_days,
                days => number(SettingField::EditWindowDays, days)?,
            },
        },
        webhook_secret: Some(form.webhook_secret).filter(|s| !s.is_empty()),
    };
    state.messaging.save_settings(&change).await?;
    tracing::info!(by = %user.username, "app settings changed in the console");
    Ok(())
}

/// Sends a test callback to the webhook URL in force.
#[server(endpoint = "send_test_callback", output = crate::codec::Json)]
pub async fn send_test_callback() -> Result<messaging::app_settings::TestCallback, ConsoleError> {
    let (state, _) = platform_owner().await?;
    Ok(state.messaging.send_test_callback().await?)
}

/// A webhook event or push job Herald gave up on (see README, Webhooks).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailedDelivery {
    pub what: String,
    pub attempts: i64,
    pub given_up_at: i64,
}

/// Deliveries given up on, newest first (platform owner).
#[server(endpoint = "failed_deliveries", output = crate::codec::Json)]
pub async fn failed_deliveries() -> Result<Vec<FailedDelivery>, ConsoleError> {
    let (state, _) = platform_owner().await?;
    let (webhooks, pushes) = state.messaging.dead_letters().await?;
    let mut all: Vec<FailedDelivery> = webhooks
        .into_iter()
        .map(|w| FailedDelivery {
            what: format!("Webhook {} (event {})", w.command, w.event_id),
            attempts: w.attempts,
            given_up_at: w.dead_at,
        })
        .chain(pushes.into_iter().map(|p| FailedDelivery {
            what: format!("Offline push of message {} of {} (job {}, {} batches sent)", p.seq, p.account_id, p.job_id, p.batches_sent),
            attempts: p.attempts,
            given_up_at: p.dead_at,
        }))
        .collect();
    all.sort_by_key(|f| std::cmp::Reverse(f.given_up_at));
    Ok(all)
}

/// Queues every failed delivery again; answers how many.
#[server(endpoint = "retry_failed_deliveries", output = crate::codec::Json)]
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

/// A setting's label on the page (refusals name the field by it too).
fn field_label(field: SettingField) -> &'static str {
    match field {
        SettingField::WebhookUrl => "Webhook URL",
        SettingField::WebhookSecret => "Webhook secret",
        SettingField::PushUrl => "Push URL",
        SettingField::BroadcastsPerSecond => "Broadcasts per second (per account)",
        SettingField::BroadcastsPerHour => "Broadcasts per hour (per account)",
        SettingField::RestCallsPerSecond => "REST calls per second (per command)",
        SettingField::SessionIdleHours => "Console sessions end after this many idle hours",
        SettingField::EditWindowDays => "Sent posts can be edited for this many days (0: never)",
    }
}

/// One field of the app settings form: editable, or the environment's value with a note.
#[component]
fn SettingInput(
    field: SettingField,
    label: &'static str,
    value: String,
    /// Where the server was given it (an environment variable), when it was.
    env: Option<String>,
    #[prop(optional)] kind: &'static str,
    #[prop(optional)] hint: String,
) -> impl IntoView {
    let id = format!("setting-{}", field.name());
    let kind = if kind.is_empty() { "text" } else { kind };
    let (min, max) = field.range();
    let numeric = kind == "number";
    // A disabled field is not submitted: the value in force goes along hidden, so the save
    // keeps it (the server refuses any other value for a field the environment decides).
    let kept = value.clone();
    view! {
        <label for=id.clone()>{label}</label>
        <input id=id type=kind name=form_name(field) value=value disabled=env.is_some()
            min=numeric.then(|| min.to_string()) max=numeric.then(|| max.to_string()) placeholder=hint/>
        {env.clone().map(|variable| view! { <p class="note">"Set by " <code>{variable}</code> "; change it there."</p> })}
        {env.map(|_| view! { <input type="hidden" name=form_name(field) value=kept/> })}
    }
}

#[component]
fn AppSettingsForm(view: SettingsView, saved: ServerAction<SaveAppSettings>) -> impl IntoView {
    let v = view.values.clone();
    let env = |f: SettingField| view.from_environment.iter().find(|e| e.field == f).map(|e| e.variable.clone());
    // A field the environment decides is sent as what is in force (the server checks it).
    let in_force = move |f: SettingField| -> String {
        match f {
            SettingField::WebhookUrl => v.webhook_url.clone().unwrap_or_default(),
            SettingField::PushUrl => v.push_url.clone().unwrap_or_default(),
            SettingField::WebhookSecret => String::new(),
            n => v.number(n).to_string(),
        }
    };
    let result = move || match saved.value().get() {
        Some(Ok(())) => Some(("status", "Saved. Every server node applies it now.".to_string())),
        Some(Err(e)) => Some((
            "alert",
            SettingField::ALL
                .iter()
                .find_map(|f| e.message_for(f.name()).map(|m| format!("{}: {m}", field_label(*f))))
                .unwrap_or_else(|| e.to_string()),
        )),
        None => None,
    };
    let secret_hint = if view.webhook_secret_set { "set; type a new one to replace it".to_string() } else { "not set".to_string() };
    let inputs = SettingField::ALL
        .into_iter()
        .map(|f| {
            let label = field_label(f);
            let (kind, hint) = match f {
                SettingField::WebhookUrl | SettingField::PushUrl => ("url", String::new()),
                SettingField::WebhookSecret => ("password", secret_hint.clone()),
                _ => ("number", String::new()),
            };
            let env = env(f);
            let value = in_force(f); // the secret is never sent back: empty
            view! { <SettingInput field=f label=label value=value env=env kind=kind hint=hint/> }
        })
        .collect_view();
    view! {
        <ActionForm action=saved attr:class="settings-form">
            {inputs}
            <p role=move || result().map(|(r, _)| r).unwrap_or("status") class="form-result">{move || result().map(|(_, m)| m)}</p>
            <button type="submit" class="primary">"Save settings"</button>
        </ActionForm>
    }
}

#[component]
fn TestCallbackButton() -> impl IntoView {
    let test = ServerAction::<SendTestCallback>::new();
    let outcome = move || match test.value().get() {
        Some(Ok(t)) => Some(match (t.status, t.error) {
            (Some(status), _) => format!("The endpoint answered HTTP {status} in {} ms.", t.millis),
            (None, Some(why)) => format!("No answer: {why} (after {} ms).", t.millis),
            _ => format!("No answer (after {} ms).", t.millis),
        }),
        Some(Err(e)) => Some(e.message_for("webhook_url").map(|m| format!("Webhook URL: {m}")).unwrap_or_else(|| e.to_string())),
        None => None,
    };
    view! {
        <button type="button" on:click=move |_| { test.dispatch(SendTestCallback {}); } disabled=move || test.pending().get()>
            "Send test callback"
        </button>
        <p role="status" class="test-callback">{move || if test.pending().get() { Some("Sending…".to_string()) } else { outcome() }}</p>
    }
}

#[component]
fn RotateKey(previous_key_until: Option<i64>, from_environment: bool) -> impl IntoView {
    let rotate = ServerAction::<RotateSecretKey>::new();
    let new_key = move || {
        match rotate.value().get() {
        Some(Ok(key)) => Some(view! {
            <div role="status" class="notice">
                <p>"The new secret key. It is shown once: copy it now into your back end."</p>
                <code class="new-key">{key}</code>
            </div>
        }.into_any()),
        Some(Err(e)) => Some(view! { <p role="alert" class="form-error">{e.message_for("grace").or_else(|| e.message_for("secret_key")).unwrap_or_else(|| e.to_string())}</p> }.into_any()),
        None => None,
    }
    };
    if from_environment {
        return view! { <p class="note">"The key is set by HERALD_SECRET_KEY: rotate it there."</p> }.into_any();
    }
    view! {
        {previous_key_until.map(|until| view! {
            <p class="note">"UserSigs signed with the previous key work until " {crate::time_fmt::utc_minutes(until)} "."</p>
        })}
        <ActionForm action=rotate attr:class="rotate">
            <label for="grace">"The old key keeps working for"</label>
            <select id="grace" name="grace_hours">
                <option value="0">"no time (stop at once)"</option>
                <option value="1">"1 hour"</option>
                <option value="24" selected>"24 hours"</option>
                <option value="168">"7 days"</option>
            </select>
            <button type="submit">"Rotate secret key"</button>
        </ActionForm>
        {new_key}
    }
    .into_any()
}

#[component]
pub fn SettingsPage() -> impl IntoView {
    let saved = ServerAction::<SaveAppSettings>::new();
    let settings = Resource::new(move || saved.version().get(), |_| get_rest_settings());
    let reveal = ServerAction::<RevealSecretKey>::new();
    let revealed = RwSignal::new(false);
    let key_text = move || match (revealed.get(), reveal.value().get()) {
        (true, Some(Ok(key))) => key,
        (true, Some(Err(e))) => e.to_string(),
        _ => "•".repeat(16),
    };
    let toggle_key = move |_| {
        if !revealed.get_untracked() {
            reveal.dispatch(RevealSecretKey {});
        }
        revealed.update(|r| *r = !*r);
    };
    view! {
        <Frame>
            <h1>"Settings"</h1>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match settings.await {
                        Ok(s) => {
                            view! {
                                <section aria-labelledby="rest-title">
                                    <h2 id="rest-title">"REST API identity"</h2>
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
                                    <RotateKey previous_key_until=s.previous_key_until from_environment=s.from_environment/>
                                </section>
                                <section aria-labelledby="app-title">
                                    <h2 id="app-title">"Hooks and limits"</h2>
                                    <p class="note">"Kept in the database and applied on every server node without a restart."</p>
                                    <AppSettingsForm view=s.app.clone() saved=saved/>
                                    <TestCallbackButton/>
                                </section>
                            }
                            .into_any()
                        }
                        Err(e) => view! { <p role="alert" class="form-error">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
            <FailedDeliveries/>
            <p class="note">"Your password and your sessions are on " <a href="/profile">"Your account"</a> "."</p>
        </Frame>
    }
}
