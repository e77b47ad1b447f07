//! `cargo run -p djrs-demo`: the djrs showcase on <http://127.0.0.1:8000>.

use std::net::SocketAddr;

use std::time::Duration;

use clap::{Parser, Subcommand};
use djrs::paginate::CursorKey;
use djrs::tasks::Worker;
use djrs_demo::security::redact_url;
use djrs_demo::server::ServerLimits;
use djrs_demo::{AppState, DEFAULT_DATABASE_URL, Db};

/// The djrs showcase: Django 6.0's batteries on axum.
#[derive(Parser)]
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
    /// Secret that signs keyset cursors, at least 32 bytes (default: random, valid until
    /// restart).
    #[arg(long, env = "DJRS_DEMO_SECRET", hide_env_values = true)]
    secret: Option<String>,
    /// Seconds a request head may take to arrive; also how long a kept-alive connection may
    /// wait for its next request.
    #[arg(long, default_value = "10", value_parser = seconds)]
    header_timeout: Duration,
    /// Seconds a connection may move no byte before it is closed.
    #[arg(long, default_value = "60", value_parser = seconds)]
    idle_timeout: Duration,
    /// The most connections served at once; more wait in the listen backlog.
    #[arg(long, default_value_t = 512, value_parser = at_least_one)]
    max_connections: usize,
    /// Send mail over SMTP (`smtp://user:password@host:587?tls=starttls`, `smtps://host`)
    /// instead of printing it to stdout (the console backend).
    #[arg(
        long,
        global = true,
        env = "DJRS_DEMO_SMTP_URL",
        hide_env_values = true
    )]
    smtp_url: Option<String>,
    /// Keep the task queue on Redis (`redis://HOST:6379`, `rediss://…`) instead of in the
    /// database.
    #[arg(
        long,
        global = true,
        env = "DJRS_DEMO_TASKS_URL",
        hide_env_values = true
    )]
    tasks_url: Option<String>,
    /// The prefix of the queue's Redis keys.
    #[arg(long, global = true, default_value = "djrs-demo")]
    tasks_prefix: String,
    /// The account that may use the task console at /tasks, as NAME:PASSWORD (default:
    /// `operator` with a random password, printed at start).
    #[arg(long, env = "DJRS_DEMO_OPERATOR", hide_env_values = true)]
    operator: Option<String>,
}

impl std::fmt::Debug for Args {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // URLs without their passwords, the secret not at all.
        f.debug_struct("Args")
            .field("command", &self.command)
            .field("bind", &self.bind)
            .field("database_url", &redact_url(&self.database_url))
            .field("secret", &self.secret.as_ref().map(|_| "***"))
            .field("smtp_url", &self.smtp_url.as_deref().map(redact_url))
            .field("tasks_url", &self.tasks_url.as_deref().map(redact_url))
            .field("tasks_prefix", &self.tasks_prefix)
            .field("header_timeout", &self.header_timeout)
            .field("idle_timeout", &self.idle_timeout)
            .field("max_connections", &self.max_connections)
            .field("operator", &self.operator.as_ref().map(|_| "***"))
            .finish()
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs task workers only (no web server), beside a server or on other machines.
    Worker {
        /// Tasks run at once.
        #[arg(long, default_value_t = 8, value_parser = at_least_one)]
        concurrency: usize,
        /// Seconds a claimed task stays this worker's without a heartbeat (0.05 to 86400); a
        /// killed worker's tasks run again after it.
        #[arg(long, default_value = "30", value_parser = seconds)]
        lease: Duration,
        /// Queues to work (repeat the flag); all queues when omitted.
        #[arg(long = "queue")]
        queues: Vec<String>,
    },
}

/// Parses a number of seconds from 0.05 to 86,400 (one day). Not-a-number, infinities,
/// negative and out-of-range values are refused with a message, never a panic.
fn seconds(value: &str) -> Result<Duration, String> {
    const RANGE: std::ops::RangeInclusive<f64> = 0.05..=86_400.0;
    let seconds: f64 = value
        .trim()
        .parse()
        .map_err(|_| format!("{value:?} is not a number of seconds"))?;
    if !RANGE.contains(&seconds) {
        return Err(format!(
            "{value:?} is out of range: give a number of seconds from {} to {}",
            RANGE.start(),
            RANGE.end()
        ));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// Parses a count of at least 1.
fn at_least_one(value: &str) -> Result<usize, String> {
    match value.trim().parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("{value:?} is not a whole number of at least 1")),
    }
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
    // Checked first: a weak secret stops the showcase before it touches anything.
    let cursor_key = match &args.secret {
        Some(secret) => CursorKey::try_new(secret).map_err(djrs_demo::Error::WeakSecret)?,
        None => CursorKey::random(),
    };
    let mailer = djrs_demo::jobs::mailer(args.smtp_url.as_deref())?;
    let db = Db::connect(&args.database_url).await?;
    tracing::info!(engine = db.engine(), "database ready");
    let queue = djrs_demo::queue_for(&db, args.tasks_url.as_deref(), &args.tasks_prefix)?;
    tracing::info!(queue = queue.name(), "task queue ready");
    if let Some(Command::Worker {
        concurrency,
        lease,
        queues,
    }) = args.command
    {
        let tasks = djrs_demo::tasks_on(&db, queue, mailer)?;
        let worker = Worker::new(&tasks)
            .queues(queues)
            .concurrency(concurrency)
            .lease(lease);
        println!("djrs-demo worker {} started", worker.id());
        let stats = worker.run_until(djrs::tasks::shutdown_signal()).await?;
        println!("djrs-demo worker stopped: {stats:?}");
        return Ok(());
    }
    let tasks = djrs_demo::tasks_on(&db, queue, mailer)?;
    let state = AppState::with_tasks(db, cursor_key, tasks)?;
    let state = match &args.operator {
        Some(spec) => state.with_operator(djrs_demo::operator::Operator::parse(spec)?),
        None => {
            println!(
                "task console login: {} / {}",
                state.operator().name(),
                state.operator().password()
            );
            state
        }
    };
    let limits = ServerLimits::default()
        .header_read_timeout(args.header_timeout)
        .idle_timeout(args.idle_timeout)
        .max_connections(args.max_connections);
    let listener = djrs_demo::bind(args.bind).await?;
    // SIGTERM (what process managers send) and Ctrl-C both stop the server and the
    // in-process worker gracefully.
    djrs_demo::serve_with_limits(listener, state, limits, djrs::tasks::shutdown_signal()).await
}
