//! Sampling: `percent` hits its share of matching calls, `sticky` decides once per facet
//! value, and `dry_run` changes nothing while counting.
//!
//! Bounds are five standard deviations or more, so a correct runtime practically never
//! fails them, while a wrong share (or a sticky decision that varies) fails them at once.
#![cfg(feature = "enabled")]

use std::collections::BTreeMap;

use fault_runtime::sampling::sticky_bucket;
use fault_runtime::{Attack, Facets, fault_point};

mod support;

use support::start;

fault_runtime::context_facets!(customer);

/// The interval `expected ± 5 sd` for `trials` draws hitting with probability `share`.
fn five_sigma(trials: u64, share: f64) -> std::ops::RangeInclusive<u64> {
    let trials_f = trials as f64;
    let mean = trials_f * share;
    let margin = 5.0 * (trials_f * share * (1.0 - share)).sqrt();
    ((mean - margin).floor() as u64)..=((mean + margin).ceil() as u64)
}

#[fault_point(name = "sampling.percent")]
fn percent_point(n: u32) -> Result<u32, String> {
    Ok(n)
}

#[test]
fn percent_hits_its_share_of_matching_calls() {
    let guard = start(
        Attack::builder("sampling-percent", "sampling.percent")
            .error("sampled")
            .percent(25.0)
            .build()
            .unwrap(),
    );
    let calls = 20_000;
    let hits = (0..calls).filter(|&n| percent_point(n).is_err()).count() as u64;
    let bounds = five_sigma(u64::from(calls), 0.25);
    assert!(bounds.contains(&hits), "{hits} hits, expected {bounds:?}");

    let status = guard.status();
    assert_eq!(status.matched, u64::from(calls));
    assert_eq!(status.hits, hits);
}

#[fault_point(name = "sampling.dry_run", facets(customer))]
fn dry_run_point(customer: &str) -> Result<usize, String> {
    Ok(customer.len())
}

#[test]
fn a_dry_run_changes_no_call_and_counts_the_hits_it_would_make() {
    let guard = start(
        Attack::builder("sampling-dry-run", "sampling.dry_run")
            .facet("customer", "c-42")
            .error("would fail")
            .dry_run(true)
            .build()
            .unwrap(),
    );
    for _ in 0..7 {
        assert_eq!(dry_run_point("c-42"), Ok(4));
        assert_eq!(dry_run_point("c-7"), Ok(3));
    }
    let status = guard.status();
    assert!(status.dry_run);
    assert_eq!((status.matched, status.hits), (7, 7));

    let listed = fault_runtime::attacks()
        .into_iter()
        .find(|a| a.id == "sampling-dry-run")
        .expect("the attack is listed");
    assert_eq!((listed.matched, listed.hits), (7, 7));

    // No call was changed, so the catalog counts none.
    let point = fault_runtime::catalog()
        .into_iter()
        .find(|p| p.name == "sampling.dry_run")
        .unwrap();
    assert_eq!(point.hits, 0);
}

#[fault_point(name = "sampling.sticky_same", facets(customer))]
fn sticky_same(customer: &str) -> Result<(), String> {
    let _ = customer;
    Ok(())
}

#[test]
fn sticky_sampling_hits_a_customer_always_or_never() {
    let _guard = start(
        Attack::builder("sampling-sticky-same", "sampling.sticky_same")
            .error("sticky")
            .percent(30.0)
            .sticky("customer")
            .build()
            .unwrap(),
    );
    let mut outcomes: BTreeMap<String, (u32, u32)> = BTreeMap::new();
    for round in 0..40 {
        for n in 0..50 {
            let customer = format!("c-{n}");
            let hit = sticky_same(&customer).is_err();
            let seen = outcomes.entry(customer).or_default();
            if hit {
                seen.0 += 1;
            } else {
                seen.1 += 1;
            }
            assert!(
                seen.0 == 0 || seen.1 == 0,
                "customer c-{n} was hit on some calls and not others (round {round})"
            );
        }
    }
    // The hash is fixed, so which of these 50 customers fall in the 30 percent never
    // changes; both kinds occur, which makes the check above meaningful.
    assert!(outcomes.values().any(|&(hit, _)| hit > 0));
    assert!(outcomes.values().any(|&(_, missed)| missed > 0));
}

#[fault_point(name = "sampling.sticky_share", facets(customer))]
fn sticky_share(customer: &str) -> Result<(), String> {
    let _ = customer;
    Ok(())
}

#[test]
fn sticky_sampling_hits_its_share_of_customers_as_the_bucket_predicts() {
    let guard = start(
        Attack::builder("sampling-sticky-share", "sampling.sticky_share")
            .error("sticky")
            .percent(30.0)
            .sticky("customer")
            .build()
            .unwrap(),
    );
    let customers = 4_000;
    let mut hit_customers = 0;
    for n in 0..customers {
        let customer = format!("sticky-{n}");
        let hit = sticky_share(&customer).is_err();
        let predicted = sticky_bucket(&customer) < 3_000;
        assert_eq!(hit, predicted, "customer {customer}");
        hit_customers += u64::from(hit);
    }
    let bounds = five_sigma(customers, 0.30);
    assert!(
        bounds.contains(&hit_customers),
        "{hit_customers} customers hit, expected {bounds:?}"
    );
    assert_eq!(guard.status().hits, hit_customers);
}

#[fault_point(name = "sampling.sticky_context")]
fn sticky_context() -> Result<(), String> {
    Ok(())
}

#[fault_point(name = "sampling.sticky_number", facets(customer = number))]
fn sticky_number(number: u64) -> Result<u64, String> {
    Ok(number)
}

#[test]
fn sticky_decisions_depend_on_the_value_text_wherever_it_comes_from() {
    let _context = start(
        Attack::builder("sampling-sticky-context", "sampling.sticky_context")
            .error("sticky")
            .percent(45.5)
            .sticky("customer")
            .build()
            .unwrap(),
    );
    let _number = start(
        Attack::builder("sampling-sticky-number", "sampling.sticky_number")
            .error("sticky")
            .percent(45.5)
            .sticky("customer")
            .build()
            .unwrap(),
    );
    for n in 0..2_000_u64 {
        let text = n.to_string();
        let predicted = sticky_bucket(&text) < 4_550;
        let by_context = Facets::new()
            .with("customer", text.clone())
            .scope(sticky_context)
            .is_err();
        assert_eq!(by_context, predicted, "context value {text}");
        assert_eq!(sticky_number(n).is_err(), predicted, "attribute value {n}");
    }
}

#[fault_point(name = "sampling.sticky_absent")]
fn sticky_absent() -> Result<(), String> {
    Ok(())
}

#[test]
fn a_sticky_attack_never_hits_a_call_without_its_facet() {
    let guard = start(
        Attack::builder("sampling-sticky-absent", "sampling.sticky_absent")
            .error("sticky")
            .percent(100.0)
            .sticky("customer")
            .build()
            .unwrap(),
    );
    for _ in 0..100 {
        assert!(sticky_absent().is_ok());
    }
    assert_eq!(guard.status().hits, 0);
}

#[fault_point(name = "sampling.sticky_fine_share", facets(customer))]
fn sticky_fine_share(customer: &str) -> Result<(), String> {
    let _ = customer;
    Ok(())
}

#[test]
fn a_share_finer_than_a_bucket_follows_the_documented_rule() {
    // 33.333 percent puts the boundary inside bucket 3333: by the rule
    // `bucket < percent * 100`, bucket 3333 is hit and bucket 3334 is not.
    let percent = 33.333;
    let _guard = start(
        Attack::builder("sampling-sticky-fine", "sampling.sticky_fine_share")
            .error("sticky")
            .percent(percent)
            .sticky("customer")
            .build()
            .unwrap(),
    );
    let edge: Vec<(String, u64)> = (0..400_000)
        .map(|n| format!("edge-{n}"))
        .map(|customer| {
            let bucket = sticky_bucket(&customer);
            (customer, bucket)
        })
        .filter(|(_, bucket)| (3_332..=3_334).contains(bucket))
        .collect();
    for bucket in 3_332..=3_334 {
        assert!(
            edge.iter().any(|(_, b)| *b == bucket),
            "no test value falls in bucket {bucket}"
        );
    }
    for (customer, bucket) in &edge {
        let predicted = (*bucket as f64) < percent * 100.0;
        assert_eq!(
            sticky_fine_share(customer).is_err(),
            predicted,
            "{customer} in bucket {bucket}"
        );
    }
}
