//! Free functions, sync and async, of every return kind, under the strictest lints.
#![deny(warnings)]
#![deny(clippy::pedantic)]

use std::fmt;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use fault_runtime::{Fault, fault_point};

#[derive(Debug, PartialEq)]
struct PaymentError(String);

impl From<Fault> for PaymentError {
    fn from(fault: Fault) -> Self {
        PaymentError(fault.to_string())
    }
}

struct Request {
    customer_id: String,
    cents: u64,
}

#[fault_point(name = "payments.charge", facets(customer = req.customer_id, country))]
fn charge(req: &Request, country: &str) -> Result<u64, PaymentError> {
    if req.cents == 0 {
        return Err(PaymentError(format!("nothing to charge in {country}")));
    }
    Ok(req.cents)
}

#[fault_point(name = "payments.charge_async", facets(customer = req.customer_id, country))]
async fn charge_async(req: &Request, country: &str) -> Result<u64, PaymentError> {
    let cents = charge(req, country)?;
    Ok(cents)
}

#[fault_point(name = "io.read")]
fn read_config(path: &str) -> std::io::Result<String> {
    Ok(format!("config from {path}"))
}

#[fault_point(facets(id))]
fn find(id: u32) -> Option<&'static str> {
    (id == 1).then_some("one")
}

#[fault_point(facets(id))]
async fn find_async(id: u32) -> Option<&'static str> {
    find(id)
}

#[fault_point]
fn count() -> u32 {
    7
}

#[fault_point]
fn nothing() {}

#[fault_point]
async fn nothing_async() {}

#[fault_point(name = "numbers.evens")]
fn evens(limit: u32) -> impl Iterator<Item = u32> {
    (0..limit).filter(|n| n % 2 == 0)
}

// `-> ()` written out on purpose: the attribute must treat it as no return type.
#[allow(clippy::unused_unit)]
#[fault_point(name = "render.unit", facets(width = width * 2))]
fn render(width: usize) -> () {
    let _ = width;
}

/// A body that opens with items and inner attributes, and returns early through labels.
#[fault_point(name = "search.first_even")]
fn first_even(rows: &[Vec<u32>]) -> Option<u32> {
    #![allow(clippy::needless_continue)]
    use std::ops::Rem;

    const TWO: u32 = 2;

    'rows: for row in rows {
        for &n in row {
            if n == 0 {
                continue 'rows;
            }
            if n.rem(TWO) == 0 {
                return Some(n);
            }
        }
    }
    None
}

#[fault_point(name = "caller.location")]
#[track_caller]
fn caller_line() -> u32 {
    std::panic::Location::caller().line()
}

/// Drop order: the guard made first is dropped last, after the value returned is computed.
struct Trace<'a>(&'a std::cell::RefCell<Vec<&'static str>>, &'static str);

impl Drop for Trace<'_> {
    fn drop(&mut self) {
        self.0.borrow_mut().push(self.1);
    }
}

#[fault_point(name = "trace.drops")]
fn drops(log: &std::cell::RefCell<Vec<&'static str>>) -> usize {
    let _first = Trace(log, "first");
    let _second = Trace(log, "second");
    log.borrow().len()
}

struct Shown(u8);

impl fmt::Display for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "shown-{}", self.0)
    }
}

#[fault_point(facets(shown, double = shown.0 * 2))]
async fn show(shown: Shown) -> String {
    shown.to_string()
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

fn assert_send<T: Send>(value: T) -> T {
    value
}

pub fn main() {
    let req = Request {
        customer_id: "c-42".to_owned(),
        cents: 250,
    };
    assert_eq!(charge(&req, "NL"), Ok(250));
    let free = Request {
        customer_id: "c-7".to_owned(),
        cents: 0,
    };
    assert!(charge(&free, "NL").is_err());
    // The future of an async point is `Send`: no facet borrow is held across its `.await`.
    assert_eq!(block_on(assert_send(charge_async(&req, "NL"))), Ok(250));
    assert_eq!(read_config("a.toml").unwrap(), "config from a.toml");
    assert_eq!(find(1), Some("one"));
    assert_eq!(block_on(assert_send(find_async(2))), None);
    assert_eq!(count(), 7);
    nothing();
    block_on(assert_send(nothing_async()));
    assert_eq!(evens(5).collect::<Vec<_>>(), [0, 2, 4]);
    render(3);
    assert_eq!(first_even(&[vec![0, 4], vec![3, 6]]), Some(6));
    let line = line!() + 1;
    assert_eq!(caller_line(), line);
    let log = std::cell::RefCell::new(Vec::new());
    assert_eq!(drops(&log), 0);
    assert_eq!(*log.borrow(), ["second", "first"]);
    assert_eq!(block_on(show(Shown(4))), "shown-4");
}
