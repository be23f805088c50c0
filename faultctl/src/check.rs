//! Reading and checking an attack file offline, with the library's own parser.

use std::path::Path;

use fault_runtime::{AttackError, AttackSet, Format, format_of, read_text};

use crate::contract::Problem;

/// The largest request body the admin endpoint reads, in bytes: `start` sends a file's
/// text as one, so a larger file passes the check but can never be started.
///
/// `fault_runtime::admin::MAX_BODY_BYTES`, which only exists with fault-runtime's `admin`
/// feature, which this tool does not need; the end-to-end build checks that they agree.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// An attack file that passed the offline check.
#[derive(Debug)]
pub struct AttackFile {
    /// The text as read: what was checked is what is sent.
    pub text: String,
    /// Its format, by extension or by its first character.
    pub format: Format,
    /// Its attacks.
    pub set: AttackSet,
}

/// An attack file the offline check refused.
#[derive(Debug)]
pub struct Refused {
    /// Its format, when it could be read as text.
    pub format: Option<Format>,
    /// Every problem found, each with its line where known.
    pub problems: Vec<Problem>,
}

impl AttackFile {
    /// The ids of its attacks, in the file's order.
    pub fn ids(&self) -> Vec<String> {
        self.set
            .attacks()
            .iter()
            .map(|attack| attack.id().to_owned())
            .collect()
    }

    /// Why the admin endpoint would refuse the text as a request body, if it would: it is
    /// over [`MAX_BODY_BYTES`].
    pub fn over_body_limit(&self) -> Option<String> {
        let len = self.text.len();
        (len > MAX_BODY_BYTES).then(|| {
            format!(
                "the file is {len} bytes, over the {MAX_BODY_BYTES} bytes the admin endpoint \
                 accepts as a request body"
            )
        })
    }

    /// The content type the endpoint is told the text has.
    pub fn content_type(&self) -> &'static str {
        match self.format {
            Format::Json => "application/json",
            Format::Toml => "application/toml",
        }
    }
}

/// Reads `path` and checks its attacks.
///
/// The file is read once, and that text is both checked and (by `start`) sent, so a file
/// replaced in between cannot send something unchecked.
///
/// # Errors
///
/// Every problem found: the file cannot be read, is too large, is not text, or holds
/// invalid attacks. Each names its line where known.
pub fn load(path: &Path) -> Result<AttackFile, Refused> {
    let refuse = |reason: String| Refused {
        format: None,
        problems: vec![Problem::of_file(reason)],
    };
    let text = read_text(path).map_err(|unread| refuse(unread.reason().to_owned()))?;

    let format = format_of(path, &text);
    let origin = path.display().to_string();
    match AttackSet::parse(&text, format, &origin) {
        Ok(set) => Ok(AttackFile { text, format, set }),
        Err(error) => Err(Refused {
            format: Some(format),
            problems: error.problems().iter().map(problem_of).collect(),
        }),
    }
}

/// The library's problem, in the shape reports print.
fn problem_of(error: &AttackError) -> Problem {
    Problem::from_parts(
        error.attack_id().map(str::to_owned),
        error.field().map(str::to_owned),
        error.reason().to_owned(),
        error.line(),
    )
}

/// `3 attacks`, `1 attack`.
pub fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Scratch(std::path::PathBuf);

    impl Scratch {
        fn new(name: &str) -> Self {
            let dir =
                std::env::temp_dir().join(format!("faultctl-check-{}-{name}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            Scratch(dir)
        }

        fn file(&self, name: &str, text: &[u8]) -> std::path::PathBuf {
            let path = self.0.join(name);
            std::fs::write(&path, text).unwrap();
            path
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn a_valid_file_keeps_its_text_and_format() {
        let scratch = Scratch::new("valid");
        let text = "[[attack]]\nid = \"a\"\npoint = \"p\"\nerror = \"boom\"\n";
        let file = load(&scratch.file("drill.toml", text.as_bytes())).unwrap();
        assert_eq!(file.text, text);
        assert_eq!(file.content_type(), "application/toml");
        assert_eq!(file.set.len(), 1);

        let json = r#"{"attack": [{"id": "b", "point": "p", "error": "boom"}]}"#;
        let file = load(&scratch.file("drill", json.as_bytes())).unwrap();
        assert_eq!(file.content_type(), "application/json");
    }

    #[test]
    fn every_problem_of_an_invalid_file_has_its_line() {
        let scratch = Scratch::new("invalid");
        let text = "[[attack]]\nid = \"a\"\npoint = \"p\"\npercent = 0\nerror = \"x\"\n\n\
                    [[attack]]\nid = \"b\"\npoint = \"p\"\nerror = \"x\"\nduration = \"forever\"\n";
        let refused = load(&scratch.file("drill.toml", text.as_bytes())).unwrap_err();
        assert_eq!(refused.format, Some(Format::Toml));
        let problems = refused.problems;
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert_eq!(problems[0].line, Some(4));
        assert_eq!(problems[0].field.as_deref(), Some("percent"));
        assert!(
            problems[0]
                .located("drill.toml")
                .starts_with("drill.toml:4: attack `a`: field `percent`: "),
            "{}",
            problems[0].located("drill.toml")
        );
        assert_eq!(problems[1].attack_id.as_deref(), Some("b"));
        assert_eq!(problems[1].field.as_deref(), Some("duration"));
    }

    #[test]
    fn unreadable_files_are_one_problem_each() {
        let scratch = Scratch::new("unreadable");
        let refused = load(&scratch.0.join("missing.toml")).unwrap_err();
        assert!(
            refused.problems[0].reason.starts_with("cannot read"),
            "{refused:?}"
        );
        assert_eq!(refused.format, None);

        let refused = load(&scratch.0).unwrap_err();
        assert_eq!(refused.problems[0].reason, "not a regular file");

        let refused = load(&scratch.file("latin1.toml", b"# caf\xe9\n")).unwrap_err();
        assert!(refused.problems[0].reason.contains("UTF-8"), "{refused:?}");
        assert_eq!(refused.format, None);
    }

    #[test]
    fn a_file_over_the_endpoint_s_body_limit_is_valid_but_cannot_be_sent() {
        let scratch = Scratch::new("large");
        let attack = "[[attack]]\nid = \"a\"\npoint = \"p\"\nerror = \"boom\"\n";
        let padding = |len: usize| format!("{attack}#{}\n", "x".repeat(len - attack.len() - 2));
        let at_limit = load(&scratch.file("at.toml", padding(MAX_BODY_BYTES).as_bytes())).unwrap();
        assert_eq!(at_limit.text.len(), MAX_BODY_BYTES);
        assert_eq!(at_limit.over_body_limit(), None);

        let over =
            load(&scratch.file("over.toml", padding(MAX_BODY_BYTES + 1).as_bytes())).unwrap();
        assert_eq!(over.ids(), ["a"]);
        let reason = over.over_body_limit().expect("over the limit");
        assert!(
            reason.contains("65537 bytes, over the 65536 bytes"),
            "{reason}"
        );
    }

    #[test]
    fn counts_read_as_english() {
        assert_eq!(count(0, "attack"), "0 attacks");
        assert_eq!(count(1, "attack"), "1 attack");
        assert_eq!(count(3, "problem"), "3 problems");
    }

    #[cfg(feature = "end-to-end")]
    #[test]
    fn the_body_limit_is_the_endpoint_s() {
        assert_eq!(MAX_BODY_BYTES, fault_runtime::admin::MAX_BODY_BYTES);
    }
}
