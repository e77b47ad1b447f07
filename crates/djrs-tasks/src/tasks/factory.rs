//! The registry of backend factories: `BACKEND` names in `TASKS` become backends without the
//! core naming any.

use super::*;

/// A backend that `TASKS` can name: `BACKEND` → a constructor from the alias and its
/// configuration. Backends register one with `inventory::submit!`, so `Tasks::from_config` knows
/// every backend compiled in without naming any.
#[doc(hidden)]
#[derive(Debug)]
pub struct BackendFactory {
    name: &'static str,
    build: fn(&str, &BackendConfig) -> Result<Arc<dyn Backend>>,
}

impl BackendFactory {
    /// A factory for the backend called `name`.
    #[must_use]
    pub const fn new(
        name: &'static str,
        build: fn(&str, &BackendConfig) -> Result<Arc<dyn Backend>>,
    ) -> Self {
        BackendFactory { name, build }
    }
}

inventory::collect!(BackendFactory);

/// Refuses options for a backend that takes none.
fn no_options(name: &str, alias: &str, config: &BackendConfig) -> Result<()> {
    match config.options.keys().next() {
        Some(key) => Err(Error::InvalidTaskBackend(format!(
            "{name} takes no option {key:?} (backend '{alias}')"
        ))),
        None => Ok(()),
    }
}

inventory::submit! {
    BackendFactory::new("ImmediateBackend", |alias, config| {
        no_options("ImmediateBackend", alias, config)?;
        Ok(Arc::new(ImmediateBackend::new()))
    })
}

inventory::submit! {
    BackendFactory::new("DummyBackend", |alias, config| {
        no_options("DummyBackend", alias, config)?;
        Ok(Arc::new(DummyBackend::new()))
    })
}

/// The backend a `BACKEND` value names: its last segment after `.` or `:`.
pub(super) fn backend_from_config(alias: &str, config: &BackendConfig) -> Result<Arc<dyn Backend>> {
    let name = config.backend.rsplit(['.', ':']).next().unwrap_or_default();
    let mut known: Vec<&'static str> = Vec::new();
    for factory in inventory::iter::<BackendFactory> {
        if factory.name == name {
            return (factory.build)(alias, config);
        }
        known.push(factory.name);
    }
    known.sort_unstable();
    Err(Error::InvalidTaskBackend(format!(
        "Could not find backend '{}' for '{alias}': the backends compiled in are {} \
         (SqliteBackend, PostgresBackend, MysqlBackend and RedisBackend need the features sqlite, postgres, mysql and redis)",
        config.backend,
        known.join(", ")
    )))
}
