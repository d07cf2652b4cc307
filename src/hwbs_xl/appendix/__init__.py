"""The committee appendix: Appendix A as data (model), printed as a workbook (xlsx) and a PDF,
and the master appendix workbook rebuilt after every merge.
"""
