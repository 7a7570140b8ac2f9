//! Herald's server binary: read it top to bottom, it is the whole wiring diagram.

use clap::Parser;
use server::{config::Config, startup::Application, telemetry};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    telemetry::init();
    let application = Application::build(config).await?;
    application.run_until_stopped().await
}
