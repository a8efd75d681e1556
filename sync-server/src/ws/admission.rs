//! **Admission**: `GET /sync/{tripId}` becomes a WebSocket, or is refused before it does.
//!
//! A bad trip id is a 400 whether or not the request is an upgrade. Credentials in the URL
//! or the `Authorization` header are checked now (a bad token never gets a WebSocket); with
//! none, and tokens required, the connection must send its token first (`session`). Each
//! client IP (behind `--trusted-proxies`, the forwarded one) holds at most
//! `--max-connections-per-ip` connections (429 past it); with no proxy configured, loopback
//! clients are not capped (a local load balancer or test harness is one address for all).

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use persistence::TripId;
use tracing::Instrument;

use super::session;
use crate::auth::{refused, Action, Credentials, Refusal};
use crate::http::client_address::TrustedProxies;
use crate::http::ApiError;
use crate::limits::IpSlot;
use crate::state::AppState;

/// Bytes read from a socket at a time, to start with: small buffers keep idle connections
/// cheap, and they grow for large messages.
const READ_BUFFER_BYTES: usize = 4 * 1024;

/// `GET /sync/{tripId}`: upgrades to a WebSocket speaking the y-protocols.
pub async fn sync_handler(
    Path(trip): Path<String>,
    State(app): State<AppState>,
    peer_addr: Option<axum::Extension<ConnectInfo<std::net::SocketAddr>>>,
    headers: axum::http::HeaderMap,
    credentials: Credentials,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let trip = TripId::parse(&trip).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let upgrade = upgrade
        .map_err(|e| ApiError::bad_request(format!("{e}: connect with a WebSocket client")))?;
    let access = if credentials.token.is_some() || app.auth().is_open() {
        Some(app.authorize(&credentials, Action::Read, Some(&trip))?)
    } else {
        None
    };
    let proxies = TrustedProxies(&app.config().trusted_proxies);
    let client =
        peer_addr.map(|axum::Extension(ConnectInfo(addr))| proxies.client(addr.ip(), &headers));
    let slot = match client {
        Some(ip) if ip.is_loopback() && proxies.is_empty() => None,
        Some(ip) => Some(take_ip_slot(&app, ip, &trip)?),
        _ => None,
    };
    // The WebSocket layer reads messages up to twice the limit, so that a message just over it
    // is read whole and refused with a clean 1009; one cut off mid-read would leave unread
    // bytes, and the kernel would answer the close with a reset.
    let hard_limit = app.config().max_message_bytes.saturating_mul(2);
    Ok(upgrade
        .max_message_size(hard_limit)
        .max_frame_size(hard_limit)
        .read_buffer_size(READ_BUFFER_BYTES)
        .write_buffer_size(0)
        .on_upgrade(move |socket| {
            let conn = app.rooms.next_conn_id();
            let span = tracing::info_span!(
                "conn",
                id = conn,
                trip = %trip,
                client = client.map(|ip| ip.to_string()).unwrap_or_default(),
                user = tracing::field::Empty
            );
            session::run(app, trip, conn, socket, access, slot).instrument(span)
        })
        .into_response())
}

/// A place for one more connection from `ip`, or 429.
fn take_ip_slot(app: &AppState, ip: std::net::IpAddr, trip: &TripId) -> Result<IpSlot, ApiError> {
    let cap = app.config().max_connections_per_ip;
    app.connections_per_ip.acquire(ip, cap).ok_or_else(|| {
        let refusal = Refusal {
            status: StatusCode::TOO_MANY_REQUESTS,
            kind: "too_many_connections_per_ip",
            message: format!("too many connections from {ip}: the limit is {cap}"),
        };
        refused(app.metrics(), &refusal, Some(trip), &ip.to_string());
        refusal.into()
    })
}
