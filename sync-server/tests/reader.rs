//! The WebSocket reader's limits, in process: a message over `--max-message-bytes` is refused
//! as too big (1009, `message_too_big`), whether it is just over the limit (read whole, then
//! refused) or far over it (refused by the WebSocket layer before it is read, which the
//! reader recognises by the error's type, not its text).

mod common;

use common::in_process::{close_code, connect, start, STEP};
use futures_util::SinkExt;
use persistence::MemoryStore;
use std::sync::Arc;
use std::time::Instant;
use sync_server::config::ServerConfig;
use tokio_tungstenite::tungstenite::Message;

const LIMIT: usize = 4096;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_over_the_limit_are_refused_as_too_big_however_far_over() {
    let config = ServerConfig {
        max_message_bytes: LIMIT,
        ..ServerConfig::default()
    };
    let server = start(config, Arc::new(MemoryStore::new())).await;
    let metrics = server.app().metrics().clone();
    let count = |kind: &str| metrics.errors_total.with_label_values(&[kind]).get();
    for (n, size) in [LIMIT + 1, 10 * LIMIT].into_iter().enumerate() {
        let mut ws = connect(&server, "t").await;
        // The server may reset the socket before the whole message is written: the outcome
        // is read from its side.
        let _ = ws.send(Message::binary(vec![7u8; size])).await;
        let code = close_code(&mut ws).await;
        assert!(
            matches!(code, None | Some(caravan_wire::close::MESSAGE_TOO_BIG)),
            "{size} bytes: closed with {code:?}"
        );
        let deadline = Instant::now() + STEP;
        while count("message_too_big") < n as u64 + 1 {
            assert!(
                Instant::now() < deadline,
                "{size} bytes were not refused as too big"
            );
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }
    assert_eq!(
        count("websocket_error"),
        0,
        "a size refusal was taken for another error"
    );
    assert!(server.stop().await.flushed);
}
