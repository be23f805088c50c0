//! Helpers shared by the integration tests. Each test file is a crate of its own and uses
//! the helpers it needs.
#![allow(dead_code, reason = "each test file uses only some of these helpers")]

use std::future::Future;

#[cfg(feature = "admin")]
pub mod admin;
#[cfg(feature = "tower")]
pub mod layer;
pub mod logs;

use fault_runtime::{Attack, AttackGuard};

/// Starts an attack that the test expects to be accepted.
pub fn start(attack: Attack) -> AttackGuard {
    fault_runtime::start(attack).expect("the attack starts")
}

/// Starts an attack that makes every call of `point` fail with the message "injected".
pub fn error_attack(id: &str, point: &str) -> AttackGuard {
    start(
        Attack::builder(id, point)
            .error("injected")
            .build()
            .unwrap(),
    )
}

/// Runs a future to completion on a current-thread tokio runtime.
pub fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(future)
}
