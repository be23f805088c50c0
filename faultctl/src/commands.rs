//! What each command does, and how its results are reported: text for people, `--json` for
//! programs.
//!
//! Text goes to two streams: what the command found or did to stdout, every failure to
//! stderr as `faultctl: ENDPOINT: what went wrong`. With `--json`, stdout carries one JSON
//! document and stderr only problems with the command line itself.

use std::io::{self, Write};
use std::path::Path;

use hyper::{Method, StatusCode};
use serde::Serialize;
use serde::ser::SerializeMap as _;
use serde_json::Value;

use crate::check::{self, AttackFile, count};
use crate::cli::{Cli, Command, DEFAULT_TIMEOUT, HaltArgs, RemoteArgs};
use crate::client::{self, Failure, Outcome, Reply, Request, Timeouts};
use crate::contract::{AppliedBody, AttacksBody, ErrorBody, HaltedBody, PointsBody, Problem};
use crate::endpoint::{self, ADDR_VAR, Endpoint, check_attack_id};
use crate::table::{Table, printable, short_duration};
use crate::token::{TOKEN_VAR, Token};

/// How the command ended; the process exits with its number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Done everywhere it was asked.
    Done = 0,
    /// Invalid input: nothing was sent.
    Invalid = 1,
    /// At least one endpoint failed.
    EndpointFailed = 2,
}

/// Runs a parsed command line, writing reports to `out` and failures to `err`.
///
/// # Errors
///
/// Only when writing to `out` or `err` fails.
pub fn run(cli: &Cli, out: &mut dyn Write, err: &mut dyn Write) -> io::Result<Exit> {
    let json = cli.json;
    match &cli.command {
        Command::Check { file } => check_file(file, json, out),
        Command::Points { remote } => {
            let request = Request::new(Method::GET, "/points");
            send(remote, json, &request, out, err, judge_points)
        }
        Command::Attacks { remote } => {
            let request = Request::new(Method::GET, "/attacks");
            send(remote, json, &request, out, err, judge_attacks)
        }
        Command::Start { file, remote } => start(remote, json, file, out, err),
        Command::Halt {
            target: HaltArgs { id: Some(id), .. },
            remote,
        } => {
            if let Err(reason) = check_attack_id(id) {
                writeln!(err, "faultctl: {reason}")?;
                return Ok(Exit::Invalid);
            }
            let request = Request::new(Method::DELETE, format!("/attacks/{id}"));
            send(remote, json, &request, out, err, |reply| {
                judge_halt_one(id, reply)
            })
        }
        Command::Halt {
            target: HaltArgs { id: None, .. },
            remote,
        } => {
            let request = Request::new(Method::DELETE, "/attacks");
            send(remote, json, &request, out, err, judge_halt_all)
        }
    }
}

/// `check FILE`.
fn check_file(path: &Path, json: bool, out: &mut dyn Write) -> io::Result<Exit> {
    let shown = path.display().to_string();
    match check::load(path) {
        Ok(file) => {
            // Valid, so `check` passes it; but `start` could never send it.
            let warnings: Vec<String> = file
                .over_body_limit()
                .map(|reason| {
                    format!(
                        "{reason}; `faultctl start` cannot send it (split it into smaller files)"
                    )
                })
                .into_iter()
                .collect();
            if json {
                let report = CheckReport {
                    file: shown,
                    ok: true,
                    format: Some(format_name(&file)),
                    attacks: file.ids(),
                    problems: Vec::new(),
                    warnings,
                };
                write_json(out, &report)?;
            } else {
                for warning in &warnings {
                    writeln!(out, "{shown}: warning: {warning}")?;
                }
                writeln!(out, "{shown}: {} ok", count(file.set.len(), "attack"))?;
            }
            Ok(Exit::Done)
        }
        Err(refused) => {
            if json {
                write_json(out, &CheckReport::refused(shown, refused))?;
            } else {
                write_problems(&shown, &refused.problems, out)?;
            }
            Ok(Exit::Invalid)
        }
    }
}

/// The `--json` document of `check`, and of `start` when it refuses a file before
/// contacting any endpoint.
#[derive(Serialize)]
struct CheckReport {
    /// The file as given.
    file: String,
    /// Whether the command goes ahead with the file: it is valid (`check`), or is sent
    /// (`start`, whose refusals print this document with `ok` false).
    ok: bool,
    /// `toml` or `json`; `null` when the file could not be read as text.
    format: Option<String>,
    /// The ids of the file's attacks when it is valid; none when it is not, since a file
    /// is started whole or not at all.
    attacks: Vec<String>,
    /// Why the file is refused.
    problems: Vec<Problem>,
    /// What keeps a valid file from being started: it is over the endpoint's body limit.
    warnings: Vec<String>,
}

impl CheckReport {
    fn refused(file: String, refused: check::Refused) -> Self {
        CheckReport {
            file,
            ok: false,
            format: refused
                .format
                .map(|format| format.to_string().to_lowercase()),
            attacks: Vec::new(),
            problems: refused.problems,
            warnings: Vec::new(),
        }
    }
}

fn format_name(file: &AttackFile) -> String {
    file.format.to_string().to_lowercase()
}

fn write_json(out: &mut dyn Write, value: &impl Serialize) -> io::Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(io::Error::other)?;
    writeln!(out, "{text}")
}

/// Every problem of a refused file, placed on its line, then how many there are.
fn write_problems(shown: &str, problems: &[Problem], out: &mut dyn Write) -> io::Result<()> {
    // A problem may quote the file, which may hold anything.
    for problem in problems {
        writeln!(out, "{}", printable(&problem.located(shown)))?;
    }
    writeln!(
        out,
        "{shown}: {}; none of its attacks would start",
        count(problems.len(), "problem")
    )
}

/// `start FILE`: the offline check first; only a valid file that the endpoint can read
/// reaches the endpoints.
fn start(
    remote: &RemoteArgs,
    json: bool,
    path: &Path,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<Exit> {
    let shown = path.display().to_string();
    let file = match check::load(path) {
        Ok(file) => file,
        Err(refused) => {
            // The same report as `check`, on the stream failures go to.
            if json {
                write_json(out, &CheckReport::refused(shown, refused))?;
            } else {
                write_problems(&shown, &refused.problems, err)?;
                writeln!(err, "faultctl: {shown} refused; no endpoint was contacted")?;
            }
            return Ok(Exit::Invalid);
        }
    };
    let refusal = if file.set.is_empty() {
        Some((
            "holds no attack; nothing to start".to_owned(),
            format!("faultctl: {shown} holds no attack; nothing to start"),
        ))
    } else {
        file.over_body_limit().map(|reason| {
            let reason = format!("{reason}; split it into smaller files");
            let text = format!("faultctl: {shown}: {reason}; no endpoint was contacted");
            (reason, text)
        })
    };
    if let Some((reason, text)) = refusal {
        if json {
            let report = CheckReport {
                file: shown,
                ok: false,
                format: Some(format_name(&file)),
                attacks: file.ids(),
                problems: vec![Problem::of_file(reason)],
                warnings: Vec::new(),
            };
            write_json(out, &report)?;
        } else {
            writeln!(err, "{text}")?;
        }
        return Ok(Exit::Invalid);
    }

    let request =
        Request::new(Method::POST, "/attacks").with_body(file.content_type(), file.text.clone());
    send(remote, json, &request, out, err, |reply| {
        judge_start(&shown, reply)
    })
}

/// What an answer means for the command: whether it counts as done, and what to print.
struct Verdict {
    /// Whether the endpoint did what was asked (or there was nothing to do).
    ok: bool,
    /// The report: for stdout when `Ok`, for stderr when `Err`.
    text: Result<String, String>,
}

impl Verdict {
    fn done(text: String) -> Self {
        Verdict {
            ok: true,
            text: Ok(text),
        }
    }

    fn failed(text: String) -> Self {
        Verdict {
            ok: false,
            text: Err(text),
        }
    }
}

/// The settings of a command that talks to endpoints.
struct Targets {
    endpoints: Vec<Endpoint>,
    token: Token,
    timeouts: Timeouts,
}

impl Targets {
    fn from_args(args: &RemoteArgs) -> Result<Self, String> {
        let given = if args.endpoints.is_empty() {
            match std::env::var(ADDR_VAR) {
                Ok(list) => endpoint::parse_list(&list)?,
                Err(std::env::VarError::NotPresent) => Vec::new(),
                Err(std::env::VarError::NotUnicode(_)) => {
                    return Err(format!("{ADDR_VAR} is not valid UTF-8"));
                }
            }
        } else {
            args.endpoints.clone()
        };
        let mut endpoints: Vec<Endpoint> = Vec::new();
        for endpoint in given {
            if !endpoints.iter().any(|known| known.same_as(&endpoint)) {
                endpoints.push(endpoint);
            }
        }
        if endpoints.is_empty() {
            return Err(format!(
                "no endpoint: give --addr HOST:PORT (repeat it for several), or set {ADDR_VAR}"
            ));
        }
        let token = Token::load(args.token_file.as_deref())?;
        let timeouts = Timeouts::within(args.timeout.unwrap_or(DEFAULT_TIMEOUT));
        Ok(Targets {
            endpoints,
            token,
            timeouts,
        })
    }
}

/// Sends `request` to every endpoint and reports each answer, as `judge` reads it.
fn send(
    args: &RemoteArgs,
    json: bool,
    request: &Request,
    out: &mut dyn Write,
    err: &mut dyn Write,
    judge: impl Fn(&Reply) -> Verdict,
) -> io::Result<Exit> {
    let targets = match Targets::from_args(args) {
        Ok(targets) => targets,
        Err(reason) => {
            writeln!(err, "faultctl: {reason}")?;
            return Ok(Exit::Invalid);
        }
    };
    let outcomes = match client::send_all(
        &targets.endpoints,
        request,
        &targets.token,
        targets.timeouts,
    ) {
        Ok(outcomes) => outcomes,
        Err(reason) => {
            writeln!(err, "faultctl: {reason}")?;
            return Ok(Exit::EndpointFailed);
        }
    };

    let verdicts: Vec<Verdict> = outcomes
        .iter()
        .map(|outcome| match outcome {
            Ok(reply) => judge(reply),
            Err(failure) => Verdict::failed(failure.to_string()),
        })
        .collect();
    let failed = verdicts.iter().filter(|verdict| !verdict.ok).count();

    if json {
        let report = JsonReport {
            endpoints: &targets.endpoints,
            outcomes: &outcomes,
            verdicts: &verdicts,
        };
        write_json(out, &report)?;
    } else {
        let several = targets.endpoints.len() > 1;
        let mut first_block = true;
        for (endpoint, verdict) in targets.endpoints.iter().zip(&verdicts) {
            match &verdict.text {
                Ok(text) if text.contains('\n') => {
                    // A table: under a title naming its endpoint when there are several.
                    if several {
                        if !first_block {
                            writeln!(out)?;
                        }
                        writeln!(out, "{endpoint}")?;
                    }
                    first_block = false;
                    write!(out, "{text}")?;
                }
                Ok(line) => writeln!(out, "{endpoint}: {line}")?,
                Err(reason) => writeln!(err, "faultctl: {endpoint}: {reason}")?,
            }
        }
        if failed > 0 && several {
            writeln!(
                err,
                "faultctl: {failed} of {} endpoints failed",
                targets.endpoints.len()
            )?;
        }
    }
    Ok(if failed > 0 {
        Exit::EndpointFailed
    } else {
        Exit::Done
    })
}

/// `--json` of a command sent to endpoints: an object keyed by endpoint, in the order
/// given, each with `ok`, the HTTP `status`, the endpoint's `response` as it sent it, and
/// `error` when `ok` is false.
struct JsonReport<'a> {
    endpoints: &'a [Endpoint],
    outcomes: &'a [Outcome],
    verdicts: &'a [Verdict],
}

impl Serialize for JsonReport<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.endpoints.len()))?;
        let answers = self.outcomes.iter().zip(self.verdicts);
        for (endpoint, (outcome, verdict)) in self.endpoints.iter().zip(answers) {
            let (status, response) = match outcome {
                Ok(reply) => (Some(reply.status), Some(&reply.body)),
                // An answer came, but not the endpoint's JSON: its status is known.
                Err(Failure::NotAdmin { status, .. }) => (Some(*status), None),
                Err(_) => (None, None),
            };
            let entry = JsonEntry {
                ok: verdict.ok,
                status: status.map(|status| status.as_u16()),
                response,
                error: verdict.text.as_ref().err().map(String::as_str),
            };
            map.serialize_entry(&endpoint.to_string(), &entry)?;
        }
        map.end()
    }
}

/// One endpoint's part of [`JsonReport`]: every key is always there, `null` when it does
/// not apply, so that a program reads every entry alike.
#[derive(Serialize)]
struct JsonEntry<'a> {
    ok: bool,
    /// The HTTP status, `null` when no answer came.
    status: Option<u16>,
    /// The endpoint's JSON answer, `null` when none came or it was not the endpoint's JSON.
    response: Option<&'a Value>,
    /// Why it failed, `null` when `ok`.
    error: Option<&'a str>,
}

/// The report of an answer that is not a success: its status, the endpoint's message, and
/// the problems of an invalid attack text, placed in `file` when they came from one.
fn refusal(reply: &Reply, file: Option<&str>) -> String {
    let status = reply.status;
    let detail = serde_json::from_value::<ErrorBody>(reply.body.clone()).ok();
    let mut text = match &detail {
        Some(body) => format!("refused ({status}): {}", printable(&body.error.message)),
        None => format!("refused ({status}): {}", printable(&reply.body.to_string())),
    };
    if status == StatusCode::UNAUTHORIZED {
        text.push_str(&format!(
            " (check the token of --token-file or {TOKEN_VAR})"
        ));
    }
    for problem in detail.iter().flat_map(|body| &body.error.problems) {
        let line = match file {
            Some(file) => problem.located(file),
            None => problem.to_string(),
        };
        text.push_str(&format!("\n  {}", printable(&line)));
    }
    text
}

/// Reads a success body of the contract's shape, or says what was wrong with it.
fn read_body<T: serde::de::DeserializeOwned>(reply: &Reply) -> Result<T, Verdict> {
    serde_json::from_value(reply.body.clone()).map_err(|error| {
        Verdict::failed(format!(
            "answered {} with a body this faultctl cannot read: {error}",
            reply.status
        ))
    })
}

fn judge_points(reply: &Reply) -> Verdict {
    if !reply.status.is_success() {
        return Verdict::failed(refusal(reply, None));
    }
    let body: PointsBody = match read_body(reply) {
        Ok(body) => body,
        Err(verdict) => return verdict,
    };
    if body.points.is_empty() {
        return Verdict::done(
            "no fault points (is the service built with fault-runtime's `enabled` feature?)\n"
                .into(),
        );
    }
    let mut table = Table::new(&["NAME", "ASYNC", "IMPACTS", "FACETS", "HITS", "ATTACKS"]);
    for point in &body.points {
        let impacts: Vec<&str> = [
            (point.impacts.latency, "latency"),
            (point.impacts.error, "error"),
            (point.impacts.panic, "panic"),
        ]
        .into_iter()
        .filter_map(|(can, impact)| can.then_some(impact))
        .collect();
        table.row(vec![
            printable(&point.name).into_owned(),
            if point.is_async { "yes" } else { "no" }.into(),
            or_dash(impacts.join(",")),
            or_dash(printable(&point.facet_keys.join(",")).into_owned()),
            point.hits.to_string(),
            point.attacks.to_string(),
        ]);
    }
    Verdict::done(table.render())
}

fn judge_attacks(reply: &Reply) -> Verdict {
    if !reply.status.is_success() {
        return Verdict::failed(refusal(reply, None));
    }
    let body: AttacksBody = match read_body(reply) {
        Ok(body) => body,
        Err(verdict) => return verdict,
    };
    if body.attacks.is_empty() {
        return Verdict::done("no attacks\n".into());
    }
    let mut table = Table::new(&[
        "ID",
        "POINT",
        "ORIGIN",
        "STATE",
        "MATCHED",
        "HITS",
        "TIME LEFT",
    ]);
    for status in &body.attacks {
        // A glob, or a name that resolved to other points, shows what it aims at.
        let point = match status.points.as_slice() {
            [only] if *only == status.point => status.point.clone(),
            points => format!("{} ({})", status.point, count(points.len(), "point")),
        };
        // A dry run changes no call: its hits are the calls it would have hit.
        let hits = if status.dry_run {
            format!("{} would-hit", status.hits)
        } else {
            status.hits.to_string()
        };
        let time_left = if status.state == "running" {
            short_duration(status.time_left_ms)
        } else {
            "-".into()
        };
        table.row(vec![
            printable(&status.id).into_owned(),
            printable(&point).into_owned(),
            printable(&status.origin).into_owned(),
            printable(&status.state).into_owned(),
            status.matched.to_string(),
            hits,
            time_left,
        ]);
    }
    Verdict::done(table.render())
}

fn judge_start(file: &str, reply: &Reply) -> Verdict {
    if !reply.status.is_success() {
        return Verdict::failed(refusal(reply, Some(file)));
    }
    let body: AppliedBody = match read_body(reply) {
        Ok(body) => body,
        Err(verdict) => return verdict,
    };
    let applied = body.applied;
    let parts: Vec<String> = [
        ("started", &applied.started),
        ("replaced", &applied.replaced),
        ("unchanged", &applied.unchanged),
        ("halted", &applied.halted),
    ]
    .into_iter()
    .filter(|(_, ids)| !ids.is_empty())
    .map(|(what, ids)| format!("{what} {}", printable(&ids.join(", "))))
    .collect();
    if parts.is_empty() {
        Verdict::done("nothing changed".into())
    } else {
        Verdict::done(parts.join("; "))
    }
}

fn judge_halt_one(id: &str, reply: &Reply) -> Verdict {
    if reply.status == StatusCode::NOT_FOUND {
        // The state asked for (not running) holds already; cleanup scripts rely on that.
        return Verdict::done(format!("{id} is not running there"));
    }
    if !reply.status.is_success() {
        return Verdict::failed(refusal(reply, None));
    }
    match read_body::<HaltedBody>(reply) {
        Ok(_) => Verdict::done(format!("halted {id}")),
        Err(verdict) => verdict,
    }
}

fn judge_halt_all(reply: &Reply) -> Verdict {
    if !reply.status.is_success() {
        return Verdict::failed(refusal(reply, None));
    }
    match read_body::<HaltedBody>(reply) {
        Ok(body) => Verdict::done(format!(
            "halted {}",
            count(usize::try_from(body.halted).unwrap_or(usize::MAX), "attack")
        )),
        Err(verdict) => verdict,
    }
}

fn or_dash(text: String) -> String {
    if text.is_empty() { "-".into() } else { text }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn reply(status: u16, body: Value) -> Reply {
        Reply {
            status: StatusCode::from_u16(status).unwrap(),
            body,
        }
    }

    #[test]
    fn points_are_a_table_of_the_catalog() {
        let verdict = judge_points(&reply(
            200,
            json!({"points": [
                {"name": "payments.charge", "module_path": "m", "file": "f", "line": 1,
                 "facet_keys": ["customer", "amount"], "is_async": true,
                 "impacts": {"latency": true, "error": true, "panic": true},
                 "hits": 12, "attacks": 1},
                {"name": "orders.store", "module_path": "m", "file": "f", "line": 2,
                 "facet_keys": [], "is_async": false,
                 "impacts": {"latency": true, "error": false, "panic": false},
                 "hits": 0, "attacks": 0}
            ]}),
        ));
        assert!(verdict.ok);
        assert_eq!(
            verdict.text.unwrap(),
            "NAME             ASYNC  IMPACTS              FACETS           HITS  ATTACKS\n\
             payments.charge  yes    latency,error,panic  customer,amount  12    1\n\
             orders.store     no     latency              -                0     0\n"
        );
    }

    #[test]
    fn attacks_show_dry_run_counts_as_would_hit_and_ended_ones_without_time() {
        let verdict = judge_attacks(&reply(
            200,
            json!({"attacks": [
                {"id": "drill", "point": "payments.*", "points": ["payments.charge",
                 "payments.refund"], "origin": "admin", "state": "running", "dry_run": true,
                 "matched": 9, "hits": 4, "time_left_ms": 545000, "running_for_ms": 1,
                 "attack": {}},
                {"id": "old", "point": "orders.store", "points": ["orders.store"],
                 "origin": "api", "state": "expired", "dry_run": false, "matched": 2,
                 "hits": 2, "time_left_ms": 0, "running_for_ms": 1, "attack": {}}
            ]}),
        ));
        assert_eq!(
            verdict.text.unwrap(),
            "ID     POINT                  ORIGIN  STATE    MATCHED  HITS         TIME LEFT\n\
             drill  payments.* (2 points)  admin   running  9        4 would-hit  9m05s\n\
             old    orders.store           api     expired  2        2            -\n"
        );
    }

    #[test]
    fn a_refused_start_lists_the_problems_in_the_file() {
        let verdict = judge_start(
            "drill.toml",
            &reply(
                400,
                json!({"error": {"message": "invalid attacks", "problems": [
                    {"attack_id": "a", "field": "point", "reason": "no point `nope`",
                     "line": 2, "message": "line 2: attack `a`: field `point`: no point `nope`"}
                ]}}),
            ),
        );
        assert!(!verdict.ok);
        assert_eq!(
            verdict.text.unwrap_err(),
            "refused (400 Bad Request): invalid attacks\n  \
             drill.toml:2: attack `a`: field `point`: no point `nope`"
        );
    }

    #[test]
    fn a_start_reports_each_kind_of_change() {
        let verdict = judge_start(
            "f",
            &reply(
                200,
                json!({"applied": {"started": ["a", "b"], "replaced": [], "unchanged": ["c"],
                                   "halted": []}}),
            ),
        );
        assert_eq!(verdict.text.unwrap(), "started a, b; unchanged c");
    }

    #[test]
    fn halting_what_is_not_running_is_done_and_a_wrong_token_is_not() {
        let verdict = judge_halt_one(
            "c42",
            &reply(
                404,
                json!({"error": {"message": "no running attack `c42`"}}),
            ),
        );
        assert!(verdict.ok);
        assert_eq!(verdict.text.unwrap(), "c42 is not running there");

        let verdict = judge_halt_all(&reply(401, json!({"error": {"message": "bad token"}})));
        assert!(!verdict.ok);
        let text = verdict.text.unwrap_err();
        assert!(
            text.starts_with("refused (401 Unauthorized): bad token"),
            "{text}"
        );
        assert!(text.contains(TOKEN_VAR), "{text}");

        let verdict = judge_halt_all(&reply(200, json!({"halted": 3})));
        assert_eq!(verdict.text.unwrap(), "halted 3 attacks");
    }

    #[test]
    fn a_success_body_of_another_shape_is_a_failure() {
        let verdict = judge_points(&reply(200, json!({"catalog": []})));
        assert!(!verdict.ok);
        assert!(verdict.text.unwrap_err().contains("cannot read"));
    }

    #[test]
    fn json_reports_are_keyed_by_endpoint_in_the_order_given() {
        let endpoints: Vec<Endpoint> = ["127.0.0.1:2", "127.0.0.1:1", "127.0.0.1:3"]
            .iter()
            .map(|text| text.parse().unwrap())
            .collect();
        let failure = Failure::Connect("cannot connect to 127.0.0.1:1: refused".into());
        let not_admin = Failure::NotAdmin {
            status: StatusCode::BAD_REQUEST,
            reason: "an empty body".into(),
        };
        let outcomes = vec![
            Ok(reply(200, json!({"halted": 1}))),
            Err(failure.clone()),
            Err(not_admin.clone()),
        ];
        let verdicts = vec![
            Verdict::done("halted 1 attack".into()),
            Verdict::failed(failure.to_string()),
            Verdict::failed("x".into()),
        ];
        let report = JsonReport {
            endpoints: &endpoints,
            outcomes: &outcomes,
            verdicts: &verdicts,
        };
        assert_eq!(
            serde_json::to_string(&report).unwrap(),
            r#"{"127.0.0.1:2":{"ok":true,"status":200,"response":{"halted":1},"error":null},"127.0.0.1:1":{"ok":false,"status":null,"response":null,"error":"cannot connect to 127.0.0.1:1: refused"},"127.0.0.1:3":{"ok":false,"status":400,"response":null,"error":"x"}}"#
        );
    }
}
