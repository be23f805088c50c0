//! Names the expansion uses or could plausibly use (its statics `__FAULT_POINT` and
//! `__FAULT_POINT_ENTRY`, and short binding names such as `__struck` and `__fault`) chosen by
//! the user: as parameters, as locals and a static in the body, as statics and constants of
//! the module, and read by facets.
//!
//! The user's names must mean what they mean without the attribute: a facet that reads the
//! parameter `__FAULT_POINT` reads that parameter (the expansion's statics sit in a block the
//! facets are outside of), and statics or constants of the module named `__struck` do not
//! meet the expansion's own bindings.
//!
//! The lints below are denied so that this file is also the lint check of the expansion on
//! these shapes, in both feature states.
#![deny(warnings, clippy::all, clippy::pedantic)]
// The user's names here are the expansion's names on purpose.
#![allow(non_snake_case, non_upper_case_globals)]
#![allow(clippy::used_underscore_binding, clippy::used_underscore_items)]

use fault_runtime::{Attack, AttackGuard, Fault, fault_point};

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

fn aimed_attack(id: &str, point: &str, key: &str, value: &str) -> AttackGuard {
    start(
        Attack::builder(id, point)
            .facet(key, value)
            .error("injected")
            .build()
            .unwrap(),
    )
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(future)
}

/// Parameters with the generated names, used by the body only.
#[fault_point(name = "shapes.names_params_in_body")]
fn params_in_body(
    __FAULT_POINT: u32,
    __FAULT_POINT_ENTRY: u32,
    __struck: u32,
    __fault: &str,
) -> Result<u32, ShapeError> {
    if __fault.is_empty() {
        return Err(ShapeError::Invalid("empty".into()));
    }
    Ok(__FAULT_POINT + __FAULT_POINT_ENTRY + __struck)
}

/// Locals and a static in the body with the generated names.
#[fault_point(name = "shapes.names_locals_in_body")]
async fn locals_in_body(input: u32) -> Option<u32> {
    static __FAULT_POINT: u32 = 100;
    static __FAULT_POINT_ENTRY: u32 = 1000;
    let __struck = input.checked_add(__FAULT_POINT)?;
    let __fault = __struck.checked_add(__FAULT_POINT_ENTRY)?;
    tokio::task::yield_now().await;
    Some(__fault)
}

#[test]
fn generated_names_as_parameters_and_locals_of_the_body() {
    assert_eq!(params_in_body(1, 2, 3, "x"), Ok(6));
    assert!(params_in_body(1, 2, 3, "").is_err());
    assert_eq!(block_on(locals_in_body(1)), Some(1101));
    assert_eq!(block_on(locals_in_body(u32::MAX)), None);
    if fault_runtime::ENABLED {
        let _params = error_attack("shapes-names-params", "shapes.names_params_in_body");
        let _locals = error_attack("shapes-names-locals", "shapes.names_locals_in_body");
        assert_eq!(
            params_in_body(1, 2, 3, "x"),
            Err(injected("shapes-names-params"))
        );
        assert_eq!(block_on(locals_in_body(1)), None);
    }
}

#[fault_point(name = "shapes.names_facet_point", facets(value = __FAULT_POINT))]
fn facet_reads_point_param(__FAULT_POINT: u32) -> Option<u32> {
    __FAULT_POINT.checked_mul(2)
}

#[fault_point(name = "shapes.names_facet_entry", facets(value = __FAULT_POINT_ENTRY))]
fn facet_reads_entry_param(__FAULT_POINT_ENTRY: u32) -> Option<u32> {
    __FAULT_POINT_ENTRY.checked_mul(3)
}

#[fault_point(name = "shapes.names_facet_struck", facets(value = __struck))]
fn facet_reads_struck_param(__struck: u32) -> Option<u32> {
    __struck.checked_mul(4)
}

#[fault_point(
    name = "shapes.names_facet_fault",
    facets(value = __fault),
    error = |fault| ShapeError::Invalid(fault.message().to_owned())
)]
fn facet_reads_fault_param(__fault: &str) -> Result<usize, ShapeError> {
    if __fault.is_empty() {
        return Err(ShapeError::Invalid("empty".into()));
    }
    Ok(__fault.len())
}

/// A module with a static named like the expansion's entry static, read by a facet.
mod entry_static {
    use fault_runtime::fault_point;

    pub(crate) static __FAULT_POINT_ENTRY: &str = "the user's entry";

    #[fault_point(
        name = "shapes.names_facet_module_static",
        facets(entry = __FAULT_POINT_ENTRY)
    )]
    pub(crate) fn offset(n: u32) -> Option<u32> {
        n.checked_add(u32::try_from(__FAULT_POINT_ENTRY.len()).ok()?)
    }
}

#[test]
fn facets_read_the_users_names_not_the_expansions() {
    assert_eq!(facet_reads_point_param(2), Some(4));
    assert_eq!(facet_reads_entry_param(2), Some(6));
    assert_eq!(facet_reads_struck_param(2), Some(8));
    assert_eq!(facet_reads_fault_param("ab"), Ok(2));
    assert_eq!(entry_static::offset(1), Some(17));
    if fault_runtime::ENABLED {
        let point = "shapes.names_facet_point";
        let _point = aimed_attack("shapes-names-facet-point", point, "value", "2");
        let entry = "shapes.names_facet_entry";
        let _entry = aimed_attack("shapes-names-facet-entry", entry, "value", "2");
        let struck = "shapes.names_facet_struck";
        let _struck = aimed_attack("shapes-names-facet-struck", struck, "value", "2");
        let fault = "shapes.names_facet_fault";
        let _fault = aimed_attack("shapes-names-facet-fault", fault, "value", "ab");
        let module = "shapes.names_facet_module_static";
        let _module = aimed_attack("shapes-names-module", module, "entry", "the user's entry");
        assert_eq!(facet_reads_point_param(2), None);
        assert_eq!(facet_reads_point_param(3), Some(6));
        assert_eq!(facet_reads_entry_param(2), None);
        assert_eq!(facet_reads_entry_param(3), Some(9));
        assert_eq!(facet_reads_struck_param(2), None);
        assert_eq!(facet_reads_struck_param(3), Some(12));
        assert_eq!(
            facet_reads_fault_param("ab"),
            Err(ShapeError::Invalid("injected".into()))
        );
        assert_eq!(facet_reads_fault_param("abc"), Ok(3));
        assert_eq!(entry_static::offset(1), None);
    }
}

/// Statics of a module named like the expansion's locals. A binding of the expansion that
/// saw them would be refused, or would turn into a comparison with them.
mod module_statics {
    use fault_runtime::fault_point;

    use super::ShapeError;

    pub(crate) static __struck: u8 = 1;
    pub(crate) static __fault: u8 = 2;

    #[fault_point(name = "shapes.names_module_statics")]
    pub(crate) fn checked(value: u8) -> Result<u8, ShapeError> {
        value
            .checked_add(__struck + __fault)
            .ok_or_else(|| ShapeError::Invalid(value.to_string()))
    }

    #[fault_point(name = "shapes.names_module_statics_async")]
    pub(crate) async fn checked_later(value: u8) -> Option<u8> {
        tokio::task::yield_now().await;
        value.checked_add(__struck)
    }

    /// The same names as constants: a pattern of the expansion that saw them would compare
    /// with them instead of binding.
    pub(crate) mod constants {
        use fault_runtime::fault_point;

        use crate::ShapeError;

        pub(crate) const __struck: Option<u8> = None;
        pub(crate) const __fault: u8 = 3;

        #[fault_point(name = "shapes.names_module_constants")]
        pub(crate) fn checked(value: u8) -> Result<u8, ShapeError> {
            value
                .checked_add(__struck.unwrap_or(__fault))
                .ok_or_else(|| ShapeError::Invalid(value.to_string()))
        }
    }
}

#[test]
fn module_statics_and_constants_named_like_the_expansions_locals() {
    assert_eq!(module_statics::checked(1), Ok(4));
    assert!(module_statics::checked(255).is_err());
    assert_eq!(block_on(module_statics::checked_later(1)), Some(2));
    assert_eq!(module_statics::constants::checked(1), Ok(4));
    if fault_runtime::ENABLED {
        let _statics = error_attack("shapes-names-statics", "shapes.names_module_statics");
        let _async = error_attack(
            "shapes-names-statics-async",
            "shapes.names_module_statics_async",
        );
        let _constants = error_attack("shapes-names-constants", "shapes.names_module_constants");
        assert_eq!(
            module_statics::checked(1),
            Err(injected("shapes-names-statics"))
        );
        assert_eq!(block_on(module_statics::checked_later(1)), None);
        assert_eq!(
            module_statics::constants::checked(1),
            Err(injected("shapes-names-constants"))
        );
    }
}
