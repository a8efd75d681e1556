//! **Reading**: a connection's frames, one at a time, into its room.
//!
//! Before a frame reaches the room it passes the connection's limits: its rate (a sender
//! over it is throttled: the server stops reading until the budget refills, and TCP slows
//! the sender down), its size (1009), its kind (text frames: 1003). The reader also ends the
//! connection when the token expires (4401), when the client shows no sign of life (1001) and
//! when the server stops.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::extract::ws::{Message, WebSocket};
use axum::http::StatusCode;
use bytes::Bytes;
use caravan_wire::close;
use futures_util::stream::SplitStream;
use futures_util::StreamExt;
use tokio_tungstenite::tungstenite;

use crate::auth::{refused, Access, Refusal};
use crate::document::{ChangeError, CloseReason, Origin, Peer, Room};
use crate::limits::MessageBudget;
use crate::protocol::DocConnection;
use crate::state::AppState;

/// How often a connection waiting for a compaction looks again.
const COMPACTION_WAIT_STEP: std::time::Duration = std::time::Duration::from_millis(20);

/// How reading ends.
enum End {
    /// Nothing more for the reader to say: the client left, or someone else hung up.
    Quietly,
    /// The reader hangs up with this close code and reason, counted under `kind`.
    HangUp {
        code: u16,
        reason: String,
        kind: &'static str,
    },
}

impl End {
    fn hang_up(code: u16, reason: impl Into<String>, kind: &'static str) -> End {
        End::HangUp {
            code,
            reason: reason.into(),
            kind,
        }
    }
}

/// The reading side of one connection in its room.
pub struct Reader<'a> {
    app: &'a AppState,
    room: &'a Arc<Room>,
    origin: &'a Origin,
    peer: &'a Peer,
    access: &'a Access,
    budget: Option<MessageBudget>,
}

impl<'a> Reader<'a> {
    /// A reader for connection `origin` (as `peer`) in `room`.
    pub fn new(
        app: &'a AppState,
        room: &'a Arc<Room>,
        origin: &'a Origin,
        peer: &'a Peer,
        access: &'a Access,
    ) -> Reader<'a> {
        let config = app.config();
        Reader {
            budget: MessageBudget::new(config.messages_per_second, config.message_burst),
            app,
            room,
            origin,
            peer,
            access,
        }
    }

    /// Reads until the connection ends; when the reader is the one to end it, it hangs up
    /// with its reason.
    pub async fn read(mut self, session: &mut DocConnection, mut stream: SplitStream<WebSocket>) {
        let expired = token_expiry(self.access);
        tokio::pin!(expired);
        let end = loop {
            let message = match self.next(&mut stream, expired.as_mut()).await {
                Ok(message) => message,
                Err(end) => break end,
            };
            if let Err(end) = self.handle(session, message).await {
                break end;
            }
        };
        if let End::HangUp { code, reason, kind } = end {
            self.app.metrics().error(kind);
            tracing::info!(code, %reason, "closing the connection");
            self.peer.hangup.hang_up(CloseReason::new(code, reason));
        }
    }

    /// The next message, unless the connection ends first.
    async fn next(
        &self,
        stream: &mut SplitStream<WebSocket>,
        expired: Pin<&mut impl Future<Output = ()>>,
    ) -> Result<Message, End> {
        let next = tokio::select! {
            _ = self.peer.hangup.requested() => return Err(End::Quietly),
            _ = self.app.shutdown.cancelled() => {
                self.peer.hangup.hang_up(CloseReason::new(
                    close::GOING_AWAY,
                    "the server is shutting down",
                ));
                return Err(End::Quietly);
            }
            _ = expired => {
                return Err(End::hang_up(
                    close::UNAUTHENTICATED,
                    "your token expired: reconnect with a fresh one",
                    "auth_expired",
                ));
            }
            next = tokio::time::timeout(self.app.config().dead_after, stream.next()) => next,
        };
        match next {
            Err(_elapsed) => Err(End::hang_up(
                close::GOING_AWAY,
                "no sign of life (keep-alive timed out)",
                "dead_connection",
            )),
            Ok(None) => Err(End::Quietly),
            Ok(Some(Err(e))) => {
                let text = e.to_string();
                if is_capacity_error(e) {
                    Err(self.too_big())
                } else {
                    Err(End::hang_up(
                        close::PROTOCOL_ERROR,
                        format!("websocket error: {text}"),
                        "websocket_error",
                    ))
                }
            }
            Ok(Some(Ok(message))) => Ok(message),
        }
    }

    async fn handle(&mut self, session: &mut DocConnection, message: Message) -> Result<(), End> {
        let limit = self.app.config().max_message_bytes;
        match message {
            Message::Binary(frame) if frame.len() > limit => Err(self.too_big()),
            Message::Binary(frame) => self.binary(session, frame).await,
            Message::Text(text) if text.len() > limit => Err(self.too_big()),
            Message::Text(_) => Err(End::hang_up(
                close::UNSUPPORTED_DATA,
                "text frames are not supported: send binary y-protocols messages",
                "text_frame",
            )),
            Message::Close(_) => Err(End::Quietly),
            Message::Ping(_) | Message::Pong(_) => Ok(()),
        }
    }

    /// A binary frame: y-protocols messages for the room.
    async fn binary(&mut self, session: &mut DocConnection, frame: Bytes) -> Result<(), End> {
        self.app.metrics().bytes_in_total.inc_by(frame.len() as u64);
        self.throttle().await?;
        match self.room.receive(self.origin, session, &frame) {
            Ok(changed) => {
                if changed.denied_writes > 0 {
                    self.report_denied(changed.denied_writes);
                }
                for refusal in &changed.presence_refused {
                    self.app.metrics().error(refusal.kind());
                    tracing::warn!(
                        trip = %self.room.trip,
                        user = self.access.user(),
                        reason = %refusal.reason(),
                        "refused a presence update"
                    );
                }
                if changed.persisted.is_some() {
                    // The change is in every other peer's outbox: their writers get a turn
                    // before this sender's next frame is read, so a burst from one client
                    // cannot fill another's outbox before its writer ran (it would then be
                    // hung up as too slow, though it reads as fast as it can).
                    tokio::task::yield_now().await;
                    self.wait_for_compaction().await?;
                }
                Ok(())
            }
            Err(ChangeError::Protocol(e)) => {
                Err(End::hang_up(e.close_code(), e.to_string(), e.kind()))
            }
            // A failed save already hung up with 1011; a closed room (deleted, shut down)
            // already set its reason.
            Err(_) => Err(End::Quietly),
        }
    }

    /// While compactions of the trip fall behind its writers (`Room::compaction_behind`),
    /// the connection waits (unread), for `--saved-timeout-secs` at most.
    async fn wait_for_compaction(&self) -> Result<(), End> {
        if !self.room.compaction_behind() {
            return Ok(());
        }
        self.app.metrics().error("compaction_behind");
        let until = tokio::time::Instant::now() + self.app.config().saved_timeout;
        while self.room.compaction_behind() && tokio::time::Instant::now() < until {
            tokio::select! {
                _ = tokio::time::sleep(COMPACTION_WAIT_STEP) => {}
                _ = self.peer.hangup.requested() => return Err(End::Quietly),
            }
        }
        Ok(())
    }

    /// Over its rate, the connection waits (unread) until its budget refills.
    async fn throttle(&self) -> Result<(), End> {
        let Some(wait) = self.budget.as_ref().and_then(MessageBudget::take) else {
            return Ok(());
        };
        self.app.metrics().error("rate_limited");
        tracing::debug!(wait_ms = wait.as_millis() as u64, "throttling");
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = self.peer.hangup.requested() => return Err(End::Quietly),
        }
        // The wait bought exactly one message.
        let _ = self.budget.as_ref().map(MessageBudget::take);
        Ok(())
    }

    fn report_denied(&self, count: usize) {
        let refusal = Refusal {
            status: StatusCode::FORBIDDEN,
            kind: "read_only",
            message: format!("refused {count} update(s): this connection may only read"),
        };
        refused(
            self.app.metrics(),
            &refusal,
            Some(&self.room.trip),
            self.access.user(),
        );
    }

    fn too_big(&self) -> End {
        End::hang_up(
            close::MESSAGE_TOO_BIG,
            format!(
                "message too big: the limit is {} bytes",
                self.app.config().max_message_bytes
            ),
            "message_too_big",
        )
    }
}

/// Resolves when the connection's token expires (never, without one).
async fn token_expiry(access: &Access) {
    match access.expires_at() {
        Some(exp) => {
            let left = exp.saturating_sub(persistence::now_ms() / 1000);
            tokio::time::sleep(std::time::Duration::from_secs(left)).await
        }
        None => std::future::pending().await,
    }
}

/// True when the WebSocket layer refused a message or frame over its size limit.
fn is_capacity_error(e: axum::Error) -> bool {
    matches!(
        e.into_inner().downcast_ref::<tungstenite::Error>(),
        Some(tungstenite::Error::Capacity(_))
    )
}
