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
//! function must return a `Result<_, E>`.
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
//! Latency and panic attacks work on every point.
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
//!         static __FAULT_POINT: ::fault_runtime::__private::Point = /* name, location,
//!             facet keys, whether it can take errors, whether it is async */;
//!         // registers the point in the catalog, at link time
//!         #[::fault_runtime::__private::linkme::distributed_slice(...)]
//!         static __FAULT_POINT_ENTRY: &::fault_runtime::__private::Point = &__FAULT_POINT;
//!         if __FAULT_POINT.is_armed() {
//!             let __struck = __FAULT_POINT.strike(&[("customer", &(req.customer_id))]);
//!             if let Some(__fault) = __struck {
//!                 return Err(From::from(__fault));
//!             }
//!         }
//!     }
//!     // the body as written
//! }
//! ```
//!
//! On the path no attack aims at, the cost is the `is_armed()` check: one relaxed atomic
//! load and a branch. An `async fn` awaits `strike_async` instead, so injected latency does
//! not block the executor's thread. The body is not moved into a closure or a nested
//! function: `return`, `?`, labels, drop order, `#[track_caller]` and spans are those the
//! function had. The generated names are hygienic, so they can neither see nor shadow the
//! function's own names.
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
//!
//! With the feature on, type errors are reported by the compiler at the user's tokens: a facet
//! value that is not `Display` at the value, an error type without `From<Fault>` at the return
//! type, an `error = ...` of the wrong type at that expression.
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
//! - A function that is not `async` but returns a future (`-> impl Future`, or a method
//!   rewritten by `#[async_trait]` before this attribute runs) is instrumented as a sync
//!   function: injected latency blocks the calling thread, before the future is created.
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
