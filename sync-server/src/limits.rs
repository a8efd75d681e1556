//! Limits that keep one client from taking a node down: connections per IP address and
//! messages per second per connection. (Frame, document and body sizes, the time to
//! authenticate and the number of loaded trips are enforced where those things happen; every
//! limit is listed in `docs/operations.md`.)

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use dashmap::DashMap;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota};

/// Open WebSocket connections per client IP address, capped.
#[derive(Debug, Default)]
pub struct ConnectionsPerIp {
    open: DashMap<IpAddr, usize>,
}

/// One counted connection of an IP; dropping it gives the place back.
#[derive(Debug)]
pub struct IpSlot {
    ip: IpAddr,
    counter: Arc<ConnectionsPerIp>,
}

impl ConnectionsPerIp {
    /// Takes a place for a connection from `ip`, unless it already has `cap` (0: no cap).
    pub fn acquire(self: &Arc<Self>, ip: IpAddr, cap: usize) -> Option<IpSlot> {
        let mut open = self.open.entry(ip).or_insert(0);
        if cap > 0 && *open >= cap {
            return None;
        }
        *open += 1;
        Some(IpSlot {
            ip,
            counter: self.clone(),
        })
    }

    /// Connections open from `ip`.
    pub fn count(&self, ip: &IpAddr) -> usize {
        self.open.get(ip).map_or(0, |n| *n)
    }
}

impl Drop for IpSlot {
    fn drop(&mut self) {
        // Remove the entry when it reaches zero, so the map does not grow with every address
        // ever seen.
        self.counter.open.remove_if_mut(&self.ip, |_, n| {
            *n = n.saturating_sub(1);
            *n == 0
        });
    }
}

/// A token bucket for the messages of one connection: `rate` per second, bursts of `burst`.
pub struct MessageBudget {
    limiter: DefaultDirectRateLimiter,
    clock: DefaultClock,
}

impl MessageBudget {
    /// A budget, or `None` when `rate` is 0 (no limit).
    pub fn new(rate: u32, burst: u32) -> Option<MessageBudget> {
        let rate = NonZeroU32::new(rate)?;
        let burst = NonZeroU32::new(burst.max(1)).expect("at least one");
        Some(MessageBudget {
            limiter: DefaultDirectRateLimiter::direct(Quota::per_second(rate).allow_burst(burst)),
            clock: DefaultClock::default(),
        })
    }

    /// Takes one message from the bucket: `None` when there was one, or how long to wait
    /// until there is.
    pub fn take(&self) -> Option<Duration> {
        match self.limiter.check() {
            Ok(()) => None,
            Err(not_until) => Some(not_until.wait_time_from(self.clock.now())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_slots_are_capped_and_given_back() {
        let counter = Arc::new(ConnectionsPerIp::default());
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let other: IpAddr = "10.0.0.2".parse().unwrap();
        let a = counter.acquire(ip, 2).unwrap();
        let _b = counter.acquire(ip, 2).unwrap();
        assert!(counter.acquire(ip, 2).is_none());
        assert!(counter.acquire(other, 2).is_some());
        drop(a);
        assert_eq!(counter.count(&ip), 1);
        let _c = counter.acquire(ip, 2).unwrap();
        assert!(counter.acquire(ip, 0).is_some(), "0 is no cap");
    }

    #[test]
    fn the_bucket_allows_a_burst_then_asks_to_wait() {
        let budget = MessageBudget::new(10, 5).unwrap();
        for _ in 0..5 {
            assert_eq!(budget.take(), None);
        }
        let wait = budget.take().expect("the burst is spent");
        assert!(wait <= Duration::from_millis(100), "{wait:?}");
        assert!(MessageBudget::new(0, 5).is_none());
    }
}
