#![recursion_limit = "512"]
//! Herald's console: pages, dialogs and the server functions they call (next to them).
//!
//! With `ssr` the server functions run on the server and call `messaging`; with `hydrate` this
//! crate compiles to WebAssembly (through the `frontend` crate) and [`hydrate`] brings the
//! server-rendered page to life.
//!
//! * `pages::sign_in`: sign in / sign out.
//! * `pages::accounts`: the accounts list and its create / edit / delete dialogs.
//! * `pages::account`: one account's head and tabs; `pages::posts`, `pages::composer` and
//!   `pages::subscribers` are its Posts, New post and Subscribers pages; `pages::inbox` its
//!   one-to-one conversations.
//! * `pages::dialog`: the one modal dialog (a native `<dialog>`).
//! * `pages::settings`: the REST identity, key rotation, hooks and limits; `pages::users` the
//!   team (invitations, roles, disabling) and the invitation page; `pages::audit` the audit log
//!   (platform owner). `pages::profile`: Your account (password, sessions), for everyone.
//! * `pages::insights`: the Insights tab (figures, server-made SVG charts, sortable posts table).
//! * `try_support`: server functions of the subscriber view at `/try` (a plain page, not Leptos).

mod codec;
pub mod error;
mod pages;
mod paths;
mod time_fmt;
mod try_support;

#[cfg(feature = "ssr")]
mod ssr;
#[cfg(feature = "ssr")]
pub use ssr::{resolve_session, start_session, ConsoleState, SignedIn};

/// What the server's Insights CSV downloads share with the Insights tab, so a download says
/// what the page says.
#[cfg(feature = "ssr")]
pub mod insights_tables {
    pub use crate::pages::insights::{shift_hours, zone_name, RANGES};
    pub use crate::pages::posts::kind_and_summary;
    pub use crate::time_fmt::utc_minutes;
}

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::components::{Redirect, Route, Router, Routes};
use leptos_router::path;

/// Console pages reachable signed out; every other page needs a signed-in user. The server's
/// sign-in guard asks [`is_protected_page`], so this list and the routes below are the one
/// source. (Server functions: [`is_public_server_fn`].)
const PUBLIC_PAGES: &[&str] = &["/login", "/try"];
/// Public pages under these paths: invitation links (`/invite/{token}`).
const PUBLIC_PAGE_PREFIXES: &[&str] = &["/invite/"];

/// Paths that are not console pages at all: assets, the REST API, server functions, links.
const NOT_PAGES: &[&str] = &[
    "/pkg/",
    "/api/",
    "/v4/",
    "/v1/",
    "/try/",
    "/sign-in/",
    "/media/",
    "/healthz",
    "/favicon.svg",
    "/manifest.webmanifest",
    "/icon-192.png",
    "/icon-512.png",
    "/apple-touch-icon.png",
];

/// Whether `path` is a console page that needs a signed-in user (prefix-based: any page under
/// a protected one is protected too, and unknown pages are protected rather than open).
pub fn is_protected_page(path: &str) -> bool {
    let under = |prefix: &str| path == prefix.trim_end_matches('/') || path.starts_with(prefix);
    !PUBLIC_PAGES.contains(&path) && !PUBLIC_PAGE_PREFIXES.iter().any(|p| path.starts_with(p)) && !NOT_PAGES.iter().any(|p| under(p))
}

/// Whether `path` is a server function anyone may call signed out: signing in and out,
/// accepting an invitation (and rating its password), and the `/try` page's public helpers.
/// The server refuses every other server function with 401 before its arguments are read, so
/// a function cannot be left open by forgetting to ask who is calling.
#[cfg(feature = "ssr")]
pub fn is_public_server_fn(path: &str) -> bool {
    use leptos::server_fn::ServerFn;
    [
        pages::sign_in::SignIn::PATH,
        pages::sign_in::SignOut::PATH,
        pages::users::AcceptInvitation::PATH,
        pages::users::RateNewPassword::PATH,
        try_support::TrySdkappid::PATH,
        try_support::TryRender::PATH,
    ]
    .contains(&path)
}

/// The Content-Security-Policy of console pages: scripts only from this origin or with this
/// page's nonce (the hydration script), WebAssembly compiled from this origin, no framing.
pub fn content_security_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' https: data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    )
}

/// The HTML document around the app (server side only).
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let (Some(nonce), Some(response)) = (leptos::nonce::use_nonce(), use_context::<leptos_axum::ResponseOptions>()) {
        if let Ok(value) = http::HeaderValue::from_str(&content_security_policy(&nonce.to_string())) {
            response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
        }
    }
    let css = format!("/pkg/{}.css", options.output_name);
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <link rel="stylesheet" href=css/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <link rel="manifest" href="/manifest.webmanifest"/>
                <link rel="apple-touch-icon" href="/apple-touch-icon.png"/>
                <meta name="theme-color" content="#1d2430"/>
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
                <Route path=path!("/accounts/:id") view=pages::account::AccountPage/>
                <Route path=path!("/accounts/:id/posts") view=pages::posts::PostsPage/>
                <Route path=path!("/accounts/:id/posts/:post") view=pages::composer::PostPage/>
                <Route path=path!("/accounts/:id/posts/:post/edit") view=pages::composer::EditSentPostPage/>
                <Route path=path!("/accounts/:id/subscribers") view=pages::subscribers::SubscribersPage/>
                <Route path=path!("/accounts/:id/inbox") view=pages::inbox::InboxPage/>
                <Route path=path!("/accounts/:id/insights") view=pages::insights::InsightsPage/>
                <Route path=path!("/settings") view=pages::settings::SettingsPage/>
                <Route path=path!("/settings/users") view=pages::users::UsersPage/>
                <Route path=path!("/settings/audit") view=pages::audit::AuditPage/>
                <Route path=path!("/profile") view=pages::profile::ProfilePage/>
                <Route path=path!("/invite/:token") view=pages::users::InvitationPage/>
            </Routes>
        </Router>
    }
}

/// Brings the server-rendered page to life; the `frontend` crate exports it to JavaScript.
#[cfg(feature = "hydrate")]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
    // The page is live (its handlers are attached) once resources hydrated from the page's own
    // data have settled: mark it, so a script or a test knows when typing and clicking count.
    request_animation_frame(|| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "");
        }
    });
}
