//! Injected latency that ends early when the attacks that caused it end.
//!
//! A delay is the sum of the latencies its attacks added. Whenever one of those attacks is
//! halted or expires, its share is dropped from the sum, so halting a drill releases the
//! calls it is holding within moments instead of after their full delay.
//!
//! Synchronous calls sleep on a condition variable. Asynchronous calls return `Pending`
//! and are woken by one timer thread, started on first use, so an injected delay never
//! blocks an executor's thread whatever the executor is.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use crate::registry::Running;

/// One attack's share of a delay.
#[derive(Clone)]
pub(crate) struct Part {
    pub(crate) attack: Arc<Running>,
    pub(crate) length: Duration,
}

/// When a delay ends as things stand, and when it must be looked at again because an
/// attack of it may expire first.
fn schedule(start: Instant, parts: &[Part], now: Instant) -> (Instant, Instant) {
    let mut end = start;
    let mut recheck: Option<Instant> = None;
    for part in parts {
        if part.attack.is_running(now) {
            end += part.length;
            let deadline = part.attack.deadline;
            recheck = Some(recheck.map_or(deadline, |r| r.min(deadline)));
        }
    }
    (end, recheck.map_or(end, |r| r.min(end)))
}

struct Waiting {
    id: u64,
    start: Instant,
    parts: Arc<[Part]>,
    waker: Waker,
}

enum TimerThread {
    NotStarted,
    Running,
    Failed,
}

struct Timers {
    waiting: Vec<Waiting>,
    next_id: u64,
    thread: TimerThread,
}

static TIMERS: Mutex<Timers> = Mutex::new(Timers {
    waiting: Vec::new(),
    next_id: 0,
    thread: TimerThread::NotStarted,
});

/// Wakes sleeping threads when an attack ends.
static SLEEPERS: Condvar = Condvar::new();

/// Wakes the timer thread when a delay is added or an attack ends.
static TIMER: Condvar = Condvar::new();

fn timers() -> MutexGuard<'static, Timers> {
    // The lock guards plain data that every writer leaves consistent, so a panic
    // elsewhere while it was held does not make it unusable.
    TIMERS.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Tells every delay to look again at its attacks: call after ending attacks.
pub(crate) fn attacks_ended() {
    let _timers = timers();
    SLEEPERS.notify_all();
    TIMER.notify_all();
}

/// Sleeps the thread for the delay, returning early as its attacks end.
pub(crate) fn sleep(start: Instant, parts: &[Part]) {
    let mut guard = timers();
    loop {
        let now = Instant::now();
        let (end, recheck) = schedule(start, parts, now);
        if end <= now {
            return;
        }
        guard = SLEEPERS
            .wait_timeout(guard, recheck.saturating_duration_since(now))
            .unwrap_or_else(PoisonError::into_inner)
            .0;
    }
}

/// A delay for async code: `Pending` until it ends, woken by the timer thread.
pub(crate) struct Delay {
    start: Instant,
    parts: Arc<[Part]>,
    registered: Option<u64>,
}

impl Delay {
    pub(crate) fn new(start: Instant, parts: Vec<Part>) -> Self {
        Self {
            start,
            parts: parts.into(),
            registered: None,
        }
    }
}

impl Future for Delay {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut timers = timers();
        let now = Instant::now();
        let (end, _) = schedule(self.start, &self.parts, now);
        if end <= now {
            if let Some(id) = self.registered.take() {
                timers.waiting.retain(|w| w.id != id);
            }
            return Poll::Ready(());
        }
        if !ensure_timer_thread(&mut timers) {
            // Without a timer thread nothing could wake this task: serve no latency
            // rather than hang the call. The failure was logged when it happened.
            return Poll::Ready(());
        }
        match self
            .registered
            .and_then(|id| timers.waiting.iter_mut().find(|w| w.id == id))
        {
            Some(waiting) => waiting.waker.clone_from(cx.waker()),
            None => {
                let id = timers.next_id;
                timers.next_id += 1;
                timers.waiting.push(Waiting {
                    id,
                    start: self.start,
                    parts: Arc::clone(&self.parts),
                    waker: cx.waker().clone(),
                });
                self.registered = Some(id);
            }
        }
        TIMER.notify_all();
        Poll::Pending
    }
}

impl Drop for Delay {
    fn drop(&mut self) {
        if let Some(id) = self.registered {
            timers().waiting.retain(|w| w.id != id);
        }
    }
}

/// Starts the timer thread if it is not running; false if it cannot run.
fn ensure_timer_thread(timers: &mut Timers) -> bool {
    match timers.thread {
        TimerThread::Running => true,
        TimerThread::Failed => false,
        TimerThread::NotStarted => {
            let started = std::thread::Builder::new()
                .name("fault-runtime-timer".into())
                .spawn(run_timer);
            match started {
                Ok(_) => {
                    timers.thread = TimerThread::Running;
                    true
                }
                Err(error) => {
                    tracing::error!(
                        %error,
                        "fault-runtime cannot start its timer thread; async latency \
                         impacts are skipped"
                    );
                    timers.thread = TimerThread::Failed;
                    false
                }
            }
        }
    }
}

/// The timer thread: wakes each waiting task when its delay ends.
fn run_timer() {
    let mut due: Vec<Waker> = Vec::new();
    let mut timers = timers();
    loop {
        let now = Instant::now();
        let mut next: Option<Instant> = None;
        timers.waiting.retain(|waiting| {
            let (end, recheck) = schedule(waiting.start, &waiting.parts, now);
            if end <= now {
                // The task polls again, finds its delay over and returns Ready.
                due.push(waiting.waker.clone());
                false
            } else {
                next = Some(next.map_or(recheck, |n| n.min(recheck)));
                true
            }
        });
        if !due.is_empty() {
            // Wake outside the lock: an executor may poll the task inline, and its poll
            // takes the lock. Then look again before waiting, so no change is missed.
            drop(timers);
            due.drain(..).for_each(Waker::wake);
            timers = self::timers();
            continue;
        }
        timers = match next {
            Some(next) => {
                TIMER
                    .wait_timeout(timers, next.saturating_duration_since(now))
                    .unwrap_or_else(PoisonError::into_inner)
                    .0
            }
            None => TIMER.wait(timers).unwrap_or_else(PoisonError::into_inner),
        };
    }
}
