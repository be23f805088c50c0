//! The blast radius across a hop: two real services on loopback, where the front takes the
//! customer from a header and passes it to the back in W3C baggage, and an attack aims at a
//! point inside the back for one customer.
#![cfg(all(feature = "enabled", feature = "baggage"))]

mod support;

#[path = "support/two_services.rs"]
mod two_services;

use std::net::SocketAddr;

use fault_runtime::{Attack, AttackGuard};
use hyper::StatusCode;
use support::layer::{HttpClient, client, run};
use two_services::QUOTE_POINT;

const ROUNDS: usize = 5;

/// Sends `method path` with these headers; returns the status and the body.
async fn send(
    client: &HttpClient,
    method: hyper::Method,
    url: String,
    headers: &[(&str, &str)],
) -> (StatusCode, String) {
    use http_body_util::BodyExt as _;

    let mut request = hyper::Request::builder().method(method).uri(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = client
        .request(request.body(http_body_util::Empty::new()).unwrap())
        .await
        .expect("the service answers");
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

async fn order(client: &HttpClient, front: SocketAddr, headers: &[(&str, &str)]) -> StatusCode {
    let url = format!("http://{front}/order/mug");
    send(client, hyper::Method::POST, url, headers).await.0
}

async fn quote(client: &HttpClient, back: SocketAddr, headers: &[(&str, &str)]) -> StatusCode {
    let url = format!("http://{back}/quote/mug");
    send(client, hyper::Method::GET, url, headers).await.0
}

fn start(id: &str, key: &str, value: &str) -> AttackGuard {
    support::start(
        Attack::builder(id, QUOTE_POINT)
            .facet(key, value)
            .error("drill")
            .build()
            .unwrap(),
    )
}

#[test]
fn the_targeted_customer_is_hit_through_the_front_and_nobody_else_is() {
    run(async {
        let services = two_services::start().await.unwrap();
        let client = client();
        let attack = start("hop-c42", "customer", "c-42");

        for _ in 0..ROUNDS {
            let targeted = order(&client, services.front, &[("x-customer-id", "c-42")]).await;
            assert_eq!(targeted, StatusCode::BAD_GATEWAY);
            for other in ["c-7", "c-420", "C-42", ""] {
                let status = order(&client, services.front, &[("x-customer-id", other)]).await;
                assert_eq!(status, StatusCode::OK, "customer {other:?}");
            }
            assert_eq!(order(&client, services.front, &[]).await, StatusCode::OK);
            // Baggage sent to the front is not read there: the front writes the customer
            // its header named, so c-7 cannot borrow c-42's drill, nor spoil it.
            let forged = [("x-customer-id", "c-7"), ("baggage", "customer=c-42")];
            assert_eq!(
                order(&client, services.front, &forged).await,
                StatusCode::OK
            );
        }

        let status = attack.status();
        assert_eq!(
            (status.matched, status.hits),
            (ROUNDS as u64, ROUNDS as u64)
        );
    });
}

#[test]
fn a_facet_outside_the_allow_list_does_not_cross_the_hop() {
    run(async {
        let services = two_services::start().await.unwrap();
        let client = client();
        let attack = start("hop-gold-tier", "tier", "gold");

        for _ in 0..ROUNDS {
            // The front reads `x-tier`, but passes on only the customer.
            let front = [("x-customer-id", "c-7"), ("x-tier", "gold")];
            assert_eq!(order(&client, services.front, &front).await, StatusCode::OK);
            // Sent straight to the back, a forged baggage key outside its allow-list is
            // ignored, whether alone or among accepted ones.
            for baggage in ["tier=gold", "customer=c-7,tier=gold", "tier=gold;p=1"] {
                let status = quote(&client, services.back, &[("baggage", baggage)]).await;
                assert_eq!(status, StatusCode::OK, "baggage {baggage:?}");
            }
        }

        let status = attack.status();
        assert_eq!((status.matched, status.hits), (0, 0));
    });
}

#[test]
fn the_back_matches_the_customer_it_reads_from_baggage() {
    run(async {
        let services = two_services::start().await.unwrap();
        let client = client();
        let attack = start("hop-back-c42", "customer", "c-42");

        let accepted = quote(&client, services.back, &[("baggage", "customer=c-42")]).await;
        assert_eq!(accepted, StatusCode::BAD_GATEWAY);
        for baggage in [
            "customer=c-7",
            "customer = c-42x",
            "customer=c-42,customer=c-7",
            "",
        ] {
            let status = quote(&client, services.back, &[("baggage", baggage)]).await;
            assert_eq!(status, StatusCode::OK, "baggage {baggage:?}");
        }
        assert_eq!(quote(&client, services.back, &[]).await, StatusCode::OK);

        let status = attack.status();
        assert_eq!((status.matched, status.hits), (1, 1));
    });
}
