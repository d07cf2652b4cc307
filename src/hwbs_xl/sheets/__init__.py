"""Reading and writing spreadsheets safely, below every stage: the guarded reader of returned
and imported files (sniff, reader, limits, values) and checked writing of the workbooks hwbs-xl makes.
"""
