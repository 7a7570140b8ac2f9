//! The platform owner's team: inviting console users with a role (and, for editors and
//! viewers, the accounts they work on), disabling them, changing their role, new one-time links.
//! Who may act on which account is stored in `account_access` and read by
//! [`Messaging::authorize`]. The last enabled platform owner can be neither disabled nor demoted.

use super::token_hash;
use super::Console;
use crate::audit::{record, AuditAction};
use crate::error::{Error, InvalidField, Result};
use crate::ids::OfficialAccountId;
use crate::roles::{Access, PasswordRating, Role, TeamMember};
use crate::store::now;
use crate::Messaging;
use rand::distributions::{Alphanumeric, DistString};

/// An invitation link is good for 72 hours.
pub const INVITATION_TTL_SECS: i64 = 72 * 3600;
/// A new password: at least this many characters …
pub const NEW_PASSWORD_MIN_CHARS: usize = 12;
/// … and at least this zxcvbn score (0–4).
pub const NEW_PASSWORD_MIN_SCORE: u8 = 3;
/// Console user names: 1–32 of a–z, 0–9, `.`, `_`, `-`.
pub const USERNAME_MAX_CHARS: usize = 32;

/// Rates a new password for `username` (zxcvbn, with the user name as a known input).
pub fn rate_password(password: &str, username: &str) -> PasswordRating {
    let entropy = zxcvbn::zxcvbn(password, &[username, "herald"]);
    let score = u8::from(entropy.score());
    let mut feedback = Vec::new();
    if password.chars().count() < NEW_PASSWORD_MIN_CHARS {
        feedback.push(format!("Use at least {NEW_PASSWORD_MIN_CHARS} characters."));
    }
    if let Some(f) = entropy.feedback() {
        feedback.extend(f.warning().map(|w| w.to_string()));
        feedback.extend(f.suggestions().iter().map(|s| s.to_string()));
    }
    let acceptable = score >= NEW_PASSWORD_MIN_SCORE && password.chars().count() >= NEW_PASSWORD_MIN_CHARS;
    PasswordRating { score, acceptable, feedback }
}

fn check_username(name: &str) -> Result<(), InvalidField> {
    let ok = !name.is_empty()
        && name.chars().count() <= USERNAME_MAX_CHARS
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(InvalidField::new("username", format!("1–{USERNAME_MAX_CHARS} characters: lowercase letters, digits, . _ -")))
    }
}

impl Console {
    /// How `username` stands to `account` (the platform owner is handled by its role).
    pub(crate) async fn access_to(&self, username: &str, account: &OfficialAccountId) -> Result<Access> {
        let row: Option<(String,)> = sqlx::query_as("select access from account_access where account_id = $1 and username = $2")
            .bind(account.as_str())
            .bind(username)
            .fetch_optional(&self.store.pool)
            .await?;
        Ok(match row.as_ref().map(|(a,)| a.as_str()) {
            Some("owner") => Access::Owner,
            Some(_) => Access::Assigned,
            None => Access::None,
        })
    }

    /// Records that `username` created `account` (they own it).
    pub async fn grant_ownership(&self, username: &str, account: &OfficialAccountId) -> Result<()> {
        sqlx::query(
            "insert into account_access (account_id, username, access, granted_at) values ($1, $2, 'owner', $3) on conflict do nothing",
        )
        .bind(account.as_str())
        .bind(username)
        .bind(now())
        .execute(&self.store.pool)
        .await?;
        Ok(())
    }

    /// Who besides platform owners works on `account`: (user name, role, owner?), by name.
    pub async fn people_of_account(&self, account: &OfficialAccountId) -> Result<Vec<(String, Role, bool)>> {
        let rows: Vec<(String, String, String)> = sqlx::query_as(
            "select c.username, c.role, a.access from account_access a join console_user c on c.username = a.username \
             where a.account_id = $1 and c.disabled_at is null order by c.username",
        )
        .bind(account.as_str())
        .fetch_all(&self.store.pool)
        .await?;
        Ok(rows.into_iter().map(|(u, r, a)| (u, super::stored_role(&r), a == "owner")).collect())
    }

    /// Editors and viewers who could be assigned to accounts.
    pub async fn assignable_users(&self) -> Result<Vec<String>> {
        let rows: Vec<(String,)> =
            sqlx::query_as("select username from console_user where role in ($1, $2) and disabled_at is null order by username")
                .bind(Role::Editor.as_str())
                .bind(Role::Viewer.as_str())
                .fetch_all(&self.store.pool)
                .await?;
        Ok(rows.into_iter().map(|(u,)| u).collect())
    }

    /// Assigns an editor or viewer to `account` (`assign`), or takes the assignment away; the
    /// account as read (`Messaging::account`) is the proof that it exists.
    pub async fn assign_to_account(&self, account: &crate::OfficialAccount, username: &str, assign: bool) -> Result<()> {
        if assign {
            let role = self.console_user(username).await?.map(|u| u.role);
            if !role.is_some_and(Role::works_on_assigned_accounts) {
                return Err(InvalidField::new("username", format!("{username} is not an enabled editor or viewer")).into());
            }
            let mut tx = self.begin_write().await?;
            sqlx::query("insert into account_access (account_id, username, access, granted_at) values ($1, $2, 'assigned', $3) on conflict do nothing")
                .bind(account.id.as_str())
                .bind(username)
                .bind(now())
                .execute(&mut *tx)
                .await?;
            record(&mut tx, AuditAction::AccessGranted, Some(account.id.as_str()), username).await?;
            tx.commit().await?;
        } else {
            let mut tx = self.begin_write().await?;
            let removed = sqlx::query("delete from account_access where account_id = $1 and username = $2 and access = 'assigned'")
                .bind(account.id.as_str())
                .bind(username)
                .execute(&mut *tx)
                .await?;
            if removed.rows_affected() > 0 {
                record(&mut tx, AuditAction::AccessRemoved, Some(account.id.as_str()), username).await?;
            }
            tx.commit().await?;
        }
        Ok(())
    }

    /// The accounts `username` owns or is assigned to.
    pub async fn accounts_of_console_user(&self, username: &str) -> Result<Vec<String>> {
        let rows: Vec<(String,)> = sqlx::query_as("select account_id from account_access where username = $1 order by account_id")
            .bind(username)
            .fetch_all(&self.store.pool)
            .await?;
        Ok(rows.into_iter().map(|(a,)| a).collect())
    }

    /// Every console user, platform owners first, then by name.
    pub async fn team(&self) -> Result<Vec<TeamMember>> {
        let rows: Vec<(String, String, Option<i64>, Option<i64>, Option<String>)> =
            sqlx::query_as("select username, role, last_sign_in_at, disabled_at, password_hash from console_user order by username")
                .fetch_all(&self.store.pool)
                .await?;
        let mut team = Vec::with_capacity(rows.len());
        for (username, role, last_sign_in_at, disabled_at, hash) in rows {
            let role = super::stored_role(&role);
            let accounts = if role == Role::PlatformOwner { vec![] } else { self.accounts_of_console_user(&username).await? };
            team.push(TeamMember {
                username,
                role,
                accounts,
                last_sign_in_at,
                disabled: disabled_at.is_some(),
                has_password: hash.is_some(),
            });
        }
        team.sort_by_key(|m| m.role != Role::PlatformOwner);
        Ok(team)
    }

    /// Invites `username` as `role` (editors and viewers: on `accounts`); returns the one-time
    /// token of the invitation link (72 h), which only its hash is stored of. The accounts as
    /// read (`Messaging::account`) are the proof that they exist.
    pub async fn invite_console_user(&self, by: &str, username: &str, role: Role, accounts: &[crate::OfficialAccount]) -> Result<String> {
        check_username(username)?;
        let assigned = role.works_on_assigned_accounts();
        if assigned && accounts.is_empty() {
            return Err(InvalidField::new("accounts", "choose the accounts an editor or viewer works on").into());
        }
        let at = now();
        let mut tx = self.begin_write().await?;
        let inserted = sqlx::query(
            "insert into console_user (username, password_hash, role, created_at, invited_by) values ($1, null, $2, $3, $4) on conflict do nothing",
        )
        .bind(username)
        .bind(role.as_str())
        .bind(at)
        .bind(by)
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 0 {
            return Err(InvalidField::new("username", format!("{username} is already a console user")).into());
        }
        if assigned {
            for a in accounts {
                sqlx::query("insert into account_access (account_id, username, access, granted_at) values ($1, $2, 'assigned', $3)")
                    .bind(a.id.as_str())
                    .bind(username)
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        let token = insert_link(&mut tx, username, "invitation", at + INVITATION_TTL_SECS).await?;
        let on = accounts.iter().map(|a| a.id.as_str()).collect::<Vec<_>>().join(", ");
        let detail =
            if on.is_empty() { format!("{username} as {}", role.label()) } else { format!("{username} as {} on {on}", role.label()) };
        record(&mut tx, AuditAction::UserInvited, accounts.first().map(|a| a.id.as_str()).filter(|_| accounts.len() == 1), &detail).await?;
        tx.commit().await?;
        tracing::info!(by, username, role = role.as_str(), "console user invited");
        Ok(token)
    }

    /// A new invitation link for `username` (Reset password): their password is removed, older
    /// links stop working.
    pub async fn new_invitation_link(&self, username: &str) -> Result<String> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("update console_user set password_hash = null where username = $1").bind(username).execute(&mut *tx).await?;
        if done.rows_affected() == 0 {
            return Err(InvalidField::new("username", format!("no console user is called {username:?}")).into());
        }
        let token = insert_link(&mut tx, username, "invitation", now() + INVITATION_TTL_SECS).await?;
        super::sessions::end_sessions_of(&mut tx, username).await?;
        record(&mut tx, AuditAction::InvitationLinkIssued, None, &format!("{username}: password removed, new link issued")).await?;
        tx.commit().await?;
        Ok(token)
    }

    /// Accepts an invitation: a password that rates well enough, then the link is used up.
    pub async fn accept_invitation(&self, token: &str, password: &str) -> Result<super::ConsoleUser> {
        let row: Option<(String,)> = sqlx::query_as(
            "select username from sign_in_token where token_hash = $1 and purpose = 'invitation' and used_at is null and expires_at >= $2",
        )
        .bind(token_hash(token))
        .bind(now())
        .fetch_optional(&self.store.pool)
        .await?;
        let Some((username,)) = row else {
            return Err(Error::Forbidden("this invitation link is unknown, used or expired; ask for a new one".into()));
        };
        check_new_password(password, &username)?;
        // Recorded as the invitee (nobody is signed in yet), from the request's address.
        let actor = crate::audit::Actor { name: username.clone(), address: crate::audit::current_actor().address };
        crate::audit::acting_as(actor, self.store_password(&username, password, AuditAction::InvitationAccepted)).await?;
        self.console_user(&username).await?.ok_or_else(|| Error::Forbidden("this user is disabled".into()))
    }

    /// Disables (or enables again) a console user; a disabled user's sessions stop working at
    /// their next request.
    pub async fn set_console_user_disabled(&self, username: &str, disabled: bool) -> Result<()> {
        let mut tx = self.begin_write().await?;
        if disabled {
            guard_last_owner(&mut tx, username).await?;
        }
        let done = sqlx::query("update console_user set disabled_at = $2 where username = $1")
            .bind(username)
            .bind(disabled.then(now))
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(InvalidField::new("username", format!("no console user is called {username:?}")).into());
        }
        if disabled {
            super::sessions::end_sessions_of(&mut tx, username).await?;
        }
        let action = if disabled { AuditAction::UserDisabled } else { AuditAction::UserEnabled };
        record(&mut tx, action, None, username).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Changes a console user's role.
    pub async fn change_console_role(&self, username: &str, role: Role) -> Result<()> {
        let mut tx = self.begin_write().await?;
        if role != Role::PlatformOwner {
            guard_last_owner(&mut tx, username).await?;
        }
        let done = sqlx::query("update console_user set role = $2 where username = $1")
            .bind(username)
            .bind(role.as_str())
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(InvalidField::new("username", format!("no console user is called {username:?}")).into());
        }
        record(&mut tx, AuditAction::RoleChanged, None, &format!("{username} is now {}", role.label())).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Every new password (invitation, change, first start): long enough and rated well enough.
pub(crate) fn check_new_password(password: &str, username: &str) -> Result<(), InvalidField> {
    let rating = rate_password(password, username);
    if rating.acceptable {
        return Ok(());
    }
    let advice = rating.feedback.join(" ");
    Err(InvalidField::new(
        "password",
        format!("too easy to guess (strength {} of 4, needs {NEW_PASSWORD_MIN_SCORE}). {advice}", rating.score),
    ))
}

/// Refuses to take away the last enabled platform owner (`username` being that one).
async fn guard_last_owner(tx: &mut sqlx::AnyConnection, username: &str) -> Result<()> {
    let owners: Vec<(String,)> = sqlx::query_as("select username from console_user where role = $1 and disabled_at is null")
        .bind(Role::PlatformOwner.as_str())
        .fetch_all(&mut *tx)
        .await?;
    if owners.len() == 1 && owners[0].0 == username {
        return Err(Error::Forbidden("the last enabled platform owner can be neither disabled nor given another role".into()));
    }
    Ok(())
}

/// A new one-time link for `username` (older ones of theirs stop working).
async fn insert_link(tx: &mut sqlx::AnyConnection, username: &str, purpose: &str, expires_at: i64) -> Result<String> {
    let token = Alphanumeric.sample_string(&mut rand::thread_rng(), 40);
    sqlx::query("delete from sign_in_token where username = $1").bind(username).execute(&mut *tx).await?;
    sqlx::query("insert into sign_in_token (token_hash, username, expires_at, purpose) values ($1, $2, $3, $4)")
        .bind(token_hash(&token))
        .bind(username)
        .bind(expires_at)
        .bind(purpose)
        .execute(&mut *tx)
        .await?;
    Ok(token)
}

impl Messaging {
    /// The accounts `user` may see whose name, ID or owner contains `search`: every account for
    /// the platform owner, else the ones they own or are assigned to.
    pub async fn accounts_visible_to(&self, user: &super::ConsoleUser, search: &str, limit: i64) -> Result<Vec<crate::OfficialAccount>> {
        if user.role == Role::PlatformOwner {
            return self.search_accounts(search, limit).await;
        }
        let needle = search.to_lowercase();
        let mut out = Vec::new();
        for id in self.console.accounts_of_console_user(&user.username).await? {
            let Ok(id) = OfficialAccountId::parse("account", &id) else { continue };
            match self.account(&id).await {
                Ok(a) if [&a.name, &a.id, &a.owner].iter().any(|f| f.to_lowercase().contains(&needle)) => out.push(a),
                Ok(_) | Err(Error::AccountNotFound(_)) => {}
                Err(e) => return Err(e),
            }
            if out.len() as i64 >= limit {
                break;
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_passwords_need_length_and_a_zxcvbn_score_of_three() {
        assert!(!rate_password("password1234", "eve").acceptable);
        assert!(!rate_password("Tr0ub4dor&3", "eve").acceptable, "too short");
        let good = rate_password("correct horse battery staple", "eve");
        assert!(good.acceptable, "{good:?}");
        assert!(!rate_password("eve-eve-eve-eve", "eve").acceptable, "the user name does not help");
        assert!(!rate_password("short", "eve").feedback.is_empty());
    }

    #[test]
    fn usernames_are_short_lowercase_words() {
        assert!(check_username("editor.one").is_ok());
        assert!(check_username("").is_err());
        assert!(check_username("Eve").is_err());
        assert!(check_username(&"a".repeat(33)).is_err());
    }
}
