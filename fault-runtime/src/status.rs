//! What the runtime reports: attacks with their counters, and the catalog of points.

use std::fmt;
use std::time::Duration;

use crate::attack::Attack;

/// Where an attack is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AttackState {
    /// Acting on the calls it matches.
    Running,
    /// Halted: by its guard, by id, by `halt_all` or by the kill switch.
    Halted,
    /// Reached the end of its `duration`.
    Expired,
    /// Reached its `max_impacts`.
    Exhausted,
}

impl fmt::Display for AttackState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AttackState::Running => "running",
            AttackState::Halted => "halted",
            AttackState::Expired => "expired",
            AttackState::Exhausted => "exhausted",
        })
    }
}

/// An attack as the runtime sees it now.
#[derive(Clone, Debug, PartialEq)]
pub struct AttackStatus {
    /// The attack's id.
    pub id: String,
    /// The point name or glob it was given.
    pub point: String,
    /// The names of the points it aims at, resolved when it started.
    pub points: Vec<&'static str>,
    /// Where it came from: `api`, `FAULT_ATTACKS`, a file.
    pub origin: String,
    /// Where it is in its life.
    pub state: AttackState,
    /// Whether it only counts the calls it would hit.
    pub dry_run: bool,
    /// Calls whose facets matched it.
    pub matched: u64,
    /// Matching calls it hit; for a dry run, the calls it would have hit.
    pub hits: u64,
    /// Time until it expires; zero once it has ended.
    pub time_left: Duration,
    /// Time since it started.
    pub running_for: Duration,
    /// The attack as it was started.
    pub attack: Attack,
}

/// The impacts a point can take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Impacts {
    /// Added latency: every point except a sync function that returns a future (its
    /// latency would block the thread that creates the future, an executor's).
    pub latency: bool,
    /// An injected error: points whose function returns a `Result` or an `Option`, or that
    /// have an `error = ...` argument.
    pub error: bool,
    /// A panic: every point except a function whose ABI cannot unwind (`extern "C"`, ...),
    /// where a panic would abort the process.
    pub panic: bool,
}

/// One fault point of the catalog.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PointInfo {
    /// The point's name.
    pub name: &'static str,
    /// The module of the annotated function.
    pub module_path: &'static str,
    /// The source file of the annotated function.
    pub file: &'static str,
    /// The line of the annotated function.
    pub line: u32,
    /// The facet keys the attribute gives.
    pub facet_keys: Vec<&'static str>,
    /// Whether the point awaits its latency: an `async fn`, or a method rewritten by
    /// `#[async_trait]` (a body that is one `Box::pin(async move { ... })`).
    pub is_async: bool,
    /// The impacts the point can take.
    pub impacts: Impacts,
    /// How many calls an impact was applied to (dry runs excluded).
    pub hits: u64,
    /// How many running attacks aim at the point.
    pub attacks: usize,
}

/// What a source's change did to the running attacks, by attack id: the result of a
/// watched file's new version, or of a change through the admin endpoint.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Applied {
    /// Attacks that were not running and now are.
    pub started: Vec<String>,
    /// Running attacks of the same source whose definition changed: halted, and started
    /// again with the new one (counters and deadline start over).
    pub replaced: Vec<String>,
    /// Running attacks of the same source given again as they are: left running, with
    /// their counters and deadline.
    pub unchanged: Vec<String>,
    /// Running attacks of the source that a complete set left out: halted.
    pub halted: Vec<String>,
}
