"""Issuing a cycle: one workbook per lead, the distribution list and the e-mail drafts.
"""
