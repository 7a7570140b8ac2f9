//! Herald's server binary: read it top to bottom, it is the whole wiring diagram.

use clap::Parser;
use messaging::operations::backup;
use server::config::{Command, Config};
use server::{startup::Application, telemetry};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    telemetry::init(config.log_format);
    match &config.command {
        Some(Command::ResetPassword { username }) => {
            // For a lost password: the printed link signs the user in once; they set a new password.
            let messaging = messaging::Messaging::open(&config.database_url).await?;
            let token = messaging.console().reset_console_password(username).await?;
            println!("{username}'s password is removed and older sign-in links are revoked.");
            println!("Sign in once (valid 24 h) at: http://{}/sign-in/{token}", config.addr);
            println!("then set a new password on the Settings page.");
            messaging.close().await;
            return Ok(());
        }
        // docs/operations.md: SQLite while servers run; PostgreSQL has pg_dump and pg_restore.
        Some(Command::Backup { path }) => {
            let copied = backup::backup_sqlite(&config.database_url, path).await?;
            println!("Backed up {} to {} ({} bytes).", backup::sqlite_path(&config.database_url)?.display(), path.display(), copied.bytes);
            return Ok(());
        }
        Some(Command::Restore { path }) => {
            let restored = backup::restore_sqlite(&config.database_url, path).await?;
            println!(
                "Restored {} into {} ({} bytes); the database it replaced is kept as {}.replaced.",
                path.display(),
                restored.path.display(),
                restored.bytes,
                restored.path.display()
            );
            return Ok(());
        }
        None => {}
    }
    let application = Application::build(config).await?;
    application.run_until_stopped().await
}
