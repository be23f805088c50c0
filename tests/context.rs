//! The facet context: facets set once per request reach every point called inside the
//! scope, across `.await` and threads of a runtime, and into spawned work only when carried.
#![cfg(feature = "enabled")]

use fault_runtime::{Attack, Facets, fault_point};

mod support;

use support::start;

fault_runtime::context_facets!(customer, country);

fn customer(value: &str) -> Facets {
    Facets::new().with("customer", value)
}

#[fault_point(name = "context.across_await")]
async fn across_await(step: u32) -> Result<u32, String> {
    Ok(step)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn facets_survive_await_points_on_a_multi_thread_runtime() {
    let targeted: Vec<String> = (0..64)
        .filter(|n| n % 4 == 0)
        .map(|n| format!("await-{n}"))
        .collect();
    let guard = start(
        Attack::builder("context-await", "context.across_await")
            .facet_any_of("customer", targeted.clone())
            .error("drill")
            .build()
            .unwrap(),
    );

    let tasks: Vec<_> = (0..64)
        .map(|n| {
            let name = format!("await-{n}");
            let expect_hit = targeted.contains(&name);
            let request = customer(&name).within(async move {
                let mut outcomes = Vec::new();
                for step in 0..6 {
                    outcomes.push(across_await(step).await.is_err());
                    if step % 2 == 0 {
                        tokio::task::yield_now().await;
                    } else {
                        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                    }
                    // The context is still there after the task resumes, perhaps on
                    // another worker thread.
                    assert_eq!(Facets::current().get("customer"), Some(name.as_str()));
                }
                outcomes
            });
            (expect_hit, tokio::spawn(request))
        })
        .collect();

    for (n, (expect_hit, task)) in tasks.into_iter().enumerate() {
        let outcomes = task.await.unwrap();
        assert!(
            outcomes.iter().all(|&hit| hit == expect_hit),
            "task {n}: {outcomes:?}, expected all {expect_hit}"
        );
    }
    assert_eq!(guard.status().hits, 16 * 6);
    // Outside any scope, nothing is set.
    assert!(Facets::current().is_empty());
}

#[fault_point(name = "context.spawned")]
async fn spawned_work() -> Result<(), String> {
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spawned_task_sees_the_facets_only_when_they_are_carried() {
    let _guard = start(
        Attack::builder("context-spawned", "context.spawned")
            .facet("customer", "c-spawn")
            .error("drill")
            .build()
            .unwrap(),
    );
    let (uncarried, carried, own) = customer("c-spawn")
        .within(async {
            let uncarried = tokio::spawn(spawned_work()).await.unwrap();
            let carried = tokio::spawn(Facets::current().within(spawned_work()))
                .await
                .unwrap();
            let own = spawned_work().await;
            (uncarried, carried, own)
        })
        .await;
    assert!(
        uncarried.is_ok(),
        "a task spawned without the context saw it"
    );
    assert!(
        carried.is_err(),
        "a task spawned with the context did not see it"
    );
    assert!(own.is_err());
}

#[fault_point(name = "context.thread")]
fn on_a_thread() -> Result<(), String> {
    Ok(())
}

#[test]
fn a_thread_sees_the_facets_that_are_moved_into_it() {
    let _guard = start(
        Attack::builder("context-thread", "context.thread")
            .facet("customer", "c-thread")
            .error("drill")
            .build()
            .unwrap(),
    );
    customer("c-thread").scope(|| {
        assert!(on_a_thread().is_err());
        let facets = Facets::current();
        let carried = std::thread::spawn(move || facets.scope(on_a_thread));
        let uncarried = std::thread::spawn(on_a_thread);
        assert!(carried.join().unwrap().is_err());
        assert!(uncarried.join().unwrap().is_ok());
    });
    assert!(on_a_thread().is_ok(), "the facets outlived their scope");
}

#[fault_point(name = "context.nested_inner")]
fn nested_inner() -> Result<(), String> {
    Ok(())
}

#[fault_point(name = "context.nested_outer")]
fn nested_outer() -> Result<(), String> {
    Ok(())
}

#[test]
fn nested_scopes_merge_and_the_inner_value_wins() {
    let _inner = start(
        Attack::builder("context-nested-inner", "context.nested_inner")
            .facet("customer", "c-inner")
            .facet("country", "NL")
            .error("inner")
            .build()
            .unwrap(),
    );
    let _outer = start(
        Attack::builder("context-nested-outer", "context.nested_outer")
            .facet("customer", "c-outer")
            .error("outer")
            .build()
            .unwrap(),
    );
    let outer = Facets::new()
        .with("customer", "c-outer")
        .with("country", "NL");
    outer.scope(|| {
        assert!(nested_inner().is_ok());
        assert!(nested_outer().is_err());
        customer("c-inner").scope(|| {
            let current = Facets::current();
            assert_eq!(current.get("customer"), Some("c-inner"));
            assert_eq!(current.get("country"), Some("NL"));
            assert!(nested_inner().is_err());
            assert!(nested_outer().is_ok());
        });
        // Leaving the inner scope restores the outer one.
        assert!(nested_outer().is_err());
        assert!(nested_inner().is_ok());

        let guard = customer("c-inner").enter();
        assert!(nested_inner().is_err());
        drop(guard);
        assert!(nested_outer().is_err());
    });
    assert!(nested_outer().is_ok());
}

#[fault_point(name = "context.nested_async")]
async fn nested_async() -> Result<(), String> {
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nested_async_scopes_merge_and_restore() {
    let _guard = start(
        Attack::builder("context-nested-async", "context.nested_async")
            .facet("customer", "c-inner-async")
            .facet("country", "BE")
            .error("drill")
            .build()
            .unwrap(),
    );
    let outer = Facets::new()
        .with("customer", "c-outer-async")
        .with("country", "BE");
    let (before, inside, after) = outer
        .within(async {
            let before = nested_async().await;
            let inside = customer("c-inner-async")
                .within(async {
                    tokio::task::yield_now().await;
                    nested_async().await
                })
                .await;
            tokio::task::yield_now().await;
            let after = nested_async().await;
            (before, inside, after)
        })
        .await;
    assert!(before.is_ok());
    assert!(inside.is_err());
    assert!(after.is_ok());
}

#[test]
fn guards_dropped_out_of_order_leave_the_thread_as_they_found_it() {
    let outer = Facets::new().with("customer", "c-42").enter();
    let inner = Facets::new().with("country", "NL").enter();
    drop(outer);
    drop(inner);
    assert_eq!(Facets::current(), Facets::new());

    // Three deep, the middle one first.
    let first = Facets::new().with("customer", "c-1").enter();
    let second = Facets::new().with("customer", "c-2").enter();
    let third = Facets::new().with("customer", "c-3").enter();
    drop(second);
    assert_eq!(Facets::current().get("customer"), Some("c-3"));
    drop(third);
    assert_eq!(Facets::current().get("customer"), Some("c-1"));
    drop(first);
    assert_eq!(Facets::current(), Facets::new());
}
