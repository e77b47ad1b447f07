//! The MySQL/MariaDB schema of the task queue, one migration per version.

/// The schema, one statement per entry (MySQL commits DDL as it goes, so each is recorded on
/// its own); applied in order, each once, under a named lock.
pub(super) const MIGRATIONS: &[(i64, &str)] = &[
    (
        1,
        "CREATE TABLE djrs_task (
        id VARCHAR(36) NOT NULL PRIMARY KEY,
        task_name VARCHAR(255) NOT NULL,
        backend VARCHAR(255) NOT NULL,
        queue_name VARCHAR(255) NOT NULL,
        priority INT NOT NULL,
        status VARCHAR(16) NOT NULL,
        args LONGTEXT NOT NULL,
        return_value LONGTEXT NULL,
        errors LONGTEXT NOT NULL,
        worker_ids LONGTEXT NOT NULL,
        attempts INT NOT NULL DEFAULT 0,
        max_attempts INT NOT NULL,
        enqueued_at BIGINT NOT NULL,
        run_after BIGINT NULL,
        run_after_sort BIGINT AS (COALESCE(run_after, 9223372036854775807)) STORED,
        started_at BIGINT NULL,
        finished_at BIGINT NULL,
        last_attempted_at BIGINT NULL,
        worker_id VARCHAR(64) NULL,
        lease_expires_at BIGINT NULL,
        timeout_ms BIGINT NULL,
        unique_key VARCHAR(255) NULL,
        unique_active VARCHAR(255) AS (CASE WHEN status IN ('READY', 'RUNNING') THEN unique_key END) STORED,
        UNIQUE KEY djrs_task_unique (unique_active),
        KEY djrs_task_ready (status, queue_name, priority DESC, run_after_sort, enqueued_at),
        KEY djrs_task_running (status, lease_expires_at),
        KEY djrs_task_finished (status, finished_at)
    ) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin",
    ),
    (
        2,
        "CREATE TABLE djrs_task_schedule (
        name VARCHAR(255) NOT NULL,
        occurrence BIGINT NOT NULL,
        task_id VARCHAR(36) NOT NULL,
        PRIMARY KEY (name, occurrence)
    ) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin",
    ),
    (
        3,
        "CREATE TABLE djrs_task_leader (
        name VARCHAR(255) NOT NULL PRIMARY KEY,
        holder VARCHAR(255) NOT NULL,
        expires_at BIGINT NOT NULL
    ) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin",
    ),
    (
        4,
        "CREATE TABLE djrs_task_queue (
        name VARCHAR(255) NOT NULL PRIMARY KEY
    ) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin",
    ),
    (
        5,
        "ALTER TABLE djrs_task ADD COLUMN cancel_requested BOOLEAN NOT NULL DEFAULT FALSE",
    ),
    (
        6,
        "CREATE TABLE djrs_task_paused (
        queue_name VARCHAR(255) NOT NULL PRIMARY KEY
    ) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin",
    ),
    (
        7,
        "CREATE TABLE djrs_task_limit (
        queue_name VARCHAR(255) NOT NULL PRIMARY KEY,
        max_running INT NULL
    ) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin",
    ),
    (8, "ALTER TABLE djrs_task ADD COLUMN metadata JSON NULL"),
];
