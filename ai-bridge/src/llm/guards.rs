//! What keeps model calls sane: a circuit breaker per provider, a response cache, and token
//! budgets. Each takes the time as an argument, so tests can move it.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// Where a provider's breaker stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BreakerState {
    /// Calls go through.
    Closed,
    /// Calls are skipped until the cool-down ends.
    Open,
    /// One trial call goes through; its outcome closes or reopens the breaker.
    HalfOpen,
}

impl BreakerState {
    /// The value of the `caravan_ai_breaker_state` gauge: 0 closed, 1 open, 2 half-open.
    pub fn gauge(self) -> i64 {
        match self {
            BreakerState::Closed => 0,
            BreakerState::Open => 1,
            BreakerState::HalfOpen => 2,
        }
    }
}

/// Opens after `threshold` consecutive failures; half-opens `cooldown` later.
#[derive(Debug)]
pub struct Breaker {
    threshold: u32,
    cooldown: Duration,
    failures: u32,
    opened_at: Option<Instant>,
    trial_running: bool,
}

impl Breaker {
    /// A closed breaker.
    pub fn new(threshold: u32, cooldown: Duration) -> Breaker {
        Breaker {
            threshold: threshold.max(1),
            cooldown,
            failures: 0,
            opened_at: None,
            trial_running: false,
        }
    }

    /// The state at `now`.
    pub fn state(&self, now: Instant) -> BreakerState {
        match self.opened_at {
            None => BreakerState::Closed,
            Some(at) if now.duration_since(at) >= self.cooldown => BreakerState::HalfOpen,
            Some(_) => BreakerState::Open,
        }
    }

    /// Whether a call may go out at `now` (in half-open, only one trial at a time).
    pub fn allow(&mut self, now: Instant) -> bool {
        match self.state(now) {
            BreakerState::Closed => true,
            BreakerState::Open => false,
            BreakerState::HalfOpen if self.trial_running => false,
            BreakerState::HalfOpen => {
                self.trial_running = true;
                true
            }
        }
    }

    /// A call succeeded.
    pub fn success(&mut self) {
        self.failures = 0;
        self.opened_at = None;
        self.trial_running = false;
    }

    /// A call failed at `now`.
    pub fn failure(&mut self, now: Instant) {
        self.trial_running = false;
        self.failures += 1;
        if self.opened_at.is_some() || self.failures >= self.threshold {
            self.opened_at = Some(now);
        }
    }
}

/// Answers kept by request, for `ttl`, at most `capacity` (the oldest go first).
#[derive(Debug)]
pub struct ResponseCache {
    capacity: usize,
    ttl: Duration,
    entries: HashMap<u64, (Instant, String)>,
    order: VecDeque<u64>,
}

impl ResponseCache {
    /// An empty cache.
    pub fn new(capacity: usize, ttl: Duration) -> ResponseCache {
        ResponseCache {
            capacity,
            ttl,
            entries: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    /// The answer kept for `key`, if fresh.
    pub fn get(&self, key: u64, now: Instant) -> Option<&str> {
        self.entries
            .get(&key)
            .filter(|(at, _)| now.duration_since(*at) < self.ttl)
            .map(|(_, answer)| answer.as_str())
    }

    /// Keeps `answer` for `key`.
    pub fn put(&mut self, key: u64, answer: String, now: Instant) {
        if self.capacity == 0 {
            return;
        }
        if self.entries.insert(key, (now, answer)).is_none() {
            self.order.push_back(key);
        }
        while self.order.len() > self.capacity {
            if let Some(old) = self.order.pop_front() {
                self.entries.remove(&old);
            }
        }
    }
}

/// Token limits. Zero means no limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BudgetLimits {
    /// Prompt plus answer of one request.
    pub per_request: u64,
    /// One user, one day.
    pub per_user_per_day: u64,
    /// One trip, one day.
    pub per_trip_per_day: u64,
    /// The whole server, one day.
    pub system_per_day: u64,
    /// Generations one user may ask for in an hour.
    pub generations_per_user_per_hour: u32,
}

impl Default for BudgetLimits {
    fn default() -> Self {
        BudgetLimits {
            per_request: 15_000,
            per_user_per_day: 50_000,
            per_trip_per_day: 100_000,
            system_per_day: 500_000,
            generations_per_user_per_hour: 10,
        }
    }
}

/// Tokens and generations spent, by day (and hour).
#[derive(Debug, Default)]
pub struct BudgetBook {
    day: u64,
    by_user: HashMap<String, u64>,
    by_trip: HashMap<String, u64>,
    system: u64,
    generations: HashMap<String, VecDeque<Instant>>,
}

impl BudgetBook {
    fn roll(&mut self, day: u64) {
        if day != self.day {
            self.day = day;
            self.by_user.clear();
            self.by_trip.clear();
            self.system = 0;
        }
    }

    /// Whether a request of `estimate` tokens for `user` in `trip` fits on `day` (days since
    /// the epoch) at `now`; if not, says which budget it would break.
    pub fn check(
        &mut self,
        limits: &BudgetLimits,
        user: &str,
        trip: &str,
        estimate: u64,
        day: u64,
        now: Instant,
    ) -> Result<(), String> {
        self.roll(day);
        let over = |limit: u64, spent: u64| limit > 0 && spent + estimate > limit;
        if limits.per_request > 0 && estimate > limits.per_request {
            return Err(format!(
                "this request needs about {estimate} tokens, more than the {} a request may use",
                limits.per_request
            ));
        }
        if over(
            limits.per_user_per_day,
            self.by_user.get(user).copied().unwrap_or(0),
        ) {
            return Err(format!(
                "{user} has used today's {} tokens",
                limits.per_user_per_day
            ));
        }
        if over(
            limits.per_trip_per_day,
            self.by_trip.get(trip).copied().unwrap_or(0),
        ) {
            return Err(format!(
                "this trip has used today's {} tokens",
                limits.per_trip_per_day
            ));
        }
        if over(limits.system_per_day, self.system) {
            return Err("the server has used today's tokens".into());
        }
        if limits.generations_per_user_per_hour > 0 {
            let recent = self.generations.entry(user.to_owned()).or_default();
            while recent
                .front()
                .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(3600))
            {
                recent.pop_front();
            }
            if recent.len() >= limits.generations_per_user_per_hour as usize {
                return Err(format!(
                    "{user} has asked for {} generations in the last hour, the most allowed",
                    limits.generations_per_user_per_hour
                ));
            }
        }
        Ok(())
    }

    /// Counts a generation for `user` at `now`.
    pub fn count_generation(&mut self, user: &str, now: Instant) {
        self.generations
            .entry(user.to_owned())
            .or_default()
            .push_back(now);
    }

    /// Charges `tokens` to `user`, `trip` and the server on `day`.
    pub fn charge(&mut self, user: &str, trip: &str, tokens: u64, day: u64) {
        self.roll(day);
        *self.by_user.entry(user.to_owned()).or_default() += tokens;
        *self.by_trip.entry(trip.to_owned()).or_default() += tokens;
        self.system += tokens;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_breaker_opens_after_the_threshold_and_half_opens_after_the_cooldown() {
        let t0 = Instant::now();
        let mut breaker = Breaker::new(5, Duration::from_secs(60));
        for _ in 0..4 {
            assert!(breaker.allow(t0));
            breaker.failure(t0);
        }
        assert_eq!(breaker.state(t0), BreakerState::Closed);
        breaker.failure(t0);
        assert_eq!(breaker.state(t0), BreakerState::Open);
        assert!(!breaker.allow(t0 + Duration::from_secs(59)));
        let later = t0 + Duration::from_secs(60);
        assert_eq!(breaker.state(later), BreakerState::HalfOpen);
        assert!(breaker.allow(later), "one trial");
        assert!(!breaker.allow(later), "only one");
        breaker.failure(later);
        assert_eq!(
            breaker.state(later),
            BreakerState::Open,
            "a failed trial reopens"
        );
        let again = later + Duration::from_secs(60);
        assert!(breaker.allow(again));
        breaker.success();
        assert_eq!(breaker.state(again), BreakerState::Closed);
    }

    #[test]
    fn the_cache_keeps_fresh_answers_up_to_its_capacity() {
        let t0 = Instant::now();
        let mut cache = ResponseCache::new(2, Duration::from_secs(10));
        cache.put(1, "a".into(), t0);
        cache.put(2, "b".into(), t0);
        assert_eq!(cache.get(1, t0), Some("a"));
        cache.put(3, "c".into(), t0);
        assert_eq!(cache.get(1, t0), None, "the oldest went");
        assert_eq!(cache.get(3, t0 + Duration::from_secs(10)), None, "stale");
    }

    #[test]
    fn budgets_refuse_what_would_pass_a_limit_and_reset_each_day() {
        let t0 = Instant::now();
        let limits = BudgetLimits {
            per_request: 1000,
            per_user_per_day: 1500,
            per_trip_per_day: 2500,
            system_per_day: 3000,
            generations_per_user_per_hour: 3,
        };
        let mut book = BudgetBook::default();
        assert!(book.check(&limits, "ann", "t", 1001, 1, t0).is_err());
        book.charge("ann", "t", 1000, 1);
        assert!(
            book.check(&limits, "ann", "t", 600, 1, t0).is_err(),
            "ann's day"
        );
        assert!(book.check(&limits, "bob", "t", 600, 1, t0).is_ok());
        book.charge("bob", "t", 1400, 1);
        assert!(
            book.check(&limits, "cat", "t", 200, 1, t0).is_err(),
            "the trip's day"
        );
        assert!(book.check(&limits, "cat", "u", 600, 1, t0).is_ok());
        book.charge("cat", "u", 600, 1);
        assert!(
            book.check(&limits, "dan", "v", 100, 1, t0).is_err(),
            "the server's day"
        );
        assert!(
            book.check(&limits, "ann", "t", 600, 2, t0).is_ok(),
            "a new day"
        );
        for _ in 0..3 {
            book.count_generation("eve", t0);
        }
        assert!(
            book.check(&limits, "eve", "w", 1, 2, t0).is_err(),
            "generations"
        );
        assert!(book
            .check(&limits, "eve", "w", 1, 2, t0 + Duration::from_secs(3600))
            .is_ok());
    }
}
