//! The subscriber's side of the client protocol: what `c2c_{account}` holds for one user, how
//! much of it is unread, and what the user may do in it. Every rule of the protocol's operations
//! lives here (the WebSocket code only parses frames and calls these).
//!
//! A conversation merges the account's broadcasts and the user's one-to-one messages with it,
//! ordered by (time, broadcasts before one-to-one messages of the same second, sequence). Unread
//! counts derive from the subscription's two read positions (`read_seq` for broadcasts,
//! `c2c_read_seq` for one-to-one messages); no per-recipient rows exist.

use super::objects::{Message, SubscriptionState};
use super::Change;
use crate::direct::{Conversation, Direction, NewDirectMessage};
use crate::error::{Error, InvalidField, Result};
use crate::ids::{OfficialAccountId, UserId};
use crate::message::{MsgBody, MsgFlag};
use crate::profile::OfficialAccount;
use crate::{Messaging, MsgKey};
use serde_json::Value;

/// `getMessageList`'s largest page.
pub const MESSAGE_PAGE_MAX: i64 = 100;
/// `getOfficialAccountsInfo`'s longest list.
pub const ACCOUNTS_INFO_MAX: usize = 100;

/// `openim/get_c2c_unread_msg_num` asks about this many peers at most.
pub const UNREAD_PEERS_MAX: usize = 10;

/// `c2c_{officialAccountID}` → the account; `field` names the parameter in refusals.
pub fn parse_conversation_id(field: &str, id: &str) -> Result<OfficialAccountId> {
    let account = id
        .strip_prefix("c2c_")
        .ok_or_else(|| InvalidField::new(field, format!("must be c2c_ followed by an official account ID (got {id:?})")))?;
    OfficialAccountId::parse(field, account).map_err(Error::Invalid)
}

/// Where a message sits in a conversation's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Position {
    time: i64,
    /// 0 for a broadcast, 1 for a one-to-one message.
    source: i64,
    seq: i64,
}

const NEWEST: Position = Position { time: i64::MAX, source: 1, seq: i64::MAX };

#[derive(sqlx::FromRow)]
struct BroadcastRow {
    seq: i64,
    msg_time: i64,
    body: String,
    cloud_custom_data: String,
    recalled_at: Option<i64>,
    edited_at: Option<i64>,
    version: i64,
}

#[derive(sqlx::FromRow)]
struct DirectRow {
    seq: i64,
    from_account: String,
    msg_time: i64,
    random: i64,
    body: String,
    cloud_custom_data: String,
    recalled_at: Option<i64>,
}

impl BroadcastRow {
    fn into_message(self, account: &str) -> Message {
        Message {
            key: MsgKey::broadcast(self.seq, self.msg_time),
            account: account.to_owned(),
            conversation_user: None,
            sender: account.to_owned(),
            time: self.msg_time,
            body: serde_json::from_str(&self.body).unwrap_or(Value::Array(vec![])),
            cloud_custom_data: self.cloud_custom_data,
            revoked: self.recalled_at.is_some(),
            reactions: vec![],
            edited_at: self.edited_at,
            version: self.version,
            poll: None,
        }
    }
}

impl DirectRow {
    fn into_message(self, account: &str, user: &str) -> Message {
        Message {
            key: MsgKey::direct(self.seq, self.random, self.msg_time),
            account: account.to_owned(),
            conversation_user: Some(user.to_owned()),
            sender: self.from_account,
            time: self.msg_time,
            body: serde_json::from_str(&self.body).unwrap_or(Value::Array(vec![])),
            cloud_custom_data: self.cloud_custom_data,
            revoked: self.recalled_at.is_some(),
            reactions: vec![],
            edited_at: None,
            version: 1,
            poll: None,
        }
    }
}

/// A user's subscription row, as the protocol needs it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SubscriptionRow {
    pub account_id: String,
    pub subscribed_at: i64,
    pub msg_flag: String,
    pub read_seq: i64,
    pub unread: i64,
    /// The account's newest broadcast when the row was read: `unread` counts it already. A
    /// change that arrives later for a broadcast up to this one must not count it again.
    pub counted_seq: i64,
}

impl SubscriptionRow {
    pub fn state(&self) -> SubscriptionState {
        SubscriptionState {
            subscribed_at: self.subscribed_at,
            msg_flag: MsgFlag::parse("msgFlag", &self.msg_flag).unwrap_or(MsgFlag::AcceptAndNotify),
            unread: self.unread,
        }
    }
}

/// Unread messages of a subscription `s`: broadcasts after `read_seq` (none for `Discard`, which
/// receives none) and the account's one-to-one messages after `c2c_read_seq` (not `NoUnread`
/// ones), recalled ones excepted.
const UNREAD: &str = "(case when s.msg_flag = 'Discard' then 0 else \
       (select count(*) from broadcast b where b.account_id = s.account_id and b.seq > s.read_seq and b.recalled_at is null) end) \
     + (select count(*) from c2c_message c where c.account_id = s.account_id and c.subscriber_account = s.subscriber_account \
       and c.seq > s.c2c_read_seq and c.from_account = s.account_id and c.no_unread = 0 and c.recalled_at is null)";

/// The account's newest broadcast (its `last_seq`), read with [`UNREAD`] (see
/// [`SubscriptionRow::counted_seq`]).
const COUNTED_SEQ: &str = "(select oa.last_seq from official_account oa where oa.account_id = s.account_id)";

impl Messaging {
    /// The live accounts `user` subscribes to with their unread counts, oldest subscription first.
    pub async fn subscriptions_of(&self, user: &str) -> Result<Vec<SubscriptionRow>> {
        let sql = format!(
            "select s.account_id, s.subscribed_at, s.msg_flag, s.read_seq, {UNREAD} as unread, {COUNTED_SEQ} as counted_seq \
             from subscription s join official_account a on a.account_id = s.account_id \
             where s.subscriber_account = $1 and a.destroyed_at is null order by s.subscribed_at, s.account_id"
        );
        Ok(sqlx::query_as(&sql).bind(user).fetch_all(&self.store.pool).await?)
    }

    /// One subscription with its unread count, or [`Error::NotSubscribed`].
    pub async fn subscription_of(&self, user: &str, account: &OfficialAccountId) -> Result<SubscriptionRow> {
        let sql = format!(
            "select s.account_id, s.subscribed_at, s.msg_flag, s.read_seq, {UNREAD} as unread, {COUNTED_SEQ} as counted_seq \
             from subscription s where s.account_id = $1 and s.subscriber_account = $2"
        );
        let row: Option<SubscriptionRow> = sqlx::query_as(&sql).bind(account.as_str()).bind(user).fetch_optional(&self.store.pool).await?;
        row.ok_or_else(|| Error::NotSubscribed { account: account.to_string(), user: user.to_owned() })
    }

    /// The sum of `user`'s unread counts over their accounts.
    pub async fn total_unread(&self, user: &str) -> Result<i64> {
        Ok(self.subscriptions_of(user).await?.iter().map(|s| s.unread).sum())
    }

    /// `openim/get_c2c_unread_msg_num`: `user`'s unread total, and per peer account the
    /// unread count of its conversation (0 when the user does not subscribe).
    pub async fn unread_counts(&self, user: &UserId, peers: &[String]) -> Result<(i64, Vec<(String, Result<i64>)>)> {
        if peers.len() > UNREAD_PEERS_MAX {
            return Err(InvalidField::new("Peer_Account", format!("at most {UNREAD_PEERS_MAX} items (got {})", peers.len())).into());
        }
        let subscriptions = self.subscriptions_of(user.as_str()).await?;
        let total = subscriptions.iter().map(|s| s.unread).sum();
        let per_peer = peers
            .iter()
            .map(|p| {
                let r = OfficialAccountId::parse("Peer_Account", p)
                    .map_err(Error::Invalid)
                    .map(|id| subscriptions.iter().find(|s| s.account_id == id.as_str()).map_or(0, |s| s.unread));
                (p.clone(), r)
            })
            .collect();
        Ok((total, per_peer))
    }

    /// `subscribeOfficialAccount`: subscribes `user` (already subscribed is success). The app's
    /// "before add" webhook and `MaxSubscriberNum` apply as for `add_subscriber`. With an
    /// invite code of `account` that still works, a new subscription counts for that link
    /// (source `link:{name}`) and takes one of its uses; a code that does not work is refused
    /// with the reason, before anything changes.
    pub async fn subscribe(&self, user: &UserId, account: &OfficialAccountId, invite: Option<&crate::public::InviteCode>) -> Result<()> {
        let source = match invite {
            None => crate::insights::Source::App,
            Some(code) => {
                let link = self.public().usable_invite(code).await?;
                if link.account != account.as_str() {
                    return Err(
                        InvalidField::new("inviteCode", format!("this invite link is for another account ({})", link.account)).into()
                    );
                }
                crate::insights::Source::Link(link.name)
            }
        };
        let outcome = self.add_subscribers_with(account, std::slice::from_ref(user), user.as_str(), source, invite.cloned()).await?;
        if let Some(why) = outcome.invite_refused {
            return Err(why.into());
        }
        match outcome.results.first().map(|(_, r)| *r) {
            Some(crate::subscribers::BatchResult::Failed) if outcome.became_full => {
                Err(Error::Forbidden(format!("{account} has reached its maximum number of subscribers")))
            }
            Some(crate::subscribers::BatchResult::Failed) => Err(Error::Forbidden(format!("the app refused subscribing to {account}"))),
            _ => Ok(()),
        }
    }

    /// `unsubscribeOfficialAccount` (not subscribed: success, nothing changes).
    pub async fn unsubscribe(&self, user: &UserId, account: &OfficialAccountId) -> Result<()> {
        self.delete_subscribers(account, std::slice::from_ref(user), user.as_str()).await?;
        Ok(())
    }

    /// `getOfficialAccountsInfo`: each asked account as `user` sees it (`Err` per missing one);
    /// an empty list means every account the user subscribes to.
    pub async fn accounts_info(
        &self,
        user: &UserId,
        ids: &[OfficialAccountId],
    ) -> Result<Vec<(String, Result<(OfficialAccount, Option<SubscriptionState>)>)>> {
        if !ids.is_empty() {
            crate::batch::check_batch("officialAccountIDList", ids.len(), ACCOUNTS_INFO_MAX)?;
        }
        let subscriptions = self.subscriptions_of(user.as_str()).await?;
        let state_of = |id: &str| subscriptions.iter().find(|s| s.account_id == id).map(SubscriptionRow::state);
        let asked: Vec<String> = if ids.is_empty() {
            subscriptions.iter().map(|s| s.account_id.clone()).collect()
        } else {
            ids.iter().map(|i| i.to_string()).collect()
        };
        let mut out = Vec::with_capacity(asked.len());
        for id in asked {
            let parsed = OfficialAccountId::parse("officialAccountIDList", &id).map_err(Error::Invalid);
            let result = match parsed {
                Ok(parsed) => self.account(&parsed).await.map(|a| (a, state_of(&id))),
                Err(e) => Err(e),
            };
            out.push((id, result));
        }
        Ok(out)
    }

    /// `setMessageReceiveOption`.
    pub async fn set_receive_option(&self, user: &UserId, account: &OfficialAccountId, flag: MsgFlag) -> Result<()> {
        self.modify_subscriber(account, user, &crate::subscribers::SubscriberChange { custom_string: None, msg_flag: Some(flag) }).await
    }

    /// Where `key` sits in the conversation of `account` with `user` (a broadcast is a key with
    /// random 1 that names a stored broadcast; anything else is one of the user's messages).
    async fn position_of(&self, account: &OfficialAccountId, field: &str, key: &str) -> Result<Position> {
        let k = MsgKey::parse(key)
            .ok_or_else(|| InvalidField::new(field, format!("not a MsgKey of the form {{seq}}_{{random}}_{{time}} (got {key:?})")))?;
        if k.random == 1 && self.broadcast(account, key).await?.is_some() {
            return Ok(Position { time: k.time, source: 0, seq: k.seq });
        }
        Ok(Position { time: k.time, source: 1, seq: k.seq })
    }

    /// `getMessageList`: up to `count` messages older than `last_key`, newest first, and whether
    /// nothing older exists. The user must subscribe.
    pub async fn conversation_messages(
        &self,
        user: &UserId,
        account: &OfficialAccountId,
        count: i64,
        last_key: Option<&str>,
    ) -> Result<(Vec<Message>, bool)> {
        if !(1..=MESSAGE_PAGE_MAX).contains(&count) {
            return Err(InvalidField::new("count", format!("must be between 1 and {MESSAGE_PAGE_MAX} (got {count})")).into());
        }
        self.account(account).await?;
        self.subscription_of(user.as_str(), account).await?;
        let before = match last_key {
            None | Some("") => NEWEST,
            Some(k) => self.position_of(account, "lastMsgKey", k).await?,
        };
        let broadcasts: Vec<BroadcastRow> = sqlx::query_as(
            "select seq, msg_time, body, cloud_custom_data, recalled_at, edited_at, version from broadcast \
             where account_id = $1 and (msg_time < $2 or (msg_time = $2 and ($3 = 1 or seq < $4))) \
             order by msg_time desc, seq desc limit $5",
        )
        .bind(account.as_str())
        .bind(before.time)
        .bind(before.source)
        .bind(before.seq)
        .bind(count + 1)
        .fetch_all(&self.store.pool)
        .await?;
        let direct: Vec<DirectRow> = sqlx::query_as(
            "select seq, from_account, msg_time, random, body, cloud_custom_data, recalled_at from c2c_message \
             where account_id = $1 and subscriber_account = $2 and (msg_time < $3 or (msg_time = $3 and $4 = 1 and seq < $5)) \
             order by msg_time desc, seq desc limit $6",
        )
        .bind(account.as_str())
        .bind(user.as_str())
        .bind(before.time)
        .bind(before.source)
        .bind(before.seq)
        .bind(count + 1)
        .fetch_all(&self.store.pool)
        .await?;
        let mut merged: Vec<(Position, Message)> = broadcasts
            .into_iter()
            .map(|b| (Position { time: b.msg_time, source: 0, seq: b.seq }, b.into_message(account.as_str())))
            .chain(
                direct
                    .into_iter()
                    .map(|d| (Position { time: d.msg_time, source: 1, seq: d.seq }, d.into_message(account.as_str(), user.as_str()))),
            )
            .collect();
        merged.sort_by_key(|(position, _)| std::cmp::Reverse(*position));
        let finished = merged.len() as i64 <= count;
        merged.truncate(count as usize);
        let mut messages: Vec<Message> = merged.into_iter().map(|(_, m)| m).collect();
        self.attach_reactions(user.as_str(), &mut messages).await?;
        self.polls().attach(Some(user.as_str()), &mut messages).await?;
        Ok((messages, finished))
    }

    /// One message of the conversation by key, if it exists (with reactions as `user` sees them).
    pub async fn conversation_message(&self, user: &str, account: &OfficialAccountId, key: &str) -> Result<Option<Message>> {
        let Some(k) = MsgKey::parse(key) else { return Ok(None) };
        let position = self.position_of(account, "msgKey", key).await?;
        let mut message = if position.source == 0 {
            let row: Option<BroadcastRow> = sqlx::query_as(
                "select seq, msg_time, body, cloud_custom_data, recalled_at, edited_at, version from broadcast where account_id = $1 and seq = $2 and msg_time = $3",
            )
            .bind(account.as_str())
            .bind(k.seq)
            .bind(k.time)
            .fetch_optional(&self.store.pool)
            .await?;
            row.map(|r| r.into_message(account.as_str()))
        } else {
            self.direct_message(account.as_str(), user, k.seq).await?.filter(|m| m.key == k)
        };
        if let Some(m) = message.as_mut() {
            self.attach_reactions(user, std::slice::from_mut(m)).await?;
            self.polls().attach(Some(user), std::slice::from_mut(m)).await?;
        }
        Ok(message)
    }

    /// A stored one-to-one message of the conversation of `account` and `user`.
    pub async fn direct_message(&self, account: &str, user: &str, seq: i64) -> Result<Option<Message>> {
        let row: Option<DirectRow> = sqlx::query_as(
            "select seq, from_account, msg_time, random, body, cloud_custom_data, recalled_at from c2c_message \
             where account_id = $1 and subscriber_account = $2 and seq = $3",
        )
        .bind(account)
        .bind(user)
        .bind(seq)
        .fetch_optional(&self.store.pool)
        .await?;
        Ok(row.map(|r| r.into_message(account, user)))
    }

    /// A stored broadcast as a message (the hub's new-message event).
    pub async fn broadcast_message(&self, account: &str, seq: i64) -> Result<Option<Message>> {
        let row: Option<BroadcastRow> =
            sqlx::query_as("select seq, msg_time, body, cloud_custom_data, recalled_at, edited_at, version from broadcast where account_id = $1 and seq = $2")
                .bind(account)
                .bind(seq)
                .fetch_optional(&self.store.pool)
                .await?;
        Ok(row.map(|r| r.into_message(account)))
    }

    /// The newest broadcast (`last_seq`) of each of `accounts` (the hub's resync).
    pub(crate) async fn newest_broadcasts(&self, accounts: &[String]) -> Result<std::collections::HashMap<String, i64>> {
        let mut out = std::collections::HashMap::new();
        for chunk in accounts.chunks(500) {
            let sql = format!(
                "select account_id, last_seq from official_account where account_id in ({})",
                (1..=chunk.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
            );
            let mut q = sqlx::query_as::<_, (String, i64)>(&sql).persistent(false);
            for a in chunk {
                q = q.bind(a);
            }
            out.extend(q.fetch_all(&self.store.pool).await?);
        }
        Ok(out)
    }

    /// Broadcasts of `accounts` recalled or edited since `since` (Unix seconds), among each
    /// account's newest 1,000 (the hub's resync): (account, MsgKey, recalled).
    pub(crate) async fn broadcasts_changed_since(&self, accounts: &[String], since: i64) -> Result<Vec<(String, String, bool)>> {
        let mut out = Vec::new();
        for chunk in accounts.chunks(500) {
            let sql = format!(
                "select b.account_id, b.seq, b.msg_time, b.recalled_at from broadcast b join official_account a on a.account_id = b.account_id \
                 where b.account_id in ({}) and b.seq > a.last_seq - 1000 and (b.recalled_at >= $1 or b.edited_at >= $1) order by b.account_id, b.seq",
                (2..=chunk.len() + 1).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
            );
            let mut q = sqlx::query_as::<_, (String, i64, i64, Option<i64>)>(&sql).persistent(false).bind(since);
            for a in chunk {
                q = q.bind(a);
            }
            for (account, seq, time, recalled) in q.fetch_all(&self.store.pool).await? {
                out.push((account, crate::MsgKey::broadcast(seq, time).to_string(), recalled.is_some()));
            }
        }
        Ok(out)
    }

    /// `markConversationRead`: moves the read positions to `key` (everything up to now without
    /// one; never backwards) and answers the conversation's unread count.
    pub async fn mark_conversation_read(&self, user: &UserId, account: &OfficialAccountId, key: Option<&str>) -> Result<i64> {
        self.account(account).await?;
        let upto = match key {
            None | Some("") => NEWEST,
            Some(k) => self.position_of(account, "msgKey", k).await?,
        };
        self.mark_read_upto(user, account, upto).await
    }

    /// `openim/admin_set_msg_read`: everything of the conversation sent up to `time` (Unix
    /// seconds; now without one) is read. Answers the conversation's unread count.
    pub async fn mark_read_until(&self, user: &UserId, account: &OfficialAccountId, time: Option<i64>) -> Result<i64> {
        self.account(account).await?;
        let upto = time.map_or(NEWEST, |t| Position { time: t, source: 1, seq: i64::MAX });
        self.mark_read_upto(user, account, upto).await
    }

    async fn mark_read_upto(&self, user: &UserId, account: &OfficialAccountId, upto: Position) -> Result<i64> {
        metrics::counter!("herald_read_marks_total").increment(1);
        // A client marks read often with nothing new since: positions only move forward, so
        // when both already cover `upto` there is nothing to write (no write lock, no change).
        if upto == NEWEST {
            let covered: Option<(i64,)> = sqlx::query_as(
                "select 1 from subscription s join official_account a on a.account_id = s.account_id \
                 where s.account_id = $1 and s.subscriber_account = $2 and s.read_seq >= a.last_seq and s.c2c_read_seq >= s.c2c_last_seq",
            )
            .bind(account.as_str())
            .bind(user.as_str())
            .fetch_optional(&self.store.pool)
            .await?;
            if covered.is_some() {
                return Ok(self.subscription_of(user.as_str(), account).await?.unread);
            }
        }
        let mut tx = self.begin_write().await?;
        let last_broadcast: Option<(i64,)> = sqlx::query_as(
            "select seq from broadcast where account_id = $1 and (msg_time < $2 or (msg_time = $2 and ($3 = 1 or seq <= $4))) \
             order by msg_time desc, seq desc limit 1",
        )
        .bind(account.as_str())
        .bind(upto.time)
        .bind(upto.source)
        .bind(upto.seq)
        .fetch_optional(&mut *tx)
        .await?;
        let last_direct: Option<(i64,)> = sqlx::query_as(
            "select seq from c2c_message where account_id = $1 and subscriber_account = $2 \
               and (msg_time < $3 or (msg_time = $3 and $4 = 1 and seq <= $5)) order by msg_time desc, seq desc limit 1",
        )
        .bind(account.as_str())
        .bind(user.as_str())
        .bind(upto.time)
        .bind(upto.source)
        .bind(upto.seq)
        .fetch_optional(&mut *tx)
        .await?;
        let (b, d) = (last_broadcast.map_or(0, |r| r.0), last_direct.map_or(0, |r| r.0));
        // The position before the move (this takes the row's lock), for insights' reads.
        let before: Option<(i64,)> = sqlx::query_as(
            "update subscription set read_seq = read_seq where account_id = $1 and subscriber_account = $2 returning read_seq",
        )
        .bind(account.as_str())
        .bind(user.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        let Some((read_before,)) = before else {
            return Err(Error::NotSubscribed { account: account.to_string(), user: user.to_string() });
        };
        if b > read_before {
            let (posts,): (i64,) =
                sqlx::query_as("select count(*) from broadcast where account_id = $1 and seq > $2 and seq <= $3 and recalled_at is null")
                    .bind(account.as_str())
                    .bind(read_before)
                    .bind(b)
                    .fetch_one(&mut *tx)
                    .await?;
            crate::insights::journal_read(&mut tx, account.as_str(), read_before, b, posts, self.now()).await?;
        }
        let done = sqlx::query(
            "update subscription set read_seq = case when read_seq < $3 then $3 else read_seq end, \
               c2c_read_seq = case when c2c_read_seq < $4 then $4 else c2c_read_seq end \
             where account_id = $1 and subscriber_account = $2",
        )
        .bind(account.as_str())
        .bind(user.as_str())
        .bind(b)
        .bind(d)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(Error::NotSubscribed { account: account.to_string(), user: user.to_string() });
        }
        self.commit_announcing(tx, vec![Change::Read { account: account.clone(), user: user.to_string() }]).await?;
        Ok(self.subscription_of(user.as_str(), account).await?.unread)
    }

    /// `sendMessage`: a subscriber writes to the account (C2C webhooks apply; the user must
    /// subscribe). `origin` names the sending connection, which is not sent the event too.
    pub async fn send_as_subscriber(
        &self,
        user: &UserId,
        account: &OfficialAccountId,
        body: Value,
        cloud_custom_data: String,
        origin: Option<String>,
    ) -> Result<Message> {
        let body = MsgBody::parse("msgBody", body)?;
        let conversation = Conversation { account: account.clone(), subscriber: user.clone(), direction: Direction::SubscriberToAccount };
        let message = NewDirectMessage::plain(conversation, body.clone(), cloud_custom_data.clone(), origin);
        let sent = self.send_direct(message).await?;
        let key = MsgKey::parse(&sent.msg_key).ok_or_else(|| Error::Internal("send_direct gave a malformed key".into()))?;
        Ok(Message {
            key,
            account: account.to_string(),
            conversation_user: Some(user.to_string()),
            sender: user.to_string(),
            time: sent.msg_time,
            body: body.as_json().clone(),
            cloud_custom_data,
            revoked: false,
            reactions: vec![],
            edited_at: None,
            version: 1,
            poll: None,
        })
    }
}
