//! **Session**: one connection's life once upgraded. It authenticates (when the request
//! carried no token: a first message `[2, 0, token]` within `--auth-timeout-secs`), joins the
//! trip's room, reads until the connection ends (`reader`) while `writer` sends, and leaves.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use axum::http::StatusCode;
use bytes::Bytes;
use caravan_wire::close;
use futures_util::StreamExt;
use persistence::TripId;
use tokio::sync::mpsc;
use tracing::Instrument;

use super::{reader, writer};
use crate::auth::{refused, Access, Action, Credentials, Refusal};
use crate::document::{ChangeError, CloseReason, ConnId, Hangup, LoadError, Origin, Peer, Room};
use crate::limits::IpSlot;
use crate::protocol::{messages, DocConnection};
use crate::state::AppState;

/// How long a refused connection's close frame may take to send.
const CLOSE_SEND_TIMEOUT: Duration = Duration::from_secs(1);
/// How long the writer has, once the reader is done, to send what is queued and the close.
const WRITER_DRAIN_TIMEOUT: Duration = Duration::from_secs(2);

/// Runs one upgraded connection to its end. `access` is `None` when the request carried no
/// credentials and tokens are required; `_slot` keeps its place under the per-IP cap.
pub async fn run(
    app: AppState,
    trip: TripId,
    conn: ConnId,
    mut socket: WebSocket,
    access: Option<Access>,
    _slot: Option<IpSlot>,
) {
    let metrics = app.metrics().clone();
    metrics.connections.inc();
    metrics.connections_total.inc();
    tracing::debug!("connected");
    let access = match access {
        Some(access) => access,
        None => match authenticate_first_message(&app, &trip, &mut socket).await {
            Ok(access) => access,
            Err(reason) => {
                let frame = CloseFrame {
                    code: reason.code,
                    reason: reason.reason.into(),
                };
                let _ = tokio::time::timeout(
                    CLOSE_SEND_TIMEOUT,
                    socket.send(Message::Close(Some(frame))),
                )
                .await;
                metrics.connections.dec();
                return;
            }
        },
    };
    tracing::Span::current().record("user", access.user());

    let (outbox, outbox_rx) = mpsc::channel::<Bytes>(app.config().outbox_frames);
    let hangup = Arc::new(Hangup::default());
    let peer = Peer::new(outbox, hangup.clone(), access.is_assistant());
    let origin = Origin::Connection(conn);
    let mut session = DocConnection::new(access.can_write()).with_identity(access.identity());
    let (sink, stream) = socket.split();
    let writer = tokio::spawn(
        writer::write(app.config().ping_interval, sink, outbox_rx, hangup.clone())
            .instrument(tracing::Span::current()),
    );

    match join(&app, &trip, &origin, &peer, &session).await {
        Ok(room) => {
            let reading = reader::Reader::new(&app, &room, &origin, &peer, &access);
            reading.read(&mut session, stream).await;
            room.leave(&origin, &mut session);
        }
        Err(reason) => hangup.hang_up(reason),
    }
    // The reader is done; make sure the writer ends too, and give it a moment to say why.
    hangup.hang_up(CloseReason::new(close::NORMAL, "bye"));
    let _ = tokio::time::timeout(WRITER_DRAIN_TIMEOUT, writer).await;
    metrics.connections.dec();
    tracing::debug!(reason = ?hangup.reason(), "disconnected");
}

/// **Join**: enters the trip's room (loading it if needed, looking it up again if it closed
/// meanwhile), or says why the connection must close.
async fn join(
    app: &AppState,
    trip: &TripId,
    origin: &Origin,
    peer: &Peer,
    session: &DocConnection,
) -> Result<Arc<Room>, CloseReason> {
    let joined = app
        .rooms
        .with_room(trip, |room| room.join(origin, peer.clone(), session))
        .await;
    match joined {
        Ok((room, ())) => Ok(room),
        Err(ChangeError::Load(e @ LoadError::AtCapacity(_))) => {
            Err(CloseReason::new(close::TRY_AGAIN_LATER, e.to_string()))
        }
        Err(e) => {
            if let ChangeError::Load(LoadError::Store(e)) = &e {
                app.metrics().error("storage");
                tracing::error!(error = %e, "could not load the trip");
            }
            Err(CloseReason::new(
                close::SERVER_ERROR,
                "the trip could not be loaded",
            ))
        }
    }
}

/// Waits (up to `auth_timeout`) for the first message to be `[2, 0, varString token]` (the
/// y-protocols auth message type, as Hocuspocus clients send it, without the document name)
/// and checks the token. Nothing of the trip has been sent yet.
async fn authenticate_first_message(
    app: &AppState,
    trip: &TripId,
    socket: &mut WebSocket,
) -> Result<Access, CloseReason> {
    let timeout = app.config().auth_timeout;
    let refuse = |refusal: Refusal| {
        refused(app.metrics(), &refusal, Some(trip), "anonymous");
        CloseReason::new(refusal.close_code(), refusal.message)
    };
    let first = loop {
        match tokio::time::timeout(timeout, socket.recv()).await {
            Err(_) => {
                return Err(refuse(Refusal {
                    status: StatusCode::UNAUTHORIZED,
                    kind: "auth_timeout",
                    message: format!(
                        "authentication timed out: send a token within {} s",
                        timeout.as_secs()
                    ),
                }))
            }
            Ok(None) | Ok(Some(Err(_))) => {
                return Err(CloseReason::new(
                    close::NORMAL,
                    "closed before authenticating",
                ))
            }
            Ok(Some(Ok(Message::Binary(frame)))) => break frame,
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
            Ok(Some(Ok(_))) => break Bytes::new(),
        }
    };
    let token = messages::read_auth_token(&first).ok_or_else(|| {
        refuse(Refusal {
            status: StatusCode::UNAUTHORIZED,
            kind: "auth_missing",
            message: "authenticate first: put a token in the URL (?token=) or send [2, 0, token]"
                .into(),
        })
    })?;
    let credentials = Credentials { token: Some(token) };
    app.authorize(&credentials, Action::Read, Some(trip))
        .map_err(|r| CloseReason::new(r.close_code(), r.message))
}
