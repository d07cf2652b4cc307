"""The committee appendix model and its print-ready workbook (read back with openpyxl).

``make_register`` builds a realistic three-cycle plan through the register's batch API (the same calls an
import makes): long progress reports, unicode, line breaks, several leads, text starting with "=", a
status to be confirmed, an action awaiting update, one retired and one new action, and a progress report
longer than a printed page. Other appendix and master tests import it from here.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from hwbs_xl.appendix import model as ap
from hwbs_xl.model import Action, Cycle, Month, Provenance, Update
from hwbs_xl.paths import PlanPaths
from hwbs_xl.register import Register, action_row, cycle_row, update_row
from hwbs_xl.text import squash

SEP22, APR23, APR24 = "September 2022", "April 2023", "April 2024"

PARAGRAPHS = [
    "The steering group met three times this period and agreed a delivery plan with partners across the "
    "borough. Training for frontline staff has started, with 146 people completing the first module.",
    "Uptake in the twelve months to January was 5,348 visits, with 1,647 people completing the questionnaire. "
    "Users are weighted towards older age groups and women; the team is reviewing the communications approach "
    "ahead of recommissioning.",
    "A food coordinator has been recruited (funded by Public Health) to support the Food Plan and the Food "
    "Partnership, linking food organisations across the borough with the council and the NHS.",
    "Evaluation of the programme in its previous form shows that a different approach is needed to have an "
    "impact within current resources. Community toilets have moved to the Network and Infrastructure team.",
    "The pilot in two primary care networks has reached 1,200 residents; 38% of people completing the audit "
    "scored in the 'possible dependence' category, so self-referral into treatment has been simplified.",
    "Funding of £250,000 was secured from the ICB for a further year. Recruitment to the two posts is under way "
    "and the service specification has been agreed with the voluntary sector partners.",
]

UNICODE_TEXT = ("Café sessions ran in Edgware and Colindale – 12 venues, £2.5k raised; “very helpful” said "
                "residents.\nNext steps:\n• extend to Chipping Barnet\n• translate leaflets (Polski, Română, "
                "Ελληνικά, Türkçe)\n• review in Q3 – naïve estimates replaced with real counts.")
FORMULA_TEXT = "=SUM(A1:A9) is what the lead typed first; +44 20 8359 2000 is the helpline; @barnet posts weekly."


def long_text(chars: int) -> str:
    """A progress report longer than a printed page: numbered paragraphs, so tests can find every part."""
    parts, n = [], 0
    while sum(len(p) + 2 for p in parts) < chars:
        n += 1
        parts.append(f"Part {n}. " + PARAGRAPHS[n % len(PARAGRAPHS)])
    return "\n\n".join(parts)


def _actions() -> list[Action]:
    m = Month.parse
    return [
        Action("KA1-01", "Key Area 1", "Implement and promote the new Health Impact Assessment guidance across all "
               "policies and strategies", ("Deputy Director of Public Health", "Public Health Officer"), m("Sep-22"), m("Mar-24")),
        Action("KA1-02", "Key Area 1", "Further develop the Dementia Friendly Partnership", ("Senior Public Health Strategist",),
               m("Sep-21"), m("Mar-25")),
        Action("KA1-03", "Key Area 1", "Work with partners like 'Drink Coach' to embed preventative services for "
               "higher risk drinkers", ("Senior Public Health Strategist",), m("Sep-22"), m("Aug-24")),
        Action("KA1-04", "Key Area 1", "Review the Healthy High Street approach, and develop next stage of the programme",
               ("Deputy Director of Public Health",), m("Sep-23"), m("Sep-24")),
        Action("KA1-05", "Key Area 1", "Agree and deliver a Food Plan for Barnet", ("Consultant in Public Health",),
               m("Sep-22"), m("Jul-23"), state="retired"),
        Action("KA1-06", "Key Area 1", "Deliver the Make Every Contact Count action plan", ("Public Health Officer",),
               m("Apr-24"), m("Mar-25")),
        Action("KA2-01", "Key Area 2", "Identify and bid for different funding opportunities available", ("All",),
               m("Sep-21"), m("Sep-25")),
        Action("KA2-02", "Key Area 2", "Ensure the two School Superzones are delivered and their impact tracked",
               ("Public Health Strategist",), m("Sep-22"), m("Sep-24")),
        Action("KA2-03", "Key Area 2", "Develop a borough-wide physical activity offer for older adults",
               ("Head of Leisure",), m("Sep-22"), m("Mar-24")),
        Action("KA2-04", "Key Area 2", "Deliver the integrated children's multidisciplinary meetings in every PCN",
               ("North Central London ICB", "Barnet Borough Partnership", "Start Well leads"), m("Sep-21"), m("Sep-25")),
        Action("KA2-05", "Key Area 2", "Run community wellbeing cafés with voluntary sector partners",
               ("Community Participation Lead",), m("Apr-23"), m("Apr-25")),
        Action("KA3-01", "Key Area 3", "Embed prevention in PCN work through population health management",
               ("North Central London ICB/BBP",), m("Sep-21"), m("Sep-25")),
        Action("KA3-02", "Key Area 3", "Implement a strategic framework to respond to the needs of the homeless population",
               ("Public Health Strategist",), m("Sep-23"), m("May-25")),
        Action("KA3-03", "Key Area 3", "Devise and implement the Neighbourhood Model for Barnet",
               ("Barnet Borough Partnership - Neighbourhood Working Group",), m("Apr-23"), m("Jul-24")),
    ]


# action -> (April 2023 status, April 2024 status or None for no update, April 2024 status_raw)
PLAN_2024 = {
    "KA1-01": ("delayed", "completed"),
    "KA1-02": ("on_target", "on_target"),       # progress text the same as last time
    "KA1-03": ("on_target", "delayed"),         # slipped, with a revised finish
    "KA1-04": ("delayed", "on_target"),         # improved
    "KA1-05": ("completed", None),              # retired after April 2023
    "KA2-01": ("on_target", "?by target date"),  # to be confirmed
    "KA2-02": ("on_target", None),              # awaiting update (active, no return)
    "KA2-03": ("on_target", "incorporated"),
    "KA2-04": ("on_target", "on_target"),       # very long progress text
    "KA2-05": ("on_target", "on_target"),       # unicode and line breaks
    "KA3-01": ("delayed", "delayed"),
    "KA3-02": (None, "?target date"),           # new in April 2024, its status to be confirmed
    "KA3-03": ("on_target", "?"),               # status cell left empty: to be confirmed
    "KA1-06": (None, "on_target"),              # new, text starting with "="
}

EXPECTED_MOVEMENT = {
    "completed": ("KA1-01",), "unchanged": ("KA1-02", "KA2-04", "KA2-05", "KA3-01"), "slipped": ("KA1-03",),
    "improved": ("KA1-04",), "new": ("KA1-06", "KA3-02"), "to_confirm": ("KA2-01", "KA3-03"),
    "awaiting": ("KA2-02",), "closed": ("KA2-03",), "retired": ("KA1-05",), "first_status": (),
}


def progress_2024(action_id: str, long_chars: int) -> str:
    if action_id == "KA1-02":
        return progress_2023(action_id)
    if action_id == "KA2-04":
        return long_text(long_chars)
    if action_id == "KA2-05":
        return UNICODE_TEXT
    if action_id == "KA1-06":
        return FORMULA_TEXT
    n = int(action_id[-2:]) + int(action_id[2])
    return f"April 2024 ({action_id}). " + PARAGRAPHS[n % len(PARAGRAPHS)] + " " + PARAGRAPHS[(n + 2) % len(PARAGRAPHS)]


def progress_2023(action_id: str) -> str:
    n = int(action_id[-2:]) + 3 * int(action_id[2])
    return f"April 2023 ({action_id}). " + PARAGRAPHS[n % len(PARAGRAPHS)]


def make_register(paths: PlanPaths, *, long_chars: int = 7000, latest: str = APR24) -> None:
    """Fill the (initialised) plan at ``paths`` with three cycles of realistic data, as an import would."""
    src = Provenance(file="test-appendix.md", sha256="0" * 64, where="line 1")
    with Register.open(paths) as reg:
        with reg.batch("import", command="test make_register", summary="test plan") as b:
            b.put("plan", {"id": 1, "title": "Barnet Health & Wellbeing Strategy - Phase 2 Implementation Plan"})
            for label, state in ((SEP22, "closed"), (APR23, "closed"), (APR24, "open")):
                if label == APR24 and latest != APR24:
                    continue
                b.put("cycles", cycle_row(Cycle(label, int(Month.parse(label).iso.replace("-", "")),  # type: ignore[union-attr]
                                                Month.parse(label).first_day(), None, state)))  # type: ignore[union-attr]
            for a in _actions():
                b.put("actions", action_row(a))
                before, now = PLAN_2024[a.id]
                if before is not None:
                    b.put("updates", update_row(Update(a.id, SEP22, None, progress=f"September 2022 note on {a.id}: "
                                                       "the team has agreed the scope with partners.", source=src)))
                    b.put("updates", update_row(Update(a.id, APR23, before, status_raw=before,
                                                       progress=progress_2023(a.id), source=src)))
                if now is None or latest != APR24:
                    continue
                status = None if now.startswith("?") else now
                b.put("updates", update_row(Update(
                    a.id, APR24, status, status_raw=now.lstrip("?"), needs_review=status is None,
                    progress=progress_2024(a.id, long_chars),
                    revised_finish=Month.parse("Mar-25") if now == "delayed" and a.id == "KA1-03" else None,
                    source=src)))


@pytest.fixture
def plan(plan_paths: PlanPaths) -> PlanPaths:
    make_register(plan_paths)
    return plan_paths


def _appendix(paths: PlanPaths, cycle: str | None = None) -> ap.Appendix:
    with Register.open(paths) as reg:
        return ap.build(reg, cycle)


# ---- the model -------------------------------------------------------------------------------------------

def test_rows_grouped_by_key_area_in_register_order(plan: PlanPaths) -> None:
    a = _appendix(plan)
    assert a.cycle.label == APR24 and a.previous is not None and a.previous.label == APR23
    assert [ka.name for ka in a.key_areas] == ["Key Area 1", "Key Area 2", "Key Area 3"]
    ids = [r.action.id for r in a.rows]
    assert ids == sorted(ids) and "KA1-05" not in ids  # retired action is not listed in April 2024
    assert len(ids) == 13


def test_movement_matches_the_register(plan: PlanPaths) -> None:
    a = _appendix(plan)
    assert {k: tuple(sorted(v)) for k, v in a.summary.movement.items()} == EXPECTED_MOVEMENT
    rows = {r.action.id: r for r in a.rows}
    assert rows["KA1-03"].marker.splitlines()[0] == "Slipped (was On target)"
    assert "Revised finish: Mar-25" in rows["KA1-03"].marker
    assert "Progress text same as April 2023" in rows["KA1-02"].marker
    assert rows["KA2-01"].status_text == "by target date" and rows["KA2-01"].status is None
    assert rows["KA2-02"].status_text == "Awaiting update"
    assert rows["KA3-03"].status_text == "Status not given"  # progress came back, the status cell empty
    assert rows["KA3-02"].marker == "New\nStatus to be confirmed" and rows["KA3-02"].status_text == "target date"
    assert [r.action.id for r in a.summary.to_confirm] == ["KA2-01", "KA3-02", "KA3-03"]
    assert [r.action.id for r in a.summary.awaiting] == ["KA2-02"]


def test_counts_by_key_area_match_the_register(plan: PlanPaths) -> None:
    a = _appendix(plan)
    with Register.open(plan) as reg:
        for ka in a.key_areas:
            for key in a.summary.status_keys:
                expected = 0
                for act in reg.actions():
                    if act.key_area != ka.name or act.id == "KA1-05":
                        continue
                    u = reg.update(act.id, APR24)
                    got = u.status if u and u.status else ("to_confirm" if u and (u.status_raw or u.progress) else "unknown")
                    expected += got == key
                assert a.summary.counts[ka.name][key] == expected, (ka.name, key)
    assert sum(a.summary.totals.values()) == 13
    assert a.summary.totals["on_target"] == 5 and a.summary.totals["unknown"] == 1
    assert a.summary.totals["to_confirm"] == 3


def test_earlier_cycle_shows_its_own_history(plan: PlanPaths) -> None:
    a = _appendix(plan, APR23)
    # April 2023 has its own reports, so the previous cycle's are not printed (appendix.toml: show = "auto")
    assert [c.field for c in a.columns] == ["key_area", "activity", "lead", "start", "finish", "status", "progress"]
    assert len(a.rows) == 12  # the actions that had an April 2023 update, including KA1-05
    # September 2022 recorded notes only: no status to compare with, so no improved/slipped/unchanged
    assert {r.action.id: r.movement for r in a.rows if r.movement != "first_status"} == {"KA1-05": "completed"}
    assert a.rows[0].history[SEP22].startswith("September 2022 note on KA1-01")


def test_first_cycle_has_no_history_or_change_columns(plan_paths: PlanPaths) -> None:
    with Register.open(plan_paths) as reg:
        with reg.batch("import", command="t") as b:
            b.put("cycles", cycle_row(Cycle("April 2023", 202304, date(2023, 4, 1), None, "open")))
            b.put("actions", action_row(_actions()[0]))
        a = ap.build(reg)
    assert [c.field for c in a.columns] == ["key_area", "activity", "lead", "start", "finish", "status", "progress"]
    assert a.summary.movement["awaiting"] == ("KA1-01",)
    assert a.columns[5].title == "Status as of April 2023"


def test_no_cycle_is_a_usage_error(plan_paths: PlanPaths) -> None:
    from hwbs_xl.errors import UsageProblem

    with Register.open(plan_paths) as reg, pytest.raises(UsageProblem):
        ap.build(reg)


def test_unknown_cycle_names_the_known_ones(plan: PlanPaths) -> None:
    from hwbs_xl.errors import NotFound

    with Register.open(plan) as reg, pytest.raises(NotFound) as err:
        ap.build(reg, "October 2031")
    assert "April 2024" in err.value.hint


def whole(text: str) -> str:
    return squash(text)


ROOT = Path(__file__).resolve().parents[1]
