//! `GET /api/backup` (the admin key): a backup of every trip, streamed while the server runs
//! (`persistence::backup` says what it holds and how consistent it is). `caravan backup
//! --server` downloads it; `caravan restore` reads it into a stopped server's data directory.

use std::io::Write;

use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use crate::auth::{Action, Credentials};
use crate::http::ApiError;
use crate::state::AppState;

/// Bytes gathered before a chunk goes to the response.
const CHUNK_BYTES: usize = 256 * 1024;
/// Chunks queued for a client that reads slowly before the backup waits for it.
const CHUNKS_QUEUED: usize = 8;

/// `GET /api/backup`: streams the backup, sealed with the store's current key when the store
/// is encrypted. A failure after the first bytes cuts the stream off; the file then lacks its
/// end frame, and a restore refuses it.
pub async fn get_backup(
    State(app): State<AppState>,
    credentials: Credentials,
) -> Result<Response, ApiError> {
    app.authorize(&credentials, Action::Backup, None)?;
    let (chunks, received) = mpsc::channel::<Result<Bytes, std::io::Error>>(CHUNKS_QUEUED);
    let store = app.store().clone();
    let keys = app.config().encryption_keys.clone();
    tokio::task::spawn_blocking(move || {
        let mut out = ChunkWriter {
            chunks: chunks.clone(),
            buffer: Vec::with_capacity(CHUNK_BYTES),
        };
        match persistence::backup::write_backup(store.as_ref(), keys.as_ref(), &mut out) {
            Ok(summary) => tracing::info!(
                trips = summary.trips,
                bytes = summary.bytes,
                "a backup was downloaded"
            ),
            Err(e) => {
                tracing::error!(error = %e, "the backup failed; the download is cut off");
                let _ = chunks.blocking_send(Err(std::io::Error::other(e.to_string())));
            }
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
        Body::from_stream(ReceiverStream::new(received)),
    )
        .into_response())
}

/// A `Write` that sends what it is given to the response in chunks (from a blocking thread).
struct ChunkWriter {
    chunks: mpsc::Sender<Result<Bytes, std::io::Error>>,
    buffer: Vec<u8>,
}

impl ChunkWriter {
    fn send(&mut self) -> std::io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(
            &mut self.buffer,
            Vec::with_capacity(CHUNK_BYTES),
        ));
        self.chunks
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::other("the client went away"))
    }
}

impl Write for ChunkWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        if self.buffer.len() >= CHUNK_BYTES {
            self.send()?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}
