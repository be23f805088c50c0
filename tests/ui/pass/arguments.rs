//! `error = ...` as a closure and as a path, and `crate = ...` through a re-export.
#![deny(warnings)]
#![deny(clippy::pedantic)]

use fault_runtime::{Fault, fault_point};

#[derive(Debug, PartialEq)]
enum CheckoutError {
    Injected(String),
    Empty,
}

impl CheckoutError {
    fn from_fault(fault: Fault) -> Self {
        CheckoutError::Injected(String::from(fault))
    }
}

#[fault_point(name = "checkout.pay", error = |fault| CheckoutError::Injected(fault.to_string()))]
fn pay(cents: u64) -> Result<u64, CheckoutError> {
    if cents == 0 {
        Err(CheckoutError::Empty)
    } else {
        Ok(cents)
    }
}

#[fault_point(name = "checkout.ship", facets(address), error = CheckoutError::from_fault)]
async fn ship(address: &str) -> Result<String, CheckoutError> {
    Ok(format!("shipped to {address}"))
}

/// A runtime reached through a re-export, as a crate that wraps fault-runtime would offer it.
pub mod support {
    pub use fault_runtime as chaos;
}

mod inventory {
    use fault_runtime::fault_point;

    #[fault_point(name = "inventory.reserve", crate = super::support::chaos, facets(sku))]
    pub fn reserve(sku: &str) -> Result<u32, String> {
        if sku.is_empty() {
            Err("no sku".to_owned())
        } else {
            Ok(1)
        }
    }

    #[fault_point(crate = ::fault_runtime)]
    pub fn release() {}
}

pub fn main() {
    assert_eq!(pay(10), Ok(10));
    assert_eq!(pay(0), Err(CheckoutError::Empty));
    let ship = std::pin::pin!(ship("Main St"));
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    assert_eq!(
        ship.poll(&mut cx),
        std::task::Poll::Ready(Ok("shipped to Main St".to_owned()))
    );
    assert_eq!(inventory::reserve("sku-1"), Ok(1));
    inventory::release();
}
