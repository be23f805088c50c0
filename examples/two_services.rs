//! An outage drill that follows one customer from a front service to a back service.
//!
//! Two axum services run on free ports of 127.0.0.1 (see `tests/support/two_services.rs`):
//! the front takes the customer from the `x-customer-id` header and, for each order, asks
//! the back for a price; its client writes the customer into the W3C `baggage` header. The
//! back accepts the `customer` key, and only it, from baggage, and prices the order in
//! `pricing.quote`, a fault point that has no customer among its arguments.
//!
//! The drill aims two attacks at `pricing.quote`:
//!
//! - `c42-pricing`: 40 % of customer `c-42`'s quotes take 150 ms longer, then fail;
//! - `gold-tier`: quotes of requests whose `tier` facet is `gold` fail. The front reads
//!   `x-tier` into a `tier` facet, but neither propagates nor accepts it, so this attack
//!   can never match in the back: it shows what does not cross the hop.
//!
//! Then bounded traffic goes through the front: four customers, requests with no customer,
//! and a client that forges `baggage: customer=c-42` and `x-tier: gold` on its requests to
//! the front as customer `c-7`. A table shows each sender's requests, errors and latency,
//! and the count of injected-fault events seen by a `tracing` layer. Only `c-42` is hurt.
//! The attacks are then halted and the traffic runs again: nobody is hurt.
//!
//! ```text
//! cargo run --example two_services --features enabled,baggage
//! ```
//!
//! The example checks its own claim and exits with code 1, saying what was wrong, when it
//! does not hold, so CI runs it as a test.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use fault_runtime::{Attack, AttackGuard, AttackStatus};
use http_body_util::Empty;
use tracing_subscriber::layer::SubscriberExt as _;

#[path = "support/traffic.rs"]
mod traffic;
#[path = "../tests/support/two_services.rs"]
mod two_services;

use traffic::{HttpClient, Pace, Tally, print_table};
use two_services::QUOTE_POINT;

/// Requests each sender makes per round, at most.
const REQUESTS: usize = 40;
/// Time between two requests of one sender; requests do not wait for each other.
const PACE: Duration = Duration::from_millis(40);
/// No request starts later than this after the round began.
const SEND_WINDOW: Duration = Duration::from_secs(3);
/// A request without an answer after this long counts as an error.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// The latency the drill adds to c-42's quotes.
const INJECTED: Duration = Duration::from_millis(150);

/// Who sends traffic, and the headers each one's requests carry.
const SENDERS: [(&str, &[(&str, &str)]); 6] = [
    ("c-7", &[("x-customer-id", "c-7")]),
    ("c-19", &[("x-customer-id", "c-19")]),
    ("c-42", &[("x-customer-id", "c-42")]),
    ("c-63", &[("x-customer-id", "c-63"), ("x-tier", "silver")]),
    ("none", &[]),
    (
        "forger",
        &[
            ("x-customer-id", "c-7"),
            ("baggage", "customer=c-42,tier=gold"),
            ("x-tier", "gold"),
        ],
    ),
];

/// Counts the runtime's injected-fault events, as an operator's log pipeline would see
/// them: one `warn` event of target `fault_runtime` per injected impact.
#[derive(Clone, Default)]
struct FaultEvents(Arc<AtomicU64>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for FaultEvents {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        let metadata = event.metadata();
        if metadata.target() == "fault_runtime" && *metadata.level() == tracing::Level::WARN {
            let mut message = Message(false);
            event.record(&mut message);
            if message.0 {
                self.0.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// Whether an event's message is the injected-fault one.
struct Message(bool);

impl tracing::field::Visit for Message {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}") == "fault injected";
        }
    }
}

/// How each sender sends in a round.
const PACE_OF_A_SENDER: Pace = Pace {
    requests: REQUESTS,
    every: PACE,
    window: SEND_WINDOW,
    timeout: REQUEST_TIMEOUT,
};

/// One sender's orders, with the sender's headers.
async fn drive_sender(
    client: HttpClient,
    front: SocketAddr,
    sender: &'static str,
    headers: &'static [(&'static str, &'static str)],
) -> Tally {
    traffic::drive(client, sender, PACE_OF_A_SENDER, |n| {
        let sku = ["mug", "kettle", "filter"][n % 3];
        let mut request = hyper::Request::post(format!("http://{front}/order/{sku}"));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.body(Empty::new()).ok()
    })
    .await
}

/// Every sender's traffic at once, in the order of [`SENDERS`].
async fn drive_round(client: &HttpClient, front: SocketAddr) -> Vec<Tally> {
    let drivers: Vec<_> = SENDERS
        .iter()
        .map(|&(sender, headers)| {
            tokio::spawn(drive_sender(client.clone(), front, sender, headers))
        })
        .collect();
    let mut tallies = Vec::with_capacity(drivers.len());
    for (driver, &(sender, _)) in drivers.into_iter().zip(&SENDERS) {
        tallies.push(driver.await.unwrap_or_else(|_| Tally::failed(sender)));
    }
    tallies
}

fn print_round(tallies: &[Tally], events: u64) {
    print_table("sender", tallies);
    println!("injected-fault events (tracing): {events}");
}

fn start_attacks() -> Result<Vec<AttackGuard>, String> {
    let attacks = [
        Attack::builder("c42-pricing", QUOTE_POINT)
            .facet("customer", "c-42")
            .latency(INJECTED)
            .error("pricing database unreachable")
            .percent(40.0)
            .duration(Duration::from_secs(5 * 60))
            .build(),
        Attack::builder("gold-tier", QUOTE_POINT)
            .facet("tier", "gold")
            .error("gold tier outage")
            .duration(Duration::from_secs(5 * 60))
            .build(),
    ];
    let mut guards = Vec::new();
    for attack in attacks {
        let attack = attack.map_err(|error| error.to_string())?;
        guards.push(fault_runtime::start(attack).map_err(|error| error.to_string())?);
    }
    Ok(guards)
}

/// Checks the round with attacks against the drill's claim; returns every problem.
fn check_attacked(tallies: &[Tally], attacks: &[AttackStatus], events: u64) -> Vec<String> {
    let mut problems = Vec::new();
    for tally in tallies {
        let p99 = tally.percentile_ms(99.0);
        if tally.sender == "c-42" {
            if tally.errors == 0 {
                problems.push("c-42 had no errors, though 40 % of its quotes fail".to_owned());
            }
            if p99 < INJECTED.as_secs_f64() * 1000.0 {
                problems.push(format!(
                    "c-42's p99 of {p99:.1} ms is below the injected 150 ms"
                ));
            }
        } else {
            if tally.errors > 0 {
                problems.push(format!(
                    "{} is out of every attack's reach but had {} errors",
                    tally.sender, tally.errors
                ));
            }
            if p99 >= INJECTED.as_secs_f64() * 1000.0 {
                problems.push(format!(
                    "{} is out of every attack's reach but had a p99 of {p99:.1} ms",
                    tally.sender
                ));
            }
        }
    }
    let hits = |id: &str| attacks.iter().find(|a| a.id == id).map_or(0, |a| a.hits);
    if hits("gold-tier") > 0 {
        problems.push("the tier facet crossed the hop: gold-tier hit calls".to_owned());
    }
    // Each hit of c42-pricing adds latency and an error: one event each.
    if events != hits("c42-pricing") {
        problems.push(format!(
            "{events} injected-fault events were logged for {} hits",
            hits("c42-pricing")
        ));
    }
    problems
}

#[tokio::main]
async fn main() -> ExitCode {
    let events = FaultEvents::default();
    let _ = tracing::subscriber::set_global_default(
        tracing_subscriber::registry().with(events.clone()),
    );

    let services = match two_services::start().await {
        Ok(services) => services,
        Err(error) => {
            eprintln!("cannot start the services on 127.0.0.1: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "front on http://{}, back on http://{}",
        services.front, services.back
    );
    let guards = match start_attacks() {
        Ok(guards) => guards,
        Err(error) => {
            eprintln!("the attacks were refused: {error}");
            return ExitCode::FAILURE;
        }
    };
    for status in fault_runtime::attacks() {
        println!("  attack {:<12} on {}", status.id, status.point);
    }
    let client = two_services::client();

    println!("\nround 1: attacks running; {REQUESTS} orders per sender at most");
    let attacked = drive_round(&client, services.front).await;
    let attacked_events = events.0.swap(0, Ordering::Relaxed);
    print_round(&attacked, attacked_events);
    let statuses = fault_runtime::attacks();
    for status in &statuses {
        println!(
            "  attack {:<12} matched {:>3} hits {:>3}",
            status.id, status.matched, status.hits
        );
    }

    drop(guards);
    println!("\nround 2: attacks halted; the same traffic again");
    let quiet = drive_round(&client, services.front).await;
    let quiet_events = events.0.load(Ordering::Relaxed);
    print_round(&quiet, quiet_events);

    let mut problems = check_attacked(&attacked, &statuses, attacked_events);
    for tally in &quiet {
        if tally.errors > 0 {
            problems.push(format!(
                "{} had {} errors after the attacks were halted",
                tally.sender, tally.errors
            ));
        }
    }
    if quiet_events > 0 {
        problems.push(format!(
            "{quiet_events} faults were injected after the halt"
        ));
    }
    if problems.is_empty() {
        println!(
            "\nok: only c-42 was hurt, through the hop, and nobody once the attacks were halted"
        );
        ExitCode::SUCCESS
    } else {
        eprintln!("\nthe drill's claim does not hold:");
        for problem in &problems {
            eprintln!("  - {problem}");
        }
        ExitCode::FAILURE
    }
}
