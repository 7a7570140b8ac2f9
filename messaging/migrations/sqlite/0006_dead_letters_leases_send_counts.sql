-- Deliveries that cannot succeed no longer stall the rest (issue 7, item 9), one node delivers
-- webhooks at a time, and the hourly send limit costs O(1) per send (item 14).
-- Keep in step with ../postgres/0006_dead_letters_leases_send_counts.sql.

-- "After" webhook events given up on (too many attempts or too old), kept to be looked at and
-- retried from the console's Settings page.
create table webhook_dead_letter (
    event_id   bigint primary key,
    command    text not null,
    body       text not null,
    client_ip  text not null default '',
    attempts   bigint not null,
    created_at bigint not null,
    dead_at    bigint not null
);

-- A push job given up on keeps its row with dead_at set (and its cursor, so a retry resumes).
alter table push_job add column created_at bigint not null default 0;
alter table push_job add column dead_at bigint;

-- Named background work that one node at a time does (the webhook outbox, in order).
create table worker_lease (
    name        text primary key,
    holder      text not null,
    lease_until bigint not null
);

-- Sends of the past hour per account, kept with the account's row (under its lock) so a send
-- need not count the broadcast_send rows of the hour; rows older than an hour are deleted and
-- subtracted as new sends arrive.
alter table official_account add column sends_past_hour bigint not null default 0;
update official_account set sends_past_hour =
    (select count(*) from broadcast_send b where b.account_id = official_account.account_id);
