"""Hourly load profiles of buildings by category.

A building's load over the weather year is its annual electricity use
(``energy_use_kwh``: floor area × the category's kWh/m², :func:`roofpv.targets.policy.energy`)
spread over the intervals by its category's shape: an hour-of-day factor for working
days and one for rest days (Saturday, Sunday), times a month factor. The shape is
normalised to sum to 1 over the year, so the profile sums to the annual use. The
default shapes (:data:`SHAPES`) are **assumptions**: typical forms of office, factory,
shop and household load in a hot-summer/cold-winter climate (docs/sources.md §6); a
bureau with metered load replaces them per building (:func:`metered`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from roofpv.errors import InputError
from roofpv.findings import Finding

_NIGHT, _DAY = 0.3, 1.0
#: Hour-of-day factors (hours 0 … 23, local time) on working days and rest days, and
#: month factors (Jan … Dec), per load shape [relative]. Assumption, docs/sources.md §6.
SHAPES = {
    # Offices and public institutions: 8–18 h on working days, little on rest days.
    "office": (
        [_NIGHT] * 7 + [0.6, 0.95, 1.0, 1.0, 1.0, 0.85, 0.95, 1.0, 1.0, 0.95, 0.8, 0.5] + [_NIGHT] * 5,
        [_NIGHT] * 8 + [0.4] * 10 + [_NIGHT] * 6,
        [1.15, 1.0, 0.9, 0.85, 0.9, 1.05, 1.25, 1.25, 1.05, 0.85, 0.9, 1.05],
    ),
    # Factories: one day shift 8–17 h with a night base of process load; rest days 60 %.
    "factory": (
        [0.45] * 7 + [0.8, 1.0, 1.0, 1.0, 1.0, 0.85, 1.0, 1.0, 1.0, 0.95, 0.7] + [0.45] * 6,
        [0.35] * 8 + [0.6] * 10 + [0.35] * 6,
        [0.9, 0.75, 1.0, 1.0, 1.0, 1.05, 1.1, 1.1, 1.05, 1.0, 1.0, 1.0],
    ),
    # Shops and services: open 9–22 h, every day, busier on rest days.
    "commercial": (
        [0.25] * 8 + [0.6] + [0.9, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.95, 0.8, 0.5] + [0.3],
        [0.25] * 8 + [0.6] + [1.0, 1.1, 1.1, 1.1, 1.1, 1.1, 1.1, 1.1, 1.1, 1.1, 1.1, 1.0, 0.85, 0.5] + [0.3],
        [1.1, 1.0, 0.9, 0.85, 0.9, 1.05, 1.3, 1.3, 1.05, 0.85, 0.9, 1.05],
    ),
    # Households: night base, morning and evening peaks, more at home on rest days.
    "residential": (
        [0.35, 0.3, 0.3, 0.3, 0.3, 0.35, 0.6, 0.8, 0.55, 0.4, 0.4, 0.5, 0.55, 0.45, 0.4, 0.4, 0.45,
         0.7, 0.95, 1.0, 1.0, 0.9, 0.7, 0.5],
        [0.35, 0.3, 0.3, 0.3, 0.3, 0.35, 0.5, 0.7, 0.7, 0.65, 0.65, 0.7, 0.7, 0.6, 0.6, 0.6, 0.65,
         0.8, 0.95, 1.0, 1.0, 0.9, 0.7, 0.5],
        [1.2, 1.1, 0.9, 0.8, 0.85, 1.0, 1.3, 1.35, 1.0, 0.8, 0.85, 1.05],
    ),
    # Anything else: a mild day-time load on every day.
    "other": (
        [0.5] * 7 + [0.9] * 11 + [0.7] * 4 + [0.5] * 2,
        [0.5] * 7 + [0.7] * 11 + [0.6] * 4 + [0.5] * 2,
        [1.05, 1.0, 0.95, 0.9, 0.95, 1.05, 1.15, 1.15, 1.0, 0.9, 0.95, 1.0],
    ),
}
#: Load shape of each building category.
CATEGORY_SHAPE = {
    "party_gov": "office", "public_institution": "office", "factory": "factory",
    "commercial": "commercial", "urban_residential": "residential",
    "rural_residential": "residential", "other": "other",
}


def shapes(index: pd.DatetimeIndex) -> pd.DataFrame:
    """Each category's share of its annual load in each interval of ``index`` (the
    weather file's, local time); columns the categories, each summing to 1 [unitless].
    Intervals of any length: the factor of the hour an interval starts in, times the
    interval's length, so sub-hourly files keep the daily form."""
    hour = index.hour.to_numpy()
    rest = index.day_of_week.to_numpy() >= 5
    month = index.month.to_numpy() - 1
    length = interval_hours(index)
    out = {}
    for category, name in CATEGORY_SHAPE.items():
        work, holiday, months = (np.asarray(v, float) for v in SHAPES[name])
        raw = np.where(rest, holiday[hour], work[hour]) * months[month] * length
        out[category] = raw / raw.sum()
    return pd.DataFrame(out, index=index)


def interval_hours(index: pd.DatetimeIndex) -> np.ndarray:
    """Length of each interval [h]: the step to the next, the last repeating the one
    before (1 h for a single interval); any time resolution of the index."""
    if len(index) < 2:
        return np.ones(len(index))
    step = ((index[1:] - index[:-1]) / pd.Timedelta(hours=1)).to_numpy(float)
    return np.r_[step, step[-1]]


def building_loads(category: pd.Series, annual_kwh: pd.Series, table: pd.DataFrame) -> np.ndarray:
    """Load per interval of each building, (buildings × steps) [kWh]: its annual use
    ``annual_kwh`` spread by the shape of its ``category`` (``table``: :func:`shapes`)."""
    columns = table.columns.get_indexer(category.fillna("other"))
    return (table.to_numpy(np.float32).T[columns]
            * annual_kwh.fillna(0.0).to_numpy(np.float32)[:, None])


#: Config key of the metered load table keyed by each id column.
METERED_KEYS = {"building_id": "grid.metered_load", "transformer_id": "grid.metered_transformer_load"}


def read_metered(path: Path, n_steps: int, key: str = "building_id") -> tuple[pd.DataFrame, list[Finding]]:
    """Metered load per building (``key`` building_id) or per transformer (``key``
    transformer_id) from a CSV with columns ``key``, ``step`` (0-based interval of the
    weather year) and ``kwh``: a (ids × steps) table [kWh]. Rows whose step lies outside
    the weather year, or whose kWh is not a number ≥ 0, are left out with a finding;
    steps an id lacks count as its mean."""
    what = key.removesuffix("_id")
    if not path.exists():
        raise InputError(f"{path}: metered load file not found; check `{METERED_KEYS[key]}` in the config")
    try:
        frame = pd.read_csv(path, dtype={key: str}, encoding="utf-8-sig")
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read the metered load table ({type(exc).__name__}: {exc}); "
                         f"save it as UTF-8 CSV with columns {key}, step, kwh") from exc
    missing = {key, "step", "kwh"} - set(frame.columns)
    if missing:
        raise InputError(f"{path}: the metered load table needs columns {sorted(missing)}; "
                         f"give one row per {what} and interval: {key}, step (0-based), kwh")
    step = pd.to_numeric(frame["step"], errors="coerce")
    kwh = pd.to_numeric(frame["kwh"], errors="coerce")
    bad = step.isna() | (step < 0) | (step >= n_steps) | (step % 1 != 0) | kwh.isna() | (kwh < 0)
    findings = [
        Finding("warning", str(path), int(i) + 2, frame.at[i, key], "step" if not ok_step else "kwh",
                f"{frame.at[i, 'step']!s}/{frame.at[i, 'kwh']!s}",
                f"metered load row left out: step must be a whole number in 0…{n_steps - 1} and kWh a number ≥ 0",
                "fix the row or remove it")
        for i, ok_step in zip(np.flatnonzero(bad), ~(step.isna() | (step < 0) | (step >= n_steps))[bad])
    ]
    frame = frame.loc[~bad].assign(step=step[~bad].astype(int), kwh=kwh[~bad])
    table = frame.pivot_table(index=key, columns="step", values="kwh", aggfunc="sum")
    table = table.reindex(columns=range(n_steps))
    table = table.T.fillna(table.mean(axis=1)).T
    return table.astype(np.float32), findings
