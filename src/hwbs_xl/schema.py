"""The register's schema: its tables, their primary keys, and the numbered migrations that build them.

``Register`` runs the migrations a register has not had yet when it opens one (``PRAGMA user_version``
counts them). Never edit a released migration: add a new one at the end.
"""

from __future__ import annotations

# Each table that batches may change, with its primary key columns (the change log keys rows by these).
TABLES: dict[str, tuple[str, ...]] = {
    "plan": ("id",),
    "cycles": ("label",),
    "actions": ("id",),
    "updates": ("action_id", "cycle"),
    "flags": ("id",),
    "issued": ("cycle", "lead"),
    "returns": ("sha256",),
}

MIGRATIONS: list[str] = [
    # 1: first release
    """
    CREATE TABLE plan (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        title TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE TABLE cycles (
        label TEXT PRIMARY KEY,
        seq INTEGER NOT NULL UNIQUE,
        report_date TEXT,
        due_date TEXT,
        state TEXT NOT NULL CHECK (state IN ('open', 'closed'))
    );
    CREATE TABLE actions (
        id TEXT PRIMARY KEY,
        key_area TEXT NOT NULL,
        activity TEXT NOT NULL,
        leads TEXT NOT NULL,              -- JSON list of lead names, in the plan's order
        start TEXT,                       -- "YYYY-MM"
        finish TEXT,                      -- "YYYY-MM"
        state TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'retired')),
        keep INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE updates (
        action_id TEXT NOT NULL REFERENCES actions(id),
        cycle TEXT NOT NULL REFERENCES cycles(label),
        status TEXT,                      -- a status key; NULL when unknown or awaiting review
        status_raw TEXT NOT NULL DEFAULT '',
        needs_review INTEGER NOT NULL DEFAULT 0,
        progress TEXT NOT NULL DEFAULT '',
        revised_finish TEXT,
        comment TEXT NOT NULL DEFAULT '',
        activity_as_reported TEXT NOT NULL DEFAULT '',
        leads_as_reported TEXT NOT NULL DEFAULT '[]',
        source_file TEXT,
        source_sha256 TEXT,
        source_where TEXT,
        returned_by TEXT,
        recorded_at TEXT,
        batch_id INTEGER,
        PRIMARY KEY (action_id, cycle)
    );
    CREATE TABLE flags (
        id INTEGER PRIMARY KEY,
        action_id TEXT,
        cycle TEXT,
        field TEXT NOT NULL,
        code TEXT NOT NULL,
        raw TEXT NOT NULL DEFAULT '',
        message TEXT NOT NULL,
        candidates TEXT NOT NULL DEFAULT '[]',
        settled_value TEXT,
        settled_by TEXT,
        settled_at TEXT
    );
    CREATE TABLE issued (
        cycle TEXT NOT NULL,
        lead TEXT NOT NULL,
        file TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        generated_at TEXT NOT NULL,
        template_version TEXT NOT NULL,
        manifest TEXT NOT NULL,           -- JSON: the signed manifest as written into the workbook
        PRIMARY KEY (cycle, lead)
    );
    CREATE TABLE returns (
        sha256 TEXT PRIMARY KEY,
        original_name TEXT NOT NULL,
        stored_path TEXT NOT NULL,
        received_at TEXT NOT NULL,
        cycle TEXT,
        lead TEXT,
        state TEXT NOT NULL,              -- a model.ReturnState: merged, queried, rejected, superseded
        report TEXT NOT NULL DEFAULT '{}'
    );
    CREATE TABLE batches (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        command TEXT NOT NULL,
        files TEXT NOT NULL DEFAULT '[]',
        who TEXT NOT NULL,
        started_at TEXT NOT NULL,
        summary TEXT NOT NULL DEFAULT '',
        undoes INTEGER,
        undone_by INTEGER
    );
    CREATE TABLE changes (
        batch_id INTEGER NOT NULL REFERENCES batches(id),
        seq INTEGER NOT NULL,
        tbl TEXT NOT NULL,
        pk TEXT NOT NULL,
        before TEXT,
        after TEXT,
        PRIMARY KEY (batch_id, seq)
    );
    CREATE TABLE touches (
        batch_id INTEGER NOT NULL,
        key TEXT NOT NULL,
        PRIMARY KEY (batch_id, key)
    );
    CREATE INDEX touches_key ON touches(key);
    CREATE INDEX updates_cycle ON updates(cycle);
    """,
    # 2: a return's file time, which decides which of a lead's returns is the newer, is a column of its own
    # (it was kept inside the report)
    """
    ALTER TABLE returns ADD COLUMN mtime REAL NOT NULL DEFAULT 0;
    UPDATE returns SET mtime = COALESCE(json_extract(report, '$.mtime'), 0) WHERE json_valid(report);
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)
