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
use syn::{Attribute, Error, Ident, Item, ItemFn, LitStr, Signature, Stmt, TraitItemFn};

use crate::args::{ErrorArg, FaultPointArgs};
use crate::shape::{Body, ErrorReturn, Returns, Shape, error_type};

/// The whole attribute: validate, then instrument (feature `enabled`) or pass through.
///
/// Input:
///
/// ```text
/// #[fault_point(ARGS)]
/// ITEM
/// ```
///
/// Output, when ARGS and ITEM are valid and fit together (see [`Shape::of`]): ITEM with the
/// check spliced in (feature on), or ITEM token for token (feature off). Otherwise, in both
/// states:
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

    let refused = match (&args, &function) {
        (Ok(args), Ok(function)) => match Shape::of(args, function) {
            Ok(shape) if cfg!(feature = "enabled") => {
                return instrument(args, function, &shape, &item);
            }
            Ok(_) => return item,
            Err(error) => error,
        },
        (args, function) => {
            let mut errors = args
                .as_ref()
                .err()
                .into_iter()
                .chain(function.as_ref().err())
                .cloned();
            let mut combined = errors.next().expect("one of the two results is an error");
            for error in errors {
                combined.combine(error);
            }
            combined
        }
    };
    let errors = refused.into_compile_error();
    quote!(#item #errors)
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
///
/// A body that is one `Box::pin(async move { ... })` call ([`Body::BoxedAsync`], what
/// `#[async_trait]` writes) gets the check inside the async block instead, by the same rule:
///
/// ```text
/// fn fetch<'life0, 'async_trait>(&'life0 self) -> Pin<Box<dyn Future<Output = ..> + ..>> {
///     Box::pin(async move {
///         { CHECK }
///         let __self = self;
///         ...
///     })
/// }
/// ```
fn instrument(
    args: &FaultPointArgs,
    function: &ItemFn,
    shape: &Shape,
    item: &TokenStream,
) -> TokenStream {
    let check = check(args, &function.sig, shape);
    match splice_into_body(item.clone(), &check, shape.body) {
        Ok(tokens) => tokens,
        Err(error) => {
            let error = error.into_compile_error();
            quote!(#item #error)
        }
    }
}

/// Rebuilds the item with `check` spliced into its body, the item's last token tree.
fn splice_into_body(
    item: TokenStream,
    check: &TokenStream,
    body: Body,
) -> syn::Result<TokenStream> {
    let mut trees: Vec<TokenTree> = item.into_iter().collect();
    let spliced = match trees.pop() {
        Some(TokenTree::Group(block)) if block.delimiter() == Delimiter::Brace => {
            if body == Body::BoxedAsync {
                splice_into_boxed_async(&block, check)?
            } else {
                splice_into_block(&block, check)?
            }
        }
        // An item that went through a `macro_rules!` fragment (`$item:item`), or a body that
        // did (`$body:block`), can arrive wrapped in one invisible group.
        Some(TokenTree::Group(wrapper)) if wrapper.delimiter() == Delimiter::None => {
            let mut spliced = Group::new(
                Delimiter::None,
                splice_into_body(wrapper.stream(), check, body)?,
            );
            spliced.set_span(wrapper.span());
            spliced
        }
        _ => return Err(lost("the body")),
    };
    trees.push(spliced.into());
    Ok(trees.into_iter().collect())
}

/// Rebuilds a block with `check` after its inner attributes and leading items.
fn splice_into_block(block: &Group, check: &TokenStream) -> syn::Result<Group> {
    let head_len = head_len.parse2(block.stream())?;
    let mut contents: Vec<TokenTree> = block.stream().into_iter().collect();
    let rest = contents.split_off(head_len);
    let mut spliced = Group::new(Delimiter::Brace, quote!(#(#contents)* { #check } #(#rest)*));
    spliced.set_span(block.span());
    Ok(spliced)
}

/// Rebuilds a body that ends in `path::pin(async move { ... })` with `check` spliced into the
/// async block.
///
/// [`Shape::of`] has checked on the parsed body that, after its leading items, the body is
/// exactly that call. So the call's argument list is the body's last token tree, and the
/// argument opens with the tokens `async`, `move` and the block.
fn splice_into_boxed_async(block: &Group, check: &TokenStream) -> syn::Result<Group> {
    let mut contents: Vec<TokenTree> = block.stream().into_iter().collect();
    let Some(TokenTree::Group(arguments)) = contents.pop() else {
        return Err(lost("the boxed async block"));
    };
    let mut argument: Vec<TokenTree> = arguments.stream().into_iter().collect();
    let async_block = match argument.get(..3) {
        Some(
            [
                TokenTree::Ident(async_token),
                TokenTree::Ident(move_token),
                TokenTree::Group(block),
            ],
        ) if async_token == "async"
            && move_token == "move"
            && block.delimiter() == Delimiter::Brace =>
        {
            block.clone()
        }
        _ => return Err(lost("the boxed async block")),
    };
    argument[2] = splice_into_block(&async_block, check)?.into();
    let mut spliced_arguments = Group::new(arguments.delimiter(), argument.into_iter().collect());
    spliced_arguments.set_span(arguments.span());
    contents.push(spliced_arguments.into());
    let mut spliced = Group::new(Delimiter::Brace, contents.into_iter().collect());
    spliced.set_span(block.span());
    Ok(spliced)
}

/// The error for a function whose tokens do not have the form its parse promised.
fn lost(what: &str) -> Error {
    Error::new(
        Span::call_site(),
        format!("`#[fault_point]` could not find {what} in the function's tokens"),
    )
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

/// The check spliced into the body.
///
/// Input: `#[fault_point(name = "payments.charge", facets(customer = req.id, country))]` on
/// `async fn charge(req: &Request, country: &str) -> Result<Receipt, PayError>`.
///
/// Output (`RT` is `crate = ...` or `::fault_runtime`):
///
/// ```text
/// let __fault_point_site: &'static RT::__private::Point = {
///     static __FAULT_POINT: RT::__private::Point = RT::__private::Point::new(RT::__private::Site {
///         name: "payments.charge",
///         module_path: ::core::module_path!(),
///         file: ::core::file!(),
///         line: ::core::line!(),
///         facet_keys: &["customer", "country"],
///         can_error: true,
///         can_delay: true,
///         can_panic: true,
///         abi: "Rust",
///         is_async: true,
///     });
///     #[RT::__private::linkme::distributed_slice(RT::__private::CATALOG)]
///     #[linkme(crate = RT::__private::linkme)]
///     static __FAULT_POINT_ENTRY: &RT::__private::Point = &__FAULT_POINT;
///     &__FAULT_POINT
/// };
/// if __fault_point_site.is_armed() {
///     let __fault_point_struck =
///         __fault_point_site.strike_async(&[("customer", &(req.id)), ("country", &(country))]);
///     if let ::core::option::Option::Some(__fault_point_fault) = __fault_point_struck.await {
///         return ::core::result::Result::Err(
///             ::core::convert::From::from(::core::convert::identity(__fault_point_fault)),
///         );
///     }
/// }
/// ```
///
/// A sync function calls `strike` instead of `strike_async` and does not await. A function
/// returning `Option` tests `.is_some()` and returns `None`; one whose return type cannot
/// carry an error (`()`, `u32`, `impl Trait`, ...) discards the outcome:
/// `let _ = __fault_point_site.strike(&[...]);`. With `error = BUILD`, the error is
/// `RT::__private::build_error(__fault_point_fault, BUILD)`.
///
/// Why it looks like this:
/// - the statics live in the check's own block, so they cannot clash with the user's names;
/// - the strike's outcome is bound by `let` before it is awaited or matched, so the array of
///   borrowed facet values is dropped at once: it is never held across the `.await` (it is
///   not `Send`, and would make the function's future not `Send`), and it does not keep the
///   facets' places borrowed while `error = ...` runs;
/// - facet values coerce to `&dyn Display` through `strike`'s parameter type rather than an
///   `as` cast, which `trivial_casts` would report on the user's tokens;
/// - every generated token that rustc may blame for a mistake in the user's tokens carries
///   the span of those tokens: `&(VALUE)` is spanned on the facet value, the `From::from`
///   conversion on the return type (the `identity` call puts the caret on `E` itself), the
///   `Err(build_error(..))` on the `error = ...` expression. An expression's span runs from
///   its first token to its last, so the leading tokens take the span of the user's first
///   token and the parentheses that of the last: the whole of the user's tokens is
///   underlined, which a proc macro on stable Rust cannot ask for by joining spans;
/// - `line!()` is spanned on the function's name so it reports the function's line, not the
///   attribute's.
fn check(args: &FaultPointArgs, sig: &Signature, shape: &Shape) -> TokenStream {
    let rt = runtime_path(args, Span::call_site());
    // Locals are hygienic (mixed-site): the user's locals and parameters can neither see
    // nor shadow them. Items are not, so the statics sit in a block of their own that the
    // facet expressions are outside of. A pattern can still meet a user's `static` or
    // `const` of the same name, which is why the bindings have names no one writes.
    let statics = Ident::new("__FAULT_POINT", Span::mixed_site());
    let entry = Ident::new("__FAULT_POINT_ENTRY", Span::mixed_site());
    let point = Ident::new("__fault_point_site", Span::mixed_site());
    let struck = Ident::new("__fault_point_struck", Span::mixed_site());
    let fault = Ident::new("__fault_point_fault", Span::mixed_site());
    let decide = Ident::new("__fault_point_decide", Span::mixed_site());

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
        // The coercion to `&dyn Display` is where rustc reports a value that is not
        // `Display`, or not `Sized`.
        let (first, last) = span_range(&value);
        let value = across(quote_spanned!(first=> &), value, last);
        quote!((#key, #value))
    });
    let facets = quote!(&[#(#facets),*]);

    let is_async = shape.body.is_async();
    let (strike, outcome) = if is_async {
        (
            quote!(let #struck = #point.strike_async(|#decide| #decide(#facets));),
            quote!(#struck.await),
        )
    } else {
        (
            quote!(let #struck = #point.strike(|#decide| #decide(#facets));),
            quote!(#struck),
        )
    };
    let can_error = !matches!(shape.error_return, ErrorReturn::Impossible);
    let can_delay = shape.body.can_delay();
    let can_panic = shape.can_panic;
    let abi = &shape.abi;
    let on_strike = match shape.error_return {
        ErrorReturn::Built(ErrorArg { key, build }) => {
            let (first, last) = span_range(build);
            let rt = runtime_path(args, first);
            let error = across(
                quote_spanned!(first=> #rt::__private::build_error),
                quote!(#fault, #build),
                last,
            );
            // `Err` on the `error` keyword: rustc labels it "arguments to this enum variant
            // are incorrect" beside the expression it blames.
            let (keyword, _) = span_range(key);
            let error = across(
                quote_spanned!(keyword=> ::core::result::Result::Err),
                error,
                last,
            );
            // In an async block, the first `return` decides the block's output type. Typed
            // by the signature (through `identity`, which needs no binding that a user's
            // static could clash with), a wrong `error = ...` is reported at that expression
            // rather than at a later `return` (`#[async_trait]`'s, spanned on its attribute).
            let output = match (shape.body, shape.returns) {
                (Body::BoxedAsync, Returns::Type(output)) if !mentions_impl(output) => Some(output),
                _ => None,
            };
            let error = match output {
                Some(output) => quote!(::core::convert::identity::<#output>(#error)),
                None => error,
            };
            quote! {
                #strike
                if let ::core::option::Option::Some(#fault) = #outcome {
                    return #error;
                }
            }
        }
        ErrorReturn::Converted(ty) => {
            let (first, last) = span_range(ty);
            // rustc reports an unsatisfied `From<Fault>` at the argument of `from`: spanned
            // on the `E` of `Result<T, E>` when it is written, on the whole type otherwise.
            let (blame_first, blame_last) = error_type(ty).map_or((first, last), span_range);
            let argument = across(
                quote_spanned!(blame_first=> ::core::convert::identity),
                quote!(#fault),
                blame_last,
            );
            let error = across(
                quote_spanned!(first=> ::core::convert::From::from),
                argument,
                last,
            );
            let error = across(
                quote_spanned!(first=> ::core::result::Result::Err),
                error,
                last,
            );
            quote! {
                #strike
                if let ::core::option::Option::Some(#fault) = #outcome {
                    return #error;
                }
            }
        }
        ErrorReturn::Nothing(ty) => {
            let (first, _) = span_range(ty);
            let nothing = quote_spanned!(first=> ::core::option::Option::None);
            quote! {
                #strike
                if #outcome.is_some() {
                    return #nothing;
                }
            }
        }
        ErrorReturn::Impossible if is_async => quote! {
            #strike
            let _ = #outcome;
        },
        ErrorReturn::Impossible => quote! {
            let _ = #point.strike(|#decide| #decide(#facets));
        },
    };

    quote! {
        let #point: &'static #rt::__private::Point = {
            static #statics: #rt::__private::Point =
                #rt::__private::Point::new(#rt::__private::Site {
                    name: #name,
                    module_path: ::core::module_path!(),
                    file: ::core::file!(),
                    line: #line,
                    facet_keys: &[#(#facet_keys),*],
                    can_error: #can_error,
                    can_delay: #can_delay,
                    can_panic: #can_panic,
                    abi: #abi,
                    is_async: #is_async,
                });
            #[#rt::__private::linkme::distributed_slice(#rt::__private::CATALOG)]
            #[linkme(crate = #rt::__private::linkme)]
            static #entry: &#rt::__private::Point = &#statics;
            &#statics
        };
        if #point.is_armed() {
            #on_strike
        }
    }
}

/// Whether a type holds an `impl Trait`, which cannot be a generic argument.
fn mentions_impl(ty: &syn::Type) -> bool {
    fn holds_impl(tokens: TokenStream) -> bool {
        tokens.into_iter().any(|tree| match tree {
            TokenTree::Ident(ident) => ident == "impl",
            TokenTree::Group(group) => holds_impl(group.stream()),
            _ => false,
        })
    }
    holds_impl(ty.to_token_stream())
}

/// The runtime's path: `crate = ...` as written, or `::fault_runtime` spanned on `span`.
fn runtime_path(args: &FaultPointArgs, span: Span) -> TokenStream {
    args.krate.as_ref().map_or_else(
        || quote_spanned!(span=> ::fault_runtime),
        ToTokens::to_token_stream,
    )
}

/// Where the first and the last token of some user tokens are, for generated tokens that
/// rustc should blame on them.
///
/// The spans keep the macro's own (mixed-site) hygiene: they only borrow the location. So
/// the generated tokens resolve names as the rest of the expansion does, and lints still see
/// them as the macro's code, not the user's: `Result<T, Fault>` does not make clippy call
/// the generated `From::from` a useless conversion in the user's signature.
fn span_range(tokens: impl ToTokens) -> (Span, Span) {
    let mut trees = tokens.into_token_stream().into_iter();
    let first = trees
        .next()
        .map_or_else(Span::call_site, |tree| tree.span());
    let last = trees.last().map_or(first, |tree| tree.span());
    let located = |span: Span| Span::mixed_site().located_at(span);
    (located(first), located(last))
}

/// `PREFIX(INNER)`, with the parentheses spanned on `last`.
///
/// rustc spans an expression from its first token to its last. With `PREFIX` spanned on the
/// first of some user tokens and `last` the span of the last of them, an error in this
/// expression is shown under all of those tokens.
fn across(prefix: TokenStream, inner: TokenStream, last: Span) -> TokenStream {
    let mut parenthesized = Group::new(Delimiter::Parenthesis, inner);
    parenthesized.set_span(last);
    quote!(#prefix #parenthesized)
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
        let out = splice_into_body(item, &quote!(CHECK), Body::Sync)
            .unwrap()
            .to_string();
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
            Body::Sync,
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
        let out = splice_into_body(quote!(#wrapped), &quote!(CHECK), Body::Sync).unwrap();
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
    fn splices_into_the_async_block_of_a_boxed_future() {
        let item = quote! {
            fn get<'life0>(&'life0 self) -> Pin<Box<dyn Future<Output = u8> + Send + 'life0>> {
                use std::fmt;
                Box::pin(async move {
                    #![allow(unused)]
                    let __self = self;
                    1
                })
            }
        };
        let out = splice_into_body(item, &quote!(CHECK), Body::BoxedAsync)
            .unwrap()
            .to_string();
        let expected = quote! {
            fn get<'life0>(&'life0 self) -> Pin<Box<dyn Future<Output = u8> + Send + 'life0>> {
                use std::fmt;
                Box::pin(async move {
                    #![allow(unused)]
                    { CHECK }
                    let __self = self;
                    1
                })
            }
        };
        assert_eq!(out, expected.to_string());
    }

    #[test]
    fn prints_the_check() {
        let printed = |args: TokenStream, item: TokenStream| {
            let args = syn::parse2::<FaultPointArgs>(args).unwrap();
            let function: ItemFn = syn::parse2(item).unwrap();
            let shape = Shape::of(&args, &function).unwrap_or_else(|e| panic!("{e}"));
            check(&args, &function.sig, &shape).to_string()
        };

        let check = printed(
            quote!(facets(customer = req.id, country)),
            quote! {
                async fn charge(req: &Request, country: &str) -> Result<Receipt, PayError> {
                    todo!()
                }
            },
        );
        assert!(check.contains("strike_async"), "{check}");
        assert!(check.contains(". await"), "{check}");
        assert!(check.contains("is_async : true"), "{check}");
        assert!(check.contains("can_error : true"), "{check}");
        assert!(check.contains("can_delay : true"), "{check}");
        assert!(check.contains("can_panic : true"), "{check}");
        assert!(check.contains("abi : \"Rust\""), "{check}");
        assert!(check.contains("\"charge\""), "{check}");

        let check = printed(
            quote!(),
            quote! {
                extern "C" fn ffi(x: i32) -> i32 { x }
            },
        );
        assert!(check.contains("can_panic : false"), "{check}");
        assert!(check.contains("abi : \"C\""), "{check}");
        assert!(!check.contains("strike_async"), "{check}");

        let check = printed(
            quote!(error = |fault| E(fault)),
            quote! {
                fn get(&self) -> Pin<Box<dyn Future<Output = Result<u8, E>> + Send + '_>> {
                    Box::pin(async move { Ok(1) })
                }
            },
        );
        assert!(check.contains("strike_async"), "{check}");
        assert!(check.contains("is_async : true"), "{check}");
        assert!(check.contains("can_delay : true"), "{check}");
        // Typed by the future's output, so that a wrong `error = ...` is reported there.
        assert!(
            check.contains("identity :: < Result < u8 , E > > ("),
            "{check}"
        );

        let check = printed(
            quote!(),
            quote! {
                fn get(&self) -> impl Future<Output = u8> + Send { let x = 1; async move { x } }
            },
        );
        assert!(check.contains("can_delay : false"), "{check}");
        assert!(check.contains("is_async : false"), "{check}");
        assert!(check.contains("can_error : false"), "{check}");
    }
}
