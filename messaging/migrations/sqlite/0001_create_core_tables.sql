-- Herald's first schema. Times are Unix seconds in bigint columns (the same on both backends,
-- and what the Tencent API speaks). Keep this file in step with ../postgres/0001_create_core_tables.sql;
-- the test `both_backends_have_the_same_schema` compares them.

-- App-wide settings (the REST identity, limits). One row per setting.
create table app_setting (
    name  text primary key,
    value text not null
);

-- Users imported by the app's back end (im_open_login_svc). Owners and subscribers must be here.
create table app_user (
    user_id    text primary key,
    nick       text not null default '',
    face_url   text not null default '',
    created_at bigint not null
);

-- Official accounts. A destroyed account keeps its row (destroyed_at set) so that its ID is
-- never handed out again, as rest-api.md §4 requires.
create table official_account (
    account_id         text primary key,
    owner_account      text not null,
    name               text not null,
    introduction       text not null default '',
    face_url           text not null default '',
    organization       text not null default '',
    custom_string      text not null default '',
    max_subscriber_num bigint not null,
    -- a counter kept by the write path: never COUNT(*) on a request path
    subscriber_num     bigint not null default 0,
    created_at         bigint not null,
    last_msg_time      bigint not null default 0,
    destroyed_at       bigint
);
create index official_account_owner on official_account (owner_account);
create index official_account_created on official_account (created_at);

-- People who sign in to the console. password_hash is argon2 (PHC string); null until set.
create table console_user (
    username      text primary key,
    password_hash text,
    role          text not null,
    created_at    bigint not null
);

-- One-time sign-in links (first start without HERALD_ADMIN_PASSWORD). Only a hash is stored.
create table sign_in_token (
    token_hash text primary key,
    username   text not null references console_user (username),
    expires_at bigint not null,
    used_at    bigint
);
