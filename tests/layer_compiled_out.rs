//! With the `enabled` feature off, the layers still build and pass everything through:
//! no facet is taken from a request, and no `baggage` header is written or changed.
#![cfg(all(not(feature = "enabled"), feature = "baggage"))]

mod support;

use std::convert::Infallible;

use fault_runtime::Facets;
use fault_runtime::layer::{FacetsLayer, PropagateFacetsLayer};
use hyper::{HeaderMap, Request, Response};
use support::block_on;
use tower::{Layer as _, ServiceExt as _};

fn request(headers: &[(&'static str, &'static str)]) -> Request<String> {
    let mut request = Request::new("body".to_owned());
    for (name, value) in headers {
        request.headers_mut().append(*name, value.parse().unwrap());
    }
    request
}

#[test]
fn the_facets_layer_takes_nothing_and_passes_requests_through() {
    let layer = FacetsLayer::new()
        .header("x-customer-id", "customer")
        .baggage("customer", "customer");
    let mut headers = HeaderMap::new();
    headers.insert("x-customer-id", "c-42".parse().unwrap());
    assert!(layer.facets(&headers).is_empty());

    let service = layer.layer(tower::service_fn(|request: Request<String>| async move {
        assert!(Facets::current().is_empty());
        let customer = request.headers()["x-customer-id"]
            .to_str()
            .unwrap()
            .to_owned();
        Ok::<_, Infallible>(Response::new(format!("{customer} {}", request.into_body())))
    }));
    let response = block_on(service.oneshot(request(&[
        ("x-customer-id", "c-42"),
        ("baggage", "customer=c-42"),
    ])))
    .unwrap();
    assert_eq!(response.into_body(), "c-42 body");
}

#[test]
fn the_client_layer_writes_no_baggage() {
    let service = PropagateFacetsLayer::new()
        .facet("customer", "customer")
        .layer(tower::service_fn(|request: Request<String>| async move {
            let baggage: Vec<String> = request
                .headers()
                .get_all("baggage")
                .iter()
                .map(|value| value.to_str().unwrap().to_owned())
                .collect();
            Ok::<_, Infallible>(Response::new(baggage))
        }));
    let facets = Facets::new().with("customer", "c-42");
    let response = block_on(facets.within(service.clone().oneshot(request(&[]))));
    assert!(response.unwrap().into_body().is_empty());
    let existing = request(&[("baggage", "a=1 ; p")]);
    let response = block_on(facets.within(service.oneshot(existing)));
    assert_eq!(response.unwrap().into_body(), ["a=1 ; p"]);
}
