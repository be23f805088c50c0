//! Lifecycle: attacks end by `max_impacts`, by their deadline, by `halt` and by their guard,
//! and calls are untouched once they have ended.
#![cfg(feature = "enabled")]

use std::time::{Duration, Instant};

use fault_runtime::{Attack, AttackGuard, AttackState, AttackStatus, fault_point};

mod support;

use support::start;

fn error_attack(id: &str, point: &str) -> Attack {
    Attack::builder(id, point).error("drill").build().unwrap()
}

/// The newest status `attacks()` reports for this id.
fn listed(id: &str) -> AttackStatus {
    fault_runtime::attacks()
        .into_iter()
        .find(|a| a.id == id)
        .unwrap_or_else(|| panic!("attack {id} is listed"))
}

#[fault_point(name = "lifecycle.max_impacts")]
fn limited(n: u32) -> Result<u32, String> {
    Ok(n)
}

#[test]
fn max_impacts_hits_exactly_that_many_calls_then_the_attack_is_exhausted() {
    let guard = start(
        Attack::builder("lifecycle-max-impacts", "lifecycle.max_impacts")
            .error("limited")
            .max_impacts(5)
            .build()
            .unwrap(),
    );
    let outcomes: Vec<bool> = (0..20).map(|n| limited(n).is_err()).collect();
    assert_eq!(outcomes.iter().filter(|&&hit| hit).count(), 5);
    assert!(outcomes[..5].iter().all(|&hit| hit), "{outcomes:?}");

    let status = guard.status();
    assert_eq!(status.state, AttackState::Exhausted);
    assert_eq!(status.hits, 5);
    assert_eq!(status.time_left, Duration::ZERO);
    assert_eq!(
        listed("lifecycle-max-impacts").state,
        AttackState::Exhausted
    );
    // An ended attack cannot be halted again.
    assert!(!fault_runtime::halt("lifecycle-max-impacts"));
    assert!(!guard.halt());
}

#[fault_point(name = "lifecycle.expiry")]
fn expiring() -> Result<(), String> {
    Ok(())
}

#[test]
fn an_attack_expires_at_its_deadline() {
    let duration = Duration::from_millis(200);
    let before_start = Instant::now();
    let guard = start(
        Attack::builder("lifecycle-expiry", "lifecycle.expiry")
            .error("expiring")
            .duration(duration)
            .build()
            .unwrap(),
    );
    let first = expiring();
    // Only when the call surely ran before the deadline must it have been hit.
    if before_start.elapsed() < duration {
        assert!(first.is_err());
        let status = guard.status();
        assert_eq!(status.state, AttackState::Running);
        assert!(status.time_left > Duration::ZERO && status.time_left <= duration);
    }

    let limit = Instant::now() + Duration::from_secs(10);
    while listed("lifecycle-expiry").state != AttackState::Expired {
        assert!(Instant::now() < limit, "the attack did not expire in 10 s");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(before_start.elapsed() >= duration);
    assert_eq!(guard.status().state, AttackState::Expired);
    assert_eq!(guard.status().time_left, Duration::ZERO);
    for _ in 0..10 {
        assert!(expiring().is_ok());
    }
    assert!(!fault_runtime::halt("lifecycle-expiry"));
}

#[fault_point(name = "lifecycle.halt_by_id")]
fn halted_by_id() -> Result<(), String> {
    Ok(())
}

#[test]
fn halt_by_id_ends_the_attack_once() {
    let guard = start(error_attack("lifecycle-halt-id", "lifecycle.halt_by_id"));
    assert!(halted_by_id().is_err());
    assert!(fault_runtime::halt("lifecycle-halt-id"));
    assert!(!fault_runtime::halt("lifecycle-halt-id"));
    assert!(halted_by_id().is_ok());
    assert_eq!(guard.status().state, AttackState::Halted);
    assert_eq!(listed("lifecycle-halt-id").state, AttackState::Halted);
    assert!(!guard.halt());
}

#[fault_point(name = "lifecycle.guard_halt")]
fn halted_by_guard() -> Result<(), String> {
    Ok(())
}

#[test]
fn guard_halt_ends_the_attack() {
    let guard = start(error_attack("lifecycle-guard-halt", "lifecycle.guard_halt"));
    assert_eq!(guard.id(), "lifecycle-guard-halt");
    assert!(halted_by_guard().is_err());
    assert!(guard.halt());
    assert!(halted_by_guard().is_ok());
    assert!(!fault_runtime::halt("lifecycle-guard-halt"));
}

#[fault_point(name = "lifecycle.guard_drop")]
fn dropped() -> Result<(), String> {
    Ok(())
}

#[test]
fn dropping_the_guard_halts_the_attack() {
    let guard = start(error_attack("lifecycle-guard-drop", "lifecycle.guard_drop"));
    assert!(dropped().is_err());
    drop(guard);
    for _ in 0..10 {
        assert!(dropped().is_ok());
    }
    assert_eq!(listed("lifecycle-guard-drop").state, AttackState::Halted);
    assert!(!fault_runtime::halt("lifecycle-guard-drop"));
    let point = fault_runtime::catalog()
        .into_iter()
        .find(|p| p.name == "lifecycle.guard_drop")
        .unwrap();
    assert_eq!(point.attacks, 0);
}

#[fault_point(name = "lifecycle.detach")]
fn detached() -> Result<(), String> {
    Ok(())
}

#[test]
fn a_detached_attack_keeps_running_until_halted() {
    start(error_attack("lifecycle-detach", "lifecycle.detach")).detach();
    for _ in 0..10 {
        assert!(detached().is_err());
    }
    let status = listed("lifecycle-detach");
    assert_eq!(status.state, AttackState::Running);
    assert_eq!(status.hits, 10);
    assert!(fault_runtime::halt("lifecycle-detach"));
    assert!(detached().is_ok());
}

#[fault_point(name = "lifecycle.reused_id")]
fn reused() -> Result<(), String> {
    Ok(())
}

#[test]
fn an_old_guard_does_not_halt_a_new_attack_that_reuses_its_id() {
    let id = "lifecycle-reused-id";
    let old = start(error_attack(id, "lifecycle.reused_id"));
    assert!(fault_runtime::halt(id));
    let new = start(error_attack(id, "lifecycle.reused_id"));
    drop(old);
    assert!(reused().is_err());
    assert_eq!(new.status().state, AttackState::Running);
    assert!(new.halt());
    assert!(reused().is_ok());
}

#[fault_point(name = "lifecycle.ended_then_halted")]
fn ended_then_halted() -> Result<(), String> {
    Ok(())
}

#[test]
fn halting_an_attack_that_already_ended_reports_false_and_keeps_its_end() {
    // Each round ends an attack by `max_impacts` and halts it at once, before or after
    // the runtime's own clean-up has seen it; either way it was no longer running.
    for round in 0..50 {
        let id = format!("lifecycle-ended-{round}");
        let guard = start(
            Attack::builder(&id, "lifecycle.ended_then_halted")
                .error("once")
                .max_impacts(1)
                .build()
                .unwrap(),
        );
        assert!(ended_then_halted().is_err());
        assert!(
            !fault_runtime::halt(&id),
            "round {round}: halt said it was running"
        );
        assert_eq!(listed(&id).state, AttackState::Exhausted, "round {round}");
        assert!(!guard.halt());
        assert!(ended_then_halted().is_ok());
    }
}

#[fault_point(name = "lifecycle.max_impacts_threads")]
fn limited_across_threads() -> Result<(), String> {
    Ok(())
}

#[test]
fn max_impacts_is_exact_when_many_threads_call_at_once() {
    let guard = start(
        Attack::builder("lifecycle-max-threads", "lifecycle.max_impacts_threads")
            .error("limited")
            .max_impacts(100)
            .build()
            .unwrap(),
    );
    let workers: Vec<_> = (0..8)
        .map(|_| {
            std::thread::spawn(|| {
                (0..500)
                    .filter(|_| limited_across_threads().is_err())
                    .count()
            })
        })
        .collect();
    let hit: usize = workers.into_iter().map(|w| w.join().unwrap()).sum();
    assert_eq!(hit, 100);
    let status = guard.status();
    assert_eq!(status.hits, 100);
    assert_eq!(status.state, AttackState::Exhausted);
}

#[fault_point(name = "lifecycle.order")]
fn ordered() -> Result<(), String> {
    Ok(())
}

#[test]
fn attacks_lists_running_ones_in_start_order_then_ended_ones_newest_first() {
    let ids = [
        "lifecycle-order-1",
        "lifecycle-order-2",
        "lifecycle-order-3",
    ];
    let guards: Vec<AttackGuard> = ids
        .iter()
        .map(|id| start(error_attack(id, "lifecycle.order")))
        .collect();
    let position = |id: &str| {
        fault_runtime::attacks()
            .iter()
            .position(|a| a.id == id)
            .unwrap()
    };
    assert!(position(ids[0]) < position(ids[1]));
    assert!(position(ids[1]) < position(ids[2]));

    let mut guards = guards.into_iter();
    let first = guards.next().unwrap();
    let rest: Vec<AttackGuard> = guards.collect();
    assert!(first.halt());
    drop(rest);
    assert!(ordered().is_ok());

    let statuses = fault_runtime::attacks();
    let ended: Vec<&str> = statuses
        .iter()
        .filter(|a| ids.contains(&a.id.as_str()))
        .map(|a| a.id.as_str())
        .collect();
    // The first was halted first, so it is the oldest of the ended ones.
    assert_eq!(ended.last(), Some(&ids[0]));
    assert!(
        statuses
            .iter()
            .filter(|a| ids.contains(&a.id.as_str()))
            .all(|a| a.state == AttackState::Halted)
    );
}
