"""The checks on one returned file: who it is from, where its data is, and what is wrong, cell by cell.

Identity comes from the signed manifest (which plan, cycle and lead; does the signature hold; is it the copy
that was issued); the update sheet is found by the manifest and the action IDs (never by position or name);
rows are matched by action ID and each is checked against what the register says was issued (the
workbook itself is untrusted). Every problem is a Finding naming the file, sheet, cell, action and what to
do; one bad cell never stops the check, and nothing here raises on bad data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..findings import ERROR, Finding
from ..manifest import MAGIC, MANIFEST_SHEET, Manifest, from_cells, plan_id, verify
from ..model import Action, Month
from ..sheets import limits
from ..sheets.cells import a1, column_number
from ..sheets.reader import ReadResult, Sheet, file_bytes, read_bytes, sheet_grid
from ..sheets.values import cell_text, locked_text, month_of, plausible, value_text
from ..text import clip, normalise
from .facts import PlanFacts
from .results import ReturnCheck, RowUpdate

INPUTS = ("new_status", "new_progress", "revised_finish", "comment")


def check_file(facts: PlanFacts, path: Path, *, sender: str | None = None) -> ReturnCheck:
    """Validate one file on disk (never raises on bad data)."""
    return check_bytes(facts, Path(path), file_bytes(Path(path)), sender=sender)


def check_bytes(facts: PlanFacts, path: Path, data: bytes | ReadResult, *, sender: str | None = None) -> ReturnCheck:
    """Validate the bytes read once from ``path`` (or the refusal to read them: a ``ReadResult``)."""
    read = data if isinstance(data, ReadResult) else read_bytes(data, path.name, path=path)
    check = ReturnCheck(path, read, list(read.findings), mtime=file_mtime(path), bytes_read=bool(read.data),
                        format=read.book.format if read.book else None)
    if not read.ok:
        check.rejected = True
        return check
    _Checker(facts, check, sender).run()
    return check


def file_mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


class _Checker:
    """The checks on one readable file, in order; stops early only when the file's identity fails."""

    def __init__(self, facts: PlanFacts, check: ReturnCheck, sender: str | None) -> None:
        self.facts, self.check, self.sender = facts, check, sender
        self.book = check.read.book
        assert self.book is not None
        self.name = check.name

    def add(self, code: str, message: str, **where: Any) -> Finding:
        f = Finding(code, message, file=self.name, **where)
        self.check.findings.append(f)
        return f

    def reject(self, code: str, message: str, **where: Any) -> None:
        self.add(code, message, **where)
        self.check.rejected = True

    def run(self) -> None:
        manifest = self.identity()
        if manifest is None:
            return
        sheet = self.find_sheet(manifest)
        if sheet is None:
            return
        self.read_rows(manifest, sheet)

    # -- identity ---------------------------------------------------------------------------------------

    def identity(self) -> Manifest | None:
        facts = self.facts
        sheet = self._manifest_sheet()
        if sheet is None:
            self.reject("manifest-missing", f"{self.name} has no hwbs-xl manifest (the hidden sheet "
                        f"'{MANIFEST_SHEET}'). It is not a workbook hwbs-xl issued, or the sheet was deleted (copying the "
                        "rows into a new workbook does this). Ask the lead to type their update into the workbook they "
                        "were sent, or issue a new one: hwbs-xl generate --lead \"LEAD\".")
            return None
        try:
            manifest = from_cells(sheet_grid(sheet))
        except ValueError as exc:
            self.reject("manifest-unreadable", f"{self.name}: {exc}", sheet=sheet.name)
            return None
        self.check.manifest = manifest
        claims = f"it says it is for {manifest.lead!r}, cycle {manifest.cycle!r}"
        if facts.key is None or manifest.plan_id != plan_id(facts.key):
            self.reject("workbook-other-plan", f"{self.name} was issued by another plan ({manifest.plan_title!r}; "
                        f"{claims}). Nothing was taken. Check that it was sent to the right coordinator, or run the "
                        "command with --plan pointing at that plan's folder.", sheet=sheet.name)
            return None
        if not verify(manifest, facts.key):
            self.reject("manifest-signature-invalid", f"{self.name}: the manifest's signature does not hold, so the "
                        f"hidden manifest was edited or forged ({claims}). Nothing was taken. Issue the lead a fresh "
                        "workbook (hwbs-xl generate --lead ...) and ask them to type their update into it.",
                        sheet=sheet.name)
            return None
        self.check.cycle, self.check.lead = manifest.cycle, manifest.lead
        if facts.cycle is None or manifest.cycle != facts.cycle.label:
            now = f"the open cycle is {facts.cycle.label!r}" if facts.cycle else "no cycle is open"
            self.reject("workbook-old-cycle", f"{self.name} was issued for the cycle {manifest.cycle!r} but {now}. "
                        f"Nothing was taken. Send {manifest.lead} the workbook for the open cycle (in "
                        f"{facts.paths.issued(facts.cycle.label) if facts.cycle else 'issued/'}).", sheet=sheet.name)
            return None
        issued = facts.issued.get(manifest.lead)
        if issued is None:
            self.reject("workbook-not-issued", f"{self.name} names the lead {manifest.lead!r}, but no workbook was "
                        f"issued to that lead for {manifest.cycle}. Nothing was taken.", sheet=sheet.name)
            return None
        record, _ = facts.record(manifest.lead)
        if record.signature != manifest.signature:
            self.reject("workbook-not-issued", f"{self.name} is an earlier copy of {manifest.lead}'s workbook "
                        f"(made {manifest.generated_at}); a newer one was issued on {record.generated_at}. Nothing was "
                        "taken. Ask the lead to type their update into the newer workbook.", sheet=sheet.name)
            return None
        self.check.issued_ids = tuple(r.action_id for r in record.rows)
        if not self._sender_matches(manifest):
            return None
        return record  # the register's copy: identical (same signature), and never the workbook's word

    def _manifest_sheet(self) -> Sheet | None:
        assert self.book is not None
        sheet = self.book.sheet(MANIFEST_SHEET)
        if sheet is not None:
            return sheet
        for s in self.book.sheets:  # renamed: find it by its first cell
            if normalise(value_text(s.value(1, 1))) == MAGIC:
                return s
        return None

    def _sender_matches(self, manifest: Manifest) -> bool:
        """A copy returned by someone else: the coordinator says who sent it (--from), or the file is named
        after (or filed in a folder named after) another lead's workbook."""
        sender = self.sender or self._sender_from_names(manifest.lead)
        if sender is None or " ".join(sender.split()).casefold() == manifest.lead.casefold():
            return True
        self.reject("workbook-lead-mismatch", f"{self.name} came from {sender!r} but it is {manifest.lead!r}'s "
                    f"workbook (its manifest says so). Nothing was taken. If {sender} updated {manifest.lead}'s "
                    "actions on purpose, check with both, then merge it without --from (or rename the file); otherwise "
                    f"send {sender} their own workbook.")
        return False

    def _sender_from_names(self, lead: str) -> str | None:
        """The other lead whose issued workbook name the file (or its folder) carries, first in issue order;
        else the lead a folder is named after."""
        facts = self.facts
        names = [self.check.path.stem.casefold(), self.check.path.parent.name.casefold()]
        own = facts.own_stems.get(lead)
        first: str | None = None
        for name in names:
            if own is not None and own in name:  # the lead's own workbook name: whatever else it holds
                continue
            other = next((s for s in facts.stems_in(name) if facts.stems[s] != lead), None)
            if other is not None and (first is None or facts.stem_order[other] < facts.stem_order[first]):
                first = other
        if first is not None:
            return facts.stems[first]
        return facts.leads_by_slug.get(names[1])

    # -- the update sheet ----------------------------------------------------------------------------------

    def find_sheet(self, manifest: Manifest) -> Sheet | None:
        """The sheet holding most of the issued action IDs in the ID column (whatever it is called now)."""
        assert self.book is not None
        wanted = {i.upper() for i in self.check.issued_ids}
        id_col = column_number(manifest.columns.get("action_id", "A"))
        best: tuple[int, int, Sheet] | None = None
        for s in self.book.sheets:
            if s.name == MANIFEST_SHEET or normalise(value_text(s.value(1, 1))) == MAGIC:
                continue
            for col in sorted({id_col, *range(1, min(s.last_col, 60) + 1)}, key=lambda c: c != id_col):
                hits = sum(1 for r in range(1, s.last_row + 1) if _id(s.value(r, col)) in wanted)
                if hits and (best is None or (hits, s.name == manifest.sheet) > (best[0], best[2].name == manifest.sheet)):
                    best = (hits, col, s)
                if hits and col == id_col:
                    break
        if best is None:
            self.reject("sheet-missing", f"{self.name}: no sheet holds the action IDs issued to {manifest.lead} "
                        f"(expected on sheet '{manifest.sheet}', column {manifest.columns.get('action_id', 'A')}). "
                        "Nothing was taken. Ask the lead to return the workbook they were sent, with its rows.")
            return None
        hits, col, sheet = best
        self.shift = col - id_col  # a column inserted before the ID column moves every column alike
        self.check.sheet = sheet.name
        if sheet.name != manifest.sheet or sheet.index != self._issued_index():
            self.add("sheet-renamed", f"The update sheet was found as '{sheet.name}' (issued as '{manifest.sheet}'); "
                     "it was recognised by its action IDs. Nothing to do.", sheet=sheet.name)
        issued_names = {MANIFEST_SHEET, manifest.sheet, *self._issued_sheet_names()}
        extra = [s.name for s in self.book.sheets if s.name not in issued_names and s is not sheet]
        if extra:
            self.add("sheets-extra-ignored", f"Sheets hwbs-xl did not issue were ignored: {', '.join(extra)}.",
                     detail={"sheets": extra})
        if sheet.protected is False:
            self.add("protection-removed", "Sheet protection was switched off on the update sheet. That is fine: every "
                     "locked value is compared with what was issued.", sheet=sheet.name)
        if self._unknown_ids(sheet, col, wanted) > hits:
            self.reject("workbook-identity-mismatch", f"{self.name}: most rows on '{sheet.name}' are actions that "
                        f"were not issued to {manifest.lead} (only {hits} of {len(wanted)} issued IDs found): the "
                        "manifest was copied from another workbook, or another lead's rows were pasted in. Nothing was "
                        "taken. Ask the lead to return the workbook they were sent.", sheet=sheet.name)
            return None
        return sheet

    def _issued_index(self) -> int:
        return 1 if "instructions" in self.facts.layout.get("sheets", {}) else 0

    def _issued_sheet_names(self) -> list[str]:
        return [str(v) for v in self.facts.layout.get("sheets", {}).values()]

    def _unknown_ids(self, sheet: Sheet, col: int, wanted: set[str]) -> int:
        known = self.facts.action_ids
        return sum(1 for r in range(1, sheet.last_row + 1)
                   if (i := _id(sheet.value(r, col))) and i not in wanted and i in known)

    # -- rows -----------------------------------------------------------------------------------------------

    def read_rows(self, manifest: Manifest, sheet: Sheet) -> None:
        cols = {k: column_number(v) + self.shift for k, v in manifest.columns.items()}
        id_col = cols.get("action_id", 1)
        issued_rows = {r.action_id.upper(): r for r in manifest.rows}
        issued_values = self._issued_values(manifest.lead)
        seen: dict[str, list[int]] = {}
        for row in range(manifest.header_row + 1, max(sheet.last_row, manifest.header_row) + 1):
            ident = _id(sheet.value(row, id_col))
            if ident in issued_rows:
                seen.setdefault(ident, []).append(row)
            elif ident or self._has_input(sheet, row, cols):
                self._unknown_row(sheet, row, id_col, ident, cols, issued_rows, issued_values)
        moved = False
        for ident, rows in seen.items():
            mrow = issued_rows[ident]
            action = self.facts.actions.get(mrow.action_id)
            title = action.title if action else ""
            if len(rows) > 1:
                cells = ", ".join(a1(r, id_col) for r in rows)
                self.add("id-duplicate", f"The action ID {mrow.action_id} appears on {len(rows)} rows ({cells}); none "
                         "of them was taken. Delete the extra rows, keep one update per action, and send it again.",
                         sheet=sheet.name, cell=a1(rows[0], id_col), action_id=mrow.action_id, action_title=title)
                self.check.rows.append(RowUpdate(mrow.action_id, title, rows[0], f"'{sheet.name}'!{a1(rows[0], id_col)}",
                                                 blocked=True))
                continue
            moved |= rows[0] != mrow.row
            self.check.rows.append(self._row(sheet, rows[0], cols, mrow.action_id, action,
                                             issued_values.get(mrow.action_id, {})))
        resolved = {r.action_id.upper() for r in self.check.rows}
        for mrow in manifest.rows:
            if mrow.action_id.upper() not in seen and mrow.action_id.upper() not in resolved:
                action = self.facts.actions.get(mrow.action_id)
                self.add("row-missing", f"The row for action {mrow.action_id} (issued on row {mrow.row}) is not in the "
                         "returned sheet, so nothing was taken for it. Ask the lead to restore the row (or send the "
                         "update for it another way).", sheet=sheet.name, action_id=mrow.action_id,
                         action_title=action.title if action else None)
        if self.check.rows and not any(r.answered for r in self.check.rows):
            self.add("return-empty", f"{self.name} came back with no update typed in for any of its "
                     f"{len(self.check.rows)} action(s). Ask {manifest.lead} to fill in the yellow columns and send it "
                     "again.", sheet=sheet.name)
        if moved:
            self.add("rows-reordered", "Rows were sorted, moved, inserted or deleted; each was matched by its action ID. "
                     "Nothing to do.", sheet=sheet.name)

    def _issued_values(self, lead: str) -> dict[str, dict[str, str]]:
        return self.facts.record(lead)[1]

    def _has_input(self, sheet: Sheet, row: int, cols: dict[str, int]) -> bool:
        return any(cell_text(sheet, row, cols[k]).text for k in INPUTS if k in cols)

    def _unknown_row(self, sheet: Sheet, row: int, id_col: int, ident: str, cols: dict[str, int],
                     issued_rows: dict[str, Any], issued_values: dict[str, dict[str, str]]) -> None:
        action = self.facts.actions.get(self.facts.action_ids.get(ident, ""))
        cell = a1(row, id_col)
        if not ident:
            self.add("row-unknown-id", f"Row {row} has an update typed in but no action ID; it was not taken. Type the "
                     "update on the row of the action it is about.", sheet=sheet.name, cell=cell)
            return
        changed_from = self._id_changed_from(sheet, row, cols, issued_values)
        if changed_from is not None:
            a = self.facts.actions.get(changed_from)
            self.add("id-changed", f"The action ID in {cell} was changed from {changed_from} to {ident}; the row was "
                     f"recognised by its other locked cells but not taken. Put the ID back to {changed_from} and send "
                     "it again.", sheet=sheet.name, cell=cell, action_id=changed_from,
                     action_title=a.title if a else None, value=ident,
                     detail={"issued": changed_from, "returned": ident})
            self.check.rows.append(RowUpdate(changed_from, a.title if a else "", row, f"'{sheet.name}'!{cell}",
                                             blocked=True))
            return
        whose = f"; it belongs to {', '.join(action.leads)}'s workbook" if action else ""
        self.add("row-unknown-id", f"Row {row} has the action ID {ident!r}, which was not issued in this workbook"
                 f"{whose}. The row was not taken. If it is meant to be here, ask the coordinator.",
                 sheet=sheet.name, cell=cell, action_id=action.id if action else None,
                 action_title=action.title if action else None, value=ident)

    def _id_changed_from(self, sheet: Sheet, row: int, cols: dict[str, int],
                         issued_values: dict[str, dict[str, str]]) -> str | None:
        """The issued action whose other locked cells this row still holds exactly (its ID edited)."""
        seen_ids = {_id(sheet.value(r, cols.get("action_id", 1))) for r in range(1, sheet.last_row + 1)}
        for action_id, values in issued_values.items():
            if action_id.upper() in seen_ids:
                continue
            others = {k: v for k, v in values.items() if k != "action_id" and v}
            if others and all(self._locked_text(sheet, row, cols[k], k) == v for k, v in others.items() if k in cols):
                return action_id
        return None

    def _locked_text(self, sheet: Sheet, row: int, col: int, key: str) -> str:
        assert self.book is not None
        return locked_text(sheet, row, col, key, self.book.date1904)

    def _row(self, sheet: Sheet, row: int, cols: dict[str, int], action_id: str, action: Action | None,
             issued: dict[str, str]) -> RowUpdate:
        title = action.title if action else ""
        status_col = cols.get("new_status", cols.get("action_id", 1))
        first_finding = len(self.check.findings)
        upd = RowUpdate(action_id, title, row, f"'{sheet.name}'!{a1(row, status_col)}")
        at = {"sheet": sheet.name, "action_id": action_id, "action_title": title or None}
        for key, value in issued.items():
            if key in cols:
                returned = self._locked_text(sheet, row, cols[key], key)
                if returned != normalise(value):
                    self.add("locked-value-changed", f"Cell {a1(row, cols[key])} ({_field_name(key)}) was issued as "
                             f"{_quote(value)} and came back as {_quote(returned)}. The register keeps the issued value. "
                             "If the issued value is wrong, say so in the comment column instead of editing it.",
                             cell=a1(row, cols[key]), value=returned,
                             detail={"field": key, "issued": value, "returned": returned}, **at)
        texts = {k: self._input_text(sheet, row, cols[k], k, at) for k in ("new_status", "new_progress", "comment")
                 if k in cols}
        upd.status_raw = texts.get("new_status", "")
        upd.progress = texts.get("new_progress", "")
        upd.comment = texts.get("comment", "")
        if "revised_finish" in cols:
            upd.revised_finish = self._revised(sheet, row, cols["revised_finish"], action, upd, at)
        self._status(upd, row, cols, action, at)
        if action is not None and action.state == "retired" and upd.answered:
            self.add("action-retired", f"Action {action_id} was retired after this workbook was issued; the update "
                     f"was still taken and shows in the {self.check.cycle} appendix. To keep the action in the plan "
                     f"after this cycle: hwbs-xl action keep {action_id}", cell=a1(row, status_col), **at)
        upd.blocked = any(f.severity == ERROR for f in self.check.findings[first_finding:])
        if not upd.answered and not upd.blocked:
            self.add("row-not-updated", f"No update was typed for action {action_id}; nothing to take.",
                     cell=a1(row, status_col), **at)
        return upd

    def _input_text(self, sheet: Sheet, row: int, col: int, key: str, at: dict[str, Any]) -> str:
        got = cell_text(sheet, row, col)
        cell = a1(row, col)
        what = _field_name(key)
        merged = sheet.merged_range_at(row, col)
        if merged:
            self.add("merged-cells-in-input", f"Cell {cell} ({what}) is part of the merged range {merged}; the value "
                     "was read from its top-left cell. Please unmerge the cells.", cell=cell, **at)
        if "formula-in-text-cell" in got.notes:
            self.add("formula-in-text-cell", f"Cell {cell} ({what}) holds the formula {got.raw!r}; it was kept as that "
                     "text, not calculated. If you meant text, that is what was recorded; otherwise type the words.",
                     cell=cell, value=got.raw, **at)
        if "cell-error-value" in got.notes:
            self.add("cell-error-value", f"Cell {cell} ({what}) holds the spreadsheet error {got.raw}; it was kept as "
                     "text. Type the words you meant.", cell=cell, value=got.raw, **at)
        if "text-control-chars" in got.notes:
            self.add("text-control-chars", f"Cell {cell} ({what}) contains invisible control characters (often pasted "
                     "from Word); each was replaced by a visible marker. Check the text reads as you meant.",
                     cell=cell, **at)
        if len(got.text) > limits.MAX_TEXT:
            self.add("text-truncated", f"Cell {cell} ({what}) holds {len(got.text):,} characters, more than a "
                     f"spreadsheet cell can hold ({limits.MAX_TEXT:,}). It was not taken; the full text is kept in this "
                     "report. Please shorten it.", cell=cell, value=got.text, **at)
        elif key == "new_progress" and len(got.text) > self.facts.progress_max:
            self.add("progress-too-long", f"The progress report in {cell} is {len(got.text):,} characters; the appendix "
                     f"allows {self.facts.progress_max:,}. It was taken as written; please shorten it.", cell=cell, **at)
        return got.text

    def _revised(self, sheet: Sheet, row: int, col: int, action: Action | None, upd: RowUpdate,
                 at: dict[str, Any]) -> Month | None:
        assert self.book is not None
        cell = a1(row, col)
        value = sheet.value(row, col)
        if (row, col) in sheet.formulas or (row, col) in sheet.errors:
            raw = sheet.formulas.get((row, col)) or sheet.errors[(row, col)]
            self.add("date-unparseable", f"Cell {cell} (revised finish date) holds {raw!r}, not a date; it was not "
                     "taken. Type a date such as 31/03/2025, or leave it empty.", cell=cell, value=raw, **at)
            return None
        month, understood = month_of(value, self.book.date1904)
        before_start = month is not None and action is not None and action.start is not None and month < action.start
        if not understood or (month is not None and not before_start and not plausible(month)):
            raw = value_text(value)
            self.add("date-unparseable", f"Cell {cell} (revised finish date) holds {raw!r}, which is not a date hwbs-xl "
                     "can read for certain; it was not taken. Type a date such as 31/03/2025 (day first, with the "
                     "year), or leave it empty.", cell=cell, value=raw, **at)
            return None
        if before_start:
            assert month is not None and action is not None and action.start is not None
            self.add("date-before-start", f"The revised finish date in {cell} ({month.label}) is before the action "
                     f"started ({action.start.label}); it was not taken. Please correct it.", cell=cell,
                     value=month.iso, **at)
            return None
        return month

    def _status(self, upd: RowUpdate, row: int, cols: dict[str, int], action: Action | None, at: dict[str, Any]) -> None:
        vocab = self.facts.vocab
        cell = a1(row, cols["new_status"]) if "new_status" in cols else None
        if not upd.status_raw:
            if upd.progress or upd.revised_finish:
                self.add("status-missing", f"No status was chosen in {cell}, though a progress report was given. The "
                         "report was taken and the status is shown as awaiting review; please choose one from the list.",
                         cell=cell, **at)
                upd.needs_review = True
            return
        status = vocab.by_label(upd.status_raw)
        if status is None:
            allowed = "; ".join(vocab.labels)
            self.add("status-not-in-list", f"The status in {cell} is {upd.status_raw!r}, which is not one of the "
                     f"allowed values: {allowed}. The row was not taken; choose one from the drop-down list.",
                     cell=cell, value=upd.status_raw, detail={"allowed": vocab.labels}, **at)
            return
        upd.status = status.key
        month_now = Month.of(self.facts.today)
        date_cell = a1(row, cols["revised_finish"]) if "revised_finish" in cols else cell
        if status.retires and not status.needs_where and upd.revised_finish and upd.revised_finish > month_now:
            self.add("status-completed-future-date", f"Action {upd.action_id} is marked {status.label!r} but its "
                     f"revised finish date ({upd.revised_finish.label}) is in the future. Was it completed, or is the "
                     "date the plan? Please correct one of them.", cell=date_cell, **at)
        if status.needs_date and upd.revised_finish is None:
            self.add("status-delayed-no-date", f"Action {upd.action_id} is marked {status.label!r} but no revised "
                     f"finish date was given in {date_cell}. Please give the date it is now expected.",
                     cell=date_cell, **at)
        if status.needs_where and not upd.progress:
            self.add("status-incorporated-no-where", f"Action {upd.action_id} is marked {status.label!r}, but the "
                     "progress report does not say which piece of work it became part of. Please say where.",
                     cell=a1(row, cols["new_progress"]) if "new_progress" in cols else cell, **at)
        elif upd.progress == "" and not status.needs_where:
            self.add("progress-missing", f"Action {upd.action_id} has a status but no progress report. Please say what "
                     "has been achieved and what still needs to be achieved.",
                     cell=a1(row, cols["new_progress"]) if "new_progress" in cols else cell, **at)


# ---- helpers --------------------------------------------------------------------------------------------

def _id(value: object) -> str:
    return normalise(value_text(value)).upper() if value is not None else ""  # type: ignore[arg-type]


def _field_name(key: str) -> str:
    names = {"action_id": "action ID", "key_area": "key area", "activity": "project activity", "leads": "lead(s)",
             "start": "start", "finish": "finish", "new_status": "new status", "new_progress": "progress report",
             "revised_finish": "revised finish date", "comment": "comment"}
    if "@" in key:
        what, cycle = key.split("@", 1)
        return f"{'status' if what == 'status' else 'progress report'}, {cycle}"
    return names.get(key, key)


def _quote(text: str, limit: int = 80) -> str:
    shown = clip(text, limit)
    return repr(shown) if shown else "(empty)"


__all__ = ["check_file", "check_bytes", "file_mtime"]
