"""The manifest contract the returns side relies on: signature, tamper detection, garbled sheets, the key."""

from __future__ import annotations

import stat
from dataclasses import replace

import pytest

from hwbs_xl import manifest as mf
from hwbs_xl.errors import InvalidData
from hwbs_xl.paths import PlanPaths

KEY = bytes(range(32))


def sample() -> mf.Manifest:
    return mf.sign(mf.Manifest(
        plan_id=mf.plan_id(KEY), plan_title="Barnet Health and Wellbeing Strategy £ – Phase 2", cycle="October 2024",
        lead="Senior Public Health Strategist, LBB", generated_at="2024-10-01T09:30:00+00:00",
        template_version="1-abcdef123456", sheet="Update", header_row=4,
        columns={"action_id": "A", "status@April 2024": "G", "new_status": "K"},
        rows=(mf.ManifestRow("KA1-01", 5, "a" * 64), mf.ManifestRow("KA1-02", 6, "b" * 64))), KEY)


def test_signature_verifies_and_survives_the_sheet_round_trip() -> None:
    m = sample()
    assert mf.verify(m, KEY)
    back = mf.from_cells([list(line) for line in mf.to_cells(m)])
    assert back == m and mf.verify(back, KEY)
    assert not mf.verify(m, bytes(32))  # another plan's key


def _variants(text: str):  # type: ignore[no-untyped-def]
    """Every single-character change of ``text``: each character replaced, one inserted, one deleted."""
    for i in range(len(text)):
        other = "0" if text[i] != "0" else "1"
        yield text[:i] + other + text[i + 1:]
        yield text[:i] + text[i + 1:]
        yield text[:i] + "0" + text[i:]
    yield text + "x"


def test_any_change_to_any_cell_is_detected() -> None:
    cells = mf.to_cells(sample())
    tried = 0
    for r, line in enumerate(cells):
        for c, value in enumerate(line):
            if line[0] == "signature" and c == 1:
                continue  # changing the signature itself is covered below
            for changed in _variants(value):
                forged = [list(x) for x in cells]
                forged[r][c] = changed
                tried += 1
                try:
                    m = mf.from_cells(forged)
                except InvalidData as exc:
                    assert exc.code == "manifest-unreadable"
                    continue
                assert not mf.verify(m, KEY), (r, c, changed)
    assert tried > 1400  # every character of every cell, three ways
    m = sample()
    for changed in _variants(m.signature):
        assert not mf.verify(replace(m, signature=changed), KEY)


def test_rows_reordered_added_or_dropped_are_detected() -> None:
    cells = mf.to_cells(sample())
    rows = [i for i, line in enumerate(cells) if line[0] == "row"]
    swapped = list(cells)
    swapped[rows[0]], swapped[rows[1]] = swapped[rows[1]], swapped[rows[0]]
    dropped = [line for i, line in enumerate(cells) if i != rows[1]]
    added = cells[:-1] + [["row", "KA9-99", "7", "c" * 64]] + cells[-1:]
    for forged in (swapped, dropped, added):
        assert not mf.verify(mf.from_cells(forged), KEY)


@pytest.mark.parametrize("garble", [
    lambda c: [],
    lambda c: c[1:],                                        # marker gone
    lambda c: [["hwbs-xl manifest", "2"]] + c[1:],          # a format we do not know
    lambda c: [x for x in c if x[0] != "signature"],       # unsigned
    lambda c: [x for x in c if x[0] != "cycle"],           # a field missing
    lambda c: c + [["surprise", "x"]],                      # an unknown line
    lambda c: [x if x[0] != "header_row" else ["header_row", "four"] for x in c],
    lambda c: [x if x[0] != "row" else ["row", x[1], "five", x[3]] for x in c],
])
def test_garbled_manifest_is_unreadable_not_a_crash(garble) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidData) as info:
        mf.from_cells(garble(mf.to_cells(sample())))
    assert info.value.code == "manifest-unreadable"


def test_cells_as_spreadsheet_programs_return_them() -> None:
    # Blank padding cells, None, trailing empty lines and numbers typed back as floats are all tolerated.
    cells: list[list[object]] = [list(line) + [None, None] for line in mf.to_cells(sample())]
    for line in cells:
        if line[0] in ("header_row", "row"):
            idx = 1 if line[0] == "header_row" else 2
            line[idx] = float(line[idx])  # type: ignore[arg-type]
    cells.append([None, None])
    assert mf.verify(mf.from_cells(cells), KEY)


def test_fingerprint_uses_the_shared_text_rule() -> None:
    a = mf.fingerprint_values({"activity": "Line one\r\nline two  ", "leads": "A"})
    assert a == mf.fingerprint_values({"leads": "A", "activity": "Line one\nline two"})
    assert a != mf.fingerprint_values({"activity": "Line one\nline two!", "leads": "A"})


def test_key_is_made_once_private_and_stable(plan_paths: PlanPaths) -> None:
    assert not plan_paths.manifest_key.exists()
    key = mf.load_key(plan_paths)
    assert len(key) == 32 and mf.load_key(plan_paths) == key
    assert stat.S_IMODE(plan_paths.manifest_key.stat().st_mode) == 0o600
    assert len(mf.plan_id(key)) == 16 and mf.plan_id(key) != mf.plan_id(bytes(32))
    plan_paths.manifest_key.write_bytes(b"short")
    with pytest.raises(InvalidData):
        mf.load_key(plan_paths)


def test_the_key_never_goes_into_a_workbook(plan_paths: PlanPaths) -> None:
    import zipfile

    from test_leadbook import issue

    result = issue(plan_paths)
    key = mf.load_key(plan_paths)
    for w in result.workbooks:
        with zipfile.ZipFile(w.path) as z:
            blob = b"".join(z.read(n) for n in z.namelist())
        assert key not in blob and key.hex().encode() not in blob
