//! Spawning external programs with inherited stdio from the workspace root.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::process::{Command, Stdio};

use crate::{Result, workspace_root};

/// The cargo binary to invoke: `$CARGO` (set by `cargo run`) or `cargo`.
#[must_use]
pub(crate) fn cargo_program() -> OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"))
}

/// An external command, run from the workspace root.
///
/// Unlike [`Command`] it remembers what it was built from, so that failures can name the exact
/// command line (environment overrides included) that failed.
#[derive(Debug, Clone)]
pub(crate) struct Cmd {
    /// The program to run.
    program: OsString,
    /// Its arguments.
    args: Vec<OsString>,
    /// Environment variables set for it, on top of the inherited environment.
    envs: Vec<(OsString, OsString)>,
}

impl Cmd {
    /// A command running `program` with no arguments.
    #[must_use]
    pub(crate) fn new(program: impl AsRef<OsStr>) -> Self {
        Self {
            program: program.as_ref().to_owned(),
            args: Vec::new(),
            envs: Vec::new(),
        }
    }

    /// A cargo command: [`cargo_program`] followed by `args`.
    #[must_use]
    pub(crate) fn cargo<I, S>(args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        Self::new(cargo_program()).args(args)
    }

    /// Appends arguments.
    #[must_use]
    pub(crate) fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|arg| arg.as_ref().to_owned()));
        self
    }

    /// Sets an environment variable for the command.
    #[must_use]
    pub(crate) fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.envs
            .push((key.as_ref().to_owned(), value.as_ref().to_owned()));
        self
    }

    /// The [`Command`] this describes, run from the workspace root.
    fn command(&self) -> Command {
        let mut command = Command::new(&self.program);
        command
            .args(&self.args)
            .envs(self.envs.iter().map(|(k, v)| (k, v)))
            .current_dir(workspace_root());
        command
    }

    /// Runs the command with inherited stdio and fails unless it exits successfully.
    pub(crate) fn run(&self) -> Result {
        let status = self
            .command()
            .status()
            .map_err(|err| format!("could not run `{self}`: {err}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("`{self}` failed ({status})"))
        }
    }

    /// Runs the command with inherited stdio and returns its exit code, `None` when a signal
    /// ended it; fails only when it could not be started.
    pub(crate) fn exit_code(&self) -> Result<Option<i32>> {
        self.command()
            .status()
            .map(|status| status.code())
            .map_err(|err| format!("could not run `{self}`: {err}"))
    }

    /// Runs the command with its standard output captured (standard error inherited) and
    /// returns that output; fails unless it exits successfully.
    pub(crate) fn stdout_text(&self) -> Result<String> {
        let output = self
            .command()
            .stderr(Stdio::inherit())
            .output()
            .map_err(|err| format!("could not run `{self}`: {err}"))?;
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout).into_owned())
        } else {
            Err(format!("`{self}` failed ({})", output.status))
        }
    }

    /// Runs the command with all output discarded and tells whether it exited successfully
    /// (`false` also when it could not be started).
    #[must_use]
    pub(crate) fn succeeds_quietly(&self) -> bool {
        self.command()
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    }
}

impl fmt::Display for Cmd {
    /// Formats the command as a shell-like line: `KEY="value" program arg...`, with the cargo
    /// binary shown as `cargo`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (key, value) in &self.envs {
            write!(f, "{}={} ", key.to_string_lossy(), quote(value))?;
        }
        if self.program == cargo_program() {
            f.write_str("cargo")?;
        } else {
            f.write_str(&quote(&self.program))?;
        }
        for arg in &self.args {
            write!(f, " {}", quote(arg))?;
        }
        Ok(())
    }
}

/// Quotes a word for display when it holds characters a shell would split or interpret.
fn quote(word: &OsStr) -> String {
    let word = word.to_string_lossy();
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain {
        word.into_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_like_a_shell_line() {
        let cmd = Cmd::new("pg_ctlcluster")
            .args(["15", "main", "start"])
            .env("RUSTFLAGS", "-D warnings");
        assert_eq!(
            cmd.to_string(),
            "RUSTFLAGS='-D warnings' pg_ctlcluster 15 main start"
        );
        assert_eq!(Cmd::cargo(["fmt", "--all"]).to_string(), "cargo fmt --all");
    }
}
