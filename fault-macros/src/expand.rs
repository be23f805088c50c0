//! Code generation: from the checked arguments and the annotated function to the output tokens.
//!
//! The function's own tokens are never re-printed from syn's syntax tree. Everything except the
//! body's contents is passed through as the compiler handed it over, and the check is spliced
//! into the body's token stream, so spans, `return` and `?` targets, labels, drop order and
//! `#[track_caller]` stay exactly as written.

use proc_macro2::{Delimiter, Group, Span, TokenStream, TokenTree};
use quote::{ToTokens, quote, quote_spanned};
use syn::buffer::Cursor;
use syn::ext::IdentExt as _;
use syn::parse::discouraged::Speculative as _;
use syn::parse::{ParseStream, Parser as _};
use syn::spanned::Spanned as _;
use syn::{
    Attribute, Error, Ident, Item, ItemFn, LitStr, ReturnType, Signature, Stmt, TraitItemFn, Type,
};

use crate::args::FaultPointArgs;

/// The whole attribute: validate, then instrument (feature `enabled`) or pass through.
///
/// Input:
///
/// ```text
/// #[fault_point(ARGS)]
/// ITEM
/// ```
///
/// Output, when ARGS and ITEM are valid: ITEM with the check spliced in (feature on), or ITEM
/// token for token (feature off). Otherwise, in both states:
///
/// ```text
/// ITEM
/// ::core::compile_error! { "first mistake" }
/// ::core::compile_error! { "second mistake" }
/// ```
///
/// Re-emitting ITEM untouched keeps every use of the function compiling, so one mistake in
/// the attribute gives one error, not one more for each caller.
pub(crate) fn fault_point(args: TokenStream, item: TokenStream) -> TokenStream {
    let args = syn::parse2::<FaultPointArgs>(args);
    let function = parse_function(item.clone());

    match (args, function) {
        (Ok(args), Ok(function)) => {
            if cfg!(feature = "enabled") {
                instrument(&args, &function, &item)
            } else {
                item
            }
        }
        (args, function) => {
            let mut errors = args.err().into_iter().chain(function.err());
            let mut combined = errors.next().expect("one of the two results is an error");
            for error in errors {
                combined.combine(error);
            }
            let errors = combined.into_compile_error();
            quote!(#item #errors)
        }
    }
}

/// Parses the annotated item as a function with a body, and refuses a `const fn`.
fn parse_function(item: TokenStream) -> syn::Result<ItemFn> {
    let function = match syn::parse2::<ItemFn>(item.clone()) {
        Ok(function) => function,
        Err(parse_error) => return Err(not_a_function(item, &parse_error)),
    };
    if let Some(const_token) = &function.sig.constness {
        return Err(Error::new(
            const_token.span,
            "`#[fault_point]` cannot go on a `const fn`: its check runs at run time; \
             remove `const`, or move the attribute to a function that is not const",
        ));
    }
    Ok(function)
}

/// Explains, spanned on the item's keyword and name, why the item cannot take the attribute.
fn not_a_function(item: TokenStream, parse_error: &Error) -> Error {
    // No let-chain here: they need Rust 1.88, and the crate supports 1.85.
    if let Ok(declaration) = syn::parse2::<TraitItemFn>(item.clone()) {
        if declaration.default.is_none() {
            return Error::new_spanned(
                &declaration.sig,
                "`#[fault_point]` needs a function with a body; on a trait, put it on a provided \
                 method or on the method in each impl",
            );
        }
    }
    let Ok(item) = syn::parse2::<Item>(item) else {
        return Error::new(
            parse_error.span(),
            format!("`#[fault_point]` goes on a function with a body: {parse_error}"),
        );
    };
    let head = |keyword: &dyn ToTokens, name: &Ident| quote!(#keyword #name);
    let (what, head) = match &item {
        Item::Struct(item) => ("a struct", head(&item.struct_token, &item.ident)),
        Item::Enum(item) => ("an enum", head(&item.enum_token, &item.ident)),
        Item::Union(item) => ("a union", head(&item.union_token, &item.ident)),
        Item::Trait(item) => (
            "a trait; put it on its provided methods",
            head(&item.trait_token, &item.ident),
        ),
        Item::TraitAlias(item) => ("a trait alias", head(&item.trait_token, &item.ident)),
        Item::Impl(item) => (
            "an impl block; put it on its methods",
            item.impl_token.to_token_stream(),
        ),
        Item::Type(item) => ("a type alias", head(&item.type_token, &item.ident)),
        Item::Const(item) => ("a constant", head(&item.const_token, &item.ident)),
        Item::Static(item) => ("a static", head(&item.static_token, &item.ident)),
        Item::Mod(item) => ("a module", head(&item.mod_token, &item.ident)),
        Item::Use(item) => ("a `use` declaration", item.use_token.to_token_stream()),
        Item::ExternCrate(item) => ("an `extern crate`", head(&item.extern_token, &item.ident)),
        Item::ForeignMod(item) => ("an extern block", item.abi.to_token_stream()),
        Item::Macro(item) => ("a macro", item.mac.path.to_token_stream()),
        _ => {
            return Error::new(
                parse_error.span(),
                format!("`#[fault_point]` goes on a function with a body: {parse_error}"),
            );
        }
    };
    Error::new_spanned(
        head,
        format!("`#[fault_point]` goes on a function, not on {what}"),
    )
}

/// Splices the check into the function's body.
///
/// Input:
///
/// ```text
/// #[attrs] pub async fn charge(req: &Request) -> Result<Receipt, PayError> {
///     #![inner_attrs]
///     use some::Item;
///     let receipt = ...;
///     Ok(receipt)
/// }
/// ```
///
/// Output (everything outside the braces is the input's own tokens):
///
/// ```text
/// #[attrs] pub async fn charge(req: &Request) -> Result<Receipt, PayError> {
///     #![inner_attrs]
///     use some::Item;
///     { CHECK }
///     let receipt = ...;
///     Ok(receipt)
/// }
/// ```
///
/// The check goes after the inner attributes, which must stay first, and after the items that
/// open the body. An item is not executed, so the check still runs before any statement; and
/// a body that opens with `use` does not trip `clippy::items_after_statements` on the user's
/// code.
fn instrument(args: &FaultPointArgs, function: &ItemFn, item: &TokenStream) -> TokenStream {
    let check = check(args, &function.sig);
    match splice_into_body(item.clone(), &check) {
        Ok(tokens) => tokens,
        Err(error) => {
            let error = error.into_compile_error();
            quote!(#item #error)
        }
    }
}

/// Rebuilds the item with `check` spliced into its body, the item's last token tree.
fn splice_into_body(item: TokenStream, check: &TokenStream) -> syn::Result<TokenStream> {
    let mut trees: Vec<TokenTree> = item.into_iter().collect();
    let spliced = match trees.pop() {
        Some(TokenTree::Group(body)) if body.delimiter() == Delimiter::Brace => {
            let head_len = head_len.parse2(body.stream())?;
            let mut contents: Vec<TokenTree> = body.stream().into_iter().collect();
            let rest = contents.split_off(head_len);
            let mut spliced =
                Group::new(Delimiter::Brace, quote!(#(#contents)* { #check } #(#rest)*));
            spliced.set_span(body.span());
            spliced
        }
        // An item that went through a `macro_rules!` fragment (`$item:item`) can arrive
        // wrapped in one invisible group.
        Some(TokenTree::Group(wrapper))
            if trees.is_empty() && wrapper.delimiter() == Delimiter::None =>
        {
            let mut spliced =
                Group::new(Delimiter::None, splice_into_body(wrapper.stream(), check)?);
            spliced.set_span(wrapper.span());
            spliced
        }
        _ => {
            return Err(Error::new(
                Span::call_site(),
                "`#[fault_point]` could not find the function's body in its tokens",
            ));
        }
    };
    trees.push(spliced.into());
    Ok(trees.into_iter().collect())
}

/// Counts the token trees of a body's inner attributes and leading items.
///
/// Only whole token trees are counted; should the items end inside an invisible group (an
/// item passed in through a `macro_rules!` fragment), the count falls back to the inner
/// attributes alone.
fn head_len(input: ParseStream) -> syn::Result<usize> {
    let begin = input.cursor();
    input.call(Attribute::parse_inner)?;
    let after_attributes = input.cursor();
    let mut after_items = after_attributes;
    loop {
        let attempt = input.fork();
        match attempt.parse::<Stmt>() {
            Ok(Stmt::Item(_)) => {
                input.advance_to(&attempt);
                after_items = input.cursor();
            }
            _ => break,
        }
    }
    input.parse::<TokenStream>()?;
    count_trees(begin, after_items)
        .or_else(|| count_trees(begin, after_attributes))
        .ok_or_else(|| {
            Error::new(
                Span::call_site(),
                "`#[fault_point]` could not split the body",
            )
        })
}

/// The number of token trees from `begin` to `end`, if `end` lies on a token tree boundary.
fn count_trees(begin: Cursor, end: Cursor) -> Option<usize> {
    let mut count = 0;
    let mut cursor = begin;
    while cursor != end {
        cursor = cursor.token_tree()?.1;
        count += 1;
    }
    Some(count)
}

/// What a struck point does to the call when the runtime hands it a fault.
enum ErrorReturn<'a> {
    /// `error = expr` was given: `Err(build_error(fault, expr))`.
    Built(&'a syn::Expr),
    /// The return type is a `Result`: `Err(From::from(fault))`, spanned on the return type
    /// so a missing `From<Fault>` impl is reported there.
    Converted(Span),
    /// The return type is an `Option`: `None`.
    Nothing,
    /// The return type cannot carry an error; the runtime refuses error attacks on the point.
    Impossible,
}

impl<'a> ErrorReturn<'a> {
    fn of(args: &'a FaultPointArgs, sig: &Signature) -> Self {
        if let Some(error) = &args.error {
            return ErrorReturn::Built(error);
        }
        let ReturnType::Type(_, ty) = &sig.output else {
            return ErrorReturn::Impossible;
        };
        match last_segment(ty).map(ToString::to_string).as_deref() {
            Some("Result") => ErrorReturn::Converted(ty.span()),
            Some("Option") => ErrorReturn::Nothing,
            _ => ErrorReturn::Impossible,
        }
    }
}

/// The last path segment of a type, seen through parentheses and invisible groups.
///
/// Limitation: an alias with another name (`type Res<T> = Result<T, E>`) is not recognized,
/// so its point cannot take error attacks; `error = ...` makes it one that can.
fn last_segment(ty: &Type) -> Option<&Ident> {
    match ty {
        Type::Paren(paren) => last_segment(&paren.elem),
        Type::Group(group) => last_segment(&group.elem),
        Type::Path(path) if path.qself.is_none() => path.path.segments.last().map(|s| &s.ident),
        _ => None,
    }
}

/// The check spliced into the body.
///
/// Input: `#[fault_point(name = "payments.charge", facets(customer = req.id, country))]` on
/// `async fn charge(req: &Request, country: &str) -> Result<Receipt, PayError>`.
///
/// Output (`RT` is `crate = ...` or `::fault_runtime`):
///
/// ```text
/// static __FAULT_POINT: RT::__private::Point = RT::__private::Point::new(RT::__private::Site {
///     name: "payments.charge",
///     module_path: ::core::module_path!(),
///     file: ::core::file!(),
///     line: ::core::line!(),
///     facet_keys: &["customer", "country"],
///     can_error: true,
///     is_async: true,
/// });
/// #[RT::__private::linkme::distributed_slice(RT::__private::CATALOG)]
/// #[linkme(crate = RT::__private::linkme)]
/// static __FAULT_POINT_ENTRY: &RT::__private::Point = &__FAULT_POINT;
/// if __FAULT_POINT.is_armed() {
///     let __struck = __FAULT_POINT.strike_async(&[("customer", &(req.id)), ("country", &(country))]);
///     if let ::core::option::Option::Some(__fault) = __struck.await {
///         return ::core::result::Result::Err(::core::convert::From::from(__fault));
///     }
/// }
/// ```
///
/// A sync function calls `strike` instead of `strike_async` and does not await. A function
/// returning `Option` tests `.is_some()` and returns `None`; one whose return type cannot
/// carry an error (`()`, `u32`, `impl Trait`, ...) discards the outcome:
/// `let _ = __FAULT_POINT.strike(&[...]);`.
///
/// Why it looks like this:
/// - the statics live in the check's own block, so they cannot clash with the user's names;
/// - the strike's outcome is bound by `let` before it is awaited or matched, so the array of
///   borrowed facet values is dropped at once: it is never held across the `.await` (it is
///   not `Send`, and would make the function's future not `Send`), and it does not keep the
///   facets' places borrowed while `error = ...` runs;
/// - facet values coerce to `&dyn Display` through `strike`'s parameter type rather than an
///   `as` cast, which `trivial_casts` would report on the user's tokens;
/// - `line!()` is spanned on the function's name so it reports the function's line, not the
///   attribute's.
fn check(args: &FaultPointArgs, sig: &Signature) -> TokenStream {
    let rt = args
        .krate
        .as_ref()
        .map_or_else(|| quote!(::fault_runtime), ToTokens::to_token_stream);
    let point = Ident::new("__FAULT_POINT", Span::mixed_site());
    let entry = Ident::new("__FAULT_POINT_ENTRY", Span::mixed_site());
    let struck = Ident::new("__struck", Span::mixed_site());
    let fault = Ident::new("__fault", Span::mixed_site());

    let name = args.name.as_ref().map_or_else(
        || {
            let function = sig.ident.unraw().to_string();
            quote!(::core::concat!(::core::module_path!(), "::", #function))
        },
        ToTokens::to_token_stream,
    );
    let line = quote_spanned!(sig.ident.span()=> ::core::line!());
    let facet_keys = args
        .facets
        .iter()
        .map(|facet| LitStr::new(&facet.key_text(), facet.key.span()));
    let facets = args.facets.iter().map(|facet| {
        let key = LitStr::new(&facet.key_text(), facet.key.span());
        let value = match &facet.value {
            Some(value) => value.to_token_stream(),
            None => facet.key.to_token_stream(),
        };
        // Spanned on the value, so "`T` doesn't implement `Display`" points at it.
        let value = quote_spanned!(value.span()=> &(#value));
        quote!((#key, #value))
    });
    let facets = quote!(&[#(#facets),*]);

    let is_async = sig.asyncness.is_some();
    let (strike, outcome) = if is_async {
        (
            quote!(let #struck = #point.strike_async(#facets);),
            quote!(#struck.await),
        )
    } else {
        (
            quote!(let #struck = #point.strike(#facets);),
            quote!(#struck),
        )
    };
    let error_return = ErrorReturn::of(args, sig);
    let can_error = !matches!(error_return, ErrorReturn::Impossible);
    let on_strike = match error_return {
        ErrorReturn::Built(build) => quote! {
            #strike
            if let ::core::option::Option::Some(#fault) = #outcome {
                return ::core::result::Result::Err(#rt::__private::build_error(#fault, #build));
            }
        },
        ErrorReturn::Converted(span) => {
            let error = quote_spanned!(span=> ::core::convert::From::from(#fault));
            quote! {
                #strike
                if let ::core::option::Option::Some(#fault) = #outcome {
                    return ::core::result::Result::Err(#error);
                }
            }
        }
        ErrorReturn::Nothing => quote! {
            #strike
            if #outcome.is_some() {
                return ::core::option::Option::None;
            }
        },
        ErrorReturn::Impossible if is_async => quote! {
            #strike
            let _ = #outcome;
        },
        ErrorReturn::Impossible => quote! {
            let _ = #point.strike(#facets);
        },
    };

    quote! {
        static #point: #rt::__private::Point = #rt::__private::Point::new(#rt::__private::Site {
            name: #name,
            module_path: ::core::module_path!(),
            file: ::core::file!(),
            line: #line,
            facet_keys: &[#(#facet_keys),*],
            can_error: #can_error,
            is_async: #is_async,
        });
        #[#rt::__private::linkme::distributed_slice(#rt::__private::CATALOG)]
        #[linkme(crate = #rt::__private::linkme)]
        static #entry: &#rt::__private::Point = &#point;
        if #point.is_armed() {
            #on_strike
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(args: TokenStream, item: TokenStream) -> Vec<String> {
        let parsed_args = syn::parse2::<FaultPointArgs>(args);
        let function = parse_function(item);
        parsed_args
            .err()
            .into_iter()
            .chain(function.err())
            .flat_map(|error| error.into_iter().map(|e| e.to_string()).collect::<Vec<_>>())
            .collect()
    }

    #[test]
    fn parses_every_kind_of_function_with_a_body() {
        for item in [
            quote!(
                fn f() {}
            ),
            quote!(
                pub(crate) fn f(self) -> u32 {
                    1
                }
            ),
            quote!(
                fn f(&self) {}
            ),
            quote!(
                fn f(&mut self) -> Option<u8> {
                    None
                }
            ),
            quote!(
                fn f(mut self) {}
            ),
            quote!(
                fn f(self: Box<Self>) {}
            ),
            quote!(
                #[track_caller]
                pub async unsafe fn f<'a, T: Clone>(&'a self, t: T) -> T
                where
                    T: Send,
                {
                    t
                }
            ),
            quote!(
                extern "C" fn f(x: i32) -> i32 {
                    x
                }
            ),
        ] {
            assert!(parse_function(item.clone()).is_ok(), "{item}");
        }
    }

    #[test]
    fn refuses_what_is_not_a_function_with_a_body() {
        assert!(
            errors(
                quote!(),
                quote!(
                    const fn f() {}
                )
            )[0]
            .contains("`const fn`")
        );
        assert!(
            errors(
                quote!(),
                quote!(
                    struct S {
                        a: u8,
                    }
                )
            )[0]
            .ends_with("not on a struct")
        );
        assert!(errors(quote!(), quote!(impl S {}))[0].contains("put it on its methods"));
        assert!(
            errors(
                quote!(),
                quote!(
                    fn f(&self);
                )
            )[0]
            .contains("needs a function with a body")
        );
        assert_eq!(
            errors(
                quote!(nope, name = 1),
                quote!(
                    const fn f() {}
                )
            )
            .len(),
            3
        );
    }

    #[test]
    fn errors_keep_the_item_as_written() {
        let item = quote!(
            pub fn f(x: u8) -> u8 {
                x
            }
        );
        let out = fault_point(quote!(name = ""), item.clone()).to_string();
        assert!(out.starts_with(&item.to_string()), "{out}");
        assert!(out.contains("compile_error"), "{out}");
    }

    #[test]
    fn splices_after_inner_attributes_and_leading_items() {
        let item = quote! {
            fn f() -> u8 {
                #![allow(unused)]
                use std::fmt;
                fn helper() {}
                let x = 1;
                fn late() {}
                x
            }
        };
        let out = splice_into_body(item, &quote!(CHECK)).unwrap().to_string();
        let expected = quote! {
            fn f() -> u8 {
                #![allow(unused)]
                use std::fmt;
                fn helper() {}
                { CHECK }
                let x = 1;
                fn late() {}
                x
            }
        };
        assert_eq!(out, expected.to_string());

        let empty = splice_into_body(
            quote!(
                fn f() {}
            ),
            &quote!(CHECK),
        )
        .unwrap();
        assert_eq!(
            empty.to_string(),
            quote!(
                fn f() {
                    { CHECK }
                }
            )
            .to_string()
        );
    }

    #[test]
    fn splices_into_an_item_wrapped_in_an_invisible_group() {
        let wrapped = Group::new(
            Delimiter::None,
            quote!(
                fn f() {
                    g()
                }
            ),
        );
        let out = splice_into_body(quote!(#wrapped), &quote!(CHECK)).unwrap();
        let Some(TokenTree::Group(group)) = out.into_iter().next() else {
            panic!("the invisible group is gone");
        };
        assert_eq!(
            group.stream().to_string(),
            quote!(
                fn f() {
                    {
                        CHECK
                    }
                    g()
                }
            )
            .to_string()
        );
    }

    #[test]
    fn error_return_follows_the_return_type() {
        let kind = |sig: TokenStream, args: TokenStream| {
            let args = syn::parse2::<FaultPointArgs>(args).unwrap();
            let sig = syn::parse2::<Signature>(sig).unwrap();
            match ErrorReturn::of(&args, &sig) {
                ErrorReturn::Built(_) => "built",
                ErrorReturn::Converted(_) => "converted",
                ErrorReturn::Nothing => "none",
                ErrorReturn::Impossible => "impossible",
            }
        };
        assert_eq!(
            kind(quote!(fn f() -> io::Result<()>), quote!()),
            "converted"
        );
        assert_eq!(
            kind(quote!(fn f() -> (Result<u8, E>)), quote!()),
            "converted"
        );
        assert_eq!(
            kind(quote!(fn f() -> ::core::option::Option<u8>), quote!()),
            "none"
        );
        assert_eq!(
            kind(quote!(fn f() -> Result<u8, E>), quote!(error = E::new)),
            "built"
        );
        assert_eq!(kind(quote!(fn f()), quote!()), "impossible");
        assert_eq!(kind(quote!(fn f() -> ()), quote!()), "impossible");
        assert_eq!(
            kind(
                quote!(fn f() -> impl Future<Output = Result<(), E>>),
                quote!()
            ),
            "impossible"
        );
        assert_eq!(kind(quote!(fn f() -> !), quote!()), "impossible");
    }

    #[test]
    fn prints_the_check() {
        let args =
            syn::parse2::<FaultPointArgs>(quote!(facets(customer = req.id, country))).unwrap();
        let function: ItemFn = syn::parse2(quote! {
            async fn charge(req: &Request, country: &str) -> Result<Receipt, PayError> { todo!() }
        })
        .unwrap();
        let check = check(&args, &function.sig).to_string();
        assert!(check.contains("strike_async"), "{check}");
        assert!(check.contains(". await"), "{check}");
        assert!(check.contains("is_async : true"), "{check}");
        assert!(check.contains("can_error : true"), "{check}");
        assert!(check.contains("\"charge\""), "{check}");
    }
}
