"""Hosting capacity of feeders and substations after DL/T 2041, from the transformers they
serve (docs/sources.md §6).

DL/T 2041 assesses every piece of equipment between the PV and the main grid — the 台区
transformer, the 10 kV feeder, the substation's main transformers — with the same balance
(:func:`roofpv.grid.hosting.dlt2041_hosting`): S_d = (P_load,min + P_ESS + β·S·cos θ) / τ_max.
For a feeder or a substation, P_load,min and τ_max come from the sum of the hourly PV and
load of the transformers it serves (:func:`add_rows`): the load of many transformers
seldom falls to its minimum in the same hour, so a feeder's minimum load is at least the
sum of theirs. Its PV is the PV of its transformers (connected, filed and candidate) plus
the PV connected to it directly (``feeder_pv_kw``; same shape). A transformer's open
capacity is then also limited by its feeder's and its substation's (:func:`limits`): roofs
are admitted in rank order while each level still has room
(:func:`roofpv.appraise.grid.over_hosting`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse

from roofpv.config import GridConnection
from roofpv.findings import Finding
from roofpv.grid import hosting

#: Upstream levels, nearest first.
LEVELS = ("feeder", "substation")


def match(topology: pd.DataFrame, transformers: pd.DataFrame, source: str
          ) -> tuple[pd.DataFrame, list[Finding]]:
    """The topology rows of the transformers of the table. A row naming a transformer the
    table lacks is left out (a warning naming its row); transformers without a row are
    limited by their own capacity only (one finding)."""
    known = topology.index.isin(transformers.index)
    findings = [Finding("warning", source, int(row), tid, "transformer_id", tid,
                        "transformer not in the transformers table: the row is left out",
                        "use the ids of grid.transformers, or add the transformer there")
                for tid, row in zip(topology.index[~known], topology["row"][~known])]
    absent = transformers.index.difference(topology.index)
    if len(absent):
        findings.append(Finding(
            "info", source, None, None, "transformer_id", None,
            f"{len(absent)} transformers have no feeder in the topology table (e.g. {', '.join(map(str, absent[:3]))}): "
            "only their own hosting capacity limits them",
            "add a row per transformer: transformer_id, feeder_id, feeder_kva"))
    return topology[known], findings


def members(topology: pd.DataFrame, transformer_ids: pd.Index) -> dict[str, tuple[pd.Index, sparse.csr_matrix]]:
    """Per level: its ids and which transformers it serves, (ids × transformers) 0/1."""
    out = {}
    for level in LEVELS:
        key = topology.get(f"{level}_id", pd.Series(dtype=object)).reindex(transformer_ids)
        ids = pd.Index(key.dropna().unique(), name="id")
        at = ids.get_indexer(key)
        on = np.flatnonzero(at >= 0)
        out[level] = ids, sparse.csr_matrix((np.ones(on.size, np.float32), (at[on], on)),
                                            shape=(len(ids), len(transformer_ids)))   # float32: no upcast of the series
    return out


def member_rows(matrix: sparse.csr_matrix) -> np.ndarray:
    """The row of :func:`members`' ``matrix`` (its level id) of each transformer, −1 for none."""
    at = np.full(matrix.shape[1], -1, np.int64)
    at[matrix.indices] = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    return at


def add_rows(sums: np.ndarray, at: np.ndarray, transformer_rows: np.ndarray) -> None:
    """Add each transformer's row of ``transformer_rows`` (transformers × steps) to row
    ``at`` (:func:`member_rows`; −1: none) of ``sums`` (ids × steps), in place, one
    transformer after the other: so ``sums`` is the same however the transformers come
    in pieces (``matrix @ transformer_rows`` sums each piece on its own first, which
    rounds the float32 sums differently)."""
    for t in np.flatnonzero(at >= 0):
        sums[at[t]] += transformer_rows[t]


def level_table(level: str, ids: pd.Index, matrix: sparse.spmatrix, pv_kw: np.ndarray, load_kw: np.ndarray,
                base_per_kwp: np.ndarray, transformers: pd.DataFrame, topology: pd.DataFrame,
                grid: GridConnection, p90: float = 1.0) -> pd.DataFrame:
    """DL/T 2041 for the feeders or substations ``ids``: rating, PV connected and filed,
    minimum load, τ_max, hosting and open capacity, reverse load rate and grade.

    ``pv_kw``, ``load_kw`` (ids × lit steps) [kW]: the sums over each one's transformers
    of their PV (every kWp, candidates included) and load (:func:`add_rows`);
    ``base_per_kwp`` [kW/kWp]: the run's mix, for one with no PV. ``transformers``: the
    transformer table (:func:`roofpv.grid.assess.transformer_table` columns
    ``existing_pv_kw``, ``planned_pv_kw``, ``storage_kw``, ``candidate_kwp``);
    ``topology``: the topology table (:func:`roofpv.io.topology.read_topology`); ``p90``:
    the P90 year's scale (:func:`roofpv.energy.uncertainty.p90_factor`)."""
    first = topology.reset_index().dropna(subset=[f"{level}_id"]).drop_duplicates(f"{level}_id").set_index(f"{level}_id")
    first = first.reindex(ids)
    sums = pd.DataFrame(matrix @ transformers[["existing_pv_kw", "planned_pv_kw", "storage_kw", "candidate_kwp"]]
                        .to_numpy(float), columns=["existing", "planned", "storage", "candidate"], index=ids)
    direct = first[f"{level}_pv_kw"].fillna(0.0).to_numpy(float)
    if level == "substation":   # PV on its feeders outside the listed transformers
        feeders = topology.dropna(subset=["substation_id"]).drop_duplicates("feeder_id")
        direct = direct + feeders.groupby("substation_id")["feeder_pv_kw"].sum().reindex(ids).fillna(0.0).to_numpy()
    existing = sums["existing"].to_numpy() + direct
    planned = sums["planned"].to_numpy()
    storage = sums["storage"].to_numpy()
    kva = first[f"{level}_kva"].fillna(0.0).to_numpy(float)
    own = sums[["existing", "planned", "candidate"]].sum(axis=1).to_numpy()   # kWp on its transformers
    per_kwp = np.empty_like(pv_kw)                                               # kW per kWp
    has = own > 0
    per_kwp[has] = pv_kw[has] / own[has, None]
    per_kwp[~has] = base_per_kwp
    if not grid.credit_min_load:
        load_kw = np.zeros_like(load_kw)
    low = load_kw.min(axis=1, where=per_kwp > 0, initial=np.inf) if load_kw.shape[1] else np.full(len(ids), np.inf)
    low = np.where(np.isfinite(low), low, 0.0)
    measured = first[f"{level}_min_load_kw"].to_numpy(float)
    min_load = np.where(np.isnan(measured), low, measured) if grid.credit_min_load else np.zeros(len(ids))
    tau = per_kwp.max(axis=1, initial=0.0)
    hosting_kw = hosting.dlt2041_hosting(kva, min_load, storage, tau, grid.reverse_load_rate, grid.power_factor)
    limit = hosting.reverse_limit(kva, storage, grid.reverse_load_rate, grid.power_factor)
    hourly = hosting.hourly_hosting(per_kwp, load_kw, limit)
    rate = hosting.reverse_load_rate(tau * (existing + planned), min_load, kva, storage)
    open_kw = hosting.open_capacity(hosting_kw, existing, planned)
    return pd.DataFrame({
        "level": level, "feeder_id": ids if level == "feeder" else None,
        "substation_id": (first["substation_id"].to_numpy(object) if level == "feeder" else ids.to_numpy(object)),
        "transformers": np.asarray(matrix.sum(axis=1)).ravel().astype(int), "kva": kva,
        "existing_pv_kw": existing, "planned_pv_kw": planned, "storage_kw": storage,
        "min_load_kw": min_load,
        "min_load_source": np.where(not grid.credit_min_load, "not credited",
                                    np.where(np.isnan(measured), "profiles", "table")),
        "tau_max": tau, "hosting_kw": hosting_kw, "open_kw": open_kw,
        "open_kw_p90": hosting.open_capacity(hosting.in_year(hosting_kw, p90), existing, planned),
        "hourly_hosting_kw": hourly,
        "reverse_load_rate": rate, "grade": hosting.grade(rate, grid.reverse_load_rate * grid.power_factor),
        "candidate_kwp": sums["candidate"].to_numpy(),
        "remaining_kw": hosting.admission_basis(hosting_kw, hourly, existing, planned, grid, p90),
    }, index=pd.Index([f"{level}:{i}" for i in ids], name="key"))


def limits(table: pd.DataFrame, equipment: pd.DataFrame | None) -> pd.Series | pd.DataFrame:
    """What the rollout admits roofs against: per transformer its ``remaining_kw``, and
    with feeders and substations (``equipment``: :func:`level_table` rows) each one's
    ``<level>_id`` and ``<level>_remaining_kw`` (:func:`roofpv.appraise.grid.over_hosting`)."""
    if equipment is None or equipment.empty:
        return table["remaining_kw"]
    out = table[["remaining_kw", *(f"{level}_id" for level in LEVELS)]].copy()
    for level in LEVELS:
        rows = equipment[equipment["level"] == level].set_index(f"{level}_id")["remaining_kw"]
        out[f"{level}_remaining_kw"] = out[f"{level}_id"].map(rows)
    return out


def limited_open(table: pd.DataFrame, equipment: pd.DataFrame) -> np.ndarray:
    """A transformer's open capacity limited by its feeder's and substation's, kWp: the
    smallest open capacity on its way to the main grid."""
    out = table["open_kw"].to_numpy(float).copy()
    for level in LEVELS:
        rows = equipment[equipment["level"] == level].set_index(f"{level}_id")["open_kw"]
        upstream = table[f"{level}_id"].map(rows).to_numpy(float)
        out = np.fmin(out, upstream)
    return out
