//! Points whose function limits the impacts they can take: a non-unwinding ABI takes no panic,
//! a sync function returning a future takes no latency, and a method rewritten by
//! `#[async_trait]` is instrumented inside its future, so it takes all three.
#![cfg(feature = "enabled")]

use std::future::Future;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use fault_runtime::{Attack, Fault, PointInfo, fault_point};

mod support;

use support::start;

const INJECTED: Duration = Duration::from_secs(60);
const LIMIT: Duration = Duration::from_secs(10);

fn entry(name: &str) -> PointInfo {
    fault_runtime::catalog()
        .into_iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("point {name} is in the catalog"))
}

/// The hits of the attack with this id, as `attacks()` reports them.
fn hits(id: &str) -> u64 {
    fault_runtime::attacks()
        .into_iter()
        .find(|a| a.id == id)
        .map_or(0, |a| a.hits)
}

fn assert_never_started(id: &str) {
    let statuses = fault_runtime::attacks();
    assert!(
        statuses.iter().all(|status| status.id != id),
        "attack `{id}` is listed: {statuses:?}"
    );
}

// Non-unwinding ABIs.

#[fault_point(name = "abi.c")]
extern "C" fn checksum_c(value: u32) -> u32 {
    value.wrapping_mul(31)
}

#[fault_point(name = "abi.c_unwind")]
extern "C-unwind" fn checksum_unwind(value: u32) -> u32 {
    value.wrapping_mul(37)
}

#[test]
fn the_catalog_says_which_abi_can_panic() {
    let c = entry("abi.c");
    assert!(!c.impacts.panic);
    assert!(c.impacts.latency && !c.impacts.error && !c.is_async);
    let unwind = entry("abi.c_unwind");
    assert!(unwind.impacts.panic);
    assert!(unwind.impacts.latency && !unwind.is_async);
}

#[test]
fn a_panic_attack_on_an_extern_c_point_is_refused() {
    let attack = Attack::builder("abi-c-panic", "abi.c")
        .panic("drill")
        .build()
        .unwrap();
    let error = fault_runtime::start(attack).unwrap_err();
    assert_eq!(error.attack_id(), Some("abi-c-panic"));
    assert_eq!(error.field(), Some("panic"));
    assert!(error.reason().contains("`abi.c`"), "{error}");
    assert!(error.reason().contains("extern \"C\""), "{error}");
    assert!(error.reason().contains("abort"), "{error}");
    assert_never_started("abi-c-panic");

    // A source holding the refused attack applies none of its attacks, not even the valid one.
    let error = fault_runtime::start_toml(
        "[[attack]]\nid = \"abi-c-latency\"\npoint = \"abi.c\"\nlatency = \"60s\"\n\n\
         [[attack]]\nid = \"abi-glob-panic\"\npoint = \"abi.*\"\npanic = \"drill\"\n",
    )
    .unwrap_err();
    assert!(
        error.problems().iter().any(|p| p.field() == Some("panic")
            && p.attack_id() == Some("abi-glob-panic")
            && p.reason().contains("`abi.c`")),
        "{error}"
    );
    assert_never_started("abi-c-latency");
    assert_never_started("abi-glob-panic");

    // Nothing aims at the point afterwards: it runs as written, at once.
    assert_eq!(entry("abi.c").attacks, 0);
    let begin = Instant::now();
    assert_eq!(checksum_c(2), 62);
    assert!(begin.elapsed() < LIMIT);
}

#[test]
fn a_panic_attack_on_an_extern_c_unwind_point_unwinds() {
    let _guard = start(
        Attack::builder("abi-unwind-panic", "abi.c_unwind")
            .panic("drill")
            .build()
            .unwrap(),
    );
    assert!(std::panic::catch_unwind(|| checksum_unwind(2)).is_err());
}

// Sync functions that return a future.

#[fault_point(name = "futures.quote", facets(amount))]
fn quote_later(amount: u32) -> impl Future<Output = u32> + Send {
    let doubled = amount * 2;
    async move { doubled }
}

#[test]
fn a_sync_function_returning_a_future_takes_no_latency() {
    let point = entry("futures.quote");
    assert!(!point.impacts.latency);
    assert!(point.impacts.panic && !point.impacts.error && !point.is_async);

    let attack = Attack::builder("futures-quote-latency", "futures.quote")
        .latency(INJECTED)
        .build()
        .unwrap();
    let error = fault_runtime::start(attack).unwrap_err();
    assert_eq!(error.attack_id(), Some("futures-quote-latency"));
    assert_eq!(error.field(), Some("latency"));
    assert!(error.reason().contains("`futures.quote`"), "{error}");
    assert!(error.reason().contains("executor"), "{error}");
    assert_never_started("futures-quote-latency");

    // A panic is served when the future is created, which blocks nothing.
    let guard = start(
        Attack::builder("futures-quote-panic", "futures.quote")
            .facet("amount", "13")
            .panic("drill")
            .build()
            .unwrap(),
    );
    assert!(std::panic::catch_unwind(|| quote_later(13)).is_err());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert_eq!(runtime.block_on(quote_later(21)), 42);
    drop(guard);
    assert_eq!(runtime.block_on(quote_later(13)), 26);
}

// Methods rewritten by `#[async_trait]`.

#[derive(Debug, PartialEq)]
enum LedgerError {
    Injected(String),
}

impl From<Fault> for LedgerError {
    fn from(fault: Fault) -> Self {
        LedgerError::Injected(fault.message().to_owned())
    }
}

#[async_trait]
trait Ledger {
    async fn balance(&self, account: &str) -> Result<u64, LedgerError>;

    /// A provided method: the attribute sees the body `#[async_trait]` wrote for the trait.
    #[fault_point(name = "futures.ledger.statement", facets(account))]
    async fn statement(&self, account: &str) -> Result<String, LedgerError> {
        let balance = self.balance(account).await?;
        Ok(format!("{account}: {balance}"))
    }
}

struct Books {
    name: String,
}

#[async_trait]
impl Ledger for Books {
    // `copies` is an `Rc`, which is not `Send`: the future stays `Send` only because the
    // facet values are dropped before the check awaits.
    #[fault_point(
        name = "futures.ledger.balance",
        facets(account, books = self.name, copies = std::rc::Rc::new(2))
    )]
    async fn balance(&self, account: &str) -> Result<u64, LedgerError> {
        tokio::task::yield_now().await;
        Ok(u64::try_from(account.len()).unwrap_or(u64::MAX))
    }
}

fn assert_send<T: Send>(_: &T) {}

/// The futures of instrumented `#[async_trait]` methods are `Send`. Their type says so; what
/// this proves is that their bodies compile, since the boxed async block must coerce to
/// `dyn Future + Send`.
const _: fn(&Books) = |books| {
    assert_send(&books.balance("a"));
    assert_send(&books.statement("a"));
};

#[test]
fn async_trait_methods_are_async_points() {
    for name in ["futures.ledger.balance", "futures.ledger.statement"] {
        let point = entry(name);
        assert!(point.is_async, "{name}");
        assert!(
            point.impacts.latency && point.impacts.error && point.impacts.panic,
            "{name}"
        );
    }
    assert_eq!(
        entry("futures.ledger.balance").facet_keys,
        ["account", "books", "copies"]
    );
}

#[test]
fn an_async_trait_method_takes_an_error_through_from_fault() {
    let books = Books {
        name: "main".to_owned(),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();

    let guard = start(
        Attack::builder("futures-ledger-error", "futures.ledger.balance")
            .facet("account", "acct-9")
            .facet("books", "main")
            .error("ledger offline")
            .build()
            .unwrap(),
    );
    assert_eq!(
        runtime.block_on(books.balance("acct-9")),
        Err(LedgerError::Injected("ledger offline".to_owned()))
    );
    assert_eq!(runtime.block_on(books.balance("acct-1")), Ok(6));
    drop(guard);
    assert_eq!(runtime.block_on(books.balance("acct-9")), Ok(6));

    // The provided method of the trait, whose facet reads its parameter.
    let _guard = start(
        Attack::builder("futures-statement-error", "futures.ledger.statement")
            .facet("account", "acct-9")
            .error("statements paused")
            .build()
            .unwrap(),
    );
    assert_eq!(
        runtime.block_on(books.statement("acct-9")),
        Err(LedgerError::Injected("statements paused".to_owned()))
    );
    assert_eq!(
        runtime.block_on(books.statement("acct-1")),
        Ok("acct-1: 6".to_owned())
    );
}

#[test]
fn an_async_trait_method_waits_without_blocking_a_current_thread_runtime() {
    let id = "futures-ledger-latency";
    let _guard = start(
        Attack::builder(id, "futures.ledger.balance")
            .facet("account", "acct-slow")
            .latency(INJECTED)
            .build()
            .unwrap(),
    );
    let (finished, outcome) = mpsc::channel();

    // The runtime runs on its own thread so that a delay that blocked it would make the
    // test fail at its limit instead of hanging.
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let events: Arc<Mutex<Vec<&'static str>>> = Arc::default();
        let result = runtime.block_on({
            let events = Arc::clone(&events);
            async move {
                // `tokio::spawn` takes only `Send` futures.
                let delayed = tokio::spawn({
                    let events = Arc::clone(&events);
                    async move {
                        let books = Books {
                            name: "main".to_owned(),
                        };
                        let balance = books.balance("acct-slow").await;
                        events.lock().unwrap().push("delayed call returned");
                        balance
                    }
                });
                // The delayed task is polled while this one yields; its hit is counted
                // before it starts waiting.
                let mut yields = 0;
                while hits(id) == 0 {
                    assert!(yields < 1_000_000, "the delayed task never ran");
                    yields += 1;
                    tokio::task::yield_now().await;
                }
                events.lock().unwrap().push("other task ran");
                assert!(fault_runtime::halt(id));
                events.lock().unwrap().push("attack halted");
                delayed.await.unwrap()
            }
        });
        let events = events.lock().unwrap().clone();
        let _ = finished.send((result, events));
    });

    let (result, events) = outcome
        .recv_timeout(LIMIT)
        .expect("the async-trait call was not released by the halt");
    assert_eq!(result, Ok(9));
    assert_eq!(
        events,
        ["other task ran", "attack halted", "delayed call returned"]
    );
}
