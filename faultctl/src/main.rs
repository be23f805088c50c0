//! `faultctl`, the command-line tool of fault-runtime.
//!
//! It checks attack files offline with the library's own parser, and steers the attacks of
//! running services through their admin endpoints (fault-runtime's `admin` feature): it
//! lists their catalogs and attacks, starts the attacks of a file, and halts attacks, on
//! one endpoint or on several at once.
//!
//! ```text
//! faultctl check drill.toml
//! faultctl points --addr 127.0.0.1:9464 --token-file ~/.fault-token
//! faultctl start drill.toml --addr 127.0.0.1:9464 --addr http://127.0.0.1:8080/faults
//! faultctl halt c42-card-network        # endpoints from FAULTCTL_ADDR, token from
//! faultctl halt --all --json            # FAULT_ADMIN_TOKEN
//! ```
//!
//! Exit status: 0 when done everywhere, 1 for invalid input (nothing is sent then), 2 when
//! any endpoint failed. Every exchange is bounded in time (`--timeout`, 10 s by default,
//! of which connecting gets at most 5 s), so the tool never hangs on an endpoint.

mod check;
mod cli;
mod client;
mod commands;
mod contract;
mod endpoint;
mod table;
mod token;

use std::io::{self, Write as _};
use std::process::ExitCode;

use clap::Parser as _;

use crate::commands::Exit;

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            // Help and version are not errors; a wrong command line is invalid input.
            return if error.use_stderr() {
                ExitCode::from(Exit::Invalid as u8)
            } else {
                ExitCode::SUCCESS
            };
        }
    };

    let mut out = io::stdout().lock();
    let mut err = io::stderr().lock();
    let exit = commands::run(&cli, &mut out, &mut err).and_then(|exit| {
        out.flush()?;
        Ok(exit)
    });
    match exit {
        Ok(exit) => ExitCode::from(exit as u8),
        // A reader that went away (`faultctl points | head -1`) is no failure to report.
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(error) => {
            let _ = writeln!(err, "faultctl: cannot write the report: {error}");
            ExitCode::from(Exit::EndpointFailed as u8)
        }
    }
}
