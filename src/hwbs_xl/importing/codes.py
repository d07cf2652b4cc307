"""Finding codes of the import and of settling flags, beyond those already in findings.CODES."""

from __future__ import annotations

from ..findings import ERROR, INFO, WARNING, register_codes

register_codes({
    "import-cycle-conflict": (ERROR, "The file's header names a different cycle from the one given with --cycle."),
    "import-form-unsupported": (ERROR, "The file is of a form this installation cannot read (PDF or .xlsx reader missing)."),
    "import-unreadable": (ERROR, "The file could not be read as an appendix at all."),
    "outside-table": (INFO, "Lines under no header row (a title, cover, summary, chart or legend before the appendix table, or a sheet without its own header) were not imported; one note per page lists them so nothing is lost."),
    "column-ignored": (WARNING, "Text under a column whose heading means nothing hwbs-xl knows was not imported; shown here so nothing is lost."),
    "row-shifted": (INFO, "A row shifted right by an empty leading cell was read in its header's columns."),
    "key-area-carried": (INFO, "An empty key area cell (merged with the row above) was read as the key area above."),
    "lead-split": (INFO, "One lead cell named several leads; each is kept as its own lead."),
    "dates-reversed": (WARNING, "The start month is after the finish month; both kept as printed."),
    "update-already-recorded": (INFO, "The register already holds this action's update for this cycle from another file; kept as it was."),
    "update-differs": (WARNING, "The register holds a different update for this action and cycle from another file; the register's was kept and this file's text is shown here."),
    "link-by-id": (INFO, "Linked to an existing action by the action ID printed in the file."),
    "plan-titled": (INFO, "The plan's title was taken from the appendix's title line."),
    "flag-settled": (INFO, "A flagged item was settled by the coordinator."),
    "settle-invalid": (ERROR, "A decision for a flagged item cannot be used (not a status, month, lead or action ID it could be)."),
    "settle-already": (INFO, "This flag was settled before; the decision in the review workbook was not applied again."),
    "review-not-review-workbook": (ERROR, "The file is not a review workbook written by `hwbs-xl review --out`."),
})
