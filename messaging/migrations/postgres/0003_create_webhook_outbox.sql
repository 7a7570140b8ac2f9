-- "After" webhooks wait here until the receiver has them (rest-api.md §8). Rows are written in
-- the same transaction as the change they report, so a restart loses no event; a worker sends
-- them in id order, retrying with backoff. Keep in step with ../sqlite/0003_create_webhook_outbox.sql.
create table webhook_outbox (
    event_id        bigint generated always as identity primary key,
    command         text not null,
    body            text not null,
    created_at      bigint not null,
    attempts        bigint not null default 0,
    next_attempt_at bigint not null,
    delivered_at    bigint
);
create index webhook_outbox_due on webhook_outbox (delivered_at, event_id);
