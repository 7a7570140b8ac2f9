//! Black-box tests: the real server on 127.0.0.1:0 with a fresh SQLite file, driven over HTTP.
//! One test binary (zero2prod style): `mod`s below, helpers in `helpers`.

mod audit;
mod broadcasts;
mod client;
mod console;
mod crash;
mod direct;
mod hardening;
mod helpers;
mod insights;
mod lifecycle;
mod media;
mod nodes;
mod official_accounts;
mod operations;
mod operations_data;
mod posts;
mod public_web;
mod push;
mod receiver;
mod server_fns;
mod subscribers;
mod team;
mod users;
mod usersig;
mod webhooks;
mod ws;
