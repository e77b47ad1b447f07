//! The shutdown signal every worker process should stop on.

/// Resolves on the first SIGTERM or SIGINT (Ctrl-C) on Unix, and on Ctrl-C elsewhere: what
/// process managers (systemd, Kubernetes, Docker, `kill`) send to ask a process to stop.
/// Pass it to [`Worker::run_until`](crate::Worker::run_until) (and to the web server's
/// graceful shutdown) so that a stop request is a graceful shutdown: no new claims, running
/// attempts finish within the grace period, the rest are re-queued without using an attempt.
///
/// ```no_run
/// use djrs_tasks::{shutdown_signal, Tasks, Worker};
///
/// # async fn demo(tasks: Tasks) -> djrs_tasks::Result<()> {
/// Worker::new(&tasks).run_until(shutdown_signal()).await?;
/// # Ok(()) }
/// ```
///
/// If the signal handlers cannot be installed (no signal driver), it logs why and falls back
/// to Ctrl-C alone.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = terminate.recv() => {
                        tracing::info!(target: "djrs_tasks", "SIGTERM received; shutting down gracefully");
                    }
                    _ = tokio::signal::ctrl_c() => {
                        tracing::info!(target: "djrs_tasks", "SIGINT received; shutting down gracefully");
                    }
                }
                return;
            }
            Err(err) => {
                tracing::warn!(target: "djrs_tasks", error = %err, "cannot listen for SIGTERM; only Ctrl-C stops this process gracefully");
            }
        }
    }
    if let Err(err) = tokio::signal::ctrl_c().await {
        tracing::warn!(target: "djrs_tasks", error = %err, "cannot listen for Ctrl-C either");
        std::future::pending::<()>().await;
    }
}
