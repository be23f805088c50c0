//! Helpers of the layer tests: a runtime per test, run one at a time, and a client that
//! sends requests to a loopback server with the headers a test chooses, raw bytes allowed.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use http_body_util::{BodyExt as _, Empty};
use hyper::body::Bytes;
use hyper::header::{HeaderName, HeaderValue};
use hyper::{Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// The longest any test may take; only a guard against a hang, never a speed check.
pub const HANG_GUARD: Duration = Duration::from_secs(30);

/// The client the tests send requests with.
pub type HttpClient = Client<HttpConnector, Empty<Bytes>>;

/// Tests of one file share the process's registry: each takes this lock, so that under
/// `cargo test` one test's attacks never reach another's requests.
static SERIAL: Mutex<()> = Mutex::new(());

/// Runs a test body on a multi-thread tokio runtime, one test at a time, failing it if it
/// has not finished within [`HANG_GUARD`]. Servers it spawned end with the runtime.
pub fn run<F: Future>(test: F) -> F::Output {
    let _serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
        .block_on(async { tokio::time::timeout(HANG_GUARD, test).await })
        .expect("the test finishes well within the hang guard")
}

/// A client of loopback servers.
pub fn client() -> HttpClient {
    Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(2))
        .build_http()
}

/// A GET of `path` on `addr` with these headers (appended in order, so a name may repeat;
/// values as raw bytes).
pub fn get(addr: SocketAddr, path: &str, headers: &[(&str, &[u8])]) -> Request<Empty<Bytes>> {
    let mut request = Request::get(format!("http://{addr}{path}"))
        .body(Empty::new())
        .expect("a valid request");
    for (name, value) in headers {
        request.headers_mut().append(
            HeaderName::from_bytes(name.as_bytes()).expect("a header name"),
            HeaderValue::from_bytes(value).expect("a header value"),
        );
    }
    request
}

/// Sends a GET and returns the status and the body as text.
pub async fn send(
    client: &HttpClient,
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, &[u8])],
) -> (StatusCode, String) {
    let response = client
        .request(get(addr, path, headers))
        .await
        .expect("the server answers");
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("the body arrives")
        .to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}
