-- The audit log, console sessions one can list and end, a rotated secret key's grace period
-- (issue 10): the rotated key itself is kept in app_setting (previous_secret_key,
-- previous_key_until). Keep in step with ../postgres/0010_audit_sessions_settings.sql.

-- Who did what, when, from where, to which account; written in the same transaction as the
-- change. Read newest first by event_id.
create table audit_event (
    event_id   integer primary key, -- the rowid: increases with each insert
    at         bigint not null,
    actor      text not null,
    address    text not null,
    action     text not null,
    account_id text,
    detail     text not null
);
create index audit_event_by_actor on audit_event (actor, event_id);
create index audit_event_by_account on audit_event (account_id, event_id);

-- A console sign-in. The browser's session (tower-sessions) holds only session_id; ending a row
-- here signs that browser out on its next request, on every node.
create table console_session (
    session_id   text primary key,
    username     text not null references console_user (username),
    address      text not null,
    user_agent   text not null,
    created_at   bigint not null,
    last_used_at bigint not null
);
create index console_session_by_user on console_session (username);
