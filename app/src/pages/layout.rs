//! The frame around signed-in pages: navigation and the sign-out button.

use crate::pages::sign_in::SignOut;
use leptos::prelude::*;

#[component]
pub fn Frame(children: Children) -> impl IntoView {
    let sign_out = ServerAction::<SignOut>::new();
    view! {
        <header class="topbar">
            <a class="brand" href="/accounts">"Herald"</a>
            <nav aria-label="Main">
                <a href="/accounts">"Official accounts"</a>
                <a href="/settings">"Settings"</a>
                <a href="/settings/users">"Users"</a>
            </nav>
            <ActionForm action=sign_out attr:class="sign-out">
                <button type="submit">"Sign out"</button>
            </ActionForm>
        </header>
        <main class="page">{children()}</main>
    }
}
