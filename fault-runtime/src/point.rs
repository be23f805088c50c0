//! Fault points: the statics that `#[fault_point]` puts in each annotated function, and the
//! slow path a call takes when an attack names its point.

use std::cell::OnceCell;
use std::fmt::{self, Display, Write as _};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use arc_swap::ArcSwapOption;

use crate::Fault;
use crate::context::Facets;
use crate::delay::{self, Delay, Part};
use crate::registry::{self, Aimed};

/// What the attribute knows about a point at compile time.
#[derive(Debug)]
pub struct Site {
    /// The point's name.
    pub name: &'static str,
    /// `module_path!()` of the annotated function.
    pub module_path: &'static str,
    /// `file!()` of the annotated function.
    pub file: &'static str,
    /// `line!()` of the annotated function.
    pub line: u32,
    /// The keys of the attribute's `facets(...)`.
    pub facet_keys: &'static [&'static str],
    /// Whether the function's return type can carry an injected error.
    pub can_error: bool,
    /// Whether the point can serve latency without blocking an executor: false for a sync
    /// function that returns a future, whose body runs on the thread that creates the future.
    pub can_delay: bool,
    /// Whether a panic can leave the function: false for an ABI that cannot unwind
    /// (`extern "C"`, `extern "system"`, ...), where a panic aborts the process.
    pub can_panic: bool,
    /// The function's ABI as written: `"Rust"` when none is, `"C"` for a bare `extern`.
    pub abi: &'static str,
    /// Whether the check awaits: an `async fn`, or a function whose body is one
    /// `Box::pin(async move { ... })`, as `#[async_trait]` writes its methods.
    pub is_async: bool,
}

/// A fault point: one per annotated function, in a static.
///
/// The hot path reads `armed` alone. Everything else is touched only when an attack names
/// this point.
pub struct Point {
    // Starts `true` so that the first call of any point runs the slow path once, which
    // reads the environment's attacks and then disarms every point no attack names.
    armed: AtomicBool,
    site: Site,
    hits: AtomicU64,
    attacks: ArcSwapOption<Vec<Aimed>>,
}

impl Point {
    /// A point for a site; used in a `static` initializer.
    pub const fn new(site: Site) -> Self {
        Self {
            armed: AtomicBool::new(true),
            site,
            hits: AtomicU64::new(0),
            attacks: ArcSwapOption::const_empty(),
        }
    }

    /// Whether an attack may name this point: the whole cost of an idle point.
    #[inline(always)]
    pub fn is_armed(&self) -> bool {
        self.armed.load(Ordering::Relaxed)
    }

    /// The slow path of a synchronous function: decides, sleeps the thread for any
    /// latency, panics for a panic impact, and returns an error impact's fault.
    ///
    /// `facets` hands the call's facets to the decision it is given. Generated code passes
    /// a closure that builds them, so that building them (and the stack they need) is out
    /// of the annotated function's own code, which keeps the idle path to the armed check.
    #[cold]
    #[inline(never)]
    #[track_caller]
    pub fn strike<F: FnOnce(&mut dyn FnMut(&[Facet<'_>]))>(
        &'static self,
        facets: F,
    ) -> Option<Fault> {
        let mut verdict = Verdict::default();
        self.decide_with(facets, &mut verdict);
        // Most calls that come here are hit by nothing: leave before moving the verdict.
        if verdict.is_empty() {
            return None;
        }
        if let Some(start) = verdict.delay_start {
            delay::sleep(start, &verdict.delay);
        }
        verdict.conclude()
    }

    /// The slow path of an `async fn`: decides now, then waits for any latency without
    /// blocking the executor's thread. See [`Point::strike`] for `facets`.
    #[cold]
    #[inline(never)]
    pub fn strike_async<F: FnOnce(&mut dyn FnMut(&[Facet<'_>]))>(
        &'static self,
        facets: F,
    ) -> Strike {
        let mut verdict = Verdict::default();
        self.decide_with(facets, &mut verdict);
        if verdict.is_empty() {
            return Strike {
                delay: None,
                verdict: None,
            };
        }
        Strike {
            delay: verdict
                .delay_start
                .map(|start| Delay::new(start, std::mem::take(&mut verdict.delay))),
            verdict: Some(verdict),
        }
    }

    /// Every point starts armed, so that its first call comes here and reads the
    /// environment's attacks, which disarms the points no attack names. The facets are
    /// built only after that, so a first call that no attack aims at evaluates none of them.
    ///
    /// The verdict is filled in place: it is large, and most calls leave it empty.
    fn decide_with<F: FnOnce(&mut dyn FnMut(&[Facet<'_>]))>(
        &'static self,
        facets: F,
        verdict: &mut Verdict,
    ) {
        registry::ensure_loaded();
        if self.is_armed() {
            facets(&mut |list| self.decide(list, verdict));
        }
    }

    pub(crate) fn site(&self) -> &Site {
        &self.site
    }

    pub(crate) fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    pub(crate) fn set_armed(&self, armed: bool) {
        self.armed.store(armed, Ordering::Relaxed);
    }

    pub(crate) fn attacks(&self) -> Option<Arc<Vec<Aimed>>> {
        self.attacks.load_full()
    }

    pub(crate) fn set_attacks(&self, attacks: Option<Arc<Vec<Aimed>>>) {
        self.attacks.store(attacks);
    }

    /// Matches the call against every attack aimed at this point, oldest first, samples
    /// each match, and records the impacts in `verdict`.
    fn decide(&'static self, facets: &[(&'static str, &dyn Display)], verdict: &mut Verdict) {
        let snapshot = self.attacks.load();
        let Some(attacks) = snapshot.as_ref() else {
            return;
        };
        let call = Call::new(facets);
        // The clock is read once a call matches, not before: most calls an armed point
        // sees match none of its attacks, and the read is the dearest step of a miss.
        let mut clock = None;
        for aimed in attacks.iter() {
            let attack = &aimed.running;
            if attack.has_ended() || !aimed.matches(&call) {
                continue;
            }
            let now = *clock.get_or_insert_with(Instant::now);
            if !attack.is_running(now) {
                continue;
            }
            aimed.count_match();
            // An attack that only fails calls changes nothing once an older attack has
            // claimed this call's error or panic: it takes no hit, and so spends none of
            // its `max_impacts`.
            //
            // The impacts a point cannot take are refused when an attack starts; they are
            // left out here too, so that no path of the runtime blocks an executor or aborts
            // the process.
            let panic_message = attack
                .panic_message
                .as_ref()
                .filter(|_| self.site.can_panic && verdict.failure.is_none());
            let error_message = attack
                .error_message
                .as_ref()
                .filter(|_| self.site.can_error && verdict.failure.is_none());
            let latency = attack.attack.latency.filter(|_| self.site.can_delay);
            let Some(kind) = ImpactKind::of(
                latency.is_some(),
                error_message.is_some(),
                panic_message.is_some(),
            ) else {
                continue;
            };
            if !attack.samples(&call) || !attack.take_impact() {
                continue;
            }
            let impact = Impact {
                kind,
                latency: latency.map(|latency| draw(latency.min, latency.max)),
            };
            if attack.attack.dry_run {
                aimed.report_dry_run(self.site.name, &impact, &call);
                continue;
            }
            if let Some(length) = impact.latency {
                verdict.delay_start.get_or_insert(now);
                verdict.delay.push(Part {
                    attack: Arc::clone(attack),
                    length,
                });
            }
            if let Some(message) = panic_message {
                verdict.failure = Some(Failure::Panic(Arc::clone(message)));
            } else if let Some(message) = error_message {
                verdict.failure = Some(Failure::Error(Fault::injected(
                    self.site.name,
                    Arc::clone(&attack.id),
                    Arc::clone(message),
                )));
            }
            aimed.report_impact(self.site.name, &impact, &call);
        }
        if !verdict.delay.is_empty() || verdict.failure.is_some() {
            self.hits.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl fmt::Debug for Point {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Point")
            .field("name", &self.site.name)
            .field("armed", &self.is_armed())
            .finish_non_exhaustive()
    }
}

/// What one attack did (or, in a dry run, would have done) to one call, for the log and
/// the counters.
pub(crate) struct Impact {
    pub(crate) kind: ImpactKind,
    pub(crate) latency: Option<Duration>,
}

/// The kind of an impact, as logs and counters name it.
///
/// One attack may add latency and fail the call too; that is one impact of a combined
/// kind, so that each hit is one event and one count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ImpactKind {
    Latency,
    Error,
    Panic,
    LatencyError,
    LatencyPanic,
}

impl ImpactKind {
    /// Every kind, in the order of [`ImpactKind::index`].
    #[cfg(feature = "metrics")]
    pub(crate) const ALL: [ImpactKind; 5] = [
        ImpactKind::Latency,
        ImpactKind::Error,
        ImpactKind::Panic,
        ImpactKind::LatencyError,
        ImpactKind::LatencyPanic,
    ];

    /// The kind of an impact with these parts, or `None` when it has none. A panic wins
    /// over an error, as it does when the call is concluded.
    fn of(latency: bool, error: bool, panic: bool) -> Option<Self> {
        match (latency, error || panic, panic) {
            (false, false, _) => None,
            (true, false, _) => Some(ImpactKind::Latency),
            (false, true, false) => Some(ImpactKind::Error),
            (false, true, true) => Some(ImpactKind::Panic),
            (true, true, false) => Some(ImpactKind::LatencyError),
            (true, true, true) => Some(ImpactKind::LatencyPanic),
        }
    }

    /// The name in logs and counter labels.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ImpactKind::Latency => "latency",
            ImpactKind::Error => "error",
            ImpactKind::Panic => "panic",
            ImpactKind::LatencyError => "latency+error",
            ImpactKind::LatencyPanic => "latency+panic",
        }
    }

    /// The position in [`ImpactKind::ALL`].
    #[cfg(feature = "metrics")]
    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// The facets of one call: the attribute's, then the context's.
pub(crate) struct Call<'a> {
    facets: &'a [(&'static str, &'a dyn Display)],
    // Fetched on the first lookup the attribute's facets cannot answer: taking the context
    // costs a thread-local access and a reference count, which a call decided by its own
    // facets does not pay.
    context: OnceCell<Facets>,
}

/// A facet value of a call, borrowed from wherever it lives.
pub(crate) enum FacetValue<'a> {
    Shown(&'a dyn Display),
    Text(&'a str),
}

impl<'a> Call<'a> {
    fn new(facets: &'a [(&'static str, &'a dyn Display)]) -> Self {
        Self {
            facets,
            context: OnceCell::new(),
        }
    }

    /// The value of a facet; the attribute's own facets win over the context's.
    pub(crate) fn facet(&self, key: &str) -> Option<FacetValue<'_>> {
        self.own_facet(key).or_else(|| self.context_facet(key))
    }

    /// The value of a facet the attribute gives.
    fn own_facet(&self, key: &str) -> Option<FacetValue<'_>> {
        self.facets
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, value)| FacetValue::Shown(*value))
    }

    /// The value of the attribute's facet at `index`, the position of its key in the
    /// site's `facet_keys`: the attribute hands the values over in that order.
    pub(crate) fn own_facet_at(&self, index: usize) -> Option<FacetValue<'_>> {
        self.facets
            .get(index)
            .map(|(_, value)| FacetValue::Shown(*value))
    }

    /// The value of a facet of the request context, whether or not the attribute gives it.
    pub(crate) fn context_facet(&self, key: &str) -> Option<FacetValue<'_>> {
        self.context
            .get_or_init(Facets::current)
            .get(key)
            .map(FacetValue::Text)
    }
}

/// Shows every facet of the call as `key="value"`, separated by spaces: the attribute's, in
/// its order, then the context's, by key, leaving out those the attribute gives. These are
/// customer data: only an operator's opt-in puts them in a log.
///
/// Keys and values are quoted and escaped as Rust strings are: they may come from a
/// request, and a value holding `" customer=c-42` or a line break must not read as another
/// facet or another log line.
impl Display for Call<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut separator = "";
        for (key, value) in self.facets {
            write!(
                f,
                "{separator}{}={:?}",
                key.escape_debug(),
                value.to_string()
            )?;
            separator = " ";
        }
        let context = self.context.get_or_init(Facets::current);
        for (key, value) in context.iter() {
            if self.own_facet(key).is_none() {
                write!(f, "{separator}{}={value:?}", LoggedKey(key))?;
                separator = " ";
            }
        }
        Ok(())
    }
}

/// A facet key as logged: bare when it is a plain name, else quoted and escaped like a
/// value, so that a key holding a space or an `=` cannot pose as another facet.
struct LoggedKey<'a>(&'a str);

impl Display for LoggedKey<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plain = !self.0.is_empty()
            && self
                .0
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
        if plain {
            f.write_str(self.0)
        } else {
            write!(f, "{:?}", self.0)
        }
    }
}

impl FacetValue<'_> {
    /// Whether the value's text equals `expected`, without building a string.
    pub(crate) fn equals(&self, expected: &str) -> bool {
        match self {
            FacetValue::Text(text) => *text == expected,
            FacetValue::Shown(value) => {
                let mut compare = Compare {
                    rest: expected,
                    equal: true,
                };
                write!(compare, "{value}").is_ok() && compare.equal && compare.rest.is_empty()
            }
        }
    }

    /// Feeds the value's text to `sink`, without building a string.
    pub(crate) fn write_to(&self, sink: &mut impl fmt::Write) {
        // Writing to a hasher cannot fail; a failing `Display` leaves a partial hash,
        // which still decides consistently for that value.
        let _ = match self {
            FacetValue::Text(text) => sink.write_str(text),
            FacetValue::Shown(value) => write!(sink, "{value}"),
        };
    }
}

/// Compares formatted output with a string as it is written.
struct Compare<'a> {
    rest: &'a str,
    equal: bool,
}

impl fmt::Write for Compare<'_> {
    fn write_str(&mut self, chunk: &str) -> fmt::Result {
        match self.rest.strip_prefix(chunk) {
            Some(rest) if self.equal => self.rest = rest,
            _ => {
                self.equal = false;
                // Stop formatting early: the answer is known.
                return Err(fmt::Error);
            }
        }
        Ok(())
    }
}

fn draw(min: Duration, max: Duration) -> Duration {
    if min == max {
        return min;
    }
    let span = u64::try_from((max - min).as_nanos()).unwrap_or(u64::MAX);
    min + Duration::from_nanos(fastrand::u64(0..=span))
}

enum Failure {
    Error(Fault),
    Panic(Arc<str>),
}

/// What the attacks decided for one call.
#[derive(Default)]
struct Verdict {
    delay_start: Option<Instant>,
    delay: Vec<Part>,
    failure: Option<Failure>,
}

impl Verdict {
    /// Whether no attack hit the call.
    fn is_empty(&self) -> bool {
        self.delay.is_empty() && self.failure.is_none()
    }

    /// Applies the error or panic, after any latency has been served.
    ///
    /// A panic is reported at the caller's location: for a sync point, the annotated
    /// function.
    #[track_caller]
    fn conclude(self) -> Option<Fault> {
        match self.failure {
            None => None,
            Some(Failure::Error(fault)) => Some(fault),
            Some(Failure::Panic(message)) => std::panic::panic_any(message.to_string()),
        }
    }
}

/// One facet of a call, as generated code hands it over: its key and its value.
pub type Facet<'a> = (&'static str, &'a dyn Display);

/// The future of [`Point::strike_async`]: waits for any injected latency, then yields the
/// injected error's fault, if any. It holds no borrow of the call's facets.
#[must_use = "the injected latency and error apply only when the strike is awaited"]
pub struct Strike {
    delay: Option<Delay>,
    verdict: Option<Verdict>,
}

impl Future for Strike {
    type Output = Option<Fault>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Fault>> {
        if let Some(delay) = self.delay.as_mut() {
            if Pin::new(delay).poll(cx).is_pending() {
                return Poll::Pending;
            }
            self.delay = None;
        }
        Poll::Ready(self.verdict.take().and_then(Verdict::conclude))
    }
}
