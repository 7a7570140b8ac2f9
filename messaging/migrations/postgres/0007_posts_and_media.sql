-- The console's composer (issue 8): drafts and scheduled posts, and uploaded images.
-- Keep in step with ../sqlite/0007_posts_and_media.sql.

-- A post until it is sent; once sent it is its broadcast (history, recall), and this row keeps
-- which broadcast it became. status: draft | scheduled | publishing | sent | failed.
create table post (
    post_id      text primary key,
    account_id   text not null,
    kind         text not null,
    body         text not null,
    -- the uploaded images, in order, as JSON (PostImage)
    images       text not null,
    status       text not null,
    -- Unix seconds (UTC) a scheduled post is due
    publish_at   bigint,
    -- a node publishing this post holds it until then (a crash lets another take it over)
    claim_until  bigint,
    msg_seq      bigint,
    msg_time     bigint,
    -- why the last publish attempt was refused, as a sentence
    failure      text,
    created_by   text not null,
    created_at   bigint not null,
    updated_at   bigint not null
);
create index post_by_account on post (account_id, updated_at);
create index post_due on post (status, publish_at);

-- Uploaded images, by the SHA-256 of their bytes (the URL /media/{hash}.{ext}); every server
-- node serves them from here.
create table media (
    hash         text primary key,
    content_type text not null,
    bytes        bytea not null,
    width        bigint not null,
    height       bigint not null,
    created_by   text not null,
    created_at   bigint not null
);
