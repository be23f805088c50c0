//! The commands that need no endpoint, and the refusals that happen before any endpoint is
//! contacted, run through the real binary.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

/// Runs faultctl with `args`, with no endpoint or token from the environment.
fn faultctl(args: &[&str], cwd: &Path) -> Output {
    faultctl_with_env(args, cwd, &[])
}

/// Runs faultctl with `args` and, of the endpoints and the token, only the variables of
/// `env`.
fn faultctl_with_env(args: &[&str], cwd: &Path, env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_faultctl"))
        .args(args)
        .current_dir(cwd)
        .env_remove("FAULTCTL_ADDR")
        .env_remove("FAULT_ADMIN_TOKEN")
        .envs(env.iter().copied())
        .output()
        .expect("faultctl runs")
}

/// A token of a length the admin endpoint accepts (16 bytes at least).
const TOKEN: &str = "offline-token-0123456789";

/// The admin endpoint's limit on a request body, which `start` sends the file as.
const ENDPOINT_BODY_LIMIT: usize = 64 * 1024;

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn write(dir: &TempDir, name: &str, text: &str) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path
}

const VALID_TOML: &str = r#"# A drill for one customer.
[[attack]]
id = "c42-card-network"
point = "payments.charge"
facets = { customer = ["c-42"] }
latency = { min = "200ms", max = "300ms" }
error = "card network timeout"
percent = 30

[[attack]]
id = "c42-dry"
point = "orders.*"
error = "would fail"
dry_run = true
"#;

const INVALID_TOML: &str = r#"[[attack]]
id = "c42"
point = "payments.charge"
percent = 0
error = "x"

[[attack]]
id = "slow"
point = "orders.store"
latency = "soon"
"#;

#[test]
fn a_valid_file_passes_with_a_count() {
    let dir = TempDir::new().unwrap();
    write(&dir, "drill.toml", VALID_TOML);
    let output = faultctl(&["check", "drill.toml"], dir.path());
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output), "drill.toml: 2 attacks ok\n");
    assert_eq!(stderr(&output), "");
}

#[test]
fn an_invalid_file_lists_every_problem_at_its_line_and_exits_1() {
    let dir = TempDir::new().unwrap();
    write(&dir, "drill.toml", INVALID_TOML);
    let output = faultctl(&["check", "drill.toml"], dir.path());
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(
        lines[0].starts_with("drill.toml:4: attack `c42`: field `percent`: "),
        "{text}"
    );
    assert!(
        lines[1].starts_with("drill.toml:10: attack `slow`: field `latency`: "),
        "{text}"
    );
    assert_eq!(
        lines[2],
        "drill.toml: 2 problems; none of its attacks would start"
    );
}

#[test]
fn a_syntax_error_is_placed_on_its_line() {
    let dir = TempDir::new().unwrap();
    write(&dir, "broken.toml", "[[attack]]\nid = \"a\"\npoint = \n");
    let output = faultctl(&["check", "broken.toml"], dir.path());
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stdout(&output).starts_with("broken.toml:3: not valid TOML"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn a_missing_file_is_named_and_exits_1() {
    let dir = TempDir::new().unwrap();
    let output = faultctl(&["check", "nowhere.toml"], dir.path());
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stdout(&output).starts_with("nowhere.toml: cannot read: "),
        "{}",
        stdout(&output)
    );
}

#[test]
fn json_files_are_checked_by_their_extension_or_first_character() {
    let dir = TempDir::new().unwrap();
    let json = r#"{"attack": [{"id": "a", "point": "p", "error": "boom", "percent": 50}]}"#;
    write(&dir, "drill.json", json);
    write(&dir, "drill.attacks", json);
    for name in ["drill.json", "drill.attacks"] {
        let output = faultctl(&["check", name], dir.path());
        assert_eq!(output.status.code(), Some(0), "{name}: {}", stdout(&output));
        assert_eq!(stdout(&output), format!("{name}: 1 attack ok\n"));
    }

    write(
        &dir,
        "bad.json",
        "{\"attack\": [\n  {\"id\": \"a\", \"point\": \"p\", \"percent\": 101, \"error\": \"x\"}\n]}",
    );
    let output = faultctl(&["check", "bad.json"], dir.path());
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stdout(&output).starts_with("bad.json: attack `a`: field `percent`: "),
        "{}",
        stdout(&output)
    );
}

#[test]
fn check_json_output_carries_ids_or_problems() {
    let dir = TempDir::new().unwrap();
    write(&dir, "good.toml", VALID_TOML);
    write(&dir, "bad.toml", INVALID_TOML);

    let output = faultctl(&["check", "good.toml", "--json"], dir.path());
    assert_eq!(output.status.code(), Some(0));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["ok"], true);
    assert_eq!(report["format"], "toml");
    assert_eq!(
        report["attacks"],
        serde_json::json!(["c42-card-network", "c42-dry"])
    );

    let output = faultctl(&["--json", "check", "bad.toml"], dir.path());
    assert_eq!(output.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["ok"], false);
    let problem = &report["problems"][0];
    assert_eq!(problem["attack_id"], "c42");
    assert_eq!(problem["field"], "percent");
    assert_eq!(problem["line"], 4);
    assert!(
        problem["message"]
            .as_str()
            .unwrap()
            .starts_with("line 4: attack `c42`: field `percent`: ")
    );
}

/// Whether anything connected to `listener` since it was bound.
fn was_contacted(listener: &TcpListener) -> bool {
    listener.set_nonblocking(true).unwrap();
    listener.accept().is_ok()
}

#[test]
fn start_refuses_an_invalid_file_without_contacting_any_endpoint() {
    let dir = TempDir::new().unwrap();
    write(&dir, "drill.toml", INVALID_TOML);
    write(&dir, "token", &format!("{TOKEN}\n"));
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();

    let output = faultctl(
        &[
            "start",
            "drill.toml",
            "--addr",
            &addr,
            "--token-file",
            "token",
        ],
        dir.path(),
    );
    assert_eq!(output.status.code(), Some(1));
    let text = stderr(&output);
    assert!(
        text.contains("drill.toml:4: attack `c42`: field `percent`: "),
        "{text}"
    );
    assert!(
        text.ends_with("faultctl: drill.toml refused; no endpoint was contacted\n"),
        "{text}"
    );
    assert_eq!(stdout(&output), "");
    assert!(!was_contacted(&listener));
}

#[test]
fn commands_for_endpoints_need_an_endpoint_and_a_token() {
    let dir = TempDir::new().unwrap();
    write(&dir, "empty-token", "\n");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();

    let output = faultctl(&["points"], dir.path());
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("no endpoint: give --addr"),
        "{}",
        stderr(&output)
    );

    let output = faultctl(&["attacks", "--addr", &addr], dir.path());
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("no token: give --token-file PATH, or set FAULT_ADMIN_TOKEN"),
        "{}",
        stderr(&output)
    );

    let output = faultctl(
        &[
            "halt",
            "--all",
            "--addr",
            &addr,
            "--token-file",
            "empty-token",
        ],
        dir.path(),
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("the token file empty-token is empty"),
        "{}",
        stderr(&output)
    );

    let output = faultctl(
        &["points", "--addr", &addr, "--token-file", "no-such-file"],
        dir.path(),
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("cannot read the token file no-such-file"),
        "{}",
        stderr(&output)
    );
    assert!(!was_contacted(&listener));
}

#[test]
fn bad_ids_endpoints_and_command_lines_are_invalid_input() {
    let dir = TempDir::new().unwrap();
    write(&dir, "token", TOKEN);

    let output = faultctl(
        &[
            "halt",
            "a/b",
            "--addr",
            "127.0.0.1:9",
            "--token-file",
            "token",
        ],
        dir.path(),
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("not an attack id"),
        "{}",
        stderr(&output)
    );

    let output = faultctl(&["points", "--addr", "https://127.0.0.1:9"], dir.path());
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("https is not supported"),
        "{}",
        stderr(&output)
    );

    let output = faultctl(&["halt"], dir.path());
    assert_eq!(output.status.code(), Some(1));

    let output = faultctl(&["--help"], dir.path());
    assert_eq!(output.status.code(), Some(0));
    assert!(stdout(&output).contains("Exit status:"));
}

/// [`VALID_TOML`], padded with comments past the endpoint's body limit.
fn oversized_toml() -> String {
    let mut text = VALID_TOML.to_owned();
    let line = format!("# {}\n", "-".repeat(97));
    while text.len() <= ENDPOINT_BODY_LIMIT {
        text.push_str(&line);
    }
    text
}

#[test]
fn check_warns_that_a_file_over_the_endpoint_s_body_limit_cannot_be_started() {
    let dir = TempDir::new().unwrap();
    write(&dir, "big.toml", &oversized_toml());
    write(&dir, "drill.toml", VALID_TOML);

    let output = faultctl(&["check", "big.toml"], dir.path());
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].starts_with("big.toml: warning: "), "{text}");
    assert!(lines[0].contains("65536 bytes"), "{text}");
    assert!(lines[0].contains("faultctl start"), "{text}");
    assert_eq!(lines[1], "big.toml: 2 attacks ok");

    let output = faultctl(&["check", "big.toml", "--json"], dir.path());
    assert_eq!(output.status.code(), Some(0));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["ok"], true);
    let warnings = report["warnings"].as_array().expect("a list of warnings");
    assert_eq!(warnings.len(), 1, "{report:#}");
    assert!(warnings[0].as_str().unwrap().contains("65536 bytes"));

    let output = faultctl(&["check", "drill.toml", "--json"], dir.path());
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["warnings"], serde_json::json!([]));
}

#[test]
fn start_refuses_a_file_over_the_endpoint_s_body_limit_without_contacting_it() {
    let dir = TempDir::new().unwrap();
    write(&dir, "big.toml", &oversized_toml());
    write(&dir, "token", TOKEN);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let args = [
        "start",
        "big.toml",
        "--addr",
        &addr,
        "--token-file",
        "token",
    ];

    let output = faultctl(&args, dir.path());
    assert_eq!(output.status.code(), Some(1));
    let text = stderr(&output);
    assert!(text.starts_with("faultctl: big.toml: "), "{text}");
    assert!(text.contains("65536 bytes"), "{text}");
    assert!(text.ends_with("; no endpoint was contacted\n"), "{text}");
    assert_eq!(stdout(&output), "");

    let mut with_json = args.to_vec();
    with_json.push("--json");
    let output = faultctl(&with_json, dir.path());
    assert_eq!(output.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["ok"], false, "{report:#}");
    assert_eq!(report["format"], "toml");
    assert!(
        report["problems"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("65536 bytes"),
        "{report:#}"
    );
    assert!(!was_contacted(&listener));
}

#[test]
fn ports_out_of_range_or_not_numbers_are_named_so() {
    let dir = TempDir::new().unwrap();
    write(&dir, "token", TOKEN);
    for (addr, reason) in [
        ("127.0.0.1:65536", "out of range"),
        ("127.0.0.1:-1", "invalid port"),
        ("http://127.0.0.1:99999/admin", "out of range"),
    ] {
        let output = faultctl(
            &["points", "--addr", addr, "--token-file", "token"],
            dir.path(),
        );
        assert_eq!(output.status.code(), Some(1), "{addr}");
        let text = stderr(&output);
        assert!(text.contains(reason), "{addr}: {text}");
        assert!(!text.contains("no port"), "{addr}: {text}");
    }
}

#[test]
fn a_bare_port_means_that_port_of_127_0_0_1() {
    let dir = TempDir::new().unwrap();
    write(&dir, "token", TOKEN);
    // Accepts (the kernel does, from the backlog) and never answers: the tool times out.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let output = faultctl(
        &[
            "points",
            "--addr",
            &port,
            "--token-file",
            "token",
            "--timeout",
            "300ms",
        ],
        dir.path(),
    );
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).starts_with(&format!("faultctl: {port}: timed out")),
        "{}",
        stderr(&output)
    );
    assert!(was_contacted(&listener));
}

#[test]
fn faultctl_addr_is_named_in_its_own_errors() {
    let dir = TempDir::new().unwrap();
    write(&dir, "token", TOKEN);
    for (value, reason) in [
        ("", "FAULTCTL_ADDR is empty"),
        (
            "127.0.0.1:1,,127.0.0.1:2",
            "FAULTCTL_ADDR has an empty entry",
        ),
        ("127.0.0.1:1,", "FAULTCTL_ADDR has an empty entry"),
        ("127.0.0.1:70000", "FAULTCTL_ADDR"),
    ] {
        let output = faultctl_with_env(
            &["points", "--token-file", "token"],
            dir.path(),
            &[("FAULTCTL_ADDR", value)],
        );
        assert_eq!(output.status.code(), Some(1), "{value:?}");
        let text = stderr(&output);
        assert!(text.contains(reason), "{value:?}: {text}");
        assert!(!text.contains("for '--addr"), "{value:?}: {text}");
    }
}

#[test]
fn tokens_the_endpoint_never_accepts_are_refused_before_anything_is_sent() {
    let dir = TempDir::new().unwrap();
    write(&dir, "short-token", "s3cret-15-bytes\n");
    write(&dir, "spaced-token", "s3cret with spaces inside\n");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();

    for (file, reason) in [
        ("short-token", "at least 16 bytes"),
        ("spaced-token", "space"),
    ] {
        let output = faultctl(
            &["attacks", "--addr", &addr, "--token-file", file],
            dir.path(),
        );
        assert_eq!(output.status.code(), Some(1), "{file}");
        let text = stderr(&output);
        assert!(text.contains(&format!("the token file {file}")), "{text}");
        assert!(text.contains(reason), "{text}");
        assert!(!text.contains("s3cret"), "the token is never shown: {text}");
    }

    let output = faultctl_with_env(
        &["halt", "--all", "--addr", &addr],
        dir.path(),
        &[("FAULT_ADMIN_TOKEN", "s3cret\tand-more-than-16")],
    );
    assert_eq!(output.status.code(), Some(1));
    let text = stderr(&output);
    assert!(text.contains("FAULT_ADMIN_TOKEN"), "{text}");
    assert!(!text.contains("s3cret"), "{text}");
    assert!(!was_contacted(&listener));
}

#[test]
fn json_documents_keep_their_documented_keys_when_something_fails() {
    let dir = TempDir::new().unwrap();
    write(&dir, "bad.toml", INVALID_TOML);
    write(&dir, "token", TOKEN);
    let keys = |report: &serde_json::Value| -> Vec<String> {
        let mut keys: Vec<String> = report.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        keys
    };
    let check_keys = ["attacks", "file", "format", "ok", "problems", "warnings"];

    let output = faultctl(&["check", "bad.toml", "--json"], dir.path());
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(keys(&report), check_keys, "{report:#}");
    assert_eq!(report["format"], "toml");
    assert_eq!(report["attacks"], serde_json::json!([]));

    let output = faultctl(&["check", "nowhere.toml", "--json"], dir.path());
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(keys(&report), check_keys, "{report:#}");
    assert_eq!(report["format"], serde_json::Value::Null);

    // `start` refuses an invalid file before contacting anything: its document is the one
    // `check` prints.
    let output = faultctl(
        &[
            "start",
            "bad.toml",
            "--addr",
            "127.0.0.1:9",
            "--token-file",
            "token",
            "--json",
        ],
        dir.path(),
    );
    assert_eq!(output.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(keys(&report), check_keys, "{report:#}");
    assert_eq!(report["ok"], false);

    // An endpoint that did not answer has the keys of one that did.
    let closed = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().to_string()
    };
    let output = faultctl(
        &[
            "attacks",
            "--addr",
            &closed,
            "--token-file",
            "token",
            "--json",
        ],
        dir.path(),
    );
    assert_eq!(output.status.code(), Some(2));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let entry = &report[&closed];
    assert_eq!(
        keys(entry),
        ["error", "ok", "response", "status"],
        "{report:#}"
    );
    assert_eq!(entry["ok"], false);
    assert_eq!(entry["status"], serde_json::Value::Null);
    assert_eq!(entry["response"], serde_json::Value::Null);
    assert!(
        entry["error"]
            .as_str()
            .unwrap()
            .starts_with("cannot connect")
    );
}
