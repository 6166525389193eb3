"""The grid stage: each roof's hourly balance against its building's load, and each
transformer's DL/T 2041 hosting capacity from the hourly PV and load of the buildings it
serves.

:func:`building_balance` runs per partition, on the planes of the layout (exact bin
weights of every plane); :func:`transformer_table` runs once for the jurisdiction on
the building columns, with each building's PV drawn on the bins of its main plane (the
plane with the most kWp: ``pv_tilt_deg``, ``pv_azimuth_deg``, and its mounting): a
transformer's PV shape is the mix of its roofs' shapes, scaled to their annual energy
(an east-west roof counts as its larger side).
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import sparse

from roofpv.appraise.economics import export_mode, storage_capex
from roofpv.config import Config, GridConnection
from roofpv.energy import uncertainty
from roofpv.findings import Finding
from roofpv.grid import hosting, loads, selfuse
from roofpv.grid import topology as topo
from roofpv.grid.profiles import BinSeries
from roofpv.inputs.ids import positions
from roofpv.schema import LAYER_FIELDS

#: Buildings per block of hourly series (bounds memory: 2,000 × 8,760 float32 ≈ 70 MB);
#: in :func:`transformer_table`, transformers per float32 sum of a feeder's or
#: substation's series (the sums are added up in float64 block by block).
BLOCK = 2000
#: Transformers per block of hourly series in :func:`transformer_table`: 500 × the lit
#: intervals (≈ 4,200 of 8,760) float32 ≈ 8 MB an array, several at once (blocks of
#: 2,000 held ≈ 0.3 GB, whatever the number of buildings). A divisor of :data:`BLOCK`.
ROWS = 500
#: Buildings per piece of :func:`_front_weights`.
FRONT_ROWS = 100_000


def step_hours(index: pd.DatetimeIndex) -> float:
    """The weather file's interval [h] (its median step; 1 for a single row)."""
    return float(np.median(loads.interval_hours(index))) if len(index) > 1 else 1.0


def _mounting_model(mounting: np.ndarray | pd.Series, config: Config) -> np.ndarray:
    """The temperature model of each plane's mounting (unknown: the first mounting's), as
    an object array pointing at a few shared names (not one text per plane)."""
    models = {k: m.temperature_model for k, m in config.mountings.items()}
    first = next(iter(models.values()))
    codes, kinds = pd.factorize(mounting)
    named = np.array([models.get(m, first) for m in kinds] + [models.get(np.nan, first)], dtype=object)
    return named[codes]


def building_balance(b: pd.DataFrame, planes: pd.DataFrame, config: Config, bins: BinSeries,
                     index: pd.DatetimeIndex, metered: pd.DataFrame | None = None,
                     metered_transformers: pd.DataFrame | None = None) -> pd.DataFrame:
    """Add each roof's ``self_consumed_kwh``, ``exported_kwh``, ``curtailed_kwh`` and
    ``self_consumption_share`` (of its added PV; under 全额上网, the roof's
    :func:`~roofpv.appraise.economics.export_mode` from its ``nea_category``, all of it is
    exported; otherwise against the building's load:
    ``energy_use_kwh`` spread by its category's shape, or by the shape of its transformer's
    ``metered_transformers`` row (:func:`transformer_shapes`), or its ``metered`` row), and the
    battery case of ``grid.storage`` (``storage_kwh``, ``storage_kw``,
    ``self_consumed_storage_kwh``; NaN without one). With ``grid.flexible_share`` the
    self-consumed energy includes the load moved into surplus hours
    (:func:`roofpv.grid.selfuse.shift_flexible`). The roof's series is its planes' bin mix scaled to its
    ``annual_kwh``. The surplus is counted as exported until :func:`split_surplus` knows
    the export mode. Also ``pv_tilt_deg`` and ``pv_azimuth_deg`` of its main plane."""
    n = len(b)
    at = b.index.get_indexer(planes["building_id"])
    keep = at >= 0
    weights = bins.weights(
        at[keep], n, _mounting_model(planes["mounting"].to_numpy(object)[keep], config),
        planes["module_tilt_deg"].to_numpy(float)[keep], planes["azimuth_deg"].to_numpy(float)[keep],
        (planes["layout_kwp"].to_numpy(float) * (1 - planes["shading_loss"].to_numpy(float)))[keep])
    annual = bins.annual(weights)
    target = b["annual_kwh"].fillna(0.0).to_numpy(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where(annual > 0, target / annual, 0.0)
    weights = sparse.diags(scale) @ weights
    shapes = loads.shapes(index)                       # each column sums to 1 over the year
    annual_load = b["energy_use_kwh"]
    storage = config.grid.storage
    used = np.zeros(n)
    surplus = np.zeros(n)
    with_battery = np.zeros(n)
    kwp = b["capacity_kwp"].fillna(0.0).to_numpy(float)
    # 全额上网 sells every kWh: nothing is self-consumed, the balance is not needed.
    full_export = (export_mode(b, config.economics) == "full_export").to_numpy()
    rows = np.flatnonzero((target > 0) & ~full_export)
    # Without a battery only the intervals with PV matter (self-use and surplus are 0 at night).
    steps = slice(None) if storage is not None else bins.lit
    day = pd.factorize(index.normalize())[0]
    day_starts = np.flatnonzero(np.r_[True, np.diff(day) != 0])
    daily_shares = np.add.reduceat(shapes.to_numpy(np.float64), day_starts, axis=0).T   # category × day
    categories = positions(shapes.columns, b["category"].fillna("other"))
    shapes = shapes.iloc[steps]
    by_transformer = transformer_shapes(b, metered_transformers)
    for start in range(0, rows.size, BLOCK):
        block = rows[start:start + BLOCK]
        pv = bins.series(weights[block], lit_only=storage is None)
        load = loads.building_loads(b["category"].iloc[block], annual_load.iloc[block], shapes)
        daily = daily_shares[categories[block]] * annual_load.iloc[block].fillna(0.0).to_numpy(float)[:, None]
        if by_transformer is not None:  # the transformer's metered shape × the building's annual use
            hit = b.index[block].isin(by_transformer.index)
            if hit.any():
                use = annual_load.iloc[block][hit].fillna(0.0).to_numpy(np.float32)[:, None]
                rows_shaped = by_transformer.loc[b.index[block][hit]].to_numpy(np.float32) * use
                load[hit] = rows_shaped[:, steps]
                daily[hit] = np.add.reduceat(rows_shaped, day_starts, axis=1, dtype=np.float64)
        if metered is not None:
            hit = b.index[block].isin(metered.index)
            if hit.any():
                rows_metered = metered.loc[b.index[block][hit]].to_numpy(np.float32)
                load[hit] = rows_metered[:, steps]
                daily[hit] = np.add.reduceat(rows_metered, day_starts, axis=1, dtype=np.float64)
        used[block], surplus[block] = selfuse.balance(pv, load)
        if config.grid.flexible_share > 0:
            moved = selfuse.shift_flexible(pv, load, day[steps], daily, config.grid.flexible_share)
            used[block] += moved
            surplus[block] -= moved
        if storage is not None:
            with_battery[block] = selfuse.battery(
                pv, load, storage.kwh_per_kwp * kwp[block], storage.kw_per_kwp * kwp[block],
                storage.round_trip_efficiency, step_hours(index))[0]
    main = _main_plane(planes[keep], b.index)
    surplus[full_export] = target[full_export]
    with np.errstate(invalid="ignore", divide="ignore"):  # of the series' own sum (float32 steps)
        share = np.where(target > 0, used / (used + surplus), np.nan)
    out = b.assign(
        self_consumed_kwh=used, exported_kwh=surplus, curtailed_kwh=0.0, self_consumption_share=share,
        pv_tilt_deg=main["module_tilt_deg"], pv_azimuth_deg=main["azimuth_deg"],
    )
    if storage is None:
        return out.assign(storage_kwh=np.nan, storage_kw=np.nan, self_consumed_storage_kwh=np.nan)
    return out.assign(storage_kwh=storage.kwh_per_kwp * kwp, storage_kw=storage.kw_per_kwp * kwp,
                      self_consumed_storage_kwh=with_battery)


def split_surplus(b: pd.DataFrame) -> pd.DataFrame:
    """Roofs that export nothing (``export_mode`` full_self_use, an anti-reverse-flow
    relay) curtail their surplus: it moves from ``exported_kwh`` to ``curtailed_kwh``."""
    no_export = b["export_mode"].eq("full_self_use")
    surplus = b["exported_kwh"] + b["curtailed_kwh"]
    return b.assign(exported_kwh=surplus.where(~no_export, 0.0), curtailed_kwh=surplus.where(no_export, 0.0))


@functools.lru_cache(maxsize=4)
def _metered(path: Path, stamp: float, n_steps: int, key: str):
    return loads.read_metered(path, n_steps, key)


def metered_load(path: Path | None, n_steps: int, key: str = "building_id"
                 ) -> tuple[pd.DataFrame | None, list[Finding]]:
    """The metered load table per building or per transformer (``key``,
    :func:`roofpv.grid.loads.read_metered`), read once per file version and weather
    length in a process (every partition uses it); None and no findings without a path."""
    if path is None:
        return None, []
    return _metered(path, path.stat().st_mtime if path.exists() else 0.0, n_steps, key)


def transformer_shapes(b: pd.DataFrame, metered_transformers: pd.DataFrame | None) -> pd.DataFrame | None:
    """The metered load shape of each building's transformer (its metered kWh per
    interval over the year's, summing to 1), for the buildings whose transformer is
    metered, by building id; None without any."""
    if metered_transformers is None or "transformer_id" not in b:
        return None
    on = b["transformer_id"].isin(metered_transformers.index)
    if not on.any():
        return None
    totals = metered_transformers.sum(axis=1).replace(0.0, np.nan)
    shape = metered_transformers.div(totals, axis=0).fillna(0.0)
    return shape.loc[b.loc[on, "transformer_id"]].set_axis(b.index[on]).astype(np.float32)


def _main_plane(planes: pd.DataFrame, index: pd.Index) -> pd.DataFrame:
    """Module tilt and azimuth of each building's plane with the most layout kWp
    (NaN without planes)."""
    top = planes.sort_values("layout_kwp", ascending=False, kind="stable").drop_duplicates("building_id")
    return top.set_index("building_id")[["module_tilt_deg", "azimuth_deg"]].reindex(index)


def assign_transformers(b: pd.DataFrame, transformers: pd.DataFrame, crs: str, source: str
                        ) -> tuple[pd.DataFrame, list[Finding]]:
    """Serve each building by the transformer its survey names; a building without one,
    or naming one not in the table, by the nearest transformer with a position (one
    finding each, giving the surveyed value). Without positions, or for a building
    without a footprint, the survey's value stays (its roof is never limited; one
    finding says how many)."""
    named = b["transformer_id"].astype(object)
    lost = ~named.isin(transformers.index)
    if not lost.any():
        return b, []
    positions = ({"longitude", "latitude"} <= set(transformers)
                 and transformers[["longitude", "latitude"]].notna().all(axis=1))
    located = transformers[positions] if positions is not False else transformers.iloc[:0]
    centres = b.geometry[lost].representative_point() if not located.empty else None
    placed = (np.isfinite(centres.x) & np.isfinite(centres.y)).to_numpy() if centres is not None else None
    findings: list[Finding] = []
    left = int(lost.sum()) - (int(placed.sum()) if placed is not None else 0)
    if left:
        findings.append(Finding(
            "warning", source, None, None, "transformer_id", None,
            f"{left} buildings name no transformer of the table and cannot be placed by the nearest one "
            "(no transformer positions, or no footprint): their PV is not checked against any hosting capacity",
            "fill in transformer_id in the survey, or longitude/latitude in the transformers table"))
    if placed is None or not placed.any():
        return b, findings
    import geopandas as gpd

    points = gpd.GeoSeries(gpd.points_from_xy(located["longitude"], located["latitude"]), crs="EPSG:4326").to_crs(crs)
    ids = located.index.to_numpy()[hosting.served_by_nearest(
        np.column_stack([centres.x[placed], centres.y[placed]]), np.column_stack([points.x, points.y]))]
    moved = b.index[lost][placed]
    out = b.copy()
    out.loc[moved, "transformer_id"] = ids
    findings += [
        Finding("info", source, None, bid, "transformer_id", None if pd.isna(given) else str(given),
                f"{'no transformer named' if pd.isna(given) else 'transformer not in the table'}: "
                f"served by the nearest one, {tid}",
                "fill in the 台区 transformer from the grid company's records")
        for bid, given, tid in zip(moved, named[moved], ids)
    ]
    return out, findings


def transformer_table(b: pd.DataFrame, transformers: pd.DataFrame, config: Config, bins: BinSeries,
                      index: pd.DatetimeIndex, topology: pd.DataFrame | None = None,
                      metered_transformers: pd.DataFrame | None = None,
                      ) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """One row per transformer of the table: what it serves, its DL/T 2041 hosting
    capacity, open capacity, grade, the hour-by-hour capacity, and the storage or
    upgrade that would host every candidate roof on it (the columns of layer ``transformers``
    but those :func:`with_admitted` adds, and ``remaining_kw``: the capacity roofs are
    admitted against, by ``grid.hosting_basis``).

    With ``topology`` (:func:`roofpv.grid.topology.match`ed rows) also the feeders and
    substations: their DL/T 2041 rows from the summed hourly PV and load of the
    transformers they serve (:func:`roofpv.grid.topology.level_table`, layer ``feeders``),
    and on each transformer its ``feeder_id``, ``substation_id`` and ``limited_open_kw``;
    else None for them. A transformer with a ``metered_transformers`` row (kWh per
    interval, :func:`metered_load`) takes that load instead of its buildings' profiles."""
    grid = config.grid
    step = step_hours(index)
    ids = transformers.index
    t_of = positions(ids, b["transformer_id"])
    on = t_of >= 0
    nt = len(ids)
    kwp = b["capacity_kwp"].fillna(0.0).to_numpy(float)
    group = sparse.csr_matrix((np.ones(on.sum()), (t_of[on], np.flatnonzero(on))), shape=(nt, len(b)))
    front = _front_weights(b, config, bins)
    energy = bins.annual(front)
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where(energy > 0, b["annual_kwh"].fillna(0.0).to_numpy(float) / energy, 0.0)
    fallback = np.asarray(front.sum(axis=0)).ravel()           # run-wide mix for empty transformers
    # each building's row scaled in place, not by a diagonal product (a second matrix as large)
    front.data *= np.repeat(scale, np.diff(front.indptr))
    pv_weights = group @ front                                 # transformer × bins, kWh basis
    del front
    candidate_kwp = group @ kwp
    shapes = loads.shapes(index)
    categories = pd.Index(shapes.columns)
    cat = positions(categories, b["category"].fillna("other"))
    by_cat = sparse.csr_matrix((b["energy_use_kwh"].fillna(0.0).to_numpy(float)[on], (t_of[on], cat[on])),
                               shape=(nt, len(categories)))
    table_t = shapes.to_numpy(np.float32)[bins.lit].T       # PV flows back only when lit
    day = pd.factorize(index.normalize())[0][bins.lit]
    kva = transformers["kva"].to_numpy(float)
    existing = transformers["existing_pv_kw"].fillna(0.0).to_numpy(float)
    planned = transformers.get("planned_pv_kw", pd.Series(0.0, ids)).fillna(0.0).to_numpy(float)
    storage = transformers.get("storage_kw", pd.Series(0.0, ids)).fillna(0.0).to_numpy(float)
    measured_min = transformers["min_load_kw"].to_numpy(float)
    cols = {k: np.zeros(nt) for k in ("tau_max", "min_load_kw", "hourly_hosting_kw", "storage_to_host_kw",
                                      "storage_to_host_kwh", "upgrade_kva", "peak_reverse_kw")}
    cols["load_mwh_yr"] = np.asarray(by_cat.sum(axis=1)).ravel() / 1000.0
    metered = metered_transformers.reindex(ids) if metered_transformers is not None else None
    is_metered = metered.notna().all(axis=1).to_numpy() if metered is not None else np.zeros(nt, dtype=bool)
    if is_metered.any():
        cols["load_mwh_yr"][is_metered] = metered[is_metered].sum(axis=1).to_numpy(float) / 1000.0
    base = (fallback @ bins.lit_matrix) / max(fallback.sum(), 1e-12)   # kWh/kWp per lit step
    limit = hosting.reverse_limit(kva, storage, grid.reverse_load_rate, grid.power_factor)
    total_kwp = existing + planned + candidate_kwp
    levels = topo.members(topology, ids) if topology is not None else {}
    up = {level: (np.zeros((len(i), bins.lit.size)), np.zeros((len(i), bins.lit.size)))
          for level, (i, _) in levels.items()}   # summed PV and load per feeder / substation, kW
    member = {level: topo.member_rows(matrix) for level, (_, matrix) in levels.items()}
    run = {level: (np.zeros((len(i), bins.lit.size), np.float32), np.zeros((len(i), bins.lit.size), np.float32))
           for level, (i, _) in levels.items()}  # the float32 sums of the current BLOCK of transformers
    for start in range(0, nt, ROWS):
        stop = min(start + ROWS, nt)
        rows = slice(start, stop)
        series = bins.series(pv_weights[rows], lit_only=True)  # kWh per lit step, all candidates
        kwp = candidate_kwp[rows]
        has = kwp > 0
        per_kwp = np.empty_like(series)                        # kW per kWp
        per_kwp[has] = series[has] / (kwp[has, None] * step).astype(np.float32)
        per_kwp[~has] = base / step
        load = np.asarray(by_cat[rows] @ table_t, dtype=np.float32) / np.float32(step)   # kW
        hit = is_metered[rows]
        if hit.any():
            load[hit] = metered.iloc[rows].to_numpy(np.float32)[hit][:, bins.lit] / np.float32(step)
        low = load.min(axis=1, where=per_kwp > 0, initial=np.inf)
        low = np.where(np.isfinite(low), low, 0.0)
        given = measured_min[rows]
        cols["min_load_kw"][rows] = np.where(np.isnan(given), low, given)
        if not grid.credit_min_load:
            cols["min_load_kw"][rows] = 0.0
            load[:] = 0.0
        cols["tau_max"][rows] = per_kwp.max(axis=1, initial=0.0)
        cols["hourly_hosting_kw"][rows] = hosting.hourly_hosting(per_kwp, load, limit[rows])
        pv_kw = per_kwp * total_kwp[rows, None].astype(np.float32)
        for level, at in member.items():
            topo.add_rows(run[level][0], at[rows], pv_kw)
            topo.add_rows(run[level][1], at[rows], load)
            if stop % BLOCK == 0 or stop == nt:
                for total, part in zip(up[level], run[level]):
                    total += part
                    part[:] = 0.0
        net = pv_kw - load                                                   # reverse flow, kW
        cols["peak_reverse_kw"][rows] = net.max(axis=1, initial=0.0)
        bound = np.flatnonzero(cols["peak_reverse_kw"][rows] > limit[rows] + 1e-9)
        if bound.size:  # the battery or upgrade that would take every candidate roof
            at = bound + start
            over = np.maximum(net[bound] - limit[at, None], 0.0)
            cols["storage_to_host_kw"][at], cols["storage_to_host_kwh"][at] = hosting.storage_to_host(over, day, step)
            cols["upgrade_kva"][at] = cols["storage_to_host_kw"][at] / (grid.reverse_load_rate * grid.power_factor)
    tau = cols["tau_max"]
    hosting_kw = hosting.dlt2041_hosting(kva, cols["min_load_kw"], storage, tau, grid.reverse_load_rate,
                                         grid.power_factor)
    rate = hosting.reverse_load_rate(tau * (existing + planned), cols["min_load_kw"], kva, storage)
    open_kw = hosting.open_capacity(hosting_kw, existing, planned)
    p90 = uncertainty.p90_factor(config.uncertainty)
    basis = hosting.admission_basis(hosting_kw, cols["hourly_hosting_kw"], existing, planned, grid, p90)
    served = np.bincount(t_of[on], minlength=nt)
    township = hosting.mode_per_group(b["transformer_id"], b["township"]).reindex(ids)
    out = pd.DataFrame({
        "transformer_id": ids, "township": township.to_numpy(object), "buildings": served,
        "kva": kva, "existing_pv_kw": existing, "planned_pv_kw": planned, "storage_kw": storage,
        "load_mwh_yr": cols["load_mwh_yr"], "min_load_kw": cols["min_load_kw"],
        "min_load_source": np.where(not grid.credit_min_load, "not credited",
                                    np.where(~np.isnan(measured_min), "table",
                                             np.where(is_metered, "metered", "profiles"))),
        "tau_max": tau, "hosting_kw": hosting_kw, "open_kw": open_kw,
        "open_kw_p90": hosting.open_capacity(hosting.in_year(hosting_kw, p90), existing, planned),
        "hourly_hosting_kw": cols["hourly_hosting_kw"], "reverse_load_rate": rate,
        "grade": hosting.grade(rate, grid.reverse_load_rate * grid.power_factor), "candidate_kwp": candidate_kwp,
        "peak_reverse_kw": cols["peak_reverse_kw"],
        "storage_to_host_kw": cols["storage_to_host_kw"], "storage_to_host_kwh": cols["storage_to_host_kwh"],
        "upgrade_kva": cols["upgrade_kva"],
    }, index=pd.Index(ids, name="id"))
    out["hosting_bound"] = out["candidate_kwp"] > basis + 1e-9
    out["remaining_kw"] = basis
    out["released_kwp"] = np.maximum(out["candidate_kwp"] - basis, 0.0)
    out["storage_to_host_yuan"] = (storage_capex(out["storage_to_host_kwh"], out["storage_to_host_kw"],
                                                 config.economics.storage)
                                   if config.economics.storage is not None else np.nan)
    if topology is None:
        return out, None
    out["feeder_id"] = topology["feeder_id"].reindex(ids).to_numpy(object)
    out["substation_id"] = topology["substation_id"].reindex(ids).to_numpy(object)
    equipment = pd.concat([
        topo.level_table(level, i, matrix, *up[level], base / step, out, topology, grid, p90)
        for level, (i, matrix) in levels.items()])
    out["limited_open_kw"] = topo.limited_open(out, equipment)
    out["hosting_bound"] = out["hosting_bound"] | (out["candidate_kwp"] > out["limited_open_kw"] + 1e-9)
    return out, equipment


def _front_weights(b: pd.DataFrame, config: Config, bins: BinSeries) -> sparse.csr_matrix:
    """Bin weights of each building's main plane (``pv_tilt_deg``, ``pv_azimuth_deg``),
    1 per kWp of its added PV. Built :data:`FRONT_ROWS` buildings at a time: the sparse
    matrix's construction holds ≈ 0.3 KB per building in temporaries (0.3 GB at 1M)."""
    tilt = b["pv_tilt_deg"].to_numpy(float)
    az = b["pv_azimuth_deg"].to_numpy(float)
    ok = np.isfinite(tilt) & np.isfinite(az)
    kwp = b["capacity_kwp"].fillna(0.0).to_numpy(float)
    pieces = [sparse.csr_matrix((0, bins.n_bins))]
    for start in range(0, len(b), FRONT_ROWS):
        at = slice(start, start + FRONT_ROWS)
        on = ok[at]
        pieces.append(bins.weights(np.flatnonzero(on), on.size, _mounting_model(b["mounting"].iloc[at][on], config),
                                   tilt[at][on], az[at][on], kwp[at][on]))
    return sparse.vstack(pieces, format="csr")


def flat_hosting(transformers: pd.DataFrame, grid: GridConnection) -> pd.Series:
    """Open capacity per transformer without hourly profiles, kW: DL/T 2041 with every
    kWp at full output (τ_max = 1) and the table's minimum load when credited."""
    zero = pd.Series(0.0, transformers.index)
    load = transformers["min_load_kw"].fillna(0.0) if grid.credit_min_load else zero
    hosting_kw = hosting.dlt2041_hosting(transformers["kva"], load, transformers.get("storage_kw", zero).fillna(0.0),
                                         1.0, grid.reverse_load_rate, grid.power_factor)
    open_kw = hosting.open_capacity(hosting_kw, transformers["existing_pv_kw"].fillna(0.0),
                                    transformers.get("planned_pv_kw", zero).fillna(0.0))
    return pd.Series(open_kw, transformers.index, name="remaining_kw")


def with_admitted(table: pd.DataFrame, admitted: pd.Series, grid: GridConnection) -> pd.DataFrame:
    """Add the kWp the rollout admits per transformer (``admitted_kwp``) and the reverse
    load rate and grade once it is built (``planned_reverse_load_rate``, ``planned_grade``)."""
    kwp = admitted.reindex(table.index).fillna(0.0)
    rate = hosting.reverse_load_rate(
        table["tau_max"] * (table["existing_pv_kw"] + table["planned_pv_kw"] + kwp), table["min_load_kw"],
        table["kva"], table["storage_kw"])
    return table.assign(admitted_kwp=kwp, planned_reverse_load_rate=rate,
                        planned_grade=hosting.grade(rate, grid.reverse_load_rate * grid.power_factor))


def transformer_layer(table: pd.DataFrame | None, transformers: pd.DataFrame | None,
                      centres: pd.DataFrame | None, crs: str):
    """The ``transformers`` layer: :func:`transformer_table` with a point per transformer,
    at its ``longitude``/``latitude`` when the table gives them, else at the centre of the
    buildings it serves (``centres``, :func:`served_centres`; None when the buildings'
    outlines are not at hand: :func:`placed_at_centres` adds them later), no point when
    neither is known."""
    if table is None:
        return None
    import geopandas as gpd
    from shapely import points

    xy = np.full((len(table), 2), np.nan)
    if centres is not None:
        xy = _centres_of(centres, table.index)
    if transformers is not None and {"longitude", "latitude"} <= set(transformers):
        lonlat = transformers[["longitude", "latitude"]].reindex(table.index)
        known = lonlat.notna().all(axis=1).to_numpy()
        if known.any():
            at = gpd.GeoSeries(gpd.points_from_xy(*lonlat[known].to_numpy(float).T), crs="EPSG:4326").to_crs(crs)
            xy[known] = np.column_stack([at.x, at.y])
    geometry = points(np.nan_to_num(xy))
    geometry[np.isnan(xy[:, 0])] = None
    columns = [c for c in LAYER_FIELDS["transformers"] if c in table]
    return gpd.GeoDataFrame(table[columns].reset_index(drop=True), geometry=geometry, crs=crs)


def placed_at_centres(layer, centres: pd.DataFrame):
    """Layer ``transformers`` (:func:`transformer_layer` built without ``centres``) with
    every transformer that has no point placed at the centre of the buildings it serves,
    as :func:`transformer_layer` places it when it has them."""
    if layer is None:
        return layer
    xy = _centres_of(centres, layer["transformer_id"])
    missing = layer.geometry.isna().to_numpy() & ~np.isnan(xy).any(axis=1)
    if not missing.any():
        return layer
    import shapely

    geometry = layer.geometry.to_numpy().copy()
    geometry[missing] = shapely.points(xy[missing])
    return layer.set_geometry(geometry, crs=layer.crs)


def _centres_of(centres: pd.DataFrame, ids) -> np.ndarray:
    """(n, 2) mean x, y [m] of :func:`served_centres` for transformer ``ids`` (NaN: none)."""
    return np.array(centres[["x", "y"]].div(centres["n"], axis=0).reindex(ids), dtype=float)


def service_area_layer(layer, hulls: pd.Series):
    """The ``transformer_areas`` layer: the columns of layer ``transformers`` (``layer``,
    :func:`transformer_layer`) on the area each transformer serves (:func:`service_areas`;
    ``hulls``: :func:`served_hulls`); None without transformers, positions or footprints."""
    if layer is None or hulls.empty:
        return None
    placed = layer[layer.geometry.notna()]
    areas = service_areas(pd.Series(placed.geometry.to_numpy(), index=placed["transformer_id"]), hulls)
    if areas.empty:
        return None
    rows = placed[placed["transformer_id"].isin(areas.index)]
    columns = [c for c in LAYER_FIELDS["transformer_areas"] if c in rows]
    import geopandas as gpd

    return gpd.GeoDataFrame(rows[columns].reset_index(drop=True),
                            geometry=areas.reindex(rows["transformer_id"]).to_numpy(), crs=layer.crs)


def served_hulls(transformer_id: pd.Series, geometry) -> pd.Series:
    """The convex hull of the footprints (``geometry``, shapely geometries or WKB, aligned
    with ``transformer_id``) each transformer serves, by transformer id; one vectorized
    hull per transformer. Hulls of parts of the buildings (a run's partitions) give the
    whole's with :func:`merge_hulls`."""
    import shapely

    geometry, served = _served(transformer_id, geometry)
    if not served.any():
        return pd.Series(dtype=object)
    ids, group = np.unique(transformer_id.to_numpy()[served].astype(str), return_inverse=True)
    parts, of = shapely.get_parts(geometry[served], return_index=True)
    order = np.argsort(group[of], kind="stable")
    hulls = shapely.convex_hull(shapely.geometrycollections(parts[order], indices=group[of][order]))
    return pd.Series(hulls, index=pd.Index(ids, name="id"))


def served_centres(transformer_id: pd.Series, geometry) -> pd.DataFrame:
    """By transformer id: the sums ``x`` and ``y`` [m] of a point on each footprint it
    serves (``geometry``, shapely geometries or WKB, aligned with ``transformer_id``)
    and their count ``n``; their mean is where :func:`transformer_layer` places a
    transformer its table gives no position. Parts of the buildings (a run's partitions)
    give the whole's by summing (:func:`merge_centres`)."""
    import shapely

    geometry, served = _served(transformer_id, geometry)
    at = shapely.point_on_surface(geometry[served])
    frame = pd.DataFrame({"x": shapely.get_x(at), "y": shapely.get_y(at), "n": 1.0},
                         index=pd.Index(transformer_id.to_numpy()[served].astype(str), name="id"))
    return frame.groupby(level=0).sum()


def merge_centres(pieces: list[pd.DataFrame]) -> pd.DataFrame:
    """One :func:`served_centres` from those of parts of the buildings."""
    if not pieces:
        return pd.DataFrame(columns=["x", "y", "n"], dtype=float)
    return pd.concat(pieces).groupby(level=0).sum()


def _served(transformer_id: pd.Series, geometry) -> tuple[np.ndarray, np.ndarray]:
    """``geometry`` as shapely geometries, and which of them a transformer serves
    (an id given, a shape neither missing nor empty)."""
    import shapely

    geometry = np.asarray(geometry, dtype=object)
    if geometry.size and isinstance(geometry[0], bytes | bytearray):
        geometry = shapely.from_wkb(geometry)
    served = transformer_id.notna().to_numpy() & ~shapely.is_missing(geometry)
    served[served] &= ~shapely.is_empty(geometry[served])
    return geometry, served


def merge_hulls(pieces: list[pd.Series]) -> pd.Series:
    """One hull per transformer from the hulls of parts of its buildings
    (:func:`served_hulls` of each part): the hull of the parts' hulls."""
    import shapely

    pieces = [p for p in pieces if not p.empty]
    if not pieces:
        return pd.Series(dtype=object)
    whole = pd.concat(pieces)
    ids, group = np.unique(whole.index.to_numpy().astype(str), return_inverse=True)
    order = np.argsort(group, kind="stable")
    hulls = shapely.convex_hull(shapely.geometrycollections(whole.to_numpy()[order], indices=group[order]))
    return pd.Series(hulls, index=pd.Index(ids, name="id"))


def service_areas(points: pd.Series, hulls: pd.Series) -> pd.Series:
    """The area each transformer serves, by transformer id: the part of the plane nearer
    to it than to any other transformer (the Voronoi cell of its position, ``points``
    by id, in the buildings' projected CRS) within the convex hull of the footprints of
    the buildings it serves (``hulls`` by id, :func:`served_hulls`).

    The cells tile the plane, so two transformers' areas never overlap, and the hull
    keeps each on its own buildings, with no buffer distance to tune to the density of
    the town; a building the survey puts on a farther transformer may lie outside that
    transformer's area. One Voronoi diagram of the transformers and vectorized hulls:
    no geometry operation per building or per transformer. Empty without footprints."""
    import shapely

    hulls = hulls.reindex(pd.Index(points.index).astype(str))
    served = hulls.notna().to_numpy()
    if points.empty or not served.any():
        return pd.Series(dtype=object)
    xy = shapely.get_coordinates(points.to_numpy())
    unique, first = np.unique(xy, axis=0, return_inverse=True)   # transformers at one point share a cell
    if len(unique) > 1:
        cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(unique), ordered=True))
        areas = shapely.intersection(cells[first.ravel()][served], hulls.to_numpy()[served])
    else:  # one position: its cell is the plane
        areas = hulls.to_numpy()[served]
    return pd.Series(areas, index=pd.Index(points.index[served], name="id"))


def feeder_table(equipment: pd.DataFrame | None, table: pd.DataFrame | None) -> pd.DataFrame | None:
    """The ``feeders`` table: the feeders, then the substations
    (:func:`roofpv.grid.topology.level_table`), with the kWp the rollout admits on the
    transformers each one serves (``admitted_kwp``); None without a topology."""
    if equipment is None or equipment.empty or table is None:
        return None
    admitted = pd.concat([table.groupby(f"{level}_id")["admitted_kwp"].sum().rename(lambda i, lv=level: f"{lv}:{i}")
                          for level in topo.LEVELS])
    out = equipment.assign(admitted_kwp=admitted.reindex(equipment.index).fillna(0.0).to_numpy())
    return out[list(LAYER_FIELDS["feeders"])].reset_index(drop=True)


#: Township columns of the grid stage (:func:`township_grid`).
TOWNSHIP_COLUMNS = ("transformers_green", "transformers_yellow", "transformers_red", "open_kw",
                    "storage_to_host_kwh", "self_consumption_share")


def township_grid(b: pd.DataFrame, table: pd.DataFrame | None, index: pd.Index, total: str) -> pd.DataFrame:
    """Per township (rows ``index``; ``total`` = all of them): transformers by grade, their
    open capacity (kWp) and the storage that would host every candidate roof (kWh), by the
    township most of a transformer's buildings lie in, and the self-consumed share of the
    roofs' added PV output (NaN without hourly profiles or transformers)."""
    out = pd.DataFrame(np.nan, index=index, columns=list(TOWNSHIP_COLUMNS))
    if "self_consumed_kwh" in b:
        towns = b["township"].where(b["township"].isin(index))
        used = b["self_consumed_kwh"].groupby(towns).sum()
        made = (b["self_consumed_kwh"] + b["exported_kwh"] + b["curtailed_kwh"]).groupby(towns).sum()
        with np.errstate(invalid="ignore", divide="ignore"):
            out["self_consumption_share"] = (used / made).reindex(index)
            if total in index:
                out.loc[total, "self_consumption_share"] = b["self_consumed_kwh"].sum() / made.sum() \
                    if made.sum() > 0 else np.nan
    if table is not None:
        grades = pd.crosstab(table["township"], table["grade"]).reindex(columns=list(hosting.GRADES), fill_value=0)
        sums = table.groupby("township")[["open_kw", "storage_to_host_kwh"]].sum()
        for g in hosting.GRADES:
            out[f"transformers_{g}"] = grades[g].reindex(index).fillna(0)
        out[["open_kw", "storage_to_host_kwh"]] = sums.reindex(index).fillna(0.0).to_numpy()
        if total in index:
            out.loc[total, [f"transformers_{g}" for g in hosting.GRADES]] = grades.sum().to_numpy()
            out.loc[total, ["open_kw", "storage_to_host_kwh"]] = sums.sum().to_numpy()
    return out


def with_township_grid(table: pd.DataFrame, b: pd.DataFrame, transformers: pd.DataFrame | None,
                       total: str) -> pd.DataFrame:
    """``table`` (a township or county summary) with the :func:`township_grid` columns
    after its totals (``technical_annual_mwh_p90``), before its per-target columns."""
    at = table.columns.get_loc("technical_annual_mwh_p90") + 1
    grid = township_grid(b, transformers, table.index, total)
    return pd.concat([table.iloc[:, :at], grid, table.iloc[:, at:]], axis=1)
