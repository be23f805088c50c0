//! The bearer token: read from a file or the environment, never from the command line.

use std::fmt;
use std::io::Read as _;
use std::path::Path;

/// The environment variable that may hold the token itself.
pub const TOKEN_VAR: &str = "FAULT_ADMIN_TOKEN";

/// The largest token file read; tokens are short, and a larger file is a wrong path.
const MAX_TOKEN_FILE_BYTES: u64 = 4096;

/// The shortest token the admin endpoint runs with, in bytes: a shorter one can never be
/// right, so it is refused before it is sent.
///
/// `fault_runtime::admin::MIN_TOKEN_LEN`, which only exists with fault-runtime's `admin`
/// feature, which this tool does not need; the end-to-end build checks that they agree.
pub const MIN_TOKEN_LEN: usize = 16;

/// A bearer token. Its `Debug` does not show it, so it cannot leak into a log by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// The token, for the `Authorization` header.
    pub fn secret(&self) -> &str {
        &self.0
    }

    /// Reads the token from `file` when given, else from [`TOKEN_VAR`].
    ///
    /// # Errors
    ///
    /// A message saying where the token was looked for and what is wrong with it.
    pub fn load(file: Option<&Path>) -> Result<Self, String> {
        match file {
            Some(path) => Self::from_file(path),
            None => match std::env::var(TOKEN_VAR) {
                Ok(value) => Self::from_text(&value, TOKEN_VAR),
                Err(std::env::VarError::NotPresent) => Err(format!(
                    "no token: give --token-file PATH, or set {TOKEN_VAR}"
                )),
                Err(std::env::VarError::NotUnicode(_)) => {
                    Err(format!("{TOKEN_VAR} is not valid UTF-8"))
                }
            },
        }
    }

    fn from_file(path: &Path) -> Result<Self, String> {
        let shown = path.display();
        let metadata = std::fs::metadata(path)
            .map_err(|error| format!("cannot read the token file {shown}: {error}"))?;
        // A fifo or a device would block or never end; a token lives in a plain file.
        if !metadata.is_file() {
            return Err(format!("the token file {shown} is not a regular file"));
        }
        let mut text = String::new();
        let read = std::fs::File::open(path)
            .and_then(|file| {
                file.take(MAX_TOKEN_FILE_BYTES + 1)
                    .read_to_string(&mut text)
            })
            .map_err(|error| format!("cannot read the token file {shown}: {error}"))?;
        if read as u64 > MAX_TOKEN_FILE_BYTES {
            return Err(format!(
                "the token file {shown} is larger than {MAX_TOKEN_FILE_BYTES} bytes; it should \
                 hold only the token"
            ));
        }
        Self::from_text(&text, &format!("the token file {shown}"))
    }

    /// Takes the token out of `text`, ignoring surrounding whitespace such as the final
    /// newline an editor or `echo` adds; `source` names where it came from in errors.
    fn from_text(text: &str, source: &str) -> Result<Self, String> {
        let token = text.trim();
        if token.is_empty() {
            return Err(format!(
                "{source} is empty; it should hold the endpoint's token"
            ));
        }
        if token.contains(['\n', '\r']) {
            return Err(format!(
                "{source} holds more than one line; it should hold only the token"
            ));
        }
        // The endpoint runs only with a token of visible ASCII, one word of at least
        // MIN_TOKEN_LEN bytes: any other can never be right, and would only travel to every
        // endpoint to be refused there. The token itself is never part of the message.
        if token.contains(char::is_whitespace) {
            return Err(format!(
                "{source} holds whitespace inside the token; the admin endpoint's tokens are \
                 one word of visible ASCII"
            ));
        }
        if token.chars().any(|c| !c.is_ascii_graphic()) {
            return Err(format!(
                "{source} holds characters a token cannot have (control or non-ASCII); the \
                 admin endpoint's tokens are visible ASCII"
            ));
        }
        if token.len() < MIN_TOKEN_LEN {
            return Err(format!(
                "{source} holds a token of {} bytes; the admin endpoint's tokens are at least \
                 {MIN_TOKEN_LEN} bytes (is it the right token?)",
                token.len()
            ));
        }
        Ok(Token(token.to_owned()))
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A token the endpoint accepts: 16 bytes of visible ASCII.
    const SECRET: &str = "s3cret-0123456789";

    #[test]
    fn the_final_newline_and_surrounding_space_are_not_part_of_the_token() {
        assert_eq!(
            Token::from_text(&format!("{SECRET}\n"), "t")
                .unwrap()
                .secret(),
            SECRET
        );
        assert_eq!(
            Token::from_text(&format!("  {SECRET}\r\n"), "t")
                .unwrap()
                .secret(),
            SECRET
        );
    }

    #[test]
    fn tokens_the_endpoint_never_accepts_are_refused_without_being_shown() {
        let short = &SECRET[..MIN_TOKEN_LEN - 1];
        let error = Token::from_text(short, "the token file t").unwrap_err();
        assert!(
            error.starts_with("the token file t holds a token of 15 bytes"),
            "{error}"
        );
        assert!(error.contains("at least 16 bytes"), "{error}");
        assert!(Token::from_text(&SECRET[..MIN_TOKEN_LEN], "t").is_ok());

        for spaced in ["s3cret 0123456789", "s3cret\t0123456789"] {
            let error = Token::from_text(spaced, TOKEN_VAR).unwrap_err();
            assert!(
                error.starts_with("FAULT_ADMIN_TOKEN holds whitespace"),
                "{error}"
            );
        }
        for error in [
            Token::from_text(short, "t").unwrap_err(),
            Token::from_text("s3cret 0123456789", "t").unwrap_err(),
            Token::from_text("s3cret\u{7}0123456789", "t").unwrap_err(),
        ] {
            assert!(!error.contains("s3cret"), "{error}");
        }
    }

    #[test]
    fn empty_multi_line_or_binary_tokens_are_refused_naming_the_source() {
        let error = Token::from_text("\n", "the token file t").unwrap_err();
        assert!(error.contains("the token file t is empty"), "{error}");
        assert!(
            Token::from_text("a\nb", "t")
                .unwrap_err()
                .contains("more than one line")
        );
        assert!(
            Token::from_text("a\u{7}b-0123456789abcdef", "t")
                .unwrap_err()
                .contains("cannot have")
        );
        assert!(
            Token::from_text("tök-0123456789abcdef", "t")
                .unwrap_err()
                .contains("cannot have")
        );
    }

    #[test]
    fn token_files_are_read_bounded_and_missing_ones_are_named() {
        let dir = std::env::temp_dir().join(format!("faultctl-token-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let good = dir.join("good");
        std::fs::write(&good, format!("{SECRET}\n")).unwrap();
        assert_eq!(Token::load(Some(&good)).unwrap().secret(), SECRET);

        let large = dir.join("large");
        std::fs::write(&large, "a".repeat(5000)).unwrap();
        let error = Token::load(Some(&large)).unwrap_err();
        assert!(error.contains("larger than"), "{error}");

        let missing = dir.join("missing");
        let error = Token::load(Some(&missing)).unwrap_err();
        assert!(error.contains("cannot read the token file") && error.contains("missing"));

        let error = Token::load(Some(&dir)).unwrap_err();
        assert!(error.contains("not a regular file"), "{error}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn debug_output_hides_the_token() {
        let token = Token::from_text(SECRET, "t").unwrap();
        assert!(!format!("{token:?}").contains("s3cret"));
    }

    #[cfg(feature = "end-to-end")]
    #[test]
    fn the_minimum_length_is_the_endpoint_s() {
        assert_eq!(MIN_TOKEN_LEN, fault_runtime::admin::MIN_TOKEN_LEN);
    }
}
