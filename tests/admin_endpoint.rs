//! The admin endpoint over real HTTP on loopback: every route and status code, the token
//! check, the limits, the logs, and the same service mounted in an axum router.
//!
//! The tests share the process's registry, so each holds the file's lock
//! (`support::admin::run`) and halts what it started.
#![cfg(feature = "admin")]

mod support;

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::pin::Pin;
use std::sync::{Mutex, Once, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use fault_runtime::admin::{self, AdminConfig, AdminError, AdminServer, AdminService};
use fault_runtime::{AttackState, Fault, fault_point};
use http_body_util::BodyExt as _;
use hyper::body::{Body, Bytes, Frame};
use hyper::{Method, StatusCode};
use serde_json::json;
use support::admin::{AdminClient, TOKEN, run};

fault_runtime::context_facets!(customer);

#[fault_point(name = "admin.endpoint.charge", facets(customer))]
fn charge(customer: &str) -> Result<u32, Fault> {
    Ok(u32::try_from(customer.len()).unwrap_or(0))
}

#[fault_point(name = "admin.endpoint.refund")]
fn refund() -> Result<(), Fault> {
    Ok(())
}

/// A point whose function cannot carry an error.
#[fault_point(name = "admin.endpoint.audit")]
fn audit() -> u8 {
    1
}

/// Logs of the whole process, as text, for the tests that read what was logged.
static LOGS: Mutex<Vec<u8>> = Mutex::new(Vec::new());

struct LogWriter;

impl std::io::Write for LogWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        LOGS.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn capture_logs() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let _ = tracing_subscriber::fmt()
            .with_writer(|| LogWriter)
            .with_ansi(false)
            .with_max_level(tracing::Level::INFO)
            .try_init();
    });
}

fn logs() -> String {
    String::from_utf8_lossy(&LOGS.lock().unwrap_or_else(PoisonError::into_inner)).into_owned()
}

/// Starts a server on a port of loopback the system chooses.
fn start_server() -> (AdminServer, AdminClient) {
    capture_logs();
    let server = admin::serve(AdminConfig::new().token(TOKEN)).expect("the endpoint starts");
    assert!(server.local_addr().ip().is_loopback());
    let client = AdminClient::new(server.local_addr(), "");
    (server, client)
}

fn is_running(id: &str) -> bool {
    fault_runtime::attacks()
        .iter()
        .any(|status| status.id == id && status.state == AttackState::Running)
}

fn running_ids() -> Vec<String> {
    let mut ids: Vec<String> = fault_runtime::attacks()
        .into_iter()
        .filter(|status| status.state == AttackState::Running)
        .map(|status| status.id)
        .collect();
    ids.sort();
    ids
}

#[test]
fn get_points_lists_the_catalog() {
    run(0, async {
        let (_server, client) = start_server();
        let answer = client.get("/points").await;
        assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
        assert_eq!(answer.headers["content-type"], "application/json");
        let points = answer.body["points"].as_array().unwrap();
        let charge = points
            .iter()
            .find(|p| p["name"] == "admin.endpoint.charge")
            .unwrap_or_else(|| panic!("{points:?}"));
        assert_eq!(charge["facet_keys"], json!(["customer"]));
        assert_eq!(charge["is_async"], false);
        assert_eq!(
            charge["impacts"],
            json!({"latency": true, "error": true, "panic": true})
        );
        assert!(
            charge["file"]
                .as_str()
                .unwrap()
                .ends_with("admin_endpoint.rs")
        );
        assert!(charge["line"].as_u64().unwrap() > 0);
        assert!(charge["hits"].is_u64() && charge["attacks"].is_u64());
        let audit = points
            .iter()
            .find(|p| p["name"] == "admin.endpoint.audit")
            .unwrap();
        assert_eq!(audit["impacts"]["error"], false);
        assert_eq!(self::audit(), 1);
    });
}

#[test]
fn put_starts_an_attack_then_is_idempotent_then_replaces_it() {
    run(0, async {
        let (_server, client) = start_server();
        let attack = r#"{"point": "admin.endpoint.charge", "facets": {"customer": "c-1"},
                         "error": "card declined", "duration": "10m"}"#;

        let started = client.put("/attacks/ep-put", attack).await;
        assert_eq!(started.status, StatusCode::CREATED, "{started:?}");
        assert_eq!(
            started.body,
            json!({"applied": {"started": ["ep-put"], "replaced": [], "unchanged": [],
                               "halted": []}})
        );
        assert_eq!(charge("c-1").unwrap_err().attack_id(), "ep-put");
        assert_eq!(charge("c-22").unwrap(), 4);
        let before = client.running("ep-put").await.expect("listed as running");
        assert_eq!(before["origin"], "admin");
        assert_eq!(
            (before["matched"].as_u64(), before["hits"].as_u64()),
            (Some(1), Some(1))
        );

        // The same definition again, this time with its id in the body: nothing changes,
        // counters and deadline included.
        tokio::time::sleep(Duration::from_millis(20)).await;
        let with_id = r#"{"id": "ep-put", "point": "admin.endpoint.charge",
                          "facets": {"customer": ["c-1"]}, "error": "card declined",
                          "duration": "10m", "percent": 100}"#;
        let again = client.put("/attacks/ep-put", with_id).await;
        assert_eq!(again.status, StatusCode::OK, "{again:?}");
        assert_eq!(again.body["applied"]["unchanged"], json!(["ep-put"]));
        assert_eq!(again.body["applied"]["started"], json!([]));
        let after = client.running("ep-put").await.unwrap();
        assert_eq!(after["hits"], 1);
        assert!(
            after["running_for_ms"].as_u64() >= Some(20),
            "the attack kept running: {after}"
        );
        assert!(after["time_left_ms"].as_u64() <= before["time_left_ms"].as_u64());

        // A changed definition replaces the attack: new impact, counters start over.
        let changed = r#"{"point": "admin.endpoint.charge", "facets": {"customer": "c-1"},
                          "error": "network down", "duration": "10m"}"#;
        let replaced = client.put("/attacks/ep-put", changed).await;
        assert_eq!(replaced.status, StatusCode::OK, "{replaced:?}");
        assert_eq!(replaced.body["applied"]["replaced"], json!(["ep-put"]));
        assert_eq!(charge("c-1").unwrap_err().message(), "network down");
        let status = client.running("ep-put").await.unwrap();
        assert_eq!(status["hits"], 1);
        assert_eq!(
            status["attack"],
            json!({"id": "ep-put", "point": "admin.endpoint.charge",
                   "facets": {"customer": "c-1"}, "error": "network down",
                   "percent": 100.0, "duration": "10m", "dry_run": false})
        );
        assert_eq!(status["points"], json!(["admin.endpoint.charge"]));

        assert_eq!(
            client.delete("/attacks/ep-put").await.status,
            StatusCode::OK
        );
        assert_eq!(charge("c-1").unwrap(), 3);
    });
}

#[test]
fn invalid_attacks_are_refused_with_problems_naming_the_field() {
    run(0, async {
        let (_server, client) = start_server();

        let zero = client
            .put(
                "/attacks/ep-bad",
                r#"{"point": "admin.endpoint.refund", "error": "x", "percent": 0}"#,
            )
            .await;
        assert_eq!(zero.status, StatusCode::BAD_REQUEST, "{zero:?}");
        assert_eq!(zero.problem_fields(), ["percent"], "{zero:?}");
        let problem = &zero.problems()[0];
        assert_eq!(problem["attack_id"], "ep-bad");
        assert!(problem["line"].is_null(), "{problem}");
        assert!(
            problem["message"]
                .as_str()
                .unwrap()
                .contains("field `percent`"),
            "{problem}"
        );
        assert!(
            zero.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("admin"),
            "{zero:?}"
        );

        let unknown = client
            .put(
                "/attacks/ep-bad",
                r#"{"point": "admin.endpoint.nowhere", "error": "x"}"#,
            )
            .await;
        assert_eq!(unknown.status, StatusCode::BAD_REQUEST, "{unknown:?}");
        assert_eq!(unknown.problem_fields(), ["point"], "{unknown:?}");

        let cannot = client
            .put(
                "/attacks/ep-bad",
                r#"{"point": "admin.endpoint.audit", "error": "x"}"#,
            )
            .await;
        assert_eq!(cannot.problem_fields(), ["error"], "{cannot:?}");

        let other_id = client
            .put(
                "/attacks/ep-bad",
                r#"{"id": "ep-other", "point": "admin.endpoint.refund", "error": "x"}"#,
            )
            .await;
        assert_eq!(other_id.status, StatusCode::BAD_REQUEST, "{other_id:?}");
        assert_eq!(other_id.problem_fields(), ["id"], "{other_id:?}");

        for malformed in ["{\"point\": ", "[1, 2]", "not json"] {
            let answer = client.put("/attacks/ep-bad", malformed).await;
            assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{answer:?}");
            assert!(answer.body["error"]["message"].is_string(), "{answer:?}");
            assert!(
                answer.body["error"].get("problems").is_none(),
                "a syntax error lists no problems: {answer:?}"
            );
        }

        // A key given twice is refused, at any depth: the last one would otherwise win,
        // and this attack would run for real.
        for twice in [
            r#"{"point": "admin.endpoint.refund", "error": "x", "dry_run": true, "dry_run": false}"#,
            r#"{"point": "admin.endpoint.refund", "error": "x", "facets": {"c": "a", "c": "b"}}"#,
        ] {
            let answer = client.put("/attacks/ep-bad", twice).await;
            assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{answer:?}");
            let message = answer.body["error"]["message"].as_str().unwrap_or_default();
            assert!(message.contains("appears twice"), "{answer:?}");
        }

        assert!(!is_running("ep-bad") && !is_running("ep-other"));
        refund().unwrap();

        // Refusals are kept with the other refused sources.
        let errors = client.get("/errors").await;
        assert_eq!(errors.status, StatusCode::OK);
        let errors = errors.body["errors"].as_array().unwrap();
        let percent = errors
            .iter()
            .find(|e| e["origin"] == "admin" && e["problems"][0]["field"] == "percent")
            .unwrap_or_else(|| panic!("{errors:?}"));
        assert!(
            percent["message"]
                .as_str()
                .unwrap()
                .contains("nothing of it applied")
        );
    });
}

#[test]
fn post_applies_a_document_all_or_none() {
    run(0, async {
        let (_server, client) = start_server();
        let toml = r#"
            [[attack]]
            id = "ep-doc-a"
            point = "admin.endpoint.refund"
            error = "refunds are down"

            [[attack]]
            id = "ep-doc-b"
            point = "admin.endpoint.charge"
            latency = "1ms"
            dry_run = true
        "#;
        let body = http_body_util::Full::new(Bytes::from(toml)).boxed();
        let applied = client
            .send_body(
                Method::POST,
                "/attacks",
                body,
                Some(&format!("Bearer {TOKEN}")),
                Some("application/toml"),
            )
            .await;
        assert_eq!(applied.status, StatusCode::OK, "{applied:?}");
        assert_eq!(
            applied.body["applied"]["started"],
            json!(["ep-doc-a", "ep-doc-b"])
        );
        assert!(refund().is_err());

        // One bad attack refuses the whole document: the good one is not replaced.
        let mixed = r#"{"attack": [
            {"id": "ep-doc-a", "point": "admin.endpoint.refund", "error": "changed"},
            {"id": "ep-doc-c", "point": "admin.endpoint.refund", "error": "x", "percent": 150}
        ]}"#;
        let refused = client.post("/attacks", mixed).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{refused:?}");
        assert_eq!(refused.problem_fields(), ["percent"]);
        assert_eq!(refused.problems()[0]["attack_id"], "ep-doc-c");
        assert_eq!(refund().unwrap_err().message(), "refunds are down");
        assert!(!is_running("ep-doc-c"));

        // TOML problems carry their line.
        let bad_toml = "[[attack]]\nid = \"ep-doc-d\"\npoint = \"admin.endpoint.refund\"\n\
                        error = \"x\"\nduration = \"3d\"\n";
        let lined = client.post("/attacks", bad_toml).await;
        assert_eq!(lined.problem_fields(), ["duration"], "{lined:?}");
        assert_eq!(lined.problems()[0]["line"], 5);

        let malformed = client.post("/attacks", "[[attack]\nid = ").await;
        assert_eq!(malformed.status, StatusCode::BAD_REQUEST, "{malformed:?}");
        assert!(
            malformed.body["error"].get("problems").is_none(),
            "{malformed:?}"
        );

        let halted = client.delete("/attacks").await;
        assert_eq!(halted.body, json!({"halted": 2}));
        refund().unwrap();
    });
}

#[test]
fn requests_without_the_right_token_change_nothing() {
    run(0, async {
        let (_server, client) = start_server();
        assert_eq!(
            client
                .put(
                    "/attacks/ep-kept",
                    r#"{"point": "admin.endpoint.refund", "error": "x"}"#
                )
                .await
                .status,
            StatusCode::CREATED
        );
        let before = running_ids();
        let wrong = format!("Bearer {}", TOKEN.replace('0', "1"));
        let attack = r#"{"point": "admin.endpoint.charge", "error": "x"}"#;
        let requests = [
            (Method::PUT, "/attacks/ep-sneaky", Some(attack)),
            (Method::POST, "/attacks", Some(r#"{"attack": []}"#)),
            (Method::DELETE, "/attacks/ep-kept", None),
            (Method::DELETE, "/attacks", None),
            (Method::PUT, "/kill-switch", Some(r#"{"engaged": true}"#)),
            (Method::GET, "/attacks", None),
            (Method::GET, "/no-such-route", None),
        ];
        for authorization in [None, Some(wrong.as_str()), Some("Basic dXNlcjpwYXNz")] {
            for (method, path, body) in &requests {
                let answer = client
                    .send_as(method.clone(), path, *body, authorization)
                    .await;
                assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{method} {path}");
                assert_eq!(answer.headers["www-authenticate"], "Bearer");
                assert!(answer.body["error"]["message"].is_string(), "{answer:?}");
            }
        }
        assert_eq!(running_ids(), before);
        assert!(!fault_runtime::kill_switch_engaged());
        assert!(charge("c-1").is_ok());
        assert!(fault_runtime::halt("ep-kept"));
    });
}

#[test]
fn unknown_routes_ids_and_methods_are_refused() {
    run(0, async {
        let (_server, client) = start_server();
        for path in ["/", "/nope", "/attacks/", "/attacks/a/b", "/points/"] {
            let answer = client.get(path).await;
            assert_eq!(answer.status, StatusCode::NOT_FOUND, "{path}: {answer:?}");
            assert!(answer.body["error"]["message"].is_string());
        }

        let unknown = client.delete("/attacks/ep-never-started").await;
        assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{unknown:?}");
        assert!(
            unknown.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("ep-never-started")
        );

        for (method, path, allow) in [
            (Method::POST, "/points", "GET"),
            (Method::PUT, "/attacks", "GET, POST, DELETE"),
            (Method::GET, "/attacks/ep-x", "PUT, DELETE"),
            (Method::PATCH, "/kill-switch", "GET, PUT"),
            (Method::DELETE, "/errors", "GET"),
        ] {
            let answer = client.send(method.clone(), path, None).await;
            assert_eq!(
                answer.status,
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path}"
            );
            assert_eq!(answer.headers["allow"], allow, "{method} {path}");
            assert!(answer.body["error"]["message"].is_string());
        }

        // Each refusal is logged at warn, with the peer, the method and the path.
        let logs = logs();
        for (method, path, status) in [
            ("GET", "/nope", 404),
            ("DELETE", "/attacks/ep-never-started", 404),
            ("PATCH", "/kill-switch", 405),
        ] {
            let line = logs
                .lines()
                .find(|line| {
                    line.contains("admin request refused")
                        && line.contains(&format!("method={method}"))
                        && line.contains(&format!("path=\"{path}\""))
                })
                .unwrap_or_else(|| panic!("no refusal of {method} {path} logged:\n{logs}"));
            assert!(line.contains("WARN"), "{line}");
            assert!(line.contains("peer=127.0.0.1:"), "{line}");
            assert!(line.contains(&format!("status={status}")), "{line}");
        }
        assert!(!logs.contains(TOKEN), "the token is never logged");
    });
}

/// A body sent in chunks, with no size given up front, so it goes out chunked.
struct Chunked {
    chunks_left: usize,
    chunk: Bytes,
}

impl Body for Chunked {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if self.chunks_left == 0 {
            return Poll::Ready(None);
        }
        self.chunks_left -= 1;
        Poll::Ready(Some(Ok(Frame::data(self.chunk.clone()))))
    }
}

#[test]
fn bodies_over_the_limit_are_refused() {
    run(0, async {
        let (server, client) = start_server();

        // The declared length alone is refused: no body byte is ever sent.
        let addr = server.local_addr();
        let head = tokio::task::spawn_blocking(move || raw_exchange(addr, 10 * 1024 * 1024))
            .await
            .unwrap();
        assert!(head.starts_with("HTTP/1.1 413"), "{head}");
        assert!(head.contains("\"error\""), "{head}");

        // A chunked body is cut off once it passes the limit.
        let chunk = Bytes::from(vec![b' '; 1024]);
        let chunks_left = admin::MAX_BODY_BYTES / 1024 + 1;
        let body = Chunked { chunks_left, chunk }.boxed();
        let answer = client
            .send_body(
                Method::PUT,
                "/attacks/ep-huge",
                body,
                Some(&format!("Bearer {TOKEN}")),
                None,
            )
            .await;
        assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE, "{answer:?}");
        assert!(
            answer.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("limit")
        );

        // A body just under the limit is read (and refused for what it says).
        let padded = format!(
            "{{\"point\": \"admin.endpoint.refund\", \"error\": \"x\", \"percent\": 0{}}}",
            " ".repeat(admin::MAX_BODY_BYTES - 100)
        );
        let answer = client.put("/attacks/ep-huge", &padded).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{answer:?}");
        assert_eq!(answer.problem_fields(), ["percent"]);
        assert!(!is_running("ep-huge"));
    });
}

/// Sends a `PUT` head declaring a body of `length` bytes, and no body; returns the answer
/// the server sends before closing.
fn raw_exchange(addr: SocketAddr, length: usize) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let head = format!(
        "PUT /attacks/ep-huge HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {TOKEN}\r\n\
         content-type: application/json\r\ncontent-length: {length}\r\nconnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).unwrap();
    let mut answer = Vec::new();
    // Ends at the server's close, or at the read timeout.
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

#[test]
fn get_attacks_reports_matches_hits_and_dry_runs() {
    run(0, async {
        let (_server, client) = start_server();
        let dry = r#"{"point": "admin.endpoint.charge", "facets": {"customer": ["c-1", "c-2"]},
                      "error": "would fail", "dry_run": true}"#;
        assert_eq!(
            client.put("/attacks/ep-dry", dry).await.status,
            StatusCode::CREATED
        );
        for customer in ["c-1", "c-2", "c-3", "c-1"] {
            assert!(charge(customer).is_ok(), "a dry run changes no call");
        }
        let status = client.running("ep-dry").await.unwrap();
        assert_eq!(status["dry_run"], true);
        assert_eq!(status["matched"], 3, "{status}");
        assert_eq!(status["hits"], 3, "would-be hits are counted: {status}");
        assert!(status["time_left_ms"].as_u64().unwrap() > 14 * 60 * 1000);

        let sampled = r#"{"point": "admin.endpoint.refund", "error": "x", "max_impacts": 2}"#;
        assert_eq!(
            client.put("/attacks/ep-max", sampled).await.status,
            StatusCode::CREATED
        );
        let results: Vec<bool> = (0..4).map(|_| refund().is_err()).collect();
        assert_eq!(results, [true, true, false, false]);

        let attacks = client.get("/attacks").await;
        let list = attacks.body["attacks"].as_array().unwrap();
        let exhausted = list.iter().find(|s| s["id"] == "ep-max").unwrap();
        assert_eq!(exhausted["state"], "exhausted", "{exhausted}");
        assert_eq!(exhausted["hits"], 2);
        assert_eq!(exhausted["time_left_ms"], 0);
        // Running attacks come first.
        let first_ended = list.iter().position(|s| s["state"] != "running");
        let last_running = list.iter().rposition(|s| s["state"] == "running");
        assert!(last_running < first_ended, "{list:?}");

        assert_eq!(
            client.delete("/attacks/ep-dry").await.body,
            json!({"halted": 1})
        );
    });
}

#[test]
fn delete_halts_one_attack_or_all_of_them() {
    run(0, async {
        let (_server, client) = start_server();
        let refund_attack = r#"{"point": "admin.endpoint.refund", "error": "x"}"#;
        let charge_attack = r#"{"point": "admin.endpoint.charge", "error": "y"}"#;
        assert_eq!(
            client.put("/attacks/ep-del-a", refund_attack).await.status,
            StatusCode::CREATED
        );
        assert_eq!(
            client.put("/attacks/ep-del-b", charge_attack).await.status,
            StatusCode::CREATED
        );
        let guard = fault_runtime::start(
            fault_runtime::Attack::builder("ep-del-api", "admin.endpoint.refund")
                .error("z")
                .build()
                .unwrap(),
        )
        .unwrap();

        let one = client.delete("/attacks/ep-del-a").await;
        assert_eq!(
            (one.status, &one.body),
            (StatusCode::OK, &json!({"halted": 1}))
        );
        assert!(!is_running("ep-del-a") && is_running("ep-del-b"));
        let again = client.delete("/attacks/ep-del-a").await;
        assert_eq!(again.status, StatusCode::NOT_FOUND);

        // Every attack, whatever started it.
        let all = client.delete("/attacks").await;
        assert_eq!(
            (all.status, &all.body),
            (StatusCode::OK, &json!({"halted": 2}))
        );
        assert!(running_ids().is_empty());
        assert!(charge("c-1").is_ok() && refund().is_ok());
        assert_eq!(guard.status().state, AttackState::Halted);
    });
}

#[test]
fn the_kill_switch_halts_every_attack_and_refuses_new_ones() {
    run(0, async {
        let (_server, client) = start_server();
        let attack = r#"{"point": "admin.endpoint.refund", "error": "x"}"#;
        assert_eq!(
            client.put("/attacks/ep-kill", attack).await.status,
            StatusCode::CREATED
        );
        assert_eq!(
            client.get("/kill-switch").await.body,
            json!({"engaged": false})
        );

        let engaged = client.put("/kill-switch", r#"{"engaged": true}"#).await;
        assert_eq!(engaged.status, StatusCode::OK, "{engaged:?}");
        assert_eq!(engaged.body, json!({"engaged": true, "halted": 1}));
        assert!(fault_runtime::kill_switch_engaged());
        assert!(refund().is_ok());
        assert_eq!(
            client.get("/kill-switch").await.body,
            json!({"engaged": true})
        );

        let refused = client.put("/attacks/ep-kill", attack).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{refused:?}");
        assert!(
            refused.problems()[0]["reason"]
                .as_str()
                .unwrap()
                .contains("kill switch"),
            "{refused:?}"
        );

        for bad in [
            "{}",
            r#"{"engaged": "yes"}"#,
            r#"{"engaged": true, "x": 1}"#,
            "on",
        ] {
            let answer = client.put("/kill-switch", bad).await;
            assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{bad}: {answer:?}");
        }
        assert!(fault_runtime::kill_switch_engaged());

        let released = client.put("/kill-switch", r#"{"engaged": false}"#).await;
        assert_eq!(released.body, json!({"engaged": false, "halted": 0}));
        assert_eq!(
            client.put("/attacks/ep-kill", attack).await.status,
            StatusCode::CREATED
        );
        assert!(refund().is_err());
        assert!(fault_runtime::halt("ep-kill"));
    });
}

#[test]
fn the_service_mounted_in_an_axum_router_answers_under_its_prefix() {
    run(0, async {
        capture_logs();
        let service = AdminService::new(TOKEN).unwrap();
        let app = axum::Router::new()
            .route("/health", axum::routing::get(|| async { "ok" }))
            .nest_service("/fault", service);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let served = tokio::spawn(async move { axum::serve(listener, app).await });
        let client = AdminClient::new(addr, "/fault");

        let points = client.get("/points").await;
        assert_eq!(points.status, StatusCode::OK, "{points:?}");
        assert!(points.body["points"].as_array().unwrap().len() >= 3);

        let attack = r#"{"point": "admin.endpoint.refund", "error": "from axum"}"#;
        let started = client.put("/attacks/ep-axum", attack).await;
        assert_eq!(started.status, StatusCode::CREATED, "{started:?}");
        assert_eq!(refund().unwrap_err().message(), "from axum");

        let refused = client
            .send_as(Method::DELETE, "/attacks/ep-axum", None, None)
            .await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
        assert!(is_running("ep-axum"));

        assert_eq!(
            client.delete("/attacks/ep-axum").await.body,
            json!({"halted": 1})
        );
        assert!(
            logs().contains("peer=unknown"),
            "no PeerAddr, so the peer is unknown"
        );
        served.abort();
    });
}

#[test]
fn changes_are_logged_with_peer_method_and_path_and_refusals_without_the_token() {
    run(0, async {
        let (_server, client) = start_server();
        let attack = r#"{"point": "admin.endpoint.refund", "error": "x"}"#;
        assert_eq!(
            client.put("/attacks/ep-logged", attack).await.status,
            StatusCode::CREATED
        );
        let wrong = "Bearer not-the-token-but-long-enough";
        let refused = client
            .send_as(Method::DELETE, "/attacks/ep-logged", None, Some(wrong))
            .await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            client.delete("/attacks/ep-logged").await.status,
            StatusCode::OK
        );

        let logs = logs();
        let started = logs
            .lines()
            .find(|line| line.contains("attacks applied") && line.contains("ep-logged"))
            .unwrap_or_else(|| panic!("{logs}"));
        assert!(started.contains("INFO"), "{started}");
        assert!(started.contains("fault_runtime::admin"), "{started}");
        assert!(started.contains("peer=127.0.0.1:"), "{started}");
        assert!(started.contains("method=PUT"), "{started}");
        assert!(started.contains("path=\"/attacks/ep-logged\""), "{started}");
        let halted = logs
            .lines()
            .find(|line| line.contains("attack halted") && line.contains("halted=\"ep-logged\""))
            .unwrap_or_else(|| panic!("{logs}"));
        assert!(halted.contains("method=DELETE"), "{halted}");
        let refusal = logs
            .lines()
            .find(|line| line.contains("not authenticated") && line.contains("DELETE"))
            .unwrap_or_else(|| panic!("{logs}"));
        assert!(refusal.contains("WARN"), "{refusal}");
        assert!(!logs.contains(TOKEN), "the token is never logged");
        assert!(!logs.contains("not-the-token"), "nor a wrong one");
    });
}

#[test]
fn serve_refuses_a_bad_token_or_a_port_in_use_and_stops_on_request() {
    run(0, async {
        let missing = admin::serve(AdminConfig::new()).unwrap_err();
        assert!(matches!(missing, AdminError::MissingToken));
        assert!(missing.to_string().contains("no admin token"), "{missing}");

        let short = admin::serve(AdminConfig::new().token("0123456789abcde")).unwrap_err();
        assert!(
            matches!(short, AdminError::ShortToken { len: 15 }),
            "{short:?}"
        );
        assert!(short.to_string().contains("at least 16"), "{short}");

        let spaced = admin::serve(AdminConfig::new().token("0123456789 abcdef")).unwrap_err();
        assert!(matches!(spaced, AdminError::InvalidToken), "{spaced:?}");

        let (server, client) = start_server();
        let taken = server.local_addr();
        let in_use = admin::serve(AdminConfig::new().token(TOKEN).addr(taken)).unwrap_err();
        assert!(
            matches!(in_use, AdminError::Bind { addr, .. } if addr == taken),
            "{in_use:?}"
        );
        assert!(in_use.to_string().contains(&taken.to_string()), "{in_use}");

        assert_eq!(client.get("/kill-switch").await.status, StatusCode::OK);
        tokio::task::spawn_blocking(move || server.stop())
            .await
            .unwrap();
        let refused = tokio::task::spawn_blocking(move || TcpStream::connect(taken))
            .await
            .unwrap();
        assert!(refused.is_err(), "the port is closed once stopped");
    });
}

#[test]
fn responses_are_json_objects_with_the_documented_shapes() {
    run(0, async {
        let (_server, client) = start_server();
        let errors = client.get("/errors").await;
        assert!(errors.body["errors"].is_array());
        let attacks = client.get("/attacks").await;
        assert!(attacks.body["attacks"].is_array());
        let attack = r#"{"point": "admin.endpoint.charge", "latency": {"min": "1ms", "max": "2ms"},
                         "facets": {"customer": "*"}, "sticky": "customer", "percent": 50,
                         "max_impacts": 1000, "duration": "1h 30m"}"#;
        assert_eq!(
            client.put("/attacks/ep-shape", attack).await.status,
            StatusCode::CREATED
        );
        let status = client.running("ep-shape").await.unwrap();
        let keys: Vec<&str> = status
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut expected = vec![
            "attack",
            "dry_run",
            "hits",
            "id",
            "matched",
            "origin",
            "point",
            "points",
            "running_for_ms",
            "state",
            "time_left_ms",
        ];
        expected.sort_unstable();
        let mut keys = keys;
        keys.sort_unstable();
        assert_eq!(keys, expected);
        assert_eq!(
            status["attack"],
            json!({"id": "ep-shape", "point": "admin.endpoint.charge",
                   "facets": {"customer": "*"}, "latency": {"min": "1ms", "max": "2ms"},
                   "percent": 50.0, "sticky": "customer", "max_impacts": 1000,
                   "duration": "1h 30m", "dry_run": false})
        );
        // What the endpoint reports can be given back as it is: nothing changes.
        let again = client
            .put("/attacks/ep-shape", &status["attack"].to_string())
            .await;
        assert_eq!(
            again.body["applied"]["unchanged"],
            json!(["ep-shape"]),
            "{again:?}"
        );
        assert!(fault_runtime::halt("ep-shape"));
    });
}

#[test]
fn malformed_http_is_refused_by_the_http_layer_with_an_empty_body() {
    run(0, async {
        let (server, _client) = start_server();
        let addr = server.local_addr();
        let requests = [
            "NOT HTTP AT ALL\r\n\r\n".to_owned(),
            format!(
                "PUT /kill-switch HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {TOKEN}\r\n\
                 content-length: twelve\r\n\r\n"
            ),
        ];
        for request in requests {
            let answer = tokio::task::spawn_blocking(move || {
                let mut stream = TcpStream::connect(addr).unwrap();
                stream
                    .set_read_timeout(Some(Duration::from_secs(10)))
                    .unwrap();
                stream.write_all(request.as_bytes()).unwrap();
                let mut answer = Vec::new();
                // Ends at the server's close, or at the read timeout.
                let _ = stream.read_to_end(&mut answer);
                String::from_utf8_lossy(&answer).into_owned()
            })
            .await
            .unwrap();
            // hyper's own answer: the request never reaches the endpoint, whose refusals
            // are all JSON.
            assert!(answer.starts_with("HTTP/1.1 400 "), "{answer}");
            let (head, body) = answer.split_once("\r\n\r\n").unwrap();
            assert!(
                head.to_ascii_lowercase().contains("content-length: 0"),
                "{head}"
            );
            assert_eq!(body, "");
        }
    });
}

/// How long a request may take while the connection slots are under pressure: well below
/// [`admin::HEADER_READ_TIMEOUT`], which is how long a slot held by a silent connection
/// would make it wait. A guard against waiting for a slot, not a measure of speed.
const PROMPT: Duration = Duration::from_secs(5);

/// Sends one whole HTTP/1.1 request on `stream` and reads its answer: the head, and a body
/// of the length the head gives. The connection stays open unless the server closes it.
fn exchange_on(stream: &mut TcpStream, request: &str) -> String {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    // The answers here are a few hundred bytes; the count only bounds a broken server.
    for _ in 0..1000 {
        let read = stream.read(&mut buffer).expect("the answer arrives");
        assert!(read > 0, "closed mid-answer: {answer:?}");
        answer.extend_from_slice(&buffer[..read]);
        let text = String::from_utf8_lossy(&answer).to_ascii_lowercase();
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|line| line.strip_prefix("content-length:"))
                .and_then(|length| length.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if answer.len() >= end + 4 + length {
                return String::from_utf8_lossy(&answer).into_owned();
            }
        }
    }
    panic!("no whole answer: {}", String::from_utf8_lossy(&answer));
}

/// Opens `count` connections, oldest first, each after sending `request` (and reading its
/// answer) when there is one.
async fn open_connections(
    addr: SocketAddr,
    count: usize,
    request: Option<String>,
) -> Vec<TcpStream> {
    tokio::task::spawn_blocking(move || {
        (0..count)
            .map(|_| {
                let mut stream = TcpStream::connect(addr).expect("loopback connects");
                if let Some(request) = &request {
                    let answer = exchange_on(&mut stream, request);
                    assert!(answer.starts_with("HTTP/1.1 "), "{answer}");
                }
                stream
            })
            .collect()
    })
    .await
    .unwrap()
}

/// Whether the server closed `stream`, waiting a few seconds at most.
async fn closed_by_the_server(mut stream: TcpStream) -> bool {
    tokio::task::spawn_blocking(move || {
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        match stream.read(&mut [0u8; 64]) {
            Ok(0) => true,
            Ok(_) => false,
            Err(error) => error.kind() == std::io::ErrorKind::ConnectionReset,
        }
    })
    .await
    .unwrap()
}

#[test]
fn silent_connections_make_room_for_a_request() {
    run(0, async {
        let (server, client) = start_server();
        // More connections than there are slots, none of which sends a whole request head,
        // as a flood of them would: half send nothing, half the start of a head.
        let silent = open_connections(server.local_addr(), admin::MAX_CONNECTIONS + 6, None).await;
        let silent = tokio::task::spawn_blocking(move || {
            for stream in silent.iter().skip(1).step_by(2) {
                (&*stream)
                    .write_all(b"GET /kill-switch HTTP/1.1\r\nhos")
                    .unwrap();
            }
            silent
        })
        .await
        .unwrap();

        let answer = tokio::time::timeout(PROMPT, client.get("/kill-switch"))
            .await
            .expect("the request does not wait for a silent connection's slot");
        assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
        let oldest = silent.into_iter().next().unwrap();
        assert!(
            closed_by_the_server(oldest).await,
            "the oldest silent connection was closed to make room"
        );
    });
}

#[test]
fn requests_refused_for_their_token_do_not_keep_their_connections() {
    run(0, async {
        let (server, client) = start_server();
        let addr = server.local_addr();
        let unauthenticated = format!("GET /kill-switch HTTP/1.1\r\nhost: {addr}\r\n\r\n");
        let refused = open_connections(addr, admin::MAX_CONNECTIONS, Some(unauthenticated)).await;

        let answer = tokio::time::timeout(PROMPT, client.get("/kill-switch"))
            .await
            .expect("the request does not wait for a refused connection's slot");
        assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
        for stream in refused {
            assert!(closed_by_the_server(stream).await);
        }
    });
}

#[test]
fn connections_beyond_the_cap_wait_until_one_ends() {
    run(0, async {
        let (server, client) = start_server();
        let addr = server.local_addr();
        // Connections that were served a request, and stay open, hold every slot: they are
        // never closed to make room.
        let request = format!(
            "GET /kill-switch HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {TOKEN}\r\n\r\n"
        );
        let served = open_connections(addr, admin::MAX_CONNECTIONS, Some(request.clone())).await;

        let waiting = tokio::spawn({
            let client = client.clone();
            async move { client.get("/kill-switch").await }
        });
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(
            !waiting.is_finished(),
            "a request beyond the cap waits for a slot"
        );
        // The connections that hold the slots go on serving their clients.
        let mut served = served;
        let mut first = served.remove(0);
        let (first, again) = tokio::task::spawn_blocking(move || {
            let answer = exchange_on(&mut first, &request);
            (first, answer)
        })
        .await
        .unwrap();
        assert!(again.starts_with("HTTP/1.1 200"), "{again}");
        assert!(
            !waiting.is_finished(),
            "and the request beyond the cap waits"
        );

        drop(first);
        drop(served);
        let answer = waiting.await.unwrap();
        assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    });
}
