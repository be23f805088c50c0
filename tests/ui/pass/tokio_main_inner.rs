//! `#[tokio::main]` over `#[fault_point]`: tokio turns the `async fn main` into a plain
//! `fn main` that builds a runtime, and the attribute instruments that function.
#![deny(warnings)]
#![deny(clippy::pedantic)]

use fault_runtime::fault_point;

#[derive(Debug)]
struct StartupError(String);

impl From<fault_runtime::Fault> for StartupError {
    fn from(fault: fault_runtime::Fault) -> Self {
        StartupError(fault.to_string())
    }
}

#[tokio::main(flavor = "current_thread")]
#[fault_point(name = "stacking.tokio_main_inner")]
async fn main() -> Result<(), StartupError> {
    let answer = tokio::spawn(async { "42".parse::<u32>() })
        .await
        .unwrap()
        .map_err(|error| StartupError(error.to_string()))?;
    assert_eq!(answer, 42);

    let catalog = fault_runtime::catalog();
    if fault_runtime::ENABLED {
        let point = catalog
            .iter()
            .find(|point| point.name == "stacking.tokio_main_inner")
            .expect("main is a point in the catalog");
        assert!(point.impacts.error, "`main` returns a `Result`");
    } else {
        assert!(catalog.is_empty());
    }
    Ok(())
}
