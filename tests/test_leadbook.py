"""Lead workbooks, read back with openpyxl: what is locked, what is offered, what is recorded.

Registers here are built with the batch API (``build_plan``), so these tests do not depend on the
appendix import; test_leadbook_barnet.py does the same checks on the real Barnet register.
"""

from __future__ import annotations

import csv
import email
import email.policy
import hashlib
import io
import json
from datetime import UTC, date, datetime
from pathlib import Path

import openpyxl
import pytest

from hwbs_xl import manifest as mf
from hwbs_xl import templates
from hwbs_xl.errors import NotFound, UsageProblem
from hwbs_xl.issue import generate as leadbook
from hwbs_xl.model import Action, Cycle, Month, Update
from hwbs_xl.paths import PlanPaths
from hwbs_xl.plan.cycle import open_cycle
from hwbs_xl.register import Register, action_row, cycle_row, update_row
from hwbs_xl.templates import status_list_source, vocabulary

from conftest import copy_plan

NOW = datetime(2024, 10, 1, 9, 30, tzinfo=UTC)
DUE = date(2024, 11, 15)
# Register text a spreadsheet would run as a formula if it were written carelessly.
HOSTILE = {
    "KA1-01": "=HYPERLINK(\"http://example.com\",\"click\")",
    "KA1-02": "+44 20 7946 0000 helpline set up",
    "KA2-01": "-10% waiting times; @SUM(A1:A3) is not a formula",
}


def build_plan(paths: PlanPaths, *, extra: list[tuple[Action, dict[str, Update]]] = ()) -> None:  # type: ignore[assignment]
    """A small register with two past cycles, written in one batch (as an import would)."""
    actions = [
        Action("KA1-01", "Key Area 1", HOSTILE["KA1-01"], ("Public Health Strategist",), Month(2022, 9), Month(2024, 3)),
        Action("KA1-02", "Key Area 1", "Become a dementia friendly borough",
               ("Public Health Strategist", "Engagement Officer"), Month(2021, 9), Month(2024, 3)),
        Action("KA1-03", "Key Area 1", "Drink Coach service", ("Engagement Officer",), Month(2022, 9), Month(2024, 8)),
        Action("KA2-01", "Key Area 2", "@Healthy high streets", ("Director of Public Health",), Month(2022, 9),
               Month(2023, 8)),
        Action("KA2-02", "Key Area 2", "Incorporated work", ("Director of Public Health",), Month(2022, 1),
               Month(2023, 12)),
    ]
    updates = {
        "KA1-01": {"April 2023": Update("KA1-01", "April 2023", "on_target", progress="Started.\nGoing well."),
                   "April 2024": Update("KA1-01", "April 2024", "delayed", progress=HOSTILE["KA1-02"],
                                        revised_finish=Month(2025, 3))},
        "KA1-02": {"April 2023": Update("KA1-02", "April 2023", "on_target", progress="12 venues £ accredited"),
                   "April 2024": Update("KA1-02", "April 2024", None, status_raw="by target date",
                                        progress="27 venues", needs_review=True)},
        "KA1-03": {"April 2024": Update("KA1-03", "April 2024", "completed", progress="Done.")},
        "KA2-01": {"April 2023": Update("KA2-01", "April 2023", "delayed", progress=HOSTILE["KA2-01"]),
                   "April 2024": Update("KA2-01", "April 2024", "on_target", progress="Caught up.")},
        "KA2-02": {"April 2024": Update("KA2-02", "April 2024", "incorporated", progress="Now part of the ICS plan.")},
    }
    with Register.open(paths) as reg, reg.batch("import", command="test build_plan") as b:
        b.put("cycles", cycle_row(Cycle("April 2023", 202304)))
        b.put("cycles", cycle_row(Cycle("April 2024", 202404)))
        for a in actions:
            b.put("actions", action_row(a))
            for u in updates[a.id].values():
                b.put("updates", update_row(u))
        for a, ups in extra:
            b.put("actions", action_row(a))
            for u in ups.values():
                b.put("updates", update_row(u))


def issue(paths: PlanPaths, **kw) -> leadbook.GenerateResult:  # type: ignore[no-untyped-def]
    """Build the small plan, open October 2024 and generate every workbook."""
    build_plan(paths)
    open_cycle(paths, "October 2024", DUE, command="test")
    return leadbook.generate(paths, now=NOW, example_contact=True, command="test generate", **kw)


def workbook_for(result: leadbook.GenerateResult, lead: str) -> Path:
    return next(w.path for w in result.workbooks if w.lead == lead)


def columns_of(ws) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Heading -> 1-based column of the Update sheet's header row."""
    return {c.value: c.column for c in ws[mf.HEADER_ROW] if c.value}


def manifest_of(path: Path) -> mf.Manifest:
    wb = openpyxl.load_workbook(path)
    return mf.from_cells([list(r) for r in wb[mf.MANIFEST_SHEET].iter_rows(values_only=True)])


@pytest.fixture
def issued(plan_paths: PlanPaths) -> leadbook.GenerateResult:
    return issue(plan_paths, drafts=True)


# ---- who gets what ------------------------------------------------------------------------------------

def test_one_workbook_per_lead_and_shared_actions_go_to_each_lead(issued: leadbook.GenerateResult) -> None:
    by_lead = {w.lead: w.actions for w in issued.workbooks}
    # KA1-03 (Completed) and KA2-02 (Incorporated) retired when October 2024 opened.
    assert by_lead == {"Director of Public Health": ("KA2-01",),
                       "Engagement Officer": ("KA1-02",),
                       "Public Health Strategist": ("KA1-01", "KA1-02")}
    for w in issued.workbooks:
        assert w.path.parent == issued.out_dir and w.path.suffix == ".xlsx"
        assert hashlib.sha256(w.path.read_bytes()).hexdigest() == w.sha256
        rows = [m.action_id for m in manifest_of(w.path).rows]
        assert rows == list(w.actions)


def test_update_sheet_history_is_locked_and_equals_the_register(issued: leadbook.GenerateResult,
                                                                plan_paths: PlanPaths) -> None:
    vocab = vocabulary(plan_paths.root)
    path = workbook_for(issued, "Public Health Strategist")
    wb = openpyxl.load_workbook(path)
    ws = wb["Update"]
    cols = columns_of(ws)
    assert ws.protection.sheet
    with Register.open(plan_paths) as reg:
        for n, action_id in enumerate(["KA1-01", "KA1-02"]):
            r = mf.HEADER_ROW + 1 + n
            a = reg.action(action_id)
            expect = {"Action ID": a.id, "Key area": a.key_area, "Project activity": a.activity,
                      "Lead(s)": "; ".join(a.leads)}
            for cyc in ("April 2023", "April 2024"):
                u = reg.update(action_id, cyc)
                status = vocab.by_key(u.status)
                not_confirmed = templates.read_settings("workbook.toml")["history"]["status_not_confirmed"]
                expect[f"Status, {cyc}"] = status.label if status else not_confirmed  # never the raw fragment
                expect[f"Progress report, {cyc}"] = u.progress
            for heading, value in expect.items():
                cell = ws.cell(r, cols[heading])
                assert cell.value == value, heading
                assert cell.protection.locked, heading
            # months are real dates, shown as months
            assert ws.cell(r, cols["Start"]).value == datetime(a.start.year, a.start.month, 1)
            assert ws.cell(r, cols["Finish"]).value == datetime(a.finish.year, a.finish.month, 1)
            assert ws.cell(r, cols["Start"]).protection.locked
    # the revised finish a lead gave in April 2024 became the finish when the cycle opened
    assert ws.cell(mf.HEADER_ROW + 1, cols["Finish"]).value == datetime(2025, 3, 1)
    # RAG colour on a history status, from statuses.toml
    delayed = vocab.by_key("delayed")
    fill = ws.cell(mf.HEADER_ROW + 1, cols["Status, April 2024"]).fill.fgColor.rgb
    assert fill.endswith(delayed.fill.lstrip("#").upper())


def test_new_cycle_cells_are_unlocked_and_shaded(issued: leadbook.GenerateResult) -> None:
    ws = openpyxl.load_workbook(workbook_for(issued, "Public Health Strategist"))["Update"]
    cols = columns_of(ws)
    new = [h for h in cols if h.startswith("NEW ") or h.startswith("Revised") or h.startswith("Comment")]
    assert len(new) == 4
    for r in (mf.HEADER_ROW + 1, mf.HEADER_ROW + 2):
        for h in new:
            cell = ws.cell(r, cols[h])
            assert cell.protection.locked is False, h
            assert cell.value is None
            assert cell.fill.fgColor.rgb.endswith("FFF2CC")
    progress = ws.cell(mf.HEADER_ROW + 1, cols[next(h for h in new if h.startswith("NEW progress"))])
    assert progress.alignment.wrap_text
    assert ws.row_dimensions[mf.HEADER_ROW + 1].height >= 100


def _validations(ws) -> dict[str, object]:  # type: ignore[no-untyped-def]
    return {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}


def test_drop_down_offers_exactly_the_vocabulary_inline(issued: leadbook.GenerateResult, plan_paths: PlanPaths) -> None:
    ws = openpyxl.load_workbook(workbook_for(issued, "Public Health Strategist"))["Update"]
    col = openpyxl.utils.get_column_letter(columns_of(ws)["NEW status, October 2024"])
    dv = _validations(ws)[f"{col}5:{col}6"]
    assert dv.type == "list" and dv.showDropDown in (None, False)  # (openpyxl's name is inverted: False = shown)
    assert dv.errorStyle in (None, "stop") and dv.showErrorMessage and dv.showInputMessage
    assert dv.prompt and dv.error
    assert dv.formula1.startswith('"')
    assert dv.formula1.strip('"').split(",") == vocabulary(plan_paths.root).labels


def test_drop_down_points_at_the_visible_instructions_table_when_inline_cannot_hold_it(plan_paths: PlanPaths) -> None:
    # A council whose labels have commas (or are long) cannot use the inline form.
    own = plan_paths.templates / "statuses.toml"
    own.write_text(own.read_text(encoding="utf-8").replace(
        'label = "Completed"', 'label = "Completed, signed off by the Board"'), encoding="utf-8")
    result = issue(plan_paths)
    wb = openpyxl.load_workbook(result.workbooks[0].path)
    ws = wb["Update"]
    col = openpyxl.utils.get_column_letter(columns_of(ws)["NEW status, October 2024"])
    dv = next(dv for dv in ws.data_validations.dataValidation if str(dv.sqref).startswith(col))
    assert dv.type == "list" and dv.formula1.startswith("'Instructions'!$A$")
    ref = dv.formula1.split("!")[1].replace("$", "")
    ins = wb["Instructions"]
    assert ins.sheet_state == "visible"
    assert [c.value for (c,) in ins[ref]] == vocabulary(plan_paths.root).labels
    assert ins.protection.sheet  # the list cannot be edited by accident


def test_status_list_source_rule() -> None:
    vocab = vocabulary(None)
    assert status_list_source(vocab, "=REF") == vocab.labels
    from dataclasses import replace
    long = replace(vocab, statuses=tuple(replace(s, label=s.label + " " + "x" * 60) for s in vocab.statuses))
    assert status_list_source(long, "=REF") == "=REF"
    quoted = replace(vocab, statuses=(replace(vocab.statuses[0], label='The "done" one'),))
    assert status_list_source(quoted, "=REF") == "=REF"


def test_progress_length_and_revised_finish_date_validation(issued: leadbook.GenerateResult) -> None:
    ws = openpyxl.load_workbook(workbook_for(issued, "Public Health Strategist"))["Update"]
    cols = columns_of(ws)
    dvs = _validations(ws)
    prog = openpyxl.utils.get_column_letter(cols[next(h for h in cols if h.startswith("NEW progress"))])
    length = dvs[f"{prog}5:{prog}6"]
    assert length.type == "textLength" and length.operator == "lessThanOrEqual" and length.formula1 == "3000"
    assert "3000" in length.prompt
    rev = openpyxl.utils.get_column_letter(cols["Revised finish date (only if it has moved)"])
    # one per row: not before that action's start month (KA1-01 starts Sep-22, KA1-02 Sep-21)
    for row, start in ((5, date(2022, 9, 1)), (6, date(2021, 9, 1))):
        dv = dvs[f"{rev}{row}"]
        assert dv.type == "date" and dv.operator in (None, "between")
        assert int(float(dv.formula1)) == (start - date(1899, 12, 30)).days
        assert ws[f"{rev}{row}"].number_format == "d mmm yyyy"


def test_no_text_cell_holds_a_formula(issued: leadbook.GenerateResult) -> None:
    seen = set()
    for w in issued.workbooks:
        wb = openpyxl.load_workbook(w.path)
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", f"{w.path.name} {ws.title}!{cell.coordinate}"
                    if isinstance(cell.value, str) and cell.value in HOSTILE.values():
                        assert cell.data_type == "s"
                        seen.add(cell.value)
    assert seen == set(HOSTILE.values())  # every hostile text was written, as text


def test_print_setup(issued: leadbook.GenerateResult) -> None:
    wb = openpyxl.load_workbook(workbook_for(issued, "Public Health Strategist"))
    assert wb.sheetnames[0] == "Instructions" and wb.active.title == "Instructions"
    ws = wb["Update"]
    assert ws.page_setup.orientation == "landscape"
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    # OOXML's default for fitToWidth is 1, so XlsxWriter leaves it out
    assert ws.page_setup.fitToWidth in (None, 1) and ws.page_setup.fitToHeight == 0
    assert ws.print_title_rows == "$3:$4"
    assert "Page &P of &N" in str(ws.oddFooter.right.text)
    assert "Public Health Strategist" in str(ws.oddHeader.left.text)
    # frozen below the headings and right of the activity (C); the pane may open scrolled towards the inputs
    assert (ws.sheet_view.pane.xSplit, ws.sheet_view.pane.ySplit) == (3, 4)
    assert ws.auto_filter.ref == "A4:N6"
    assert not ws.merged_cells.ranges
    assert ws.column_dimensions["C"].width > 30  # the activity is readable
    p = ws.protection
    assert p.sheet and not p.password
    assert p.sort is False and p.autoFilter is False  # in OOXML "False" = allowed
    assert p.formatColumns is False and p.formatRows is False


def test_instructions_sheet_says_what_to_do_by_when_and_who_to_contact(issued: leadbook.GenerateResult,
                                                                       plan_paths: PlanPaths) -> None:
    ws = openpyxl.load_workbook(workbook_for(issued, "Engagement Officer"))["Instructions"]
    text = "\n".join(str(c.value) for row in ws.iter_rows() for c in row if c.value)
    assert "15 November 2024" in text and "Engagement Officer" in text
    assert "hwb.coordinator@example.gov.uk" in text
    for s in vocabulary(plan_paths.root):
        assert s.label in text and s.meaning in text
    assert "1 action(s)" in text


# ---- the manifest and the issued record --------------------------------------------------------------

def test_manifest_is_very_hidden_and_its_signature_verifies(issued: leadbook.GenerateResult,
                                                            plan_paths: PlanPaths) -> None:
    key = mf.load_key(plan_paths)
    for w in issued.workbooks:
        wb = openpyxl.load_workbook(w.path)
        assert wb[mf.MANIFEST_SHEET].sheet_state == "veryHidden"
        m = manifest_of(w.path)
        assert mf.verify(m, key)
        assert (m.cycle, m.lead, m.sheet, m.header_row) == ("October 2024", w.lead, "Update", 4)
        assert m.plan_id == mf.plan_id(key) and m.generated_at == NOW.isoformat()
        ws = wb["Update"]
        for row in m.rows:
            assert ws[f"{m.columns['action_id']}{row.row}"].value == row.action_id
        assert ws[f"{m.columns['new_status']}{m.header_row}"].value.startswith("NEW status")


def test_issued_record_holds_every_locked_value(issued: leadbook.GenerateResult, plan_paths: PlanPaths) -> None:
    with Register.open(plan_paths) as reg:
        rows = {r["lead"]: dict(r) for r in reg.conn.execute("SELECT * FROM issued WHERE cycle = 'October 2024'")}
        batch = reg.log()[-1]
    assert set(rows) == {w.lead for w in issued.workbooks}
    assert batch.kind == "issue" and issued.batch_id == batch.id
    for w in issued.workbooks:
        rec = rows[w.lead]
        assert rec["sha256"] == w.sha256 and rec["generated_at"] == NOW.isoformat()
        m, values = mf.from_record(rec["manifest"])
        assert m == manifest_of(w.path)
        ws = openpyxl.load_workbook(w.path)["Update"]
        for row in m.rows:
            v = values[row.action_id]
            assert mf.fingerprint_values(v) == row.fingerprint
            assert set(v) == {k for k in m.columns if k not in mf.INPUT_FIELDS}
            for key, letter in m.columns.items():
                if key in mf.INPUT_FIELDS:
                    continue
                cell = ws[f"{letter}{row.row}"].value
                shown = cell.strftime("%Y-%m") if isinstance(cell, datetime) else (cell or "")
                assert shown == v[key], key


def test_same_register_templates_and_time_give_identical_files(plan_paths: PlanPaths, tmp_path: Path) -> None:
    build_plan(plan_paths)
    open_cycle(plan_paths, "October 2024", DUE, command="test")
    mf.load_key(plan_paths)  # the copies share the plan's signing key, as the same plan folder would
    twin, later_plan = copy_plan(plan_paths, tmp_path / "twin"), copy_plan(plan_paths, tmp_path / "later")
    first = leadbook.generate(plan_paths, drafts=True, now=NOW, example_contact=True, command="test")
    again = leadbook.generate(twin, drafts=True, now=NOW, example_contact=True, command="test")
    assert len(first.workbooks) == len(again.workbooks) == 3
    for a, b in zip(first.workbooks, again.workbooks):
        assert a.path.read_bytes() == b.path.read_bytes()
        assert a.draft.read_bytes() == b.draft.read_bytes()
    for a, b in zip(first.distribution, again.distribution):
        assert a.read_bytes() == b.read_bytes()
    later = leadbook.generate(later_plan, now=datetime(2024, 10, 2, tzinfo=UTC), example_contact=True, command="test")
    assert later.workbooks[0].path.read_bytes() != first.workbooks[0].path.read_bytes()


# ---- distribution list and drafts ------------------------------------------------------------------

def test_distribution_list_csv_and_xlsx(issued: leadbook.GenerateResult) -> None:
    csv_path, xlsx_path = issued.distribution
    rows = list(csv.reader(io.StringIO(csv_path.read_text(encoding="utf-8-sig"))))
    assert rows[0] == ["Lead", "E-mail", "Workbook", "Number of actions", "Action IDs", "Due date"]
    body = {r[0]: r for r in rows[1:]}
    assert body["Public Health Strategist"][2:] == [workbook_for(issued, "Public Health Strategist").name, "2",
                                                    "KA1-01, KA1-02", "2024-11-15"]
    ws = openpyxl.load_workbook(xlsx_path).active
    values = [[c.value for c in r] for r in ws.iter_rows(min_row=4)]
    assert [v[0] for v in values] == sorted(body)
    assert values[0][5] == datetime(2024, 11, 15)


def test_drafts_attach_the_workbook_and_use_the_template(issued: leadbook.GenerateResult) -> None:
    w = workbook_for(issued, "Engagement Officer")
    draft = next(d for d in issued.drafts if d.stem == w.stem)
    msg = email.message_from_bytes(draft.read_bytes(), policy=email.policy.default)
    assert msg["X-Unsent"] == "1"
    assert "October 2024" in msg["Subject"] and "15 November 2024" in msg["Subject"]
    body = msg.get_body(("plain",)).get_content()
    assert body.startswith("Dear Engagement Officer,") and "hwb.coordinator@example.gov.uk" in body
    (att,) = list(msg.iter_attachments())
    assert att.get_filename() == w.name and att.get_content() == w.read_bytes()


def test_contacts_address_the_drafts(plan_paths: PlanPaths) -> None:
    (plan_paths.templates / "contacts.toml").write_text(
        '[leads]\n"Engagement Officer" = "eo@example.gov.uk"\n', encoding="utf-8")
    result = issue(plan_paths, drafts=True, lead="engagement officer")
    (draft,) = result.drafts
    msg = email.message_from_bytes(draft.read_bytes(), policy=email.policy.default)
    assert msg["To"] == "Engagement Officer <eo@example.gov.uk>"
    rows = list(csv.reader(io.StringIO(result.distribution[0].read_text(encoding="utf-8-sig"))))
    assert rows[1][:2] == ["Engagement Officer", "eo@example.gov.uk"]


def test_build_eml_without_attachment_or_address() -> None:
    from hwbs_xl.issue.drafts import build_eml

    raw = build_eml("Lead", "", "Reminder:  due soon", "Hello £\nline", None)
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg["Subject"] == "Reminder: due soon" and "To" not in msg
    assert msg.get_content().replace("\r\n", "\n").strip() == "Hello £\nline"


# ---- choosing, refusing, warning ----------------------------------------------------------------------

def test_one_lead_only_keeps_the_others_on_the_distribution_list(plan_paths: PlanPaths) -> None:
    issue(plan_paths)
    again = leadbook.generate(plan_paths, lead="Engagement Officer", now=NOW, example_contact=True, command="test")
    assert again.workbooks == () and again.unchanged == ("Engagement Officer",)  # still as issued: kept
    rows = list(csv.reader(io.StringIO(again.distribution[0].read_text(encoding="utf-8-sig"))))
    assert len(rows) == 4
    with pytest.raises(NotFound) as info:  # part of a name: the closest names, not every lead on one line
        leadbook.generate(plan_paths, lead="engagement", now=NOW, example_contact=True, command="test")
    assert 'Did you mean: "Engagement Officer"?' in info.value.hint
    with pytest.raises(NotFound) as info:
        leadbook.generate(plan_paths, lead="Nobody", now=NOW, example_contact=True, command="test")
    assert "Did you mean" not in info.value.hint and "hwbs-xl lead list" in info.value.hint


def test_no_open_cycle_is_a_usage_problem(plan_paths: PlanPaths) -> None:
    build_plan(plan_paths)
    with pytest.raises(UsageProblem):
        leadbook.generate(plan_paths, now=NOW, example_contact=True, command="test")
    with pytest.raises(UsageProblem):
        leadbook.generate(plan_paths, cycle="April 2024", now=NOW, example_contact=True, command="test")


def test_an_action_without_a_lead_is_reported_not_lost(plan_paths: PlanPaths) -> None:
    orphan = Action("KA3-01", "Key Area 3", "Nobody leads this", (), Month(2024, 1), Month(2025, 1))
    build_plan(plan_paths, extra=[(orphan, {})])
    open_cycle(plan_paths, "October 2024", DUE, command="test")
    result = leadbook.generate(plan_paths, now=NOW, example_contact=True, command="test")
    (finding,) = result.report.of("action-no-lead")
    assert finding.action_id == "KA3-01"
    assert all("KA3-01" not in w.actions for w in result.workbooks)


def test_template_wording_too_long_for_excel_is_a_clear_error(plan_paths: PlanPaths) -> None:
    own = plan_paths.templates / "workbook.toml"
    own.write_text(own.read_text(encoding="utf-8").replace(
        'input_title = "Progress report"', 'input_title = "Progress report for this cycle, please"'), encoding="utf-8")
    from hwbs_xl.errors import InvalidData
    with pytest.raises(InvalidData) as info:
        issue(plan_paths)
    assert "32" in str(info.value)


def test_history_cycles_is_a_template_setting(plan_paths: PlanPaths) -> None:
    own = plan_paths.templates / "workbook.toml"
    own.write_text(own.read_text(encoding="utf-8").replace("history_cycles = 2", "history_cycles = 1"),
                   encoding="utf-8")
    result = issue(plan_paths)
    ws = openpyxl.load_workbook(result.workbooks[0].path)["Update"]
    headings = list(columns_of(ws))
    assert "Status, April 2024" in headings and "Status, April 2023" not in headings
    m = manifest_of(result.workbooks[0].path)
    assert "status@April 2024" in m.columns and "progress@April 2023" not in m.columns


def test_json_record_is_canonical(issued: leadbook.GenerateResult, plan_paths: PlanPaths) -> None:
    with Register.open(plan_paths) as reg:
        text = reg.conn.execute("SELECT manifest FROM issued LIMIT 1").fetchone()[0]
    assert json.loads(text)["values"]
    m, values = mf.from_record(text)
    assert mf.to_record(m, values) == text


# ---- an independent check of one workbook against the register (also used on the Barnet plan) ---------

def check_against_register(path: Path, reg: Register, key: bytes) -> mf.Manifest:
    """Every locked cell equals the register, every input cell is unlocked and empty, the manifest holds."""
    vocab = vocabulary(reg.paths.root)
    wb = openpyxl.load_workbook(path)
    assert wb[mf.MANIFEST_SHEET].sheet_state == "veryHidden"
    m = mf.from_cells([list(r) for r in wb[mf.MANIFEST_SHEET].iter_rows(values_only=True)])
    assert mf.verify(m, key)
    ws = wb[m.sheet]
    assert ws.protection.sheet
    for row in m.rows:
        a = reg.action(row.action_id)
        assert m.lead in a.leads and a.state == "active"
        for field_key, letter in m.columns.items():
            cell = ws[f"{letter}{row.row}"]
            if field_key in mf.INPUT_FIELDS:
                assert cell.protection.locked is False and cell.value is None, (row.action_id, field_key)
                continue
            assert cell.protection.locked, (row.action_id, field_key)
            assert cell.data_type != "f"
            if field_key.startswith(("status@", "progress@")):
                name, cyc = field_key.split("@", 1)
                u = reg.update(a.id, cyc)
                if name == "progress":
                    expected = u.progress if u else ""
                elif u is None:
                    expected = "(not in this cycle)"
                else:
                    status = vocab.by_key(u.status)
                    # a status still to be settled reaches the lead as "not confirmed", never the raw fragment
                    not_confirmed = templates.read_settings("workbook.toml")["history"]["status_not_confirmed"]
                    expected = status.label if status else (not_confirmed if u.status_raw else vocab.unknown_label)
            elif field_key in mf.MONTH_FIELDS:
                month = a.start if field_key == "start" else a.finish
                expected = datetime(month.year, month.month, 1) if month else None
            else:
                expected = {"action_id": a.id, "key_area": a.key_area, "activity": a.activity,
                            "leads": "; ".join(a.leads)}[field_key]
            assert (cell.value or ("" if isinstance(expected, str) else None)) == expected, (row.action_id, field_key)
    return m


def test_every_workbook_matches_the_register(issued: leadbook.GenerateResult, plan_paths: PlanPaths) -> None:
    with Register.open(plan_paths) as reg:
        for w in issued.workbooks:
            check_against_register(w.path, reg, mf.load_key(plan_paths))


def test_a_workbook_open_elsewhere_stops_the_run_before_anything_is_written(plan_paths: PlanPaths) -> None:
    from hwbs_xl.errors import OutputLocked
    from hwbs_xl.safeio import office_lock_file

    first = issue(plan_paths)
    target = workbook_for(first, "Public Health Strategist")
    office_lock_file(target).write_text("someone,in,LibreOffice")
    before = {w.path: w.path.read_bytes() for w in first.workbooks}
    with Register.open(plan_paths) as reg:
        fingerprint = reg.fingerprint()
    with pytest.raises(OutputLocked):
        leadbook.generate(plan_paths, now=datetime(2024, 10, 5, tzinfo=UTC), example_contact=True, command="test")
    assert {p: p.read_bytes() for p in before} == before
    with Register.open(plan_paths) as reg:
        assert reg.fingerprint() == fingerprint


def test_a_sheet_name_excel_refuses_is_a_clear_error(plan_paths: PlanPaths) -> None:
    from hwbs_xl.errors import InvalidData

    own = plan_paths.templates / "workbook.toml"
    own.write_text(own.read_text(encoding="utf-8").replace('update = "Update"', 'update = "Update [October]"'),
                   encoding="utf-8")
    with pytest.raises(InvalidData) as info:
        issue(plan_paths)
    assert "Update [October]" in str(info.value)


# ---- many leads: built on every core ------------------------------------------------------------------

def test_many_leads_built_in_worker_processes_give_the_same_files(plan_paths: PlanPaths, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from hwbs_xl import parallel

    extra = [(Action(f"KA3-{n:02d}", "Key Area 3", f"Activity {n}", (f"Locality Lead {n}",), Month(2023, 1),
                     Month(2025, 3)),
              {"April 2024": Update(f"KA3-{n:02d}", "April 2024", "on_target", progress=f"Report {n}\nline two")})
             for n in range(1, 41)]
    build_plan(plan_paths, extra=extra)
    open_cycle(plan_paths, "October 2024", DUE, command="test")
    mf.load_key(plan_paths)
    twin = copy_plan(plan_paths, tmp_path / "twin")
    monkeypatch.setenv("HWBS_WORKERS", "1")
    alone = leadbook.generate(plan_paths, out=tmp_path / "one", drafts=True, now=NOW, example_contact=True, command="test")
    monkeypatch.setenv("HWBS_WORKERS", "2")
    assert parallel.workers(len(alone.workbooks)) == 2  # so the run below does use two processes
    pooled = leadbook.generate(twin, out=tmp_path / "two", drafts=True, now=NOW, example_contact=True, command="test")
    assert len(pooled.workbooks) == len(alone.workbooks) == 43
    for a, b in zip(alone.workbooks, pooled.workbooks):
        assert (a.lead, a.actions, a.sha256) == (b.lead, b.actions, b.sha256)
        assert a.path.read_bytes() == b.path.read_bytes()
        assert a.draft.read_bytes() == b.draft.read_bytes()
    assert not [p for p in (tmp_path / "two").rglob("*") if p.name.startswith(".hwbs-tmp-")]
    with Register.open(twin) as reg:
        recorded = [r for r in reg.issued("October 2024") if "two" in r.file]
    assert len(recorded) == 43


def test_fill_is_one_pass_and_keeps_what_it_cannot_fill() -> None:
    from hwbs_xl.templates import fill

    assert fill("{cycle} for {lead}", {"cycle": "October 2024", "lead": "{cycle}"}) == "October 2024 for {cycle}"
    assert fill("{typo} } {{lead}} {n:02d} {none}", {"lead": "A", "none": None}) == "{typo} } {A} {n:02d} "


def test_an_older_copy_of_a_template_reads_what_it_lacks_from_the_bundled_one(plan_paths: PlanPaths) -> None:
    """A plan's templates made by an older init lack keys added since: the bundled values fill them in,
    and what the copy says still wins."""
    own = plan_paths.templates / "workbook.toml"
    text = own.read_text(encoding="utf-8")
    cut = text[:text.index("[properties]")] + text[text.index("[bands]"):]
    own.write_text(cut.replace('freeze_through = "activity"\n', "")
                   .replace('update = "Update"', 'update = "Ours"'), encoding="utf-8")
    result = issue(plan_paths)
    wb = openpyxl.load_workbook(result.workbooks[0].path)
    assert wb.sheetnames[1] == "Ours" and wb.properties.subject == "Update for October 2024"
    pane = wb["Ours"].sheet_view.pane  # freeze_through read from the bundled template: right of the activity
    assert (pane.xSplit, pane.ySplit) == (3, mf.HEADER_ROW)
    assert (result.out_dir / "distribution-list.csv").read_text(encoding="utf-8-sig").startswith("Lead,E-mail,")


# ---- issuing again: never void a workbook a lead may be filling in ---------------------------------------

def test_a_second_generate_keeps_every_workbook_that_still_matches(plan_paths: PlanPaths) -> None:
    first = issue(plan_paths, drafts=True)
    before = {w.path: (w.path.read_bytes(), w.path.stat().st_mtime_ns) for w in first.workbooks}
    again = leadbook.generate(plan_paths, drafts=True, now=datetime(2024, 10, 3, tzinfo=UTC), example_contact=True,
                              command="test")
    assert again.workbooks == () and set(again.unchanged) == {w.lead for w in first.workbooks}
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in before} == before  # not even rewritten
    with Register.open(plan_paths) as reg:  # the records returns are checked against are the first issue's
        assert {r.sha256 for r in reg.issued("October 2024")} == {w.sha256 for w in first.workbooks}


def test_a_workbook_the_register_moved_on_from_is_replaced_only_when_asked(plan_paths: PlanPaths) -> None:
    from hwbs_xl.plan.cycle import reassign_action

    first = issue(plan_paths)
    sent = {w.path: w.path.read_bytes() for w in first.workbooks}
    reassign_action(plan_paths, "KA1-02", ["Engagement Officer"], command="test")
    with pytest.raises(UsageProblem) as stop:
        leadbook.generate(plan_paths, now=NOW, example_contact=True, command="test")
    assert stop.value.code == "reissue-needed" and "KA1-02" in stop.value.message
    assert "Nothing was written" in stop.value.message
    assert {p: p.read_bytes() for p in sent} == sent
    with Register.open(plan_paths) as reg:
        assert {r.sha256 for r in reg.issued("October 2024")} == {w.sha256 for w in first.workbooks}
    done = leadbook.generate(plan_paths, now=NOW, example_contact=True, reissue=True, command="test")
    assert set(done.replaced) == {"Public Health Strategist", "Engagement Officer"}
    assert {w.lead for w in done.workbooks} == set(done.replaced) and done.unchanged
