"""The register: one SQLite database per plan folder, the single source of truth.

Every change goes through a Batch (import, merge, settle, edit, ...): one transaction, recorded with what
it changed (the row before and after), which command ran it and which files it read. That record is what
makes ``log`` and an exact ``undo`` possible, and what lets undo refuse when a later batch touched the same
actions. SQLite's rollback journal makes each batch all-or-nothing across crashes, kills and full disks.

Schema changes are numbered migrations (``schema.py``) run on open; never edit a released migration, add
a new one. This is the only module that speaks SQL: everything else reads and writes the model's records
through it.
"""

from __future__ import annotations

import contextlib
import getpass
import hashlib
import json
import os
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from .errors import NotFound, PlanNotFound, RegisterBusy, StorageFailed, UndoRefused
from .model import Action, Cycle, Flag, IssuedRecord, Month, Plan, Provenance, ReturnRecord, ReturnState, Update
from .paths import PlanPaths
from .schema import MIGRATIONS, SCHEMA_VERSION, TABLES


def now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def coordinator_name() -> str:
    return os.environ.get("HWBS_COORDINATOR") or _login()


def _login() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user database in some containers
        return "coordinator"


def _touch_keys(table: str, row: dict[str, Any]) -> set[str]:
    """What a change to this row touches, for undo's "did a later batch touch the same thing" check."""
    keys: set[str] = set()
    if table == "actions" and row.get("id"):
        keys.add(f"action:{row['id']}")
    if row.get("action_id"):
        keys.add(f"action:{row['action_id']}")
    if table == "cycles" and row.get("label"):
        keys.add(f"cycle:{row['label']}")
    if table in ("issued", "returns") and row.get("cycle"):
        keys.add(f"{table}:{row['cycle']}:{row.get('lead') or row.get('sha256')}")
    if table == "plan":
        keys.add("plan")
    if table == "flags" and row.get("id") is not None:
        keys.add(f"flag:{row['id']}")
    return keys


@dataclass
class Batch:
    """One all-or-nothing change. Obtain with ``Register.batch``; write only through ``put`` and ``delete``."""

    register: Register
    id: int
    kind: str
    changes: int = 0
    touched: set[str] = field(default_factory=set)
    summary: str = ""

    def _conn(self) -> _Connection:
        return self.register.conn

    def get(self, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
        return self.register._get_row(table, key)

    def put(self, table: str, row: dict[str, Any]) -> bool:
        """Insert or update one row (by primary key). Returns False when nothing changed."""
        pk_cols = TABLES[table]
        key = {c: row[c] for c in pk_cols}
        before = self.get(table, key)
        after = dict(before or {})
        after.update(row)
        if before == after:
            return False
        conn = self._conn()
        if before is None:
            cols = list(after)
            conn.execute(
                f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})",
                [after[c] for c in cols])
            after = self.get(table, key) or after  # pick up defaults so undo compares like with like
        else:
            sets = [c for c in row if c not in pk_cols]
            conn.execute(
                f"UPDATE {table} SET {', '.join(f'{c} = ?' for c in sets)} WHERE "
                + " AND ".join(f"{c} = ?" for c in pk_cols),
                [row[c] for c in sets] + [key[c] for c in pk_cols])
        self._record(table, key, before, after)
        return True

    def delete(self, table: str, key: dict[str, Any]) -> bool:
        before = self.get(table, key)
        if before is None:
            return False
        pk_cols = TABLES[table]
        self._conn().execute(f"DELETE FROM {table} WHERE " + " AND ".join(f"{c} = ?" for c in pk_cols),
                             [key[c] for c in pk_cols])
        self._record(table, key, before, None)
        return True

    def mark_return(self, sha256: str, state: ReturnState) -> bool:
        """Change only the state of a recorded return (a newer return superseded it)."""
        return self.put("returns", {"sha256": sha256, "state": state.value})

    def new_flag_id(self) -> int:
        row = self._conn().execute("SELECT COALESCE(MAX(id), 0) + 1 FROM flags").fetchone()
        return int(row[0])

    def _record(self, table: str, key: dict[str, Any], before: dict[str, Any] | None,
                after: dict[str, Any] | None) -> None:
        self.changes += 1
        self._conn().execute(
            "INSERT INTO changes (batch_id, seq, tbl, pk, before, after) VALUES (?, ?, ?, ?, ?, ?)",
            (self.id, self.changes, table, json.dumps(key, sort_keys=True),
             None if before is None else json.dumps(before, sort_keys=True),
             None if after is None else json.dumps(after, sort_keys=True)))
        for k in _touch_keys(table, before or {}) | _touch_keys(table, after or {}):
            if k not in self.touched:
                self.touched.add(k)
                self._conn().execute("INSERT OR IGNORE INTO touches (batch_id, key) VALUES (?, ?)", (self.id, k))


@dataclass(frozen=True)
class BatchInfo:
    id: int
    kind: str
    command: str
    files: tuple[str, ...]
    who: str
    started_at: str
    summary: str
    undoes: int | None
    undone_by: int | None
    changes: int


class Register:
    """Open with ``Register.open(plan)``; use as a context manager or call ``close``."""

    def __init__(self, paths: PlanPaths, conn: _Connection) -> None:
        self.paths = paths
        self.conn = conn

    # ---- opening -------------------------------------------------------------------------------------

    @classmethod
    def open(cls, plan: PlanPaths | str | os.PathLike[str] | None = None, *, create: bool = False,
             title: str | None = None) -> Register:
        paths = plan if isinstance(plan, PlanPaths) else PlanPaths.resolve(plan)
        if not paths.exists():
            if not create:
                raise PlanNotFound(f"No plan register in {paths.root}.",
                                   hint="Run `hwbs-xl init` (or `hwbs-xl import FILE`) first, or point --plan at the plan folder.")
            paths.root.mkdir(parents=True, exist_ok=True)
            if title is not None:  # made whole aside, then renamed into place: a register always has its plan
                from .safeio import atomic_write

                atomic_write(paths.register, lambda tmp: cls._new(paths, tmp, title).close())
        conn = _Connection(_connect(paths.register), paths)
        reg = cls(paths, conn)
        reg._migrate()
        if create and title is not None and reg.plan() is None:
            reg._init_plan(title)
        return reg

    @classmethod
    def _new(cls, paths: PlanPaths, file: Path, title: str) -> Register:
        """A new register in ``file`` (not yet the plan's): schema and plan row, each committed."""
        reg = cls(paths, _Connection(_connect(file), paths))
        reg._migrate()
        reg._init_plan(title)
        return reg

    def _init_plan(self, title: str) -> None:
        with self.batch("init", command="hwbs-xl init", summary=f"new plan: {title}") as b:
            b.put("plan", {"id": 1, "title": title, "created_at": now_iso()})

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Register:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _migrate(self) -> None:
        version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StorageFailed(
                f"The register {self.paths.register} was written by a newer hwbs-xl (schema {version}).",
                hint="Upgrade hwbs-xl to open it.")
        for number in range(version, SCHEMA_VERSION):
            with self._transaction():
                for statement in _split_sql(MIGRATIONS[number]):
                    self.conn.execute(statement)
                self.conn.execute(f"PRAGMA user_version = {number + 1}")

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise _busy_or_storage(exc, self.paths) from exc
        try:
            yield
            self.conn.execute("COMMIT")
        except BaseException as exc:
            with contextlib.suppress(sqlite3.Error):
                getattr(self.conn, "raw", self.conn).execute("ROLLBACK")  # untranslated: a failure here is moot
            if isinstance(exc, sqlite3.OperationalError):
                raise _busy_or_storage(exc, self.paths) from exc
            raise

    # ---- batches -------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def batch(self, kind: str, *, command: str, files: Sequence[str] = (), summary: str = "",
              undoes: int | None = None) -> Iterator[Batch]:
        """Open one all-or-nothing change. A batch that changes nothing leaves no trace in the log."""
        with self._transaction():
            cur = self.conn.execute(
                "INSERT INTO batches (kind, command, files, who, started_at, summary, undoes) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (kind, command, json.dumps(list(files)), coordinator_name(), now_iso(), summary, undoes))
            b = Batch(self, int(cur.lastrowid or 0), kind, summary=summary)
            yield b
            if b.changes == 0:
                self.conn.execute("DELETE FROM batches WHERE id = ?", (b.id,))
            else:
                self.conn.execute("UPDATE batches SET summary = ? WHERE id = ?", (b.summary, b.id))

    def log(self) -> list[BatchInfo]:
        rows = self.conn.execute(
            "SELECT b.*, (SELECT COUNT(*) FROM changes c WHERE c.batch_id = b.id) AS n FROM batches b ORDER BY b.id"
        ).fetchall()
        return [BatchInfo(r["id"], r["kind"], r["command"], tuple(json.loads(r["files"])), r["who"],
                          r["started_at"], r["summary"], r["undoes"], r["undone_by"], r["n"]) for r in rows]

    def last_batch_id(self) -> int:
        return int(self.conn.execute("SELECT COALESCE(MAX(id), 0) FROM batches").fetchone()[0])

    def undo(self, batch_id: int, *, command: str) -> Batch:
        """Reverse one batch exactly, as a new batch. Refuses when a later batch touched the same things."""
        info = next((b for b in self.log() if b.id == batch_id), None)
        if info is None:
            raise NotFound(f"There is no batch {batch_id}.", hint="`hwbs-xl log` lists the batches.")
        if info.undone_by:
            raise UndoRefused(f"Batch {batch_id} was already undone by batch {info.undone_by}.")
        if info.kind == "undo":
            raise UndoRefused(f"Batch {batch_id} is itself an undo.",
                              hint="To do the original change again, run its command again.")
        later = self._later_conflicts(batch_id)
        if later:
            names = ", ".join(f"{b} ({k})" for b, k in later)
            raise UndoRefused(
                f"Batch {batch_id} cannot be undone: later batches changed the same actions: {names}.",
                hint="Undo those first (newest first), then undo this one.")
        changes = self.conn.execute(
            "SELECT tbl, pk, before, after FROM changes WHERE batch_id = ? ORDER BY seq DESC", (batch_id,)).fetchall()
        with self.batch("undo", command=command, summary=f"undid batch {batch_id}: {info.summary or info.kind}",
                        undoes=batch_id) as b:
            for ch in changes:
                key = json.loads(ch["pk"])
                current = b.get(ch["tbl"], key)
                expected = None if ch["after"] is None else json.loads(ch["after"])
                if not _as_recorded(current, expected):
                    raise UndoRefused(
                        f"Batch {batch_id} cannot be undone exactly: {ch['tbl']} {key} was changed outside hwbs-xl.")
                if ch["before"] is None:
                    b.delete(ch["tbl"], key)
                else:
                    b.put(ch["tbl"], json.loads(ch["before"]))
            self.conn.execute("UPDATE batches SET undone_by = ? WHERE id = ?", (b.id, batch_id))
        return b

    def last_batch_started(self) -> str | None:
        """When the latest batch started (ISO time), or None for a register with no batch."""
        row = self.conn.execute("SELECT started_at FROM batches ORDER BY id DESC LIMIT 1").fetchone()
        return str(row[0]) if row else None

    def _later_conflicts(self, batch_id: int) -> list[tuple[int, str]]:
        rows = self.conn.execute(
            """SELECT DISTINCT b.id, b.kind FROM touches t JOIN batches b ON b.id = t.batch_id
               WHERE b.id > ? AND b.undone_by IS NULL AND b.kind != 'undo'
               AND t.key IN (SELECT key FROM touches WHERE batch_id = ?) ORDER BY b.id""",
            (batch_id, batch_id)).fetchall()
        return [(r[0], r[1]) for r in rows]

    # ---- reading -------------------------------------------------------------------------------------

    def _get_row(self, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
        pk_cols = TABLES[table]
        row = self.conn.execute(f"SELECT * FROM {table} WHERE " + " AND ".join(f"{c} = ?" for c in pk_cols),
                                [key[c] for c in pk_cols]).fetchone()
        return dict(row) if row else None

    def plan(self) -> Plan | None:
        row = self.conn.execute("SELECT title FROM plan WHERE id = 1").fetchone()
        return Plan(title=row["title"]) if row else None

    def cycles(self) -> list[Cycle]:
        return [_cycle(r) for r in self.conn.execute("SELECT * FROM cycles ORDER BY seq")]

    def cycle(self, label: str) -> Cycle:
        row = self.conn.execute("SELECT * FROM cycles WHERE label = ?", (label,)).fetchone()
        if row is None:
            known = ", ".join(c.label for c in self.cycles()) or "none yet"
            raise NotFound(f"There is no cycle called {label!r}.", hint=f"Known cycles: {known}.")
        return _cycle(row)

    def open_cycle(self) -> Cycle | None:
        row = self.conn.execute("SELECT * FROM cycles WHERE state = 'open' ORDER BY seq DESC").fetchone()
        return _cycle(row) if row else None

    def latest_cycle(self) -> Cycle | None:
        cycles = self.cycles()
        return cycles[-1] if cycles else None

    def actions(self, *, include_retired: bool = True) -> list[Action]:
        sql = "SELECT * FROM actions" + ("" if include_retired else " WHERE state = 'active'")
        return sorted((_action(r) for r in self.conn.execute(sql)), key=action_sort_key)

    def action(self, action_id: str) -> Action:
        row = self.conn.execute("SELECT * FROM actions WHERE id = ?", (action_id,)).fetchone()
        if row is None:
            raise NotFound(f"There is no action {action_id!r}.", hint="`hwbs-xl export` lists the actions.")
        return _action(row)

    def updates(self, *, action_id: str | None = None, cycle: str | None = None) -> list[Update]:
        sql = "SELECT u.* FROM updates u JOIN cycles c ON c.label = u.cycle WHERE 1=1"
        args: list[str] = []
        if action_id is not None:
            sql, args = sql + " AND u.action_id = ?", args + [action_id]
        if cycle is not None:
            sql, args = sql + " AND u.cycle = ?", args + [cycle]
        return [_update(r) for r in self.conn.execute(sql + " ORDER BY c.seq, u.action_id", args)]

    def update(self, action_id: str, cycle: str) -> Update | None:
        row = self.conn.execute("SELECT * FROM updates WHERE action_id = ? AND cycle = ?",
                                (action_id, cycle)).fetchone()
        return _update(row) if row else None

    def flags(self, *, open_only: bool = False, cycle: str | None = None) -> list[Flag]:
        sql, args = "SELECT * FROM flags WHERE 1=1", []
        if open_only:
            sql += " AND settled_at IS NULL"
        if cycle is not None:
            sql, args = sql + " AND cycle = ?", [cycle]
        return [_flag(r) for r in self.conn.execute(sql + " ORDER BY id", args)]

    def action_ids_ever_used(self) -> set[str]:
        """Every action ID the plan has ever had, including ones an undo deleted: IDs are never reused."""
        used = {str(r[0]) for r in self.conn.execute("SELECT id FROM actions")}
        for (pk,) in self.conn.execute("SELECT pk FROM changes WHERE tbl = 'actions'"):
            used.add(str(json.loads(pk).get("id")))
        return used

    def update_sources(self) -> set[str]:
        """The SHA-256 of every file an update in the register was taken from."""
        return {str(r[0]) for r in self.conn.execute("SELECT DISTINCT source_sha256 FROM updates") if r[0]}

    def issued(self, cycle: str) -> list[IssuedRecord]:
        """The workbooks issued for ``cycle``, one per lead, in the leads' order."""
        return [_issued(r) for r in self.conn.execute("SELECT * FROM issued WHERE cycle = ? ORDER BY lead", (cycle,))]

    def returns(self, *, cycle: str | None = None) -> list[ReturnRecord]:
        """The returned files recorded (of ``cycle`` only, when given), in the order they were first recorded."""
        sql, args = "SELECT * FROM returns", []
        if cycle is not None:
            sql, args = sql + " WHERE cycle = ?", [cycle]
        return [_return(r) for r in self.conn.execute(sql + " ORDER BY rowid", args)]

    def leads(self, *, include_retired: bool = False) -> list[str]:
        names: dict[str, None] = {}
        for a in self.actions(include_retired=include_retired):
            for lead in a.leads:
                names.setdefault(lead, None)
        return sorted(names, key=str.casefold)

    def fingerprint(self) -> str:
        """SHA-256 of the register's whole logical content: equal before and after means nothing changed."""
        h = hashlib.sha256()
        for line in self.conn.iterdump():
            h.update(line.encode("utf-8"))
        return h.hexdigest()


def action_sort_key(a: Action) -> tuple[Any, ...]:
    from .model import key_area_number
    n = key_area_number(a.key_area)
    return (n if n is not None else 10**6, a.key_area, a.id)


class _Connection:
    """The register's SQLite connection, its errors said in hwbs-xl's terms: a read that fails (disk I/O
    error, full or read-only disk, another writer) is a StorageFailed or RegisterBusy like a write, so every
    command ends with exit 3 and a plain message, not an internal error. Everything else is SQLite's own."""

    def __init__(self, raw: sqlite3.Connection, paths: PlanPaths) -> None:
        self.raw = raw
        self._paths = paths

    def execute(self, *args: Any) -> sqlite3.Cursor:
        try:
            return self.raw.execute(*args)
        except sqlite3.OperationalError as exc:
            raise _busy_or_storage(exc, self._paths) from exc
        except sqlite3.DatabaseError as exc:
            if type(exc) is not sqlite3.DatabaseError:  # integrity or programming errors are bugs: as they are
                raise
            raise StorageFailed(f"The register {self._paths.register} is damaged ({exc}).",
                                hint="Restore it from a backup; nothing was changed.") from exc

    def __getattr__(self, name: str) -> Any:
        return getattr(self.raw, name)


def _connect(path: Path) -> sqlite3.Connection:
    timeout = float(os.environ.get("HWBS_LOCK_TIMEOUT", "5"))
    try:
        conn = sqlite3.connect(path, timeout=timeout, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode = DELETE")  # rollback journal: a killed batch is rolled back on next open
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
    except sqlite3.OperationalError as exc:
        raise _busy_or_storage(exc, PlanPaths(path.parent)) from exc
    return conn


def _busy_or_storage(exc: sqlite3.OperationalError, paths: PlanPaths) -> Exception:
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return RegisterBusy(
            "Another coordinator is changing this plan's register right now.",
            hint="Wait for their command to finish, then run yours again. Nothing was changed.")
    if "full" in text:
        return StorageFailed("The disk is full; the register was left exactly as it was.",
                             hint="Free some space and run the command again.")
    if "readonly" in text or "read-only" in text:
        return StorageFailed(f"The register {paths.register} is read-only; nothing was changed.",
                             hint="Fix the folder's permissions and run again.")
    return StorageFailed(f"The register {paths.register} could not be used: {exc}.",
                         hint="Check the disk and run again; nothing was changed.")


def _split_sql(script: str) -> list[str]:
    """Statements of a migration (executescript would commit on its own; we need one transaction)."""
    without_comments = "\n".join(line.split("--", 1)[0] for line in script.splitlines())
    return [s.strip() for s in without_comments.split(";") if s.strip()]


def _date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _cycle(r: sqlite3.Row) -> Cycle:
    return Cycle(label=r["label"], seq=r["seq"], report_date=_date(r["report_date"]),
                 due_date=_date(r["due_date"]), state=r["state"])


def _action(r: sqlite3.Row) -> Action:
    return Action(id=r["id"], key_area=r["key_area"], activity=r["activity"], leads=tuple(json.loads(r["leads"])),
                  start=Month.from_iso(r["start"]), finish=Month.from_iso(r["finish"]), state=r["state"],
                  keep=bool(r["keep"]))


def _update(r: sqlite3.Row) -> Update:
    return Update(
        action_id=r["action_id"], cycle=r["cycle"], status=r["status"], status_raw=r["status_raw"],
        progress=r["progress"], revised_finish=Month.from_iso(r["revised_finish"]), comment=r["comment"],
        needs_review=bool(r["needs_review"]), activity_as_reported=r["activity_as_reported"],
        leads_as_reported=tuple(json.loads(r["leads_as_reported"])),
        source=Provenance(file=r["source_file"], sha256=r["source_sha256"], where=r["source_where"],
                          returned_by=r["returned_by"], recorded_at=r["recorded_at"], batch=r["batch_id"]))


def _flag(r: sqlite3.Row) -> Flag:
    return Flag(id=r["id"], action_id=r["action_id"], cycle=r["cycle"], field=r["field"], code=r["code"],
                raw=r["raw"], message=r["message"], candidates=tuple(json.loads(r["candidates"])),
                settled_value=r["settled_value"], settled_by=r["settled_by"], settled_at=r["settled_at"])


def _issued(r: sqlite3.Row) -> IssuedRecord:
    return IssuedRecord(cycle=r["cycle"], lead=r["lead"], file=r["file"], sha256=r["sha256"],
                        generated_at=r["generated_at"], template_version=r["template_version"], manifest=r["manifest"])


def _return(r: sqlite3.Row) -> ReturnRecord:
    try:
        report = json.loads(r["report"] or "{}")
    except ValueError:
        report = {}
    return ReturnRecord(sha256=r["sha256"], original_name=r["original_name"], state=ReturnState(r["state"]),
                        cycle=r["cycle"], lead=r["lead"], mtime=float(r["mtime"]), stored_path=r["stored_path"],
                        received_at=r["received_at"], report=report if isinstance(report, dict) else {})


def _as_recorded(current: dict[str, Any] | None, expected: dict[str, Any] | None) -> bool:
    """Whether a row is as a batch left it. A column a later migration added is not in an older batch's
    record, and does not count."""
    if current is None or expected is None:
        return current is expected
    return all(current.get(k) == v for k, v in expected.items())


def issued_row(r: IssuedRecord) -> dict[str, Any]:
    """The register row for an IssuedRecord."""
    return {"cycle": r.cycle, "lead": r.lead, "file": r.file, "sha256": r.sha256, "generated_at": r.generated_at,
            "template_version": r.template_version, "manifest": r.manifest}


def return_row(r: ReturnRecord) -> dict[str, Any]:
    """The register row for a ReturnRecord."""
    return {"sha256": r.sha256, "original_name": r.original_name, "stored_path": r.stored_path,
            "received_at": r.received_at, "cycle": r.cycle, "lead": r.lead, "state": r.state.value, "mtime": r.mtime,
            "report": json.dumps(dict(r.report), ensure_ascii=False, sort_keys=True)}


def action_row(a: Action) -> dict[str, Any]:
    """The register row for an Action (the inverse of reading one)."""
    return {"id": a.id, "key_area": a.key_area, "activity": a.activity, "leads": json.dumps(list(a.leads)),
            "start": a.start.iso if a.start else None, "finish": a.finish.iso if a.finish else None,
            "state": a.state, "keep": int(a.keep)}


def update_row(u: Update) -> dict[str, Any]:
    """The register row for an Update."""
    return {"action_id": u.action_id, "cycle": u.cycle, "status": u.status, "status_raw": u.status_raw,
            "needs_review": int(u.needs_review), "progress": u.progress,
            "revised_finish": u.revised_finish.iso if u.revised_finish else None, "comment": u.comment,
            "activity_as_reported": u.activity_as_reported, "leads_as_reported": json.dumps(list(u.leads_as_reported)),
            "source_file": u.source.file, "source_sha256": u.source.sha256, "source_where": u.source.where,
            "returned_by": u.source.returned_by, "recorded_at": u.source.recorded_at, "batch_id": u.source.batch}


def cycle_row(c: Cycle) -> dict[str, Any]:
    return {"label": c.label, "seq": c.seq, "report_date": c.report_date.isoformat() if c.report_date else None,
            "due_date": c.due_date.isoformat() if c.due_date else None, "state": c.state}


def flag_row(f: Flag) -> dict[str, Any]:
    return {"id": f.id, "action_id": f.action_id, "cycle": f.cycle, "field": f.field, "code": f.code, "raw": f.raw,
            "message": f.message, "candidates": json.dumps(list(f.candidates)), "settled_value": f.settled_value,
            "settled_by": f.settled_by, "settled_at": f.settled_at}

