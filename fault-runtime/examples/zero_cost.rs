//! Two twins, one annotated and one plain, whose release machine code the test suite
//! compares (`tests/zero_cost.rs` in the workspace root).
//!
//! With the `enabled` feature off the attribute returns the function as written, so the
//! twins compile to the same instructions. With it on, the annotated twin gains the armed
//! check, which the same comparison detects.

use std::hint::black_box;

use fault_runtime::fault_point;

/// The annotated twin.
#[inline(never)]
#[fault_point(name = "zero_cost.price", facets(customer))]
pub fn annotated_price(customer: u64, cents: u64) -> Result<u64, String> {
    if cents == 0 {
        return Err(format!("customer {customer} ordered nothing"));
    }
    Ok(cents
        .wrapping_mul(3)
        .rotate_left(u32::try_from(customer % 64).unwrap_or(0)))
}

/// The plain twin: the same body without the attribute.
#[inline(never)]
pub fn plain_price(customer: u64, cents: u64) -> Result<u64, String> {
    if cents == 0 {
        return Err(format!("customer {customer} ordered nothing"));
    }
    Ok(cents
        .wrapping_mul(3)
        .rotate_left(u32::try_from(customer % 64).unwrap_or(0)))
}

/// Without arguments: calls both twins once and checks that they agree.
///
/// With `plain N` or `annotated N`: calls that twin `N` times, for instruction counts under
/// `valgrind --tool=callgrind` (the test suite compares the two).
fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(twin), Some(calls)) = (args.next(), args.next()) else {
        let annotated = annotated_price(black_box(7), black_box(100));
        let plain = plain_price(black_box(7), black_box(100));
        assert_eq!(annotated, plain);
        println!("annotated and plain twins agree: {annotated:?}");
        return;
    };
    let calls: u64 = calls
        .parse()
        .expect("the number of calls is a whole number");
    let price = match twin.as_str() {
        "plain" => plain_price,
        "annotated" => annotated_price,
        other => panic!("unknown twin {other:?}: use `plain` or `annotated`"),
    };
    let mut total = 0_u64;
    for customer in 0..calls {
        total =
            total.wrapping_add(black_box(price)(black_box(customer), black_box(100)).unwrap_or(0));
    }
    println!("{twin}: {calls} calls, total {total}");
}
