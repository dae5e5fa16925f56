//! Webhook deliveries: the signature and the sender. The outbox itself is in
//! `store::webhooks` (a delivery is written with the change it reports); this module posts
//! what is due on one background thread of the server, never on a request's thread.
//!
//! A delivery is `POST <url>` with the stored body `{id, event, timestamp, data}` and the
//! headers `X-Refmatch-Event`, `X-Refmatch-Delivery` (the id), `X-Refmatch-Timestamp` (unix
//! seconds of this attempt) and `X-Refmatch-Signature: v1=<hex>`, the HMAC-SHA256 with the
//! webhook's secret of `<timestamp>.<body>`. A 2xx answer delivers it; anything else, or
//! no answer within the timeout, is retried after 1 s, 2 s, 4 s, ... (at most an hour
//! apart) until `max_attempts`, then the delivery is `failed` (redeliver it by hand).
//! Delivery is at least once: a server killed between the receiver's answer and the
//! record of it posts again, with the same id.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::error::{Error, Result};
use crate::store::webhooks::{AttemptOutcome, DueDelivery};
use crate::store::{now_ms, Store};

/// How deliveries are posted and retried.
#[derive(Clone, Copy, Debug)]
pub struct DeliveryOptions {
    /// The whole attempt: connect, send, answer (`serve --webhook-timeout-secs`).
    pub timeout: Duration,
    /// Attempts before a delivery is `failed`.
    pub max_attempts: i64,
    /// The wait after the first failed attempt; it doubles after each.
    pub first_retry: Duration,
}

impl Default for DeliveryOptions {
    fn default() -> Self {
        DeliveryOptions {
            timeout: Duration::from_secs(10),
            max_attempts: 15,
            first_retry: Duration::from_secs(1),
        }
    }
}

/// The longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(3600);

/// How often the sender looks at the outbox when nobody woke it.
const POLL: Duration = Duration::from_millis(200);

/// The wait after `attempts` failed attempts: `first_retry * 2^(attempts-1)`, at most an hour.
pub fn backoff(options: &DeliveryOptions, attempts: i64) -> Duration {
    let doublings = attempts.saturating_sub(1).clamp(0, 30) as u32;
    options
        .first_retry
        .saturating_mul(1u32 << doublings)
        .min(MAX_BACKOFF)
}

/// `v1=<hex of HMAC-SHA256(secret, "<timestamp>.<body>")>`.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    // HMAC takes a key of any length, so this never fails.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => return String::new(),
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("v1={hex}")
}

/// Wakes every sender of this process at once (a run ended, a delivery was redelivered),
/// instead of at its next look.
static WAKE: (Mutex<bool>, Condvar) = (Mutex::new(false), Condvar::new());

pub fn wake() {
    let (lock, cvar) = &WAKE;
    if let Ok(mut woken) = lock.lock() {
        *woken = true;
        cvar.notify_all();
    }
}

/// Posts due deliveries on a thread of its own.
pub struct Sender {
    store: Store,
    options: DeliveryOptions,
    agent: ureq::Agent,
    stopping: AtomicBool,
    thread: Mutex<Option<thread::JoinHandle<()>>>,
}

impl Sender {
    pub fn new(store: Store, options: DeliveryOptions) -> Arc<Sender> {
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(options.timeout))
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent("refmatch-webhooks")
            .build();
        Arc::new(Sender {
            store,
            options,
            agent: ureq::Agent::new_with_config(config),
            stopping: AtomicBool::new(false),
            thread: Mutex::new(None),
        })
    }

    /// Starts the sender thread.
    pub fn start(self: &Arc<Self>) -> Result<()> {
        let sender = Arc::clone(self);
        let handle = thread::Builder::new()
            .name("refmatch-webhooks".into())
            .spawn(move || sender.work())
            .map_err(|e| Error::Internal(format!("cannot start the webhook sender: {e}")))?;
        if let Ok(mut slot) = self.thread.lock() {
            *slot = Some(handle);
        }
        Ok(())
    }

    /// Stops after the attempt in flight (bounded by the timeout) and joins the thread.
    pub fn shutdown(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        wake();
        let handle = self.thread.lock().ok().and_then(|mut slot| slot.take());
        if let Some(handle) = handle {
            let _ = handle.join();
        }
    }

    /// A lease outlives the attempt it covers.
    fn lease_ms(&self) -> i64 {
        (self.options.timeout + Duration::from_secs(5)).as_millis() as i64
    }

    fn work(&self) {
        while !self.stopping.load(Ordering::SeqCst) {
            match self.store.claim_due_deliveries(self.lease_ms(), 16) {
                Ok(due) if !due.is_empty() => {
                    for delivery in &due {
                        if self.stopping.load(Ordering::SeqCst) {
                            break;
                        }
                        self.deliver(delivery);
                    }
                    continue;
                }
                Ok(_) => {}
                Err(e) => log::warn!("cannot read the webhook outbox: {e}"),
            }
            let (lock, cvar) = &WAKE;
            if let Ok(mut woken) = lock.lock() {
                if !*woken {
                    woken = cvar
                        .wait_timeout(woken, POLL)
                        .map(|(guard, _)| guard)
                        .unwrap_or_else(|e| e.into_inner().0);
                }
                *woken = false;
            }
        }
    }

    /// Posts one delivery and records how it went.
    pub fn deliver(&self, delivery: &DueDelivery) {
        let started = Instant::now();
        let timestamp = now_ms() / 1000;
        let answer = self
            .agent
            .post(&delivery.url)
            .header("Content-Type", "application/json")
            .header("X-Refmatch-Event", &delivery.event)
            .header("X-Refmatch-Delivery", &delivery.id)
            .header("X-Refmatch-Timestamp", timestamp.to_string())
            .header(
                "X-Refmatch-Signature",
                signature(&delivery.secret, timestamp, &delivery.body),
            )
            .send(delivery.body.as_bytes());
        let duration_ms = started.elapsed().as_millis() as i64;
        let (status_code, error) = match answer {
            Ok(response) => {
                let status = response.status().as_u16();
                let error = (!(200..300).contains(&status)).then(|| format!("HTTP {status}"));
                (Some(status), error)
            }
            Err(e) => (
                None,
                Some(crate::error::loggable(&e.to_string()).into_owned()),
            ),
        };
        let delivered = error.is_none();
        let attempts = delivery.attempts + 1;
        let next_attempt_ms = (!delivered && attempts < self.options.max_attempts)
            .then(|| now_ms() + backoff(&self.options, attempts).as_millis() as i64);
        if !delivered {
            log::info!(
                "webhook {} delivery {} attempt {attempts} failed: {}",
                delivery.webhook_id,
                delivery.id,
                error.as_deref().unwrap_or("")
            );
        }
        let outcome = AttemptOutcome {
            status_code,
            error,
            duration_ms,
            delivered,
            next_attempt_ms,
        };
        if let Err(e) = self.store.record_attempt(&delivery.id, &outcome) {
            // The lease runs out and the delivery is posted again, with the same id.
            log::warn!("cannot record webhook delivery {}: {e}", delivery.id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_of_timestamp_dot_body() {
        // RFC 4231 test case 2 checks the HMAC itself; here the message is "<ts>.<body>".
        let key = "Jefe";
        let sig = signature(key, 0, "what do ya want for nothing?");
        assert!(sig.starts_with("v1=") && sig.len() == 3 + 64, "{sig}");
        assert_ne!(sig, signature(key, 1, "what do ya want for nothing?"));
        assert_ne!(sig, signature("other", 0, "what do ya want for nothing?"));
        let mut mac = Hmac::<Sha256>::new_from_slice(b"Jefe").expect("a key");
        mac.update(b"what do ya want for nothing?");
        let rfc: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            rfc,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn backoff_doubles_from_the_first_retry_up_to_an_hour() {
        let options = DeliveryOptions::default();
        let waits: Vec<u64> = (1..=4).map(|a| backoff(&options, a).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8]);
        assert_eq!(backoff(&options, 40), MAX_BACKOFF);
        assert_eq!(backoff(&options, 0).as_secs(), 1);
    }
}
