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

fn main() {
    let annotated = annotated_price(black_box(7), black_box(100));
    let plain = plain_price(black_box(7), black_box(100));
    assert_eq!(annotated, plain);
    println!("annotated and plain twins agree: {annotated:?}");
}
