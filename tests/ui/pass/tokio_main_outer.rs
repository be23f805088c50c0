//! `#[fault_point]` over `#[tokio::main]`: the attribute sees the `async fn main` as written
//! and instruments it as an `async fn`; tokio then runs that body on its runtime.
#![deny(warnings)]
#![deny(clippy::pedantic)]

use fault_runtime::fault_point;

#[fault_point(name = "stacking.tokio_main_outer")]
#[tokio::main(flavor = "current_thread")]
async fn main() {
    let answer = tokio::spawn(async { 6 * 7 }).await.unwrap();
    assert_eq!(answer, 42);

    let catalog = fault_runtime::catalog();
    if fault_runtime::ENABLED {
        let point = catalog
            .iter()
            .find(|point| point.name == "stacking.tokio_main_outer")
            .expect("main is a point in the catalog");
        assert!(point.is_async, "instrumented before tokio made it sync");
        assert!(!point.impacts.error, "`main` returns `()`");
    } else {
        assert!(catalog.is_empty());
    }
}
