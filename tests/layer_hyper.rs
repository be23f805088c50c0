//! The facets layer around a `service_fn`, served by hyper's HTTP/1 server on loopback
//! through hyper-util's `TowerToHyperService`; and the layer called directly, inside facets
//! that are already in scope.
#![cfg(all(feature = "enabled", feature = "tower"))]

mod support;

use std::convert::Infallible;
use std::net::SocketAddr;

use fault_runtime::layer::{FacetsLayer, MAX_VALUE_BYTES};
use fault_runtime::{Attack, Facets, Fault, fault_point};
use http_body_util::{BodyExt as _, Empty, Full};
use hyper::body::{Body, Bytes};
use hyper::server::conn::http1;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use support::layer::{HttpClient, client, run, send};
use tower::{Layer as _, ServiceExt as _};

fault_runtime::context_facets!(customer, country);

#[fault_point(name = "layer.hyper.lookup")]
fn lookup() -> Result<(), Fault> {
    Ok(())
}

#[fault_point(name = "layer.hyper.store")]
async fn store() -> Result<(), Fault> {
    tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    Ok(())
}

async fn save() -> Result<(), Fault> {
    tokio::task::yield_now().await;
    store().await
}

/// Calls both points; answers `customer=.. country=.. lookup=hit|ok store=hit|ok`.
async fn handle<B>(_request: Request<B>) -> Result<Response<Full<Bytes>>, Infallible> {
    let lookup = if lookup().is_err() { "hit" } else { "ok" };
    let store = if save().await.is_err() { "hit" } else { "ok" };
    let facets = Facets::current();
    let text = format!(
        "customer={} country={} lookup={lookup} store={store}",
        facets.get("customer").unwrap_or("-"),
        facets.get("country").unwrap_or("-"),
    );
    Ok(Response::new(Full::new(Bytes::from(text))))
}

fn layer() -> FacetsLayer {
    FacetsLayer::new()
        .header("X-Customer-Id", "customer")
        .header("x-country", "country")
        // A second source of the same facet: the first mapping that gives a value wins.
        .header("x-region", "country")
}

async fn serve() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port on loopback");
    let addr = listener.local_addr().expect("the bound address");
    let layer = layer();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let service = TowerToHyperService::new(layer.layer(tower::service_fn(handle)));
            tokio::spawn(async move {
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

async fn fetch(client: &HttpClient, addr: SocketAddr, headers: &[(&str, &[u8])]) -> String {
    let (status, body) = send(client, addr, "/", headers).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

#[test]
fn an_attack_on_one_customer_hits_only_that_customers_requests() {
    run(async {
        let addr = serve().await;
        let client = client();
        let attack = fault_runtime::start(
            Attack::builder("layer-hyper-c42", "layer.hyper.*")
                .facet("customer", "c-42")
                .error("drill")
                .build()
                .unwrap(),
        )
        .unwrap();

        for _ in 0..3 {
            assert_eq!(
                fetch(&client, addr, &[("x-customer-id", b"c-42")]).await,
                "customer=c-42 country=- lookup=hit store=hit"
            );
            assert_eq!(
                fetch(
                    &client,
                    addr,
                    &[("x-customer-id", b"c-7"), ("x-country", b"NL")]
                )
                .await,
                "customer=c-7 country=NL lookup=ok store=ok"
            );
            assert_eq!(
                fetch(&client, addr, &[]).await,
                "customer=- country=- lookup=ok store=ok"
            );
        }
        let too_long = "c".repeat(MAX_VALUE_BYTES + 1);
        for ignored in [b"c-42\xff".as_slice(), too_long.as_bytes(), b""] {
            assert_eq!(
                fetch(&client, addr, &[("x-customer-id", ignored)]).await,
                "customer=- country=- lookup=ok store=ok"
            );
        }

        let status = attack.status();
        assert_eq!((status.matched, status.hits), (6, 6));
    });
}

#[test]
fn the_first_header_mapped_to_a_facet_that_gives_a_value_wins() {
    run(async {
        let addr = serve().await;
        let client = client();
        let answer = fetch(&client, addr, &[("x-region", b"EU"), ("x-country", b"NL")]).await;
        assert_eq!(answer, "customer=- country=NL lookup=ok store=ok");
        let answer = fetch(&client, addr, &[("x-region", b"EU")]).await;
        assert_eq!(answer, "customer=- country=EU lookup=ok store=ok");
        // An ignored value gives way to the next mapping.
        let answer = fetch(&client, addr, &[("x-region", b"EU"), ("x-country", b"")]).await;
        assert_eq!(answer, "customer=- country=EU lookup=ok store=ok");
    });
}

async fn body_text<B>(response: Response<B>) -> String
where
    B: Body,
    B::Error: std::fmt::Debug,
{
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8_lossy(&bytes).into_owned()
}

#[test]
fn facets_in_scope_around_the_layer_are_kept_and_the_requests_laid_over_them() {
    run(async {
        let service = layer().layer(tower::service_fn(handle));
        let request = || Request::get("/").body(Empty::<Bytes>::new()).unwrap();
        let mut with_customer = request();
        with_customer
            .headers_mut()
            .insert("x-customer-id", "c-42".parse().unwrap());

        let outer = Facets::new().with("country", "NL").with("customer", "c-1");
        let response = outer
            .within(service.clone().oneshot(with_customer))
            .await
            .unwrap();
        assert_eq!(
            body_text(response).await,
            "customer=c-42 country=NL lookup=ok store=ok"
        );
        let response = outer.within(service.oneshot(request())).await.unwrap();
        assert_eq!(
            body_text(response).await,
            "customer=c-1 country=NL lookup=ok store=ok"
        );
        // The scope ends with the request.
        assert!(Facets::current().is_empty());
    });
}

#[test]
fn facets_reads_the_mapping_without_a_service() {
    let mut headers = hyper::HeaderMap::new();
    headers.insert("x-customer-id", "c-42".parse().unwrap());
    headers.insert("x-unmapped", "x".parse().unwrap());
    let facets = layer().facets(&headers);
    assert_eq!(facets.iter().collect::<Vec<_>>(), [("customer", "c-42")]);
}
