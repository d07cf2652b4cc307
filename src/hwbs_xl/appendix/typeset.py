"""The appendix PDF typeset in-process by Typst (the ``typst`` package on PyPI), tagged PDF/UA-1.

The layout is the template ``appendix.typ`` (the plan's own copy in templates/, else the bundled one); this
module only turns the ``Appendix`` model into plain data and hands it over. The data travels as one JSON
string in ``sys.inputs`` and the template reads it with ``json()``: text people typed is only ever a
string value to Typst, never markup, so a return holding ``#`` or ``]`` or ``= heading`` prints as written.

Typst checks the document against PDF/UA-1 while exporting (structure tree with Table/THead/TH/TR/TD,
title shown in the title bar, language, alternative text on the chart): a breach is a compile error, not a
silently inaccessible file. Only Typst's built-in functions are used, so nothing is fetched at run time.

Font: Liberation Sans 2.1.5 (SIL OFL 1.1, licence beside it) ships in the package's ``fonts/`` folder and is
used alone, system fonts ignored, so every machine prints the same pages with the same embedded font. (An
installation without that folder falls back to the system's fonts: the template asks for Liberation Sans,
then Arial, which has the same metrics.)
"""

from __future__ import annotations

import json
from datetime import UTC
from pathlib import Path
from typing import Any

from .. import safeio, templates
from ..errors import RendererMissing
from ..text import first_words, long_date
from .model import MOVEMENTS, Appendix, AppendixRow

TEMPLATE = "appendix.typ"
FONT_DIR = Path(__file__).resolve().parents[1] / "fonts"  # hwbs_xl/fonts: Liberation Sans, SIL OFL 1.1
PDF_STANDARDS = ["ua-1"]


def render_pdf(appendix: Appendix, *, plan_dir: Path | None = None, template: Path | None = None,
               font_paths: list[Path] | None = None) -> bytes:
    """The appendix as PDF/UA-1 bytes. ``template``: a .typ file (default: the plan's, else the bundled
    appendix.typ); ``font_paths``: folders of fonts to use instead of the package's fonts/ folder."""
    pdf, _warnings = compile_pdf(appendix, plan_dir=plan_dir, template=template, font_paths=font_paths)
    return pdf


def compile_pdf(appendix: Appendix, *, plan_dir: Path | None = None, template: Path | None = None,
                font_paths: list[Path] | None = None) -> tuple[bytes, list[str]]:
    """(PDF bytes, Typst's warnings as text)."""
    typst = _typst()
    source = Path(template) if template is not None else templates.find(TEMPLATE, plan_dir)
    fonts = [Path(p) for p in font_paths] if font_paths is not None else _packaged_fonts()
    compiler = typst.Compiler(source.read_bytes(), root=str(source.parent), font_paths=[str(p) for p in fonts],
                              ignore_system_fonts=bool(fonts),
                              sys_inputs={"data": json.dumps(document_data(appendix), ensure_ascii=False)})
    stamp = appendix.document_date.replace(tzinfo=UTC)
    try:
        pdf, warnings = compiler.compile_with_warnings(format="pdf", pdf_standards=PDF_STANDARDS, timestamp=stamp)
    except typst.TypstError as exc:  # the template or the data broke a rule (PDF/UA included): a bug here
        detail = "; ".join([exc.message, getattr(exc, "diagnostic", ""), *getattr(exc, "hints", [])])
        raise RuntimeError(f"Typst could not typeset the appendix ({source.name}): {detail}") from exc
    return bytes(pdf), [w.message for w in warnings]


def write(appendix: Appendix, path: Path, *, plan_dir: Path | None = None) -> tuple[Path, int]:
    """Write the appendix PDF to ``path`` atomically; (path, pages)."""
    data = render_pdf(appendix, plan_dir=plan_dir)
    safeio.atomic_write(Path(path), data)
    return Path(path), page_count(data)


def page_count(pdf: bytes) -> int:
    """Pages of a PDF, read with pdfplumber (already needed to import PDFs back)."""
    import io

    import pdfplumber

    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        return len(doc.pages)


def _typst() -> Any:
    try:
        import typst
    except ImportError as exc:
        raise RendererMissing("The typst package is needed to print the appendix PDF and is not installed.",
                              hint="pip install typst") from exc
    return typst


def _packaged_fonts() -> list[Path]:
    if FONT_DIR.is_dir() and any(p.suffix.lower() in (".ttf", ".otf") for p in FONT_DIR.iterdir()):
        return [FONT_DIR]
    return []


# ---- the data the template reads ----------------------------------------------------------------------

def document_data(appendix: Appendix) -> dict[str, Any]:
    """Everything the template prints, as JSON-ready plain data (strings, numbers, lists)."""
    words = appendix.words()
    cycle = appendix.cycle
    language = str(appendix.settings["text"]["language"])
    lang, _, region = language.partition("-")
    summary_words = ("heading", "counts_heading", "chart_title", "movement_heading", "movement_none",
                     "awaiting_heading", "awaiting_none", "to_confirm_heading", "col_key_area", "col_movement",
                     "col_count", "col_actions", "col_activity", "col_lead", "col_status_given")
    text = {k: appendix.text(k, "summary") for k in summary_words}
    text.update({k: appendix.text(k) for k in ("continued", "footer_left", "footer_centre", "footer_right")})
    return {
        "meta": {
            "title": appendix.text("document_title"),
            "author": appendix.plan_title,
            "subject": f"{appendix.appendix_title}, {cycle.label}",
            "lang": lang.lower() or "en",
            "region": region.lower() or None,
            "plan_title": appendix.plan_title,
            "appendix": appendix.appendix_title,
            "cycle": cycle.label,
            "previous": appendix.previous.label if appendix.previous else None,
        },
        "words": {
            "cycle": cycle.label,
            "previous": words["previous"],
            "title": appendix.plan_title,
            "appendix": appendix.appendix_title,
            "date": long_date(appendix.document_date),
            "due": long_date(cycle.due_date) if cycle.due_date else "",
        },
        "text": text,
        "colours": {k: str(v) for k, v in appendix.settings["colours"].items()},
        "statuses": _statuses(appendix),
        "columns": [{"field": c.field, "title": c.title, "cycle": c.cycle} for c in appendix.columns],
        "key_areas": [{"name": ka.name, "rows": [_row(r) for r in ka.rows]} for ka in appendix.key_areas],
        "summary": _summary(appendix),
    }


def _statuses(appendix: Appendix) -> dict[str, dict[str, str]]:
    vocab = appendix.vocabulary
    out = {s.key: {"label": s.label, "short": appendix.short_label(s.key), "fill": s.fill, "font": s.font}
           for s in vocab}
    for key in ("unknown", "to_confirm"):
        out[key] = {"label": vocab.unknown_label, "short": appendix.short_label(key), "fill": vocab.unknown_fill,
                    "font": vocab.unknown_font}
    return out


def _row(r: AppendixRow) -> dict[str, Any]:
    a = r.action
    return {
        "id": a.id,
        "key_area": a.key_area,
        "activity": r.activity,
        "leads": list(r.leads),
        "start": a.start.label if a.start else "",
        "finish": r.finish.label if r.finish else "",
        "revised_finish": r.revised_finish.label if r.revised_finish else None,
        "finish_text": r.finish_text,
        "status_key": r.summary_key,
        "status_text": r.status_text,
        "state": r.state,
        "progress": r.progress,
        "history": dict(r.history),
        "marker": r.marker,
    }


def _summary(appendix: Appendix) -> dict[str, Any]:
    s = appendix.summary
    keys = list(s.status_keys)
    rows = {r.action.id: r for r in appendix.rows}
    retired = {a.id: a for a in s.retired}

    def named(ids: tuple[str, ...]) -> list[dict[str, str]]:
        return [{"id": i, "title": first_words(rows[i].activity if i in rows else retired[i].activity)}
                for i in ids if i in rows or i in retired]

    return {
        "status_keys": keys,
        "counts": [{"key_area": name, "counts": [c[k] for k in keys], "total": sum(c.values())}
                   for name, c in s.counts.items()],
        "totals": [s.totals[k] for k in keys],
        "total": sum(s.totals.values()),
        "movement": [{"key": m, "label": appendix.movement_label(m), "count": len(s.movement.get(m, ())),
                      "listed_below": m in ("awaiting", "to_confirm"), "always_named": m == "retired",
                      "actions": named(s.movement.get(m, ()))} for m in MOVEMENTS],
        "awaiting": [{"id": r.action.id, "activity": r.activity, "leads": list(r.leads)} for r in s.awaiting],
        "awaiting_groups": [{"heading": heading, "rows": [{"id": r.action.id, "activity": r.activity,
                                                           "leads": list(r.leads)} for r in rows]}
                            for heading, rows in appendix.awaiting_groups()],
        "to_confirm": [{"id": r.action.id, "activity": r.activity, "leads": list(r.leads),
                        "status_raw": r.update.status_raw.strip() if r.update else ""} for r in s.to_confirm],
    }


__all__ = ["render_pdf", "compile_pdf", "write", "document_data", "page_count", "TEMPLATE", "FONT_DIR"]
