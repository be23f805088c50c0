//! What the attribute reads from the annotated function before it generates anything: where
//! the check goes and how it serves latency, what an error impact makes the call return, and
//! which impacts the point can take.
//!
//! Both feature states run this, so a mistake found here (an `error = ...` on a function that
//! cannot return its error) is a compile error whether injection is compiled in or not.

use quote::quote;
use syn::{
    Error, Expr, GenericArgument, Ident, ItemFn, PathArguments, PathSegment, ReturnType, Stmt,
    Type, TypeParamBound,
};

use crate::args::{ErrorArg, FaultPointArgs};

/// Where the check goes, and how it serves latency.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Body {
    /// An `async fn`: the check opens the body and awaits its latency.
    Async,
    /// A sync function whose body is one `Box::pin(async move { ... })` call, the form
    /// `#[async_trait]` gives each `async fn` it rewrites: the check opens the async block and
    /// awaits, so it runs when the future is polled, not when it is created.
    BoxedAsync,
    /// A sync function that returns a future, with any other body: the check opens the body,
    /// which runs on the thread that creates the future, usually an executor's. Such a point
    /// takes no latency, since serving it would block that thread.
    ReturnsFuture,
    /// Any other sync function: the check opens the body and sleeps the thread for latency.
    Sync,
}

impl Body {
    /// Whether the check awaits (`strike_async`) rather than blocks (`strike`).
    pub(crate) fn is_async(self) -> bool {
        matches!(self, Body::Async | Body::BoxedAsync)
    }

    /// Whether the point can take latency attacks.
    pub(crate) fn can_delay(self) -> bool {
        self != Body::ReturnsFuture
    }
}

/// What the check's `return` must produce: the function's return type or, when the check sits
/// in a boxed async block, that block's output.
#[derive(Clone, Copy)]
pub(crate) enum Returns<'a> {
    /// No return type: `()`.
    Unit,
    /// A type as written in the signature.
    Type(&'a Type),
    /// A future whose `Output` the signature does not spell out (an alias, a named future).
    Unknown,
}

/// What a struck point does to the call when the runtime hands it a fault.
pub(crate) enum ErrorReturn<'a> {
    /// `error = expr` was given: `Err(build_error(fault, expr))`.
    Built(&'a ErrorArg),
    /// The value returned is a `Result`: `Err(From::from(fault))`, spanned on that type, so
    /// a missing `From<Fault>` impl is reported there.
    Converted(&'a Type),
    /// The value returned is an `Option`: `None`.
    Nothing(&'a Type),
    /// The value returned cannot carry an error; the runtime refuses error attacks.
    Impossible,
}

/// Everything the expansion needs to know about the annotated function.
pub(crate) struct Shape<'a> {
    pub body: Body,
    /// What the check's `return` produces.
    pub returns: Returns<'a>,
    pub error_return: ErrorReturn<'a>,
    /// The ABI as written: `Rust` when none is, `C` for a bare `extern`.
    pub abi: String,
    /// Whether a panic can leave the function: false for an ABI that cannot unwind.
    pub can_panic: bool,
}

impl<'a> Shape<'a> {
    /// Reads the function, and refuses an `error = ...` that could never type-check.
    pub(crate) fn of(args: &'a FaultPointArgs, function: &'a ItemFn) -> syn::Result<Self> {
        let sig = &function.sig;
        let declared = match &sig.output {
            ReturnType::Default => Returns::Unit,
            ReturnType::Type(_, ty) => Returns::Type(ty),
        };
        let body = if sig.asyncness.is_some() {
            Body::Async
        } else if is_boxed_async_block(function) {
            Body::BoxedAsync
        } else if matches!(declared, Returns::Type(ty) if future_output(ty).is_some()) {
            Body::ReturnsFuture
        } else {
            Body::Sync
        };
        let returns = match (body, declared) {
            (Body::BoxedAsync, Returns::Type(ty)) => future_output(ty).unwrap_or(Returns::Unknown),
            (Body::BoxedAsync, Returns::Unit) => Returns::Unknown,
            _ => declared,
        };

        let error_return = match &args.error {
            Some(error) => {
                if let Some(found) = not_a_result(returns) {
                    return Err(error_argument_refused(error, body, &found));
                }
                ErrorReturn::Built(error)
            }
            None => match returns {
                Returns::Type(ty) => match last_segment(ty).map(ToString::to_string).as_deref() {
                    Some("Result") => ErrorReturn::Converted(ty),
                    Some("Option") => ErrorReturn::Nothing(ty),
                    _ => ErrorReturn::Impossible,
                },
                Returns::Unit | Returns::Unknown => ErrorReturn::Impossible,
            },
        };

        let abi = match &sig.abi {
            None => "Rust".to_owned(),
            Some(abi) => abi
                .name
                .as_ref()
                .map_or_else(|| "C".to_owned(), |name| name.value()),
        };
        // A panic that reaches the edge of a function of any other ABI aborts the process.
        let can_panic = abi == "Rust" || abi.ends_with("-unwind");

        Ok(Shape {
            body,
            returns,
            error_return,
            abi,
            can_panic,
        })
    }
}

/// Whether the body, after its leading items, is exactly one `path::pin(async move { ... })`
/// call: what `#[async_trait]` makes of an `async fn`, and what people write by hand for a
/// function returning a boxed future.
///
/// Inner attributes are not statements (syn keeps them with the function's attributes), so
/// they need no skipping here.
fn is_boxed_async_block(function: &ItemFn) -> bool {
    let mut statements = function
        .block
        .stmts
        .iter()
        .skip_while(|statement| matches!(statement, Stmt::Item(_)));
    let (Some(Stmt::Expr(Expr::Call(call), None)), None) = (statements.next(), statements.next())
    else {
        return false;
    };
    let Expr::Path(callee) = &*call.func else {
        return false;
    };
    let is_pin = callee
        .path
        .segments
        .last()
        .is_some_and(|segment| segment.ident == "pin");
    let mut arguments = call.args.iter();
    let only_argument = match (arguments.next(), arguments.next()) {
        (Some(argument), None) => argument,
        _ => return false,
    };
    is_pin
        && matches!(
            only_argument,
            Expr::Async(block) if block.capture.is_some() && block.attrs.is_empty()
        )
}

/// If `ty` is syntactically a future, what its `Output` is.
///
/// Recognized: `impl Future<..>` and `impl IntoFuture<..>` (with any other bounds), the same as
/// `dyn` in a `Box` or a `Pin<Box<..>>`, and the aliases `BoxFuture<'a, T>` and
/// `LocalBoxFuture<'a, T>` of the `futures` crates.
///
/// Limitation: a named future type (`Ready<T>`, `JoinHandle<T>`, a type parameter bound by
/// `Future`, an alias of another name) is not recognized, so such a function is taken for
/// a plain sync one, and latency attacks on it block the thread that creates the future.
pub(crate) fn future_output(ty: &Type) -> Option<Returns<'_>> {
    match ty {
        Type::Paren(paren) => future_output(&paren.elem),
        Type::Group(group) => future_output(&group.elem),
        Type::ImplTrait(bounds) => bounds_output(bounds.bounds.iter()),
        Type::TraitObject(bounds) => bounds_output(bounds.bounds.iter()),
        Type::Path(path) if path.qself.is_none() => {
            let segment = path.path.segments.last()?;
            if segment.ident == "BoxFuture" || segment.ident == "LocalBoxFuture" {
                let output = type_arguments(segment).last().copied();
                Some(output.map_or(Returns::Unknown, Returns::Type))
            } else if segment.ident == "Pin" || segment.ident == "Box" {
                match type_arguments(segment).as_slice() {
                    [inner] => future_output(inner),
                    _ => None,
                }
            } else {
                None
            }
        }
        _ => None,
    }
}

/// The `Output` of the first `Future` or `IntoFuture` bound, if there is one.
fn bounds_output<'a>(bounds: impl Iterator<Item = &'a TypeParamBound>) -> Option<Returns<'a>> {
    bounds
        .filter_map(|bound| match bound {
            TypeParamBound::Trait(bound) => bound.path.segments.last(),
            _ => None,
        })
        .find(|segment| segment.ident == "Future" || segment.ident == "IntoFuture")
        .map(|segment| {
            let PathArguments::AngleBracketed(arguments) = &segment.arguments else {
                return Returns::Unknown;
            };
            arguments
                .args
                .iter()
                .find_map(|argument| match argument {
                    GenericArgument::AssocType(assoc) if assoc.ident == "Output" => {
                        Some(Returns::Type(&assoc.ty))
                    }
                    _ => None,
                })
                .unwrap_or(Returns::Unknown)
        })
}

/// The type arguments of a path segment: `[T, E]` for `Result<T, E>`.
fn type_arguments(segment: &PathSegment) -> Vec<&Type> {
    let PathArguments::AngleBracketed(arguments) = &segment.arguments else {
        return Vec::new();
    };
    arguments
        .args
        .iter()
        .filter_map(|argument| match argument {
            GenericArgument::Type(ty) => Some(ty),
            _ => None,
        })
        .collect()
}

/// The last path segment of a type, seen through parentheses and invisible groups.
///
/// Limitation: an alias with another name (`type Res<T> = Result<T, E>`) is not recognized,
/// so its point cannot take error attacks; `error = ...` makes it one that can.
pub(crate) fn last_segment(ty: &Type) -> Option<&Ident> {
    match ty {
        Type::Paren(paren) => last_segment(&paren.elem),
        Type::Group(group) => last_segment(&group.elem),
        Type::Path(path) if path.qself.is_none() => path.path.segments.last().map(|s| &s.ident),
        _ => None,
    }
}

/// The error type `E` of a `Result<T, E>` written with both arguments.
pub(crate) fn error_type(ty: &Type) -> Option<&Type> {
    match ty {
        Type::Paren(paren) => error_type(&paren.elem),
        Type::Group(group) => error_type(&group.elem),
        Type::Path(path) if path.qself.is_none() => match path.path.segments.last() {
            Some(segment) if segment.ident == "Result" => match type_arguments(segment)[..] {
                [_, error] => Some(error),
                _ => None,
            },
            _ => None,
        },
        _ => None,
    }
}

/// A value that is certainly not a `Result`, so `error = ...` could never produce it.
enum NotAResult {
    Unit,
    Option,
    Future,
    Other(&'static str),
}

/// What the check returns, if it is certainly not a `Result`. A path type other than
/// `Option` or a future may be an alias of one, and is left to the compiler.
fn not_a_result(returns: Returns<'_>) -> Option<NotAResult> {
    match returns {
        Returns::Unit => Some(NotAResult::Unit),
        Returns::Unknown => None,
        Returns::Type(ty) => type_not_a_result(ty),
    }
}

fn type_not_a_result(ty: &Type) -> Option<NotAResult> {
    if future_output(ty).is_some() {
        return Some(NotAResult::Future);
    }
    match ty {
        Type::Paren(paren) => type_not_a_result(&paren.elem),
        Type::Group(group) => type_not_a_result(&group.elem),
        Type::Tuple(tuple) if tuple.elems.is_empty() => Some(NotAResult::Unit),
        Type::Tuple(_) => Some(NotAResult::Other("a tuple")),
        Type::Never(_) => Some(NotAResult::Other("`!`")),
        Type::Reference(_) => Some(NotAResult::Other("a reference")),
        Type::Ptr(_) => Some(NotAResult::Other("a raw pointer")),
        Type::Array(_) => Some(NotAResult::Other("an array")),
        Type::FnPtr(_) => Some(NotAResult::Other("a function pointer")),
        Type::ImplTrait(_) => Some(NotAResult::Other("an `impl Trait`")),
        Type::TraitObject(_) => Some(NotAResult::Other("a trait object")),
        Type::Path(_) if last_segment(ty).is_some_and(|name| name == "Option") => {
            Some(NotAResult::Option)
        }
        _ => None,
    }
}

/// The error for an `error = ...` whose function cannot return the error it builds, spanned
/// on the whole argument.
fn error_argument_refused(error: &ErrorArg, body: Body, found: &NotAResult) -> Error {
    let returns = if body == Body::BoxedAsync {
        "this function's future yields"
    } else {
        "this function returns"
    };
    let (what, advice) = match found {
        NotAResult::Unit => (
            "`()`",
            "remove `error = ...`: such a point takes latency and panic attacks, not errors",
        ),
        NotAResult::Option => (
            "an `Option`",
            "remove `error = ...`: without it, an error attack makes the call return `None`",
        ),
        NotAResult::Future => (
            "a future",
            "to inject errors into the future's output, put the attribute on the `async fn` \
             that does the work",
        ),
        NotAResult::Other(what) => (
            *what,
            "remove `error = ...`: such a point takes latency and panic attacks, not errors",
        ),
    };
    let key = &error.key;
    let build = &error.build;
    let message = format!(
        "`error = ...` builds the `E` of a function returning `Result<T, E>`, but {returns} \
         {what}; {advice}"
    );
    // Spanned from the keyword to the end of the expression.
    Error::new_spanned(quote!(#key #build), message)
}

#[cfg(test)]
mod tests {
    use proc_macro2::TokenStream;
    use quote::quote;

    use super::*;

    fn shape_of(args: TokenStream, item: TokenStream) -> syn::Result<(Body, &'static str, bool)> {
        let args: &'static FaultPointArgs = Box::leak(Box::new(syn::parse2(args).unwrap()));
        let function: &'static ItemFn = Box::leak(Box::new(syn::parse2(item).unwrap()));
        let shape = Shape::of(args, function)?;
        let error_return = match shape.error_return {
            ErrorReturn::Built(_) => "built",
            ErrorReturn::Converted(_) => "converted",
            ErrorReturn::Nothing(_) => "none",
            ErrorReturn::Impossible => "impossible",
        };
        Ok((shape.body, error_return, shape.can_panic))
    }

    fn shape(args: TokenStream, item: TokenStream) -> (Body, &'static str, bool) {
        shape_of(args, item).unwrap_or_else(|e| panic!("{e}"))
    }

    fn error_return(sig: TokenStream) -> &'static str {
        shape(quote!(), quote!(#sig {})).1
    }

    #[test]
    fn error_return_follows_the_return_type() {
        assert_eq!(error_return(quote!(fn f() -> io::Result<()>)), "converted");
        assert_eq!(error_return(quote!(fn f() -> (Result<u8, E>))), "converted");
        assert_eq!(
            error_return(quote!(fn f() -> ::core::option::Option<u8>)),
            "none"
        );
        assert_eq!(
            shape(
                quote!(error = E::new),
                quote!(
                    fn f() -> Result<u8, E> {}
                )
            )
            .1,
            "built"
        );
        assert_eq!(error_return(quote!(fn f())), "impossible");
        assert_eq!(error_return(quote!(fn f() -> ())), "impossible");
        assert_eq!(
            error_return(quote!(fn f() -> impl Future<Output = Result<(), E>>)),
            "impossible"
        );
        assert_eq!(error_return(quote!(fn f() -> !)), "impossible");
        assert_eq!(error_return(quote!(async fn f() -> Option<u8>)), "none");
    }

    #[test]
    fn a_boxed_async_block_is_instrumented_as_async_with_its_output() {
        let boxed = |output: TokenStream| {
            shape(
                quote!(),
                quote! {
                    fn f(&self) -> #output {
                        use std::fmt;
                        Box::pin(async move { todo!() })
                    }
                },
            )
        };
        let async_trait = quote!(
            ::core::pin::Pin<
                Box<
                    dyn ::core::future::Future<Output = Result<u8, E>>
                        + ::core::marker::Send
                        + 'async_trait,
                >,
            >
        );
        assert_eq!(boxed(async_trait), (Body::BoxedAsync, "converted", true));
        assert_eq!(
            boxed(quote!(BoxFuture<'_, Option<u8>>)),
            (Body::BoxedAsync, "none", true)
        );
        assert_eq!(
            boxed(quote!(impl Future<Output = u8>)),
            (Body::BoxedAsync, "impossible", true)
        );
        // An output the signature does not spell out takes no error without `error = ...`.
        assert_eq!(
            boxed(quote!(MyFuture<'_>)),
            (Body::BoxedAsync, "impossible", true)
        );

        for not_boxed in [
            quote!(
                fn f() -> BoxFuture<'static, u8> {
                    Box::pin(async { 1 })
                }
            ),
            quote!(
                fn f() -> BoxFuture<'static, u8> {
                    Box::pin(async move { 1 });
                }
            ),
            quote!(
                fn f() -> BoxFuture<'static, u8> {
                    let x = 1;
                    Box::pin(async move { x })
                }
            ),
            quote!(
                fn f() -> BoxFuture<'static, u8> {
                    Box::new(async move { 1 })
                }
            ),
            quote!(
                fn f() -> BoxFuture<'static, u8> {
                    Box::pin(async move { 1 }, 2)
                }
            ),
        ] {
            assert_eq!(
                shape(quote!(), not_boxed.clone()).0,
                Body::ReturnsFuture,
                "{not_boxed}"
            );
        }
    }

    #[test]
    fn a_sync_function_returning_a_future_takes_no_latency() {
        for output in [
            quote!(impl Future<Output = u8>),
            quote!(impl Send + core::future::Future<Output = u8> + 'static),
            quote!(impl IntoFuture<Output = u8>),
            quote!(Pin<Box<dyn Future<Output = u8> + Send>>),
            quote!(std::pin::Pin<Box<dyn Future<Output = u8>>>),
            quote!(Box<dyn Future<Output = u8> + Unpin>),
            quote!(futures::future::BoxFuture<'static, u8>),
            quote!(LocalBoxFuture<'static, u8>),
        ] {
            let (body, _, _) = shape(quote!(), quote!(fn f() -> #output { todo!() }));
            assert_eq!(body, Body::ReturnsFuture, "{output}");
            assert!(!body.can_delay() && !body.is_async());
        }
        for output in [
            quote!(u8),
            quote!(impl Iterator<Item = u8>),
            quote!(Pin<Box<u8>>),
            quote!(Box<dyn Fn()>),
        ] {
            let (body, _, _) = shape(quote!(), quote!(fn f() -> #output { todo!() }));
            assert_eq!(body, Body::Sync, "{output}");
        }
        assert_eq!(
            shape(
                quote!(),
                quote!(
                    async fn f() -> impl Future<Output = u8> {
                        todo!()
                    }
                )
            )
            .0,
            Body::Async
        );
    }

    #[test]
    fn only_unwinding_abis_can_panic() {
        let can_panic = |abi: TokenStream| shape(quote!(), quote!(#abi fn f() {})).2;
        assert!(can_panic(quote!()));
        assert!(can_panic(quote!(extern "Rust")));
        assert!(can_panic(quote!(extern "C-unwind")));
        assert!(can_panic(quote!(unsafe extern "system-unwind")));
        assert!(!can_panic(quote!(extern "C")));
        assert!(!can_panic(quote!(extern)));
        assert!(!can_panic(quote!(extern "system")));
    }

    #[test]
    fn refuses_an_error_argument_where_no_result_is_returned() {
        let refusal = |item: TokenStream| match shape_of(quote!(error = |f| E(f)), item) {
            Ok(_) => String::new(),
            Err(error) => error.to_string(),
        };
        for (item, found) in [
            (
                quote!(
                    fn f() {}
                ),
                "returns `()`",
            ),
            (
                quote!(
                    fn f() -> () {}
                ),
                "returns `()`",
            ),
            (
                quote!(
                    fn f() -> Option<u8> {
                        None
                    }
                ),
                "returns an `Option`",
            ),
            (
                quote!(
                    async fn f() -> Option<u8> {
                        None
                    }
                ),
                "returns an `Option`",
            ),
            (
                quote!(
                    fn f() -> impl Display {
                        1
                    }
                ),
                "returns an `impl Trait`",
            ),
            (
                quote!(
                    fn f() -> ! {
                        loop {}
                    }
                ),
                "returns `!`",
            ),
            (
                quote!(
                    fn f() -> (u8, E) {
                        todo!()
                    }
                ),
                "returns a tuple",
            ),
            (
                quote!(
                    fn f(x: &u8) -> &u8 {
                        x
                    }
                ),
                "returns a reference",
            ),
            (
                quote!(
                    fn f() -> impl Future<Output = Result<u8, E>> {
                        async { Ok(1) }
                    }
                ),
                "returns a future",
            ),
            (
                quote!(
                    fn f() -> BoxFuture<'static, ()> {
                        Box::pin(async move {})
                    }
                ),
                "future yields `()`",
            ),
        ] {
            let message = refusal(item.clone());
            assert!(
                message.starts_with(
                    "`error = ...` builds the `E` of a function returning `Result<T, E>`"
                ),
                "{item}: {message}"
            );
            assert!(message.contains(found), "{item}: {message}");
        }
        for accepted in [
            quote!(
                fn f() -> Result<u8, E> {
                    Ok(1)
                }
            ),
            quote!(
                fn f() -> Res<u8> {
                    Ok(1)
                }
            ),
            quote!(
                async fn f() -> io::Result<u8> {
                    Ok(1)
                }
            ),
            quote!(
                fn f() -> BoxFuture<'static, Result<u8, E>> {
                    Box::pin(async move { Ok(1) })
                }
            ),
            quote!(
                fn f() -> MyFuture {
                    Box::pin(async move { Ok(1) })
                }
            ),
        ] {
            assert_eq!(refusal(accepted.clone()), "", "{accepted}");
        }
    }
}
