//! A sent post's life after publishing (docs/rest-api.md §9): editing it within the edit window, with
//! every version kept, and pinning one post per account. Polls, the third part of §8, are an area
//! of their own (`polls`).
//!
//! Both change a stored broadcast in place, so what every reader sees changes without a new
//! message: an edit never notifies, pushes or moves unread counts; connected clients hear
//! `onRecvMessageModified` and history returns the current body with its version. They are
//! methods of `Messaging` because they go through the same webhooks, account checks and audit
//! log as sending.

mod edits;
mod pins;

pub use edits::{Edited, PostVersion};
