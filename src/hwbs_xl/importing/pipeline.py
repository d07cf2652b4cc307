"""The one import path every appendix takes, whatever file it came from.

``import_files`` reads each file (readers.read_source) and hands the SourceTables to ``import_tables``:
1. skip files imported before (by SHA-256): ``already-imported``, nothing changes;
2. assemble each table (table.py): headers by meaning, titles and repeated headers dropped, cut rows
   stitched, split cells joined, shifted rows put back;
3. read each row: text cleaned (bullets, HTML), leads split, months read, statuses mapped or repaired only
   when one answer is possible (status.py); everything undecidable is flagged, raw text kept; a finding
   about a field points at its cell (a workbook's sheet and A1, a PDF's page and box: ``located``);
4. link rows to the register's actions (linking.py), oldest cycle first, or give them new stable IDs;
5. write it all as ONE register batch (all files of the call, all or nothing), and the import report.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ..errors import HwbsError
from ..findings import Finding, Report
from ..ids import ActionIds
from ..model import Action, Cycle, Flag, Month, Provenance, Update, cycle_seq, key_area_number
from ..paths import PlanPaths
from ..register import Register, action_row, cycle_row, flag_row, now_iso, update_row
from .clean import Cleaner, LeadSplitter, fold
from .columns import HeaderMatcher, Layout
from .linking import Candidate, Link, Linker, RowEvidence, Similarity
from .rows import PendingFlag, RowData, RowReader
from .settings import ImportSettings
from .source import SourceTable, sheet_cell, workbook_where
from .table import Assembled, Note, TableAssembler, plan_title

__all__ = ["ImportResult", "import_files", "import_tables"]


@dataclass
class ImportResult:
    """What an import did. ``counts`` holds: files, files_imported, already_imported, rows, flags, batch;
    cycles {label: {actions, statuses {label: n}, flagged, repaired}}; links {code: n} (link-same-wording,
    link-similar, link-by-id, action-new, link-doubtful); by_file {name: {form, cycle, rows, links}}."""

    report: Report
    batch_id: int | None
    changed: bool
    counts: dict[str, Any]
    report_file: Path | None


def import_files(paths: PlanPaths, files: list[Path], *, cycle: str | None = None, command: str) -> ImportResult:
    """Read the files (form decided by content) and import them in one batch; creates the plan if needed."""
    from .readers import read_source

    report = Report()
    tables: list[SourceTable] = []
    for path in files:
        try:
            tables.append(read_source(Path(path)))
        except HwbsError as exc:
            code = exc.code if exc.code in _known_codes() else "import-unreadable"
            report.add(code, f"{exc.message} {exc.hint}".strip(), file=Path(path).name)
    if report.errors:
        return ImportResult(report, None, False, {"files": len(files)}, None)
    folder_was_there = paths.root.exists()
    if not paths.exists():
        from ..plan.folder import init_plan

        title = next((t for t in (_title_of(t) for t in tables) if t), None)
        reg, _ = init_plan(paths, title)
        reg.close()
    try:
        result = import_tables(paths, tables, cycle=cycle, command=command)
    except BaseException:
        _remove_new_plan(paths, folder_was_there)
        raise
    if result.report.errors and not folder_was_there:
        _remove_new_plan(paths, folder_was_there)  # a failed import leaves no empty plan behind
        result.report_file = None
    return result


def _remove_new_plan(paths: PlanPaths, folder_was_there: bool) -> None:
    """Remove the plan folder this import made (and only that one) when the import did not go in."""
    import shutil

    if not folder_was_there and paths.root.is_dir():
        shutil.rmtree(paths.root, ignore_errors=True)


def _known_codes() -> set[str]:
    from ..findings import finding_codes

    return finding_codes()


def _title_of(table: SourceTable) -> str | None:
    rows_cfg = ImportSettings.load(None).section("rows")
    return plan_title(table, re.compile(rows_cfg.get("appendix_label", r"^\s*appendix\s+\w{1,3}\s*$"), re.I))


def import_tables(paths: PlanPaths, tables: list[SourceTable], *, cycle: str | None, command: str) -> ImportResult:
    """The shared import path (see module docstring). Never raises on bad data: findings say what is wrong."""
    with Register.open(paths) as reg:
        return _Import(reg, paths, cycle, command).run(tables)


class _Import:
    def __init__(self, reg: Register, paths: PlanPaths, cycle: str | None, command: str) -> None:
        self.reg = reg
        self.paths = paths
        self.cycle_option = _cycle_label(cycle) if cycle else None
        self.command = command
        self.settings = ImportSettings.load(paths.root)
        self.cleaner = Cleaner(self.settings.section("clean"))
        self.assembler = TableAssembler(HeaderMatcher(self.settings.section("headers")), self.cleaner,
                                        self.settings.section("rows"), self.settings.section("headers"),
                                        self.settings.vocabulary.labels)
        self.report = Report()
        self.counts: dict[str, Any] = {}

    # -- 1-3: read -----------------------------------------------------------------------------------------

    def run(self, tables: list[SourceTable]) -> ImportResult:
        fresh = self._skip_imported(tables)
        for t in tables:
            self.report.extend(t.findings)
        assembled: list[tuple[SourceTable, Assembled, str, dict[str, bool]]] = []
        for table in fresh:
            got = self._assemble(table)
            if got is not None:
                assembled.append(got)
        self.counts.update(files=len(tables), files_imported=len(assembled),
                           already_imported=len(tables) - len(fresh))
        if self.report.errors or not assembled:
            report_file = self._write_report_only() if self.report.errors else None
            return ImportResult(self.report, None, False, self.counts, report_file)
        assembled.sort(key=lambda a: (cycle_seq(a[2]), a[0].path.name))
        rows = self._read_rows(assembled)
        if not rows:
            return ImportResult(self.report, None, False, self.counts, self._write_report_file(None))
        self._link(rows)
        return self._write(rows, assembled)

    def _skip_imported(self, tables: list[SourceTable]) -> list[SourceTable]:
        done = self.reg.update_sources()
        fresh, seen = [], set()
        for t in tables:
            if t.sha256 in done or t.sha256 in seen:
                self.report.add("already-imported", f"{t.path.name} was imported before (same content, SHA-256 "
                                f"{t.sha256[:12]}…); nothing changed.", file=t.path.name)
                continue
            seen.add(t.sha256)
            fresh.append(t)
        return fresh

    def _assemble(self, table: SourceTable) -> tuple[SourceTable, Assembled, str, dict[str, bool]] | None:
        got = self.assembler.assemble(table)
        for note in got.notes:
            self._note(table, note)
        if not got.layouts or not got.rows:
            found = f"{len(table.rows)} table line(s), {len(got.layouts)} header row(s) recognised"
            if table.pages:
                found += f", {table.pages} page(s)"
            self.report.add("import-no-table", f"No appendix table was recognised in {table.path.name} ({found}). "
                            "A header row needs at least a key area or activity column and two more known "
                            "headings (see templates/import.toml [headers.meanings]).", file=table.path.name)
            return None
        main = self._main_cycle(table, got.layouts)
        if main is None:
            return None
        layout_cycles = _cycles_of(got.layouts, main)
        for row in got.rows:  # columns that name no cycle report on the main one
            row.values = {(m, c or main): v for (m, c), v in row.values.items()}
            row.positions = {(m, c or main): v for (m, c), v in row.positions.items()}
        return table, got, main, layout_cycles

    def _main_cycle(self, table: SourceTable, layouts: list[Layout]) -> str | None:
        """The cycle the paper reports on: its status column's ("Status as of April 2024"), else --cycle when
        some status or progress column names no cycle (a named notes column is then an earlier cycle's),
        else the latest cycle a progress column names."""
        named = [(m, c) for lay in layouts for m, c in filter(None, lay.fields) if c]
        status = sorted({c for m, c in named if m == "status"}, key=cycle_seq)
        progress = sorted({c for m, c in named if m == "progress"}, key=cycle_seq)
        unnamed = any(f and f[1] is None and f[0] in ("status", "progress") for lay in layouts for f in lay.fields)
        if status:
            main: str | None = status[-1]
            if self.cycle_option and self.cycle_option not in status:
                self.report.add("import-cycle-conflict", f"{table.path.name} reports on {main} (its header "
                                f"says so), not {self.cycle_option}. Run the import without --cycle, or import "
                                "this file on its own.", file=table.path.name)
                return None
        elif unnamed or not progress:
            main = self.cycle_option
        else:
            main = progress[-1]
        if main is None:
            self.report.add("import-no-cycle", f"{table.path.name} does not say which cycle it reports on (no "
                            "\"Status as of <month year>\" heading). Give it with --cycle, e.g. --cycle \"April 2024\".",
                            file=table.path.name)
        return main

    def _note(self, table: SourceTable, note: Note, **extra: Any) -> Finding:
        return self.report.add(note.code, note.message, file=table.path.name, value=note.value,
                               **located(note.where, note.field, note.positions), **extra)

    def _read_rows(self, assembled: list[tuple[SourceTable, Assembled, str, dict[str, bool]]]) -> list[RowData]:
        lead_settings = self.settings.section("leads")
        basic = LeadSplitter(lead_settings)
        known = list(self.reg.leads(include_retired=True))
        for _, got, _, _ in assembled:
            for row in got.rows:
                known.extend(basic.split(self.cleaner.clean(row.get("lead")).text))
        reader = RowReader(self.settings, self.cleaner, LeadSplitter(lead_settings, known))
        key_areas: dict[str, str] = {}
        for a in self.reg.actions():
            key_areas.setdefault(fold(a.key_area).replace(" ", ""), a.key_area)
        rows: list[RowData] = []
        for table, got, main, layout_cycles in assembled:
            for parsed in got.rows:
                data = reader.read(parsed, main, layout_cycles, key_areas)
                if data is None:
                    self.report.add("row-unreadable", "The row has no project activity, so it is not an action; "
                                    "its text is shown here so nothing is lost.", file=table.path.name,
                                    where="; ".join(parsed.wheres), value=" | ".join(v for v in parsed.values.values() if v))
                    continue
                rows.append(data)
        return rows

    # -- 4: link ---------------------------------------------------------------------------------------------

    def _link(self, rows: list[RowData]) -> None:
        actions = self.reg.actions()
        updates = self.reg.updates()
        corpus = [a.activity for a in actions] + [u.activity_as_reported for u in updates] + [r.activity for r in rows]
        cfg = self.settings.section("linking")
        linker = Linker(self.settings.linking, Similarity(cfg.get("generic_words", []), corpus,
                                                          float(cfg.get("chars_baseline", 0.4))))
        candidates: dict[str, Candidate] = {}
        for a in actions:
            candidates[a.id] = Candidate(a.id, a.key_area, a.start, [a.activity], set())
        for u in updates:
            cand = candidates.get(u.action_id)
            if cand is not None:
                cand.cycles.add(u.cycle)
                if u.activity_as_reported and u.activity_as_reported not in cand.wordings:
                    cand.wordings.append(u.activity_as_reported)
        self.ids = _IdMaker(self.reg, self.settings)
        by_file: dict[str, list[RowData]] = {}
        for row in rows:
            by_file.setdefault(row.table.sha256, []).append(row)
        pairs: list[tuple[RowData, str, float]] = []
        for sha, file_rows in by_file.items():  # files in cycle order: oldest first
            evidence, pending = [], []
            for i, row in enumerate(file_rows):
                cand = candidates.get(row.printed_id) if row.printed_id else None
                if cand is not None and cand.origin != sha:
                    row.link = Link(cand.id, "link-by-id", 1.0)
                    continue
                evidence.append(RowEvidence(i, row.key_area, row.start, row.activity, set(row.cycles), sha))
                pending.append(i)
            taken = {r.link.action_id for r in file_rows if r.link}
            links, doubts = linker.link(evidence, [c for c in candidates.values() if c.id not in taken])
            for i in pending:
                row = file_rows[i]
                if i in links:
                    row.link = links[i]
                else:
                    pairs.extend((row, d.action_id, d.score) for d in doubts.get(i, []))
            for row in file_rows:
                if row.link is not None:
                    row.action_id = row.link.action_id
                    cand = candidates[row.action_id]
                    cand.wordings.append(row.activity)
                    cand.cycles |= set(row.cycles)
                else:
                    row.action_id = self.ids.new(row.key_area)
                    candidates[row.action_id] = Candidate(row.action_id, row.key_area, row.start, [row.activity],
                                                          set(row.cycles), origin=sha)
        self.link_flags = _doubt_owners(pairs, candidates)

    # -- 5: write --------------------------------------------------------------------------------------------

    def _write(self, rows: list[RowData], assembled: list[tuple[SourceTable, Assembled, str, dict[str, bool]]]) -> ImportResult:
        reg = self.reg
        existing_actions = {a.id: a for a in reg.actions()}
        latest_seq: dict[str, int] = {}
        cycles_known = {c.label: c for c in reg.cycles()}
        for u in reg.updates():
            seq = cycles_known[u.cycle].seq
            latest_seq[u.action_id] = max(latest_seq.get(u.action_id, 0), seq)
        actions: dict[str, Action] = {}
        new_cycles: dict[str, Cycle] = {}
        seqs = [c.seq for c in cycles_known.values()]
        reported = {c for row in rows for c in row.cycles}
        for _, _, _main, layout_cycles in assembled:
            for label in sorted(layout_cycles, key=cycle_seq):
                if label in reported and label not in cycles_known and label not in new_cycles:
                    seq = cycle_seq(label, seqs)
                    seqs.append(seq)
                    new_cycles[label] = Cycle(label=label, seq=seq, state="closed")
        seq_of = {**{k: v.seq for k, v in cycles_known.items()}, **{k: v.seq for k, v in new_cycles.items()}}
        recorded_at = now_iso()
        counts = self._empty_counts(assembled)
        title_change = self._title_change(assembled)
        summary = self._summary(rows)
        with reg.batch("import", command=self.command, files=[str(t.path) for t, *_ in assembled],
                       summary=summary) as b:
            if title_change:
                b.put("plan", {"id": 1, "title": title_change})
            for c in new_cycles.values():
                b.put("cycles", cycle_row(c))
            for row in rows:
                self._put_row(b, row, existing_actions, actions, latest_seq, seq_of, recorded_at, counts)
            for owner, (cycle, doubts) in sorted(self.link_flags.items()):
                self._flag_existing(b, owner, cycle, doubts, counts)
            self.counts.update(counts)
            changed = b.changes > 0
            report_file = self._write_report_file(b.id if changed else None)
        self.counts["batch"] = b.id if changed else None
        return ImportResult(self.report, b.id if changed else None, changed, self.counts, report_file)

    def _put_row(self, b: Any, row: RowData, existing: dict[str, Action], actions: dict[str, Action],
                 latest_seq: dict[str, int], seq_of: dict[str, int], recorded_at: str, counts: dict[str, Any]) -> None:
        name = row.table.path.name
        # cycles for which the register already holds this action's update from another file: kept as they are
        kept = {c: u for c in row.cycles if (u := self.reg.update(row.action_id, c)) is not None
                and u.source.sha256 != row.table.sha256}
        current = actions.get(row.action_id) or existing.get(row.action_id)
        row_seq = seq_of[row.main_cycle]
        if current is not None and row.main_cycle in kept:
            pass  # another file already reported this action for this cycle: the action stays as it is
        elif current is None or row_seq >= latest_seq.get(row.action_id, 0):
            current = Action(
                id=row.action_id, key_area=row.key_area, activity=row.activity,
                leads=row.leads or (current.leads if current else ()),
                start=row.start or (current.start if current else None),
                finish=row.finish or (current.finish if current else None),
                state=current.state if current else "active", keep=current.keep if current else False)
            latest_seq[row.action_id] = row_seq
        else:  # an older paper: it only fills what the later one left empty
            current = Action(id=current.id, key_area=current.key_area, activity=current.activity,
                             leads=current.leads or row.leads, start=current.start or row.start,
                             finish=current.finish or row.finish, state=current.state, keep=current.keep)
        actions[row.action_id] = current
        b.put("actions", action_row(current))
        title = current.title
        where = row.where
        link_code = row.link.code if row.link else "action-new"
        doubt = self.link_flags.get(row.action_id)
        doubts = doubt[1] if doubt and doubt[0] == row.main_cycle and row.link is None else []
        if doubts:
            link_code = "link-doubtful"
            self.link_flags.pop(row.action_id)
        counts["links"][link_code] = counts["links"].get(link_code, 0) + 1
        per_file = counts["by_file"][name]["links"]
        per_file[link_code] = per_file.get(link_code, 0) + 1
        self._row_findings(row, link_code, title)
        flags = [f for f in row.flags if f.cycle not in kept]
        if doubts and row.main_cycle not in kept:
            flags.append(_link_flag(row.action_id, row.main_cycle, row.activity, doubts))
        flagged_cycles = {f.cycle for f in flags if f.field == "status"}
        for cycle, data in sorted(row.cycles.items(), key=lambda kv: seq_of[kv[0]]):
            update = Update(
                action_id=row.action_id, cycle=cycle, status=data.status, status_raw=data.status_raw,
                progress=data.progress, revised_finish=data.revised_finish,
                needs_review=any(f.cycle == cycle for f in flags),
                activity_as_reported=row.activity, leads_as_reported=row.leads,
                source=Provenance(file=name, sha256=row.table.sha256, where=where, recorded_at=recorded_at,
                                  batch=b.id))
            before = kept.get(cycle)
            if before is not None:
                same = (before.status, before.progress) == (update.status, update.progress)
                self.report.add("update-already-recorded" if same else "update-differs",
                                f"{cycle}: the register already holds this action's update from "
                                f"{before.source.file} ({before.source.where}); it was kept."
                                + ("" if same else f" This file says: status {data.status_raw!r}, progress "
                                   f"{data.progress[:300]!r}."),
                                file=name, where=where, action_id=row.action_id, action_title=title)
                continue
            b.put("updates", update_row(update))
            c = counts["cycles"].setdefault(cycle, {"actions": 0, "statuses": {}, "flagged": 0, "repaired": 0})
            c["actions"] += 1
            if data.status is not None:
                label = self._label(data.status)
                c["statuses"][label] = c["statuses"].get(label, 0) + 1
            c["flagged"] += int(cycle in flagged_cycles)
            c["repaired"] += int(data.repaired)
        for f in flags:
            flag = Flag(id=b.new_flag_id(), action_id=row.action_id, cycle=f.cycle, field=f.field, code=f.code,
                        raw=f.raw, message=f.message, candidates=f.candidates)
            b.put("flags", flag_row(flag))
            counts["flags"] += 1
            at = located(where, f.field.replace("_", " "), f.positions)
            detail = {**at.pop("detail", {}), "flag": flag.id, "cycle": f.cycle, "candidates": list(f.candidates)}
            self.report.add(f.code, f"Flag {flag.id}: {f.message}", file=name, value=f.raw,
                            action_id=row.action_id, action_title=title, detail=detail, **at)

    def _flag_existing(self, b: Any, action_id: str, cycle: str, doubts: list[tuple[str, float]],
                       counts: dict[str, Any]) -> None:
        """A doubtful link whose later side is an action already in the register: flag that action's update."""
        action = self.reg.action(action_id)
        update = self.reg.update(action_id, cycle)
        if update is not None:
            b.put("updates", {"action_id": action_id, "cycle": cycle, "needs_review": 1})
        pending = _link_flag(action_id, cycle, action.activity, doubts)
        flag = Flag(id=b.new_flag_id(), action_id=action_id, cycle=cycle, field="link", code=pending.code,
                    raw=pending.raw, message=pending.message, candidates=pending.candidates)
        b.put("flags", flag_row(flag))
        counts["flags"] += 1
        counts["links"]["link-doubtful"] = counts["links"].get("link-doubtful", 0) + 1
        src = update.source if update else None
        self.report.add("link-doubtful", f"Flag {flag.id}: {pending.message}", file=src.file if src else None,
                        where=src.where if src else None, value=action.activity, action_id=action_id,
                        action_title=action.title, detail={"flag": flag.id, "cycle": cycle,
                                                           "candidates": list(pending.candidates)})

    def _row_findings(self, row: RowData, link_code: str, title: str) -> None:
        name = row.table.path.name
        for note in row.parsed.notes:
            self._note(row.table, note, action_id=row.action_id, action_title=title)
        for f in row.findings:
            self.report.add(f.code, f.message, file=name, value=f.value, action_id=row.action_id,
                            action_title=title, **located(row.where, f.field, f.positions))
        if link_code == "action-new":
            self.report.add("action-new", f"No earlier action matches: created as new action {row.action_id}.",
                            file=name, where=row.where, action_id=row.action_id, action_title=title)
        elif link_code != "link-doubtful" and row.link is not None:
            self.report.add(link_code, f"Linked to {row.action_id} (similarity {row.link.score:.2f}).",
                            file=name, where=row.where, action_id=row.action_id, action_title=title,
                            detail={"score": row.link.score})

    def _label(self, key: str | None) -> str:
        status = self.settings.vocabulary.by_key(key)
        return status.label if status else "(flagged)"

    def _empty_counts(self, assembled: list[tuple[SourceTable, Assembled, str, dict[str, bool]]]) -> dict[str, Any]:
        by_file = {t.path.name: {"cycle": main, "form": t.form, "rows": len(got.rows), "links": {}}
                   for t, got, main, _ in assembled}
        return {"rows": sum(len(a[1].rows) for a in assembled), "links": {}, "flags": 0, "cycles": {},
                "by_file": by_file}

    def _title_change(self, assembled: list[tuple[SourceTable, Assembled, str, dict[str, bool]]]) -> str | None:
        plan = self.reg.plan()
        default = self.settings.plan.get("default_title")
        title = next((a[1].title for a in assembled if a[1].title), None)
        if plan is None or title is None or plan.title == title or plan.title != default:
            return None
        self.report.add("plan-titled", f"The plan's title was set from the appendix: {title!r}.",
                        file=next(a[0].path.name for a in assembled if a[1].title))
        return title

    def _summary(self, rows: list[RowData]) -> str:
        files = sorted({r.table.path.name for r in rows})
        return f"import of {', '.join(files)}: {len(rows)} rows"

    def _write_report_file(self, batch_id: int | None) -> Path:
        from .report import write_report

        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        name = str(self.settings.section("report").get("file_name", "import-{timestamp}.xlsx")).format(timestamp=stamp)
        path = self.paths.reports / name
        n = 1
        while path.exists():
            n += 1
            path = path.with_name(f"{Path(name).stem}-{n}{Path(name).suffix}")
        return write_report(path, self.report, self.counts, self.settings, batch_id)

    def _write_report_only(self) -> Path | None:
        if not self.paths.root.is_dir():
            return None
        return self._write_report_file(None)


def located(row_where: str, field: str, positions: Sequence[str]) -> dict[str, Any]:
    """Finding fields that point at the cell(s) a value came from, so a reviewer can check it on the paper.

    A workbook's cell is ``sheet`` + ``cell`` (A1; ``where`` names any further cell of a stitched row); a
    PDF's or text's is ``where``: the row, then the cell ("page 3, row 5; status cell page 3 (x 34-90, y
    120-180 pt from top left)"). ``detail`` keeps row_where and cell_where for the import report's columns.
    Without positions (a reader that gives none) it is the row's where alone."""
    if not positions:
        return {"where": row_where}
    detail = {"row_where": row_where, "cell_where": list(positions)}
    cells = [c for c in map(sheet_cell, positions) if c is not None]
    if len(cells) == len(positions):  # every position is a workbook cell
        sheet, cell = cells[0]
        others = [c if s == sheet else workbook_where(s, c) for s, c in cells[1:]]
        return {"sheet": sheet, "cell": cell, "where": "also " + ", ".join(others) if others else None,
                "detail": detail}
    label = f"{field or 'the'} cell{'s' if len(positions) > 1 else ''}"
    # "line 11; status cell column 6": a text's position repeats the row, said once when there is one row
    shown = [p.removeprefix(row_where + ", ") for p in positions]
    return {"where": f"{row_where}; {label} {' + '.join(shown)}", "detail": detail}


def _doubt_owners(pairs: list[tuple[RowData, str, float]], candidates: dict[str, Candidate]
                  ) -> dict[str, tuple[str, list[tuple[str, float]]]]:
    """Each doubtful pair is asked about on its later action (whichever paper came first), with up to three
    candidates, best first: {action id: (its cycle, [(candidate id, score)])}."""
    owners: dict[str, tuple[str, list[tuple[str, float]]]] = {}
    for row, cand_id, score in pairs:
        cand_cycles = sorted(candidates[cand_id].cycles, key=cycle_seq)
        if not cand_cycles or cycle_seq(row.main_cycle) >= cycle_seq(cand_cycles[-1]):
            owner, other, cycle = row.action_id, cand_id, row.main_cycle
        else:
            owner, other, cycle = cand_id, row.action_id, cand_cycles[-1]
        owners.setdefault(owner, (cycle, []))[1].append((other, score))
    return {k: (c, sorted(v, key=lambda x: (-x[1], x[0]))[:3]) for k, (c, v) in owners.items()}


def _link_flag(action_id: str, cycle: str, activity: str, doubts: list[tuple[str, float]]) -> PendingFlag:
    cands = tuple(f"{aid} ({score:.2f})" for aid, score in doubts)
    return PendingFlag(cycle, "link", "link-doubtful", activity,
                       f"{action_id} may be the same action as " + ", ".join(cands) + " (similar wording in the same "
                       "key area, but not strong evidence), so it was kept as a separate action. Settle with an "
                       "action ID to merge the two into that action, or with \"new\" to keep them separate.", cands)


def _cycles_of(layouts: list[Layout], main: str) -> dict[str, bool]:
    """Every cycle the columns report on, and whether it has a status column (else: notes only)."""
    out: dict[str, bool] = {}
    for lay in layouts:
        for f in lay.fields:
            if f and f[0] in ("status", "progress", "revised_finish"):
                c = f[1] or main
                out[c] = out.get(c, False) or f[0] == "status"
    out.setdefault(main, False)
    return out


def _cycle_label(text: str) -> str:
    from .columns import cycle_label

    month = Month.parse(text)
    return cycle_label(month) if month else " ".join(text.split())


class _IdMaker:
    """New stable action IDs: the next number for the key area after the highest ever used (never reused)."""

    def __init__(self, reg: Register, settings: ImportSettings) -> None:
        self.areas: dict[str, int] = {}
        self.ids = ActionIds(settings.action_id_format, reg.action_ids_ever_used())
        for a in reg.actions():
            parsed = self.ids.parse(a.id)
            if parsed:
                self.areas.setdefault(fold(a.key_area).replace(" ", ""), parsed[0])

    def new(self, key_area: str) -> str:
        area = key_area_number(key_area)
        if area is None:
            folded = fold(key_area).replace(" ", "")
            area = self.areas.get(folded)
            if area is None:
                area = max([0, *self.ids.areas, *self.areas.values()]) + 1
                self.areas[folded] = area
        return self.ids.new(area)

