//! The load generator's client: a raw y-protocols connection with its own yrs document. It
//! syncs, sends real yrs-encoded updates at a steady rate, and measures, for every update it
//! receives, the time since its sender sent it.
//!
//! Latency is matched through yrs itself: a sender records the send time under (its client
//! id, its clock before the edit); a receiver decodes the update and looks up the first clock
//! of its blocks. No marker is put in the content.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dashmap::DashMap;
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use tokio_tungstenite::tungstenite::Message;
use yrs::encoding::read::{Cursor, Read};
use yrs::encoding::write::Write;
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::{Doc, GetString, ReadTxn, StateVector, Text, Transact, Update};

use crate::target::Framing;

/// Send times of updates, by (sender's client id, its clock before the update).
pub type SendTimes = Arc<DashMap<(yrs::ClientID, u32), Instant>>;

/// What every client of a run shares.
pub struct Shared {
    /// Send times.
    pub sent_at: SendTimes,
    /// Updates sent, by all clients.
    pub sent: AtomicU64,
    /// Updates received and matched, by all clients.
    pub delivered: AtomicU64,
}

impl Shared {
    /// A fresh run.
    pub fn new() -> Arc<Shared> {
        Arc::new(Shared {
            sent_at: Arc::new(DashMap::new()),
            sent: AtomicU64::new(0),
            delivered: AtomicU64::new(0),
        })
    }
}

/// Caravan's "saved?" question and its answer: `[102, varBuf(varUint n)]` (`docs/protocol.md`).
pub const MSG_SAVED: u64 = 102;

/// A latency histogram in microseconds, up to a minute.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid bounds")
}

/// Frames y-protocols messages for a target.
#[derive(Clone)]
pub struct Framer {
    framing: Framing,
    room: String,
}

impl Framer {
    /// A framer for `room` on a server speaking `framing`.
    pub fn new(framing: Framing, room: &str) -> Framer {
        Framer {
            framing,
            room: room.to_owned(),
        }
    }

    fn frame(&self, message: &[u8]) -> Vec<u8> {
        match self.framing {
            Framing::Plain => message.to_vec(),
            Framing::DocNamePrefix => {
                let mut out = Vec::with_capacity(message.len() + self.room.len() + 2);
                out.write_string(&self.room);
                out.extend_from_slice(message);
                out
            }
        }
    }

    /// What a client sends first, if its server wants something: Hocuspocus wants an auth
    /// message (`[name][2 auth][0 token][varString token]`, an empty token here).
    pub fn hello(&self) -> Option<Vec<u8>> {
        match self.framing {
            Framing::Plain => None,
            Framing::DocNamePrefix => {
                let mut message = Vec::new();
                message.write_var(2u8);
                message.write_var(0u8);
                message.write_string("");
                Some(self.frame(&message))
            }
        }
    }

    /// Caravan's "saved?" question number `n`.
    pub fn saved_question(&self, n: u64) -> Vec<u8> {
        let mut body = Vec::with_capacity(10);
        body.write_var(n);
        let mut message = Vec::with_capacity(body.len() + 4);
        message.write_var(MSG_SAVED);
        message.write_buf(&body);
        self.frame(&message)
    }

    /// `[0, subtype, varBuf payload]`.
    pub fn sync(&self, subtype: u8, payload: &[u8]) -> Vec<u8> {
        let mut message = Vec::with_capacity(payload.len() + 8);
        message.write_var(0u8);
        message.write_var(subtype);
        message.write_buf(payload);
        self.frame(&message)
    }

    /// The messages of a received frame: (type, subtype for sync, payload).
    pub fn parse<'a>(&self, frame: &'a [u8]) -> Vec<(u64, u64, &'a [u8])> {
        let mut cursor = Cursor::new(frame);
        let mut out = Vec::new();
        while cursor.has_content() {
            if self.framing == Framing::DocNamePrefix && slice(frame, &mut cursor).is_none() {
                break;
            }
            let Ok(kind) = cursor.read_var::<u64>() else {
                break;
            };
            match kind {
                // Hocuspocus answers a step 1 with a "sync reply" (4), the same content.
                0 | 4 => {
                    let Ok(sub) = cursor.read_var::<u64>() else {
                        break;
                    };
                    let Some(payload) = slice(frame, &mut cursor) else {
                        break;
                    };
                    out.push((0, sub, payload));
                }
                1 | MSG_SAVED => {
                    let Some(payload) = slice(frame, &mut cursor) else {
                        break;
                    };
                    out.push((kind, 0, payload));
                }
                // Anything else (auth, saved, ...) ends the parse of this frame.
                _ => break,
            }
        }
        out
    }
}

/// A length-prefixed byte string of `frame`, read at `cursor`.
fn slice<'a>(frame: &'a [u8], cursor: &mut Cursor<'_>) -> Option<&'a [u8]> {
    let len: usize = cursor.read_var::<u64>().ok()?.try_into().ok()?;
    let start = cursor.next;
    let end = start.checked_add(len).filter(|&end| end <= frame.len())?;
    cursor.next = end;
    Some(&frame[start..end])
}

/// What a client measured.
pub struct ClientReport {
    /// Latency of every update it received, µs.
    pub latency: Histogram<u64>,
    /// Updates it received that it could not match (sent before the run).
    pub unmatched: u64,
    /// Time from sending an update to the server's "saved" covering it, µs (Caravan only).
    pub saved_latency: Histogram<u64>,
    /// Updates sent with a "saved?" question, and those the server said were saved.
    pub saved_asked: u64,
    /// See `saved_asked`.
    pub saved_answered: u64,
    /// The server closed the connection before the run ended.
    pub closed: bool,
}

/// One client's plan.
#[derive(Clone)]
pub struct ClientPlan {
    /// WebSocket URL.
    pub url: String,
    /// Framing.
    pub framer: Framer,
    /// Updates per second this client sends (0: only listens).
    pub rate: f64,
    /// How long it sends.
    pub send_for: Duration,
    /// How long it keeps listening after it stopped sending.
    pub drain: Duration,
    /// Bursts: every client sends at the same instants (the first send at the start), not
    /// spread over its interval.
    pub bursts: bool,
    /// Ask "saved?" after each update, as Caravan's family app does, and time the answer.
    pub ask_saved: bool,
}

/// The two halves of a client's socket.
pub type Sink = futures_util::stream::SplitSink<
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    Message,
>;
/// The reading half.
pub type Stream = futures_util::stream::SplitStream<
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
>;

/// Connects to `url` and runs the sync handshake for `doc`, as y-websocket does: sends its
/// step 1, answers the server's step 1 with what the server lacks (everything `doc` holds
/// that the server does not), and returns once the server's step 2 arrived.
pub async fn connect_synced(
    url: &str,
    framer: &Framer,
    doc: &Doc,
) -> anyhow::Result<(Sink, Stream)> {
    let (socket, _) = tokio_tungstenite::connect_async_with_config(url, None, true).await?;
    let (mut sink, mut stream) = socket.split();
    if let Some(hello) = framer.hello() {
        sink.send(Message::Binary(hello.into())).await?;
    }
    let own = doc.transact().state_vector().encode_v1();
    sink.send(Message::Binary(framer.sync(0, &own).into()))
        .await?;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let next = tokio::time::timeout_at(deadline.into(), stream.next()).await;
        let Ok(Some(Ok(message))) = next else {
            anyhow::bail!("no sync answer from {url}");
        };
        if let Message::Binary(frame) = message {
            for (kind, sub, payload) in framer.parse(&frame) {
                if kind == 0 && sub == 0 {
                    let sv = StateVector::decode_v1(payload).unwrap_or_default();
                    let diff = doc.transact().encode_state_as_update_v1(&sv);
                    sink.send(Message::Binary(framer.sync(1, &diff).into()))
                        .await?;
                }
                if kind == 0 && sub == 1 {
                    return Ok((sink, stream));
                }
            }
        }
    }
}

/// A document with a random 32-bit client id, as yjs makes them. Newer yrs makes 53-bit ids,
/// which servers built on older yrs (y-sweet) truncate to 32 bits when they re-encode.
pub fn client_doc() -> Doc {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(fastrand_unit().to_bits());
    Doc::with_client_id(hasher.finish() as u32 as u64)
}

/// Connects, syncs, then waits for `go` (the instant every client starts at) before sending;
/// returns what it measured.
/// The first second of a run is not in its latency figures: trips that were just created
/// get their first writes then, all at once (sled creates their keys), which no real
/// deployment does in one instant; it cost every server a stall of 100 to 250 ms.
pub const WARM_UP: Duration = Duration::from_secs(1);

pub async fn run_client(
    plan: ClientPlan,
    shared: Arc<Shared>,
    synced: tokio::sync::mpsc::Sender<()>,
    mut go: tokio::sync::watch::Receiver<Option<tokio::time::Instant>>,
) -> anyhow::Result<ClientReport> {
    let doc = client_doc();
    let text = doc.get_or_insert_text("notes");
    let framer = plan.framer.clone();
    let (mut sink, mut stream) = connect_synced(&plan.url, &framer, &doc).await?;
    let _ = synced.send(()).await;
    let start = go
        .wait_for(|go| go.is_some())
        .await
        .ok()
        .and_then(|go| *go)
        .unwrap_or_else(tokio::time::Instant::now);
    tokio::time::sleep_until(start).await;

    let mut latency = histogram();
    let mut unmatched = 0u64;
    let mut saved_latency = histogram();
    let (mut saved_asked, mut saved_answered) = (0u64, 0u64);
    // Questions not answered yet: (number, when its update was sent).
    let mut waiting_saved = std::collections::VecDeque::new();
    let started = start.into_std();
    let interval = if plan.rate > 0.0 {
        Some(Duration::from_secs_f64(1.0 / plan.rate))
    } else {
        None
    };
    // Spread the first sends over one interval so that clients do not send in lockstep,
    // unless the scenario is bursts.
    let offset = match (interval, plan.bursts) {
        (Some(interval), false) => interval.mul_f64(fastrand_unit()),
        _ => Duration::ZERO,
    };
    let mut next_send = start + offset;
    let stop_sending = started + plan.send_for;
    // Latencies count from the end of the warm-up (every delivery counts as delivered).
    let measured_from = started + WARM_UP.min(plan.send_for / 2);
    let stop_all = stop_sending + plan.drain;
    let client_id = doc.client_id();
    // Whether the server closed the connection before the run ended.
    let mut closed = false;
    loop {
        let now = Instant::now();
        if now >= stop_all {
            break;
        }
        let sending = interval.is_some() && now < stop_sending;
        let wake = if sending {
            next_send
        } else {
            tokio::time::Instant::from_std(stop_all)
        };
        tokio::select! {
            _ = tokio::time::sleep_until(wake) => {
                if sending {
                    let before = doc.transact().state_vector();
                    let update = {
                        let mut txn = doc.transact_mut();
                        let len = text.len(&txn);
                        text.insert(&mut txn, len, "x");
                        txn.encode_update_v1()
                    };
                    shared.sent_at.insert((client_id, before.get(&client_id)), Instant::now());
                    shared.sent.fetch_add(1, Ordering::Relaxed);
                    if sink.send(Message::Binary(framer.sync(2, &update).into())).await.is_err() {
                        closed = true;
                        break;
                    }
                    if plan.ask_saved {
                        // As the family app does: the update, then the question, in two frames.
                        saved_asked += 1;
                        waiting_saved.push_back((saved_asked, Instant::now()));
                        if sink.send(Message::Binary(framer.saved_question(saved_asked).into())).await.is_err() {
                            closed = true;
                            break;
                        }
                    }
                    next_send += interval.expect("sending has an interval");
                }
            }
            message = stream.next() => {
                let Some(Ok(message)) = message else {
                    closed = true;
                    break;
                };
                let Message::Binary(frame) = message else { continue };
                let received = Instant::now();
                for (kind, sub, payload) in framer.parse(&frame) {
                    if kind == MSG_SAVED {
                        let Ok(n) = Cursor::new(payload).read_var::<u64>() else { continue };
                        while let Some(&(asked, at)) = waiting_saved.front() {
                            if asked > n {
                                break;
                            }
                            waiting_saved.pop_front();
                            let micros = received.duration_since(at).as_micros() as u64;
                            if at >= measured_from {
                                let _ = saved_latency.record(micros.max(1));
                            }
                            saved_answered += 1;
                        }
                        continue;
                    }
                    if kind != 0 || sub != 2 {
                        continue;
                    }
                    let Ok(update) = Update::decode_v1(payload) else { continue };
                    // The first clock of each client's blocks: where its edit starts.
                    for (client, clock) in update.state_vector_lower().iter() {
                        // Some servers echo an update to its sender: that is no delivery.
                        if *client == client_id {
                            continue;
                        }
                        match shared.sent_at.get(&(*client, *clock)) {
                            Some(sent) => {
                                let micros = received.duration_since(*sent).as_micros() as u64;
                                if *sent >= measured_from {
                                    let _ = latency.record(micros.max(1));
                                }
                                shared.delivered.fetch_add(1, Ordering::Relaxed);
                            }
                            None => unmatched += 1,
                        }
                    }
                }
            }
        }
    }
    let _ = sink.close().await;
    // The document is what this client wrote: check it is what it meant to write.
    debug_assert!(text.get_string(&doc.transact()).chars().all(|c| c == 'x'));
    Ok(ClientReport {
        closed,
        latency,
        unmatched,
        saved_latency,
        saved_asked,
        saved_answered,
    })
}

/// A number in [0, 1) that differs between calls, without a random-number crate.
fn fastrand_unit() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0),
    );
    (hasher.finish() % 1_000_000) as f64 / 1_000_000.0
}
