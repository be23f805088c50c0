//! `FAULT_ADMIN_ADDR` and `FAULT_ADMIN_TOKEN` start the admin endpoint when the environment
//! is read, and it serves for the rest of the process.
//!
//! The environment is read once per process, so this file holds one test.
#![cfg(feature = "admin")]

mod support;

use fault_runtime::fault_point;
use hyper::StatusCode;
use support::admin::{AdminClient, TOKEN, run};

#[fault_point(name = "admin.env.charge")]
fn charge() -> Result<(), fault_runtime::Fault> {
    Ok(())
}

#[test]
fn the_environment_starts_the_endpoint_on_init() {
    // SAFETY: this is the process's only test, and no other thread runs yet.
    unsafe {
        std::env::set_var("FAULT_ADMIN_ADDR", "127.0.0.1:0");
        std::env::set_var("FAULT_ADMIN_TOKEN", TOKEN);
        std::env::remove_var("FAULT_ATTACKS");
        std::env::remove_var("FAULT_ATTACKS_FILE");
        std::env::remove_var("FAULT_INJECTION");
    }
    assert_eq!(fault_runtime::admin::environment_server_addr(), None);
    fault_runtime::init().expect("the endpoint starts");
    let addr = fault_runtime::admin::environment_server_addr().expect("the endpoint runs");
    assert!(addr.ip().is_loopback() && addr.port() != 0, "{addr}");

    run(0, async move {
        let client = AdminClient::new(addr, "");
        let attack = r#"{"point": "admin.env.charge", "error": "from the endpoint"}"#;
        let started = client.put("/attacks/env-admin", attack).await;
        assert_eq!(started.status, StatusCode::CREATED, "{started:?}");
        assert_eq!(charge().unwrap_err().message(), "from the endpoint");
        let refused = client
            .send_as(hyper::Method::GET, "/points", None, None)
            .await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    });
    assert!(fault_runtime::source_errors().is_empty());
}
