//! The editable profile of an official account and its byte limits (docs/rest-api.md §4).
//!
//! Limits count UTF-8 **bytes**, not characters: a CJK character is 3 bytes. The console's live
//! counters read the same [`TextLimit`] constants, so the browser and the server never disagree.

use crate::error::InvalidField;
use crate::ids::{OfficialAccountId, UserId};

/// A text field's name and its byte limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextLimit {
    /// The Tencent field name, used in error messages.
    pub field: &'static str,
    pub max_bytes: usize,
}

/// PostgreSQL's text cannot hold U+0000, so no backend stores it: one rule for every free-text
/// field, refused by name instead of failing in storage.
pub fn check_no_nul(field: &str, value: &str) -> Result<(), InvalidField> {
    if value.contains('\0') {
        return Err(InvalidField::new(field, "must not contain the NUL character (\\u0000)"));
    }
    Ok(())
}

impl TextLimit {
    pub fn check(&self, value: &str) -> Result<(), InvalidField> {
        check_no_nul(self.field, value)?;
        if value.len() > self.max_bytes {
            return Err(InvalidField::new(self.field, format!("longer than {} bytes (got {})", self.max_bytes, value.len())));
        }
        Ok(())
    }
}

pub const NAME: TextLimit = TextLimit { field: "Name", max_bytes: 150 };
pub const INTRODUCTION: TextLimit = TextLimit { field: "Introduction", max_bytes: 400 };
pub const FACE_URL: TextLimit = TextLimit { field: "FaceUrl", max_bytes: 500 };
pub const ORGANIZATION: TextLimit = TextLimit { field: "Organization", max_bytes: 500 };
pub const CUSTOM_STRING: TextLimit = TextLimit { field: "CustomString", max_bytes: 3000 };

pub const MAX_SUBSCRIBERS_DEFAULT: i64 = 100_000;
/// Tencent's own ceiling is lower; a self-hosted Herald allows ten million (docs/rest-api.md §4).
pub const MAX_SUBSCRIBERS_CEILING: i64 = 10_000_000;

/// Profile fields as a caller sent them: any may be missing. Parse into [`AccountProfile`]
/// (create) or [`ProfileUpdate`] (modify).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ProfileFields {
    pub name: Option<String>,
    pub introduction: Option<String>,
    pub face_url: Option<String>,
    pub organization: Option<String>,
    pub custom_string: Option<String>,
    pub max_subscriber_num: Option<i64>,
}

fn check_name(name: &str) -> Result<(), InvalidField> {
    if name.trim().is_empty() {
        return Err(InvalidField::new(NAME.field, "required"));
    }
    NAME.check(name)
}

fn check_max_subscribers(n: i64) -> Result<(), InvalidField> {
    if !(1..=MAX_SUBSCRIBERS_CEILING).contains(&n) {
        return Err(InvalidField::new("MaxSubscriberNum", format!("must be between 1 and {MAX_SUBSCRIBERS_CEILING} (got {n})")));
    }
    Ok(())
}

impl ProfileFields {
    /// Checks every present field; the first broken rule wins, in the order of the form.
    fn check_present(&self) -> Result<(), InvalidField> {
        if let Some(name) = &self.name {
            check_name(name)?;
        }
        for (limit, value) in [
            (INTRODUCTION, &self.introduction),
            (FACE_URL, &self.face_url),
            (ORGANIZATION, &self.organization),
            (CUSTOM_STRING, &self.custom_string),
        ] {
            if let Some(v) = value {
                limit.check(v)?;
            }
        }
        if let Some(n) = self.max_subscriber_num {
            check_max_subscribers(n)?;
        }
        Ok(())
    }
}

/// A complete, valid profile: what a new official account is created with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountProfile {
    name: String,
    pub introduction: String,
    pub face_url: String,
    pub organization: String,
    pub custom_string: String,
    pub max_subscriber_num: i64,
}

impl AccountProfile {
    pub fn parse(fields: ProfileFields) -> Result<Self, InvalidField> {
        fields.check_present()?;
        let Some(name) = fields.name else {
            return Err(InvalidField::new(NAME.field, "required"));
        };
        Ok(Self {
            name,
            introduction: fields.introduction.unwrap_or_default(),
            face_url: fields.face_url.unwrap_or_default(),
            organization: fields.organization.unwrap_or_default(),
            custom_string: fields.custom_string.unwrap_or_default(),
            max_subscriber_num: fields.max_subscriber_num.unwrap_or(MAX_SUBSCRIBERS_DEFAULT),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

/// A valid partial change to a profile: only the present fields change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileUpdate(ProfileFields);

impl ProfileUpdate {
    pub fn parse(fields: ProfileFields) -> Result<Self, InvalidField> {
        fields.check_present()?;
        Ok(Self(fields))
    }
    pub fn fields(&self) -> &ProfileFields {
        &self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0 == ProfileFields::default()
    }
}

/// Everything needed to create an official account. `id: None` means "generate one".
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub owner: UserId,
    pub id: Option<OfficialAccountId>,
    pub profile: AccountProfile,
}

/// An official account as stored, the read model both front doors show.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OfficialAccount {
    pub id: String,
    pub owner: String,
    pub name: String,
    pub introduction: String,
    pub face_url: String,
    pub organization: String,
    pub custom_string: String,
    pub max_subscriber_num: i64,
    pub subscriber_num: i64,
    /// Unix seconds.
    pub create_time: i64,
    /// Unix seconds of the last broadcast; 0 before the first.
    pub last_msg_time: i64,
    /// The pinned broadcast's MsgKey (docs/rest-api.md §9); empty when none.
    #[serde(default)]
    pub pinned_msg_key: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(name: &str) -> ProfileFields {
        ProfileFields { name: Some(name.to_owned()), ..Default::default() }
    }

    #[test]
    fn a_name_of_150_bytes_is_accepted_and_151_rejected() {
        assert!(AccountProfile::parse(named(&"n".repeat(150))).is_ok());
        let err = AccountProfile::parse(named(&"n".repeat(151))).unwrap_err();
        assert_eq!(err.field, "Name");
        assert_eq!(err.rule, "longer than 150 bytes (got 151)");
    }

    #[test]
    fn a_cjk_character_counts_three_bytes() {
        assert!(AccountProfile::parse(named(&"新".repeat(50))).is_ok(), "50 × 3 = 150 bytes");
        let err = AccountProfile::parse(named(&"新".repeat(51))).unwrap_err();
        assert_eq!(err.rule, "longer than 150 bytes (got 153)");
    }

    #[test]
    fn a_name_is_required_on_create_and_may_not_be_blank() {
        assert_eq!(AccountProfile::parse(ProfileFields::default()).unwrap_err().rule, "required");
        assert_eq!(AccountProfile::parse(named("   ")).unwrap_err().field, "Name");
        assert_eq!(ProfileUpdate::parse(named("")).unwrap_err().field, "Name");
    }

    #[test]
    fn every_text_limit_holds_at_the_edge_and_fails_one_past_it() {
        for (limit, set) in [
            (INTRODUCTION, (|f: &mut ProfileFields, v| f.introduction = Some(v)) as fn(&mut ProfileFields, String)),
            (FACE_URL, |f, v| f.face_url = Some(v)),
            (ORGANIZATION, |f, v| f.organization = Some(v)),
            (CUSTOM_STRING, |f, v| f.custom_string = Some(v)),
        ] {
            let mut at = named("n");
            set(&mut at, "x".repeat(limit.max_bytes));
            assert!(AccountProfile::parse(at).is_ok(), "{} at its limit", limit.field);
            let mut past = named("n");
            set(&mut past, "x".repeat(limit.max_bytes + 1));
            let err = ProfileUpdate::parse(past).unwrap_err();
            assert_eq!(err.field, limit.field);
        }
    }

    #[test]
    fn max_subscribers_is_between_one_and_ten_million() {
        let with = |n| ProfileFields { max_subscriber_num: Some(n), ..named("n") };
        assert!(AccountProfile::parse(with(1)).is_ok());
        assert!(AccountProfile::parse(with(MAX_SUBSCRIBERS_CEILING)).is_ok());
        assert_eq!(AccountProfile::parse(with(0)).unwrap_err().field, "MaxSubscriberNum");
        assert!(AccountProfile::parse(with(MAX_SUBSCRIBERS_CEILING + 1)).is_err());
        assert_eq!(AccountProfile::parse(named("n")).unwrap().max_subscriber_num, 100_000);
    }

    #[test]
    fn an_update_with_only_some_fields_leaves_the_rest_out() {
        let update = ProfileUpdate::parse(ProfileFields { introduction: Some("hi".into()), ..Default::default() }).unwrap();
        assert!(update.fields().name.is_none());
        assert!(!update.is_empty());
    }
}
