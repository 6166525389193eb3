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
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from roofpv.config import Config
from roofpv.fieldwork import completeness
from roofpv.fieldwork.forms import CONFIRMED_YES, is_survey, survey_columns
from roofpv.findings import Finding, findings_frame
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


def filled_in(r: Returned) -> bool:
    """Whether an office entered anything into the form: its name, person or date, a
    value that differs from what was issued, a confirmed row or a new row."""
    if r.office or r.person or r.filled_from != "file time":
        return True
    merged = collect([r])
    return len(merged.history) > 0 or len(merged.new_rows) > 0 or bool(
        _rows(r)["confirmed"].map(lambda v: isinstance(v, str) and value_key(v) == CONFIRMED_YES).any())


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



# ---------------------------------------------------------------------------------------
# The survey workbook of `roofpv collect`
# ---------------------------------------------------------------------------------------

#: Chinese (English) headers of the survey workbook's tables.
HEADERS = {
    "building_id": "建筑编号 building id", "column": "列 column", "value": "值 value",
    "time": "时间 time", "kind": "类型 kind", "file": "文件 file", "sheet": "工作表 sheet",
    "row": "行 row", "form": "表单 form", "office": "填报单位 office", "issued_value": "发放值 issued",
    "taken": "采用 taken", "final": "最终值 final", "township": "镇街道 township", "name": "建筑名称 name",
    "category": "建筑类别 category", "note": "备注 note", "action": "处理 action", "level": "级别 level",
    "problem": "问题 problem", "fix": "处理建议 fix", "person": "填报人 person", "filled": "填报日期 filled",
    "filled_from": "日期来源 date from", "issued": "发放日期 issued", "rows": "行数 rows",
    "status": "状态 status", "buildings": "建筑数 buildings", "returns": "报送次数 returns",
    "latest": "最近报送 latest", "senders": "报送单位 senders", "surveyed": "已调查 surveyed",
    "surveyed_share": "已调查比例 surveyed share", "complete": "关键列齐全 complete",
    "complete_share": "齐全比例 complete share", "field_check": "需现场复核 field check",
    "cohort_unknown": "无法判定是否属政策对象 cohort unknown", "measured": "DSM遮挡 DSM shading",
}
#: Name of the survey sheet when the config names none.
SURVEY_SHEET = "屋顶普查"


@dataclass(frozen=True)
class CollectedSurvey:
    """The survey workbook ``roofpv collect`` writes, and what it tells the user.

    ``sheets``: sheet name → table as written (the survey sheet named as
    ``inputs.survey_sheet``, then 完成情况, 各列完成率, 表单状态, 修改记录, 冲突, 新增建筑,
    问题, 报送文件, 现场复核; Chinese headers); ``merged``: the merge of the returns
    (:func:`collect`); ``townships``: completeness per township, the total row
    (:data:`~roofpv.fieldwork.completeness.TOTAL`) last
    (:func:`~roofpv.fieldwork.completeness.summary`); ``forms``: each issued form's
    returns, latest date and status (``returned``, ``stale``, ``missing``); ``problems``:
    the unreadable workbooks and what the merge found; ``forms_read``: forms read.
    """

    sheets: dict[str, pd.DataFrame]
    merged: Collected
    townships: pd.DataFrame
    forms: pd.DataFrame
    problems: list[Finding]
    forms_read: int

    @property
    def conflicting_cells(self) -> int:
        """Cells (building and column) that two offices filled differently."""
        return len(self.merged.conflicts[["building_id", "column"]].drop_duplicates())


def issued_listing(returns: list[Returned]) -> pd.DataFrame:
    """What was issued, as far as the returned forms tell (when the listing of ``roofpv
    forms`` is not at hand): by ``building_id``, its ``form``, ``township``, ``issued``
    date and ``measured_shading``; a building on two forms counts on the last one."""
    listing = pd.concat([pd.DataFrame({"form": r.form_id, "township": r.township, "issued": r.issued_on,
                                       "measured_shading": r.measured.to_numpy(object)},
                                      index=r.issued.index) for r in returns])
    return listing[~listing.index.duplicated(keep="last")]


def collect_survey(returns: list[Returned], config: Config, as_of: dt.datetime,
                   listing: pd.DataFrame | None = None, unreadable: Sequence[Finding] = (),
                   stale_days: int = 30) -> CollectedSurvey:
    """Merge returned forms into the survey workbook and measure how complete the survey is.

    Parameters
    ----------
    returns : the returned forms (:func:`roofpv.io.form_workbooks.read_returns`), any
        order, several versions of a form allowed.
    config : names the survey sheet (``inputs.survey_sheet``) and the policy targets whose
        cohorts' completeness is counted.
    as_of : the date staleness is measured at.
    listing : what was issued (:func:`roofpv.io.form_workbooks.read_issued`, by building
        id); None: only the returned forms count (:func:`issued_listing`), so no form is
        missing.
    unreadable : findings on workbooks that could not be read, listed with the problems.
    stale_days : a form last returned more than this many days before ``as_of`` is stale.
    """
    merged = collect(returns)
    problems = [*unreadable, *merged.problems]
    if listing is None:
        listing = issued_listing(returns)
    canonical, _ = normalise_survey(merged.survey.reset_index(), "collected survey", None, first_row=2)
    measured = listing["measured_shading"]
    status = completeness.building_status(listing[["township", "form"]], canonical, measured.where(measured.notna()))
    order = list(dict.fromkeys(listing["township"]))
    targets = list(config.policy.targets)
    by_town = completeness.summary(status, targets, order)
    by_column = completeness.column_shares(status, order)
    issued_forms = listing.groupby("form", sort=False).agg(
        township=("township", "first"), buildings=("township", "size"), issued=("issued", "first"))
    forms_status = completeness.form_status(issued_forms, merged.returns, as_of, stale_days)
    checks = status[status["field_check"]].join(canonical[["shading"]]).assign(
        measured=measured)[["township", "form", "shading", "measured"]]

    labels = {c.key: c.header for c in survey_columns(as_of.year)}
    sheet = config.inputs.survey_sheet if isinstance(config.inputs.survey_sheet, str) else SURVEY_SHEET
    col_labels = {**HEADERS, **{k: v for k, v in labels.items() if k not in HEADERS}}
    t_labels = {f"{t.name}_{s}": f"{t.label} {w}" for t in targets
                for s, w in (("cohort", "政策对象建筑数"), ("complete", "齐全数"), ("complete_share", "齐全比例"))}

    def table(frame, index=False):
        frame = frame.reset_index() if index else frame
        return frame.rename(columns={**col_labels, **t_labels})

    sheets = {
        sheet: merged.survey.reset_index().rename(columns=labels),
        "完成情况": table(by_town, index=True),
        "各列完成率": table(by_column, index=True),
        "表单状态": table(forms_status, index=True),
        "修改记录": table(merged.history),
        "冲突": table(merged.conflicts),
        "新增建筑": table(merged.new_rows),
        "问题": table(findings_frame(problems)),
        "报送文件": table(merged.returns),
        "现场复核": table(checks.rename_axis("building_id"), index=True),
    }
    return CollectedSurvey(sheets, merged, by_town, forms_status, problems, len(returns))
