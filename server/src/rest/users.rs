//! Service `im_open_login_svc`: importing, checking and deleting users (docs/rest-api.md §3).

use super::envelope::{core_code, RestError};
use super::{answer, Payload};
use messaging::batch::{check_batch, USER_BATCH_MAX};
use messaging::{Deleted, Messaging, NewUser, UserId};
use serde::{Deserialize, Serialize};
use serde_json::Map;

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
    answer(Imported { fail_accounts: bad.into_iter().map(|(a, _)| a.as_str()).collect() })
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Imported<'a> {
    fail_accounts: Vec<&'a str>,
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

/// One user's result in `account_delete` and `account_check`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ResultItem {
    #[serde(rename = "UserID")]
    user_id: String,
    result_code: u32,
    result_info: String,
    /// `account_check` only: `Imported` or `NotImported`.
    #[serde(skip_serializing_if = "Option::is_none")]
    account_status: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Results {
    result_item: Vec<ResultItem>,
}

fn item(user_id: &str, code: u32, info: String) -> ResultItem {
    ResultItem { user_id: user_id.to_owned(), result_code: code, result_info: info, account_status: None }
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
    answer(Results { result_item: results })
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
                let status = if m.user_exists(&id).await? { "Imported" } else { "NotImported" };
                ResultItem { account_status: Some(status), ..item(&raw, 0, String::new()) }
            }
        });
    }
    answer(Results { result_item: results })
}
