//! The counters of the feature `metrics`: calls matched, hit and hit by a dry run, labelled
//! by point, attack and impact and never by a facet value, registered once per series,
//! and nothing at all for calls no attack matches.
//!
//! Each test installs a recorder of its own on its own thread and aims at points of its
//! own, so the tests of this file do not see each other's counts.
#![cfg(feature = "metrics")]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use fault_runtime::{Attack, Facets, fault_point};
use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};

mod support;

use support::start;

fault_runtime::context_facets!(customer, country);

#[fault_point(name = "metrics.charge", facets(customer))]
fn charge(customer: &str) -> Result<(), String> {
    let _ = customer;
    Ok(())
}

#[fault_point(name = "metrics.refund", facets(customer))]
fn refund(customer: &str) -> Result<(), String> {
    let _ = customer;
    Ok(())
}

#[fault_point(name = "metrics.labelled", facets(customer))]
fn labelled(customer: &str) -> Result<(), String> {
    let _ = customer;
    Ok(())
}

#[fault_point(name = "metrics.unmatched", facets(customer))]
fn unmatched(customer: &str) -> Result<(), String> {
    let _ = customer;
    Ok(())
}

#[fault_point(name = "metrics.quote")]
fn quote() -> Result<(), String> {
    Ok(())
}

#[fault_point(name = "metrics.idle")]
fn idle() -> Result<(), String> {
    Ok(())
}

#[fault_point(name = "metrics.sampled", facets(customer))]
fn sampled(customer: &str) -> Result<(), String> {
    let _ = customer;
    Ok(())
}

/// A counter series: its name, and its labels sorted by key.
type Series = (String, Vec<(String, String)>);

/// A recorder that keeps counters in memory, and counts how often each series is
/// registered.
#[derive(Default)]
struct Counters {
    values: Mutex<BTreeMap<Series, Arc<AtomicU64>>>,
    registrations: Mutex<BTreeMap<Series, usize>>,
    described: AtomicUsize,
}

impl Counters {
    fn lock_values(&self) -> std::sync::MutexGuard<'_, BTreeMap<Series, Arc<AtomicU64>>> {
        self.values.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Every series with its value.
    fn snapshot(&self) -> BTreeMap<Series, u64> {
        self.lock_values()
            .iter()
            .map(|(series, value)| (series.clone(), value.load(Ordering::Acquire)))
            .collect()
    }

    /// The value of one series; `None` when it was never registered.
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<u64> {
        self.snapshot().get(&series(name, labels)).copied()
    }

    fn registrations(&self) -> BTreeMap<Series, usize> {
        self.registrations
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

fn series(name: &str, labels: &[(&str, &str)]) -> Series {
    let mut labels: Vec<(String, String)> = labels
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    labels.sort();
    (name.to_owned(), labels)
}

impl Recorder for Counters {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {
        self.described.fetch_add(1, Ordering::Relaxed);
    }

    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        let mut labels: Vec<(String, String)> = key
            .labels()
            .map(|label| (label.key().to_owned(), label.value().to_owned()))
            .collect();
        labels.sort();
        let series = (key.name().to_owned(), labels);
        *self
            .registrations
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(series.clone())
            .or_default() += 1;
        Counter::from_arc(Arc::clone(self.lock_values().entry(series).or_default()))
    }

    fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::noop()
    }

    fn register_histogram(&self, _: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::noop()
    }
}

const MATCHED: &str = "fault_calls_matched_total";
const HIT: &str = "fault_calls_hit_total";
const DRY_RUN_HIT: &str = "fault_calls_dry_run_hit_total";

#[test]
fn matched_and_hit_calls_are_counted_by_point_attack_and_impact() {
    fault_runtime::init().unwrap();
    let counters = Counters::default();
    metrics::with_local_recorder(&counters, || {
        let _error = start(
            Attack::builder("metrics-error", "metrics.charge")
                .facet("customer", "c-42")
                .error("drill")
                .build()
                .unwrap(),
        );
        let _both = start(
            Attack::builder("metrics-both", "metrics.refund")
                .facet("customer", "c-42")
                .latency(Duration::from_millis(1))
                .error("slow, then down")
                .build()
                .unwrap(),
        );
        for customer in ["c-42", "c-7", "c-42", "c-9", "c-42", "c-42", "c-7"] {
            let _ = charge(customer);
            let _ = refund(customer);
        }

        let charge_labels = [("point", "metrics.charge"), ("attack", "metrics-error")];
        assert_eq!(counters.value(MATCHED, &charge_labels), Some(4));
        let hit_labels = [
            ("point", "metrics.charge"),
            ("attack", "metrics-error"),
            ("impact", "error"),
        ];
        assert_eq!(counters.value(HIT, &hit_labels), Some(4));

        let refund_labels = [("point", "metrics.refund"), ("attack", "metrics-both")];
        assert_eq!(counters.value(MATCHED, &refund_labels), Some(4));
        let hit_labels = [
            ("point", "metrics.refund"),
            ("attack", "metrics-both"),
            ("impact", "latency+error"),
        ];
        assert_eq!(counters.value(HIT, &hit_labels), Some(4));

        // Four series, and no other.
        assert_eq!(counters.snapshot().len(), 4, "{:#?}", counters.snapshot());
        assert!(
            counters.described.load(Ordering::Relaxed) > 0,
            "names are described"
        );
    });
}

#[test]
fn a_dry_run_counts_what_it_would_have_hit_apart_from_hits() {
    fault_runtime::init().unwrap();
    let counters = Counters::default();
    metrics::with_local_recorder(&counters, || {
        let guard = start(
            Attack::builder("metrics-dry", "metrics.quote")
                .panic("would panic")
                .dry_run(true)
                .build()
                .unwrap(),
        );
        for _ in 0..6 {
            assert!(quote().is_ok());
        }
        let labels = [("point", "metrics.quote"), ("attack", "metrics-dry")];
        assert_eq!(counters.value(MATCHED, &labels), Some(6));
        let would = [
            ("point", "metrics.quote"),
            ("attack", "metrics-dry"),
            ("impact", "panic"),
        ];
        assert_eq!(counters.value(DRY_RUN_HIT, &would), Some(6));
        assert_eq!(counters.value(HIT, &would), None, "a dry run hits nothing");
        let status = guard.status();
        assert_eq!((status.matched, status.hits), (6, 6));
    });
}

#[test]
fn the_counters_agree_with_the_attack_status_under_sampling() {
    fault_runtime::init().unwrap();
    let counters = Counters::default();
    metrics::with_local_recorder(&counters, || {
        let guard = start(
            Attack::builder("metrics-sampled", "metrics.sampled")
                .facet_present("customer")
                .error("drill")
                .percent(50.0)
                .build()
                .unwrap(),
        );
        for n in 0..400 {
            let _ = sampled(&format!("c-{n}"));
        }
        let status = guard.status();
        assert_eq!(status.matched, 400);
        assert!(status.hits > 0 && status.hits < 400, "{status:?}");
        let labels = [("point", "metrics.sampled"), ("attack", "metrics-sampled")];
        assert_eq!(counters.value(MATCHED, &labels), Some(status.matched));
        let hit = [
            ("point", "metrics.sampled"),
            ("attack", "metrics-sampled"),
            ("impact", "error"),
        ];
        assert_eq!(counters.value(HIT, &hit), Some(status.hits));
    });
}

#[test]
fn each_series_is_registered_once_and_no_label_carries_a_facet_value() {
    fault_runtime::init().unwrap();
    let counters = Counters::default();
    metrics::with_local_recorder(&counters, || {
        let _guard = start(
            Attack::builder("metrics-labels", "metrics.labelled")
                .facet("customer", "c-4242")
                .facet("country", "NL")
                .error("drill")
                .build()
                .unwrap(),
        );
        let request = Facets::new().with("country", "NL");
        for _ in 0..100 {
            assert!(request.scope(|| labelled("c-4242")).is_err());
        }

        let registrations = counters.registrations();
        assert_eq!(registrations.len(), 2, "{registrations:#?}");
        assert!(
            registrations.values().all(|&count| count == 1),
            "a call counts on a kept counter: {registrations:#?}"
        );
        for ((name, labels), value) in counters.snapshot() {
            assert_eq!(value, 100, "{name}");
            let keys: Vec<&str> = labels.iter().map(|(key, _)| key.as_str()).collect();
            let expected: &[&str] = if name == MATCHED {
                &["attack", "point"]
            } else {
                &["attack", "impact", "point"]
            };
            assert_eq!(keys, expected, "{name}");
            for (key, value) in &labels {
                assert!(
                    !value.contains("c-4242") && value != "NL",
                    "{name} has a facet value in `{key}`"
                );
            }
        }
    });
}

#[test]
fn calls_no_attack_matches_count_nothing() {
    fault_runtime::init().unwrap();
    let counters = Counters::default();
    metrics::with_local_recorder(&counters, || {
        let _guard = start(
            Attack::builder("metrics-unmatched", "metrics.unmatched")
                .facet("customer", "c-42")
                .error("drill")
                .build()
                .unwrap(),
        );
        for _ in 0..50 {
            assert!(unmatched("c-7").is_ok());
            assert!(idle().is_ok());
            assert!(
                Facets::new()
                    .with("customer", "c-42")
                    .scope(|| unmatched("c-8"))
                    .is_ok()
            );
        }
        assert!(counters.snapshot().is_empty(), "{:#?}", counters.snapshot());
        assert!(counters.registrations().is_empty());
    });
}
