//! Compile tests of `#[fault_point]`: `ui/pass` must build and run, `ui/fail` must fail with
//! exactly the errors in the `.stderr` files next to them.
//!
//! The suite runs in both feature states (`cargo test --test ui`, and with `--features
//! enabled`); trybuild builds its cases with the features of this package, so the pass cases
//! run the expansion of the state under test. The fail cases' errors are the same in both,
//! because the attribute checks its arguments before it looks at the feature and re-emits
//! the function unchanged on error.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/pass/*.rs");
    cases.compile_fail("tests/ui/fail/*.rs");
}
