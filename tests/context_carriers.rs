//! Carrying the request context into work that leaves the current task: futures handed to
//! `tokio::spawn`, closures run by `spawn_blocking`, by a thread of their own and by a
//! rayon pool. Carried, the work sees the request's facets, and an attack aimed through
//! them hits exactly that request's work; not carried, it sees none.
#![cfg(feature = "enabled")]

use std::collections::BTreeSet;
use std::time::Duration;

use fault_runtime::{Attack, Facets, fault_point};
use rayon::prelude::*;

mod support;

use support::start;

fault_runtime::context_facets!(customer);

fn customer(value: &str) -> Facets {
    Facets::new().with("customer", value)
}

/// The customer the context holds where this runs.
fn seen() -> Option<String> {
    Facets::current().get("customer").map(str::to_owned)
}

/// A request's work on a rayon pool: fails when an attack hits it.
#[fault_point(name = "carriers.pool_item")]
fn pool_item(item: u32) -> Result<u32, String> {
    Ok(item)
}

#[fault_point(name = "carriers.deep")]
async fn deep(level: u32) -> Result<u32, String> {
    tokio::task::yield_now().await;
    Ok(level)
}

async fn nested(level: u32) -> Result<u32, String> {
    if level == 0 {
        return deep(0).await;
    }
    tokio::time::sleep(Duration::from_millis(1)).await;
    let below = Box::pin(nested(level - 1)).await?;
    deep(below + 1).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_context_survives_a_chain_of_awaits() {
    let guard = start(
        Attack::builder("carriers-deep", "carriers.deep")
            .facet("customer", "c-chain")
            .error("drill")
            .build()
            .unwrap(),
    );
    let (hit, missed) = tokio::join!(
        customer("c-chain").within(async {
            let outcome = nested(5).await;
            // Still in scope after every resumption, on whichever worker.
            assert_eq!(seen().as_deref(), Some("c-chain"));
            outcome
        }),
        customer("c-other").within(nested(5)),
    );
    assert!(hit.is_err());
    assert_eq!(missed, Ok(5));
    // The innermost call failed, and nothing above it ran.
    assert_eq!(guard.status().hits, 1);
    assert!(seen().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spawned_task_sees_the_context_only_when_it_is_carried() {
    let (carried, uncarried) = customer("c-task")
        .within(async {
            let carried = (0..8)
                .map(|_| tokio::spawn(Facets::current().within(async { seen() })))
                .collect::<Vec<_>>();
            let uncarried = (0..8)
                .map(|_| tokio::spawn(async { seen() }))
                .collect::<Vec<_>>();
            let mut results = (Vec::new(), Vec::new());
            for task in carried {
                results.0.push(task.await.unwrap());
            }
            for task in uncarried {
                results.1.push(task.await.unwrap());
            }
            results
        })
        .await;
    assert!(carried.iter().all(|c| c.as_deref() == Some("c-task")));
    assert!(uncarried.iter().all(Option::is_none), "{uncarried:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocking_work_sees_the_context_only_when_it_is_carried() {
    let (carried, uncarried) = customer("c-blocking")
        .within(async {
            let carried = tokio::task::spawn_blocking(Facets::current().carry(seen));
            let uncarried = tokio::task::spawn_blocking(seen);
            (carried.await.unwrap(), uncarried.await.unwrap())
        })
        .await;
    assert_eq!(carried.as_deref(), Some("c-blocking"));
    assert_eq!(uncarried, None);
}

#[test]
fn a_thread_sees_the_context_only_when_it_is_carried() {
    let (carried, uncarried) = customer("c-thread").scope(|| {
        let carried = std::thread::spawn(Facets::current().carry(seen));
        let uncarried = std::thread::spawn(seen);
        (carried.join().unwrap(), uncarried.join().unwrap())
    });
    assert_eq!(carried.as_deref(), Some("c-thread"));
    assert_eq!(uncarried, None);
}

#[test]
fn carried_facets_replace_those_of_the_thread_that_runs_them_and_come_back_after() {
    let work = customer("c-carried").scope(|| Facets::current().carry(seen));
    let each = customer("c-carried").scope(|| Facets::current().carry_each(|()| seen()));
    customer("c-runner").scope(|| {
        assert_eq!(work().as_deref(), Some("c-carried"));
        assert_eq!(each(()).as_deref(), Some("c-carried"));
        assert_eq!(seen().as_deref(), Some("c-runner"));
    });

    // Also when the work unwinds.
    let panics = customer("c-carried").scope(|| Facets::current().carry(|| panic!("drill")));
    customer("c-runner").scope(|| {
        assert!(std::panic::catch_unwind(panics).is_err());
        assert_eq!(seen().as_deref(), Some("c-runner"));
    });
}

#[test]
fn a_rayon_parallel_iterator_sees_the_context_in_each_item() {
    let items: Vec<u32> = (0..256).collect();
    let per_item: Vec<Option<String>> = customer("c-rayon").scope(|| {
        items
            .par_iter()
            .map(Facets::current().carry_each(|_| seen()))
            .collect()
    });
    assert_eq!(per_item.len(), items.len());
    assert!(per_item.iter().all(|c| c.as_deref() == Some("c-rayon")));

    // And in each call of a for_each.
    let (sender, receiver) = std::sync::mpsc::channel();
    customer("c-rayon").scope(|| {
        items.par_iter().for_each(Facets::current().carry_each(|_| {
            let _ = sender.send(seen());
        }));
    });
    drop(sender);
    let sent: Vec<Option<String>> = receiver.iter().collect();
    assert_eq!(sent.len(), items.len());
    assert!(sent.iter().all(|c| c.as_deref() == Some("c-rayon")));
}

#[test]
fn rayon_spawn_and_join_see_the_context_when_it_is_carried() {
    let (sender, receiver) = std::sync::mpsc::channel();
    let (left, right) = customer("c-join").scope(|| {
        let facets = Facets::current();
        let carried = sender.clone();
        rayon::spawn(facets.carry(move || {
            let _ = carried.send(("carried", seen()));
        }));
        rayon::spawn(move || {
            let _ = sender.send(("uncarried", seen()));
        });
        rayon::join(facets.carry(seen), facets.carry(seen))
    });
    assert_eq!(left.as_deref(), Some("c-join"));
    assert_eq!(right.as_deref(), Some("c-join"));

    let mut spawned: Vec<(&str, Option<String>)> = (0..2)
        .map(|_| receiver.recv_timeout(Duration::from_secs(30)).unwrap())
        .collect();
    spawned.sort();
    assert_eq!(
        spawned,
        [("carried", Some("c-join".to_owned())), ("uncarried", None)]
    );
}

/// One request: its customer and the ids of its work items.
struct Request {
    customer: String,
    items: Vec<u32>,
}

#[test]
fn an_attack_through_the_context_hits_exactly_one_customers_items_in_a_shared_pool() {
    let guard = start(
        Attack::builder("carriers-pool", "carriers.pool_item")
            .facet("customer", "c-42")
            .error("drill")
            .build()
            .unwrap(),
    );
    let customers = ["c-7", "c-42", "c-9", "c-42", "c-13", "c-1"];
    let requests: Vec<Request> = customers
        .iter()
        .zip(0_u32..)
        .map(|(customer, n)| Request {
            customer: (*customer).to_owned(),
            items: (0..200).map(|i| n * 1000 + i).collect(),
        })
        .collect();
    let expected: BTreeSet<u32> = requests
        .iter()
        .filter(|request| request.customer == "c-42")
        .flat_map(|request| request.items.iter().copied())
        .collect();

    // Each request is served by a thread of its own, as a server would, and fans its items
    // out over the one shared pool: the pool's threads run the items of all customers
    // interleaved, so an item that saw the context of the item before it on the same
    // thread would hit, or spare, the wrong customer's work.
    let failed: BTreeSet<u32> = std::thread::scope(|threads| {
        let served: Vec<_> = requests
            .iter()
            .map(|request| {
                threads.spawn(|| {
                    customer(&request.customer).scope(|| {
                        request
                            .items
                            .par_iter()
                            .map(
                                Facets::current().carry_each(|&item: &u32| (item, pool_item(item))),
                            )
                            .collect::<Vec<_>>()
                    })
                })
            })
            .collect();
        served
            .into_iter()
            .flat_map(|thread| thread.join().unwrap())
            .filter_map(|(item, outcome)| outcome.is_err().then_some(item))
            .collect()
    });

    assert_eq!(failed.len(), expected.len());
    assert_eq!(failed, expected);
    assert_eq!(guard.status().matched, 400);
    assert_eq!(guard.status().hits, 400);
}
