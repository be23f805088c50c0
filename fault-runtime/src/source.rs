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
            vec![AttackError::document(None, unread.reason)],
        )),
    }
}

/// Why a file's text could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Unread {
    /// The file (or a directory on its path) does not exist.
    #[cfg_attr(not(feature = "enabled"), allow(dead_code))]
    pub(crate) missing: bool,
    pub(crate) reason: String,
}

/// Reads an attack file's text: a regular file of at most [`MAX_FILE_BYTES`].
pub(crate) fn read_text(path: &Path) -> Result<String, Unread> {
    let unread = |error: &std::io::Error| Unread {
        missing: error.kind() == std::io::ErrorKind::NotFound,
        reason: format!("cannot read {}: {error}", path.display()),
    };
    let not_regular = || Unread {
        missing: false,
        reason: format!("{} is not a regular file", path.display()),
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
        return Err(not_regular());
    }
    let file = open_without_blocking(path).map_err(|error| unread(&error))?;
    if !file.metadata().map_err(|error| unread(&error))?.is_file() {
        return Err(not_regular());
    }
    let mut text = String::new();
    let read = file
        .take(MAX_FILE_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|error| unread(&error))?;
    if read as u64 > MAX_FILE_BYTES {
        return Err(Unread {
            missing: false,
            reason: format!(
                "{} is larger than the limit of {MAX_FILE_BYTES} bytes",
                path.display()
            ),
        });
    }
    Ok(text)
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
        assert!(error.reason.contains("not a regular file"), "{error:?}");
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
