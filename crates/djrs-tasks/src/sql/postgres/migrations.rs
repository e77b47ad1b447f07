//! The PostgreSQL schema of the task queue, one migration per version.

/// The schema, one entry per version; applied in order, each once, under an advisory lock.
pub(super) const MIGRATIONS: &[(i64, &str)] = &[
    (
        1,
        "CREATE TABLE djrs_task (
        id TEXT PRIMARY KEY,
        task_name TEXT NOT NULL,
        backend TEXT NOT NULL,
        queue_name TEXT NOT NULL,
        priority INTEGER NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('READY', 'RUNNING', 'FAILED', 'SUCCESSFUL')),
        args JSONB NOT NULL,
        return_value JSONB,
        errors JSONB NOT NULL DEFAULT '[]',
        worker_ids JSONB NOT NULL DEFAULT '[]',
        attempts INTEGER NOT NULL DEFAULT 0,
        max_attempts INTEGER NOT NULL,
        enqueued_at TIMESTAMPTZ NOT NULL,
        run_after TIMESTAMPTZ,
        started_at TIMESTAMPTZ,
        finished_at TIMESTAMPTZ,
        last_attempted_at TIMESTAMPTZ,
        worker_id TEXT,
        lease_expires_at TIMESTAMPTZ
    );
    CREATE INDEX djrs_task_ready ON djrs_task (queue_name, priority DESC, run_after ASC NULLS LAST, enqueued_at)
        WHERE status = 'READY';
    CREATE INDEX djrs_task_ready_any ON djrs_task (priority DESC, run_after ASC NULLS LAST, enqueued_at)
        WHERE status = 'READY';
    CREATE INDEX djrs_task_running ON djrs_task (lease_expires_at) WHERE status = 'RUNNING';
    CREATE INDEX djrs_task_finished ON djrs_task (finished_at) WHERE status IN ('FAILED', 'SUCCESSFUL');",
    ),
    (
        2,
        "ALTER TABLE djrs_task ADD COLUMN timeout_ms BIGINT, ADD COLUMN unique_key TEXT;
    CREATE UNIQUE INDEX djrs_task_unique ON djrs_task (unique_key)
        WHERE unique_key IS NOT NULL AND status IN ('READY', 'RUNNING');
    CREATE TABLE djrs_task_schedule (
        name TEXT NOT NULL,
        occurrence TIMESTAMPTZ NOT NULL,
        task_id TEXT NOT NULL,
        PRIMARY KEY (name, occurrence)
    );",
    ),
    (
        3,
        "CREATE TABLE djrs_task_leader (
        name TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        expires_at TIMESTAMPTZ NOT NULL
    );",
    ),
    (
        4,
        // A queue table turns over all of its rows again and again: vacuum it after 1 % of its
        // rows (not the default 20 %) and without the cost delay, so dead rows are reused
        // before the table grows.
        "ALTER TABLE djrs_task SET (
        autovacuum_vacuum_scale_factor = 0.01,
        autovacuum_vacuum_threshold = 1000,
        autovacuum_vacuum_insert_scale_factor = 0.01,
        autovacuum_analyze_scale_factor = 0.02,
        autovacuum_vacuum_cost_delay = 0
    );",
    ),
    (
        5,
        "ALTER TABLE djrs_task ADD COLUMN cancel_requested BOOLEAN NOT NULL DEFAULT FALSE;
    CREATE TABLE djrs_task_paused (queue_name TEXT PRIMARY KEY);",
    ),
    (
        6,
        "CREATE TABLE djrs_task_limit (queue_name TEXT PRIMARY KEY, max_running INTEGER);",
    ),
    (7, "ALTER TABLE djrs_task ADD COLUMN metadata JSONB;"),
    (
        8,
        // The console lists failed tasks newest first; they are few among many, so they get
        // an index of their own (written only when a task fails).
        "CREATE INDEX djrs_task_failed ON djrs_task (id) WHERE status = 'FAILED';",
    ),
];
