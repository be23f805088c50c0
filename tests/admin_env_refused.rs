//! An admin endpoint the environment asks for but cannot start is an environment error:
//! `init` returns it, `source_errors` keeps it, and the process goes on without it.
//!
//! The environment is read once per process, so this file holds one test.
#![cfg(feature = "admin")]

use fault_runtime::{Attack, fault_point};

#[fault_point(name = "admin.env_refused.charge")]
fn charge() -> Result<(), fault_runtime::Fault> {
    Ok(())
}

#[test]
fn a_short_token_is_an_environment_error_and_the_process_goes_on() {
    // SAFETY: this is the process's only test, and no other thread runs yet.
    unsafe {
        std::env::set_var("FAULT_ADMIN_ADDR", "127.0.0.1:0");
        std::env::set_var("FAULT_ADMIN_TOKEN", "too-short");
        std::env::remove_var("FAULT_ATTACKS");
        std::env::remove_var("FAULT_ATTACKS_FILE");
        std::env::remove_var("FAULT_INJECTION");
    }
    let refused = fault_runtime::init().unwrap_err();
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0].origin(), "FAULT_ADMIN_ADDR");
    let text = refused[0].to_string();
    assert!(text.contains("FAULT_ADMIN_TOKEN"), "{text}");
    assert!(
        text.contains("9 bytes") && text.contains("at least 16"),
        "{text}"
    );
    assert!(
        !text.contains("too-short"),
        "the token is never shown: {text}"
    );
    assert_eq!(fault_runtime::source_errors(), refused);
    assert_eq!(fault_runtime::admin::environment_server_addr(), None);

    // Everything else works as usual.
    let guard = fault_runtime::start(
        Attack::builder("env-refused", "admin.env_refused.charge")
            .error("still injected")
            .build()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(charge().unwrap_err().message(), "still injected");
    drop(guard);
    charge().unwrap();
}
