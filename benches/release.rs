//! How soon a call held by an injected delay returns once its attack ends, for every way an
//! attack ends, and whether a call that starts after the end is ever hit.
//!
//! The promise measured: halting an attack (by id, `halt_all`, the kill switch, a watched
//! file's change, its guard dropped, its deadline) takes effect for every call that starts
//! after it returns, and delays already being served end within 50 ms.
//!
//! Each round starts an attack that adds 60 s to every call of a point, makes one call of
//! that point off this thread, waits until the attack has counted the call as a hit (it does
//! so before the delay begins), lets the call settle into its delay, ends the attack, and
//! notes when the call returns. A 60 s delay can only end early because the attack ended,
//! so the figure is the release path alone. Then a second call, the probe, checks that the
//! ended attack hits nothing more.
//!
//! The delayed call runs on a std thread of its own (the sync slow path, a condition
//! variable), and as a task of a tokio current-thread runtime and of a multi-thread runtime
//! (the async slow path, woken by fault-runtime's timer thread).
//!
//! Criterion is not used: it times a closure repeated many times and reports a mean with a
//! confidence interval, while each sample here is one round of several milliseconds (200 ms
//! for an expiry) with a setup that cannot be left out of a repeated closure, and the figure
//! that matters is the worst round against a target, not a throughput. So this is a plain
//! `main` that prints a table. Timings are reported, never asserted.
//!
//! Run: `cargo bench --features enabled --bench release`

use std::sync::mpsc;
use std::time::{Duration, Instant};

use fault_runtime::{Attack, AttackGuard, AttackState, fault_point};

/// The latency every attack adds: far beyond any round, so only the attack's end can
/// release a call.
const INJECTED: Duration = Duration::from_secs(60);

/// The promise: a delay being served ends within this long after its attack ends.
const TARGET: Duration = Duration::from_millis(50);

/// Measured rounds per case; one more runs first, unmeasured, to start the runtime's
/// threads and warm what a first call touches.
const ROUNDS: usize = 30;

/// Measured rounds per case when the binary runs as a test (`cargo test --benches`), which
/// checks that every case works without taking the bench's time.
const TEST_ROUNDS: usize = 1;

/// How long the expiry case's attacks run.
const EXPIRY: Duration = Duration::from_millis(200);

/// How often the watched attack file is read.
const POLL: Duration = Duration::from_millis(20);

/// How long a call is left in its delay after its hit is counted, so that the attack ends
/// while the call waits rather than while it is still on its way to the wait.
const SETTLE: Duration = Duration::from_millis(2);

/// How long a probe may take before it counts as held by the ended attack. It is released
/// then, so that the run stays bounded.
const PROBE_LIMIT: Duration = Duration::from_secs(1);

/// A limit for steps that take at most milliseconds when the runtime works. A delayed call
/// not released within it is reported as held, and the run goes on; a hit not counted, or
/// a watched version not applied, within it stops the run, since the round cannot measure
/// anything then.
const LIMIT: Duration = Duration::from_secs(5);

#[fault_point(name = "bench.release.sync")]
fn sync_call() -> u8 {
    1
}

#[fault_point(name = "bench.release.async")]
async fn async_call() -> u8 {
    1
}

/// The ways an attack ends.
#[derive(Clone, Copy, PartialEq)]
enum Ending {
    HaltById,
    HaltAll,
    KillSwitch,
    GuardDropped,
    FileRewritten,
    Expiry,
}

impl Ending {
    const ALL: [Ending; 6] = [
        Ending::HaltById,
        Ending::HaltAll,
        Ending::KillSwitch,
        Ending::GuardDropped,
        Ending::FileRewritten,
        Ending::Expiry,
    ];

    fn label(self) -> &'static str {
        match self {
            Ending::HaltById => "halt(id)",
            Ending::HaltAll => "halt_all()",
            Ending::KillSwitch => "kill switch on, then off",
            Ending::GuardDropped => "guard dropped",
            Ending::FileRewritten => "watched file rewritten (*)",
            Ending::Expiry => "expiry (from the deadline)",
        }
    }

    fn id(self) -> &'static str {
        match self {
            Ending::HaltById => "halt",
            Ending::HaltAll => "halt-all",
            Ending::KillSwitch => "kill-switch",
            Ending::GuardDropped => "guard",
            Ending::FileRewritten => "file",
            Ending::Expiry => "expiry",
        }
    }
}

/// Where the delayed call runs.
enum Caller {
    /// A std thread of its own, sleeping in the sync slow path.
    Thread,
    /// A task of a tokio runtime, awaiting the async slow path.
    Task(tokio::runtime::Handle),
}

impl Caller {
    fn point(&self) -> &'static str {
        match self {
            Caller::Thread => "bench.release.sync",
            Caller::Task(_) => "bench.release.async",
        }
    }

    /// Calls the point once, off this thread. The receiver gets the instant the call
    /// returned, taken by the caller itself.
    fn call(&self) -> mpsc::Receiver<Instant> {
        let (returned, receiver) = mpsc::channel();
        match self {
            Caller::Thread => {
                std::thread::spawn(move || {
                    std::hint::black_box(sync_call());
                    let _ = returned.send(Instant::now());
                });
            }
            Caller::Task(runtime) => {
                runtime.spawn(async move {
                    std::hint::black_box(async_call().await);
                    let _ = returned.send(Instant::now());
                });
            }
        }
        receiver
    }
}

/// A caller with the short name its attacks' ids carry and the label the table shows.
type Named = (&'static str, &'static str, Caller);

/// A tokio current-thread runtime driven by a thread of its own, so that this thread is
/// free to end attacks while the runtime's task waits.
struct CurrentThread {
    handle: tokio::runtime::Handle,
    stop: tokio::sync::oneshot::Sender<()>,
    driver: std::thread::JoinHandle<()>,
}

impl CurrentThread {
    fn new() -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a current-thread runtime builds");
        let handle = runtime.handle().clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let driver = std::thread::spawn(move || {
            let _ = runtime.block_on(stopped);
        });
        Self {
            handle,
            stop,
            driver,
        }
    }

    fn shut_down(self) {
        let _ = self.stop.send(());
        let _ = self.driver.join();
    }
}

/// The attack file the file case watches, written whole and renamed into place, as an
/// operator's tooling (or a ConfigMap's symlink swap) replaces it.
struct AttackFile {
    path: std::path::PathBuf,
    staging: std::path::PathBuf,
}

impl AttackFile {
    /// Replaces the file with `text`; returns the instant the rename returned.
    fn replace(&self, text: &str) -> Instant {
        std::fs::write(&self.staging, text).expect("the staging file is written");
        std::fs::rename(&self.staging, &self.path).expect("the new version is renamed");
        Instant::now()
    }
}

/// The hits the attack with this id has counted, running or ended.
fn hits(id: &str) -> u64 {
    fault_runtime::attacks()
        .into_iter()
        .find(|attack| attack.id == id)
        .map_or(0, |attack| attack.hits)
}

/// Polls `condition` until it holds. A runtime that never gets there is broken: that is
/// not a figure, so the run stops and says which step.
fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let limit = Instant::now() + LIMIT;
    while !condition() {
        assert!(Instant::now() < limit, "gave up waiting until {what}");
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// Makes a call that starts after the attack ended. Returns false if it did not return in
/// time, which means the ended attack held it; it is released so that the run goes on.
fn probe(caller: &Caller) -> bool {
    let returned = caller.call();
    if returned.recv_timeout(PROBE_LIMIT).is_ok() {
        return true;
    }
    fault_runtime::halt_all();
    let _ = returned.recv_timeout(LIMIT);
    false
}

/// What one round saw.
struct Round {
    /// From the end of the attack to the return of the delayed call; `None` if the call
    /// was not released within [`LIMIT`].
    released: Option<Duration>,
    /// Whether the delayed call returned before the ending call did: the end woke it, and
    /// it ran, while the ending call was still on its way out. Its figure is then 0.
    returned_first: bool,
    /// Calls that started after the end and were hit anyway: the attack's hits beyond the
    /// delayed call's, plus a probe that did not return.
    late_hits: u64,
}

/// Runs one round. `phase` is how long the file case waits, beyond [`SETTLE`], before it
/// writes the new version; see [`file_phase`].
fn round(
    ending: Ending,
    caller: &Caller,
    id: &str,
    file: Option<&AttackFile>,
    phase: Duration,
) -> Round {
    let mut guard: Option<AttackGuard> = None;
    let mut deadline = None;
    match (ending, file) {
        (Ending::FileRewritten, Some(file)) => {
            file.replace(&format!(
                "[[attack]]\nid = \"{id}\"\npoint = \"{}\"\nlatency = \"{}s\"\n",
                caller.point(),
                INJECTED.as_secs()
            ));
            wait_until("the watched file's attack runs", || {
                fault_runtime::attacks()
                    .iter()
                    .any(|attack| attack.id == id && attack.state == AttackState::Running)
            });
        }
        _ => {
            let duration = if ending == Ending::Expiry {
                EXPIRY
            } else {
                fault_runtime::DEFAULT_DURATION
            };
            let attack = Attack::builder(id, caller.point())
                .latency(INJECTED)
                .duration(duration)
                .build()
                .expect("the benchmark's attack is valid");
            let started = fault_runtime::start(attack).expect("the benchmark's attack starts");
            // The deadline is the attack's start plus its duration, taken inside the
            // registry. `status` reports the time left as of a clock read made after
            // `before`, so `before + time_left` is at most the deadline: the expiry figure
            // may be overstated by the time `status` takes, never understated.
            let before = Instant::now();
            deadline = Some(before + started.status().time_left);
            guard = Some(started);
        }
    }

    let returned = caller.call();
    wait_until("the delayed call is hit", || hits(id) >= 1);
    std::thread::sleep(SETTLE);

    let ended = match ending {
        Ending::HaltById => {
            fault_runtime::halt(id);
            Instant::now()
        }
        Ending::HaltAll => {
            fault_runtime::halt_all();
            Instant::now()
        }
        // Measured from the engaging call. The probe starts after the release, so it also
        // checks that releasing the switch does not bring the halted attack back.
        Ending::KillSwitch => {
            fault_runtime::set_kill_switch(true);
            let ended = Instant::now();
            fault_runtime::set_kill_switch(false);
            ended
        }
        Ending::GuardDropped => {
            drop(guard.take());
            Instant::now()
        }
        Ending::FileRewritten => {
            std::thread::sleep(phase);
            file.expect("the file case has a file")
                .replace("# no attacks\n")
        }
        Ending::Expiry => deadline.expect("the expiry case has a deadline"),
    };

    // Where the end is a call this thread made, the probe starts as soon as it returned.
    // A file's change and a deadline end the attack on another thread, at a moment this
    // thread does not see; the delayed call's return shows that it has happened.
    let probe_after_release = matches!(ending, Ending::FileRewritten | Ending::Expiry);
    let mut probe_held = !probe_after_release && !probe(caller);

    let (released, returned_first) = match returned.recv_timeout(LIMIT) {
        Ok(at) => (Some(at.saturating_duration_since(ended)), at < ended),
        Err(_) => {
            fault_runtime::halt_all();
            (None, false)
        }
    };
    if probe_after_release && released.is_some() {
        probe_held = !probe(caller);
    }
    let late_hits = hits(id).saturating_sub(1).max(u64::from(probe_held));
    drop(guard);
    Round {
        released,
        returned_first,
        late_hits,
    }
}

/// Where in the watch's poll interval the file case's new version lands.
///
/// A round learns that the file's attack runs within moments of the poll that applied it,
/// so without a wait every new version would be written at the same point of the interval
/// and the figure would be one value, not the spread a writer meets. Stepping the wait by
/// 7/20 of the interval each round covers the whole interval evenly.
fn file_phase(index: usize) -> Duration {
    let step = u32::try_from(index * 7 % 20).unwrap_or(0);
    POLL * step / 20
}

/// One line of the table.
struct Case {
    ending: Ending,
    caller: &'static str,
    released: Vec<Duration>,
    unreleased: usize,
    returned_first: usize,
    probes: usize,
    late_hits: u64,
}

fn run_case(ending: Ending, (caller_id, caller_label, caller): &Named, rounds: usize) -> Case {
    let watched = (ending == Ending::FileRewritten).then(|| {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let file = AttackFile {
            path: dir.path().join("attacks.toml"),
            staging: dir.path().join("attacks.toml.new"),
        };
        file.replace("# no attacks\n");
        let watch = fault_runtime::watch_file(&file.path, POLL).expect("the file is watched");
        // In this order, so that the watch stops before its directory is removed.
        (watch, file, dir)
    });
    let file = watched.as_ref().map(|(_, file, _)| file);

    let mut case = Case {
        ending,
        caller: caller_label,
        released: Vec::with_capacity(rounds),
        unreleased: 0,
        returned_first: 0,
        probes: 0,
        late_hits: 0,
    };
    for index in 0..=rounds {
        let id = format!("release-{}-{caller_id}-{index}", ending.id());
        let round = round(ending, caller, &id, file, file_phase(index));
        if index == 0 {
            continue;
        }
        match round.released {
            Some(released) => case.released.push(released),
            None => case.unreleased += 1,
        }
        case.returned_first += usize::from(round.returned_first);
        case.probes += 1;
        case.late_hits += round.late_hits;
    }
    drop(watched);
    case.released.sort_unstable();
    case
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

/// The value at quantile `q` of sorted samples, by nearest rank.
fn quantile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn print_table(cases: &[Case], rounds: usize) {
    println!(
        "\nrelease of a call held by a 60 s injected delay, measured from the end of its attack \
         to the call's return ({rounds} rounds a case; max is the p99 at this n)"
    );
    println!(
        "{:<28} {:<38} {:>8} {:>8} {:>7}  {:<14} calls after the end, hit",
        "how the attack ends", "caller", "p50 ms", "max ms", "first", "50 ms target"
    );
    for case in cases {
        let max = case.released.last().copied().unwrap_or_default();
        let met = case.unreleased == 0 && max <= TARGET;
        let verdict = match (met, case.unreleased) {
            (true, _) => "met".to_owned(),
            (false, 0) => "MISSED".to_owned(),
            (false, stuck) => format!("MISSED ({stuck} held)"),
        };
        println!(
            "{:<28} {:<38} {:>8.2} {:>8.2} {:>7}  {:<14} {} of {}",
            case.ending.label(),
            case.caller,
            ms(quantile(&case.released, 0.5)),
            ms(max),
            case.returned_first,
            verdict,
            case.late_hits,
            case.probes,
        );
    }
    let probes: usize = cases.iter().map(|case| case.probes).sum();
    let late: u64 = cases.iter().map(|case| case.late_hits).sum();
    println!("\ncalls that started after their attack ended: {probes}; hit: {late}");
    println!(
        "(*) from the rename of the new version; includes up to one poll interval ({} ms)",
        POLL.as_millis()
    );
    println!(
        "first: rounds whose call returned before the ending call did (woken from inside it; \
         counted as 0.00)"
    );
}

fn main() {
    // Read the environment's attacks now, as a service does at start-up.
    fault_runtime::init().expect("the environment holds no refused attack");
    assert!(
        fault_runtime::attacks().is_empty(),
        "run without FAULT_ATTACKS and FAULT_ATTACKS_FILE: other attacks would be halted"
    );
    // `cargo bench` passes `--bench`; `cargo test --benches` does not.
    let rounds = if std::env::args().any(|arg| arg == "--bench") {
        ROUNDS
    } else {
        TEST_ROUNDS
    };
    let started = Instant::now();

    let current = CurrentThread::new();
    let multi = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("a multi-thread runtime builds");
    let callers: [Named; 3] = [
        ("thread", "sync, a std thread", Caller::Thread),
        (
            "current",
            "async, tokio current-thread",
            Caller::Task(current.handle.clone()),
        ),
        (
            "multi",
            "async, tokio multi-thread (2 workers)",
            Caller::Task(multi.handle().clone()),
        ),
    ];

    let mut cases = Vec::new();
    for ending in Ending::ALL {
        for caller in &callers {
            cases.push(run_case(ending, caller, rounds));
        }
    }
    print_table(&cases, rounds);
    println!("run took {:.1} s", started.elapsed().as_secs_f64());

    drop(callers);
    current.shut_down();
    multi.shutdown_timeout(Duration::from_secs(1));
}
