//! The kill switch and a watched file: engaging it halts the file's attacks, a version
//! written while it is engaged is refused, and releasing it starts nothing by itself.
//!
//! The kill switch is global, so this file holds one test.
#![cfg(feature = "enabled")]

use std::time::{Duration, Instant};

use fault_runtime::{AttackState, WatchOutcome, fault_point};

#[fault_point(name = "watch.kill.charge")]
fn charge() -> Result<(), String> {
    Ok(())
}

fn running() -> usize {
    fault_runtime::attacks()
        .iter()
        .filter(|a| a.state == AttackState::Running)
        .count()
}

/// 10 s bounds a hung watch; it is not a speed requirement.
fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let limit = Instant::now() + Duration::from_secs(10);
    while !condition() {
        assert!(Instant::now() < limit, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn the_kill_switch_halts_a_watched_file_and_refuses_its_new_versions() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("drill.toml");
    let attack = |message: &str| {
        format!(
            "[[attack]]\nid = \"kill-charge\"\npoint = \"watch.kill.charge\"\nerror = \"{message}\"\n"
        )
    };
    std::fs::write(&path, attack("one")).unwrap();
    let watch = fault_runtime::watch_file(&path, Duration::from_millis(20)).unwrap();
    assert_eq!(charge(), Err("one".to_owned()));

    fault_runtime::set_kill_switch(true);
    assert_eq!(running(), 0);
    assert!(charge().is_ok());

    let next = dir.path().join("next.toml");
    std::fs::write(&next, attack("two")).unwrap();
    std::fs::rename(&next, &path).unwrap();
    wait_until("the new version is refused", || {
        matches!(&watch.status().unwrap().outcome,
            WatchOutcome::Refused(e) if e.to_string().contains("kill switch"))
    });
    assert_eq!(running(), 0);

    fault_runtime::set_kill_switch(false);
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(
        running(),
        0,
        "releasing the switch starts nothing by itself"
    );
    assert!(charge().is_ok());

    std::fs::write(&next, attack("three")).unwrap();
    std::fs::rename(&next, &path).unwrap();
    wait_until("the next version applies", || running() == 1);
    assert_eq!(charge(), Err("three".to_owned()));
}
