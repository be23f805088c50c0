//! Errors an operator or a program meets when it gives the runtime attacks.

use std::borrow::Cow;
use std::error::Error;
use std::fmt;

/// One problem with one attack: which attack, which field, why, and where in the text.
///
/// Displayed as `line 4: attack `c42`: field `percent`: must be greater than 0 ...`, with
/// the parts that are unknown left out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttackError {
    attack_id: Option<String>,
    field: Option<Cow<'static, str>>,
    reason: String,
    line: Option<usize>,
}

impl AttackError {
    pub(crate) fn new(
        attack_id: Option<String>,
        field: Option<&'static str>,
        reason: String,
        line: Option<usize>,
    ) -> Self {
        Self {
            attack_id,
            field: field.map(Cow::Borrowed),
            reason,
            line,
        }
    }

    /// A field the format does not have, named as the text wrote it.
    pub(crate) fn unknown_field(
        attack_id: Option<String>,
        field: &str,
        reason: String,
        line: Option<usize>,
    ) -> Self {
        Self {
            attack_id,
            field: Some(Cow::Owned(field.to_owned())),
            reason,
            line,
        }
    }

    /// The same problem, said of the attack with this id.
    #[cfg(feature = "enabled")]
    pub(crate) fn of_attack(mut self, attack_id: &str) -> Self {
        self.attack_id.get_or_insert_with(|| attack_id.to_owned());
        self
    }

    /// The same problem, placed on a line of the text (when it has none yet).
    #[cfg(feature = "enabled")]
    pub(crate) fn at_line(mut self, line: Option<usize>) -> Self {
        self.line = self.line.or(line);
        self
    }

    /// A problem with the text as a whole, before any attack in it could be read.
    pub(crate) fn document(line: Option<usize>, reason: String) -> Self {
        Self::new(None, None, reason, line)
    }

    /// A problem with a field of a named attack.
    #[cfg(feature = "enabled")]
    pub(crate) fn for_field(attack_id: &str, field: &'static str, reason: String) -> Self {
        Self::new(Some(attack_id.to_owned()), Some(field), reason, None)
    }

    /// The id of the attack (or `#N`, its position, when it has no id), if the problem
    /// belongs to one attack.
    pub fn attack_id(&self) -> Option<&str> {
        self.attack_id.as_deref()
    }

    /// The field at fault, when one is: a field of the format, or an unknown field as the
    /// text wrote it.
    pub fn field(&self) -> Option<&str> {
        self.field.as_deref()
    }

    /// Why the input was refused.
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// The line of the text the attack starts on, when it came from TOML, or the line of a
    /// syntax error.
    pub fn line(&self) -> Option<usize> {
        self.line
    }
}

impl fmt::Display for AttackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(line) = self.line {
            write!(f, "line {line}: ")?;
        }
        if let Some(id) = &self.attack_id {
            f.write_str("attack `")?;
            write_escaped(f, id)?;
            f.write_str("`: ")?;
        }
        if let Some(field) = &self.field {
            f.write_str("field `")?;
            write_escaped(f, field)?;
            f.write_str("`: ")?;
        }
        write_escaped(f, &self.reason)
    }
}

/// Writes text that may come from an attack source with its control characters escaped,
/// so that an id holding a line break cannot forge a line of the log it is written to.
fn write_escaped(f: &mut fmt::Formatter<'_>, text: &str) -> fmt::Result {
    if !text.chars().any(char::is_control) {
        return f.write_str(text);
    }
    for c in text.chars() {
        if c.is_control() {
            write!(f, "{}", c.escape_default())?;
        } else {
            write!(f, "{c}")?;
        }
    }
    Ok(())
}

impl Error for AttackError {}

/// A source of attacks (a text, a file, an environment variable) that was refused whole.
///
/// None of its attacks was applied. It lists every problem found, one per line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceError {
    origin: String,
    problems: Vec<AttackError>,
}

impl SourceError {
    pub(crate) fn new(origin: &str, problems: Vec<AttackError>) -> Self {
        Self {
            origin: origin.to_owned(),
            problems,
        }
    }

    #[cfg(feature = "enabled")]
    pub(crate) fn with_origin(mut self, origin: &str) -> Self {
        origin.clone_into(&mut self.origin);
        self
    }

    /// Where the attacks came from: `FAULT_ATTACKS`, a file path, `TOML text`, `api`.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Every problem found; never empty.
    pub fn problems(&self) -> &[AttackError] {
        &self.problems
    }
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_escaped(f, &self.origin)?;
        write!(
            f,
            ": {} problem{}, nothing of it applied",
            self.problems.len(),
            if self.problems.len() == 1 { "" } else { "s" }
        )?;
        for problem in &self.problems {
            write!(f, "\n  {problem}")?;
        }
        Ok(())
    }
}

impl Error for SourceError {}
