//! The command line: commands, options, and what `--help` says about them.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::endpoint::Endpoint;

/// The longest `--timeout` accepted: long enough for a slow link, short enough that a
/// forgotten command still ends.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(600);

/// The whole-request bound when `--timeout` is not given.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

const AFTER_HELP: &str = "\
Endpoints:
  The admin endpoint of fault-runtime (its `admin` feature). Give each one after the
  command with --addr, as HOST:PORT, as a bare PORT meaning 127.0.0.1:PORT, or as a URL
  http://HOST:PORT/PREFIX when it is mounted under a prefix; or, without --addr, list
  them, comma-separated, in FAULTCTL_ADDR. Every command but `check` sends the same
  request to every endpoint, at once, and reports each one's answer; one that fails does
  not stop the others.

Token:
  The endpoint's bearer token, read from the file given with --token-file (surrounding
  whitespace, such as the final newline, is ignored) or taken from FAULT_ADMIN_TOKEN. It
  is one word of at least 16 visible ASCII characters, as the endpoint requires; any
  other is refused before anything is sent. There is no flag that takes the token itself:
  it would show in process lists.

Exit status:
  0  done on every endpoint (halting an attack that is not running is not a failure)
  1  invalid input: an invalid attack file, or one `start` cannot send (no attack, over
     the endpoint's 64 KiB body limit), a bad id, endpoint, option or token; nothing was
     sent
  2  at least one endpoint failed: unreachable, timed out, or refused the request";

/// Checks attack files and steers the attacks of running services through their admin
/// endpoints.
#[derive(Debug, Parser)]
#[command(name = "faultctl", version, about, after_help = AFTER_HELP)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,

    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check an attack file (TOML, or JSON) offline; print every problem with its line.
    ///
    /// This checks the format: fields, values, ids, durations. Whether the points and
    /// facet keys it names exist is known only to the service, which checks that when the
    /// attacks start. A valid file over the endpoint's 64 KiB body limit passes, with a
    /// warning: `start` cannot send it.
    Check {
        /// The attack file.
        file: PathBuf,
    },

    /// List the catalog of every endpoint: each fault point, what it can take, its hits.
    Points {
        /// Where to send it.
        #[command(flatten)]
        remote: RemoteArgs,
    },

    /// List the attacks of every endpoint: running ones first, then recently ended ones.
    Attacks {
        /// Where to send it.
        #[command(flatten)]
        remote: RemoteArgs,
    },

    /// Start the attacks of a file on every endpoint, creating or replacing them by id.
    ///
    /// The file is checked first, as `check` does: an invalid file, or one over the
    /// endpoint's 64 KiB body limit, is refused before any endpoint is contacted. Then its text is sent as it is, so problems the endpoint
    /// finds (an unknown point or facet key) are reported with the file's lines.
    Start {
        /// The attack file.
        file: PathBuf,

        /// Where to send it.
        #[command(flatten)]
        remote: RemoteArgs,
    },

    /// Halt one attack by id, or every attack with --all, on every endpoint.
    Halt {
        /// What to halt.
        #[command(flatten)]
        target: HaltArgs,

        /// Where to send it.
        #[command(flatten)]
        remote: RemoteArgs,
    },
}

/// The endpoints a command goes to, and how.
///
/// These belong to the commands that use them, after the command's name: clap would let
/// a global option's values given after the command silently replace those given before
/// it, and a forgotten endpoint is worse than a refused command line.
#[derive(Debug, Args)]
pub struct RemoteArgs {
    /// An admin endpoint: HOST:PORT, a bare PORT of 127.0.0.1, or
    /// http://HOST:PORT/PREFIX. Repeat for several. Without it, FAULTCTL_ADDR is read: a
    /// comma-separated list of them.
    //
    // FAULTCTL_ADDR is read by `Targets`, not by clap: clap would report a bad value in it
    // as a bad `--addr`, which the operator never gave.
    #[arg(long = "addr", value_name = "ENDPOINT", value_delimiter = ',')]
    pub endpoints: Vec<Endpoint>,

    /// A file holding the endpoint's bearer token (else FAULT_ADMIN_TOKEN is used).
    #[arg(long, value_name = "PATH")]
    pub token_file: Option<PathBuf>,

    /// The most one request to one endpoint may take, connecting included: `10s`,
    /// `500ms`, or whole seconds. Connecting alone gets at most 5 seconds of it.
    #[arg(long, value_name = "DURATION", value_parser = parse_timeout)]
    pub timeout: Option<Duration>,
}

/// What `halt` halts.
#[derive(Debug, Args)]
pub struct HaltArgs {
    /// The id of the attack to halt.
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    pub id: Option<String>,

    /// Halt every attack.
    #[arg(long)]
    pub all: bool,
}

/// Reads a timeout: a humantime duration (`10s`, `1m30s`, `500ms`) or whole seconds.
fn parse_timeout(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let duration = match text.parse::<u64>() {
        Ok(seconds) => Duration::from_secs(seconds),
        Err(_) => humantime::parse_duration(text)
            .map_err(|error| format!("not a duration such as `10s` or `500ms`: {error}"))?,
    };
    if duration.is_zero() {
        return Err("must be longer than zero".into());
    }
    if duration > MAX_TIMEOUT {
        return Err(format!(
            "must be at most {}",
            humantime::format_duration(MAX_TIMEOUT)
        ));
    }
    Ok(duration)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn timeouts_take_seconds_or_durations_within_bounds() {
        assert_eq!(parse_timeout("3"), Ok(Duration::from_secs(3)));
        assert_eq!(parse_timeout("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_timeout("1m30s"), Ok(Duration::from_secs(90)));
        assert!(parse_timeout("0").unwrap_err().contains("longer than zero"));
        assert!(parse_timeout("2h").unwrap_err().contains("at most"));
        assert!(
            parse_timeout("soon")
                .unwrap_err()
                .contains("not a duration")
        );
    }

    #[test]
    fn halt_takes_an_id_or_all_but_not_both() {
        let parsed = Cli::try_parse_from(["faultctl", "halt", "c42"]).unwrap();
        assert!(matches!(
            parsed.command,
            Command::Halt { target: HaltArgs { id: Some(ref id), all: false }, .. } if id == "c42"
        ));
        let parsed = Cli::try_parse_from(["faultctl", "halt", "--all"]).unwrap();
        assert!(matches!(
            parsed.command,
            Command::Halt {
                target: HaltArgs {
                    id: None,
                    all: true
                },
                ..
            }
        ));
        assert!(Cli::try_parse_from(["faultctl", "halt"]).is_err());
        assert!(Cli::try_parse_from(["faultctl", "halt", "c42", "--all"]).is_err());
    }

    #[test]
    fn endpoints_repeat_after_the_command_and_json_goes_anywhere() {
        let parsed = Cli::try_parse_from([
            "faultctl",
            "points",
            "--addr",
            "127.0.0.1:4000",
            "--addr",
            "http://[::1]:4001/admin",
            "--json",
        ])
        .unwrap();
        let Command::Points { remote } = parsed.command else {
            panic!("not points: {parsed:?}");
        };
        assert_eq!(remote.endpoints.len(), 2);
        assert!(parsed.json);

        let parsed = Cli::try_parse_from(["faultctl", "--json", "attacks"]).unwrap();
        assert!(parsed.json);
        // Before the command, an endpoint is refused rather than half-used.
        assert!(Cli::try_parse_from(["faultctl", "--addr", "127.0.0.1:1", "points"]).is_err());
    }
}
