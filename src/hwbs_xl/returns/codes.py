"""Finding codes of the returns stage (reading, validating and merging returned workbooks).

Registered into the one catalogue (``findings.CODES``) when this module is imported; every returns module
imports it, so a code is known before any Finding uses it.
"""

from __future__ import annotations

from ..findings import ERROR, INFO, WARNING, register_codes

READING = {
    "file-unreadable": (ERROR, "The file could not be opened (missing, or no permission to read it)."),
    "file-not-spreadsheet": (ERROR, "The file is not a spreadsheet (decided from its content, not its name)."),
    "file-encrypted": (ERROR, "The file has a password to open it; it cannot be read."),
    "file-corrupt": (ERROR, "The file is damaged or incomplete (for example a cut-short download); the damaged part is named."),
    "file-unsafe-xml": (ERROR, "A part of the file declares a DTD or entities (an XML attack pattern); the file was not parsed."),
    "file-too-large": (ERROR, "The file, its unpacked size or its number of cells is over a documented input limit."),
    "file-suspicious-compression": (ERROR, "The file packs far more data than its size suggests (too many entries or too high a compression ratio)."),
    "sheet-too-many-rows": (ERROR, "A sheet has more rows than the documented limit; the file was not read further."),
    "file-strict-ooxml": (INFO, "Saved as 'Strict Open XML' (which openpyxl reads as empty); read with every check."),
    "file-format-xls": (WARNING, "An old .xls file; values were read without the protection and formula checks (degraded)."),
    "file-format-ods": (INFO, "An OpenDocument (.ods) file; read with every check."),
    "file-format-xlsb": (ERROR, "An Excel binary (.xlsb) workbook, which hwbs-xl does not read; it must be saved as .xlsx."),
    "file-structure-unreadable": (WARNING, "Values were read, but the workbook's structure (protection, formulas) could not be checked."),
    "file-macros-ignored": (INFO, "The workbook contains macros; they were neither run nor kept."),
    "cell-error-value": (WARNING, "A cell holds a spreadsheet error value (#N/A, #VALUE!...); kept as text."),
}

IDENTITY = {
    "manifest-missing": (ERROR, "The workbook has no hwbs-xl manifest: it was not issued by hwbs-xl, or the hidden sheet was deleted."),
    "manifest-unreadable": (ERROR, "The workbook's manifest cannot be read (edited or damaged)."),
    "manifest-signature-invalid": (ERROR, "The manifest's signature does not hold: it was edited, or forged."),
    "workbook-other-plan": (ERROR, "The workbook was issued by a different plan."),
    "workbook-old-cycle": (ERROR, "The workbook was issued for a cycle that is not the open one."),
    "workbook-not-issued": (ERROR, "The workbook is not the copy issued to this lead for this cycle (re-issued since, or never issued)."),
    "workbook-identity-mismatch": (ERROR, "The rows in the workbook belong to another lead than its manifest names (a copied manifest or a copy returned by someone else)."),
    "workbook-lead-mismatch": (ERROR, "The file is named for one lead but its manifest names another: a copy returned by someone else."),
    "sheet-missing": (ERROR, "The update sheet (found by the manifest and the action IDs) is not in the workbook."),
    "sheet-renamed": (INFO, "The update sheet was renamed or moved; it was found by its action IDs."),
    "sheets-extra-ignored": (INFO, "The workbook has sheets hwbs-xl did not issue; they were ignored."),
    "protection-removed": (INFO, "Sheet protection was switched off. Nothing depends on it: every locked value is compared with what was issued."),
}

ROWS = {
    "row-missing": (WARNING, "An action issued in this workbook is not in the returned sheet; nothing was taken for it."),
    "row-unknown-id": (WARNING, "A row has an action ID that was not issued in this workbook; it was ignored."),
    "id-duplicate": (ERROR, "An action ID appears on more than one row; none of those rows was taken."),
    "id-changed": (ERROR, "An action ID cell was changed; the row was recognised by its other locked cells but not taken."),
    "rows-reordered": (INFO, "Rows were sorted, inserted or deleted; they were matched by action ID."),
    "row-not-updated": (INFO, "The lead left this action's update cells as issued."),
    "return-empty": (WARNING, "The workbook came back with no update typed in; the lead is still outstanding."),
    "action-retired": (INFO, "The action was retired after the workbook was issued; the lead's update was still taken and shows in this cycle's appendix."),
}

CHECKS = {
    "status-not-in-list": (ERROR, "The status is not one of the allowed values; the row was not taken."),
    "status-completed-future-date": (WARNING, "Status Completed, but the revised finish date is still in the future."),
    "status-delayed-no-date": (WARNING, "Status Delayed, but no revised finish date was given."),
    "status-incorporated-no-where": (WARNING, "Status Incorporated, but the progress report does not say into which work."),
    "date-unparseable": (ERROR, "A date cell holds something that is not a date; the raw value is kept in the report."),
    "date-before-start": (ERROR, "The revised finish date is before the action's start."),
    "progress-missing": (WARNING, "A status was given without a progress report."),
    "progress-too-long": (WARNING, "The progress report is longer than the appendix allows; it was taken, please shorten it."),
    "text-truncated": (ERROR, "Text is longer than a spreadsheet cell can hold (32,767 characters); kept whole in the report, not taken."),
    "locked-value-changed": (WARNING, "A locked cell (history, ID or wording) differs from what was issued; the register keeps the issued value."),
    "formula-in-text-cell": (WARNING, "A formula was typed into a text cell; it was kept as the text typed, never calculated."),
    "text-control-chars": (WARNING, "Text contains control characters (often pasted from Word); each was replaced by a visible marker."),
    "merged-cells-in-input": (WARNING, "Cells in the update area were merged; the value was read from the top-left cell."),
}

MERGING = {
    "already-merged": (INFO, "This exact file was merged before; nothing changed."),
    "return-superseded": (INFO, "A newer return from the same lead replaces an earlier one."),
    "return-older-ignored": (WARNING, "A newer return from the same lead was already merged; this older one was not."),
    "return-conflict": (WARNING, "Two leads returned different updates for the same action; left for the coordinator to settle."),
    "run-interrupted": (INFO, "An earlier command on this plan was stopped part way; the register holds none or all of its changes, and what it left behind was removed before this run."),
    "register-changed-since-issue": (WARNING, "The register's update changed after the workbook was issued; the lead's value was not applied over it."),
}

ALL = {**READING, **IDENTITY, **ROWS, **CHECKS, **MERGING}
register_codes(ALL)
