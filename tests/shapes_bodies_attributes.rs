//! `#[fault_point]` on bodies with inner attributes, nested returns, labels, early returns
//! and recursion, and next to every attribute a function may carry.
//!
//! Each function behaves exactly as its plain self when no attack aims at it, in both
//! feature states. The attributes around it keep their effect: `#[track_caller]` still
//! reports the caller's line, `#[must_use]` and `#[deprecated]` still warn (proven by
//! `#[expect]`, which fails when the lint does not fire), `#[cfg]` still removes.
//!
//! The lints below are denied so that this file is also the lint check of the expansion on
//! these shapes, in both feature states.
#![deny(warnings, clippy::all, clippy::pedantic)]

use std::cell::RefCell;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;

use fault_runtime::{Attack, Fault, fault_point};

mod support;

use support::{block_on, error_attack, start};

#[derive(Debug, PartialEq)]
enum ShapeError {
    Negative(i64),
    /// An injected fault, with the id of the attack that injected it.
    Injected(String),
}

impl From<Fault> for ShapeError {
    fn from(fault: Fault) -> Self {
        ShapeError::Injected(fault.attack_id().to_owned())
    }
}

fn injected(attack_id: &str) -> ShapeError {
    ShapeError::Injected(attack_id.to_owned())
}

// ---------------------------------------------------------------------------------------
// Bodies
// ---------------------------------------------------------------------------------------

/// Inner attributes stay first in the body and still apply to all of it: without them,
/// `spare` is an unused variable and `Lowered` a non-camel-case type, both denied here.
#[fault_point(name = "shapes.inner_attributes")]
fn with_inner_attributes(n: u8) -> Option<u8> {
    #![expect(
        unused_variables,
        reason = "the inner attribute is the shape under test"
    )]
    #![allow(non_camel_case_types)]

    struct lowered(u8);

    let spare = n;
    n.checked_add(lowered(1).0)
}

/// `return` in a closure and in a nested function returns from them: the outer function
/// goes on.
#[fault_point(name = "shapes.nested_returns")]
fn clamp_and_sum(values: &[i64]) -> Result<i64, ShapeError> {
    fn non_negative(value: i64) -> i64 {
        if value < 0 {
            return 0;
        }
        value
    }

    let capped = |value: i64| {
        if value > 100 {
            return 100;
        }
        value
    };
    let mut sum = 0;
    for &value in values {
        if value < -1000 {
            return Err(ShapeError::Negative(value));
        }
        sum += capped(non_negative(value));
    }
    Ok(sum)
}

#[test]
fn inner_attributes_and_returns_in_closures_and_nested_fns() {
    assert_eq!(with_inner_attributes(1), Some(2));
    assert_eq!(with_inner_attributes(255), None);
    assert_eq!(clamp_and_sum(&[-5, 7, 500]), Ok(107));
    assert_eq!(clamp_and_sum(&[1, -2000]), Err(ShapeError::Negative(-2000)));
    if fault_runtime::ENABLED {
        let _inner = error_attack("shapes-inner-attributes", "shapes.inner_attributes");
        let _nested = error_attack("shapes-nested-returns", "shapes.nested_returns");
        assert_eq!(with_inner_attributes(1), None);
        assert_eq!(
            clamp_and_sum(&[-5, 7, 500]),
            Err(injected("shapes-nested-returns"))
        );
    }
}

/// A labelled loop left with a value, and a labelled block.
#[fault_point(name = "shapes.labels", facets(target))]
fn find_pair(rows: &[&[u32]], target: u32) -> Option<(usize, usize)> {
    let mut row = 0;
    let found = 'outer: loop {
        let Some(values) = rows.get(row) else {
            break 'outer None;
        };
        for (column, value) in values.iter().enumerate() {
            if *value == target {
                break 'outer Some((row, column));
            }
        }
        row += 1;
    };
    let widest = 'width: {
        if rows.is_empty() {
            break 'width 0;
        }
        rows.iter().map(|values| values.len()).max().unwrap_or(0)
    };
    found.filter(|&(_, column)| column < widest)
}

#[test]
fn labelled_loops_and_blocks() {
    let rows: [&[u32]; 2] = [&[1, 2], &[3, 4]];
    assert_eq!(find_pair(&rows, 4), Some((1, 1)));
    assert_eq!(find_pair(&rows, 9), None);
    if fault_runtime::ENABLED {
        let _attack = start(
            Attack::builder("shapes-labels", "shapes.labels")
                .facet("target", "2")
                .error("injected")
                .build()
                .unwrap(),
        );
        assert_eq!(find_pair(&rows, 2), None);
        assert_eq!(find_pair(&rows, 3), Some((1, 0)));
    }
}

/// `return` in an `async fn` returns from its future.
#[fault_point(name = "shapes.async_early_return", facets(value))]
async fn classify(value: i64) -> Result<&'static str, ShapeError> {
    if value < -100 {
        return Err(ShapeError::Negative(value));
    }
    if value < 0 {
        return Ok("negative");
    }
    tokio::task::yield_now().await;
    Ok(if value == 0 { "zero" } else { "positive" })
}

#[test]
fn early_return_in_an_async_fn() {
    assert_eq!(block_on(classify(-1)), Ok("negative"));
    assert_eq!(block_on(classify(0)), Ok("zero"));
    assert_eq!(block_on(classify(-101)), Err(ShapeError::Negative(-101)));
    if fault_runtime::ENABLED {
        let _attack = start(
            Attack::builder("shapes-async-return", "shapes.async_early_return")
                .facet("value", "-1")
                .error("injected")
                .build()
                .unwrap(),
        );
        assert_eq!(block_on(classify(-1)), Err(injected("shapes-async-return")));
        assert_eq!(block_on(classify(5)), Ok("positive"));
    }
}

#[fault_point(name = "shapes.recursion", facets(n))]
fn factorial(n: u64) -> Result<u64, ShapeError> {
    if n <= 1 {
        return Ok(1);
    }
    let below = factorial(n - 1)?;
    n.checked_mul(below).ok_or(ShapeError::Negative(0))
}

#[fault_point(name = "shapes.recursion_async", facets(n))]
async fn depth(n: u32) -> Result<u32, ShapeError> {
    if n == 0 {
        tokio::task::yield_now().await;
        return Ok(0);
    }
    let below: Pin<Box<dyn Future<Output = Result<u32, ShapeError>>>> = Box::pin(depth(n - 1));
    Ok(below.await? + 1)
}

#[test]
fn recursion_sync_and_async() {
    assert_eq!(factorial(5), Ok(120));
    assert_eq!(factorial(30), Err(ShapeError::Negative(0)));
    assert_eq!(block_on(depth(4)), Ok(4));
    if fault_runtime::ENABLED {
        // The attacks aim at one depth; the error comes up through every `?` above it.
        let _sync = start(
            Attack::builder("shapes-recursion", "shapes.recursion")
                .facet("n", "2")
                .error("injected")
                .build()
                .unwrap(),
        );
        let _async = start(
            Attack::builder("shapes-recursion-async", "shapes.recursion_async")
                .facet("n", "1")
                .error("injected")
                .build()
                .unwrap(),
        );
        assert_eq!(factorial(5), Err(injected("shapes-recursion")));
        assert_eq!(factorial(1), Ok(1));
        assert_eq!(block_on(depth(4)), Err(injected("shapes-recursion-async")));
        assert_eq!(block_on(depth(0)), Ok(0));
    }
}

thread_local! {
    static STEPS: RefCell<Vec<&'static str>> = const { RefCell::new(Vec::new()) };
}

/// A statement made of a braced macro call, which runs code.
macro_rules! step {
    { $name:literal } => {
        STEPS.with(|steps| steps.borrow_mut().push($name))
    };
}

/// A body that opens with a braced macro call. It is a statement that runs, not an item,
/// so the check must come before it.
#[fault_point(name = "shapes.body_opens_with_macro")]
fn stepped() -> Result<usize, ShapeError> {
    step! { "first" }
    step!("second");
    let count = STEPS.with(|steps| steps.borrow().len());
    if count > 100 {
        return Err(ShapeError::Negative(0));
    }
    Ok(count)
}

fn take_steps() -> Vec<&'static str> {
    STEPS.with(|steps| std::mem::take(&mut *steps.borrow_mut()))
}

#[test]
fn a_body_that_opens_with_a_macro_call() {
    assert_eq!(stepped(), Ok(2));
    assert_eq!(take_steps(), ["first", "second"]);
    if fault_runtime::ENABLED {
        let _attack = error_attack("shapes-opens-with-macro", "shapes.body_opens_with_macro");
        assert_eq!(stepped(), Err(injected("shapes-opens-with-macro")));
        assert!(take_steps().is_empty(), "no statement of the body ran");
    }
}

// ---------------------------------------------------------------------------------------
// Attributes
// ---------------------------------------------------------------------------------------

/// Documented before the attribute. This line names a FaultPoint without backticks, which
/// `clippy::doc_markdown` reports: the expectation proves the doc is still on the function.
#[expect(clippy::doc_markdown, reason = "proves the doc comment is kept")]
#[fault_point(name = "shapes.doc_before")]
fn documented_before(n: u32) -> u32 {
    n + 1
}

#[expect(clippy::doc_markdown, reason = "proves the doc comment is kept")]
#[fault_point(name = "shapes.doc_after")]
/// Documented after the attribute, naming a FaultPoint as well.
fn documented_after(n: u32) -> u32 {
    n + 2
}

#[must_use = "the total is the whole point"]
#[fault_point(name = "shapes.must_use_outer")]
fn must_use_outer(n: u32) -> u32 {
    n * 2
}

#[fault_point(name = "shapes.must_use_inner")]
#[must_use]
fn must_use_inner(n: u32) -> u32 {
    n * 3
}

/// `#[must_use]` still warns on a discarded result, in both attribute orders.
#[expect(unused_must_use, reason = "proves `#[must_use]` is kept")]
fn discard_must_use_outer() {
    must_use_outer(1);
}

#[expect(unused_must_use, reason = "proves `#[must_use]` is kept")]
fn discard_must_use_inner() {
    must_use_inner(1);
}

#[inline]
#[fault_point(name = "shapes.inline")]
fn inlined(n: u32) -> u32 {
    n + 4
}

// `clippy::inline_always` must still fire on the user's attribute, under clippy only (rustc
// does not check expectations of clippy's lints).
#[expect(
    clippy::inline_always,
    reason = "proves clippy still sees the user's attribute"
)]
#[fault_point(name = "shapes.inline_always")]
#[inline(always)]
fn always_inlined(n: u32) -> Option<u32> {
    n.checked_add(5)
}

#[cold]
#[fault_point(name = "shapes.cold")]
fn rarely(n: u32) -> u32 {
    n + 6
}

#[test]
fn doc_must_use_inline_and_cold() {
    assert_eq!(documented_before(1), 2);
    assert_eq!(documented_after(1), 3);
    assert_eq!(must_use_outer(2), 4);
    assert_eq!(must_use_inner(2), 6);
    discard_must_use_outer();
    discard_must_use_inner();
    assert_eq!(inlined(1), 5);
    assert_eq!(always_inlined(1), Some(6));
    assert_eq!(rarely(1), 7);
    if fault_runtime::ENABLED {
        let _attack = error_attack("shapes-inline-always", "shapes.inline_always");
        assert_eq!(always_inlined(1), None);
    }
}

#[fault_point(name = "shapes.track_caller_inner")]
#[track_caller]
fn caller_line_inner() -> u32 {
    Location::caller().line()
}

#[track_caller]
#[fault_point(name = "shapes.track_caller_outer", facets(tag))]
fn caller_line_outer(tag: &str) -> Result<u32, ShapeError> {
    if tag.is_empty() {
        return Err(ShapeError::Negative(0));
    }
    Ok(Location::caller().line())
}

#[cfg_attr(all(), track_caller)]
#[fault_point(name = "shapes.track_caller_cfg_attr")]
fn caller_line_cfg_attr() -> u32 {
    Location::caller().line()
}

#[track_caller]
#[fault_point(name = "shapes.track_caller_file")]
fn caller_file() -> &'static str {
    Location::caller().file()
}

#[test]
fn track_caller_reports_the_callers_line() {
    assert_eq!(caller_line_inner(), line!());
    assert_eq!(caller_line_outer("idle"), Ok(line!()));
    assert_eq!(caller_line_cfg_attr(), line!());
    assert_eq!(caller_file(), file!());
    if fault_runtime::ENABLED {
        // Armed, the point's slow path runs before the body: the caller is still this line.
        let _latency = start(
            Attack::builder("shapes-track-caller", "shapes.track_caller_inner")
                .latency(std::time::Duration::from_millis(1))
                .build()
                .unwrap(),
        );
        let _error = start(
            Attack::builder("shapes-track-caller-outer", "shapes.track_caller_outer")
                .facet("tag", "armed")
                .error("injected")
                .build()
                .unwrap(),
        );
        assert_eq!(caller_line_inner(), line!());
        assert_eq!(caller_line_outer("other"), Ok(line!()));
        assert_eq!(
            caller_line_outer("armed"),
            Err(injected("shapes-track-caller-outer"))
        );
    }
}

// `#[cfg]` before and after the attribute: the removed twins would clash with the kept ones
// if they were not removed.
#[cfg(any())]
#[fault_point(name = "shapes.cfg_removed_outer")]
fn configured() -> u32 {
    0
}

#[cfg(not(any()))]
#[fault_point(name = "shapes.cfg_kept_outer")]
fn configured() -> u32 {
    1
}

#[fault_point(name = "shapes.cfg_removed_inner")]
#[cfg(any())]
fn configured_inner() -> u32 {
    0
}

#[fault_point(name = "shapes.cfg_kept_inner")]
#[cfg(not(any()))]
fn configured_inner() -> u32 {
    2
}

#[cfg_attr(not(any()), must_use)]
#[fault_point(name = "shapes.cfg_attr")]
fn configured_must_use() -> u32 {
    3
}

#[expect(unused_must_use, reason = "proves `#[cfg_attr(.., must_use)]` is kept")]
fn discard_configured() {
    configured_must_use();
}

#[deprecated = "use `configured` instead"]
#[fault_point(name = "shapes.deprecated")]
fn old_configured(n: u32) -> Option<u32> {
    n.checked_add(4)
}

/// `#[deprecated]` still warns at the call: the expectation fails if it does not.
#[expect(deprecated, reason = "proves `#[deprecated]` is kept")]
fn call_deprecated() -> Option<u32> {
    old_configured(0)
}

#[test]
fn cfg_cfg_attr_and_deprecated() {
    assert_eq!(configured(), 1);
    assert_eq!(configured_inner(), 2);
    assert_eq!(configured_must_use(), 3);
    discard_configured();
    assert_eq!(call_deprecated(), Some(4));
    if fault_runtime::ENABLED {
        let names: Vec<&str> = fault_runtime::catalog()
            .iter()
            .map(|point| point.name)
            .filter(|name| name.starts_with("shapes.cfg_"))
            .collect();
        assert_eq!(
            names,
            [
                "shapes.cfg_attr",
                "shapes.cfg_kept_inner",
                "shapes.cfg_kept_outer"
            ]
        );
        let _attack = error_attack("shapes-deprecated", "shapes.deprecated");
        assert_eq!(call_deprecated(), None);
    }
}
