//! A `FAULT_ATTACKS` value with a bad attack applies none of its attacks, and the refusal
//! is reported.
//!
//! The environment is read once per process, so this file holds one test.
#![cfg(feature = "enabled")]

use fault_runtime::fault_point;

#[fault_point(name = "env.bad_attacks.good", facets(customer))]
fn good(customer: &str) -> Result<usize, String> {
    Ok(customer.len())
}

#[fault_point(name = "env.bad_attacks.bad")]
fn bad() -> Result<(), String> {
    Ok(())
}

#[test]
fn a_bad_fault_attacks_value_applies_none_of_its_attacks() {
    // SAFETY: this is the process's only test, and no other thread runs yet.
    unsafe {
        std::env::set_var(
            "FAULT_ATTACKS",
            r#"
            [[attack]]
            id = "env-bad-good"
            point = "env.bad_attacks.good"
            facets = { customer = "c-42" }
            error = "x"

            [[attack]]
            id = "env-bad-bad"
            point = "env.bad_attacks.bad"
            error = "y"
            percent = 150
            "#,
        );
    }

    assert_eq!(good("c-42"), Ok(4));
    assert!(bad().is_ok());
    assert!(fault_runtime::attacks().is_empty());
    assert!(!fault_runtime::kill_switch_engaged());

    let errors = fault_runtime::source_errors();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].origin(), "FAULT_ATTACKS");
    let problem = &errors[0].problems()[0];
    assert_eq!(problem.attack_id(), Some("env-bad-bad"));
    assert_eq!(problem.field(), Some("percent"));
    assert_eq!(
        problem.line(),
        Some(12),
        "the line of the bad field, `percent`"
    );
}
