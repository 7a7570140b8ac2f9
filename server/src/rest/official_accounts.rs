//! Service `official_account_open_http_svc`: creating, reading, modifying and destroying
//! official accounts (docs/rest-api.md §4).

use super::envelope::{fail_fields, ok_fields, RestError};
use super::{answer, parse, Payload};
use messaging::batch::{check_batch, ACCOUNT_INFO_BATCH_MAX};
use messaging::{
    AccountProfile, Error, Messaging, NewAccount, OfficialAccount, OfficialAccountId, ProfileFields, ProfileUpdate, UnknownOwner, UserId,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// Profile fields as Tencent names them; shared by create and modify.
#[derive(Deserialize)]
pub struct ProfileBody {
    #[serde(rename = "Name")]
    name: Option<String>,
    #[serde(rename = "Introduction")]
    introduction: Option<String>,
    #[serde(rename = "FaceUrl")]
    face_url: Option<String>,
    #[serde(rename = "Organization")]
    organization: Option<String>,
    #[serde(rename = "CustomString")]
    custom_string: Option<String>,
    #[serde(rename = "MaxSubscriberNum")]
    max_subscriber_num: Option<i64>,
}

impl From<ProfileBody> for ProfileFields {
    fn from(b: ProfileBody) -> Self {
        ProfileFields {
            name: b.name,
            introduction: b.introduction,
            face_url: b.face_url,
            organization: b.organization,
            custom_string: b.custom_string,
            max_subscriber_num: b.max_subscriber_num,
        }
    }
}

pub(super) fn account_id(field: &str, raw: Option<&str>) -> Result<OfficialAccountId, RestError> {
    OfficialAccountId::parse(field, raw.unwrap_or_default()).map_err(|e| Error::MalformedAccountId(e).into())
}

/// The account as the API shows it; `filter` (ResponseFilter.OfficialAccountBaseInfoFilter)
/// keeps only the named fields, and `Official_Account` always.
pub(super) fn account_json(a: &OfficialAccount, filter: Option<&[String]>) -> Map<String, Value> {
    let all = BaseInfo {
        official_account: &a.id,
        owner_account: &a.owner,
        name: &a.name,
        introduction: &a.introduction,
        face_url: &a.face_url,
        organization: &a.organization,
        custom_string: &a.custom_string,
        max_subscriber_num: a.max_subscriber_num,
        subscriber_num: a.subscriber_num,
        create_time: a.create_time,
        last_msg_time: a.last_msg_time,
    };
    let Ok(Value::Object(mut fields)) = serde_json::to_value(all) else { return Map::new() };
    fields.retain(|k, _| k == "Official_Account" || filter.is_none_or(|f| f.iter().any(|x| x == k)));
    fields
}

/// An account's base information as the API spells it (before the response filter).
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct BaseInfo<'a> {
    #[serde(rename = "Official_Account")]
    official_account: &'a str,
    #[serde(rename = "Owner_Account")]
    owner_account: &'a str,
    name: &'a str,
    introduction: &'a str,
    face_url: &'a str,
    organization: &'a str,
    custom_string: &'a str,
    max_subscriber_num: i64,
    subscriber_num: i64,
    create_time: i64,
    last_msg_time: i64,
}

#[derive(Deserialize)]
pub struct CreateOfficialAccount {
    #[serde(rename = "Owner_Account")]
    owner: Option<String>,
    #[serde(rename = "OfficialAccountUserID")]
    custom_id: Option<String>,
}

/// [create_official_account] Creates an account for an imported owner; an unknown owner is 70107.
pub async fn create_official_account(m: &Messaging, operator: &str, body: Value) -> Payload {
    // Two passes over one body rather than `#[serde(flatten)]`, which would lose the field
    // name from type errors ("Name: invalid type").
    let req: CreateOfficialAccount = parse(body.clone())?;
    let profile: ProfileBody = parse(body)?;
    let owner = UserId::parse("Owner_Account", req.owner.as_deref().unwrap_or_default())?;
    let id = match req.custom_id.as_deref() {
        None | Some("") => None,
        Some(raw) => Some(OfficialAccountId::parse_custom("OfficialAccountUserID", raw).map_err(Error::MalformedAccountId)?),
    };
    let profile = AccountProfile::parse(profile.into())?;
    let account = m.create_account(NewAccount { owner, id, profile }, UnknownOwner::Refuse, operator).await?;
    answer(Created { official_account_user_id: account.id })
}

#[derive(Serialize)]
struct Created {
    #[serde(rename = "OfficialAccountUserID")]
    official_account_user_id: String,
}

#[derive(Deserialize)]
pub struct IdItem {
    #[serde(rename = "Official_Account")]
    official_account: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct ResponseFilter {
    #[serde(rename = "OfficialAccountBaseInfoFilter")]
    base_info: Option<Vec<String>>,
}

#[derive(Deserialize)]
pub struct GetOfficialAccountInfo {
    #[serde(rename = "OfficialAccountIdList", default)]
    ids: Vec<IdItem>,
    #[serde(rename = "ResponseFilter", default)]
    filter: ResponseFilter,
}

/// [get_official_account_info] Up to 50 accounts; a missing or malformed ID fails only its item.
pub async fn get_official_account_info(m: &Messaging, req: GetOfficialAccountInfo) -> Payload {
    check_batch("OfficialAccountIdList", req.ids.len(), ACCOUNT_INFO_BATCH_MAX)?;
    let filter = req.filter.base_info.as_deref();
    let mut items = Vec::with_capacity(req.ids.len());
    for it in req.ids {
        let raw = it.official_account.unwrap_or_default();
        let found = match account_id("Official_Account", Some(&raw)) {
            Ok(id) => m.account(&id).await.map_err(RestError::from),
            Err(e) => Err(e),
        };
        items.push(match found {
            Ok(account) => {
                let mut item = ok_fields();
                item.extend(account_json(&account, filter));
                item
            }
            Err(RestError::Core(e @ (Error::Storage(_) | Error::Internal(_)))) => return Err(e.into()),
            Err(e) => {
                let mut item = fail_fields(e.code(), e.info());
                item.insert("Official_Account".into(), json!(raw));
                item
            }
        });
    }
    answer(InfoList { official_account_info_list: items })
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct InfoList {
    /// Each item carries its own ActionStatus / ErrorCode / ErrorInfo.
    official_account_info_list: Vec<Map<String, Value>>,
}

#[derive(Deserialize)]
pub struct ModifyOfficialAccountBaseInfo {
    #[serde(rename = "Official_Account", alias = "OfficialAccount")]
    official_account: Option<String>,
}

/// [modify_official_account_base_info] Changes the given fields, leaves the rest.
pub async fn modify_official_account_base_info(m: &Messaging, operator: &str, body: Value) -> Payload {
    let req: ModifyOfficialAccountBaseInfo = parse(body.clone())?;
    let profile: ProfileBody = parse(body)?;
    let id = account_id("Official_Account", req.official_account.as_deref())?;
    let update = ProfileUpdate::parse(profile.into())?;
    m.modify_account(&id, &update, operator).await?;
    Ok(Map::new())
}

#[derive(Deserialize)]
pub struct DestroyOfficialAccount {
    #[serde(rename = "Official_Account")]
    official_account: Option<String>,
}

/// [destroy_official_account] Destroys an account; its ID is never handed out again.
pub async fn destroy_official_account(m: &Messaging, req: DestroyOfficialAccount) -> Payload {
    let id = account_id("Official_Account", req.official_account.as_deref())?;
    m.destroy_account(&id).await?;
    Ok(Map::new())
}
