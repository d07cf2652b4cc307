"""The committee appendix: Appendix A as data (model), laid out and written as a workbook (measure, xlsx,
summary), typeset as an accessible PDF (typeset, with templates/appendix.typ), the master appendix
workbook rebuilt after every merge (master), and the command's work of writing them (build).
"""
