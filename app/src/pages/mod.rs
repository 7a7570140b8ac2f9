//! One module per console page, each with its server functions beside its components.

pub mod accounts;
pub mod audit;
mod account_dialog;
mod layout;
pub mod settings;
pub mod sign_in;
pub mod account;
pub mod composer;
pub mod dialog;
pub mod inbox;
pub mod posts;
pub mod profile;
pub mod subscribers;
pub mod users;
