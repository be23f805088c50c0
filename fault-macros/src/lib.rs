//! The `#[fault_point]` attribute of `fault-runtime`.
//!
//! Depend on `fault-runtime` and write `use fault_runtime::fault_point;`: the runtime
//! re-exports this attribute, and the code it generates calls into the runtime. This crate is
//! pinned to the exact version of the runtime it was released with, because the generated
//! code uses the runtime's hidden `__private` module, whose names change between releases.
//!
//! # What the attribute does
//!
//! It makes a function a *fault point*: a named place where an attack started by an operator
//! can add latency, return an error, or panic, for the calls whose *facets* (customer,
//! country, endpoint, ...) the attack names, and for no other call.
//!
//! ```ignore
//! use fault_runtime::fault_point;
//!
//! #[fault_point(name = "payments.charge", facets(customer = req.customer_id, country))]
//! async fn charge(req: &ChargeRequest, country: &str) -> Result<Receipt, PaymentError> {
//!     // ...
//! }
//! ```
//!
//! (The examples here are not doctests: this crate cannot depend on the runtime that depends
//! on it. The same code is compiled, in both feature states, by the workspace's ui tests.)
//!
//! # Arguments
//!
//! All optional, separated by commas, in any order, each at most once.
//!
//! ## `name = "..."`
//!
//! The point's name, which attacks use to aim at it (`point = "payments.charge"`, or a glob
//! such as `"payments.*"`). A string literal, not empty, made of ASCII letters, digits and
//! `.` `_` `-` `:`. Without it the name is the function's module path and name, as in
//! `my_crate::payments::charge`.
//!
//! ## `facets(key = expression, key, ...)`
//!
//! The facts about this call that an attack can match on. Each key is an identifier; each
//! value is any expression whose type implements `Display`, evaluated with the function's
//! arguments in scope. A bare `key` is short for `key = key`: `facets(country)` reads the
//! argument `country`. A key may appear once. The values are evaluated only when an attack
//! names this point; a call that no attack aims at never evaluates (or formats) them.
//!
//! ## `error = expression`
//!
//! Builds the function's error when an attack injects one. The expression is anything
//! callable as `FnOnce(fault_runtime::Fault) -> E`: a closure (`error = |fault|
//! PayError::Injected(fault.to_string())`) or a path (`error = PayError::from_fault`). The
//! function must return a `Result<_, E>` (for a method rewritten by `#[async_trait]`, its
//! future must yield one). A return type that is certainly not a `Result` (none, `()`,
//! `Option<..>`, `impl Trait`, `!`, a tuple, a reference, a future) makes `error = ...` a
//! compile error, in both feature states.
//!
//! Without it, the injected error depends on the return type, read from its last path
//! segment:
//!
//! | return type | what an error attack does |
//! |---|---|
//! | `...Result<T, E>` (`Result`, `io::Result<T>`, `anyhow::Result<T>`, ...) | returns `Err(E::from(fault))`: `E` must implement `From<Fault>` |
//! | `...Option<T>` | returns `None` |
//! | anything else: none, `()`, `u32`, `impl Trait`, `!`, ... | the point cannot take error attacks: the catalog says so, and the runtime refuses such an attack when it starts |
//!
//! For a method rewritten by `#[async_trait]` (see below), the type read is the `Output` of
//! the future its signature returns, `Pin<Box<dyn Future<Output = X> + ...>>`: the error
//! is what the future yields.
//!
//! Latency and panic attacks work on every point, with two exceptions that the catalog
//! reports and the runtime refuses when such an attack starts:
//!
//! - no panic on a function whose ABI cannot unwind: an explicit ABI other than `"Rust"` or
//!   one ending in `-unwind` (`extern "C"`, `extern "system"`, a bare `extern`). A panic
//!   cannot leave such a function; it would abort the process. `extern "C-unwind"` may
//!   panic.
//! - no latency on a sync function that returns a future (see below).
//!
//! ## `crate = path`
//!
//! Where the runtime is found, for code that reaches it under another name: a renamed
//! dependency (`crate = ::chaos`) or a re-export (`crate = my_crate::chaos`). The default is
//! `::fault_runtime`.
//!
//! # Where it goes
//!
//! On any function with a body: free functions, inherent and trait-impl methods (with any
//! receiver), associated functions, trait methods that have a default body, generic
//! functions, `unsafe` and `extern "ABI"` functions, sync or `async`, with any return type.
//! Not on a `const fn` (the check runs at run time) and not on anything that is not a
//! function.
//!
//! # Sync functions that return a future
//!
//! A sync point serves injected latency by sleeping the calling thread. When a sync
//! function returns a future, that thread is usually an executor's, and the delay would
//! stall every task on it. Two cases:
//!
//! - **`#[async_trait]` methods**, and any body that is exactly one
//!   `Box::pin(async move { ... })` call (after its inner attributes and items; the callee's
//!   path ends in `pin`). `#[async_trait]` rewrites each `async fn` into a sync function of
//!   that form before this attribute runs. The check then goes at the start of the async
//!   block and awaits, as in an `async fn`: the point is async (`is_async` in the catalog),
//!   takes every impact, and its future stays `Send`. Facets may read the parameters and
//!   `self`, which the `async move` block captures; a parameter that `#[async_trait]`
//!   renames (a pattern such as `(a, b): (u8, u8)`) is not visible by its pattern's names.
//!   Put `#[async_trait]` on the trait or impl and `#[fault_point]` on the method:
//!
//!   ```ignore
//!   #[async_trait]
//!   impl Ledger for Books {
//!       #[fault_point(name = "ledger.balance", facets(account))]
//!       async fn balance(&self, account: &str) -> Result<u64, LedgerError> { ... }
//!   }
//!   ```
//!
//! - **any other sync function whose return type is syntactically a future**: `impl
//!   Future<..>`, `impl IntoFuture<..>`, an `impl` with a `Future` bound among others,
//!   `Pin<Box<dyn Future<..>>>`, `Box<dyn Future<..>>`, `BoxFuture<..>`,
//!   `LocalBoxFuture<..>`. Its body runs when the future is created, not when it is polled,
//!   so the point takes no latency: the catalog says so and the runtime refuses a latency
//!   attack on it. Panic attacks still work (the panic happens where the future is
//!   created). Put the attribute on the `async fn` that does the work instead, or write the
//!   body as `Box::pin(async move { ... })`.
//!
//! # What it expands to
//!
//! The cargo feature `enabled` of this crate (switched on by `fault-runtime/enabled`) decides.
//!
//! **Feature off** (the default): the arguments are checked exactly as with the feature on,
//! and then the function is returned as the compiler handed it over, token for token. Nothing
//! is added, so the function compiles to the same code as without the attribute.
//!
//! **Feature on**: the function keeps its attributes, visibility, signature and body; one
//! block is inserted at the start of the body, after its inner attributes (`#![...]`) and
//! after any items (`use`, `fn`, ...) that open it, and before its first statement:
//!
//! ```ignore
//! #[fault_point(name = "payments.charge", facets(customer = req.customer_id))]
//! fn charge(req: &ChargeRequest) -> Result<Receipt, PaymentError> {
//!     {
//!         let __fault_point_site: &'static ::fault_runtime::__private::Point = {
//!             static __FAULT_POINT: ::fault_runtime::__private::Point = /* name, location,
//!                 facet keys, which impacts it can take, its ABI, whether it is async */;
//!             // registers the point in the catalog, at link time
//!             #[::fault_runtime::__private::linkme::distributed_slice(...)]
//!             static __FAULT_POINT_ENTRY: &::fault_runtime::__private::Point = &__FAULT_POINT;
//!             &__FAULT_POINT
//!         };
//!         if __fault_point_site.is_armed() {
//!             let __fault_point_struck =
//!                 __fault_point_site.strike(&[("customer", &(req.customer_id))]);
//!             if let Some(__fault_point_fault) = __fault_point_struck {
//!                 return Err(From::from(__fault_point_fault));
//!             }
//!         }
//!     }
//!     // the body as written
//! }
//! ```
//!
//! On the path no attack aims at, the cost is the `is_armed()` check: one relaxed atomic
//! load and a branch. An `async fn`, and the async block of an `#[async_trait]` method,
//! awaits `strike_async` instead, so injected latency does not block the executor's thread.
//! The body is not moved into a closure or a nested function: `return`, `?`, labels, drop
//! order, `#[track_caller]` and spans are those the function had. The generated locals are
//! hygienic: the function's own locals and parameters can neither see nor shadow them. The statics sit in a block of their own, out of reach of the
//! facet expressions. (Items are not hygienic in Rust, so a `static` or `const` in scope
//! named exactly like a generated local, `__fault_point_site`, `__fault_point_struck` or
//! `__fault_point_fault`, would clash; the names are chosen so that none does.)
//!
//! # Errors
//!
//! Mistakes are compile errors, in both feature states, pointing at the offending tokens.
//! All mistakes in one attribute are reported together, and the function is still emitted
//! as written, so its callers do not report errors of their own.
//!
//! | error | what to do |
//! |---|---|
//! | unknown argument `x` | use `name`, `facets`, `error` or `crate` |
//! | duplicate argument `x` | keep one of them |
//! | duplicate facet key `x` | keep one of them |
//! | `x` needs a value | write `name = "..."`, `error = ...`, `crate = ...` |
//! | the point name must be a string literal | write it in quotes; a name cannot be computed |
//! | the point name is empty, or contains a character it cannot hold | use ASCII letters, digits, `.` `_` `-` `:` |
//! | expected a facet `key = value` or a bare `key` | a facet key is a plain identifier; put a computed value after `=` |
//! | `facets` takes a parenthesized list | write `facets(a = ..., b)` |
//! | cannot go on a `const fn` | remove `const`, or instrument a caller |
//! | goes on a function, not on ... | move it to a function with a body |
//! | `error = ...` builds the `E` of a function returning `Result<T, E>`, but this function returns ... | remove `error = ...`: a function returning `Option` gets `None` without it; one returning `()` or another non-`Result` takes no error attacks |
//!
//! With the feature on, type errors are reported by the compiler at the user's tokens (with
//! a note that they come from the attribute's expansion): an unknown variable in a facet at
//! that name, a facet value that is not `Display` at the value, an error type without
//! `From<Fault>` at the `E` of the return type, an `error = ...` of the wrong type at that
//! expression.
//!
//! ```compile_fail
//! use fault_macros::fault_point;
//!
//! #[fault_point(nmae = "payments.charge")] // error: unknown argument `nmae`
//! fn charge() {}
//! # fn main() {}
//! ```
//!
//! # Limitations
//!
//! - With the feature off, facet values and `error = ...` are not compiled at all, so a type
//!   error in them shows only once the feature is on. Build with the feature on in CI.
//! - The return type is judged by its last path segment, before type checking. An alias with
//!   another name (`type Res<T> = Result<T, MyError>`) is not seen as a `Result`, so the point
//!   cannot take error attacks; add `error = MyError::from` to make it one that can.
//! - A sync function returning a future is recognized by its return type as written. A
//!   named future type (`Ready<T>`, `JoinHandle<T>`, a type parameter bound by `Future`, an
//!   alias of another name) is not, so latency attacks on such a point block the thread
//!   that creates the future.
//! - A sync function whose body is a bare `async move { ... }` block, not boxed, is not
//!   instrumented inside the block: it is a sync function returning a future, and takes no
//!   latency. Box it, or make it an `async fn`.
//! - The default name of a method does not include its type (an attribute cannot see the
//!   `impl` around it): two methods named `get` in one module get the same name. Give
//!   methods an explicit `name`.
//! - The default name is made of the module path and the function's name, which may hold
//!   non-ASCII identifiers that an explicit name may not; attacks still match them exactly.
//! - With the feature off, facets are not compiled, so a parameter that only a facet reads is
//!   unused (`unused_variables`), and so is an import that only `crate = ...` names. Read the
//!   parameter in the body or allow the lint on it; name the runtime by a path that is used
//!   anyway, such as a `pub use` in the crate root.
//! - The feature is decided once per build for every crate in it (cargo unifies features):
//!   if any crate enables `fault-runtime/enabled`, every fault point in the build is live.

mod args;
mod expand;
mod shape;

use proc_macro::TokenStream;

/// Makes a function a fault point that attacks can aim at.
///
/// ```text
/// #[fault_point(
///     name = "payments.charge",                          // default: module path and fn name
///     facets(customer = req.customer_id, country),       // `country` = `country = country`
///     error = |fault| PaymentError::Injected(fault),     // default: From<Fault>, or None
///     crate = ::fault_runtime,                           // where the runtime is found
/// )]
/// ```
///
/// Every argument is optional. With the feature `enabled` off, the function is emitted as
/// written; with it on, a check that costs one atomic load when no attack aims at the point
/// is inserted before the body's first statement. The documentation of the `fault-macros`
/// crate describes each argument, the expansion, the errors and the known limits.
#[proc_macro_attribute]
pub fn fault_point(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::fault_point(args.into(), item.into()).into()
}
