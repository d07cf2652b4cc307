"""Fuzzing: what a lead types always arrives exactly, and no damaged file crashes or hangs the reader.

1. A Hypothesis property: issue -> fill (openpyxl, text stored the way Excel stores it) -> merge, with
   arbitrary unicode progress reports and comments, statuses, revised dates (as dates or typed as text) and
   the rows in any order. What comes out in the register is exactly what went in, after the one text rule
   (``text.normalise``); nothing else in the register changes.
2. A mutation fuzzer over returned workbooks: bytes flipped or cut, zip parts dropped, renamed or
   duplicated, XML elements deleted or duplicated, huge attributes and DTDs, broken references and
   encodings; seeded from a real return and from the foreign corpus (real Excel, LibreOffice, others).
   Reading and validating each must end in a result (a Finding when the file is refused): any other
   exception is a failure, and so is a file still being read after 30 seconds.

Bounded in CI; HWBS_FUZZ_EXAMPLES (default 30), HWBS_FUZZ_MUTATIONS (default 300) and HWBS_FUZZ_SEED
(default 20241010) make longer or different runs (docs/testing.md).
"""

from __future__ import annotations

import os
import random
import re
import shutil
import zipfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from hwbs_xl.findings import Finding
from hwbs_xl.paths import PlanPaths
from hwbs_xl.register import Register
from hwbs_xl.returns.checker import check_file
from hwbs_xl.returns.facts import PlanFacts
from hwbs_xl.returns.merge import merge
from hwbs_xl.sheets.reader import read_bytes
from hwbs_xl.text import normalise

import figures
from badfiles import Package, deadline, excel_escape
from test_returns_support import CYCLE, DPH, Cells, issued_files, plan_copy, read_manifest

EXAMPLES = int(os.environ.get("HWBS_FUZZ_EXAMPLES", "30"))
MUTATIONS = int(os.environ.get("HWBS_FUZZ_MUTATIONS", "300"))
SEED = int(os.environ.get("HWBS_FUZZ_SEED", "20241010"))
TODAY = date(2024, 10, 10)
FOREIGN = Path(__file__).resolve().parent / "data" / "foreign"
ACTIONS = ("KA1-02", "KA2-02", "KA2-03")  # DPH's rows
LABELS = {"Completed": "completed", "On target to be achieved by target date": "on_target",
          "Delayed achievement by target date": "delayed",
          "Action has been incorporated into another piece of work": "incorporated"}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> PlanPaths:
    return plan_copy(tmp_path_factory.mktemp("fuzz"))


# ---- 1. what goes in comes out ----------------------------------------------------------------------------

# Any unicode a lead could paste, surrogates aside (no file can hold them); control characters included.
typed_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=300)
dates = st.dates(date(2023, 6, 1), date(2099, 12, 31))
answer = st.fixed_dictionaries({
    "status": st.one_of(st.none(), st.sampled_from(sorted(LABELS))),
    "progress": typed_text,
    "comment": typed_text,
    "revised": st.one_of(st.none(), dates.map(lambda d: ("date", d)), dates.map(lambda d: ("text", d))),
})


def fill_typed(template: PlanPaths, dest: Path, answers: dict[str, dict[str, Any]], order: list[int]) -> Path:
    """DPH's issued workbook, rows put in ``order``, answers typed in: text as Excel stores it (control
    characters as _xHHHH_ escapes, always a text cell, never a formula), dates as dates or as typed text."""
    from openpyxl import load_workbook

    src = issued_files(template)[DPH]
    cells = Cells(read_manifest(src))
    wb = load_workbook(src)
    ws = wb[cells.sheet]
    rows = [cells.manifest.row_for(a).row for a in ACTIONS]  # type: ignore[union-attr]
    values = [[c.value for c in ws[r]] for r in rows]
    for target, source in zip(rows, order):
        for i, v in enumerate(values[source], start=1):
            ws.cell(target, i, v)
    at = {ACTIONS[source]: target for target, source in zip(rows, order)}
    col = {k: cells.manifest.columns[k] for k in ("new_status", "new_progress", "comment", "revised_finish")}
    for action, a in answers.items():
        row = at[action]
        for key, text in (("new_status", a["status"]), ("new_progress", a["progress"]), ("comment", a["comment"])):
            if text:
                cell = ws[f"{col[key]}{row}"]
                cell.value = excel_escape(text)
                cell.data_type = "s"  # typed text, whatever it starts with
        if a["revised"] is not None:
            kind, day = a["revised"]
            ws[f"{col['revised_finish']}{row}"] = datetime(day.year, day.month, day.day) if kind == "date" \
                else day.strftime("%d/%m/%Y")
    wb.save(dest)
    return dest


def expected(a: dict[str, Any]) -> dict[str, Any] | None:
    """The register's update for one answer, or None when nothing was typed."""
    status = a["status"]
    progress, comment = normalise(a["progress"]), normalise(a["comment"])
    revised = f"{a['revised'][1].year}-{a['revised'][1].month:02d}" if a["revised"] else None
    if not (status or progress or comment or revised):
        return None
    return {"status": LABELS.get(status or ""), "status_raw": status or "", "progress": progress,
            "comment": comment, "revised_finish": revised}


@seed(SEED)  # the same examples every run (CI); another HWBS_FUZZ_SEED explores others
@settings(max_examples=EXAMPLES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(answers=st.fixed_dictionaries({a: answer for a in ACTIONS}), order=st.permutations([0, 1, 2]))
def test_what_a_lead_types_arrives_exactly(template: PlanPaths, tmp_path_factory: pytest.TempPathFactory,
                                          answers: dict[str, dict[str, Any]], order: list[int]) -> None:
    tmp = tmp_path_factory.mktemp("example")
    paths = PlanPaths(tmp / "plan")
    shutil.copytree(template.root, paths.root)
    with Register.open(paths) as reg:
        before = {(r["action_id"], r["cycle"]): dict(r) for r in reg.conn.execute("SELECT * FROM updates")}
    returned = fill_typed(paths, tmp / "return.xlsx", answers, list(order))
    result = merge(paths, [returned], command="pytest fuzz", today=TODAY)
    assert result.master_problem is None, result.master_problem
    with Register.open(paths) as reg:
        after = {(r["action_id"], r["cycle"]): dict(r) for r in reg.conn.execute("SELECT * FROM updates")}
    for action, a in answers.items():
        want = expected(a)
        got = after.get((action, CYCLE))
        if want is None:
            assert got is None, action
        else:
            assert got is not None, (action, [f.line() for f in result.report])
            assert {k: got[k] for k in want} == want, action
    assert {k: v for k, v in after.items() if k[1] != CYCLE} == {k: v for k, v in before.items() if k[1] != CYCLE}
    shutil.rmtree(tmp)
    figures.add("fuzz_property_examples")
    figures.add("loss_checks")


# ---- 2. damaged files never crash or hang the reader -------------------------------------------------------

XML_TAG = re.compile(rb"<([A-Za-z][\w:.-]*)\b[^<>]*?(?:/>|>)")


def _xml_parts(pkg: Package) -> list[str]:
    return [n for n in pkg.parts if n.lower().endswith((".xml", ".rels"))]


def _element_span(data: bytes, rng: random.Random) -> tuple[int, int] | None:
    """A random element's byte span (start tag through its end tag, or a self-closing tag)."""
    tags = list(XML_TAG.finditer(data))
    if not tags:
        return None
    m = rng.choice(tags)
    if m.group().endswith(b"/>"):
        return m.start(), m.end()
    end = data.find(b"</" + m.group(1) + b">", m.end())
    return (m.start(), end + len(m.group(1)) + 3) if end >= 0 else (m.start(), m.end())


def _mutate_xml(data: bytes, rng: random.Random) -> bytes:
    how = rng.randrange(9)
    span = _element_span(data, rng)
    if how == 0 and span:  # delete an element
        return data[:span[0]] + data[span[1]:]
    if how == 1 and span:  # duplicate an element
        return data[:span[1]] + data[span[0]:span[1]] * rng.randint(1, 50) + data[span[1]:]
    if how == 2 and span:  # a huge attribute
        tag_end = data.index(b">", span[0])
        tag_end -= data[tag_end - 1:tag_end] == b"/"
        return data[:tag_end] + b' huge="' + b"A" * rng.choice([10_000, 2_000_000]) + b'"' + data[tag_end:]
    if how == 3:  # a DTD, an entity bomb or an external entity
        dtd = rng.choice([b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>',
                          b'<!DOCTYPE x SYSTEM "file:///etc/passwd">', b'<!DOCTYPE x [<!ENTITY % p SYSTEM "http://x/">%p;]>'])
        head = data.find(b"?>")
        return data[:head + 2] + dtd + data[head + 2:] if head >= 0 else dtd + data
    if how == 4:  # references and numbers that point nowhere or are out of range
        repl = rng.choice([b'r="XFD1048576"', b'r="A0"', b'r="ZZZZ99999999"', b'r=""', b'r="-5"', b'r="A1048577"'])
        data = re.sub(rb'r="[A-Z]*\d+"', lambda m: repl if rng.random() < 0.1 else m.group(), data)
        return re.sub(rb"<v>[^<]*</v>", lambda m: rng.choice([b"<v>99999999</v>", b"<v>1e309</v>", b"<v>-1</v>",
                                                              b"<v>NaN</v>", b"<v></v>", m.group()]), data)
    if how == 5:  # a cell type changed (shared string index, error, boolean, date, unknown)
        return re.sub(rb't="[a-zA-Z]+"', lambda m: rng.choice([b't="s"', b't="e"', b't="b"', b't="d"', b't="q"',
                                                               m.group()]), data)
    if how == 6:  # invalid bytes or another encoding declared
        at = rng.randrange(len(data) + 1)
        return data[:at] + rng.choice([b"\xff\xfe\x00", b"\xc3\x28", b"\x00", b"&#0;", b"&bogus;"]) + data[at:]
    if how == 7:  # nesting far deeper than any workbook
        depth = rng.choice([1_000, 100_000])
        return data.replace(b"<sheetData>", b"<sheetData>" + b"<x>" * depth + b"</x>" * depth, 1)
    if span:  # cut inside an element
        return data[:rng.randrange(span[0], span[1])] + data[span[1]:]
    return data


def mutate(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    """One random damage to a workbook's bytes, and a description of it."""
    how = rng.randrange(10)
    if how == 0:
        out = bytearray(data)
        for _ in range(rng.randint(1, 20)):
            out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
        return bytes(out), "bytes flipped"
    if how == 1:
        return data[:rng.randrange(len(data))], "cut short"
    try:
        pkg = Package(data)
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError):
        return data[::-1], "reversed"  # not a zip (an .xls): reversed bytes
    names = list(pkg.parts)
    if how == 2 and names:
        del pkg.parts[rng.choice(names)]
        return pkg.bytes(), "a part dropped"
    if how == 3 and names:
        victim = rng.choice(names)
        pkg.parts[victim.upper() if rng.random() < 0.5 else victim.replace("/", "\\")] = pkg.parts.pop(victim)
        return pkg.bytes(), "a part renamed"
    if how == 4 and names:
        out = io_dup(pkg, rng.choice(names))
        return out, "a part duplicated"
    xml = _xml_parts(pkg)
    if not xml:
        return data[: len(data) // 2], "cut in half"
    part = rng.choice(xml)
    for _ in range(rng.randint(1, 3)):
        pkg.parts[part] = _mutate_xml(pkg.parts[part], rng)
    return pkg.bytes(), f"{part} mutated"


def io_dup(pkg: Package, name: str) -> bytes:
    """The package with one part stored twice (zip allows it; readers disagree on which copy wins)."""
    import io
    import warnings

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for n, d in pkg.parts.items():
            z.writestr(n, d)
        z.writestr(name, pkg.parts[name][: len(pkg.parts[name]) // 2])
    return out.getvalue()


def seeds(template: PlanPaths, tmp: Path) -> list[tuple[str, bytes]]:
    """A filled return (and the same with shared strings, as Excel stores text), and the foreign corpus."""
    from test_bad_inputs import ANSWERS

    c = Cells(read_manifest(issued_files(template)[DPH]))
    from openpyxl import load_workbook

    wb = load_workbook(issued_files(template)[DPH])
    for (action, key), value in ANSWERS.items():
        wb[c.sheet][c.of(action, key)] = value
    wb.save(tmp / "return.xlsx")
    shared = Package.of(tmp / "return.xlsx")
    shared.shared_strings()
    ours = [("return.xlsx", (tmp / "return.xlsx").read_bytes()), ("return-shared.xlsx", shared.bytes())]
    foreign = [(p.name, p.read_bytes()) for p in sorted(FOREIGN.iterdir())
               if p.suffix in (".xlsx", ".xlsm", ".xls", ".ods") and p.stat().st_size < 300_000]
    return ours + foreign


def test_damaged_workbooks_never_crash_or_hang_the_reader(template: PlanPaths, tmp_path: Path) -> None:
    rng = random.Random(SEED)
    pool = seeds(template, tmp_path)
    with Register.open(template) as reg:
        facts = PlanFacts.load(template, reg, TODAY)
    failures: list[str] = []
    refused = merged = 0
    for n in range(MUTATIONS):
        name, data = pool[n % 3] if n % 3 < 2 else rng.choice(pool)  # our returns, and everything else
        damaged, how = mutate(data, rng)
        path = tmp_path / f"mutant-{n}{Path(name).suffix}"
        path.write_bytes(damaged)
        try:
            with deadline(30):
                if name.startswith("return"):
                    check = check_file(facts, path)
                    findings = check.findings
                    refused += check.rejected
                    if n % 15 == 0:  # now and then the whole merge, into a copy of the plan
                        merged += _merge_changes_only_dph(template, tmp_path, path)
                else:
                    findings = read_bytes(damaged, name).findings
            assert all(isinstance(f, Finding) for f in findings)
        except Exception as exc:  # anything but a result is a crash (TimeoutError: a hang)
            keep = tmp_path.parent / f"crash-{n}{Path(name).suffix}"
            shutil.copyfile(path, keep)
            failures.append(f"#{n} {name} ({how}): {type(exc).__name__}: {str(exc)[:200]} [kept as {keep}]")
        path.unlink()
        figures.add("fuzz_mutations")
    assert not failures, "\n".join(failures)
    assert refused > MUTATIONS // 10 and merged > 0  # the damage was real, and some merges ran


def _merge_changes_only_dph(template: PlanPaths, tmp: Path, path: Path) -> int:
    """Merge one damaged return into a copy of the plan: it may be refused or taken (in part), but it never
    changes history or another lead's actions, and the merge itself never raises."""
    paths = PlanPaths(tmp / "merge-plan")
    shutil.rmtree(paths.root, ignore_errors=True)
    shutil.copytree(template.root, paths.root)
    with Register.open(paths) as reg:
        before = {(r["action_id"], r["cycle"]): dict(r) for r in reg.conn.execute("SELECT * FROM updates")}
    merge(paths, [path], command="pytest fuzz", today=TODAY)
    with Register.open(paths) as reg:
        after = {(r["action_id"], r["cycle"]): dict(r) for r in reg.conn.execute("SELECT * FROM updates")}
    changed = {k for k in after if after[k] != before.get(k)}
    assert all(k[1] == CYCLE and k[0] in ACTIONS for k in changed), changed
    figures.add("loss_checks")
    return 1


def test_the_mutations_are_deterministic() -> None:
    """The same seed gives the same damage (so a failure found in CI can be replayed)."""
    data = (FOREIGN / "gen_hwbs_template_xlsxwriter.xlsx").read_bytes()
    one = [mutate(data, random.Random(5))[0] for _ in range(3)]
    assert one[0] == one[1] == one[2]

