//! `FAULT_ATTACKS` holding TOML: its attacks start on the first use of the runtime, here
//! the first call of a point.
//!
//! The environment is read once per process, so this file holds one test.
#![cfg(feature = "enabled")]

use fault_runtime::{AttackState, Fault, fault_point};

#[derive(Debug)]
struct Injected(Fault);

impl From<Fault> for Injected {
    fn from(fault: Fault) -> Self {
        Injected(fault)
    }
}

#[fault_point(name = "env.inline.charge", facets(customer))]
fn charge(customer: &str) -> Result<u32, Injected> {
    Ok(customer.len() as u32)
}

#[test]
fn inline_toml_attacks_start_on_first_use() {
    // SAFETY: this is the process's only test, and no other thread runs yet.
    unsafe {
        std::env::set_var(
            "FAULT_ATTACKS",
            r#"
            [[attack]]
            id = "env-inline-toml"
            point = "env.inline.charge"
            facets = { customer = "c-42" }
            error = "from the environment"
            "#,
        );
    }

    let Injected(fault) = charge("c-42").unwrap_err();
    assert_eq!(fault.attack_id(), "env-inline-toml");
    assert_eq!(fault.message(), "from the environment");
    assert_eq!(charge("c-7").unwrap(), 3);

    let attacks = fault_runtime::attacks();
    assert_eq!(attacks.len(), 1, "{attacks:?}");
    assert_eq!(attacks[0].id, "env-inline-toml");
    assert_eq!(attacks[0].origin, "FAULT_ATTACKS");
    assert_eq!(attacks[0].state, AttackState::Running);
    assert_eq!(attacks[0].hits, 1);
    assert!(fault_runtime::source_errors().is_empty());
    assert!(!fault_runtime::kill_switch_engaged());

    // Environment attacks have no guard; they are halted by id like any other.
    assert!(fault_runtime::halt("env-inline-toml"));
    assert!(charge("c-42").is_ok());
}
