//! Panics into the log, rate-limited. Panics caught inside yrs (hostile updates) would each
//! print a message and a backtrace hint to stderr: a client could flood the log.

use parking_lot::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Panics reported per minute; the rest are counted and said at the next minute.
const PER_MINUTE: u64 = 5;

/// Reports panics through tracing, at most [`PER_MINUTE`] a minute, saying how many were
/// left out.
pub fn install() {
    static WINDOW: Mutex<(u64, u64)> = Mutex::new((0, 0));
    static SUPPRESSED: AtomicU64 = AtomicU64::new(0);
    std::panic::set_hook(Box::new(|info| {
        let minute = persistence::now_ms() / 60_000;
        let mut window = WINDOW.lock();
        if window.0 != minute {
            let left_out = SUPPRESSED.swap(0, Ordering::Relaxed);
            if left_out > 0 {
                tracing::error!(left_out, "panics left out of the log in the last minute");
            }
            *window = (minute, 0);
        }
        window.1 += 1;
        if window.1 <= PER_MINUTE {
            let location = info
                .location()
                .map(|l| format!("{}:{}", l.file(), l.line()))
                .unwrap_or_default();
            let message = info
                .payload()
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| info.payload().downcast_ref::<String>().cloned())
                .unwrap_or_default();
            tracing::error!(%location, %message, "panic (caught unless the process stops)");
        } else {
            SUPPRESSED.fetch_add(1, Ordering::Relaxed);
        }
    }));
}
