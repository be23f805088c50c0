//! The compiled-out state (feature `enabled` off): annotated functions run as written and
//! the API refuses to start attacks, saying why.
#![cfg(not(feature = "enabled"))]

use fault_runtime::{Attack, Facets, fault_point};
use std::time::Duration;

#[fault_point(name = "off.charge", facets(customer))]
fn charge(customer: &str) -> Result<String, String> {
    Ok(format!("charged {customer}"))
}

#[test]
fn annotated_function_runs_as_written() {
    assert_eq!(charge("c-42").unwrap(), "charged c-42");
}

#[test]
fn attacks_are_refused_with_the_reason() {
    let attack = Attack::builder("a", "off.charge")
        .error("boom")
        .build()
        .unwrap();
    let error = fault_runtime::start(attack).unwrap_err();
    assert!(error.reason().contains("`enabled` feature"), "{error}");
    let error = fault_runtime::start_toml(
        "[[attack]]\nid = \"a\"\npoint = \"off.charge\"\nlatency = \"1s\"\n",
    )
    .unwrap_err();
    assert!(error.to_string().contains("compiled out"), "{error}");
    assert!(fault_runtime::catalog().is_empty());
    assert!(fault_runtime::attacks().is_empty());
    assert_eq!(fault_runtime::halt_all(), 0);
}

#[test]
fn facets_record_nothing() {
    let facets = Facets::new().with("customer", "c-42");
    assert_eq!(facets.get("customer"), None);
    assert_eq!(facets.scope(|| 7), 7);
    let _ = Duration::ZERO;
}
