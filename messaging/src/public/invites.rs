//! Invite links: created, listed and revoked by the account's people; used by a subscription
//! (`Messaging::subscribe` with a code), which takes one use in its own transaction, so a
//! limit holds however many subscribe at once, and a subscriber who was already subscribed
//! takes none.

use super::{InviteCode, InviteLink, InviteState, NewInviteLink, INVITE_LINKS_MAX};
use crate::audit::{record, AuditAction};
use crate::error::{Error, InvalidField, Result};
use crate::ids::OfficialAccountId;
use crate::store::ResultExt;

const LINK_COLUMNS: &str = "code, account_id, name, created_at, expire_time, max_uses, uses, subscribed, revoked_at";

#[derive(sqlx::FromRow)]
struct LinkRow {
    code: String,
    account_id: String,
    name: String,
    created_at: i64,
    expire_time: Option<i64>,
    max_uses: Option<i64>,
    uses: i64,
    subscribed: i64,
    revoked_at: Option<i64>,
}

impl From<LinkRow> for InviteLink {
    fn from(r: LinkRow) -> Self {
        InviteLink {
            code: r.code,
            account: r.account_id,
            name: r.name,
            created_at: r.created_at,
            expire_time: r.expire_time,
            max_uses: r.max_uses,
            uses: r.uses,
            subscribed: r.subscribed,
            revoked: r.revoked_at.is_some(),
        }
    }
}

/// An unknown code, in the words a person who followed it understands.
fn unknown_code() -> Error {
    InvalidField::new("InviteCode", "no invite link has this code").into()
}

impl super::Public {
    /// A new link for `account`. Names are unique per account (they name the source in
    /// Insights); the creation is audited.
    pub async fn create_invite(&self, account: &OfficialAccountId, link: &NewInviteLink) -> Result<InviteLink> {
        let mut tx = self.store.begin_write().await?;
        let live: Option<(i64,)> = sqlx::query_as(
            "select (select count(*) from invite_link l where l.account_id = a.account_id) from official_account a \
             where a.account_id = $1 and a.destroyed_at is null",
        )
        .bind(account.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        let Some((existing,)) = live else { return Err(Error::AccountNotFound(account.to_string())) };
        if existing >= INVITE_LINKS_MAX {
            return Err(InvalidField::new("Name", format!("an account keeps at most {INVITE_LINKS_MAX} invite links")).into());
        }
        let code = InviteCode::generate();
        let now = self.clock.now();
        sqlx::query(
            "insert into invite_link (code, account_id, name, created_at, created_by, expire_time, max_uses) \
             values ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(code.as_str())
        .bind(account.as_str())
        .bind(&link.name)
        .bind(now)
        .bind(crate::audit::current_actor().name)
        .bind(link.expire_time)
        .bind(link.max_uses)
        .execute(&mut *tx)
        .await
        .on_unique_violation(|| {
            InvalidField::new("Name", format!("this account already has an invite link named {:?}", link.name)).into()
        })?;
        record(&mut tx, AuditAction::InviteLinkCreated, Some(account.as_str()), &format!("{:?} ({code})", link.name)).await?;
        tx.commit().await?;
        Ok(InviteLink {
            code: code.to_string(),
            account: account.to_string(),
            name: link.name.clone(),
            created_at: now,
            expire_time: link.expire_time,
            max_uses: link.max_uses,
            uses: 0,
            subscribed: 0,
            revoked: false,
        })
    }

    /// The account's links, newest first (revoked ones too).
    pub async fn invite_links(&self, account: &OfficialAccountId) -> Result<Vec<InviteLink>> {
        let exists: Option<(i64,)> = sqlx::query_as("select 1 from official_account where account_id = $1 and destroyed_at is null")
            .bind(account.as_str())
            .fetch_optional(&self.store.pool)
            .await?;
        if exists.is_none() {
            return Err(Error::AccountNotFound(account.to_string()));
        }
        let sql = format!("select {LINK_COLUMNS} from invite_link where account_id = $1 order by created_at desc, code");
        let rows: Vec<LinkRow> = sqlx::query_as(&sql).bind(account.as_str()).fetch_all(&self.store.pool).await?;
        Ok(rows.into_iter().map(InviteLink::from).collect())
    }

    /// Revokes one of the account's links (revoking twice is no error); audited.
    pub async fn revoke_invite(&self, account: &OfficialAccountId, code: &InviteCode) -> Result<()> {
        let mut tx = self.store.begin_write().await?;
        let live: Option<(i64,)> = sqlx::query_as("select 1 from official_account where account_id = $1 and destroyed_at is null")
            .bind(account.as_str())
            .fetch_optional(&mut *tx)
            .await?;
        if live.is_none() {
            return Err(Error::AccountNotFound(account.to_string()));
        }
        let found: Option<(String, Option<i64>)> =
            sqlx::query_as("select name, revoked_at from invite_link where code = $1 and account_id = $2")
                .bind(code.as_str())
                .bind(account.as_str())
                .fetch_optional(&mut *tx)
                .await?;
        let Some((name, revoked_at)) = found else { return Err(unknown_code()) };
        if revoked_at.is_none() {
            sqlx::query("update invite_link set revoked_at = $2 where code = $1")
                .bind(code.as_str())
                .bind(self.clock.now())
                .execute(&mut *tx)
                .await?;
            record(&mut tx, AuditAction::InviteLinkRevoked, Some(account.as_str()), &format!("{name:?} ({code})")).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The link with `code`, whatever its state.
    pub async fn invite(&self, code: &InviteCode) -> Result<Option<InviteLink>> {
        let sql = format!("select {LINK_COLUMNS} from invite_link where code = $1");
        let row: Option<LinkRow> = sqlx::query_as(&sql).bind(code.as_str()).fetch_optional(&self.store.pool).await?;
        Ok(row.map(InviteLink::from))
    }

    /// The link with `code` if it still brings subscribers; else a refusal that says why.
    pub async fn usable_invite(&self, code: &InviteCode) -> Result<InviteLink> {
        let link = self.invite(code).await?.ok_or_else(unknown_code)?;
        match link.state(self.clock.now()).refusal() {
            None => Ok(link),
            Some(why) => Err(InvalidField::new("InviteCode", why).into()),
        }
    }

    /// Unix seconds by this node's clock (what expiry is checked against).
    pub fn now(&self) -> i64 {
        self.clock.now()
    }
}

/// Takes one use of `code` for a subscription to `account` inside `tx`, or refuses with the
/// reason: the update only matches a link that is still usable, so two subscriptions cannot
/// both take the last use. Counts the subscription as one still subscribed.
pub(crate) async fn take_invite_use(tx: &mut sqlx::AnyConnection, account: &str, code: &str, now: i64) -> Result<()> {
    let taken = sqlx::query(
        "update invite_link set uses = uses + 1, subscribed = subscribed + 1 \
         where code = $1 and account_id = $2 and revoked_at is null and (expire_time is null or expire_time > $3) \
           and (max_uses is null or uses < max_uses)",
    )
    .bind(code)
    .bind(account)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if taken.rows_affected() == 1 {
        return Ok(());
    }
    let sql = format!("select {LINK_COLUMNS} from invite_link where code = $1 and account_id = $2");
    let link: Option<LinkRow> = sqlx::query_as(&sql).bind(code).bind(account).fetch_optional(&mut *tx).await?;
    let why = link.map(InviteLink::from).map(|l| l.state(now)).and_then(InviteState::refusal).unwrap_or("no invite link has this code");
    Err(InvalidField::new("InviteCode", why).into())
}

/// A subscriber who came by a link (`source` `link:{name}`) left: the link's "still
/// subscribed" goes down by one.
pub(crate) async fn count_unsubscribed(tx: &mut sqlx::AnyConnection, account: &str, source: &str) -> Result<()> {
    if let Some(name) = source.strip_prefix("link:") {
        sqlx::query("update invite_link set subscribed = subscribed - 1 where account_id = $1 and name = $2 and subscribed > 0")
            .bind(account)
            .bind(name)
            .execute(tx)
            .await?;
    }
    Ok(())
}
