//! A point's facet expressions are evaluated only when an attack aims at the point: never
//! on the idle path, not even on the first call in the process, which is the one that
//! reads the environment's attacks.
//!
//! The first call of a point in the process matters here, so this file holds one test.
#![cfg(feature = "enabled")]

use std::sync::atomic::{AtomicUsize, Ordering};

use fault_runtime::{Attack, fault_point};

static EVALUATIONS: AtomicUsize = AtomicUsize::new(0);

/// A facet value that counts how often it is computed.
fn customer_of(account: u32) -> String {
    EVALUATIONS.fetch_add(1, Ordering::Relaxed);
    format!("c-{account}")
}

#[fault_point(name = "idle.charge", facets(customer = customer_of(account)))]
fn charge(account: u32) -> Result<u32, String> {
    Ok(account)
}

#[test]
fn facet_expressions_are_not_evaluated_while_no_attack_aims_at_the_point() {
    for account in 0..10 {
        assert_eq!(charge(account), Ok(account));
    }
    assert_eq!(EVALUATIONS.load(Ordering::Relaxed), 0);

    let guard = fault_runtime::start(
        Attack::builder("idle-charge", "idle.charge")
            .facet("customer", "c-3")
            .error("drill")
            .build()
            .unwrap(),
    )
    .unwrap();
    assert!(charge(3).is_err());
    assert!(charge(4).is_ok());
    assert_eq!(EVALUATIONS.load(Ordering::Relaxed), 2);

    drop(guard);
    assert!(charge(3).is_ok());
    assert_eq!(EVALUATIONS.load(Ordering::Relaxed), 2);
}
