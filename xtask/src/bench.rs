//! `cargo xtask bench [NAME...]`: runs benchmarks in release mode against the real services.
//!
//! Benchmarks are cargo bench targets with `harness = false` that print one line per figure,
//! `BENCH <name> <value> <unit>`. To add one, add a line to [`BENCHES`].

use crate::cmd::Cmd;
use crate::{Result, services};

/// A benchmark known to `cargo xtask bench`.
#[derive(Debug, Clone, Copy)]
struct Bench {
    /// The name given on the command line.
    name: &'static str,
    /// The package holding the bench target.
    package: &'static str,
    /// The bench target (`[[bench]] name` in the package's manifest).
    target: &'static str,
    /// The package features the benchmark needs.
    features: &'static [&'static str],
}

/// Every known benchmark, one per line.
#[rustfmt::skip]
const BENCHES: &[Bench] = &[
    Bench { name: "paginate", package: "djrs-paginate", target: "paginate", features: &["postgres"] },
    Bench { name: "tasks-sqlite", package: "djrs-tasks", target: "tasks_sqlite", features: &["sqlite"] },
    Bench { name: "tasks-postgres", package: "djrs-tasks", target: "tasks_postgres", features: &["postgres", "metrics"] },
    Bench { name: "tasks-mysql", package: "djrs-tasks", target: "tasks_mysql", features: &["mysql"] },
    Bench { name: "tasks-redis", package: "djrs-tasks", target: "tasks_redis", features: &["redis"] },
    Bench { name: "tasks-console", package: "djrs-tasks", target: "tasks_console", features: &["postgres", "axum"] },
    Bench { name: "tasks-soak", package: "djrs-tasks", target: "tasks_soak", features: &["postgres"] },
    Bench { name: "orm-ext", package: "djrs-orm-ext", target: "orm_ext", features: &["derive", "postgres", "mysql"] },
    Bench { name: "csp", package: "djrs-csp", target: "csp", features: &["axum"] },
    Bench { name: "partials", package: "djrs-partials", target: "partials", features: &[] },
    Bench { name: "mail", package: "djrs-mail", target: "mail", features: &["smtp"] },
];

impl Bench {
    /// The `cargo bench` command running this benchmark.
    fn command(&self) -> Cmd {
        let cmd = Cmd::cargo(["bench", "-p", self.package, "--bench", self.target]);
        if self.features.is_empty() {
            cmd
        } else {
            cmd.args(["--features", &self.features.join(",")])
        }
    }
}

/// Runs the benchmarks named in `names`, or all of them when `names` is empty.
pub(crate) fn run(names: &[String]) -> Result {
    let selected = select(names)?;
    services::ensure_all()?;
    for bench in selected {
        let cmd = bench.command();
        println!("==> bench {}: {cmd}", bench.name);
        cmd.run()
            .map_err(|err| format!("benchmark `{}` failed: {err}", bench.name))?;
    }
    Ok(())
}

/// The benchmarks named in `names` (all of them when empty), or an error listing the known names.
fn select(names: &[String]) -> Result<Vec<Bench>> {
    if names.is_empty() {
        return Ok(BENCHES.to_vec());
    }
    names
        .iter()
        .map(|name| {
            BENCHES
                .iter()
                .find(|bench| bench.name == name)
                .copied()
                .ok_or_else(|| {
                    let known: Vec<&str> = BENCHES.iter().map(|bench| bench.name).collect();
                    format!(
                        "unknown benchmark `{name}`; known benchmarks: {}",
                        known.join(", ")
                    )
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique() {
        for (i, bench) in BENCHES.iter().enumerate() {
            assert!(
                BENCHES[i + 1..]
                    .iter()
                    .all(|other| other.name != bench.name)
            );
        }
    }

    #[test]
    fn selects_by_name() {
        assert_eq!(select(&[]).unwrap().len(), BENCHES.len());
        let paginate = select(&["paginate".to_owned()]).unwrap();
        assert_eq!(
            paginate[0].command().to_string(),
            "cargo bench -p djrs-paginate --bench paginate --features postgres"
        );
        let err = select(&["nope".to_owned()]).unwrap_err();
        assert!(err.contains("unknown benchmark `nope`") && err.contains("paginate"));
    }
}
