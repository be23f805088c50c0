//! `FAULT_INJECTION=off` engages the kill switch at start-up: the environment's attacks do
//! not start, and neither do attacks started later.
//!
//! The environment is read once per process, so this file holds one test.
#![cfg(feature = "enabled")]

use fault_runtime::{Attack, fault_point};

#[fault_point(name = "env.off.charge", facets(customer))]
fn charge(customer: &str) -> Result<usize, String> {
    Ok(customer.len())
}

#[test]
fn fault_injection_off_refuses_every_attack() {
    // SAFETY: this is the process's only test, and no other thread runs yet.
    unsafe {
        std::env::set_var("FAULT_INJECTION", "off");
        std::env::set_var(
            "FAULT_ATTACKS",
            "[[attack]]\nid = \"env-off-inline\"\npoint = \"env.off.charge\"\nerror = \"x\"\n",
        );
    }

    assert_eq!(charge("c-42"), Ok(4));
    assert!(fault_runtime::kill_switch_engaged());
    assert!(fault_runtime::attacks().is_empty());

    // The environment's attacks were refused, and the refusal is reported.
    let errors = fault_runtime::source_errors();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].origin(), "FAULT_ATTACKS");
    assert!(
        errors[0].to_string().contains("kill switch"),
        "{}",
        errors[0]
    );

    let attack = Attack::builder("env-off-api", "env.off.charge")
        .error("x")
        .build()
        .unwrap();
    let error = fault_runtime::start(attack).unwrap_err();
    assert!(error.reason().contains("kill switch"), "{error}");
    let error = fault_runtime::start_toml(
        "[[attack]]\nid = \"env-off-text\"\npoint = \"env.off.charge\"\nerror = \"x\"\n",
    )
    .unwrap_err();
    assert!(error.to_string().contains("kill switch"), "{error}");

    assert!(fault_runtime::attacks().is_empty());
    assert_eq!(charge("c-42"), Ok(4));
}
