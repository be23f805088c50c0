//! With the `enabled` feature off, an annotated function compiles to the same machine code
//! as its plain twin; with it on, it does not (which shows the comparison can fail).
//!
//! The twins live in `fault-runtime/examples/zero_cost.rs`. This test builds that example
//! in release mode, once per feature state, with `--emit=asm`, and compares the two
//! functions' instructions. Identical functions may also be merged by the compiler into
//! one symbol, which is itself proof that their code is the same.
#![cfg(not(feature = "enabled"))]

use std::path::{Path, PathBuf};
use std::process::Command;

const ANNOTATED: &str = "9zero_cost15annotated_price";
const PLAIN: &str = "9zero_cost11plain_price";

/// Builds the example and returns its assembly text.
fn assembly(features: &[&str]) -> String {
    let target_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("zero-cost");
    let examples = target_dir.join("release").join("examples");
    // Stale files from another feature state would be mistaken for this build's.
    let _ = std::fs::remove_dir_all(&examples);
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"));
    let output = Command::new(env!("CARGO"))
        .current_dir(workspace)
        .args(["rustc", "--quiet", "--release", "-p", "fault-runtime"])
        .args(["--example", "zero_cost"])
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
    let asm = std::fs::read_dir(&examples)
        .expect("the build wrote its examples")
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .find(|path| path.extension().is_some_and(|e| e == "s"))
        .expect("the build wrote an assembly file");
    std::fs::read_to_string(asm).expect("the assembly file is readable")
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
    let asm = assembly(&[]);
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

    let enabled = assembly(&["enabled"]);
    let annotated = body(&enabled, ANNOTATED).expect("the annotated twin is in the binary");
    let plain = body(&enabled, PLAIN).expect("the plain twin is in the binary");
    assert_ne!(
        annotated, plain,
        "with the feature on the annotated twin must carry the check"
    );
}
