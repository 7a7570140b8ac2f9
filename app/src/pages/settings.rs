//! **Settings** (platform owner): the app's REST identity and the owner's password.

use super::layout::Frame;
use crate::error::ConsoleError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RestSettings {
    pub sdkappid: u64,
    pub secret_key: String,
    pub admin_identifier: String,
    pub from_environment: bool,
}

/// The REST identity, for the platform owner only (the secret key signs admin UserSigs).
#[server]
pub async fn get_rest_settings() -> Result<RestSettings, ConsoleError> {
    let (state, user) = crate::ssr::signed_in().await?;
    if !user.is_platform_owner() {
        return Err(ConsoleError::Forbidden("Only the platform owner can see the REST settings.".into()));
    }
    Ok(RestSettings {
        sdkappid: state.identity.sdkappid,
        secret_key: state.identity.secret_key.clone(),
        admin_identifier: state.admin_identifier.clone(),
        from_environment: state.identity.from_environment,
    })
}

#[server]
pub async fn change_password(password: String) -> Result<(), ConsoleError> {
    let (state, user) = crate::ssr::signed_in().await?;
    state.messaging.set_console_password(&user.username, &password).await?;
    Ok(())
}

#[component]
pub fn SettingsPage() -> impl IntoView {
    let settings = Resource::new(|| (), |_| get_rest_settings());
    let revealed = RwSignal::new(false);
    let change = ServerAction::<ChangePassword>::new();
    let password_result = move || match change.value().get() {
        Some(Ok(())) => Some("Password changed.".to_string()),
        Some(Err(e)) => Some(e.message_for("password").unwrap_or_else(|| e.to_string())),
        None => None,
    };
    view! {
        <Frame>
            <h1>"Settings"</h1>
            <section aria-labelledby="rest-title">
                <h2 id="rest-title">"REST API identity"</h2>
                <Transition fallback=|| view! { <p>"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match settings.await {
                            Ok(s) => {
                                let key = s.secret_key.clone();
                                view! {
                                    <dl class="settings">
                                        <dt>"SDKAppID"</dt><dd><code>{s.sdkappid}</code></dd>
                                        <dt>"Administrator identifier"</dt><dd><code>{s.admin_identifier.clone()}</code></dd>
                                        <dt>"Secret key"</dt>
                                        <dd>
                                            <code>{move || if revealed.get() { key.clone() } else { "•".repeat(16) }}</code>
                                            " "
                                            <button on:click=move |_| revealed.update(|r| *r = !*r)>
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
            <section aria-labelledby="password-title">
                <h2 id="password-title">"Your password"</h2>
                <ActionForm action=change>
                    <label for="new-password">"New password"</label>
                    <input id="new-password" name="password" type="password" autocomplete="new-password" minlength="8" required/>
                    <p role="status">{password_result}</p>
                    <button type="submit">"Change password"</button>
                </ActionForm>
            </section>
        </Frame>
    }
}
