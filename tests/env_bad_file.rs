//! A `FAULT_ATTACKS_FILE` that cannot be parsed applies none of its attacks, and the
//! refusal is reported with the file and the line.
//!
//! The environment is read once per process, so this file holds one test.
#![cfg(feature = "enabled")]

use fault_runtime::fault_point;

#[fault_point(name = "env.bad_file.charge")]
fn charge() -> Result<(), String> {
    Ok(())
}

#[test]
fn an_unparsable_attack_file_applies_nothing() {
    let path = std::env::temp_dir().join(format!(
        "fault-runtime-env-bad-file-{}-{}.toml",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos()
    ));
    std::fs::write(
        &path,
        "[[attack]]\nid = \"env-bad-file\"\npoint = \"env.bad_file.charge\"\nerror = \"x\"\n\
         [[attack]\n",
    )
    .unwrap();
    // SAFETY: this is the process's only test, and no other thread runs yet.
    unsafe {
        std::env::set_var("FAULT_ATTACKS_FILE", &path);
    }

    assert!(charge().is_ok());
    assert!(fault_runtime::attacks().is_empty());

    let errors = fault_runtime::source_errors();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(
        errors[0].origin(),
        format!("FAULT_ATTACKS_FILE={}", path.display())
    );
    let problem = &errors[0].problems()[0];
    assert!(problem.reason().contains("TOML"), "{}", errors[0]);
    assert_eq!(problem.line(), Some(5), "{}", errors[0]);
    assert!(charge().is_ok());
    let _ = std::fs::remove_file(&path);
}
