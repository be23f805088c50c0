//! The facets layer in an axum router, over real HTTP on loopback: an attack aimed at one
//! customer by a context facet hits that customer's requests only, in sync points and in
//! async points behind a chain of `.await`s; header values that are no facet values are
//! ignored; and nothing in a request reaches past the attacks an operator started.
#![cfg(all(feature = "enabled", feature = "tower"))]

mod support;

use std::net::SocketAddr;

use axum::Router;
use axum::routing::get;
use fault_runtime::layer::{FacetsLayer, MAX_VALUE_BYTES};
use fault_runtime::{Attack, AttackGuard, Facets, Fault, fault_point};
use hyper::StatusCode;
use support::layer::{HttpClient, client, run, send};

fault_runtime::context_facets!(customer, country);

#[fault_point(name = "layer.axum.reserve")]
fn reserve(sku: &str) -> Result<usize, Fault> {
    Ok(sku.len())
}

#[fault_point(name = "layer.axum.charge")]
async fn charge() -> Result<(), Fault> {
    tokio::task::yield_now().await;
    Ok(())
}

/// The charge sits behind two more `.await`s, one of them a timer, so the request's task
/// is parked and resumed (perhaps on another worker) before the point runs.
async fn pay() -> Result<(), Fault> {
    tokio::task::yield_now().await;
    settle().await
}

async fn settle() -> Result<(), Fault> {
    tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    charge().await
}

/// Calls both points and says what happened, with the customer facet the handler saw:
/// `customer=c-42 reserve=hit charge=ok`.
async fn checkout() -> String {
    let reserve = if reserve("mug").is_err() { "hit" } else { "ok" };
    let charge = if pay().await.is_err() { "hit" } else { "ok" };
    let seen = Facets::current().get("customer").unwrap_or("-").to_owned();
    format!("customer={seen} reserve={reserve} charge={charge}")
}

async fn serve() -> SocketAddr {
    let app = Router::new()
        .route("/checkout", get(checkout))
        .layer(FacetsLayer::new().header("x-customer-id", "customer"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port on loopback");
    let addr = listener.local_addr().expect("the bound address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

async fn checkout_as(client: &HttpClient, addr: SocketAddr, headers: &[(&str, &[u8])]) -> String {
    let (status, body) = send(client, addr, "/checkout", headers).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

fn start(attack: Attack) -> AttackGuard {
    fault_runtime::start(attack).expect("the attack starts")
}

#[test]
fn an_attack_on_one_customer_hits_only_that_customers_requests() {
    run(async {
        let addr = serve().await;
        let client = client();
        let attack = start(
            Attack::builder("layer-axum-c42", "layer.axum.*")
                .facet("customer", "c-42")
                .error("drill")
                .build()
                .unwrap(),
        );

        for _ in 0..3 {
            assert_eq!(
                checkout_as(&client, addr, &[("x-customer-id", b"c-42")]).await,
                "customer=c-42 reserve=hit charge=hit"
            );
            for other in ["c-7", "c-19", "c-420", "C-42"] {
                assert_eq!(
                    checkout_as(&client, addr, &[("x-customer-id", other.as_bytes())]).await,
                    format!("customer={other} reserve=ok charge=ok")
                );
            }
            // No header: no customer, never hit.
            assert_eq!(
                checkout_as(&client, addr, &[]).await,
                "customer=- reserve=ok charge=ok"
            );
        }

        // Two points in each of c-42's three requests; nothing else was even matched.
        let status = attack.status();
        assert_eq!((status.matched, status.hits), (6, 6));
    });
}

#[test]
fn header_values_that_are_no_facet_values_are_ignored() {
    run(async {
        let addr = serve().await;
        let client = client();
        // Any request with a customer facet is hit: a request that is not hit has none.
        let attack = start(
            Attack::builder("layer-axum-present", "layer.axum.reserve")
                .facet_present("customer")
                .error("drill")
                .build()
                .unwrap(),
        );

        let longest = "c".repeat(MAX_VALUE_BYTES);
        let too_long = "c".repeat(MAX_VALUE_BYTES + 1);
        assert_eq!(
            checkout_as(&client, addr, &[("x-customer-id", longest.as_bytes())]).await,
            format!("customer={longest} reserve=hit charge=ok")
        );
        // UTF-8 beyond ASCII is a facet value like any other.
        assert_eq!(
            checkout_as(&client, addr, &[("x-customer-id", "kunde-ä".as_bytes())]).await,
            "customer=kunde-ä reserve=hit charge=ok"
        );

        let ignored: [&[(&str, &[u8])]; 4] = [
            &[("x-customer-id", b"c-42\xff\xfe")],
            &[("x-customer-id", too_long.as_bytes())],
            &[("x-customer-id", b"")],
            &[("x-customer-id", b"c-42"), ("x-customer-id", b"c-7")],
        ];
        for headers in ignored {
            assert_eq!(
                checkout_as(&client, addr, headers).await,
                "customer=- reserve=ok charge=ok",
                "{headers:?}"
            );
        }
        assert_eq!(attack.status().hits, 2);
    });
}

#[test]
fn request_values_only_select_among_the_attacks_started() {
    run(async {
        let addr = serve().await;
        let client = client();
        let attack = start(
            Attack::builder("layer-axum-only-c42", "layer.axum.*")
                .facet("customer", "c-42")
                .error("drill")
                .build()
                .unwrap(),
        );
        // Aimed at a facet the layer does not take from any header.
        let by_country = start(
            Attack::builder("layer-axum-country", "layer.axum.*")
                .facet("country", "NL")
                .error("drill")
                .build()
                .unwrap(),
        );

        let requests: [&[(&str, &[u8])]; 6] = [
            &[("x-customer-id", b"c-7")],
            // Text that means something in an attack is only text in a request.
            &[("x-customer-id", b"*")],
            &[("x-customer-id", b"c-42,c-7")],
            &[("x-customer-id", b"[\"c-42\"]")],
            &[("x-country", b"NL"), ("country", b"NL")],
            &[("x-fault-attack", b"id=x, point=layer.axum.*, error=boom")],
        ];
        for headers in requests {
            assert_eq!(
                checkout_as(&client, addr, headers)
                    .await
                    .split_once(' ')
                    .map(|(_, outcome)| outcome.to_owned()),
                Some("reserve=ok charge=ok".to_owned()),
                "{headers:?}"
            );
        }

        for guard in [&attack, &by_country] {
            let status = guard.status();
            assert_eq!((status.matched, status.hits), (0, 0), "{}", status.id);
        }
        // The attacks are the two started, as they were started.
        let running: Vec<String> = fault_runtime::attacks()
            .into_iter()
            .filter(|status| status.state == fault_runtime::AttackState::Running)
            .map(|status| status.id)
            .collect();
        assert_eq!(running, ["layer-axum-only-c42", "layer-axum-country"]);
        assert_eq!(attack.status().attack.facets().len(), 1);
    });
}
