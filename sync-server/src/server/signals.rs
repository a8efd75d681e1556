//! The signals that stop the server: SIGINT (Ctrl-C) and SIGTERM (systemd, Docker,
//! Kubernetes).

/// Exit status when a second signal cuts a stop short (128 + SIGINT, as shells report it).
pub const EXIT_SECOND_SIGNAL: i32 = 130;

/// Resolves at the first SIGINT or SIGTERM.
pub async fn stop_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
