//! Injected latency: an async delay never blocks its executor's thread, and a delay ends
//! as soon as the attack that caused it ends.
//!
//! Each delay here is 60 s, far beyond the 10 s the tests wait, so a call can only return
//! in time if the attack's end released it. The 10 s are a correctness limit, not a speed
//! requirement.
#![cfg(feature = "enabled")]

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fault_runtime::{Attack, AttackState, fault_point};

mod support;

use support::start;

const INJECTED: Duration = Duration::from_secs(60);
const LIMIT: Duration = Duration::from_secs(10);

fn latency_attack(id: &str, point: &str) -> Attack {
    Attack::builder(id, point)
        .latency(INJECTED)
        .build()
        .unwrap()
}

/// The hits of the attack with this id, as `attacks()` reports them.
fn hits(id: &str) -> u64 {
    fault_runtime::attacks()
        .into_iter()
        .find(|a| a.id == id)
        .map_or(0, |a| a.hits)
}

/// Waits, on this thread, until the attack has hit a call, which it counts before the
/// call's delay begins.
fn wait_for_hit(id: &str) {
    let limit = Instant::now() + LIMIT;
    while hits(id) == 0 {
        assert!(Instant::now() < limit, "no call was hit within {LIMIT:?}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[fault_point(name = "delays.async")]
async fn fetch_quote(amount: u32) -> Result<u32, String> {
    Ok(amount * 2)
}

#[test]
fn an_async_delay_lets_other_tasks_of_a_current_thread_runtime_run() {
    let id = "delays-async";
    let _guard = start(latency_attack(id, "delays.async"));
    let (finished, outcome) = mpsc::channel();

    // The runtime runs on its own thread so that a delay that blocked it would make the
    // test fail at its limit instead of hanging.
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let events: Arc<Mutex<Vec<&'static str>>> = Arc::default();
        let result = runtime.block_on({
            let events = Arc::clone(&events);
            async move {
                let delayed = tokio::spawn({
                    let events = Arc::clone(&events);
                    async move {
                        let quote = fetch_quote(21).await;
                        events.lock().unwrap().push("delayed call returned");
                        quote
                    }
                });
                // The delayed task is polled while this one yields; its hit is counted
                // before it starts waiting.
                let mut yields = 0;
                while hits(id) == 0 {
                    assert!(yields < 1_000_000, "the delayed task never ran");
                    yields += 1;
                    tokio::task::yield_now().await;
                }
                events.lock().unwrap().push("other task ran");
                assert!(fault_runtime::halt(id));
                events.lock().unwrap().push("attack halted");
                delayed.await.unwrap()
            }
        });
        let events = events.lock().unwrap().clone();
        let _ = finished.send((result, events));
    });

    let (result, events) = outcome
        .recv_timeout(LIMIT)
        .expect("the async call was not released by the halt");
    assert_eq!(result, Ok(42));
    assert_eq!(
        events,
        ["other task ran", "attack halted", "delayed call returned"]
    );
}

#[fault_point(name = "delays.sync")]
fn fetch_rate(currency: &str) -> Result<u32, String> {
    Ok(currency.len() as u32)
}

#[test]
fn halting_releases_a_delayed_sync_call_on_another_thread() {
    let id = "delays-sync";
    let guard = start(latency_attack(id, "delays.sync"));
    let (finished, outcome) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = finished.send(fetch_rate("EUR"));
    });
    wait_for_hit(id);
    assert!(
        outcome.try_recv().is_err(),
        "the call returned before the halt"
    );
    assert!(guard.halt());
    let result = outcome
        .recv_timeout(LIMIT)
        .expect("the halt did not release the delayed call");
    assert_eq!(result, Ok(3));
}

#[fault_point(name = "delays.expiry")]
fn fetch_stock(sku: u32) -> u32 {
    sku
}

#[test]
fn a_delay_ends_when_its_attack_expires() {
    let id = "delays-expiry";
    let guard = start(
        Attack::builder(id, "delays.expiry")
            .latency(INJECTED)
            .duration(Duration::from_millis(200))
            .build()
            .unwrap(),
    );
    let (finished, outcome) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = finished.send(fetch_stock(5));
    });
    let result = outcome
        .recv_timeout(LIMIT)
        .expect("the expiry did not release the delayed call");
    assert_eq!(result, 5);
    assert_eq!(guard.status().state, AttackState::Expired);
}

#[fault_point(name = "delays.two")]
fn fetch_both(n: u32) -> u32 {
    n
}

#[test]
fn halting_one_of_two_delaying_attacks_keeps_the_others_share() {
    let first = start(latency_attack("delays-two-a", "delays.two"));
    let second = start(latency_attack("delays-two-b", "delays.two"));
    let (finished, outcome) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = finished.send(fetch_both(8));
    });
    wait_for_hit("delays-two-b");
    assert_eq!(first.status().hits, 1);

    assert!(first.halt());
    // The other attack's 60 s still hold the call.
    assert!(
        outcome.recv_timeout(Duration::from_millis(200)).is_err(),
        "the call returned while an attack that delays it still runs"
    );
    assert!(second.halt());
    let result = outcome
        .recv_timeout(LIMIT)
        .expect("halting both attacks did not release the call");
    assert_eq!(result, 8);
}
