//! The workspace's task runner, invoked as `cargo xtask <command>`.
//!
//! * `cargo xtask ci` runs everything CI runs, in order, stopping at the first failure: the
//!   services check, `cargo fmt --check`, clippy with `-D warnings`, each feature alone through
//!   `cargo hack` (installed when missing), all tests (nextest when available) and a doc build
//!   with `-D warnings`.
//! * `cargo xtask services` checks that PostgreSQL and MariaDB are reachable, starting them with
//!   the machine's usual commands when they are installed locally but stopped, and that
//!   Chromium and chromedriver are installed for the browser tests (installing Debian's
//!   packages when missing), and installs the SMTP server djrs-mail's tests use (aiosmtpd from
//!   PyPI, in `target/smtp-venv`).
//! * `cargo xtask bench [NAME...]` runs the named benchmarks (all of them when no name is given)
//!   against the real services.
//! * `cargo xtask mutants [--lib | --test NAME...] [CRATE | FILE...]` runs cargo-mutants (installed when missing)
//!   on the named crates or files and prints `MUTANTS <file> <caught> <viable>` per file. It is
//!   not part of `ci`: it takes minutes per file.
//!
//! The crate uses only `std` so that it compiles in seconds on a fresh clone.

mod bench;
mod ci;
mod cmd;
mod mutants;
mod services;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// The error type of every command: a message printed after `error: `.
type Error = String;

/// The result type of every command.
type Result<T = ()> = std::result::Result<T, Error>;

/// The usage text printed by `cargo xtask help`.
const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  ci              run everything CI runs: services, fmt, clippy, each feature alone
                  (cargo hack), tests and docs; stops at the first failure
  services        check that PostgreSQL and MariaDB are reachable, starting local
                  installations that are stopped, and install Chromium and
                  chromedriver for the browser tests when missing, and
                  aiosmtpd (in target/smtp-venv) for the mail tests
  bench [NAME..]  run the named benchmarks (all of them without a name) in release
                  mode against the real services
  mutants [--lib | --test NAME..] [CRATE | FILE..] [-- ARGS..]
                  mutation-test the named crates or files with cargo-mutants, in
                  place, against the crate's unit and integration tests (unit
                  tests only with --lib, the unit tests and the named integration
                  tests with --test NAME); prints MUTANTS <file> <caught> <viable>
                  per file; ARGS go to cargo-mutants (e.g. --iterate)
  help            print this text

environment:
  DJRS_TEST_POSTGRES_URL  PostgreSQL server for tests (default postgres://postgres@127.0.0.1:5432/test)
  DJRS_TEST_MYSQL_URL     MariaDB/MySQL server for tests (default mysql://root@127.0.0.1:3306/test)
  CARGO                   the cargo binary to invoke (set by `cargo run`)
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Dispatches the command line (without the program name) to a command.
fn run(args: &[String]) -> Result {
    let (command, rest) = match args.split_first() {
        Some((command, rest)) => (command.as_str(), rest),
        None => ("help", &[][..]),
    };
    match command {
        "help" | "--help" | "-h" => {
            print!("{USAGE}");
            Ok(())
        }
        "ci" => {
            no_arguments(command, rest)?;
            ci::run()
        }
        "services" => {
            no_arguments(command, rest)?;
            services::ensure_all()?;
            services::ensure_browser()
        }
        "bench" => bench::run(rest),
        "mutants" => mutants::run(rest),
        other => {
            eprint!("{USAGE}");
            Err(format!("unknown command `{other}`; see `cargo xtask help`"))
        }
    }
}

/// Fails when a command that takes no arguments was given some.
fn no_arguments(command: &str, rest: &[String]) -> Result {
    match rest.first() {
        None => Ok(()),
        Some(extra) => Err(format!(
            "`cargo xtask {command}` takes no arguments, got `{extra}`; see `cargo xtask help`"
        )),
    }
}

/// The workspace root: the parent of this crate's directory.
#[must_use]
fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
}

/// Formats a duration for humans: `4.2s`, or `3m07.5s` past a minute.
#[must_use]
fn format_duration(duration: Duration) -> String {
    let secs = duration.as_secs_f64();
    if secs < 60.0 {
        format!("{secs:.1}s")
    } else {
        let minutes = (secs / 60.0).floor();
        format!("{minutes:.0}m{:04.1}s", secs - minutes * 60.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_readable() {
        assert_eq!(format_duration(Duration::from_millis(4_240)), "4.2s");
        assert_eq!(format_duration(Duration::from_millis(187_500)), "3m07.5s");
    }

    #[test]
    fn workspace_root_holds_the_workspace_manifest() {
        assert!(workspace_root().join("Cargo.toml").is_file());
        assert!(workspace_root().join("xtask").is_dir());
    }
}
