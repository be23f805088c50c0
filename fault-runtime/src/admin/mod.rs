//! The admin endpoint: list, start and halt attacks over HTTP (feature `admin`).
//!
//! Two ways to run it:
//!
//! - [`serve`] starts a small server of its own, on loopback by default, on a thread and a
//!   single-threaded tokio runtime of its own, so it works in any application, async or
//!   not. Or set `FAULT_ADMIN_ADDR` and `FAULT_ADMIN_TOKEN` (see below).
//! - [`AdminService`] is the same endpoint as a `tower` service, to mount on the
//!   application's own router, for instance `axum::Router::nest_service("/fault", admin)`.
//!
//! Every request needs `Authorization: Bearer <token>`, compared in constant time; the
//! endpoint refuses to start with a token shorter than [`MIN_TOKEN_LEN`] bytes. HTTP
//! carries the token in clear text: keep the endpoint on loopback, or behind TLS.
//!
//! # Routes
//!
//! Paths are relative to where the service is mounted (the built-in server mounts it at
//! `/`). Every answer is a JSON object (`content-type: application/json`).
//!
//! | method and path | success | body of the request |
//! |---|---|---|
//! | `GET /points` | 200 `{"points": [point]}`, the catalog | |
//! | `GET /attacks` | 200 `{"attacks": [status]}`, running ones first, then recently ended | |
//! | `PUT /attacks/{id}` | 201 when started, 200 when replaced or unchanged: `{"applied": applied}` | one attack as a JSON object; its `id` may be left out, and must equal `{id}` if given |
//! | `POST /attacks` | 200 `{"applied": applied}` | an attack document, JSON `{"attack": [...]}` or TOML `[[attack]]` tables; each attack is created or replaced by id, all or none |
//! | `DELETE /attacks/{id}` | 200 `{"halted": 1}`; 404 when no running attack has the id | |
//! | `DELETE /attacks` | 200 `{"halted": n}`, every attack halted | |
//! | `GET /errors` | 200 `{"errors": [source error]}`, refused sources, oldest first | |
//! | `GET /kill-switch` | 200 `{"engaged": bool}` | |
//! | `PUT /kill-switch` | 200 `{"engaged": bool, "halted": n}` | `{"engaged": bool}` |
//!
//! - A point is `{"name", "module_path", "file", "line", "facet_keys", "is_async",
//!   "impacts": {"latency", "error", "panic"}, "hits", "attacks"}`.
//! - A status is `{"id", "point", "points", "origin", "state", "dry_run", "matched",
//!   "hits", "time_left_ms", "running_for_ms", "attack"}`, where `state` is `running`,
//!   `halted`, `expired` or `exhausted`, `hits` of a dry run counts the calls it would
//!   have hit, and `attack` is the attack in the text format (see
//!   [`Attack`'s `Serialize`](crate::Attack#impl-Serialize-for-Attack)).
//! - `applied` is `{"started", "replaced", "unchanged", "halted"}`, lists of attack ids.
//!   Giving a running attack again as it is leaves it `unchanged`, counters and deadline
//!   included, so a `PUT` may be repeated safely. A changed definition replaces it, and
//!   its counters and deadline start over.
//! - A source error is `{"origin", "message", "problems": [problem]}`.
//!
//! Attacks started here have the origin `admin`. An id that runs from another origin (a
//! file, the environment, the program) is refused: each source changes its own attacks.
//! It can still be halted here, as can every attack.
//!
//! # Refusals
//!
//! Every refusal the endpoint makes is JSON: `{"error": {"message": "...", "problems":
//! [problem]}}`, where `problems` is there only when attacks were refused, and a problem is
//! `{"attack_id", "field", "reason", "line", "message"}` (absent parts are `null`).
//!
//! | status | when |
//! |---|---|
//! | 400 | a body that is not valid JSON or TOML, or an invalid attack: its problems name the attack, the field and the reason (an unknown point, `percent = 0`, ...). Nothing of it is applied |
//! | 401 | no token, or a wrong one; `www-authenticate: Bearer`. Checked first: nothing else of the request is read, and nothing changes |
//! | 404 | an unknown route, or halting an id no running attack has |
//! | 405 | a method the route does not take; `allow` lists those it takes |
//! | 408 | a body that did not arrive in time (built-in server: [`BODY_READ_TIMEOUT`]) |
//! | 413 | a body over [`MAX_BODY_BYTES`], by its `content-length` or as it arrives |
//!
//! The format of a `POST` body is the one its `content-type` names
//! (`application/toml`, `application/json`), else the one it looks like: JSON when it
//! starts with `{`.
//!
//! Malformed HTTP is refused by the HTTP layer with an empty body. In the built-in server,
//! hyper answers a request it cannot read as HTTP/1 itself, and closes the connection: 400
//! for bytes that are not HTTP, a bad method, path, version or header, or an invalid
//! `content-length`; 431 for a head over 16 KiB; 414 for an over-long path. These answers
//! have an empty body and no `content-type`. Such a request never reaches the endpoint: it
//! is not authenticated, and is logged only at debug, as its connection ends. A head that
//! does not arrive within [`HEADER_READ_TIMEOUT`] gets no answer: its connection is closed.
//! An application that mounts [`AdminService`] refuses malformed HTTP by its own server's
//! rules.
//!
//! # Logs
//!
//! Every change (attacks started, replaced or halted, the kill switch) is logged at info
//! with the target `fault_runtime::admin`, with the peer address, the method, the path and
//! what changed; the attacks it starts and ends are also logged one by one, as from any
//! source, with the origin `admin`. Every refusal of the table above (401, 400, 404, 405,
//! 408, 413) is logged at warn, once, with the peer, the method, the path and the reason,
//! never with the token. Attacks refused are also kept for
//! [`source_errors`](crate::source_errors), as from any source, but not logged a second
//! time by the registry.
//!
//! # Limits
//!
//! The built-in server gives a client [`HEADER_READ_TIMEOUT`] to send a request's head
//! (and keeps an idle kept-alive connection that long), [`BODY_READ_TIMEOUT`] for its body,
//! and closes any connection after [`CONNECTION_LIFETIME`].
//!
//! It holds at most [`MAX_CONNECTIONS`] connections open at once. When every slot is
//! taken, a new connection does not wait behind connections that have not sent a whole
//! request head yet: the oldest of those is closed, and the new one takes its slot. So
//! connections that send nothing, or send a head slowly, cannot keep an operator's request
//! (the kill switch, say) waiting. A connection that has sent a request head is never
//! closed to make room: while it is served, and afterwards while it is kept alive, it
//! holds its slot; when every slot is held so, a new connection waits until one ends. A
//! request without the right token is answered 401 with `connection: close`, so a client
//! without the token cannot hold a slot past one refused request. A request whose head
//! arrives just as its connection is closed to make room is not acted on.
//!
//! # Environment
//!
//! With `FAULT_ADMIN_ADDR` set, the built-in server starts when the runtime reads its
//! environment (on [`crate::init`], or on the first use of the runtime), and serves for
//! the rest of the process:
//!
//! - `FAULT_ADMIN_ADDR`: an address such as `127.0.0.1:7878` or `[::1]:7878`, or a bare
//!   port such as `7878`, meaning `127.0.0.1:7878`;
//! - `FAULT_ADMIN_TOKEN`: the token, at least [`MIN_TOKEN_LEN`] bytes.
//!
//! A missing or short token, a bad address or a port in use does not stop the process: it
//! is an error of the source `FAULT_ADMIN_ADDR`, logged, kept for
//! [`source_errors`](crate::source_errors) and returned by [`crate::init`].
//! [`environment_server_addr`] tells where the server listens.

mod auth;
mod json;
mod server;
mod service;

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Mutex, PoisonError};

pub use server::{
    AdminServer, BODY_READ_TIMEOUT, CONNECTION_LIFETIME, HEADER_READ_TIMEOUT, MAX_CONNECTIONS,
    serve,
};
pub use service::AdminService;

use crate::error::{AttackError, SourceError};

/// The largest request body accepted, in bytes; a larger one is refused with 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The shortest token accepted, in bytes.
pub const MIN_TOKEN_LEN: usize = 16;

/// The origin of the attacks started through the endpoint.
const ORIGIN: &str = "admin";

/// The `tracing` target of the endpoint's logs.
const LOG_TARGET: &str = "fault_runtime::admin";

/// The variable that starts the built-in server when the environment is read.
const ADDR_VAR: &str = "FAULT_ADMIN_ADDR";

/// The variable that holds the token of the server `FAULT_ADMIN_ADDR` starts.
const TOKEN_VAR: &str = "FAULT_ADMIN_TOKEN";

/// The address of the client that sent a request, as a request extension.
///
/// The built-in server inserts it; an application that mounts [`AdminService`] may insert
/// it too, so that the endpoint's logs name the peer (else they say `unknown`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PeerAddr(pub SocketAddr);

/// How to run the built-in server: [`serve`] takes it.
///
/// ```
/// use fault_runtime::admin::AdminConfig;
///
/// let config = AdminConfig::new().token("a-token-of-16-bytes-or-more").port(7878);
/// assert_eq!(config.bind_addr().to_string(), "127.0.0.1:7878");
/// ```
#[derive(Clone, Default)]
pub struct AdminConfig {
    addr: Option<SocketAddr>,
    token: Option<String>,
}

impl AdminConfig {
    /// No token yet, and the default address, `127.0.0.1` on a port the system chooses.
    pub fn new() -> Self {
        Self::default()
    }

    /// The token requests must carry as `Authorization: Bearer <token>`; at least
    /// [`MIN_TOKEN_LEN`] bytes of visible ASCII.
    #[must_use]
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// The address to listen on. Anything but loopback is logged as a warning.
    #[must_use]
    pub fn addr(mut self, addr: SocketAddr) -> Self {
        self.addr = Some(addr);
        self
    }

    /// Listens on this port of `127.0.0.1`; port 0 lets the system choose one, which
    /// [`AdminServer::local_addr`] tells.
    #[must_use]
    pub fn port(self, port: u16) -> Self {
        self.addr(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
    }

    /// The address [`serve`] binds.
    pub fn bind_addr(&self) -> SocketAddr {
        self.addr
            .unwrap_or_else(|| SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
    }
}

impl fmt::Debug for AdminConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdminConfig")
            .field("addr", &self.bind_addr())
            .field("token", &self.token.as_ref().map(|_| ".."))
            .finish()
    }
}

/// Why the admin endpoint did not start.
#[derive(Debug)]
#[non_exhaustive]
pub enum AdminError {
    /// No token was given; the endpoint never runs without one.
    MissingToken,
    /// The token is shorter than [`MIN_TOKEN_LEN`] bytes.
    ShortToken {
        /// The token's length in bytes.
        len: usize,
    },
    /// The token holds a character other than visible ASCII (a space, a newline, ...),
    /// which a request header could not carry as it is.
    InvalidToken,
    /// The address could not be bound, or read back.
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why binding failed.
        source: std::io::Error,
    },
    /// The server's thread or its runtime could not be made.
    Start(std::io::Error),
}

impl fmt::Display for AdminError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AdminError::MissingToken => {
                f.write_str("no admin token was given; the endpoint does not run without one")
            }
            AdminError::ShortToken { len } => write!(
                f,
                "the admin token is {len} bytes long; it must be at least {MIN_TOKEN_LEN}"
            ),
            AdminError::InvalidToken => f.write_str(
                "the admin token holds a character other than visible ASCII (a space or a \
                 newline?), which a request header cannot carry",
            ),
            AdminError::Bind { addr, source } => {
                write!(f, "cannot listen on {addr}: {source}")
            }
            AdminError::Start(source) => {
                write!(f, "cannot start the admin endpoint's thread: {source}")
            }
        }
    }
}

impl std::error::Error for AdminError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            AdminError::Bind { source, .. } | AdminError::Start(source) => Some(source),
            _ => None,
        }
    }
}

/// The server `FAULT_ADMIN_ADDR` started; it serves for the rest of the process.
static ENVIRONMENT_SERVER: Mutex<Option<AdminServer>> = Mutex::new(None);

/// Where the server started by `FAULT_ADMIN_ADDR` listens, if it runs.
///
/// The environment is read on [`crate::init`] or on the first use of the runtime; before
/// that, this is `None`.
pub fn environment_server_addr() -> Option<SocketAddr> {
    ENVIRONMENT_SERVER
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .as_ref()
        .map(AdminServer::local_addr)
}

/// Starts the built-in server when `FAULT_ADMIN_ADDR` is set; called once, while the
/// environment is read.
pub(crate) fn start_from_environment() -> Result<(), SourceError> {
    let Some(addr) = std::env::var_os(ADDR_VAR) else {
        return Ok(());
    };
    let refuse = |reason: String| {
        SourceError::new(
            ADDR_VAR,
            vec![AttackError::document(
                None,
                format!("the admin endpoint does not start: {reason}"),
            )],
        )
    };
    let config = environment_config(addr, std::env::var_os(TOKEN_VAR)).map_err(refuse)?;
    let server = serve(config).map_err(|error| refuse(error.to_string()))?;
    *ENVIRONMENT_SERVER
        .lock()
        .unwrap_or_else(PoisonError::into_inner) = Some(server);
    Ok(())
}

/// The configuration the two variables describe, or what is wrong with them.
fn environment_config(
    addr: std::ffi::OsString,
    token: Option<std::ffi::OsString>,
) -> Result<AdminConfig, String> {
    let addr = addr
        .into_string()
        .map_err(|_| format!("{ADDR_VAR} is not UTF-8"))?;
    let addr = parse_addr(&addr)?;
    let token = match token.map(std::ffi::OsString::into_string) {
        None => {
            return Err(format!(
                "{ADDR_VAR} is set, but {TOKEN_VAR} is not; it must hold a token of at least \
                 {MIN_TOKEN_LEN} bytes"
            ));
        }
        Some(Err(_)) => return Err(format!("{TOKEN_VAR} is not UTF-8")),
        Some(Ok(token)) => token,
    };
    // Checked here too, to name the variable; `serve` would refuse the token all the same.
    auth::Token::new(Some(&token)).map_err(|error| format!("{TOKEN_VAR}: {error}"))?;
    Ok(AdminConfig::new().addr(addr).token(token))
}

/// `127.0.0.1:7878`, `[::1]:7878`, or a bare port meaning `127.0.0.1`.
fn parse_addr(text: &str) -> Result<SocketAddr, String> {
    let text = text.trim();
    if let Ok(port) = text.parse::<u16>() {
        return Ok(SocketAddr::from((Ipv4Addr::LOCALHOST, port)));
    }
    text.parse::<SocketAddr>().map_err(|_| {
        format!(
            "{ADDR_VAR}={text:?} is neither an address such as 127.0.0.1:7878 or [::1]:7878 \
             nor a port such as 7878"
        )
    })
}

#[cfg(test)]
mod tests {
    use std::ffi::OsString;

    use super::*;

    fn config(addr: &str, token: Option<&str>) -> Result<AdminConfig, String> {
        environment_config(addr.into(), token.map(OsString::from))
    }

    #[test]
    fn a_bare_port_means_loopback_and_addresses_are_taken_as_given() {
        let token = Some("0123456789abcdef");
        assert_eq!(
            config("7878", token).unwrap().bind_addr(),
            "127.0.0.1:7878".parse().unwrap()
        );
        assert_eq!(
            config("[::1]:9", token).unwrap().bind_addr(),
            "[::1]:9".parse().unwrap()
        );
        assert_eq!(
            config(" 127.0.0.1:0 ", token).unwrap().bind_addr(),
            "127.0.0.1:0".parse().unwrap()
        );
    }

    #[test]
    fn each_bad_value_names_its_variable() {
        let token = Some("0123456789abcdef");
        for bad in ["localhost", "70000", "1.2.3.4", ""] {
            let error = config(bad, token).unwrap_err();
            assert!(error.contains("FAULT_ADMIN_ADDR"), "{error}");
        }
        let error = config("7878", None).unwrap_err();
        assert!(error.contains("FAULT_ADMIN_TOKEN is not"), "{error}");
        let error = config("7878", Some("short")).unwrap_err();
        assert!(error.contains("FAULT_ADMIN_TOKEN"), "{error}");
        assert!(error.contains("5 bytes"), "{error}");
    }

    #[test]
    fn debug_output_hides_the_token() {
        let shown = format!("{:?}", AdminConfig::new().token("a-secret-token-here"));
        assert!(!shown.contains("secret"), "{shown}");
        let service = AdminService::new("a-secret-token-here").unwrap();
        assert!(!format!("{service:?}").contains("secret"));
    }

    #[test]
    fn serve_refuses_a_missing_or_short_token_before_binding() {
        assert!(matches!(
            serve(AdminConfig::new()),
            Err(AdminError::MissingToken)
        ));
        assert!(matches!(
            serve(AdminConfig::new().token("short")),
            Err(AdminError::ShortToken { len: 5 })
        ));
    }
}
