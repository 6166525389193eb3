"""Grid connection: voltage class, NEA 2025 project category and export modes, and the
admission of roofs to 台区 transformers.

Roofs are admitted to a transformer in a given order until its open capacity
(:mod:`roofpv.grid.hosting`, DL/T 2041) is used up; every later roof on it is
``grid_limited``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from roofpv.config import GridConnection
from roofpv.inputs.ids import positions


def connection_class(kw: np.ndarray, classes_kw: dict[str, float]) -> np.ndarray:
    """Connection voltage class of installations of ``kw`` kW: the first class whose limit
    is not exceeded (e.g. 220V ≤ 8, 380V ≤ 400, 10kV ≤ 6000); above the last, ``>`` + its name."""
    names = list(classes_kw)
    limits = np.array(list(classes_kw.values()))
    index = np.searchsorted(limits, np.asarray(kw, dtype=float), side="left")
    labels = np.array(names + [f">{names[-1]}"], dtype=object)
    return labels[index]


def classify(b: pd.DataFrame, grid: GridConnection) -> pd.DataFrame:
    """Add ``connection_class``, ``nea_category`` and ``export_modes`` per building.

    The installation is existing plus added PV (kW, DC nameplate). NEA categories
    (国能发新能规〔2025〕7号): PV on residential buildings is household (自然人 or
    非自然人 by owner); otherwise general C&I up to ``large_ci_kw``, large C&I above.
    """
    kw = b["existing_pv_kw"].fillna(0.0) + b["capacity_kwp"]
    household = b["category"].isin(grid.household_categories)
    natural = b["owner_type"] == "natural_person"
    nea = np.select(
        [household & natural, household, kw <= grid.large_ci_kw],
        ["natural_person_household", "non_natural_person_household", "general_ci"],
        "large_ci",
    )
    modes = {k: ";".join(v) for k, v in grid.export_modes.items()}
    return b.assign(
        connection_class=connection_class(kw.to_numpy(), grid.connection_classes_kw),
        nea_category=nea,
        export_modes=pd.Series(nea, index=b.index).map(modes),
    )


def over_hosting(
    kwp: pd.Series, transformer_id: pd.Series, order: pd.Series, remaining_kw: pd.Series | pd.DataFrame
) -> pd.Series:
    """True for roofs that no longer fit on their transformer, or on its feeder or substation.

    Roofs are admitted to each transformer in ascending ``order``; a roof fits while
    the cumulative kWp up to and including it stays within ``remaining_kw``. Roofs
    on unknown transformers are never limited. ``remaining_kw`` per transformer id: a
    Series, or a frame (:func:`roofpv.grid.topology.limits`) with ``remaining_kw`` and,
    per upstream level, ``<level>_id`` and ``<level>_remaining_kw``: the roofs that fit
    on their transformers are then admitted, in the same order, to each feeder and
    substation while the cumulative kWp on it stays within its remaining capacity.
    """
    limits = remaining_kw.to_frame("remaining_kw") if isinstance(remaining_kw, pd.Series) else remaining_kw
    if limits.empty:
        return pd.Series(False, index=kwp.index)
    rank = np.argsort(order.to_numpy(), kind="stable")
    at = positions(limits.index, transformer_id)[rank]   # −1: unknown transformer
    size = kwp.to_numpy(float)[rank]
    levels = [(np.arange(len(limits)), limits["remaining_kw"].to_numpy(float))]
    for level in [c[:-3] for c in limits.columns if c.endswith("_id")]:
        codes, _ = pd.factorize(limits[f"{level}_id"])                         # −1: none at this level
        cap = limits[f"{level}_remaining_kw"].to_numpy(float)
        by_code = np.full(codes.max(initial=-1) + 1, np.nan)   # the same on every transformer of a level id
        by_code[codes[codes >= 0]] = cap[codes >= 0]
        levels.append((codes, by_code))
    over = np.zeros(len(rank), dtype=bool)
    for codes, cap in levels:
        key = np.where(at >= 0, codes[at], -1)
        used = pd.Series(np.where(over, 0.0, size)).groupby(key).cumsum().to_numpy()
        limit = np.where(key >= 0, cap[np.maximum(key, 0)], np.nan) if cap.size else np.full(len(key), np.nan)
        over |= (key >= 0) & (used > limit + 1e-9)
    out = np.empty(len(rank), dtype=bool)
    out[rank] = over
    return pd.Series(out, index=kwp.index)
