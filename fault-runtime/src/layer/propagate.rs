//! [`PropagateFacetsLayer`]: facets in scope leave with outgoing requests, in `baggage`.

use std::sync::Arc;
use std::task::{Context, Poll};

use http::{HeaderMap, Request};
use tower_layer::Layer;
use tower_service::Service;

use super::baggage;
use crate::Facets;

/// A client-side `tower` layer that writes the facets in scope into each outgoing
/// request's `baggage` header, for the facet keys it is given only.
///
/// The facets are those of [`Facets::current`] when the wrapped service's `call` runs, so
/// call it inside the request's scope (a handler behind [`FacetsLayer`](super::FacetsLayer)
/// is). Writing:
///
/// - each facet given with [`facet`](Self::facet) that is set, not empty and at most
///   [`MAX_VALUE_BYTES`](super::MAX_VALUE_BYTES) bytes long becomes a member, its value
///   percent-encoded, in the order the facets were given; other facets are never written;
/// - a `baggage` header the request already has is kept and merged into one header: a
///   member with a key written here is replaced, members that break the grammar are left
///   out, the others keep their order, spelling and properties and come first;
/// - the result stays within [`MAX_BAGGAGE_MEMBERS`](super::MAX_BAGGAGE_MEMBERS) members
///   and [`MAX_BAGGAGE_BYTES`](super::MAX_BAGGAGE_BYTES) bytes: the facets take the room
///   first, and members already there that do not fit are left out;
/// - when no facet is written, the request is sent as it was, `baggage` header included.
///
/// See the [module docs](super#clients) for an example with hyper-util's client, and for
/// clients that are not built on tower. Cloning is cheap (a reference count).
#[derive(Clone, Debug, Default)]
pub struct PropagateFacetsLayer {
    /// Facet key → baggage key, in the order configured; baggage keys unique.
    keys: Arc<Vec<(Box<str>, Box<str>)>>,
}

impl PropagateFacetsLayer {
    /// A layer that writes no facet yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Writes the facet `facet` as the baggage member `key`: an allow-list entry.
    ///
    /// When two facets are given the same baggage key, the first given that is set wins.
    ///
    /// # Panics
    ///
    /// When `key` is not a baggage key (an HTTP token: letters, digits and
    /// ``!#$%&'*+-.^_`|~``), or `facet` is empty.
    #[must_use]
    pub fn facet(mut self, facet: impl Into<String>, key: &str) -> Self {
        let facet: String = facet.into();
        assert!(
            !facet.is_empty(),
            "PropagateFacetsLayer::facet: the facet key is empty"
        );
        assert!(
            baggage::is_token(key),
            "PropagateFacetsLayer::facet: {key:?} is not a baggage key"
        );
        Arc::make_mut(&mut self.keys).push((facet.into(), key.into()));
        self
    }

    /// Writes the facets in scope now ([`Facets::current`]) into `headers`, as the layer
    /// does for each request.
    ///
    /// For clients that cannot take a tower layer: with reqwest, call it on
    /// `request.headers_mut()` of a built `reqwest::Request`, or from a
    /// reqwest-middleware middleware.
    pub fn write_baggage(&self, headers: &mut HeaderMap) {
        self.write_facets(&Facets::current(), headers);
    }

    /// Writes these facets into `headers`.
    fn write_facets(&self, facets: &Facets, headers: &mut HeaderMap) {
        if facets.is_empty() {
            return;
        }
        let mut ours: Vec<(&str, &str)> = Vec::with_capacity(self.keys.len());
        for (facet, key) in self.keys.iter() {
            if ours.iter().any(|(taken, _)| taken == &&**key) {
                continue;
            }
            // A facet whose value cannot be written leaves the key to the next facet
            // mapped to it.
            if let Some(value) = facets.get(facet).filter(|value| baggage::writable(value)) {
                ours.push((key, value));
            }
        }
        baggage::write(headers, &ours);
    }
}

impl<S> Layer<S> for PropagateFacetsLayer {
    type Service = PropagateFacets<S>;

    fn layer(&self, inner: S) -> PropagateFacets<S> {
        PropagateFacets {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service [`PropagateFacetsLayer`] wraps around a client: each request leaves with
/// the facets in scope in its `baggage` header.
#[derive(Clone, Debug)]
pub struct PropagateFacets<S> {
    inner: S,
    layer: PropagateFacetsLayer,
}

impl<S> PropagateFacets<S> {
    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The wrapped service, unwrapped.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, B> Service<Request<B>> for PropagateFacets<S>
where
    S: Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> S::Future {
        self.layer.write_baggage(request.headers_mut());
        self.inner.call(request)
    }
}
