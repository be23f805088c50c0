//! Two services on loopback, a front and a back, shared by `examples/two_services.rs` and
//! `tests/two_services.rs`.
//!
//! - The front (`POST /order/{sku}`) takes the customer from `x-customer-id` and the tier
//!   from `x-tier` through the facets layer, then asks the back for a price with a hyper
//!   client wrapped in the client layer, which writes the `customer` facet, and only it,
//!   into the `baggage` header.
//! - The back (`GET /quote/{sku}`) takes facets from incoming baggage, for the key
//!   `customer` only, and computes the price in `pricing.quote`, a fault point with no
//!   customer among its arguments. A quote that fails is answered with 502, and the front
//!   passes the failure on.
//!
//! So an attack on `pricing.quote` aimed at one customer reaches that customer's orders
//! through the hop, and a facet the back does not accept from baggage (`tier`, or any key
//! a client forges) never reaches the point.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use fault_runtime::layer::{FacetsLayer, PropagateFacets, PropagateFacetsLayer};
use fault_runtime::{Fault, fault_point};
use http_body_util::{BodyExt as _, Empty};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tower::{Layer as _, ServiceExt as _};

// The facets attacks may name: the customer travels to the back, the tier stays in the front.
fault_runtime::context_facets!(customer, tier);

/// The point inside the back service that drills aim at.
pub const QUOTE_POINT: &str = "pricing.quote";

/// A hyper client of loopback services.
pub type HttpClient = Client<HttpConnector, Empty<Bytes>>;

/// How long the front waits for the back.
const BACK_TIMEOUT: Duration = Duration::from_secs(5);

/// A client for loopback services.
pub fn client() -> HttpClient {
    Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(5))
        .build_http()
}

#[derive(Debug)]
pub enum PricingError {
    UnknownSku,
    /// The price list failed (here: a fault a drill injected).
    Unavailable(Fault),
}

impl From<Fault> for PricingError {
    fn from(fault: Fault) -> Self {
        PricingError::Unavailable(fault)
    }
}

impl fmt::Display for PricingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PricingError::UnknownSku => f.write_str("no such product"),
            PricingError::Unavailable(fault) => write!(f, "pricing unavailable: {fault}"),
        }
    }
}

/// The unit price of a product in cents; stands in for a price list in a database.
#[fault_point(name = "pricing.quote", facets(sku))]
async fn quote(sku: &str) -> Result<u64, PricingError> {
    tokio::time::sleep(Duration::from_millis(1)).await;
    match sku {
        "mug" => Ok(1_200),
        "kettle" => Ok(4_900),
        "filter" => Ok(300),
        _ => Err(PricingError::UnknownSku),
    }
}

/// `GET /quote/{sku}` on the back.
async fn quote_handler(Path(sku): Path<String>) -> Response {
    match quote(&sku).await {
        Ok(cents) => (StatusCode::OK, cents.to_string()).into_response(),
        Err(error @ PricingError::UnknownSku) => {
            (StatusCode::NOT_FOUND, error.to_string()).into_response()
        }
        Err(error @ PricingError::Unavailable(_)) => {
            (StatusCode::BAD_GATEWAY, error.to_string()).into_response()
        }
    }
}

type BackClient = PropagateFacets<HttpClient>;

/// `POST /order/{sku}` on the front: prices the order at the back.
async fn order_handler(
    State((back_client, back)): State<(BackClient, SocketAddr)>,
    Path(sku): Path<String>,
) -> Response {
    let Ok(request) = hyper::Request::get(format!("http://{back}/quote/{sku}")).body(Empty::new())
    else {
        return (StatusCode::BAD_REQUEST, "bad product name").into_response();
    };
    // The handler runs inside the facets layer's scope, and `oneshot` makes the call when
    // first polled, here: the client layer reads the request's facets then.
    let exchange = async {
        let response = back_client.oneshot(request).await.ok()?;
        let status = response.status();
        let body = response.into_body().collect().await.ok()?.to_bytes();
        Some((status, String::from_utf8_lossy(&body).into_owned()))
    };
    match tokio::time::timeout(BACK_TIMEOUT, exchange).await {
        Ok(Some((status, body))) if status.is_success() => {
            (StatusCode::OK, format!("order of {sku} at {body} cents")).into_response()
        }
        Ok(Some((status, body))) => (status, body).into_response(),
        _ => (
            StatusCode::GATEWAY_TIMEOUT,
            "the pricing service did not answer",
        )
            .into_response(),
    }
}

/// Serves `app` on a free port of 127.0.0.1 until the runtime ends.
async fn listen(app: Router) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, app).await {
            eprintln!("a service stopped: {error}");
        }
    });
    Ok(addr)
}

/// The two services' addresses.
pub struct Services {
    pub front: SocketAddr,
    pub back: SocketAddr,
}

/// Starts the back, then the front that calls it; both run until the runtime ends.
pub async fn start() -> std::io::Result<Services> {
    let back = listen(
        Router::new()
            .route("/quote/{sku}", get(quote_handler))
            // Only `customer` is accepted from baggage: a client cannot set any other
            // facet of the back's requests.
            .layer(FacetsLayer::new().baggage("customer", "customer")),
    )
    .await?;
    let back_client = PropagateFacetsLayer::new()
        .facet("customer", "customer")
        .layer(client());
    let front = listen(
        Router::new()
            .route("/order/{sku}", post(order_handler))
            .layer(
                FacetsLayer::new()
                    .header("x-customer-id", "customer")
                    .header("x-tier", "tier"),
            )
            .with_state((back_client, back)),
    )
    .await?;
    Ok(Services { front, back })
}
