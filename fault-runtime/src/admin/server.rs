//! The built-in server: the [`AdminService`] over HTTP/1 on a thread and a tokio runtime
//! of its own, so that it serves applications with any runtime, or none.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::net::{SocketAddr, TcpListener as StdListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use http::StatusCode;
use http::header::{CONNECTION, HeaderValue};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, TryAcquireError, watch};
use tokio::task::JoinSet;
use tower_service::Service as _;

use super::auth::Token;
use super::service::refusal;
use super::{AdminConfig, AdminError, AdminService, LOG_TARGET, PeerAddr};

/// How many connections are open at once. When all are taken, a new connection takes the
/// place of the oldest one that has not yet sent a whole request head, which is closed; when
/// every connection has sent one, the new connection waits until one ends.
pub const MAX_CONNECTIONS: usize = 64;

/// How long a client may take to send a request's head, and how long an idle kept-alive
/// connection stays open.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a client may take to send a request's body once its head has arrived.
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// The longest a connection lives, whatever it does; it is closed then, even mid-request.
pub const CONNECTION_LIFETIME: Duration = Duration::from_secs(60);

/// How long [`AdminServer::stop`] lets open connections finish their requests.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

/// How long [`AdminServer::stop`] waits for the server's thread in all.
const STOP_WAIT: Duration = Duration::from_secs(3);

/// The largest request head read (request line and headers); a larger one gets 431.
const MAX_HEAD_BYTES: usize = 16 * 1024;

/// Pause after a failed `accept` (out of file descriptors, say), so that the failure does
/// not spin the thread.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// A running admin endpoint, started by [`serve`]. Stops when dropped.
#[derive(Debug)]
#[must_use = "the endpoint stops as soon as its server is dropped"]
pub struct AdminServer {
    local_addr: SocketAddr,
    shutdown: Option<watch::Sender<bool>>,
    finished: Option<mpsc::Receiver<()>>,
    thread: Option<JoinHandle<()>>,
}

impl AdminServer {
    /// The address the endpoint listens on; with port 0 in the configuration, the port the
    /// system chose.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops accepting connections, lets open ones finish their requests for up to a
    /// second, and waits a few seconds at most for the server's thread to end.
    pub fn stop(mut self) {
        self.shut_down();
    }

    fn shut_down(&mut self) {
        let Some(shutdown) = self.shutdown.take() else {
            return;
        };
        let _ = shutdown.send(true);
        let finished = self
            .finished
            .take()
            .is_none_or(|finished| finished.recv_timeout(STOP_WAIT).is_ok());
        match self.thread.take() {
            // The thread has said it is done, so joining it does not wait.
            Some(thread) if finished => {
                let _ = thread.join();
            }
            _ => tracing::warn!(
                target: LOG_TARGET,
                addr = %self.local_addr,
                "the admin endpoint's thread did not end in time; it is left to end by itself"
            ),
        }
        tracing::info!(target: LOG_TARGET, addr = %self.local_addr, "admin endpoint stopped");
    }
}

impl Drop for AdminServer {
    fn drop(&mut self) {
        self.shut_down();
    }
}

/// Starts the admin endpoint on its own thread, and returns once it listens.
///
/// The address is bound here, so a bad address or a port in use is an error at once. The
/// endpoint runs on a thread named `fault-admin` with a single-threaded tokio runtime of
/// its own: it needs nothing from the application's runtime, and does not take its
/// workers. It stops when the returned [`AdminServer`] is dropped or stopped.
///
/// Binding an address other than loopback logs a warning: the endpoint changes what the
/// process does, and only its token guards it, in clear text.
///
/// ```no_run
/// # fn main() -> Result<(), fault_runtime::admin::AdminError> {
/// use fault_runtime::admin::{AdminConfig, serve};
///
/// let token = std::env::var("DRILL_TOKEN").unwrap_or_default();
/// let server = serve(AdminConfig::new().token(token).port(7878))?;
/// println!("admin endpoint on http://{}", server.local_addr());
/// # Ok(())
/// # }
/// ```
///
/// # Errors
///
/// [`AdminError::MissingToken`], [`AdminError::ShortToken`] or
/// [`AdminError::InvalidToken`] for a token it refuses, [`AdminError::Bind`] when the
/// address cannot be bound, and [`AdminError::Start`] when the thread or its runtime
/// cannot be made.
pub fn serve(config: AdminConfig) -> Result<AdminServer, AdminError> {
    let token = Token::new(config.token.as_deref())?;
    let addr = config.bind_addr();
    let bind_error = |source| AdminError::Bind { addr, source };
    let listener = StdListener::bind(addr).map_err(bind_error)?;
    listener.set_nonblocking(true).map_err(bind_error)?;
    let local_addr = listener.local_addr().map_err(bind_error)?;
    if !local_addr.ip().is_loopback() {
        tracing::warn!(
            target: LOG_TARGET,
            addr = %local_addr,
            "the admin endpoint listens beyond this host; only its token guards it, and \
             HTTP carries the token in clear text"
        );
    }

    let service = AdminService::from_token(token).body_timeout(BODY_READ_TIMEOUT);
    let (shutdown, shutdown_seen) = watch::channel(false);
    let (started_tx, started) = mpsc::channel::<std::io::Result<()>>();
    let (finished_tx, finished) = mpsc::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("fault-admin".into())
        .spawn(move || {
            // Dropped when the thread ends, however it ends: that tells `stop` it is done.
            let _finished = finished_tx;
            // The runtime is made, and dropped, on this thread: a runtime may not be
            // dropped from async code, which the caller of `serve` may be running.
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_io()
                .enable_time()
                .build();
            let runtime = match runtime {
                Ok(runtime) => runtime,
                Err(error) => {
                    let _ = started_tx.send(Err(error));
                    return;
                }
            };
            let listener = {
                let _entered = runtime.enter();
                TcpListener::from_std(listener)
            };
            match listener {
                Ok(listener) => {
                    let _ = started_tx.send(Ok(()));
                    runtime.block_on(accept_connections(listener, service, shutdown_seen));
                }
                Err(error) => {
                    let _ = started_tx.send(Err(error));
                }
            }
            runtime.shutdown_timeout(SHUTDOWN_GRACE);
        })
        .map_err(AdminError::Start)?;

    match started.recv() {
        Ok(Ok(())) => {}
        Ok(Err(error)) => {
            let _ = thread.join();
            return Err(AdminError::Start(error));
        }
        Err(_) => {
            let _ = thread.join();
            return Err(AdminError::Start(std::io::Error::other(
                "the admin endpoint's thread ended before it could listen",
            )));
        }
    }
    tracing::info!(target: LOG_TARGET, addr = %local_addr, "admin endpoint listening");
    Ok(AdminServer {
        local_addr,
        shutdown: Some(shutdown),
        finished: Some(finished),
        thread: Some(thread),
    })
}

/// Accepts connections until told to stop, at most [`MAX_CONNECTIONS`] at once.
async fn accept_connections(
    listener: TcpListener,
    service: AdminService,
    mut shutdown: watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    // The connections that have not sent a request head yet, oldest first: those that make
    // room when every slot is taken.
    let mut awaiting_head: VecDeque<Arc<Occupant>> = VecDeque::new();
    let mut connections = JoinSet::new();
    loop {
        let accepted = tokio::select! {
            _ = shutdown.changed() => break,
            accepted = listener.accept() => accepted,
        };
        while connections.try_join_next().is_some() {}
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                tracing::warn!(target: LOG_TARGET, %error, "admin endpoint: accept failed");
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };

        let slot = match Arc::clone(&slots).try_acquire_owned() {
            Ok(slot) => slot,
            Err(TryAcquireError::Closed) => break,
            Err(TryAcquireError::NoPermits) => {
                make_room(&mut awaiting_head);
                // The closed connection's slot frees as its task ends, at once. When none
                // could be closed, every slot serves a client that sent a request, and this
                // waits for one of them to end; further connections wait in the kernel's
                // queue meanwhile.
                tokio::select! {
                    _ = shutdown.changed() => break,
                    slot = Arc::clone(&slots).acquire_owned() => match slot {
                        Ok(slot) => slot,
                        Err(_) => break,
                    },
                }
            }
        };
        let occupant = Arc::new(Occupant::default());
        awaiting_head.retain(|earlier| earlier.awaits_head());
        awaiting_head.push_back(Arc::clone(&occupant));
        connections.spawn(serve_connection(
            stream,
            peer,
            service.clone(),
            shutdown.clone(),
            Seat {
                occupant,
                _slot: slot,
            },
        ));
    }
    // Open connections saw the same signal and finish their requests; those that do not
    // within the grace period are dropped with the runtime.
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
}

/// Closes the oldest connection that has not sent a request head yet, so that the one just
/// accepted takes its slot. Does nothing when every connection has sent one.
///
/// A client that holds a connection without sending a request (an idle socket, or a head
/// sent a byte at a time) would otherwise keep every other client out until its head
/// times out, and could start over at once. A connection that has sent a request head is
/// never closed here: it serves, or has served, a client that holds the token, since a
/// request without it is answered 401 and its connection closed.
fn make_room(awaiting_head: &mut VecDeque<Arc<Occupant>>) {
    // Limitation: a flood of new connections that arrive faster than an honest client sends
    // its request head after connecting can close that client's connection too. HTTP
    // clients send the head at once, so it takes `MAX_CONNECTIONS` new connections within
    // that moment; only filtering at the network layer would stop such a flood.
    while let Some(oldest) = awaiting_head.pop_front() {
        if oldest.evict() {
            return;
        }
    }
}

/// What the accept loop knows of a connection: whether it has sent a request head yet, and
/// how to close it to make room.
#[derive(Default)]
struct Occupant {
    phase: AtomicU8,
    evicted: Notify,
}

impl Occupant {
    const AWAITING_HEAD: u8 = 0;
    const HEAD_ARRIVED: u8 = 1;
    const EVICTED: u8 = 2;
    const ENDED: u8 = 3;

    fn awaits_head(&self) -> bool {
        self.phase.load(Ordering::Acquire) == Self::AWAITING_HEAD
    }

    /// A request head arrived: from now on the connection is never closed to make room.
    /// False when it was closed just before, and the request must not be acted on.
    fn head_arrived(&self) -> bool {
        match self.phase.compare_exchange(
            Self::AWAITING_HEAD,
            Self::HEAD_ARRIVED,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => true,
            Err(phase) => phase == Self::HEAD_ARRIVED,
        }
    }

    /// Closes the connection if it still awaits its first request head; whether it did.
    fn evict(&self) -> bool {
        let evicted = self
            .phase
            .compare_exchange(
                Self::AWAITING_HEAD,
                Self::EVICTED,
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .is_ok();
        if evicted {
            // Kept until the connection's task waits for it, if it does not yet.
            self.evicted.notify_one();
        }
        evicted
    }
}

/// A connection's slot, given back when its task ends, however it ends.
struct Seat {
    occupant: Arc<Occupant>,
    _slot: OwnedSemaphorePermit,
}

impl Drop for Seat {
    fn drop(&mut self) {
        self.occupant
            .phase
            .store(Occupant::ENDED, Ordering::Release);
    }
}

/// Serves one connection until it closes, its lifetime ends, it is closed to make room, or
/// the server stops.
async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    service: AdminService,
    mut shutdown: watch::Receiver<bool>,
    seat: Seat,
) {
    let occupant = Arc::clone(&seat.occupant);
    let handler = hyper::service::service_fn(move |mut request: http::Request<Incoming>| {
        let admitted = occupant.head_arrived();
        request.extensions_mut().insert(PeerAddr(peer));
        let mut service = service.clone();
        async move {
            if !admitted {
                // The connection closes as this head arrives: the answer will not reach the
                // client, and the request must change nothing it cannot hear about.
                let mut response = refusal(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the connection was closed to make room for another; send the request again",
                );
                response
                    .headers_mut()
                    .insert(CONNECTION, HeaderValue::from_static("close"));
                return Ok(response);
            }
            let mut response = service.call(request).await?;
            // A client without the token gets one answer per connection: it cannot keep
            // a slot by keeping its connection alive.
            if response.status() == StatusCode::UNAUTHORIZED {
                response
                    .headers_mut()
                    .insert(CONNECTION, HeaderValue::from_static("close"));
            }
            Ok::<_, Infallible>(response)
        }
    });
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .max_buf_size(MAX_HEAD_BYTES);
    let connection = builder.serve_connection(TokioIo::new(stream), handler);
    let mut connection = std::pin::pin!(connection);
    let lifetime = tokio::time::sleep(CONNECTION_LIFETIME);
    tokio::select! {
        served = connection.as_mut() => {
            if let Err(error) = served {
                tracing::debug!(target: LOG_TARGET, %peer, %error, "admin connection ended");
            }
        }
        () = lifetime => {
            tracing::debug!(target: LOG_TARGET, %peer, "admin connection closed at the end of its lifetime");
        }
        () = seat.occupant.evicted.notified() => {
            tracing::debug!(target: LOG_TARGET, %peer, "admin connection closed before its first request, to make room");
        }
        _ = shutdown.changed() => {
            connection.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(SHUTDOWN_GRACE, connection).await;
        }
    }
}
