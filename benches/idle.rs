//! What a fault point costs on the calls no attack hits, beside a plain function and beside
//! fail-rs, the peer.
//!
//! Every case calls a function with the same body (`common::price`), one case after the
//! other in one run, and the table printed at the end divides each case's time by the plain
//! function's from the same run:
//!
//! 1. `plain`: the function without the attribute, the baseline;
//! 2. `idle`: with `#[fault_point]`, the feature on, no attack anywhere;
//! 3. `attack_elsewhere`: the same, while an attack runs on another point;
//! 4. `armed_no_match`: an attack on this point whose facets do not match the call (one
//!    facet from the attribute, one from the request context); `armed_no_match_context`:
//!    the same where the attribute's facet matches and the context's does not;
//! 5. `sampled_out`: a matching attack that samples one call in a million, and `dry_run`: a
//!    matching dry-run attack, which counts a hit and changes nothing;
//! 6. `failrs_unconfigured` and `failrs_off`: a function with `fail::fail_point!`, first
//!    with nothing configured, then configured `off`; `failrs_elsewhere`: while another
//!    fail point is configured, the peer of case 3;
//! 7. the `threads` group: cases 1, 2 and 6 on one thread and on two threads at once, per
//!    call per thread.
//!
//! Run: `cargo bench --features enabled --bench idle -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;
use std::sync::Barrier;
use std::time::{Duration, Instant, SystemTime};

use criterion::Criterion;
use fault_runtime::{Attack, AttackGuard, Facets, fault_point};

mod common;

use common::{PriceError, Row, assert_untouched, call};

fault_runtime::context_facets!(country);

/// Attacks outlast any run of this benchmark.
const ATTACK_DURATION: Duration = Duration::from_secs(60 * 60);

#[inline(never)]
fn plain_price(customer: &str, cents: u64) -> Result<u64, PriceError> {
    common::price(customer, cents)
}

#[inline(never)]
#[fault_point(name = "bench.idle", facets(customer))]
fn point_price(customer: &str, cents: u64) -> Result<u64, PriceError> {
    common::price(customer, cents)
}

/// The point that case 3's attack aims at. It is never measured.
#[inline(never)]
#[fault_point(name = "bench.other", facets(customer))]
fn other_price(customer: &str, cents: u64) -> Result<u64, PriceError> {
    common::price(customer, cents)
}

#[inline(never)]
fn peer_price(customer: &str, cents: u64) -> Result<u64, PriceError> {
    fail::fail_point!("bench.peer", |_| Err(PriceError::Injected(
        "fail-rs".into()
    )));
    common::price(customer, cents)
}

/// Starts one attack for the duration of a case; the case drops the guard when it ends.
fn start(attack: fault_runtime::AttackBuilder) -> AttackGuard {
    let attack = attack
        .error("injected by the benchmark")
        .duration(ATTACK_DURATION)
        .build()
        .expect("the benchmark's attack is valid");
    fault_runtime::start(attack).expect("the benchmark's attack starts")
}

/// Cases 1 to 6, on this thread, inside a request context that carries `country = NL`.
fn one_thread(criterion: &mut Criterion) {
    let context = Facets::new().with("country", "NL");
    context.scope(|| {
        let mut group = criterion.benchmark_group("idle");
        let mut case = |id: &str, price: fn(&str, u64) -> Result<u64, PriceError>| {
            assert_untouched(price);
            group.bench_function(id, |b| b.iter(|| call(price)));
        };

        case("plain", plain_price);
        case("idle", point_price);
        case("failrs_unconfigured", peer_price);

        let elsewhere = start(Attack::builder("bench-elsewhere", "bench.other"));
        case("attack_elsewhere", point_price);
        drop(elsewhere);

        let no_match = start(
            Attack::builder("bench-no-match", "bench.idle")
                .facet("customer", "c-other")
                .facet("country", "NL"),
        );
        case("armed_no_match", point_price);
        drop(no_match);

        // The same miss, decided by the context's facet: the attribute's matches.
        let no_match_in_context = start(
            Attack::builder("bench-no-match-in-context", "bench.idle")
                .facet("customer", common::CUSTOMER)
                .facet("country", "DE"),
        );
        case("armed_no_match_context", point_price);
        drop(no_match_in_context);

        let sampled_out = start(
            Attack::builder("bench-sampled-out", "bench.idle")
                .facet("customer", common::CUSTOMER)
                .facet("country", "NL")
                .percent(0.0001),
        );
        case("sampled_out", point_price);
        drop(sampled_out);

        let dry_run = start(
            Attack::builder("bench-dry-run", "bench.idle")
                .facet("customer", common::CUSTOMER)
                .facet("country", "NL")
                .dry_run(true),
        );
        case("dry_run", point_price);
        let counted = dry_run.status();
        drop(dry_run);
        assert!(
            counted.hits > 0 && counted.hits == counted.matched,
            "the dry run counts every measured call as a hit: {counted:?}"
        );

        // fail-rs's registry is a map: once anything is configured, every fail point
        // hashes its name to look itself up. This is the peer of case 3.
        fail::cfg("bench.elsewhere", "off").expect("fail-rs takes `off`");
        case("failrs_elsewhere", peer_price);
        fail::remove("bench.elsewhere");

        fail::cfg("bench.peer", "off").expect("fail-rs takes `off`");
        case("failrs_off", peer_price);
        fail::remove("bench.peer");

        group.finish();
    });
}

/// Runs `iters` times `once` on each of `threads` threads at once, and returns the wall
/// time from the first thread's start to the last thread's end. Criterion divides it by
/// `iters`, so the figure is the time of one call as each thread sees it: equal to the
/// one-thread figure when the threads do not slow each other down.
///
/// The threads start together behind a barrier and each times its own loop, so spawning
/// them is not counted. The one-thread figures of this group go through the same harness,
/// so that the two are compared like for like.
fn wall_time_on_threads(threads: usize, iters: u64, once: impl Fn() + Sync) -> Duration {
    let barrier = Barrier::new(threads);
    let spans: Vec<(Instant, Instant)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    barrier.wait();
                    let start = Instant::now();
                    for _ in 0..iters {
                        once();
                    }
                    (start, Instant::now())
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|worker| worker.join().expect("a benchmark thread panicked"))
            .collect()
    });
    let first = spans.iter().map(|(start, _)| *start).min();
    let last = spans.iter().map(|(_, end)| *end).max();
    match (first, last) {
        (Some(first), Some(last)) => last - first,
        _ => Duration::ZERO,
    }
}

/// Case 7: cases 1, 2 and 6 on one thread, then on two threads at once.
fn two_threads(criterion: &mut Criterion) {
    let mut group = criterion.benchmark_group("threads");
    let mut case = |id: &str, threads: usize, price: fn(&str, u64) -> Result<u64, PriceError>| {
        assert_untouched(price);
        group.bench_function(id, |b| {
            b.iter_custom(|iters| wall_time_on_threads(threads, iters, || call(price)));
        });
    };

    case("plain_1", 1, plain_price);
    case("plain_2", 2, plain_price);
    case("idle_1", 1, point_price);
    case("idle_2", 2, point_price);
    case("failrs_unconfigured_1", 1, peer_price);
    case("failrs_unconfigured_2", 2, peer_price);
    fail::cfg("bench.peer", "off").expect("fail-rs takes `off`");
    case("failrs_off_1", 1, peer_price);
    case("failrs_off_2", 2, peer_price);
    fail::remove("bench.peer");

    group.finish();
}

const ROWS: &[Row] = &[
    Row {
        group: "idle",
        id: "plain",
        baseline: "plain",
        label: "1 plain function",
        net_of: None,
    },
    Row {
        group: "idle",
        id: "idle",
        baseline: "plain",
        label: "2 point, no attack anywhere",
        net_of: None,
    },
    Row {
        group: "idle",
        id: "attack_elsewhere",
        baseline: "plain",
        label: "3 point, an attack on another point",
        net_of: None,
    },
    Row {
        group: "idle",
        id: "armed_no_match",
        baseline: "plain",
        label: "4 point, its attack's facets do not match",
        net_of: None,
    },
    Row {
        group: "idle",
        id: "armed_no_match_context",
        baseline: "plain",
        label: "4b point, its attack's context facet does not match",
        net_of: None,
    },
    Row {
        group: "idle",
        id: "sampled_out",
        baseline: "plain",
        label: "5a point, matching attack sampled out",
        net_of: None,
    },
    Row {
        group: "idle",
        id: "dry_run",
        baseline: "plain",
        label: "5b point, matching dry-run attack",
        net_of: None,
    },
    Row {
        group: "idle",
        id: "failrs_unconfigured",
        baseline: "plain",
        label: "6a fail-rs, unconfigured",
        net_of: None,
    },
    Row {
        group: "idle",
        id: "failrs_off",
        baseline: "plain",
        label: "6b fail-rs, configured `off`",
        net_of: None,
    },
    Row {
        group: "idle",
        id: "failrs_elsewhere",
        baseline: "plain",
        label: "6c fail-rs, another fail point configured",
        net_of: None,
    },
    Row {
        group: "idle",
        id: "failrs_unconfigured",
        baseline: "idle",
        label: "6a fail-rs unconfigured / 2 idle point",
        net_of: None,
    },
    Row {
        group: "idle",
        id: "failrs_unconfigured",
        baseline: "idle",
        label: "6a / 2, what each adds to the plain call",
        net_of: Some("plain"),
    },
    Row {
        group: "idle",
        id: "failrs_unconfigured",
        baseline: "attack_elsewhere",
        label: "6a fail-rs unconfigured / 3 attack elsewhere",
        net_of: None,
    },
    Row {
        group: "idle",
        id: "failrs_unconfigured",
        baseline: "attack_elsewhere",
        label: "6a / 3, what each adds to the plain call",
        net_of: Some("plain"),
    },
    Row {
        group: "idle",
        id: "failrs_elsewhere",
        baseline: "attack_elsewhere",
        label: "6c fail-rs, other configured / 3 attack elsewhere",
        net_of: None,
    },
    Row {
        group: "idle",
        id: "failrs_elsewhere",
        baseline: "attack_elsewhere",
        label: "6c / 3, what each adds to the plain call",
        net_of: Some("plain"),
    },
    Row {
        group: "idle",
        id: "armed_no_match",
        baseline: "failrs_off",
        label: "4 armed, no match / 6b fail-rs `off`",
        net_of: None,
    },
    Row {
        group: "idle",
        id: "armed_no_match_context",
        baseline: "failrs_off",
        label: "4b armed, context no match / 6b fail-rs `off`",
        net_of: None,
    },
    Row {
        group: "threads",
        id: "plain_1",
        baseline: "plain_1",
        label: "7 plain, one thread",
        net_of: None,
    },
    Row {
        group: "threads",
        id: "plain_2",
        baseline: "plain_1",
        label: "7 plain, two threads / one",
        net_of: None,
    },
    Row {
        group: "threads",
        id: "idle_1",
        baseline: "plain_1",
        label: "7 idle point, one thread",
        net_of: None,
    },
    Row {
        group: "threads",
        id: "idle_2",
        baseline: "idle_1",
        label: "7 idle point, two threads / one",
        net_of: None,
    },
    Row {
        group: "threads",
        id: "failrs_unconfigured_1",
        baseline: "plain_1",
        label: "7 fail-rs unconfigured, one thread",
        net_of: None,
    },
    Row {
        group: "threads",
        id: "failrs_unconfigured_2",
        baseline: "failrs_unconfigured_1",
        label: "7 fail-rs unconfigured, two threads / one",
        net_of: None,
    },
    Row {
        group: "threads",
        id: "failrs_off_1",
        baseline: "plain_1",
        label: "7 fail-rs `off`, one thread",
        net_of: None,
    },
    Row {
        group: "threads",
        id: "failrs_off_2",
        baseline: "failrs_off_1",
        label: "7 fail-rs `off`, two threads / one",
        net_of: None,
    },
];

fn main() {
    let since = SystemTime::now();
    // Read the environment's attacks now, as a service does at start-up, rather than on the
    // first call of a point, which would then carry that one-off work.
    fault_runtime::init().expect("the environment holds no refused attack");
    // The point case 3 aims at is a real function of this binary; one call keeps it in.
    assert_untouched(black_box(other_price));

    let mut criterion = Criterion::default().configure_from_args();
    one_thread(&mut criterion);
    two_threads(&mut criterion);
    criterion.final_summary();

    common::print_ratios("fault points on calls no attack hits", ROWS, since);
}
