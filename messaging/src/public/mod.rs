//! The public web: how an account is read outside an app and how it grows (docs/public-web.md).
//!
//! An account may have a **handle** and a **public page** switch (off by default). With it on,
//! its posts can be read at `/c/{handle}`, in feeds and embeds; with it off, every public URL of
//! the account answers 404. **Invite links** are named codes (`/join/{code}`) with an optional
//! expiry and use limit; a subscription made with one counts under `link:{name}` in Insights.
//!
//! Here: the rules as pure types ([`Handle`], [`NewInviteLink`], [`InviteLink`] and its
//! [`InviteState`]), shared with the console's WebAssembly. With `backend`: [`Public`], the
//! area's handle (`pages` reads what public pages show, `invites` keeps the links).

use crate::error::InvalidField;
use serde::{Deserialize, Serialize};
use std::fmt;

#[cfg(feature = "backend")]
mod invites;
#[cfg(feature = "backend")]
mod pages;

#[cfg(feature = "backend")]
pub(crate) use invites::{count_unsubscribed, take_invite_use};
#[cfg(feature = "backend")]
pub use pages::{PostView, PublicAccount, PublicPost, PAGE_POSTS_MAX};

/// A handle is 3–32 of these.
pub const HANDLE_CHARS: &str = "a–z, 0–9, _ and -";
pub const HANDLE_MIN: usize = 3;
pub const HANDLE_MAX: usize = 32;
/// An invite link's name, in characters.
pub const INVITE_NAME_MAX: usize = 64;
/// The most links one account keeps (revoked ones included).
pub const INVITE_LINKS_MAX: i64 = 1000;

/// An account's public handle: `/c/{handle}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Handle(String);

impl Handle {
    /// `field` names the input in the refusal (`Handle`).
    pub fn parse(field: &str, text: &str) -> Result<Self, InvalidField> {
        let n = text.chars().count();
        if !(HANDLE_MIN..=HANDLE_MAX).contains(&n) {
            return Err(InvalidField::new(field, format!("must be {HANDLE_MIN} to {HANDLE_MAX} characters (got {n})")));
        }
        if let Some(bad) = text.chars().find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_' || *c == '-')) {
            return Err(InvalidField::new(field, format!("may only hold {HANDLE_CHARS} (found {bad:?})")));
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether an account can be read on the open web, and at which handle.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicPageSetting {
    pub handle: Option<String>,
    pub enabled: bool,
}

/// An invite code: what `/join/{code}` and the client protocol's `inviteCode` carry.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct InviteCode(String);

/// Codes Herald makes are 12 letters and digits; anything else is no code of ours.
pub const INVITE_CODE_LEN: usize = 12;

impl InviteCode {
    pub fn parse(field: &str, text: &str) -> Result<Self, InvalidField> {
        if text.len() == INVITE_CODE_LEN && text.bytes().all(|b| b.is_ascii_alphanumeric()) {
            Ok(Self(text.to_owned()))
        } else {
            Err(InvalidField::new(field, "is not an invite code (12 letters and digits)"))
        }
    }

    #[cfg(feature = "backend")]
    pub(crate) fn generate() -> Self {
        use rand::distributions::{Alphanumeric, DistString};
        Self(Alphanumeric.sample_string(&mut rand::thread_rng(), INVITE_CODE_LEN))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for InviteCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A new invite link, checked: a name, and optionally when it stops working and how many
/// subscriptions it may make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInviteLink {
    pub name: String,
    pub expire_time: Option<i64>,
    pub max_uses: Option<i64>,
}

impl NewInviteLink {
    /// `now` is Unix seconds: an expiry must lie after it.
    pub fn parse(name: &str, expire_time: Option<i64>, max_uses: Option<i64>, now: i64) -> Result<Self, InvalidField> {
        let name = name.trim();
        if name.is_empty() {
            return Err(InvalidField::new("Name", "required (what the link is for, such as \"Spring poster\")"));
        }
        let n = name.chars().count();
        if n > INVITE_NAME_MAX {
            return Err(InvalidField::new("Name", format!("longer than {INVITE_NAME_MAX} characters (got {n})")));
        }
        if name.chars().any(char::is_control) {
            return Err(InvalidField::new("Name", "may not hold control characters"));
        }
        if let Some(at) = expire_time {
            if at <= now {
                return Err(InvalidField::new("ExpireTime", "must lie in the future (Unix seconds)"));
            }
        }
        if let Some(n) = max_uses {
            if !(1..=1_000_000_000).contains(&n) {
                return Err(InvalidField::new("MaxUses", format!("must be between 1 and 1000000000 (got {n})")));
            }
        }
        Ok(Self { name: name.to_owned(), expire_time, max_uses })
    }
}

/// An invite link as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InviteLink {
    pub code: String,
    pub account: String,
    pub name: String,
    pub created_at: i64,
    pub expire_time: Option<i64>,
    pub max_uses: Option<i64>,
    /// Subscriptions made with the code (what `max_uses` caps).
    pub uses: i64,
    /// Of those, the subscribers who have not unsubscribed since.
    pub subscribed: i64,
    pub revoked: bool,
}

/// Whether a link still brings subscribers, and if not, why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum InviteState {
    Active,
    Revoked,
    Expired,
    UsedUp,
}

impl InviteLink {
    pub fn state(&self, now: i64) -> InviteState {
        if self.revoked {
            InviteState::Revoked
        } else if self.expire_time.is_some_and(|at| at <= now) {
            InviteState::Expired
        } else if self.max_uses.is_some_and(|max| self.uses >= max) {
            InviteState::UsedUp
        } else {
            InviteState::Active
        }
    }
}

impl InviteState {
    /// The console's word for it.
    pub fn label(self) -> &'static str {
        match self {
            InviteState::Active => "Active",
            InviteState::Revoked => "Revoked",
            InviteState::Expired => "Expired",
            InviteState::UsedUp => "Used up",
        }
    }

    /// Why a subscription with this link is refused (`None` while it is active).
    pub fn refusal(self) -> Option<&'static str> {
        match self {
            InviteState::Active => None,
            InviteState::Revoked => Some("this invite link was revoked by the account"),
            InviteState::Expired => Some("this invite link has expired"),
            InviteState::UsedUp => Some("this invite link has been used as many times as it allows"),
        }
    }
}

/// The handle of this area, from [`crate::Messaging::public`]: it holds the store and this
/// node's clock, and nothing of the other areas.
#[cfg(feature = "backend")]
#[derive(Clone)]
pub struct Public {
    store: crate::store::Store,
    clock: crate::clock::Clock,
}

#[cfg(feature = "backend")]
impl Public {
    pub(crate) fn new(store: crate::store::Store, clock: crate::clock::Clock) -> Self {
        Self { store, clock }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_handle_is_three_to_thirty_two_lowercase_letters_digits_underscores_or_dashes() {
        assert!(Handle::parse("Handle", "abc").is_ok());
        assert!(Handle::parse("Handle", &"a".repeat(32)).is_ok());
        assert!(Handle::parse("Handle", "news_room-2").is_ok());
        assert_eq!(Handle::parse("Handle", "ab").unwrap_err().rule, "must be 3 to 32 characters (got 2)");
        assert!(Handle::parse("Handle", &"a".repeat(33)).is_err());
        let upper = Handle::parse("Handle", "News").unwrap_err();
        assert_eq!((upper.field.as_str(), upper.rule.as_str()), ("Handle", "may only hold a–z, 0–9, _ and - (found 'N')"));
        assert!(Handle::parse("Handle", "a b c").is_err());
        assert!(Handle::parse("Handle", "ünï").is_err());
        assert!(Handle::parse("Handle", "../x").is_err());
    }

    #[test]
    fn an_invite_link_needs_a_name_a_future_expiry_and_a_positive_limit() {
        assert_eq!(NewInviteLink::parse("  ", None, None, 100).unwrap_err().field, "Name");
        assert_eq!(NewInviteLink::parse(&"n".repeat(65), None, None, 100).unwrap_err().field, "Name");
        assert_eq!(NewInviteLink::parse("a\u{7}", None, None, 100).unwrap_err().field, "Name");
        assert_eq!(NewInviteLink::parse("Poster", Some(100), None, 100).unwrap_err().field, "ExpireTime");
        assert_eq!(NewInviteLink::parse("Poster", None, Some(0), 100).unwrap_err().field, "MaxUses");
        let ok = NewInviteLink::parse(" Poster ", Some(101), Some(5), 100).unwrap();
        assert_eq!(ok, NewInviteLink { name: "Poster".into(), expire_time: Some(101), max_uses: Some(5) });
    }

    #[test]
    fn a_link_is_revoked_before_expired_before_used_up() {
        let link = InviteLink {
            code: "a".into(),
            account: "x".into(),
            name: "n".into(),
            created_at: 0,
            expire_time: Some(50),
            max_uses: Some(2),
            uses: 2,
            subscribed: 2,
            revoked: true,
        };
        assert_eq!(link.state(10), InviteState::Revoked);
        assert_eq!(InviteLink { revoked: false, ..link.clone() }.state(60), InviteState::Expired);
        assert_eq!(InviteLink { revoked: false, ..link.clone() }.state(10), InviteState::UsedUp);
        assert_eq!(InviteLink { revoked: false, uses: 1, ..link }.state(10), InviteState::Active);
        assert!(InviteState::Expired.refusal().unwrap().contains("expired"));
    }

    #[test]
    fn an_invite_code_is_twelve_letters_and_digits() {
        assert!(InviteCode::parse("inviteCode", "abcDEF123456").is_ok());
        assert!(InviteCode::parse("inviteCode", "abc").is_err());
        assert!(InviteCode::parse("inviteCode", "abcDEF12345/").is_err());
    }
}
