//! Signing in and out of the console.

use crate::error::ConsoleError;
use leptos::prelude::*;

/// Checks the password, starts a session and goes to the accounts page.
#[server(endpoint = "sign_in", output = crate::codec::Json)]
pub async fn sign_in(username: String, password: String) -> Result<(), ConsoleError> {
    let state = crate::ssr::state()?;
    let client = crate::ssr::client_address().await;
    let user = state.messaging.console().sign_in(username.trim(), &password, &client).await?;
    crate::ssr::start_session_here(&user, "password").await?;
    leptos_axum::redirect("/accounts");
    Ok(())
}

/// Ends the session (its console session row and the cookie's record) and goes to the sign-in
/// page.
#[server(output = crate::codec::Json)]
pub async fn sign_out() -> Result<(), ConsoleError> {
    if let Ok((state, signed_in)) = crate::ssr::signed_in_session().await {
        state.messaging.console().close_console_session(&signed_in.session_id).await?;
    }
    let session = crate::ssr::session().await?;
    session.flush().await.map_err(|e| ConsoleError::Server(e.to_string()))?;
    leptos_axum::redirect("/login");
    Ok(())
}

#[component]
pub fn SignInPage() -> impl IntoView {
    let action = ServerAction::<SignIn>::new();
    let error = move || action.value().get().and_then(|r| r.err()).map(|e| e.to_string());
    view! {
        <main class="sign-in">
            <h1>"Sign in to Herald"</h1>
            <ActionForm action=action>
                <label for="username">"User name"</label>
                <input id="username" name="username" autocomplete="username" required value="admin"/>
                <label for="password">"Password"</label>
                <input id="password" name="password" type="password" autocomplete="current-password" required/>
                <p class="form-error" role="alert">{error}</p>
                <button type="submit" disabled=move || action.pending().get()>"Sign in"</button>
            </ActionForm>
        </main>
    }
}
