//! The task behind a [`Client`](crate::Client): connect, sync, relay, reconnect.

use std::sync::Arc;
use std::time::Duration;

use caravan_wire::{close, messages};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use yrs::sync::protocol::MessageReader;
use yrs::sync::{Message, SyncMessage};
use yrs::updates::decoder::{Decode, DecoderV1};
use yrs::updates::encoder::Encode;
use yrs::{Doc, Origin, ReadTxn, Transact, Update};

use crate::{ClientConfig, Command, Refusal, Shared, Status};

/// Origin of transactions applying what the server sent, so they are not sent back.
const REMOTE: &str = "caravan-client:remote";
const OBSERVER: &str = "caravan-client";

enum Ended {
    /// The connection was lost: reconnect.
    Lost,
    /// [`crate::Client::close`] was called, or the server refused us for good.
    Closed,
}

/// State that outlives one connection.
struct Pending {
    /// Highest "saved?" question not yet sent.
    saved_question: Option<u64>,
}

pub(crate) async fn run(
    config: ClientConfig,
    doc: Doc,
    shared: Arc<Shared>,
    mut commands: mpsc::UnboundedReceiver<Command>,
) {
    let (local_tx, mut local_rx) = mpsc::unbounded_channel::<Vec<u8>>();
    let remote = Origin::from(REMOTE);
    let observed = doc.observe_update_v1(
        OBSERVER,
        move |txn: &yrs::TransactionMut, event: &yrs::UpdateEvent| {
            if txn.origin() != Some(&remote) {
                let _ = local_tx.send(event.update.clone());
            }
        },
    );
    if let Err(e) = observed {
        tracing::error!(error = %e, "could not observe the document");
    }
    let mut pending = Pending {
        saved_question: None,
    };
    let mut backoff = config.min_backoff;
    loop {
        shared.status.send_replace(Status::Connecting);
        let ended = match tokio_tungstenite::connect_async_with_config(
            config.endpoint(),
            None,
            true,
        )
        .await
        {
            Ok((socket, _)) => {
                backoff = config.min_backoff;
                shared.status.send_replace(Status::Connected);
                session(
                    &config,
                    &doc,
                    &shared,
                    socket,
                    &mut commands,
                    &mut local_rx,
                    &mut pending,
                )
                .await
            }
            Err(tokio_tungstenite::tungstenite::Error::Http(response))
                if is_permanent_status(response.status().as_u16()) =>
            {
                let body = response
                    .body()
                    .as_deref()
                    .map(|b| String::from_utf8_lossy(b).into_owned())
                    .unwrap_or_default();
                tracing::warn!(status = response.status().as_u16(), %body, trip = %config.trip, "the server refused the connection; not retrying");
                shared.refusals.send_replace(Some(Refusal::Rejected {
                    status: response.status().as_u16(),
                    body,
                }));
                Ended::Closed
            }
            Err(e) => {
                tracing::debug!(error = %e, trip = %config.trip, "could not connect");
                Ended::Lost
            }
        };
        if let Ended::Closed = ended {
            break;
        }
        shared.status.send_replace(Status::Connecting);
        // Wait before retrying, still answering commands.
        let wait = jitter(backoff);
        backoff = (backoff * 2).min(config.max_backoff);
        let sleep = tokio::time::sleep(wait);
        tokio::pin!(sleep);
        let closed = loop {
            tokio::select! {
                _ = &mut sleep => break false,
                command = commands.recv() => match command {
                    None | Some(Command::Close) => break true,
                    Some(Command::AskSaved(n)) => pending.saved_question = Some(n),
                    Some(Command::AwarenessChanged) => {} // sent on reconnect
                },
            }
        };
        if closed {
            break;
        }
    }
    let _ = doc.unobserve_update_v1(OBSERVER);
    shared.status.send_replace(Status::Closed);
}

/// HTTP answers to the upgrade that retrying cannot change: bad request, unauthorized,
/// forbidden, not found.
fn is_permanent_status(status: u16) -> bool {
    matches!(status, 400 | 401 | 403 | 404)
}

fn jitter(base: Duration) -> Duration {
    // Spread reconnections of many clients: 50% to 100% of the back-off.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    base.mul_f64(0.5 + f64::from(nanos % 1000) / 2000.0)
}

fn frame(message: Message) -> WsMessage {
    WsMessage::Binary(message.encode_v1().into())
}

fn saved_question(n: u64) -> WsMessage {
    WsMessage::Binary(messages::saved(n).into())
}

fn awareness_frame(shared: &Shared) -> Option<WsMessage> {
    let awareness = shared.awareness.lock().expect("awareness lock");
    let own = awareness.client_id();
    awareness.local_state_raw()?;
    let update = awareness.update_with_clients([own]).ok()?;
    Some(frame(Message::Awareness(update)))
}

async fn session<S>(
    config: &ClientConfig,
    doc: &Doc,
    shared: &Shared,
    socket: S,
    commands: &mut mpsc::UnboundedReceiver<Command>,
    local: &mut mpsc::UnboundedReceiver<Vec<u8>>,
    pending: &mut Pending,
) -> Ended
where
    S: futures_util::Stream<Item = Result<WsMessage, tokio_tungstenite::tungstenite::Error>>
        + futures_util::Sink<WsMessage, Error = tokio_tungstenite::tungstenite::Error>
        + Unpin,
{
    let (mut sink, mut stream) = socket.split();
    // Local updates made while disconnected are covered by the handshake below.
    while local.try_recv().is_ok() {}
    let sv = doc.transact().state_vector();
    if sink
        .send(frame(Message::Sync(SyncMessage::SyncStep1(sv))))
        .await
        .is_err()
    {
        return Ended::Lost;
    }
    if let Some(awareness) = awareness_frame(shared) {
        let _ = sink.send(awareness).await;
    }
    let mut answered_step1 = false;
    let mut renew = tokio::time::interval(config.awareness_renewal);
    renew.tick().await;
    loop {
        tokio::select! {
            incoming = stream.next() => {
                let bytes = match incoming {
                    Some(Ok(WsMessage::Binary(bytes))) => bytes,
                    Some(Ok(WsMessage::Close(frame))) => {
                        if let Some(frame) = frame {
                            let code: u16 = frame.code.into();
                            shared.refusals.send_replace(Some(Refusal::Closed {
                                code,
                                reason: frame.reason.to_string(),
                            }));
                            // 4400-4499 mirror HTTP 4xx: reconnecting cannot fix them (the
                            // convention y-websocket follows too).
                            if close::is_refusal(code) {
                                return Ended::Closed;
                            }
                        }
                        return Ended::Lost;
                    }
                    Some(Ok(_)) => continue,
                    Some(Err(_)) | None => return Ended::Lost,
                };
                let mut replies = Vec::new();
                let mut decoder = DecoderV1::from(bytes.as_ref());
                for message in MessageReader::new(&mut decoder) {
                    let Ok(message) = message else {
                        tracing::warn!("the server sent a message this client cannot read");
                        break;
                    };
                    match message {
                        Message::Sync(SyncMessage::SyncStep1(sv)) => {
                            let diff = doc.transact().encode_state_as_update_v1(&sv);
                            replies.push(frame(Message::Sync(SyncMessage::SyncStep2(diff))));
                            answered_step1 = true;
                            if let Some(n) = pending.saved_question.take() {
                                replies.push(saved_question(n));
                            }
                        }
                        Message::Sync(SyncMessage::SyncStep2(update)) => {
                            apply(doc, &update);
                            shared.status.send_replace(Status::Synced);
                        }
                        Message::Sync(SyncMessage::Update(update)) => apply(doc, &update),
                        Message::Awareness(update) => {
                            let _ = shared.awareness.lock().expect("awareness lock").apply_update(update);
                        }
                        Message::AwarenessQuery => replies.extend(awareness_frame(shared)),
                        Message::Auth(Some(reason)) => {
                            tracing::warn!(%reason, "the server refused a change");
                            shared.refusals.send_replace(Some(Refusal::PermissionDenied(reason)));
                        }
                        Message::Auth(None) => {}
                        Message::Custom(messages::MSG_SAVED, body) => {
                            if let Some(n) = messages::read_saved(&body) {
                                shared.saved.send_if_modified(|s| {
                                    let moved = n > *s;
                                    *s = (*s).max(n);
                                    moved
                                });
                            }
                        }
                        Message::Custom(..) => {}
                    }
                }
                for reply in replies {
                    if sink.send(reply).await.is_err() {
                        return Ended::Lost;
                    }
                }
            }
            Some(update) = local.recv() => {
                if sink.send(frame(Message::Sync(SyncMessage::Update(update)))).await.is_err() {
                    return Ended::Lost;
                }
            }
            command = commands.recv() => {
                // Local changes made before the command go first: "saved?" covers them, and a
                // close must not drop them.
                while let Ok(update) = local.try_recv() {
                    if sink.send(frame(Message::Sync(SyncMessage::Update(update)))).await.is_err() {
                        if let Some(Command::AskSaved(n)) = command {
                            pending.saved_question = Some(n);
                        }
                        return Ended::Lost;
                    }
                }
                match command {
                Some(Command::AskSaved(n)) => {
                    if !answered_step1 {
                        pending.saved_question = Some(n);
                    } else if sink.send(saved_question(n)).await.is_err() {
                        pending.saved_question = Some(n);
                        return Ended::Lost;
                    }
                }
                Some(Command::AwarenessChanged) => {
                    if let Some(awareness) = awareness_frame(shared) {
                        if sink.send(awareness).await.is_err() {
                            return Ended::Lost;
                        }
                    }
                }
                None | Some(Command::Close) => {
                    // Tell the others this client left, then close.
                    let goodbye = {
                        let mut awareness = shared.awareness.lock().expect("awareness lock");
                        awareness.clean_local_state();
                        let own = awareness.client_id();
                        awareness.update_with_clients([own]).ok()
                    };
                    if let Some(update) = goodbye {
                        let _ = sink.send(frame(Message::Awareness(update))).await;
                    }
                    let _ = sink.close().await;
                    return Ended::Closed;
                }
            }
            },
            _ = renew.tick() => {
                let renewed = {
                    let mut awareness = shared.awareness.lock().expect("awareness lock");
                    awareness.local_state_raw().map(|state| awareness.set_local_state_raw(state))
                };
                if renewed.is_some() {
                    if let Some(awareness) = awareness_frame(shared) {
                        let _ = sink.send(awareness).await;
                    }
                }
            }
        }
    }
}

fn apply(doc: &Doc, update: &[u8]) {
    match Update::decode_v1(update) {
        Ok(update) => {
            let mut txn = doc.transact_mut_with(REMOTE);
            if let Err(e) = txn.apply_update(update) {
                tracing::warn!(error = %e, "could not apply an update from the server");
            }
        }
        Err(e) => tracing::warn!(error = %e, "the server sent an update this client cannot decode"),
    }
}
