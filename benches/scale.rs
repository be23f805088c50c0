//! Fault points at scale: 10,000 points in one binary, 1,000 attacks running.
//!
//! Three things are shown, in this order:
//!
//! 1. Memory (printed first, before criterion runs): the static bytes each point adds, and
//!    the heap bytes each running attack holds, counted by this binary's allocator.
//! 2. Criterion, one group measured side by side: a plain function, an idle point and an
//!    armed point (one attack aimed at it, whose facets do not match), first with no other
//!    attack, then while 1,000 attacks run on 1,000 other points. An idle point costs what
//!    it costs in `idle.rs`, and an armed point's cost depends on the attacks aimed at it,
//!    not on how many run elsewhere.
//! 3. Reconfiguration under load (printed last): two threads call armed points while this
//!    thread starts and halts 1,000 attacks over and over. It prints how long starting and
//!    halting 1,000 attacks take, and the callers' per-call latency with and without it.
//!
//! The points are named by their module path: `scale::points::d1::d2::d3::d4::price` is
//! point 1234. (A point's `name = "..."` must be a literal, which `macro_rules!` cannot
//! assemble from digits; the default name can.)
//!
//! Run: `cargo bench --features enabled --bench scale -- --warm-up-time 1 --measurement-time 3`

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use criterion::Criterion;
use fault_runtime::{Attack, AttackGuard, AttackSet, Facets};

mod common;

use common::{PriceError, Row, assert_untouched, call};

fault_runtime::context_facets!(country);

/// Counts the heap bytes live in this process, so that the bytes an attack holds can be
/// read off before and after starting 1,000 of them.
struct CountingAllocator;

static LIVE_BYTES: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every method forwards to the system allocator with the caller's own arguments;
// the counter is only arithmetic on the sizes.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which `System` shares.
        let block = unsafe { System.alloc(layout) };
        if !block.is_null() {
            LIVE_BYTES.fetch_add(size_as_isize(layout.size()), Ordering::Relaxed);
        }
        block
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let block = unsafe { System.alloc_zeroed(layout) };
        if !block.is_null() {
            LIVE_BYTES.fetch_add(size_as_isize(layout.size()), Ordering::Relaxed);
        }
        block
    }

    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        // SAFETY: `block` came from this allocator, that is from `System`, with `layout`.
        unsafe { System.dealloc(block, layout) };
        LIVE_BYTES.fetch_sub(size_as_isize(layout.size()), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for `dealloc`, and `new_size` is the caller's, valid for `System`.
        let moved = unsafe { System.realloc(block, layout, new_size) };
        if !moved.is_null() {
            LIVE_BYTES.fetch_add(
                size_as_isize(new_size) - size_as_isize(layout.size()),
                Ordering::Relaxed,
            );
        }
        moved
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

fn size_as_isize(size: usize) -> isize {
    // An allocation never exceeds `isize::MAX` bytes.
    isize::try_from(size).unwrap_or(isize::MAX)
}

fn live_bytes() -> isize {
    LIVE_BYTES.load(Ordering::Relaxed)
}

/// One fault point, with the workload every benchmark runs.
macro_rules! point {
    () => {
        #[inline(never)]
        #[::fault_runtime::fault_point(facets(customer))]
        pub fn price(customer: &str, cents: u64) -> Result<u64, crate::common::PriceError> {
            crate::common::price(customer, cents)
        }

        pub fn each(visit: &mut dyn FnMut(crate::Price)) {
            visit(price);
        }
    };
}

/// Ten modules `d0` to `d9`, each holding what `$inner!()` expands to, and `each`, which
/// hands every point below to `visit`: it keeps the 10,000 functions in the binary, as
/// real points that are called would be.
macro_rules! ten {
    ($inner:ident) => {
        ten!(@modules $inner; d0 d1 d2 d3 d4 d5 d6 d7 d8 d9);
    };
    (@modules $inner:ident; $($digit:ident)*) => {
        $(
            pub mod $digit {
                $inner!();
            }
        )*

        pub fn each(visit: &mut dyn FnMut(crate::Price)) {
            $($digit::each(visit);)*
        }
    };
}

macro_rules! ten_points {
    () => {
        ten!(point);
    };
}

macro_rules! hundred_points {
    () => {
        ten!(ten_points);
    };
}

macro_rules! thousand_points {
    () => {
        ten!(hundred_points);
    };
}

/// 10,000 points, `points::d0::d0::d0::d0::price` to `points::d9::d9::d9::d9::price`.
mod points {
    ten!(thousand_points);
}

type Price = fn(&str, u64) -> Result<u64, PriceError>;

/// The point measured idle: no attack ever aims at it.
const IDLE: Price = points::d9::d9::d9::d9::price;
/// The point measured armed, and its name: one attack aims at it, whose facets never match.
const ARMED: (&str, Price) = (
    "scale::points::d0::d0::d0::d0::price",
    points::d0::d0::d0::d0::price,
);
/// The points the callers of the reconfiguration test call, armed like `ARMED`.
const CALLERS: [(&str, Price); 2] = [
    (
        "scale::points::d0::d0::d0::d1::price",
        points::d0::d0::d0::d1::price,
    ),
    (
        "scale::points::d0::d0::d0::d2::price",
        points::d0::d0::d0::d2::price,
    ),
];

const POINTS_PREFIX: &str = "scale::points::";

#[inline(never)]
fn plain_price(customer: &str, cents: u64) -> Result<u64, PriceError> {
    common::price(customer, cents)
}

/// Attacks outlast any run of this benchmark.
const ATTACK_DURATION: Duration = Duration::from_secs(60 * 60);

/// An attack on `point` whose facets no measured call matches: the customer differs.
fn missing_attack(id: &str, point: &str) -> Attack {
    Attack::builder(id, point)
        .facet("customer", "c-other")
        .facet("country", "NL")
        .error("injected by the benchmark")
        .duration(ATTACK_DURATION)
        .build()
        .expect("the benchmark's attack is valid")
}

/// The names of the 1,000 points `d{first}::*::*::*`.
fn thousand_names(first: u8) -> Vec<&'static str> {
    let prefix = format!("{POINTS_PREFIX}d{first}::");
    let names: Vec<&'static str> = fault_runtime::catalog()
        .into_iter()
        .map(|point| point.name)
        .filter(|name| name.starts_with(&prefix))
        .collect();
    assert_eq!(
        names.len(),
        1_000,
        "the catalog holds 1,000 points under {prefix}"
    );
    names
}

/// 1,000 attacks, one on each point named, none matching a measured call.
fn thousand_attacks(tag: &str, names: &[&str]) -> AttackSet {
    AttackSet::from_attacks(
        names
            .iter()
            .enumerate()
            .map(|(index, name)| missing_attack(&format!("{tag}-{index}"), name)),
    )
    .expect("the benchmark's attacks have distinct ids")
}

fn start_all(set: AttackSet) -> Vec<AttackGuard> {
    fault_runtime::start_set(set).expect("the benchmark's attacks start")
}

// ---------------------------------------------------------------------------------------
// 1. Memory

fn print_memory() {
    let catalog = fault_runtime::catalog();
    let ours: Vec<_> = catalog
        .iter()
        .filter(|point| point.name.starts_with(POINTS_PREFIX))
        .collect();
    let count = ours.len();
    let point = std::mem::size_of::<fault_runtime::__private::Point>();
    let entry = std::mem::size_of::<&fault_runtime::__private::Point>();
    // Texts merged by the compiler or the linker are counted once: by address.
    let distinct = |text: fn(&&fault_runtime::PointInfo) -> &'static str| {
        let mut seen: Vec<(usize, usize)> = ours
            .iter()
            .map(|point| {
                let text = text(point);
                (text.as_ptr() as usize, text.len())
            })
            .collect();
        seen.sort_unstable();
        seen.dedup();
        seen.iter().map(|(_, len)| len).sum::<usize>()
    };
    let names = distinct(|point| point.name);
    let modules = distinct(|point| point.module_path);
    let files = distinct(|point| point.file);
    let keys: usize = ours
        .iter()
        .map(|point| point.facet_keys.len() * std::mem::size_of::<&str>())
        .sum();
    let per_point = |bytes: usize| bytes as f64 / count as f64;
    println!("\nstatic bytes per point ({count} points)");
    println!("  Point static (site, armed flag, hit counter, attack list): {point}");
    println!("  catalog entry (a reference in the linker's section):       {entry}");
    println!(
        "  name text:                                                {:.1}",
        per_point(names)
    );
    println!(
        "  module path text (one per module; here one point each):   {:.1}",
        per_point(modules)
    );
    println!(
        "  file text (one per file):                                 {:.3}",
        per_point(files)
    );
    println!(
        "  facet key slice (`&[\"customer\"]`, at most):                {:.1}",
        per_point(keys)
    );
    println!(
        "  total data:                                               {:.1}",
        per_point(count * (point + entry) + names + modules + files + keys)
    );
    println!("  (code: see BENCHMARKS.md, measured with `nm` on this binary)");

    // The first start also starts the reaper thread and fills the registry's one-off
    // tables; do it before counting.
    drop(start_all(thousand_attacks("warm", &thousand_names(5))));

    let names = thousand_names(1);
    // Counted from before the attacks are built: what they are made of (ids, point names,
    // facet rules) moves into the registry and lives as long as they run.
    let before = live_bytes();
    let guards = start_all(thousand_attacks("memory", &names));
    let after = live_bytes();
    let guard_bytes = guards.capacity() * std::mem::size_of::<AttackGuard>();
    let held = after - before - size_as_isize(guard_bytes);
    println!("\nheap bytes per running attack (1,000 attacks, one point each)");
    println!(
        "  registry (running attack, per-point list, bookkeeping):   {:.0}",
        held as f64 / 1_000.0
    );
    println!(
        "  the caller's guard (`AttackGuard`, in the caller's Vec):   {}",
        std::mem::size_of::<AttackGuard>()
    );
    drop(guards);
}

// ---------------------------------------------------------------------------------------
// 2. Criterion

fn measure(criterion: &mut Criterion) {
    let context = Facets::new().with("country", "NL");
    context.scope(|| {
        let mut group = criterion.benchmark_group("scale");
        let mut case = |id: &str, price: Price| {
            assert_untouched(price);
            group.bench_function(id, |b| b.iter(|| call(price)));
        };

        let armed = fault_runtime::start(missing_attack("armed", ARMED.0))
            .expect("the armed point's attack starts");
        case("plain", plain_price);
        case("idle", IDLE);
        case("armed", ARMED.1);

        let others = start_all(thousand_attacks("other", &thousand_names(1)));
        case("plain_among_1000", plain_price);
        case("idle_among_1000", IDLE);
        case("armed_among_1000", ARMED.1);
        drop(others);
        drop(armed);

        group.finish();
    });
}

const ROWS: &[Row] = &[
    Row {
        group: "scale",
        id: "plain",
        baseline: "plain",
        label: "plain function",
        net_of: None,
    },
    Row {
        group: "scale",
        id: "idle",
        baseline: "plain",
        label: "idle point, 1 attack elsewhere",
        net_of: None,
    },
    Row {
        group: "scale",
        id: "armed",
        baseline: "plain",
        label: "armed point (1 attack, no match), 0 others",
        net_of: None,
    },
    Row {
        group: "scale",
        id: "plain_among_1000",
        baseline: "plain",
        label: "plain function, 1,000 attacks running",
        net_of: None,
    },
    Row {
        group: "scale",
        id: "idle_among_1000",
        baseline: "plain_among_1000",
        label: "idle point, 1,000 attacks elsewhere",
        net_of: None,
    },
    Row {
        group: "scale",
        id: "armed_among_1000",
        baseline: "plain_among_1000",
        label: "armed point, 1,000 other attacks",
        net_of: None,
    },
    Row {
        group: "scale",
        id: "idle_among_1000",
        baseline: "idle",
        label: "idle point: 1,000 attacks / 1",
        net_of: None,
    },
    Row {
        group: "scale",
        id: "armed_among_1000",
        baseline: "armed",
        label: "armed point: 1,000 other attacks / 0",
        net_of: None,
    },
];

// ---------------------------------------------------------------------------------------
// 3. Reconfiguration under load

/// Calls each caller makes per phase: bounded, so a phase ends even on a loaded machine.
const CALLS_PER_PHASE: usize = 3_000_000;

/// Swaps timed with no caller running.
const SWAPS_ALONE: usize = 50;

/// Nanoseconds at the given quantile of sorted samples.
fn quantile(sorted: &[u32], q: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    let at = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[at.min(sorted.len() - 1)]
}

fn print_latencies(label: &str, mut samples: Vec<u32>, clock: u32) {
    samples.sort_unstable();
    println!(
        "  {label:<44} p50 {:>6} ns  p99 {:>6} ns  p99.9 {:>7} ns  max {:>9} ns  ({} calls; \
         clock reads {clock} ns)",
        quantile(&samples, 0.5),
        quantile(&samples, 0.99),
        quantile(&samples, 0.999),
        samples.last().copied().unwrap_or(0),
        samples.len(),
    );
}

/// What this thread does while the callers run: `Swap` starts and halts `set`'s attacks;
/// `Build` only builds the same set and drops it, to load the CPU the same way without
/// touching the registry.
#[derive(Clone, Copy, PartialEq)]
enum Meanwhile {
    Build,
    Swap,
}

/// Runs the two callers for one phase while this thread does `meanwhile` over and over;
/// returns each caller's per-call latencies and the (start, halt) times of each swap.
fn phase(names: &[&'static str], meanwhile: Meanwhile) -> (Vec<u32>, Vec<(Duration, Duration)>) {
    let running = AtomicBool::new(true);
    let mut swaps = Vec::new();
    let latencies = std::thread::scope(|scope| {
        let callers: Vec<_> = CALLERS
            .iter()
            .map(|&(_, price)| {
                let running = &running;
                scope.spawn(move || {
                    let context = Facets::new().with("country", "NL");
                    let _in_context = context.enter();
                    let mut samples = Vec::with_capacity(CALLS_PER_PHASE);
                    for _ in 0..CALLS_PER_PHASE {
                        let start = Instant::now();
                        call(price);
                        let took = start.elapsed().as_nanos();
                        samples.push(u32::try_from(took).unwrap_or(u32::MAX));
                    }
                    running.store(false, Ordering::Relaxed);
                    samples
                })
            })
            .collect();
        let mut round = 0_u64;
        while running.load(Ordering::Relaxed) {
            round += 1;
            let set = thousand_attacks(&format!("swap-{round}"), names);
            match meanwhile {
                Meanwhile::Build => drop(black_box(set)),
                Meanwhile::Swap => {
                    let started = Instant::now();
                    let guards = start_all(set);
                    let start_took = started.elapsed();
                    let halting = Instant::now();
                    drop(guards);
                    swaps.push((start_took, halting.elapsed()));
                }
            }
        }
        callers
            .into_iter()
            .flat_map(|caller| caller.join().expect("a caller panicked"))
            .collect()
    });
    (latencies, swaps)
}

/// Starts and halts 1,000 attacks on `names` a few times with nothing else running.
fn swaps_alone(names: &[&'static str]) -> Vec<(Duration, Duration)> {
    (0..SWAPS_ALONE)
        .map(|round| {
            let set = thousand_attacks(&format!("alone-{round}"), names);
            let started = Instant::now();
            let guards = start_all(set);
            let start_took = started.elapsed();
            let halting = Instant::now();
            drop(guards);
            (start_took, halting.elapsed())
        })
        .collect()
}

fn print_swaps(label: &str, swaps: &[(Duration, Duration)]) {
    let mut starts: Vec<Duration> = swaps.iter().map(|(start, _)| *start).collect();
    let mut halts: Vec<Duration> = swaps.iter().map(|(_, halt)| *halt).collect();
    starts.sort_unstable();
    halts.sort_unstable();
    let median = |sorted: &[Duration]| sorted.get(sorted.len() / 2).copied().unwrap_or_default();
    let max = |sorted: &[Duration]| sorted.last().copied().unwrap_or_default();
    println!(
        "  {label}: {} swaps; start 1,000: median {:.3} ms, max {:.3} ms; halt 1,000 (drop the \
         guards): median {:.3} ms, max {:.3} ms",
        swaps.len(),
        median(&starts).as_secs_f64() * 1e3,
        max(&starts).as_secs_f64() * 1e3,
        median(&halts).as_secs_f64() * 1e3,
        max(&halts).as_secs_f64() * 1e3,
    );
}

/// The cost of the two clock reads around each timed call, measured the same way.
fn clock_overhead() -> u32 {
    let mut samples: Vec<u32> = (0..100_000)
        .map(|_| {
            let start = Instant::now();
            let took = black_box(start).elapsed().as_nanos();
            u32::try_from(took).unwrap_or(u32::MAX)
        })
        .collect();
    samples.sort_unstable();
    quantile(&samples, 0.5)
}

fn print_reconfiguration() {
    let callers: Vec<AttackGuard> = CALLERS
        .iter()
        .enumerate()
        .map(|(index, (name, _))| {
            fault_runtime::start(missing_attack(&format!("caller-{index}"), name))
                .expect("a caller's attack starts")
        })
        .collect();
    let clock = clock_overhead();
    let others = thousand_names(2);
    let mut with_callers: Vec<&'static str> = others.iter().copied().take(998).collect();
    with_callers.extend(CALLERS.map(|(name, _)| name));

    println!("\nreconfiguration: starting and halting 1,000 attacks");
    print_swaps("no caller running", &swaps_alone(&others));

    println!(
        "\nreconfiguration under load: 2 threads call armed points (1 attack, no match) \
         {CALLS_PER_PHASE} times each per phase, timing each call"
    );
    let (quiet, _) = phase(&others, Meanwhile::Build);
    let (swapping, swaps) = phase(&others, Meanwhile::Swap);
    let (swapping_own, own_swaps) = phase(&with_callers, Meanwhile::Swap);
    print_latencies("no swaps (this thread builds attack sets)", quiet, clock);
    print_latencies("swapping 1,000 attacks on other points", swapping, clock);
    print_latencies(
        "swapping 1,000 attacks incl. the callers'",
        swapping_own,
        clock,
    );
    print_swaps("other points", &swaps);
    print_swaps("incl. the callers' points", &own_swaps);
    drop(callers);
}

fn main() {
    let since = SystemTime::now();
    // Read the environment's attacks now, as a service does at start-up, rather than on the
    // first call of a point, which would then carry that one-off work.
    fault_runtime::init().expect("the environment holds no refused attack");
    let mut count = 0;
    points::each(&mut |price| {
        assert_untouched(price);
        count += 1;
    });
    assert_eq!(count, 10_000, "every generated point is called once");

    // Listing the benchmarks, or profiling one (criterion's `--profile-time`, as under
    // callgrind), skips the sections criterion does not run.
    let extras = !std::env::args().any(|arg| arg == "--list" || arg == "--profile-time");
    if extras {
        print_memory();
    }

    let mut criterion = Criterion::default().configure_from_args();
    measure(&mut criterion);
    criterion.final_summary();
    common::print_ratios("10,000 points, 1,000 attacks", ROWS, since);

    if extras {
        print_reconfiguration();
    }
}
