//! `GET /api/backup` (the admin key): a backup of every trip, streamed while the server runs
//! (`persistence::backup` says what it holds and how consistent it is). `caravan backup
//! --server` downloads it; `caravan restore` reads it into a stopped server's data directory.

use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use tokio_util::io::{ReaderStream, SyncIoBridge};

use crate::auth::{Action, Credentials};
use crate::http::ApiError;
use crate::state::AppState;

/// Bytes buffered between the backup's writer and the response: a client that reads slowly
/// makes the backup wait, not grow in memory.
const PIPE_BYTES: usize = 1024 * 1024;

/// `GET /api/backup`: streams the backup, sealed with the store's current key when the store
/// is encrypted. A failure after the first bytes cuts the stream off; the file then lacks its
/// end frame, and a restore refuses it.
pub async fn get_backup(
    State(app): State<AppState>,
    credentials: Credentials,
) -> Result<Response, ApiError> {
    app.authorize(&credentials, Action::Backup, None)?;
    let (writer, reader) = tokio::io::duplex(PIPE_BYTES);
    let store = app.store().clone();
    let keys = app.config().encryption_keys.clone();
    tokio::task::spawn_blocking(move || {
        // Through the store's door: every update relayed before the request is in the backup.
        let mut out = std::io::BufWriter::new(SyncIoBridge::new(writer));
        match persistence::backup::write_backup(store.as_ref(), keys.as_ref(), &mut out) {
            Ok(summary) => tracing::info!(
                trips = summary.trips,
                bytes = summary.bytes,
                "a backup was downloaded"
            ),
            // Dropping the writer ends the stream without the end frame.
            Err(e) => tracing::error!(error = %e, "the backup failed; the download is cut off"),
        }
    });
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"caravan.backup\"",
            ),
        ],
        Body::from_stream(ReaderStream::new(reader)),
    )
        .into_response())
}
