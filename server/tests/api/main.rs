//! Black-box tests: the real server on 127.0.0.1:0 with a fresh SQLite file, driven over HTTP.
//! One test binary (zero2prod style): `mod`s below, helpers in `helpers`.

mod console;
mod server_fns;
mod helpers;
mod broadcasts;
mod crash;
mod direct;
mod hardening;
mod media;
mod posts;
mod official_accounts;
mod push;
mod receiver;
mod subscribers;
mod usersig;
mod webhooks;
mod users;
mod client;
mod ws;
mod nodes;
mod team;
mod audit;
