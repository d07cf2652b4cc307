"""The committee appendix: `hwbs-xl appendix`."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import EXIT_CANNOT_FINISH
from . import Context, main


@main.command()
@click.option("--cycle", "cycle", metavar="LABEL",
              help='The cycle to print, e.g. "April 2024" (default: the open cycle, else the latest).')
@click.option("--format", "formats", default="xlsx,pdf", show_default=True, metavar="xlsx,pdf",
              help="Which files to write: xlsx, pdf or both (comma-separated).")
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
              help="Folder for the files (default: the plan folder's appendix/).")
@click.pass_obj
def appendix(ctx: Context, cycle: str | None, formats: str, out: Path | None) -> None:
    """Print Appendix A for the committee pack: a print-ready workbook and a PDF.

    \b
    Both start with a summary (status counts by key area, a chart, what moved
    since the previous cycle, the actions awaiting an update and why), then the
    appendix table by key area: landscape, header row on every page, "page N of
    M", every word of every progress report. The PDF is typeset by hwbs-xl
    itself (no LibreOffice or Excel needed) as an accessible PDF/UA-1 document
    for the council's website: a tagged table, bookmarks per key area, the
    chart described in words, the font embedded.
    """
    from ..appendix.build import build_appendix

    result = build_appendix(ctx.paths, cycle=cycle, formats=formats.split(","), out=out)
    click.echo(f"Appendix for {result.cycle}:")
    for path in result.files:
        extra = f" ({result.pages} pages)" if path.suffix == ".pdf" and result.pages else ""
        click.echo(f"  wrote {path}{extra}")
    for note in result.notes:
        click.echo(f"  note: {note}")
    if result.missing:
        click.echo(f"Not written: {', '.join(result.missing)} (see the note above).", err=True)
        click.get_current_context().exit(EXIT_CANNOT_FINISH)
