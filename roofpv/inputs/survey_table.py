"""Survey workbook rows → canonical survey table, with every repair reported.

Pure functions: a raw table (as read from XLSX/CSV, all cells as found) goes in, the
canonical table indexed by ``building_id`` and a list of :class:`Finding` come out.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from roofpv.errors import SurveyError
from roofpv.findings import Finding
from roofpv.inputs.ids import REPAIRS, clean_ids
from roofpv.schema import (
    COLUMN_ALIASES,
    HEADER_LOOKUP,
    NUMERIC_COLUMNS,
    VALUE_LOOKUP,
    VOCABULARIES,
    header_key,
    value_key,
)

#: 1 kN/m² = 1000 N/m² = 101.97 kg/m² under standard gravity; a kilogram-force per
#: square metre (kgf/m², 公斤力/平方米, the unit of older Chinese load tables) is the
#: weight of 1 kg/m², so it converts alike.
KG_PER_KN = 1000.0 / 9.80665
#: A spare roof load above this many kN/m² is taken to be written in kg/m².
LOAD_KG_THRESHOLD = 20.0
#: 1 亩 = 10000/15 m².
M2_PER_MU = 10000.0 / 15.0

_AREA = {"m2": 1.0, "亩": M2_PER_MU}
#: Canonical unit of each numeric column, as shown in messages.
UNIT_LABELS = {
    "roof_load_kn_m2": "kN/m²", "floor_area_m2": "m²", "existing_pv_area_m2": "m²",
    "existing_pv_kw": "kW", "year_built": "years", "floors": "storeys",
}
#: Units a number may carry, per column: spelling (after :func:`unit_key`, which also
#: rewrites 千克, 公斤, 千牛, 平方米, ㎡ …) → factor to the canonical unit.
UNITS: dict[str, dict[str, float]] = {
    "roof_load_kn_m2": {
        **{u: 1.0 for u in ("kn/m2", "kn")},
        **{u: 1.0 / KG_PER_KN for u in ("kg/m2", "kg", "kgf/m2", "kgf")},
    },
    "floor_area_m2": _AREA,
    "existing_pv_area_m2": _AREA,
    "existing_pv_kw": {"kw": 1.0, "kwp": 1.0, "mw": 1000.0, "mwp": 1000.0},
    "year_built": {"年": 1.0},
    "floors": {"层": 1.0},
}
#: Unit words written out, as :func:`unit_key` rewrites them before looking them up.
_UNIT_WORDS = (("千克力", "kgf"), ("公斤力", "kgf"), ("千克", "kg"), ("公斤", "kg"), ("千牛", "kn"), ("kpa", "kn/m2"), ("平方米", "m2"),
               ("平米", "m2"), ("㎡", "m2"), ("m^2", "m2"), ("m²", "m2"), ("每", "/"), ("千瓦", "kw"),
               ("兆瓦", "mw"))

#: Plausible range of each numeric column in its canonical unit: a value outside is
#: treated as blank, with a finding. Loads: GB 50009 roofs carry 0.5–10 kN/m²; years:
#: the oldest building stock still surveyed to next year.
BOUNDS = {
    "roof_load_kn_m2": (0.0, 20.0),
    "year_built": (1900.0, float(pd.Timestamp.now().year + 1)),
    "floors": (1.0, 150.0),
    "floor_area_m2": (1.0, 2_000_000.0),
    "existing_pv_kw": (0.0, 100_000.0),
    "existing_pv_area_m2": (0.0, 1_000_000.0),
}

#: Consequence of a blank cell in the columns that decide suitability and cohorts.
BLANK_MEANS = {
    "township": "the township is taken from the footprint's location",
    "category": "the building is in no policy cohort and gets the default roof type",
    "roof_type": "the roof type is assumed from the building category",
    "roof_load_kn_m2": "the roof stays conditional until a structural check gives its spare load",
    "shading": "the configured default shading class is assumed",
    "grid_condition": "grid connection is not checked",
    "year_built": "the building cannot be placed in a 'new building' cohort",
}

#: How a unit is named in messages (spellings are compared after NFKC, where ² is 2).
_UNIT_NAMES = {"kg/m2": "kg/m²", "kg": "kg/m²", "kgf/m2": "kgf/m²", "kgf": "kgf/m²", "kn/m2": "kN/m²", "kn": "kN/m²",
               "mw": "MW", "mwp": "MWp", "kw": "kW", "kwp": "kWp", "m2": "m²"}

_NUMBER = re.compile(r"^[+]?(?P<num>\d+(?:\.\d*)?|\.\d+)(?P<unit>.*)$")
#: 1,234 / 12,345,678.5: commas between groups of three digits.
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?")
#: 2,5 / 12,75: one comma between digits, not thousands: a decimal comma.
_DECIMAL_COMMA = re.compile(r"^([+-]?\d+),(\d+)(?!\d|,)")
_HEADER_UNIT = re.compile(r"[(（\[【](.*?)[)）\]】]")


def unit_key(text: str) -> str:
    """A unit as :data:`UNITS` spells it: NFKC, lower case, Chinese unit words and square
    metres written the one way (``千克/平方米`` → ``kg/m2``)."""
    key = value_key(text)
    for word, unit in _UNIT_WORDS:
        key = key.replace(word, unit)
    return key


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or (
        isinstance(value, str) and value.strip() == ""
    )


_BLANK_TEXT = np.frompyfunc(lambda v: isinstance(v, str) and not v.strip(), 1, 1)


class _Distinct:
    """A column as codes into its distinct values (−1 = NA), each tested once."""

    def __init__(self, values: pd.Series):
        self.codes, self.values = pd.factorize(values.to_numpy(dtype=object), use_na_sentinel=True)
        # :func:`_blank` of each distinct value, then True for code −1 (NA).
        self.blank = np.append(_BLANK_TEXT(self.values.astype(object)).astype(bool), True)

    def take(self, positions: np.ndarray) -> _Distinct:
        """The same column at ``positions`` (rows kept), sharing the distinct values."""
        out = object.__new__(_Distinct)
        out.codes, out.values, out.blank = self.codes[positions], self.values, self.blank
        return out

    def blanks(self) -> np.ndarray:
        return self.blank[self.codes]


def _blanks(values: pd.Series) -> np.ndarray:
    """:func:`_blank` of every cell of ``values`` (tested once per distinct value)."""
    return _Distinct(values).blanks()


def _suggest(text: str, field: str) -> str:
    spellings = list(VALUE_LOOKUP[field])
    close = difflib.get_close_matches(value_key(text), spellings, n=1, cutoff=0.3)
    known = "、".join(s[0] for s in VOCABULARIES[field].values())
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"{hint}use one of: {known}"


def header_unit(header: object, column: str) -> tuple[str | None, float | None]:
    """The unit written in brackets in ``header`` (``屋面荷载(kg/m²)``) and its factor to
    ``column``'s canonical unit; (None, None) without one, (unit, None) for a unit
    roofpv does not know."""
    if column not in UNITS:
        return None, None
    for text in _HEADER_UNIT.findall(str(header)):
        unit = unit_key(text)
        if not unit:
            continue
        return text, UNITS[column].get(unit)
    return None, None


def unknown_headers(columns: list[object], mapping: dict[object, str], source: str,
                    sheet: str | None = None, row: int | None = None) -> list[Finding]:
    """A finding per header roofpv does not use, naming the nearest known column."""
    keys = list(HEADER_LOOKUP)
    findings = []
    for col in columns:
        if col in mapping or str(col).startswith("column "):
            continue
        close = difflib.get_close_matches(header_key(col), keys, n=1, cutoff=0.5)
        hint = ""
        if close:
            canonical = HEADER_LOOKUP[close[0]]
            chinese = next((a for a in COLUMN_ALIASES[canonical] if not a.isascii()), canonical)
            hint = f"nearest known column: {chinese} ({canonical}); rename the header if that is meant; "
        findings.append(Finding(
            "warning", source, row, None, str(col), None, "column not recognised; ignored",
            f"{hint}known columns: {', '.join(c for c in COLUMN_ALIASES)}", sheet))
    return findings


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


def locate_header(cells: pd.DataFrame, max_rows: int = 10) -> tuple[list[str], int]:
    """Find the header of a sheet read without one, allowing titles above it and
    headers spread over up to three rows (a merged group cell such as 屋面 over 类型 and
    荷载 gives 屋面类型 and 屋面荷载).

    Returns the column names and the 0-based position of the first data row.
    """
    best: tuple[int, int, int] = (-1, 0, 1)  # (recognised columns, start, depth)
    top = cells.iloc[:max_rows].astype(object).where(cells.iloc[:max_rows].notna(), None)
    for start in range(len(top)):
        for depth in (1, 2, 3):
            if start + depth > len(top):
                break
            names = _header_names(top.iloc[start:start + depth])
            found = {HEADER_LOOKUP.get(header_key(n)) for n in names} - {None}
            if len(found) > best[0] and "building_id" in found:
                best = (len(found), start, depth)
    if best[0] < 0:
        raise SurveyError(
            f"no header row with a building id column (e.g. 建筑编号) in the first {max_rows} rows"
        )
    _, start, depth = best
    return _header_names(top.iloc[start:start + depth]), start + depth


def _header_names(rows: pd.DataFrame) -> list[str]:
    """Join a block of header rows column by column; a blank upper cell over a filled
    lower cell continues the group title on its left (a merged cell)."""
    grid = [[None if _blank(v) else str(v).strip() for v in row] for row in rows.to_numpy()]
    for upper, lower in zip(grid[:-1], grid[1:]):
        for j in range(1, len(upper)):
            if upper[j] is None and lower[j] is not None and lower[j - 1] is not None:
                upper[j] = upper[j - 1]
    names = []
    for j in range(len(grid[0])):
        parts = [row[j] for row in grid if row[j] is not None]
        parts = [p for i, p in enumerate(parts) if i == 0 or p != parts[i - 1]]
        names.append("".join(parts) if parts else f"column {j + 1}")
    return names


def normalise_survey(
    raw: pd.DataFrame, source: str, sheet: str | None = None, first_row: int = 2, typed: bool = True,
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
    typed : bool
        Cells carry types (XLSX); False for CSV, whose cells are all text, so numbers
        written as text are not reported.

    Returns
    -------
    survey : DataFrame indexed by ``building_id`` with every canonical column
        (NaN where absent); loads in kN/m².
    findings : list of Finding

    A large table is normalised in blocks of rows the same way (:func:`survey_header`,
    :func:`normalise_rows` per block, :func:`first_of_each_id` and
    :func:`survey_findings` over all blocks); this is the one-block case.
    """
    header = survey_header(list(raw.columns), source, sheet, first_row - 1, typed)
    table, part = normalise_rows(raw, header, np.arange(first_row, first_row + len(raw)))
    keep = first_of_each_id(table.index)
    findings = survey_findings(header, [part], part.rows[~keep], table.index[~keep].to_numpy())
    return settle_dtypes(table.iloc[np.flatnonzero(keep)]), findings


def settle_dtypes(table: pd.DataFrame) -> pd.DataFrame:
    """``table``'s text columns as a table normalised from its rows alone holds them:
    pandas' ``str`` dtype where a column holds some text, else an object column of None
    (blocks normalised apart and joined, or rows left out, may hold either)."""
    changes = {}
    for c in table.columns:
        values = table[c]
        if not (isinstance(values.dtype, pd.StringDtype) or values.dtype == object):
            continue
        if values.isna().all():
            changes[c] = np.full(len(table), None, object)
        elif values.dtype == object and pd.api.types.infer_dtype(values, skipna=True) == "string":
            changes[c] = values.astype("str")
    return table.assign(**changes) if changes else table


@dataclass(frozen=True)
class SurveyHeader:
    """A survey's header as roofpv reads it: raw header → canonical column, the unit
    each numeric column's header names, and the findings on the header alone."""

    columns: list
    mapping: dict
    #: (unit, factor) named in the header of each numeric column roofpv understands.
    units: dict[str, tuple[str, float]]
    #: Headers roofpv does not use.
    unknown: list[Finding]
    #: A numeric column's header naming a unit roofpv does not know.
    unit_findings: dict[str, Finding]
    source: str
    sheet: str | None
    #: Spreadsheet row of the header (its last row), quoted in findings.
    row: int | None
    typed: bool


def survey_header(columns: list, source: str, sheet: str | None = None, row: int | None = 1,
                  typed: bool = True) -> SurveyHeader:
    """The :class:`SurveyHeader` of a survey with raw headers ``columns`` (header on
    spreadsheet row ``row``); :class:`SurveyError` without a building id column."""
    mapping = map_headers(columns, source)
    units, unit_findings = {}, {}
    for header, column in mapping.items():
        if column not in NUMERIC_COLUMNS:
            continue
        unit, factor = header_unit(header, column)
        if unit is not None and factor is None:
            unit_findings[column] = Finding(
                "warning", source, row, None, column, str(header),
                f"unit {unit!r} in the header not understood; numbers read in {UNIT_LABELS[column]}",
                f"write the unit as one of {', '.join(UNITS[column])}", sheet)
        elif factor is not None:
            units[column] = (unit, factor)
    return SurveyHeader(columns=columns, mapping=mapping, units=units,
                        unknown=unknown_headers(columns, mapping, source, sheet, row),
                        unit_findings=unit_findings, source=source, sheet=sheet, row=row, typed=typed)


@dataclass(frozen=True)
class SurveyPart:
    """What :func:`survey_findings` needs of a block of survey rows normalised on its own."""

    #: Spreadsheet row of each row the block's table holds (those with an id; a repeated
    #: id included: :func:`first_of_each_id` on the table's index tells which to keep).
    rows: np.ndarray
    #: Rows not wholly blank.
    filled: int
    #: Per id repair (:data:`roofpv.inputs.ids.REPAIRS`, in the order first met): rows
    #: repaired, and the first one's spreadsheet row, cleaned id and cell as written.
    repaired: dict[str, tuple[int, int, str, object]]
    #: Rows without an id (skipped).
    missing: list[Finding]
    #: Per canonical column: the findings on its values, then on its blank cells.
    issues: dict[str, list[Finding]]
    blanks: dict[str, list[Finding]]


def normalise_rows(raw: pd.DataFrame, header: SurveyHeader, rows: np.ndarray) -> tuple[pd.DataFrame, SurveyPart]:
    """Survey rows ``raw`` (cells as read, raw headers; on spreadsheet rows ``rows``) in
    canonical columns, codes and units, indexed by ``building_id``:
    every row with an id, repeated ids included; and what their findings need
    (:class:`SurveyPart`). Blank rows and rows without id are left out."""
    source, sheet, mapping = header.source, header.sheet, header.mapping
    table = raw[list(mapping)].rename(columns=mapping)
    table.index = rows
    distinct = {c: _Distinct(table[c]) for c in table.columns}
    if distinct:
        filled = np.flatnonzero(~np.column_stack([d.blanks() for d in distinct.values()]).all(axis=1))
        table = table.iloc[filled]
        distinct = {c: d.take(filled) for c, d in distinct.items()}
    ids, repaired = clean_ids(table["building_id"])
    repairs = {}
    for repair, rows in repaired.items():
        raw_ids = table["building_id"].iloc[rows]
        repairs[repair] = (len(rows), int(raw_ids.index[0]), ids.iloc[rows[0]], raw_ids.iloc[0])
    missing = [Finding("error", source, int(row), None, "building_id", None, "row has no building id and is skipped",
                       "fill in 建筑编号 so the row can be joined to its footprint", sheet)
               for row in ids.index[ids.isna()]]
    keep = ids.notna().to_numpy()
    table, ids = table.loc[keep], ids[keep]
    distinct = {c: d.take(np.flatnonzero(keep)) for c, d in distinct.items()}

    found: list[Finding] = []

    def report(level, row, bid, column, value, problem, fix):
        found.append(Finding(level, source, int(row), bid, column, value, problem, fix, sheet))

    out = pd.DataFrame(index=pd.Index(ids.to_numpy(), name="building_id"))
    issues, blanks = {}, {}
    for column in COLUMN_ALIASES:
        if column == "building_id":
            continue
        values = table[column] if column in table else pd.Series(np.nan, index=table.index)
        cells = distinct[column] if column in distinct else _Distinct(values)
        if column in VOCABULARIES:
            parsed = _parse_codes(values, cells, ids, column, report)
        elif column in NUMERIC_COLUMNS:
            parsed = _parse_numbers(values, cells, ids, column, report, header.typed,
                                    header_unit=header.units.get(column))
        else:  # text, stripped (each distinct value once)
            text = pd.Series(cells.values, dtype=object).astype("string").str.strip().astype(object)
            parsed = pd.Series(np.append(text.to_numpy(), None)[cells.codes], index=values.index,
                               dtype=object).where(~cells.blanks(), None)
        out[column] = parsed.to_numpy()
        issues[column], found = found, []
        if column in BLANK_MEANS and column in table:
            for row in values.index[cells.blanks()]:
                report("info", row, ids[row], column, None, f"blank cell: {BLANK_MEANS[column]}",
                       "fill in the cell")
        blanks[column], found = found, []
    part = SurveyPart(rows=table.index.to_numpy(), filled=len(keep),
                      repaired=repairs, missing=missing, issues=issues, blanks=blanks)
    return out, part


def first_of_each_id(ids: pd.Index) -> np.ndarray:
    """Which rows of a survey with (cleaned) ``ids`` are used: the first of each id
    (ids held as Arrow strings told by :func:`repeat_counts`, without a Python string
    and a hash table entry per id)."""
    if isinstance(ids.array, pd.arrays.ArrowStringArray):
        return repeat_counts(arrow_strings(ids)) == 0
    return ~ids.duplicated(keep="first")


def arrow_strings(index: pd.Index):
    """The text ``index`` as one Arrow array of large strings (no copy where it is one)."""
    import pyarrow as pa

    if isinstance(index.array, pd.arrays.ArrowStringArray):
        values = pa.array(index.array)
        if isinstance(values, pa.ChunkedArray):
            values = values.chunk(0) if values.num_chunks == 1 else values.combine_chunks()
        return values.cast(pa.large_string())
    return pa.array(index.to_numpy(dtype=object), pa.large_string())


#: Ids compared at a time by :func:`repeat_counts`.
REPEAT_SLICE = 100_000


def repeat_counts(ids) -> np.ndarray:
    """How many times each of the Arrow strings ``ids`` (no nulls) came before: 0 for
    the first of each id. Found by a stable sort of the ids, 9 bytes an id besides them
    (a hash table of them took ≈ 90)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    order = pc.sort_indices(ids).to_numpy()  # stable: a repeat after its first
    same = np.zeros(len(ids), bool)  # in sorted order: the same id as the one before
    for at in range(0, len(ids), REPEAT_SLICE):
        run = ids.take(pa.array(order[max(at - 1, 0):at + REPEAT_SLICE]))
        equal = pc.equal(run[1:], run[:-1]).to_numpy(zero_copy_only=False)
        same[at + (at == 0):at + (at == 0) + len(equal)] = equal
    repeat = np.zeros(len(ids), np.int64)
    if same.any():
        position = np.arange(len(ids))
        first = np.maximum.accumulate(np.where(same, 0, position))
        repeat[order] = position - first
    return repeat


def survey_findings(header: SurveyHeader, parts: list[SurveyPart], repeated_rows: np.ndarray,
                    repeated_ids: np.ndarray) -> list[Finding]:
    """The findings of a survey normalised in blocks (``parts``, in row order), in the
    order the table read whole gives them: the header's, ids repaired, rows without id,
    rows repeating an earlier id (``repeated_rows``/``repeated_ids``, in row order, left
    out), then column by column the values' findings and the blank cells' (none on a
    left-out row)."""
    source, sheet = header.source, header.sheet
    findings = list(header.unknown)
    if not sum(p.filled for p in parts):
        findings.append(Finding("warning", source, header.row, None, None, None,
                                "survey has a header but no data rows; every footprint is "
                                "assessed with default values", "fill in the survey rows", sheet))
    repairs: dict[str, list] = {}
    for part in parts:
        for repair, (count, row, bid, example) in part.repaired.items():
            if repair in repairs:
                repairs[repair][0] += count
            else:
                repairs[repair] = [count, row, bid, example]
    for repair, (count, row, bid, example) in repairs.items():
        findings.append(Finding(
            "warning", source, row, bid, "building_id", repr(example),
            f"{count:,} building ids {REPAIRS[repair]}; read as {bid!r}",
            "format the id column as text and type the ids as in the footprint file", sheet))
    findings += [f for part in parts for f in part.missing]
    findings += [Finding("error", source, int(row), bid, "building_id", bid,
                         "duplicate building id; only its first row is used",
                         "give each building its own 建筑编号 or merge the rows", sheet)
                 for row, bid in zip(repeated_rows, repeated_ids)]
    left_out = set(map(int, repeated_rows))
    for column in COLUMN_ALIASES:
        if column == "building_id":
            continue
        if column in header.unit_findings:
            findings.append(header.unit_findings[column])
        for kind in ("issues", "blanks"):
            findings += [f for part in parts for f in getattr(part, kind)[column] if f.row not in left_out]
    return findings


def cell_fits(column: str | None, value: object) -> bool:
    """Whether a cell can be read as the canonical ``column`` (None: a column roofpv
    does not use): blank, a known code of its vocabulary, a number in one of its units,
    or any text for text columns. Tells where an unquoted comma shifted a CSV row."""
    if column is None or _blank(value) or column == "building_id":
        return True
    if column in VOCABULARIES:
        return value_key(value) in VALUE_LOOKUP[column]
    if column in NUMERIC_COLUMNS:
        text = value_key(value).lstrip("'")
        if _THOUSANDS.match(text):
            text = text.replace(",", "")
        match = _NUMBER.match(_DECIMAL_COMMA.sub(r"\1.\2", text, count=1))
        return match is not None and unit_key(match["unit"]) in ("", *UNITS[column])
    return True


def _per_value(values: pd.Series, cells: _Distinct, ids: pd.Series, column: str, report, parse,
               blank_value):
    """Apply ``parse(value) -> (result, issues)`` once per distinct value of ``cells``
    (``values`` factorised) and report each issue (level, problem, fix) on every row
    holding that value, in row order."""
    codes, distinct = cells.codes, cells.values
    parsed = [parse(v) for v in distinct]
    results = np.array([blank_value] + [r for r, _ in parsed], dtype=object)[codes + 1]
    issues = [issue for _, issue in parsed]
    flagged = np.array([False] + [bool(i) for i in issues])[codes + 1]
    rows, keys = values.index.to_numpy(), ids.reindex(values.index).to_numpy()
    for pos in np.flatnonzero(flagged):
        value = distinct[codes[pos]]
        for level, problem, fix in issues[codes[pos]]:
            report(level, rows[pos], keys[pos], column, str(value), problem, fix)
    return results


def _parse_codes(values: pd.Series, cells: _Distinct, ids: pd.Series, column: str, report) -> pd.Series:
    lookup = VALUE_LOOKUP[column]

    def parse(value):
        if _blank(value):
            return None, []
        code = lookup.get(value_key(value))
        if code is None:
            return None, [("warning", f"unknown {column} value", _suggest(str(value), column))]
        if str(value) != str(value).strip():
            return code, [("info", "stray spaces around the value",
                           "trim the cell; roofpv read it as " + repr(str(value).strip()))]
        return code, []

    return pd.Series(_per_value(values, cells, ids, column, report, parse, None), index=values.index,
                     dtype=object)


def _parse_numbers(values: pd.Series, cells: _Distinct, ids: pd.Series, column: str, report,
                   typed: bool = True,
                   header_unit: tuple[str, float] | None = None) -> pd.Series:
    """Numbers in the column's canonical unit. ``typed``: cells carry types (XLSX), so a
    number written as text is reported; in a CSV every cell is text. ``header_unit``:
    the unit the header names and its factor, used for plain numbers. A value outside
    :data:`BOUNDS` is left blank, with a finding."""
    units, canonical = UNITS[column], UNIT_LABELS[column]
    low, high = BOUNDS[column]
    blank_means = BLANK_MEANS.get(column, "the value is unknown")

    def parse(value):
        if _blank(value):
            return np.nan, []
        issues = []
        if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
            number, unit = float(value), ""
        else:
            text = value_key(value).lstrip("'")
            if _THOUSANDS.match(text):
                text = text.replace(",", "")
            elif _DECIMAL_COMMA.match(text):
                text = _DECIMAL_COMMA.sub(r"\1.\2", text, count=1)
                issues.append(("info", "decimal comma read as a decimal point",
                               "write decimals with a point, e.g. 2.5"))
            match = _NUMBER.match(text)
            unit = unit_key(match["unit"]) if match else None
            if match is None or unit not in ("", *units):
                return np.nan, [("warning", "not a number in a known unit; left blank",
                                 f"write a plain number in {canonical}")]
            number = float(match["num"])
            if unit == "" and typed:
                issues.append(("info", "number stored as text", "format the cell as a number"))
        if not np.isfinite(number) or number < 0:
            return np.nan, [*issues, ("warning", "negative or not finite; left blank",
                                      f"write a plain non-negative number in {canonical}")]
        factor = units.get(unit, 1.0)
        if unit == "" and header_unit is not None:
            factor, name = header_unit[1], header_unit[0]
            problem = f"header gives the unit {name}"
            if column == "roof_load_kn_m2" and factor == 1.0 and number > LOAD_KG_THRESHOLD:
                factor = 1.0 / KG_PER_KN
                problem = (f"header says {name} but {number:g} is implausible in kN/m² "
                           f"(> {LOAD_KG_THRESHOLD:g}); read as kg/m²")
        elif unit == "" and column == "roof_load_kn_m2" and number > LOAD_KG_THRESHOLD:
            factor = 1.0 / KG_PER_KN
            problem = f"load implausible in kN/m² (> {LOAD_KG_THRESHOLD:g}), read as kg/m²"
        else:
            problem = f"value written in {_UNIT_NAMES.get(unit, unit)}"
            if header_unit is not None and abs(header_unit[1] - factor) > 1e-12:
                problem = f"cell unit {_UNIT_NAMES.get(unit, unit)} differs from the header's {header_unit[0]}; the cell's unit is used"
        if factor != 1.0 or "differs" in problem:
            issues.append(("warning", f"{problem}; converted to {canonical}",
                           f"roofpv used {number * factor:.4g} {canonical}; write the value in {canonical}"))
        used = number * factor
        if not low <= used <= high:
            return np.nan, [*issues, (
                "warning", f"implausible: {used:.4g} {canonical} is outside {low:g}–{high:g}; "
                f"treated as blank: {blank_means}",
                f"check the value; roofpv used none (a plausible {column} lies in {low:g}–{high:g} {canonical})")]
        return used, issues

    return pd.Series(_per_value(values, cells, ids, column, report, parse, np.nan), index=values.index,
                     dtype=float)
