//! A burst of admin requests while calls go through the points those requests arm and
//! disarm: every request gets the answer its writer expects, the attacks left running are
//! exactly those the last requests imply, no call is left waiting, and the points go back
//! to idle once every attack is halted.
//!
//! Bounded: 200 changes, 40 reads, and calls that go on while the changes do, up to a cap
//! on their number; the hang guard is only a guard.
#![cfg(feature = "admin")]

mod support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use fault_runtime::admin::{self, AdminConfig};
use fault_runtime::{AttackSet, AttackState, Fault, Format, fault_point};
use hyper::StatusCode;
use serde_json::{Value, json};
use support::admin::{AdminClient, TOKEN, run};

fault_runtime::context_facets!(customer);

#[fault_point(name = "burst.pay", facets(customer))]
fn pay(customer: &str) -> Result<usize, Fault> {
    Ok(customer.len())
}

#[fault_point(name = "burst.ship")]
fn ship() -> Option<u8> {
    Some(1)
}

#[fault_point(name = "burst.wait")]
async fn wait() -> Result<(), Fault> {
    Ok(())
}

const WRITERS: usize = 4;
const CHANGES_PER_WRITER: usize = 50;
const IDS_PER_WRITER: usize = 3;
const SYNC_CALLERS: usize = 3;
/// The most calls one synchronous caller makes; it stops earlier once the writers are done.
const MAX_SYNC_CALLS: usize = 1_000_000;
/// The most calls the asynchronous caller makes (each may wait 2 ms).
const MAX_ASYNC_CALLS: usize = 2_000;

/// The definitions writers switch their attacks between: an error for one customer, a
/// short latency on the async point, a dry run on every point.
fn definition(choice: u64, writer: usize) -> Value {
    match choice % 3 {
        0 => json!({"point": "burst.pay", "facets": {"customer": format!("c-{writer}")},
                    "error": "declined", "duration": "10m"}),
        1 => json!({"point": "burst.wait", "latency": "2ms", "percent": 50,
                    "duration": "10m"}),
        _ => json!({"point": "burst.*", "error": "would fail", "dry_run": true,
                    "duration": "10m"}),
    }
}

/// A small deterministic generator, so that a failing run can be replayed.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Makes [`CHANGES_PER_WRITER`] changes to the writer's own attacks, checking each answer
/// against what its model of them predicts; returns the model: id to definition.
async fn write(client: AdminClient, writer: usize) -> BTreeMap<String, Value> {
    let mut random = XorShift(0x9e37_79b9_7f4a_7c15 ^ (writer as u64 + 1));
    let mut model: BTreeMap<String, Value> = BTreeMap::new();
    for _ in 0..CHANGES_PER_WRITER {
        let id = format!("burst-{writer}-{}", random.next() % IDS_PER_WRITER as u64);
        let path = format!("/attacks/{id}");
        if random.next() % 4 == 0 {
            let answer = client.delete(&path).await;
            match model.remove(&id) {
                Some(_) => {
                    assert_eq!(answer.status, StatusCode::OK, "DELETE {id}: {answer:?}");
                    assert_eq!(answer.body, json!({"halted": 1}));
                }
                None => assert_eq!(answer.status, StatusCode::NOT_FOUND, "DELETE {id}"),
            }
            continue;
        }
        let wanted = definition(random.next(), writer);
        let answer = client.put(&path, &wanted.to_string()).await;
        let (status, outcome) = match model.insert(id.clone(), wanted.clone()) {
            None => (StatusCode::CREATED, "started"),
            Some(before) if before == wanted => (StatusCode::OK, "unchanged"),
            Some(_) => (StatusCode::OK, "replaced"),
        };
        assert_eq!(answer.status, status, "PUT {id} {wanted}: {answer:?}");
        assert_eq!(answer.body["applied"][outcome], json!([id]), "{answer:?}");
    }
    model
}

/// Calls the points until the writers are done, checking that an injected fault comes
/// from a burst attack; returns how many calls it made and how many faults it met.
async fn call_sync_points(caller: usize, writing: Arc<AtomicBool>) -> (usize, usize) {
    let mut faults = 0;
    let mut calls = 0;
    while calls < MAX_SYNC_CALLS && writing.load(Ordering::Relaxed) {
        let call = calls;
        calls += 1;
        match pay(&format!("c-{}", (call + caller) % WRITERS)) {
            Ok(_) => {}
            Err(fault) => {
                assert!(fault.attack_id().starts_with("burst-"), "{fault}");
                assert_eq!(fault.message(), "declined");
                faults += 1;
            }
        }
        // Only dry runs and latency aim at it: it always answers.
        assert_eq!(ship(), Some(1));
        if call % 64 == 0 {
            tokio::task::yield_now().await;
        }
    }
    (calls, faults)
}

async fn call_async_point(writing: Arc<AtomicBool>) -> usize {
    let mut calls = 0;
    while calls < MAX_ASYNC_CALLS && writing.load(Ordering::Relaxed) {
        wait().await.expect("latency only, never an error");
        calls += 1;
    }
    calls
}

#[test]
fn a_burst_of_changes_during_calls_leaves_exactly_the_attacks_it_implies() {
    run(4, async {
        let server = admin::serve(AdminConfig::new().token(TOKEN)).expect("the endpoint starts");
        let client = AdminClient::new(server.local_addr(), "");

        let writing = Arc::new(AtomicBool::new(true));
        let callers: Vec<_> = (0..SYNC_CALLERS)
            .map(|caller| tokio::spawn(call_sync_points(caller, Arc::clone(&writing))))
            .collect();
        let waiter = tokio::spawn(call_async_point(Arc::clone(&writing)));
        let writers: Vec<_> = (0..WRITERS)
            .map(|writer| tokio::spawn(write(client.clone(), writer)))
            .collect();
        let reader = tokio::spawn({
            let client = client.clone();
            async move {
                for _ in 0..20 {
                    assert_eq!(client.get("/attacks").await.status, StatusCode::OK);
                    assert_eq!(client.get("/points").await.status, StatusCode::OK);
                }
            }
        });

        let mut expected = BTreeMap::new();
        for writer in writers {
            expected.extend(writer.await.expect("a writer finishes"));
        }
        writing.store(false, Ordering::Relaxed);
        let (mut calls, mut faults) = (0, 0);
        for caller in callers {
            let (made, met) = caller.await.expect("a caller finishes");
            calls += made;
            faults += met;
        }
        let waits = waiter.await.expect("the async caller finishes");
        reader.await.expect("the reader finishes");
        eprintln!("{calls} calls met {faults} faults; {waits} async calls during the burst");
        assert!(
            calls > 0 && waits > 0,
            "the calls ran alongside the changes"
        );

        // The running attacks are the ones the last changes left, with their definitions.
        let running: BTreeMap<String, fault_runtime::Attack> = fault_runtime::attacks()
            .into_iter()
            .filter(|status| status.state == AttackState::Running)
            .map(|status| {
                assert_eq!(status.origin, "admin");
                (status.id, status.attack)
            })
            .collect();
        assert_eq!(
            running.keys().collect::<Vec<_>>(),
            expected.keys().collect::<Vec<_>>()
        );
        for (id, definition) in &expected {
            let mut definition = definition.clone();
            definition["id"] = json!(id);
            let text = json!({ "attack": [definition] }).to_string();
            let set = AttackSet::parse(&text, Format::Json, "expected").unwrap();
            assert_eq!(running[id], set.attacks()[0], "{id}");
        }

        let halted = client.delete("/attacks").await;
        assert_eq!(halted.body, json!({"halted": expected.len()}));
        for point in fault_runtime::catalog() {
            if point.name.starts_with("burst.") {
                assert_eq!(point.attacks, 0, "{} is back to idle", point.name);
            }
        }
        assert_eq!(pay("c-0").unwrap(), 3);
        assert_eq!(ship(), Some(1));
        wait().await.unwrap();
        tokio::task::spawn_blocking(move || server.stop())
            .await
            .unwrap();
    });
}
