//! A `FAULT_INJECTION` value other than `on` or `off` is reported, and counts as `off`.
//!
//! The environment is read once per process, so this file holds one test.
#![cfg(feature = "enabled")]

use fault_runtime::{Attack, fault_point};

#[fault_point(name = "env.bad_value.charge")]
fn charge() -> Result<(), String> {
    Ok(())
}

#[test]
fn an_unknown_fault_injection_value_is_reported_and_counts_as_off() {
    // SAFETY: this is the process's only test, and no other thread runs yet.
    unsafe {
        std::env::set_var("FAULT_INJECTION", "false");
    }

    let refused = fault_runtime::init().unwrap_err();
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0].origin(), "FAULT_INJECTION");
    assert!(fault_runtime::kill_switch_engaged());
    let errors = fault_runtime::source_errors();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].origin(), "FAULT_INJECTION");
    let shown = errors[0].to_string();
    assert!(shown.contains("\"false\""), "{shown}");
    assert!(shown.contains("`off`"), "{shown}");

    let attack = Attack::builder("env-bad-value", "env.bad_value.charge")
        .error("x")
        .build()
        .unwrap();
    let error = fault_runtime::start(attack).unwrap_err();
    assert!(error.reason().contains("kill switch"), "{error}");
    assert!(fault_runtime::attacks().is_empty());
    assert!(charge().is_ok());
}
