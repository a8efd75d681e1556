//! Power cuts, for real: `caravan serve` with its defaults, its data directory on the
//! power-cut file system (`test-support/power-cut-fs`: a FUSE file system that keeps written
//! data only once it is fsynced and drops the rest at a cut, as an operating-system crash or a
//! power cut drops the page cache). A writer asks "saved?" after every update; the server is
//! killed, the power is cut, the server starts again on what survived: every update answered
//! "saved" must be in the trip, and the store must open cleanly.
//!
//! A `kill -9` alone proves much less: the kernel keeps what the process wrote, synced or not.
//! Mounting needs root and `/dev/fuse` (CI runs as root on such a machine): a machine that
//! refuses fails the test rather than skipping it.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

mod common;

use common::{notes_update, stored_notes, Server};
use futures_util::{SinkExt, StreamExt};
use power_cut_fs::{Names, PowerCut};
use sync_server::protocol::messages;
use tokio_tungstenite::tungstenite::Message;

/// "saved?" questions a writer keeps unanswered at most, as a real client keeps a bounded
/// number of changes unconfirmed.
const WINDOW: u64 = 64;

/// A power-cut file system mounted under cargo's test directory.
fn mount(name: &str) -> PowerCut {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("power-cut-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    PowerCut::mount(&dir).unwrap_or_else(|e| {
        panic!(
            "mounting the power-cut file system at {} failed ({e}): it needs root and \
             /dev/fuse",
            dir.display()
        )
    })
}

/// The flags every server of these tests runs with: the defaults, but for the per-connection
/// message budget (the writer sends as fast as it is answered).
const FLAGS: &[&str] = &["--messages-per-second", "0"];

/// Rounds of writing, killing and cutting the power.
const ROUNDS: usize = 4;

/// A marker that names its round and number: `<2:317>`.
fn marker(round: usize, n: u64) -> String {
    format!("<{round}:{n}>")
}

/// The text of update `n` of `round`: its marker, padded to `bytes`.
fn text(round: usize, n: u64, bytes: usize) -> String {
    let mut text = marker(round, n);
    let mut x = n.wrapping_mul(2_654_435_761) | 1;
    while text.len() < bytes {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        text.push(char::from(b'a' + (x % 26) as u8));
    }
    text
}

/// The cut of each round, in turn: directory changes lost unless synced, or kept.
fn cut_of(round: usize) -> Names {
    [Names::AsSynced, Names::KeptAsWritten][round % 2]
}

/// Writes marked updates of `bytes` each to `trip` over one connection, a "saved?" after
/// each, until the connection ends; the markers answered "saved" go to `saved`.
async fn write_until_cut_off(
    server_url: String,
    trip: &'static str,
    round: usize,
    bytes: usize,
    saved: Arc<Mutex<Vec<String>>>,
) {
    let Ok((ws, _)) = tokio_tungstenite::connect_async(format!("{server_url}/{trip}")).await else {
        return;
    };
    let (mut sink, mut stream) = ws.split();
    let (mut sent, mut answered) = (0u64, 0u64);
    loop {
        while sent - answered < WINDOW {
            sent += 1;
            let mut frame = messages::sync_update(&notes_update(&text(round, sent, bytes)));
            frame.extend(messages::saved(sent));
            if sink.send(Message::binary(frame)).await.is_err() {
                return;
            }
        }
        match stream.next().await {
            Some(Ok(Message::Binary(bytes))) if bytes.first() == Some(&messages::MSG_SAVED) => {
                let n = messages::read_saved(&bytes[2..]).expect("a saved answer's number");
                let mut saved = saved.lock().unwrap();
                saved.extend((answered + 1..=n).map(|i| marker(round, i)));
                answered = answered.max(n);
            }
            Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return,
            Some(Ok(_)) => {}
        }
    }
}

/// Checks that every marker in `saved` is in the trip's notes.
async fn assert_all_kept(server: &Server, trip: &str, saved: &[String], round: usize) {
    let notes = match stored_notes(server, trip, None).await {
        Ok(notes) => notes,
        Err(status) if status == reqwest::StatusCode::NOT_FOUND => String::new(),
        Err(status) => panic!("reading {trip} after power cut {round}: {status}"),
    };
    let lost: Vec<&String> = saved
        .iter()
        .filter(|m| !notes.contains(m.as_str()))
        .collect();
    assert!(
        lost.is_empty(),
        "after power cut {round}: {} of {} updates answered \"saved\" are lost (first: {:?})",
        lost.len(),
        saved.len(),
        &lost[..lost.len().min(5)]
    );
}

/// A pseudo-random number below `bound`, different each run.
fn random_below(bound: u64) -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64;
    (nanos ^ (nanos >> 7)).wrapping_mul(0x9E37_79B9_7F4A_7C15) % bound
}

/// Opens the store in `data` as the server will, and reads every trip: a store a cut left
/// unreadable fails here with sled's own words.
fn assert_store_opens(data: &std::path::Path, round: usize) {
    use persistence::DocStore;
    if !data.exists() {
        return;
    }
    let store = persistence::SledStore::open(data)
        .unwrap_or_else(|e| panic!("after cut {round}, the store does not open: {e}"));
    for trip in store.list().unwrap() {
        store
            .load(&trip.id)
            .unwrap_or_else(|e| panic!("after cut {round}, trip {} does not load: {e}", trip.id));
    }
}

async fn ready(server: &Server) -> bool {
    reqwest::get(format!("{}/readyz", server.http()))
        .await
        .map(|r| r.status().is_success())
        .unwrap_or(false)
}

/// Rounds of: start the server on what the last cut left (the store must open and hold every
/// update answered "saved" so far), write updates of `bytes` until a few hundred more are
/// answered "saved", kill the server, cut the power. `flags` are added to [`FLAGS`];
/// `before_kill` may wait for something more before the kill.
async fn write_kill_and_cut(
    name: &str,
    bytes: usize,
    flags: &[&str],
    before_kill: impl AsyncCheck,
) {
    let mut fs = mount(name);
    let data = fs.path().join("data");
    let trip = "power-cut";
    let args: Vec<&str> = FLAGS.iter().chain(flags).copied().collect();
    let saved = Arc::new(Mutex::new(Vec::new()));
    for round in 0..=ROUNDS {
        assert_store_opens(&data, round);
        let mut server = Server::start_full(&data, 0, &args, &[]);
        assert!(
            ready(&server).await,
            "the store opens cleanly after cut {round}"
        );
        let kept = saved.lock().unwrap().clone();
        assert_all_kept(&server, trip, &kept, round).await;
        if round == ROUNDS {
            // A blob file of sled's can be removed before the log that stops pointing at it
            // is durable (see persistence's `chunked`): the store must never write one.
            let blobs: Vec<_> = std::fs::read_dir(data.join("blobs"))
                .map(|dir| dir.map(|e| e.unwrap().file_name()).collect())
                .unwrap_or_default();
            assert!(blobs.is_empty(), "sled wrote blob files: {blobs:?}");
            eprintln!(
                "{name}: {ROUNDS} power cuts, {} updates answered \"saved\", all kept; {:?}",
                kept.len(),
                fs.counts()
            );
            break;
        }
        let writer = tokio::spawn(write_until_cut_off(
            server.url(),
            trip,
            round,
            bytes,
            saved.clone(),
        ));
        let target = kept.len() + 200 + random_below(600) as usize;
        let until = std::time::Instant::now() + Duration::from_secs(60);
        while saved.lock().unwrap().len() < target {
            assert!(
                std::time::Instant::now() < until,
                "too few answers to \"saved?\""
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        before_kill.wait(&server).await;
        server.kill("-KILL");
        tokio::time::timeout(Duration::from_secs(10), writer)
            .await
            .expect("the writer ends with its connection")
            .unwrap();
        fs.cut_with(cut_of(round)).expect("the power cut");
    }
}

/// Something to wait for before the kill.
trait AsyncCheck {
    async fn wait(&self, server: &Server);
}

/// Nothing to wait for.
struct AtOnce;

impl AsyncCheck for AtOnce {
    async fn wait(&self, _server: &Server) {}
}

/// A compaction since the server started, and the kill a random moment later.
struct AfterACompaction;

impl AsyncCheck for AfterACompaction {
    async fn wait(&self, server: &Server) {
        let until = std::time::Instant::now() + Duration::from_secs(20);
        while server.metric("caravan_compactions_total").await < 1.0 {
            assert!(std::time::Instant::now() < until, "no compaction ran");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tokio::time::sleep(Duration::from_millis(random_below(200))).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_update_answered_saved_survives_power_cuts() {
    write_kill_and_cut("writer", 0, &[], AtOnce).await;
}

/// A trip of megabytes compacted every 100 updates while the writer goes on: the power is cut
/// at a random moment, often inside a compaction (its snapshot is larger than sled's blob
/// threshold, so it is a file of its own). The trip loads, old or new, with every saved update.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_power_cut_during_compactions_of_a_large_trip_loses_nothing_saved() {
    write_kill_and_cut(
        "compaction",
        2 * 1024,
        &["--compact-after-updates", "100"],
        AfterACompaction,
    )
    .await;
}

/// `caravan backup` of the stopped server's data into `out`, killed after `kill_after` if it
/// has not finished by then; true when it finished (successfully).
fn backup(data: &std::path::Path, out: &std::path::Path, kill_after: Duration) -> bool {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_caravan"))
        .args(["backup", "--data"])
        .arg(data)
        .arg("--out")
        .arg(out)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let until = std::time::Instant::now() + kill_after;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "caravan backup failed: {status}");
            return true;
        }
        if std::time::Instant::now() >= until {
            child.kill().unwrap();
            child.wait().unwrap();
            return false;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// The trips of a whole backup file, or why it is not one.
fn trips_in(out: &std::path::Path) -> Result<usize, String> {
    let file = std::fs::File::open(out).map_err(|e| e.to_string())?;
    persistence::backup::check_backup(&mut std::io::BufReader::new(file)).map_err(|e| e.to_string())
}

/// Writes a few hundred updates answered "saved" to the trip, then stops the server cleanly.
async fn write_some(data: &std::path::Path, round: usize, saved: &Arc<Mutex<Vec<String>>>) {
    let mut server = Server::start_full(data, 0, FLAGS, &[]);
    let writer = tokio::spawn(write_until_cut_off(
        server.url(),
        "power-cut",
        round,
        1024,
        saved.clone(),
    ));
    let target = saved.lock().unwrap().len() + 200;
    common::eventually("answers to \"saved?\"", || {
        saved.lock().unwrap().len() >= target
    })
    .await;
    server.kill("-TERM");
    writer.await.unwrap();
}

/// A backup the command said it wrote survives a power cut; a backup cut off by the power (the
/// command killed at a random moment, then the cut) leaves the previous backup whole, or the
/// new one whole, never a part; and the data directory it read still holds every saved update.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_power_cut_during_a_backup_leaves_a_whole_backup() {
    let mut fs = mount("backup");
    let data = fs.path().join("data");
    let out = fs.path().join("trips.caravan-backup");
    let saved = Arc::new(Mutex::new(Vec::new()));
    let mut replaced = 0;
    for round in 0..ROUNDS {
        write_some(&data, 2 * round, &saved).await;
        let started = std::time::Instant::now();
        assert!(backup(&data, &out, Duration::from_secs(60)));
        let took = started.elapsed();
        let written = std::fs::read(&out).unwrap();
        fs.cut_with(cut_of(round)).unwrap();
        assert_eq!(
            std::fs::read(&out).ok().as_deref(),
            Some(&written[..]),
            "round {round}: the backup caravan said it wrote is whole after a power cut"
        );

        write_some(&data, 2 * round + 1, &saved).await;
        let kill_after = Duration::from_micros(random_below(took.as_micros() as u64 * 3 / 2 + 1));
        let finished = backup(&data, &out, kill_after);
        fs.cut_with(cut_of(round + 1)).unwrap();
        assert_eq!(
            trips_in(&out),
            Ok(1),
            "round {round}: the backup is whole after a cut"
        );
        if std::fs::read(&out).unwrap() != written {
            replaced += 1;
        }
        eprintln!("round {round}: backup took {took:?}, killed after {kill_after:?} (finished: {finished})");

        assert_store_opens(&data, round);
        let server = Server::start_full(&data, 0, FLAGS, &[]);
        assert!(
            ready(&server).await,
            "the store opens cleanly after cut {round}"
        );
        let kept = saved.lock().unwrap().clone();
        assert_all_kept(&server, "power-cut", &kept, round).await;
    }
    eprintln!("backups: {ROUNDS} cut off by the power, {replaced} of them replaced the old one");
}
