"""The committee appendix: Appendix A as data (model), laid out and written as a workbook (measure, xlsx,
summary), typeset as an accessible PDF (typeset, with templates/appendix.typ), the master appendix
workbook rebuilt after every merge (master), and the command's work of writing them (build).
"""

from typing import Any


def __getattr__(name: str) -> Any:
    """``hwbs_xl.appendix.build_appendix``, loaded on first use: the views below it never load the writer."""
    if name == "build_appendix":
        from .build import build_appendix

        return build_appendix
    raise AttributeError(name)
