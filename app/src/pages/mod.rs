//! One module per console page, each with its server functions beside its components.

pub mod account;
mod account_dialog;
pub mod accounts;
pub mod audit;
pub mod composer;
pub mod dialog;
pub mod growth;
pub mod inbox;
pub mod insights;
mod layout;
pub mod posts;
pub mod profile;
pub mod settings;
pub mod sign_in;
pub mod subscribers;
pub mod users;
