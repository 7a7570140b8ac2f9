-- Subscribers, broadcasts and one-to-one messages. Keep in step with
-- ../postgres/0002_create_subscriptions_and_messages.sql (checked by a test).

-- The per-account message sequence: MsgKey is `{seq}_1_{time}`, seq grows by one per broadcast.
alter table official_account add column last_seq bigint not null default 0;

-- One row per (account, subscriber). Holds what fan-out on read needs: the MsgFlag and the
-- subscriber's read position. A broadcast is never copied into these rows.
create table subscription (
    account_id         text not null,
    subscriber_account text not null,
    subscribed_at      bigint not null,
    msg_flag           text not null default 'AcceptAndNotify',
    custom_string      text not null default '',
    last_send_msg_time bigint not null default 0,
    read_seq           bigint not null default 0,
    -- sequence of the one-to-one conversation c2c_{account_id} with this subscriber
    c2c_last_seq       bigint not null default 0,
    primary key (account_id, subscriber_account)
);
-- "which accounts does this user follow" (get_subscribed_official_account_list)
create index subscription_by_subscriber on subscription (subscriber_account, subscribed_at);

-- A broadcast is stored once, whatever the number of subscribers (product.md §2).
create table broadcast (
    account_id        text not null,
    seq               bigint not null,
    msg_time          bigint not null,
    random            bigint not null,
    -- MsgBody as JSON, validated on the way in
    body              text not null,
    cloud_custom_data text not null default '',
    offline_push_info text,
    -- SHA-256 of MsgBody + CloudCustomData: a resend with the same Random within 5 minutes is a duplicate
    content_hash      text not null,
    recalled_at       bigint,
    recall_reason     text,
    primary key (account_id, seq)
);
create index broadcast_dedup on broadcast (account_id, random, msg_time);

-- One-to-one messages between an account and one of its subscribers (conversation c2c_{account}).
create table c2c_message (
    account_id         text not null,
    subscriber_account text not null,
    seq                bigint not null,
    from_account       text not null,
    to_account         text not null,
    msg_time           bigint not null,
    random             bigint not null,
    body               text not null,
    cloud_custom_data  text not null default '',
    primary key (account_id, subscriber_account, seq)
);
