//! The frame around signed-in pages: navigation (only what the user's role may open) and the
//! sign-out button.

use crate::pages::profile::who_am_i;
use crate::pages::sign_in::SignOut;
use leptos::prelude::*;

#[component]
pub fn Frame(children: Children) -> impl IntoView {
    let sign_out = ServerAction::<SignOut>::new();
    let me = Resource::new(|| (), |_| who_am_i());
    let owner = move || me.get().and_then(Result::ok).is_some_and(|m| m.role == messaging::Role::PlatformOwner);
    // Every page asks who is signed in: a session that ended meanwhile (signed out elsewhere,
    // disabled, idle too long) goes to the sign-in page at the next click, even one the router
    // handles without a page load.
    Effect::new(move |_| {
        if let Some(Err(crate::error::ConsoleError::SignedOut)) = me.get() {
            #[cfg(feature = "hydrate")]
            let _ = window().location().set_href("/login");
        }
    });
    view! {
        <header class="topbar">
            <a class="brand" href="/accounts">"Herald"</a>
            <nav aria-label="Main">
                <a href="/accounts">"Official accounts"</a>
                <Transition fallback=|| ()>
                    {move || owner().then(|| view! {
                        <a href="/settings">"Settings"</a>
                        <a href="/settings/users">"Users"</a>
                        <a href="/settings/audit">"Audit log"</a>
                    })}
                </Transition>
                <a href="/profile">"Your account"</a>
            </nav>
            <ActionForm action=sign_out attr:class="sign-out">
                <button type="submit">"Sign out"</button>
            </ActionForm>
        </header>
        <main class="page">{children()}</main>
    }
}
