//! Caravan in this process, for tests that step into it: the real router on 127.0.0.1:0
//! (`server::start`) over any store (a `MemoryStore`, a `FaultyStore`), and a raw WebSocket client.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use persistence::DocStore;
use sync_server::auth::Auth;
use sync_server::config::ServerConfig;
use sync_server::protocol::messages;
use sync_server::server::{self, Running};
use sync_server::state::AppState;
use tokio_tungstenite::tungstenite::Message;

/// A raw WebSocket client.
pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// How long any step of these tests may take before it counts as hung.
pub const STEP: Duration = Duration::from_secs(10);

/// Caravan over `store`, with `config` (and no assistant: these tests count rooms).
pub async fn start(config: ServerConfig, store: Arc<dyn DocStore>) -> Running {
    let config = ServerConfig {
        assistant: false,
        ..config
    };
    let app = AppState::new(config, store, Auth::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    server::start(app, listener).unwrap()
}

pub async fn connect(server: &Running, trip: &str) -> Ws {
    let url = format!("ws://{}/sync/{trip}", server.addr());
    let (ws, _) = tokio::time::timeout(STEP, tokio_tungstenite::connect_async(url))
        .await
        .expect("connects in time")
        .expect("connects");
    ws
}

/// Sends `update` and waits until the server says it is durable.
pub async fn write_and_wait_saved(ws: &mut Ws, update: &[u8], n: u64) {
    let mut frame = messages::sync_update(update);
    frame.extend(messages::saved(n));
    ws.send(Message::binary(frame)).await.unwrap();
    let answer = messages::saved(n);
    tokio::time::timeout(STEP, async {
        while let Some(message) = ws.next().await {
            if let Message::Binary(bytes) = message.unwrap() {
                if bytes[..] == answer[..] {
                    return;
                }
            }
        }
        panic!("the connection ended before \"saved\"");
    })
    .await
    .expect("\"saved\" in time");
}

/// Reads until the server closes the connection; its close code.
pub async fn close_code(ws: &mut Ws) -> Option<u16> {
    close_frame(ws).await.map(|(code, _)| code)
}

/// Reads until the server closes the connection; its close code and reason.
pub async fn close_frame(ws: &mut Ws) -> Option<(u16, String)> {
    tokio::time::timeout(STEP, async {
        while let Some(message) = ws.next().await {
            match message {
                Ok(Message::Close(frame)) => {
                    return frame.map(|f| (u16::from(f.code), f.reason.to_string()))
                }
                Ok(_) => {}
                Err(_) => return None,
            }
        }
        None
    })
    .await
    .expect("closed in time")
}

/// An update by client `client`, who knows nothing of the trip, writing `text` at the start
/// of the root text `t`.
pub fn text_update(client: u64, text: &str) -> Vec<u8> {
    use yrs::{ReadTxn, Text, Transact};
    let doc = yrs::Doc::with_client_id(client);
    let t = doc.get_or_insert_text("t");
    let mut txn = doc.transact_mut();
    t.insert(&mut txn, 0, text);
    txn.encode_state_as_update_v1(&yrs::StateVector::default())
}
