-- Insights (docs/insights.md): what an editor learns back, kept as counters written with the
-- events themselves, so a page view sums a few hundred small rows and never counts
-- subscriptions or per-recipient rows. Keep in step with ../postgres/0012_insights.sql.

-- Where each subscription came from: api, app, console or link:{name}. Older rows: ''.
alter table subscription add column source text not null default '';

-- Subscribers per receive option, kept with the rows like subscriber_num (AcceptAndNotify is
-- the rest of subscriber_num).
alter table official_account add column subscribers_not_notify bigint not null default 0;
alter table official_account add column subscribers_discard bigint not null default 0;
update official_account set
  subscribers_not_notify = (select count(*) from subscription s where s.account_id = official_account.account_id and s.msg_flag = 'AcceptNotNotify'),
  subscribers_discard = (select count(*) from subscription s where s.account_id = official_account.account_id and s.msg_flag = 'Discard');

-- Per broadcast: who it was for, who got it live (each node adds its own), who was pushed.
create table post_insight (
    account_id     text not null,
    seq            bigint not null,
    recipients     bigint not null default 0,
    delivered_live bigint not null default 0,
    pushed         bigint not null default 0,
    primary key (account_id, seq)
);

-- Reads of broadcasts as steps: a read position moving from a to b adds 1 at a+1 and takes 1
-- away at b+1, so the reads of broadcast s are the sum of the steps up to s.
create table post_read_step (
    account_id text not null,
    seq        bigint not null,
    step       bigint not null,
    primary key (account_id, seq)
);

-- Per account and UTC day (days since 1970-01-01).
create table insight_day (
    account_id   text not null,
    day          bigint not null,
    subscribed   bigint not null default 0,
    unsubscribed bigint not null default 0,
    reactions    bigint not null default 0,
    messages_in  bigint not null default 0,
    replies      bigint not null default 0,
    posts        bigint not null default 0,
    primary key (account_id, day)
);
create table insight_day_source (
    account_id text not null,
    day        bigint not null,
    source     text not null,
    subscribed bigint not null,
    primary key (account_id, day, source)
);
-- Post reads per day and UTC hour (the day's reads are the sum of its hours).
create table insight_day_hour (
    account_id text not null,
    day        bigint not null,
    hour       bigint not null,
    reads      bigint not null,
    primary key (account_id, day, hour)
);

-- Read-position moves written with the move, waiting to be added to the counters above (at
-- least once a second, by any node, in the transaction that deletes them): a million
-- subscribers reading one post never wait on one counter row, and a crash loses none.
create table read_mark_pending (
    mark_id    integer primary key, -- the rowid: increases with each insert
    account_id text not null,
    from_seq   bigint not null,
    to_seq     bigint not null,
    -- broadcasts passed that were not recalled: what the day's reads count
    posts      bigint not null,
    marked_at  bigint not null
);

-- Subscribers of each account connected to each node (written by the node's hub).
create table online_count (
    node_id    text not null,
    account_id text not null,
    online     bigint not null,
    primary key (node_id, account_id)
);
create index online_count_by_account on online_count (account_id);
