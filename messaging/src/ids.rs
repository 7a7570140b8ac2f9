//! Identifiers with Tencent's rules built in: once parsed, an ID is valid everywhere.

use crate::error::InvalidField;
use std::fmt;

/// Every official account ID starts with this.
pub const ACCOUNT_ID_PREFIX: &str = "@TOA#_";
/// IDs Herald generates start with this; custom IDs may not (docs/rest-api.md §4).
pub const GENERATED_ID_PREFIX: &str = "@TOA#_@TOA#";
pub const ACCOUNT_ID_MAX_BYTES: usize = 48;
pub const USER_ID_MAX_BYTES: usize = 32;

/// An official account ID: printable ASCII (0x20–0x7e), at most 48 bytes, starting `@TOA#_`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OfficialAccountId(String);

impl OfficialAccountId {
    /// Parses any existing ID (generated or custom); `field` names the input for the error.
    pub fn parse(field: &str, s: &str) -> Result<Self, InvalidField> {
        if s.is_empty() {
            return Err(InvalidField::new(field, "required"));
        }
        if s.len() > ACCOUNT_ID_MAX_BYTES {
            return Err(InvalidField::new(field, format!("longer than {ACCOUNT_ID_MAX_BYTES} bytes (got {})", s.len())));
        }
        if let Some(c) = s.chars().find(|c| !(' '..='~').contains(c)) {
            return Err(InvalidField::new(field, format!("only printable ASCII is allowed (found {c:?})")));
        }
        if !s.starts_with(ACCOUNT_ID_PREFIX) || s.len() == ACCOUNT_ID_PREFIX.len() {
            return Err(InvalidField::new(field, format!("must start with {ACCOUNT_ID_PREFIX} followed by at least one character")));
        }
        Ok(Self(s.to_owned()))
    }

    /// Parses an ID a caller chose: on top of [`parse`](Self::parse), the generated prefix is reserved.
    pub fn parse_custom(field: &str, s: &str) -> Result<Self, InvalidField> {
        let id = Self::parse(field, s)?;
        if id.0.starts_with(GENERATED_ID_PREFIX) {
            return Err(InvalidField::new(field, format!("may not start with {GENERATED_ID_PREFIX} (reserved for generated IDs)")));
        }
        Ok(id)
    }

    /// A fresh generated ID from a random alphanumeric suffix.
    pub fn generated(suffix: &str) -> Self {
        let id = format!("{GENERATED_ID_PREFIX}{suffix}");
        debug_assert!(id.len() <= ACCOUNT_ID_MAX_BYTES);
        Self(id)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for OfficialAccountId {
    type Error = InvalidField;
    fn try_from(s: String) -> Result<Self, InvalidField> {
        Self::parse("Official_Account", &s)
    }
}
impl From<OfficialAccountId> for String {
    fn from(id: OfficialAccountId) -> String {
        id.0
    }
}
impl AsRef<str> for OfficialAccountId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}
impl fmt::Display for OfficialAccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Unicode format characters (category Cf) that make one ID look like another: bidi
/// overrides and isolates (U+202E turns `alice` into what reads as something else), zero-width
/// characters, the soft hyphen and the byte-order mark.
fn is_invisible_format(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{061C}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206F}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}')
}

/// An imported user's ID (`UserID`, `Owner_Account`, …): 1–32 bytes, no control or invisible
/// formatting characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UserId(String);

impl UserId {
    pub fn parse(field: &str, s: &str) -> Result<Self, InvalidField> {
        if s.is_empty() {
            return Err(InvalidField::new(field, "required"));
        }
        if s.len() > USER_ID_MAX_BYTES {
            return Err(InvalidField::new(field, format!("longer than {USER_ID_MAX_BYTES} bytes (got {})", s.len())));
        }
        if s.chars().any(char::is_control) {
            return Err(InvalidField::new(field, "control characters are not allowed"));
        }
        if let Some(c) = s.chars().find(|c| is_invisible_format(*c)) {
            return Err(InvalidField::new(
                field,
                format!("invisible formatting characters (bidi controls, zero-width) are not allowed (found U+{:04X})", u32::from(c)),
            ));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for UserId {
    type Error = InvalidField;
    fn try_from(s: String) -> Result<Self, InvalidField> {
        Self::parse("UserID", &s)
    }
}
impl From<UserId> for String {
    fn from(id: UserId) -> String {
        id.0
    }
}
impl AsRef<str> for UserId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}
impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const F: &str = "Official_Account";

    #[test]
    fn an_id_of_48_bytes_is_accepted() {
        let id = format!("{ACCOUNT_ID_PREFIX}{}", "a".repeat(42));
        assert_eq!(id.len(), 48);
        assert!(OfficialAccountId::parse_custom(F, &id).is_ok());
    }

    #[test]
    fn an_id_of_49_bytes_is_rejected() {
        let id = format!("{ACCOUNT_ID_PREFIX}{}", "a".repeat(43));
        let err = OfficialAccountId::parse_custom(F, &id).unwrap_err();
        assert_eq!(err.field, F);
        assert!(err.rule.contains("48 bytes"), "{err}");
    }

    #[test]
    fn an_id_without_the_prefix_is_rejected() {
        assert!(OfficialAccountId::parse(F, "news").is_err());
        assert!(OfficialAccountId::parse(F, "@TOA#news").is_err());
        assert!(OfficialAccountId::parse(F, "@TOA#_").is_err(), "prefix alone is not an ID");
    }

    #[test]
    fn an_id_with_non_printable_or_non_ascii_characters_is_rejected() {
        assert!(OfficialAccountId::parse(F, "@TOA#_new\ts").is_err());
        assert!(OfficialAccountId::parse(F, "@TOA#_新闻").is_err());
        assert!(OfficialAccountId::parse(F, "@TOA#_\u{7f}").is_err());
        assert!(OfficialAccountId::parse(F, "@TOA#_ ~").is_ok(), "0x20 and 0x7e are printable");
    }

    #[test]
    fn a_custom_id_starting_with_the_system_prefix_is_rejected() {
        let err = OfficialAccountId::parse_custom(F, "@TOA#_@TOA#mine").unwrap_err();
        assert!(err.rule.contains("reserved"), "{err}");
        // …while a stored generated ID still parses.
        assert!(OfficialAccountId::parse(F, "@TOA#_@TOA#mine").is_ok());
    }

    #[test]
    fn an_empty_id_is_required() {
        assert_eq!(OfficialAccountId::parse(F, "").unwrap_err().rule, "required");
    }

    #[test]
    fn a_user_id_of_32_bytes_is_accepted_and_33_rejected() {
        assert!(UserId::parse("UserID", &"u".repeat(32)).is_ok());
        let err = UserId::parse("UserID", &"u".repeat(33)).unwrap_err();
        assert!(err.rule.contains("32 bytes"));
        // 11 CJK characters are 33 bytes.
        assert!(UserId::parse("UserID", &"用".repeat(10)).is_ok());
        assert!(UserId::parse("UserID", &"用".repeat(11)).is_err());
    }

    #[test]
    fn an_empty_user_id_or_one_with_control_characters_is_rejected() {
        assert!(UserId::parse("UserID", "").is_err());
        assert!(UserId::parse("UserID", "a\nb").is_err());
    }

    /// The accept path over its whole alphabet: every printable ASCII character, at every
    /// suffix length up to the limit, in a varying mix. (Deterministic, so no property-testing
    /// crate: proptest's rand features would rebuild half the dependency tree for tests.)
    #[test]
    fn any_printable_ascii_suffix_within_the_limit_parses() {
        let printable: Vec<char> = (' '..='~').collect();
        for len in 1..=(ACCOUNT_ID_MAX_BYTES - ACCOUNT_ID_PREFIX.len()) {
            for start in 0..printable.len() {
                let suffix: String = (0..len).map(|i| printable[(start + i * 7) % printable.len()]).collect();
                let s = format!("{ACCOUNT_ID_PREFIX}{suffix}");
                let id = OfficialAccountId::parse(F, &s).unwrap_or_else(|e| panic!("{s:?}: {e}"));
                assert_eq!(id.as_str(), s);
            }
        }
    }
}
