//! A full disk, for real: `caravan serve` with its data on a small tmpfs, filled through the
//! WebSocket protocol until it refuses, then given room again. Checked end to end: the
//! low-water mark refuses writes before the disk is full and lets them in again once space is
//! freed; a real "no space left" fails the store for good (never "ready" again, writes refused
//! with 503 and `Retry-After`, exit status 74 after the grace period); and after `kill -9` and
//! restarts, every update that was answered "saved" is there.
//!
//! Mounting needs root (CI runs as root); where the machine refuses to mount, the test says so
//! and skips.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

mod common;

use common::{notes_update, stored_notes, Rest, Server};
use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use sync_server::protocol::messages;
use tokio_tungstenite::tungstenite::Message;

const MIB: u64 = 1024 * 1024;
/// Bytes of text in each update.
const CHUNK: usize = 64 * 1024;
/// Longest wait for any answer: the saved timeout (10 s) and some.
const ANSWER: Duration = Duration::from_secs(15);

/// A tmpfs mounted under cargo's test directory, unmounted when dropped.
struct Tmpfs {
    dir: PathBuf,
}

impl Tmpfs {
    fn mount(size_mib: u64) -> Result<Tmpfs, String> {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("full-disk-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size_mib}m"), "tmpfs"])
            .arg(&dir)
            .output()
            .map_err(|e| e.to_string())?;
        if !status.status.success() {
            return Err(String::from_utf8_lossy(&status.stderr).into_owned());
        }
        Ok(Tmpfs { dir })
    }

    fn resize(&self, size_bytes: u64) {
        let status = Command::new("mount")
            .args(["-o", &format!("remount,size={}k", size_bytes / 1024)])
            .arg(&self.dir)
            .status()
            .unwrap();
        assert!(status.success(), "remount to {size_bytes} bytes");
    }

    fn used_bytes(&self) -> u64 {
        let out = Command::new("df")
            .args(["-B1", "--output=used"])
            .arg(&self.dir)
            .output()
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        text.lines().nth(1).unwrap().trim().parse().unwrap()
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
        let _ = std::fs::remove_dir(&self.dir);
    }
}

/// A chunk of text that names itself (`<n:...>`), so a reader can tell which were kept.
fn chunk(n: usize) -> (String, String) {
    let marker = format!("<{n:05}:");
    let mut text = marker.clone();
    let mut x = n as u64 * 2_654_435_761 + 1;
    while text.len() < CHUNK - 1 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        text.push(char::from(b'a' + (x % 26) as u8));
    }
    text.push('>');
    (marker, text)
}

/// Writes chunks to `trip` over one WebSocket connection, one "saved?" each, until the server
/// closes it; the markers answered "saved" go to `saved`. Returns the close code and reason.
async fn write_until_refused(
    server: &Server,
    trip: &str,
    next: &mut usize,
    saved: &mut Vec<String>,
) -> (u16, String) {
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("{}/{trip}", server.url()))
        .await
        .unwrap();
    loop {
        *next += 1;
        let (marker, text) = chunk(*next);
        let mut frame = messages::sync_update(&notes_update(&text));
        frame.extend(messages::saved(*next as u64));
        if ws.send(Message::binary(frame)).await.is_err() {
            return common::close_of(&mut ws).await;
        }
        let answer = messages::saved(*next as u64);
        loop {
            let message = tokio::time::timeout(ANSWER, ws.next())
                .await
                .expect("every \"saved?\" is answered in bounded time");
            match message {
                Some(Ok(Message::Binary(bytes))) if bytes[..] == answer[..] => {
                    saved.push(marker.clone());
                    break;
                }
                Some(Ok(Message::Close(Some(frame)))) => {
                    return (frame.code.into(), frame.reason.to_string())
                }
                Some(Ok(Message::Close(None))) | None | Some(Err(_)) => return (0, String::new()),
                Some(Ok(_)) => {}
            }
        }
        assert!(*next < 5000, "the disk never filled");
    }
}

async fn readyz(server: &Server) -> (StatusCode, String) {
    let response = reqwest::get(format!("{}/readyz", server.http()))
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

/// Checks that every marker in `saved` is in the trip's notes.
async fn assert_all_kept(server: &Server, trip: &str, saved: &[String]) {
    let notes = stored_notes(server, trip, None).await.unwrap();
    let lost: Vec<&String> = saved
        .iter()
        .filter(|m| !notes.contains(m.as_str()))
        .collect();
    assert!(
        lost.is_empty(),
        "{} of {} saved chunks of {trip} lost: {lost:?}",
        lost.len(),
        saved.len()
    );
}

/// Waits for the server to exit; its status code, or a failure after `within`.
fn exit_code(server: &mut Server, within: Duration) -> Option<i32> {
    let until = Instant::now() + within;
    loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            return status.code();
        }
        assert!(
            Instant::now() < until,
            "the server did not exit within {within:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn start(fs: &Tmpfs, min_free: u64) -> Server {
    Server::start_with(
        &fs.data(),
        0,
        &[
            "--min-free-bytes",
            &min_free.to_string(),
            "--store-failure-grace-secs",
            "3",
            "--messages-per-second",
            "0",
        ],
        &[],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_refuses_writes_truthfully_and_loses_nothing_saved() {
    let fs = match Tmpfs::mount(24) {
        Ok(fs) => fs,
        Err(e) => {
            eprintln!("SKIPPED: this machine refuses to mount a tmpfs ({e})");
            return;
        }
    };
    let mut next = 0;
    let (mut before, mut after) = (Vec::new(), Vec::new());

    // 1. The low-water mark: refused before the disk is full, with the reason.
    let mut server = start(&fs, 6 * MIB);
    let (code, reason) = write_until_refused(&server, "before", &mut next, &mut before).await;
    assert_eq!(code, caravan_wire::close::SERVER_ERROR, "{reason}");
    assert!(reason.contains("almost full"), "{reason}");
    assert!(
        before.len() > 50,
        "only {} chunks before the mark",
        before.len()
    );
    let (status, body) = readyz(&server).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(body.contains("almost full"), "{body}");
    // The metric says what readiness says. Free space moves a little as sled reclaims its
    // segments, so a measure taken between the two reads may already be back above the mark.
    let until = Instant::now() + Duration::from_secs(5);
    loop {
        let low = server.metric("caravan_data_free_bytes").await < (6 * MIB) as f64;
        let ready = readyz(&server).await.0 == StatusCode::OK;
        if low != ready {
            break;
        }
        assert!(
            Instant::now() < until,
            "caravan_data_free_bytes and /readyz disagree (low: {low}, ready: {ready})"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // 2. Space is freed: ready again, and writes are durable again (REST and WebSocket).
    fs.resize(200 * MIB);
    let until = Instant::now() + Duration::from_secs(10);
    while readyz(&server).await.0 != StatusCode::OK {
        assert!(Instant::now() < until, "not ready after space was freed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let rest = Rest::new(&server);
    for _ in 0..3 {
        next += 1;
        let (marker, text) = chunk(next);
        let posted = tokio::time::timeout(ANSWER, rest.post_update("after", None, &text))
            .await
            .expect("POST /update answers");
        assert_eq!(posted, StatusCode::OK);
        after.push(marker);
    }
    let mut again = Vec::new();
    {
        let (mut ws, _) = tokio_tungstenite::connect_async(format!("{}/before", server.url()))
            .await
            .unwrap();
        next += 1;
        let (marker, text) = chunk(next);
        let mut frame = messages::sync_update(&notes_update(&text));
        frame.extend(messages::saved(1));
        ws.send(Message::binary(frame)).await.unwrap();
        let answer = messages::saved(1);
        loop {
            match tokio::time::timeout(ANSWER, ws.next()).await.unwrap() {
                Some(Ok(Message::Binary(b))) if b[..] == answer[..] => break,
                Some(Ok(Message::Binary(_))) => {}
                other => panic!("no \"saved\" after space was freed: {other:?}"),
            }
        }
        again.push(marker);
    }
    before.extend(again);

    // 3. kill -9: everything answered "saved" is there after a restart.
    server.kill("-KILL");
    let mut server = start(&fs, 6 * MIB);
    assert_all_kept(&server, "before", &before).await;
    assert_all_kept(&server, "after", &after).await;
    server.kill("-TERM");
    assert_eq!(
        server.child.try_wait().unwrap().and_then(|s| s.code()),
        Some(0)
    );

    // 4. No low-water mark and a disk that really fills: the store fails for good.
    fs.resize(fs.used_bytes() + 3 * MIB);
    let mut server = start(&fs, 0);
    assert_eq!(readyz(&server).await.0, StatusCode::OK);
    let (code, reason) = write_until_refused(&server, "before", &mut next, &mut before).await;
    assert_eq!(code, caravan_wire::close::SERVER_ERROR, "{reason}");
    assert!(
        reason.contains("could not save") || reason.contains("store failed"),
        "{reason}"
    );
    fs.resize(200 * MIB);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let (status, body) = readyz(&server).await;
    assert_eq!(
        status,
        StatusCode::SERVICE_UNAVAILABLE,
        "ready again after a failure: {body}"
    );
    assert!(body.contains("store failed"), "{body}");
    let (_, text) = chunk(next + 1);
    let response = reqwest::Client::new()
        .post(format!("{}/api/trips/after/update", server.http()))
        .body(notes_update(&text))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.headers().contains_key("retry-after"));
    assert_eq!(server.metric("caravan_store_failed").await, 1.0);
    // The grace period (3 s), then a stop (at most 9 s), then status 74 for the supervisor.
    assert_eq!(exit_code(&mut server, Duration::from_secs(20)), Some(74));
    assert!(
        server.log().contains("THE STORE FAILED"),
        "{}",
        server.log()
    );

    // 5. The supervisor's restart: every "saved" answer was true.
    let mut server = start(&fs, 0);
    assert_eq!(readyz(&server).await.0, StatusCode::OK);
    assert_all_kept(&server, "before", &before).await;
    assert_all_kept(&server, "after", &after).await;
    server.kill("-TERM");
}
