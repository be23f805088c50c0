//! Request facets that are not arguments of the annotated function.
//!
//! Most facets (the customer, the country) are known once per request, at its edge, far
//! from the function an attack aims at. A [`Facets`] value carries them: entered as a scope
//! for synchronous code ([`Facets::enter`], [`Facets::scope`]) or wrapped around a future
//! ([`Facets::within`]), it is seen by every point called inside, across `.await`, and
//! merged with the point's own facets (the point's value wins on a clash).
//!
//! Work that leaves the current task does not inherit the context: capture it explicitly,
//! `tokio::spawn(Facets::current().within(job))`, or move `Facets::current()` into the
//! thread and call [`Facets::scope`] there.
//!
//! With the `enabled` feature off, a `Facets` value records nothing and every method is a
//! plain pass-through, so middleware that builds it costs nothing in release builds.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// A set of request facets: key/value facts such as `customer=c-42`.
///
/// Cloning is cheap (a reference count).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Facets {
    // Sorted by key, keys unique. Requests carry a handful of facets, so a sorted list
    // beats a map in both size and lookup time.
    #[cfg(feature = "enabled")]
    entries: Arc<[(Arc<str>, Arc<str>)]>,
    #[cfg(not(feature = "enabled"))]
    entries: PhantomData<Arc<()>>,
}

#[cfg(feature = "enabled")]
thread_local! {
    static CURRENT: std::cell::RefCell<Facets> = std::cell::RefCell::new(Facets::new());
}

impl Facets {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// The facets in scope on this thread or task now (empty outside any scope).
    ///
    /// Use it to carry the context into spawned tasks and threads.
    pub fn current() -> Self {
        #[cfg(feature = "enabled")]
        {
            CURRENT
                .try_with(|current| current.borrow().clone())
                .unwrap_or_default()
        }
        #[cfg(not(feature = "enabled"))]
        {
            Self::new()
        }
    }

    /// Returns the set with `key` set to `value`, replacing an earlier value of `key`.
    #[must_use]
    pub fn with(self, key: impl Into<String>, value: impl Into<String>) -> Self {
        #[cfg(feature = "enabled")]
        {
            let key: String = key.into();
            let value: String = value.into();
            let mut entries: Vec<(Arc<str>, Arc<str>)> = self.entries.to_vec();
            match entries.binary_search_by(|(k, _)| (**k).cmp(key.as_str())) {
                Ok(found) => entries[found].1 = value.into(),
                Err(slot) => entries.insert(slot, (key.into(), value.into())),
            }
            Self {
                entries: entries.into(),
            }
        }
        #[cfg(not(feature = "enabled"))]
        {
            let _ = (key, value);
            self
        }
    }

    /// The value of `key`, if set.
    pub fn get(&self, key: &str) -> Option<&str> {
        #[cfg(feature = "enabled")]
        {
            self.entries
                .binary_search_by(|(k, _)| (**k).cmp(key))
                .ok()
                .map(|found| &*self.entries[found].1)
        }
        #[cfg(not(feature = "enabled"))]
        {
            let _ = key;
            None
        }
    }

    /// The facets, sorted by key.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        #[cfg(feature = "enabled")]
        {
            self.entries.iter().map(|(k, v)| (&**k, &**v))
        }
        #[cfg(not(feature = "enabled"))]
        {
            std::iter::empty()
        }
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }

    /// `self` laid over `base`: keys of `self` win.
    #[must_use]
    fn over(&self, base: &Facets) -> Facets {
        #[cfg(feature = "enabled")]
        {
            if base.is_empty() {
                return self.clone();
            }
            if self.is_empty() {
                return base.clone();
            }
            let mut merged = base.clone();
            for (key, value) in self.iter() {
                merged = merged.with(key, value);
            }
            merged
        }
        #[cfg(not(feature = "enabled"))]
        {
            let _ = base;
            self.clone()
        }
    }

    /// Puts these facets in scope on this thread, over the ones already there, until the
    /// guard drops.
    ///
    /// Do not hold the guard across `.await`: the task may move to another thread. Use
    /// [`Facets::within`] for async code.
    #[must_use = "the facets leave scope when the guard drops"]
    pub fn enter(&self) -> FacetsGuard {
        #[cfg(feature = "enabled")]
        {
            let merged = self.over(&Facets::current());
            FacetsGuard {
                previous: swap_current(merged),
                _not_send: PhantomData,
            }
        }
        #[cfg(not(feature = "enabled"))]
        {
            FacetsGuard {
                _not_send: PhantomData,
            }
        }
    }

    /// Runs `body` with these facets in scope, over the ones already there.
    pub fn scope<R>(&self, body: impl FnOnce() -> R) -> R {
        let _guard = self.enter();
        body()
    }

    /// Wraps a future so that these facets, laid over the ones in scope now, are in scope
    /// every time it is polled, on whatever thread polls it.
    pub fn within<F: Future>(&self, future: F) -> WithFacets<F> {
        WithFacets {
            facets: self.over(&Facets::current()),
            future,
        }
    }
}

#[cfg(feature = "tower")]
impl Facets {
    /// Puts exactly these facets in scope on this thread, not laid over the ones there,
    /// until the guard drops. For callers that built the set from [`Facets::current`]
    /// already, so the merge of [`Facets::enter`] would redo their work.
    pub(crate) fn enter_exactly(&self) -> FacetsGuard {
        #[cfg(feature = "enabled")]
        {
            FacetsGuard {
                previous: swap_current(self.clone()),
                _not_send: PhantomData,
            }
        }
        #[cfg(not(feature = "enabled"))]
        {
            FacetsGuard {
                _not_send: PhantomData,
            }
        }
    }

    /// Wraps a future so that exactly these facets are in scope whenever it is polled; the
    /// future-wrapping twin of [`Facets::enter_exactly`].
    pub(crate) fn within_exactly<F: Future>(self, future: F) -> WithFacets<F> {
        WithFacets {
            facets: self,
            future,
        }
    }
}

impl std::fmt::Debug for Facets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Values are customer data: show the keys only.
        f.debug_set().entries(self.iter().map(|(k, _)| k)).finish()
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Facets {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(pairs: I) -> Self {
        pairs
            .into_iter()
            .fold(Facets::new(), |facets, (k, v)| facets.with(k, v))
    }
}

#[cfg(feature = "enabled")]
fn swap_current(facets: Facets) -> Option<Facets> {
    CURRENT
        .try_with(|current| std::mem::replace(&mut *current.borrow_mut(), facets))
        .ok()
}

/// Keeps facets in scope on this thread until dropped; made by [`Facets::enter`].
#[must_use = "the facets leave scope when the guard drops"]
pub struct FacetsGuard {
    #[cfg(feature = "enabled")]
    previous: Option<Facets>,
    // Restoring the previous facets must happen on the thread that entered them.
    _not_send: PhantomData<*const ()>,
}

impl Drop for FacetsGuard {
    fn drop(&mut self) {
        #[cfg(feature = "enabled")]
        if let Some(previous) = self.previous.take() {
            swap_current(previous);
        }
    }
}

impl std::fmt::Debug for FacetsGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FacetsGuard").finish_non_exhaustive()
    }
}

pin_project_lite::pin_project! {
    /// A future with facets in scope whenever it is polled; made by [`Facets::within`].
    #[derive(Debug)]
    #[must_use = "futures do nothing unless polled"]
    pub struct WithFacets<F> {
        facets: Facets,
        #[pin]
        future: F,
    }
}

impl<F: Future> Future for WithFacets<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        #[cfg(feature = "enabled")]
        let _guard = FacetsGuard {
            previous: swap_current(this.facets.clone()),
            _not_send: PhantomData,
        };
        #[cfg(not(feature = "enabled"))]
        let _ = this.facets;
        this.future.poll(cx)
    }
}
