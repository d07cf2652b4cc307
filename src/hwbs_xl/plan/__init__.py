"""The plan between cycles: creating a plan folder, opening cycles and editing actions, settling
what imports could not decide (flags, the review workbook), exporting the register.
"""
