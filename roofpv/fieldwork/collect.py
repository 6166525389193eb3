"""Returned survey forms → one survey table (pure; :mod:`roofpv.io.form_workbooks` reads the files).

Forms come back in any order, several times for one township, sometimes filled by two
offices. Every cell is an *observation* with a time (the form's 填报日期, else the file
time): the newest valid observation of a building and column wins. A cell counts as an
observation when the office changed what was issued, when it confirmed the row
(已核实 = 是), or, for values the survey already held, as issued (at the issue date, so
any edit is newer). DSM estimates that nobody confirmed or changed are not survey values.

Every edit is kept in the history; edits of one cell to different values by two offices
are conflicts; rows whose building id was not issued are new buildings to digitise;
values outside the drop-down lists or number ranges are reported with file, sheet, row
and column and not taken.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from roofpv.fieldwork.forms import CONFIRMED_YES, is_survey, survey_columns
from roofpv.findings import Finding
from roofpv.inputs.survey_table import _blanks, normalise_survey
from roofpv.schema import value_key


@dataclass(frozen=True)
class Returned:
    """A returned form as read: who sent it, when, and its rows.

    ``rows``: the data sheet's rows (index: spreadsheet row) with columns by form key
    (``building_id``, survey keys, ``confirmed``), cells as found; ``issued``: what
    roofpv sent (index ``building_id``, survey keys, display values); ``estimates``:
    True where a sent value was a DSM estimate; ``measured``: the DSM shading class code
    of each issued building (None where not measured). ``filled``: the 填报日期 cell, else
    the file time (``filled_from`` says which).
    """

    path: Path
    form_id: str
    township: str
    village: str | None
    issued_on: str
    office: str | None
    person: str | None
    filled: dt.datetime
    filled_from: str
    sheet: str
    rows: pd.DataFrame
    issued: pd.DataFrame
    estimates: pd.DataFrame
    measured: pd.Series

    @property
    def sender(self) -> str:
        """Who sent the form: the office named in it, else the form id."""
        return self.office or f"{self.form_id}（未填填报单位）"


@dataclass(frozen=True)
class Collected:
    """The merged survey and everything found while merging.

    ``survey``: one row per surveyed building (index ``building_id``, survey keys) with
    the values to write (Chinese labels as written, numbers in canonical units);
    ``history``, ``conflicts``, ``new_rows``, ``returns``: tables for the workbook;
    ``problems``: findings with file, sheet, row, building id, column and value.
    """

    survey: pd.DataFrame
    history: pd.DataFrame
    conflicts: pd.DataFrame
    new_rows: pd.DataFrame
    returns: pd.DataFrame
    problems: list[Finding]


#: Survey keys of a form, in order (building id first).
KEYS = [c.key for c in survey_columns(2000) if is_survey(c)]
FIELDS = [k for k in KEYS if k != "building_id"]
_RANGES = {c.key: c for c in survey_columns(2100) if c.kind == "number"}
#: Finding problems of :func:`roofpv.inputs.survey_table.normalise_survey` that mean a cell was not used.
_UNUSABLE = ("unknown", "not a number", "negative or not finite")


def _same(a: pd.DataFrame, b: pd.DataFrame) -> np.ndarray:
    """Cell by cell: both blank, or equal (numbers to 1e-9 relative)."""
    out = np.zeros(a.shape, bool)
    for j, key in enumerate(a.columns):
        x, y = a[key], b[key]
        blank_x, blank_y = x.isna().to_numpy(), y.isna().to_numpy()
        if key in _RANGES:
            fx, fy = x.astype(float).to_numpy(), y.astype(float).to_numpy()
            with np.errstate(invalid="ignore"):
                equal = np.abs(fx - fy) <= 1e-9 * np.maximum(1.0, np.abs(fy))
        else:
            equal = (x.astype(object).astype(str).to_numpy() == y.astype(object).astype(str).to_numpy())
        out[:, j] = (blank_x & blank_y) | (~blank_x & ~blank_y & equal)
    return out


def _display(canonical: pd.DataFrame, raw: pd.DataFrame) -> pd.DataFrame:
    """The values to write for valid cells: the trimmed spelling for lists and text, the
    number in canonical units (whole numbers as int); None where blank."""
    out = pd.DataFrame(index=canonical.index, columns=canonical.columns, dtype=object)
    for key in canonical.columns:
        value = canonical[key]
        if key in _RANGES:
            whole = _RANGES[key].whole
            shown = value.astype(float).map(
                lambda v, whole=whole: None if v != v else int(v) if whole and float(v).is_integer() else float(v))
        else:
            shown = raw[key].map(lambda v: None if v is None or v != v else str(v).strip())
        out[key] = shown.where(value.notna(), None).astype(object)
    return out


def _out_of_range(canonical: pd.DataFrame, issue_year: int) -> dict[str, np.ndarray]:
    """Per numeric column, the cells outside the form's range."""
    out = {}
    for key, column in _RANGES.items():
        value = canonical[key].astype(float).to_numpy()
        high = issue_year if key == "year_built" else column.high
        with np.errstate(invalid="ignore"):
            bad = (value < column.low) | (value > high)
            if column.whole:
                bad |= np.isfinite(value) & (value != np.round(value))
        out[key] = bad
    return out


def _range_text(key: str, issue_year: int) -> str:
    column = _RANGES[key]
    high = issue_year if key == "year_built" else column.high
    kind = "a whole number" if column.whole else "a number"
    return f"outside the form's range: {kind} from {column.low:g} to {high:g} {column.unit}; not taken"


def _rows(r: Returned) -> pd.DataFrame:
    """Rows with any content, ids as trimmed text (None when blank)."""
    rows = r.rows.reindex(columns=[*KEYS, "confirmed"])
    content = ~np.column_stack([_blanks(rows[c]) for c in rows.columns]).all(axis=1)
    rows = rows.loc[content].copy()
    blank = _blanks(rows["building_id"])
    rows["building_id"] = rows["building_id"].astype(str).str.strip().where(~blank, None)
    return rows


def collect(returns: list[Returned]) -> Collected:
    """Merge returned forms (any number, any order) into one survey table."""
    order = sorted(range(len(returns)), key=lambda i: (returns[i].filled, returns[i].path.name))
    observations: list[pd.DataFrame] = []
    problems: list[Finding] = []
    new_rows: list[dict] = []
    seen_files: list[dict] = []
    confirmed: set[str] = set()
    for rank, i in enumerate(order):
        r = returns[i]
        source, year = str(r.path), int(r.issued_on[:4])
        rows = _rows(r)
        issued_canonical, _ = normalise_survey(
            r.issued.reset_index()[KEYS], source, r.sheet, 2) if len(r.issued) else (pd.DataFrame(), [])
        seen_files.append({"file": source, "form": r.form_id, "office": r.office, "person": r.person,
                           "filled": r.filled, "filled_from": r.filled_from, "issued": r.issued_on,
                           "rows": len(rows), "order": rank})

        def problem(level, row, bid, column, value, text, fix, r=r):
            problems.append(Finding(level, str(r.path), int(row), bid, column,
                                    None if value is None else str(value), text, fix, r.sheet))

        for row in rows.index[rows["building_id"].isna()]:
            new_rows.append(_new_row(r, row, rows.loc[row], None))
            problem("warning", row, None, "building_id", None,
                    "row added in the field without a building id; not taken",
                    "give the new building an id (e.g. 新增-01) and digitise its footprint")
        rows = rows[rows["building_id"].notna()]
        duplicate = rows["building_id"].duplicated(keep="first")
        for row in rows.index[duplicate]:
            problem("error", row, rows.at[row, "building_id"], "building_id", rows.at[row, "building_id"],
                    "building id appears twice in this form; only its first row is used",
                    "delete the repeated row or give the building its own id")
        rows = rows[~duplicate]
        if rows.empty:
            continue
        first = int(rows.index[0])
        table = rows.reset_index(drop=True)[KEYS]
        canonical, found = normalise_survey(table, source, r.sheet, 0)
        # Spreadsheet rows of ``rows`` by position: normalise_survey numbers rows from 0 here.
        sheet_row = dict(enumerate(rows.index))
        bad: set[tuple[str, str]] = set()
        for f in found:
            row = sheet_row.get(f.row, first)
            if f.level == "info":
                continue
            unusable = f.problem.startswith(_UNUSABLE)
            if unusable:
                bad.add((f.building_id, f.column))
            problem("warning", row, f.building_id, f.column, f.value,
                    ("value outside the form's list or range; not taken: " if unusable else
                     "value outside the form's list or range; taken as converted: ") + f.problem, f.fix)
        raw = rows.set_index("building_id")
        ids = canonical.index
        raw = raw.loc[ids]
        sheet_rows = pd.Series(rows.index, index=rows["building_id"].to_numpy()).loc[ids].to_numpy()
        new = ~ids.isin(r.issued.index)
        flag = raw["confirmed"].map(lambda v: isinstance(v, str) and value_key(v) == CONFIRMED_YES).to_numpy(bool)
        confirmed.update(ids[flag])
        for k in np.flatnonzero(new):
            new_rows.append(_new_row(r, sheet_rows[k], raw.iloc[k], ids[k]))
            problem("info", sheet_rows[k], ids[k], "building_id", ids[k],
                    "building added in the field (id not issued in this form)",
                    "digitise its footprint so the building can be assessed")
        values = canonical[FIELDS].copy()
        cells = raw[FIELDS].copy()
        blank_town = values["township"].isna()
        values.loc[blank_town, "township"] = r.township
        cells.loc[blank_town, "township"] = r.township
        usable = np.ones(values.shape, bool)
        for bid, key in bad:
            if key in FIELDS and bid in ids:
                usable[ids.get_loc(bid), FIELDS.index(key)] = False
        for key, out in _out_of_range(values, year).items():
            j = FIELDS.index(key)
            for k in np.flatnonzero(out & usable[:, j]):
                problem("warning", sheet_rows[k], ids[k], key, cells.iat[k, j], _range_text(key, year),
                        f"write a value in {_RANGES[key].unit}")
            usable[:, j] &= ~out
        base = issued_canonical.reindex(ids)[FIELDS] if len(issued_canonical) else values.iloc[:0].reindex(ids)
        estimate = r.estimates.reindex(index=ids, columns=FIELDS, fill_value=False).fillna(False).to_numpy(bool)
        same = _same(values, base)
        filled = values.notna().to_numpy()
        base_filled = base.notna().to_numpy()
        kind = np.select(
            [new[:, None] & filled, new[:, None] & ~filled, ~same, flag[:, None],
             ~estimate & base_filled],
            ["new", "", "edit", "confirmed", "issued"], "")
        kind = np.where(usable, kind, "")
        shown = _display(values, cells).to_numpy(dtype=object)
        codes = values.to_numpy(dtype=object)
        issued_shown = r.issued.reindex(index=ids, columns=FIELDS).to_numpy(dtype=object)
        rr, cc = np.nonzero(kind != "")
        issue_time = _issue_time(r)
        observations.append(pd.DataFrame({
            "building_id": ids.to_numpy()[rr], "column": np.array(FIELDS, dtype=object)[cc],
            "value": shown[rr, cc], "code": codes[rr, cc],
            "time": np.where(kind[rr, cc] == "issued", issue_time, r.filled),
            "order": rank, "kind": kind[rr, cc], "file": source, "sheet": r.sheet, "row": sheet_rows[rr],
            "form": r.form_id, "office": r.sender,
            "issued_value": np.where(new[rr], None, issued_shown[rr, cc]),
        }))
    columns = ["building_id", "column", "value", "code", "time", "order", "kind", "file", "sheet",
               "row", "form", "office", "issued_value"]
    obs = pd.concat(observations, ignore_index=True) if observations else pd.DataFrame(columns=columns)
    obs = obs.sort_values(["building_id", "column", "time", "order"], kind="stable").reset_index(drop=True)
    obs["taken"] = ~obs.duplicated(["building_id", "column"], keep="last")
    winners = obs[obs["taken"]]
    survey = winners.pivot(index="building_id", columns="column", values="value").reindex(columns=FIELDS)
    has_value = winners[winners["column"] != "township"].groupby("building_id")["value"].apply(
        lambda v: v.notna().any())
    keep = has_value[has_value].index.union(pd.Index(sorted(confirmed))).intersection(survey.index)
    survey = survey.loc[keep.sort_values()].astype(object)
    survey = survey.where(survey.notna(), None)
    history = obs[obs["kind"].isin(["edit", "new"])].drop(columns=["code", "order"])
    new_table = pd.DataFrame(new_rows, columns=[
        "file", "sheet", "row", "form", "office", "building_id", "township", "name", "category", "note", "action"])
    new_table = new_table.sort_values(["file", "row"], kind="stable").reset_index(drop=True)
    return Collected(survey, history.reset_index(drop=True), _conflicts(obs), new_table,
                     _returns(pd.DataFrame(seen_files)), problems)


def _issue_time(r: Returned) -> dt.datetime:
    return dt.datetime.fromisoformat(r.issued_on)


def _new_row(r: Returned, row: int, cells: pd.Series, bid: str | None) -> dict:
    return {"file": str(r.path), "sheet": r.sheet, "row": int(row), "form": r.form_id, "office": r.sender,
            "building_id": bid, "township": cells.get("township") or r.township,
            "name": cells.get("name"), "category": cells.get("category"), "note": cells.get("note"),
            "action": "补绘建筑轮廓" + ("" if bid else "并编号")}


def _conflicts(obs: pd.DataFrame) -> pd.DataFrame:
    """Cells edited to different values by two or more senders: each edit with the value
    taken in the end."""
    edits = obs[obs["kind"].isin(["edit", "new"])]
    edits = edits[edits.groupby(["building_id", "column"])["office"].transform("nunique").gt(1)]
    codes = edits["code"].map(lambda v: "∅" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v))
    clash = codes.groupby([edits["building_id"], edits["column"]]).transform("nunique").gt(1)
    out = edits[clash].drop(columns=["code", "order", "kind"])
    taken = obs[obs["taken"]].set_index(["building_id", "column"])["value"]
    out = out.assign(final=[taken.get((b, c)) for b, c in zip(out["building_id"], out["column"])])
    return out.reset_index(drop=True)


def _returns(files: pd.DataFrame) -> pd.DataFrame:
    """Returned files, newest last, with whether a later file of the same form followed."""
    if files.empty:
        return files
    files = files.sort_values("order")
    later = files.groupby("form")["order"].transform("max") > files["order"]
    return files.assign(status=np.where(later, "superseded", "latest")).drop(columns="order")

