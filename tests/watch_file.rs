//! A watched attack file is the complete desired set of its attacks: each new version
//! starts, replaces and halts attacks by id, without a restart, including when the file is
//! a Kubernetes ConfigMap mount whose change swaps a `..data` symlink.
//!
//! The watches poll every 20 ms; `wait_until` gives each change up to 10 s to show, a
//! limit for a hung watch, not a speed requirement.
#![cfg(feature = "enabled")]

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use fault_runtime::{AttackState, AttackStatus, WatchOutcome, fault_point};

mod support;

const POLL: Duration = Duration::from_millis(20);
const LIMIT: Duration = Duration::from_secs(10);

#[fault_point(name = "watch.configmap.charge", facets(customer))]
fn configmap_charge(customer: &str) -> Result<u32, String> {
    Ok(u32::try_from(customer.len()).unwrap_or(0))
}

#[fault_point(name = "watch.invalid.charge", facets(customer))]
fn invalid_charge(customer: &str) -> Result<u32, String> {
    Ok(u32::try_from(customer.len()).unwrap_or(0))
}

#[fault_point(name = "watch.missing.charge")]
fn missing_charge() -> Result<(), String> {
    Ok(())
}

#[fault_point(name = "watch.counters.charge")]
fn counters_charge() -> Result<(), String> {
    Ok(())
}

#[fault_point(name = "watch.counters.ship")]
fn counters_ship() -> Result<(), String> {
    Ok(())
}

#[fault_point(name = "watch.delay.ship")]
fn delay_ship() -> u8 {
    7
}

#[fault_point(name = "watch.conflict.charge")]
fn conflict_charge() -> Result<(), String> {
    Ok(())
}

#[fault_point(name = "watch.drop.charge")]
fn drop_charge() -> Result<(), String> {
    Ok(())
}

/// Polls `condition` until it holds; fails the test after [`LIMIT`].
fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let limit = Instant::now() + LIMIT;
    while !condition() {
        assert!(Instant::now() < limit, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The running attacks whose origin is `origin`, by id.
fn running_of(origin: &str) -> Vec<AttackStatus> {
    let mut running: Vec<AttackStatus> = fault_runtime::attacks()
        .into_iter()
        .filter(|a| a.origin == origin && a.state == AttackState::Running)
        .collect();
    running.sort_by(|a, b| a.id.cmp(&b.id));
    running
}

fn ids(attacks: &[AttackStatus]) -> Vec<&str> {
    attacks.iter().map(|a| a.id.as_str()).collect()
}

fn origin_of(path: &Path) -> String {
    format!("file:{}", path.display())
}

/// Writes `text` to `path` through a temporary file and a rename, as editors and config
/// tools do, so a poll never reads half a version.
fn write_atomically(path: &Path, text: &str) {
    let temporary = path.with_extension("tmp");
    std::fs::write(&temporary, text).unwrap();
    std::fs::rename(&temporary, path).unwrap();
}

/// A directory laid out like a Kubernetes ConfigMap volume: `attacks.toml` links to
/// `..data/attacks.toml`, and `..data` links to the directory of the current version.
struct ConfigMapVolume {
    dir: tempfile::TempDir,
    versions: u32,
}

impl ConfigMapVolume {
    fn new(first: &str) -> Self {
        let mut volume = ConfigMapVolume {
            dir: tempfile::tempdir().unwrap(),
            versions: 0,
        };
        volume.publish(first);
        std::os::unix::fs::symlink("..data/attacks.toml", volume.file()).unwrap();
        volume
    }

    fn file(&self) -> PathBuf {
        self.dir.path().join("attacks.toml")
    }

    /// Publishes a new version the way the kubelet does: a new timestamped directory,
    /// a temporary `..data_tmp` link to it, renamed over `..data` in one step.
    fn publish(&mut self, text: &str) {
        self.versions += 1;
        let version = format!("..2026_12_04_00_00_{:02}.{}", self.versions, self.versions);
        let version_dir = self.dir.path().join(&version);
        std::fs::create_dir(&version_dir).unwrap();
        std::fs::write(version_dir.join("attacks.toml"), text).unwrap();
        let temporary = self.dir.path().join("..data_tmp");
        std::os::unix::fs::symlink(&version, &temporary).unwrap();
        std::fs::rename(&temporary, self.dir.path().join("..data")).unwrap();
    }
}

#[test]
fn a_configmap_symlink_swap_starts_replaces_and_halts_attacks_by_id() {
    let mut volume = ConfigMapVolume::new(
        r#"
        [[attack]]
        id = "cm-c42"
        point = "watch.configmap.charge"
        facets = { customer = ["c-42"] }
        error = "first version"
        "#,
    );
    let watch = fault_runtime::watch_file(volume.file(), POLL).unwrap();
    let origin = origin_of(&volume.file());
    assert_eq!(watch.origin(), origin);
    assert_eq!(ids(&running_of(&origin)), ["cm-c42"]);
    assert_eq!(configmap_charge("c-42"), Err("first version".to_owned()));
    assert_eq!(configmap_charge("c-7"), Ok(3));

    // Version 2 changes cm-c42's error and adds cm-c7.
    volume.publish(
        r#"
        [[attack]]
        id = "cm-c42"
        point = "watch.configmap.charge"
        facets = { customer = ["c-42"] }
        error = "second version"

        [[attack]]
        id = "cm-c7"
        point = "watch.configmap.charge"
        facets = { customer = ["c-7"] }
        error = "now c-7 too"
        "#,
    );
    wait_until("version 2 is applied", || {
        ids(&running_of(&origin)) == ["cm-c42", "cm-c7"]
    });
    assert_eq!(configmap_charge("c-42"), Err("second version".to_owned()));
    assert_eq!(configmap_charge("c-7"), Err("now c-7 too".to_owned()));
    assert_eq!(configmap_charge("c-100"), Ok(5));
    let outcome = watch.status().unwrap().outcome;
    let WatchOutcome::Applied(applied) = outcome else {
        panic!("version 2 was not applied: {outcome:?}");
    };
    assert_eq!(applied.replaced, ["cm-c42"]);
    assert_eq!(applied.started, ["cm-c7"]);

    // Version 3 removes cm-c42: it halts, cm-c7 keeps running.
    volume.publish(
        r#"
        [[attack]]
        id = "cm-c7"
        point = "watch.configmap.charge"
        facets = { customer = ["c-7"] }
        error = "now c-7 too"
        "#,
    );
    wait_until("version 3 is applied", || {
        ids(&running_of(&origin)) == ["cm-c7"]
    });
    assert_eq!(configmap_charge("c-42"), Ok(4));
    assert_eq!(configmap_charge("c-7"), Err("now c-7 too".to_owned()));
    let halted = fault_runtime::attacks()
        .into_iter()
        .find(|a| a.id == "cm-c42" && a.state == AttackState::Halted);
    assert!(halted.is_some(), "cm-c42 is reported as halted");

    let stopped = watch.stop();
    assert_eq!(stopped, ["cm-c7"]);
    assert_eq!(configmap_charge("c-7"), Ok(3));
}

#[test]
fn an_invalid_version_halts_the_files_attacks_and_a_later_valid_one_applies() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("drill.toml");
    let valid = r#"
        [[attack]]
        id = "inv-c42"
        point = "watch.invalid.charge"
        facets = { customer = ["c-42"] }
        error = "drill"
        "#;
    std::fs::write(&path, valid).unwrap();
    let watch = fault_runtime::watch_file(&path, POLL).unwrap();
    let origin = origin_of(&path);
    assert_eq!(invalid_charge("c-42"), Err("drill".to_owned()));

    // An invalid attack on line 5 (a percent of 0) takes the whole version down.
    write_atomically(
        &path,
        "[[attack]]\nid = \"inv-c42\"\npoint = \"watch.invalid.charge\"\nerror = \"drill\"\n\
         percent = 0\n",
    );
    wait_until("the invalid version halts the attack", || {
        running_of(&origin).is_empty()
    });
    assert_eq!(invalid_charge("c-42"), Ok(4));
    let status = watch.status().unwrap();
    let WatchOutcome::Refused(error) = &status.outcome else {
        panic!("the invalid version was not refused: {status:?}");
    };
    let problem = &error.problems()[0];
    assert_eq!(problem.field(), Some("percent"), "{error}");
    assert_eq!(problem.line(), Some(5), "{error}");
    assert!(
        fault_runtime::source_errors().contains(error),
        "the refusal is kept for source_errors()"
    );
    assert_eq!(
        fault_runtime::watched_files()
            .iter()
            .filter(|w| w.origin == origin)
            .count(),
        1
    );

    // Text that is not TOML at all is refused the same way.
    write_atomically(&path, "[[attack]\n");
    wait_until("the unparsable version is refused", || {
        matches!(&watch.status().unwrap().outcome,
            WatchOutcome::Refused(e) if e.problems()[0].line() == Some(1))
    });

    // A later valid version applies in full again.
    write_atomically(&path, valid);
    wait_until("the valid version applies", || {
        ids(&running_of(&origin)) == ["inv-c42"]
    });
    assert_eq!(invalid_charge("c-42"), Err("drill".to_owned()));
}

#[test]
fn a_missing_file_is_an_empty_set_and_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("later.toml");
    let watch = fault_runtime::watch_file(&path, POLL).unwrap();
    let origin = origin_of(&path);
    assert_eq!(watch.status().unwrap().outcome, WatchOutcome::Missing);
    assert!(
        fault_runtime::source_errors()
            .iter()
            .any(|e| e.origin() == origin && e.to_string().contains("does not exist")),
        "the missing file is reported"
    );

    std::fs::write(
        &path,
        "[[attack]]\nid = \"missing-later\"\npoint = \"watch.missing.charge\"\nerror = \"x\"\n",
    )
    .unwrap();
    wait_until("the file, once written, applies", || {
        ids(&running_of(&origin)) == ["missing-later"]
    });
    assert!(missing_charge().is_err());

    std::fs::remove_file(&path).unwrap();
    wait_until("removing the file halts its attacks", || {
        running_of(&origin).is_empty()
    });
    assert!(missing_charge().is_ok());
    assert_eq!(watch.status().unwrap().outcome, WatchOutcome::Missing);
}

#[test]
fn unchanged_attacks_keep_their_counters_and_ended_ones_stay_ended() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("counters.toml");
    let charge =
        "[[attack]]\nid = \"cnt-charge\"\npoint = \"watch.counters.charge\"\nerror = \"x\"\n";
    let ship = "[[attack]]\nid = \"cnt-ship\"\npoint = \"watch.counters.ship\"\nerror = \"y\"\n";
    std::fs::write(&path, format!("{charge}{ship}")).unwrap();
    let _watch = fault_runtime::watch_file(&path, POLL).unwrap();
    let origin = origin_of(&path);
    for _ in 0..3 {
        assert!(counters_charge().is_err());
    }
    // An operator halts cnt-ship by hand.
    assert!(fault_runtime::halt("cnt-ship"));

    // A new version changes only a comment: cnt-charge keeps its 3 hits, and cnt-ship,
    // unchanged, is not started again.
    write_atomically(&path, format!("# edited\n{charge}{ship}").as_str());
    wait_until("the edited version is read", || {
        fault_runtime::watched_files()
            .iter()
            .find(|w| w.origin == origin)
            .is_some_and(
                |w| matches!(&w.outcome, WatchOutcome::Applied(a) if a.unchanged.len() == 2),
            )
    });
    let running = running_of(&origin);
    assert_eq!(ids(&running), ["cnt-charge"]);
    assert_eq!(running[0].hits, 3);
    assert!(counters_ship().is_ok());

    // Changing cnt-ship's definition starts it again.
    let ship = ship.replace("\"y\"", "\"z\"");
    write_atomically(&path, format!("{charge}{ship}").as_str());
    wait_until("the changed attack starts again", || {
        ids(&running_of(&origin)) == ["cnt-charge", "cnt-ship"]
    });
    assert_eq!(counters_ship(), Err("z".to_owned()));
}

#[test]
fn a_delay_being_served_ends_when_the_file_drops_its_attack() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("delay.toml");
    std::fs::write(
        &path,
        "[[attack]]\nid = \"delay-ship\"\npoint = \"watch.delay.ship\"\nlatency = \"60s\"\n",
    )
    .unwrap();
    let _watch = fault_runtime::watch_file(&path, POLL).unwrap();

    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || {
        let value = delay_ship();
        let _ = done.send(value);
    });
    wait_until("the call is being delayed", || {
        fault_runtime::attacks()
            .iter()
            .any(|a| a.id == "delay-ship" && a.hits == 1)
    });
    write_atomically(&path, "# no attacks\n");
    // Far less than the 60 s injected: only the attack's end can release the call.
    assert_eq!(finished.recv_timeout(LIMIT), Ok(7));
}

#[test]
fn an_id_running_from_another_source_makes_the_version_invalid() {
    let _api = support::error_attack("conflict-charge", "watch.conflict.charge");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("conflict.toml");
    std::fs::write(
        &path,
        "[[attack]]\nid = \"conflict-charge\"\npoint = \"watch.conflict.charge\"\n\
         latency = \"1ms\"\n",
    )
    .unwrap();
    let watch = fault_runtime::watch_file(&path, POLL).unwrap();
    let WatchOutcome::Refused(error) = watch.status().unwrap().outcome else {
        panic!("a conflicting version was applied");
    };
    let problem = &error.problems()[0];
    assert_eq!(problem.field(), Some("id"));
    assert_eq!(problem.line(), Some(1));
    assert!(problem.reason().contains("runs from api"), "{error}");
    // The API's attack is untouched.
    assert_eq!(conflict_charge(), Err("injected".to_owned()));
    assert_eq!(
        fault_runtime::attacks()
            .into_iter()
            .find(|a| a.id == "conflict-charge")
            .map(|a| (a.origin, a.state)),
        Some(("api".to_owned(), AttackState::Running))
    );
}

#[test]
fn dropping_the_watch_halts_its_attacks_and_a_file_is_watched_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("drop.toml");
    std::fs::write(
        &path,
        "[[attack]]\nid = \"drop-charge\"\npoint = \"watch.drop.charge\"\nerror = \"x\"\n",
    )
    .unwrap();
    let watch = fault_runtime::watch_file(&path, POLL).unwrap();
    let again = fault_runtime::watch_file(&path, POLL).unwrap_err();
    assert!(again.to_string().contains("already watched"), "{again}");
    // Another path to the same file is the same file.
    let linked_dir = dir.path().join("linked");
    std::os::unix::fs::symlink(dir.path(), &linked_dir).unwrap();
    for other in [
        dir.path().join(".").join("drop.toml"),
        linked_dir.join("drop.toml"),
    ] {
        let again = fault_runtime::watch_file(&other, POLL).unwrap_err();
        assert!(again.to_string().contains("already watched"), "{again}");
    }
    assert!(drop_charge().is_err());

    drop(watch);
    assert!(drop_charge().is_ok());
    assert!(
        !fault_runtime::watched_files()
            .iter()
            .any(|w| w.origin == origin_of(&path))
    );
    // Once stopped, the file may be watched again.
    let watch = fault_runtime::watch_file(&path, POLL).unwrap();
    assert!(drop_charge().is_err());
    watch.stop();

    for poll in [Duration::ZERO, Duration::from_secs(2 * 60 * 60)] {
        let error = fault_runtime::watch_file(&path, poll).unwrap_err();
        assert!(error.to_string().contains("poll interval"), "{error}");
    }
}
