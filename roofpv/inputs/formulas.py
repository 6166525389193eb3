"""Spreadsheet formulas saved without their value.

A workbook saved by Excel or WPS stores each formula's result beside it; one written by
a script (openpyxl, pandas) stores only the formula (``=1.2+0.3``), so a reader sees a
blank cell. A formula of plain arithmetic — numbers, ``+ - * /`` and brackets — is
evaluated here, by walking its syntax tree (never ``eval``); anything else (cell
references, functions, text) is left to the user to save in a spreadsheet program.
"""

from __future__ import annotations

import ast
import math
import operator
import re

#: Characters of a plain arithmetic formula (digits, decimal point, exponent, operators,
#: brackets, blanks); Python-only syntax such as ``0x10``, ``1_000`` or ``2**3`` is refused.
_PLAIN = re.compile(r"^[0-9.eE+\-*/() \t]+$")
#: Longest formula evaluated (a bound on the syntax tree's depth).
MAX_LENGTH = 200
_OPERATORS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}


def plain_arithmetic(formula: str) -> float | None:
    """The value of a spreadsheet formula of numbers, ``+ - * /`` and brackets
    (``=1.2+0.3`` → 1.5); None for any other formula, a division by zero or a result
    that is not finite."""
    text = formula.strip().removeprefix("=").strip()
    if not text or len(text) > MAX_LENGTH or not _PLAIN.match(text) or "**" in text:
        return None
    try:
        value = _value(ast.parse(text, mode="eval").body)
    except (SyntaxError, TypeError, ZeroDivisionError, OverflowError):
        return None
    return value if math.isfinite(value) else None


def _value(node: ast.expr) -> float:
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return float(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.UAdd, ast.USub)):
        value = _value(node.operand)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        return _OPERATORS[type(node.op)](_value(node.left), _value(node.right))
    raise TypeError(f"not plain arithmetic: {ast.dump(node)}")
