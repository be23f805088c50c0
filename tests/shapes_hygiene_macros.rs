//! `#[fault_point]` on functions made by `macro_rules!`, in modules that shadow the names
//! the expansion could lean on, through a re-export of the runtime, and under lints that
//! must still reach the user's own code.
//!
//! Each function behaves exactly as its plain self when no attack aims at it, in both
//! feature states; with the feature on, an attack reaches it.
//!
//! The lints below are denied so that this file is also the lint check of the expansion on
//! these shapes, in both feature states. The `#[expect(...)]` attributes prove the opposite
//! direction: a lint the user's own code earns still fires on an annotated function, since
//! an expectation that no lint fulfils is itself denied.
#![deny(warnings, clippy::all, clippy::pedantic)]

use fault_runtime::{Attack, Fault, fault_point};

mod support;

use support::{error_attack, start};

#[derive(Debug, PartialEq)]
enum ShapeError {
    Invalid(String),
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
// Functions produced by `macro_rules!`
// ---------------------------------------------------------------------------------------

/// Defines a parser with the attribute; the point's name, the function's name, the parsed
/// type and the body's limit all come in as fragments.
macro_rules! define_parser {
    ($point:literal, $name:ident, $parsed:ty, $limit:expr) => {
        #[fault_point(name = $point, facets(text))]
        fn $name(text: &str) -> Result<$parsed, ShapeError> {
            let value: $parsed = text
                .parse()
                .map_err(|_| ShapeError::Invalid(text.to_owned()))?;
            if value > $limit {
                return Err(ShapeError::Invalid(text.to_owned()));
            }
            Ok(value)
        }
    };
}

define_parser!("shapes.macro_defined_u8", parse_small, u8, 100);
define_parser!("shapes.macro_defined_i64", parse_wide, i64, 1_000_000);

/// Puts the attribute on a whole function handed over as `$f:item`.
macro_rules! instrumented {
    ($point:literal, $f:item) => {
        #[fault_point(name = $point)]
        $f
    };
}

instrumented!(
    "shapes.macro_item",
    fn halve(n: u32) -> Option<u32> {
        #![allow(clippy::manual_is_multiple_of)]
        use std::ops::Rem;

        if n.rem(2) == 0 { Some(n / 2) } else { None }
    }
);

/// Defines a function whose parameter type and whole return type are `$t:ty` fragments.
macro_rules! typed_point {
    ($point:literal, $name:ident, $input:ty, $ret:ty) => {
        #[fault_point(name = $point)]
        fn $name(input: $input) -> $ret {
            input.try_into().ok()
        }
    };
}

typed_point!("shapes.macro_ty_option", narrow, u32, Option<u8>);

/// The same with the return type written around the fragment.
macro_rules! typed_result {
    ($point:literal, $name:ident, $t:ty) => {
        #[fault_point(name = $point)]
        fn $name(input: &str) -> Result<$t, ShapeError> {
            input
                .parse::<$t>()
                .map_err(|_| ShapeError::Invalid(input.to_owned()))
        }
    };
}

typed_result!("shapes.macro_ty_result", parse_flag, bool);

#[test]
fn functions_produced_by_macro_rules() {
    assert_eq!(parse_small("42"), Ok(42));
    assert_eq!(parse_small("142"), Err(ShapeError::Invalid("142".into())));
    assert_eq!(parse_wide("-7"), Ok(-7));
    assert_eq!(halve(8), Some(4));
    assert_eq!(halve(7), None);
    assert_eq!(narrow(200), Some(200));
    assert_eq!(narrow(300), None);
    assert_eq!(parse_flag("true"), Ok(true));
    assert!(parse_flag("yes").is_err());
    if fault_runtime::ENABLED {
        let _parser = start(
            Attack::builder("shapes-macro-parser", "shapes.macro_defined_u8")
                .facet("text", "42")
                .error("injected")
                .build()
                .unwrap(),
        );
        let _item = error_attack("shapes-macro-item", "shapes.macro_item");
        // A whole `$ret:ty` return type is still seen as an `Option`.
        let _result = error_attack("shapes-macro-ty-result", "shapes.macro_ty_result");
        let _option = error_attack("shapes-macro-ty-option", "shapes.macro_ty_option");
        assert_eq!(parse_small("42"), Err(injected("shapes-macro-parser")));
        assert_eq!(parse_small("43"), Ok(43));
        assert_eq!(parse_wide("42"), Ok(42));
        assert_eq!(halve(8), None);
        assert_eq!(parse_flag("true"), Err(injected("shapes-macro-ty-result")));
        assert_eq!(narrow(200), None);
    }
}

// ---------------------------------------------------------------------------------------
// Shadowed names
// ---------------------------------------------------------------------------------------

/// A module whose own items shadow every name the expansion could reach for without a
/// leading `::`, and that has its own `fault_runtime`.
mod shadowing {
    #![allow(dead_code, unused_macros, non_snake_case, non_upper_case_globals)]

    use ::fault_runtime::fault_point;

    pub(crate) type Result<T> = ::core::result::Result<T, super::ShapeError>;

    pub(crate) struct Option;
    pub(crate) struct Some;
    pub(crate) struct Ok;
    pub(crate) struct Err;
    pub(crate) struct Box;
    pub(crate) const None: u8 = 0;
    pub(crate) fn From() {}
    pub(crate) trait Fn {}

    mod core {}
    mod std {}
    mod fault_runtime {}
    mod linkme {}

    macro_rules! concat {
        () => {};
    }
    macro_rules! module_path {
        () => {};
    }
    macro_rules! file {
        () => {};
    }
    macro_rules! line {
        () => {};
    }

    #[fault_point(name = "shapes.shadowed_result", facets(text))]
    pub(crate) fn parse(text: &str) -> Result<u32> {
        text.parse()
            .map_err(|_| super::ShapeError::Invalid(text.to_owned()))
    }

    #[fault_point(name = "shapes.shadowed_option")]
    pub(crate) fn first(values: &[u32]) -> ::core::option::Option<u32> {
        values.first().copied()
    }

    #[fault_point(name = "shapes.shadowed_async")]
    pub(crate) async fn parse_later(text: &str) -> Result<u32> {
        ::tokio::task::yield_now().await;
        parse(text)
    }

    #[fault_point(
        name = "shapes.shadowed_error_argument",
        error = |fault| super::ShapeError::Invalid(fault.to_string())
    )]
    pub(crate) fn check(flag: bool) -> Result<()> {
        if flag {
            ::core::result::Result::Ok(())
        } else {
            ::core::result::Result::Err(super::ShapeError::Invalid("flag".into()))
        }
    }

    #[fault_point]
    pub(crate) fn unnamed() -> u8 {
        None + 1
    }
}

#[test]
fn shadowed_prelude_names_core_std_and_fault_runtime() {
    assert_eq!(shadowing::parse("7"), Ok(7));
    assert!(shadowing::parse("x").is_err());
    assert_eq!(shadowing::first(&[3]), Some(3));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert_eq!(runtime.block_on(shadowing::parse_later("8")), Ok(8));
    assert_eq!(shadowing::check(true), Ok(()));
    assert_eq!(shadowing::unnamed(), 1);
    if fault_runtime::ENABLED {
        let _result = start(
            Attack::builder("shapes-shadowed-result", "shapes.shadowed_result")
                .facet("text", "7")
                .error("injected")
                .build()
                .unwrap(),
        );
        let _option = error_attack("shapes-shadowed-option", "shapes.shadowed_option");
        let _async = error_attack("shapes-shadowed-async", "shapes.shadowed_async");
        let _check = error_attack("shapes-shadowed-check", "shapes.shadowed_error_argument");
        assert_eq!(
            shadowing::parse("7"),
            Err(injected("shapes-shadowed-result"))
        );
        assert_eq!(shadowing::parse("6"), Ok(6));
        assert_eq!(shadowing::first(&[3]), None);
        assert_eq!(
            runtime.block_on(shadowing::parse_later("8")),
            Err(injected("shapes-shadowed-async"))
        );
        assert_eq!(
            shadowing::check(true),
            Err(ShapeError::Invalid("injected".into()))
        );
        let default_name = concat!(module_path!(), "::shadowing::unnamed");
        assert!(
            fault_runtime::catalog()
                .iter()
                .any(|point| point.name == default_name),
            "{default_name} is in the catalog"
        );
    }
}

// ---------------------------------------------------------------------------------------
// `crate = path` through re-exports
// ---------------------------------------------------------------------------------------

/// The runtime re-exported by a glob, as a crate wrapping it might offer it.
mod chaos {
    pub use fault_runtime::*;
}

/// The runtime re-exported under another name.
mod reexports {
    pub use fault_runtime as drills;
}

mod wrapped {
    use super::ShapeError;
    use super::chaos::fault_point;

    #[fault_point(name = "shapes.crate_glob_reexport", crate = crate::chaos, facets(n))]
    pub(crate) fn through_glob(n: u32) -> Result<u32, ShapeError> {
        n.checked_sub(1)
            .ok_or_else(|| ShapeError::Invalid(n.to_string()))
    }

    #[fault_point(name = "shapes.crate_renamed_reexport", crate = crate::reexports::drills)]
    pub(crate) async fn through_rename(n: u32) -> Option<u32> {
        tokio::task::yield_now().await;
        n.checked_sub(2)
    }
}

#[test]
fn crate_path_through_a_glob_and_a_renamed_reexport() {
    assert_eq!(wrapped::through_glob(3), Ok(2));
    assert!(wrapped::through_glob(0).is_err());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert_eq!(runtime.block_on(wrapped::through_rename(3)), Some(1));
    assert_eq!(chaos::ENABLED, reexports::drills::ENABLED);
    if chaos::ENABLED {
        let _glob = start(
            chaos::Attack::builder("shapes-crate-glob", "shapes.crate_glob_reexport")
                .facet("n", "3")
                .error("injected")
                .build()
                .unwrap(),
        );
        let _rename = error_attack("shapes-crate-rename", "shapes.crate_renamed_reexport");
        assert_eq!(wrapped::through_glob(3), Err(injected("shapes-crate-glob")));
        assert_eq!(wrapped::through_glob(4), Ok(3));
        assert_eq!(runtime.block_on(wrapped::through_rename(3)), None);
    }
}

// ---------------------------------------------------------------------------------------
// Lints still reach the user's code
// ---------------------------------------------------------------------------------------

#[expect(
    dead_code,
    reason = "proves `dead_code` still fires on an annotated function"
)]
#[fault_point(name = "shapes.lint_dead_code")]
fn never_called() -> u32 {
    1
}

#[fault_point(name = "shapes.lint_unused_variables")]
#[expect(
    unused_variables,
    reason = "proves `unused_variables` still fires in the body"
)]
fn unused_local(n: u32) -> u32 {
    let spare = n * 2;
    n
}

#[expect(
    unused_variables,
    reason = "proves `unused_variables` still fires on a parameter"
)]
#[fault_point(name = "shapes.lint_unused_parameter")]
fn unused_parameter(n: u32, spare: u32) -> u32 {
    n
}

#[expect(
    unreachable_code,
    reason = "proves `unreachable_code` still fires in the body"
)]
#[fault_point(name = "shapes.lint_unreachable_code")]
fn returns_early(n: u32) -> u32 {
    return n + 1;
    n + 2
}

#[expect(unused_mut, reason = "proves `unused_mut` still fires on a parameter")]
#[fault_point(name = "shapes.lint_unused_mut")]
fn unused_mut(mut n: u32) -> u32 {
    n + 3
}

#[expect(clippy::needless_return, reason = "proves clippy still sees the body")]
#[fault_point(name = "shapes.lint_needless_return")]
async fn needless_return(n: u32) -> u32 {
    tokio::task::yield_now().await;
    return n + 4;
}

#[test]
fn lints_still_reach_the_users_code() {
    assert_eq!(unused_local(1), 1);
    assert_eq!(unused_parameter(1, 2), 1);
    assert_eq!(returns_early(1), 2);
    assert_eq!(unused_mut(1), 4);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert_eq!(runtime.block_on(needless_return(1)), 5);
}
