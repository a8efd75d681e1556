//! The WebSocket endpoint `/sync/{tripId}`: one reader loop and one writer task per connection.
//!
//! The reader feeds binary frames to the room (which runs the protocol state machine); the
//! writer drains the connection's bounded outbox into the socket, sends keep-alive pings, and
//! sends the close frame when anyone hangs up (the room, the reader, the server's shutdown).
//!
//! Before anything of the trip is sent, the connection is authenticated: by the token in its
//! URL or `Authorization` header (a bad one is refused with 401/403 before the upgrade), or,
//! when it gave none and tokens are required, by a first message `[2, 0, token]` sent within
//! `--auth-timeout-secs`. Limits apply per connection (messages per second) and per IP
//! (connections).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use persistence::TripId;
use tokio::sync::mpsc;
use tracing::Instrument;

use crate::app::AppState;
use crate::auth::{refused, Access, Action, Credentials};
use crate::http_error::ApiError;
use crate::limits::{IpSlot, MessageBudget};
use crate::protocol::{messages, DocConnection};
use crate::room::{CloseReason, ConnId, Hangup, LoadError, Peer, ReceiveError, Room};

/// Close code: authentication failed, timed out, or the token expired.
pub const CLOSE_UNAUTHENTICATED: u16 = 4401;
/// Close code: the token does not allow this.
pub const CLOSE_FORBIDDEN: u16 = 4403;

/// `GET /sync/{tripId}`: upgrades to a WebSocket speaking the y-protocols.
pub async fn sync_handler(
    Path(trip): Path<String>,
    State(app): State<AppState>,
    peer_addr: Option<axum::Extension<ConnectInfo<std::net::SocketAddr>>>,
    credentials: Credentials,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    // The trip id first: a bad one is a 400 whether or not the request is an upgrade.
    let trip = TripId::parse(&trip).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let upgrade = upgrade
        .map_err(|e| ApiError::bad_request(format!("{e}: connect with a WebSocket client")))?;
    // Credentials in the request are checked now: a bad token never gets a WebSocket. Without
    // any (and tokens required), the first message must carry one.
    let access = if credentials.token.is_some() || app.auth().is_open() {
        Some(app.authorize(&credentials, Action::Read, Some(&trip))?)
    } else {
        None
    };
    // The assistant of this process is no client to cap.
    let internal = matches!(access, Some(Access::Internal(_)));
    let slot = match peer_addr {
        Some(axum::Extension(ConnectInfo(addr))) if !internal => {
            Some(take_ip_slot(&app, addr.ip(), &trip)?)
        }
        _ => None,
    };
    // The WebSocket layer reads messages up to twice the limit, so that a message just over it
    // is read whole and refused with a clean 1009; one cut off mid-read would leave unread
    // bytes, and the kernel would answer the close with a reset.
    let hard_limit = app.config().max_message_bytes.saturating_mul(2);
    Ok(upgrade
        .max_message_size(hard_limit)
        .max_frame_size(hard_limit)
        // Small buffers keep idle connections cheap; they grow for large messages.
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .on_upgrade(move |socket| {
            let conn = app.rooms.next_conn_id();
            let span = tracing::info_span!(
                "conn",
                id = conn,
                trip = %trip,
                user = tracing::field::Empty
            );
            run_connection(app, trip, conn, socket, access, slot).instrument(span)
        })
        .into_response())
}

fn take_ip_slot(app: &AppState, ip: std::net::IpAddr, trip: &TripId) -> Result<IpSlot, ApiError> {
    let cap = app.config().max_connections_per_ip;
    app.rooms
        .services()
        .connections_per_ip
        .acquire(ip, cap)
        .ok_or_else(|| {
            let refusal = crate::auth::Refusal {
                status: StatusCode::TOO_MANY_REQUESTS,
                kind: "too_many_connections_per_ip",
                message: format!("too many connections from {ip}: the limit is {cap}"),
            };
            refused(app.metrics(), &refusal, Some(trip), &ip.to_string());
            ApiError::with_status(refusal.status, refusal.message)
        })
}

async fn run_connection(
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
                let _ = tokio::time::timeout(
                    std::time::Duration::from_secs(1),
                    socket.send(Message::Close(Some(CloseFrame {
                        code: reason.code,
                        reason: reason.reason.into(),
                    }))),
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
    let peer = Peer {
        outbox,
        hangup: hangup.clone(),
        is_assistant: access.is_assistant(),
    };
    let mut session = DocConnection::new(access.can_write());
    let (sink, stream) = socket.split();
    let writer = tokio::spawn(
        write_loop(app.clone(), sink, outbox_rx, hangup.clone())
            .instrument(tracing::Span::current()),
    );

    match join(&app, &trip, conn, peer.clone(), &session).await {
        Ok(room) => {
            read_loop(&app, &room, conn, &mut session, stream, &peer, &access).await;
            room.leave(conn, &mut session);
        }
        Err(reason) => hangup.hang_up(reason),
    }
    // The reader is done; make sure the writer ends too, and give it a moment to say why.
    hangup.hang_up(CloseReason::new(1000, "bye"));
    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), writer).await;
    metrics.connections.dec();
    tracing::debug!(reason = ?hangup.reason(), "disconnected");
}

/// Joins the trip's room, looking it up again if it was unloaded in between.
async fn join(
    app: &AppState,
    trip: &TripId,
    conn: ConnId,
    peer: Peer,
    session: &DocConnection,
) -> Result<Arc<Room>, CloseReason> {
    for _ in 0..100 {
        let room = match app.rooms.load(trip).await {
            Ok(room) => room,
            Err(e @ LoadError::AtCapacity(_)) => {
                return Err(CloseReason::new(1013, e.to_string()));
            }
            Err(LoadError::Store(e)) => {
                app.metrics().error("storage");
                tracing::error!(error = %e, "could not load the trip");
                return Err(CloseReason::new(1011, "the trip could not be loaded"));
            }
        };
        if room.join(conn, peer.clone(), session).is_ok() {
            return Ok(room);
        }
        tokio::task::yield_now().await;
    }
    Err(CloseReason::new(1011, "the trip could not be loaded"))
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
    let refuse = |refusal: crate::auth::Refusal| {
        refused(app.metrics(), &refusal, Some(trip), "anonymous");
        CloseReason::new(refusal.close_code(), refusal.message)
    };
    let first = loop {
        match tokio::time::timeout(timeout, socket.recv()).await {
            Err(_) => {
                return Err(refuse(crate::auth::Refusal {
                    status: StatusCode::UNAUTHORIZED,
                    kind: "auth_timeout",
                    message: format!(
                        "authentication timed out: send a token within {} s",
                        timeout.as_secs()
                    ),
                }))
            }
            Ok(None) | Ok(Some(Err(_))) => {
                return Err(CloseReason::new(1000, "closed before authenticating"))
            }
            Ok(Some(Ok(Message::Binary(frame)))) => break frame,
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
            Ok(Some(Ok(_))) => break Bytes::new(),
        }
    };
    let token = messages::read_auth_token(&first).ok_or_else(|| {
        refuse(crate::auth::Refusal {
            status: StatusCode::UNAUTHORIZED,
            kind: "auth_missing",
            message: "authenticate first: put a token in the URL (?token=) or send [2, 0, token]"
                .into(),
        })
    })?;
    let credentials = Credentials { token: Some(token) };
    app.auth()
        .authorize(&credentials, Action::Read, Some(trip), app.metrics())
        .map_err(|r| CloseReason::new(r.close_code(), r.message))
}

async fn read_loop(
    app: &AppState,
    room: &Arc<Room>,
    conn: ConnId,
    session: &mut DocConnection,
    mut stream: SplitStream<WebSocket>,
    peer: &Peer,
    access: &Access,
) {
    let metrics = app.metrics();
    let dead_after = app.config().dead_after;
    let budget = MessageBudget::new(app.config().messages_per_second, app.config().message_burst);
    // A token ends the connection when it expires.
    let expiry = access.expires_at().map(|exp| {
        let left = exp.saturating_sub(persistence::now_ms() / 1000);
        tokio::time::Instant::now() + std::time::Duration::from_secs(left)
    });
    let expired = async move {
        match expiry {
            Some(at) => tokio::time::sleep_until(at).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(expired);
    // Group-commit ticket of the newest update this connection sent: "saved?" waits for it.
    let mut last_ticket = 0u64;
    let hang_up = |code: u16, reason: String, kind: &str| {
        metrics.error(kind);
        tracing::info!(code, %reason, "closing the connection");
        peer.hangup.hang_up(CloseReason::new(code, reason));
    };
    loop {
        let next = tokio::select! {
            _ = peer.hangup.requested() => return,
            _ = app.shutdown.cancelled() => {
                peer.hangup.hang_up(CloseReason::new(1001, "the server is shutting down"));
                return;
            }
            _ = &mut expired => {
                return hang_up(
                    CLOSE_UNAUTHENTICATED,
                    "your token expired: reconnect with a fresh one".into(),
                    "auth_expired",
                );
            }
            next = tokio::time::timeout(dead_after, stream.next()) => next,
        };
        let message = match next {
            Err(_elapsed) => {
                return hang_up(
                    1001,
                    "no sign of life (keep-alive timed out)".into(),
                    "dead_connection",
                )
            }
            Ok(None) => return,
            Ok(Some(Err(e))) => {
                let text = e.to_string();
                if text.contains("too long")
                    || text.contains("Space limit")
                    || text.contains("size")
                {
                    return hang_up(1009, too_big(app), "message_too_big");
                }
                return hang_up(1002, format!("websocket error: {text}"), "websocket_error");
            }
            Ok(Some(Ok(message))) => message,
        };
        match message {
            Message::Binary(frame) if frame.len() > app.config().max_message_bytes => {
                return hang_up(1009, too_big(app), "message_too_big");
            }
            Message::Binary(frame) => {
                metrics.bytes_in_total.inc_by(frame.len() as u64);
                if let Some(wait) = budget.as_ref().and_then(MessageBudget::take) {
                    // Over its rate: stop reading from this client until the bucket refills.
                    // Its frames wait in the socket buffers, and TCP slows the sender down.
                    metrics.error("rate_limited");
                    tracing::debug!(wait_ms = wait.as_millis() as u64, "throttling");
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = peer.hangup.requested() => return,
                    }
                    // The wait bought exactly one message.
                    let _ = budget.as_ref().map(MessageBudget::take);
                }
                match room.receive(conn, session, &frame) {
                    Ok(received) => {
                        if received.denied_writes > 0 {
                            let refusal = crate::auth::Refusal {
                                status: StatusCode::FORBIDDEN,
                                kind: "read_only",
                                message: format!(
                                    "refused {} update(s): this connection may only read",
                                    received.denied_writes
                                ),
                            };
                            refused(metrics, &refusal, Some(&room.trip), access.user());
                        }
                        last_ticket = received.persisted.unwrap_or(last_ticket);
                        for n in received.saved_questions {
                            answer_when_saved(app, last_ticket, n, peer.clone());
                        }
                    }
                    Err(ReceiveError::Protocol(e)) => {
                        return hang_up(e.close_code(), e.to_string(), e.kind())
                    }
                    // Already counted, logged and hung up.
                    Err(ReceiveError::Storage(_)) => return,
                    // Deleted or shutting down: the hang-up reason is already set.
                    Err(ReceiveError::Closed) => return,
                }
            }
            Message::Text(text) if text.len() > app.config().max_message_bytes => {
                return hang_up(1009, too_big(app), "message_too_big");
            }
            Message::Text(_) => {
                return hang_up(
                    1003,
                    "text frames are not supported: send binary y-protocols messages".into(),
                    "text_frame",
                )
            }
            Message::Close(_) => return,
            Message::Ping(_) | Message::Pong(_) => {}
        }
    }
}

fn too_big(app: &AppState) -> String {
    format!(
        "message too big: the limit is {} bytes",
        app.config().max_message_bytes
    )
}

fn answer_when_saved(app: &AppState, ticket: u64, n: u64, peer: Peer) {
    let commit = app.rooms.services().commit.clone();
    tokio::spawn(async move {
        commit.wait(ticket).await;
        // A full outbox here means the connection is being closed as too slow anyway.
        let _ = peer.outbox.try_send(Bytes::from(messages::saved(n)));
    });
}

/// The most queued frames written to a socket at once.
const MAX_FRAMES_PER_WRITE: usize = 64;

async fn write_loop(
    app: AppState,
    mut sink: SplitSink<WebSocket, Message>,
    mut outbox: mpsc::Receiver<Bytes>,
    hangup: Arc<Hangup>,
) {
    let mut ping = tokio::time::interval(app.config().ping_interval);
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
                hangup.hang_up(CloseReason::new(1006, "socket error"));
                return;
            },
        }
    }
    if let Some(reason) = hangup.reason() {
        if reason.code != 1006 {
            let frame = CloseFrame {
                code: reason.code,
                reason: reason.reason.clone().into(),
            };
            let _ = tokio::time::timeout(
                std::time::Duration::from_secs(1),
                sink.send(Message::Close(Some(frame))),
            )
            .await;
        }
    }
    let _ = sink.close().await;
}
