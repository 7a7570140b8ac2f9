-- The public web (docs/public-web.md): an account's handle and public page switch, and its
-- invite links. Keep in step with ../sqlite/0013_public_web.sql.

-- 3–32 of a–z 0–9 _ -, unique; null until chosen. The page is off until switched on.
alter table official_account add column handle text;
alter table official_account add column public_page bigint not null default 0;
create unique index official_account_handle on official_account (handle);
-- When something a public page shows changed other than a new post (a recall, the profile):
-- feeds' Last-Modified and ETag read it from the row, never from the posts.
alter table official_account add column content_changed_at bigint not null default 0;
alter table official_account add column content_version bigint not null default 0;

-- Named invite links: /join/{code}. uses counts subscriptions made with the code (what
-- max_uses caps); subscribed counts those still subscribed (taken back on unsubscribe).
create table invite_link (
    code        text primary key,
    account_id  text not null,
    name        text not null,
    created_at  bigint not null,
    created_by  text not null default '',
    expire_time bigint,
    max_uses    bigint,
    uses        bigint not null default 0,
    subscribed  bigint not null default 0,
    revoked_at  bigint
);
create unique index invite_link_name on invite_link (account_id, name);
