//! Herald's console: pages, dialogs and the server functions they call (next to them).
//!
//! With `ssr` the server functions run on the server and call `messaging`; with `hydrate` this
//! crate compiles to WebAssembly and [`hydrate`] brings the server-rendered page to life.
//!
//! * `pages::sign_in`: sign in / sign out.
//! * `pages::accounts`: the accounts list and its create / edit / delete dialogs.
//! * `pages::settings`: the REST identity and the owner's password.

pub mod error;
mod pages;
mod time_fmt;

#[cfg(feature = "ssr")]
mod ssr;
#[cfg(feature = "ssr")]
pub use ssr::{session_user, start_session, ConsoleState};

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::components::{Redirect, Route, Router, Routes};
use leptos_router::path;

/// The HTML document around the app (server side only).
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <link rel="stylesheet" href="/pkg/herald.css"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Title text="Herald"/>
        <Router>
            <Routes fallback=|| view! { <main class="page"><h1>"Page not found"</h1><a href="/accounts">"Official accounts"</a></main> }>
                <Route path=path!("/") view=|| view! { <Redirect path="/accounts"/> }/>
                <Route path=path!("/login") view=pages::sign_in::SignInPage/>
                <Route path=path!("/accounts") view=pages::accounts::AccountsPage/>
                <Route path=path!("/settings") view=pages::settings::SettingsPage/>
            </Routes>
        </Router>
    }
}

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
}
