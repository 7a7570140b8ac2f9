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
