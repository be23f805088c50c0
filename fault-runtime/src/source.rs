//! Reading attacks from files.

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
    let refuse =
        |reason: String| SourceError::new(origin, vec![AttackError::document(None, reason)]);
    let size = std::fs::metadata(path)
        .map_err(|error| refuse(format!("cannot read {}: {error}", path.display())))?
        .len();
    if size > MAX_FILE_BYTES {
        return Err(refuse(format!(
            "{} is {size} bytes, over the limit of {MAX_FILE_BYTES}",
            path.display()
        )));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|error| refuse(format!("cannot read {}: {error}", path.display())))?;
    AttackSet::parse(&text, format_of(path, &text), origin)
}
