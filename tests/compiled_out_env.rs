//! With the `enabled` feature off, `init` reports attack variables that cannot take effect,
//! so an operator who forgot to build with the feature is told.
//!
//! The environment is process-wide, so this file holds one test.
#![cfg(not(feature = "enabled"))]

#[test]
fn init_reports_attack_variables_that_cannot_take_effect() {
    // SAFETY: this is the process's only test, and no other thread runs yet.
    unsafe {
        std::env::set_var(
            "FAULT_ATTACKS",
            "[[attack]]\nid = \"a\"\npoint = \"p\"\nerror = \"x\"\n",
        );
        std::env::remove_var("FAULT_ATTACKS_FILE");
        std::env::remove_var("FAULT_INJECTION");
    }
    let refused = fault_runtime::init().unwrap_err();
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0].origin(), "FAULT_ATTACKS");
    assert!(
        refused[0].to_string().contains("compiled out"),
        "{}",
        refused[0]
    );
}
