//! The JSON the endpoint answers with: views of the runtime's reports, borrowed from them,
//! with the field names the endpoint's contract gives.

use serde::Serialize;

use crate::attack::Attack;
use crate::error::{AttackError, SourceError};
use crate::status::{Applied, AttackStatus, Impacts, PointInfo};

/// `{"error": {"message": ..., "problems": [...]}}`, the body of every refusal.
#[derive(Serialize)]
pub(super) struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

#[derive(Serialize)]
struct ErrorDetail<'a> {
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    problems: Option<Vec<Problem<'a>>>,
}

impl<'a> ErrorBody<'a> {
    /// A refusal that is not about attacks: authentication, routes, limits, syntax.
    pub(super) fn message(message: &'a str) -> Self {
        Self {
            error: ErrorDetail {
                message,
                problems: None,
            },
        }
    }

    /// A refusal of invalid attacks, each problem naming its attack and field.
    pub(super) fn problems(message: &'a str, problems: &'a [AttackError]) -> Self {
        Self {
            error: ErrorDetail {
                message,
                problems: Some(problems.iter().map(Problem::from).collect()),
            },
        }
    }
}

/// One problem with one attack; absent parts are `null`, not left out.
#[derive(Serialize)]
struct Problem<'a> {
    attack_id: Option<&'a str>,
    field: Option<&'a str>,
    reason: &'a str,
    line: Option<usize>,
    message: String,
}

impl<'a> From<&'a AttackError> for Problem<'a> {
    fn from(problem: &'a AttackError) -> Self {
        Self {
            attack_id: problem.attack_id(),
            field: problem.field(),
            reason: problem.reason(),
            line: problem.line(),
            message: problem.to_string(),
        }
    }
}

/// `{"points": [...]}`.
#[derive(Serialize)]
pub(super) struct Points<'a> {
    points: Vec<Point<'a>>,
}

impl<'a> Points<'a> {
    pub(super) fn new(catalog: &'a [PointInfo]) -> Self {
        Self {
            points: catalog.iter().map(Point::from).collect(),
        }
    }
}

#[derive(Serialize)]
struct Point<'a> {
    name: &'a str,
    module_path: &'a str,
    file: &'a str,
    line: u32,
    facet_keys: &'a [&'static str],
    is_async: bool,
    impacts: ImpactsJson,
    hits: u64,
    attacks: usize,
}

#[derive(Serialize)]
struct ImpactsJson {
    latency: bool,
    error: bool,
    panic: bool,
}

impl<'a> From<&'a PointInfo> for Point<'a> {
    fn from(point: &'a PointInfo) -> Self {
        let Impacts {
            latency,
            error,
            panic,
        } = point.impacts;
        Self {
            name: point.name,
            module_path: point.module_path,
            file: point.file,
            line: point.line,
            facet_keys: &point.facet_keys,
            is_async: point.is_async,
            impacts: ImpactsJson {
                latency,
                error,
                panic,
            },
            hits: point.hits,
            attacks: point.attacks,
        }
    }
}

/// `{"attacks": [...]}`.
#[derive(Serialize)]
pub(super) struct Attacks<'a> {
    attacks: Vec<Status<'a>>,
}

impl<'a> Attacks<'a> {
    pub(super) fn new(statuses: &'a [AttackStatus]) -> Self {
        Self {
            attacks: statuses.iter().map(Status::from).collect(),
        }
    }
}

#[derive(Serialize)]
struct Status<'a> {
    id: &'a str,
    point: &'a str,
    points: &'a [&'static str],
    origin: &'a str,
    state: String,
    dry_run: bool,
    matched: u64,
    hits: u64,
    time_left_ms: u64,
    running_for_ms: u64,
    attack: &'a Attack,
}

impl<'a> From<&'a AttackStatus> for Status<'a> {
    fn from(status: &'a AttackStatus) -> Self {
        let millis =
            |duration: std::time::Duration| u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
        Self {
            id: &status.id,
            point: &status.point,
            points: &status.points,
            origin: &status.origin,
            state: status.state.to_string(),
            dry_run: status.dry_run,
            matched: status.matched,
            hits: status.hits,
            time_left_ms: millis(status.time_left),
            running_for_ms: millis(status.running_for),
            attack: &status.attack,
        }
    }
}

/// `{"applied": {"started": [...], "replaced": [...], "unchanged": [...], "halted": [...]}}`.
#[derive(Serialize)]
pub(super) struct AppliedBody<'a> {
    applied: AppliedJson<'a>,
}

#[derive(Serialize)]
struct AppliedJson<'a> {
    started: &'a [String],
    replaced: &'a [String],
    unchanged: &'a [String],
    halted: &'a [String],
}

impl<'a> AppliedBody<'a> {
    pub(super) fn new(applied: &'a Applied) -> Self {
        Self {
            applied: AppliedJson {
                started: &applied.started,
                replaced: &applied.replaced,
                unchanged: &applied.unchanged,
                halted: &applied.halted,
            },
        }
    }
}

/// `{"halted": n}`.
#[derive(Serialize)]
pub(super) struct Halted {
    pub(super) halted: usize,
}

/// `{"errors": [...]}`, refused sources oldest first.
#[derive(Serialize)]
pub(super) struct Errors<'a> {
    errors: Vec<SourceErrorJson<'a>>,
}

impl<'a> Errors<'a> {
    pub(super) fn new(errors: &'a [SourceError]) -> Self {
        Self {
            errors: errors.iter().map(SourceErrorJson::from).collect(),
        }
    }
}

#[derive(Serialize)]
struct SourceErrorJson<'a> {
    origin: &'a str,
    message: String,
    problems: Vec<Problem<'a>>,
}

impl<'a> From<&'a SourceError> for SourceErrorJson<'a> {
    fn from(error: &'a SourceError) -> Self {
        Self {
            origin: error.origin(),
            message: error.to_string(),
            problems: error.problems().iter().map(Problem::from).collect(),
        }
    }
}

/// `{"engaged": bool}`, the kill switch now.
#[derive(Serialize)]
pub(super) struct KillSwitch {
    pub(super) engaged: bool,
}

/// `{"engaged": bool, "halted": n}`, the kill switch after a change.
#[derive(Serialize)]
pub(super) struct KillSwitchSet {
    pub(super) engaged: bool,
    pub(super) halted: usize,
}

/// The body of `PUT /kill-switch`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct KillSwitchRequest {
    pub(super) engaged: bool,
}
