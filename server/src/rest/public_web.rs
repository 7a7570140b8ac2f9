//! Herald's own service `herald_open_http_svc`, its public web commands (docs/rest-api.md §9):
//! the public page switch and handle, and invite links. URLs in answers are absolute, made with
//! `HERALD_PUBLIC_URL` (else the request's host), as the public pages make theirs.

use super::official_accounts::account_id;
use super::{answer, Payload};
use messaging::public::{Handle, InviteCode, InviteLink, NewInviteLink};
use messaging::{InvalidField, Messaging};
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
pub struct SetPublicPage {
    #[serde(rename = "Official_Account")]
    official_account: Option<String>,
    #[serde(rename = "Handle")]
    handle: Option<String>,
    #[serde(rename = "Enabled")]
    enabled: Option<i64>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct UrlAnswer {
    url: String,
}

/// [set_public_page] Sets the account's handle and switches its public page on (1) or off (0).
pub async fn set_public_page(m: &Messaging, base: &str, req: SetPublicPage) -> Payload {
    let account = account_id("Official_Account", req.official_account.as_deref())?;
    let handle = Handle::parse("Handle", req.handle.as_deref().unwrap_or_default())?;
    let enabled = match req.enabled {
        Some(0) => false,
        Some(1) => true,
        _ => return Err(InvalidField::new("Enabled", "required: 1 (on) or 0 (off)").into()),
    };
    m.public().set_public_page(&account, &handle, enabled).await?;
    answer(UrlAnswer { url: format!("{base}/c/{handle}") })
}

#[derive(Deserialize)]
pub struct CreateInviteLink {
    #[serde(rename = "Official_Account")]
    official_account: Option<String>,
    #[serde(rename = "Name")]
    name: Option<String>,
    #[serde(rename = "ExpireTime")]
    expire_time: Option<i64>,
    #[serde(rename = "MaxUses")]
    max_uses: Option<i64>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CreatedAnswer {
    invite_code: String,
    url: String,
}

/// [create_invite_link] A named link, with an optional expiry (Unix seconds) and use limit.
pub async fn create_invite_link(m: &Messaging, base: &str, req: CreateInviteLink) -> Payload {
    let account = account_id("Official_Account", req.official_account.as_deref())?;
    let link = NewInviteLink::parse(req.name.as_deref().unwrap_or_default(), req.expire_time, req.max_uses, m.now())?;
    let made = m.public().create_invite(&account, &link).await?;
    answer(CreatedAnswer { url: format!("{base}/join/{}", made.code), invite_code: made.code })
}

#[derive(Deserialize)]
pub struct AccountOnly {
    #[serde(rename = "Official_Account")]
    official_account: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct LinksAnswer {
    links: Vec<LinkAnswer>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct LinkAnswer {
    invite_code: String,
    name: String,
    url: String,
    /// 0: never.
    expire_time: i64,
    /// 0: no limit.
    max_uses: i64,
    uses: i64,
    /// Herald's addition: of `Uses`, the subscribers still subscribed.
    subscribed: i64,
    revoked: u8,
}

impl LinkAnswer {
    fn new(base: &str, l: InviteLink) -> Self {
        LinkAnswer {
            url: format!("{base}/join/{}", l.code),
            invite_code: l.code,
            name: l.name,
            expire_time: l.expire_time.unwrap_or(0),
            max_uses: l.max_uses.unwrap_or(0),
            uses: l.uses,
            subscribed: l.subscribed,
            revoked: u8::from(l.revoked),
        }
    }
}

/// [get_invite_links] Every link of the account, newest first, revoked ones too.
pub async fn get_invite_links(m: &Messaging, base: &str, req: AccountOnly) -> Payload {
    let account = account_id("Official_Account", req.official_account.as_deref())?;
    let links = m.public().invite_links(&account).await?;
    answer(LinksAnswer { links: links.into_iter().map(|l| LinkAnswer::new(base, l)).collect() })
}

#[derive(Deserialize)]
pub struct RevokeInviteLink {
    #[serde(rename = "Official_Account")]
    official_account: Option<String>,
    #[serde(rename = "InviteCode")]
    invite_code: Option<String>,
}

/// [revoke_invite_link] The link stops bringing subscribers; its figures stay.
pub async fn revoke_invite_link(m: &Messaging, req: RevokeInviteLink) -> Payload {
    let account = account_id("Official_Account", req.official_account.as_deref())?;
    let code = InviteCode::parse("InviteCode", req.invite_code.as_deref().unwrap_or_default())?;
    m.public().revoke_invite(&account, &code).await?;
    answer(serde_json::json!({}))
}
