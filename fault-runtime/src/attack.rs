//! Attacks: the format they are written in (TOML or JSON), a typed builder, and the checks
//! that need no catalog. Checks against the catalog (does the point exist, does it know the
//! facet keys, can it carry an error) happen when an attack starts.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

use crate::error::{AttackError, SourceError};

/// How long an attack runs when its `duration` is absent.
pub const DEFAULT_DURATION: Duration = Duration::from_secs(15 * 60);

/// The longest `duration` an attack may ask for. No attack is forever: an always-on drill is
/// renewed by its source (a file or a deployment), which keeps a human in the loop.
pub const MAX_DURATION: Duration = Duration::from_secs(24 * 60 * 60);

/// The largest latency one attack may add to a call.
pub const MAX_LATENCY: Duration = Duration::from_secs(5 * 60);

/// The longest attack id, facet key, facet value or message accepted.
pub const MAX_TEXT_LEN: usize = 1024;

/// The fields an attack may have, in the order the format documents them.
const FIELDS: &[&str] = &[
    "id",
    "point",
    "facets",
    "latency",
    "error",
    "panic",
    "percent",
    "sticky",
    "max_impacts",
    "duration",
    "dry_run",
];

/// Which values of one facet an attack matches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FacetMatch {
    /// The facet must be present; any value matches (`"*"` in the format).
    Present,
    /// The facet must equal one of these values (a string, or a list of strings).
    AnyOf(Vec<String>),
}

impl FacetMatch {
    /// Whether a facet value satisfies this rule.
    pub fn accepts(&self, value: &str) -> bool {
        self.accepts_by(|expected| expected == value)
    }

    /// Whether a facet value satisfies this rule, given how to compare the value with one
    /// expected text: calls compare a `Display` value without building a string.
    pub(crate) fn accepts_by(&self, equals: impl Fn(&str) -> bool) -> bool {
        match self {
            FacetMatch::Present => true,
            FacetMatch::AnyOf(values) => values.iter().any(|v| equals(v)),
        }
    }
}

/// The latency an attack adds: fixed when `min == max`, else uniform in `[min, max]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Latency {
    /// The shortest delay.
    pub min: Duration,
    /// The longest delay.
    pub max: Duration,
}

/// A checked attack, ready to start.
///
/// Build one with [`Attack::builder`], or read many from text with [`AttackSet`]. Every
/// field has passed the checks that need no catalog; [`crate::start`] adds the rest.
#[derive(Clone, Debug, PartialEq)]
pub struct Attack {
    pub(crate) id: String,
    pub(crate) point: String,
    pub(crate) facets: BTreeMap<String, FacetMatch>,
    pub(crate) latency: Option<Latency>,
    pub(crate) error: Option<String>,
    pub(crate) panic: Option<String>,
    pub(crate) percent: f64,
    pub(crate) sticky: Option<String>,
    pub(crate) max_impacts: Option<u64>,
    pub(crate) duration: Duration,
    pub(crate) dry_run: bool,
}

impl Attack {
    /// Starts describing an attack with this id on this point (an exact name or a glob
    /// such as `payments.*`).
    pub fn builder(id: impl Into<String>, point: impl Into<String>) -> AttackBuilder {
        AttackBuilder {
            id: id.into(),
            point: point.into(),
            facets: Vec::new(),
            latency: None,
            error: None,
            panic: None,
            percent: None,
            sticky: None,
            max_impacts: None,
            duration: None,
            dry_run: false,
        }
    }

    /// The attack's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The point name or glob the attack aims at.
    pub fn point(&self) -> &str {
        &self.point
    }

    /// The facet rules; a call must satisfy all of them.
    pub fn facets(&self) -> &BTreeMap<String, FacetMatch> {
        &self.facets
    }

    /// The added latency, if any.
    pub fn latency(&self) -> Option<Latency> {
        self.latency
    }

    /// The message of the injected error, if the attack injects one.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// The message of the injected panic, if the attack injects one.
    pub fn panic(&self) -> Option<&str> {
        self.panic.as_deref()
    }

    /// The share of matching calls hit, in `(0, 100]`.
    pub fn percent(&self) -> f64 {
        self.percent
    }

    /// The facet whose value decides sampling, if sampling is sticky.
    pub fn sticky(&self) -> Option<&str> {
        self.sticky.as_deref()
    }

    /// How many hits end the attack, if bounded.
    pub fn max_impacts(&self) -> Option<u64> {
        self.max_impacts
    }

    /// How long the attack runs once started.
    pub fn duration(&self) -> Duration {
        self.duration
    }

    /// Whether the attack only counts the calls it would hit.
    pub fn dry_run(&self) -> bool {
        self.dry_run
    }
}

/// Writes the attack in the text format, as one table: serializing it to JSON and reading
/// that back with [`AttackSet::parse`] gives an equal attack.
///
/// Durations are written as humantime strings (`"250ms"`, `"10m"`, `"1h 30m"`); a fixed
/// latency as one string, a range as `{"min": .., "max": ..}`. `percent`, `duration` and
/// `dry_run` are always written, with the values the attack runs with (the defaults filled
/// in); `facets` when there is any, and `latency`, `error`, `panic`, `sticky` and
/// `max_impacts` when given.
///
/// ```
/// use std::time::Duration;
/// use fault_runtime::{Attack, AttackSet, Format};
///
/// let attack = Attack::builder("c42-slow", "payments.charge")
///     .facet("customer", "c-42")
///     .latency(Duration::from_millis(250))
///     .build()
///     .unwrap();
/// let json = serde_json::to_string(&attack).unwrap();
/// assert!(json.contains(r#""latency":"250ms""#), "{json}");
///
/// let text = format!(r#"{{"attack": [{json}]}}"#);
/// let read = AttackSet::parse(&text, Format::Json, "example").unwrap();
/// assert_eq!(read.attacks(), [attack]);
/// ```
impl Serialize for Attack {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut table = serializer.serialize_struct("Attack", FIELDS.len())?;
        table.serialize_field("id", &self.id)?;
        table.serialize_field("point", &self.point)?;
        if self.facets.is_empty() {
            table.skip_field("facets")?;
        } else {
            table.serialize_field("facets", &self.facets)?;
        }
        optional_field(&mut table, "latency", self.latency.as_ref())?;
        optional_field(&mut table, "error", self.error.as_ref())?;
        optional_field(&mut table, "panic", self.panic.as_ref())?;
        table.serialize_field("percent", &self.percent)?;
        optional_field(&mut table, "sticky", self.sticky.as_ref())?;
        optional_field(&mut table, "max_impacts", self.max_impacts.as_ref())?;
        table.serialize_field("duration", &HumanDuration(self.duration))?;
        table.serialize_field("dry_run", &self.dry_run)?;
        table.end()
    }
}

/// Writes a field when it has a value, and leaves it out otherwise.
fn optional_field<S: SerializeStruct, T: Serialize>(
    table: &mut S,
    field: &'static str,
    value: Option<&T>,
) -> Result<(), S::Error> {
    match value {
        Some(value) => table.serialize_field(field, value),
        None => table.skip_field(field),
    }
}

/// Writes `"*"` for [`FacetMatch::Present`], one string for a single value, and a list
/// otherwise: the shapes the text format reads.
impl Serialize for FacetMatch {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            FacetMatch::Present => serializer.serialize_str("*"),
            FacetMatch::AnyOf(values) => match values.as_slice() {
                [value] => serializer.serialize_str(value),
                values => values.serialize(serializer),
            },
        }
    }
}

/// Writes a fixed latency as one duration string (`"250ms"`), and a range as
/// `{"min": "100ms", "max": "400ms"}`: the shapes the text format reads.
impl Serialize for Latency {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.min == self.max {
            HumanDuration(self.max).serialize(serializer)
        } else {
            let mut range = serializer.serialize_struct("Latency", 2)?;
            range.serialize_field("min", &HumanDuration(self.min))?;
            range.serialize_field("max", &HumanDuration(self.max))?;
            range.end()
        }
    }
}

/// A duration written the way the text format reads it, such as `"1m 30s"`.
struct HumanDuration(Duration);

impl Serialize for HumanDuration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&humantime::format_duration(self.0))
    }
}

/// Collects the fields of an [`Attack`]; [`AttackBuilder::build`] checks them all at once.
#[derive(Clone, Debug)]
#[must_use = "an attack builder does nothing until `build` is called"]
pub struct AttackBuilder {
    id: String,
    point: String,
    facets: Vec<(String, FacetMatch)>,
    latency: Option<Latency>,
    error: Option<String>,
    panic: Option<String>,
    percent: Option<f64>,
    sticky: Option<String>,
    max_impacts: Option<u64>,
    duration: Option<Duration>,
    dry_run: bool,
}

impl AttackBuilder {
    /// Matches calls whose facet `key` equals `value`; `"*"` matches any value of a present
    /// facet, as in the text format (the same as [`AttackBuilder::facet_present`]).
    pub fn facet(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        let value: String = value.into();
        let rule = if value == "*" {
            FacetMatch::Present
        } else {
            FacetMatch::AnyOf(vec![value])
        };
        self.facets.push((key.into(), rule));
        self
    }

    /// Matches calls whose facet `key` equals any of `values`.
    pub fn facet_any_of<I, V>(mut self, key: impl Into<String>, values: I) -> Self
    where
        I: IntoIterator<Item = V>,
        V: Into<String>,
    {
        let values = values.into_iter().map(Into::into).collect();
        self.facets.push((key.into(), FacetMatch::AnyOf(values)));
        self
    }

    /// Matches calls that carry facet `key` with any value.
    pub fn facet_present(mut self, key: impl Into<String>) -> Self {
        self.facets.push((key.into(), FacetMatch::Present));
        self
    }

    /// Adds a fixed latency to every hit call.
    pub fn latency(mut self, latency: Duration) -> Self {
        self.latency = Some(Latency {
            min: latency,
            max: latency,
        });
        self
    }

    /// Adds a latency drawn uniformly from `[min, max]` to every hit call.
    pub fn latency_between(mut self, min: Duration, max: Duration) -> Self {
        self.latency = Some(Latency { min, max });
        self
    }

    /// Makes hit calls return an error carrying this message.
    pub fn error(mut self, message: impl Into<String>) -> Self {
        self.error = Some(message.into());
        self
    }

    /// Makes hit calls panic with this message.
    pub fn panic(mut self, message: impl Into<String>) -> Self {
        self.panic = Some(message.into());
        self
    }

    /// Hits only this share of matching calls, in `(0, 100]`.
    pub fn percent(mut self, percent: f64) -> Self {
        self.percent = Some(percent);
        self
    }

    /// Decides sampling by a stable hash of this facet's value instead of per call.
    pub fn sticky(mut self, key: impl Into<String>) -> Self {
        self.sticky = Some(key.into());
        self
    }

    /// Ends the attack after this many hits.
    pub fn max_impacts(mut self, max_impacts: u64) -> Self {
        self.max_impacts = Some(max_impacts);
        self
    }

    /// Ends the attack this long after it starts.
    pub fn duration(mut self, duration: Duration) -> Self {
        self.duration = Some(duration);
        self
    }

    /// Counts the calls the attack would hit and changes none.
    pub fn dry_run(mut self, dry_run: bool) -> Self {
        self.dry_run = dry_run;
        self
    }

    /// Checks every field and returns the attack, or the first problem found.
    ///
    /// # Errors
    ///
    /// An [`AttackError`] naming the attack, the field and the reason.
    pub fn build(self) -> Result<Attack, AttackError> {
        let mut problems = Problems::new(Some(self.id.clone()), None);
        let mut facets = BTreeMap::new();
        for (key, rule) in self.facets {
            if let Some(rule) = problems.check(check_facet(&key, rule)) {
                if facets.insert(key.clone(), rule).is_some() {
                    problems.push("facets", format!("facet `{key}` is given twice"));
                }
            }
        }
        let impact_given = self.latency.is_some() || self.error.is_some() || self.panic.is_some();
        let draft = Draft {
            id: self.id,
            point: self.point,
            facets,
            latency: self.latency,
            error: self.error,
            panic: self.panic,
            percent: self.percent,
            sticky: self.sticky,
            max_impacts: self.max_impacts,
            duration: self.duration,
            dry_run: self.dry_run,
            impact_given,
        };
        let attack = draft.finish(&mut problems);
        match (attack, problems.errors.into_iter().next()) {
            (Some(attack), None) => Ok(attack),
            (_, Some(first)) => Err(first),
            (None, None) => Err(AttackError::new(
                problems.id,
                None,
                "the attack could not be built".into(),
                None,
            )),
        }
    }
}

/// The attacks of one source: a file, a variable, a request.
///
/// Reading is all or nothing: a text with any invalid attack yields no set, and the error
/// lists every problem found.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AttackSet {
    attacks: Vec<Attack>,
    // The line each attack starts on, when it came from TOML; errors found when the
    // attacks start against the catalog name it.
    lines: Vec<Option<usize>>,
}

/// The format of an attack text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `[[attack]]` tables.
    Toml,
    /// `{ "attack": [ ... ] }`.
    Json,
}

impl Format {
    /// Guesses the format of a text: JSON when it starts with `{`, TOML otherwise.
    pub fn sniff(text: &str) -> Self {
        if text.trim_start().starts_with('{') {
            Format::Json
        } else {
            Format::Toml
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Toml => "TOML",
            Format::Json => "JSON",
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlDocument {
    #[serde(default)]
    attack: Vec<toml::Spanned<BTreeMap<String, toml::Spanned<Value>>>>,
}

/// One entry of an attack text, with the lines its fields are on (TOML only).
struct Entry {
    value: Value,
    line: Option<usize>,
    field_lines: BTreeMap<String, usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonDocument {
    #[serde(default)]
    attack: Vec<StrictValue>,
}

/// A JSON value read with duplicate keys refused at any depth. serde_json keeps the last of
/// two equal keys, so `"dry_run": true, ..., "dry_run": false` would pass unnoticed and run
/// an attack for real; TOML refuses such a text, and so does this.
struct StrictValue(Value);

impl<'de> Deserialize<'de> for StrictValue {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor).map(StrictValue)
    }
}

/// Reads a JSON text as [`AttackSet::parse`] does: a key given twice, at any depth, is an
/// error.
#[cfg_attr(
    not(feature = "admin"),
    allow(dead_code, reason = "the admin endpoint's")
)]
pub(crate) fn json_value_strictly(text: &str) -> serde_json::Result<Value> {
    serde_json::from_str::<StrictValue>(text).map(|StrictValue(value)| value)
}

struct StrictVisitor;

impl<'de> serde::de::Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(value).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut values = Vec::new();
        while let Some(StrictValue(value)) = seq.next_element()? {
            values.push(value);
        }
        Ok(Value::Array(values))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(serde::de::Error::custom(format_args!(
                    "the key {key:?} appears twice"
                )));
            }
            let StrictValue(value) = map.next_value()?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

impl AttackSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// A set of attacks built in code.
    ///
    /// # Errors
    ///
    /// A [`SourceError`] when two attacks share an id.
    pub fn from_attacks(attacks: impl IntoIterator<Item = Attack>) -> Result<Self, SourceError> {
        let attacks: Vec<Attack> = attacks.into_iter().collect();
        let mut problems = Vec::new();
        check_unique_ids(attacks.iter().map(|a| (a.id.as_str(), None)), &mut problems);
        if problems.is_empty() {
            let lines = vec![None; attacks.len()];
            Ok(Self { attacks, lines })
        } else {
            Err(SourceError::new("api", problems))
        }
    }

    /// Reads `[[attack]]` tables from TOML text.
    ///
    /// # Errors
    ///
    /// A [`SourceError`] listing every problem, each with its line where known.
    pub fn from_toml(text: &str) -> Result<Self, SourceError> {
        Self::parse(text, Format::Toml, "TOML text")
    }

    /// Reads `{ "attack": [ ... ] }` from JSON text.
    ///
    /// # Errors
    ///
    /// A [`SourceError`] listing every problem.
    pub fn from_json(text: &str) -> Result<Self, SourceError> {
        Self::parse(text, Format::Json, "JSON text")
    }

    /// Reads a text in the given format, naming `origin` (a file path, a variable) in
    /// errors.
    ///
    /// # Errors
    ///
    /// A [`SourceError`] listing every problem.
    pub fn parse(text: &str, format: Format, origin: &str) -> Result<Self, SourceError> {
        let lines = Lines::new(text);
        let refuse = |line: Option<usize>, reason: String| {
            SourceError::new(origin, vec![AttackError::document(line, reason)])
        };
        let entries: Vec<Entry> = match format {
            Format::Toml => match toml::from_str::<TomlDocument>(text) {
                Ok(document) => document
                    .attack
                    .into_iter()
                    .map(|entry| {
                        let line = Some(lines.of(entry.span().start));
                        let mut field_lines = BTreeMap::new();
                        let mut fields = serde_json::Map::new();
                        for (key, value) in entry.into_inner() {
                            field_lines.insert(key.clone(), lines.of(value.span().start));
                            fields.insert(key, value.into_inner());
                        }
                        Entry {
                            value: Value::Object(fields),
                            line,
                            field_lines,
                        }
                    })
                    .collect(),
                Err(error) => {
                    let line = error.span().map(|span| lines.of(span.start));
                    let mut reason = format!("not valid TOML: {}", error.message().trim_end());
                    if reason.contains("expected a sequence") {
                        reason.push_str("; write each attack as an `[[attack]]` table");
                    }
                    return Err(refuse(line, reason));
                }
            },
            Format::Json if !text.trim_start().starts_with('{') => {
                return Err(refuse(
                    Some(1),
                    "not an attack text: JSON attacks are an object, `{\"attack\": [ ... ]}`"
                        .into(),
                ));
            }
            Format::Json => match serde_json::from_str::<JsonDocument>(text) {
                Ok(document) => document
                    .attack
                    .into_iter()
                    .map(|StrictValue(value)| Entry {
                        value,
                        line: None,
                        field_lines: BTreeMap::new(),
                    })
                    .collect(),
                Err(error) => {
                    let line = (error.line() > 0).then_some(error.line());
                    return Err(refuse(line, format!("not valid JSON: {error}")));
                }
            },
        };

        let mut attacks = Vec::with_capacity(entries.len());
        let mut errors = Vec::new();
        for (index, entry) in entries.iter().enumerate() {
            match attack_from_value(entry, index) {
                Ok(attack) => attacks.push((attack, entry.line)),
                Err(mut problems) => errors.append(&mut problems),
            }
        }
        check_unique_ids(
            attacks.iter().map(|(a, line)| (a.id.as_str(), *line)),
            &mut errors,
        );
        if errors.is_empty() {
            let (attacks, lines) = attacks.into_iter().unzip();
            Ok(Self { attacks, lines })
        } else {
            Err(SourceError::new(origin, errors))
        }
    }

    /// The attacks, in the order they were written.
    pub fn attacks(&self) -> &[Attack] {
        &self.attacks
    }

    /// How many attacks the set holds.
    pub fn len(&self) -> usize {
        self.attacks.len()
    }

    /// Whether the set holds no attack.
    pub fn is_empty(&self) -> bool {
        self.attacks.is_empty()
    }
}

impl AttackSet {
    /// The attacks with the lines they start on.
    #[cfg(feature = "enabled")]
    pub(crate) fn into_entries(self) -> Vec<(Attack, Option<usize>)> {
        self.attacks.into_iter().zip(self.lines).collect()
    }
}

impl IntoIterator for AttackSet {
    type Item = Attack;
    type IntoIter = std::vec::IntoIter<Attack>;

    fn into_iter(self) -> Self::IntoIter {
        self.attacks.into_iter()
    }
}

/// Turns byte offsets of a text into line numbers.
struct Lines(Vec<usize>);

impl Lines {
    fn new(text: &str) -> Self {
        Self(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(at, _)| at)
                .collect(),
        )
    }

    /// The 1-based line of a byte offset.
    fn of(&self, offset: usize) -> usize {
        self.0.partition_point(|&newline| newline < offset) + 1
    }
}

fn check_unique_ids<'a>(
    ids: impl Iterator<Item = (&'a str, Option<usize>)>,
    errors: &mut Vec<AttackError>,
) {
    let mut seen = BTreeMap::new();
    for (id, line) in ids {
        if seen.insert(id, line).is_some() {
            errors.push(AttackError::new(
                Some(id.to_owned()),
                Some("id"),
                "another attack of the same source has this id".to_owned(),
                line,
            ));
        }
    }
}

/// Gathers the problems of one attack, so that all of them are reported together.
struct Problems<'e> {
    id: Option<String>,
    line: Option<usize>,
    field_lines: Option<&'e BTreeMap<String, usize>>,
    errors: Vec<AttackError>,
}

impl<'e> Problems<'e> {
    fn new(id: Option<String>, line: Option<usize>) -> Self {
        Self {
            id,
            line,
            field_lines: None,
            errors: Vec::new(),
        }
    }

    /// The line a field is on, else the line its attack starts on.
    fn line_of(&self, field: &str) -> Option<usize> {
        self.field_lines
            .and_then(|lines| lines.get(field).copied())
            .or(self.line)
    }

    fn push(&mut self, field: &'static str, reason: String) {
        self.errors.push(AttackError::new(
            self.id.clone(),
            Some(field),
            reason,
            self.line_of(field),
        ));
    }

    /// A problem of the attack as a whole, not of one field.
    fn push_general(&mut self, reason: String) {
        self.errors
            .push(AttackError::new(self.id.clone(), None, reason, self.line));
    }

    fn check<T>(&mut self, checked: Result<T, (&'static str, String)>) -> Option<T> {
        match checked {
            Ok(value) => Some(value),
            Err((field, reason)) => {
                self.push(field, reason);
                None
            }
        }
    }
}

/// The fields of an attack after their types are known, before the checks that span
/// several fields.
struct Draft {
    id: String,
    point: String,
    facets: BTreeMap<String, FacetMatch>,
    latency: Option<Latency>,
    error: Option<String>,
    panic: Option<String>,
    percent: Option<f64>,
    sticky: Option<String>,
    max_impacts: Option<u64>,
    duration: Option<Duration>,
    dry_run: bool,
    /// Whether `latency`, `error` or `panic` was given, valid or not.
    impact_given: bool,
}

impl Draft {
    /// Runs every check; returns the attack when `problems` gained nothing.
    fn finish(self, problems: &mut Problems) -> Option<Attack> {
        let before = problems.errors.len();
        problems.check(check_id(&self.id));
        problems.check(check_point(&self.point));
        if let Some(latency) = self.latency {
            problems.check(check_latency(latency));
        }
        for (field, message) in [("error", &self.error), ("panic", &self.panic)] {
            if let Some(message) = message {
                problems.check(check_text(field, "message", message));
            }
        }
        if self.error.is_some() && self.panic.is_some() {
            problems.push(
                "panic",
                "an attack injects an error or a panic, not both; write two attacks".into(),
            );
        }
        if !self.impact_given {
            problems.push_general(
                "the attack has no impact: give `latency`, `error` or `panic`".into(),
            );
        }
        let percent = self.percent.unwrap_or(100.0);
        if !(percent > 0.0 && percent <= 100.0) {
            problems.push(
                "percent",
                format!("must be greater than 0 and at most 100, got {percent}"),
            );
        }
        if let Some(sticky) = &self.sticky {
            problems.check(check_text("sticky", "facet key", sticky));
        }
        if self.max_impacts == Some(0) {
            problems.push("max_impacts", "must be at least 1".into());
        }
        let duration = self.duration.unwrap_or(DEFAULT_DURATION);
        if duration.is_zero() {
            problems.push("duration", "must be longer than zero".into());
        } else if duration > MAX_DURATION {
            problems.push(
                "duration",
                format!(
                    "{} is longer than the maximum of {}",
                    humantime::format_duration(duration),
                    humantime::format_duration(MAX_DURATION)
                ),
            );
        }
        if problems.errors.len() > before {
            return None;
        }
        Some(Attack {
            id: self.id,
            point: self.point,
            facets: self.facets,
            latency: self.latency,
            error: self.error,
            panic: self.panic,
            percent,
            sticky: self.sticky,
            max_impacts: self.max_impacts,
            duration,
            dry_run: self.dry_run,
        })
    }
}

type Checked<T> = Result<T, (&'static str, String)>;

fn check_id(id: &str) -> Checked<()> {
    if id.is_empty() {
        return Err(("id", "must not be empty".into()));
    }
    if id.len() > 128 {
        return Err(("id", "is longer than 128 bytes".into()));
    }
    // `.` and `..` cannot be named in a URL path: the admin endpoint could not halt them.
    if id.chars().all(|c| c == '.') {
        return Err(("id", "must hold a letter, a digit, '_' or '-'".into()));
    }
    if let Some(bad) = id
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Err((
            "id",
            format!("holds {bad:?}; use only letters, digits, '.', '_' and '-'"),
        ));
    }
    Ok(())
}

fn check_point(point: &str) -> Checked<()> {
    if point.is_empty() {
        return Err(("point", "must not be empty".into()));
    }
    if let Some(bad) = point
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ':' | '*')))
    {
        return Err((
            "point",
            format!(
                "holds {bad:?}; a point name or glob has only letters, digits, '.', '_', \
                 '-', ':' and '*'"
            ),
        ));
    }
    Ok(())
}

fn check_text(field: &'static str, what: &str, text: &str) -> Checked<()> {
    if text.is_empty() {
        return Err((field, format!("the {what} must not be empty")));
    }
    if text.len() > MAX_TEXT_LEN {
        return Err((
            field,
            format!("the {what} is longer than {MAX_TEXT_LEN} bytes"),
        ));
    }
    Ok(())
}

fn check_facet(key: &str, rule: FacetMatch) -> Checked<FacetMatch> {
    check_text("facets", "facet key", key)?;
    if let FacetMatch::AnyOf(values) = &rule {
        if values.is_empty() {
            return Err((
                "facets",
                format!("facet `{key}` has an empty list, which would match nothing"),
            ));
        }
        if values.iter().any(|v| v == "*") {
            return Err((
                "facets",
                format!("facet `{key}`: \"*\" means any value, so it stands alone, not in a list"),
            ));
        }
        for value in values {
            check_text("facets", "facet value", value)?;
        }
    }
    Ok(rule)
}

fn check_latency(latency: Latency) -> Checked<()> {
    if latency.max.is_zero() {
        return Err(("latency", "must be longer than zero".into()));
    }
    if latency.min > latency.max {
        return Err((
            "latency",
            format!(
                "min {} is greater than max {}",
                humantime::format_duration(latency.min),
                humantime::format_duration(latency.max)
            ),
        ));
    }
    if latency.max > MAX_LATENCY {
        return Err((
            "latency",
            format!(
                "{} is longer than the maximum of {}",
                humantime::format_duration(latency.max),
                humantime::format_duration(MAX_LATENCY)
            ),
        ));
    }
    Ok(())
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null (or a number such as nan or inf, which attacks do not take)",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a table",
    }
}

fn expect_string<'v>(field: &'static str, value: &'v Value) -> Checked<&'v str> {
    value.as_str().ok_or_else(|| {
        (
            field,
            format!("expected a string, got {}", type_name(value)),
        )
    })
}

fn parse_duration(field: &'static str, value: &Value) -> Checked<Duration> {
    let text = value.as_str().ok_or_else(|| {
        (
            field,
            format!(
                "expected a duration string such as \"250ms\" or \"10m\", got {}",
                type_name(value)
            ),
        )
    })?;
    humantime::parse_duration(text).map_err(|error| {
        (
            field,
            format!("{text:?} is not a duration such as \"250ms\" or \"10m\": {error}"),
        )
    })
}

fn parse_latency(value: &Value) -> Checked<Latency> {
    if let Value::Object(range) = value {
        if let Some(key) = range.keys().find(|k| *k != "min" && *k != "max") {
            return Err((
                "latency",
                format!("unknown key `{key}` in the latency range; expected `min` and `max`"),
            ));
        }
        let (Some(min), Some(max)) = (range.get("min"), range.get("max")) else {
            return Err((
                "latency",
                "a latency range needs both `min` and `max`".into(),
            ));
        };
        return Ok(Latency {
            min: parse_duration("latency", min)?,
            max: parse_duration("latency", max)?,
        });
    }
    let fixed = parse_duration("latency", value)?;
    Ok(Latency {
        min: fixed,
        max: fixed,
    })
}

fn facet_value(key: &str, value: &Value) -> Checked<String> {
    match value {
        Value::String(text) => Ok(text.clone()),
        Value::Number(number) if number.is_i64() || number.is_u64() => Ok(number.to_string()),
        Value::Bool(flag) => Ok(flag.to_string()),
        other => Err((
            "facets",
            format!(
                "facet `{key}`: expected a string, a list of strings or \"*\", got {}",
                type_name(other)
            ),
        )),
    }
}

fn parse_facet(key: &str, value: &Value) -> Checked<FacetMatch> {
    let rule = match value {
        Value::String(text) if text == "*" => FacetMatch::Present,
        Value::Array(items) => {
            let values = items
                .iter()
                .map(|item| facet_value(key, item))
                .collect::<Result<Vec<_>, _>>()?;
            if values.iter().any(|v| v == "*") {
                return Err((
                    "facets",
                    format!("facet `{key}`: \"*\" stands alone, not inside a list"),
                ));
            }
            FacetMatch::AnyOf(values)
        }
        other => FacetMatch::AnyOf(vec![facet_value(key, other)?]),
    };
    check_facet(key, rule)
}

/// Checks one entry of an attack text, collecting every problem it has.
fn attack_from_value(entry: &Entry, index: usize) -> Result<Attack, Vec<AttackError>> {
    let (value, line) = (&entry.value, entry.line);
    let Value::Object(fields) = value else {
        return Err(vec![AttackError::new(
            None,
            None,
            format!("attack #{} is {}, not a table", index + 1, type_name(value)),
            line,
        )]);
    };
    let id = fields.get("id").and_then(Value::as_str).map(str::to_owned);
    let mut problems = Problems::new(
        Some(id.clone().unwrap_or_else(|| format!("#{}", index + 1))),
        line,
    );
    problems.field_lines = Some(&entry.field_lines);

    for key in fields.keys() {
        if !FIELDS.contains(&key.as_str()) {
            let line = problems.line_of(key);
            problems.errors.push(AttackError::unknown_field(
                problems.id.clone(),
                key,
                format!("unknown field; expected one of: {}", FIELDS.join(", ")),
                line,
            ));
        }
    }

    let mut required = |field: &'static str| -> Option<String> {
        match fields.get(field) {
            None => {
                problems.push(field, "is required".into());
                None
            }
            Some(value) => problems.check(expect_string(field, value).map(str::to_owned)),
        }
    };
    let id = required("id");
    let point = required("point");

    let mut facets = BTreeMap::new();
    match fields.get("facets") {
        None => {}
        Some(Value::Object(table)) => {
            for (key, value) in table {
                if let Some(rule) = problems.check(parse_facet(key, value)) {
                    facets.insert(key.clone(), rule);
                }
            }
        }
        Some(other) => problems.push(
            "facets",
            format!("expected a table of facet keys, got {}", type_name(other)),
        ),
    }

    let latency = fields
        .get("latency")
        .and_then(|v| problems.check(parse_latency(v)));
    let mut optional_string = |field: &'static str| -> Option<String> {
        let value = fields.get(field)?;
        problems.check(expect_string(field, value).map(str::to_owned))
    };
    let error = optional_string("error");
    let panic = optional_string("panic");
    let sticky = optional_string("sticky");

    let percent = match fields.get("percent") {
        None => None,
        Some(Value::Number(n)) => n.as_f64(),
        Some(other) => {
            problems.push(
                "percent",
                format!("expected a number, got {}", type_name(other)),
            );
            None
        }
    };
    let max_impacts = match fields.get("max_impacts") {
        None => None,
        Some(value) => match value.as_u64() {
            Some(n) => Some(n),
            None => {
                problems.push(
                    "max_impacts",
                    format!("expected a whole number of at least 1, got {value}"),
                );
                None
            }
        },
    };
    let duration = fields
        .get("duration")
        .and_then(|v| problems.check(parse_duration("duration", v)));
    let dry_run = match fields.get("dry_run") {
        None => false,
        Some(Value::Bool(flag)) => *flag,
        Some(other) => {
            problems.push(
                "dry_run",
                format!("expected true or false, got {}", type_name(other)),
            );
            false
        }
    };

    let parsed_cleanly = problems.errors.is_empty();
    let (Some(id), Some(point)) = (id, point) else {
        return Err(problems.errors);
    };
    let draft = Draft {
        id,
        point,
        facets,
        latency,
        error,
        panic,
        percent,
        sticky,
        max_impacts,
        duration,
        dry_run,
        impact_given: ["latency", "error", "panic"]
            .iter()
            .any(|field| fields.contains_key(*field)),
    };
    let attack = draft.finish(&mut problems);
    match (attack, parsed_cleanly) {
        (Some(attack), true) => Ok(attack),
        _ => Err(problems.errors),
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_json_key_given_twice_is_refused_at_any_depth() {
        for text in [
            r#"{"attack": [{"id": "a", "point": "p", "error": "x", "dry_run": true, "dry_run": false}]}"#,
            r#"{"attack": [{"id": "a", "point": "p", "error": "x", "facets": {"c": "1", "c": "2"}}]}"#,
        ] {
            let error = AttackSet::from_json(text).unwrap_err();
            assert!(error.to_string().contains("appears twice"), "{error}");
            assert_eq!(error.problems()[0].line(), Some(1), "{error}");
        }
        let once = r#"{"attack": [{"id": "a", "point": "p", "error": "x", "facets": {"c": ["1", "2"]}, "percent": 12.5}]}"#;
        let set = AttackSet::from_json(once).unwrap();
        assert_eq!(set.attacks()[0].percent(), 12.5);
    }

    #[test]
    fn an_id_of_dots_alone_is_refused() {
        for id in [".", "..", "..."] {
            let error = Attack::builder(id, "p").error("x").build().unwrap_err();
            assert_eq!(error.field(), Some("id"), "{error}");
        }
        assert!(Attack::builder("v1.2", "p").error("x").build().is_ok());
    }

    #[test]
    fn control_characters_from_a_source_are_escaped_in_errors() {
        let text = "{\"attack\": [{\"id\": \"a\\n2026-12-04 INFO forged\", \"point\": \"p\", \"error\": \"x\"}]}";
        let error = AttackSet::parse(text, Format::Json, "origin\nforged").unwrap_err();
        let shown = error.to_string();
        assert_eq!(shown.lines().count(), 2, "one line per problem: {shown}");
        assert!(shown.contains("a\\n2026-12-04 INFO forged"), "{shown}");
        assert!(shown.starts_with("origin\\nforged: "), "{shown}");
    }
    use super::*;

    #[test]
    fn serializes_every_field_in_the_documented_format() {
        let attack = Attack::builder("c42", "payments.charge")
            .facet_any_of("customer", ["c-1", "c-2"])
            .facet("device", "d-9")
            .facet_present("country")
            .latency_between(Duration::from_millis(100), Duration::from_millis(400))
            .error("card network timeout")
            .percent(50.0)
            .sticky("customer")
            .max_impacts(500)
            .duration(Duration::from_secs(90 * 60))
            .dry_run(true)
            .build()
            .unwrap();
        let json = serde_json::to_value(&attack).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "id": "c42",
                "point": "payments.charge",
                "facets": {"country": "*", "customer": ["c-1", "c-2"], "device": "d-9"},
                "latency": {"min": "100ms", "max": "400ms"},
                "error": "card network timeout",
                "percent": 50.0,
                "sticky": "customer",
                "max_impacts": 500,
                "duration": "1h 30m",
                "dry_run": true,
            })
        );

        let minimal = Attack::builder("slow", "db.*")
            .latency(Duration::from_millis(250))
            .build()
            .unwrap();
        assert_eq!(
            serde_json::to_value(&minimal).unwrap(),
            serde_json::json!({
                "id": "slow",
                "point": "db.*",
                "latency": "250ms",
                "percent": 100.0,
                "duration": "15m",
                "dry_run": false,
            })
        );
    }

    /// Serializes to JSON, reads the text back, and expects the same attack.
    fn round_trip(attack: &Attack) -> Result<Attack, String> {
        let json = serde_json::to_string(attack).map_err(|e| e.to_string())?;
        let text = format!(r#"{{"attack": [{json}]}}"#);
        let set = AttackSet::parse(&text, Format::Json, "round trip")
            .map_err(|e| format!("{e}\n{text}"))?;
        set.attacks()
            .first()
            .cloned()
            .ok_or_else(|| format!("no attack read from {text}"))
    }

    #[test]
    fn serialized_attacks_read_back_equal() {
        let attacks = [
            Attack::builder("a", "p").panic("boom").build(),
            Attack::builder("b", "p::q")
                .error("e")
                .latency(Duration::from_nanos(1))
                .percent(0.001)
                .build(),
            Attack::builder("c", "x*y*")
                .latency_between(Duration::from_micros(3), MAX_LATENCY)
                .duration(MAX_DURATION)
                .max_impacts(u64::MAX)
                .build(),
            Attack::builder("d", "p")
                .facet("emoji", "\u{1f600} \"quoted\" \\ back")
                .facet_any_of("n", ["1", "2", "*x"])
                .latency(Duration::new(61, 7))
                .duration(Duration::from_nanos(1))
                .sticky("n")
                .percent(33.333_333_333_333_336)
                .build(),
        ];
        for attack in attacks {
            let attack = attack.unwrap();
            assert_eq!(round_trip(&attack).unwrap(), attack);
        }
    }

    mod generated {
        use proptest::prelude::*;

        use super::*;

        fn facet_rule() -> impl Strategy<Value = FacetMatch> {
            let value = "\\PC{1,12}".prop_filter("\"*\" stands alone", |v| v != "*");
            prop_oneof![
                Just(FacetMatch::Present),
                proptest::collection::vec(value, 1..4).prop_map(FacetMatch::AnyOf),
            ]
        }

        fn nanos_up_to(max: Duration) -> impl Strategy<Value = Duration> {
            let max = u64::try_from(max.as_nanos()).unwrap_or(u64::MAX);
            prop_oneof![
                (1..=max).prop_map(Duration::from_nanos),
                // Whole units, which humantime writes as one word.
                (1..=max / 1_000_000_000).prop_map(Duration::from_secs),
            ]
        }

        prop_compose! {
            fn attack()(
                id in "[A-Za-z0-9_-][A-Za-z0-9._-]{0,23}",
                point in "[a-z][a-z0-9._:-]{0,16}\\*?",
                facets in proptest::collection::btree_map("[a-z_]{1,8}", facet_rule(), 0..4),
                latency in proptest::option::of((nanos_up_to(MAX_LATENCY), nanos_up_to(MAX_LATENCY))),
                message in proptest::option::of("\\PC{1,20}"),
                panics in any::<bool>(),
                percent in proptest::option::of(f64::MIN_POSITIVE..=100.0),
                sticky in proptest::option::of("[a-z_]{1,8}"),
                max_impacts in proptest::option::of(1..=u64::MAX),
                duration in proptest::option::of(nanos_up_to(MAX_DURATION)),
                dry_run in any::<bool>(),
            ) -> Attack {
                let mut builder = Attack::builder(id, point).dry_run(dry_run);
                for (key, rule) in facets {
                    builder = match rule {
                        FacetMatch::Present => builder.facet_present(key),
                        FacetMatch::AnyOf(values) => builder.facet_any_of(key, values),
                    };
                }
                builder = match (latency, &message) {
                    (Some((a, b)), _) => builder.latency_between(a.min(b), a.max(b)),
                    (None, None) => builder.latency(Duration::from_millis(1)),
                    (None, Some(_)) => builder,
                };
                if let Some(message) = message {
                    builder = if panics { builder.panic(message) } else { builder.error(message) };
                }
                if let Some(percent) = percent {
                    builder = builder.percent(percent);
                }
                if let Some(sticky) = sticky {
                    builder = builder.sticky(sticky);
                }
                if let Some(max) = max_impacts {
                    builder = builder.max_impacts(max);
                }
                if let Some(duration) = duration {
                    builder = builder.duration(duration);
                }
                builder.build().expect("the strategy makes valid attacks only")
            }
        }

        proptest! {
            #[test]
            fn any_attack_reads_back_equal(attack in attack()) {
                prop_assert_eq!(round_trip(&attack), Ok(attack));
            }
        }
    }

    #[test]
    fn reads_every_field_of_the_documented_format() {
        let set = AttackSet::from_toml(
            r#"
            [[attack]]
            id = "c42-card-network"
            point = "payments.charge"
            facets = { customer = ["c-42"], country = "*" }
            latency = { min = "100ms", max = "400ms" }
            error = "card network timeout"
            percent = 50
            sticky = "customer"
            max_impacts = 500
            duration = "10m"
            dry_run = true
            "#,
        )
        .unwrap();
        let attack = &set.attacks()[0];
        assert_eq!(attack.id(), "c42-card-network");
        assert_eq!(
            attack.facets()["customer"],
            FacetMatch::AnyOf(vec!["c-42".into()])
        );
        assert_eq!(attack.facets()["country"], FacetMatch::Present);
        assert_eq!(
            attack.latency(),
            Some(Latency {
                min: Duration::from_millis(100),
                max: Duration::from_millis(400)
            })
        );
        assert_eq!(attack.percent(), 50.0);
        assert_eq!(attack.sticky(), Some("customer"));
        assert_eq!(attack.max_impacts(), Some(500));
        assert_eq!(attack.duration(), Duration::from_secs(600));
        assert!(attack.dry_run());
    }

    #[test]
    fn toml_and_json_read_the_same_attack() {
        let toml = AttackSet::from_toml(
            "[[attack]]\nid = \"a\"\npoint = \"p\"\nlatency = \"5ms\"\nfacets = { n = 7 }\n",
        )
        .unwrap();
        let json = AttackSet::from_json(
            r#"{"attack": [{"id": "a", "point": "p", "latency": "5ms", "facets": {"n": 7}}]}"#,
        )
        .unwrap();
        assert_eq!(toml.attacks(), json.attacks());
        assert_eq!(toml.attacks()[0].duration(), DEFAULT_DURATION);
    }

    #[test]
    fn every_problem_of_an_attack_is_reported_with_its_field() {
        let error = AttackSet::from_toml(
            "[[attack]]\nid = \"x\"\npoint = \"p\"\npercent = 150\nduration = \"2d\"\nlatnecy = \"1s\"\n",
        )
        .unwrap_err();
        let text = error.to_string();
        assert!(text.contains("field `percent`"), "{text}");
        assert!(text.contains("field `duration`"), "{text}");
        assert!(text.contains("field `latnecy`: unknown field"), "{text}");
        assert!(text.contains("attack `x`"), "{text}");
        assert!(text.contains("line 1"), "{text}");
    }

    #[test]
    fn builder_refuses_what_the_text_refuses() {
        let error = Attack::builder("bad id", "p")
            .latency(Duration::from_millis(1))
            .build()
            .unwrap_err();
        assert_eq!(error.field(), Some("id"));
        let error = Attack::builder("a", "p").build().unwrap_err();
        assert!(error.reason().contains("no impact"), "{error}");
        let error = Attack::builder("a", "p")
            .error("e")
            .percent(0.0)
            .build()
            .unwrap_err();
        assert_eq!(error.field(), Some("percent"));
    }

    #[test]
    fn toml_problems_carry_the_line_of_their_field() {
        let error = AttackSet::from_toml(
            "# drill\n[[attack]]\nid = \"a\"\npoint = \"p\"\nerror = \"e\"\npercent = 150\n\
             bogus = 1\n",
        )
        .unwrap_err();
        let percent = error
            .problems()
            .iter()
            .find(|p| p.field() == Some("percent"));
        assert_eq!(percent.and_then(AttackError::line), Some(6), "{error}");
        let bogus = error.problems().iter().find(|p| p.field() == Some("bogus"));
        assert_eq!(bogus.and_then(AttackError::line), Some(7), "{error}");
    }

    #[test]
    fn an_attack_without_impact_names_no_field_and_a_bad_latency_is_one_problem() {
        let error = AttackSet::from_toml("[[attack]]\nid = \"a\"\npoint = \"p\"\n").unwrap_err();
        assert_eq!(error.problems().len(), 1, "{error}");
        assert_eq!(error.problems()[0].field(), None, "{error}");
        assert!(
            error.problems()[0].reason().contains("no impact"),
            "{error}"
        );

        let error =
            AttackSet::from_toml("[[attack]]\nid = \"a\"\npoint = \"p\"\nlatency = \"soon\"\n")
                .unwrap_err();
        assert_eq!(error.problems().len(), 1, "{error}");
        assert_eq!(error.problems()[0].field(), Some("latency"), "{error}");

        let error =
            AttackSet::from_toml("[[attack]]\nid = \"a\"\npoint = \"p\"\nlatency = \"0ms\"\n")
                .unwrap_err();
        assert!(error.to_string().contains("longer than zero"), "{error}");
    }

    #[test]
    fn a_single_bracket_table_gets_a_hint_and_json_must_be_an_object() {
        let error = AttackSet::from_toml("[attack]\nid = \"a\"\n").unwrap_err();
        assert!(error.to_string().contains("[[attack]]"), "{error}");
        let error = AttackSet::from_json(r#"[[{"id": "a"}]]"#).unwrap_err();
        assert!(error.to_string().contains("an object"), "{error}");
        let error = AttackSet::from_json("null").unwrap_err();
        assert!(error.to_string().contains("an object"), "{error}");
    }

    #[test]
    fn a_star_means_present_in_the_builder_too_and_never_inside_a_list() {
        let attack = Attack::builder("a", "p")
            .facet("customer", "*")
            .latency(Duration::from_millis(1))
            .build()
            .unwrap();
        assert_eq!(attack.facets()["customer"], FacetMatch::Present);
        let error = Attack::builder("a", "p")
            .facet_any_of("customer", ["c-1", "*"])
            .latency(Duration::from_millis(1))
            .build()
            .unwrap_err();
        assert_eq!(error.field(), Some("facets"));
    }
}
