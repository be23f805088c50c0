//! `FAULT_LOG_FACETS=on` makes impact events carry the facets of the calls they hit.
//!
//! The environment is read once per process, so this file holds one test.
#![cfg(feature = "enabled")]

use fault_runtime::{Attack, fault_point};

mod support;

use support::logs::Collector;
use support::start;

#[fault_point(name = "env.log_facets.charge", facets(customer))]
fn charge(customer: &str) -> Result<(), String> {
    let _ = customer;
    Ok(())
}

#[test]
fn fault_log_facets_on_puts_the_facets_in_impact_events() {
    // SAFETY: this is the process's only test, and no other thread runs yet.
    unsafe {
        std::env::set_var("FAULT_LOG_FACETS", "on");
    }
    fault_runtime::init().unwrap();

    let logs = Collector::default();
    logs.watch(|| {
        let _guard = start(
            Attack::builder("env-log-facets", "env.log_facets.charge")
                .facet("customer", "c-42")
                .error("drill")
                .build()
                .unwrap(),
        );
        logs.take();
        assert!(charge("c-42").is_err());
        let events = logs.take();
        assert_eq!(events.len(), 1, "{events:#?}");
        assert_eq!(events[0].field("facets"), Some(r#"customer="c-42""#));

        // The API overrides the environment.
        fault_runtime::set_log_facet_values(false);
        logs.take();
        assert!(charge("c-42").is_err());
        assert_eq!(logs.take()[0].field("facets"), None);
    });
}
