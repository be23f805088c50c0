//! Request facets that are not arguments of the annotated function.
//!
//! Most facets (the customer, the country) are known once per request, at its edge, far
//! from the function an attack aims at. A [`Facets`] value carries them: entered as a scope
//! for synchronous code ([`Facets::enter`], [`Facets::scope`]) or wrapped around a future
//! ([`Facets::within`]), it is seen by every point called inside, across `.await`, and
//! merged with the point's own facets (the point's value wins on a clash).
//!
//! With the `enabled` feature off, a `Facets` value records nothing and every method is a
//! plain pass-through, so middleware that builds it costs nothing in release builds.
//!
//! Work that leaves the current task (a task given to `tokio::spawn`, a closure run by
//! another thread, a blocking pool or a rayon pool) sees the context only when it is
//! carried there: see [`Facets`], whose docs show [`Facets::within`], [`Facets::carry`] and
//! [`Facets::carry_each`] with tokio, threads and rayon.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// A set of request facets: key/value facts such as `customer=c-42`.
///
/// Cloning is cheap (a reference count).
///
/// # Carrying the context into spawned work
///
/// The context lives with the thread or the task that entered it. Work that leaves them (a
/// task given to `tokio::spawn`, a closure run by another thread, a blocking pool or a
/// rayon pool) does not see it unless it is captured where the work is made, with
/// [`Facets::current`], and handed over with one of three wrappers:
///
/// - a future (`tokio::spawn`): [`Facets::within`], and every poll is in scope;
/// - a closure run once (`std::thread::spawn`, `spawn_blocking`, `rayon::spawn`, each side
///   of `rayon::join`): [`Facets::carry`], and the run is in scope;
/// - a closure run per item (`par_iter().map(...)`, `for_each`): [`Facets::carry_each`], and
///   each call is in scope, on whatever thread makes it.
///
/// Each wrapper puts the captured facets in scope while the work runs and takes them out
/// when it returns, so a pool thread that runs items of several requests in turn sees each
/// item's own facets, never the previous one's. Work handed over without a wrapper sees no
/// facets at all (or, on a thread that is itself inside a scope, that thread's), and an
/// attack aimed through the context does not reach it.
///
/// In the examples, `customer()` stands for any work that reads the context, such as a
/// call of an annotated function: it returns the customer it sees.
///
/// A task:
///
/// ```
/// use fault_runtime::Facets;
///
/// fn customer() -> Option<String> {
///     Facets::current().get("customer").map(str::to_owned)
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let request = Facets::new().with("customer", "c-42");
/// let seen = request
///     .within(async {
///         // Captured here, in the request's scope; the task may run on any worker.
///         let task = Facets::current().within(async { customer() });
///         tokio::spawn(task).await.unwrap()
///     })
///     .await;
/// assert_eq!(seen.as_deref(), fault_runtime::ENABLED.then_some("c-42"));
/// # }
/// ```
///
/// Blocking work on tokio's pool, and a thread of its own:
///
/// ```
/// # use fault_runtime::Facets;
/// # fn customer() -> Option<String> {
/// #     Facets::current().get("customer").map(str::to_owned)
/// # }
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let request = Facets::new().with("customer", "c-42");
/// let (blocking, thread) = request
///     .within(async {
///         let blocking = tokio::task::spawn_blocking(Facets::current().carry(customer));
///         let thread = std::thread::spawn(Facets::current().carry(customer));
///         (blocking.await.unwrap(), thread.join().unwrap())
///     })
///     .await;
/// assert_eq!(blocking.as_deref(), fault_runtime::ENABLED.then_some("c-42"));
/// assert_eq!(thread.as_deref(), fault_runtime::ENABLED.then_some("c-42"));
/// # }
/// ```
///
/// A rayon pool: [`Facets::carry_each`] for the items of a parallel iterator,
/// [`Facets::carry`] for `rayon::spawn` and each side of `rayon::join`:
///
/// ```
/// # use fault_runtime::Facets;
/// # fn customer() -> Option<String> {
/// #     Facets::current().get("customer").map(str::to_owned)
/// # }
/// use rayon::prelude::*;
///
/// let orders = vec![100_u64, 250, 75];
/// let request = Facets::new().with("customer", "c-42");
/// let (per_order, (left, right), spawned) = request.scope(|| {
///     let per_order: Vec<Option<String>> = orders
///         .par_iter()
///         .map(Facets::current().carry_each(|_order| customer()))
///         .collect();
///
///     let facets = Facets::current();
///     let sides = rayon::join(facets.carry(customer), facets.carry(customer));
///
///     let (sender, receiver) = std::sync::mpsc::channel();
///     rayon::spawn(facets.carry(move || sender.send(customer()).unwrap()));
///     (per_order, sides, receiver.recv().unwrap())
/// });
///
/// let expected = fault_runtime::ENABLED.then_some("c-42");
/// assert!(per_order.iter().all(|seen| seen.as_deref() == expected));
/// assert_eq!((left.as_deref(), right.as_deref()), (expected, expected));
/// assert_eq!(spawned.as_deref(), expected);
/// ```
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
    /// The scopes open on this thread, innermost last, each with the facets it set aside.
    static SCOPES: std::cell::RefCell<Vec<OpenScope>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// A scope entered on this thread: what it set aside, and whether its guard still lives.
#[cfg(feature = "enabled")]
struct OpenScope {
    previous: Facets,
    open: bool,
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
                slot: open_scope(merged),
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
    ///
    /// `Facets::current().within(task)` carries the request's context into a task given to
    /// `tokio::spawn`; see [carrying the context](Facets#carrying-the-context-into-spawned-work).
    pub fn within<F: Future>(&self, future: F) -> WithFacets<F> {
        WithFacets {
            facets: self.over(&Facets::current()),
            future,
        }
    }

    /// Wraps a closure that runs once, elsewhere, so that these facets, laid over the ones
    /// in scope now, are in scope while it runs, on whatever thread runs it.
    ///
    /// `Facets::current().carry(work)` carries the request's context into
    /// `std::thread::spawn`, `tokio::task::spawn_blocking`, `rayon::spawn` or a side of
    /// `rayon::join`. While `work` runs, the facets in scope are exactly the captured ones:
    /// those the running thread had are set aside, and are back when it returns or unwinds.
    ///
    /// With the `enabled` feature off, this returns `work` itself.
    ///
    /// ```
    /// use fault_runtime::Facets;
    ///
    /// let request = Facets::new().with("customer", "c-42");
    /// let worker = request.scope(|| {
    ///     std::thread::spawn(Facets::current().carry(|| {
    ///         Facets::current().get("customer").map(str::to_owned)
    ///     }))
    /// });
    /// let seen = worker.join().unwrap();
    /// assert_eq!(seen.as_deref(), fault_runtime::ENABLED.then_some("c-42"));
    /// ```
    pub fn carry<F, R>(&self, work: F) -> impl FnOnce() -> R + use<F, R>
    where
        F: FnOnce() -> R,
    {
        #[cfg(feature = "enabled")]
        {
            let facets = self.over(&Facets::current());
            move || {
                let _guard = facets.install();
                work()
            }
        }
        #[cfg(not(feature = "enabled"))]
        {
            work
        }
    }

    /// Wraps a closure that runs once per item, elsewhere, so that these facets, laid over
    /// the ones in scope now, are in scope during each call, on whatever thread makes it.
    ///
    /// `Facets::current().carry_each(f)` carries the request's context into the items of a
    /// rayon parallel iterator: `items.par_iter().map(Facets::current().carry_each(f))`.
    /// Each call sets the captured facets in scope and takes them out when it returns, so a
    /// pool thread that interleaves the items of several requests sees each item's own.
    /// The wrapper is `Send` and `Sync` when `work` is.
    ///
    /// Capture on the request's thread: inside `ThreadPool::install`, `Facets::current()`
    /// is a pool thread's, not the request's, so build the wrapper before `install` and
    /// move it in. Work that rayon runs without a wrapper may run on a pool thread in the
    /// middle of another request's item, and see that request's facets.
    ///
    /// It wraps a closure of one argument, which covers `map`, `filter`, `for_each` and
    /// their kin. Adaptors that call with two (`fold`, `reduce`, the `_with` ones) can
    /// capture `Facets::current()` and call [`Facets::scope`] inside their closure: that lays
    /// the captured facets over those of the thread that runs it, which on a pool thread
    /// are usually none. With the `enabled` feature off, this returns `work` itself.
    ///
    /// ```
    /// use fault_runtime::Facets;
    ///
    /// let request = Facets::new().with("customer", "c-42");
    /// let tag = request.scope(|| {
    ///     Facets::current().carry_each(|order: u64| {
    ///         let customer = Facets::current().get("customer").unwrap_or("nobody").to_owned();
    ///         format!("{customer}:{order}")
    ///     })
    /// });
    /// // Outside the request's scope, each call still sees its facets.
    /// let expected = if fault_runtime::ENABLED { "c-42:7" } else { "nobody:7" };
    /// assert_eq!(tag(7), expected);
    /// ```
    pub fn carry_each<F, A, R>(&self, work: F) -> impl Fn(A) -> R + use<F, A, R>
    where
        F: Fn(A) -> R,
    {
        #[cfg(feature = "enabled")]
        {
            let facets = self.over(&Facets::current());
            move |item| {
                let _guard = facets.clone().install();
                work(item)
            }
        }
        #[cfg(not(feature = "enabled"))]
        {
            work
        }
    }

    /// Puts exactly these facets in scope on this thread, setting aside the ones there,
    /// until the guard drops: the facets were laid over the context when they were
    /// captured, so laying them over the running thread's own would mix two requests.
    #[cfg(feature = "enabled")]
    fn install(self) -> FacetsGuard {
        FacetsGuard {
            slot: open_scope(self),
            _not_send: PhantomData,
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
                slot: open_scope(self.clone()),
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

/// Puts `facets` in scope on this thread, and returns the scope's place among those open.
#[cfg(feature = "enabled")]
fn open_scope(facets: Facets) -> Option<usize> {
    let previous = swap_current(facets)?;
    SCOPES
        .try_with(|scopes| {
            let mut scopes = scopes.borrow_mut();
            scopes.push(OpenScope {
                previous,
                open: true,
            });
            scopes.len() - 1
        })
        .ok()
}

/// Closes the scope at `slot`. Facets are restored only from the innermost scope outwards,
/// so guards dropped out of order (the outer one first) still leave the thread as they
/// found it once both are gone: restoring the outer scope's facets while an inner one is
/// open would be undone by the inner one's restore, and leave the outer facets in place
/// for every later call on the thread.
#[cfg(feature = "enabled")]
fn close_scope(slot: usize) {
    let _ = SCOPES.try_with(|scopes| {
        let mut scopes = scopes.borrow_mut();
        if let Some(scope) = scopes.get_mut(slot) {
            scope.open = false;
        }
        while scopes.last().is_some_and(|scope| !scope.open) {
            if let Some(scope) = scopes.pop() {
                swap_current(scope.previous);
            }
        }
    });
}

/// Keeps facets in scope on this thread until dropped; made by [`Facets::enter`].
///
/// Guards may drop in any order: the thread is back to the facets it had before the first
/// of them once all of them are gone. A guard that is never dropped (`mem::forget`) keeps
/// its facets, and those of every scope entered before it, in place on the thread.
#[must_use = "the facets leave scope when the guard drops"]
pub struct FacetsGuard {
    #[cfg(feature = "enabled")]
    slot: Option<usize>,
    // Restoring the previous facets must happen on the thread that entered them.
    _not_send: PhantomData<*const ()>,
}

impl Drop for FacetsGuard {
    fn drop(&mut self) {
        #[cfg(feature = "enabled")]
        if let Some(slot) = self.slot.take() {
            close_scope(slot);
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
        let _guard = this.facets.clone().install();
        #[cfg(not(feature = "enabled"))]
        let _ = this.facets;
        this.future.poll(cx)
    }
}
