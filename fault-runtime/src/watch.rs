//! Watched attack files: a file that is the complete desired set of its attacks.
//!
//! A watch reads its file every poll interval and compares the text with the last one
//! read. When the text changes, the new version is checked as a whole and applied by id:
//! new attacks start, changed ones restart with their new definition, removed ones halt,
//! and unchanged ones keep running with their counters. Reading the content, not watching
//! the file's inode, is what makes a Kubernetes ConfigMap mount work: there the kubelet
//! swaps a `..data` symlink to a new directory, and the file's own path never changes.
//!
//! The safe state of a fault injector is "no faults": a version that does not parse, holds
//! an invalid attack, or cannot be read halts every attack of the file, and the error is
//! logged and kept for [`crate::source_errors`]. A missing file is an empty set.

// With the feature off no watch can start: the types stay, so that code naming them
// compiles in both states, but nothing reads their fields.
#![cfg_attr(not(feature = "enabled"), allow(dead_code))]

#[cfg(feature = "enabled")]
use std::path::Path;
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use crate::error::SourceError;
use crate::status::Applied;
#[cfg(feature = "enabled")]
use crate::{
    attack::AttackSet,
    error::AttackError,
    registry::{self, RefusalLog, Scope},
    source::{format_of, read_text},
};

/// How often a watched file is read when no interval is given (`FAULT_ATTACKS_POLL`).
pub const DEFAULT_POLL: Duration = Duration::from_secs(2);

/// The shortest poll interval accepted.
pub const MIN_POLL: Duration = Duration::from_millis(10);

/// The longest poll interval accepted: a drill that takes longer than this to reach a
/// service is not a drill anyone can steer.
pub const MAX_POLL: Duration = Duration::from_secs(60 * 60);

/// Where a watched file stands.
#[derive(Clone, Debug, PartialEq)]
pub enum WatchOutcome {
    /// Not read yet.
    Pending,
    /// The last version read was applied.
    Applied(Applied),
    /// The file does not exist: an empty set, so none of its attacks run.
    Missing,
    /// The last version read was refused (unreadable, unparseable, or an invalid attack):
    /// none of its attacks run.
    Refused(SourceError),
}

/// A watched file as the runtime sees it now.
#[derive(Clone, Debug, PartialEq)]
pub struct WatchStatus {
    /// The path as given.
    pub path: PathBuf,
    /// The origin its attacks report (`AttackStatus::origin`).
    pub origin: String,
    /// How often it is read.
    pub poll: Duration,
    /// When the file's content last changed, as the watch saw it.
    pub changed_at: Option<SystemTime>,
    /// What the last version did.
    pub outcome: WatchOutcome,
}

/// What the watch last read.
#[derive(PartialEq)]
enum Seen {
    Nothing,
    Missing,
    Unreadable(String),
    Text(String),
}

struct Watch {
    path: PathBuf,
    /// Where the file is, whatever path named it: see [`location`].
    location: PathBuf,
    origin: String,
    poll: Duration,
    state: Mutex<WatchState>,
    wake: Condvar,
}

struct WatchState {
    stopped: bool,
    seen: Seen,
    status: WatchStatus,
}

/// The origins being watched, so that one file is not watched twice.
static WATCHED: Mutex<Vec<Arc<Watch>>> = Mutex::new(Vec::new());

fn watched() -> MutexGuard<'static, Vec<Arc<Watch>>> {
    WATCHED.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Watch {
    fn state(&self) -> MutexGuard<'_, WatchState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Reads the file, and applies it if its content changed.
    #[cfg(feature = "enabled")]
    fn poll_once(&self) {
        let seen = match read_text(&self.path) {
            Ok(text) => Seen::Text(text),
            Err(unread) if unread.is_missing() => Seen::Missing,
            Err(unread) => Seen::Unreadable(unread.naming(&self.path)),
        };
        // The lock is held while the version is applied, so that stopping the watch
        // cannot interleave with it and leave a stopped watch's attacks running.
        let mut state = self.state();
        if state.stopped || state.seen == seen {
            return;
        }
        let outcome = match &seen {
            Seen::Nothing => return,
            Seen::Missing => self.missing(),
            Seen::Unreadable(reason) => {
                let error = SourceError::new(
                    &self.origin,
                    vec![AttackError::document(None, reason.clone())],
                );
                registry::record_refusal_loaded(&error);
                self.refused(error)
            }
            Seen::Text(text) => {
                let parsed = AttackSet::parse(text, format_of(&self.path, text), &self.origin)
                    .inspect_err(registry::record_refusal_loaded);
                // A refusal by the registry is recorded there.
                match parsed.and_then(|set| {
                    registry::apply_loaded(
                        &self.origin,
                        set.into_entries(),
                        Scope::WholeSource,
                        RefusalLog::Registry,
                    )
                }) {
                    Ok(applied) => {
                        tracing::info!(
                            target: "fault_runtime",
                            origin = self.origin,
                            started = ?applied.started,
                            replaced = ?applied.replaced,
                            unchanged = ?applied.unchanged,
                            halted = ?applied.halted,
                            "attack file applied"
                        );
                        WatchOutcome::Applied(applied)
                    }
                    Err(error) => self.refused(error),
                }
            }
        };
        state.seen = seen;
        state.status.changed_at = Some(SystemTime::now());
        state.status.outcome = outcome;
    }

    #[cfg(feature = "enabled")]
    fn missing(&self) -> WatchOutcome {
        registry::halt_source(&self.origin, HALTED_BY_BAD_VERSION);
        let error = SourceError::new(
            &self.origin,
            vec![AttackError::document(
                None,
                format!(
                    "{} does not exist; it counts as an empty set, so none of its attacks run",
                    self.path.display()
                ),
            )],
        );
        registry::record_refusal_loaded(&error);
        WatchOutcome::Missing
    }

    /// Halts the file's attacks after a refused version (already recorded and logged).
    #[cfg(feature = "enabled")]
    fn refused(&self, error: SourceError) -> WatchOutcome {
        registry::halt_source(&self.origin, HALTED_BY_BAD_VERSION);
        WatchOutcome::Refused(error)
    }

    #[cfg(feature = "enabled")]
    fn run(self: Arc<Self>) {
        loop {
            {
                let state = self.state();
                let (state, _) = self
                    .wake
                    .wait_timeout_while(state, self.poll, |state| !state.stopped)
                    .unwrap_or_else(PoisonError::into_inner);
                if state.stopped {
                    return;
                }
            }
            self.poll_once();
        }
    }
}

/// The file a path names, for telling whether two paths name one file: the path's
/// directory with its symbolic links resolved, joined with the file's name.
///
/// The file name itself is not resolved: in a ConfigMap mount it is a link whose target
/// changes with each version, while the file the operator means stays the same.
#[cfg(feature = "enabled")]
fn location(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    match (absolute.parent(), absolute.file_name()) {
        (Some(dir), Some(name)) => std::fs::canonicalize(dir)
            .unwrap_or_else(|_| dir.to_owned())
            .join(name),
        _ => absolute,
    }
}

/// Why a file's attacks end when a version of it is refused or missing, as the log of each
/// end says; the refusal itself is logged once, by the registry.
#[cfg(feature = "enabled")]
const HALTED_BY_BAD_VERSION: &str = "halted: its file is missing or was refused; none of \
                                     its attacks runs until a valid version is written";

/// Checks a poll interval against [`MIN_POLL`] and [`MAX_POLL`]; the error reads
/// `5ms is outside 10ms..=1h`.
#[cfg(feature = "enabled")]
pub(crate) fn check_poll(poll: Duration) -> Result<(), String> {
    if (MIN_POLL..=MAX_POLL).contains(&poll) {
        Ok(())
    } else {
        Err(format!(
            "{} is outside {}..={}",
            humantime::format_duration(poll),
            humantime::format_duration(MIN_POLL),
            humantime::format_duration(MAX_POLL)
        ))
    }
}

/// Watches an attack file: reads it now and then every `poll`, and applies each new
/// version as the complete set of the file's attacks. See [`crate::watch_file`].
#[cfg(feature = "enabled")]
pub(crate) fn watch(path: &Path, poll: Duration, origin: String) -> Result<FileWatch, SourceError> {
    // A refusal is recorded for `source_errors` (and, while the environment is read, as
    // one of its errors) and logged, like any refused source.
    let refuse = |reason: String| {
        let error = SourceError::new(&origin, vec![AttackError::document(None, reason)]);
        registry::record_refusal_loaded(&error);
        error
    };
    if let Err(reason) = check_poll(poll) {
        return Err(refuse(format!("the poll interval {reason}")));
    }
    let location = location(path);
    let watch = Arc::new(Watch {
        path: path.to_owned(),
        location,
        origin: origin.clone(),
        poll,
        state: Mutex::new(WatchState {
            stopped: false,
            seen: Seen::Nothing,
            status: WatchStatus {
                path: path.to_owned(),
                origin: origin.clone(),
                poll,
                changed_at: None,
                outcome: WatchOutcome::Pending,
            },
        }),
        wake: Condvar::new(),
    });
    {
        let mut watched = watched();
        if let Some(other) = watched.iter().find(|w| w.location == watch.location) {
            return Err(refuse(format!(
                "{} is already watched, as {}",
                path.display(),
                other.origin
            )));
        }
        watched.push(Arc::clone(&watch));
    }
    watch.poll_once();
    let runner = Arc::clone(&watch);
    let spawned = std::thread::Builder::new()
        .name("fault-runtime-watch".into())
        .spawn(move || runner.run());
    if let Err(error) = spawned {
        let guard = FileWatch { watch: Some(watch) };
        drop(guard);
        return Err(refuse(format!(
            "cannot start the thread that watches the file: {error}"
        )));
    }
    Ok(FileWatch { watch: Some(watch) })
}

/// Every file being watched, in the order the watches started.
#[cfg(feature = "enabled")]
pub(crate) fn statuses() -> Vec<WatchStatus> {
    watched().iter().map(|w| w.state().status.clone()).collect()
}

/// A watched attack file. Dropping it (or [`FileWatch::stop`]) stops the watch and halts the
/// file's attacks; [`FileWatch::detach`] keeps it watched for the life of the process.
#[must_use = "dropping the watch stops it and halts the file's attacks; call detach() to keep it"]
pub struct FileWatch {
    watch: Option<Arc<Watch>>,
}

impl FileWatch {
    /// The origin the file's attacks report.
    pub fn origin(&self) -> &str {
        self.watch.as_ref().map_or("", |w| &w.origin)
    }

    /// Where the file stands now.
    pub fn status(&self) -> Option<WatchStatus> {
        self.watch.as_ref().map(|w| w.state().status.clone())
    }

    /// Stops watching and halts the file's attacks. Returns the ids it halted.
    pub fn stop(mut self) -> Vec<String> {
        self.stop_watch()
    }

    /// Keeps the file watched for the life of the process.
    pub fn detach(mut self) {
        self.watch = None;
    }

    fn stop_watch(&mut self) -> Vec<String> {
        let Some(watch) = self.watch.take() else {
            return Vec::new();
        };
        watched().retain(|w| !Arc::ptr_eq(w, &watch));
        let mut state = watch.state();
        state.stopped = true;
        #[cfg(feature = "enabled")]
        let halted = registry::halt_source(&watch.origin, "halted: its file is no longer watched");
        #[cfg(not(feature = "enabled"))]
        let halted = Vec::new();
        drop(state);
        watch.wake.notify_all();
        #[cfg(feature = "enabled")]
        tracing::info!(target: "fault_runtime", origin = watch.origin, "attack file no longer watched");
        halted
    }
}

impl Drop for FileWatch {
    fn drop(&mut self) {
        self.stop_watch();
    }
}

impl std::fmt::Debug for FileWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileWatch")
            .field("origin", &self.origin())
            .finish()
    }
}

#[cfg(all(test, feature = "enabled"))]
mod tests {
    use super::*;

    #[test]
    fn a_poll_interval_out_of_bounds_is_refused() {
        for poll in [Duration::ZERO, Duration::from_secs(2 * 60 * 60)] {
            let error = watch(
                Path::new("/nonexistent.toml"),
                poll,
                format!("test-{poll:?}"),
            )
            .unwrap_err();
            assert!(error.to_string().contains("poll interval"), "{error}");
        }
    }
}
