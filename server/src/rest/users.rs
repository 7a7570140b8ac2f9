//! Service `im_open_login_svc`: importing, checking and deleting users (docs/rest-api.md §3).

use super::envelope::{core_code, RestError};
use super::Payload;
use messaging::batch::{check_batch, USER_BATCH_MAX};
use messaging::{Deleted, Messaging, NewUser, UserId};
use serde::Deserialize;
use serde_json::{json, Map, Value};

#[derive(Deserialize)]
pub struct AccountImport {
    #[serde(rename = "UserID", alias = "Identifier")]
    user_id: Option<String>,
    #[serde(rename = "Nick", default)]
    nick: String,
    #[serde(rename = "FaceUrl", default)]
    face_url: String,
}

/// [account_import] Imports one user; importing it again updates Nick and FaceUrl.
pub async fn account_import(m: &Messaging, req: AccountImport) -> Payload {
    let id = UserId::parse("UserID", req.user_id.as_deref().unwrap_or_default())?;
    messaging::profile::FACE_URL.check(&req.face_url)?;
    m.import_user(&NewUser { id, nick: req.nick, face_url: req.face_url }).await?;
    Ok(Map::new())
}

#[derive(Deserialize)]
pub struct MultiaccountImport {
    #[serde(rename = "Accounts", default)]
    accounts: Vec<String>,
}

/// [multiaccount_import] Imports up to 100 users; invalid IDs come back in `FailAccounts`.
pub async fn multiaccount_import(m: &Messaging, req: MultiaccountImport) -> Payload {
    check_batch("Accounts", req.accounts.len(), USER_BATCH_MAX)?;
    let (good, bad): (Vec<_>, Vec<_>) = req.accounts.iter().map(|a| (a, UserId::parse("Accounts", a))).partition(|(_, r)| r.is_ok());
    let ids: Vec<UserId> = good.into_iter().filter_map(|(_, r)| r.ok()).collect();
    m.import_users(&ids).await?;
    let fail: Vec<&String> = bad.into_iter().map(|(a, _)| a).collect();
    Ok(Map::from_iter([("FailAccounts".to_string(), json!(fail))]))
}

#[derive(Deserialize)]
pub struct UserItem {
    #[serde(rename = "UserID")]
    user_id: Option<String>,
}

#[derive(Deserialize)]
pub struct AccountDelete {
    #[serde(rename = "DeleteItem", default)]
    delete_item: Vec<UserItem>,
}

/// Parses each item's UserID; a bad one fails only its own item.
fn parse_items(items: Vec<UserItem>) -> Vec<(String, Result<UserId, RestError>)> {
    items
        .into_iter()
        .map(|i| {
            let raw = i.user_id.unwrap_or_default();
            let parsed = UserId::parse("UserID", &raw).map_err(RestError::from);
            (raw, parsed)
        })
        .collect()
}

fn item(user_id: &str, code: u32, info: String) -> Map<String, Value> {
    Map::from_iter([
        ("UserID".to_string(), json!(user_id)),
        ("ResultCode".to_string(), json!(code)),
        ("ResultInfo".to_string(), json!(info)),
    ])
}

/// [account_delete] Deletes up to 100 users, one result each.
pub async fn account_delete(m: &Messaging, req: AccountDelete) -> Payload {
    check_batch("DeleteItem", req.delete_item.len(), USER_BATCH_MAX)?;
    let mut results = Vec::new();
    for (raw, parsed) in parse_items(req.delete_item) {
        results.push(match parsed {
            Err(e) => item(&raw, e.code(), e.info()),
            Ok(id) => match m.delete_users(std::slice::from_ref(&id)).await?.pop() {
                Some(Deleted::Yes) => item(&raw, 0, String::new()),
                _ => {
                    let e = messaging::Error::UserNotImported(raw.clone());
                    item(&raw, core_code(&e), e.to_string())
                }
            },
        });
    }
    Ok(Map::from_iter([("ResultItem".to_string(), json!(results))]))
}

#[derive(Deserialize)]
pub struct AccountCheck {
    #[serde(rename = "CheckItem", default)]
    check_item: Vec<UserItem>,
}

/// [account_check] Says for up to 100 users whether each was imported.
pub async fn account_check(m: &Messaging, req: AccountCheck) -> Payload {
    check_batch("CheckItem", req.check_item.len(), USER_BATCH_MAX)?;
    let mut results = Vec::new();
    for (raw, parsed) in parse_items(req.check_item) {
        results.push(match parsed {
            Err(e) => item(&raw, e.code(), e.info()),
            Ok(id) => {
                let mut it = item(&raw, 0, String::new());
                let status = if m.user_exists(&id).await? { "Imported" } else { "NotImported" };
                it.insert("AccountStatus".into(), json!(status));
                it
            }
        });
    }
    Ok(Map::from_iter([("ResultItem".to_string(), json!(results))]))
}
