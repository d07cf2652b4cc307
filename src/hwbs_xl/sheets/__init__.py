"""Reading and writing spreadsheets safely, below every stage: the guarded reader of returned and imported
files (sniff and measure: the checks before any parse; reader; limits; values: a cell as the register
keeps it), cell addresses (cells), checked writing of the workbooks hwbs-xl makes (writing) and the one
titled-table sheet writer (tables).
"""
