//! What operators see in `tracing`: one warn event per injected impact, with the point, the
//! attack, the impact's kind and size; facet values only when an operator opts in; attack
//! starts, ends and refusals once each; nothing for calls no attack hits; dry runs at info.
//!
//! Events are collected on the test's own thread, so the tests of this file do not see
//! each other's events.
#![cfg(feature = "enabled")]

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

use fault_runtime::{Attack, Facets, fault_point};
use tracing::Level;

mod support;

use support::logs::{Collector, Logged};
use support::start;

fault_runtime::context_facets!(customer, country);

#[fault_point(name = "events.charge", facets(customer))]
fn charge(customer: &str) -> Result<(), String> {
    let _ = customer;
    Ok(())
}

#[fault_point(name = "events.refund", facets(customer))]
fn refund(customer: &str) -> Result<(), String> {
    let _ = customer;
    Ok(())
}

#[fault_point(name = "events.idle")]
fn idle() -> Result<(), String> {
    Ok(())
}

#[fault_point(name = "events.panic")]
fn panics() -> Result<(), String> {
    Ok(())
}

#[fault_point(name = "events.stacked")]
fn stacked() -> Result<(), String> {
    Ok(())
}

#[fault_point(name = "events.dry", facets(customer))]
fn dry(customer: &str) -> Result<(), String> {
    let _ = customer;
    Ok(())
}

#[fault_point(name = "events.lifecycle")]
fn lifecycle() -> Result<(), String> {
    Ok(())
}

#[fault_point(name = "events.facets", facets(customer))]
fn with_facets(customer: &str) -> Result<(), String> {
    let _ = customer;
    Ok(())
}

fn millis(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

/// The impact events among `events`.
fn impacts(events: &[Logged]) -> Vec<&Logged> {
    events
        .iter()
        .filter(|event| event.message == "fault injected")
        .collect()
}

/// The events that name this attack.
fn of_attack<'a>(events: &'a [Logged], id: &str) -> Vec<&'a Logged> {
    events
        .iter()
        .filter(|event| event.field("attack") == Some(id))
        .collect()
}

#[test]
fn each_injected_impact_is_one_warn_event_with_point_attack_kind_and_size() {
    fault_runtime::init().unwrap();
    let logs = Collector::default();
    logs.watch(|| {
        let _error = start(
            Attack::builder("events-error", "events.charge")
                .facet("customer", "c-42")
                .error("card network timeout")
                .build()
                .unwrap(),
        );
        let _latency = start(
            Attack::builder("events-latency", "events.refund")
                .facet("customer", "c-42")
                .latency(millis(2))
                .build()
                .unwrap(),
        );
        logs.take();

        for customer in ["c-42", "c-7", "c-42", "c-9", "c-42"] {
            let _ = charge(customer);
            let _ = refund(customer);
        }
        let events = logs.take();
        assert_eq!(impacts(&events).len(), 6, "{events:#?}");
        assert_eq!(events.len(), 6, "only the impacts are logged: {events:#?}");

        let errors = of_attack(&events, "events-error");
        assert_eq!(errors.len(), 3);
        for event in errors {
            assert_eq!(event.level, Level::WARN);
            assert_eq!(event.target, "fault_runtime");
            assert_eq!(event.field("point"), Some("events.charge"));
            assert_eq!(event.field("impact"), Some("error"));
            assert_eq!(event.field("latency_ms"), None);
        }
        let latencies = of_attack(&events, "events-latency");
        assert_eq!(latencies.len(), 3);
        for event in latencies {
            assert_eq!(event.level, Level::WARN);
            assert_eq!(event.field("point"), Some("events.refund"));
            assert_eq!(event.field("impact"), Some("latency"));
            let latency: f64 = event.field("latency_ms").unwrap().parse().unwrap();
            assert!((latency - 2.0).abs() < 1e-9, "{event:?}");
        }
    });
}

#[test]
fn an_impact_of_latency_and_a_failure_is_one_event_of_a_combined_kind() {
    fault_runtime::init().unwrap();
    let logs = Collector::default();
    logs.watch(|| {
        let both = start(
            Attack::builder("events-both", "events.stacked")
                .latency(millis(1))
                .error("slow, then down")
                .build()
                .unwrap(),
        );
        logs.take();
        assert!(stacked().is_err());
        let events = logs.take();
        assert_eq!(events.len(), 1, "{events:#?}");
        assert_eq!(events[0].field("impact"), Some("latency+error"));
        assert_eq!(events[0].field("latency_ms"), Some("1.0"));
        drop(both);

        // Two attacks hitting one call are two impacts: one event each. The newer one's
        // panic gives way to the older one's error, so its impact is its latency alone.
        let _older = start(
            Attack::builder("events-older", "events.stacked")
                .error("older")
                .build()
                .unwrap(),
        );
        let _newer = start(
            Attack::builder("events-newer", "events.stacked")
                .latency(millis(1))
                .panic("newer")
                .build()
                .unwrap(),
        );
        logs.take();
        assert!(stacked().is_err());
        let events = logs.take();
        assert_eq!(events.len(), 2, "{events:#?}");
        assert_eq!(
            of_attack(&events, "events-older")[0].field("impact"),
            Some("error")
        );
        assert_eq!(
            of_attack(&events, "events-newer")[0].field("impact"),
            Some("latency")
        );
    });
}

#[test]
fn a_panic_impact_is_logged_before_it_unwinds() {
    fault_runtime::init().unwrap();
    let logs = Collector::default();
    logs.watch(|| {
        let _panic = start(
            Attack::builder("events-panic", "events.panic")
                .panic("drill")
                .build()
                .unwrap(),
        );
        logs.take();
        assert!(catch_unwind(AssertUnwindSafe(panics)).is_err());
        let events = logs.take();
        assert_eq!(events.len(), 1, "{events:#?}");
        assert_eq!(events[0].level, Level::WARN);
        assert_eq!(events[0].field("impact"), Some("panic"));
        assert_eq!(events[0].field("point"), Some("events.panic"));
    });
}

/// Facet values are left out by default, carried when an operator opts in, and left out
/// again when the opt-in is withdrawn. One test, since the switch is process-wide.
#[test]
fn facet_values_are_logged_only_when_an_operator_opts_in() {
    fault_runtime::init().unwrap();
    let logs = Collector::default();
    logs.watch(|| {
        let _guard = start(
            Attack::builder("events-facets", "events.facets")
                .facet("customer", "c-42")
                .facet("country", "NL")
                .error("drill")
                .build()
                .unwrap(),
        );
        let request = Facets::new()
            .with("country", "NL")
            .with("customer", "c-from-context");
        let call = || request.scope(|| with_facets("c-42"));
        logs.take();

        assert!(call().is_err());
        let events = logs.take();
        assert_eq!(events.len(), 1, "{events:#?}");
        assert_eq!(events[0].field("facets"), None);
        let shown = format!("{events:?}");
        assert!(!shown.contains("c-42"), "{shown}");
        assert!(!shown.contains("NL"), "{shown}");

        fault_runtime::set_log_facet_values(true);
        let switched = logs.take();
        assert_eq!(switched.len(), 1, "the change is logged: {switched:#?}");
        assert_eq!(switched[0].level, Level::INFO);
        assert!(call().is_err());
        let events = logs.take();
        assert_eq!(events.len(), 1, "{events:#?}");
        // The attribute's facet first, then the context's; the attribute's value wins.
        assert_eq!(
            events[0].field("facets"),
            Some(r#"customer="c-42" country="NL""#)
        );

        // A value from a request is quoted and escaped: it cannot pose as another facet
        // or another log line.
        let forged = Facets::new()
            .with("country", "NL")
            .with("tier", "x\nINFO forged\" customer=\"c-7");
        let _ = forged.scope(|| with_facets("c-42"));
        let events = logs.take();
        assert_eq!(events.len(), 1, "{events:#?}");
        assert_eq!(
            events[0].field("facets"),
            Some(r#"customer="c-42" country="NL" tier="x\nINFO forged\" customer=\"c-7""#)
        );

        // So is a key that is not a plain name.
        let odd_key = Facets::new().with("country", "NL").with("tier x=1", "gold");
        let _ = odd_key.scope(|| with_facets("c-42"));
        let events = logs.take();
        assert_eq!(
            events[0].field("facets"),
            Some(r#"customer="c-42" country="NL" "tier x=1"="gold""#)
        );

        fault_runtime::set_log_facet_values(false);
        logs.take();
        assert!(call().is_err());
        assert_eq!(logs.take()[0].field("facets"), None);
    });
}

#[test]
fn nothing_is_logged_for_an_idle_call_or_one_no_attack_matches() {
    fault_runtime::init().unwrap();
    let logs = Collector::default();
    logs.watch(|| {
        let _guard = start(
            Attack::builder("events-quiet", "events.refund")
                .facet("customer", "c-42")
                .error("drill")
                .build()
                .unwrap(),
        );
        logs.take();
        for _ in 0..10 {
            assert!(idle().is_ok());
            assert!(refund("c-7").is_ok());
        }
        assert!(
            Facets::new()
                .with("customer", "c-42")
                .scope(|| refund("c-8"))
                .is_ok(),
            "the attribute's facet wins over the context's"
        );
        let events = logs.take();
        assert!(events.is_empty(), "{events:#?}");
    });
}

#[test]
fn a_dry_run_is_logged_at_info_as_such_and_counted() {
    fault_runtime::init().unwrap();
    let logs = Collector::default();
    logs.watch(|| {
        let guard = start(
            Attack::builder("events-dry", "events.dry")
                .facet("customer", "c-42")
                .latency(millis(50))
                .error("would fail")
                .dry_run(true)
                .build()
                .unwrap(),
        );
        logs.take();
        let started = std::time::Instant::now();
        for customer in ["c-42", "c-7", "c-42", "c-42"] {
            assert!(dry(customer).is_ok(), "a dry run changes no call");
        }
        assert!(
            started.elapsed() < Duration::from_millis(150),
            "nor delays one"
        );
        let events = logs.take();
        assert_eq!(events.len(), 3, "{events:#?}");
        for event in &events {
            assert_eq!(event.level, Level::INFO);
            assert_eq!(event.message, "dry run: a fault would have been injected");
            assert_eq!(event.field("dry_run"), Some("true"));
            assert_eq!(event.field("attack"), Some("events-dry"));
            assert_eq!(event.field("point"), Some("events.dry"));
            assert_eq!(event.field("impact"), Some("latency+error"));
        }
        let status = guard.status();
        assert_eq!((status.matched, status.hits), (3, 3));
    });
}

#[test]
fn an_attack_start_end_and_refusal_are_logged_once_each() {
    fault_runtime::init().unwrap();
    let logs = Collector::default();
    logs.watch(|| {
        let guard = start(
            Attack::builder("events-lifecycle", "events.lifecycle")
                .error("drill")
                .build()
                .unwrap(),
        );
        let events = logs.take();
        assert_eq!(events.len(), 1, "{events:#?}");
        assert_eq!(events[0].message, "attack started");
        assert_eq!(events[0].level, Level::INFO);
        assert_eq!(events[0].field("attack"), Some("events-lifecycle"));
        assert_eq!(events[0].field("origin"), Some("api"));

        assert!(lifecycle().is_err());
        assert_eq!(impacts(&logs.take()).len(), 1);

        drop(guard);
        let events = logs.take();
        assert_eq!(events.len(), 1, "{events:#?}");
        assert_eq!(events[0].message, "attack ended");
        assert_eq!(events[0].field("attack"), Some("events-lifecycle"));
        assert_eq!(events[0].field("state"), Some("halted"));

        // A typed attack the registry refuses, a text that names an unknown point, and a
        // text that does not parse: one error event each, with the reason.
        let refused = Attack::builder("events-refused", "events.nowhere")
            .error("x")
            .build()
            .unwrap();
        assert!(fault_runtime::start(refused).is_err());
        assert!(
            fault_runtime::start_toml(
                "[[attack]]\nid = \"events-refused-text\"\npoint = \"events.nowhere\"\nerror = \"x\"\n"
            )
            .is_err()
        );
        assert!(fault_runtime::start_toml("[[attack]\n").is_err());
        let events = logs.take();
        assert_eq!(events.len(), 3, "{events:#?}");
        assert!(events.iter().all(|event| event.level == Level::ERROR));
        assert!(events[0].message.contains("events-refused"), "{events:#?}");
        assert!(events[0].message.contains("events.nowhere"), "{events:#?}");
        assert!(events[1].message.contains("events-refused-text"), "{events:#?}");
    });
}

#[test]
fn a_watched_file_logs_its_refusal_once_and_each_end_once() {
    fault_runtime::init().unwrap();
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("drill.toml");
    let logs = Collector::default();
    logs.watch(|| {
        // The first version is read on the calling thread; later ones on the watch's own.
        std::fs::write(
            &path,
            "[[attack]]\nid = \"events-file\"\npoint = \"events.lifecycle\"\n",
        )
        .unwrap();
        let watch = fault_runtime::watch_file(&path, Duration::from_secs(60)).unwrap();
        let events = logs.take();
        let refusals: Vec<_> = events
            .iter()
            .filter(|event| event.level == Level::ERROR)
            .collect();
        assert_eq!(refusals.len(), 1, "{events:#?}");
        assert!(refusals[0].message.contains("events-file"), "{events:#?}");
        assert!(
            events.iter().all(|event| event.level != Level::WARN),
            "{events:#?}"
        );
        drop(watch);

        std::fs::write(
            &path,
            "[[attack]]\nid = \"events-file\"\npoint = \"events.lifecycle\"\nerror = \"x\"\n",
        )
        .unwrap();
        let watch = fault_runtime::watch_file(&path, Duration::from_secs(60)).unwrap();
        let events = logs.take();
        let started: Vec<_> = events
            .iter()
            .filter(|event| event.message == "attack started")
            .collect();
        assert_eq!(started.len(), 1, "{events:#?}");
        let halted = watch.stop();
        assert_eq!(halted, ["events-file"]);
        let events = logs.take();
        let ended: Vec<_> = events
            .iter()
            .filter(|event| event.message == "attack ended")
            .collect();
        assert_eq!(ended.len(), 1, "{events:#?}");
        assert!(
            ended[0].field("how").unwrap().contains("no longer watched"),
            "{events:#?}"
        );
    });
}

/// The admin endpoint answers a refused attack with 400 and logs it once, at warn with
/// the peer; the registry keeps it for `GET /errors` without logging it again.
#[cfg(feature = "admin")]
#[test]
fn an_admin_refusal_is_logged_once_with_its_peer_and_still_listed() {
    use http_body_util::{BodyExt as _, Full};
    use hyper::body::Bytes;
    use hyper::{Method, Request, StatusCode};
    use tower::Service as _;

    use fault_runtime::admin::{AdminService, PeerAddr};

    fault_runtime::init().unwrap();
    let logs = Collector::default();
    logs.watch(|| {
        support::block_on(async {
            let mut service = AdminService::new(support::admin::TOKEN).unwrap();
            let send = |method: Method, path: &str, body: &str| {
                let mut request = Request::builder()
                    .method(method)
                    .uri(path)
                    .header("authorization", format!("Bearer {}", support::admin::TOKEN))
                    .header("content-type", "application/json")
                    .body(Full::new(Bytes::from(body.to_owned())))
                    .unwrap();
                request
                    .extensions_mut()
                    .insert(PeerAddr("127.0.0.1:40404".parse().unwrap()));
                request
            };

            let bad = r#"{"point": "events.nowhere", "error": "x"}"#;
            let answer = service
                .call(send(Method::PUT, "/attacks/events-admin", bad))
                .await
                .unwrap();
            assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
            let events = logs.take();
            assert_eq!(events.len(), 1, "{events:#?}");
            assert_eq!(events[0].level, Level::WARN);
            assert_eq!(events[0].target, "fault_runtime::admin");
            assert_eq!(events[0].field("peer"), Some("127.0.0.1:40404"));
            assert!(events[0].message.contains("events.nowhere"), "{events:#?}");

            let malformed = service
                .call(send(Method::PUT, "/attacks/events-admin", "{"))
                .await
                .unwrap();
            assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
            let events = logs.take();
            assert_eq!(events.len(), 1, "{events:#?}");
            assert_eq!(events[0].target, "fault_runtime::admin");

            let listed = service
                .call(send(Method::GET, "/errors", ""))
                .await
                .unwrap();
            assert_eq!(listed.status(), StatusCode::OK);
            let body = listed.into_body().collect().await.unwrap().to_bytes();
            let body = String::from_utf8_lossy(&body);
            assert!(body.contains("events.nowhere"), "{body}");
        });
    });
}
