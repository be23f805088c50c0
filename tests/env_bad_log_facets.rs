//! A `FAULT_LOG_FACETS` value other than `on` or `off` is reported, and counts as `off`.
//!
//! The environment is read once per process, so this file holds one test.
#![cfg(feature = "enabled")]

use fault_runtime::{Attack, fault_point};

mod support;

use support::logs::Collector;
use support::start;

#[fault_point(name = "env.bad_log_facets.charge", facets(customer))]
fn charge(customer: &str) -> Result<(), String> {
    let _ = customer;
    Ok(())
}

#[test]
fn an_unknown_fault_log_facets_value_is_reported_and_counts_as_off() {
    // SAFETY: this is the process's only test, and no other thread runs yet.
    unsafe {
        std::env::set_var("FAULT_LOG_FACETS", "yes");
    }
    let logs = Collector::default();
    let refused = logs.watch(|| fault_runtime::init().unwrap_err());
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0].origin(), "FAULT_LOG_FACETS");
    let shown = refused[0].to_string();
    assert!(shown.contains("\"yes\""), "{shown}");
    assert!(shown.contains("not logged"), "{shown}");
    let events = logs.take();
    assert_eq!(events.len(), 1, "the refusal is logged once: {events:#?}");
    assert_eq!(events[0].level, tracing::Level::ERROR);
    assert!(
        !fault_runtime::kill_switch_engaged(),
        "injection itself goes on"
    );

    logs.watch(|| {
        let _guard = start(
            Attack::builder("env-bad-log-facets", "env.bad_log_facets.charge")
                .facet("customer", "c-42")
                .error("drill")
                .build()
                .unwrap(),
        );
        logs.take();
        assert!(charge("c-42").is_err());
        let events = logs.take();
        assert_eq!(events.len(), 1, "{events:#?}");
        assert_eq!(events[0].field("facets"), None);
    });
}
