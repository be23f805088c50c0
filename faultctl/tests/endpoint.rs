//! The tool against real admin endpoints: each test starts fault-runtime's endpoint on
//! loopback inside this process, runs the faultctl binary against it, and checks the
//! effect through the runtime's own API.
//!
//! The tests share the process's attack registry, so under `cargo test` (threads of one
//! process) each holds [`serial`] for its whole run and starts from no attack.
//!
//! Run them with `cargo test -p faultctl --features end-to-end` (or `--all-features`).
#![cfg(feature = "end-to-end")]

use std::io::Read;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use fault_runtime::admin::{AdminConfig, AdminServer, serve};
use fault_runtime::{AttackState, AttackStatus, Fault, fault_point};
use serde_json::Value;
use tempfile::TempDir;

fault_runtime::context_facets!(customer);

#[fault_point(name = "e2e.charge", facets(customer))]
fn charge(customer: &str) -> Result<usize, Fault> {
    Ok(customer.len())
}

#[fault_point(name = "e2e.refund")]
fn refund() -> Result<(), Fault> {
    Ok(())
}

/// The token the endpoints of these tests accept (the endpoint wants 16 bytes at least).
const TOKEN: &str = "e2e-token-0123456789";

/// The longest a run of the tool may take here. The tool bounds itself (`--timeout`); this
/// only keeps a broken build from hanging the suite.
const RUN_GUARD: Duration = Duration::from_secs(30);

static SERIAL: Mutex<()> = Mutex::new(());

/// Holds the registry for one test, and leaves it without attacks when taken and dropped.
struct Serial {
    _guard: MutexGuard<'static, ()>,
}

fn serial() -> Serial {
    let guard = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    fault_runtime::halt_all();
    Serial { _guard: guard }
}

impl Drop for Serial {
    fn drop(&mut self) {
        fault_runtime::halt_all();
    }
}

/// A scratch directory with the token file, and a running endpoint.
struct Drill {
    dir: TempDir,
    server: AdminServer,
}

impl Drill {
    fn new() -> Self {
        let dir = TempDir::new().expect("a scratch directory");
        // With the final newline an editor or `echo` leaves, which the tool ignores.
        std::fs::write(dir.path().join("token"), format!("{TOKEN}\n")).unwrap();
        let server = serve(AdminConfig::new().token(TOKEN).port(0)).expect("the endpoint starts");
        Drill { dir, server }
    }

    /// The endpoint as `--addr` takes it.
    fn addr(&self) -> String {
        self.server.local_addr().to_string()
    }

    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.dir.path().join(name), text).unwrap();
    }

    /// Runs faultctl in the scratch directory with `args` and the token file.
    fn faultctl(&self, args: &[&str]) -> Run {
        self.faultctl_with_env(args, &[])
    }

    /// Runs faultctl as [`Drill::faultctl`] does, with these environment variables.
    fn faultctl_with_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut all: Vec<&str> = args.to_vec();
        if !args.contains(&"--token-file") {
            all.extend(["--token-file", "token"]);
        }
        all.extend(["--timeout", "5s"]);
        run_faultctl(self.dir.path(), &all, env)
    }
}

/// What a run of the tool printed, and its exit code.
#[derive(Debug)]
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|error| panic!("stdout is not JSON: {error}\n{self:?}"))
    }
}

/// Runs the binary with `env` and nothing else from the environment's endpoints or token,
/// and kills it if it outlives [`RUN_GUARD`].
fn run_faultctl(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_faultctl"))
        .args(args)
        .current_dir(dir)
        .env_remove("FAULTCTL_ADDR")
        .env_remove("FAULT_ADMIN_TOKEN")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("faultctl starts");
    // Read both pipes while the child runs, so that a full pipe cannot stall it.
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_string(&mut text);
            }
            text
        })
    };
    let stdout = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );

    let deadline = Instant::now() + RUN_GUARD;
    let status = loop {
        if let Some(status) = child.try_wait().expect("faultctl can be waited for") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("faultctl {args:?} ran longer than {RUN_GUARD:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Run {
        code: status.code(),
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    }
}

/// The running attack with this id, as the runtime in this process sees it.
fn running(id: &str) -> Option<AttackStatus> {
    fault_runtime::attacks()
        .into_iter()
        .find(|status| status.id == id && status.state == AttackState::Running)
}

/// A port on loopback where nothing listens: bound by the system, then released.
fn closed_port() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().to_string()
}

const DRILL: &str = r#"[[attack]]
id = "e2e-c42"
point = "e2e.charge"
facets = { customer = ["c-42"] }
error = "card network down"

[[attack]]
id = "e2e-refund-dry"
point = "e2e.refund"
error = "refunds down"
dry_run = true
"#;

#[test]
fn points_lists_the_catalog_as_a_table_and_as_json() {
    let _serial = serial();
    let drill = Drill::new();
    let addr = drill.addr();

    let run = drill.faultctl(&["points", "--addr", &addr]);
    assert_eq!(run.code, Some(0), "{run:?}");
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(
        lines[0].starts_with("NAME") && lines[0].ends_with("HITS  ATTACKS"),
        "{run:?}"
    );
    let charge_row = lines
        .iter()
        .find(|line| line.starts_with("e2e.charge "))
        .unwrap_or_else(|| panic!("no row for e2e.charge: {run:?}"));
    // NAME ASYNC IMPACTS FACETS HITS ATTACKS; the hits count the calls of every test.
    let cells: Vec<&str> = charge_row.split_whitespace().collect();
    assert_eq!(
        cells[..4],
        ["e2e.charge", "no", "latency,error,panic", "customer"]
    );
    assert_eq!(cells[5], "0", "no attack aims at it: {run:?}");

    let run = drill.faultctl(&["points", "--addr", &format!("http://{addr}/"), "--json"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    let report = run.json();
    let entry = &report[format!("http://{addr}")];
    assert_eq!(entry["ok"], true, "{report:#}");
    assert_eq!(entry["status"], 200);
    let points = entry["response"]["points"].as_array().unwrap();
    assert!(points.iter().any(|point| point["name"] == "e2e.refund"));
}

#[test]
fn start_applies_the_file_and_attacks_shows_hits_and_would_hits() {
    let _serial = serial();
    let drill = Drill::new();
    let addr = drill.addr();
    drill.write("drill.toml", DRILL);

    let run = drill.faultctl(&["start", "drill.toml", "--addr", &addr]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(
        run.stdout,
        format!("{addr}: started e2e-c42, e2e-refund-dry\n")
    );
    assert_eq!(run.stderr, "");
    let started = running("e2e-c42").expect("e2e-c42 runs");
    assert_eq!(started.origin, "admin");
    assert!(running("e2e-refund-dry").is_some_and(|status| status.dry_run));

    // The blast radius: one customer's calls fail, another's do not; the dry run changes
    // no call and counts the ones it would have hit.
    assert!(charge("c-42").is_err());
    assert_eq!(charge("c-7").ok(), Some(3));
    for _ in 0..3 {
        assert!(refund().is_ok());
    }

    let run = drill.faultctl(&["attacks", "--addr", &addr]);
    assert_eq!(run.code, Some(0), "{run:?}");
    let row = |id: &str| -> Vec<String> {
        run.stdout
            .lines()
            .find(|line| line.starts_with(&format!("{id} ")))
            .unwrap_or_else(|| panic!("no row for {id}: {run:?}"))
            .split_whitespace()
            .map(str::to_owned)
            .collect()
    };
    // ID POINT ORIGIN STATE MATCHED HITS [would-hit] TIME-LEFT
    let c42 = row("e2e-c42");
    assert_eq!(
        c42[..6],
        ["e2e-c42", "e2e.charge", "admin", "running", "1", "1"]
    );
    let dry = row("e2e-refund-dry");
    assert_eq!(
        dry[..7],
        [
            "e2e-refund-dry",
            "e2e.refund",
            "admin",
            "running",
            "3",
            "3",
            "would-hit"
        ]
    );

    let run = drill.faultctl(&["attacks", "--addr", &addr, "--json"]);
    let attacks = run.json()[&addr]["response"]["attacks"].clone();
    let dry = attacks
        .as_array()
        .unwrap()
        .iter()
        .find(|status| status["id"] == "e2e-refund-dry")
        .cloned()
        .unwrap();
    assert_eq!(
        (dry["dry_run"].clone(), dry["hits"].clone()),
        (true.into(), 3.into())
    );

    // The same file again changes nothing, counters included.
    let run = drill.faultctl(&["start", "drill.toml", "--addr", &addr]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(
        run.stdout,
        format!("{addr}: unchanged e2e-c42, e2e-refund-dry\n")
    );
    assert_eq!(running("e2e-refund-dry").map(|status| status.hits), Some(3));
}

#[test]
fn problems_the_endpoint_finds_are_placed_on_the_file_s_lines() {
    let _serial = serial();
    let drill = Drill::new();
    let addr = drill.addr();
    // Valid offline; only the service knows it has no point `e2e.nope`.
    drill.write(
        "typo.toml",
        "[[attack]]\nid = \"e2e-ok\"\npoint = \"e2e.charge\"\nerror = \"x\"\n\n\
         [[attack]]\nid = \"e2e-typo\"\npoint = \"e2e.nope\"\nerror = \"x\"\n",
    );
    let run = run_faultctl(drill.dir.path(), &["check", "typo.toml"], &[]);
    assert_eq!(run.code, Some(0), "{run:?}");

    let run = drill.faultctl(&["start", "typo.toml", "--addr", &addr]);
    assert_eq!(run.code, Some(2), "{run:?}");
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr
            .starts_with(&format!("faultctl: {addr}: refused (400 Bad Request): ")),
        "{run:?}"
    );
    assert!(
        run.stderr.contains("\n  typo.toml:") && run.stderr.contains("`e2e-typo`"),
        "{run:?}"
    );
    // All or none: the valid attack of the file did not start either.
    assert!(running("e2e-ok").is_none());
    assert!(running("e2e-typo").is_none());
}

#[test]
fn halt_by_id_halts_it_and_a_second_halt_finds_it_not_running() {
    let _serial = serial();
    let drill = Drill::new();
    let addr = drill.addr();
    drill.write("drill.toml", DRILL);
    assert_eq!(
        drill
            .faultctl(&["start", "drill.toml", "--addr", &addr])
            .code,
        Some(0)
    );

    let run = drill.faultctl(&["halt", "e2e-c42", "--addr", &addr]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.stdout, format!("{addr}: halted e2e-c42\n"));
    assert!(running("e2e-c42").is_none());
    assert!(
        running("e2e-refund-dry").is_some(),
        "only the id named halts"
    );
    assert!(charge("c-42").is_ok());

    let run = drill.faultctl(&["halt", "e2e-c42", "--addr", &addr]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(
        run.stdout,
        format!("{addr}: e2e-c42 is not running there\n")
    );
}

#[test]
fn halt_all_halts_every_attack_and_reports_how_many_as_json() {
    let _serial = serial();
    let drill = Drill::new();
    let addr = drill.addr();
    drill.write("drill.toml", DRILL);
    assert_eq!(
        drill
            .faultctl(&["start", "drill.toml", "--addr", &addr])
            .code,
        Some(0)
    );
    // One attack from another source, the program itself: halting all reaches it too.
    fault_runtime::start_toml(
        "[[attack]]\nid = \"e2e-api\"\npoint = \"e2e.refund\"\nerror = \"x\"\n",
    )
    .expect("the attack starts")
    .into_iter()
    .for_each(fault_runtime::AttackGuard::detach);

    let run = drill.faultctl(&["halt", "--all", "--addr", &addr, "--json"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    let report = run.json();
    assert_eq!(report[&addr]["ok"], true, "{report:#}");
    assert_eq!(report[&addr]["response"]["halted"], 3, "{report:#}");
    assert!(
        fault_runtime::attacks()
            .iter()
            .all(|status| status.state != AttackState::Running)
    );

    let run = drill.faultctl(&["halt", "--all", "--addr", &addr]);
    assert_eq!(run.stdout, format!("{addr}: halted 0 attacks\n"));
}

#[test]
fn a_wrong_token_is_reported_as_401_and_changes_nothing() {
    let _serial = serial();
    let drill = Drill::new();
    let addr = drill.addr();
    drill.write("drill.toml", DRILL);
    drill.write("wrong-token", "not-the-token-0123456789\n");
    fault_runtime::start_toml(
        "[[attack]]\nid = \"e2e-keep\"\npoint = \"e2e.refund\"\nerror = \"x\"\n",
    )
    .expect("the attack starts")
    .into_iter()
    .for_each(fault_runtime::AttackGuard::detach);

    for args in [
        vec!["start", "drill.toml"],
        vec!["halt", "--all"],
        vec!["halt", "e2e-keep"],
        vec!["attacks"],
    ] {
        let mut args = args;
        args.extend(["--addr", &addr, "--token-file", "wrong-token"]);
        let run = drill.faultctl(&args);
        assert_eq!(run.code, Some(2), "{args:?}: {run:?}");
        assert_eq!(run.stdout, "", "{args:?}");
        assert!(
            run.stderr
                .starts_with(&format!("faultctl: {addr}: refused (401 Unauthorized): ")),
            "{args:?}: {run:?}"
        );
    }
    assert!(running("e2e-keep").is_some(), "the attack still runs");
    assert!(running("e2e-c42").is_none(), "nothing was started");
}

#[test]
fn with_one_endpoint_down_the_other_gets_the_change_and_both_are_reported() {
    let _serial = serial();
    let drill = Drill::new();
    let live = drill.addr();
    let down = closed_port();
    drill.write("drill.toml", DRILL);

    let run = drill.faultctl(&["start", "drill.toml", "--addr", &down, "--addr", &live]);
    assert_eq!(run.code, Some(2), "{run:?}");
    assert_eq!(
        run.stdout,
        format!("{live}: started e2e-c42, e2e-refund-dry\n")
    );
    assert!(
        run.stderr
            .starts_with(&format!("faultctl: {down}: cannot connect to {down}: ")),
        "{run:?}"
    );
    assert!(
        run.stderr.ends_with("faultctl: 1 of 2 endpoints failed\n"),
        "{run:?}"
    );
    assert!(running("e2e-c42").is_some());

    // The same through FAULTCTL_ADDR, as JSON: each endpoint under its own key.
    let endpoints = format!("{live},{down}");
    let run = drill.faultctl_with_env(
        &["--json", "halt", "--all"],
        &[("FAULTCTL_ADDR", &endpoints)],
    );
    assert_eq!(run.code, Some(2), "{run:?}");
    let report = run.json();
    let (live_at, down_at) = (
        run.stdout.find(&format!("\"{live}\"")),
        run.stdout.find(&format!("\"{down}\"")),
    );
    assert!(live_at < down_at, "in the order given: {run:?}");
    assert_eq!(report[&live]["ok"], true);
    assert_eq!(report[&live]["response"]["halted"], 2);
    assert_eq!(report[&down]["ok"], false);
    assert_eq!(report[&down]["status"], Value::Null, "{report:#}");
    assert_eq!(report[&down]["response"], Value::Null, "{report:#}");
    assert_eq!(report[&live]["error"], Value::Null, "{report:#}");
    assert!(
        report[&down]["error"]
            .as_str()
            .is_some_and(|error| error.starts_with("cannot connect")),
        "{report:#}"
    );
    assert!(running("e2e-c42").is_none());
}

#[test]
fn a_bare_port_reaches_the_endpoint_on_loopback() {
    let _serial = serial();
    let drill = Drill::new();
    let port = drill.server.local_addr().port().to_string();
    let run = drill.faultctl(&["halt", "--all", "--addr", &port]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.stdout, format!("{port}: halted 0 attacks\n"));
}

/// One attack on `e2e.refund`, padded with a comment to exactly `len` bytes.
fn drill_of_length(len: usize) -> String {
    let attack = "[[attack]]\nid = \"e2e-padded\"\npoint = \"e2e.refund\"\nerror = \"x\"\n";
    let text = format!("{attack}#{}\n", "x".repeat(len - attack.len() - 2));
    assert_eq!(text.len(), len);
    text
}

#[test]
fn start_sends_a_file_up_to_the_endpoint_s_body_limit_and_refuses_a_larger_one() {
    let _serial = serial();
    let drill = Drill::new();
    let addr = drill.addr();
    let limit = fault_runtime::admin::MAX_BODY_BYTES;
    drill.write("over.toml", &drill_of_length(limit + 1));
    drill.write("at.toml", &drill_of_length(limit));

    let run = drill.faultctl(&["start", "over.toml", "--addr", &addr]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stderr.ends_with("; no endpoint was contacted\n"),
        "{run:?}"
    );
    assert!(running("e2e-padded").is_none());

    let run = drill.faultctl(&["start", "at.toml", "--addr", &addr]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.stdout, format!("{addr}: started e2e-padded\n"));
    assert!(running("e2e-padded").is_some());
}
