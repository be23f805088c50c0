//! The runtime's `tracing` events, collected as they are emitted on the test's thread.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::{Arc, Mutex, PoisonError};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt as _};

/// One event: its level, target, message and other fields, as text.
#[derive(Clone, Debug)]
pub struct Logged {
    pub level: Level,
    pub target: String,
    pub message: String,
    pub fields: BTreeMap<String, String>,
}

impl Logged {
    /// The text of a field, if the event has it.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }
}

/// A layer that keeps every event of the runtime's targets.
#[derive(Clone, Default)]
pub struct Collector {
    events: Arc<Mutex<Vec<Logged>>>,
}

impl Collector {
    /// Runs `body` with a subscriber made of this collector as the default on this thread,
    /// and returns what it returns.
    pub fn watch<R>(&self, body: impl FnOnce() -> R) -> R {
        let subscriber = tracing_subscriber::registry().with(self.clone());
        tracing::subscriber::with_default(subscriber, body)
    }

    /// Every event kept so far, and forgets them.
    pub fn take(&self) -> Vec<Logged> {
        std::mem::take(&mut *self.lock())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Logged>> {
        self.events.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<S: Subscriber> Layer<S> for Collector {
    fn on_event(&self, event: &Event<'_>, _context: Context<'_, S>) {
        let metadata = event.metadata();
        if !metadata.target().starts_with("fault_runtime") {
            return;
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        let message = fields.0.remove("message").unwrap_or_default();
        self.lock().push(Logged {
            level: *metadata.level(),
            target: metadata.target().to_owned(),
            message,
            fields: fields.0,
        });
    }
}

/// The fields of an event as text: strings as they are, the rest as `Debug` shows them.
#[derive(Default)]
struct Fields(BTreeMap<String, String>);

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
}
