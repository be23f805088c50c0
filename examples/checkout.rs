//! A fault-injection drill against one customer of a small checkout service.
//!
//! The service (axum, on a free port of 127.0.0.1) takes `POST /checkout/{sku}/{quantity}`
//! and calls three fault points on the way: `inventory.reserve` (a sync method, run on
//! tokio's blocking pool), `payments.charge` (an `async fn` that can fail with a
//! `PaymentError`, answered with 502) and `orders.store` (an async method). A middleware
//! turns the `x-customer-id` and `x-country` headers into request facets, so an attack can
//! aim at one customer although no annotated function takes a customer as an argument.
//!
//! The drill starts the attacks of `examples/attacks/checkout.toml`: customer `c-42`'s card
//! charges are slowed down by 200-300 ms, and about 30 % of them fail. Five customers then
//! send the same traffic, bounded in count and in time, through a real HTTP client, and a
//! table shows each customer's requests, errors and client-side latency (p50 and p99 in ms,
//! failed requests included). Only `c-42` changes, even though `c-7` is in the same country.
//! The runtime's own counters follow. Then the attacks are halted and the same traffic runs
//! again: `c-42` is back to normal.
//!
//! ```text
//! cargo run --example checkout --features enabled
//! ```
//!
//! The example checks its own claim, and exits with code 1 saying what was wrong if it does
//! not hold, so CI can run it as a test:
//!
//! - round one: customers out of every attack's reach have no errors; a customer an attack
//!   surely reaches (by `customer` and `country` alone) has errors if the attack injects
//!   them, and a p99 at or above the injected minimum latency if it adds latency (each claim
//!   only when at least 10 hits are expected, so chance cannot fail it);
//! - round two: nobody has errors;
//! - both rounds, when every injected latency is 100 ms or more: the p99 of customers out of
//!   reach, and of everyone in round two, stays below the smallest injected latency.
//!
//! It also exits with code 1, printing every problem found, if the attacks are refused.
//!
//! # Other attacks
//!
//! Edit `examples/attacks/checkout.toml` (its comments describe each field), or point the
//! runtime at another file:
//!
//! ```text
//! FAULT_ATTACKS_FILE=/tmp/my-drill.toml cargo run --example checkout --features enabled
//! ```
//!
//! The runtime reads `FAULT_ATTACKS_FILE` (and `FAULT_ATTACKS`, attacks inline) by itself
//! on its first use; the example then starts nothing of its own, since the ids would clash,
//! and halts the environment's attacks with `fault_runtime::halt_all()` before round two.
//! The customers are `c-7` (NL), `c-19` (DE), `c-42` (NL), `c-63` (FR) and `c-88` (US).
//!
//! Every injected impact emits a `warn` event; they are not shown unless `RUST_LOG` is set
//! (for instance `RUST_LOG=fault_runtime=warn`). The attack counters say how many there were.

use std::collections::HashMap;
use std::fmt;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use fault_runtime::{Attack, AttackGuard, AttackStatus, FacetMatch, Facets, Fault, fault_point};
use http_body_util::Empty;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

#[path = "support/traffic.rs"]
mod traffic;

use traffic::{HttpClient, Pace, Tally, print_table};

// The facet keys the middleware puts in every request's context. Attacks may name them at
// any point; an attack naming a key nobody sets is refused when it starts.
fault_runtime::context_facets!(customer, country);

/// The attack file the example starts unless the environment names attacks of its own.
const ATTACK_FILE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/examples/attacks/checkout.toml"
);

/// The customers that send traffic, and the country each one sends in `x-country`.
const CUSTOMERS: [(&str, &str); 5] = [
    ("c-7", "NL"),
    ("c-19", "DE"),
    ("c-42", "NL"),
    ("c-63", "FR"),
    ("c-88", "US"),
];

/// Requests each customer sends per round, at most.
const REQUESTS_PER_CUSTOMER: usize = 60;
/// Time between two requests of one customer. Requests do not wait for each other, so a
/// slow customer keeps sending at the same pace (and has several requests in flight).
const PACE: Duration = Duration::from_millis(40);
/// No request starts later than this after the round began.
const SEND_WINDOW: Duration = Duration::from_secs(4);
/// A request without an answer after this long counts as an error.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

// ---------------------------------------------------------------------------------------
// The domain: stock, payments, orders.

/// Products and their unit prices in cents.
const PRICES: [(&str, u64); 4] = [
    ("mug", 1_200),
    ("tea-100g", 850),
    ("kettle", 4_900),
    ("filter", 300),
];

fn unit_price(sku: &str) -> Option<u64> {
    PRICES
        .iter()
        .find(|(s, _)| *s == sku)
        .map(|(_, cents)| *cents)
}

#[derive(Debug)]
enum StockError {
    UnknownSku,
    OutOfStock,
    /// The stock service failed (here: a fault the drill injected).
    Unavailable(Fault),
}

impl From<Fault> for StockError {
    fn from(fault: Fault) -> Self {
        StockError::Unavailable(fault)
    }
}

impl fmt::Display for StockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StockError::UnknownSku => f.write_str("no such product"),
            StockError::OutOfStock => f.write_str("out of stock"),
            StockError::Unavailable(fault) => write!(f, "inventory unavailable: {fault}"),
        }
    }
}

/// Units set aside for one order; given back when the order cannot go through.
struct Reservation {
    sku: String,
    quantity: u32,
}

struct Inventory {
    stock: Mutex<HashMap<String, u32>>,
}

impl Inventory {
    fn new(units_each: u32) -> Self {
        let stock = PRICES
            .iter()
            .map(|(sku, _)| ((*sku).to_owned(), units_each))
            .collect();
        Self {
            stock: Mutex::new(stock),
        }
    }

    #[fault_point(name = "inventory.reserve", facets(sku))]
    fn reserve(&self, sku: &str, quantity: u32) -> Result<Reservation, StockError> {
        let mut stock = self.stock.lock().unwrap_or_else(PoisonError::into_inner);
        let left = stock.get_mut(sku).ok_or(StockError::UnknownSku)?;
        *left = left.checked_sub(quantity).ok_or(StockError::OutOfStock)?;
        Ok(Reservation {
            sku: sku.to_owned(),
            quantity,
        })
    }

    fn release(&self, reservation: Reservation) {
        let mut stock = self.stock.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(left) = stock.get_mut(&reservation.sku) {
            *left += reservation.quantity;
        }
    }
}

/// What the card network answered for a successful charge.
struct Receipt {
    charge_id: u64,
    amount_cents: u64,
}

#[derive(Debug)]
enum PaymentError {
    /// The card network did not answer properly (here: a fault the drill injected).
    Network(Fault),
}

impl From<Fault> for PaymentError {
    fn from(fault: Fault) -> Self {
        PaymentError::Network(fault)
    }
}

impl fmt::Display for PaymentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PaymentError::Network(fault) => write!(f, "payment failed: {fault}"),
        }
    }
}

/// Charges the customer's card; stands in for a call to a payment provider.
#[fault_point(name = "payments.charge", facets(amount_cents = order.amount_cents))]
async fn charge(order: &Order) -> Result<Receipt, PaymentError> {
    static NEXT_CHARGE: AtomicU64 = AtomicU64::new(1);
    // The provider's round trip.
    tokio::time::sleep(Duration::from_millis(2)).await;
    Ok(Receipt {
        charge_id: NEXT_CHARGE.fetch_add(1, Ordering::Relaxed),
        amount_cents: order.amount_cents,
    })
}

struct Order {
    sku: String,
    quantity: u32,
    amount_cents: u64,
}

#[derive(Debug)]
enum StoreError {
    /// The database failed (here: a fault the drill injected).
    Database(Fault),
}

impl From<Fault> for StoreError {
    fn from(fault: Fault) -> Self {
        StoreError::Database(fault)
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Database(fault) => write!(f, "order not saved: {fault}"),
        }
    }
}

/// The order book; stands in for a database.
#[derive(Default)]
struct Orders {
    saved: AtomicU64,
}

impl Orders {
    /// Saves a paid order; returns the confirmation shown to the customer.
    #[fault_point(name = "orders.store", facets(sku = order.sku))]
    async fn store(&self, order: Order, receipt: &Receipt) -> Result<String, StoreError> {
        // The database's round trip.
        tokio::time::sleep(Duration::from_millis(1)).await;
        let number = self.saved.fetch_add(1, Ordering::Relaxed) + 1;
        let cents = receipt.amount_cents;
        Ok(format!(
            "order {number}: {} x {}, {}.{:02} paid (charge {})",
            order.quantity,
            order.sku,
            cents / 100,
            cents % 100,
            receipt.charge_id
        ))
    }
}

// ---------------------------------------------------------------------------------------
// The HTTP service.

struct Shop {
    inventory: Inventory,
    orders: Orders,
}

/// `POST /checkout/{sku}/{quantity}`: reserve, charge, store.
async fn checkout(
    State(shop): State<Arc<Shop>>,
    Path((sku, quantity)): Path<(String, u32)>,
) -> Response {
    // The stock client is synchronous (it blocks), so it runs on tokio's blocking pool:
    // a slow reservation, injected latency included, then holds a thread of that pool
    // instead of one of the few worker threads every other request needs. Work sent to
    // another thread does not inherit the request's facets; they are carried there.
    let facets = Facets::current();
    let stock = Arc::clone(&shop);
    let wanted = sku.clone();
    let reserved = tokio::task::spawn_blocking(move || {
        facets.scope(|| stock.inventory.reserve(&wanted, quantity))
    })
    .await;
    let reservation = match reserved {
        Ok(Ok(reservation)) => reservation,
        Ok(Err(error @ (StockError::UnknownSku | StockError::OutOfStock))) => {
            return (StatusCode::CONFLICT, error.to_string()).into_response();
        }
        Ok(Err(error @ StockError::Unavailable(_))) => {
            return (StatusCode::SERVICE_UNAVAILABLE, error.to_string()).into_response();
        }
        // The reservation panicked (a panic attack does that).
        Err(_) => {
            return (StatusCode::INTERNAL_SERVER_ERROR, "inventory failed").into_response();
        }
    };
    let Some(price) = unit_price(&sku) else {
        shop.inventory.release(reservation);
        return (StatusCode::CONFLICT, "no such product").into_response();
    };
    let order = Order {
        sku,
        quantity,
        amount_cents: price * u64::from(quantity),
    };
    let receipt = match charge(&order).await {
        Ok(receipt) => receipt,
        Err(error) => {
            shop.inventory.release(reservation);
            return (StatusCode::BAD_GATEWAY, error.to_string()).into_response();
        }
    };
    match shop.orders.store(order, &receipt).await {
        Ok(confirmation) => (StatusCode::OK, confirmation).into_response(),
        // A real shop would refund the charge here.
        Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response(),
    }
}

/// Puts the request's customer and country in scope as facets for everything the rest of
/// the request calls. A header that is absent leaves its facet unset: attacks that need the
/// facet do not match such requests.
async fn request_facets(request: Request, next: Next) -> Response {
    let mut facets = Facets::new();
    for (key, header) in [("customer", "x-customer-id"), ("country", "x-country")] {
        if let Some(value) = request.headers().get(header).and_then(|v| v.to_str().ok()) {
            facets = facets.with(key, value);
        }
    }
    facets.within(next.run(request)).await
}

async fn serve() -> std::io::Result<String> {
    let shop = Arc::new(Shop {
        inventory: Inventory::new(1_000_000),
        orders: Orders::default(),
    });
    let app = axum::Router::new()
        .route("/checkout/{sku}/{quantity}", post(checkout))
        .layer(middleware::from_fn(request_facets))
        .with_state(shop);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, app).await {
            eprintln!("the checkout service stopped: {error}");
        }
    });
    Ok(format!("http://{address}"))
}

// ---------------------------------------------------------------------------------------
// The traffic.

/// How each customer sends in a round.
const PACE_OF_A_CUSTOMER: Pace = Pace {
    requests: REQUESTS_PER_CUSTOMER,
    every: PACE,
    window: SEND_WINDOW,
    timeout: REQUEST_TIMEOUT,
};

/// One customer's checkouts, with the customer's headers.
async fn drive_customer(
    client: HttpClient,
    base: Arc<str>,
    customer: &'static str,
    country: &'static str,
) -> Tally {
    traffic::drive(client, customer, PACE_OF_A_CUSTOMER, |n| {
        let (sku, _) = PRICES[n % PRICES.len()];
        hyper::Request::post(format!("{base}/checkout/{sku}/{}", 1 + n % 3))
            .header("x-customer-id", customer)
            .header("x-country", country)
            .body(Empty::new())
            .ok()
    })
    .await
}

/// Every customer's traffic at once; the tallies in the order of [`CUSTOMERS`].
async fn drive_round(client: &HttpClient, base: &Arc<str>) -> Vec<Tally> {
    let drivers: Vec<_> = CUSTOMERS
        .iter()
        .map(|&(customer, country)| {
            tokio::spawn(drive_customer(
                client.clone(),
                Arc::clone(base),
                customer,
                country,
            ))
        })
        .collect();
    let mut tallies = Vec::with_capacity(drivers.len());
    for (driver, &(customer, _)) in drivers.into_iter().zip(&CUSTOMERS) {
        tallies.push(driver.await.unwrap_or_else(|_| Tally::failed(customer)));
    }
    tallies
}

// ---------------------------------------------------------------------------------------
// What the running attacks should do to each customer, and the check of it.

/// Injected latency this long or longer stands clearly above the service's own (a few
/// milliseconds), even on a busy machine.
const CLEAR_LATENCY: Duration = Duration::from_millis(100);

/// The effect the running attacks should have on one customer's requests.
#[derive(Default)]
struct Expected {
    /// Some attack may act on the customer's requests.
    reached: bool,
    /// The largest share (percent) of an error or panic attack that surely matches.
    failing_percent: f64,
    /// The minimum latency and the share of each latency attack that surely matches.
    slowed: Vec<(Duration, f64)>,
}

/// Whether an attack matches a customer's requests: `Some(true)` surely, `Some(false)`
/// never, `None` perhaps (it names facets, such as `sku`, that vary between requests).
fn reaches(attack: &Attack, customer: &str, country: &str) -> Option<bool> {
    let mut sure = true;
    for (key, rule) in attack.facets() {
        let value = match key.as_str() {
            "customer" => customer,
            "country" => country,
            _ => {
                sure = false;
                continue;
            }
        };
        if !rule.accepts(value) {
            return Some(false);
        }
    }
    sure.then_some(true)
}

fn expectations(running: &[AttackStatus]) -> Vec<Expected> {
    CUSTOMERS
        .iter()
        .map(|&(customer, country)| {
            let mut expected = Expected::default();
            for attack in running.iter().map(|status| &status.attack) {
                if attack.dry_run() {
                    continue;
                }
                match reaches(attack, customer, country) {
                    Some(false) => {}
                    None => expected.reached = true,
                    // A sticky attack hits all of a customer's calls or none: no claim.
                    Some(true) if attack.sticky().is_some() => expected.reached = true,
                    Some(true) => {
                        expected.reached = true;
                        if attack.error().is_some() || attack.panic().is_some() {
                            expected.failing_percent =
                                expected.failing_percent.max(attack.percent());
                        }
                        if let Some(latency) = attack.latency() {
                            expected.slowed.push((latency.min, attack.percent()));
                        }
                    }
                }
            }
            expected
        })
        .collect()
}

/// The smallest latency a running attack injects, when it is at least [`CLEAR_LATENCY`]:
/// customers out of every attack's reach, and everyone once the attacks are halted, must
/// keep their p99 below it.
fn latency_bar(running: &[AttackStatus]) -> Option<Duration> {
    running
        .iter()
        .filter(|status| !status.attack.dry_run())
        .filter_map(|status| status.attack.latency())
        .map(|latency| latency.min)
        .min()
        .filter(|smallest| *smallest >= CLEAR_LATENCY)
}

/// Whether `percent` of `requests` calls is enough for a claim: at least 10 expected hits,
/// so that seeing none by chance has a probability below e^-10.
fn enough(requests: usize, percent: f64) -> bool {
    requests as f64 * percent / 100.0 >= 10.0
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// Checks round one against what the attacks should do; returns every problem found.
fn check_attacked_round(
    tallies: &[Tally],
    expected: &[Expected],
    bar: Option<Duration>,
) -> Vec<String> {
    let mut problems = Vec::new();
    for (tally, expected) in tallies.iter().zip(expected) {
        let who = tally.sender;
        let p99 = tally.percentile_ms(99.0);
        if !expected.reached {
            if tally.errors > 0 {
                problems.push(format!(
                    "{who} is out of every attack's reach but had {} errors",
                    tally.errors
                ));
            }
            if let Some(bar) = bar.filter(|bar| p99 >= ms(*bar)) {
                problems.push(format!(
                    "{who} is out of every attack's reach but had a p99 of {p99:.1} ms, \
                     not below the smallest injected latency ({:.1} ms)",
                    ms(bar)
                ));
            }
        }
        if enough(tally.requests, expected.failing_percent) && tally.errors == 0 {
            problems.push(format!(
                "{who} should have had about {:.0} errors but had none",
                tally.requests as f64 * expected.failing_percent / 100.0
            ));
        }
        let slowest_minimum = expected
            .slowed
            .iter()
            .filter(|(_, percent)| enough(tally.requests, *percent))
            .map(|(min, _)| *min)
            .max();
        if let Some(min) = slowest_minimum.filter(|min| p99 < ms(*min)) {
            problems.push(format!(
                "{who} had a p99 of {p99:.1} ms, below the injected minimum of {:.1} ms",
                ms(min)
            ));
        }
    }
    problems
}

/// Checks round two: no errors, and (when it is clear) no latency left over.
fn check_quiet_round(tallies: &[Tally], bar: Option<Duration>) -> Vec<String> {
    let mut problems = Vec::new();
    for tally in tallies {
        let who = tally.sender;
        if tally.errors > 0 {
            problems.push(format!(
                "{who} had {} errors after the attacks were halted",
                tally.errors
            ));
        }
        let p99 = tally.percentile_ms(99.0);
        if let Some(bar) = bar.filter(|bar| p99 >= ms(*bar)) {
            problems.push(format!(
                "{who} had a p99 of {p99:.1} ms after the attacks were halted, not below \
                 the smallest injected latency ({:.1} ms)",
                ms(bar)
            ));
        }
    }
    problems
}

// ---------------------------------------------------------------------------------------
// The drill.

/// Where the attacks came from, which decides how they are halted.
enum Attacks {
    /// Started by the example from its file; dropping the guards halts them.
    Started(Vec<AttackGuard>),
    /// Read by the runtime from the environment; halted with `halt_all`.
    Environment,
}

/// Starts the drill's attacks, or says why none could start.
fn start_attacks() -> Result<Attacks, String> {
    // Reads FAULT_ATTACKS / FAULT_ATTACKS_FILE now rather than on the first request.
    if let Err(refused) = fault_runtime::init() {
        let problems: Vec<String> = refused.iter().map(ToString::to_string).collect();
        return Err(problems.join("\n"));
    }
    let from_environment: Vec<String> = ["FAULT_ATTACKS_FILE", "FAULT_ATTACKS"]
        .into_iter()
        .filter_map(|name| {
            let value = std::env::var_os(name)?;
            Some(match name {
                "FAULT_ATTACKS_FILE" => format!("{name}={}", value.to_string_lossy()),
                _ => name.to_owned(),
            })
        })
        .collect();
    if from_environment.is_empty() {
        println!("attacks: {ATTACK_FILE}");
        let guards = fault_runtime::start_file(ATTACK_FILE).map_err(|error| error.to_string())?;
        Ok(Attacks::Started(guards))
    } else {
        println!(
            "attacks: {} (read by the runtime)",
            from_environment.join(" and ")
        );
        Ok(Attacks::Environment)
    }
}

/// One line per attack: what it aims at and what it does.
fn describe(status: &AttackStatus) -> String {
    let attack = &status.attack;
    let mut text = format!("  {:<26} {}", status.id, attack.point());
    for (key, rule) in attack.facets() {
        match rule {
            FacetMatch::Present => text.push_str(&format!(" {key}=*")),
            FacetMatch::AnyOf(values) => text.push_str(&format!(" {key}={}", values.join("|"))),
        }
    }
    if let Some(latency) = attack.latency() {
        if latency.min == latency.max {
            text.push_str(&format!(" +{:?}", latency.min));
        } else {
            text.push_str(&format!(" +{:?}..{:?}", latency.min, latency.max));
        }
    }
    if let Some(message) = attack.error() {
        text.push_str(&format!(" error {message:?}"));
    }
    if let Some(message) = attack.panic() {
        text.push_str(&format!(" panic {message:?}"));
    }
    if attack.percent() < 100.0 {
        text.push_str(&format!(" {}%", attack.percent()));
    }
    if attack.dry_run() {
        text.push_str(" (dry run)");
    }
    text
}

fn fail(problems: &[String]) -> ExitCode {
    eprintln!("\nthe drill's claim does not hold:");
    for problem in problems {
        eprintln!("  - {problem}");
    }
    ExitCode::FAILURE
}

#[tokio::main]
async fn main() -> ExitCode {
    // Off unless RUST_LOG is set: every injected impact is a warn event, and they would
    // drown the tables.
    if let Ok(filter) = tracing_subscriber::EnvFilter::try_from_default_env() {
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init();
    }
    let begun = std::time::Instant::now();

    let attacks = match start_attacks() {
        Ok(attacks) => attacks,
        Err(error) => {
            eprintln!("the attacks were refused; nothing was started:\n{error}");
            return ExitCode::FAILURE;
        }
    };
    let running: Vec<AttackStatus> = fault_runtime::attacks()
        .into_iter()
        .filter(|status| status.state == fault_runtime::AttackState::Running)
        .collect();
    if running.is_empty() {
        println!("  (no attack is running: both rounds should look alike)");
    }
    for status in &running {
        println!("{}", describe(status));
    }
    let expected = expectations(&running);
    let bar = latency_bar(&running);

    let base: Arc<str> = match serve().await {
        Ok(base) => base.into(),
        Err(error) => {
            eprintln!("cannot start the checkout service on 127.0.0.1: {error}");
            return ExitCode::FAILURE;
        }
    };
    let client: HttpClient = Client::builder(TokioExecutor::new()).build_http();

    println!(
        "\nround 1: attacks running; {} customers, up to {REQUESTS_PER_CUSTOMER} checkouts each, \
         on {base}",
        CUSTOMERS.len()
    );
    let attacked = drive_round(&client, &base).await;
    print_table("customer", &attacked);

    println!("\nattack counters (fault_runtime::attacks())");
    println!("  {:<26} {:>7} {:>5}", "id", "matched", "hits");
    for status in fault_runtime::attacks() {
        if running.iter().any(|r| r.id == status.id) {
            println!(
                "  {:<26} {:>7} {:>5}",
                status.id, status.matched, status.hits
            );
        }
    }

    let halted = match attacks {
        Attacks::Started(guards) => {
            let count = guards.len();
            drop(guards);
            count
        }
        Attacks::Environment => fault_runtime::halt_all(),
    };
    println!("\nround 2: {halted} attacks halted; the same traffic again");
    let quiet = drive_round(&client, &base).await;
    print_table("customer", &quiet);

    let mut problems = check_attacked_round(&attacked, &expected, bar);
    problems.extend(check_quiet_round(&quiet, bar));
    if !problems.is_empty() {
        return fail(&problems);
    }
    println!(
        "\nok: only the customers the attacks aim at were hit, and nobody once they were \
         halted ({:.1} s)",
        begun.elapsed().as_secs_f64()
    );
    ExitCode::SUCCESS
}
