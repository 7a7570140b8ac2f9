//! What every handler may need, in one place that `startup`, `console` and `rest` all read
//! (kept apart from `startup` so that the modules do not depend on each other in a circle).

use app::ConsoleState;
use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;
use messaging::Messaging;
use std::sync::Arc;

/// Cloning is cheap: everything inside is shared.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub messaging: Messaging,
    pub rest: Arc<crate::rest::RestIdentity>,
    pub console: ConsoleState,
    /// This node's client connections (`/v1/client`).
    pub hub: Arc<messaging::delivery::hub::Hub>,
    /// `scheme://host[:port]` browsers must send as `Origin` (HERALD_PUBLIC_URL); `None`: the
    /// request's own `Host`.
    pub public_origin: Option<Arc<str>>,
    /// The public web's settings, per-address limiter and page cache (`public`).
    pub public_web: Arc<crate::public::PublicWeb>,
    /// Set when the node stops: `/readyz` fails and client connections are refused.
    pub drain: Arc<crate::health::Drain>,
}
