//! `cargo run -p djrs-demo`: the djrs showcase on <http://127.0.0.1:8000>.

use std::net::SocketAddr;

use std::time::Duration;

use clap::{Parser, Subcommand};
use djrs::paginate::CursorKey;
use djrs::tasks::Worker;
use djrs_demo::{AppState, DEFAULT_DATABASE_URL, Db};

/// The djrs showcase: Django 6.0's batteries on axum.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    /// Address to serve on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8000", env = "DJRS_DEMO_BIND")]
    bind: SocketAddr,
    /// Database: `sqlite://FILE` (created if missing) or `postgres://USER@HOST/DB`.
    #[arg(long, global = true, default_value = DEFAULT_DATABASE_URL, env = "DATABASE_URL")]
    database_url: String,
    /// Secret that signs keyset cursors (default: random, valid until restart).
    #[arg(long, env = "DJRS_DEMO_SECRET", hide_env_values = true)]
    secret: Option<String>,
    /// Send mail over SMTP (`smtp://user:password@host:587?tls=starttls`, `smtps://host`)
    /// instead of printing it to stdout (the console backend).
    #[arg(
        long,
        global = true,
        env = "DJRS_DEMO_SMTP_URL",
        hide_env_values = true
    )]
    smtp_url: Option<String>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs task workers only (no web server), beside a server or on other machines.
    Worker {
        /// Tasks run at once.
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
        /// Seconds a claimed task stays this worker's without a heartbeat; a killed worker's
        /// tasks run again after it.
        #[arg(long, default_value_t = 30.0)]
        lease: f64,
        /// Queues to work (repeat the flag); all queues when omitted.
        #[arg(long = "queue")]
        queues: Vec<String>,
    },
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
    let mailer = djrs_demo::jobs::mailer(args.smtp_url.as_deref())?;
    let db = Db::connect(&args.database_url).await?;
    tracing::info!(engine = db.engine(), "database ready");
    if let Some(Command::Worker {
        concurrency,
        lease,
        queues,
    }) = args.command
    {
        let tasks = djrs_demo::tasks_with_mailer(&db, mailer)?;
        let worker = Worker::new(&tasks)
            .queues(queues)
            .concurrency(concurrency)
            .lease(Duration::from_secs_f64(lease.clamp(0.05, 86_400.0)));
        println!("djrs-demo worker {} started", worker.id());
        let stats = worker.run_until(djrs::tasks::shutdown_signal()).await?;
        println!("djrs-demo worker stopped: {stats:?}");
        return Ok(());
    }
    let cursor_key = args.secret.map_or_else(CursorKey::random, CursorKey::new);
    let state = AppState::with_mailer(db, cursor_key, mailer)?;
    let listener = djrs_demo::bind(args.bind).await?;
    // SIGTERM (what process managers send) and Ctrl-C both stop the server and the
    // in-process worker gracefully.
    djrs_demo::serve(listener, state, djrs::tasks::shutdown_signal()).await
}
