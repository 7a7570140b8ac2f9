-- Console users and roles (issue 10): invited users, disabled users, who may act on which
-- account. Keep in step with ../postgres/0009_console_users.sql.

alter table console_user add column disabled_at bigint;
alter table console_user add column last_sign_in_at bigint;
alter table console_user add column invited_by text;

-- Besides the platform owner (every account), who may act on an account: its owner (the console
-- user who created it) and the editors and viewers assigned to it. access: owner | assigned.
create table account_access (
    account_id text not null,
    username   text not null,
    access     text not null,
    granted_at bigint not null,
    primary key (account_id, username)
);
create index account_access_by_user on account_access (username, account_id);

-- One-time links: a sign-in link (a day) or an invitation to set a password (72 hours).
alter table sign_in_token add column purpose text not null default 'sign_in';
