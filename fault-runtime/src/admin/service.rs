//! [`AdminService`]: routes, the checks every request passes, and what each route does.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::header::{ALLOW, CONTENT_LENGTH, CONTENT_TYPE, HeaderValue, WWW_AUTHENTICATE};
use http::request::Parts;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt as _, Full, LengthLimitError, Limited};
use serde::Serialize;
use serde_json::Value;

use super::auth::{Refusal, Token};
use super::json::{
    AppliedBody, Attacks, ErrorBody, Errors, Halted, KillSwitch, KillSwitchRequest, KillSwitchSet,
    Points,
};
use super::{AdminError, LOG_TARGET, MAX_BODY_BYTES, ORIGIN, PeerAddr};
use crate::attack::{AttackSet, Format};
use crate::error::{AttackError, SourceError};
use crate::registry::{self, RefusalLog, Scope};

/// The admin endpoint as a `tower` service, to mount on an application's own router.
///
/// It answers the routes listed in the [module docs](super), relative to where it is
/// mounted, and checks the bearer token of every request before anything else. Clones
/// share one token and are cheap.
///
/// The peer address in its logs is read from a [`PeerAddr`] request extension: the
/// built-in server ([`serve`](super::serve)) inserts it, and an application that mounts
/// the service may insert it too (from axum's `ConnectInfo`, for instance); without it,
/// the logs say `unknown`.
///
/// ```no_run
/// # fn main() -> Result<(), fault_runtime::admin::AdminError> {
/// use fault_runtime::admin::AdminService;
///
/// let token = std::env::var("FAULT_ADMIN_TOKEN").unwrap_or_default();
/// let admin = AdminService::new(token)?;
/// // With axum: `Router::new().nest_service("/fault", admin)` serves
/// // `/fault/attacks`, `/fault/points`, ...
/// # let _ = admin;
/// # Ok(())
/// # }
/// ```
///
/// # Limits
///
/// A body over [`MAX_BODY_BYTES`] is refused with 413, by its `content-length` before
/// it is read, and while it is read otherwise. The service itself sets no time limit on
/// reading a body unless [`AdminService::body_timeout`] asks for one; the built-in server
/// does, and bounds each connection's life. An application that mounts the service bounds
/// its requests with its own server's settings.
#[derive(Clone)]
pub struct AdminService {
    shared: Arc<Shared>,
}

struct Shared {
    token: Token,
    body_timeout: Option<Duration>,
}

impl AdminService {
    /// A service that accepts requests carrying `Authorization: Bearer <token>`.
    ///
    /// # Errors
    ///
    /// [`AdminError::MissingToken`] for an empty token, [`AdminError::ShortToken`] for
    /// one shorter than [`MIN_TOKEN_LEN`](super::MIN_TOKEN_LEN) bytes, and
    /// [`AdminError::InvalidToken`] for one with a character other than visible ASCII.
    pub fn new(token: impl Into<String>) -> Result<Self, AdminError> {
        let token: String = token.into();
        Ok(Self {
            shared: Arc::new(Shared {
                token: Token::new(Some(&token))?,
                body_timeout: None,
            }),
        })
    }

    pub(super) fn from_token(token: Token) -> Self {
        Self {
            shared: Arc::new(Shared {
                token,
                body_timeout: None,
            }),
        }
    }

    /// Answers 408 to a request whose body has not fully arrived this long after the
    /// service started reading it.
    ///
    /// The timer is tokio's: the service must then run on a tokio runtime with its time
    /// driver enabled (as `#[tokio::main]` sets up).
    #[must_use]
    pub fn body_timeout(self, timeout: Duration) -> Self {
        Self {
            shared: Arc::new(Shared {
                token: self.shared.token.clone(),
                body_timeout: Some(timeout),
            }),
        }
    }

    /// Answers one request.
    async fn respond<B>(self, request: Request<B>) -> Response<Full<Bytes>>
    where
        B: http_body::Body,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let (parts, body) = request.into_parts();
        let exchange = Exchange::of(&parts);

        // Authentication comes before anything else is looked at or read.
        if let Err(refusal) = self.shared.token.check(&parts.headers) {
            tracing::warn!(
                target: LOG_TARGET,
                peer = %exchange.peer,
                method = %exchange.method,
                path = exchange.path,
                reason = refusal.reason(),
                "admin request refused: not authenticated"
            );
            return unauthorized(refusal);
        }

        let Some(route) = Route::of(parts.uri.path()) else {
            let reason = format!("no route {}", exchange.path);
            exchange.log_refusal(StatusCode::NOT_FOUND, &reason);
            return refusal(StatusCode::NOT_FOUND, &reason);
        };
        let Some(action) = route.action(&parts.method) else {
            return method_not_allowed(&exchange, route.allowed());
        };

        let body = if action.reads_body() {
            match self.read_body(&parts, body).await {
                Ok(body) => body,
                Err(response) => {
                    tracing::warn!(
                        target: LOG_TARGET,
                        peer = %exchange.peer,
                        method = %exchange.method,
                        path = exchange.path,
                        status = response.status().as_u16(),
                        "admin request refused: its body could not be read"
                    );
                    return response;
                }
            }
        } else {
            Bytes::new()
        };
        action.run(&exchange, &parts, &body)
    }

    /// Reads a body of at most [`MAX_BODY_BYTES`], or answers why it cannot.
    async fn read_body<B>(&self, parts: &Parts, body: B) -> Result<Bytes, Response<Full<Bytes>>>
    where
        B: http_body::Body,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let too_large = || {
            refusal(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!("the body is larger than the limit of {MAX_BODY_BYTES} bytes"),
            )
        };
        // Refused before a byte of it is read, when the client says its size up front.
        let declared = parts
            .headers
            .get(CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().parse::<u64>().ok());
        if declared.is_some_and(|len| len > MAX_BODY_BYTES as u64) {
            return Err(too_large());
        }

        // A chunked body has no declared size: the limit is enforced as it arrives.
        let collect = Limited::new(body, MAX_BODY_BYTES).collect();
        let collected = match self.shared.body_timeout {
            None => collect.await,
            Some(timeout) => match tokio::time::timeout(timeout, collect).await {
                Ok(collected) => collected,
                Err(_) => {
                    return Err(refusal(
                        StatusCode::REQUEST_TIMEOUT,
                        &format!(
                            "the body did not arrive within {}",
                            humantime::format_duration(timeout)
                        ),
                    ));
                }
            },
        };
        match collected {
            Ok(collected) => Ok(collected.to_bytes()),
            Err(error) if error.is::<LengthLimitError>() => Err(too_large()),
            Err(error) => Err(refusal(
                StatusCode::BAD_REQUEST,
                &format!("the body could not be read: {error}"),
            )),
        }
    }
}

impl std::fmt::Debug for AdminService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminService")
            .field("body_timeout", &self.shared.body_timeout)
            .finish_non_exhaustive()
    }
}

/// Serves any request body type (hyper's, axum's, ...); never fails as a service: every
/// problem is an HTTP answer.
impl<B> tower_service::Service<Request<B>> for AdminService
where
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let service = self.clone();
        Box::pin(async move { Ok(service.respond(request).await) })
    }
}

/// What the logs say of a request.
struct Exchange {
    peer: String,
    method: Method,
    path: String,
}

impl Exchange {
    /// Logs at warn that the request was refused with `status`, and why.
    fn log_refusal(&self, status: StatusCode, reason: &str) {
        tracing::warn!(
            target: LOG_TARGET,
            peer = %self.peer,
            method = %self.method,
            path = self.path,
            status = status.as_u16(),
            reason,
            "admin request refused"
        );
    }

    fn of(parts: &Parts) -> Self {
        Self {
            peer: parts
                .extensions
                .get::<PeerAddr>()
                .map_or_else(|| "unknown".to_owned(), |peer| peer.0.to_string()),
            method: parts.method.clone(),
            path: parts.uri.path().to_owned(),
        }
    }
}

/// The endpoint's routes, relative to where the service is mounted.
#[derive(Clone, Copy)]
enum Route<'p> {
    Points,
    Attacks,
    Attack(&'p str),
    Errors,
    KillSwitch,
}

/// What a request asks for: a route and a method the route answers.
enum Action<'p> {
    ListPoints,
    ListAttacks,
    ApplyDocument,
    HaltAll,
    PutAttack(&'p str),
    HaltAttack(&'p str),
    ListErrors,
    ReadKillSwitch,
    SetKillSwitch,
}

impl<'p> Route<'p> {
    fn of(path: &'p str) -> Option<Self> {
        match path {
            "/points" => Some(Route::Points),
            "/attacks" => Some(Route::Attacks),
            "/errors" => Some(Route::Errors),
            "/kill-switch" => Some(Route::KillSwitch),
            _ => {
                let id = path.strip_prefix("/attacks/")?;
                (!id.is_empty() && !id.contains('/')).then_some(Route::Attack(id))
            }
        }
    }

    fn action(self, method: &Method) -> Option<Action<'p>> {
        Some(match (self, method.as_str()) {
            (Route::Points, "GET") => Action::ListPoints,
            (Route::Attacks, "GET") => Action::ListAttacks,
            (Route::Attacks, "POST") => Action::ApplyDocument,
            (Route::Attacks, "DELETE") => Action::HaltAll,
            (Route::Attack(id), "PUT") => Action::PutAttack(id),
            (Route::Attack(id), "DELETE") => Action::HaltAttack(id),
            (Route::Errors, "GET") => Action::ListErrors,
            (Route::KillSwitch, "GET") => Action::ReadKillSwitch,
            (Route::KillSwitch, "PUT") => Action::SetKillSwitch,
            _ => return None,
        })
    }

    /// The `allow` header of a 405.
    fn allowed(self) -> &'static str {
        match self {
            Route::Points | Route::Errors => "GET",
            Route::Attacks => "GET, POST, DELETE",
            Route::Attack(_) => "PUT, DELETE",
            Route::KillSwitch => "GET, PUT",
        }
    }
}

impl Action<'_> {
    fn reads_body(&self) -> bool {
        matches!(
            self,
            Action::ApplyDocument | Action::PutAttack(_) | Action::SetKillSwitch
        )
    }

    fn run(self, exchange: &Exchange, parts: &Parts, body: &[u8]) -> Response<Full<Bytes>> {
        match self {
            Action::ListPoints => json(StatusCode::OK, &Points::new(&crate::catalog())),
            Action::ListAttacks => json(StatusCode::OK, &Attacks::new(&crate::attacks())),
            Action::ListErrors => json(StatusCode::OK, &Errors::new(&crate::source_errors())),
            Action::ReadKillSwitch => json(
                StatusCode::OK,
                &KillSwitch {
                    engaged: crate::kill_switch_engaged(),
                },
            ),
            Action::PutAttack(id) => put_attack(exchange, id, body),
            Action::ApplyDocument => apply_document(exchange, parts, body),
            Action::HaltAttack(id) => halt_attack(exchange, id),
            Action::HaltAll => {
                let halted = crate::halt_all();
                tracing::info!(
                    target: LOG_TARGET,
                    peer = %exchange.peer,
                    method = %exchange.method,
                    path = exchange.path,
                    halted,
                    "admin: every attack halted"
                );
                json(StatusCode::OK, &Halted { halted })
            }
            Action::SetKillSwitch => set_kill_switch(exchange, body),
        }
    }
}

/// `PUT /attacks/{id}`: one attack, as a JSON object, created or replaced by id.
fn put_attack(exchange: &Exchange, id: &str, body: &[u8]) -> Response<Full<Bytes>> {
    let malformed = |reason: String| {
        let error = SourceError::new(ORIGIN, vec![AttackError::document(None, reason)]);
        refuse_document(exchange, &error, true)
    };
    let text = match std::str::from_utf8(body) {
        Ok(text) => text,
        Err(error) => return malformed(format!("the body is not UTF-8: {error}")),
    };
    // Duplicate keys are refused, as in any attack text: serde_json alone would keep the
    // last one, and `"dry_run": true, ..., "dry_run": false` would run for real.
    let mut attack = match crate::attack::json_value_strictly(text) {
        Ok(Value::Object(attack)) => attack,
        Ok(_) => {
            return malformed(
                "the body must be one attack, as a JSON object such as \
                 {\"point\": \"payments.charge\", \"error\": \"timeout\"}"
                    .into(),
            );
        }
        Err(error) => return malformed(format!("not valid JSON: {error}")),
    };

    match attack.get("id") {
        None => {
            attack.insert("id".into(), Value::String(id.to_owned()));
        }
        Some(Value::String(given)) if given == id => {}
        Some(given) => {
            let error = SourceError::new(
                ORIGIN,
                vec![AttackError::for_field(
                    id,
                    "id",
                    format!("the body's id, {given}, is not the id in the path, {id:?}"),
                )],
            );
            return refuse_document(exchange, &error, false);
        }
    }

    let document = serde_json::json!({ "attack": [attack] }).to_string();
    match AttackSet::parse(&document, Format::Json, ORIGIN) {
        Ok(set) => apply(exchange, set, StatusCode::CREATED),
        Err(error) => refuse_document(exchange, &error, false),
    }
}

/// `POST /attacks`: an attack document, TOML or JSON; every attack in it is created or
/// replaced by id, or none is.
fn apply_document(exchange: &Exchange, parts: &Parts, body: &[u8]) -> Response<Full<Bytes>> {
    let text = match std::str::from_utf8(body) {
        Ok(text) => text,
        Err(error) => {
            let error = SourceError::new(
                ORIGIN,
                vec![AttackError::document(
                    None,
                    format!("the body is not UTF-8: {error}"),
                )],
            );
            return refuse_document(exchange, &error, true);
        }
    };
    let format = document_format(parts, text);
    match AttackSet::parse(text, format, ORIGIN) {
        Ok(set) => apply(exchange, set, StatusCode::OK),
        Err(error) => refuse_document(exchange, &error, !is_well_formed(text, format)),
    }
}

/// The format a `content-type` names (`application/toml`, `application/json`, or any
/// type ending in `toml` or `json`), else the one the text looks like.
fn document_format(parts: &Parts, text: &str) -> Format {
    let essence = parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(|essence| essence.trim().to_ascii_lowercase());
    match essence.as_deref() {
        Some(essence) if essence.ends_with("toml") => Format::Toml,
        Some(essence) if essence.ends_with("json") => Format::Json,
        _ => Format::sniff(text),
    }
}

/// Whether a text is well-formed TOML or JSON, attacks aside: a refusal of a text that is
/// not is a syntax error, not a list of problems with attacks.
fn is_well_formed(text: &str, format: Format) -> bool {
    match format {
        Format::Json => serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok(),
        Format::Toml => toml::from_str::<toml::Table>(text).is_ok(),
    }
}

/// Applies checked attacks in the registry, all or none, and answers with what changed:
/// `on_start` when an attack started (`PUT` says 201 then), 200 otherwise.
fn apply(exchange: &Exchange, set: AttackSet, on_start: StatusCode) -> Response<Full<Bytes>> {
    match registry::apply(
        ORIGIN,
        set.into_entries(),
        Scope::Upsert,
        RefusalLog::Caller,
    ) {
        Ok(applied) => {
            tracing::info!(
                target: LOG_TARGET,
                peer = %exchange.peer,
                method = %exchange.method,
                path = exchange.path,
                started = ?applied.started,
                replaced = ?applied.replaced,
                unchanged = ?applied.unchanged,
                halted = ?applied.halted,
                "admin: attacks applied"
            );
            let status = if applied.started.is_empty() {
                StatusCode::OK
            } else {
                on_start
            };
            json(status, &AppliedBody::new(&applied))
        }
        // The registry has recorded the refusal; it is logged here, once, with the peer.
        Err(error) => {
            log_refused(exchange, &error);
            json(
                StatusCode::BAD_REQUEST,
                &ErrorBody::problems(&summary(&error), error.problems()),
            )
        }
    }
}

/// `DELETE /attacks/{id}`.
fn halt_attack(exchange: &Exchange, id: &str) -> Response<Full<Bytes>> {
    if crate::halt(id) {
        tracing::info!(
            target: LOG_TARGET,
            peer = %exchange.peer,
            method = %exchange.method,
            path = exchange.path,
            halted = id,
            "admin: attack halted"
        );
        json(StatusCode::OK, &Halted { halted: 1 })
    } else {
        let reason = format!("no running attack has the id {id:?}");
        exchange.log_refusal(StatusCode::NOT_FOUND, &reason);
        refusal(StatusCode::NOT_FOUND, &reason)
    }
}

/// `PUT /kill-switch` with `{"engaged": bool}`.
fn set_kill_switch(exchange: &Exchange, body: &[u8]) -> Response<Full<Bytes>> {
    let request = match serde_json::from_slice::<KillSwitchRequest>(body) {
        Ok(request) => request,
        Err(error) => {
            let message = format!("the body must be {{\"engaged\": true or false}}: {error}");
            tracing::warn!(
                target: LOG_TARGET,
                peer = %exchange.peer,
                method = %exchange.method,
                path = exchange.path,
                reason = message,
                "admin request refused"
            );
            return refusal(StatusCode::BAD_REQUEST, &message);
        }
    };
    let halted = registry::set_kill_switch(request.engaged);
    tracing::info!(
        target: LOG_TARGET,
        peer = %exchange.peer,
        method = %exchange.method,
        path = exchange.path,
        engaged = request.engaged,
        halted,
        "admin: kill switch set"
    );
    json(
        StatusCode::OK,
        &KillSwitchSet {
            engaged: request.engaged,
            halted,
        },
    )
}

/// Records, logs and answers an attack text refused before it reached the registry:
/// `malformed` when it could not be read at all (its answer then has no problems).
fn refuse_document(
    exchange: &Exchange,
    error: &SourceError,
    malformed: bool,
) -> Response<Full<Bytes>> {
    registry::record_refusal(error, RefusalLog::Caller);
    log_refused(exchange, error);
    if malformed {
        let message = error
            .problems()
            .first()
            .map_or_else(|| summary(error), ToString::to_string);
        refusal(StatusCode::BAD_REQUEST, &message)
    } else {
        json(
            StatusCode::BAD_REQUEST,
            &ErrorBody::problems(&summary(error), error.problems()),
        )
    }
}

/// The one log of an attack text the endpoint refused: the registry records it for
/// `GET /errors` without logging it, so the event carries the peer.
fn log_refused(exchange: &Exchange, error: &SourceError) {
    tracing::warn!(
        target: LOG_TARGET,
        peer = %exchange.peer,
        method = %exchange.method,
        path = exchange.path,
        problems = error.problems().len(),
        "admin request refused: {error}"
    );
}

/// `admin: 2 problems, nothing of it applied`: the first line of the error's text.
fn summary(error: &SourceError) -> String {
    let text = error.to_string();
    text.lines().next().unwrap_or_default().to_owned()
}

fn json(status: StatusCode, value: &impl Serialize) -> Response<Full<Bytes>> {
    // The views hold strings, numbers and lists only, which always serialize; the
    // fallback keeps the answer JSON should that ever change.
    let body = serde_json::to_vec(value).unwrap_or_else(|error| {
        serde_json::json!({ "error": { "message": format!("cannot write the answer: {error}") } })
            .to_string()
            .into_bytes()
    });
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// A refusal: `status`, with `{"error": {"message": ...}}`.
pub(super) fn refusal(status: StatusCode, message: &str) -> Response<Full<Bytes>> {
    json(status, &ErrorBody::message(message))
}

fn unauthorized(refusal_reason: Refusal) -> Response<Full<Bytes>> {
    let mut response = refusal(StatusCode::UNAUTHORIZED, refusal_reason.reason());
    response
        .headers_mut()
        .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

fn method_not_allowed(exchange: &Exchange, allow: &'static str) -> Response<Full<Bytes>> {
    let reason = format!(
        "{} is not allowed on {}; allowed: {allow}",
        exchange.method, exchange.path
    );
    exchange.log_refusal(StatusCode::METHOD_NOT_ALLOWED, &reason);
    let mut response = refusal(StatusCode::METHOD_NOT_ALLOWED, &reason);
    response
        .headers_mut()
        .insert(ALLOW, HeaderValue::from_static(allow));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_exact_and_an_id_is_one_segment() {
        assert!(matches!(Route::of("/points"), Some(Route::Points)));
        assert!(matches!(
            Route::of("/attacks/a.b"),
            Some(Route::Attack("a.b"))
        ));
        for path in [
            "/",
            "",
            "/attacks/",
            "/attacks/a/b",
            "/points/",
            "/attack",
            "/kill",
        ] {
            assert!(Route::of(path).is_none(), "{path}");
        }
    }

    #[test]
    fn the_content_type_names_the_format_else_the_text_does() {
        let with = |content_type: Option<&str>| {
            let mut request = Request::builder();
            if let Some(content_type) = content_type {
                request = request.header(CONTENT_TYPE, content_type);
            }
            request.body(()).unwrap().into_parts().0
        };
        let json_text = r#"{"attack": []}"#;
        assert_eq!(document_format(&with(None), json_text), Format::Json);
        assert_eq!(document_format(&with(None), "[[attack]]"), Format::Toml);
        let toml = with(Some("application/toml; charset=utf-8"));
        assert_eq!(document_format(&toml, json_text), Format::Toml);
        let json_type = with(Some("Application/JSON"));
        assert_eq!(document_format(&json_type, "[[attack]]"), Format::Json);
        assert_eq!(
            document_format(&with(Some("text/plain")), json_text),
            Format::Json
        );
    }
}
