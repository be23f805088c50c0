//! Counters of the calls attacks match and hit, through the `metrics` facade (feature
//! `metrics`).
//!
//! Each counter is labelled by `point`, `attack` and, for hits, `impact`: names an
//! operator chose or the code declares, never a facet value, which is customer data and
//! would make the number of series grow with the number of customers.
//!
//! An attack's counters at a point are registered with the recorder on their first
//! increment and kept in the point's entry for the attack, so a call pays an increment,
//! not a label set and a lookup in the recorder.
//!
//! Limitation: a counter is registered with the recorder installed when it first counts;
//! one installed later does not see the attacks already counted. Installing the recorder
//! at start-up, before any attack matches a call, avoids it.

use std::sync::{Arc, OnceLock};

use metrics::{Counter, Unit};

use crate::point::ImpactKind;

/// Calls an attack matched at a point: labels `point`, `attack`.
pub(crate) const MATCHED: &str = "fault_calls_matched_total";

/// Calls an attack hit at a point: labels `point`, `attack`, `impact`.
pub(crate) const HIT: &str = "fault_calls_hit_total";

/// Calls a dry-run attack would have hit at a point: labels `point`, `attack`, `impact`.
pub(crate) const DRY_RUN_HIT: &str = "fault_calls_dry_run_hit_total";

/// One attack's counters at one point.
pub(crate) struct Counters {
    point: &'static str,
    attack: Arc<str>,
    dry_run: bool,
    matched: OnceLock<Counter>,
    /// By [`ImpactKind::index`]; of [`HIT`], or of [`DRY_RUN_HIT`] for a dry run.
    hits: [OnceLock<Counter>; ImpactKind::ALL.len()],
}

impl Counters {
    pub(crate) fn new(point: &'static str, attack: Arc<str>, dry_run: bool) -> Self {
        Self {
            point,
            attack,
            dry_run,
            matched: OnceLock::new(),
            hits: Default::default(),
        }
    }

    /// Counts a matched call.
    pub(crate) fn matched(&self) {
        self.matched
            .get_or_init(|| {
                metrics::describe_counter!(
                    MATCHED,
                    Unit::Count,
                    "Calls of a fault point that a running attack matched"
                );
                metrics::counter!(
                    MATCHED,
                    "point" => self.point,
                    "attack" => self.attack.to_string(),
                )
            })
            .increment(1);
    }

    /// Counts a hit, or a call a dry run would have hit.
    pub(crate) fn hit(&self, kind: ImpactKind) {
        self.hits[kind.index()]
            .get_or_init(|| {
                let name = if self.dry_run { DRY_RUN_HIT } else { HIT };
                if self.dry_run {
                    metrics::describe_counter!(
                        DRY_RUN_HIT,
                        Unit::Count,
                        "Calls of a fault point that a dry-run attack would have hit"
                    );
                } else {
                    metrics::describe_counter!(
                        HIT,
                        Unit::Count,
                        "Calls of a fault point that an attack hit with an impact"
                    );
                }
                metrics::counter!(
                    name,
                    "point" => self.point,
                    "attack" => self.attack.to_string(),
                    "impact" => kind.as_str(),
                )
            })
            .increment(1);
    }
}
