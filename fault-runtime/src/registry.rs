//! The attack registry: which attacks run, which points they aim at, and their lifecycle.
//!
//! Writers (start, halt, expiry) serialize on one lock and publish, for each point they
//! touch, a new immutable list of the attacks aimed at it. Calls read their own point's
//! list without waiting; an attack that names other points is never looked at.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::hash::Hasher as _;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Once, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use crate::__private::{CATALOG, CONTEXT_FACETS};
use crate::attack::{Attack, AttackSet, FacetMatch, Format};
#[cfg(feature = "metrics")]
use crate::counters::Counters;
use crate::error::{AttackError, SourceError};
use crate::point::{Call, FacetValue, Impact, Point};
use crate::status::{Applied, AttackState, AttackStatus};
use crate::{delay, sampling};

/// How many ended attacks [`crate::attacks`] keeps reporting.
const ENDED_KEPT: usize = 256;

/// How many refused sources [`crate::source_errors`] keeps reporting.
const SOURCE_ERRORS_KEPT: usize = 64;

/// The longest the reaper sleeps while attacks run, bounding how long a point whose
/// attacks all ended by `max_impacts` stays on its slow path.
const REAPER_TICK: Duration = Duration::from_secs(1);

const RUNNING: u8 = 0;
const HALTED: u8 = 1;
const EXPIRED: u8 = 2;
const EXHAUSTED: u8 = 3;

/// A started attack, shared by the registry and the points it aims at.
pub(crate) struct Running {
    /// The attack as started, except its facet rules, which are moved to `facets`: read
    /// them there ([`Running::status`] puts them back for reports).
    pub(crate) attack: Attack,
    /// The facet rules as a flat list in the map's order, which calls walk: walking a map
    /// costs more than the rest of a call that matches no attack.
    facets: Box<[(Box<str>, FacetMatch)]>,
    pub(crate) id: Arc<str>,
    pub(crate) error_message: Option<Arc<str>>,
    pub(crate) panic_message: Option<Arc<str>>,
    pub(crate) origin: Arc<str>,
    started: Instant,
    pub(crate) deadline: Instant,
    points: Vec<&'static Point>,
    matched: AtomicU64,
    hits: AtomicU64,
    end: AtomicU8,
}

impl Running {
    /// Whether the attack still acts: not ended, and before its deadline.
    pub(crate) fn is_running(&self, now: Instant) -> bool {
        !self.has_ended() && now < self.deadline
    }

    /// Whether the attack was halted or reached its `max_impacts`. One that has only passed
    /// its deadline is not ended until the reaper sees it: check [`Running::is_running`].
    pub(crate) fn has_ended(&self) -> bool {
        self.end.load(Ordering::Relaxed) != RUNNING
    }

    /// Whether a matching call falls in the attack's share.
    pub(crate) fn samples(&self, call: &Call<'_>) -> bool {
        let percent = self.attack.percent;
        match &self.attack.sticky {
            Some(key) => call.facet(key).is_some_and(|value| {
                let mut hasher = sampling::StickyHasher::new();
                value.write_to(&mut hasher);
                sampling::sticky_hit(hasher.finish(), percent)
            }),
            None => percent >= 100.0 || fastrand::f64() * 100.0 < percent,
        }
    }

    /// Counts a hit, unless `max_impacts` is reached; ends the attack on its last hit.
    pub(crate) fn take_impact(&self) -> bool {
        let Some(max) = self.attack.max_impacts else {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return true;
        };
        let taken = self
            .hits
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |hits| {
                (hits < max).then_some(hits + 1)
            });
        match taken {
            Ok(before) => {
                if before + 1 == max && self.finish(EXHAUSTED) {
                    ENDED_EARLY.store(true, Ordering::Release);
                    wake_reaper();
                }
                true
            }
            Err(_) => false,
        }
    }

    /// Ends the attack for `reason`; false if it had already ended.
    fn finish(&self, reason: u8) -> bool {
        self.end
            .compare_exchange(RUNNING, reason, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    }

    fn state(&self, now: Instant) -> AttackState {
        match self.end.load(Ordering::Relaxed) {
            HALTED => AttackState::Halted,
            EXPIRED => AttackState::Expired,
            EXHAUSTED => AttackState::Exhausted,
            _ if now >= self.deadline => AttackState::Expired,
            _ => AttackState::Running,
        }
    }

    /// The attack as it was started, facet rules included.
    pub(crate) fn definition(&self) -> Attack {
        Attack {
            facets: self
                .facets
                .iter()
                .map(|(key, rule)| (key.to_string(), rule.clone()))
                .collect(),
            ..self.attack.clone()
        }
    }

    pub(crate) fn status(&self, now: Instant) -> AttackStatus {
        let state = self.state(now);
        AttackStatus {
            id: self.id.to_string(),
            point: self.attack.point.clone(),
            points: self.points.iter().map(|p| p.site().name).collect(),
            origin: self.origin.to_string(),
            state,
            dry_run: self.attack.dry_run,
            matched: self.matched.load(Ordering::Relaxed),
            hits: self.hits.load(Ordering::Relaxed),
            time_left: if state == AttackState::Running {
                self.deadline.saturating_duration_since(now)
            } else {
                Duration::ZERO
            },
            running_for: now.saturating_duration_since(self.started),
            attack: self.definition(),
        }
    }
}

/// A running attack as one point it aims at holds it: with, for each of the attack's facet
/// rules, where that point finds the call's value, worked out when the attack is published
/// rather than by comparing key names on every call.
#[derive(Clone)]
pub(crate) struct Aimed {
    pub(crate) running: Arc<Running>,
    /// One per rule of `running.facets`, in the same order.
    sources: Box<[Source]>,
    /// The attack's counters at this point, shared by the copies of this entry that each
    /// new list of the point's attacks holds.
    #[cfg(feature = "metrics")]
    counters: Arc<Counters>,
}

/// Where a point finds the value of a facet an attack names.
#[derive(Clone, Copy)]
enum Source {
    /// The attribute's facet at this position of the site's `facet_keys`.
    Attribute(usize),
    /// The request context.
    Context,
}

impl Aimed {
    fn new(running: &Arc<Running>, point: &Point) -> Self {
        let keys = point.site().facet_keys;
        let sources = running
            .facets
            .iter()
            .map(|(key, _)| {
                keys.iter()
                    .position(|k| *k == &**key)
                    .map_or(Source::Context, Source::Attribute)
            })
            .collect();
        Self {
            running: Arc::clone(running),
            sources,
            #[cfg(feature = "metrics")]
            counters: Arc::new(Counters::new(
                point.site().name,
                Arc::clone(&running.id),
                running.attack.dry_run,
            )),
        }
    }

    /// Counts a call that matched the attack here.
    pub(crate) fn count_match(&self) {
        self.running.matched.fetch_add(1, Ordering::Relaxed);
        #[cfg(feature = "metrics")]
        self.counters.matched();
    }

    /// Logs, at warn, and counts an impact the attack applied to a call of this point.
    pub(crate) fn report_impact(&self, point: &'static str, impact: &Impact, call: &Call<'_>) {
        tracing::warn!(
            target: "fault_runtime",
            point,
            attack = &*self.running.id,
            impact = impact.kind.as_str(),
            latency_ms = impact.latency.map(milliseconds),
            facets = logged_facets(call),
            "fault injected"
        );
        #[cfg(feature = "metrics")]
        self.counters.hit(impact.kind);
    }

    /// Logs, at info, and counts an impact a dry run would have applied to a call.
    pub(crate) fn report_dry_run(&self, point: &'static str, impact: &Impact, call: &Call<'_>) {
        tracing::info!(
            target: "fault_runtime",
            point,
            attack = &*self.running.id,
            impact = impact.kind.as_str(),
            latency_ms = impact.latency.map(milliseconds),
            facets = logged_facets(call),
            dry_run = true,
            "dry run: a fault would have been injected"
        );
        #[cfg(feature = "metrics")]
        self.counters.hit(impact.kind);
    }

    /// Whether the call carries every facet the attack names, with an accepted value.
    ///
    /// The facets the attribute gives are checked first, so that a call they rule out
    /// never fetches the request context.
    pub(crate) fn matches(&self, call: &Call<'_>) -> bool {
        let rules = || self.running.facets.iter().zip(self.sources.iter());
        let mut from_context = false;
        for ((_, rule), source) in rules() {
            match *source {
                Source::Attribute(index) => {
                    let value = call.own_facet_at(index);
                    if !value.is_some_and(|value| accepts(rule, &value)) {
                        return false;
                    }
                }
                Source::Context => from_context = true,
            }
        }
        !from_context
            || rules()
                .filter(|(_, source)| matches!(source, Source::Context))
                .all(|((key, rule), _)| {
                    call.context_facet(key)
                        .is_some_and(|value| accepts(rule, &value))
                })
    }
}

/// A latency in milliseconds, with its fraction, as logs show it.
fn milliseconds(latency: Duration) -> f64 {
    latency.as_secs_f64() * 1000.0
}

/// Whether impact events carry the facet values of the call: customer data, so off unless
/// an operator turns it on ([`set_log_facet_values`], `FAULT_LOG_FACETS`).
static LOG_FACET_VALUES: AtomicBool = AtomicBool::new(false);

/// The `facets` field of an impact event: the call's facets when an operator opted in,
/// else nothing, and then the field is left out of the event.
fn logged_facets<'a>(call: &'a Call<'a>) -> Option<tracing::field::DisplayValue<&'a Call<'a>>> {
    LOG_FACET_VALUES
        .load(Ordering::Relaxed)
        .then(|| tracing::field::display(call))
}

/// Turns the facet values of impact events on or off; logs a change.
pub(crate) fn set_log_facet_values(on: bool) {
    ensure_loaded();
    let was = LOG_FACET_VALUES.swap(on, Ordering::Relaxed);
    if was != on {
        log_facet_values_changed(on);
    }
}

fn log_facet_values_changed(on: bool) {
    if on {
        tracing::info!(
            target: "fault_runtime",
            "impact events now carry the facet values of the calls they hit"
        );
    } else {
        tracing::info!(
            target: "fault_runtime",
            "impact events no longer carry facet values"
        );
    }
}

struct State {
    /// In start order. A queue, because guards are mostly dropped in the order their
    /// attacks started, which takes each from the front.
    running: VecDeque<Arc<Running>>,
    /// No running attack's deadline is before this one. It may be earlier than the
    /// earliest (an attack that had it was halted), which only costs one needless sweep.
    earliest_deadline: Option<Instant>,
    ended: VecDeque<Ended>,
    source_errors: VecDeque<SourceError>,
    kill_switch: bool,
    reaper_started: bool,
    /// Set while the environment is read, so that its refusals are kept apart.
    reading_environment: bool,
    environment_errors: Vec<SourceError>,
    /// For each complete source (a watched file), the definitions of its last applied
    /// version, so that a new version restarts only the attacks it changed.
    applied: BTreeMap<String, HashMap<String, Attack>>,
}

static STATE: Mutex<State> = Mutex::new(State {
    running: VecDeque::new(),
    earliest_deadline: None,
    ended: VecDeque::new(),
    source_errors: VecDeque::new(),
    kill_switch: false,
    reaper_started: false,
    reading_environment: false,
    environment_errors: Vec::new(),
    applied: BTreeMap::new(),
});

/// An ended attack in the history; its status is made when someone asks for it, so that
/// ending an attack costs no copy of it.
struct Ended {
    running: Arc<Running>,
    at: Instant,
}

static LOADED: Once = Once::new();

/// Set when an attack reaches its `max_impacts`, the one way an attack ends without the
/// registry ending it or its deadline passing: until then, a sweep has nothing to look at.
static ENDED_EARLY: AtomicBool = AtomicBool::new(false);

/// The catalog sorted by name, so that an attack finds its points by a binary search
/// rather than by matching its name against every point.
static BY_NAME: OnceLock<Vec<&'static Point>> = OnceLock::new();

/// Wakes the reaper early; see [`REAPER_TICK`].
static REAPER: Condvar = Condvar::new();
static REAP_SOON: AtomicBool = AtomicBool::new(false);

fn state() -> MutexGuard<'static, State> {
    // Every writer leaves the state consistent before anything that could panic, so a
    // poisoned lock still guards good data.
    STATE.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Reads the environment's attacks once, on the first use of the registry.
#[inline]
pub(crate) fn ensure_loaded() {
    LOADED.call_once(load_environment);
}

/// Starts a set of attacks, all or none.
pub(crate) fn start(
    attacks: Vec<(Attack, Option<usize>)>,
    origin: &str,
) -> Result<Vec<Arc<Running>>, SourceError> {
    ensure_loaded();
    start_loaded(attacks, origin)
}

fn start_loaded(
    attacks: Vec<(Attack, Option<usize>)>,
    origin: &str,
) -> Result<Vec<Arc<Running>>, SourceError> {
    let mut state = state();
    sweep(&mut state, Instant::now());
    if state.kill_switch {
        return Err(refuse(&mut state, kill_switch_refusal(origin)));
    }

    let mut problems = Vec::new();
    let mut resolved = Vec::with_capacity(attacks.len());
    let context_keys = context_keys();
    let running_ids: HashSet<&str> = state.running.iter().map(|r| &*r.id).collect();
    for (attack, line) in attacks {
        if running_ids.contains(attack.id.as_str()) {
            problems.push(
                AttackError::for_field(
                    &attack.id,
                    "id",
                    "an attack with this id is already running; halt it first".into(),
                )
                .at_line(line),
            );
            continue;
        }
        match resolve(&attack, &context_keys) {
            Ok(points) => resolved.push((attack, points)),
            Err(errors) => problems.extend(errors.into_iter().map(|e| e.at_line(line))),
        }
    }
    drop(running_ids);
    if !problems.is_empty() {
        return Err(refuse(&mut state, SourceError::new(origin, problems)));
    }
    Ok(launch(&mut state, resolved, origin))
}

/// Which running attacks of an origin a set given by [`apply`] replaces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(
    not(feature = "admin"),
    allow(dead_code, reason = "only the admin endpoint upserts")
)]
pub(crate) enum Scope {
    /// Create or replace the given attacks by id; the origin's other attacks keep running.
    // The admin endpoint is its one user.
    #[cfg_attr(not(feature = "admin"), allow(dead_code))]
    Upsert,
    /// The set is the origin's complete desired set: the origin's running attacks that are
    /// not in it are halted.
    WholeSource,
}

/// Creates or replaces attacks by id, all or none, for a source that is not a program
/// holding guards: a watched file or the admin endpoint.
///
/// An attack whose id runs with the same definition from the same origin is left alone,
/// counters and deadline included, so that applying one set twice changes nothing. An id
/// that runs from another origin is refused: each source changes only its own attacks.
///
/// A refusal is recorded for [`crate::source_errors`], and logged as `log` says.
#[cfg_attr(
    not(feature = "admin"),
    allow(
        dead_code,
        reason = "only the admin endpoint applies outside a file's watch"
    )
)]
pub(crate) fn apply(
    origin: &str,
    attacks: Vec<(Attack, Option<usize>)>,
    scope: Scope,
    log: RefusalLog,
) -> Result<Applied, SourceError> {
    ensure_loaded();
    apply_loaded(origin, attacks, scope, log)
}

/// [`apply`], for callers that run while the environment is read.
pub(crate) fn apply_loaded(
    origin: &str,
    attacks: Vec<(Attack, Option<usize>)>,
    scope: Scope,
    log: RefusalLog,
) -> Result<Applied, SourceError> {
    let mut state = state();
    let now = Instant::now();
    sweep(&mut state, now);
    if state.kill_switch {
        return Err(refuse_as(&mut state, kill_switch_refusal(origin), log));
    }

    let mut applied = Applied::default();
    let mut problems = Vec::new();
    let mut resolved = Vec::with_capacity(attacks.len());
    let mut replacing: HashSet<*const Running> = HashSet::new();
    let mut given: HashSet<String> = HashSet::new();
    let mut definitions: HashMap<String, Attack> = HashMap::new();
    let context_keys = context_keys();
    for (attack, line) in attacks {
        given.insert(attack.id.clone());
        if scope == Scope::WholeSource {
            definitions.insert(attack.id.clone(), attack.clone());
        }
        let current = state.running.iter().find(|r| *r.id == *attack.id);
        match current {
            Some(running) if *running.origin != *origin => {
                problems.push(
                    AttackError::for_field(
                        &attack.id,
                        "id",
                        format!(
                            "an attack with this id runs from {}; change it there, or halt \
                             it first",
                            running.origin
                        ),
                    )
                    .at_line(line),
                );
                continue;
            }
            Some(running) if running.definition() == attack => {
                applied.unchanged.push(attack.id);
                continue;
            }
            Some(running) => {
                replacing.insert(Arc::as_ptr(running));
                applied.replaced.push(attack.id.clone());
            }
            // A complete source restarts an attack that ended (it expired, or an operator
            // halted it) only when its definition changes: a new version of a file that
            // leaves the attack as it was is not a request to run it again.
            None if scope == Scope::WholeSource
                && state
                    .applied
                    .get(origin)
                    .and_then(|previous| previous.get(&attack.id))
                    .is_some_and(|previous| *previous == attack) =>
            {
                applied.unchanged.push(attack.id);
                continue;
            }
            None => applied.started.push(attack.id.clone()),
        }
        match resolve(&attack, &context_keys) {
            Ok(points) => resolved.push((attack, points)),
            Err(errors) => problems.extend(errors.into_iter().map(|e| e.at_line(line))),
        }
    }
    if !problems.is_empty() {
        return Err(refuse_as(
            &mut state,
            SourceError::new(origin, problems),
            log,
        ));
    }

    let ending = take_running(&mut state, |r| {
        replacing.contains(&std::ptr::from_ref(r))
            || (scope == Scope::WholeSource && *r.origin == *origin && !given.contains(&*r.id))
    });
    applied.halted = ending
        .iter()
        .filter(|r| !replacing.contains(&Arc::as_ptr(r)))
        .map(|r| r.id.to_string())
        .collect();
    // The replaced and removed attacks end before their successors start, so no call sees
    // both; both happen under one hold of the lock, so no writer sees the gap.
    retire_taken(
        &mut state,
        &ending,
        HALTED,
        now,
        "replaced or removed by its source",
    );
    launch(&mut state, resolved, origin);
    if scope == Scope::WholeSource {
        state.applied.insert(origin.to_owned(), definitions);
    }
    drop(state);
    wake_delays(&ending);
    Ok(applied)
}

fn kill_switch_refusal(origin: &str) -> SourceError {
    SourceError::new(
        origin,
        vec![AttackError::document(
            None,
            "the kill switch is engaged (FAULT_INJECTION=off, or set_kill_switch(true)); \
             no attack can start"
                .into(),
        )],
    )
}

/// The keys declared with `context_facets!`.
fn context_keys() -> Vec<&'static str> {
    CONTEXT_FACETS
        .iter()
        .flat_map(|keys| keys.iter().copied())
        .collect()
}

/// Starts attacks already checked and resolved, and publishes them to their points.
fn launch(
    state: &mut State,
    resolved: Vec<(Attack, Vec<&'static Point>)>,
    origin: &str,
) -> Vec<Arc<Running>> {
    let now = Instant::now();
    let origin: Arc<str> = origin.into();
    let mut started = Vec::with_capacity(resolved.len());
    for (mut attack, points) in resolved {
        let running = Arc::new(Running {
            facets: std::mem::take(&mut attack.facets)
                .into_iter()
                .map(|(key, rule)| (key.into_boxed_str(), rule))
                .collect(),
            id: attack.id.as_str().into(),
            error_message: attack.error.as_deref().map(Into::into),
            panic_message: attack.panic.as_deref().map(Into::into),
            origin: Arc::clone(&origin),
            started: now,
            deadline: now + attack.duration,
            points,
            matched: AtomicU64::new(0),
            hits: AtomicU64::new(0),
            end: AtomicU8::new(RUNNING),
            attack,
        });
        tracing::info!(
            target: "fault_runtime",
            attack = &*running.id,
            point = running.attack.point,
            points = running.points.len(),
            origin = &*running.origin,
            duration = %humantime::format_duration(running.attack.duration),
            dry_run = running.attack.dry_run,
            "attack started"
        );
        state.running.push_back(Arc::clone(&running));
        started.push(running);
    }
    if let Some(deadline) = started.iter().map(|r| r.deadline).min() {
        let earliest = state
            .earliest_deadline
            .map_or(deadline, |d| d.min(deadline));
        state.earliest_deadline = Some(earliest);
    }
    if !started.is_empty() {
        publish_started(&started);
        ensure_reaper(state);
        REAPER.notify_all();
    }
    started
}

/// Records a source that was refused before it reached the registry, and logs it as `log`
/// says.
pub(crate) fn record_refusal(error: &SourceError, log: RefusalLog) {
    ensure_loaded();
    refuse_as(&mut state(), error.clone(), log);
}

/// [`record_refusal`], for callers that run while the environment is read.
pub(crate) fn record_refusal_loaded(error: &SourceError) {
    refuse(&mut state(), error.clone());
}

/// Halts every running attack of a complete source and forgets its last applied version,
/// so that its next valid version starts all of its attacks. Returns the halted ids.
/// `how` says why, for the log of each attack's end.
pub(crate) fn halt_source(origin: &str, how: &str) -> Vec<String> {
    let mut state = state();
    let now = Instant::now();
    sweep(&mut state, now);
    state.applied.remove(origin);
    let ending = take_running(&mut state, |r| *r.origin == *origin);
    let ids = ending.iter().map(|r| r.id.to_string()).collect();
    end_taken(state, &ending, HALTED, now, how);
    ids
}

/// Who logs a source the registry refuses: each refusal is logged once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(
    not(feature = "admin"),
    allow(dead_code, reason = "only the admin endpoint logs its own refusals")
)]
pub(crate) enum RefusalLog {
    /// The registry logs it, at error.
    Registry,
    /// The caller logs it, with what it knows and the registry does not: the admin
    /// endpoint answers the request and logs the refusal with its peer.
    Caller,
}

/// Records and logs a refused source, and returns its error.
fn refuse(state: &mut State, error: SourceError) -> SourceError {
    refuse_as(state, error, RefusalLog::Registry)
}

/// Records a refused source for [`crate::source_errors`], logs it as `log` says, and
/// returns its error.
fn refuse_as(state: &mut State, error: SourceError, log: RefusalLog) -> SourceError {
    if log == RefusalLog::Registry {
        tracing::error!(target: "fault_runtime", "{error}");
    }
    if state.reading_environment {
        state.environment_errors.push(error.clone());
    }
    if state.source_errors.len() == SOURCE_ERRORS_KEPT {
        state.source_errors.pop_front();
    }
    state.source_errors.push_back(error.clone());
    error
}

/// Finds the points an attack aims at, and checks it against each of them.
/// `context_keys` are the keys declared with `context_facets!`.
fn resolve(
    attack: &Attack,
    context_keys: &[&'static str],
) -> Result<Vec<&'static Point>, Vec<AttackError>> {
    let points = points_matching(&attack.point);
    if points.is_empty() {
        let reason = if attack.point.contains('*') {
            format!("`{}` matches no point in the catalog", attack.point)
        } else {
            format!("no point is named `{}` in the catalog", attack.point)
        };
        return Err(vec![AttackError::for_field(&attack.id, "point", reason)]);
    }

    let mut problems = Vec::new();
    let keys = attack
        .facets
        .keys()
        .map(|k| ("facets", k.as_str()))
        .chain(attack.sticky.as_deref().map(|k| ("sticky", k)));
    for (field, key) in keys {
        if context_keys.contains(&key) {
            continue;
        }
        if let Some(point) = points.iter().find(|p| !p.site().facet_keys.contains(&key)) {
            let mut known: Vec<&str> = point.site().facet_keys.to_vec();
            known.extend(context_keys);
            known.sort_unstable();
            known.dedup();
            let known = if known.is_empty() {
                "none".to_owned()
            } else {
                known.join(", ")
            };
            problems.push(AttackError::for_field(
                &attack.id,
                field,
                format!(
                    "facet `{key}` is not known at point `{}` ({}:{}; known facets: {known}); \
                     context facets are declared with `context_facets!`",
                    point.site().name,
                    point.site().file,
                    point.site().line
                ),
            ));
        }
    }
    if attack.error.is_some() {
        for point in points.iter().filter(|p| !p.site().can_error) {
            problems.push(AttackError::for_field(
                &attack.id,
                "error",
                format!(
                    "point `{}` cannot carry an error: its function does not return a \
                     `Result` or an `Option`, and has no `error = ...` argument",
                    point.site().name
                ),
            ));
        }
    }
    if attack.latency.is_some() {
        for point in points.iter().filter(|p| !p.site().can_delay) {
            problems.push(AttackError::for_field(
                &attack.id,
                "latency",
                format!(
                    "point `{}` cannot take latency: it is a sync function returning a future, \
                     which would serve latency by blocking the thread that creates the future, \
                     an executor's; put the attribute on the `async fn` that does the work, or \
                     make the body one `Box::pin(async move {{ ... }})` so the check runs in \
                     that async block",
                    point.site().name
                ),
            ));
        }
    }
    if attack.panic.is_some() {
        for point in points.iter().filter(|p| !p.site().can_panic) {
            problems.push(AttackError::for_field(
                &attack.id,
                "panic",
                format!(
                    "point `{}` cannot take a panic: a panic cannot unwind out of an \
                     `extern \"{}\"` function, and would abort the process",
                    point.site().name,
                    point.site().abi
                ),
            ));
        }
    }
    if problems.is_empty() {
        Ok(points)
    } else {
        Err(problems)
    }
}

/// Whether a facet value satisfies a rule of an attack.
fn accepts(rule: &FacetMatch, value: &FacetValue<'_>) -> bool {
    rule.accepts_by(|expected| value.equals(expected))
}

/// The points whose names an attack's `point` matches, in name order.
///
/// Every name a pattern matches starts with the pattern's text before its first `*`, so
/// only the run of names with that prefix is looked at: one name for an exact name,
/// instead of the whole catalog for each attack.
fn points_matching(pattern: &str) -> Vec<&'static Point> {
    let by_name = BY_NAME.get_or_init(|| {
        let mut points: Vec<&'static Point> = CATALOG.iter().copied().collect();
        points.sort_by_key(|point| point.site().name);
        points
    });
    let prefix = pattern.split('*').next().unwrap_or_default();
    let first = by_name.partition_point(|point| point.site().name < prefix);
    by_name[first..]
        .iter()
        .take_while(|point| point.site().name.starts_with(prefix))
        .filter(|point| glob_matches(pattern, point.site().name))
        .copied()
        .collect()
}

/// Whether a point name matches an attack's `point`: an exact name, or a glob where `*`
/// stands for any run of characters.
pub(crate) fn glob_matches(pattern: &str, name: &str) -> bool {
    let Some((first, rest)) = pattern.split_once('*') else {
        return pattern == name;
    };
    let Some(mut remaining) = name.strip_prefix(first) else {
        return false;
    };
    let mut pieces: Vec<&str> = rest.split('*').collect();
    let last = pieces.pop().unwrap_or("");
    for piece in pieces {
        match remaining.find(piece) {
            Some(at) => remaining = &remaining[at + piece.len()..],
            None => return false,
        }
    }
    remaining.len() >= last.len() && remaining.ends_with(last)
}

/// Publishes, for each given point, the list of running attacks aimed at it, worked out
/// from every running attack, and sets its armed flag to match. Used once, at start-up;
/// later changes go through [`publish_started`] and [`publish_ended`], whose cost does not
/// grow with the number of attacks running.
fn publish(state: &State, points: impl Iterator<Item = &'static Point>) {
    let mut aimed: HashMap<*const Point, (&'static Point, Vec<Aimed>)> = HashMap::new();
    for point in points {
        aimed
            .entry(std::ptr::from_ref(point))
            .or_insert_with(|| (point, Vec::new()));
    }
    // `running` is in start order, so each list is oldest first.
    for running in &state.running {
        for &point in &running.points {
            if let Some((_, list)) = aimed.get_mut(&std::ptr::from_ref(point)) {
                list.push(Aimed::new(running, point));
            }
        }
    }
    for (point, list) in aimed.into_values() {
        if list.is_empty() {
            point.set_armed(false);
            point.set_attacks(None);
        } else {
            // The list is in place before the flag sends calls to it.
            point.set_attacks(Some(Arc::new(list)));
            point.set_armed(true);
        }
    }
}

/// Appends newly started attacks, in start order, to the lists of the points they aim at.
/// They are the newest, so each list stays oldest first.
fn publish_started(started: &[Arc<Running>]) {
    let mut added: HashMap<*const Point, (&'static Point, Vec<Aimed>)> = HashMap::new();
    for running in started {
        for &point in &running.points {
            added
                .entry(std::ptr::from_ref(point))
                .or_insert_with(|| (point, Vec::new()))
                .1
                .push(Aimed::new(running, point));
        }
    }
    for (point, added) in added.into_values() {
        let mut list = point.attacks().map_or_else(Vec::new, |list| list.to_vec());
        list.extend(added);
        // The list is in place before the flag sends calls to it.
        point.set_attacks(Some(Arc::new(list)));
        point.set_armed(true);
    }
}

/// Takes ended attacks out of the lists of the points they aimed at, and disarms the
/// points left with none. Call it once the attacks are marked ended.
fn publish_ended(ended: &[Arc<Running>]) {
    let mut points: Vec<&'static Point> = ended
        .iter()
        .flat_map(|running| running.points.iter().copied())
        .collect();
    points.sort_unstable_by_key(|point| std::ptr::from_ref(*point));
    points.dedup_by_key(|point| std::ptr::from_ref(*point));
    for point in points {
        // An attack that reached its `max_impacts` and awaits the sweep goes too: it can
        // hit nothing more.
        let kept: Vec<Aimed> = point.attacks().map_or_else(Vec::new, |list| {
            list.iter()
                .filter(|aimed| !aimed.running.has_ended())
                .cloned()
                .collect()
        });
        if kept.is_empty() {
            point.set_armed(false);
            point.set_attacks(None);
        } else {
            point.set_attacks(Some(Arc::new(kept)));
        }
    }
}

/// Ends the attacks `select` picks, for `reason`. Returns how many were still running.
fn end_where(reason: u8, select: impl Fn(&Running) -> bool) -> usize {
    ensure_loaded();
    let mut state = state();
    let now = Instant::now();
    // Attacks that already ended by themselves (deadline, `max_impacts`) but that the
    // reaper has not removed yet are retired first with their own reason, so that a halt
    // neither counts them as running nor relabels them as halted.
    sweep(&mut state, now);
    let ending = take_running(&mut state, select);
    end_taken(state, &ending, reason, now, "halted")
}

/// Ends attacks already taken out of `running`, for `reason`; `how` says why in the log
/// of each end. Returns how many were still running.
fn end_taken(
    mut state: MutexGuard<'static, State>,
    ending: &[Arc<Running>],
    reason: u8,
    now: Instant,
    how: &str,
) -> usize {
    let ended = retire_taken(&mut state, ending, reason, now, how);
    drop(state);
    wake_delays(ending);
    ended
}

/// Marks attacks taken out of `running` as ended for `reason`, moves them to the history
/// and takes them off their points; the caller wakes their delays once the lock is
/// released. Returns how many were still running.
fn retire_taken(
    state: &mut State,
    ending: &[Arc<Running>],
    reason: u8,
    now: Instant,
    how: &str,
) -> usize {
    let mut ended = 0;
    for running in ending {
        // A call may take an attack's last impact after the sweep; it then stays exhausted.
        if running.finish(reason) {
            ended += 1;
        }
        retire(state, running, now, how);
    }
    if state.running.is_empty() {
        // Nothing is left to expire: let the reaper sleep until the next start.
        state.earliest_deadline = None;
    }
    publish_ended(ending);
    ended
}

/// Takes the running attacks `select` picks out of `running`, in start order.
fn take_running(state: &mut State, select: impl Fn(&Running) -> bool) -> Vec<Arc<Running>> {
    let (taken, keep): (VecDeque<_>, VecDeque<_>) = std::mem::take(&mut state.running)
        .into_iter()
        .partition(|r| select(r));
    state.running = keep;
    Vec::from(taken)
}

/// Tells the delays being served to look again, if any of these ended attacks adds
/// latency: only those have a share in a delay.
fn wake_delays(ended: &[Arc<Running>]) {
    if ended.iter().any(|running| running.attack.latency.is_some()) {
        delay::attacks_ended();
    }
}

/// Moves an ended attack to the history and logs its end.
fn retire(state: &mut State, running: &Arc<Running>, now: Instant, how: &str) {
    tracing::info!(
        target: "fault_runtime",
        attack = &*running.id,
        state = %running.state(now),
        how,
        matched = running.matched.load(Ordering::Relaxed),
        hits = running.hits.load(Ordering::Relaxed),
        "attack ended"
    );
    if state.ended.len() == ENDED_KEPT {
        state.ended.pop_front();
    }
    state.ended.push_back(Ended {
        running: Arc::clone(running),
        at: now,
    });
}

/// Removes attacks that expired or reached `max_impacts`; returns the next deadline.
///
/// Every writer sweeps first, so the common case, nothing to remove, is answered without
/// looking at the running attacks: a halt of one attack among many stays cheap.
fn sweep(state: &mut State, now: Instant) -> Option<Instant> {
    let exhausted = ENDED_EARLY.swap(false, Ordering::Acquire);
    let due = state
        .earliest_deadline
        .is_some_and(|deadline| now >= deadline);
    if !exhausted && !due {
        return state.earliest_deadline;
    }
    let (ended, keep): (VecDeque<_>, VecDeque<_>) = std::mem::take(&mut state.running)
        .into_iter()
        .partition(|r| !r.is_running(now));
    state.running = keep;
    let ended = Vec::from(ended);
    state.earliest_deadline = state.running.iter().map(|r| r.deadline).min();
    for running in &ended {
        running.finish(EXPIRED);
        retire(state, running, now, "ran its course");
    }
    publish_ended(&ended);
    wake_delays(&ended);
    state.earliest_deadline
}

fn wake_reaper() {
    REAP_SOON.store(true, Ordering::Relaxed);
    REAPER.notify_all();
}

fn ensure_reaper(state: &mut State) {
    if state.reaper_started {
        return;
    }
    let spawned = std::thread::Builder::new()
        .name("fault-runtime-reaper".into())
        .spawn(run_reaper);
    match spawned {
        Ok(_) => state.reaper_started = true,
        Err(error) => tracing::error!(
            target: "fault_runtime",
            %error,
            "cannot start the thread that ends expired attacks; they stop acting at their \
             deadline and are removed on the next change"
        ),
    }
}

/// The reaper thread: ends attacks at their deadline, so their points go back to idle.
fn run_reaper() {
    let mut state = state();
    loop {
        REAP_SOON.store(false, Ordering::Relaxed);
        let now = Instant::now();
        let wait = match sweep(&mut state, now) {
            Some(next) => next.saturating_duration_since(now).min(REAPER_TICK),
            None => Duration::MAX,
        };
        if REAP_SOON.load(Ordering::Relaxed) {
            continue;
        }
        state = if wait == Duration::MAX {
            REAPER.wait(state).unwrap_or_else(PoisonError::into_inner)
        } else {
            REAPER
                .wait_timeout(state, wait)
                .unwrap_or_else(PoisonError::into_inner)
                .0
        };
    }
}

/// Halts the attack with this id; false if none runs.
pub(crate) fn halt(id: &str) -> bool {
    end_where(HALTED, |r| *r.id == *id) > 0
}

/// Halts this very attack (not a later one that reuses its id).
///
/// This is what dropping a guard does, so dropping the guards of many attacks calls it
/// once for each: it finds the attack by its address and touches nothing else.
pub(crate) fn halt_exact(target: &Arc<Running>) -> bool {
    ensure_loaded();
    let mut state = state();
    let now = Instant::now();
    sweep(&mut state, now);
    let Some(ending) = state
        .running
        .iter()
        .position(|r| Arc::ptr_eq(r, target))
        .and_then(|index| state.running.remove(index))
    else {
        return false;
    };
    end_taken(state, std::slice::from_ref(&ending), HALTED, now, "halted") > 0
}

/// Halts every attack.
pub(crate) fn halt_all() -> usize {
    end_where(HALTED, |_| true)
}

/// Engages or releases the kill switch; engaging halts every attack. Returns how many
/// were halted.
pub(crate) fn set_kill_switch(engaged: bool) -> usize {
    ensure_loaded();
    state().kill_switch = engaged;
    if engaged {
        let halted = halt_all();
        tracing::warn!(target: "fault_runtime", halted, "kill switch engaged: every attack halted");
        halted
    } else {
        tracing::info!(target: "fault_runtime", "kill switch released");
        0
    }
}

pub(crate) fn kill_switch_engaged() -> bool {
    ensure_loaded();
    state().kill_switch
}

/// Running attacks first (in start order), then recently ended ones, newest first.
pub(crate) fn statuses() -> Vec<AttackStatus> {
    ensure_loaded();
    let mut state = state();
    let now = Instant::now();
    sweep(&mut state, now);
    state
        .running
        .iter()
        .map(|r| r.status(now))
        .chain(state.ended.iter().rev().map(|e| e.running.status(e.at)))
        .collect()
}

pub(crate) fn source_errors() -> Vec<SourceError> {
    ensure_loaded();
    state().source_errors.iter().cloned().collect()
}

/// Reads `FAULT_INJECTION`, `FAULT_LOG_FACETS`, `FAULT_ATTACKS` and `FAULT_ATTACKS_FILE`,
/// then leaves every point armed exactly when an attack names it.
fn load_environment() {
    state().reading_environment = true;
    match read_switch(
        "FAULT_INJECTION",
        "fault injection is off until the variable is fixed",
    ) {
        Ok(None | Some(true)) => {}
        Ok(Some(false)) => state().kill_switch = true,
        Err(error) => {
            let mut state = state();
            state.kill_switch = true;
            refuse(&mut state, error);
        }
    }

    match read_switch(
        "FAULT_LOG_FACETS",
        "facet values are not logged until the variable is fixed",
    ) {
        Ok(None | Some(false)) => {}
        Ok(Some(true)) => {
            LOG_FACET_VALUES.store(true, Ordering::Relaxed);
            log_facet_values_changed(true);
        }
        Err(error) => {
            refuse(&mut state(), error);
        }
    }

    if let Some(text) = std::env::var_os("FAULT_ATTACKS") {
        let parsed = match text.into_string() {
            Ok(text) => AttackSet::parse(&text, Format::sniff(&text), "FAULT_ATTACKS"),
            Err(_) => Err(SourceError::new(
                "FAULT_ATTACKS",
                vec![AttackError::document(None, "the value is not UTF-8".into())],
            )),
        };
        apply_source(parsed, "FAULT_ATTACKS");
    }

    if let Some(path) = std::env::var_os("FAULT_ATTACKS_FILE") {
        watch_environment_file(path.as_ref());
    }

    start_admin_endpoint();

    let mut state = state();
    state.reading_environment = false;
    publish(&state, CATALOG.iter().copied());
    drop(state);
    warn_of_shared_names();
}

/// Reads a variable that is `on` or `off`: `Ok(None)` when it is not set, and an error of
/// the environment that ends with `meanwhile` for any other value.
fn read_switch(name: &str, meanwhile: &str) -> Result<Option<bool>, SourceError> {
    let shown = match std::env::var(name) {
        Err(std::env::VarError::NotPresent) => return Ok(None),
        Ok(value) if value == "on" => return Ok(Some(true)),
        Ok(value) if value == "off" => return Ok(Some(false)),
        Ok(value) => format!("{value:?}"),
        Err(std::env::VarError::NotUnicode(_)) => "a value that is not UTF-8".to_owned(),
    };
    Err(SourceError::new(
        name,
        vec![AttackError::document(
            None,
            format!("{shown} is neither `on` nor `off`; {meanwhile}"),
        )],
    ))
}

/// Starts the admin endpoint `FAULT_ADMIN_ADDR` asks for; a failure is an error of the
/// environment, and the process goes on without the endpoint.
fn start_admin_endpoint() {
    #[cfg(feature = "admin")]
    let refused = crate::admin::start_from_environment().err();
    #[cfg(not(feature = "admin"))]
    let refused = std::env::var_os("FAULT_ADMIN_ADDR").map(|_| {
        SourceError::new(
            "FAULT_ADMIN_ADDR",
            vec![AttackError::document(
                None,
                "FAULT_ADMIN_ADDR is set, but the `admin` feature of fault-runtime is off: \
                 no admin endpoint starts"
                    .into(),
            )],
        )
    });
    if let Some(error) = refused {
        refuse(&mut state(), error);
    }
}

/// Watches `FAULT_ATTACKS_FILE` for the life of the process, every `FAULT_ATTACKS_POLL`.
fn watch_environment_file(path: &std::path::Path) {
    let origin = format!("FAULT_ATTACKS_FILE={}", path.display());
    let poll = match std::env::var("FAULT_ATTACKS_POLL") {
        Err(std::env::VarError::NotPresent) => Ok(crate::watch::DEFAULT_POLL),
        Ok(text) => humantime::parse_duration(text.trim()).map_err(|error| {
            format!("FAULT_ATTACKS_POLL={text:?} is not a duration such as `2s`: {error}")
        }),
        Err(std::env::VarError::NotUnicode(_)) => Err("FAULT_ATTACKS_POLL is not UTF-8".to_owned()),
    };
    let poll = poll.and_then(|poll| {
        crate::watch::check_poll(poll)
            .map(|()| poll)
            .map_err(|reason| format!("FAULT_ATTACKS_POLL={reason}"))
    });
    let poll = if path.as_os_str().is_empty() {
        Err("FAULT_ATTACKS_FILE is set but empty".to_owned())
    } else {
        poll
    };
    match poll {
        // A refusal is recorded, as an environment error, by the watch.
        Ok(poll) => {
            if let Ok(watch) = crate::watch::watch(path, poll, origin) {
                watch.detach();
            }
        }
        Err(reason) => {
            let error = SourceError::new(
                &origin,
                vec![AttackError::document(
                    None,
                    format!(
                        "{reason}; the file is not read: fix the variable and restart the \
                         process"
                    ),
                )],
            );
            refuse(&mut state(), error);
        }
    }
}

/// Logs, once, the names that several functions share: an attack on such a name hits all
/// of them, which is rarely what its author meant.
fn warn_of_shared_names() {
    let mut sites: HashMap<&str, Vec<String>> = HashMap::new();
    for point in CATALOG.iter() {
        let site = point.site();
        sites
            .entry(site.name)
            .or_default()
            .push(format!("{}:{}", site.file, site.line));
    }
    for (name, mut places) in sites {
        places.sort();
        places.dedup();
        if places.len() > 1 {
            tracing::warn!(
                target: "fault_runtime",
                point = name,
                places = %places.join(", "),
                "several functions share one point name; an attack on it hits all of them"
            );
        }
    }
}

/// The sources of the environment that were refused when it was read.
pub(crate) fn environment_errors() -> Vec<SourceError> {
    ensure_loaded();
    state().environment_errors.clone()
}

fn apply_source(parsed: Result<AttackSet, SourceError>, origin: &str) {
    match parsed {
        Ok(set) => {
            // A refusal is recorded and logged by `start_loaded`; the guards are dropped
            // without halting, since environment attacks run until their deadline.
            if let Ok(started) = start_loaded(set.into_entries(), origin) {
                drop(started);
            }
        }
        Err(error) => {
            let mut state = state();
            refuse(&mut state, error.with_origin(origin));
        }
    }
}
