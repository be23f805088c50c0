//! Blast radius: an attack hits exactly the calls its point and facet rules name, whether
//! a facet comes from the attribute or from the request context.
#![cfg(feature = "enabled")]

use std::fmt;

use fault_runtime::{Attack, Facets, Fault, fault_point};

mod support;

use support::start;

fault_runtime::context_facets!(customer, country, device);

/// The error of every point here: it keeps the injected fault so tests can see who sent it.
#[derive(Debug)]
struct Injected(Fault);

impl From<Fault> for Injected {
    fn from(fault: Fault) -> Self {
        Injected(fault)
    }
}

// The annotated functions spell out `Result`: the attribute judges the return type by its
// name, so a point returning this alias could not take error attacks.
type Outcome = Result<u32, Injected>;

/// Whether a call's outcome is the error of the attack with this id.
fn hit_by(outcome: &Outcome, id: &str) -> bool {
    match outcome {
        Ok(_) => false,
        Err(Injected(fault)) => {
            assert_eq!(
                fault.attack_id(),
                id,
                "a call was hit by an unexpected attack"
            );
            true
        }
    }
}

fn scoped(pairs: &[(&str, &str)], call: impl FnOnce() -> Outcome) -> Outcome {
    let facets: Facets = pairs.iter().copied().collect();
    facets.scope(call)
}

#[fault_point(name = "targeting.attribute", facets(customer))]
fn by_attribute(customer: &str) -> Result<u32, Injected> {
    Ok(customer.len() as u32)
}

#[test]
fn a_customer_facet_from_the_attribute_selects_exactly_that_customer() {
    let id = "targeting-attribute";
    let _guard = start(
        Attack::builder(id, "targeting.attribute")
            .facet("customer", "c-42")
            .error("drill")
            .build()
            .unwrap(),
    );
    for _ in 0..20 {
        assert!(hit_by(&by_attribute("c-42"), id));
        assert_eq!(by_attribute("c-7").unwrap(), 3);
        assert_eq!(by_attribute("c-420").unwrap(), 5);
        assert_eq!(by_attribute("c-4").unwrap(), 3);
        assert_eq!(by_attribute("").unwrap(), 0);
    }
}

#[fault_point(name = "targeting.context")]
fn by_context() -> Result<u32, Injected> {
    Ok(1)
}

#[test]
fn a_customer_facet_from_the_context_selects_exactly_that_customer() {
    let id = "targeting-context";
    let _guard = start(
        Attack::builder(id, "targeting.context")
            .facet("customer", "c-42")
            .error("drill")
            .build()
            .unwrap(),
    );
    for _ in 0..20 {
        assert!(hit_by(&scoped(&[("customer", "c-42")], by_context), id));
        assert!(hit_by(
            &scoped(&[("customer", "c-42"), ("country", "NL")], by_context),
            id
        ));
        assert_eq!(scoped(&[("customer", "c-7")], by_context).unwrap(), 1);
        assert_eq!(scoped(&[("country", "c-42")], by_context).unwrap(), 1);
        assert_eq!(by_context().unwrap(), 1);
    }
}

/// A facet value whose `Display` writes its text in pieces, as most types do.
struct CustomerId(u32);

impl fmt::Display for CustomerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("c-")?;
        write!(f, "{}", self.0)
    }
}

#[fault_point(name = "targeting.display", facets(customer = CustomerId(number)))]
fn by_display(number: u32) -> Result<u32, Injected> {
    Ok(number)
}

#[test]
fn a_facet_value_is_compared_by_its_whole_displayed_text() {
    let id = "targeting-display";
    let _guard = start(
        Attack::builder(id, "targeting.display")
            .facet("customer", "c-42")
            .error("drill")
            .build()
            .unwrap(),
    );
    assert!(hit_by(&by_display(42), id));
    for number in [4, 420, 142, 24, 0] {
        assert_eq!(by_display(number).unwrap(), number);
    }
}

#[fault_point(name = "targeting.any_of", facets(customer))]
fn any_of(customer: &str) -> Result<u32, Injected> {
    Ok(customer.len() as u32)
}

#[test]
fn a_list_of_values_matches_any_of_them() {
    let id = "targeting-any-of";
    let _guard = start(
        Attack::builder(id, "targeting.any_of")
            .facet_any_of("customer", ["c-1", "c-2", "c-3"])
            .error("drill")
            .build()
            .unwrap(),
    );
    for customer in ["c-1", "c-2", "c-3"] {
        assert!(hit_by(&any_of(customer), id), "{customer}");
    }
    for customer in ["c-4", "c-12", "c-", "c-1 "] {
        assert!(any_of(customer).is_ok(), "{customer}");
    }
}

#[fault_point(name = "targeting.present")]
fn present() -> Result<u32, Injected> {
    Ok(2)
}

#[test]
fn a_star_matches_a_present_facet_with_any_value() {
    let _guard = fault_runtime::start_toml(
        r#"
        [[attack]]
        id = "targeting-present"
        point = "targeting.present"
        facets = { device = "*" }
        error = "drill"
        "#,
    )
    .unwrap();
    for device in ["phone", "tv", "*", ""] {
        assert!(
            hit_by(&scoped(&[("device", device)], present), "targeting-present"),
            "{device:?}"
        );
    }
    assert!(present().is_ok());
    assert!(scoped(&[("customer", "c-42")], present).is_ok());
}

#[fault_point(name = "targeting.all_keys", facets(country))]
fn all_keys(country: &str) -> Result<u32, Injected> {
    Ok(country.len() as u32)
}

#[test]
fn every_key_of_an_attack_must_match() {
    let id = "targeting-all-keys";
    let _guard = start(
        Attack::builder(id, "targeting.all_keys")
            .facet("customer", "c-42")
            .facet_any_of("country", ["NL", "BE"])
            .facet_present("device")
            .error("drill")
            .build()
            .unwrap(),
    );
    let full = [("customer", "c-42"), ("device", "phone")];
    assert!(hit_by(&scoped(&full, || all_keys("NL")), id));
    assert!(hit_by(&scoped(&full, || all_keys("BE")), id));
    assert!(scoped(&full, || all_keys("DE")).is_ok());
    assert!(scoped(&[("customer", "c-42")], || all_keys("NL")).is_ok());
    assert!(scoped(&[("device", "phone")], || all_keys("NL")).is_ok());
    assert!(
        scoped(&[("customer", "c-7"), ("device", "phone")], || all_keys(
            "NL"
        ))
        .is_ok()
    );
    assert!(all_keys("NL").is_ok());
}

#[fault_point(name = "targeting.clash", facets(customer))]
fn clash(customer: &str) -> Result<u32, Injected> {
    Ok(customer.len() as u32)
}

#[test]
fn the_attribute_facet_wins_over_the_context_on_a_clash() {
    let id = "targeting-clash";
    let _guard = start(
        Attack::builder(id, "targeting.clash")
            .facet("customer", "c-42")
            .error("drill")
            .build()
            .unwrap(),
    );
    assert!(hit_by(
        &scoped(&[("customer", "c-7")], || clash("c-42")),
        id
    ));
    assert!(scoped(&[("customer", "c-42")], || clash("c-7")).is_ok());
}

#[fault_point(name = "targeting.bystander", facets(customer))]
fn bystander(customer: &str) -> Result<u32, Injected> {
    Ok(customer.len() as u32)
}

#[fault_point(name = "targeting.aimed_elsewhere", facets(customer))]
fn aimed_elsewhere(customer: &str) -> Result<u32, Injected> {
    Ok(customer.len() as u32)
}

#[test]
fn an_attack_on_another_point_never_touches_this_one() {
    let id = "targeting-elsewhere";
    let guard = start(
        Attack::builder(id, "targeting.aimed_elsewhere")
            .facet("customer", "c-42")
            .error("drill")
            .build()
            .unwrap(),
    );
    for _ in 0..20 {
        assert!(bystander("c-42").is_ok());
        assert!(scoped(&[("customer", "c-42")], || bystander("c-42")).is_ok());
    }
    assert!(hit_by(&aimed_elsewhere("c-42"), id));
    assert_eq!(guard.status().matched, 1);
    assert_eq!(guard.status().points, ["targeting.aimed_elsewhere"]);
}

#[fault_point(name = "shop.a")]
fn shop_a() -> Result<u32, Injected> {
    Ok(1)
}

#[fault_point(name = "shop.b")]
fn shop_b() -> Result<u32, Injected> {
    Ok(2)
}

#[fault_point(name = "other.c")]
fn other_c() -> Result<u32, Injected> {
    Ok(3)
}

#[fault_point(name = "shopping.d")]
fn shopping_d() -> Result<u32, Injected> {
    Ok(4)
}

#[test]
fn a_glob_hits_the_points_it_names_and_no_other() {
    let id = "targeting-glob";
    let guard = start(
        Attack::builder(id, "shop.*")
            .facet("customer", "c-glob")
            .error("drill")
            .build()
            .unwrap(),
    );
    let mut points = guard.status().points;
    points.sort_unstable();
    assert_eq!(points, ["shop.a", "shop.b"]);

    let as_glob_customer = [("customer", "c-glob")];
    assert!(hit_by(&scoped(&as_glob_customer, shop_a), id));
    assert!(hit_by(&scoped(&as_glob_customer, shop_b), id));
    assert!(scoped(&as_glob_customer, other_c).is_ok());
    assert!(scoped(&as_glob_customer, shopping_d).is_ok());
    assert!(scoped(&[("customer", "c-7")], shop_a).is_ok());
}
