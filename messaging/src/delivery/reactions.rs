//! Reactions (WhatsApp-style channels): each user adds or removes short reactions (an emoji or
//! a name) to a message of a conversation they are in. One row per (message, reaction, user)
//! says who; `message_reaction_count` keeps the totals in the same transaction, so reading the
//! counts of a post with a million subscribers reads a handful of rows.

use super::objects::{Message, ReactionCount};
use super::Change;
use crate::error::{InvalidField, Result};
use crate::ids::{OfficialAccountId, UserId};
use crate::store::now;
use crate::Messaging;
use std::collections::HashMap;

/// A reaction ID's longest form, in bytes.
pub const REACTION_ID_MAX_BYTES: usize = 32;
/// `getMessageReactions`' longest `msgKeyList`.
pub const REACTION_KEYS_MAX: usize = 100;

/// A reaction ID: 1–32 bytes, no control characters.
pub fn check_reaction_id(id: &str) -> Result<(), InvalidField> {
    if id.is_empty() {
        return Err(InvalidField::new("reactionID", "must not be empty"));
    }
    if id.len() > REACTION_ID_MAX_BYTES {
        return Err(InvalidField::new("reactionID", format!("at most {REACTION_ID_MAX_BYTES} bytes (got {})", id.len())));
    }
    if id.chars().any(char::is_control) {
        return Err(InvalidField::new("reactionID", "must not contain control characters"));
    }
    Ok(())
}

/// Which message a reaction is on: `conversation_user` is `""` for a broadcast.
fn thread_of(message: &Message) -> &str {
    message.conversation_user.as_deref().unwrap_or("")
}

impl Messaging {
    /// Adds (`add`) or removes `user`'s `reaction` on message `key` of `c2c_{account}`. Adding
    /// twice or removing what is not there changes nothing. The user must subscribe.
    pub async fn react(&self, user: &UserId, account: &OfficialAccountId, key: &str, reaction: &str, add: bool) -> Result<()> {
        check_reaction_id(reaction)?;
        self.account(account).await?;
        self.subscription_of(user.as_str(), account).await?;
        let message = self
            .conversation_message(user.as_str(), account, key)
            .await?
            .ok_or_else(|| InvalidField::new("msgKey", format!("no message {key} in this conversation")))?;
        if message.revoked {
            return Err(InvalidField::new("msgKey", "the message was recalled").into());
        }
        let thread = thread_of(&message).to_owned();
        let key = message.key.to_string();
        let mut tx = self.begin_write().await?;
        let changed = if add {
            sqlx::query(
                "insert into message_reaction (account_id, conversation_user, msg_key, reaction_id, user_id, created_at) \
                 values ($1, $2, $3, $4, $5, $6) on conflict do nothing",
            )
            .bind(account.as_str())
            .bind(&thread)
            .bind(&key)
            .bind(reaction)
            .bind(user.as_str())
            .bind(now())
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1
        } else {
            sqlx::query(
                "delete from message_reaction where account_id = $1 and conversation_user = $2 and msg_key = $3 and reaction_id = $4 and user_id = $5",
            )
            .bind(account.as_str())
            .bind(&thread)
            .bind(&key)
            .bind(reaction)
            .bind(user.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1
        };
        if !changed {
            tx.rollback().await?;
            return Ok(());
        }
        if add {
            crate::insights::count_day(&mut tx, account.as_str(), self.now(), crate::insights::DayCounter::Reactions, 1).await?;
        }
        sqlx::query(
            "insert into message_reaction_count (account_id, conversation_user, msg_key, reaction_id, total) values ($1, $2, $3, $4, $5) \
             on conflict (account_id, conversation_user, msg_key, reaction_id) do update set total = message_reaction_count.total + $5",
        )
        .bind(account.as_str())
        .bind(&thread)
        .bind(&key)
        .bind(reaction)
        .bind(if add { 1i64 } else { -1 })
        .execute(&mut *tx)
        .await?;
        sqlx::query("delete from message_reaction_count where account_id = $1 and conversation_user = $2 and msg_key = $3 and total <= 0")
            .bind(account.as_str())
            .bind(&thread)
            .bind(&key)
            .execute(&mut *tx)
            .await?;
        let change = Change::Reactions { account: account.clone(), user: message.conversation_user.clone(), key, by: user.to_string() };
        self.commit_announcing(tx, vec![change]).await
    }

    /// `getMessageReactions`: the reactions of each key (in order) as `user` sees them; an
    /// unknown key has none.
    pub async fn message_reactions(
        &self,
        user: &UserId,
        account: &OfficialAccountId,
        keys: &[String],
    ) -> Result<Vec<(String, Vec<ReactionCount>)>> {
        crate::batch::check_batch("msgKeyList", keys.len(), REACTION_KEYS_MAX)?;
        self.account(account).await?;
        self.subscription_of(user.as_str(), account).await?;
        let mut messages = Vec::with_capacity(keys.len());
        for key in keys {
            if let Some(m) = self.conversation_message(user.as_str(), account, key).await? {
                messages.push(m);
            }
        }
        Ok(keys
            .iter()
            .map(|k| {
                let reactions = messages.iter().find(|m| &m.key.to_string() == k).map(|m| m.reactions.clone()).unwrap_or_default();
                (k.clone(), reactions)
            })
            .collect())
    }

    /// Fills in the reactions of `messages` (all of one account) as `user` sees them: two queries.
    pub(crate) async fn attach_reactions(&self, user: &str, messages: &mut [Message]) -> Result<()> {
        let Some(first) = messages.first() else { return Ok(()) };
        let account = first.account.clone();
        let threads: Vec<String> = {
            let mut t: Vec<String> = messages.iter().map(|m| thread_of(m).to_owned()).collect();
            t.sort_unstable();
            t.dedup();
            t
        };
        let keys: Vec<String> = messages.iter().map(|m| m.key.to_string()).collect();
        let list = |from: usize, n: usize| (from..from + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
        let threads_sql = list(2, threads.len());
        let keys_sql = list(2 + threads.len(), keys.len());
        let counts_sql = format!(
            "select conversation_user, msg_key, reaction_id, total from message_reaction_count \
             where account_id = $1 and conversation_user in ({threads_sql}) and msg_key in ({keys_sql}) order by total desc, reaction_id"
        );
        let mine_sql = format!(
            "select conversation_user, msg_key, reaction_id from message_reaction \
             where account_id = $1 and conversation_user in ({threads_sql}) and msg_key in ({keys_sql}) and user_id = ${}",
            2 + threads.len() + keys.len()
        );
        let mut counts = sqlx::query_as::<_, (String, String, String, i64)>(&counts_sql).persistent(false).bind(&account);
        let mut mine = sqlx::query_as::<_, (String, String, String)>(&mine_sql).persistent(false).bind(&account);
        for t in &threads {
            counts = counts.bind(t);
            mine = mine.bind(t);
        }
        for k in &keys {
            counts = counts.bind(k);
            mine = mine.bind(k);
        }
        let counts = counts.fetch_all(&self.store.pool).await?;
        let mine = mine.bind(user).fetch_all(&self.store.pool).await?;
        let mut by_message: HashMap<(String, String), Vec<ReactionCount>> = HashMap::new();
        for (thread, key, reaction_id, total) in counts {
            let reacted_by_me = mine.iter().any(|(t, k, r)| *t == thread && *k == key && *r == reaction_id);
            by_message.entry((thread, key)).or_default().push(ReactionCount { reaction_id, total, reacted_by_me });
        }
        for m in messages.iter_mut() {
            let id = (thread_of(m).to_owned(), m.key.to_string());
            m.reactions = by_message.remove(&id).unwrap_or_default();
        }
        Ok(())
    }

    /// The reaction totals of broadcasts of `account` (the console's Posts page), by MsgKey.
    pub async fn broadcast_reaction_counts(
        &self,
        account: &OfficialAccountId,
        keys: &[String],
    ) -> Result<HashMap<String, Vec<(String, i64)>>> {
        broadcast_reaction_counts(&self.store.pool, account.as_str(), keys).await
    }

    /// Of `users`, who reacted to message `key` and with what (the hub's reaction events).
    pub async fn reactions_by(&self, account: &str, thread: &str, key: &str, users: &[String]) -> Result<Vec<(String, String)>> {
        let mut out = Vec::new();
        for chunk in users.chunks(500) {
            let sql = format!(
                "select user_id, reaction_id from message_reaction where account_id = $1 and conversation_user = $2 and msg_key = $3 \
                 and user_id in ({})",
                (4..4 + chunk.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
            );
            let mut q = sqlx::query_as::<_, (String, String)>(&sql).persistent(false).bind(account).bind(thread).bind(key);
            for u in chunk {
                q = q.bind(u);
            }
            out.extend(q.fetch_all(&self.store.pool).await?);
        }
        Ok(out)
    }

    /// The totals of one message (`thread` `""` for a broadcast), largest first.
    pub async fn reaction_totals(&self, account: &str, thread: &str, key: &str) -> Result<Vec<(String, i64)>> {
        Ok(sqlx::query_as(
            "select reaction_id, total from message_reaction_count where account_id = $1 and conversation_user = $2 and msg_key = $3 \
             order by total desc, reaction_id",
        )
        .bind(account)
        .bind(thread)
        .bind(key)
        .fetch_all(&self.store.pool)
        .await?)
    }
}

/// The reaction totals of broadcasts of `account` by MsgKey, largest first (the console's Posts
/// page and the public pages).
pub(crate) async fn broadcast_reaction_counts(
    pool: &sqlx::AnyPool,
    account: &str,
    keys: &[String],
) -> Result<HashMap<String, Vec<(String, i64)>>> {
    if keys.is_empty() {
        return Ok(HashMap::new());
    }
    let sql = format!(
        "select msg_key, reaction_id, total from message_reaction_count where account_id = $1 and conversation_user = '' \
         and msg_key in ({}) and total > 0 order by total desc, reaction_id",
        (2..2 + keys.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
    );
    let mut q = sqlx::query_as::<_, (String, String, i64)>(&sql).persistent(false).bind(account);
    for k in keys {
        q = q.bind(k);
    }
    let mut out: HashMap<String, Vec<(String, i64)>> = HashMap::new();
    for (key, reaction, total) in q.fetch_all(pool).await? {
        out.entry(key).or_default().push((reaction, total));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reaction_ids_are_short_printable_strings() {
        assert!(check_reaction_id("👍").is_ok());
        assert!(check_reaction_id("thumbs_up").is_ok());
        assert!(check_reaction_id(&"x".repeat(32)).is_ok());
        assert_eq!(check_reaction_id(&"x".repeat(33)).unwrap_err().field, "reactionID");
        assert!(check_reaction_id("").is_err());
        assert!(check_reaction_id("a\u{0}b").is_err());
    }
}
