//! A `FAULT_ATTACKS_POLL` that is not a duration is reported by `init`, and the file is not
//! read: a drill whose settings are wrong does not run.
//!
//! The environment is read once per process, so this file holds one test.
#![cfg(feature = "enabled")]

use fault_runtime::fault_point;

#[fault_point(name = "env.bad_poll.charge")]
fn charge() -> Result<(), String> {
    Ok(())
}

#[test]
fn a_bad_poll_interval_is_reported_and_the_file_is_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("drill.toml");
    std::fs::write(
        &path,
        "[[attack]]\nid = \"env-bad-poll\"\npoint = \"env.bad_poll.charge\"\nerror = \"x\"\n",
    )
    .unwrap();
    // SAFETY: this is the process's only test, and no other thread runs yet.
    unsafe {
        std::env::set_var("FAULT_ATTACKS_FILE", &path);
        std::env::set_var("FAULT_ATTACKS_POLL", "often");
    }
    let errors = fault_runtime::init().unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
    let message = errors[0].to_string();
    assert!(
        message.contains("FAULT_ATTACKS_POLL=\"often\""),
        "{message}"
    );
    assert!(message.contains("not read"), "{message}");
    assert!(fault_runtime::attacks().is_empty());
    assert!(fault_runtime::watched_files().is_empty());
    assert!(charge().is_ok());
}
