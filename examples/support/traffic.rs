//! Bounded HTTP traffic for the examples: one sender's requests at a steady pace, each
//! timed and checked, none started after a time window, and a tally of the results.

use std::time::Duration;

use http_body_util::{BodyExt as _, Empty};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use tokio::task::JoinSet;
use tokio::time::{Instant, MissedTickBehavior};

/// The client the examples send requests with.
pub type HttpClient = Client<HttpConnector, Empty<Bytes>>;

/// How one sender sends: at most `requests`, one every `every`, none started after
/// `window`, each counted as an error when it has no answer after `timeout`. Requests do
/// not wait for each other, so a slow sender keeps its pace with several in flight.
#[derive(Clone, Copy)]
pub struct Pace {
    pub requests: usize,
    pub every: Duration,
    pub window: Duration,
    pub timeout: Duration,
}

/// One sender's results.
pub struct Tally {
    pub sender: &'static str,
    pub requests: usize,
    pub errors: usize,
    pub latencies: Vec<Duration>,
}

impl Tally {
    /// A tally of a sender whose traffic could not run at all: one error, so no check
    /// mistakes it for a sender that was not hurt.
    pub fn failed(sender: &'static str) -> Self {
        Tally {
            sender,
            requests: 0,
            errors: 1,
            latencies: Vec::new(),
        }
    }

    /// The `p`-th percentile (nearest rank) of the latencies, in milliseconds.
    pub fn percentile_ms(&self, p: f64) -> f64 {
        let mut sorted = self.latencies.clone();
        sorted.sort_unstable();
        if sorted.is_empty() {
            return 0.0;
        }
        let rank = ((p / 100.0 * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
        sorted[rank - 1].as_secs_f64() * 1000.0
    }
}

/// Sends one request; returns how long it took and whether it succeeded (a 2xx answer, its
/// body read, within `timeout`).
async fn send(
    client: HttpClient,
    request: hyper::Request<Empty<Bytes>>,
    timeout: Duration,
) -> (Duration, bool) {
    let started = Instant::now();
    let exchange = async {
        let response = client.request(request).await.ok()?;
        let ok = response.status().is_success();
        response.into_body().collect().await.ok()?;
        Some(ok)
    };
    let ok = matches!(
        tokio::time::timeout(timeout, exchange).await,
        Ok(Some(true))
    );
    (started.elapsed(), ok)
}

/// One sender's traffic at `pace`; `request(n)` makes its `n`-th request (`None` counts as
/// an error).
pub async fn drive(
    client: HttpClient,
    sender: &'static str,
    pace: Pace,
    request: impl Fn(usize) -> Option<hyper::Request<Empty<Bytes>>>,
) -> Tally {
    let deadline = Instant::now() + pace.window;
    let mut ticker = tokio::time::interval(pace.every);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut tally = Tally {
        sender,
        requests: 0,
        errors: 0,
        latencies: Vec::with_capacity(pace.requests),
    };
    let mut in_flight = JoinSet::new();
    for n in 0..pace.requests {
        ticker.tick().await;
        if Instant::now() >= deadline {
            break;
        }
        match request(n) {
            Some(request) => {
                in_flight.spawn(send(client.clone(), request, pace.timeout));
            }
            None => {
                tally.requests += 1;
                tally.errors += 1;
            }
        }
    }
    while let Some(joined) = in_flight.join_next().await {
        tally.requests += 1;
        match joined {
            Ok((latency, ok)) => {
                tally.latencies.push(latency);
                tally.errors += usize::from(!ok);
            }
            Err(_) => tally.errors += 1,
        }
    }
    tally
}

/// Prints the tallies as a table: sender, requests, errors, p50 and p99 in milliseconds.
pub fn print_table(header: &str, tallies: &[Tally]) {
    println!(
        "{header:<8} {:>8} {:>6} {:>7} {:>7}",
        "requests", "errors", "p50_ms", "p99_ms"
    );
    for tally in tallies {
        println!(
            "{:<8} {:>8} {:>6} {:>7.1} {:>7.1}",
            tally.sender,
            tally.requests,
            tally.errors,
            tally.percentile_ms(50.0),
            tally.percentile_ms(99.0)
        );
    }
}
