//! One pinned post per account: its MsgKey sits on the account's row, so every reader of the
//! account (`officialAccountInfo.pinnedMsgKey`, the public page) has it without another query.
//! Pinning or unpinning is a profile change for connected clients; recalling the pinned post
//! unpins it (`broadcasts`).

use crate::audit::{record, AuditAction};
use crate::delivery::Change;
use crate::error::{InvalidField, Result};
use crate::ids::OfficialAccountId;
use crate::{Messaging, MsgKey};

impl Messaging {
    /// Pins broadcast `key` of `account` (replacing any pinned one), or unpins with `None`.
    pub async fn set_pinned(&self, account: &OfficialAccountId, key: Option<&str>) -> Result<()> {
        let current = self.account(account).await?.pinned_msg_key;
        if let Some(key) = key {
            let not_found = || InvalidField::new("MsgKey", format!("no post {key} in this account"));
            MsgKey::parse(key).filter(MsgKey::is_broadcast).ok_or_else(not_found)?;
            let post = self.broadcast(account, key).await?.ok_or_else(not_found)?;
            if post.recalled_at.is_some() {
                return Err(InvalidField::new("MsgKey", "The post was recalled; a recalled post cannot be pinned.").into());
            }
        }
        let key = key.unwrap_or("");
        if current == key {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "update official_account set pinned_msg_key = $2, content_changed_at = $3, content_version = content_version + 1 \
             where account_id = $1",
        )
        .bind(account.as_str())
        .bind(key)
        .bind(self.now())
        .execute(&mut *tx)
        .await?;
        let detail = if key.is_empty() { format!("unpinned broadcast {current}") } else { format!("pinned broadcast {key}") };
        record(&mut tx, AuditAction::PostPinned, Some(account.as_str()), &detail).await?;
        self.commit_announcing(tx, vec![Change::ProfileChanged { account: account.clone() }]).await?;
        self.account_cache.forget(account.as_str());
        Ok(())
    }
}
