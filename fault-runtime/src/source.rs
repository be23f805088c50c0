//! Reading attacks from files.

use std::io::Read as _;
use std::path::Path;

use crate::attack::{AttackSet, Format};
use crate::error::{AttackError, SourceError};

/// The largest attack file read; a larger one is refused, not truncated.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// The format of a file: by its extension (`.json`, `.toml`), else by its first character.
pub fn format_of(path: &Path, text: &str) -> Format {
    match path.extension().and_then(|e| e.to_str()) {
        Some(ext) if ext.eq_ignore_ascii_case("json") => Format::Json,
        Some(ext) if ext.eq_ignore_ascii_case("toml") => Format::Toml,
        _ => Format::sniff(text),
    }
}

/// Reads and checks an attack file, naming `origin` in errors.
///
/// # Errors
///
/// A [`SourceError`] when the file cannot be read, is too large, or holds any invalid
/// attack.
pub fn read_file(path: &Path, origin: &str) -> Result<AttackSet, SourceError> {
    match read_text(path) {
        Ok(text) => AttackSet::parse(&text, format_of(path, &text), origin),
        Err(unread) => Err(SourceError::new(
            origin,
            vec![AttackError::document(None, unread.naming(path))],
        )),
    }
}

/// Why an attack file's text could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnreadFile {
    missing: bool,
    reason: String,
}

impl UnreadFile {
    /// Whether the file (or a directory on its path) does not exist.
    pub fn is_missing(&self) -> bool {
        self.missing
    }

    /// Why, without the path: `not a regular file`, `cannot read: ...`.
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// The reason, after the path it is about.
    pub(crate) fn naming(&self, path: &Path) -> String {
        format!("{}: {}", path.display(), self.reason)
    }
}

impl std::fmt::Display for UnreadFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for UnreadFile {}

/// Reads an attack file's text, as [`read_file`] and a watched file do: a regular file of
/// at most [`MAX_FILE_BYTES`], in UTF-8. For tools that check a file and then use its
/// exact text.
///
/// # Errors
///
/// An [`UnreadFile`] when the file is missing or cannot be read, is not a regular file (a
/// directory, a pipe, a device), is larger than [`MAX_FILE_BYTES`], or is not UTF-8.
pub fn read_text(path: &Path) -> Result<String, UnreadFile> {
    let unread = |error: &std::io::Error| UnreadFile {
        missing: error.kind() == std::io::ErrorKind::NotFound,
        reason: format!("cannot read: {error}"),
    };
    let refuse = |reason: String| UnreadFile {
        missing: false,
        reason,
    };
    // A directory, a pipe or a device is refused without reading it: reading a pipe with
    // no writer would block, and a device such as /dev/zero never ends. The path is
    // checked first, so that such a file is not even opened, and the opened file is
    // checked again, since the path may have been swapped for a pipe in between; opening
    // without blocking makes that swap harmless too.
    if !std::fs::metadata(path)
        .map_err(|error| unread(&error))?
        .is_file()
    {
        return Err(refuse("not a regular file".into()));
    }
    let file = open_without_blocking(path).map_err(|error| unread(&error))?;
    if !file.metadata().map_err(|error| unread(&error))?.is_file() {
        return Err(refuse("not a regular file".into()));
    }
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|error| unread(&error))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(refuse(format!(
            "larger than the limit of {MAX_FILE_BYTES} bytes"
        )));
    }
    String::from_utf8(bytes).map_err(|error| {
        refuse(format!(
            "not UTF-8 text (invalid byte at offset {})",
            error.utf8_error().valid_up_to()
        ))
    })
}

/// Opens a file for reading; on Unix without waiting for a writer, should it be a pipe.
fn open_without_blocking(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NONBLOCK);
    options.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_or_a_directory_is_refused_without_reading_it() {
        for path in ["/dev/zero", "/"] {
            let path = Path::new(path);
            if !path.exists() {
                continue;
            }
            let error = read_file(path, "test").unwrap_err();
            assert!(error.to_string().contains("not a regular file"), "{error}");
        }
    }

    /// The path check cannot see a pipe swapped in after it; opening one must then not
    /// wait for a writer, and the opened file's own check refuses it.
    #[cfg(unix)]
    #[test]
    fn a_pipe_is_opened_without_waiting_and_refused() {
        let dir = std::env::temp_dir().join(format!("fault-runtime-fifo-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fifo = dir.join("attacks.toml");
        let _ = std::fs::remove_file(&fifo);
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if !made.is_ok_and(|status| status.success()) {
            return;
        }
        let file = open_without_blocking(&fifo).unwrap();
        assert!(!file.metadata().unwrap().is_file());
        let error = read_text(&fifo).unwrap_err();
        assert_eq!(error.reason(), "not a regular file");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_missing_file_is_named_in_the_error() {
        let error = read_file(Path::new("/no/such/attacks.toml"), "test").unwrap_err();
        assert!(
            error.to_string().contains("/no/such/attacks.toml"),
            "{error}"
        );
    }

    #[test]
    fn a_file_over_the_limit_is_refused() {
        let path = std::env::temp_dir().join(format!(
            "fault-runtime-oversize-{}.toml",
            std::process::id()
        ));
        let comment = format!("# {}\n", "x".repeat(1023));
        let text = comment.repeat(usize::try_from(MAX_FILE_BYTES / 1024).unwrap_or(1024) + 1);
        std::fs::write(&path, text).unwrap();
        let error = read_file(&path, "test").unwrap_err();
        let _ = std::fs::remove_file(&path);
        assert!(
            error.to_string().contains("larger than the limit"),
            "{error}"
        );
    }
}
