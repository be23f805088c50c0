//! Request facets from HTTP headers: a `tower` layer (feature `tower`), and W3C Baggage in
//! and out (feature `baggage`).
//!
//! [`FacetsLayer`] maps request headers to facets and puts them in scope for everything the
//! request does: the inner service's `call` and its response future run inside
//! [`Facets::within`], so every point called while the request is handled sees them, across
//! `.await`. Facets already in scope when the request arrives are kept; the request's
//! values are laid over them.
//!
//! ```
//! use fault_runtime::layer::FacetsLayer;
//!
//! let layer = FacetsLayer::new()
//!     .header("x-customer-id", "customer")
//!     .header("x-country", "country");
//! ```
//!
//! # Which values become facets
//!
//! A mapped header gives its facet when it appears exactly once in the request, and its
//! value is UTF-8, not empty, and at most [`MAX_VALUE_BYTES`] bytes long. Otherwise the
//! facet is not set from that header: a value that is too long is ignored, not cut, since a
//! cut value could name someone else; a header given twice is ambiguous. Values are taken
//! exactly as they arrive (the HTTP server has already trimmed the white space around
//! them); no case folding, no decoding. Among several headers mapped to one facet key, the
//! first mapping configured that gives a value wins.
//!
//! # Requests cannot widen an attack
//!
//! Headers and baggage only select among attacks that an operator started. Nothing in a
//! request can start, change or widen an attack: the layer sets facet values and nothing
//! else, an attack matches a facet only by the exact values it lists (a value `*` in a
//! header is the text `*`, not "any value"), and the facets set are only the keys the
//! layer was configured with. A request whose facets no attack names is not hit, and is
//! not even counted as matched.
//!
//! # With `enabled` off
//!
//! The layer still compiles and can stay in the service: it reads no header, and passes
//! requests and responses through untouched, since [`Facets`] records nothing then.
//!
//! # With axum
//!
//! ```no_run
//! use axum::Router;
//! use axum::routing::get;
//! use fault_runtime::layer::FacetsLayer;
//! use fault_runtime::{Fault, fault_point};
//!
//! fault_runtime::context_facets!(customer);
//!
//! #[fault_point(name = "orders.list")]
//! async fn list_orders() -> Result<String, Fault> {
//!     Ok("[]".into())
//! }
//!
//! async fn orders() -> String {
//!     // An attack aimed at `customer = c-42` hits this call only in c-42's requests.
//!     list_orders().await.unwrap_or_else(|fault| fault.to_string())
//! }
//!
//! #[tokio::main(flavor = "current_thread")]
//! async fn main() -> std::io::Result<()> {
//!     let app = Router::new()
//!         .route("/orders", get(orders))
//!         .layer(FacetsLayer::new().header("x-customer-id", "customer"));
//!     let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//!     axum::serve(listener, app).await
//! }
//! ```
//!
//! # With hyper
//!
//! A `service_fn` wrapped by the layer, served through hyper-util's `TowerToHyperService`:
//!
//! ```no_run
//! use std::convert::Infallible;
//!
//! use http_body_util::Full;
//! use hyper::body::{Bytes, Incoming};
//! use hyper::server::conn::http1;
//! use hyper::{Request, Response};
//! use hyper_util::rt::TokioIo;
//! use hyper_util::service::TowerToHyperService;
//! use fault_runtime::Facets;
//! use fault_runtime::layer::FacetsLayer;
//! use tower_layer::Layer as _;
//!
//! async fn handle(_request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
//!     let customer = Facets::current().get("customer").unwrap_or("nobody").to_owned();
//!     Ok(Response::new(Full::new(Bytes::from(customer))))
//! }
//!
//! #[tokio::main(flavor = "current_thread")]
//! async fn main() -> std::io::Result<()> {
//!     let layer = FacetsLayer::new().header("x-customer-id", "customer");
//!     let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//!     loop {
//!         let (stream, _) = listener.accept().await?;
//!         let service = layer.layer(tower::service_fn(handle));
//!         tokio::spawn(async move {
//!             let service = TowerToHyperService::new(service);
//!             let _ = http1::Builder::new()
//!                 .serve_connection(TokioIo::new(stream), service)
//!                 .await;
//!         });
//!     }
//! }
//! ```
//!
//! The layer is a plain `tower` layer, so other tower-based servers take it the same way
//! (tonic's `Server::builder().layer(...)`, for instance).
#![cfg_attr(feature = "baggage", doc = "")]
#![cfg_attr(feature = "baggage", doc = include_str!("baggage.md"))]

#[cfg(feature = "baggage")]
mod baggage;
#[cfg(feature = "baggage")]
mod propagate;

use std::sync::Arc;
use std::task::{Context, Poll};

use http::{HeaderMap, HeaderName, Request};
use tower_layer::Layer;
use tower_service::Service;

#[cfg(feature = "baggage")]
pub use propagate::{PropagateFacets, PropagateFacetsLayer};

use crate::{Facets, WithFacets};

/// The longest value, in bytes, that a header or a baggage member may give a facet; a
/// longer one is ignored. Facet values are identifiers (a customer, a country, a device),
/// far shorter than this.
pub const MAX_VALUE_BYTES: usize = 256;

/// The largest baggage read, in bytes, all `baggage` headers of a request together; a
/// larger one is ignored whole. The specification asks every platform to carry at least
/// this much. [`PropagateFacetsLayer`] writes no more than this either.
#[cfg(feature = "baggage")]
pub const MAX_BAGGAGE_BYTES: usize = 8192;

/// The most list-members a baggage read may have, malformed ones counted; one with more
/// is ignored whole. The specification's grammar allows no more than this.
/// [`PropagateFacetsLayer`] writes no more than this either.
#[cfg(feature = "baggage")]
pub const MAX_BAGGAGE_MEMBERS: usize = 180;

/// A facet value from the bytes a request carried: UTF-8, not empty, at most
/// [`MAX_VALUE_BYTES`] bytes.
fn facet_value(bytes: &[u8]) -> Option<&str> {
    if bytes.is_empty() || bytes.len() > MAX_VALUE_BYTES {
        return None;
    }
    std::str::from_utf8(bytes).ok()
}

/// A `tower` layer that puts facets taken from each request's headers (and, with the
/// feature `baggage`, its baggage) in scope while the request is handled.
///
/// See the [module docs](self) for which values are taken, and for examples with axum and
/// hyper. Cloning is cheap (a reference count).
#[derive(Clone, Debug, Default)]
pub struct FacetsLayer {
    mapping: Arc<Mapping>,
}

/// Where each facet comes from.
#[derive(Clone, Debug, Default)]
struct Mapping {
    /// Header → facet key, in the order configured.
    headers: Vec<(HeaderName, Arc<str>)>,
    /// Baggage key → facet key, in the order configured.
    #[cfg(feature = "baggage")]
    baggage: Vec<(Box<str>, Arc<str>)>,
}

impl FacetsLayer {
    /// A layer that maps nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes the facet `facet` from the header `name` (matched without regard to case).
    ///
    /// # Panics
    ///
    /// When `name` is not a valid header name, or `facet` is empty: both are mistakes in
    /// the program, best seen when it starts.
    #[must_use]
    pub fn header(mut self, name: &str, facet: impl Into<String>) -> Self {
        let header = HeaderName::from_bytes(name.as_bytes())
            .unwrap_or_else(|_| panic!("FacetsLayer::header: {name:?} is not a header name"));
        let facet = facet_key(facet.into(), "FacetsLayer::header");
        Arc::make_mut(&mut self.mapping)
            .headers
            .push((header, facet));
        self
    }

    /// Takes the facet `facet` from the baggage member `key`: an allow-list entry. Baggage
    /// members whose key is not given here are ignored.
    ///
    /// # Panics
    ///
    /// When `key` is not a baggage key (an HTTP token: letters, digits and
    /// ``!#$%&'*+-.^_`|~``), or `facet` is empty.
    #[cfg(feature = "baggage")]
    #[must_use]
    pub fn baggage(mut self, key: &str, facet: impl Into<String>) -> Self {
        assert!(
            baggage::is_token(key),
            "FacetsLayer::baggage: {key:?} is not a baggage key"
        );
        let facet = facet_key(facet.into(), "FacetsLayer::baggage");
        Arc::make_mut(&mut self.mapping)
            .baggage
            .push((key.into(), facet));
        self
    }

    /// The facets this layer takes from a request with these headers, without the facets
    /// in scope around it. Empty with the `enabled` feature off.
    ///
    /// For frameworks that cannot take a tower layer: put the result in scope with
    /// [`Facets::within`] around the handling of the request.
    pub fn facets(&self, headers: &HeaderMap) -> Facets {
        self.mapping.lay_over(Facets::new(), headers)
    }
}

/// Checks a configured facet key.
fn facet_key(facet: String, caller: &str) -> Arc<str> {
    assert!(!facet.is_empty(), "{caller}: the facet key is empty");
    facet.into()
}

impl Mapping {
    /// `base` with the request's facets laid over it.
    fn lay_over(&self, base: Facets, headers: &HeaderMap) -> Facets {
        if !crate::ENABLED {
            return base;
        }
        let mut facets = base;

        // Baggage first, so that a header mapped to the same facet wins. Each list is
        // applied from its last mapping to its first, so the first one that gives a value
        // is the one left standing. A mapped header that is present decides its facet even
        // when its value is unusable (repeated, too long): baggage, which any client can
        // write, does not fill in for a header a trusted proxy set.
        #[cfg(feature = "baggage")]
        if !self.baggage.is_empty() {
            if let Some(members) = baggage::combined(headers) {
                if let Some(members) = baggage::parse(&members) {
                    let decided_by_header = |facet: &str| {
                        self.headers.iter().any(|(header, mapped)| {
                            **mapped == *facet && headers.contains_key(header)
                        })
                    };
                    for (key, facet) in self.baggage.iter().rev() {
                        if decided_by_header(facet) {
                            continue;
                        }
                        if let Some(value) = baggage::value_of(&members, key) {
                            facets = facets.with(&**facet, value);
                        }
                    }
                }
            }
        }

        for (header, facet) in self.headers.iter().rev() {
            let mut values = headers.get_all(header).iter();
            let (Some(value), None) = (values.next(), values.next()) else {
                continue;
            };
            if let Some(value) = facet_value(value.as_bytes()) {
                facets = facets.with(&**facet, value);
            }
        }
        facets
    }
}

impl<S> Layer<S> for FacetsLayer {
    type Service = FacetsService<S>;

    fn layer(&self, inner: S) -> FacetsService<S> {
        FacetsService {
            inner,
            mapping: Arc::clone(&self.mapping),
        }
    }
}

/// The service [`FacetsLayer`] wraps around another: each request is handled with its
/// facets in scope.
#[derive(Clone, Debug)]
pub struct FacetsService<S> {
    inner: S,
    mapping: Arc<Mapping>,
}

impl<S> FacetsService<S> {
    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The wrapped service, unwrapped.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, B> Service<Request<B>> for FacetsService<S>
where
    S: Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = WithFacets<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    // Limitation: a response body that does work of its own while it streams (one that
    // calls points as it produces chunks) does so outside the request's facets, since only
    // `call` and the response future are wrapped. Wrapping the body too would change the
    // response type; such a body can capture `Facets::current()` itself.
    fn call(&mut self, request: Request<B>) -> Self::Future {
        let facets = self.mapping.lay_over(Facets::current(), request.headers());
        let future = {
            let _scope = facets.enter_exactly();
            self.inner.call(request)
        };
        facets.within_exactly(future)
    }
}
