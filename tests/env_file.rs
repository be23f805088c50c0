//! `FAULT_ATTACKS_FILE`: the attacks of the file it names start on the first use of the
//! runtime, here `init`.
//!
//! The environment is read once per process, so this file holds one test.
#![cfg(feature = "enabled")]

use std::time::Duration;

use fault_runtime::{AttackState, fault_point};

#[fault_point(name = "env.file.ship", facets(customer))]
fn ship(customer: &str) -> Result<usize, String> {
    Ok(customer.len())
}

#[fault_point(name = "env.file.track")]
fn track() -> u8 {
    1
}

#[test]
fn attacks_from_the_file_named_in_the_environment_start() {
    let path = std::env::temp_dir().join(format!(
        "fault-runtime-env-file-{}-{:?}.toml",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos()
    ));
    std::fs::write(
        &path,
        r#"
        [[attack]]
        id = "env-file-ship"
        point = "env.file.ship"
        facets = { customer = ["c-1", "c-2"] }
        error = "warehouse on fire"
        duration = "1h"

        [[attack]]
        id = "env-file-track"
        point = "env.file.*"
        latency = "1ms"
        "#,
    )
    .unwrap();
    // SAFETY: this is the process's only test, and no other thread runs yet.
    unsafe {
        std::env::set_var("FAULT_ATTACKS_FILE", &path);
    }

    let loaded = fault_runtime::init();
    assert_eq!(loaded, Ok(()));

    let origin = format!("FAULT_ATTACKS_FILE={}", path.display());
    let attacks = fault_runtime::attacks();
    let ids: Vec<&str> = attacks.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, ["env-file-ship", "env-file-track"]);
    for attack in &attacks {
        assert_eq!(attack.origin, origin);
        assert_eq!(attack.state, AttackState::Running);
    }
    assert!(attacks[0].time_left <= Duration::from_secs(3600));
    assert!(attacks[0].time_left > Duration::from_secs(3000));
    assert!(fault_runtime::source_errors().is_empty());

    assert_eq!(ship("c-2"), Err("warehouse on fire".to_owned()));
    assert_eq!(ship("c-3"), Ok(3));
    assert_eq!(track(), 1);
    let track_attack = fault_runtime::attacks()
        .into_iter()
        .find(|a| a.id == "env-file-track")
        .unwrap();
    assert_eq!(track_attack.hits, 3);
    let _ = std::fs::remove_file(&path);
}
