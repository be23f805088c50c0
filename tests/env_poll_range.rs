//! A `FAULT_ATTACKS_POLL` outside 10 ms..=1 h is reported by `init`, and the file is not
//! read: a drill whose settings are wrong does not run.
//!
//! The environment is read once per process, so this file holds one test.
#![cfg(feature = "enabled")]

use fault_runtime::fault_point;

#[fault_point(name = "env.poll_range.charge")]
fn charge() -> Result<(), String> {
    Ok(())
}

#[test]
fn a_poll_interval_out_of_bounds_is_reported_and_the_file_is_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("drill.toml");
    std::fs::write(
        &path,
        "[[attack]]\nid = \"env-poll-range\"\npoint = \"env.poll_range.charge\"\nerror = \"x\"\n",
    )
    .unwrap();
    // SAFETY: this is the process's only test, and no other thread runs yet.
    unsafe {
        std::env::set_var("FAULT_ATTACKS_FILE", &path);
        std::env::set_var("FAULT_ATTACKS_POLL", "5ms");
    }
    let errors = fault_runtime::init().unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
    let message = errors[0].to_string();
    assert!(
        message.contains("FAULT_ATTACKS_POLL=5ms is outside 10ms..=1h"),
        "{message}"
    );
    assert!(message.contains("not read"), "{message}");
    assert!(fault_runtime::attacks().is_empty());
    assert!(fault_runtime::watched_files().is_empty());
    assert!(charge().is_ok());
}
