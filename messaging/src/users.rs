//! Imported users (`im_open_login_svc`): the people who can own and subscribe to accounts.

use crate::error::{InvalidField, Result};
use crate::ids::UserId;
use crate::store::now;
use crate::Messaging;

/// Tencent's limit on a nickname (`Tag_Profile_IM_Nick`) and, alike, on a face URL.
pub const NICK_MAX_BYTES: usize = 500;
pub const FACE_URL_MAX_BYTES: usize = 500;

/// A user to import. Importing an existing user updates its nick and face (Tencent does the same).
#[derive(Debug, Clone)]
pub struct NewUser {
    pub id: UserId,
    pub nick: String,
    pub face_url: String,
}

impl NewUser {
    pub fn bare(id: UserId) -> Self {
        Self { id, nick: String::new(), face_url: String::new() }
    }
}

/// Per-user outcome of a batch delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deleted {
    Yes,
    NotImported,
}

impl Messaging {
    /// Refuses the REST administrator's identifier: it is not an ordinary user.
    fn check_importable(&self, field: &str, id: &UserId) -> Result<(), InvalidField> {
        match &self.rest_administrator {
            Some(admin) if id.as_str() == &**admin => Err(InvalidField::new(
                field,
                format!("{} is the REST administrator's identifier and cannot be imported as a user", id.as_str()),
            )),
            _ => Ok(()),
        }
    }

    pub async fn import_user(&self, user: &NewUser) -> Result<()> {
        self.check_importable("UserID", &user.id)?;
        crate::profile::TextLimit { field: "Nick", max_bytes: NICK_MAX_BYTES }.check(&user.nick)?;
        crate::profile::TextLimit { field: "FaceUrl", max_bytes: FACE_URL_MAX_BYTES }.check(&user.face_url)?;
        sqlx::query(
            r#"insert into app_user (user_id, nick, face_url, created_at) values ($1, $2, $3, $4)
               on conflict (user_id) do update set nick = excluded.nick, face_url = excluded.face_url"#,
        )
        .bind(user.id.as_str())
        .bind(&user.nick)
        .bind(&user.face_url)
        .bind(now())
        .execute(&self.store.pool)
        .await?;
        Ok(())
    }

    /// Imports many bare users in one statement; already imported ones are left as they are.
    pub async fn import_users(&self, ids: &[UserId]) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        for id in ids {
            self.check_importable("Accounts", id)?;
        }
        let rows: Vec<String> = (0..ids.len()).map(|i| format!("(${}, $1)", i + 2)).collect();
        let sql = format!("insert into app_user (user_id, created_at) values {} on conflict (user_id) do nothing", rows.join(", "));
        let mut insert = sqlx::query(&sql).bind(now());
        for id in ids {
            insert = insert.bind(id.as_str());
        }
        insert.execute(&self.store.pool).await?;
        Ok(())
    }

    pub async fn user_exists(&self, id: &UserId) -> Result<bool> {
        let found: Option<(String,)> =
            sqlx::query_as("select user_id from app_user where user_id = $1").bind(id.as_str()).fetch_optional(&self.store.pool).await?;
        Ok(found.is_some())
    }

    /// For each ID, whether it was imported (`account_check`).
    pub async fn check_users(&self, ids: &[UserId]) -> Result<Vec<bool>> {
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.push(self.user_exists(id).await?);
        }
        Ok(out)
    }

    pub async fn delete_users(&self, ids: &[UserId]) -> Result<Vec<Deleted>> {
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let done = sqlx::query("delete from app_user where user_id = $1").bind(id.as_str()).execute(&self.store.pool).await?;
            out.push(if done.rows_affected() == 1 { Deleted::Yes } else { Deleted::NotImported });
        }
        Ok(out)
    }
}
