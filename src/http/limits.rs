//! Per-key rate limits and the request metrics `/metrics` shows. Both live in memory: a
//! token bucket per API key (capacity N, refilled at N per minute), and per workspace, route
//! and status a request count with a latency histogram. A key sees its own workspace's
//! figures only; requests without a workspace (no key, a bad key) are shown only on an
//! open `/metrics` (`serve --metrics-open`), which shows everything.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// What a request's key has left, for the `X-RateLimit-*` headers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateState {
    pub limit: u32,
    pub remaining: u32,
    /// Seconds until the bucket is full again.
    pub reset: u64,
    /// Set when the request is refused: seconds until one token is back.
    pub retry_after: Option<u64>,
}

struct Bucket {
    tokens: f64,
    updated: Instant,
}

pub struct RateLimiter {
    per_minute: u32,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl RateLimiter {
    /// `per_minute` 0 turns limiting off.
    pub fn new(per_minute: u32) -> Self {
        RateLimiter {
            per_minute,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes a token for `key`; `None` when limiting is off.
    pub fn take(&self, key: &str) -> Option<RateState> {
        self.take_at(key, Instant::now())
    }

    fn take_at(&self, key: &str, now: Instant) -> Option<RateState> {
        if self.per_minute == 0 {
            return None;
        }
        let capacity = f64::from(self.per_minute);
        let rate = capacity / 60.0;
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let bucket = buckets.entry(key.to_string()).or_insert(Bucket {
            tokens: capacity,
            updated: now,
        });
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(capacity);
        bucket.updated = now;
        let retry_after = if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            None
        } else {
            Some(((1.0 - bucket.tokens) / rate).ceil().max(1.0) as u64)
        };
        Some(RateState {
            limit: self.per_minute,
            remaining: bucket.tokens.floor().max(0.0) as u32,
            reset: ((capacity - bucket.tokens) / rate).ceil().max(0.0) as u64,
            retry_after,
        })
    }
}

/// Upper bounds of the latency histogram, in seconds.
const BUCKETS: [f64; 9] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5];

#[derive(Default)]
struct RouteStats {
    count: u64,
    seconds: f64,
    buckets: [u64; BUCKETS.len()],
}

/// Whose requests a `/metrics` page counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Every workspace and the requests without one (`--metrics-open`).
    All,
    /// One workspace's requests (the key's).
    Workspace(i64),
}

/// A workspace (none for requests without a key), a route and a status.
type RouteKey = (Option<i64>, &'static str, u16);

#[derive(Default)]
pub struct Metrics {
    routes: Mutex<HashMap<RouteKey, RouteStats>>,
}

impl Metrics {
    pub fn record(&self, workspace: Option<i64>, route: &'static str, status: u16, took: Duration) {
        let seconds = took.as_secs_f64();
        let mut routes = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        let stats = routes.entry((workspace, route, status)).or_default();
        stats.count += 1;
        stats.seconds += seconds;
        for (bucket, &le) in stats.buckets.iter_mut().zip(&BUCKETS) {
            if seconds <= le {
                *bucket += 1;
            }
        }
    }

    /// The Prometheus text exposition of the requests of `scope` so far, then the runs.
    pub fn render(
        &self,
        scope: Scope,
        runs_by_status: &[(String, i64)],
        documents_matched: u64,
    ) -> String {
        let all = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        let mut routes: HashMap<(&'static str, u16), RouteStats> = HashMap::new();
        for ((workspace, route, status), stats) in all.iter() {
            if scope != Scope::All && workspace.map(Scope::Workspace) != Some(scope) {
                continue;
            }
            let sum = routes.entry((route, *status)).or_default();
            sum.count += stats.count;
            sum.seconds += stats.seconds;
            for (a, b) in sum.buckets.iter_mut().zip(&stats.buckets) {
                *a += b;
            }
        }
        drop(all);
        let mut keys: Vec<&(&'static str, u16)> = routes.keys().collect();
        keys.sort();
        let mut out = String::new();
        out.push_str("# HELP refmatch_http_requests_total HTTP requests by route and status.\n");
        out.push_str("# TYPE refmatch_http_requests_total counter\n");
        for key in &keys {
            let stats = &routes[*key];
            let _ = writeln!(
                out,
                "refmatch_http_requests_total{{route=\"{}\",status=\"{}\"}} {}",
                key.0, key.1, stats.count
            );
        }
        out.push_str(
            "# HELP refmatch_http_request_duration_seconds Time to answer, by route and status.\n",
        );
        out.push_str("# TYPE refmatch_http_request_duration_seconds histogram\n");
        for key in &keys {
            let stats = &routes[*key];
            let labels = format!("route=\"{}\",status=\"{}\"", key.0, key.1);
            for (bucket, le) in stats.buckets.iter().zip(BUCKETS) {
                let _ = writeln!(
                    out,
                    "refmatch_http_request_duration_seconds_bucket{{{labels},le=\"{le}\"}} {bucket}"
                );
            }
            let _ = writeln!(
                out,
                "refmatch_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                stats.count
            );
            let _ = writeln!(
                out,
                "refmatch_http_request_duration_seconds_sum{{{labels}}} {}",
                stats.seconds
            );
            let _ = writeln!(
                out,
                "refmatch_http_request_duration_seconds_count{{{labels}}} {}",
                stats.count
            );
        }
        out.push_str("# HELP refmatch_runs Runs in the database by status.\n");
        out.push_str("# TYPE refmatch_runs gauge\n");
        for (status, count) in runs_by_status {
            let _ = writeln!(out, "refmatch_runs{{status=\"{status}\"}} {count}");
        }
        out.push_str(
            "# HELP refmatch_documents_matched_total Documents matched by this process's runs.\n",
        );
        out.push_str("# TYPE refmatch_documents_matched_total counter\n");
        let _ = writeln!(out, "refmatch_documents_matched_total {documents_matched}");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_empties_then_refills_at_its_rate() {
        let limiter = RateLimiter::new(60);
        let start = Instant::now();
        for i in 0..60 {
            let state = limiter.take_at("k", start).unwrap();
            assert_eq!(state.retry_after, None, "request {i}");
            assert_eq!(state.remaining, 59 - i);
        }
        let refused = limiter.take_at("k", start).unwrap();
        assert_eq!(refused.retry_after, Some(1));
        assert_eq!(refused.remaining, 0);
        assert_eq!(refused.reset, 60);
        // One second later one token is back (60 per minute); other keys are untouched.
        assert_eq!(
            limiter
                .take_at("k", start + Duration::from_secs(1))
                .unwrap()
                .retry_after,
            None
        );
        assert_eq!(limiter.take_at("other", start).unwrap().remaining, 59);
        assert!(RateLimiter::new(0).take("k").is_none());
    }

    #[test]
    fn metrics_render_counters_and_histograms() {
        let m = Metrics::default();
        m.record(Some(1), "run_detail", 200, Duration::from_millis(3));
        m.record(Some(1), "run_detail", 200, Duration::from_millis(30));
        m.record(Some(2), "run_detail", 200, Duration::from_millis(30));
        m.record(None, "runs", 401, Duration::from_millis(1));
        let text = m.render(Scope::Workspace(1), &[("completed".into(), 2)], 150);
        assert!(
            text.contains("refmatch_http_requests_total{route=\"run_detail\",status=\"200\"} 2")
        );
        assert!(text.contains(
            "refmatch_http_request_duration_seconds_bucket{route=\"run_detail\",status=\"200\",le=\"0.005\"} 1"
        ));
        assert!(text.contains("refmatch_runs{status=\"completed\"} 2"));
        assert!(text.contains("refmatch_documents_matched_total 150"));
        assert!(!text.contains("status=\"401\""), "{text}");
        let everything = m.render(Scope::All, &[], 0);
        assert!(everything
            .contains("refmatch_http_requests_total{route=\"run_detail\",status=\"200\"} 3"));
        assert!(
            everything.contains("refmatch_http_requests_total{route=\"runs\",status=\"401\"} 1")
        );
    }
}
