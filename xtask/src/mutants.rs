//! `cargo xtask mutants [--lib | --test NAME...] [CRATE | FILE...] [-- CARGO-MUTANTS-ARGS...]`: mutation testing
//! with cargo-mutants, one package at a time, and one summary line per file:
//! `MUTANTS <file> <caught> <viable>`.
//!
//! cargo-mutants changes the source (a `<` becomes `<=`, a function returns a default, ...),
//! runs the package's tests against each change and records whether a test failed. A mutant is
//! *viable* when it builds; it is *caught* when a test fails or hangs (a timeout counts as
//! caught: the change was noticed). The files are mutated in place, so the run reuses the
//! warm target directory and the services under it (djrs-mail's SMTP virtualenv in
//! `target/smtp-venv`); do not edit the workspace while it runs. cargo-mutants puts every file
//! back when it ends or is interrupted.
//!
//! The tests run are the package's unit and integration tests with all features (doc tests
//! and benchmarks left out), or with `--lib` only its unit tests, which is much faster and is
//! what each file's own tests are measured with. The services the package's tests need are
//! checked first, as `cargo xtask services` does.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::cmd::Cmd;
use crate::{Result, format_duration, services, workspace_root};

/// A service a package's integration tests need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Need {
    /// PostgreSQL and MariaDB ([`services::ensure_all`]).
    Databases,
    /// djrs-mail's SMTP server ([`services::ensure_smtp_server`]).
    SmtpServer,
}

/// The services each package's integration tests need; packages not listed need none.
const NEEDS: &[(&str, &[Need])] = &[
    ("djrs-demo", &[Need::Databases, Need::SmtpServer]),
    ("djrs-mail", &[Need::SmtpServer]),
    ("djrs-orm-ext", &[Need::Databases]),
    ("djrs-paginate", &[Need::Databases]),
    ("djrs-tasks", &[Need::Databases]),
];

/// One cargo-mutants run: a package and, optionally, some of its files.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Run {
    /// The package whose code is mutated and whose tests run.
    package: String,
    /// The files to mutate, relative to the workspace root; empty when the package was named
    /// whole, which mutates all of its files.
    files: Vec<String>,
}

/// Which of a package's tests run against each mutant.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
enum Tests {
    /// The unit tests and every integration test.
    #[default]
    All,
    /// Only the unit tests (`--lib`).
    Lib,
    /// The unit tests and the named integration tests (`--test NAME`, repeatable): for a
    /// package whose integration tests run one scenario suite against several servers, one
    /// server's run exercises the shared code in a fraction of the time.
    Named(Vec<String>),
}

impl Tests {
    /// The cargo target arguments selecting these tests.
    fn targets(&self) -> Vec<String> {
        let mut targets = vec!["--lib".to_owned()];
        match self {
            Self::All => targets.push("--tests".to_owned()),
            Self::Lib => {}
            Self::Named(names) => {
                targets.extend(names.iter().map(|name| format!("--test={name}")));
            }
        }
        targets
    }
}

/// The parsed command line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Args {
    /// The tests run against each mutant.
    tests: Tests,
    /// The runs, one per package, in the order first named.
    runs: Vec<Run>,
    /// Arguments passed on to cargo-mutants.
    extra: Vec<String>,
}

/// Runs cargo-mutants for each package named (directly or through one of its files) and prints
/// the `MUTANTS` lines.
pub(crate) fn run(args: &[String]) -> Result {
    let root = workspace_root();
    let cwd = std::env::current_dir().map_err(|err| format!("no current directory: {err}"))?;
    let args = parse_args(args, &packages(&root)?, &|arg| resolve(&root, &cwd, arg))?;
    if !Cmd::cargo(["mutants", "--version"]).succeeds_quietly() {
        let install = Cmd::cargo(["install", "cargo-mutants", "--locked"]);
        println!("cargo-mutants is not installed; installing it with `{install}`");
        install.run()?;
    }
    let mut lines = Vec::new();
    for run in &args.runs {
        if args.tests != Tests::Lib {
            ensure_needs(&run.package)?;
        }
        let output = output_dir(&run.package);
        std::fs::create_dir_all(&output)
            .map_err(|err| format!("could not create {}: {err}", output.display()))?;
        let cmd = command(run, &args.tests, &output, &args.extra);
        println!("==> mutants {}: {cmd}", run.package);
        let started = Instant::now();
        // cargo-mutants exits with 2 when a mutant was missed and 3 when one timed out: both
        // are results to report, not failures of the run.
        let code = cmd.exit_code()?;
        if !matches!(code, Some(0 | 2 | 3)) {
            return Err(format!(
                "`{cmd}` failed (exit code {}); see {}",
                code.map_or_else(|| "none".to_owned(), |code| code.to_string()),
                output.join("mutants.out/debug.log").display()
            ));
        }
        println!(
            "==> mutants {}: done in {}",
            run.package,
            format_duration(started.elapsed())
        );
        // After `--iterate`, the mutants skipped as caught are counted among those that still
        // exist (a mutant whose line moved has a new name and was tested again).
        let current = if args.extra.iter().any(|arg| arg == "--iterate") {
            Some(list_mutants(run)?)
        } else {
            None
        };
        let tally = read_outcomes(&output.join("mutants.out"), current.as_deref())?;
        lines.extend(summary_lines(&tally, &run.files));
    }
    for line in lines {
        println!("{line}");
    }
    Ok(())
}

/// Checks the services the tests of `package` need.
fn ensure_needs(package: &str) -> Result {
    let needs = NEEDS
        .iter()
        .find(|(name, _)| *name == package)
        .map_or(&[][..], |(_, needs)| *needs);
    for need in needs {
        match need {
            Need::Databases => services::ensure_all()?,
            Need::SmtpServer => services::ensure_smtp_server()?,
        }
    }
    Ok(())
}

/// Where the run for `package` keeps its `mutants.out`: `mutants/<package>` in the target
/// directory.
fn output_dir(package: &str) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .filter(|dir| !dir.is_empty())
        .map_or_else(|| workspace_root().join("target"), PathBuf::from)
        .join("mutants")
        .join(package)
}

/// The cargo-mutants command for one run.
fn command(run: &Run, tests: &Tests, output: &Path, extra: &[String]) -> Cmd {
    // A proptest that fails under a mutant would save its case into the crate's
    // `proptest-regressions`, a file meant for real failures.
    let mut cmd = Cmd::cargo(["mutants", "--in-place", "--package"])
        .args([
            &run.package,
            "--test-package",
            &run.package,
            "--all-features",
        ])
        .args([std::ffi::OsStr::new("--output"), output.as_os_str()])
        .env("PROPTEST_DISABLE_FAILURE_PERSISTENCE", "1");
    for file in &run.files {
        cmd = cmd.args(["--file", file]);
    }
    // A cargo argument (unlike a `cargo test` one) reaches the build of each mutant too, so
    // only the test targets that run are built.
    for target in tests.targets() {
        cmd = cmd.args([format!("--cargo-arg={target}")]);
    }
    cmd.args(extra)
}

/// Adds the integration test `name` to the tests run.
fn add_test(tests: &mut Tests, name: &str) -> Result {
    if name.is_empty() || name.starts_with('-') {
        return Err(format!(
            "`--test` needs the name of an integration test, not `{name}`"
        ));
    }
    match tests {
        Tests::Lib => return Err(both_lib_and_test()),
        Tests::All => *tests = Tests::Named(vec![name.to_owned()]),
        Tests::Named(names) => names.push(name.to_owned()),
    }
    Ok(())
}

/// The error for `--lib` with `--test`.
fn both_lib_and_test() -> String {
    "`--lib` runs only the unit tests, `--test NAME` adds integration tests: give one or the \
     other"
        .to_owned()
}

/// Parses the command line: `packages` are the workspace's packages, `resolve` turns a file
/// argument into a workspace-relative path.
fn parse_args(
    args: &[String],
    packages: &[String],
    resolve: &dyn Fn(&str) -> Result<String>,
) -> Result<Args> {
    let mut parsed = Args::default();
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--lib" => match parsed.tests {
                Tests::Named(_) => return Err(both_lib_and_test()),
                _ => parsed.tests = Tests::Lib,
            },
            "--test" => {
                let name = rest
                    .next()
                    .ok_or_else(|| "`--test` needs the name of an integration test".to_owned())?;
                add_test(&mut parsed.tests, name)?;
            }
            flag if flag.starts_with("--test=") => {
                add_test(&mut parsed.tests, &flag["--test=".len()..])?;
            }
            "--" => {
                parsed.extra = rest.by_ref().cloned().collect();
            }
            flag if flag.starts_with('-') => {
                return Err(format!(
                    "unknown option `{flag}` for `cargo xtask mutants`; options after `--` go \
                     to cargo-mutants"
                ));
            }
            target if target.ends_with(".rs") => {
                let file = resolve(target)?;
                let package = package_of(&file)?;
                match parsed.runs.iter_mut().find(|run| run.package == package) {
                    // A package named whole stays whole.
                    Some(run) if run.files.is_empty() => {}
                    Some(run) => run.files.push(file),
                    None => parsed.runs.push(Run {
                        package,
                        files: vec![file],
                    }),
                }
            }
            package => {
                if !packages.iter().any(|known| known == package) {
                    return Err(format!(
                        "unknown crate `{package}`; the crates are {}",
                        packages.join(", ")
                    ));
                }
                match parsed.runs.iter_mut().find(|run| run.package == package) {
                    Some(run) => run.files.clear(),
                    None => parsed.runs.push(Run {
                        package: package.to_owned(),
                        files: Vec::new(),
                    }),
                }
            }
        }
    }
    if parsed.runs.is_empty() {
        return Err(
            "name a crate (`djrs-mail`) or files (`crates/djrs-mail/src/address.rs`) \
                    to mutate; see `cargo xtask help`"
                .to_owned(),
        );
    }
    Ok(parsed)
}

/// The workspace's packages: the folders under `crates/` and `xtask`, sorted.
fn packages(root: &Path) -> Result<Vec<String>> {
    let dir = root.join("crates");
    let entries = std::fs::read_dir(&dir)
        .map_err(|err| format!("could not list {}: {err}", dir.display()))?;
    let mut packages = vec!["xtask".to_owned()];
    for entry in entries {
        let entry = entry.map_err(|err| format!("could not list {}: {err}", dir.display()))?;
        if entry.path().join("Cargo.toml").is_file() {
            packages.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    packages.sort();
    Ok(packages)
}

/// The package a workspace-relative file belongs to: the folder under `crates/` (folder name
/// and package name are equal in this workspace) or `xtask`.
fn package_of(file: &str) -> Result<String> {
    let mut parts = file.split('/');
    match (parts.next(), parts.next()) {
        (Some("crates"), Some(package)) if !package.is_empty() => Ok(package.to_owned()),
        (Some("xtask"), Some(_)) => Ok("xtask".to_owned()),
        _ => Err(format!(
            "`{file}` is not inside a workspace crate (crates/<crate>/... or xtask/...)"
        )),
    }
}

/// Turns a file argument, relative to the current directory or absolute, into a path relative
/// to the workspace root with `/` separators, checking that the file exists.
fn resolve(root: &Path, cwd: &Path, arg: &str) -> Result<String> {
    let path = cwd.join(arg);
    let canonical = |path: &Path| {
        path.canonicalize()
            .map_err(|err| format!("`{}`: {err}", path.display()))
    };
    let path = canonical(&path)?;
    let relative = path
        .strip_prefix(canonical(root)?)
        .map_err(|_| format!("`{arg}` is outside the workspace ({})", root.display()))?;
    Ok(relative
        .components()
        .map(|part| part.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/"))
}

/// Caught and viable mutants of one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Counts {
    /// Mutants a test caught (a failure or a timeout).
    caught: usize,
    /// Mutants that built: caught or missed.
    viable: usize,
}

/// The mutants cargo-mutants would make for one run, one `file:line:column: description` per
/// line (`cargo mutants --list`, which builds nothing).
fn list_mutants(run: &Run) -> Result<String> {
    let mut cmd = Cmd::cargo(["mutants", "--list", "--package", &run.package]);
    for file in &run.files {
        cmd = cmd.args(["--file", file]);
    }
    cmd.stdout_text()
}

/// Reads the outcome lists cargo-mutants writes into `mutants.out`: caught, timed-out and
/// missed mutants, one per line. Unviable mutants (those that do not build) are not counted.
///
/// After `--iterate`, `current` lists the mutants that exist now, and `previously_caught.txt`
/// the ones skipped because the run before caught them or found them unviable: those that
/// still exist and that the run before (kept in `mutants.out.old`) does not list as unviable
/// count as caught. That is exact when the run before was a full one.
fn read_outcomes(dir: &Path, current: Option<&str>) -> Result<BTreeMap<String, Counts>> {
    let read = |path: PathBuf| {
        std::fs::read_to_string(&path)
            .map_err(|err| format!("could not read {}: {err}", path.display()))
    };
    let mut tally = BTreeMap::new();
    for (list, caught) in [
        ("caught.txt", true),
        ("timeout.txt", true),
        ("missed.txt", false),
    ] {
        count_outcomes(&mut tally, &read(dir.join(list))?, caught);
    }
    if let Some(current) = current {
        let skipped = read(dir.join("previously_caught.txt"))?;
        let old_unviable = dir
            .parent()
            .map(|parent| parent.join("mutants.out.old").join("unviable.txt"))
            .and_then(|path| std::fs::read_to_string(path).ok())
            .unwrap_or_default();
        let current: Vec<&str> = current.lines().map(str::trim).collect();
        let unviable: Vec<&str> = old_unviable.lines().collect();
        let caught: Vec<&str> = skipped
            .lines()
            .filter(|line| current.contains(line) && !unviable.contains(line))
            .collect();
        count_outcomes(&mut tally, &caught.join("\n"), true);
    }
    Ok(tally)
}

/// Adds the mutants listed in `text` (lines `file:line:column: description`) to `tally`.
fn count_outcomes(tally: &mut BTreeMap<String, Counts>, text: &str, caught: bool) {
    for line in text.lines().filter(|line| !line.trim().is_empty()) {
        let file = mutant_file(line);
        let counts: &mut Counts = tally.entry(file.to_owned()).or_default();
        counts.viable += 1;
        if caught {
            counts.caught += 1;
        }
    }
}

/// The file of one outcome line, `crates/x/src/y.rs:12:5: replace ...`: the text before the
/// first `:` followed by a line number.
fn mutant_file(line: &str) -> &str {
    line.match_indices(':')
        .map(|(i, _)| i)
        .find(|&i| {
            line[i + 1..]
                .split(':')
                .next()
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        })
        .map_or(line, |i| &line[..i])
}

/// The `MUTANTS <file> <caught> <viable>` lines: for each of `files`, or for every file with a
/// mutant when `files` is empty.
fn summary_lines(tally: &BTreeMap<String, Counts>, files: &[String]) -> Vec<String> {
    let line =
        |file: &str, counts: Counts| format!("MUTANTS {file} {} {}", counts.caught, counts.viable);
    if files.is_empty() {
        tally
            .iter()
            .map(|(file, counts)| line(file, *counts))
            .collect()
    } else {
        files
            .iter()
            .map(|file| line(file, tally.get(file).copied().unwrap_or_default()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(words: &[&str]) -> Result<Args> {
        let words: Vec<String> = words.iter().map(|w| (*w).to_owned()).collect();
        let packages = ["djrs-csp".to_owned(), "djrs-mail".to_owned()];
        parse_args(&words, &packages, &|arg| {
            Ok(arg.trim_start_matches("./").to_owned())
        })
    }

    #[test]
    fn counts_caught_and_viable_per_file() {
        let mut tally = BTreeMap::new();
        count_outcomes(
            &mut tally,
            "crates/djrs-mail/src/address.rs:36:5: replace valid_quoted -> bool with false\n\
             crates/djrs-mail/src/address.rs:45:18: replace == with != in valid_quoted\n\
             crates/djrs-mail/src/encode.rs:13:5: replace has_line_break -> bool with true\n",
            true,
        );
        count_outcomes(
            &mut tally,
            "crates/djrs-mail/src/address.rs:26:44: replace && with || in is_atext\n\n",
            false,
        );
        assert_eq!(
            summary_lines(&tally, &[]),
            [
                "MUTANTS crates/djrs-mail/src/address.rs 2 3",
                "MUTANTS crates/djrs-mail/src/encode.rs 1 1",
            ]
        );
        // Named files are reported even without a mutant, in the order given.
        let files = [
            "crates/djrs-mail/src/lib.rs".to_owned(),
            "crates/djrs-mail/src/encode.rs".to_owned(),
        ];
        assert_eq!(
            summary_lines(&tally, &files),
            [
                "MUTANTS crates/djrs-mail/src/lib.rs 0 0",
                "MUTANTS crates/djrs-mail/src/encode.rs 1 1",
            ]
        );
    }

    #[test]
    fn reads_the_outcome_files() {
        let root = std::env::temp_dir().join(format!("xtask-mutants-{}", std::process::id()));
        let dir = root.join("mutants.out");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("caught.txt"), "src/a.rs:1:1: replace f with g\n").unwrap();
        std::fs::write(dir.join("timeout.txt"), "src/a.rs:2:1: replace + with *\n").unwrap();
        std::fs::write(dir.join("missed.txt"), "src/b.rs:3:1: delete !\n").unwrap();
        std::fs::write(dir.join("unviable.txt"), "src/b.rs:4:1: replace f with x\n").unwrap();
        let tally = read_outcomes(&dir, None);
        // After `--iterate`: skipped mutants count as caught unless the run before found
        // them unviable, or they no longer exist (their line moved).
        std::fs::write(
            dir.join("previously_caught.txt"),
            "src/a.rs:5:1: replace g with h\nsrc/b.rs:6:1: replace f with y\n\
             src/a.rs:7:1: replace h with i\n",
        )
        .unwrap();
        let current = "src/a.rs:5:1: replace g with h\nsrc/b.rs:6:1: replace f with y\n";
        let old = root.join("mutants.out.old");
        std::fs::create_dir_all(&old).unwrap();
        std::fs::write(old.join("unviable.txt"), "src/b.rs:6:1: replace f with y\n").unwrap();
        let iterated = read_outcomes(&dir, Some(current));
        std::fs::remove_dir_all(&root).unwrap();
        assert_eq!(
            summary_lines(&tally.unwrap(), &[]),
            ["MUTANTS src/a.rs 2 2", "MUTANTS src/b.rs 0 1"]
        );
        assert_eq!(
            summary_lines(&iterated.unwrap(), &[]),
            ["MUTANTS src/a.rs 3 3", "MUTANTS src/b.rs 0 1"]
        );
        let err = read_outcomes(&dir, None).unwrap_err();
        assert!(err.contains("caught.txt"), "{err}");
    }

    #[test]
    fn the_file_is_what_precedes_the_line_number() {
        for (line, file) in [
            ("src/a.rs:10:5: replace x with y", "src/a.rs"),
            (
                "weird:name.rs:7:1: replace <impl Foo for A::B>::f",
                "weird:name.rs",
            ),
            ("no position", "no position"),
        ] {
            assert_eq!(mutant_file(line), file, "{line}");
        }
    }

    #[test]
    fn groups_files_by_package() {
        let parsed = args(&[
            "--lib",
            "crates/djrs-mail/src/address.rs",
            "djrs-csp",
            "./crates/djrs-mail/src/encode.rs",
            "crates/djrs-csp/src/nonce.rs",
            "--",
            "--iterate",
        ])
        .unwrap();
        assert_eq!(parsed.tests, Tests::Lib);
        assert_eq!(parsed.extra, ["--iterate"]);
        assert_eq!(
            parsed.runs,
            [
                Run {
                    package: "djrs-mail".to_owned(),
                    files: vec![
                        "crates/djrs-mail/src/address.rs".to_owned(),
                        "crates/djrs-mail/src/encode.rs".to_owned(),
                    ],
                },
                // Named whole, so its file adds nothing.
                Run {
                    package: "djrs-csp".to_owned(),
                    files: Vec::new(),
                },
            ]
        );
        // A crate named after one of its files widens the run to the whole crate.
        let parsed = args(&["crates/djrs-csp/src/nonce.rs", "djrs-csp"]).unwrap();
        assert!(parsed.tests == Tests::All && parsed.runs[0].files.is_empty());
    }

    #[test]
    fn names_integration_tests() {
        let parsed = args(&["djrs-csp", "--test", "sqlite", "--test=api"]).unwrap();
        assert_eq!(
            parsed.tests,
            Tests::Named(vec!["sqlite".to_owned(), "api".to_owned()])
        );
        for line in [
            &["djrs-csp", "--lib", "--test", "sqlite"][..],
            &["djrs-csp", "--test", "sqlite", "--lib"],
        ] {
            assert!(args(line).unwrap_err().contains("give one or the other"));
        }
        assert!(
            args(&["djrs-csp", "--test"])
                .unwrap_err()
                .contains("needs the name")
        );
        assert!(
            args(&["djrs-csp", "--test="])
                .unwrap_err()
                .contains("not ``")
        );
        assert!(
            args(&["djrs-csp", "--test", "--lib"])
                .unwrap_err()
                .contains("not `--lib`")
        );
    }

    #[test]
    fn refuses_bad_command_lines() {
        assert!(args(&[]).unwrap_err().contains("name a crate"));
        assert!(
            args(&["--all"])
                .unwrap_err()
                .contains("unknown option `--all`")
        );
        assert!(
            args(&["README.rs"])
                .unwrap_err()
                .contains("not inside a workspace crate")
        );
        let err = args(&["crates/djrs-csp"]).unwrap_err();
        assert!(
            err.contains("unknown crate `crates/djrs-csp`; the crates are djrs-csp, djrs-mail")
        );
    }

    #[test]
    fn runs_the_package_tests_in_place() {
        let run = Run {
            package: "djrs-mail".to_owned(),
            files: vec!["crates/djrs-mail/src/address.rs".to_owned()],
        };
        let cmd = command(
            &run,
            &Tests::Lib,
            Path::new("/t/mutants/djrs-mail"),
            &["--iterate".to_owned()],
        );
        assert_eq!(
            cmd.to_string(),
            "PROPTEST_DISABLE_FAILURE_PERSISTENCE=1 cargo mutants --in-place --package djrs-mail --test-package djrs-mail \
             --all-features --output /t/mutants/djrs-mail --file crates/djrs-mail/src/address.rs \
             --cargo-arg=--lib --iterate"
        );
        let whole = Run {
            package: "djrs-csp".to_owned(),
            files: Vec::new(),
        };
        assert!(
            command(&whole, &Tests::All, Path::new("/t"), &[])
                .to_string()
                .ends_with("--output /t --cargo-arg=--lib --cargo-arg=--tests")
        );
        let named = Tests::Named(vec!["sqlite".to_owned(), "api".to_owned()]);
        assert!(
            command(&whole, &named, Path::new("/t"), &[])
                .to_string()
                .ends_with("--cargo-arg=--lib --cargo-arg=--test=sqlite --cargo-arg=--test=api")
        );
    }

    #[test]
    fn lists_the_workspace_packages() {
        let packages = packages(&workspace_root()).unwrap();
        assert!(packages.iter().any(|p| p == "djrs-mail"));
        assert!(packages.iter().any(|p| p == "xtask"));
    }

    #[test]
    fn resolves_paths_against_the_workspace() {
        let root = workspace_root();
        let xtask = root.join("xtask");
        assert_eq!(
            resolve(&root, &xtask, "src/mutants.rs").unwrap(),
            "xtask/src/mutants.rs"
        );
        assert_eq!(
            resolve(
                &root,
                Path::new("/"),
                xtask.join("src/main.rs").to_str().unwrap()
            )
            .unwrap(),
            "xtask/src/main.rs"
        );
        assert!(resolve(&root, &xtask, "src/nope.rs").is_err());
        assert!(resolve(&root, &root, "/").unwrap_err().contains("outside"));
    }
}
