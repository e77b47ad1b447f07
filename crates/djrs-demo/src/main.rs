//! `cargo run -p djrs-demo`: the djrs showcase on <http://127.0.0.1:8000>.

use std::net::SocketAddr;

use clap::Parser;
use djrs::paginate::CursorKey;
use djrs_demo::{AppState, DEFAULT_DATABASE_URL, Db};

/// The djrs showcase: Django 6.0's batteries on axum.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Address to serve on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8000", env = "DJRS_DEMO_BIND")]
    bind: SocketAddr,
    /// Database: `sqlite://FILE` (created if missing) or `postgres://USER@HOST/DB`.
    #[arg(long, default_value = DEFAULT_DATABASE_URL, env = "DATABASE_URL")]
    database_url: String,
    /// Secret that signs keyset cursors (default: random, valid until restart).
    #[arg(long, env = "DJRS_DEMO_SECRET", hide_env_values = true)]
    secret: Option<String>,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .init();
    let args = Args::parse();
    match run(args).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("djrs-demo: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), djrs_demo::Error> {
    let db = Db::connect(&args.database_url).await?;
    tracing::info!(engine = db.engine(), "database ready");
    let cursor_key = args.secret.map_or_else(CursorKey::random, CursorKey::new);
    let state = AppState::new(db, cursor_key)?;
    let listener = djrs_demo::bind(args.bind).await?;
    djrs_demo::serve(listener, state, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}
