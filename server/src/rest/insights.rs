//! Herald's own service `herald_open_http_svc`, its insights commands (docs/rest-api.md §9):
//! everything the console's Insights tab shows, for an app's back end to feed its own reports.

use super::official_accounts::account_id;
use super::{answer, Payload};
use messaging::insights::{AccountInsights, DayRange, PostFigures};
use messaging::polls::PollResults;
use messaging::{InvalidField, Messaging, MsgKey};
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Deserialize)]
pub struct GetAccountInsights {
    #[serde(rename = "Official_Account")]
    official_account: Option<String>,
    #[serde(rename = "From")]
    from: Option<String>,
    #[serde(rename = "To")]
    to: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct AccountAnswer {
    days: Vec<DayAnswer>,
    by_source: Vec<SourceAnswer>,
    msg_flags: MsgFlagsAnswer,
    reads_by_hour: Vec<i64>,
    online_now: i64,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct DayAnswer {
    date: String,
    subscribed: i64,
    unsubscribed: i64,
    total: i64,
    reads: i64,
    reactions: i64,
    messages_in: i64,
    replies: i64,
    posts: i64,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct SourceAnswer {
    source: String,
    subscribed: i64,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct MsgFlagsAnswer {
    accept_and_notify: i64,
    accept_not_notify: i64,
    discard: i64,
}

impl From<AccountInsights> for AccountAnswer {
    fn from(a: AccountInsights) -> Self {
        AccountAnswer {
            days: a
                .days
                .into_iter()
                .map(|d| DayAnswer {
                    date: d.date.to_string(),
                    subscribed: d.subscribed,
                    unsubscribed: d.unsubscribed,
                    total: d.total,
                    reads: d.reads,
                    reactions: d.reactions,
                    messages_in: d.messages_in,
                    replies: d.replies,
                    posts: d.posts,
                })
                .collect(),
            by_source: a.by_source.into_iter().map(|s| SourceAnswer { source: s.source, subscribed: s.subscribed }).collect(),
            msg_flags: MsgFlagsAnswer {
                accept_and_notify: a.msg_flags.accept_and_notify,
                accept_not_notify: a.msg_flags.accept_not_notify,
                discard: a.msg_flags.discard,
            },
            reads_by_hour: a.reads_by_hour,
            online_now: a.online_now,
        }
    }
}

/// A required text field; a missing or empty one is 10004 naming it.
fn required<'a>(field: &str, value: &'a Option<String>) -> Result<&'a str, InvalidField> {
    value.as_deref().filter(|v| !v.is_empty()).ok_or_else(|| InvalidField::new(field, "required (a date written YYYY-MM-DD)"))
}

/// [get_account_insights] Per UTC day from `From` to `To` (at most 366 days), and now.
pub async fn get_account_insights(m: &Messaging, req: GetAccountInsights) -> Payload {
    let account = account_id("Official_Account", req.official_account.as_deref())?;
    let range = DayRange::parse(required("From", &req.from)?, required("To", &req.to)?)?;
    answer(AccountAnswer::from(m.insights().account(&account, range).await?))
}

#[derive(Deserialize)]
pub struct GetPostInsights {
    #[serde(rename = "Official_Account")]
    official_account: Option<String>,
    #[serde(rename = "MsgKeyList", default)]
    msg_key_list: Vec<Value>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct PostsAnswer {
    posts: Vec<PostAnswer>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct PostAnswer {
    msg_key: String,
    msg_time: i64,
    recipients: i64,
    delivered_live: i64,
    pushed: i64,
    reads: i64,
    reactions: Vec<ReactionAnswer>,
    /// A poll's results (docs/rest-api.md §9); absent for other posts.
    #[serde(skip_serializing_if = "Option::is_none")]
    poll: Option<PollAnswer>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct PollAnswer {
    options: Vec<PollOptionAnswer>,
    voters: i64,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct PollOptionAnswer {
    #[serde(rename = "OptionID")]
    option_id: String,
    text: String,
    votes: i64,
}

impl From<PollResults> for PollAnswer {
    fn from(r: PollResults) -> Self {
        PollAnswer {
            options: r.options.into_iter().map(|(o, votes)| PollOptionAnswer { option_id: o.id, text: o.text, votes }).collect(),
            voters: r.voters,
        }
    }
}

#[derive(Serialize)]
struct ReactionAnswer {
    #[serde(rename = "ReactionID")]
    reaction_id: String,
    #[serde(rename = "Count")]
    count: i64,
}

impl From<PostFigures> for PostAnswer {
    fn from(p: PostFigures) -> Self {
        PostAnswer {
            msg_key: p.msg_key,
            msg_time: p.msg_time,
            recipients: p.recipients,
            delivered_live: p.delivered_live,
            pushed: p.pushed,
            reads: p.reads,
            reactions: p.reactions.into_iter().map(|r| ReactionAnswer { reaction_id: r.reaction_id, count: r.count }).collect(),
            poll: None,
        }
    }
}

/// [get_post_insights] Up to 100 broadcasts by `MsgKeyList: [{MsgKey}]`, as a recall names
/// them; a key of no broadcast of the account is left out of `Posts`.
pub async fn get_post_insights(m: &Messaging, req: GetPostInsights) -> Payload {
    let account = account_id("Official_Account", req.official_account.as_deref())?;
    let keys = req
        .msg_key_list
        .iter()
        .enumerate()
        .map(|(i, item)| {
            item.get("MsgKey")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| InvalidField::new("MsgKeyList", format!("item {i} has no MsgKey string")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let found: Vec<PostFigures> = m.insights().posts(&account, &keys).await?.into_iter().flatten().collect();
    let seqs: Vec<i64> = found.iter().filter_map(|p| MsgKey::parse(&p.msg_key)).map(|k| k.seq).collect();
    let mut polls = m.polls().results(&account, &seqs).await?;
    let posts = found
        .into_iter()
        .map(|p| {
            let poll = MsgKey::parse(&p.msg_key).and_then(|k| polls.remove(&k.seq)).map(PollAnswer::from);
            PostAnswer { poll, ..PostAnswer::from(p) }
        })
        .collect();
    answer(PostsAnswer { posts })
}
