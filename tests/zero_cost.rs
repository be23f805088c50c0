//! What a fault point costs when no attack aims at it, measured on the release build of
//! `fault-runtime/examples/zero_cost.rs`: two twins, one annotated and one plain.
//!
//! - Feature off: the annotated twin compiles to the same machine code as the plain one.
//!   The test builds the example with `--emit=asm` and compares the two functions'
//!   instructions; identical functions may also be merged by the compiler into one symbol,
//!   which is itself proof that their code is the same. With the feature on, the same
//!   comparison must see a difference, which shows that it can fail.
//! - Feature on: an idle call of the annotated twin costs at most [`MAX_IDLE_INSTRUCTIONS`]
//!   more instructions than a call of the plain twin, counted by valgrind's callgrind.
//!   Instruction counts do not depend on the machine's load, unlike timings.
//!
//! The builds go to a target directory of their own under cargo's `CARGO_TARGET_TMPDIR`.
#![cfg(not(feature = "enabled"))]

use std::path::{Path, PathBuf};
use std::process::Command;

const ANNOTATED: &str = "9zero_cost15annotated_price";
const PLAIN: &str = "9zero_cost11plain_price";

/// The bound on the idle cost of a point, in instructions per call: the load of the armed
/// flag, its test and the branch (3), plus what the slow path's call costs the function's
/// frame even when it is not taken: a callee-saved register pushed and popped for a value
/// that must outlive the call, and a jump to the shared epilogue (3 on this twin). See
/// BENCHMARKS.md for what would remove those.
const MAX_IDLE_INSTRUCTIONS: f64 = 6.0;

/// Builds the example in release mode with the given features and returns the path of its
/// executable; the assembly is next to it, with the extension `s`.
fn build(features: &[&str]) -> PathBuf {
    let target_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("zero-cost");
    let output = Command::new(env!("CARGO"))
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")))
        .args(["rustc", "--quiet", "--release", "-p", "fault-runtime"])
        .args(["--example", "zero_cost", "--message-format=json"])
        .args(features.iter().flat_map(|f| ["--features", f]))
        .arg("--target-dir")
        .arg(&target_dir)
        .args(["--", "--emit=asm,link", "-C", "codegen-units=1"])
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "building the zero_cost example failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // The artifact message of the example names its executable.
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|line| line.contains("\"reason\":\"compiler-artifact\""))
        .filter(|line| line.contains("\"name\":\"zero_cost\""))
        .find_map(|line| {
            let start = line.find("\"executable\":\"")? + "\"executable\":\"".len();
            let end = start + line[start..].find('"')?;
            Some(PathBuf::from(&line[start..end]))
        })
        .expect("cargo names the example's executable")
}

/// The assembly of this build of the example.
///
/// Cargo reports `examples/zero_cost`, a hard link to `examples/zero_cost-HASH`, and rustc
/// wrote the assembly to `examples/zero_cost-HASH.s`: the `.s` file whose stem is the same
/// file as the executable is this build's (another feature state has another hash).
fn assembly(executable: &Path) -> String {
    let examples = executable.parent().expect("the executable is in a folder");
    let asm = std::fs::read_dir(examples)
        .expect("the examples folder is readable")
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|e| e == "s"))
        .find(|path| {
            path.file_stem()
                .and_then(|s| s.to_str())
                .is_some_and(|stem| same_file(&examples.join(stem), executable))
        })
        .expect("the build wrote an assembly file");
    std::fs::read_to_string(asm).expect("the assembly file is readable")
}

/// Whether two paths name the same file.
fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    let (Ok(a), Ok(b)) = (std::fs::metadata(a), std::fs::metadata(b)) else {
        return false;
    };
    a.dev() == b.dev() && a.ino() == b.ino()
}

/// The instructions of the function whose mangled name contains `needle`, with local
/// labels numbered by position so that two functions can be compared; `None` if the
/// function has no body of its own.
fn body(asm: &str, needle: &str) -> Option<Vec<String>> {
    let mut lines = asm.lines();
    lines.find(|line| line.contains(needle) && line.ends_with(':') && !line.starts_with('.'))?;
    let body: Vec<String> = lines
        .take_while(|line| !line.starts_with(".Lfunc_end"))
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with(".cfi") && !line.starts_with('#'))
        .map(normalize)
        .collect();
    Some(body)
}

fn normalize(line: &str) -> String {
    // `.LBB9_2` and `.LBB10_2` are the same label in two functions.
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(at) = rest.find(".L") {
        out.push_str(&rest[..at]);
        let label = &rest[at..];
        let end = label[2..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .map_or(label.len(), |e| e + 2);
        let kind: String = label[2..end]
            .chars()
            .take_while(char::is_ascii_alphabetic)
            .collect();
        let local = label[..end].rsplit('_').next().unwrap_or("");
        out.push_str(&format!(".L{kind}_{local}"));
        rest = &label[end..];
    }
    out.push_str(rest);
    out
}

#[test]
fn feature_off_annotated_function_is_the_plain_function() {
    let asm = assembly(&build(&[]));
    let plain = body(&asm, PLAIN).expect("the plain twin is in the binary");
    assert!(plain.len() > 3, "the plain twin has a body: {plain:?}");
    match body(&asm, ANNOTATED) {
        Some(annotated) => assert_eq!(annotated, plain, "the twins' instructions differ"),
        // The compiler merged the two: it found their code identical.
        None => assert!(
            !asm.contains(ANNOTATED) || asm.contains(&format!(".set\t_ZN{ANNOTATED}")),
            "the annotated twin is referenced but has no body of its own"
        ),
    }

    let enabled = assembly(&build(&["enabled"]));
    let annotated = body(&enabled, ANNOTATED).expect("the annotated twin is in the binary");
    let plain = body(&enabled, PLAIN).expect("the plain twin is in the binary");
    assert_ne!(
        annotated, plain,
        "with the feature on the annotated twin must carry the check"
    );
}

/// Instructions callgrind counts for a run of the example calling `twin` `calls` times.
fn instructions(executable: &Path, twin: &str, calls: u64) -> u64 {
    let output = Command::new("valgrind")
        .args(["--tool=callgrind", "--callgrind-out-file=/dev/null"])
        .arg(executable)
        .args([twin, &calls.to_string()])
        .output()
        .expect("valgrind runs: install it (Debian package `valgrind`)");
    let report = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "valgrind failed:\n{report}");
    report
        .lines()
        .find_map(|line| line.split("Collected :").nth(1))
        .and_then(|count| count.trim().parse().ok())
        .unwrap_or_else(|| panic!("callgrind reported no instruction count:\n{report}"))
}

/// Instructions per call of `twin`: the difference between two runs of different lengths,
/// so that start-up and the first call's one-off work cancel out.
fn per_call(executable: &Path, twin: &str) -> f64 {
    const SHORT: u64 = 100_000;
    const LONG: u64 = 1_100_000;
    let short = instructions(executable, twin, SHORT);
    let long = instructions(executable, twin, LONG);
    #[allow(clippy::cast_precision_loss, reason = "counts far below 2^52")]
    let per_call = (long - short) as f64 / (LONG - SHORT) as f64;
    per_call
}

#[test]
fn feature_on_idle_point_costs_at_most_a_few_instructions() {
    let executable = build(&["enabled"]);
    let plain = per_call(&executable, "plain");
    let annotated = per_call(&executable, "annotated");
    let overhead = annotated - plain;
    println!(
        "instructions per call: plain {plain:.2}, annotated (idle) {annotated:.2}, \
         overhead {overhead:.4}"
    );
    // Whole instructions are compared: a run's count can differ by a handful of
    // instructions in total (start-up work outside the loop does not cancel exactly), which
    // shows as a few millionths per call, while a real regression adds a whole one per call.
    assert!(
        overhead.round() <= MAX_IDLE_INSTRUCTIONS,
        "an idle point costs {overhead:.4} instructions per call over the plain twin \
         ({annotated:.2} against {plain:.2}); the bound is {MAX_IDLE_INSTRUCTIONS}"
    );
}
