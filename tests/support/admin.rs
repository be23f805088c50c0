//! A client of the admin endpoint for the tests: real HTTP over loopback, through
//! hyper-util's client, with JSON answers parsed.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use hyper::{HeaderMap, Method, Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

/// The token the tests' servers accept.
pub const TOKEN: &str = "test-token-0123456789";

/// The longest any test may take; only a guard against a hang, never a speed check.
pub const HANG_GUARD: Duration = Duration::from_secs(30);

/// The body type requests carry: whole, or streamed in chunks of unknown total size.
pub type RequestBody = BoxBody<Bytes, Infallible>;

/// An answer of the endpoint.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Answer {
    /// The `problems` of an error answer's body.
    pub fn problems(&self) -> &[Value] {
        self.body["error"]["problems"]
            .as_array()
            .map_or(&[], Vec::as_slice)
    }

    /// The fields the problems name.
    pub fn problem_fields(&self) -> Vec<&str> {
        self.problems()
            .iter()
            .filter_map(|problem| problem["field"].as_str())
            .collect()
    }
}

/// Sends requests to one endpoint, with the right token unless told otherwise.
#[derive(Clone)]
pub struct AdminClient {
    client: Client<HttpConnector, RequestBody>,
    base: String,
}

impl AdminClient {
    /// A client of the endpoint at `addr`, under `prefix` (`""` for the built-in server).
    pub fn new(addr: SocketAddr, prefix: &str) -> Self {
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(2))
            .build_http();
        Self {
            client,
            base: format!("http://{addr}{prefix}"),
        }
    }

    /// Sends a request with the test token.
    pub async fn send(&self, method: Method, path: &str, body: Option<&str>) -> Answer {
        let auth = format!("Bearer {TOKEN}");
        self.send_as(method, path, body, Some(&auth)).await
    }

    /// Sends a request with this `Authorization` header, or none.
    pub async fn send_as(
        &self,
        method: Method,
        path: &str,
        body: Option<&str>,
        authorization: Option<&str>,
    ) -> Answer {
        let body = Full::new(Bytes::from(body.unwrap_or_default().to_owned())).boxed();
        self.send_body(method, path, body, authorization, None)
            .await
    }

    /// Sends any body, with this `Authorization` header and `content-type`, if any.
    pub async fn send_body(
        &self,
        method: Method,
        path: &str,
        body: RequestBody,
        authorization: Option<&str>,
        content_type: Option<&str>,
    ) -> Answer {
        let mut request = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        if let Some(authorization) = authorization {
            request = request.header("authorization", authorization);
        }
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let request = request.body(body).expect("a valid request");
        let response = self
            .client
            .request(request)
            .await
            .expect("the endpoint answers");
        let (parts, body) = response.into_parts();
        let bytes = body
            .collect()
            .await
            .expect("the answer's body arrives")
            .to_bytes();
        let body = serde_json::from_slice(&bytes).unwrap_or_else(|error| {
            panic!(
                "the answer ({}) is not JSON: {error}: {}",
                parts.status,
                String::from_utf8_lossy(&bytes)
            )
        });
        Answer {
            status: parts.status,
            headers: parts.headers,
            body,
        }
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.send(Method::GET, path, None).await
    }

    pub async fn put(&self, path: &str, body: &str) -> Answer {
        self.send(Method::PUT, path, Some(body)).await
    }

    pub async fn post(&self, path: &str, body: &str) -> Answer {
        self.send(Method::POST, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Answer {
        self.send(Method::DELETE, path, None).await
    }

    /// The status of the attack with this id in `GET /attacks`, if it is listed as
    /// running.
    pub async fn running(&self, id: &str) -> Option<Value> {
        let answer = self.get("/attacks").await;
        assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
        answer.body["attacks"]
            .as_array()
            .expect("a list of attacks")
            .iter()
            .find(|status| status["id"] == id && status["state"] == "running")
            .cloned()
    }
}

/// Tests of one file share the process's registry: each takes this lock, so that one
/// test's halts and kill switch never reach another's attacks under `cargo test`.
static SERIAL: Mutex<()> = Mutex::new(());

pub fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Runs a test body on a tokio runtime with `workers` threads (0: the current thread),
/// failing it if it has not finished within [`HANG_GUARD`].
pub fn run<F: Future>(workers: usize, test: F) -> F::Output {
    let _serial = serial();
    let runtime = if workers == 0 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .enable_all()
            .build()
    };
    runtime
        .expect("a tokio runtime")
        .block_on(async { tokio::time::timeout(HANG_GUARD, test).await })
        .expect("the test finishes well within the hang guard")
}
