//! Server functions behind the subscriber view at `/try` (a plain page in `public/try`, using
//! the client library, not a Leptos page): a test UserSig for the platform owner to hand to a
//! test user, the app's SDKAppID, and the one post renderer.

use crate::error::ConsoleError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestUserSig {
    pub sdk_app_id: u64,
    pub user_sig: String,
}

/// A day.
#[cfg(feature = "ssr")]
const TEST_USERSIG_SECS: i64 = 86_400;

/// A UserSig (valid a day) for `user_id`, importing the user if needed. Only the platform owner
/// may mint one: it is signed with the app's secret key.
#[server(endpoint = "try_usersig", output = crate::codec::Json)]
pub async fn try_usersig(user_id: String) -> Result<TestUserSig, ConsoleError> {
    let (state, user) = crate::ssr::allowed(messaging::Action::ManageApp, None).await?;
    let id = messaging::UserId::parse("User ID", user_id.trim()).map_err(messaging::Error::from)?;
    let m = &state.messaging;
    if !m.user_exists(&id).await? {
        m.import_user(&messaging::NewUser::bare(id.clone())).await?;
    }
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
    tracing::info!(console_user = %user.username, test_user = %id, "minted a test UserSig on /try");
    Ok(TestUserSig {
        sdk_app_id: state.messaging.sdkappid(),
        user_sig: messaging::usersig::sign(state.messaging.sdkappid(), &state.messaging.secret_key(), id.as_str(), TEST_USERSIG_SECS, now),
    })
}

/// The app's SDKAppID (public: every client sends it), for a UserSig pasted on `/try`.
#[server(endpoint = "try_sdkappid", output = crate::codec::Json)]
pub async fn try_sdkappid() -> Result<u64, ConsoleError> {
    Ok(crate::ssr::state()?.messaging.sdkappid())
}

/// A message body (Tencent elements as JSON) as HTML, by the renderer the composer's preview and
/// the console's sent posts use: a post made in the composer renders as a post, anything else as
/// its elements. Open to anyone (it reads and stores nothing); bounded like a message.
#[server(endpoint = "try_render", output = crate::codec::Json)]
pub async fn try_render(msg_body: String) -> Result<String, ConsoleError> {
    use messaging::post::{render_content, render_elements, PostContent, PostWire};
    if msg_body.len() > 2 * messaging::message::MESSAGE_MAX_BYTES {
        return Err(ConsoleError::Refused("The message is too large to show.".into()));
    }
    let body: serde_json::Value =
        serde_json::from_str(&msg_body).map_err(|_| ConsoleError::Refused("The message body is not JSON.".into()))?;
    Ok(match PostContent::from_msg_body(&body) {
        PostWire::Post(post) => render_content(&post),
        PostWire::Elements(elements) => render_elements(&elements),
    })
}
