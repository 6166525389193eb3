"""How far the survey has got: per township and per column, the share of buildings
surveyed and of policy-cohort buildings fully surveyed, which forms are missing or stale,
and the roofs where the survey contradicts the DSM (pure).

A building is *surveyed* when the survey has a row for it and *complete* when every
column that decides its suitability and cohort is filled (:data:`DECISIVE`). Cohort
membership needs the surveyed category and year built, so the cohort counts cover the
buildings whose survey places them in the cohort; ``cohort_unknown`` counts those the
survey cannot place yet (category or year blank).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from roofpv.config import Target
from roofpv.schema import SHADING_CLASSES
from roofpv.targets.policy import in_cohort

#: Columns that decide a roof's suitability and its policy cohorts.
DECISIVE = ("category", "year_built", "roof_type", "roof_load_kn_m2", "shading", "grid_condition")
#: Survey columns whose fill rate is reported (the township comes with the form).
COLUMNS = ("name", "address", "category", "owner_type", "roof_type", "roof_load_kn_m2", "shading",
           "grid_condition", "transformer_id", "year_built", "floors", "floor_area_m2",
           "existing_pv_kw", "existing_pv_area_m2")
#: Name of the all-townships row.
TOTAL = "合计"
#: Status of an issued form.
MISSING, STALE, RETURNED = "missing", "stale", "returned"


def contradicts(surveyed: np.ndarray, measured: np.ndarray) -> np.ndarray:
    """Surveyed shading classes more than one class away from the DSM-measured ones
    (False where either is missing): the roofs to check in the field."""
    rank = {c: i for i, c in enumerate(SHADING_CLASSES)}
    a = pd.Series(surveyed, dtype=object).map(rank).to_numpy(float)
    b = pd.Series(measured, dtype=object).map(rank).to_numpy(float)
    with np.errstate(invalid="ignore"):
        return np.abs(a - b) > 1


def building_status(issued: pd.DataFrame, survey: pd.DataFrame, measured: pd.Series | None = None
                    ) -> pd.DataFrame:
    """One row per issued building (and per surveyed building not issued).

    Parameters
    ----------
    issued : index ``building_id``, ``township`` and ``form`` of every issued building
    survey : the survey table in canonical codes (:func:`roofpv.inputs.survey_table.normalise_survey`)
    measured : DSM shading class code per building (missing where not measured)

    Returns
    -------
    ``township``, ``form``, ``surveyed``, ``complete``, ``category``, ``year_built``,
    ``field_check`` and ``has_<column>`` for each of :data:`COLUMNS`.
    """
    index = issued.index.union(survey.index)
    out = pd.DataFrame(index=index)
    out["township"] = issued["township"].reindex(index).fillna(survey.get("township", pd.Series(dtype=object)))
    out["form"] = issued["form"].reindex(index)
    s = survey.reindex(index)
    out["surveyed"] = index.isin(survey.index)
    for column in COLUMNS:
        out[f"has_{column}"] = s[column].notna().to_numpy() if column in s else False
    out["complete"] = np.logical_and.reduce([out[f"has_{c}"].to_numpy() for c in DECISIVE])
    out["category"] = s["category"].to_numpy() if "category" in s else None
    out["year_built"] = pd.to_numeric(s.get("year_built"), errors="coerce").to_numpy(float)
    shading = s["shading"].to_numpy(object) if "shading" in s else np.full(len(s), None, object)
    found = (measured.reindex(index) if measured is not None else pd.Series(None, index)).to_numpy(object)
    out["field_check"] = out["surveyed"].to_numpy() & contradicts(shading, found)
    return out


def from_buildings(b: pd.DataFrame) -> pd.DataFrame:
    """:func:`building_status` of an assessed buildings table (a run's ``buildings``):
    survey values are those whose source is the survey."""
    out = pd.DataFrame(index=b.index)
    out["township"] = b["township"]
    out["form"] = None
    out["surveyed"] = b["has_survey"].astype(bool)
    surveyed_value = {
        "roof_type": b["roof_type_source"].eq("survey") if "roof_type_source" in b else b["roof_type"].notna(),
        "shading": b["shading_source"].eq("survey") if "shading_source" in b else b["shading"].notna(),
    }
    for column in COLUMNS:
        has = surveyed_value.get(column, b[column].notna() if column in b else pd.Series(False, b.index))
        out[f"has_{column}"] = has.to_numpy(bool) & out["surveyed"].to_numpy()
    out["complete"] = np.logical_and.reduce([out[f"has_{c}"].to_numpy() for c in DECISIVE])
    out["category"] = b["category"]
    out["year_built"] = pd.to_numeric(b["year_built"], errors="coerce")
    out["field_check"] = b["field_check"].fillna(False).astype(bool) if "field_check" in b else False
    return out


def summary(status: pd.DataFrame, targets: list[Target], order: list[str] | None = None) -> pd.DataFrame:
    """Per township (in ``order`` first) and a :data:`TOTAL` row: ``buildings``,
    ``surveyed`` and ``complete`` (counts and ``*_share``), ``field_check`` and for each
    target ``<name>_cohort`` (buildings the survey places in the cohort),
    ``<name>_complete`` and its share, and ``cohort_unknown``."""
    frame = status.assign(
        buildings=1, cohort_unknown=~(status["has_category"] & status["has_year_built"]))
    sums = ["buildings", "surveyed", "complete", "field_check", "cohort_unknown"]
    for t in targets:
        cohort = in_cohort(frame, t).fillna(False).to_numpy(bool)
        frame[f"{t.name}_cohort"] = cohort
        frame[f"{t.name}_complete"] = cohort & frame["complete"].to_numpy(bool)
        sums += [f"{t.name}_cohort", f"{t.name}_complete"]
    frame[sums] = frame[sums].astype(int)
    table = frame.groupby("township")[sums].sum()
    towns = [t for t in (order or []) if t in table.index]
    table = table.loc[towns + sorted(set(table.index) - set(towns))]
    table.loc[TOTAL] = table.sum()
    table = table.astype(int)
    with np.errstate(invalid="ignore", divide="ignore"):
        table["surveyed_share"] = table["surveyed"] / table["buildings"]
        table["complete_share"] = table["complete"] / table["buildings"]
        for t in targets:
            table[f"{t.name}_complete_share"] = table[f"{t.name}_complete"] / table[f"{t.name}_cohort"]
    table.index.name = "township"
    return table


def column_shares(status: pd.DataFrame, order: list[str] | None = None) -> pd.DataFrame:
    """Share of buildings with a surveyed value, per township (rows, with
    :data:`TOTAL`) and column."""
    has = status[[f"has_{c}" for c in COLUMNS]].astype(float).set_axis(list(COLUMNS), axis=1)
    table = has.groupby(status["township"]).mean()
    towns = [t for t in (order or []) if t in table.index]
    table = table.loc[towns + sorted(set(table.index) - set(towns))]
    table.loc[TOTAL] = has.mean()
    table.index.name = "township"
    return table


def form_status(issued_forms: pd.DataFrame, returns: pd.DataFrame, as_of: dt.datetime,
                stale_days: int) -> pd.DataFrame:
    """Each issued form with its returns: ``returns`` (files), ``latest`` (newest 填报日期
    or file time), ``senders`` and ``status``: :data:`MISSING` (never returned),
    :data:`STALE` (newest return more than ``stale_days`` before ``as_of``) or
    :data:`RETURNED`.

    ``issued_forms``: index ``form``, columns ``township``, ``buildings``, ``issued``;
    ``returns``: :attr:`roofpv.fieldwork.collect.Collected.returns`.
    """
    out = issued_forms.copy()
    if len(returns):
        by_form = returns.groupby("form")
        out["returns"] = by_form.size().reindex(out.index, fill_value=0)
        out["latest"] = by_form["filled"].max().reindex(out.index)
        out["senders"] = by_form["office"].agg(
            lambda v: "、".join(sorted({str(x) for x in v if x is not None and x == x}))).reindex(out.index)
    else:
        out["returns"], out["latest"], out["senders"] = 0, pd.NaT, None
    age = (pd.Timestamp(as_of) - pd.to_datetime(out["latest"])).dt.days
    out["status"] = np.where(out["returns"] == 0, MISSING, np.where(age > stale_days, STALE, RETURNED))
    return out
