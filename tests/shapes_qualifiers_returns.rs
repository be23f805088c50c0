//! `#[fault_point]` on every qualifier, ABI, visibility and return type.
//!
//! Each function behaves exactly as its plain self when no attack aims at it, in both
//! feature states. With the feature on, an attack reaches the caller through the shape under
//! test: an error through the function's own `Result` (and its `From` conversions) or as
//! `None`, a panic before a diverging body runs, latency on an `async unsafe fn`.
//!
//! `extern "C"` functions and synchronous functions that return a future are checked idle
//! and in the catalog only: which impacts they may take is decided elsewhere.
//!
//! The lints below are denied so that this file is also the lint check of the expansion on
//! these shapes, in both feature states.
#![deny(warnings, clippy::all, clippy::pedantic)]

use std::any::Any;
use std::cell::Cell;
use std::error::Error;
use std::future::Future;
use std::io::{self, Read};
use std::num::ParseIntError;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::time::{Duration, Instant};

use fault_runtime::{Attack, AttackGuard, Fault, fault_point};

mod support;

use support::{block_on, error_attack, start};

#[derive(Debug, PartialEq)]
enum ShapeError {
    Parse(ParseIntError),
    Missing(usize),
    /// An injected fault, with the id of the attack that injected it.
    Injected(String),
}

impl From<ParseIntError> for ShapeError {
    fn from(error: ParseIntError) -> Self {
        ShapeError::Parse(error)
    }
}

impl From<Fault> for ShapeError {
    fn from(fault: Fault) -> Self {
        ShapeError::Injected(fault.attack_id().to_owned())
    }
}

fn panic_attack(id: &str, point: &str, message: &str) -> AttackGuard {
    start(Attack::builder(id, point).panic(message).build().unwrap())
}

/// The point is in the catalog with the feature on, and the catalog is empty with it off.
fn assert_catalogued(point: &str) {
    let found = fault_runtime::catalog()
        .iter()
        .any(|info| info.name == point);
    assert_eq!(found, fault_runtime::ENABLED, "is {point} in the catalog");
}

fn panic_message(payload: &(dyn Any + Send)) -> Option<&str> {
    payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
}

// ---------------------------------------------------------------------------------------
// Qualifiers and ABI
// ---------------------------------------------------------------------------------------

/// # Safety
///
/// `index` must be in bounds when `checked` is false.
#[fault_point(name = "shapes.unsafe_fn", facets(index))]
unsafe fn value_at(values: &[u32], index: usize, checked: bool) -> Option<u32> {
    if checked && index >= values.len() {
        return None;
    }
    // SAFETY: in bounds, checked above or promised by the caller.
    Some(unsafe { *values.get_unchecked(index) })
}

#[test]
fn an_unsafe_fn() {
    let values = [4, 5, 6];
    // SAFETY: 1 is in bounds; 9 is checked.
    unsafe {
        assert_eq!(value_at(&values, 1, false), Some(5));
        assert_eq!(value_at(&values, 9, true), None);
    }
    if fault_runtime::ENABLED {
        let _attack = start(
            Attack::builder("shapes-unsafe-fn", "shapes.unsafe_fn")
                .facet("index", "2")
                .error("gone")
                .build()
                .unwrap(),
        );
        // SAFETY: both in bounds.
        unsafe {
            assert_eq!(value_at(&values, 2, false), None);
            assert_eq!(value_at(&values, 1, false), Some(5));
        }
    }
}

/// # Safety
///
/// `index` must be in bounds of `values`.
#[fault_point(name = "shapes.async_unsafe_fn")]
async unsafe fn value_at_later(values: &[u32], index: usize) -> Result<u32, ShapeError> {
    tokio::task::yield_now().await;
    if values.is_empty() {
        return Err(ShapeError::Missing(index));
    }
    // SAFETY: the caller promises `index` is in bounds.
    Ok(unsafe { *values.get_unchecked(index) })
}

#[test]
fn an_async_unsafe_fn() {
    let values = [7, 8];
    // SAFETY: in bounds, and the empty slice returns before any read.
    unsafe {
        assert_eq!(block_on(value_at_later(&values, 1)), Ok(8));
        assert_eq!(
            block_on(value_at_later(&[], 3)),
            Err(ShapeError::Missing(3))
        );
    }
    if fault_runtime::ENABLED {
        let latency = Duration::from_millis(20);
        let slow = start(
            Attack::builder("shapes-async-unsafe-latency", "shapes.async_unsafe_fn")
                .latency(latency)
                .build()
                .unwrap(),
        );
        let began = Instant::now();
        // SAFETY: in bounds.
        assert_eq!(block_on(unsafe { value_at_later(&values, 0) }), Ok(7));
        assert!(began.elapsed() >= latency, "the delay was served");
        assert_eq!(slow.status().hits, 1);
        drop(slow);

        let _broken = error_attack("shapes-async-unsafe-error", "shapes.async_unsafe_fn");
        // SAFETY: in bounds.
        assert_eq!(
            block_on(unsafe { value_at_later(&values, 0) }),
            Err(ShapeError::Injected("shapes-async-unsafe-error".into()))
        );
    }
}

#[fault_point(name = "shapes.extern_c")]
extern "C" fn doubled(x: i32) -> i32 {
    x * 2
}

// The symbol name is unique to this test binary: no other code defines it.
#[fault_point(name = "shapes.extern_c_no_mangle")]
#[unsafe(no_mangle)]
extern "C" fn fault_shapes_tripled_c(x: i32) -> i32 {
    x * 3
}

/// The `no_mangle` function reached by its symbol, as C code would reach it.
mod by_symbol {
    unsafe extern "C" {
        pub(crate) fn fault_shapes_tripled_c(x: i32) -> i32;
    }
}

#[test]
fn an_extern_c_fn_with_and_without_no_mangle() {
    assert_eq!(doubled(21), 42);
    let as_c_pointer: extern "C" fn(i32) -> i32 = doubled;
    assert_eq!(as_c_pointer(4), 8);
    assert_eq!(fault_shapes_tripled_c(5), 15);
    // SAFETY: the symbol is defined above with this exact signature.
    assert_eq!(unsafe { by_symbol::fault_shapes_tripled_c(7) }, 21);
    assert_catalogued("shapes.extern_c");
    assert_catalogued("shapes.extern_c_no_mangle");
}

mod visibility {
    pub(crate) mod inner {
        use fault_runtime::fault_point;

        #[fault_point(name = "shapes.pub_crate")]
        pub(crate) fn crate_wide(x: u8) -> u8 {
            x.wrapping_add(1)
        }

        #[fault_point(name = "shapes.pub_in_path")]
        pub(in crate::visibility) fn module_wide(x: u8) -> u8 {
            x.wrapping_add(2)
        }

        #[fault_point(name = "shapes.pub_super")]
        pub(super) fn parent_only(x: u8) -> Option<u8> {
            x.checked_add(3)
        }
    }

    pub(crate) fn through_parent(x: u8) -> (u8, Option<u8>) {
        (inner::module_wide(x), inner::parent_only(x))
    }
}

#[test]
fn restricted_visibilities() {
    assert_eq!(visibility::inner::crate_wide(1), 2);
    assert_eq!(visibility::through_parent(1), (3, Some(4)));
    assert_eq!(visibility::through_parent(255), (1, None));
    if fault_runtime::ENABLED {
        let _attack = error_attack("shapes-pub-super", "shapes.pub_super");
        assert_eq!(visibility::through_parent(1), (3, None));
    }
}

// ---------------------------------------------------------------------------------------
// Return types
// ---------------------------------------------------------------------------------------

#[fault_point(name = "shapes.returns_nothing")]
fn count_call(calls: &Cell<u32>) {
    calls.set(calls.get() + 1);
}

// `-> ()` written out on purpose: it is the shape under test.
#[expect(
    clippy::unused_unit,
    reason = "the explicit unit return is the shape under test"
)]
#[fault_point(name = "shapes.returns_unit")]
fn count_call_unit(calls: &Cell<u32>) -> () {
    calls.set(calls.get() + 10);
}

#[test]
fn no_return_type_and_an_explicit_unit() {
    let calls = Cell::new(0);
    count_call(&calls);
    count_call_unit(&calls);
    assert_eq!(calls.get(), 11);
    if fault_runtime::ENABLED {
        // Such points cannot carry an error: the attack is refused, naming the point.
        let refused = fault_runtime::start(
            Attack::builder("shapes-unit-error", "shapes.returns_unit")
                .error("cannot")
                .build()
                .unwrap(),
        )
        .expect_err("an error attack on a `-> ()` point is refused");
        assert!(
            refused.to_string().contains("shapes.returns_unit"),
            "{refused}"
        );

        let _attack = panic_attack("shapes-nothing-panic", "shapes.returns_nothing", "drill");
        let payload =
            catch_unwind(AssertUnwindSafe(|| count_call(&calls))).expect_err("the call panics");
        assert_eq!(panic_message(&*payload), Some("drill"));
        assert_eq!(calls.get(), 11, "the body did not run");
    }
}

#[fault_point(name = "shapes.never_panics", facets(reason))]
fn give_up(reason: &str) -> ! {
    panic!("gave up: {reason}")
}

#[fault_point(name = "shapes.never_loops")]
fn spin_until(limit: u32) -> ! {
    let mut turns = 0_u32;
    loop {
        turns += 1;
        assert!(turns < limit, "spun {turns} times");
    }
}

#[test]
fn a_never_returning_fn_that_panics_or_loops() {
    let payload = catch_unwind(|| give_up("tired")).expect_err("it panics");
    assert_eq!(panic_message(&*payload), Some("gave up: tired"));
    let payload = catch_unwind(|| spin_until(3)).expect_err("it panics");
    assert_eq!(panic_message(&*payload), Some("spun 3 times"));
    if fault_runtime::ENABLED {
        // The check runs before the diverging body: the attack's panic comes first.
        let _attack = panic_attack("shapes-never", "shapes.never_loops", "drill: never");
        let payload = catch_unwind(|| spin_until(3)).expect_err("it panics");
        assert_eq!(panic_message(&*payload), Some("drill: never"));
    }
}

/// `?` converts both a `ParseIntError` and (with the feature on) the fault through `From`.
#[fault_point(name = "shapes.result")]
fn add_numbers(left: &str, right: &str) -> Result<u32, ShapeError> {
    let left: u32 = left.trim().parse()?;
    let right = right.trim().parse::<u32>()?;
    Ok(left + right)
}

/// Calls an annotated function through `?`, converting nothing further.
fn add_three(a: &str, b: &str, c: &str) -> Result<u32, ShapeError> {
    let partial = add_numbers(a, b)?;
    Ok(partial + c.parse::<u32>()?)
}

#[test]
fn a_result_with_question_marks_and_from_conversions() {
    assert_eq!(add_numbers("2", " 3"), Ok(5));
    assert!(matches!(add_numbers("2", "x"), Err(ShapeError::Parse(_))));
    assert_eq!(add_three("1", "2", "3"), Ok(6));
    if fault_runtime::ENABLED {
        let _attack = error_attack("shapes-result", "shapes.result");
        let injected = Err(ShapeError::Injected("shapes-result".into()));
        assert_eq!(add_numbers("2", "3"), injected);
        assert_eq!(add_three("1", "2", "3"), injected);
    }
}

#[fault_point(name = "shapes.io_result")]
fn read_text(mut source: impl Read) -> io::Result<String> {
    let mut text = String::new();
    source.read_to_string(&mut text)?;
    Ok(text)
}

#[test]
fn an_io_result() {
    assert_eq!(read_text(&b"payload"[..]).unwrap(), "payload");
    let invalid = read_text(&[0xff_u8, 0xfe][..]).unwrap_err();
    assert_eq!(invalid.kind(), io::ErrorKind::InvalidData);
    if fault_runtime::ENABLED {
        let _attack = error_attack("shapes-io", "shapes.io_result");
        let error = read_text(&b"payload"[..]).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::Other);
        let fault = error.get_ref().and_then(|e| e.downcast_ref::<Fault>());
        assert_eq!(fault.map(Fault::attack_id), Some("shapes-io"));
    }
}

#[fault_point(name = "shapes.boxed_error")]
fn parse_port(text: &str) -> Result<u16, Box<dyn Error>> {
    let port: u16 = text.parse()?;
    if port == 0 {
        return Err("port 0 is reserved".into());
    }
    Ok(port)
}

#[fault_point(name = "shapes.boxed_error_send_sync")]
fn parse_port_sendable(text: &str) -> Result<u16, Box<dyn Error + Send + Sync>> {
    let port = parse_port(text).map_err(|error| error.to_string())?;
    Ok(port)
}

#[test]
fn a_boxed_dyn_error() {
    assert_eq!(parse_port("8080").unwrap(), 8080);
    assert_eq!(
        parse_port("0").unwrap_err().to_string(),
        "port 0 is reserved"
    );
    assert!(parse_port("http").is_err());
    assert_eq!(parse_port_sendable("443").unwrap(), 443);
    if fault_runtime::ENABLED {
        let _attack = error_attack("shapes-boxed", "shapes.boxed_error");
        let error = parse_port("8080").unwrap_err();
        let fault = error
            .downcast_ref::<Fault>()
            .expect("the error is the fault");
        assert_eq!(fault.attack_id(), "shapes-boxed");
        // The outer function sees the inner one's injected error as its own message.
        assert_eq!(
            parse_port_sendable("8080").unwrap_err().to_string(),
            "injected"
        );

        let _outer = error_attack("shapes-boxed-sendable", "shapes.boxed_error_send_sync");
        let error = parse_port_sendable("8080").unwrap_err();
        assert!(error.downcast_ref::<Fault>().is_some(), "{error}");
    }
}

#[fault_point(name = "shapes.anyhow")]
fn parse_ratio(text: &str) -> anyhow::Result<f64> {
    let (numerator, denominator) = text
        .split_once('/')
        .ok_or_else(|| anyhow::anyhow!("no '/' in {text:?}"))?;
    let numerator: f64 = numerator.parse()?;
    let denominator: f64 = denominator.parse()?;
    anyhow::ensure!(denominator != 0.0, "division by zero");
    Ok(numerator / denominator)
}

#[test]
fn an_anyhow_result() {
    assert!((parse_ratio("3/4").unwrap() - 0.75).abs() < f64::EPSILON);
    assert_eq!(parse_ratio("3").unwrap_err().to_string(), "no '/' in \"3\"");
    assert_eq!(
        parse_ratio("3/0").unwrap_err().to_string(),
        "division by zero"
    );
    if fault_runtime::ENABLED {
        let _attack = error_attack("shapes-anyhow", "shapes.anyhow");
        let error = parse_ratio("3/4").unwrap_err();
        let fault = error
            .downcast_ref::<Fault>()
            .expect("the error is the fault");
        assert_eq!(fault.attack_id(), "shapes-anyhow");
    }
}

/// `?` on an `Option` inside a function returning `Option`.
#[fault_point(name = "shapes.option", facets(count = values.len()))]
fn first_even_doubled(values: &[u32]) -> Option<u32> {
    let first = values.iter().find(|value| *value % 2 == 0)?;
    first.checked_mul(2)
}

#[test]
fn an_option() {
    assert_eq!(first_even_doubled(&[1, 4, 6]), Some(8));
    assert_eq!(first_even_doubled(&[1, 3]), None);
    if fault_runtime::ENABLED {
        let _attack = start(
            Attack::builder("shapes-option", "shapes.option")
                .facet("count", "3")
                .error("gone")
                .build()
                .unwrap(),
        );
        assert_eq!(first_even_doubled(&[1, 4, 6]), None);
        assert_eq!(first_even_doubled(&[4, 6]), Some(8));
    }
}

#[fault_point(name = "shapes.impl_trait")]
fn evens(limit: u32) -> impl Iterator<Item = u32> + Clone {
    (0..limit).filter(|n| n % 2 == 0)
}

#[fault_point(name = "shapes.result_impl_trait")]
fn countdown(from: &str) -> Result<impl Iterator<Item = u32>, ShapeError> {
    let from: u32 = from.parse()?;
    Ok((1..=from).rev())
}

#[test]
fn an_impl_trait_and_a_result_of_impl_trait() {
    assert_eq!(evens(7).collect::<Vec<_>>(), [0, 2, 4, 6]);
    assert_eq!(evens(3).clone().count(), 2);
    let collect = |from| countdown(from).map(Iterator::collect::<Vec<_>>);
    assert_eq!(collect("3"), Ok(vec![3, 2, 1]));
    assert!(matches!(collect("three"), Err(ShapeError::Parse(_))));
    if fault_runtime::ENABLED {
        // `impl Trait` cannot carry an error: refused. Latency goes through.
        assert!(
            fault_runtime::start(
                Attack::builder("shapes-impl-error", "shapes.impl_trait")
                    .error("cannot")
                    .build()
                    .unwrap()
            )
            .is_err()
        );
        let slow = start(
            Attack::builder("shapes-impl-latency", "shapes.impl_trait")
                .latency(Duration::from_millis(1))
                .build()
                .unwrap(),
        );
        assert_eq!(evens(5).collect::<Vec<_>>(), [0, 2, 4]);
        assert_eq!(slow.status().hits, 1);

        let _attack = error_attack("shapes-result-impl", "shapes.result_impl_trait");
        assert_eq!(
            collect("3"),
            Err(ShapeError::Injected("shapes-result-impl".into()))
        );
    }
}

/// Does its synchronous part at once and returns the rest as a future.
#[fault_point(name = "shapes.impl_future")]
fn quote_later(cents: u32) -> impl Future<Output = u32> {
    let with_tax = cents + cents / 5;
    async move {
        tokio::task::yield_now().await;
        with_tax
    }
}

#[fault_point(name = "shapes.pin_box_future")]
fn quote_boxed(cents: u32) -> Pin<Box<dyn Future<Output = u32> + Send>> {
    Box::pin(async move {
        tokio::task::yield_now().await;
        cents * 2
    })
}

fn assert_send<F: Future + Send>(future: F) -> F {
    future
}

#[test]
fn sync_fns_returning_futures() {
    assert_eq!(block_on(quote_later(100)), 120);
    assert_eq!(block_on(quote_boxed(100)), 200);
    assert_eq!(block_on(assert_send(quote_later(10))), 12);
    assert_catalogued("shapes.impl_future");
    assert_catalogued("shapes.pin_box_future");
}

// The named lifetime is the shape under test, though elision would give the same one.
#[expect(
    clippy::needless_lifetimes,
    reason = "the named lifetime is the shape under test"
)]
#[fault_point(name = "shapes.named_lifetime")]
fn first<'a>(bytes: &'a [u8]) -> &'a u8 {
    &bytes[0]
}

/// A named lifetime that elision could not give: two borrowed inputs.
#[fault_point(name = "shapes.named_lifetime_result", facets(separator))]
fn key_of<'line>(line: &'line str, separator: &str) -> Result<&'line str, ShapeError> {
    match line.split_once(separator) {
        Some((key, _)) => Ok(key.trim()),
        None => Err(ShapeError::Missing(line.len())),
    }
}

struct Customer {
    name: String,
}

impl Customer {
    #[fault_point(name = "shapes.elided_lifetime")]
    fn name(&self) -> &str {
        &self.name
    }

    #[fault_point(name = "shapes.elided_lifetime_option")]
    fn initial(&self) -> Option<&str> {
        self.name.get(..1)
    }
}

#[test]
fn references_with_elided_and_named_lifetimes() {
    let bytes = vec![9, 8];
    assert_eq!(*first(&bytes), 9);
    assert_eq!(key_of("host = db", "="), Ok("host"));
    assert_eq!(key_of("host", "="), Err(ShapeError::Missing(4)));
    let customer = Customer {
        name: "Ada".to_owned(),
    };
    assert_eq!(customer.name(), "Ada");
    assert_eq!(customer.initial(), Some("A"));
    if fault_runtime::ENABLED {
        let _key = start(
            Attack::builder("shapes-key-of", "shapes.named_lifetime_result")
                .facet("separator", ":")
                .error("injected")
                .build()
                .unwrap(),
        );
        let _initial = error_attack("shapes-initial", "shapes.elided_lifetime_option");
        assert_eq!(
            key_of("host: db", ":"),
            Err(ShapeError::Injected("shapes-key-of".into()))
        );
        assert_eq!(key_of("host = db", "="), Ok("host"));
        assert_eq!(customer.initial(), None);
        assert_eq!(customer.name(), "Ada");
    }
}
