//! The read side: an account's figures over a range and a set of posts' figures, each from a
//! handful of queries over counter rows (at most a row per day, per day and hour, per day and
//! source, per post). Journaled read marks are counted first, so an answer includes every
//! mark made before it.

use super::{AccountInsights, DayFigures, DayRange, Insights, MsgFlagFigures, PostFigures, ReactionFigure, SourceFigure, POSTS_MAX};
use crate::error::{Error, InvalidField, Result};
use crate::ids::OfficialAccountId;
use crate::MsgKey;
use std::collections::HashMap;

#[derive(sqlx::FromRow)]
struct DayRow {
    day: i64,
    subscribed: i64,
    unsubscribed: i64,
    reactions: i64,
    messages_in: i64,
    replies: i64,
    posts: i64,
}

#[derive(sqlx::FromRow)]
struct PostRow {
    seq: i64,
    msg_time: i64,
    recalled_at: Option<i64>,
    body: String,
    recipients: Option<i64>,
    delivered_live: Option<i64>,
    pushed: Option<i64>,
}

impl Insights {
    /// The figures of `account` over `range` (and now).
    pub async fn account(&self, account: &OfficialAccountId, range: DayRange) -> Result<AccountInsights> {
        self.flush_reads().await?;
        let id = account.as_str();
        let pool = &self.store.pool;
        let counts: Option<(i64, i64, i64)> = sqlx::query_as(
            "select subscriber_num, subscribers_not_notify, subscribers_discard from official_account \
             where account_id = $1 and destroyed_at is null",
        )
        .bind(id)
        .fetch_optional(pool)
        .await?;
        let Some((subscribers, not_notify, discard)) = counts else {
            return Err(Error::AccountNotFound(account.to_string()));
        };
        let msg_flags = MsgFlagFigures { accept_and_notify: subscribers - not_notify - discard, accept_not_notify: not_notify, discard };
        // Every day from the range's first on: the totals are counted back from today's.
        let rows: Vec<DayRow> = sqlx::query_as(
            "select day, subscribed, unsubscribed, reactions, messages_in, replies, posts from insight_day \
             where account_id = $1 and day >= $2 order by day",
        )
        .bind(id)
        .bind(range.from.number())
        .fetch_all(pool)
        .await?;
        // The range's reads, one row per day and hour (at most 366 × 24), summed both ways here.
        let day_hours: Vec<(i64, i64, i64)> =
            sqlx::query_as("select day, hour, reads from insight_day_hour where account_id = $1 and day between $2 and $3")
                .bind(id)
                .bind(range.from.number())
                .bind(range.to.number())
                .fetch_all(pool)
                .await?;
        let mut reads_by_day: HashMap<i64, i64> = HashMap::new();
        let mut reads_by_hour = vec![0; 24];
        for (day, hour, reads) in day_hours {
            *reads_by_day.entry(day).or_default() += reads;
            if let Some(slot) = usize::try_from(hour).ok().and_then(|h| reads_by_hour.get_mut(h)) {
                *slot += reads;
            }
        }
        let by_day: HashMap<i64, &DayRow> = rows.iter().map(|r| (r.day, r)).collect();
        let net_after = |day: i64| -> i64 { rows.iter().filter(|r| r.day > day).map(|r| r.subscribed - r.unsubscribed).sum() };
        let days = range
            .days()
            .map(|day| {
                let row = by_day.get(&day.number());
                let get = |f: fn(&DayRow) -> i64| row.map_or(0, |r| f(r));
                DayFigures {
                    date: day,
                    subscribed: get(|r| r.subscribed),
                    unsubscribed: get(|r| r.unsubscribed),
                    total: subscribers - net_after(day.number()),
                    reads: reads_by_day.get(&day.number()).copied().unwrap_or(0),
                    reactions: get(|r| r.reactions),
                    messages_in: get(|r| r.messages_in),
                    replies: get(|r| r.replies),
                    posts: get(|r| r.posts),
                }
            })
            .collect();
        let by_source: Vec<SourceFigure> = sqlx::query_as::<_, (String, i64)>(
            "select source, cast(sum(subscribed) as bigint) as n from insight_day_source \
             where account_id = $1 and day between $2 and $3 group by source order by n desc, source",
        )
        .bind(id)
        .bind(range.from.number())
        .bind(range.to.number())
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|(source, subscribed)| SourceFigure { source, subscribed })
        .collect();
        let (online_now,): (i64,) = sqlx::query_as(
            "select cast(coalesce(sum(o.online), 0) as bigint) from online_count o join server_node n on n.node_id = o.node_id \
             where o.account_id = $1 and n.alive_until >= $2",
        )
        .bind(id)
        .bind(crate::store::now())
        .fetch_one(pool)
        .await?;
        Ok(AccountInsights { range, days, by_source, msg_flags, reads_by_hour, online_now })
    }

    /// The figures of up to [`POSTS_MAX`] broadcasts by MsgKey, in the order asked; None for a
    /// key that names no broadcast of the account. A key that cannot be a broadcast's is refused.
    pub async fn posts(&self, account: &OfficialAccountId, keys: &[String]) -> Result<Vec<Option<PostFigures>>> {
        crate::batch::check_batch("MsgKeyList", keys.len(), POSTS_MAX)?;
        self.check_account(account).await?;
        let mut parsed = Vec::with_capacity(keys.len());
        for key in keys {
            let k = MsgKey::parse(key)
                .filter(|k| k.seq > 0 && k.random == 1)
                .ok_or_else(|| InvalidField::new("MsgKeyList", format!("{key:?} is not a broadcast's MsgKey ({{seq}}_1_{{time}})")))?;
            parsed.push(Some(k));
        }
        let seqs: Vec<i64> = parsed.iter().flatten().map(|k| k.seq).collect();
        let found = self.post_rows(account, PostSelection::Seqs(&seqs)).await?;
        let by_seq: HashMap<i64, PostFigures> =
            found.into_iter().map(|p| (MsgKey::parse(&p.figures.msg_key).map_or(0, |k| k.seq), p.figures)).collect();
        Ok(parsed.into_iter().map(|k| k.and_then(|k| by_seq.get(&k.seq).filter(|p| p.msg_key == k.to_string()).cloned())).collect())
    }

    /// Every broadcast sent in `range` with its figures, newest first (the console's posts table).
    pub async fn posts_in(&self, account: &OfficialAccountId, range: DayRange) -> Result<Vec<SentPost>> {
        self.check_account(account).await?;
        let mut posts = self.post_rows(account, PostSelection::SentIn(range)).await?;
        posts.sort_by(|a, b| b.figures.msg_time.cmp(&a.figures.msg_time).then(b.figures.msg_key.cmp(&a.figures.msg_key)));
        Ok(posts)
    }

    async fn check_account(&self, account: &OfficialAccountId) -> Result<()> {
        let found: Option<(i64,)> = sqlx::query_as("select last_seq from official_account where account_id = $1 and destroyed_at is null")
            .bind(account.as_str())
            .fetch_optional(&self.store.pool)
            .await?;
        found.map(|_| ()).ok_or_else(|| Error::AccountNotFound(account.to_string()))
    }

    async fn post_rows(&self, account: &OfficialAccountId, which: PostSelection<'_>) -> Result<Vec<SentPost>> {
        self.flush_reads().await?;
        let id = account.as_str();
        let pool = &self.store.pool;
        const COLUMNS: &str = "select b.seq, b.msg_time, b.recalled_at, b.body, p.recipients, p.delivered_live, p.pushed from broadcast b \
             left join post_insight p on p.account_id = b.account_id and p.seq = b.seq where b.account_id = $1";
        let rows: Vec<PostRow> = match which {
            PostSelection::Seqs([]) => vec![],
            PostSelection::Seqs(seqs) => {
                let list: Vec<String> = (0..seqs.len()).map(|i| format!("${}", i + 2)).collect();
                let sql = format!("{COLUMNS} and b.seq in ({})", list.join(", "));
                let mut q = sqlx::query_as(&sql).persistent(false).bind(id);
                for seq in seqs {
                    q = q.bind(*seq);
                }
                q.fetch_all(pool).await?
            }
            PostSelection::SentIn(range) => {
                sqlx::query_as(&format!("{COLUMNS} and b.msg_time >= $2 and b.msg_time < $3"))
                    .bind(id)
                    .bind(range.from.start())
                    .bind(range.to.plus(1).start())
                    .fetch_all(pool)
                    .await?
            }
        };
        let Some(newest) = rows.iter().map(|r| r.seq).max() else { return Ok(vec![]) };
        // Reads of broadcast s: the steps up to s (one row per broadcast at most).
        let steps: Vec<(i64, i64)> =
            sqlx::query_as("select seq, step from post_read_step where account_id = $1 and seq <= $2 order by seq")
                .bind(id)
                .bind(newest)
                .fetch_all(pool)
                .await?;
        let reached: Vec<(i64, i64)> = steps
            .into_iter()
            .scan(0, |sum, (seq, step)| {
                *sum += step;
                Some((seq, *sum))
            })
            .collect();
        let reads_of = |seq: i64| -> i64 {
            let upto = reached.partition_point(|(s, _)| *s <= seq);
            upto.checked_sub(1).map_or(0, |i| reached[i].1)
        };
        // Reactions of these posts only: one key lookup each (MsgKeys name the posts).
        let keys: Vec<String> = rows.iter().map(|r| MsgKey::broadcast(r.seq, r.msg_time).to_string()).collect();
        let mut reactions: HashMap<String, Vec<ReactionFigure>> = HashMap::new();
        let mut counts: Vec<(String, String, i64)> = Vec::new();
        for chunk in keys.chunks(100) {
            let list: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
            let sql = format!(
                "select msg_key, reaction_id, total from message_reaction_count where account_id = $1 and conversation_user = '' \
                 and msg_key in ({}) order by msg_key, total desc, reaction_id",
                list.join(", ")
            );
            let mut q = sqlx::query_as(&sql).persistent(false).bind(id);
            for key in chunk {
                q = q.bind(key);
            }
            counts.extend(q.fetch_all(pool).await?);
        }
        for (key, reaction_id, count) in counts {
            reactions.entry(key).or_default().push(ReactionFigure { reaction_id, count });
        }
        Ok(rows
            .into_iter()
            .map(|r| {
                let msg_key = MsgKey::broadcast(r.seq, r.msg_time).to_string();
                let figures = PostFigures {
                    reactions: reactions.remove(&msg_key).unwrap_or_default(),
                    msg_key,
                    msg_time: r.msg_time,
                    recipients: r.recipients.unwrap_or(0),
                    delivered_live: r.delivered_live.unwrap_or(0),
                    pushed: r.pushed.unwrap_or(0),
                    reads: reads_of(r.seq),
                    recalled: r.recalled_at.is_some(),
                };
                SentPost { figures, body: r.body }
            })
            .collect())
    }
}

/// A broadcast's figures with its MsgBody (JSON text), for the console to say what it was.
#[derive(Debug, Clone)]
pub struct SentPost {
    pub figures: PostFigures,
    pub body: String,
}

impl SentPost {
    pub fn body_json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Array(vec![]))
    }
}

enum PostSelection<'a> {
    Seqs(&'a [i64]),
    SentIn(DayRange),
}
