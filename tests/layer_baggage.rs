//! W3C Baggage over real HTTP on loopback: allow-listed members become facets on the way
//! in and nothing else does; facets leave in the `baggage` header of a hyper client wrapped
//! in the client layer; and an attack aimed at one customer follows that customer's
//! request from one service to the next.
#![cfg(all(feature = "enabled", feature = "baggage"))]

mod support;

use std::net::SocketAddr;

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use fault_runtime::layer::{
    FacetsLayer, MAX_BAGGAGE_BYTES, MAX_BAGGAGE_MEMBERS, PropagateFacets, PropagateFacetsLayer,
};
use fault_runtime::{Attack, Facets, Fault, fault_point};
use http_body_util::{BodyExt as _, Empty};
use hyper::body::Bytes;
use hyper::{Request, StatusCode};
use support::layer::{HttpClient, client, get as request, run, send};
use tower::{Layer as _, Service as _, ServiceExt as _};

fault_runtime::context_facets!(customer, tenant, role);

#[fault_point(name = "layer.baggage.stock")]
async fn stock() -> Result<(), Fault> {
    tokio::task::yield_now().await;
    Ok(())
}

/// Calls the point; answers `customer=.. tenant=.. role=.. stock=hit|ok`.
async fn stock_handler() -> String {
    let stock = if stock().await.is_err() { "hit" } else { "ok" };
    let facets = Facets::current();
    format!(
        "customer={} tenant={} role={} stock={stock}",
        facets.get("customer").unwrap_or("-"),
        facets.get("tenant").unwrap_or("-"),
        facets.get("role").unwrap_or("-"),
    )
}

async fn listen(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port on loopback");
    let addr = listener.local_addr().expect("the bound address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

/// The stock service: the customer from a header or from baggage, the tenant from the
/// baggage key `tenant-id`. `role` is on no allow-list.
async fn serve_stock() -> SocketAddr {
    let layer = FacetsLayer::new()
        .header("x-customer-id", "customer")
        .baggage("customer", "customer")
        .baggage("tenant-id", "tenant");
    listen(
        Router::new()
            .route("/stock", get(stock_handler))
            .layer(layer),
    )
    .await
}

async fn stock_as(client: &HttpClient, addr: SocketAddr, headers: &[(&str, &[u8])]) -> String {
    let (status, body) = send(client, addr, "/stock", headers).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

fn start(id: &str, key: &str, value: &str) -> fault_runtime::AttackGuard {
    fault_runtime::start(
        Attack::builder(id, "layer.baggage.stock")
            .facet(key, value)
            .error("drill")
            .build()
            .unwrap(),
    )
    .expect("the attack starts")
}

#[test]
fn an_allow_listed_member_becomes_a_facet() {
    run(async {
        let addr = serve_stock().await;
        let client = client();
        let attack = start("baggage-in-c42", "customer", "c-42");

        assert_eq!(
            stock_as(&client, addr, &[("baggage", b"customer=c-42")]).await,
            "customer=c-42 tenant=- role=- stock=hit"
        );
        assert_eq!(
            stock_as(
                &client,
                addr,
                &[("baggage", b"customer=c-7,tenant-id=t%201")]
            )
            .await,
            "customer=c-7 tenant=t 1 role=- stock=ok"
        );
        // Several headers are one list; white space, properties and malformed members
        // around the member do not stop it.
        assert_eq!(
            stock_as(
                &client,
                addr,
                &[
                    ("baggage", b"oops, a=1;p"),
                    ("baggage", b" customer = c-42 ;origin=edge , b=%zz")
                ]
            )
            .await,
            "customer=c-42 tenant=- role=- stock=hit"
        );
        assert_eq!(attack.status().hits, 2);
    });
}

#[test]
fn a_member_outside_the_allow_list_has_no_effect() {
    run(async {
        let addr = serve_stock().await;
        let client = client();
        let forged = start("baggage-in-forged-role", "role", "admin");

        for baggage in [
            b"role=admin".as_slice(),
            b"role=admin,customer=c-7",
            b"Role=admin",
        ] {
            let answer = stock_as(&client, addr, &[("baggage", baggage)]).await;
            assert!(answer.contains("role=- stock=ok"), "{answer}");
        }
        let status = forged.status();
        assert_eq!((status.matched, status.hits), (0, 0));
    });
}

#[test]
fn baggage_that_is_ambiguous_or_beyond_the_limits_gives_no_facet() {
    run(async {
        let addr = serve_stock().await;
        let client = client();
        let attack = start("baggage-in-limits", "customer", "c-42");

        let padding = format!(",pad={}", "p".repeat(MAX_BAGGAGE_BYTES));
        let too_big = format!("customer=c-42{padding}");
        let too_many = std::iter::once("customer=c-42".to_owned())
            .chain((0..MAX_BAGGAGE_MEMBERS).map(|n| format!("k{n}=v")))
            .collect::<Vec<_>>()
            .join(",");
        let ignored: [&[u8]; 5] = [
            too_big.as_bytes(),
            too_many.as_bytes(),
            b"customer=c-42,customer=c-7",
            b"customer=%FF",
            b"customer=c-42\xff",
        ];
        for baggage in ignored {
            assert_eq!(
                stock_as(&client, addr, &[("baggage", baggage)]).await,
                "customer=- tenant=- role=- stock=ok",
                "{}",
                String::from_utf8_lossy(&baggage[..baggage.len().min(40)])
            );
        }
        assert_eq!(attack.status().hits, 0);
    });
}

#[test]
fn a_mapped_header_wins_over_baggage() {
    run(async {
        let addr = serve_stock().await;
        let client = client();
        let attack = start("baggage-in-precedence", "customer", "c-42");

        let answer = stock_as(
            &client,
            addr,
            &[("x-customer-id", b"c-7"), ("baggage", b"customer=c-42")],
        )
        .await;
        assert_eq!(answer, "customer=c-7 tenant=- role=- stock=ok");
        // A header that is present but gives no value (empty, repeated, too long) still
        // decides: baggage, which any client writes, does not fill in for it.
        let long = vec![b'c'; 257];
        for header in [
            vec![("x-customer-id", &b""[..])],
            vec![
                ("x-customer-id", &b"c-7"[..]),
                ("x-customer-id", &b"c-7"[..]),
            ],
            vec![("x-customer-id", &long[..])],
        ] {
            let mut headers = header.clone();
            headers.push(("baggage", b"customer=c-42"));
            let answer = stock_as(&client, addr, &headers).await;
            assert_eq!(answer, "customer=- tenant=- role=- stock=ok");
        }
        // With no such header, the baggage gives the facet.
        let answer = stock_as(&client, addr, &[("baggage", b"customer=c-42")]).await;
        assert_eq!(answer, "customer=c-42 tenant=- role=- stock=hit");
        // An empty extra baggage header changes nothing.
        let answer = stock_as(
            &client,
            addr,
            &[
                ("baggage", b""),
                ("baggage", b"customer=c-42"),
                ("baggage", b" "),
            ],
        )
        .await;
        assert_eq!(answer, "customer=c-42 tenant=- role=- stock=hit");
        assert_eq!(attack.status().hits, 2);
    });
}

/// A server that answers with the `baggage` headers it received, one per line, or
/// `<none>`.
async fn serve_recorder() -> SocketAddr {
    async fn record(request: Request<axum::body::Body>) -> String {
        let received: Vec<String> = request
            .headers()
            .get_all("baggage")
            .iter()
            .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
            .collect();
        if received.is_empty() {
            "<none>".to_owned()
        } else {
            received.join("\n")
        }
    }
    listen(Router::new().route("/record", get(record))).await
}

type Propagating = PropagateFacets<HttpClient>;

fn propagating(client: HttpClient) -> Propagating {
    PropagateFacetsLayer::new()
        .facet("customer", "customer")
        .facet("country", "country")
        .layer(client)
}

/// Sends through the client layer, with `call` made inside `facets`' scope.
async fn received(
    client: &mut Propagating,
    facets: &Facets,
    request: Request<Empty<Bytes>>,
) -> String {
    std::future::poll_fn(|cx| client.poll_ready(cx))
        .await
        .unwrap();
    let response = facets.scope(|| client.call(request)).await.unwrap();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8_lossy(&bytes).into_owned()
}

#[test]
fn the_client_layer_sends_allow_listed_facets_in_baggage() {
    run(async {
        let addr = serve_recorder().await;
        let mut client = propagating(client());
        let facets = Facets::new()
            .with("customer", "c-42")
            .with("country", "Zürich, CH")
            .with("secret", "s3cr3t");

        assert_eq!(
            received(&mut client, &facets, request(addr, "/record", &[])).await,
            "customer=c-42,country=Z%C3%BCrich%2C%20CH"
        );

        // Merged with a header already there: the same key replaced, the others kept.
        let existing = request(
            addr,
            "/record",
            &[("baggage", b"a=1;p=x, customer=c-7"), ("baggage", b"b=2")],
        );
        assert_eq!(
            received(&mut client, &facets, existing).await,
            "a=1;p=x,b=2,customer=c-42,country=Z%C3%BCrich%2C%20CH"
        );

        // No facet on the allow-list in scope: nothing is written.
        let unlisted = Facets::new().with("secret", "s3cr3t");
        assert_eq!(
            received(&mut client, &unlisted, request(addr, "/record", &[])).await,
            "<none>"
        );
        assert_eq!(
            received(&mut client, &Facets::new(), request(addr, "/record", &[])).await,
            "<none>"
        );
        // ... and a header already there passes as it was.
        let existing = request(addr, "/record", &[("baggage", b"a=1 ; p")]);
        assert_eq!(
            received(&mut client, &Facets::new(), existing).await,
            "a=1 ; p"
        );
    });
}

#[test]
fn the_client_layer_reads_the_facets_when_the_call_is_made() {
    run(async {
        let addr = serve_recorder().await;
        // In a ServiceBuilder stack, called through `oneshot`, which makes the call when
        // the future is first polled: inside `within`.
        let client = tower::ServiceBuilder::new()
            .layer(PropagateFacetsLayer::new().facet("customer", "customer-id"))
            .service(client());
        let response = Facets::new()
            .with("customer", "c-42")
            .within(client.oneshot(request(addr, "/record", &[])))
            .await
            .unwrap();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(bytes, "customer-id=c-42");
    });
}

/// The front service: takes the customer from a header, and calls the stock service
/// through the client layer.
async fn serve_front(stock: SocketAddr) -> SocketAddr {
    async fn front(State((client, stock)): State<(Propagating, SocketAddr)>) -> String {
        let mut client = client;
        std::future::poll_fn(|cx| client.poll_ready(cx))
            .await
            .unwrap();
        // A handler behind the facets layer: its facets are in scope here.
        let response = client
            .call(request(stock, "/stock", &[]))
            .await
            .expect("the stock service answers");
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        String::from_utf8_lossy(&bytes).into_owned()
    }
    let app = Router::new()
        .route("/front", get(front))
        .layer(FacetsLayer::new().header("x-customer-id", "customer"))
        .with_state((propagating(client()), stock));
    listen(app).await
}

#[test]
fn an_attack_follows_the_customer_to_the_next_service() {
    run(async {
        let stock = serve_stock().await;
        let front = serve_front(stock).await;
        let client = client();
        let attack = start("baggage-chain-c42", "customer", "c-42");

        for _ in 0..3 {
            for (customer, expected) in [
                ("c-42", "customer=c-42 tenant=- role=- stock=hit"),
                ("c-7", "customer=c-7 tenant=- role=- stock=ok"),
            ] {
                let (status, body) = send(
                    &client,
                    front,
                    "/front",
                    &[("x-customer-id", customer.as_bytes())],
                )
                .await;
                assert_eq!(status, StatusCode::OK);
                assert_eq!(body, expected);
            }
            let (_, body) = send(&client, front, "/front", &[]).await;
            assert_eq!(body, "customer=- tenant=- role=- stock=ok");
        }
        let status = attack.status();
        assert_eq!((status.matched, status.hits), (3, 3));
    });
}

#[test]
fn only_members_whose_key_is_written_are_replaced() {
    let layer = PropagateFacetsLayer::new()
        .facet("customer", "customer")
        .facet("country", "country");
    let long = "c".repeat(300);
    for customer in [long.as_str(), ""] {
        let mut headers = hyper::HeaderMap::new();
        headers.insert("baggage", "customer=c-7".parse().unwrap());
        Facets::new()
            .with("customer", customer)
            .with("country", "NL")
            .scope(|| layer.write_baggage(&mut headers));
        // The customer cannot be written, so the one already there stays.
        assert_eq!(headers["baggage"], "customer=c-7,country=NL");
    }

    // Two facets mapped to one key: the first that can be written is.
    let shared = PropagateFacetsLayer::new().facet("a", "k").facet("b", "k");
    let mut headers = hyper::HeaderMap::new();
    Facets::new()
        .with("a", "")
        .with("b", "bee")
        .scope(|| shared.write_baggage(&mut headers));
    assert_eq!(headers["baggage"], "k=bee");
}

#[test]
fn write_baggage_serves_clients_that_are_not_tower_services() {
    let layer = PropagateFacetsLayer::new().facet("customer", "customer");
    let mut headers = hyper::HeaderMap::new();
    headers.insert("baggage", "customer=c-7,x=1".parse().unwrap());
    Facets::new()
        .with("customer", "c-42")
        .scope(|| layer.write_baggage(&mut headers));
    assert_eq!(headers["baggage"], "x=1,customer=c-42");
    // Outside any scope there is nothing to write.
    let mut untouched = hyper::HeaderMap::new();
    layer.write_baggage(&mut untouched);
    assert!(untouched.is_empty());
}
