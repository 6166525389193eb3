"""Survey workbook rows → canonical survey table, with every repair reported.

Pure functions: a raw table (as read from XLSX/CSV, all cells as found) goes in, the
canonical table indexed by ``building_id`` and a list of :class:`Finding` come out.
"""

from __future__ import annotations

import difflib
import re

import numpy as np
import pandas as pd

from .findings import Finding
from .schema import COLUMN_ALIASES, HEADER_LOOKUP, NUMERIC_COLUMNS, VALUE_LOOKUP, VOCABULARIES
from .schema import header_key, value_key

#: 1 kN/m² = 1000 N/m² = 101.97 kg/m² under standard gravity.
KG_PER_KN = 1000.0 / 9.80665
#: A spare roof load above this many kN/m² is taken to be written in kg/m².
LOAD_KG_THRESHOLD = 20.0

_NUMBER = re.compile(
    r"^[+]?(?P<num>\d+(?:\.\d*)?|\.\d+)\s*(?P<unit>kg/m2|kg/m²|kg/㎡|kg|kn/m2|kn/m²|kn/㎡|kn)?$"
)


class SurveyError(ValueError):
    """A survey table that cannot be read at all (for example, no building id column)."""


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or (
        isinstance(value, str) and value.strip() == ""
    )


def _suggest(text: str, field: str) -> str:
    spellings = list(VALUE_LOOKUP[field])
    close = difflib.get_close_matches(value_key(text), spellings, n=1, cutoff=0.3)
    known = "、".join(s[0] for s in VOCABULARIES[field].values())
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"{hint}use one of: {known}"


def map_headers(columns: list[object], source: str) -> dict[object, str]:
    """Map raw headers to canonical column names; unknown headers are left out."""
    mapping: dict[object, str] = {}
    for col in columns:
        canonical = HEADER_LOOKUP.get(header_key(col))
        if canonical is None:
            continue
        if canonical in mapping.values():
            other = next(k for k, v in mapping.items() if v == canonical)
            raise SurveyError(
                f"{source}: columns {other!r} and {col!r} both mean {canonical!r}; "
                "keep one of them"
            )
        mapping[col] = canonical
    if "building_id" not in mapping.values():
        raise SurveyError(
            f"{source}: no building id column; found {[str(c) for c in columns]}. "
            f"Name the id column one of {list(COLUMN_ALIASES['building_id'])}"
        )
    return mapping


def normalise_survey(
    raw: pd.DataFrame, source: str, sheet: str | None = None, first_row: int = 2
) -> tuple[pd.DataFrame, list[Finding]]:
    """Translate a raw survey table into canonical columns, codes and units.

    Parameters
    ----------
    raw : DataFrame
        Cells as read, one row per survey row, original headers.
    source, sheet : str
        File name and sheet, quoted in findings.
    first_row : int
        Spreadsheet row number of ``raw``'s first row (2 below a one-line header).

    Returns
    -------
    survey : DataFrame indexed by ``building_id`` with every canonical column
        (NaN where absent); loads in kN/m².
    findings : list of Finding
    """
    mapping = map_headers(list(raw.columns), source)
    table = raw[list(mapping)].rename(columns=mapping)
    table.index = np.arange(first_row, first_row + len(table))
    findings: list[Finding] = []

    def report(level, row, bid, column, value, problem, fix):
        findings.append(Finding(level, source, int(row), bid, column, value, problem, fix, sheet))

    table = table.loc[~table.map(_blank).all(axis=1)]
    ids = table["building_id"].map(lambda v: None if _blank(v) else str(v).strip())
    for row in ids.index[ids.isna()]:
        report("error", row, None, "building_id", None, "row has no building id and is skipped",
               "fill in 建筑编号 so the row can be joined to its footprint")
    dup = ids.notna() & ids.duplicated(keep="first")
    for row in ids.index[dup]:
        report("error", row, ids[row], "building_id", ids[row],
               "duplicate building id; only its first row is used",
               "give each building its own 建筑编号 or merge the rows")
    keep = ids.notna() & ~dup
    table, ids = table.loc[keep], ids[keep]

    out = pd.DataFrame(index=pd.Index(ids.to_numpy(), name="building_id"))
    for column in COLUMN_ALIASES:
        if column == "building_id":
            continue
        values = table[column] if column in table else pd.Series(np.nan, index=table.index)
        if column in VOCABULARIES:
            parsed = _parse_codes(values, ids, column, report)
        elif column in NUMERIC_COLUMNS:
            parsed = _parse_numbers(values, ids, column, report)
        else:
            parsed = values.map(lambda v: None if _blank(v) else str(v).strip())
        out[column] = parsed.to_numpy()
    return out, findings


def _parse_codes(values: pd.Series, ids: pd.Series, column: str, report) -> pd.Series:
    lookup = VALUE_LOOKUP[column]
    codes = []
    for row, value in values.items():
        if _blank(value):
            codes.append(None)
            continue
        code = lookup.get(value_key(value))
        if code is None:
            report("warning", row, ids[row], column, str(value), f"unknown {column} value",
                   _suggest(str(value), column))
        elif str(value) != str(value).strip():
            report("info", row, ids[row], column, str(value), "stray spaces around the value",
                   "trim the cell; roofpv read it as " + repr(str(value).strip()))
        codes.append(code)
    return pd.Series(codes, index=values.index, dtype=object)


def _parse_numbers(values: pd.Series, ids: pd.Series, column: str, report) -> pd.Series:
    numbers = []
    for row, value in values.items():
        if _blank(value):
            numbers.append(np.nan)
            continue
        if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
            number, unit = float(value), None
        else:
            text = value_key(value).lstrip("'")
            match = _NUMBER.match(text)
            if match is None:
                report("warning", row, ids[row], column, str(value), "not a number; left blank",
                       "write a plain number in the column's unit")
                numbers.append(np.nan)
                continue
            number, unit = float(match["num"]), match["unit"]
            if unit is None:
                report("info", row, ids[row], column, str(value), "number stored as text",
                       "format the cell as a number")
        if column == "roof_load_kn_m2":
            number = _load_in_kn(number, unit, row, ids[row], str(value), report)
        elif unit is not None:
            report("warning", row, ids[row], column, str(value), f"unexpected unit {unit!r}",
                   "write a plain number in the column's unit")
        numbers.append(number)
    return pd.Series(numbers, index=values.index, dtype=float)


def _load_in_kn(number: float, unit: str | None, row, bid, raw: str, report) -> float:
    """Spare roof load in kN/m²; values written or evidently meant in kg/m² are converted."""
    if unit is not None and unit.startswith("kg"):
        reason = "load written in kg/m²"
    elif unit is None and number > LOAD_KG_THRESHOLD:
        reason = f"load of {number:g} is implausible in kN/m² (> {LOAD_KG_THRESHOLD:g}); read as kg/m²"
    else:
        return number
    kn = number / KG_PER_KN
    report("warning", row, bid, "roof_load_kn_m2", raw, f"{reason}; converted to {kn:.2f} kN/m²",
           "write the spare load in kN/m² (1 kN/m² ≈ 102 kg/m²)")
    return kn
