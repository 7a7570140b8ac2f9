//! Subscribers of an official account (docs/rest-api.md §4): add, delete, page, modify, and the
//! accounts one user follows.

use super::envelope::RestError;
use super::official_accounts::{account_id, account_json};
use super::{answer, Payload};
use messaging::subscribers::{BatchResult, SubscriberChange, SUBSCRIBER_BATCH_MAX};
use messaging::{batch::check_batch, Messaging, UserId};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

#[derive(Deserialize)]
pub struct SubscriberItem {
    #[serde(rename = "Subscriber_Account")]
    subscriber_account: Option<String>,
}

/// `add_subscriber` and `delete_subscriber`: one result per subscriber.
fn batch_answer(results: Vec<(String, BatchResult)>) -> Payload {
    let subscriber_list = results.into_iter().map(|(subscriber_account, r)| BatchItem { subscriber_account, result: r as u8 }).collect();
    answer(Batch { subscriber_list })
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Batch {
    subscriber_list: Vec<BatchItem>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct BatchItem {
    #[serde(rename = "Subscriber_Account")]
    subscriber_account: String,
    result: u8,
}

/// Parses the users of a batch; a malformed ID fails only its own item (Result 0).
async fn in_batches(
    raw: Vec<String>,
    field: &str,
    run: impl AsyncFnOnce(Vec<UserId>) -> Result<Vec<(String, BatchResult)>, RestError>,
) -> Result<Vec<(String, BatchResult)>, RestError> {
    check_batch(field, raw.len(), SUBSCRIBER_BATCH_MAX)?;
    let parsed: Vec<(String, Option<UserId>)> = raw.into_iter().map(|r| (r.clone(), UserId::parse(field, &r).ok())).collect();
    let good: Vec<UserId> = parsed.iter().filter_map(|(_, id)| id.clone()).collect();
    let mut done = if good.is_empty() { Vec::new() } else { run(good).await? }.into_iter();
    Ok(parsed
        .into_iter()
        .map(|(raw, id)| match id {
            Some(_) => done.next().unwrap_or((raw, BatchResult::Failed)),
            None => (raw, BatchResult::Failed),
        })
        .collect())
}

#[derive(Deserialize)]
pub struct AddSubscriber {
    #[serde(rename = "Official_Account")]
    official_account: Option<String>,
    #[serde(rename = "SubscriberList", default)]
    subscribers: Vec<SubscriberItem>,
}

/// [add_subscriber] Result per user: 0 failed (not imported, or the account is full), 1 added, 2 already.
pub async fn add_subscriber(m: &Messaging, operator: &str, req: AddSubscriber) -> Payload {
    let id = account_id("Official_Account", req.official_account.as_deref())?;
    let raw = req.subscribers.into_iter().map(|s| s.subscriber_account.unwrap_or_default()).collect();
    let results = in_batches(raw, "SubscriberList", async |users| {
        let outcome = m.add_subscribers(&id, &users, operator, messaging::insights::Source::Api).await?;
        if outcome.became_full {
            tracing::info!(account = %id, "official account is full");
        }
        Ok(outcome.results)
    })
    .await?;
    batch_answer(results)
}

#[derive(Deserialize)]
pub struct DeleteSubscriber {
    #[serde(rename = "Official_Account")]
    official_account: Option<String>,
    #[serde(rename = "SubscriberToDel_Account")]
    to_delete: Option<Vec<String>>,
    /// Alias accepted by Herald: the same shape as add_subscriber.
    #[serde(rename = "SubscriberList")]
    subscribers: Option<Vec<SubscriberItem>>,
}

/// [delete_subscriber] Result per user: 1 removed, 2 was not subscribed.
pub async fn delete_subscriber(m: &Messaging, operator: &str, req: DeleteSubscriber) -> Payload {
    let id = account_id("Official_Account", req.official_account.as_deref())?;
    let raw: Vec<String> = match (req.to_delete, req.subscribers) {
        (Some(list), _) => list,
        (None, Some(items)) => items.into_iter().map(|s| s.subscriber_account.unwrap_or_default()).collect(),
        (None, None) => Vec::new(),
    };
    let results = in_batches(raw, "SubscriberToDel_Account", async |users| Ok(m.delete_subscribers(&id, &users, operator).await?)).await?;
    batch_answer(results)
}

#[derive(Deserialize)]
pub struct GetSubscriberInfo {
    #[serde(rename = "Official_Account")]
    official_account: Option<String>,
    #[serde(rename = "Limit")]
    limit: Option<i64>,
    #[serde(rename = "Next", default)]
    next: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct SubscriberPage<'a> {
    next: &'a str,
    subscriber_num: i64,
    subscriber_list: Vec<SubscriberInfo<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct SubscriberInfo<'a> {
    #[serde(rename = "Subscriber_Account")]
    subscriber_account: &'a str,
    subscribe_time: i64,
    custom_string: &'a str,
    msg_flag: &'a str,
    last_send_msg_time: i64,
}

/// [get_subscriber_info] A page of subscribers; `Next` is an opaque keyset cursor, `""` when done.
pub async fn get_subscriber_info(m: &Messaging, req: GetSubscriberInfo) -> Payload {
    let id = account_id("Official_Account", req.official_account.as_deref())?;
    let page = m.subscribers_page(&id, req.limit.unwrap_or(messaging::subscribers::SUBSCRIBER_PAGE_MAX), &req.next).await?;
    let subscriber_list = page
        .subscribers
        .iter()
        .map(|s| SubscriberInfo {
            subscriber_account: &s.subscriber_account,
            subscribe_time: s.subscribed_at,
            custom_string: &s.custom_string,
            msg_flag: &s.msg_flag,
            last_send_msg_time: s.last_send_msg_time,
        })
        .collect();
    answer(SubscriberPage { next: &page.next, subscriber_num: page.subscriber_num, subscriber_list })
}

#[derive(Deserialize)]
pub struct ModifySubscriberInfo {
    #[serde(rename = "Official_Account")]
    official_account: Option<String>,
    #[serde(rename = "Subscriber_Account")]
    subscriber_account: Option<String>,
    #[serde(rename = "CustomString")]
    custom_string: Option<String>,
    #[serde(rename = "MsgFlag")]
    msg_flag: Option<String>,
}

/// [modify_subscriber_info] Herald also lets the admin set MsgFlag here (docs/rest-api.md §4, Decision).
pub async fn modify_subscriber_info(m: &Messaging, req: ModifySubscriberInfo) -> Payload {
    let id = account_id("Official_Account", req.official_account.as_deref())?;
    let user = UserId::parse("Subscriber_Account", req.subscriber_account.as_deref().unwrap_or_default())?;
    let change = SubscriberChange::parse(req.custom_string, req.msg_flag.as_deref())?;
    m.modify_subscriber(&id, &user, &change).await?;
    Ok(Map::new())
}

#[derive(Deserialize, Default)]
pub struct SubscribedFilter {
    #[serde(rename = "OfficialAccountBaseInfoFilter")]
    base_info: Option<Vec<String>>,
    #[serde(rename = "SelfInfoFilter")]
    self_info: Option<Vec<String>>,
}

#[derive(Deserialize)]
pub struct GetSubscribedOfficialAccountList {
    #[serde(rename = "Subscriber_Account")]
    subscriber_account: Option<String>,
    #[serde(rename = "Limit")]
    limit: Option<i64>,
    #[serde(rename = "Offset", default)]
    offset: i64,
    #[serde(rename = "ResponseFilter", default)]
    filter: SubscribedFilter,
}

/// [get_subscribed_official_account_list] The accounts one user follows, with integer offset paging.
pub async fn get_subscribed_official_account_list(m: &Messaging, req: GetSubscribedOfficialAccountList) -> Payload {
    let user = UserId::parse("Subscriber_Account", req.subscriber_account.as_deref().unwrap_or_default())?;
    let page = m.subscribed_accounts(&user, req.limit.unwrap_or(200), req.offset).await?;
    let self_filter = req.filter.self_info.as_deref();
    let list: Vec<Map<String, Value>> = page
        .accounts
        .iter()
        .map(|(account, sub)| {
            let mut item = account_json(account, req.filter.base_info.as_deref());
            let all = SelfInfo { subscribe_time: sub.subscribed_at, custom_string: &sub.custom_string, msg_flag: &sub.msg_flag };
            let mut self_info = match serde_json::to_value(all) {
                Ok(Value::Object(fields)) => fields,
                _ => Map::new(),
            };
            self_info.retain(|k, _| self_filter.is_none_or(|f| f.iter().any(|x| x == k)));
            item.insert("SelfInfo".into(), Value::Object(self_info));
            item
        })
        .collect();
    answer(Subscribed {
        official_account_info_list: list,
        total_count: page.total,
        complete_flag: u8::from(page.complete),
        next: page.next_offset,
    })
}

/// The user's own side of a subscription (before `ResponseFilter.SelfInfoFilter`).
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct SelfInfo<'a> {
    subscribe_time: i64,
    custom_string: &'a str,
    msg_flag: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Subscribed {
    official_account_info_list: Vec<Map<String, Value>>,
    total_count: i64,
    complete_flag: u8,
    next: i64,
}
