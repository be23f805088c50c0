//! What the expansion registers in the catalog, and what a struck point returns.
//!
//! With the feature off there is no catalog and no attack can start; with it on, the points
//! below are in the catalog before any of them ran, and an error attack returns through each
//! function's own error type.
#![deny(warnings)]
#![deny(clippy::pedantic)]

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use fault_runtime::{Fault, fault_point};

#[derive(Debug, PartialEq)]
struct LedgerError(String);

impl From<Fault> for LedgerError {
    fn from(fault: Fault) -> Self {
        LedgerError(fault.message().to_owned())
    }
}

#[fault_point(name = "ledger.post", facets(account, cents))]
fn post(account: &str, cents: i64) -> Result<i64, LedgerError> {
    // A parameter read only by `facets` is unused with the feature off: use it, or allow it.
    let _ = account;
    Ok(cents)
}

#[fault_point(
    name = "ledger.post_async",
    facets(account),
    error = |fault| LedgerError(format!("async: {}", fault.message())),
)]
async fn post_async(account: &str) -> Result<(), LedgerError> {
    let _ = account;
    Ok(())
}

#[fault_point(name = "ledger.lookup")]
fn lookup(account: &str) -> Option<usize> {
    Some(account.len())
}

#[fault_point]
fn audit() -> u32 {
    1
}

fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}

fn check_catalog() {
    let catalog = fault_runtime::catalog();
    let point = |name: &str| catalog.iter().find(|point| point.name == name);

    let post_point = point("ledger.post").expect("ledger.post is in the catalog");
    assert_eq!(post_point.facet_keys, ["account", "cents"]);
    assert!(
        post_point.file.ends_with("attacks.rs"),
        "{}",
        post_point.file
    );
    // The line of the function's name, not of the attribute.
    assert_eq!(post_point.line, 25);
    assert!(!post_point.is_async);
    assert!(post_point.impacts.error);

    let async_point = point("ledger.post_async").expect("ledger.post_async is in the catalog");
    assert!(async_point.is_async);
    assert!(async_point.impacts.error);
    assert!(point("ledger.lookup").expect("ledger.lookup").impacts.error);

    let audit_point = catalog
        .iter()
        .find(|point| point.name.ends_with("::audit"))
        .expect("the default name is the module path and the function's name");
    assert_eq!(audit_point.name, format!("{}::audit", module_path!()));
    assert!(!audit_point.impacts.error, "a u32 cannot carry an error");
    assert!(audit_point.impacts.latency);
}

fn check_strikes() {
    let guards = fault_runtime::start_toml(
        r#"
        [[attack]]
        id = "ui-post"
        point = "ledger.post"
        facets = { account = "acc-1" }
        error = "ledger down"

        [[attack]]
        id = "ui-post-async"
        point = "ledger.post_async"
        error = "ledger slow"

        [[attack]]
        id = "ui-lookup"
        point = "ledger.lookup"
        error = "gone"
        "#,
    )
    .expect("the attacks start");

    // Only the aimed-at account is hit.
    assert_eq!(post("acc-1", 5), Err(LedgerError("ledger down".to_owned())));
    assert_eq!(post("acc-2", 5), Ok(5));
    assert_eq!(
        block_on(post_async("acc-1")),
        Err(LedgerError("async: ledger slow".to_owned()))
    );
    assert_eq!(lookup("acc-1"), None);
    assert_eq!(audit(), 1);

    let refused = fault_runtime::start_toml(&format!(
        "[[attack]]\nid = \"ui-audit\"\npoint = \"{}::audit\"\nerror = \"cannot\"\n",
        module_path!()
    ));
    assert!(
        refused.is_err(),
        "an error attack on a point that cannot carry one is refused"
    );

    drop(guards);
    assert_eq!(post("acc-1", 5), Ok(5));
}

pub fn main() {
    if fault_runtime::ENABLED {
        check_catalog();
        check_strikes();
    } else {
        assert!(fault_runtime::catalog().is_empty());
        assert_eq!(post("acc-1", 5), Ok(5));
        assert_eq!(block_on(post_async("acc-1")), Ok(()));
        assert_eq!(lookup("acc"), Some(3));
        assert_eq!(audit(), 1);
    }
}
