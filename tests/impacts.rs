//! Impacts: what a hit call experiences, through the function's own types.
#![cfg(feature = "enabled")]

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

use fault_runtime::{Attack, Fault, fault_point};

mod support;

use support::start;

fault_runtime::context_facets!(customer);

#[derive(Debug)]
struct ChargeError(Fault);

impl From<Fault> for ChargeError {
    fn from(fault: Fault) -> Self {
        ChargeError(fault)
    }
}

#[fault_point(name = "impacts.from_fault", facets(customer))]
fn charge(customer: &str, cents: u64) -> Result<u64, ChargeError> {
    let _ = customer;
    Ok(cents)
}

#[test]
fn an_error_goes_through_from_fault_and_carries_its_origin() {
    let guard = start(
        Attack::builder("impacts-from-fault", "impacts.from_fault")
            .facet("customer", "c-42")
            .error("card network timeout")
            .build()
            .unwrap(),
    );
    let ChargeError(fault) = charge("c-42", 100).unwrap_err();
    assert_eq!(fault.message(), "card network timeout");
    assert_eq!(fault.to_string(), "card network timeout");
    assert_eq!(fault.point(), "impacts.from_fault");
    assert_eq!(fault.attack_id(), "impacts-from-fault");
    assert_eq!(charge("c-7", 100).unwrap(), 100);
    assert_eq!(guard.status().hits, 1);
}

#[derive(Debug, PartialEq)]
enum LookupError {
    Injected { message: String, attack: String },
}

#[fault_point(
    name = "impacts.error_closure",
    error = |fault| LookupError::Injected {
        message: fault.message().to_owned(),
        attack: fault.attack_id().to_owned(),
    }
)]
fn lookup(key: u32) -> Result<u32, LookupError> {
    Ok(key * 2)
}

#[test]
fn an_error_goes_through_the_error_argument() {
    let _guard = start(
        Attack::builder("impacts-closure", "impacts.error_closure")
            .error("lookup refused")
            .build()
            .unwrap(),
    );
    assert_eq!(
        lookup(4),
        Err(LookupError::Injected {
            message: "lookup refused".into(),
            attack: "impacts-closure".into(),
        })
    );
}

#[fault_point(name = "impacts.option")]
fn find(key: u32) -> Option<u32> {
    Some(key + 1)
}

#[test]
fn an_error_makes_an_option_function_return_none() {
    assert_eq!(find(1), Some(2));
    let guard = start(
        Attack::builder("impacts-option", "impacts.option")
            .error("gone")
            .build()
            .unwrap(),
    );
    assert_eq!(find(1), None);
    drop(guard);
    assert_eq!(find(1), Some(2));
}

#[fault_point(name = "impacts.panic")]
fn render() -> String {
    "page".to_owned()
}

#[test]
fn a_panic_impact_panics_with_its_message() {
    let guard = start(
        Attack::builder("impacts-panic", "impacts.panic")
            .panic("drill: renderer crashed")
            .build()
            .unwrap(),
    );
    let payload = catch_unwind(render).expect_err("the call panics");
    let message = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied());
    assert_eq!(message, Some("drill: renderer crashed"));
    assert_eq!(guard.status().hits, 1);
    drop(guard);
    assert_eq!(render(), "page");
}

#[fault_point(name = "impacts.latency", facets(customer))]
fn slow_total(customer: &str, a: u32, b: u32) -> u32 {
    let _ = customer;
    a + b
}

#[test]
fn latency_delays_a_sync_call_that_still_returns_its_value() {
    let guard = start(
        Attack::builder("impacts-latency", "impacts.latency")
            .facet("customer", "c-42")
            .latency(Duration::from_millis(20))
            .build()
            .unwrap(),
    );
    assert_eq!(slow_total("c-42", 2, 3), 5);
    assert_eq!(slow_total("c-7", 2, 3), 5);
    let status = guard.status();
    assert_eq!((status.matched, status.hits), (1, 1));
}

#[fault_point(name = "impacts.oldest")]
fn oldest() -> Result<(), ChargeError> {
    Ok(())
}

#[test]
fn of_several_errors_the_oldest_attack_wins() {
    let older = start(
        Attack::builder("impacts-oldest-a", "impacts.oldest")
            .error("from a")
            .build()
            .unwrap(),
    );
    let newer = start(
        Attack::builder("impacts-oldest-b", "impacts.oldest")
            .error("from b")
            .build()
            .unwrap(),
    );
    for _ in 0..10 {
        let ChargeError(fault) = oldest().unwrap_err();
        assert_eq!(fault.attack_id(), "impacts-oldest-a");
        assert_eq!(fault.message(), "from a");
    }
    // Halting the older one lets the newer one's error through.
    drop(older);
    let ChargeError(fault) = oldest().unwrap_err();
    assert_eq!(fault.attack_id(), "impacts-oldest-b");
    drop(newer);
    assert!(oldest().is_ok());
}

#[fault_point(name = "impacts.oldest_panic")]
fn oldest_panic() -> Result<(), ChargeError> {
    Ok(())
}

#[test]
fn an_older_panic_wins_over_a_newer_error() {
    let _panics = start(
        Attack::builder("impacts-panic-first", "impacts.oldest_panic")
            .panic("older panic")
            .build()
            .unwrap(),
    );
    let _errors = start(
        Attack::builder("impacts-error-second", "impacts.oldest_panic")
            .error("newer error")
            .build()
            .unwrap(),
    );
    let payload = catch_unwind(AssertUnwindSafe(oldest_panic)).expect_err("the call panics");
    assert_eq!(
        payload.downcast_ref::<String>().map(String::as_str),
        Some("older panic")
    );
}

#[fault_point(name = "impacts.combined")]
fn combined() -> Result<u8, ChargeError> {
    Ok(9)
}

#[test]
fn latency_and_error_from_two_attacks_both_apply() {
    let latency = start(
        Attack::builder("impacts-combined-latency", "impacts.combined")
            .latency(Duration::from_millis(10))
            .build()
            .unwrap(),
    );
    let error = start(
        Attack::builder("impacts-combined-error", "impacts.combined")
            .error("slow and broken")
            .build()
            .unwrap(),
    );
    let ChargeError(fault) = combined().unwrap_err();
    assert_eq!(fault.attack_id(), "impacts-combined-error");
    assert_eq!(latency.status().hits, 1);
    assert_eq!(error.status().hits, 1);

    // The catalog counts one hit call, not one per attack.
    let point = fault_runtime::catalog()
        .into_iter()
        .find(|p| p.name == "impacts.combined")
        .unwrap();
    assert_eq!(point.hits, 1);
    assert_eq!(point.attacks, 2);
}

#[fault_point(name = "impacts.async_error", facets(customer))]
async fn charge_async(customer: &str, cents: u64) -> Result<u64, ChargeError> {
    let _ = customer;
    Ok(cents)
}

#[fault_point(name = "impacts.async_panic")]
async fn render_async() -> String {
    "page".to_owned()
}

#[test]
fn an_async_fn_takes_error_and_panic_impacts() {
    let _errors = start(
        Attack::builder("impacts-async-error", "impacts.async_error")
            .facet("customer", "c-42")
            .error("async drill")
            .build()
            .unwrap(),
    );
    let _panics = start(
        Attack::builder("impacts-async-panic", "impacts.async_panic")
            .panic("async renderer crashed")
            .build()
            .unwrap(),
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let ChargeError(fault) = runtime.block_on(charge_async("c-42", 5)).unwrap_err();
    assert_eq!(fault.attack_id(), "impacts-async-error");
    assert_eq!(fault.point(), "impacts.async_error");
    assert_eq!(runtime.block_on(charge_async("c-7", 5)).unwrap(), 5);

    let payload = catch_unwind(AssertUnwindSafe(|| runtime.block_on(render_async())))
        .expect_err("the call panics");
    assert_eq!(
        payload.downcast_ref::<String>().map(String::as_str),
        Some("async renderer crashed")
    );
}

#[fault_point(name = "impacts.superseded")]
fn superseded() -> Result<(), ChargeError> {
    Ok(())
}

#[test]
fn an_error_that_loses_to_an_older_one_is_not_counted_as_a_hit() {
    let older = start(
        Attack::builder("impacts-superseding", "impacts.superseded")
            .error("older")
            .build()
            .unwrap(),
    );
    let newer = start(
        Attack::builder("impacts-superseded", "impacts.superseded")
            .error("newer")
            .max_impacts(3)
            .build()
            .unwrap(),
    );
    for _ in 0..10 {
        let ChargeError(fault) = superseded().unwrap_err();
        assert_eq!(fault.attack_id(), "impacts-superseding");
    }
    let status = newer.status();
    assert_eq!(status.matched, 10);
    assert_eq!(
        status.hits, 0,
        "calls the newer attack did not change count as hits"
    );

    // Its budget of three impacts is intact once the older attack ends.
    drop(older);
    for _ in 0..3 {
        let ChargeError(fault) = superseded().unwrap_err();
        assert_eq!(fault.attack_id(), "impacts-superseded");
    }
    assert!(superseded().is_ok());
    assert_eq!(newer.status().hits, 3);
}
