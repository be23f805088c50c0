//! The error value an error impact injects.

use std::error::Error;
use std::fmt;
use std::sync::Arc;

/// The fault an error attack injects into a call.
///
/// A point turns it into the function's own error: through `From<Fault>` for the
/// function's error type, or through the attribute's `error = ...` argument. `Display`
/// prints the attack's message alone, exactly as the operator wrote it, so an application
/// that shows errors to its callers shows the drill's message and nothing internal;
/// [`Fault::point`] and [`Fault::attack_id`] say where it came from.
#[derive(Clone, PartialEq, Eq)]
pub struct Fault {
    point: &'static str,
    attack_id: Arc<str>,
    message: Arc<str>,
}

impl Fault {
    /// Builds a fault by hand, for tests of code that handles faults.
    pub fn new(point: &'static str, attack_id: &str, message: &str) -> Self {
        Self {
            point,
            attack_id: attack_id.into(),
            message: message.into(),
        }
    }

    #[cfg(feature = "enabled")]
    pub(crate) fn injected(point: &'static str, attack_id: Arc<str>, message: Arc<str>) -> Self {
        Self {
            point,
            attack_id,
            message,
        }
    }

    /// The name of the point the fault was injected at.
    pub fn point(&self) -> &'static str {
        self.point
    }

    /// The id of the attack that injected the fault.
    pub fn attack_id(&self) -> &str {
        &self.attack_id
    }

    /// The message of the attack's `error` field.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Debug for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fault")
            .field("point", &self.point)
            .field("attack_id", &&*self.attack_id)
            .field("message", &&*self.message)
            .finish()
    }
}

impl Error for Fault {}

/// Lets functions returning `Result<T, String>` take error attacks without an `error =`
/// argument.
impl From<Fault> for String {
    fn from(fault: Fault) -> Self {
        fault.message.to_string()
    }
}

/// Lets functions returning `std::io::Result` take error attacks. The kind is
/// [`std::io::ErrorKind::Other`]; the fault is the error's source.
impl From<Fault> for std::io::Error {
    fn from(fault: Fault) -> Self {
        std::io::Error::other(fault)
    }
}
