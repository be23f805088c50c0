//! Blast radius, as a property: for random facet rules and random call facets, an impact
//! is applied exactly when the attack's rules match the call.
//!
//! The expected outcome is computed here from the documented rules, without the runtime:
//! every key of the attack must match; the attribute's value wins over the context's; a
//! list matches any of its values; `"*"` matches a present facet with any value.
//!
//! One test in this file: its attacks aim at globs over every point of the file.
#![cfg(feature = "enabled")]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use fault_runtime::{Attack, Facets, fault_point};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

fault_runtime::context_facets!(customer, country, device);

const KEYS: [&str; 3] = ["customer", "country", "device"];

#[fault_point(name = "radius.none")]
fn point_none() -> Result<(), String> {
    Ok(())
}

#[fault_point(name = "radius.customer", facets(customer))]
fn point_customer(customer: &str) -> Result<(), String> {
    let _ = customer;
    Ok(())
}

#[fault_point(name = "radius.both", facets(customer, country))]
fn point_both(customer: &str, country: &str) -> Result<(), String> {
    let _ = (customer, country);
    Ok(())
}

/// The points of this file with the facet keys their attributes give.
const POINTS: [(&str, &[&str]); 3] = [
    ("radius.none", &[]),
    ("radius.customer", &["customer"]),
    ("radius.both", &["customer", "country"]),
];

#[derive(Clone, Debug)]
enum Rule {
    Present,
    AnyOf(Vec<&'static str>),
}

#[derive(Clone, Debug)]
struct Case {
    /// Which point the attack aims at by name, or `None` for the glob `radius.*`.
    aim: Option<usize>,
    rules: BTreeMap<&'static str, Rule>,
    written_as_text: bool,
    /// The values the attributes pass, for the points that have the key.
    attribute: BTreeMap<&'static str, &'static str>,
    context: BTreeMap<&'static str, &'static str>,
}

/// Rule values come from a, b, c; call values also include d, which no rule names.
fn rule() -> impl Strategy<Value = Rule> {
    prop_oneof![
        1 => Just(Rule::Present),
        3 => proptest::sample::subsequence(vec!["a", "b", "c"], 1..=3).prop_map(Rule::AnyOf),
    ]
}

fn call_value() -> impl Strategy<Value = &'static str> {
    proptest::sample::select(vec!["a", "b", "c", "d"])
}

fn case() -> impl Strategy<Value = Case> {
    (
        proptest::option::of(0..POINTS.len()),
        [
            proptest::option::of(rule()),
            proptest::option::of(rule()),
            proptest::option::of(rule()),
        ],
        any::<bool>(),
        [call_value(), call_value()],
        [
            proptest::option::of(call_value()),
            proptest::option::of(call_value()),
            proptest::option::of(call_value()),
        ],
    )
        .prop_map(|(aim, rules, written_as_text, attribute, context)| Case {
            aim,
            rules: KEYS
                .into_iter()
                .zip(rules)
                .filter_map(|(key, rule)| Some((key, rule?)))
                .collect(),
            written_as_text,
            attribute: ["customer", "country"].into_iter().zip(attribute).collect(),
            context: KEYS
                .into_iter()
                .zip(context)
                .filter_map(|(key, value)| Some((key, value?)))
                .collect(),
        })
}

/// Whether the attack of `case` should hit a call of point `index`.
fn expected_hit(case: &Case, index: usize) -> bool {
    let (_, attribute_keys) = POINTS[index];
    if case.aim.is_some_and(|aim| aim != index) {
        return false;
    }
    case.rules.iter().all(|(key, rule)| {
        let seen = if attribute_keys.contains(key) {
            Some(case.attribute[key])
        } else {
            case.context.get(key).copied()
        };
        match (seen, rule) {
            (None, _) => false,
            (Some(_), Rule::Present) => true,
            (Some(value), Rule::AnyOf(values)) => values.contains(&value),
        }
    })
}

fn build_attack(id: &str, case: &Case) -> Attack {
    let point = case.aim.map_or("radius.*", |index| POINTS[index].0);
    let mut builder = Attack::builder(id, point).error("radius");
    for (key, rule) in &case.rules {
        builder = match rule {
            Rule::Present => builder.facet_present(*key),
            Rule::AnyOf(values) => builder.facet_any_of(*key, values.iter().copied()),
        };
    }
    builder.build().expect("the attack is valid")
}

fn attack_text(id: &str, case: &Case) -> String {
    let point = case.aim.map_or("radius.*", |index| POINTS[index].0);
    let facets: Vec<String> = case
        .rules
        .iter()
        .map(|(key, rule)| match rule {
            Rule::Present => format!("{key} = \"*\""),
            Rule::AnyOf(values) => {
                let quoted: Vec<String> = values.iter().map(|v| format!("\"{v}\"")).collect();
                format!("{key} = [{}]", quoted.join(", "))
            }
        })
        .collect();
    format!(
        "[[attack]]\nid = \"{id}\"\npoint = \"{point}\"\nerror = \"radius\"\n\
         facets = {{ {} }}\n",
        facets.join(", ")
    )
}

static NEXT_ID: AtomicU64 = AtomicU64::new(0);

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("regressions"))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn an_impact_is_applied_exactly_when_the_attack_matches(case in case()) {
        let id = format!("radius-{}", NEXT_ID.fetch_add(1, Ordering::Relaxed));
        let guards = if case.written_as_text {
            fault_runtime::start_toml(&attack_text(&id, &case)).expect("the attack starts")
        } else {
            vec![fault_runtime::start(build_attack(&id, &case)).expect("the attack starts")]
        };

        let context: Facets = case.context.iter().map(|(k, v)| (*k, *v)).collect();
        let customer = case.attribute["customer"];
        let country = case.attribute["country"];
        let outcomes = context.scope(|| {
            [point_none(), point_customer(customer), point_both(customer, country)]
        });
        for (index, outcome) in outcomes.iter().enumerate() {
            prop_assert_eq!(
                outcome.is_err(),
                expected_hit(&case, index),
                "point {}", POINTS[index].0
            );
        }
        let hits = outcomes.iter().filter(|outcome| outcome.is_err()).count() as u64;
        prop_assert_eq!(guards[0].status().hits, hits);
        drop(guards);
        // Once halted, the attack touches nothing.
        let after = context.scope(|| {
            [point_none(), point_customer(customer), point_both(customer, country)]
        });
        prop_assert!(after.iter().all(Result::is_ok));
    }
}
