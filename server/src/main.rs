//! Herald's server binary: read it top to bottom, it is the whole wiring diagram.

use clap::Parser;
use server::config::{Command, Config};
use server::{startup::Application, telemetry};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    telemetry::init();
    if let Some(Command::ResetPassword { username }) = &config.command {
        // For a lost password: the printed link signs the user in once; they set a new password.
        let messaging = messaging::Messaging::open(&config.database_url).await?;
        let token = messaging.console().reset_console_password(username).await?;
        println!("{username}'s password is removed and older sign-in links are revoked.");
        println!("Sign in once (valid 24 h) at: http://{}/sign-in/{token}", config.addr);
        println!("then set a new password on the Settings page.");
        messaging.close().await;
        return Ok(());
    }
    let application = Application::build(config).await?;
    application.run_until_stopped().await
}
