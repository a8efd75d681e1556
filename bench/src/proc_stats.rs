//! CPU time and memory of a process, read from `/proc/{pid}` (Linux).

use std::time::Instant;

/// One reading of a process.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ProcSample {
    /// User plus system CPU time, in seconds.
    pub cpu_secs: f64,
    /// Resident set size, in bytes.
    pub rss_bytes: u64,
}

/// Reads `/proc/{pid}/stat` and `/proc/{pid}/status` (`pid` 0: this process).
pub fn sample(pid: u32) -> Option<ProcSample> {
    let dir = if pid == 0 {
        "/proc/self".to_owned()
    } else {
        format!("/proc/{pid}")
    };
    let stat = std::fs::read_to_string(format!("{dir}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line: 11 and 12 after the state.
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    let status = std::fs::read_to_string(format!("{dir}/status")).ok()?;
    let rss_kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    Some(ProcSample {
        cpu_secs: ticks / clock_ticks_per_sec(),
        rss_bytes: rss_kb * 1024,
    })
}

fn clock_ticks_per_sec() -> f64 {
    // SAFETY-free: sysconf through getconf would need a process; Linux uses 100 everywhere
    // it matters (USER_HZ).
    100.0
}

/// CPU used and peak memory of a process between [`Meter::start`] and [`Meter::stop`],
/// sampled every call to [`Meter::tick`].
#[derive(Debug)]
pub struct Meter {
    pid: u32,
    started: Instant,
    first: ProcSample,
    peak_rss: u64,
}

/// What a [`Meter`] measured.
#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
pub struct Usage {
    /// CPU seconds used.
    pub cpu_secs: f64,
    /// Wall seconds.
    pub wall_secs: f64,
    /// CPU used as a share of one core (1.0 = one core busy).
    pub cores: f64,
    /// Highest RSS seen, bytes.
    pub peak_rss_bytes: u64,
    /// RSS at the end, bytes.
    pub end_rss_bytes: u64,
}

impl Meter {
    /// Starts measuring `pid` (0: this process).
    pub fn start(pid: u32) -> Meter {
        let first = sample(pid).unwrap_or_default();
        Meter {
            pid,
            started: Instant::now(),
            first,
            peak_rss: first.rss_bytes,
        }
    }

    /// Takes a memory sample.
    pub fn tick(&mut self) {
        if let Some(s) = sample(self.pid) {
            self.peak_rss = self.peak_rss.max(s.rss_bytes);
        }
    }

    /// What was used since the start.
    pub fn stop(&mut self) -> Usage {
        let last = sample(self.pid).unwrap_or_default();
        self.peak_rss = self.peak_rss.max(last.rss_bytes);
        let wall = self.started.elapsed().as_secs_f64();
        let cpu = (last.cpu_secs - self.first.cpu_secs).max(0.0);
        Usage {
            cpu_secs: cpu,
            wall_secs: wall,
            cores: if wall > 0.0 { cpu / wall } else { 0.0 },
            peak_rss_bytes: self.peak_rss,
            end_rss_bytes: last.rss_bytes,
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn this_process_has_cpu_time_and_memory() {
        let mut x = 0u64;
        for i in 0..5_000_000u64 {
            x = x.wrapping_add(i * i);
        }
        assert!(x > 0);
        let s = super::sample(0).unwrap();
        assert!(s.rss_bytes > 1_000_000);
        assert!(s.cpu_secs > 0.0);
    }
}
