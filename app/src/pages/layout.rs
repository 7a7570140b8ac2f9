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
    // Below 720 px the links fold into a Menu button (style/main.css); Escape or a tap outside
    // the bar closes it, and Escape gives the focus back to the button.
    let open = RwSignal::new(false);
    let menu_button = NodeRef::<leptos::html::Button>::new();
    let escape = window_event_listener(leptos::ev::keydown, move |ev| {
        if open.try_get_untracked() == Some(true) && ev.key() == "Escape" {
            open.set(false);
            if let Some(button) = menu_button.get_untracked() {
                let _ = button.focus();
            }
        }
    });
    let outside = window_event_listener(leptos::ev::click, move |ev| {
        #[cfg(feature = "hydrate")]
        {
            use leptos::wasm_bindgen::JsCast;
            let inside = ev
                .target()
                .and_then(|t| t.dyn_into::<leptos::web_sys::Element>().ok())
                .and_then(|e| e.closest(".topbar").ok().flatten())
                .is_some();
            if open.try_get_untracked() == Some(true) && !inside {
                open.set(false);
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    });
    // The listeners are the window's: they go with this page, not after its signals.
    on_cleanup(move || {
        escape.remove();
        outside.remove();
    });
    view! {
        <header class="topbar">
            <a class="brand" href="/accounts">"Herald"</a>
            <button type="button" class="menu-button" node_ref=menu_button aria-controls="main-menu"
                aria-expanded=move || open.get().to_string() on:click=move |_| open.update(|o| *o = !*o)>
                "Menu"
            </button>
            <div id="main-menu" class="menu" class:open=move || open.get()>
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
            </div>
        </header>
        <main class="page">{children()}</main>
    }
}
