"""Rollout plans: which roofs close each township's gap to each target, and when.

Roofs are ranked once for the whole jurisdiction (``planning.rank_by``: highest
specific yield, lowest LCOE or shortest payback; ties: larger first). For each target
and township the eligible roofs of the cohort are taken in that order until the gap of
each milestone is closed; the roof that crosses the gap is the last one taken.

Eligibility is a chain of constraints, each applied on top of the ones before:

``roof_potential``  the roof can carry PV (suitable or conditional, capacity > 0)
``suitability``     its status is one of ``planning.statuses``
``structure``       none of ``planning.exclude_reasons``; spare load ≥ ``min_roof_load_kn_m2``
``owner``           owner type is one of ``planning.owner_types``
``grid_hosting``    it still fits on its transformer (:func:`roofpv.appraise.grid.over_hosting`)

A township that cannot reach a milestone is reported with its *binding* constraint:
the first in the chain after which the eligible roofs no longer close the gap.

Beyond roofs (``planning.draw_on``): a target on the renewable ``substitution`` rate
(kWh) may also be closed with the facades of its cohort's buildings (their owner among
``owner_types``) and the sites of the ``surfaces`` layer (carports, tank covers, …: no
building category, so they count for their township whatever the cohort), ranked with
the roofs by the same key (:func:`others`); each row of the plan says what it builds
(``surface_type``: ``roof``, ``facade`` or the site's type). Coverage targets (panel
area, buildings) count roofs only. The structure and grid-hosting constraints are the
roofs'; facades and sites are not checked against them.
"""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd

from roofpv.appraise.grid import over_hosting
from roofpv.config import Planning, Policy, Target
from roofpv.targets.policy import contribution, coverage, in_cohort

CONSTRAINTS = ("roof_potential", "suitability", "structure", "owner", "grid_hosting")
#: Plan rows' ``surface_type`` of a roof and of a building's facades.
ROOF, FACADE = "roof", "facade"

#: Building columns carried into the rollout plan, where present.
PLAN_COLUMNS = [
    "township", "name", "category", "owner_type", "capacity_kwp", "pv_area_m2", "annual_kwh",
    "specific_yield_kwh_kwp", "transformer_id", "connection_class", "nea_category", "export_mode",
    "capex_yuan", "revenue_yuan_yr", "npv_yuan", "lcoe_yuan_kwh", "payback_years",
    "co2_avoided_t_yr", "geometry",
]


def _tolerance(x: pd.Series | np.ndarray) -> np.ndarray:
    return 1e-9 * np.maximum(1.0, np.abs(x))


def rank_order(b: pd.DataFrame, rank_by: str, ids: pd.Index | None = None) -> pd.Series:
    """Each roof's position in the ranking, 0 = first; roofs without a key come last.
    Ties go to the larger roof, then to the smaller building id: ``b``'s index, or
    ``ids`` (one per row) where ``b`` is indexed by position."""
    with np.errstate(invalid="ignore", divide="ignore"):
        key = {
            "specific_yield": -(b["annual_kwh"] / b["capacity_kwp"]),
            "lcoe": b.get("lcoe_yuan_kwh"),
            "payback": b.get("payback_years"),
        }[rank_by]
    key = np.full(len(b), np.nan) if key is None else key.to_numpy(float)
    # by key, then larger roofs first, then building id; NaN sorts last. Positions, not
    # labels: no hash of the ids (≈ 0.15 KB a building, kept with the index once built).
    by_id = np.empty(len(b), dtype=np.int64)
    by_id[(b.index if ids is None else ids).argsort()] = np.arange(len(b))
    ordered = np.lexsort((by_id, -b["capacity_kwp"].to_numpy(float), key))
    position = np.empty(len(b), dtype=np.int64)
    position[ordered] = np.arange(len(b))
    return pd.Series(position, index=b.index, name="plan_order")


def others(b: pd.DataFrame, surfaces: pd.DataFrame | None, cfg: Planning) -> pd.DataFrame | None:
    """What the plan may build besides roofs (``cfg.draw_on``), as rows like the
    buildings': ``surface_type``, ``township``, ``capacity_kwp``, ``annual_kwh``,
    ``specific_yield_kwh_kwp`` and, for the cohort test, ``category`` and ``year_built``
    (a site's: none, ``cohort_free`` True). Facades: one row per building whose walls
    carry modules (``facade_kwp`` > 0) and whose owner type is in ``owner_types``,
    indexed by building id; sites: one per surface with kWp, indexed by ``surface_id``,
    with their economics. None when the config draws on nothing else."""
    parts = []
    if "facades" in cfg.draw_on and "facade_kwp" in b:
        read = [c for c in ("township", "category", "year_built", "owner_type", "facade_kwp", "facade_annual_kwh")
                if c in b]
        f = b.loc[(b["facade_kwp"] > 0) & b["owner_type"].isin(cfg.owner_types), read]
        with np.errstate(invalid="ignore", divide="ignore"):
            specific = f["facade_annual_kwh"] / f["facade_kwp"]
        parts.append(pd.DataFrame({
            "surface_type": FACADE, "township": f["township"], "category": f["category"],
            "year_built": f["year_built"].astype(float) if "year_built" in f else np.nan,
            "owner_type": f["owner_type"], "capacity_kwp": f["facade_kwp"],
            "annual_kwh": f["facade_annual_kwh"], "specific_yield_kwh_kwp": specific, "cohort_free": False,
        }, index=f.index))
    if "surfaces" in cfg.draw_on and surfaces is not None and not surfaces.empty:
        s = surfaces[surfaces["kwp"] > 0]
        economics = [c for c in ("capex_yuan", "revenue_yuan_yr", "npv_yuan", "lcoe_yuan_kwh", "payback_years",
                                 "co2_avoided_t_yr", "export_mode", "name") if c in s]
        parts.append(s[["surface_type", "township", *economics]].assign(
            capacity_kwp=s["kwp"], annual_kwh=s["annual_kwh"], specific_yield_kwh_kwp=s["specific_yield_kwh_kwp"],
            cohort_free=True).set_index(s["surface_id"].astype(str)))
    if not parts:
        return None
    out = pd.concat(parts)
    return out.rename_axis(b.index.name)


def _has_reason(reasons: pd.Series, codes: list[str]) -> pd.Series:
    if not codes:
        return pd.Series(False, index=reasons.index)
    pattern = rf"(?:^|;)(?:{'|'.join(map(re.escape, codes))})(?:;|$)"
    return reasons.fillna("").str.contains(pattern)


def eligibility(b: pd.DataFrame, cfg: Planning) -> dict[str, pd.Series]:
    """Roofs passing each constraint of the chain and all before it, up to ``owner``."""
    able = (b["capacity_kwp"] > 0) & (b["suitability"] != "unsuitable")
    status = able & b["suitability"].isin(cfg.statuses)
    barred = _has_reason(b["reasons"], cfg.exclude_reasons)
    if cfg.min_roof_load_kn_m2 is not None:
        barred |= ~(b["roof_load_kn_m2"] >= cfg.min_roof_load_kn_m2)
    structure = status & ~barred
    owner = structure & b["owner_type"].isin(cfg.owner_types)
    return {"roof_potential": able, "suitability": status, "structure": structure, "owner": owner}


def admit(b: pd.DataFrame, cfg: Planning, remaining_kw: pd.Series | pd.DataFrame | None,
          ids: pd.Index | None = None) -> pd.DataFrame:
    """Add ``plan_order`` (rank position) and ``grid_limited``: the roof would exceed its
    transformer's remaining hosting capacity if every eligible roof were built in rank order.
    ``ids``: the buildings' ids where ``b`` is indexed by position (:func:`rank_order`)."""
    order = rank_order(b, cfg.rank_by, ids)
    if remaining_kw is None:
        return b.assign(plan_order=order, grid_limited=False)
    eligible = eligibility(b, cfg)["owner"]
    limited = over_hosting(b["capacity_kwp"].where(eligible, 0.0), b["transformer_id"], order, remaining_kw)
    return b.assign(plan_order=order, grid_limited=limited & eligible)


def _plan_target(
    b: pd.DataFrame, target: Target, cfg: Planning, remaining_kw: pd.Series | pd.DataFrame | None,
    extra: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Chosen roofs (and, for a substitution target, ``extra`` facades and sites:
    :func:`others`), coverage sums and eligible contribution per constraint, per township."""
    cohort = in_cohort(b, target)
    adds = contribution(b, target.metric)
    stages = {k: m & cohort & (adds > 0) for k, m in eligibility(b, cfg).items()}
    fits = stages["owner"]
    if cfg.grid_hosting and remaining_kw is not None:
        kwp = b["capacity_kwp"].where(fits, 0.0)
        fits = fits & ~over_hosting(kwp, b["transformer_id"], b["plan_order"], remaining_kw)
    stages["grid_hosting"] = fits
    limited = stages["owner"] & ~fits
    cov = coverage(b, target)
    available = pd.DataFrame({
        k: adds.where(m, 0.0).groupby(b["township"]).sum().reindex(cov.index, fill_value=0.0)
        for k, m in stages.items()
    })
    cols = [c for c in PLAN_COLUMNS if c in b.columns]
    pick = b.loc[fits, cols].assign(contribution=adds[fits], plan_order=b.loc[fits, "plan_order"],
                                    surface_type=ROOF)
    if extra is not None and target.metric == "substitution":
        more = extra[extra["cohort_free"] | in_cohort(extra, target)]
        more = more[more["annual_kwh"] > 0]
        available["others"] = more.groupby("township")["annual_kwh"].sum().reindex(cov.index, fill_value=0.0)
        for k in CONSTRAINTS:  # what the chain leaves of the roofs, plus the facades and sites
            available[k] = available[k] + available["others"]
        available = available.drop(columns="others")
        pick = pd.concat([pick, more.drop(columns=["cohort_free", "category", "year_built"], errors="ignore")
                         .assign(contribution=more["annual_kwh"], plan_order=np.nan)])
        # Roofs, facades and sites in one order by the plan's key; the roofs keep theirs.
        joint = rank_order(pick.reset_index(drop=True), cfg.rank_by)  # a roof and its facade share an id
        pick = pick.assign(_joint=joint.to_numpy()).sort_values(["township", "_joint"], kind="stable").drop(
            columns="_joint")
    else:
        pick = pick.sort_values(["township", "plan_order"], kind="stable")
    before = pick.groupby("township")["contribution"].cumsum() - pick["contribution"]
    milestone = pd.Series(np.nan, index=pick.index)
    for year in sorted(target.milestones, reverse=True):
        gap = pick["township"].map(cov[f"gap_{year}"]).astype(float)  # float also when empty
        milestone = milestone.mask(before < gap - _tolerance(gap), year)
    pick = pick.assign(milestone=milestone).dropna(subset=["milestone"])
    pick["milestone"] = pick["milestone"].astype(int)
    pick.insert(0, "plan_rank", pick.groupby("township").cumcount() + 1)
    return pick, cov, available, binding_transformers(b.loc[limited, ["township", "transformer_id", "capacity_kwp"]],
                                                      cov.index)


def binding_transformers(limited: pd.DataFrame, townships: pd.Index, n: int = 5) -> pd.Series:
    """Per township, the transformers whose hosting capacity keeps eligible roofs out of
    the plan, most kWp kept out first (at most ``n``, ``;``-separated; "" for none)."""
    kept = limited.groupby(["township", "transformer_id"])["capacity_kwp"].sum()
    kept = kept.sort_values(ascending=False, kind="stable").reset_index()
    top = kept[kept.groupby("township", sort=False).cumcount() < n]
    names = top["transformer_id"].astype(str).groupby(top["township"], sort=False).agg(";".join)
    return names.reindex(townships, fill_value="")


def _build_years(pick: pd.DataFrame, milestones: list[int], cfg: Planning) -> pd.Series:
    """Spread each milestone's roofs evenly, in rank order, over the years since the
    previous milestone (never before ``start_year``; overdue ones in ``start_year``)."""
    first = {y: max(cfg.start_year, p + 1) for y, p in zip(milestones, [cfg.start_year - 1] + milestones[:-1])}
    years = {y: max(cfg.start_year, y) - first[y] + 1 for y in milestones}
    group = pick.groupby(["township", "milestone"])["contribution"]
    with np.errstate(invalid="ignore", divide="ignore"):
        share = ((group.cumsum() - pick["contribution"]) / group.transform("sum")).fillna(0.0)
    start = pick["milestone"].map(first)
    span = pick["milestone"].map(years)
    return (start + np.floor(share * span)).clip(upper=start + span - 1).astype(int)


def rollout(
    b: pd.DataFrame, policy: Policy, cfg: Planning, remaining_kw: pd.Series | pd.DataFrame | None,
    kw_per_m2: float, total: str, extra: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Rollout plan for every target (needs ``plan_order`` from :func:`admit`).

    Parameters
    ----------
    b : buildings table.
    remaining_kw : remaining hosting capacity per transformer id, kW (a frame: also per
        feeder and substation, :func:`roofpv.appraise.grid.over_hosting`); None = unlimited.
    kw_per_m2 : module kWp per m² of panel area, converts area gaps to kWp.
    total : name of the whole-jurisdiction rows of ``status`` and ``trajectory``.
    extra : facades and sites the substitution targets may draw on (:func:`others`).

    Returns
    -------
    roofs : one row per planned roof and target: ``target``, ``plan_rank`` (within the
        township), ``milestone`` (the first milestone it is needed for), ``build_year``,
        ``contribution`` (m², buildings or kWh/yr), ``surface_type`` (``roof``, or what
        else a substitution target draws on) and the roof's capacity, yield, grid,
        economics and carbon columns; index ``building_id`` (a site's ``surface_id``).
    status : one row per target, township and milestone: ``gap`` (metric units),
        ``gap_kwp`` (area metrics), ``plan_roofs``, ``plan_kwp``, ``plan_m2``,
        ``plan_kwh``, ``planned_coverage``, ``reaches`` and ``binding`` (constraint
        name, "" when reached; on the total row the number of townships short) and
        ``binding_transformers`` (where the grid binds: the transformers that keep roofs out,
        :func:`binding_transformers`).
    trajectory : one row per target, township and year from ``start_year`` to
        ``horizon_year`` (or the last milestone): roofs, kWp and contribution built
        that year and ``planned_coverage`` at its end.
    """
    roofs, status, trajectory = [], [], []
    for target in policy.targets:
        pick, cov, available, transformers = _plan_target(b, target, cfg, remaining_kw, extra)
        milestones = list(target.milestones)
        pick = pick.assign(target=target.name, overdue=pick["milestone"] < cfg.start_year)
        pick["build_year"] = _build_years(pick, milestones, cfg)
        roofs.append(pick)
        for year, ratio in target.milestones.items():
            gap = cov[f"gap_{year}"]
            chosen = pick.loc[pick["milestone"] <= year].groupby("township")
            short = available.lt(gap - _tolerance(gap), axis=0)
            binding = short.idxmax(axis=1).where(short.any(axis=1), "")
            status.append(pd.DataFrame({
                "target": target.name, "milestone": year, "overdue": year < cfg.start_year,
                "ratio": ratio, "denominator": cov["denominator"], "today": cov["today"], "gap": gap,
                "gap_kwp": gap * kw_per_m2 if target.metric.startswith("area") else np.nan,
                "plan_roofs": chosen.size(), "plan_kwp": chosen["capacity_kwp"].sum(),
                "plan_m2": chosen["pv_area_m2"].sum(), "plan_kwh": chosen["annual_kwh"].sum(),
                "planned": chosen["contribution"].sum(),
                "reaches": ~short.any(axis=1),
                "binding": binding,
                "binding_transformers": transformers.where(binding == "grid_hosting", ""),
            }, index=cov.index).fillna({c: 0.0 for c in ("plan_roofs", "plan_kwp", "plan_m2", "plan_kwh", "planned")}))
        years = np.arange(cfg.start_year, max(cfg.horizon_year, milestones[-1]) + 1)
        grid = pd.MultiIndex.from_product([cov.index, years], names=["township", "year"])
        built = pick.groupby(["township", "build_year"]).agg(
            roofs=("plan_rank", "size"), kwp=("capacity_kwp", "sum"), planned=("contribution", "sum"),
        ).rename_axis(["township", "year"]).reindex(grid, fill_value=0)
        built = built.reset_index(level="year").assign(
            target=target.name, denominator=cov["denominator"], today=cov["today"]
        )
        built["planned"] = built.groupby(level=0)["planned"].cumsum()
        trajectory.append(built)
    status = _with_total(pd.concat(status), total, ["target", "milestone"])
    trajectory = _with_total(pd.concat(trajectory), total, ["target", "year"])
    return pd.concat(roofs), status, trajectory


def _with_total(frame: pd.DataFrame, total: str, keys: list[str]) -> pd.DataFrame:
    """Append whole-jurisdiction rows (sums over townships) and ``planned_coverage``."""
    frame = frame.rename_axis("township")
    out = pd.concat([frame, roll_up(frame, total, keys)])
    with np.errstate(invalid="ignore", divide="ignore"):
        out["planned_coverage"] = (out["today"] + out["planned"]) / out["denominator"]
    return out


def roll_up(frame: pd.DataFrame, groups, keys: list[str]) -> pd.DataFrame:
    """Township rows of a plan ``status`` or ``trajectory`` table summed per group of
    townships (``groups``: one name per row, e.g. each township's county, or one name
    for all) and ``keys``: quantities add up, ``reaches`` only if every township
    reaches, ``binding`` says how many townships fall short, ``planned_coverage`` is
    recomputed from the sums (a ratio of sums, not a mean of ratios). Indexed by group."""
    within = frame.assign(_group=groups)
    by = ["_group", *keys]
    grouped = within.groupby(by, sort=False)
    sums = grouped.sum(numeric_only=True, min_count=1)
    if "reaches" in frame:
        sums["reaches"] = grouped["reaches"].all()
        sums["overdue"] = grouped["overdue"].first()
        sums["ratio"] = grouped["ratio"].first()
        short = (~within["reaches"]).groupby([within[k] for k in by], sort=False).sum()
        sums["binding"] = short.map(lambda n: f"{n} short" if n else "")
        if "binding_transformers" in frame:
            sums["binding_transformers"] = grouped["binding_transformers"].agg(
                lambda names: ";".join(n for n in names if n))
    out = sums.reset_index().set_index("_group").rename_axis(frame.index.name)
    if "planned_coverage" in out:
        with np.errstate(invalid="ignore", divide="ignore"):
            out["planned_coverage"] = (out["today"] + out["planned"]) / out["denominator"]
    return out


def wide(status: pd.DataFrame) -> pd.DataFrame:
    """Status columns per township, named ``<target>_<column>_<milestone>``."""
    cols = ["gap_kwp", "plan_roofs", "plan_kwp", "planned_coverage", "binding"]
    table = status.reset_index().pivot(index="township", columns=["target", "milestone"], values=cols)
    table.columns = [f"{t}_{c}_{y}" for c, t, y in table.columns]
    return table


def by_building(plan: pd.DataFrame) -> pd.DataFrame:
    """The rollout plan with one row per building (index: building id), for the
    GeoPackage layer, whose sums then count each roof once: the building's columns,
    ``plan_rank`` and ``plan_order`` (its first), ``build_year`` (earliest), ``overdue``
    (any), ``targets`` (the targets it serves, ``;``-separated, in plan order) and
    ``milestones`` (``target year`` of each, ``;``-separated). Roofs only: the facades
    and sites a plan draws on are rows of its table."""
    if "surface_type" in plan:
        plan = plan[plan["surface_type"] == ROOF].drop(columns="surface_type")
    if plan.empty:
        return plan.drop(columns=["target", "milestone", "contribution"], errors="ignore").assign(
            targets=pd.Series(dtype=str), milestones=pd.Series(dtype=str))
    rows = plan.reset_index().sort_values(["plan_order", "build_year"], kind="stable")
    key = rows.columns[0]
    grouped = rows.groupby(key, sort=False)
    first = grouped.first()
    out = first.drop(columns=["target", "milestone", "contribution"], errors="ignore")
    out["plan_rank"] = grouped["plan_rank"].min()
    out["plan_order"] = grouped["plan_order"].min()
    out["build_year"] = grouped["build_year"].min()
    if "overdue" in rows:
        out["overdue"] = grouped["overdue"].any()
    out["targets"] = grouped["target"].agg(lambda t: ";".join(dict.fromkeys(t)))
    out["milestones"] = (rows["target"] + " " + rows["milestone"].astype(str)).groupby(rows[key], sort=False).agg(
        lambda t: ";".join(dict.fromkeys(t)))
    out = out.sort_values("plan_order", kind="stable")
    if isinstance(plan, gpd.GeoDataFrame):
        out = gpd.GeoDataFrame(out, geometry="geometry", crs=plan.crs)
    return out.rename_axis(plan.index.name)
