"""What the report shows, computed from the survey results (pure functions)."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from roofpv.targets.planning import ROOF


@dataclass(frozen=True)
class ReportData:
    """The tables a report is made from.

    ``buildings`` is indexed by building id, ``townships`` by township name with the
    whole-city row ``city`` last; ``polygons`` (township boundaries, index = name) and
    ``plan`` (one row per planned roof and target) may be missing. ``monthly_share``
    holds each building's share of its annual energy per month, shape (n, 12).
    """

    buildings: gpd.GeoDataFrame
    townships: pd.DataFrame
    polygons: gpd.GeoDataFrame | None
    plan: pd.DataFrame | None
    monthly_share: np.ndarray
    city: str
    #: A province run's county table (counties, then the province row named
    #: ``province``), or None.
    counties: pd.DataFrame | None = None
    province: str | None = None
    #: The ``surfaces`` layer (surfaces beyond roofs, :mod:`roofpv.surfaces`), or None.
    surfaces: pd.DataFrame | None = None
    #: The ``transformers`` layer (DL/T 2041 per transformer, :mod:`roofpv.grid`), or None.
    transformers: pd.DataFrame | None = None

    @property
    def order(self) -> list[str]:
        """Township names: in the order of the boundaries, then any others."""
        names = [t for t in self.townships.index if t != self.city]
        first = [t for t in self.polygons.index if t in names] if self.polygons is not None else []
        return first + [t for t in names if t not in first]


def monthly_share(b: pd.DataFrame, monthly: pd.DataFrame | None) -> np.ndarray:
    """Share of each building's annual energy produced in each month, shape (n, 12),
    from the run's ``monthly_yield`` table (``kwh_01`` … ``kwh_12``); buildings without
    monthly energy (no layout) get an even twelfth (their annual energy is 0)."""
    kwh = [f"kwh_{m:02d}" for m in range(1, 13)]
    values = (monthly[kwh].reindex(b.index).to_numpy(float) if monthly is not None
              else np.full((len(b), 12), np.nan))
    total = values.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = values / total
    return np.where(np.isfinite(share).all(axis=1, keepdims=True), share, 1.0 / 12.0)


def monthly_mwh(b: pd.DataFrame, share: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Monthly energy of the suitable roofs among ``mask`` (MWh, 12 values)."""
    take = mask & (b["suitability"] == "suitable").to_numpy()
    return (b["annual_kwh"].to_numpy(float)[take, None] * share[take]).sum(axis=0) / 1000.0


def by_category(b: pd.DataFrame) -> pd.DataFrame:
    """Capacity (MWp) and first-year energy (GWh) of suitable roofs per category,
    largest capacity first; categories without any are left out."""
    take = (b["suitability"] == "suitable").to_numpy()
    names, category = np.unique(b["category"].fillna("other").to_numpy(str)[take], return_inverse=True)

    def total(column: str) -> np.ndarray:
        return np.bincount(category, np.nan_to_num(b[column].to_numpy(float)[take]), len(names))

    table = pd.DataFrame({"capacity_mwp": total("capacity_kwp") / 1000.0,
                          "generation_gwh": total("annual_kwh") / 1e6}, index=pd.Index(names, name="category"))
    table = table[table["capacity_mwp"] > 0]
    return table.sort_values("capacity_mwp", ascending=False, kind="stable")


def by_surface(row: pd.Series, surfaces: pd.DataFrame | None, townships: set[str] | None) -> pd.DataFrame:
    """Capacity (MWp) and first-year energy (GWh) of the suitable roofs, the facades and
    each type of surface beyond roofs of one row of the township (or county) table: the
    surfaces of ``townships`` (None: every surface, the city row), indexed ``roofs``,
    ``facades`` and the surface types present."""
    rows = {"roofs": (row.get("counted_potential_kwp", 0.0), row.get("annual_mwh", 0.0)),
            "facades": (row.get("facade_kwp", 0.0), row.get("facade_annual_mwh", 0.0))}
    if surfaces is not None and len(surfaces):
        own = surfaces if townships is None else surfaces[surfaces["township"].isin(townships)]
        for kind, part in own.groupby("surface_type", sort=True):
            rows[kind] = (part["kwp"].sum(), part["annual_kwh"].sum() / 1000.0)
    table = pd.DataFrame.from_dict(rows, orient="index", columns=["capacity_mwp", "generation_gwh"]).fillna(0.0)
    return table / 1000.0


def exclusions(b: pd.DataFrame, severity: dict[str, str]) -> pd.DataFrame:
    """Buildings per reason that makes a roof unsuitable or conditional: ``reason``,
    ``severity`` (``unsuitable`` or ``conditional``), ``buildings``; most frequent first
    within unsuitable, then conditional."""
    codes = b["reasons"].fillna("").str.split(";").explode()
    codes = codes[codes.map(severity).isin(["unsuitable", "conditional"])]
    counts = codes.value_counts().rename("buildings").rename_axis("reason").reset_index()
    counts["severity"] = counts["reason"].map(severity)
    counts["_order"] = counts["severity"].map({"unsuitable": 0, "conditional": 1})
    counts = counts.sort_values(["_order", "buildings", "reason"], ascending=[True, False, True])
    return counts[["reason", "severity", "buildings"]].reset_index(drop=True)


def plan_roofs(plan: pd.DataFrame, n: int | None = None) -> pd.DataFrame:
    """The first ``n`` roofs of a plan by rank (all with None), one row per building:
    ``township``, ``name``, ``category``, ``capacity_kwp``, ``annual_kwh``,
    ``build_year`` (earliest), ``targets`` (the targets it serves, in plan order). Roofs
    only: the facades and sites a plan draws on (``surface_type``) are left out."""
    if "surface_type" in plan.columns:
        plan = plan[plan["surface_type"] == ROOF]
    if plan.empty:
        return plan.assign(targets=[])
    if "targets" in plan.columns:  # the GeoPackage layer: one row per building already
        plan = plan.assign(target=plan["targets"].str.split(";")).explode("target")
    rows = plan.reset_index().sort_values(["plan_order", "build_year"], kind="stable")
    grouped = rows.groupby("building_id", sort=False)
    out = grouped.agg(
        plan_order=("plan_order", "first"), township=("township", "first"), name=("name", "first"),
        category=("category", "first"),
        capacity_kwp=("capacity_kwp", "first"), annual_kwh=("annual_kwh", "first"),
        build_year=("build_year", "min"),
    )
    # each target once per roof, in plan order
    served = rows.drop_duplicates(["building_id", "target"]).groupby("building_id", sort=False)["target"]
    out["targets"] = served.agg(list)
    out = out.sort_values("plan_order", kind="stable")
    return (out if n is None else out.head(n)).drop(columns="plan_order")


def coverage_rows(row: pd.Series, targets) -> list[dict]:
    """Per target: coverage today, potential and ``technical`` (the screening coverage:
    suitable and conditional roofs; NaN in outputs written before it existed) and, per
    milestone, the target ratio and its status on the run date
    (:mod:`roofpv.targets.milestones`)."""
    out = []
    for t in targets:
        p = f"{t.name}_"
        out.append({
            "target": t, "today": float(row[p + "coverage_today"]),
            "potential": float(row[p + "coverage_potential"]),
            "technical": float(row.get(p + "coverage_technical", np.nan)),
            "grid_condition": t.grid_condition,
            "milestones": [
                (year, float(row[f"{p}target_{year}"]), row[f"{p}status_{year}"])
                for year in t.milestones
            ],
        })
    return out
