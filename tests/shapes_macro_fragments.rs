//! `#[fault_point]` on functions that `macro_rules!` assembles from fragments: a body
//! handed over as `$body:block`, next to the visibility, attributes, names and types as
//! fragments.
//!
//! A fragment reaches the attribute wrapped in an invisible group, so the function's body
//! may be the fragment's group rather than a brace-delimited one.

//!
//! The lints below are denied so that this file is also the lint check of the expansion on
//! these shapes, in both feature states.
#![deny(warnings, clippy::all, clippy::pedantic)]

use fault_runtime::{Attack, Fault, fault_point};

mod support;

use support::start;

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

/// Every part of the function is a fragment; the body is a `$body:block`.
macro_rules! assembled {
    (
        $(#[$attr:meta])*
        $vis:vis fn $name:ident($arg:ident: $input:ty) -> $ret:ty $body:block
    ) => {
        $(#[$attr])*
        #[fault_point(name = "shapes.fragments_block")]
        $vis fn $name($arg: $input) -> $ret $body
    };
}

assembled! {
    /// Halves an even number.
    #[inline]
    pub(crate) fn halve(numerator: u32) -> Result<u32, ShapeError> {
        if numerator % 2 == 1 {
            return Err(ShapeError::Invalid(numerator.to_string()));
        }
        Ok(numerator / 2)
    }
}

/// The same, with the body's block written in the macro around a `$($body:tt)*`, which
/// reaches the attribute as plain tokens.
macro_rules! assembled_tokens {
    ($name:ident($arg:ident: $input:ty) -> $ret:ty { $($body:tt)* }) => {
        #[fault_point(name = "shapes.fragments_tokens")]
        fn $name($arg: $input) -> $ret {
            $($body)*
        }
    };
}

assembled_tokens! {
    third(n: u32) -> Option<u32> {
        (n % 3 == 0).then_some(n / 3)
    }
}

#[test]
fn a_body_given_as_a_block_fragment() {
    assert_eq!(halve(8), Ok(4));
    assert_eq!(halve(7), Err(ShapeError::Invalid("7".into())));
    assert_eq!(third(9), Some(3));
    assert_eq!(third(8), None);
    if fault_runtime::ENABLED {
        let _block = start(
            Attack::builder("shapes-fragments-block", "shapes.fragments_block")
                .error("injected")
                .build()
                .unwrap(),
        );
        let _tokens = start(
            Attack::builder("shapes-fragments-tokens", "shapes.fragments_tokens")
                .error("injected")
                .build()
                .unwrap(),
        );
        assert_eq!(
            halve(8),
            Err(ShapeError::Injected("shapes-fragments-block".into()))
        );
        assert_eq!(third(9), None);
    }
}
