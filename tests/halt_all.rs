//! `halt_all` halts every running attack, whatever started it, and new attacks may start
//! afterwards.
//!
//! It is global, so this file holds one test.
#![cfg(feature = "enabled")]

use std::sync::mpsc;
use std::time::{Duration, Instant};

use fault_runtime::{Attack, AttackState, fault_point};

fault_runtime::context_facets!(customer);

#[fault_point(name = "halt_all.a")]
fn point_a() -> Result<(), String> {
    Ok(())
}

#[fault_point(name = "halt_all.b")]
fn point_b() -> Option<()> {
    Some(())
}

#[fault_point(name = "halt_all.slow")]
fn slow() -> u8 {
    3
}

fn state_of(id: &str) -> AttackState {
    fault_runtime::attacks()
        .into_iter()
        .find(|a| a.id == id)
        .unwrap_or_else(|| panic!("attack {id} is listed"))
        .state
}

#[test]
fn halt_all_halts_every_running_attack() {
    let guard = fault_runtime::start(
        Attack::builder("halt-all-a", "halt_all.a")
            .error("x")
            .build()
            .unwrap(),
    )
    .unwrap();
    let text_guards = fault_runtime::start_toml(
        r#"
        [[attack]]
        id = "halt-all-b"
        point = "halt_all.b"
        error = "y"

        [[attack]]
        id = "halt-all-b-dry"
        point = "halt_all.*"
        facets = { customer = "c-1" }
        latency = "1ms"
        dry_run = true
        "#,
    )
    .unwrap();
    fault_runtime::start(
        Attack::builder("halt-all-slow", "halt_all.slow")
            .latency(Duration::from_secs(60))
            .build()
            .unwrap(),
    )
    .unwrap()
    .detach();
    assert!(point_a().is_err());
    assert!(point_b().is_none());

    let (finished, outcome) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = finished.send(slow());
    });
    let limit = Instant::now() + Duration::from_secs(10);
    while fault_runtime::attacks()
        .iter()
        .any(|a| a.id == "halt-all-slow" && a.hits == 0)
    {
        assert!(Instant::now() < limit, "the delayed call never started");
        std::thread::sleep(Duration::from_millis(1));
    }

    assert_eq!(fault_runtime::halt_all(), 4);
    assert_eq!(
        outcome.recv_timeout(Duration::from_secs(10)),
        Ok(3),
        "halt_all did not release the delayed call"
    );
    for id in [
        "halt-all-a",
        "halt-all-b",
        "halt-all-b-dry",
        "halt-all-slow",
    ] {
        assert_eq!(state_of(id), AttackState::Halted, "{id}");
    }
    assert!(point_a().is_ok());
    assert!(point_b().is_some());
    assert_eq!(fault_runtime::halt_all(), 0);
    assert!(!guard.halt());
    drop(text_guards);

    // halt_all is not the kill switch: new attacks start.
    assert!(!fault_runtime::kill_switch_engaged());
    let again = fault_runtime::start(
        Attack::builder("halt-all-again", "halt_all.a")
            .error("x")
            .build()
            .unwrap(),
    )
    .unwrap();
    assert!(point_a().is_err());
    assert_eq!(fault_runtime::halt_all(), 1);
    assert!(point_a().is_ok());
    drop(again);
}
