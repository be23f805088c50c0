//! The bodies the admin endpoint answers with, as far as the text reports read them.
//!
//! Fields the reports do not show are not declared, and unknown fields are ignored, so a
//! newer endpoint that adds fields still works with this tool. `--json` prints the bodies
//! whole, as the endpoint sent them.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One problem with one attack of a text: which attack, which field, why, on which line.
///
/// The same shape as the endpoint's problems, so `check --json` and the endpoint's refusals
/// read alike.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub struct Problem {
    /// The attack's id (or `#N`, its position, when it has none).
    pub attack_id: Option<String>,
    /// The field at fault.
    pub field: Option<String>,
    /// Why the input was refused.
    pub reason: String,
    /// The line of the text, when known.
    pub line: Option<usize>,
    /// The whole problem as one sentence.
    #[serde(default)]
    pub message: String,
}

impl Problem {
    /// A problem with the file as a whole, such as it cannot be read.
    pub fn of_file(reason: String) -> Self {
        Self::from_parts(None, None, reason, None)
    }

    /// A problem from its parts; the message is made from them.
    pub fn from_parts(
        attack_id: Option<String>,
        field: Option<String>,
        reason: String,
        line: Option<usize>,
    ) -> Self {
        let mut problem = Problem {
            attack_id,
            field,
            reason,
            line,
            message: String::new(),
        };
        problem.message = problem.to_string();
        problem
    }

    /// The problem placed in `file`: `drill.toml:4: attack `c42`: field `percent`: ...`,
    /// the way compilers name a place, so editors can jump to it.
    pub fn located(&self, file: &str) -> String {
        match self.line {
            Some(line) => format!("{file}:{line}: {}", self.without_line()),
            None => format!("{file}: {}", self.without_line()),
        }
    }

    fn without_line(&self) -> String {
        let mut text = String::new();
        if let Some(id) = &self.attack_id {
            text.push_str(&format!("attack `{id}`: "));
        }
        if let Some(field) = &self.field {
            text.push_str(&format!("field `{field}`: "));
        }
        text.push_str(&self.reason);
        text
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(line) = self.line {
            write!(f, "line {line}: ")?;
        }
        f.write_str(&self.without_line())
    }
}

/// The body of every 4xx answer: `{"error": {...}}`.
#[derive(Debug, Deserialize)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// What went wrong, and for invalid attacks every problem.
#[derive(Debug, Deserialize)]
pub struct ErrorDetail {
    /// One sentence.
    pub message: String,
    /// The problems of an invalid attack text; empty otherwise.
    #[serde(default)]
    pub problems: Vec<Problem>,
}

/// `GET /points`.
#[derive(Debug, Deserialize)]
pub struct PointsBody {
    /// The catalog.
    pub points: Vec<Point>,
}

/// One fault point of a service's catalog.
#[derive(Debug, Deserialize)]
pub struct Point {
    /// The point's name.
    pub name: String,
    /// The facet keys its attribute gives.
    #[serde(default)]
    pub facet_keys: Vec<String>,
    /// Whether it awaits its latency.
    pub is_async: bool,
    /// The impacts it can take.
    pub impacts: Impacts,
    /// Calls an impact was applied to.
    pub hits: u64,
    /// Running attacks aimed at it.
    pub attacks: u64,
}

/// The impacts a point can take.
#[derive(Debug, Deserialize)]
pub struct Impacts {
    /// Added latency.
    pub latency: bool,
    /// An injected error.
    pub error: bool,
    /// A panic.
    pub panic: bool,
}

/// `GET /attacks`.
#[derive(Debug, Deserialize)]
pub struct AttacksBody {
    /// Running attacks first, then recently ended ones.
    pub attacks: Vec<Status>,
}

/// An attack as a service sees it now.
#[derive(Debug, Deserialize)]
pub struct Status {
    /// The attack's id.
    pub id: String,
    /// The point name or glob it was given.
    pub point: String,
    /// The points it aims at, resolved when it started.
    #[serde(default)]
    pub points: Vec<String>,
    /// Where it came from: `admin`, `api`, `FAULT_ATTACKS`, a file.
    pub origin: String,
    /// `running`, `halted`, `expired` or `exhausted`.
    pub state: String,
    /// Whether it only counts the calls it would hit.
    pub dry_run: bool,
    /// Calls whose facets matched it.
    pub matched: u64,
    /// Calls it hit; for a dry run, calls it would have hit.
    pub hits: u64,
    /// Milliseconds until it expires; zero once ended.
    pub time_left_ms: u64,
}

/// `POST /attacks` and `PUT /attacks/{id}`.
#[derive(Debug, Deserialize)]
pub struct AppliedBody {
    /// What changed.
    pub applied: Applied,
}

/// What a change did, by attack id.
#[derive(Debug, Default, Deserialize)]
pub struct Applied {
    /// Attacks that were not running and now are.
    #[serde(default)]
    pub started: Vec<String>,
    /// Running attacks given a new definition.
    #[serde(default)]
    pub replaced: Vec<String>,
    /// Running attacks whose definition was the same; they keep their counters.
    #[serde(default)]
    pub unchanged: Vec<String>,
    /// Attacks halted by the change.
    #[serde(default)]
    pub halted: Vec<String>,
}

/// `DELETE /attacks` and `DELETE /attacks/{id}`.
#[derive(Debug, Deserialize)]
pub struct HaltedBody {
    /// How many attacks were halted.
    pub halted: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_problem_is_placed_in_its_file_like_a_compiler_diagnostic() {
        let problem = Problem::from_parts(
            Some("c42".into()),
            Some("percent".into()),
            "must be greater than 0".into(),
            Some(4),
        );
        assert_eq!(
            problem.located("drill.toml"),
            "drill.toml:4: attack `c42`: field `percent`: must be greater than 0"
        );
        assert_eq!(
            problem.message,
            "line 4: attack `c42`: field `percent`: must be greater than 0"
        );
        let whole = Problem::of_file("cannot read: gone".into());
        assert_eq!(whole.located("drill.toml"), "drill.toml: cannot read: gone");
    }

    #[test]
    fn bodies_of_the_contract_are_read_and_extra_fields_ignored() {
        let body: ErrorBody = serde_json::from_str(
            r#"{"error": {"message": "invalid attacks", "problems": [
                {"attack_id": "a", "field": "point", "reason": "unknown point", "line": 3,
                 "message": "line 3: attack `a`: field `point`: unknown point"}]}}"#,
        )
        .unwrap();
        assert_eq!(body.error.problems[0].line, Some(3));

        let body: ErrorBody = serde_json::from_str(r#"{"error": {"message": "no"}}"#).unwrap();
        assert!(body.error.problems.is_empty());

        let body: AttacksBody = serde_json::from_str(
            r#"{"attacks": [{"id": "a", "point": "p.*", "points": ["p.x"], "origin": "admin",
                "state": "running", "dry_run": true, "matched": 4, "hits": 2,
                "time_left_ms": 1000, "running_for_ms": 5, "attack": {"id": "a"},
                "added_later": 1}]}"#,
        )
        .unwrap();
        assert_eq!(body.attacks[0].hits, 2);
    }
}
