//! `#[fault_point]` on every receiver, on methods that use `Self`, on trait and generic
//! methods, and on every kind of parameter.
//!
//! Each function behaves exactly as its plain self when no attack aims at it, in both
//! feature states; argument drops happen in the order of an unannotated twin. With the
//! feature on, an attack reaches the caller through the shape under test, and facets read
//! the parameters, whatever pattern bound them.
//!
//! The lints below are denied so that this file is also the lint check of the expansion on
//! these shapes, in both feature states.
#![deny(warnings, clippy::all, clippy::pedantic)]

use std::cell::RefCell;
use std::fmt::{self, Display, Write as _};
use std::ops::Add;
use std::panic::catch_unwind;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;

use fault_runtime::{Attack, Fault, fault_point};

mod support;

use support::{block_on, error_attack, start};

#[derive(Debug, PartialEq)]
enum ShapeError {
    Overflow,
    Unknown(String),
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
// Receivers
// ---------------------------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq)]
struct Account {
    owner: String,
    cents: u64,
}

impl Account {
    const BANK: &'static str = "ACME";

    fn new(owner: &str, cents: u64) -> Self {
        Self {
            owner: owner.to_owned(),
            cents,
        }
    }

    #[fault_point(name = "shapes.receiver_self", facets(owner = self.owner))]
    fn into_owner(self) -> Option<String> {
        (!self.owner.is_empty()).then_some(self.owner)
    }

    #[fault_point(name = "shapes.receiver_mut_self")]
    fn with_bonus(mut self, bonus: u64) -> Result<Self, ShapeError> {
        self.cents = self.cents.checked_add(bonus).ok_or(ShapeError::Overflow)?;
        Ok(Self { ..self })
    }

    #[fault_point(name = "shapes.receiver_ref", facets(cents = self.cents))]
    fn owner(&self) -> &str {
        &self.owner
    }

    #[fault_point(name = "shapes.receiver_mut_ref", facets(owner = self.owner, cents))]
    fn deposit(&mut self, cents: u64) -> Result<u64, ShapeError> {
        self.cents = self.cents.checked_add(cents).ok_or(ShapeError::Overflow)?;
        Ok(self.cents)
    }

    #[fault_point(name = "shapes.receiver_box")]
    fn into_debug(self: Box<Self>) -> Box<dyn fmt::Debug> {
        self
    }

    #[fault_point(name = "shapes.receiver_rc")]
    fn holders(self: Rc<Self>) -> Option<usize> {
        (!self.owner.is_empty()).then(|| Rc::strong_count(&self))
    }

    #[fault_point(name = "shapes.receiver_arc")]
    fn total_on_another_thread(self: Arc<Self>) -> Result<u64, ShapeError> {
        std::thread::spawn(move || self.cents)
            .join()
            .map_err(|_| ShapeError::Unknown("the thread panicked".into()))
    }

    #[fault_point(name = "shapes.receiver_pin")]
    fn bump(self: Pin<&mut Self>) -> Option<u64> {
        let this = self.get_mut();
        this.cents = this.cents.checked_add(1)?;
        Some(this.cents)
    }
}

#[test]
fn every_receiver() {
    let account = Account::new("ada", 10);
    assert_eq!(account.owner(), "ada");
    assert_eq!(account.clone().into_owner(), Some("ada".to_owned()));
    let mut account = account.with_bonus(5).unwrap();
    assert_eq!(account.cents, 15);
    assert_eq!(
        Account::new("ada", u64::MAX).with_bonus(1),
        Err(ShapeError::Overflow)
    );
    assert_eq!(account.deposit(5), Ok(20));
    assert_eq!(account.deposit(u64::MAX), Err(ShapeError::Overflow));
    assert_eq!(
        format!("{:?}", Box::new(account.clone()).into_debug()),
        format!("{account:?}")
    );
    let shared = Rc::new(account.clone());
    let _other_holder = Rc::clone(&shared);
    assert_eq!(shared.holders(), Some(2));
    assert_eq!(Arc::new(account.clone()).total_on_another_thread(), Ok(20));
    assert_eq!(Pin::new(&mut account).bump(), Some(21));
    assert_eq!(account.cents, 21);
    if fault_runtime::ENABLED {
        every_receiver_takes_an_attack();
    }
}

fn every_receiver_takes_an_attack() {
    let _attacks = [
        ("shapes-receiver-self", "shapes.receiver_self"),
        ("shapes-receiver-mut-self", "shapes.receiver_mut_self"),
        ("shapes-receiver-mut-ref", "shapes.receiver_mut_ref"),
        ("shapes-receiver-rc", "shapes.receiver_rc"),
        ("shapes-receiver-arc", "shapes.receiver_arc"),
        ("shapes-receiver-pin", "shapes.receiver_pin"),
    ]
    .map(|(id, point)| error_attack(id, point));
    let _panics = [
        ("shapes-receiver-ref", "shapes.receiver_ref"),
        ("shapes-receiver-box", "shapes.receiver_box"),
    ]
    .map(|(id, point)| start(Attack::builder(id, point).panic(id).build().unwrap()));

    let mut account = Account::new("ada", 10);
    assert_eq!(account.clone().into_owner(), None);
    assert_eq!(
        account.clone().with_bonus(1),
        Err(injected("shapes-receiver-mut-self"))
    );
    // The check runs before the body: the account is unchanged.
    assert_eq!(account.deposit(5), Err(injected("shapes-receiver-mut-ref")));
    assert_eq!(account.cents, 10);
    assert_eq!(Rc::new(account.clone()).holders(), None);
    assert_eq!(
        Arc::new(account.clone()).total_on_another_thread(),
        Err(injected("shapes-receiver-arc"))
    );
    assert_eq!(Pin::new(&mut account).bump(), None);
    assert_eq!(account.cents, 10);
    let by_ref = catch_unwind(|| Account::new("ada", 1).owner().len());
    assert_eq!(
        panic_message(by_ref),
        Some("shapes-receiver-ref".to_owned())
    );
    let boxed = catch_unwind(|| Box::new(Account::new("ada", 1)).into_debug());
    assert_eq!(panic_message(boxed), Some("shapes-receiver-box".to_owned()));
}

fn panic_message<T>(outcome: std::thread::Result<T>) -> Option<String> {
    let payload = outcome.err()?;
    payload.downcast_ref::<String>().cloned()
}

// ---------------------------------------------------------------------------------------
// `Self` in the body, in nested items, in closures and in macros
// ---------------------------------------------------------------------------------------

#[derive(Debug, PartialEq)]
struct Counter {
    count: u32,
}

impl Counter {
    const STEP: u32 = 2;

    fn zero() -> Self {
        Self { count: 0 }
    }

    /// `Self` in the facets, in a nested `impl` (where it is the nested type), in a closure
    /// and in `macro_rules!` expansions in the body.
    #[fault_point(name = "shapes.self_everywhere", facets(count = self.count, step = Self::STEP))]
    fn successors(&self, how_many: u32) -> Result<Vec<Self>, ShapeError> {
        struct Label(u32);

        impl Label {
            fn of(count: u32) -> Self {
                Self(count)
            }
        }

        macro_rules! counter {
            ($count:expr) => {
                Self { count: $count }
            };
        }

        let next = |offset: u32| -> Result<Self, ShapeError> {
            let count = Self::STEP
                .checked_mul(offset)
                .and_then(|step| self.count.checked_add(step))
                .ok_or(ShapeError::Overflow)?;
            Ok(counter!(Label::of(count).0))
        };
        let mut counters = vec![Self::zero()];
        counters.clear();
        for offset in 1..=how_many {
            counters.push(next(offset)?);
        }
        Ok(counters)
    }
}

#[test]
fn self_in_the_body_nested_items_closures_and_macros() {
    let counter = Counter { count: 1 };
    assert_eq!(
        counter.successors(2),
        Ok(vec![Counter { count: 3 }, Counter { count: 5 }])
    );
    assert_eq!(
        Counter { count: u32::MAX }.successors(1),
        Err(ShapeError::Overflow)
    );
    if fault_runtime::ENABLED {
        let _attack = start(
            Attack::builder("shapes-self", "shapes.self_everywhere")
                .facet("count", "1")
                .facet("step", "2")
                .error("injected")
                .build()
                .unwrap(),
        );
        assert_eq!(counter.successors(2), Err(injected("shapes-self")));
        assert_eq!(
            Counter::zero().successors(1),
            Ok(vec![Counter { count: 2 }])
        );
    }
}

// ---------------------------------------------------------------------------------------
// Trait impl methods, trait default methods, generic impls
// ---------------------------------------------------------------------------------------

impl Display for Account {
    // `fmt::Error` has no `From<Fault>`: the error is built by hand.
    #[fault_point(name = "shapes.trait_impl_display", error = |_fault| fmt::Error)]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at {}: {}", self.owner, Self::BANK, self.cents)
    }
}

impl TryFrom<&str> for Account {
    type Error = ShapeError;

    /// The error type is `Self::Error`, reached through `From<Fault>`.
    #[fault_point(name = "shapes.trait_impl_try_from", facets(text))]
    fn try_from(text: &str) -> Result<Self, Self::Error> {
        let (owner, cents) = text
            .split_once('=')
            .ok_or_else(|| ShapeError::Unknown(text.to_owned()))?;
        let cents = cents
            .parse()
            .map_err(|_| ShapeError::Unknown(cents.to_owned()))?;
        Ok(Self::new(owner, cents))
    }
}

struct Countdown(u32);

impl Iterator for Countdown {
    type Item = u32;

    #[fault_point(name = "shapes.trait_impl_next", facets(left = self.0))]
    fn next(&mut self) -> Option<u32> {
        self.0 = self.0.checked_sub(1)?;
        Some(self.0)
    }
}

trait Statement {
    fn lines(&self) -> Vec<String>;

    /// A default method, used by one implementor and overridden by the other.
    #[fault_point(name = "shapes.trait_default", facets(lines = self.lines().len()))]
    fn render(&self) -> Result<String, ShapeError> {
        let lines = self.lines();
        if lines.is_empty() {
            return Err(ShapeError::Unknown("empty statement".into()));
        }
        Ok(lines.join("\n"))
    }

    /// A default `async` method.
    #[fault_point(name = "shapes.trait_default_async")]
    async fn first_line(&self) -> Option<String> {
        tokio::task::yield_now().await;
        self.lines().into_iter().next()
    }

    /// A default method that needs `Self: Sized`.
    #[fault_point(name = "shapes.trait_default_sized")]
    fn boxed(self) -> Box<Self>
    where
        Self: Sized,
    {
        Box::new(self)
    }
}

impl Statement for Account {
    fn lines(&self) -> Vec<String> {
        vec![self.owner.clone(), self.cents.to_string()]
    }
}

impl Statement for Countdown {
    fn lines(&self) -> Vec<String> {
        (0..self.0).map(|n| n.to_string()).collect()
    }

    #[fault_point(name = "shapes.trait_override")]
    fn render(&self) -> Result<String, ShapeError> {
        self.0
            .checked_mul(2)
            .map(|n| n.to_string())
            .ok_or(ShapeError::Overflow)
    }
}

struct Labelled<T>(T);

impl<T: Display> Labelled<T> {
    #[fault_point(name = "shapes.generic_impl", facets(value = self.0))]
    fn label(&self, prefix: &str) -> Result<String, ShapeError> {
        let mut label = String::from(prefix);
        write!(label, "{}", self.0).map_err(|_| ShapeError::Unknown(prefix.to_owned()))?;
        Ok(label)
    }
}

#[test]
fn trait_impl_methods() {
    let account = Account::new("ada", 3);
    assert_eq!(account.to_string(), "ada at ACME: 3");
    assert_eq!(Account::try_from("bob=7"), Ok(Account::new("bob", 7)));
    assert_eq!(
        Account::try_from("bob"),
        Err(ShapeError::Unknown("bob".into()))
    );
    assert_eq!(Countdown(3).collect::<Vec<_>>(), [2, 1, 0]);
    if fault_runtime::ENABLED {
        let _display = error_attack("shapes-display", "shapes.trait_impl_display");
        let _try_from = start(
            Attack::builder("shapes-try-from", "shapes.trait_impl_try_from")
                .facet("text", "eve=1")
                .error("injected")
                .build()
                .unwrap(),
        );
        let _next = start(
            Attack::builder("shapes-next", "shapes.trait_impl_next")
                .facet("left", "1")
                .error("injected")
                .build()
                .unwrap(),
        );
        let mut text = String::new();
        assert_eq!(write!(text, "{account}"), Err(fmt::Error));
        assert_eq!(Account::try_from("eve=1"), Err(injected("shapes-try-from")));
        assert_eq!(Account::try_from("bob=7"), Ok(Account::new("bob", 7)));
        // The iterator ends early where the attack aims: when one is left.
        assert_eq!(Countdown(3).collect::<Vec<_>>(), [2, 1]);
    }
}

#[test]
fn trait_default_methods() {
    let account = Account::new("ada", 3);
    assert_eq!(account.render(), Ok("ada\n3".to_owned()));
    assert_eq!(Countdown(4).render(), Ok("8".to_owned()));
    assert_eq!(block_on(account.first_line()), Some("ada".to_owned()));
    assert_eq!(block_on(Countdown(0).first_line()), None);
    assert_eq!(*account.clone().boxed(), account);
    if fault_runtime::ENABLED {
        let _default = start(
            Attack::builder("shapes-default", "shapes.trait_default")
                .facet("lines", "2")
                .error("injected")
                .build()
                .unwrap(),
        );
        let _default_async = error_attack("shapes-default-async", "shapes.trait_default_async");
        assert_eq!(account.render(), Err(injected("shapes-default")));
        // The override is its own point, which no attack names.
        assert_eq!(Countdown(2).render(), Ok("4".to_owned()));
        assert_eq!(block_on(account.first_line()), None);
    }
}

#[test]
fn methods_of_a_generic_impl() {
    assert_eq!(Labelled(7).label("n="), Ok("n=7".to_owned()));
    assert_eq!(Labelled("x").label("s="), Ok("s=x".to_owned()));
    if fault_runtime::ENABLED {
        // One point for every instantiation; the facet tells them apart.
        let _attack = start(
            Attack::builder("shapes-generic-impl", "shapes.generic_impl")
                .facet("value", "7")
                .error("injected")
                .build()
                .unwrap(),
        );
        assert_eq!(
            Labelled(7).label("n="),
            Err(injected("shapes-generic-impl"))
        );
        assert_eq!(Labelled("x").label("s="), Ok("s=x".to_owned()));
        assert_eq!(Labelled(8).label("n="), Ok("n=8".to_owned()));
    }
}

// ---------------------------------------------------------------------------------------
// Parameters
// ---------------------------------------------------------------------------------------

#[derive(Clone, Copy)]
struct Point {
    x: i32,
    y: i32,
}

#[fault_point(name = "shapes.param_tuple_pattern", facets(low, high))]
fn spread((low, high): (u8, u8)) -> Option<u8> {
    high.checked_sub(low)
}

#[fault_point(name = "shapes.param_struct_pattern", facets(x))]
fn x_of(Point { x, .. }: Point) -> Result<i32, ShapeError> {
    x.checked_neg().map(i32::abs).ok_or(ShapeError::Overflow)
}

#[fault_point(name = "shapes.param_mut", facets(steps = n))]
fn collatz_steps(mut n: u64) -> Option<u32> {
    let mut steps = 0_u32;
    while n > 1 {
        n = if n % 2 == 0 {
            n / 2
        } else {
            n.checked_mul(3)? + 1
        };
        steps += 1;
    }
    Some(steps)
}

#[fault_point(name = "shapes.param_underscore")]
fn second(_: u8, second: u8) -> u8 {
    second
}

#[fault_point(name = "shapes.param_impl_trait", facets(label))]
fn total(values: impl IntoIterator<Item = u32>, label: impl Display) -> Option<u32> {
    let _ = label;
    values.into_iter().try_fold(0_u32, u32::checked_add)
}

#[fault_point(name = "shapes.param_generics", facets(len = N))]
fn sum_array<T, const N: usize>(values: [T; N]) -> Result<T, ShapeError>
where
    T: Copy + Default + Add<Output = T> + PartialOrd,
{
    let mut sum = T::default();
    for value in values {
        if value < T::default() {
            return Err(ShapeError::Unknown("negative".into()));
        }
        sum = sum + value;
    }
    Ok(sum)
}

// `not(any())` is always true; clippy would ask to simplify `all()`.
#[fault_point(name = "shapes.param_cfg", facets(kept))]
fn only_kept(#[cfg(any())] ghost: u8, #[cfg(not(any()))] kept: u8) -> Option<u8> {
    kept.checked_mul(2)
}

#[fault_point(
    name = "shapes.facets_borrow_params",
    facets(len = items.len(), first = items[0], owner = account.owner)
)]
fn count_items(items: &[u32], account: &Account) -> Result<usize, ShapeError> {
    if account.owner.is_empty() {
        return Err(ShapeError::Unknown("no owner".into()));
    }
    Ok(items.len())
}

#[test]
fn parameter_patterns_mut_and_underscore() {
    assert_eq!(spread((3, 10)), Some(7));
    assert_eq!(spread((10, 3)), None);
    assert_eq!(x_of(Point { x: -4, y: 9 }), Ok(4));
    assert_eq!(x_of(Point { x: i32::MIN, y: 0 }), Err(ShapeError::Overflow));
    assert_eq!(Point { x: 0, y: 5 }.y, 5);
    assert_eq!(collatz_steps(6), Some(8));
    assert_eq!(second(1, 2), 2);
    if fault_runtime::ENABLED {
        let _tuple = start(
            Attack::builder("shapes-tuple", "shapes.param_tuple_pattern")
                .facet("low", "3")
                .facet("high", "10")
                .error("injected")
                .build()
                .unwrap(),
        );
        let _fields = start(
            Attack::builder("shapes-fields", "shapes.param_struct_pattern")
                .facet("x", "-4")
                .error("injected")
                .build()
                .unwrap(),
        );
        // The facet reads the parameter as passed, before the body changes it.
        let _mutable = start(
            Attack::builder("shapes-mut", "shapes.param_mut")
                .facet("steps", "6")
                .error("injected")
                .build()
                .unwrap(),
        );
        assert_eq!(spread((3, 10)), None);
        assert_eq!(spread((3, 11)), Some(8));
        assert_eq!(x_of(Point { x: -4, y: 0 }), Err(injected("shapes-fields")));
        assert_eq!(x_of(Point { x: 4, y: 0 }), Ok(4));
        assert_eq!(collatz_steps(6), None);
        assert_eq!(collatz_steps(3), Some(7));
    }
}

#[test]
fn impl_trait_generic_and_const_generic_parameters() {
    assert_eq!(total(vec![1, 2, 3], "list"), Some(6));
    assert_eq!(total([u32::MAX, 1], 'a'), None);
    assert_eq!(sum_array([1, 2, 3]), Ok(6));
    assert_eq!(sum_array([1.5, 2.0]), Ok(3.5));
    assert_eq!(
        sum_array([1, -2]),
        Err(ShapeError::Unknown("negative".into()))
    );
    if fault_runtime::ENABLED {
        let _label = start(
            Attack::builder("shapes-impl-arg", "shapes.param_impl_trait")
                .facet("label", "drill")
                .error("injected")
                .build()
                .unwrap(),
        );
        let _len = start(
            Attack::builder("shapes-const-generic", "shapes.param_generics")
                .facet("len", "3")
                .error("injected")
                .build()
                .unwrap(),
        );
        assert_eq!(total(vec![1, 2, 3], "drill"), None);
        assert_eq!(total(vec![1, 2, 3], "list"), Some(6));
        assert_eq!(sum_array([1, 2, 3]), Err(injected("shapes-const-generic")));
        assert_eq!(sum_array([1, 2]), Ok(3));
    }
}

#[test]
fn cfg_on_parameters() {
    // `ghost` is configured away: the function takes one argument.
    let only: fn(u8) -> Option<u8> = only_kept;
    assert_eq!(only(4), Some(8));
    if fault_runtime::ENABLED {
        let _attack = start(
            Attack::builder("shapes-param-cfg", "shapes.param_cfg")
                .facet("kept", "4")
                .error("injected")
                .build()
                .unwrap(),
        );
        assert_eq!(only_kept(4), None);
        assert_eq!(only_kept(5), Some(10));
    }
}

#[test]
fn facets_that_borrow_parameters() {
    let account = Account::new("ada", 0);
    // Idle, the facets are not evaluated: `items[0]` of an empty slice does not panic.
    assert_eq!(count_items(&[], &account), Ok(0));
    assert_eq!(count_items(&[5, 6], &account), Ok(2));
    assert_eq!(
        count_items(&[5], &Account::new("", 0)),
        Err(ShapeError::Unknown("no owner".into()))
    );
    if fault_runtime::ENABLED {
        let _attack = start(
            Attack::builder("shapes-borrowing-facets", "shapes.facets_borrow_params")
                .facet("len", "2")
                .facet("first", "5")
                .facet("owner", "ada")
                .error("injected")
                .build()
                .unwrap(),
        );
        assert_eq!(
            count_items(&[5, 6], &account),
            Err(injected("shapes-borrowing-facets"))
        );
        assert_eq!(count_items(&[6, 5], &account), Ok(2));
        assert_eq!(count_items(&[5, 6, 7], &account), Ok(3));
        // The arguments are still usable: the facets only borrowed them.
        assert_eq!(account.owner, "ada");
    }
}

// ---------------------------------------------------------------------------------------
// Argument drop order, against unannotated twins
// ---------------------------------------------------------------------------------------

thread_local! {
    static DROPS: RefCell<Vec<&'static str>> = const { RefCell::new(Vec::new()) };
}

/// Records its name in `DROPS` when dropped.
struct Noisy(&'static str);

impl Drop for Noisy {
    fn drop(&mut self) {
        DROPS.with(|drops| drops.borrow_mut().push(self.0));
    }
}

fn take_drops() -> Vec<&'static str> {
    DROPS.with(|drops| std::mem::take(&mut *drops.borrow_mut()))
}

/// The arguments of every twin below, freshly made.
fn arguments() -> (Noisy, (Noisy, Noisy), Noisy, Noisy) {
    (
        Noisy("first"),
        (Noisy("tuple.0"), Noisy("tuple.1")),
        Noisy("underscore"),
        Noisy("mutable"),
    )
}

// The twins differ only in the attribute. Arguments are taken by value to be dropped by the
// function; that is the point of the test.
#[expect(
    clippy::needless_pass_by_value,
    reason = "the function drops its arguments"
)]
#[fault_point(name = "shapes.drop_order")]
fn drop_annotated(
    first: Noisy,
    (left, _right): (Noisy, Noisy),
    _: Noisy,
    mut mutable: Noisy,
) -> Result<usize, ShapeError> {
    if first.0.is_empty() {
        return Err(ShapeError::Unknown("unnamed".into()));
    }
    let _local = Noisy("local");
    mutable.0 = "mutable (changed)";
    Ok(first.0.len() + left.0.len())
}

#[expect(
    clippy::needless_pass_by_value,
    reason = "the function drops its arguments"
)]
fn drop_plain(
    first: Noisy,
    (left, _right): (Noisy, Noisy),
    _: Noisy,
    mut mutable: Noisy,
) -> Result<usize, ShapeError> {
    if first.0.is_empty() {
        return Err(ShapeError::Unknown("unnamed".into()));
    }
    let _local = Noisy("local");
    mutable.0 = "mutable (changed)";
    Ok(first.0.len() + left.0.len())
}

#[fault_point(name = "shapes.drop_order_async")]
async fn drop_annotated_async(first: Noisy, (left, _right): (Noisy, Noisy), _: Noisy) -> usize {
    let _local = Noisy("local");
    tokio::task::yield_now().await;
    first.0.len() + left.0.len()
}

async fn drop_plain_async(first: Noisy, (left, _right): (Noisy, Noisy), _: Noisy) -> usize {
    let _local = Noisy("local");
    tokio::task::yield_now().await;
    first.0.len() + left.0.len()
}

#[test]
fn arguments_drop_in_the_order_of_an_unannotated_twin() {
    let (a, b, c, d) = arguments();
    assert_eq!(drop_plain(a, b, c, d), Ok(12));
    let plain = take_drops();
    let (a, b, c, d) = arguments();
    assert_eq!(drop_annotated(a, b, c, d), Ok(12));
    assert_eq!(take_drops(), plain);
    assert_eq!(plain.len(), 6, "{plain:?}");

    let (a, b, c, _) = arguments();
    take_drops();
    assert_eq!(block_on(drop_plain_async(a, b, c)), 12);
    let plain = take_drops();
    let (a, b, c, _) = arguments();
    take_drops();
    assert_eq!(block_on(drop_annotated_async(a, b, c)), 12);
    assert_eq!(take_drops(), plain);

    if fault_runtime::ENABLED {
        // An injected error returns before the body: the arguments are dropped in the same
        // order as on the plain path, and no local exists yet.
        let _attack = error_attack("shapes-drop-order", "shapes.drop_order");
        let (a, b, c, d) = arguments();
        assert_eq!(drop_plain(a, b, c, d), Ok(12));
        let plain_arguments: Vec<_> = take_drops()
            .into_iter()
            .filter(|name| *name != "local")
            .map(|name| {
                if name == "mutable (changed)" {
                    "mutable"
                } else {
                    name
                }
            })
            .collect();
        let (a, b, c, d) = arguments();
        assert_eq!(
            drop_annotated(a, b, c, d),
            Err(injected("shapes-drop-order"))
        );
        assert_eq!(take_drops(), plain_arguments);
    }
}
