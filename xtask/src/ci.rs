//! `cargo xtask ci`: everything CI runs, in order, stopping at the first failure.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::cmd::Cmd;
use crate::{Result, format_duration, services, workspace_root};

/// Runs every CI step in order and prints a summary of their times.
pub(crate) fn run() -> Result {
    let started = Instant::now();
    let mut ci = Ci::default();
    ci.step("services", || {
        services::ensure_all()?;
        services::ensure_browser()
    })?;
    ci.step("fmt", || {
        Cmd::cargo(["fmt", "--all", "--", "--check"]).run()
    })?;
    ci.step("clippy", || {
        Cmd::cargo([
            "clippy",
            "--workspace",
            "--all-targets",
            "--all-features",
            "--",
            "-D",
            "warnings",
        ])
        .run()
    })?;
    ci.step("features", each_feature)?;
    ci.step("tests", tests)?;
    ci.step("docs", || {
        Cmd::cargo(["doc", "--workspace", "--no-deps", "--all-features"])
            .env("RUSTDOCFLAGS", with_deny_warnings("RUSTDOCFLAGS"))
            .run()
    })?;
    ci.summary(started.elapsed());
    println!("ci: all steps passed");
    Ok(())
}

/// The steps run so far and how long each took.
#[derive(Debug, Default)]
struct Ci {
    /// Each finished step's name and duration, in order.
    timings: Vec<(&'static str, Duration)>,
}

impl Ci {
    /// Runs one step under a `==> name` header, recording its time; on failure returns an error
    /// naming the step.
    fn step(&mut self, name: &'static str, step: impl FnOnce() -> Result) -> Result {
        println!("==> {name}");
        let started = Instant::now();
        let outcome = step();
        let elapsed = started.elapsed();
        match outcome {
            Ok(()) => {
                println!("==> {name}: ok ({})\n", format_duration(elapsed));
                self.timings.push((name, elapsed));
                Ok(())
            }
            Err(err) => {
                self.summary(Duration::ZERO);
                Err(format!(
                    "ci step `{name}` failed after {}: {err}",
                    format_duration(elapsed)
                ))
            }
        }
    }

    /// Prints the time of each finished step, and the total when it is not zero.
    fn summary(&self, total: Duration) {
        if self.timings.is_empty() {
            return;
        }
        println!("==> summary");
        let width = self
            .timings
            .iter()
            .map(|(name, _)| name.len())
            .max()
            .unwrap_or_default();
        for (name, elapsed) in &self.timings {
            println!("    {name:<width$}  {:>8}", format_duration(*elapsed));
        }
        if !total.is_zero() {
            println!("    {:<width$}  {:>8}", "total", format_duration(total));
        }
    }
}

/// Checks each feature of each package alone with `cargo hack`, installing it when missing.
///
/// Warnings are denied through `RUSTFLAGS`, which changes every crate's fingerprint; the step
/// therefore builds into its own target directory (`target/hack`) so that it neither rebuilds
/// the main target directory's dependencies nor has them rebuilt by the next step.
fn each_feature() -> Result {
    if !Cmd::cargo(["hack", "--version"]).succeeds_quietly() {
        let install = Cmd::cargo(["install", "cargo-hack", "--locked"]);
        println!("cargo-hack is not installed; installing it with `{install}`");
        install.run()?;
    }
    Cmd::cargo([
        "hack",
        "check",
        "--workspace",
        "--each-feature",
        "--no-dev-deps",
    ])
    .env("CARGO_TARGET_DIR", hack_target_dir())
    .env("RUSTFLAGS", with_deny_warnings("RUSTFLAGS"))
    .run()
}

/// The target directory of the `cargo hack` step: `hack` inside the usual target directory.
fn hack_target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .filter(|dir| !dir.is_empty())
        .map_or_else(|| workspace_root().join("target"), PathBuf::from)
        .join("hack")
}

/// The value of the flags variable `var` with `-D warnings` appended.
fn with_deny_warnings(var: &str) -> OsString {
    let mut flags = std::env::var_os(var).unwrap_or_default();
    if !flags.is_empty() {
        flags.push(" ");
    }
    flags.push("-D warnings");
    flags
}

/// Runs all tests: through nextest (plus doc tests, which nextest does not run) when it is
/// installed, through `cargo test` otherwise.
fn tests() -> Result {
    if Cmd::cargo(["nextest", "--version"]).succeeds_quietly() {
        Cmd::cargo([
            "nextest",
            "run",
            "--workspace",
            "--all-features",
            "--no-fail-fast",
        ])
        .run()?;
        Cmd::cargo(["test", "--workspace", "--all-features", "--doc"]).run()
    } else {
        println!("cargo-nextest is not installed; running the tests with `cargo test`");
        Cmd::cargo(["test", "--workspace", "--all-features"]).run()
    }
}
