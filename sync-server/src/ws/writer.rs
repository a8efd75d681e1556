//! **Writing**: a connection's outbox drained into its socket, with keep-alive pings, and the
//! close frame when anyone hangs up (the room, the reader, the server's shutdown).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use bytes::Bytes;
use caravan_wire::close;
use futures_util::stream::SplitSink;
use futures_util::SinkExt;
use tokio::sync::mpsc;

use crate::document::{CloseReason, Hangup};

/// The most queued frames written to a socket at once.
const MAX_FRAMES_PER_WRITE: usize = 64;
/// How long the close frame may take to send.
const CLOSE_SEND_TIMEOUT: Duration = Duration::from_secs(1);

/// Sends what the room queues for this connection until it is hung up, then the close frame
/// with the reason given (none after a socket error).
pub async fn write(
    ping_interval: Duration,
    mut sink: SplitSink<WebSocket, Message>,
    mut outbox: mpsc::Receiver<Bytes>,
    hangup: Arc<Hangup>,
) {
    let mut ping = tokio::time::interval(ping_interval);
    ping.tick().await;
    loop {
        let message = tokio::select! {
            biased;
            _ = hangup.requested() => break,
            frame = outbox.recv() => match frame {
                Some(frame) => Message::Binary(frame),
                None => break,
            },
            _ = ping.tick() => Message::Ping(Bytes::new()),
        };
        // Let the tasks that are ready run first (the readers of the same burst of updates):
        // what they queue for this connection goes out in the same write. When the server is
        // quiet nothing is ready and this returns at once.
        tokio::task::yield_now().await;
        // Frames that are already waiting go out with this one, in one write to the socket
        // (a system call per frame was a third of the server's CPU under load).
        let mut waiting = Vec::new();
        while waiting.len() < MAX_FRAMES_PER_WRITE {
            match outbox.try_recv() {
                Ok(frame) => waiting.push(Message::Binary(frame)),
                Err(_) => break,
            }
        }
        let write = async {
            sink.feed(message).await?;
            for frame in waiting {
                sink.feed(frame).await?;
            }
            sink.flush().await
        };
        tokio::select! {
            biased;
            _ = hangup.requested() => break,
            sent = write => if sent.is_err() {
                hangup.hang_up(CloseReason::new(close::ABNORMAL, "socket error"));
                return;
            },
        }
    }
    if let Some(reason) = hangup.reason() {
        if reason.code != close::ABNORMAL {
            let frame = CloseFrame {
                code: reason.code,
                reason: reason.reason.clone().into(),
            };
            let _ =
                tokio::time::timeout(CLOSE_SEND_TIMEOUT, sink.send(Message::Close(Some(frame))))
                    .await;
        }
    }
    let _ = sink.close().await;
}
