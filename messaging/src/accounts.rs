//! Official accounts: create, read, search, modify, destroy.

use crate::audit::{record, AuditAction};
use crate::delivery::Change;
use crate::error::{Error, Result};
use crate::ids::{OfficialAccountId, UserId};
use crate::profile::{NewAccount, OfficialAccount, ProfileUpdate};
use crate::store::{contains_pattern, now, ResultExt};
use crate::webhooks::{enqueue, fields, refusal};
use crate::Messaging;
use rand::distributions::{Alphanumeric, DistString};
use serde_json::json;

/// Accounts read in the last second. `get_official_account_info` is the API's hottest call and
/// a SQLite round trip costs more than the rest of it; every write through this process forgets
/// the account at once, and other nodes (PostgreSQL) see a change within [`CACHE_TTL`].
#[derive(Default)]
pub(crate) struct AccountCache(std::sync::Mutex<std::collections::HashMap<String, (std::time::Instant, OfficialAccount)>>);

const CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(1);
const CACHE_MAX: usize = 10_000;

impl AccountCache {
    fn get(&self, id: &str) -> Option<OfficialAccount> {
        let map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        map.get(id).filter(|(at, _)| at.elapsed() < CACHE_TTL).map(|(_, a)| a.clone())
    }
    fn put(&self, account: &OfficialAccount) {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= CACHE_MAX {
            map.clear();
        }
        map.insert(account.id.clone(), (std::time::Instant::now(), account.clone()));
    }
    pub(crate) fn forget(&self, id: &str) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).remove(id);
    }
}

/// What to do when the owner of a new account is not an imported user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnknownOwner {
    /// Refuse with [`Error::UserNotImported`] (the REST API, as Tencent does: 70107).
    Refuse,
    /// Import the owner in the same transaction (the console, which says so before Create).
    Import,
}

const ACCOUNT_COLUMNS: &str = "account_id, owner_account, name, introduction, face_url, organization, \
     custom_string, max_subscriber_num, subscriber_num, created_at, last_msg_time, pinned_msg_key";

#[derive(sqlx::FromRow)]
struct AccountRow {
    account_id: String,
    owner_account: String,
    name: String,
    introduction: String,
    face_url: String,
    organization: String,
    custom_string: String,
    max_subscriber_num: i64,
    subscriber_num: i64,
    created_at: i64,
    last_msg_time: i64,
    pinned_msg_key: String,
}

impl AccountRow {
    fn into_account(self) -> OfficialAccount {
        OfficialAccount {
            id: self.account_id,
            owner: self.owner_account,
            name: self.name,
            introduction: self.introduction,
            face_url: self.face_url,
            organization: self.organization,
            custom_string: self.custom_string,
            max_subscriber_num: self.max_subscriber_num,
            subscriber_num: self.subscriber_num,
            create_time: self.created_at,
            last_msg_time: self.last_msg_time,
            pinned_msg_key: self.pinned_msg_key,
        }
    }
}

impl Messaging {
    /// Creates an account for `operator` (the REST admin or a console user), after the app's
    /// "before create" webhook allowed it.
    #[tracing::instrument(name = "create official account", skip_all, fields(owner = %new.owner))]
    pub async fn create_account(&self, new: NewAccount, unknown_owner: UnknownOwner, operator: &str) -> Result<OfficialAccount> {
        let asked = self
            .webhooks
            .before(
                "OfficialAccount.CallbackBeforeCreateOfficialAccount",
                fields(vec![
                    ("Operator_Account", json!(operator)),
                    ("Owner_Account", json!(new.owner.as_str())),
                    ("Name", json!(new.profile.name())),
                ]),
            )
            .await;
        if let Some(code) = refusal(asked) {
            return Err(Error::RefusedByWebhook(code));
        }
        let mut tx = self.begin_write().await?;
        let at = now();
        let owner_known: Option<(String,)> =
            sqlx::query_as("select user_id from app_user where user_id = $1").bind(new.owner.as_str()).fetch_optional(&mut *tx).await?;
        if owner_known.is_none() {
            match unknown_owner {
                UnknownOwner::Refuse => return Err(Error::UserNotImported(new.owner.to_string())),
                UnknownOwner::Import => {
                    sqlx::query("insert into app_user (user_id, created_at) values ($1, $2)")
                        .bind(new.owner.as_str())
                        .bind(at)
                        .execute(&mut *tx)
                        .await?;
                }
            }
        }
        let id = new.id.unwrap_or_else(|| OfficialAccountId::generated(&Alphanumeric.sample_string(&mut rand::thread_rng(), 16)));
        let p = &new.profile;
        // The primary key also covers destroyed accounts, so a used ID is never handed out again.
        sqlx::query(
            r#"insert into official_account
                 (account_id, owner_account, name, introduction, face_url, organization, custom_string,
                  max_subscriber_num, created_at)
               values ($1, $2, $3, $4, $5, $6, $7, $8, $9)"#,
        )
        .bind(id.as_str())
        .bind(new.owner.as_str())
        .bind(p.name())
        .bind(&p.introduction)
        .bind(&p.face_url)
        .bind(&p.organization)
        .bind(&p.custom_string)
        .bind(p.max_subscriber_num)
        .bind(at)
        .execute(&mut *tx)
        .await
        .on_unique_violation(|| Error::AccountIdTaken(id.to_string()))?;
        let event = fields(vec![
            ("Official_Account", json!(id.as_str())),
            ("Operator_Account", json!(operator)),
            ("Owner_Account", json!(new.owner.as_str())),
            ("Name", json!(p.name())),
        ]);
        enqueue(&mut tx, &self.webhooks, "OfficialAccount.CallbackAfterCreateOfficialAccount", event).await?;
        record(&mut tx, AuditAction::AccountCreated, Some(id.as_str()), p.name()).await?;
        tx.commit().await?;
        self.webhook_queued();
        self.account(&id).await
    }

    /// A live (not destroyed) account.
    pub async fn account(&self, id: &OfficialAccountId) -> Result<OfficialAccount> {
        if let Some(hit) = self.account_cache.get(id.as_str()) {
            return Ok(hit);
        }
        self.account_from_storage(id).await
    }

    /// [`Self::account`] read from the database, never the cache (which it refreshes): the hub
    /// hears of a change possibly before this node's cache forgot the old profile, and other
    /// nodes' caches never forget it early.
    pub(crate) async fn account_from_storage(&self, id: &OfficialAccountId) -> Result<OfficialAccount> {
        let sql = format!("select {ACCOUNT_COLUMNS} from official_account where account_id = $1 and destroyed_at is null");
        let account = sqlx::query_as::<_, AccountRow>(&sql)
            .bind(id.as_str())
            .fetch_optional(&self.store.pool)
            .await?
            .map(AccountRow::into_account)
            .ok_or_else(|| Error::AccountNotFound(id.to_string()))?;
        self.account_cache.put(&account);
        Ok(account)
    }

    /// Live accounts whose name, ID or owner contains `search` (case-insensitive), newest first.
    pub async fn search_accounts(&self, search: &str, limit: i64) -> Result<Vec<OfficialAccount>> {
        let sql = format!(
            r#"select {ACCOUNT_COLUMNS} from official_account
               where destroyed_at is null
                 and ($1 = '' or lower(name) like $2 escape '\' or lower(account_id) like $2 escape '\'
                      or lower(owner_account) like $2 escape '\')
               order by created_at desc, account_id
               limit $3"#
        );
        let rows = sqlx::query_as::<_, AccountRow>(&sql)
            .bind(search.trim())
            .bind(contains_pattern(search.trim()))
            .bind(limit)
            .fetch_all(&self.store.pool)
            .await?;
        Ok(rows.into_iter().map(AccountRow::into_account).collect())
    }

    #[tracing::instrument(name = "modify official account", skip_all, fields(account = %id))]
    pub async fn modify_account(&self, id: &OfficialAccountId, update: &ProfileUpdate, operator: &str) -> Result<OfficialAccount> {
        if update.is_empty() {
            return Err(crate::InvalidField::new(
                "Name",
                "give at least one of Name, Introduction, FaceUrl, Organization, CustomString, MaxSubscriberNum",
            )
            .into());
        }
        let f = update.fields();
        let mut tx = self.begin_write().await?;
        // coalesce: a missing field keeps its value.
        let done = sqlx::query(
            r#"update official_account set
                 name = coalesce($2, name),
                 introduction = coalesce($3, introduction),
                 face_url = coalesce($4, face_url),
                 organization = coalesce($5, organization),
                 custom_string = coalesce($6, custom_string),
                 max_subscriber_num = coalesce($7, max_subscriber_num),
                 content_changed_at = $8,
                 content_version = content_version + 1
               where account_id = $1 and destroyed_at is null"#,
        )
        .bind(id.as_str())
        .bind(f.name.as_deref())
        .bind(f.introduction.as_deref())
        .bind(f.face_url.as_deref())
        .bind(f.organization.as_deref())
        .bind(f.custom_string.as_deref())
        .bind(f.max_subscriber_num)
        .bind(self.now())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(Error::AccountNotFound(id.to_string()));
        }
        let mut event = fields(vec![("Official_Account", json!(id.as_str())), ("Operator_Account", json!(operator))]);
        for (name, value) in [
            ("Name", f.name.as_ref().map(|v| json!(v))),
            ("Introduction", f.introduction.as_ref().map(|v| json!(v))),
            ("FaceUrl", f.face_url.as_ref().map(|v| json!(v))),
            ("Organization", f.organization.as_ref().map(|v| json!(v))),
            ("CustomString", f.custom_string.as_ref().map(|v| json!(v))),
            ("MaxSubscriberNum", f.max_subscriber_num.map(|v| json!(v))),
        ] {
            if let Some(v) = value {
                event.insert(name.into(), v);
            }
        }
        enqueue(&mut tx, &self.webhooks, "OfficialAccount.CallbackAfterOfficialAccountInfoChanged", event).await?;
        record(&mut tx, AuditAction::AccountChanged, Some(id.as_str()), "profile changed").await?;
        self.commit_announcing(tx, vec![Change::ProfileChanged { account: id.clone() }]).await?;
        self.account_cache.forget(id.as_str());
        self.webhook_queued();
        self.account(id).await
    }

    /// Destroys an account. Its row stays as a tombstone so the ID is never reused.
    #[tracing::instrument(name = "destroy official account", skip_all, fields(account = %id))]
    pub async fn destroy_account(&self, id: &OfficialAccountId) -> Result<OfficialAccount> {
        let account = self.account(id).await?;
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("update official_account set destroyed_at = $2 where account_id = $1 and destroyed_at is null")
            .bind(id.as_str())
            .bind(now())
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(Error::AccountNotFound(id.to_string()));
        }
        let event =
            fields(vec![("Official_Account", json!(id.as_str())), ("Owner_Account", json!(account.owner)), ("Name", json!(account.name))]);
        enqueue(&mut tx, &self.webhooks, "OfficialAccount.CallbackAfterOfficialAccountDestroyed", event).await?;
        record(&mut tx, AuditAction::AccountDeleted, Some(id.as_str()), &account.name).await?;
        self.commit_announcing(tx, vec![Change::AccountDeleted { account: id.clone() }]).await?;
        self.account_cache.forget(id.as_str());
        self.webhook_queued();
        Ok(account)
    }

    /// Accounts owned by `owner` (live only).
    pub async fn accounts_of_owner(&self, owner: &UserId) -> Result<Vec<OfficialAccount>> {
        let sql =
            format!("select {ACCOUNT_COLUMNS} from official_account where owner_account = $1 and destroyed_at is null order by created_at");
        let rows = sqlx::query_as::<_, AccountRow>(&sql).bind(owner.as_str()).fetch_all(&self.store.pool).await?;
        Ok(rows.into_iter().map(AccountRow::into_account).collect())
    }
}
