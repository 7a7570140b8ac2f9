-- The post lifecycle (docs/rest-api.md §9): edits with every version kept, one pinned post per
-- account, and polls counted like reactions. Keep in step with ../sqlite/0014_post_lifecycle.sql.

-- version 1 is the body as sent; each edit adds one. edited_at is null until the first edit.
alter table broadcast add column version bigint not null default 1;
alter table broadcast add column edited_at bigint;
-- Every version of an edited broadcast, the first included (written at its first edit): the
-- console shows who changed what and when.
create table broadcast_version (
    account_id text not null,
    seq        bigint not null,
    version    bigint not null,
    body       text not null,
    made_at    bigint not null,
    made_by    text not null default '',
    primary key (account_id, seq, version)
);

-- The pinned broadcast's MsgKey; '' when none.
alter table official_account add column pinned_msg_key text not null default '';

-- A poll is a broadcast whose body carries the poll element; this row holds what voting
-- checks and the number of distinct voters, kept with each vote.
create table poll (
    account_id text not null,
    seq        bigint not null,
    multiple   bigint not null,
    closes_at  bigint not null default 0,
    voters     bigint not null default 0,
    primary key (account_id, seq)
);
-- Votes per option, updated in the vote's transaction (reading results reads a dozen rows).
create table poll_option (
    account_id text not null,
    seq        bigint not null,
    option_id  text not null,
    votes      bigint not null default 0,
    primary key (account_id, seq, option_id)
);
-- Who chose what: only to replace a user's vote and show them their own; never shown to others.
create table poll_vote (
    account_id text not null,
    seq        bigint not null,
    user_id    text not null,
    option_id  text not null,
    primary key (account_id, seq, user_id, option_id)
);

-- A Poll draft's poll (JSON, as `messaging::polls::Poll` writes it); '' for other posts.
alter table post add column poll text not null default '';
