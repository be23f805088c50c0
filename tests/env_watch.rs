//! `FAULT_ATTACKS_FILE` is watched: a change to the file takes effect without a restart,
//! polled every `FAULT_ATTACKS_POLL`.
//!
//! The environment is read once per process, so this file holds one test.
#![cfg(feature = "enabled")]

use std::time::{Duration, Instant};

use fault_runtime::{AttackState, fault_point};

#[fault_point(name = "env.watch.charge", facets(customer))]
fn charge(customer: &str) -> Result<usize, String> {
    Ok(customer.len())
}

fn running() -> Vec<String> {
    fault_runtime::attacks()
        .into_iter()
        .filter(|a| a.state == AttackState::Running)
        .map(|a| a.id)
        .collect()
}

#[test]
fn the_environment_file_is_watched_at_the_given_interval() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("drill.toml");
    std::fs::write(
        &path,
        "[[attack]]\nid = \"env-watch-c1\"\npoint = \"env.watch.charge\"\n\
         facets = { customer = [\"c-1\"] }\nerror = \"first\"\n",
    )
    .unwrap();
    // SAFETY: this is the process's only test, and no other thread runs yet.
    unsafe {
        std::env::set_var("FAULT_ATTACKS_FILE", &path);
        std::env::set_var("FAULT_ATTACKS_POLL", "20ms");
    }
    assert_eq!(fault_runtime::init(), Ok(()));
    assert_eq!(running(), ["env-watch-c1"]);
    assert_eq!(charge("c-1"), Err("first".to_owned()));

    let watched = fault_runtime::watched_files();
    assert_eq!(watched.len(), 1);
    assert_eq!(watched[0].poll, Duration::from_millis(20));
    assert_eq!(
        watched[0].origin,
        format!("FAULT_ATTACKS_FILE={}", path.display())
    );

    let next = dir.path().join("next.toml");
    std::fs::write(
        &next,
        "[[attack]]\nid = \"env-watch-c2\"\npoint = \"env.watch.charge\"\n\
         facets = { customer = [\"c-2\"] }\nerror = \"second\"\n",
    )
    .unwrap();
    std::fs::rename(&next, &path).unwrap();
    // 10 s bounds a hung watch; it is not a speed requirement.
    let limit = Instant::now() + Duration::from_secs(10);
    while running() != ["env-watch-c2"] {
        assert!(
            Instant::now() < limit,
            "the change was not applied: {:?}",
            running()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(charge("c-1"), Ok(3));
    assert_eq!(charge("c-2"), Err("second".to_owned()));
}
