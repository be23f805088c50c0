//! `#[fault_point]` stacked with the attributes a team puts on the same functions:
//! `#[test]`, `#[tokio::test]`, `#[tracing::instrument]` in both orders, and `#[async_trait]`
//! around methods that carry it. (`#[tokio::main]` needs `fn main`: see the ui pass cases
//! `tokio_main_outer.rs` and `tokio_main_inner.rs`.)
//!
//! Every stacked function still does what it did: the test functions run and pass as tests,
//! the instrumented ones still open their span. With the feature on, each stacked point is
//! in the catalog, and those whose impacts are settled take an error attack.
//!
//! The test functions are points themselves, and the harness runs them on its own threads
//! while the attacks below run. The attacks therefore aim at a context facet, `drill = on`,
//! set only around the calls made here, so the harness's own runs are never hit.
//!
//! The lints below are denied so that this file is also the lint check of the expansion on
//! these stacks, in both feature states.
#![deny(warnings, clippy::all, clippy::pedantic)]

use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use fault_runtime::{Attack, AttackGuard, Facets, Fault, fault_point};

mod support;

use support::block_on;

fault_runtime::context_facets!(drill);

#[derive(Debug, PartialEq)]
enum StackError {
    Invalid(String),
    /// An injected fault, with the id of the attack that injected it.
    Injected(String),
}

impl From<Fault> for StackError {
    fn from(fault: Fault) -> Self {
        StackError::Injected(fault.attack_id().to_owned())
    }
}

fn injected(attack_id: &str) -> StackError {
    StackError::Injected(attack_id.to_owned())
}

/// An error attack aimed at the calls made inside `drill()` only.
fn drill_attack(id: &str, point: &str) -> AttackGuard {
    fault_runtime::start(
        Attack::builder(id, point)
            .facet("drill", "on")
            .error("injected")
            .build()
            .unwrap(),
    )
    .expect("the attack starts")
}

/// The context the drill attacks aim at.
fn drill() -> Facets {
    Facets::new().with("drill", "on")
}

fn parse(text: &str) -> Result<u32, StackError> {
    text.parse()
        .map_err(|_| StackError::Invalid(text.to_owned()))
}

/// The point is in the catalog with the feature on; the catalog is empty with it off.
fn assert_catalogued(point: &str) {
    let found = fault_runtime::catalog()
        .iter()
        .any(|info| info.name == point);
    assert_eq!(found, fault_runtime::ENABLED, "is {point} in the catalog");
}

// ---------------------------------------------------------------------------------------
// `#[test]` and `#[tokio::test]`, in both orders
// ---------------------------------------------------------------------------------------

#[fault_point(name = "stacking.test_outer")]
#[test]
fn fault_point_over_test() -> Result<(), StackError> {
    assert_eq!(parse("21")? * 2, 42);
    Ok(())
}

#[test]
#[fault_point(name = "stacking.test_inner")]
fn test_over_fault_point() -> Result<(), StackError> {
    assert_eq!(parse("20")? + 1, 21);
    Ok(())
}

#[fault_point(name = "stacking.tokio_test_outer")]
#[tokio::test]
async fn fault_point_over_tokio_test() -> Result<(), StackError> {
    let value = tokio::spawn(async { parse("7") }).await.unwrap()?;
    assert_eq!(value, 7);
    Ok(())
}

#[tokio::test]
#[fault_point(name = "stacking.tokio_test_inner")]
async fn tokio_test_over_fault_point() -> Result<(), StackError> {
    tokio::task::yield_now().await;
    assert_eq!(parse("8")?, 8);
    Ok(())
}

#[test]
fn stacked_test_functions_take_attacks() {
    // Called here too, outside the harness: the same outcome as the harness's runs.
    assert_eq!(fault_point_over_test(), Ok(()));
    assert_eq!(test_over_fault_point(), Ok(()));
    assert_eq!(fault_point_over_tokio_test(), Ok(()));
    assert_eq!(tokio_test_over_fault_point(), Ok(()));
    if fault_runtime::ENABLED {
        let _attacks = [
            ("stacking-test-outer", "stacking.test_outer"),
            ("stacking-test-inner", "stacking.test_inner"),
            ("stacking-tokio-test-outer", "stacking.tokio_test_outer"),
            ("stacking-tokio-test-inner", "stacking.tokio_test_inner"),
        ]
        .map(|(id, point)| drill_attack(id, point));
        let drill = drill();
        assert_eq!(
            drill.scope(fault_point_over_test),
            Err(injected("stacking-test-outer"))
        );
        assert_eq!(
            drill.scope(test_over_fault_point),
            Err(injected("stacking-test-inner"))
        );
        // The outer attribute instruments the `async fn` as written: the check runs on the
        // test's runtime, on this thread, in the drill's context.
        assert_eq!(
            drill.scope(fault_point_over_tokio_test),
            Err(injected("stacking-tokio-test-outer"))
        );
        assert_eq!(
            drill.scope(tokio_test_over_fault_point),
            Err(injected("stacking-tokio-test-inner"))
        );
        // Outside the drill's context, nothing is hit.
        assert_eq!(fault_point_over_test(), Ok(()));
        assert_eq!(fault_point_over_tokio_test(), Ok(()));
    }
}

// ---------------------------------------------------------------------------------------
// `#[tracing::instrument]`, in both orders, sync and async
// ---------------------------------------------------------------------------------------

#[fault_point(name = "stacking.instrument_outer", facets(n))]
#[tracing::instrument]
fn traced_outer(n: u32) -> Result<u32, StackError> {
    n.checked_mul(2)
        .ok_or_else(|| StackError::Invalid(n.to_string()))
}

#[tracing::instrument]
#[fault_point(name = "stacking.instrument_inner", facets(n))]
fn traced_inner(n: u32) -> Result<u32, StackError> {
    n.checked_mul(3)
        .ok_or_else(|| StackError::Invalid(n.to_string()))
}

#[fault_point(name = "stacking.instrument_outer_async", facets(n))]
#[tracing::instrument]
async fn traced_outer_async(n: u32) -> Result<u32, StackError> {
    tokio::task::yield_now().await;
    n.checked_mul(4)
        .ok_or_else(|| StackError::Invalid(n.to_string()))
}

#[tracing::instrument]
#[fault_point(name = "stacking.instrument_inner_async", facets(n))]
async fn traced_inner_async(n: u32) -> Result<u32, StackError> {
    tokio::task::yield_now().await;
    n.checked_mul(5)
        .ok_or_else(|| StackError::Invalid(n.to_string()))
}

/// A subscriber that records the name of every span opened while it is the default.
#[derive(Clone, Default)]
struct SpanNames(Arc<Mutex<Vec<&'static str>>>);

impl SpanNames {
    fn take(&self) -> Vec<&'static str> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl tracing::Subscriber for SpanNames {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        let mut names = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        names.push(span.metadata().name());
        tracing::span::Id::from_u64(u64::try_from(names.len()).unwrap_or(u64::MAX))
    }

    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}

    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}

    fn event(&self, _: &tracing::Event<'_>) {}

    fn enter(&self, _: &tracing::span::Id) {}

    fn exit(&self, _: &tracing::span::Id) {}
}

/// The four instrumented functions, called once each; their results and the spans opened.
fn call_traced(n: u32) -> ([Result<u32, StackError>; 4], Vec<&'static str>) {
    let spans = SpanNames::default();
    let results = tracing::subscriber::with_default(spans.clone(), || {
        [
            traced_outer(n),
            traced_inner(n),
            block_on(traced_outer_async(n)),
            block_on(traced_inner_async(n)),
        ]
    });
    (results, spans.take())
}

#[test]
fn tracing_instrument_in_both_orders() {
    let every_span = [
        "traced_outer",
        "traced_inner",
        "traced_outer_async",
        "traced_inner_async",
    ];
    let (results, spans) = call_traced(1);
    assert_eq!(results, [Ok(2), Ok(3), Ok(4), Ok(5)]);
    assert_eq!(spans, every_span, "every function still opens its span");
    let (results, _) = call_traced(u32::MAX);
    assert!(results.iter().all(Result::is_err), "{results:?}");
    if fault_runtime::ENABLED {
        let _attacks = [
            ("stacking-instrument-outer", "stacking.instrument_outer"),
            ("stacking-instrument-inner", "stacking.instrument_inner"),
            (
                "stacking-instrument-outer-async",
                "stacking.instrument_outer_async",
            ),
            (
                "stacking-instrument-inner-async",
                "stacking.instrument_inner_async",
            ),
        ]
        .map(|(id, point)| {
            fault_runtime::start(
                Attack::builder(id, point)
                    .facet("n", "6")
                    .error("injected")
                    .build()
                    .unwrap(),
            )
            .expect("the attack starts")
        });
        let (results, _) = call_traced(6);
        assert_eq!(
            results,
            [
                Err(injected("stacking-instrument-outer")),
                Err(injected("stacking-instrument-inner")),
                Err(injected("stacking-instrument-outer-async")),
                Err(injected("stacking-instrument-inner-async")),
            ]
        );
        let (results, spans) = call_traced(1);
        assert_eq!(results, [Ok(2), Ok(3), Ok(4), Ok(5)]);
        assert_eq!(spans, every_span);
    }
}

// ---------------------------------------------------------------------------------------
// `#[async_trait]`
// ---------------------------------------------------------------------------------------

#[async_trait]
trait Inventory {
    async fn reserve(&self, sku: &str, count: u32) -> Result<u32, StackError>;

    /// A default method with the attribute, inside an `#[async_trait]` trait.
    #[fault_point(name = "stacking.async_trait_default", facets(sku))]
    async fn release(&self, sku: &str, count: u32) -> Result<u32, StackError> {
        tokio::task::yield_now().await;
        let held = self.reserve(sku, 0).await?;
        held.checked_sub(count)
            .ok_or_else(|| StackError::Invalid(sku.to_owned()))
    }
}

struct Warehouse {
    stock: u32,
}

#[async_trait]
impl Inventory for Warehouse {
    #[fault_point(name = "stacking.async_trait_impl", facets(sku, count))]
    async fn reserve(&self, sku: &str, count: u32) -> Result<u32, StackError> {
        tokio::task::yield_now().await;
        if sku.is_empty() {
            return Err(StackError::Invalid("no sku".into()));
        }
        self.stock
            .checked_sub(count)
            .ok_or_else(|| StackError::Invalid(sku.to_owned()))
    }
}

#[test]
fn async_trait_impl_and_default_methods() {
    let warehouse = Warehouse { stock: 5 };
    assert_eq!(block_on(warehouse.reserve("sku-1", 2)), Ok(3));
    assert_eq!(
        block_on(warehouse.reserve("", 2)),
        Err(StackError::Invalid("no sku".into()))
    );
    assert_eq!(block_on(warehouse.release("sku-1", 1)), Ok(4));
    assert_eq!(
        block_on(warehouse.release("sku-1", 9)),
        Err(StackError::Invalid("sku-1".into()))
    );
    let shared: Arc<dyn Inventory + Send + Sync> = Arc::new(warehouse);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    // A trait object, as `#[async_trait]` is mostly used; `spawn` needs its futures `Send`.
    let reserved = runtime.spawn(async move { shared.reserve("sku-1", 2).await });
    assert_eq!(runtime.block_on(reserved).unwrap(), Ok(3));
    assert_catalogued("stacking.async_trait_impl");
    assert_catalogued("stacking.async_trait_default");
    if fault_runtime::ENABLED {
        let catalog = fault_runtime::catalog();
        let keys = |name: &str| {
            catalog
                .iter()
                .find(|point| point.name == name)
                .map(|point| point.facet_keys.clone())
        };
        assert_eq!(
            keys("stacking.async_trait_impl"),
            Some(vec!["sku", "count"])
        );
        assert_eq!(keys("stacking.async_trait_default"), Some(vec!["sku"]));
    }
}
