//! The grammar of `#[fault_point(...)]`'s arguments.
//!
//! ```text
//! args   := (arg ("," arg)* ","?)?
//! arg    := "name" "=" string-literal
//!         | "facets" "(" (facet ("," facet)* ","?)? ")"
//!         | "error" "=" expression
//!         | "crate" "=" path
//! facet  := identifier ("=" expression)?
//! ```
//!
//! Parsing does not stop at the first mistake: a bad argument is reported and skipped up to
//! the next comma, so a user who made two mistakes sees both in one build. Every error is
//! spanned on the user's own tokens.

use std::collections::HashSet;

use proc_macro2::{TokenStream, TokenTree};
use quote::quote;
use syn::ext::IdentExt as _;
use syn::parse::discouraged::Speculative as _;
use syn::parse::{Error, Parse, ParseStream, Result};
use syn::{Expr, Ident, LitStr, Path, Token, parenthesized};

pub(crate) mod kw {
    syn::custom_keyword!(name);
    syn::custom_keyword!(facets);
    syn::custom_keyword!(error);
}

const ACCEPTED_KEYS: &str = "`name`, `facets`, `error`, `crate`";

/// What the user wrote in `#[fault_point(...)]`, checked.
#[derive(Default)]
pub(crate) struct FaultPointArgs {
    /// `name = "..."`; the default name is built by the expansion.
    pub name: Option<LitStr>,
    /// `facets(...)`, in the order written, keys unique.
    pub facets: Vec<Facet>,
    /// `error = expr`: builds the function's error from the injected fault.
    pub error: Option<ErrorArg>,
    /// `crate = path`: where the runtime is reachable from the annotated code.
    pub krate: Option<Path>,
}

/// `error = expression`. The keyword is kept so that a mistake about the argument as a whole
/// can be reported on all of it.
pub(crate) struct ErrorArg {
    pub key: kw::error,
    /// Builds the error: anything callable as `FnOnce(Fault) -> E`.
    pub build: Expr,
}

/// One `key = value` (or shorthand `key`) entry of `facets(...)`.
pub(crate) struct Facet {
    pub key: Ident,
    /// `None` for the shorthand `key`, which reads the variable of the same name.
    pub value: Option<Expr>,
}

impl Facet {
    /// The key as it appears in attacks: `r#type` is the facet `type`.
    pub fn key_text(&self) -> String {
        self.key.unraw().to_string()
    }
}

/// Collects every error of one attribute, so they can be reported together.
#[derive(Default)]
struct Errors(Option<Error>);

impl Errors {
    fn push(&mut self, error: Error) {
        match &mut self.0 {
            Some(first) => first.combine(error),
            None => self.0 = Some(error),
        }
    }

    fn finish<T>(self, value: T) -> Result<T> {
        match self.0 {
            Some(error) => Err(error),
            None => Ok(value),
        }
    }
}

impl Parse for FaultPointArgs {
    fn parse(input: ParseStream) -> Result<Self> {
        let mut args = FaultPointArgs::default();
        let mut errors = Errors::default();
        let mut seen_keys = HashSet::new();

        while !input.is_empty() {
            if let Err(error) = args.parse_one(input, &mut seen_keys, &mut errors) {
                errors.push(error);
                skip_to_comma(input);
            }
            if input.is_empty() {
                break;
            }
            if input.parse::<Option<Token![,]>>()?.is_none() {
                errors.push(input.error("expected `,` between the arguments of `#[fault_point]`"));
                skip_to_comma(input);
                input.parse::<Option<Token![,]>>()?;
            }
        }

        errors.finish(args)
    }
}

impl FaultPointArgs {
    /// Parses one `key ...` argument, up to (not including) the comma that ends it.
    ///
    /// A repeated key is reported at its second occurrence, and its value is still parsed, so
    /// a mistake inside the repeated value is reported too. Only the first value is kept.
    fn parse_one(
        &mut self,
        input: ParseStream,
        seen_keys: &mut HashSet<&'static str>,
        errors: &mut Errors,
    ) -> Result<()> {
        let key_span = input.span();
        let key = if input.peek(kw::name) {
            "name"
        } else if input.peek(kw::facets) {
            "facets"
        } else if input.peek(kw::error) {
            "error"
        } else if input.peek(Token![crate]) {
            "crate"
        } else if input.peek(Ident::peek_any) {
            let unknown = input.call(Ident::parse_any)?;
            return Err(Error::new(
                unknown.span(),
                format!("unknown argument `{unknown}`; the accepted ones are {ACCEPTED_KEYS}"),
            ));
        } else {
            return Err(input.error(format!(
                "expected an argument of `#[fault_point]`: one of {ACCEPTED_KEYS}"
            )));
        };
        let first = seen_keys.insert(key);
        if !first {
            errors.push(Error::new(key_span, format!("duplicate argument `{key}`")));
        }

        match key {
            "name" => {
                let key = input.parse::<kw::name>()?;
                let name = parse_name(input, &key)?;
                if first {
                    self.name = Some(name);
                }
            }
            "facets" => {
                let key = input.parse::<kw::facets>()?;
                let facets = parse_facets(input, &key)?;
                if first {
                    self.facets = facets;
                }
            }
            "error" => {
                let key = input.parse::<kw::error>()?;
                expect_value(input, &key, "error", "error = |fault| MyError::from(fault)")?;
                let build = input.parse::<Expr>()?;
                if first {
                    self.error = Some(ErrorArg { key, build });
                }
            }
            _ => {
                let key = input.parse::<Token![crate]>()?;
                expect_value(input, &key, "crate", "crate = my_crate::fault_runtime")?;
                if input.peek(LitStr) {
                    return Err(input.error(
                        "`crate` takes a path, not a string: write `crate = my_crate::fault_runtime`",
                    ));
                }
                let path = input.call(Path::parse_mod_style)?;
                if first {
                    self.krate = Some(path);
                }
            }
        }
        Ok(())
    }
}

/// Consumes the `=` after `key`, or explains what is missing.
fn expect_value(
    input: ParseStream,
    key: &impl quote::ToTokens,
    key_text: &str,
    example: &str,
) -> Result<()> {
    if input.is_empty() || input.peek(Token![,]) {
        return Err(Error::new_spanned(
            key,
            format!("`{key_text}` needs a value, as in `{example}`"),
        ));
    }
    let eq = input.parse::<Token![=]>().map_err(|_| {
        input.error(format!(
            "expected `=` after `{key_text}`, as in `{example}`"
        ))
    })?;
    if input.is_empty() || input.peek(Token![,]) {
        return Err(Error::new_spanned(
            quote!(#key #eq),
            format!("`{key_text} =` needs a value, as in `{example}`"),
        ));
    }
    Ok(())
}

/// `name = "lit"`: the literal must be a plain string that is a valid point name.
fn parse_name(input: ParseStream, key: &kw::name) -> Result<LitStr> {
    expect_value(input, key, "name", "name = \"payments.charge\"")?;
    let value = skip_to_comma(input);
    let mut tokens = value.clone().into_iter();
    let first = tokens.next().map(TokenStream::from);
    let Some(name) = first.and_then(|first| syn::parse2::<LitStr>(first).ok()) else {
        return Err(Error::new_spanned(
            value,
            "the point name must be a string literal, as in `name = \"payments.charge\"`",
        ));
    };
    if let Some(extra) = tokens.next() {
        return Err(Error::new(
            extra.span(),
            "expected `,` between the arguments of `#[fault_point]`",
        ));
    }
    if !name.suffix().is_empty() {
        return Err(Error::new(
            name.span(),
            "the point name must be a string literal without a suffix",
        ));
    }
    validate_name(&name.value()).map_err(|message| Error::new(name.span(), message))?;
    Ok(name)
}

/// Checks a point name against the characters that attacks can name and glob over.
///
/// The dot and colon separate the parts of a name (`payments.charge`, the default
/// `my_crate::module::function`); a glob such as `payments.*` needs `*` to stay free.
pub(crate) fn validate_name(name: &str) -> std::result::Result<(), String> {
    if name.is_empty() {
        return Err(
            "the point name is empty; give it a name such as \"payments.charge\", \
                    or leave `name` out to use the function's path"
                .to_owned(),
        );
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ':');
    match name.chars().find(|&c| !allowed(c)) {
        Some(bad) => Err(format!(
            "the point name \"{}\" contains {bad:?}, which a point name cannot hold; \
             use ASCII letters, digits, `.`, `_`, `-` and `:`",
            name.escape_debug()
        )),
        None => Ok(()),
    }
}

/// `facets(key = expr, key, ...)`, after the `facets` keyword.
fn parse_facets(input: ParseStream, key: &kw::facets) -> Result<Vec<Facet>> {
    if !input.peek(syn::token::Paren) {
        let rest = skip_to_comma(input);
        return Err(Error::new_spanned(
            quote!(#key #rest),
            "`facets` takes a parenthesized list, as in \
             `facets(customer = req.customer_id, country)`",
        ));
    }
    let content;
    parenthesized!(content in input);

    let mut facets = Vec::new();
    let mut errors = Errors::default();
    let mut seen_keys = HashSet::new();
    while !content.is_empty() {
        let attempt = content.fork();
        if let Ok(facet) = parse_facet(&attempt) {
            content.advance_to(&attempt);
            if seen_keys.insert(facet.key_text()) {
                facets.push(facet);
            } else {
                errors.push(Error::new(
                    facet.key.span(),
                    format!("duplicate facet key `{}`", facet.key_text()),
                ));
            }
        } else {
            // The entry's own tokens make a better span than the first token the entry
            // parser choked on: `a.b` is underlined whole.
            let span = content.span();
            let entry = skip_to_comma(&content);
            let message = "expected a facet `key = value` or a bare `key` (short for `key = key`)";
            errors.push(if entry.is_empty() {
                Error::new(span, message)
            } else {
                Error::new_spanned(entry, message)
            });
        }
        content.parse::<Option<Token![,]>>()?;
    }
    errors.finish(facets)
}

/// One facet entry, which must end at a comma or at the closing parenthesis.
fn parse_facet(input: ParseStream) -> Result<Facet> {
    let key: Ident = input.parse()?;
    let value = if input.peek(Token![=]) {
        input.parse::<Token![=]>()?;
        Some(input.parse::<Expr>()?)
    } else {
        None
    };
    if !input.is_empty() && !input.peek(Token![,]) {
        return Err(input.error("expected `,`"));
    }
    Ok(Facet { key, value })
}

/// Consumes and returns the tokens up to the next comma at this nesting level.
///
/// Used to skip past a bad argument, and to read a value whose exact form is checked after.
fn skip_to_comma(input: ParseStream) -> TokenStream {
    input
        .step(|cursor| {
            let mut tokens = TokenStream::new();
            let mut rest = *cursor;
            while let Some((token, next)) = rest.token_tree() {
                if matches!(&token, TokenTree::Punct(punct) if punct.as_char() == ',') {
                    break;
                }
                tokens.extend([token]);
                rest = next;
            }
            Ok((tokens, rest))
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(tokens: TokenStream) -> Result<FaultPointArgs> {
        syn::parse2(tokens)
    }

    fn messages(tokens: TokenStream) -> Vec<String> {
        match parse(tokens) {
            Ok(_) => Vec::new(),
            Err(error) => error.into_iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn accepts_every_argument_in_any_order() {
        let args = parse(quote!(
            crate = ::chaos,
            facets(customer = req.customer_id, country,),
            error = |f| f,
            name = "payments.charge",
        ))
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            args.name.map(|n| n.value()).as_deref(),
            Some("payments.charge")
        );
        let keys: Vec<String> = args.facets.iter().map(Facet::key_text).collect();
        assert_eq!(keys, ["customer", "country"]);
        assert!(args.facets[0].value.is_some());
        assert!(args.facets[1].value.is_none());
        assert!(args.error.is_some());
        assert!(args.krate.is_some());
    }

    #[test]
    fn accepts_nothing() {
        assert!(messages(quote!()).is_empty());
        assert!(messages(quote!(facets())).is_empty());
    }

    #[test]
    fn facet_values_may_hold_commas_inside_generics_and_closures() {
        let args = parse(quote!(facets(a = f::<u8, u16>(x), b = (|p, q| p)(1, 2), c)))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(args.facets.len(), 3);
    }

    #[test]
    fn reports_every_mistake() {
        let found = messages(quote!(
            nmae = "x",
            name = "a b",
            facets(a, a, x.y),
            name = "ok",
            error
        ));
        assert_eq!(found.len(), 6, "{found:#?}");
        assert!(found[0].starts_with("unknown argument `nmae`"));
        assert!(found[1].contains("contains ' '"));
        assert!(found[2].starts_with("duplicate facet key `a`"));
        assert!(found[3].starts_with("expected a facet"));
        assert!(found[4].starts_with("duplicate argument `name`"));
        assert!(found[5].starts_with("`error` needs a value"));
    }

    #[test]
    fn rejects_bad_names() {
        assert!(messages(quote!(name = ""))[0].contains("is empty"));
        assert!(messages(quote!(name = x))[0].contains("must be a string literal"));
        assert!(messages(quote!(name = 3))[0].contains("must be a string literal"));
        assert!(messages(quote!(name = "a/b"))[0].contains("contains '/'"));
        assert!(messages(quote!(name))[0].contains("needs a value"));
        assert!(messages(quote!(name =))[0].contains("needs a value"));
        assert!(messages(quote!(name: "a"))[0].contains("expected `=`"));
        assert!(validate_name("my_crate::api.v2-charge").is_ok());
    }

    #[test]
    fn rejects_missing_separators_and_bad_facet_lists() {
        assert!(messages(quote!(name = "a" error = e))[0].contains("expected `,`"));
        assert!(messages(quote!(error = e name = "a"))[0].contains("expected `,`"));
        assert!(messages(quote!(facets = [a]))[0].contains("parenthesized list"));
        assert!(messages(quote!(facets))[0].contains("parenthesized list"));
        assert!(messages(quote!(facets(a = )))[0].contains("expected a facet"));
        assert!(messages(quote!(crate = "x"))[0].contains("takes a path"));
        assert!(messages(quote!("x"))[0].contains("expected an argument"));
    }
}
