//! The showcase's HTTP server: hyper's HTTP/1 connection builder with the limits an open port
//! needs, which `axum::serve` does not set.
//!
//! - **Header-read timeout.** A request head must arrive whole within
//!   [`ServerLimits::header_read_timeout`], however slowly its bytes trickle in. The same clock
//!   runs while a kept-alive connection waits for its next request, so an idle keep-alive
//!   connection is closed after it too.
//! - **Idle timeout.** A connection on which no byte moves either way for
//!   [`ServerLimits::idle_timeout`] (a stalled upload, a client that stopped reading) is closed.
//! - **A bound on open connections.** At most [`ServerLimits::max_connections`] are served at
//!   once; further clients wait in the listen backlog until one closes, so the process never
//!   runs out of file descriptors for its database and its own files.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};

/// The limits of [`serve_router`].
///
/// ```
/// use std::time::Duration;
/// use djrs_demo::server::ServerLimits;
///
/// let limits = ServerLimits::default()
///     .header_read_timeout(Duration::from_secs(5))
///     .max_connections(256);
/// assert_eq!(limits.idle_timeout, Duration::from_secs(60));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub struct ServerLimits {
    /// How long a request head may take to arrive, counted from when the server starts waiting
    /// for it (on a kept-alive connection: from the end of the previous response). Default 10 s.
    pub header_read_timeout: Duration,
    /// How long a connection may move no byte either way. Default 60 s.
    pub idle_timeout: Duration,
    /// The most connections served at once. Default 512.
    pub max_connections: usize,
    /// How long a graceful shutdown waits for open connections to finish. Default 30 s.
    pub shutdown_timeout: Duration,
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits {
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections: 512,
            shutdown_timeout: Duration::from_secs(30),
        }
    }
}

impl ServerLimits {
    /// Sets [`ServerLimits::header_read_timeout`].
    ///
    /// ```
    /// let l = djrs_demo::server::ServerLimits::default().header_read_timeout(std::time::Duration::from_secs(3));
    /// assert_eq!(l.header_read_timeout.as_secs(), 3);
    /// ```
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout;
        self
    }

    /// Sets [`ServerLimits::idle_timeout`].
    ///
    /// ```
    /// let l = djrs_demo::server::ServerLimits::default().idle_timeout(std::time::Duration::from_secs(5));
    /// assert_eq!(l.idle_timeout.as_secs(), 5);
    /// ```
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// Sets [`ServerLimits::max_connections`] (at least 1).
    ///
    /// ```
    /// let l = djrs_demo::server::ServerLimits::default().max_connections(0);
    /// assert_eq!(l.max_connections, 1);
    /// ```
    pub fn max_connections(mut self, connections: usize) -> Self {
        self.max_connections = connections.max(1);
        self
    }
}

/// Serves `router` on `listener` with `limits` until `shutdown` resolves, then lets open
/// connections finish (up to [`ServerLimits::shutdown_timeout`]).
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// use djrs_demo::server::{ServerLimits, serve_router};
///
/// let app = axum::Router::new().route("/", axum::routing::get(|| async { "hello" }));
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:8000").await?;
/// serve_router(listener, app, ServerLimits::default(), async {
///     let _ = tokio::signal::ctrl_c().await;
/// })
/// .await
/// # }
/// ```
///
/// # Errors
/// Never after it started: a failed `accept` (out of file descriptors, say) is logged and
/// retried after a pause.
pub async fn serve_router(
    listener: TcpListener,
    router: Router,
    limits: ServerLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stop, stopped) = watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop.send(true);
    });
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .keep_alive(true);
    let mut until_stop = stopped.clone();
    loop {
        let slot = tokio::select! {
            slot = Arc::clone(&slots).acquire_owned() => slot,
            _ = until_stop.wait_for(|s| *s) => break,
        };
        let Ok(slot) = slot else { break };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = until_stop.wait_for(|s| *s) => break,
        };
        let (stream, _peer) = match accepted {
            Ok(accepted) => accepted,
            Err(err) => {
                // EMFILE and friends: pause instead of spinning; open connections will close.
                tracing::warn!(error = %err, "accepting a connection failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let builder = builder.clone();
        let service = TowerToHyperService::new(router.clone());
        let stopped = stopped.clone();
        tokio::spawn(async move {
            serve_connection(builder, stream, service, limits.idle_timeout, stopped).await;
            drop(slot);
        });
    }
    // Every slot back means every connection has ended.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    if tokio::time::timeout(limits.shutdown_timeout, slots.acquire_many(all))
        .await
        .is_err()
    {
        tracing::warn!("connections still open after the shutdown timeout were dropped");
    }
    Ok(())
}

async fn serve_connection(
    builder: hyper::server::conn::http1::Builder,
    stream: TcpStream,
    service: TowerToHyperService<Router>,
    idle_timeout: Duration,
    mut stopped: watch::Receiver<bool>,
) {
    let activity = Activity::new();
    let io = TokioIo::new(Watched {
        inner: stream,
        activity: activity.clone(),
    });
    let connection = builder.serve_connection(io, service);
    tokio::pin!(connection);
    let mut tick = tokio::time::interval(idle_timeout.min(Duration::from_secs(1)));
    let mut shutting_down = false;
    loop {
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(err) = result {
                    tracing::debug!(error = %err, "connection ended with an error");
                }
                return;
            }
            _ = stopped.wait_for(|s| *s), if !shutting_down => {
                shutting_down = true;
                connection.as_mut().graceful_shutdown();
            }
            _ = tick.tick() => {
                if activity.idle() > idle_timeout {
                    tracing::debug!("closing a connection idle for {idle_timeout:?}");
                    return;
                }
            }
        }
    }
}

/// When a connection last moved a byte.
#[derive(Debug, Clone)]
struct Activity {
    base: Instant,
    last_ms: Arc<AtomicU64>,
}

impl Activity {
    fn new() -> Self {
        Activity {
            base: Instant::now(),
            last_ms: Arc::new(AtomicU64::new(0)),
        }
    }

    fn touch(&self) {
        let ms = u64::try_from(self.base.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    fn idle(&self) -> Duration {
        let last = Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
        self.base.elapsed().saturating_sub(last)
    }
}

/// A socket that records when bytes move.
#[derive(Debug)]
struct Watched {
    inner: TcpStream,
    activity: Activity,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(poll, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.touch();
        }
        poll
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(poll, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        poll
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(poll, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        poll
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
