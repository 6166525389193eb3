"""Cell text that spreadsheet programs cannot run as a formula (CSV / formula injection).

Excel, LibreOffice and WPS evaluate a CSV cell or a typed-in value that begins with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return as a formula (OWASP, "CSV
Injection"); a leading apostrophe makes them show it as text. Full-width look-alikes
(＝ ＋ － ＠) are folded to their ASCII forms by some of these programs, so they are
treated the same way.
"""

from __future__ import annotations

import unicodedata

#: First characters that make a spreadsheet cell a formula.
FORMULA_START = frozenset("=+-@\t\r")


def is_formula_like(text: str) -> bool:
    """Whether ``text`` would be read as a formula (after NFKC folding of its first character)."""
    return bool(text) and (text[0] in FORMULA_START or unicodedata.normalize("NFKC", text[0])[:1] in FORMULA_START)


def cell_text(value: object) -> object:
    """``value`` safe for a CSV cell: a string that reads as a formula gets a leading
    apostrophe; numbers, None and other strings are returned unchanged."""
    if isinstance(value, str) and is_formula_like(value):
        return "'" + value
    return value
