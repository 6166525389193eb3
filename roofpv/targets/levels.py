"""The county level of a province run: each county's totals, coverage and status
against the targets, and the province row.

A county's row is computed as a township's is, from its buildings
(:func:`roofpv.targets.policy.township_summary` grouped by ``county``): every total is
a sum over the buildings, every coverage a ratio of sums (PV area ÷ roof area of the
county's cohort), never a mean of the townships' ratios. Its plan figures are the sums
of its townships' plan rows (:func:`roofpv.targets.planning.roll_up`), so a county
reaches a milestone when every one of its townships does, and its status follows
:mod:`roofpv.targets.milestones` as a township's. The province row is the township
table's whole-run row: the same buildings, the same targets.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from roofpv.config import Config
from roofpv.grid.assess import township_grid
from roofpv.inputs import jurisdictions
from roofpv.schema import CITY
from roofpv.targets import planning
from roofpv.targets.policy import township_summary, with_status


def with_county(townships: pd.DataFrame, polygons: pd.DataFrame, config: Config) -> pd.DataFrame:
    """The township table with its first column ``county``: each township's county
    (:func:`roofpv.inputs.jurisdictions.county_of`), the province's name on the
    whole-run row."""
    county = jurisdictions.county_of(townships.index.to_series(), polygons)
    county[CITY] = config.province.name
    return townships.assign(county=county)[["county", *townships.columns]]


def county_table(b: pd.DataFrame, config: Config, polygons: pd.DataFrame, townships: pd.DataFrame,
                 plan_status: pd.DataFrame, as_of: dt.date, pace: dict[str, pd.Series] | None = None,
                 transformers: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per county of the township ``polygons``' ``county`` column, in their order
    (also those without buildings), then the province row named ``config.province.name``:
    the columns of the township table (``townships``, with its whole-run row
    :data:`~roofpv.schema.CITY` and a ``county`` column), indexed by ``county``. ``b``
    needs ``county``; ``pace``: observed pace per target and county (None: the plan's);
    ``transformers``: the grid stage's transformer table (each transformer counted in the
    county of its township, :func:`roofpv.grid.assess.township_grid`), or None."""
    names = pd.Index(polygons["county"].unique())
    by_county = b.assign(township=b["county"])
    table = township_summary(by_county, config.policy, config.uncertainty, names)
    if transformers is not None:
        transformers = transformers.assign(township=transformers["township"].map(townships["county"]))
    table = table.join(township_grid(by_county, transformers, table.index, config.province.name))
    rows = plan_status.drop(index=CITY)
    status = planning.roll_up(rows, rows.index.map(townships["county"]), ["target", "milestone"])
    table = table.join(planning.wide(status))
    table = with_status(table, status, config.policy, as_of, config.planning.start_year, pace)
    province = townships.loc[[CITY]].drop(columns="county").rename(index={CITY: config.province.name})
    return pd.concat([table, province[table.columns]]).rename_axis("county")
