-- Offline push (product.md §2): one job per broadcast (or one-to-one message from an account)
-- that asks for a push, written in the same transaction as the message. A worker walks the account's AcceptAndNotify subscribers by
-- keyset (`after_subscriber`) and hands them to the push hook in batches; the cursor moves only
-- after the hook took a batch, so a crash resumes where it stopped.
-- Keep in step with ../sqlite/0004_create_push_jobs.sql.
create table push_job (
    job_id           bigint generated always as identity primary key,
    account_id       text not null,
    seq              bigint not null,
    -- '' for a broadcast (every subscriber); a user ID for a one-to-one message to that subscriber
    subscriber_account text not null default '',
    -- the last subscriber handed to the hook ('' before the first batch)
    after_subscriber text not null default '',
    batches_sent     bigint not null default 0,
    attempts         bigint not null default 0,
    next_attempt_at  bigint not null,
    -- a worker holds the job until then; a crashed worker's lease simply runs out
    lease_until      bigint not null default 0
);

-- Sends of the last hour per account, so the frequency limits (rest-api.md §5) hold across
-- restarts and across server nodes. Rows older than an hour are pruned as new ones arrive.
create table broadcast_send (
    account_id text not null,
    sent_at    bigint not null
);
create index broadcast_send_by_account on broadcast_send (account_id, sent_at);

-- One-to-one messages keep what the push hook and the client protocol need (rest-api.md §7).
alter table c2c_message add column offline_push_info text;
alter table c2c_message add column no_unread bigint not null default 0;
alter table c2c_message add column no_last_msg bigint not null default 0;
