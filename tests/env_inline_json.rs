//! `FAULT_ATTACKS` holding JSON: its attacks start on the first use of the runtime, here
//! an API call.
//!
//! The environment is read once per process, so this file holds one test.
#![cfg(feature = "enabled")]

use fault_runtime::{AttackState, fault_point};

#[fault_point(name = "env.json.lookup", facets(country))]
fn lookup(country: &str) -> Option<u32> {
    Some(country.len() as u32)
}

#[test]
fn inline_json_attacks_start_on_first_use() {
    // SAFETY: this is the process's only test, and no other thread runs yet.
    unsafe {
        std::env::set_var(
            "FAULT_ATTACKS",
            r#"  {"attack": [{"id": "env-inline-json", "point": "env.json.lookup",
                 "facets": {"country": ["NL", "BE"]}, "error": "from JSON"}]}"#,
        );
    }

    let attacks = fault_runtime::attacks();
    assert_eq!(attacks.len(), 1, "{attacks:?}");
    assert_eq!(attacks[0].id, "env-inline-json");
    assert_eq!(attacks[0].origin, "FAULT_ATTACKS");
    assert_eq!(attacks[0].state, AttackState::Running);
    assert!(fault_runtime::source_errors().is_empty());

    assert_eq!(lookup("NL"), None);
    assert_eq!(lookup("BE"), None);
    assert_eq!(lookup("DE"), Some(2));
    let status = &fault_runtime::attacks()[0];
    assert_eq!((status.matched, status.hits), (2, 2));
}
