//! Application-level fault injection, aimed at named points and at request facets.
//!
//! Annotate a function with [`fault_point`]; at run time it consults the attacks an
//! operator started and applies an impact (latency, an error, a panic) to exactly the
//! calls an attack names, for instance one customer's calls of one payment function, while
//! every other call runs as if nothing were there.
//!
//! ```
//! use fault_runtime::{fault_point, Fault};
//!
//! #[derive(Debug)]
//! struct PaymentError(String);
//!
//! impl From<Fault> for PaymentError {
//!     fn from(fault: Fault) -> Self {
//!         PaymentError(fault.to_string())
//!     }
//! }
//!
//! #[fault_point(name = "payments.charge", facets(customer))]
//! fn charge(customer: &str, cents: u64) -> Result<u64, PaymentError> {
//!     Ok(cents)
//! }
//!
//! assert_eq!(charge("c-42", 100).unwrap(), 100);
//! ```
//!
//! # Feature `enabled`
//!
//! Off by default: the attribute then checks its arguments and returns the function exactly
//! as written, the API starts no attack ([`start`] says why), and [`Facets`] records
//! nothing. Turn it on where drills run, typically from a feature of your own crate:
//! `chaos = ["fault-runtime/enabled"]`.
//!
//! With it on, a point no attack names costs one relaxed atomic load and a branch.
//!
//! # Feature `admin`
//!
//! Adds the `admin` module: an HTTP endpoint, authenticated by a bearer token, that lists
//! the catalog and the attacks, starts, replaces and halts attacks, and works the kill
//! switch. It runs as a small server of its own, or mounts on the application's router as
//! a `tower` service. It implies `enabled`.
//!
//! # Feature `tower`
//!
//! Adds the `layer` module: a `tower` layer that takes facets from request headers and
//! puts them in scope while each request is handled, for axum, hyper and other tower-based
//! servers. It does not imply `enabled`; with injection off the layer passes requests
//! through.
//!
//! # Feature `baggage`
//!
//! Adds W3C Baggage to the `layer` module: allow-listed baggage members become facets on
//! the way in, and a client-side layer writes allow-listed facets into outgoing requests'
//! `baggage` header, so an attack aimed at one customer follows that customer's requests
//! from service to service. It implies `tower`.

//! # Feature `metrics`
//!
//! Counts, through the [`metrics`](https://docs.rs/metrics/0.24) facade, the calls each
//! running attack matches and hits, for whatever recorder the application installs (a
//! Prometheus exporter, say). It implies `enabled`. The counters:
//!
//! | name | labels | counts |
//! |---|---|---|
//! | `fault_calls_matched_total` | `point`, `attack` | calls the attack matched: its points and facets, while it runs, before sampling |
//! | `fault_calls_hit_total` | `point`, `attack`, `impact` | calls the attack hit |
//! | `fault_calls_dry_run_hit_total` | `point`, `attack`, `impact` | calls a dry-run attack would have hit |
//!
//! `point` is the point's name, `attack` the attack's id, and `impact` the kind of the
//! impact: `latency`, `error`, `panic`, `latency+error` or `latency+panic` (one attack may
//! add latency and fail the call; that is one hit). No label carries a facet value: those
//! are customer data, and would make a series per customer. The counters of an attack at a
//! point are registered with the recorder on their first increment and kept with the
//! attack, so install the recorder at start-up, before attacks match calls. A point no
//! attack names counts nothing, and costs what it costs without the feature.
//!
//! # What it logs
//!
//! Events go to `tracing` with the target `fault_runtime` (`fault_runtime::admin` for the
//! admin endpoint):
//!
//! - each injected impact, once, at warn: `fault injected`, with `point`, `attack`,
//!   `impact` (the kind, as above) and, when it adds latency, `latency_ms`;
//! - each call a dry run would have hit, at info: `dry run: a fault would have been
//!   injected`, with the same fields and `dry_run = true`;
//! - attack starts and ends at info, once per attack, with how it ended and its counts;
//!   each refused source once, at error, with every problem (a refusal of the admin
//!   endpoint at warn, by the endpoint, with the peer).
//!
//! Nothing is logged for a call that no attack hits. Facet values are customer data, so
//! the impact events leave them out unless an operator opts in with
//! [`set_log_facet_values`] or `FAULT_LOG_FACETS=on`: they then carry a `facets` field such
//! as `customer="c-42" country="NL"` (values quoted and escaped).
//!
//! # Attacks
//!
//! Start attacks with [`start`] (a typed [`Attack`]), [`start_toml`] or [`start_json`]
//! (the text format, see the crate README), or from the environment, read once on the
//! first use of the runtime (the first call of any point, or any API call; call [`init`]
//! at start-up to do it then):
//!
//! - `FAULT_ATTACKS`: attacks inline, TOML or JSON;
//! - `FAULT_ATTACKS_FILE`: a path to an attack file (`.json` or TOML), watched for changes
//!   every `FAULT_ATTACKS_POLL` (default 2 s) as [`watch_file`] describes;
//! - `FAULT_INJECTION`: `on` or `off`. `off` engages the kill switch: every attack is
//!   halted and none can start. Any other value is reported as an error and counts as
//!   `off`.
//! - `FAULT_LOG_FACETS`: `on` or `off` (the default). `on` adds the facets of each hit
//!   call to its log event, as [`set_log_facet_values`] does. Any other value is reported
//!   as an error and counts as `off`.
//! - `FAULT_ADMIN_ADDR` and `FAULT_ADMIN_TOKEN`: start the admin endpoint (feature
//!   `admin`, see [its section](crate#feature-admin)).
//!
//! A source with any invalid attack applies none of them; the error names the attack, the
//! field and the reason, is logged, and is kept for [`source_errors`].

#![warn(missing_docs)]

mod attack;
mod context;
mod error;
mod fault;
pub mod sampling;
mod source;
mod status;
mod watch;

#[cfg(feature = "metrics")]
mod counters;
#[cfg(feature = "enabled")]
mod delay;
#[cfg(feature = "enabled")]
mod point;
#[cfg(feature = "enabled")]
mod registry;

#[doc(hidden)]
#[cfg(feature = "enabled")]
pub mod __private;

#[cfg(feature = "admin")]
pub mod admin;

#[cfg(feature = "tower")]
pub mod layer;

pub use attack::{
    Attack, AttackBuilder, AttackSet, DEFAULT_DURATION, FacetMatch, Format, Latency, MAX_DURATION,
    MAX_LATENCY, MAX_TEXT_LEN,
};
pub use context::{Facets, FacetsGuard, WithFacets};
pub use error::{AttackError, SourceError};
pub use fault::Fault;
pub use fault_macros::fault_point;
pub use source::{MAX_FILE_BYTES, UnreadFile, format_of, read_file, read_text};
pub use status::{Applied, AttackState, AttackStatus, Impacts, PointInfo};
pub use watch::{DEFAULT_POLL, FileWatch, MAX_POLL, MIN_POLL, WatchOutcome, WatchStatus};

#[cfg(feature = "enabled")]
use std::sync::Arc;

/// Whether injection is compiled in (the `enabled` feature).
pub const ENABLED: bool = cfg!(feature = "enabled");

#[cfg(not(feature = "enabled"))]
const COMPILED_OUT: &str = "fault injection is compiled out: turn on the `enabled` feature of \
                            fault-runtime to start attacks";

/// Reads the environment's attacks now, if that has not happened yet, and returns the
/// sources of it that were refused (each also logged, and kept for [`source_errors`]).
///
/// Without this call the environment is read on the first use of the runtime, which may be
/// the first call of a point on a request's path. Calling it at start-up also lets a
/// service refuse to start, or warn loudly, when a drill it was given does not run.
///
/// # Errors
///
/// Every refused environment source: an invalid `FAULT_ATTACKS` or `FAULT_ATTACKS_FILE`, a
/// `FAULT_INJECTION` or `FAULT_LOG_FACETS` other than `on` or `off`, a `FAULT_ADMIN_ADDR` whose admin endpoint
/// could not start (or that is set without the `admin` feature). With the `enabled` feature
/// off, any of these variables being set is an error too, since none of them can take
/// effect.
pub fn init() -> Result<(), Vec<SourceError>> {
    #[cfg(feature = "enabled")]
    let errors = registry::environment_errors();
    #[cfg(not(feature = "enabled"))]
    let errors: Vec<SourceError> = [
        "FAULT_ATTACKS",
        "FAULT_ATTACKS_FILE",
        "FAULT_INJECTION",
        "FAULT_LOG_FACETS",
        "FAULT_ADMIN_ADDR",
    ]
    .into_iter()
    .filter(|name| std::env::var_os(name).is_some())
    .map(|name| {
        SourceError::new(
            name,
            vec![AttackError::document(
                None,
                format!("{name} is set, but {COMPILED_OUT}"),
            )],
        )
    })
    .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Starts one attack; it runs until its deadline, its `max_impacts`, or the guard drops.
///
/// # Errors
///
/// An [`AttackError`] naming the field and the reason when the attack names an unknown
/// point or facet, aims an impact at a point that cannot take it (an error where the return
/// type cannot carry one, latency on a sync function that returns a future, a panic on a
/// function whose ABI cannot unwind), reuses the id of a running attack, or when the kill
/// switch is engaged. Nothing is started then.
pub fn start(attack: Attack) -> Result<AttackGuard, AttackError> {
    #[cfg(feature = "enabled")]
    {
        let id = attack.id.clone();
        match registry::start(vec![(attack, None)], "api") {
            Ok(mut started) => match started.pop() {
                Some(running) => Ok(AttackGuard::new(running)),
                None => Err(AttackError::for_field(
                    &id,
                    "id",
                    "the attack was not started".into(),
                )),
            },
            Err(error) => Err(error.problems().first().cloned().map_or_else(
                || AttackError::for_field(&id, "id", "the attack was refused".into()),
                |problem| problem.of_attack(&id),
            )),
        }
    }
    #[cfg(not(feature = "enabled"))]
    {
        Err(AttackError::new(
            Some(attack.id),
            None,
            COMPILED_OUT.into(),
            None,
        ))
    }
}

/// Starts every attack of a set, or none of them.
///
/// # Errors
///
/// A [`SourceError`] listing every problem; nothing is started then.
pub fn start_set(set: AttackSet) -> Result<Vec<AttackGuard>, SourceError> {
    start_origin(set, "api")
}

/// Reads attacks from TOML text and starts them all, or none of them.
///
/// # Errors
///
/// A [`SourceError`] listing every problem; nothing is started then.
pub fn start_toml(text: &str) -> Result<Vec<AttackGuard>, SourceError> {
    start_parsed(AttackSet::parse(text, Format::Toml, "api"), "api")
}

/// Reads attacks from JSON text and starts them all, or none of them.
///
/// # Errors
///
/// A [`SourceError`] listing every problem; nothing is started then.
pub fn start_json(text: &str) -> Result<Vec<AttackGuard>, SourceError> {
    start_parsed(AttackSet::parse(text, Format::Json, "api"), "api")
}

/// Reads an attack file (`.json`, else TOML) and starts its attacks, all or none.
///
/// # Errors
///
/// A [`SourceError`] when the file cannot be read or holds any problem; nothing is started
/// then, and the error is kept for [`source_errors`].
pub fn start_file(path: impl AsRef<std::path::Path>) -> Result<Vec<AttackGuard>, SourceError> {
    let path = path.as_ref();
    let origin = path.display().to_string();
    start_parsed(read_file(path, &origin), &origin)
}

/// Watches an attack file: the file is the complete desired set of its attacks, and each
/// change takes effect without a restart.
///
/// The file is read now and then every `poll` ([`DEFAULT_POLL`] is a good choice; it must
/// lie within [`MIN_POLL`]`..=`[`MAX_POLL`]). Its content, not its inode, is compared, so a
/// Kubernetes ConfigMap mount, where a change swaps a `..data` symlink, is followed like an
/// edit in place. When the text changes, the new version is applied by attack id:
///
/// - new ids start; ids whose definition changed restart with the new one (their counters
///   and deadline start over); ids left out are halted;
/// - ids whose definition is unchanged are left alone: a running one keeps its counters and
///   deadline, and one that ended (it expired, or an operator halted it) is not started
///   again until its definition changes;
/// - a version that cannot be read, does not parse, or holds any invalid attack applies
///   nothing and halts every attack of the file, since "no faults" is the safe state; its
///   error (with line and field) is logged and kept for [`source_errors`], and
///   [`FileWatch::status`] and [`watched_files`] report it. The next valid version is
///   applied in full;
/// - a missing file is an empty set: the file's attacks halt, and this is reported the same
///   way.
///
/// While the kill switch is engaged a changed version is refused like an invalid one; it is
/// applied once the switch is released and the file changes again.
///
/// An id that runs from another source (the API, the admin endpoint, another file) makes
/// the version invalid: each source changes only its own attacks.
///
/// The file is read once in this call (for `FAULT_ATTACKS_FILE`, when the environment is
/// read: call [`init`] at start-up so that this is not a request's first point call), then
/// on a thread of its own, so no caller of a point waits for the file system afterwards.
/// A pipe or a device put in the file's place is refused without being read. Dropping the returned [`FileWatch`] stops the watch and halts the file's
/// attacks; [`FileWatch::detach`] keeps it for the life of the process. `FAULT_ATTACKS_FILE`
/// starts such a watch, detached, polling every `FAULT_ATTACKS_POLL` (default
/// [`DEFAULT_POLL`]).
///
/// # Errors
///
/// A [`SourceError`] when the interval is out of bounds, the file is already watched, or
/// the `enabled` feature is off. A file that is missing or invalid is not an error here: it
/// is watched, and reported as above.
pub fn watch_file(
    path: impl AsRef<std::path::Path>,
    poll: std::time::Duration,
) -> Result<FileWatch, SourceError> {
    let path = path.as_ref();
    let origin = format!("file:{}", path.display());
    #[cfg(feature = "enabled")]
    {
        registry::ensure_loaded();
        watch::watch(path, poll, origin)
    }
    #[cfg(not(feature = "enabled"))]
    {
        let _ = poll;
        Err(SourceError::new(
            &origin,
            vec![AttackError::document(None, COMPILED_OUT.into())],
        ))
    }
}

/// Every watched attack file, with what its last version did.
pub fn watched_files() -> Vec<WatchStatus> {
    #[cfg(feature = "enabled")]
    {
        registry::ensure_loaded();
        watch::statuses()
    }
    #[cfg(not(feature = "enabled"))]
    {
        Vec::new()
    }
}

/// Starts a parsed source, or records why it could not be parsed.
fn start_parsed(
    parsed: Result<AttackSet, SourceError>,
    origin: &str,
) -> Result<Vec<AttackGuard>, SourceError> {
    match parsed {
        Ok(set) => start_origin(set, origin),
        Err(error) => {
            #[cfg(feature = "enabled")]
            registry::record_refusal(&error, registry::RefusalLog::Registry);
            Err(error)
        }
    }
}

fn start_origin(set: AttackSet, origin: &str) -> Result<Vec<AttackGuard>, SourceError> {
    #[cfg(feature = "enabled")]
    {
        registry::start(set.into_entries(), origin)
            .map(|started| started.into_iter().map(AttackGuard::new).collect())
    }
    #[cfg(not(feature = "enabled"))]
    {
        let _ = set;
        Err(SourceError::new(
            origin,
            vec![AttackError::document(None, COMPILED_OUT.into())],
        ))
    }
}

/// Halts the running attack with this id. Returns whether one was running.
///
/// Calls that start after this returns are not hit, and delays it is serving end at once.
pub fn halt(id: &str) -> bool {
    #[cfg(feature = "enabled")]
    {
        registry::halt(id)
    }
    #[cfg(not(feature = "enabled"))]
    {
        let _ = id;
        false
    }
}

/// Halts every running attack; returns how many were halted. New attacks may start.
pub fn halt_all() -> usize {
    #[cfg(feature = "enabled")]
    {
        registry::halt_all()
    }
    #[cfg(not(feature = "enabled"))]
    {
        0
    }
}

/// Engages (`true`) or releases the kill switch. Engaged, it halts every attack and
/// refuses new ones until released.
pub fn set_kill_switch(engaged: bool) {
    #[cfg(feature = "enabled")]
    registry::set_kill_switch(engaged);
    #[cfg(not(feature = "enabled"))]
    let _ = engaged;
}

/// Makes the `tracing` event of each injected impact (and of each dry-run hit) carry the
/// facets of the call it hit, as a `facets` field of `key=value` pairs (`true`), or not
/// (`false`, the default).
///
/// Facet values are customer data (a customer id, a country), so they are left out unless
/// an operator asks: turn this on for a drill whose logs may hold them. The environment's
/// `FAULT_LOG_FACETS=on` does the same when the runtime reads it; a call of this function
/// overrides it. A change is logged. With the `enabled` feature off, nothing is logged and
/// this does nothing.
///
/// ```
/// // A drill on a test customer, whose logs may show who was hit:
/// fault_runtime::set_log_facet_values(true);
/// // ... run the drill, then leave customer data out of the logs again:
/// fault_runtime::set_log_facet_values(false);
/// ```
pub fn set_log_facet_values(on: bool) {
    #[cfg(feature = "enabled")]
    registry::set_log_facet_values(on);
    #[cfg(not(feature = "enabled"))]
    let _ = on;
}

/// Whether the kill switch is engaged (by [`set_kill_switch`] or `FAULT_INJECTION`).
pub fn kill_switch_engaged() -> bool {
    #[cfg(feature = "enabled")]
    {
        registry::kill_switch_engaged()
    }
    #[cfg(not(feature = "enabled"))]
    {
        true
    }
}

/// Running attacks in start order, then the last 256 ended ones, newest first.
pub fn attacks() -> Vec<AttackStatus> {
    #[cfg(feature = "enabled")]
    {
        registry::statuses()
    }
    #[cfg(not(feature = "enabled"))]
    {
        Vec::new()
    }
}

/// The sources refused so far (the last 64): bad environment values, files, texts.
pub fn source_errors() -> Vec<SourceError> {
    #[cfg(feature = "enabled")]
    {
        registry::source_errors()
    }
    #[cfg(not(feature = "enabled"))]
    {
        Vec::new()
    }
}

/// Every point compiled into the binary, sorted by name. Known before any point runs.
pub fn catalog() -> Vec<PointInfo> {
    #[cfg(feature = "enabled")]
    {
        let mut points: Vec<PointInfo> = __private::CATALOG
            .iter()
            .map(|point| {
                let site = point.site();
                PointInfo {
                    name: site.name,
                    module_path: site.module_path,
                    file: site.file,
                    line: site.line,
                    facet_keys: site.facet_keys.to_vec(),
                    is_async: site.is_async,
                    impacts: Impacts {
                        latency: site.can_delay,
                        error: site.can_error,
                        panic: site.can_panic,
                    },
                    hits: point.hits(),
                    attacks: point.attacks().map_or(0, |list| list.len()),
                }
            })
            .collect();
        points.sort_by(|a, b| (a.name, a.file, a.line).cmp(&(b.name, b.file, b.line)));
        points
    }
    #[cfg(not(feature = "enabled"))]
    {
        Vec::new()
    }
}

/// Declares the facet keys that request contexts ([`Facets`]) carry, so that attacks may
/// name them at any point.
///
/// An attack naming a facet key that is neither a facet of its points nor declared here
/// is refused, which catches typos before a drill silently hits nothing.
///
/// ```
/// fault_runtime::context_facets!(customer, country);
/// ```
#[cfg(feature = "enabled")]
#[macro_export]
macro_rules! context_facets {
    ($($key:ident),+ $(,)?) => {
        const _: () = {
            #[$crate::__private::linkme::distributed_slice($crate::__private::CONTEXT_FACETS)]
            #[linkme(crate = $crate::__private::linkme)]
            static CONTEXT_FACET_KEYS: &[&str] = &[$(::core::stringify!($key)),+];
        };
    };
}

/// Declares the facet keys that request contexts ([`Facets`]) carry, so that attacks may
/// name them at any point.
///
/// An attack naming a facet key that is neither a facet of its points nor declared here
/// is refused, which catches typos before a drill silently hits nothing.
///
/// ```
/// fault_runtime::context_facets!(customer, country);
/// ```
#[cfg(not(feature = "enabled"))]
#[macro_export]
macro_rules! context_facets {
    ($($key:ident),+ $(,)?) => {};
}

/// Keeps an attack running; halts it when dropped, unless detached.
#[must_use = "the attack is halted as soon as the guard drops; call `detach` to keep it"]
pub struct AttackGuard {
    #[cfg(feature = "enabled")]
    running: Arc<registry::Running>,
    #[cfg(feature = "enabled")]
    detached: bool,
    #[cfg(not(feature = "enabled"))]
    _never: std::convert::Infallible,
}

impl AttackGuard {
    #[cfg(feature = "enabled")]
    fn new(running: Arc<registry::Running>) -> Self {
        Self {
            running,
            detached: false,
        }
    }

    /// The attack's id.
    pub fn id(&self) -> &str {
        #[cfg(feature = "enabled")]
        {
            &self.running.id
        }
        #[cfg(not(feature = "enabled"))]
        match self._never {}
    }

    /// The attack's state and counters now.
    pub fn status(&self) -> AttackStatus {
        #[cfg(feature = "enabled")]
        {
            self.running.status(std::time::Instant::now())
        }
        #[cfg(not(feature = "enabled"))]
        match self._never {}
    }

    /// Halts the attack now. Returns whether it was still running.
    pub fn halt(self) -> bool {
        #[cfg(feature = "enabled")]
        {
            let mut this = self;
            this.detached = true;
            registry::halt_exact(&this.running)
        }
        #[cfg(not(feature = "enabled"))]
        match self._never {}
    }

    /// Lets the attack run on after the guard is gone, until its deadline or a halt.
    pub fn detach(self) {
        #[cfg(feature = "enabled")]
        {
            let mut this = self;
            this.detached = true;
        }
        #[cfg(not(feature = "enabled"))]
        match self._never {}
    }
}

impl Drop for AttackGuard {
    fn drop(&mut self) {
        #[cfg(feature = "enabled")]
        if !self.detached {
            registry::halt_exact(&self.running);
        }
    }
}

impl std::fmt::Debug for AttackGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AttackGuard")
            .field("id", &self.id())
            .finish()
    }
}
