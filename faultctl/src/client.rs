//! One request, sent to every endpoint at once, each bounded in time.
//!
//! A plain HTTP/1.1 connection per endpoint and request: the tool sends one request to each
//! endpoint and exits, so a pool would only add state.

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HOST, HeaderValue, USER_AGENT};
use hyper::{Method, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

use crate::endpoint::Endpoint;
use crate::token::Token;

/// The largest answer read. A catalog of thousands of points is well under it; more means
/// the address is not an admin endpoint.
const MAX_ANSWER_BYTES: usize = 16 * 1024 * 1024;

/// The longest wait for a connection, whatever the whole-request bound.
pub const MAX_CONNECT: Duration = Duration::from_secs(5);

/// How long each part of an exchange with one endpoint may take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// Resolving the host and connecting.
    pub connect: Duration,
    /// The whole exchange: connecting, sending, and reading the answer.
    pub total: Duration,
}

impl Timeouts {
    /// Bounds for a whole-request limit: connecting gets at most [`MAX_CONNECT`] of it.
    pub fn within(total: Duration) -> Self {
        Timeouts {
            connect: total.min(MAX_CONNECT),
            total,
        }
    }
}

/// A request to send to every endpoint.
#[derive(Clone, Debug)]
pub struct Request {
    /// The method.
    pub method: Method,
    /// The route under the endpoint's prefix, such as `/attacks`.
    pub route: String,
    /// The content type and the body, when there is one.
    pub body: Option<(&'static str, Bytes)>,
}

impl Request {
    /// A request without a body.
    pub fn new(method: Method, route: impl Into<String>) -> Self {
        Request {
            method,
            route: route.into(),
            body: None,
        }
    }

    /// A request carrying `body` of the given content type.
    pub fn with_body(mut self, content_type: &'static str, body: impl Into<Bytes>) -> Self {
        self.body = Some((content_type, body.into()));
        self
    }
}

/// What an endpoint answered: any status, with a JSON body.
#[derive(Clone, Debug, PartialEq)]
pub struct Reply {
    /// The status.
    pub status: StatusCode,
    /// The body, which the endpoint always sends as JSON.
    pub body: serde_json::Value,
}

/// Why no answer came from an endpoint, or none that the tool can read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The host did not resolve, or nothing accepted the connection.
    Connect(String),
    /// A bound ran out.
    TimedOut {
        /// What was being done: `connecting`, `waiting for the answer`.
        doing: &'static str,
        /// The bound.
        after: Duration,
    },
    /// The connection broke, or HTTP went wrong.
    Http(String),
    /// An answer came, but not one an admin endpoint gives.
    NotAdmin {
        /// The status it came with.
        status: StatusCode,
        /// What was wrong with it.
        reason: String,
    },
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Connect(reason) | Failure::Http(reason) => f.write_str(reason),
            Failure::TimedOut { doing, after } => write!(
                f,
                "timed out {doing} after {}",
                humantime::format_duration(*after)
            ),
            Failure::NotAdmin { status, reason } => write!(
                f,
                "answered {status} with {reason}; is this address a fault-runtime admin \
                 endpoint?"
            ),
        }
    }
}

/// The outcome of the request at one endpoint.
pub type Outcome = Result<Reply, Failure>;

/// Sends `request` to every endpoint concurrently and returns each outcome, in the order
/// of `endpoints`. Each exchange ends within `timeouts.total`, so the whole call does too.
///
/// # Errors
///
/// Only when no runtime could be made to send anything.
pub fn send_all(
    endpoints: &[Endpoint],
    request: &Request,
    token: &Token,
    timeouts: Timeouts,
) -> Result<Vec<Outcome>, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .map_err(|error| format!("cannot start the network runtime: {error}"))?;
    let outcomes = runtime.block_on(async {
        let exchanges: Vec<JoinHandle<Outcome>> = endpoints
            .iter()
            .map(|endpoint| {
                let (endpoint, request, token) = (endpoint.clone(), request.clone(), token.clone());
                tokio::spawn(async move { send(&endpoint, &request, &token, timeouts).await })
            })
            .collect();
        // Every exchange is already running; awaiting them in order only orders results.
        let mut outcomes = Vec::with_capacity(exchanges.len());
        for exchange in exchanges {
            outcomes.push(exchange.await.unwrap_or_else(|error| {
                Err(Failure::Http(format!(
                    "the request failed inside faultctl: {error}"
                )))
            }));
        }
        outcomes
    });
    // Dropping a runtime waits for its blocking tasks, and a name lookup that outlived its
    // bound is one of those; the process is about to exit, so leave it behind.
    runtime.shutdown_background();
    Ok(outcomes)
}

/// One exchange with one endpoint, within `timeouts.total`.
pub async fn send(
    endpoint: &Endpoint,
    request: &Request,
    token: &Token,
    timeouts: Timeouts,
) -> Outcome {
    match tokio::time::timeout(timeouts.total, exchange(endpoint, request, token, timeouts)).await {
        Ok(outcome) => outcome,
        Err(_) => Err(Failure::TimedOut {
            doing: "waiting for the answer",
            after: timeouts.total,
        }),
    }
}

/// Ends the task that drives a connection when the exchange is over, or abandoned.
struct Driver(JoinHandle<()>);

impl Drop for Driver {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn exchange(
    endpoint: &Endpoint,
    request: &Request,
    token: &Token,
    timeouts: Timeouts,
) -> Outcome {
    let http_request = build(endpoint, request, token)?;
    let stream = connect(endpoint.authority(), timeouts.connect).await?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|error| Failure::Http(format!("HTTP handshake failed: {error}")))?;
    let _driver = Driver(tokio::spawn(async move {
        // Its errors surface through `send_request` or the body, where they are reported.
        let _ = connection.await;
    }));

    let response = sender
        .send_request(http_request)
        .await
        .map_err(|error| Failure::Http(format!("no answer: {error}")))?;
    let status = response.status();
    let body = Limited::new(response.into_body(), MAX_ANSWER_BYTES)
        .collect()
        .await
        .map_err(|error| Failure::Http(format!("reading the answer failed: {error}")))?
        .to_bytes();

    match serde_json::from_slice::<serde_json::Value>(&body) {
        Ok(body @ serde_json::Value::Object(_)) => Ok(Reply { status, body }),
        Ok(_) => Err(Failure::NotAdmin {
            status,
            reason: "JSON that is not an object".into(),
        }),
        Err(_) if body.is_empty() => Err(Failure::NotAdmin {
            status,
            reason: "an empty body".into(),
        }),
        Err(_) => Err(Failure::NotAdmin {
            status,
            reason: format!("a body that is not JSON: {}", snippet(&body)),
        }),
    }
}

fn build(
    endpoint: &Endpoint,
    request: &Request,
    token: &Token,
) -> Result<hyper::Request<Full<Bytes>>, Failure> {
    let mut authorization = HeaderValue::try_from(format!("Bearer {}", token.secret()))
        .map_err(|_| Failure::Http("the token cannot go into an HTTP header".into()))?;
    // Keeps the token out of HPACK tables and out of hyper's debug output.
    authorization.set_sensitive(true);
    let mut builder = hyper::Request::builder()
        .method(request.method.clone())
        .uri(endpoint.path(&request.route))
        .header(HOST, endpoint.authority())
        .header(ACCEPT, "application/json")
        .header(USER_AGENT, concat!("faultctl/", env!("CARGO_PKG_VERSION")))
        .header(AUTHORIZATION, authorization);
    let body = match &request.body {
        Some((content_type, body)) => {
            builder = builder.header(CONTENT_TYPE, *content_type);
            body.clone()
        }
        None => Bytes::new(),
    };
    builder
        .body(Full::new(body))
        .map_err(|error| Failure::Http(format!("cannot build the request: {error}")))
}

/// Resolves `authority` and connects to its first address that accepts, within `limit`.
async fn connect(authority: &str, limit: Duration) -> Result<TcpStream, Failure> {
    let attempt = async {
        let addresses = tokio::net::lookup_host(authority)
            .await
            .map_err(|error| Failure::Connect(format!("cannot resolve {authority}: {error}")))?;
        let mut last_error = None;
        for address in addresses {
            match TcpStream::connect(address).await {
                Ok(stream) => return Ok(stream),
                Err(error) => last_error = Some(format!("cannot connect to {address}: {error}")),
            }
        }
        Err(Failure::Connect(last_error.unwrap_or_else(|| {
            format!("cannot connect: {authority} resolves to no address")
        })))
    };
    tokio::time::timeout(limit, attempt)
        .await
        .unwrap_or(Err(Failure::TimedOut {
            doing: "connecting",
            after: limit,
        }))
}

/// The start of a body that is not JSON, on one line, for an error message.
fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(120)]);
    let mut line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if body.len() > 120 {
        line.push_str("...");
    }
    format!("`{}`", line.trim())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read as _, Write as _};
    use std::net::TcpListener;

    fn token() -> Token {
        let path = std::env::temp_dir().join(format!("faultctl-client-{}", std::process::id()));
        std::fs::write(&path, "t0k3n-0123456789\n").unwrap();
        let token = Token::load(Some(&path)).unwrap();
        let _ = std::fs::remove_file(&path);
        token
    }

    /// A one-shot HTTP server on loopback that answers one connection with `answer`, and
    /// hands back the request it read.
    fn serve_once(answer: &'static str) -> (Endpoint, std::thread::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint: Endpoint = format!("http://{}/admin", listener.local_addr().unwrap())
            .parse()
            .unwrap();
        let server = std::thread::spawn(move || {
            // Waits at most five seconds for the client, so a failing test still ends.
            listener.set_nonblocking(true).unwrap();
            let deadline = std::time::Instant::now() + Duration::from_secs(5);
            let mut stream = loop {
                match listener.accept() {
                    Ok((stream, _)) => break stream,
                    Err(_) if std::time::Instant::now() < deadline => {
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    Err(error) => panic!("no client came: {error}"),
                }
            };
            stream.set_nonblocking(false).unwrap();
            stream
                .set_read_timeout(Some(Duration::from_secs(5)))
                .unwrap();
            let mut request = Vec::new();
            let mut buffer = [0u8; 4096];
            // Reads until the head and a body of the length it announces are in.
            while let Ok(n @ 1..) = stream.read(&mut buffer) {
                request.extend_from_slice(&buffer[..n]);
                let text = String::from_utf8_lossy(&request).to_string();
                if let Some(end) = text.find("\r\n\r\n") {
                    let length = text
                        .lines()
                        .find_map(|line| {
                            line.to_ascii_lowercase()
                                .strip_prefix("content-length: ")
                                .and_then(|n| n.trim().parse::<usize>().ok())
                        })
                        .unwrap_or(0);
                    if request.len() >= end + 4 + length {
                        break;
                    }
                }
            }
            stream.write_all(answer.as_bytes()).unwrap();
            String::from_utf8_lossy(&request).to_string()
        });
        (endpoint, server)
    }

    #[test]
    fn a_request_carries_the_prefix_token_and_body_and_the_json_answer_comes_back() {
        let (endpoint, server) = serve_once(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 13\r\n\
             connection: close\r\n\r\n{\"halted\": 2}",
        );
        let request =
            Request::new(Method::POST, "/attacks").with_body("application/toml", "[[attack]]\n");
        let outcomes = send_all(
            &[endpoint],
            &request,
            &token(),
            Timeouts::within(Duration::from_secs(5)),
        )
        .unwrap();
        let seen = server.join().unwrap();
        assert!(
            seen.starts_with("POST /admin/attacks HTTP/1.1\r\n"),
            "{seen}"
        );
        assert!(
            seen.contains("authorization: Bearer t0k3n-0123456789\r\n"),
            "{seen}"
        );
        assert!(
            seen.contains("content-type: application/toml\r\n"),
            "{seen}"
        );
        assert!(seen.ends_with("\r\n\r\n[[attack]]\n"), "{seen}");
        assert_eq!(
            outcomes,
            vec![Ok(Reply {
                status: StatusCode::OK,
                body: serde_json::json!({"halted": 2}),
            })]
        );
    }

    #[test]
    fn an_answer_that_is_not_json_is_not_taken_for_an_admin_endpoint() {
        let (endpoint, server) = serve_once(
            "HTTP/1.1 502 Bad Gateway\r\ncontent-length: 10\r\nconnection: close\r\n\r\n\
             <html>oops",
        );
        let outcomes = send_all(
            &[endpoint],
            &Request::new(Method::GET, "/points"),
            &token(),
            Timeouts::within(Duration::from_secs(5)),
        )
        .unwrap();
        server.join().unwrap();
        let failure = outcomes[0].clone().unwrap_err();
        assert!(
            matches!(failure, Failure::NotAdmin { status, .. } if status == StatusCode::BAD_GATEWAY)
        );
        assert!(
            failure.to_string().contains("not JSON: `<html>oops`"),
            "{failure}"
        );
    }

    #[test]
    fn a_closed_port_fails_at_once_and_a_silent_server_times_out() {
        // A port that was bound and released: nothing listens there now.
        let closed: Endpoint = {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().to_string().parse().unwrap()
        };
        // Accepts connections (the kernel does, from the backlog) but never answers.
        let silent_listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let silent: Endpoint = silent_listener
            .local_addr()
            .unwrap()
            .to_string()
            .parse()
            .unwrap();

        let started = std::time::Instant::now();
        let outcomes = send_all(
            &[closed, silent],
            &Request::new(Method::GET, "/points"),
            &token(),
            Timeouts::within(Duration::from_millis(300)),
        )
        .unwrap();
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(
            matches!(&outcomes[0], Err(Failure::Connect(reason)) if reason.contains("cannot connect")),
            "{outcomes:?}"
        );
        assert_eq!(
            outcomes[1],
            Err(Failure::TimedOut {
                doing: "waiting for the answer",
                after: Duration::from_millis(300),
            })
        );
        drop(silent_listener);
    }

    #[test]
    fn connecting_gets_at_most_five_seconds_of_a_longer_bound() {
        let timeouts = Timeouts::within(Duration::from_secs(30));
        assert_eq!(timeouts.connect, MAX_CONNECT);
        let timeouts = Timeouts::within(Duration::from_secs(2));
        assert_eq!(timeouts.connect, Duration::from_secs(2));
    }
}
