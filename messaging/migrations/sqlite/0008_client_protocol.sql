-- The client protocol (product.md §4, issue 9): read positions of one-to-one conversations,
-- recalled one-to-one messages, reactions, presence across nodes.
-- Keep in step with ../postgres/0008_client_protocol.sql.

-- Unread counts come from read positions, never per-recipient rows: read_seq (broadcasts,
-- already there) and c2c_read_seq (the one-to-one messages of the conversation).
alter table subscription add column c2c_read_seq bigint not null default 0;
-- The account's side of the same conversation (the console's Inbox): what it has read.
alter table subscription add column account_read_seq bigint not null default 0;
-- The Inbox lists only subscriptions with one-to-one messages.
create index subscription_with_chat on subscription (account_id, c2c_last_seq);
-- Counting starts at the subscription: history from before it is not unread.
update subscription set read_seq =
    (select a.last_seq from official_account a where a.account_id = subscription.account_id)
  where read_seq = 0;

-- admin_msgwithdraw recalls one-to-one messages.
alter table c2c_message add column recalled_at bigint;

-- A conversation's messages newest first (getMessageList merges these two by time).
create index broadcast_by_time on broadcast (account_id, msg_time, seq);
create index c2c_message_by_time on c2c_message (account_id, subscriber_account, msg_time, seq);

-- Who reacted how: one row per (message, reaction, user). conversation_user is '' for a
-- broadcast and the subscriber for a one-to-one message (their MsgKeys are per conversation).
create table message_reaction (
    account_id        text not null,
    conversation_user text not null,
    msg_key           text not null,
    reaction_id       text not null,
    user_id           text not null,
    created_at        bigint not null,
    primary key (account_id, conversation_user, msg_key, reaction_id, user_id)
);
create index message_reaction_by_user on message_reaction (user_id, account_id, conversation_user, msg_key);

-- The counts, kept in the same transaction as the rows: reading them never counts rows.
create table message_reaction_count (
    account_id        text not null,
    conversation_user text not null,
    msg_key           text not null,
    reaction_id       text not null,
    total             bigint not null,
    primary key (account_id, conversation_user, msg_key, reaction_id)
);

-- Open client connections per user and server node (offline push skips users who have one;
-- openim/query_online_status reads it). A node's rows count while the node is alive.
create table presence (
    node_id     text not null,
    user_id     text not null,
    connections bigint not null,
    primary key (node_id, user_id)
);
create index presence_by_user on presence (user_id);
create table server_node (
    node_id     text primary key,
    alive_until bigint not null
);

-- An online-only message too large for a NOTIFY payload waits here for the other nodes'
-- hubs (PostgreSQL only; rows older than a minute are deleted). It is not history.
create table relay (
    relay_id   integer primary key, -- the rowid
    payload    text not null,
    created_at bigint not null
);
