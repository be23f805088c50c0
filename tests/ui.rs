//! Compile tests of `#[fault_point]`: `ui/pass` must build and run, `ui/fail` and
//! `ui/fail-enabled` must fail with exactly the errors in the `.stderr` files next to them.
//!
//! The suite runs in both feature states (`cargo test --test ui`, and with `--features
//! enabled`); trybuild builds its cases with the features of this package, so the pass cases
//! run the expansion of the state under test.
//!
//! `ui/fail` holds the mistakes the attribute itself finds. Their errors are the same in both
//! states, because the attribute checks its arguments before it looks at the feature and
//! re-emits the function unchanged on error.
//!
//! `ui/fail-enabled` holds type errors in the user's tokens (a facet value, the error type,
//! an `error = ...` expression), which only the compiler finds, and only once the feature
//! compiles them in. Their `.stderr` files show where rustc puts the caret: on the user's
//! offending tokens, not on the attribute.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/pass/*.rs");
    cases.compile_fail("tests/ui/fail/*.rs");
    #[cfg(feature = "enabled")]
    cases.compile_fail("tests/ui/fail-enabled/*.rs");
}
