"""The appendix workbook's look: its cell formats (fonts and colours from appendix.toml and statuses.toml)
and its print set-up (paper, margins, page header and footer)."""

from __future__ import annotations

from typing import Any

from ..templates import fill
from .measure import PAPER_CODE, Metrics, page, paper
from .model import Appendix


class Styles:
    """The workbook's cell formats, made once (XlsxWriter needs one Format per combination)."""

    def __init__(self, wb: Any, appendix: Appendix, metrics: Metrics) -> None:
        self.metrics = metrics
        font = appendix.settings["font"]
        colours = appendix.settings["colours"]
        self.name = str(font["name"])
        self.size = float(font["size"])
        self.colours = colours
        base = {"font_name": self.name, "font_size": self.size, "text_wrap": True, "valign": "top",
                "border": 1, "border_color": colours["border"]}
        self.base = base
        self.wb = wb
        self.cell = wb.add_format(base)
        self.key_area = wb.add_format({**base, "bg_color": colours["key_area_fill"], "bold": True})
        self.centre = wb.add_format({**base, "align": "center"})
        self.header = wb.add_format({**base, "bold": True, "font_size": float(font["header_size"]),
                                     "bg_color": colours["header_fill"],
                                     "font_color": colours["header_font"], "valign": "vcenter"})
        self.changed = wb.add_format({**base, "bg_color": colours["changed_fill"], "bold": True})
        self.continued = wb.add_format({**base, "italic": True,
                                        "font_color": colours["continued_font"]})
        self.title = wb.add_format({"font_name": self.name, "bold": True,
                                    "font_size": float(font["title_size"]),
                                    "font_color": colours["section_font"]})
        self.subtitle = wb.add_format({"font_name": self.name, "bold": True,
                                       "font_size": float(font["subtitle_size"])})
        self.subtitle_small = wb.add_format({"font_name": self.name, "bold": True, "font_size": self.size})
        self.note = wb.add_format({"font_name": self.name, "font_size": self.size, "italic": True})
        self.section = wb.add_format({"font_name": self.name, "bold": True, "font_size": self.size + 2,
                                      "font_color": colours["section_font"], "bottom": 1})
        self.plain = wb.add_format({"font_name": self.name, "font_size": self.size, "text_wrap": True,
                                    "valign": "top"})
        self.number = wb.add_format({**base, "align": "center"})
        self.total = wb.add_format({**base, "bold": True, "align": "center", "top": 2})
        self.total_label = wb.add_format({**base, "bold": True, "top": 2})
        self._status: dict[str, Any] = {}
        vocab = appendix.vocabulary
        for s in vocab:
            self._status[s.key] = wb.add_format({**base, "bg_color": s.fill, "font_color": s.font, "bold": True})
        self._status["unknown"] = wb.add_format({**base, "bg_color": vocab.unknown_fill,
                                                 "font_color": vocab.unknown_font, "bold": True})
        self._status["to_confirm"] = wb.add_format({**base, "bg_color": vocab.unknown_fill,
                                                    "font_color": vocab.unknown_font, "bold": True,
                                                    "italic": True})

    def status(self, key: str) -> Any:
        return self._status.get(key, self._status["unknown"])

    def status_fill(self, key: str, vocab: Any) -> tuple[str, str]:
        s = vocab.by_key(key)
        if s is not None:
            return s.fill, s.font
        return vocab.unknown_fill, vocab.unknown_font


def header_footer(appendix: Appendix) -> tuple[str, str]:
    """The page header and footer in Excel's codes (&L &C &R sections, &P page, &N pages)."""
    text = appendix.settings["text"]
    words = {k: v.replace("&", "&&") for k, v in appendix.words().items()}
    words.update({"page": "&P", "pages": "&N"})
    font = appendix.settings["font"]
    name = str(font["name"])

    def section(code: str, key: str, bold: bool = False) -> str:
        value = fill(str(text.get(key, "")), words)
        style = f'&"{name},{"Bold" if bold else "Regular"}"&8'
        return f"&{code}{style}{value}" if value else ""

    header = section("L", "header_left", True) + section("C", "header_centre", True) + section("R", "header_right")
    footer = section("L", "footer_left") + section("C", "footer_centre") + section("R", "footer_right")
    if len(header) > 255:  # Excel's limit; the title is printed in full above the table anyway
        header = section("L", "header_left", True) + section("R", "header_right")
    if len(footer) > 255:
        footer = section("C", "footer_centre")
    return header, footer


def print_setup(ws: Any, appendix: Appendix) -> None:
    """Landscape, paper from the template, margins, header and footer, fit one page wide by the program."""
    p = page(appendix)
    ws.set_landscape()
    ws.set_paper(PAPER_CODE[paper(appendix)])
    ws.set_margins(left=float(p["margin_left_in"]), right=float(p["margin_right_in"]),
                   top=float(p["margin_top_in"]), bottom=float(p["margin_bottom_in"]))
    header, footer = header_footer(appendix)
    ws.set_header(header, {"margin": float(p["header_margin_in"])})
    ws.set_footer(footer, {"margin": float(p["footer_margin_in"])})
    ws.fit_to_pages(1, 0)
    ws.hide_gridlines(2)
