//! `cargo xtask bench tasks-sqlite`: the embedded SQLite queue's figures (see
//! `common/mod.rs`), on a fresh database file in a temp dir.

mod common;

use djrs_tasks::{SqliteBackend, Tasks};

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench.sqlite3");
    let sizes = common::Sizes {
        single: 2_000,
        batch: 50_000,
        ceiling: 20_000,
        worked: 20_000,
        pickups: 200,
    };
    common::run("tasks_sqlite", &sizes, || {
        Tasks::builder()
            .backend("default", SqliteBackend::open(&path).unwrap())
            .build()
            .unwrap()
    })
    .await;
}
