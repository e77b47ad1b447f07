//! The SQLite schema of the task queue, one migration per version.

/// The schema, one entry per version; applied in order, each once, in one write transaction.
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
        args TEXT NOT NULL,
        return_value TEXT,
        errors TEXT NOT NULL DEFAULT '[]',
        worker_ids TEXT NOT NULL DEFAULT '[]',
        max_attempts INTEGER NOT NULL,
        enqueued_at INTEGER NOT NULL,
        run_after INTEGER,
        started_at INTEGER,
        finished_at INTEGER,
        last_attempted_at INTEGER,
        worker_id TEXT,
        lease_expires_at INTEGER
    );
    CREATE INDEX djrs_task_ready ON djrs_task (queue_name, priority DESC, run_after, enqueued_at)
        WHERE status = 'READY';
    CREATE INDEX djrs_task_running ON djrs_task (lease_expires_at) WHERE status = 'RUNNING';
    CREATE INDEX djrs_task_worker ON djrs_task (worker_id) WHERE status = 'RUNNING';
    CREATE INDEX djrs_task_finished ON djrs_task (finished_at) WHERE status IN ('FAILED', 'SUCCESSFUL');",
    ),
    (
        2,
        "ALTER TABLE djrs_task ADD COLUMN timeout_ms INTEGER;
    ALTER TABLE djrs_task ADD COLUMN unique_key TEXT;
    CREATE UNIQUE INDEX djrs_task_unique ON djrs_task (unique_key)
        WHERE unique_key IS NOT NULL AND status IN ('READY', 'RUNNING');",
    ),
    (
        3,
        "CREATE TABLE djrs_task_schedule (
        name TEXT NOT NULL,
        occurrence INTEGER NOT NULL,
        task_id TEXT NOT NULL,
        PRIMARY KEY (name, occurrence)
    );
    CREATE TABLE djrs_task_leader (
        name TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        expires_at INTEGER NOT NULL
    );",
    ),
    (
        4,
        "ALTER TABLE djrs_task ADD COLUMN cancel_requested INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE djrs_task_paused (queue_name TEXT PRIMARY KEY);",
    ),
    (
        5,
        "CREATE TABLE djrs_task_limit (queue_name TEXT PRIMARY KEY, max_running INTEGER);",
    ),
    (6, "ALTER TABLE djrs_task ADD COLUMN metadata TEXT;"),
    (
        7,
        // The console lists failed tasks newest first; they are few among many, so they get
        // an index of their own (written only when a task fails).
        "CREATE INDEX djrs_task_failed ON djrs_task (id) WHERE status = 'FAILED';",
    ),
];
