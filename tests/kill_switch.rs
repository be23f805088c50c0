//! The kill switch halts every attack at once, releases the delays being served, and
//! refuses new attacks until it is released.
//!
//! The switch is global, so this file holds one test.
#![cfg(feature = "enabled")]

use std::sync::mpsc;
use std::time::{Duration, Instant};

use fault_runtime::{Attack, AttackState, fault_point};

#[fault_point(name = "kill.charge")]
fn charge() -> Result<(), String> {
    Ok(())
}

#[fault_point(name = "kill.slow")]
fn slow() -> u32 {
    7
}

fn state_of(id: &str) -> AttackState {
    fault_runtime::attacks()
        .into_iter()
        .find(|a| a.id == id)
        .unwrap_or_else(|| panic!("attack {id} is listed"))
        .state
}

#[test]
fn the_kill_switch_halts_everything_and_refuses_new_attacks() {
    let errors = fault_runtime::start(
        Attack::builder("kill-errors", "kill.charge")
            .error("x")
            .build()
            .unwrap(),
    )
    .unwrap();
    // 60 s, far beyond the 10 s limit below: only the switch can end it in time.
    fault_runtime::start(
        Attack::builder("kill-latency", "kill.slow")
            .latency(Duration::from_secs(60))
            .build()
            .unwrap(),
    )
    .unwrap()
    .detach();
    assert!(charge().is_err());
    assert!(!fault_runtime::kill_switch_engaged());

    let (finished, outcome) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = finished.send(slow());
    });
    let limit = Instant::now() + Duration::from_secs(10);
    while fault_runtime::attacks()
        .iter()
        .any(|a| a.id == "kill-latency" && a.hits == 0)
    {
        assert!(Instant::now() < limit, "the delayed call never started");
        std::thread::sleep(Duration::from_millis(1));
    }

    fault_runtime::set_kill_switch(true);
    assert!(fault_runtime::kill_switch_engaged());
    assert_eq!(
        outcome.recv_timeout(Duration::from_secs(10)),
        Ok(7),
        "the kill switch did not release the delayed call"
    );
    assert_eq!(state_of("kill-errors"), AttackState::Halted);
    assert_eq!(state_of("kill-latency"), AttackState::Halted);
    assert!(charge().is_ok());
    assert_eq!(slow(), 7);
    assert!(!errors.halt(), "the guard's attack was already halted");

    let refused = Attack::builder("kill-refused", "kill.charge")
        .error("x")
        .build()
        .unwrap();
    let error = fault_runtime::start(refused.clone()).unwrap_err();
    assert!(error.reason().contains("kill switch"), "{error}");
    let error = fault_runtime::start_toml(
        "[[attack]]\nid = \"kill-refused-text\"\npoint = \"kill.charge\"\nerror = \"x\"\n",
    )
    .unwrap_err();
    assert!(error.to_string().contains("kill switch"), "{error}");
    assert!(
        fault_runtime::attacks()
            .iter()
            .all(|a| a.state != AttackState::Running)
    );
    assert!(charge().is_ok());

    fault_runtime::set_kill_switch(false);
    assert!(!fault_runtime::kill_switch_engaged());
    let guard = fault_runtime::start(refused).expect("released, the switch lets attacks start");
    assert!(charge().is_err());
    drop(guard);
}
