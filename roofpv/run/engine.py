"""Partitioned survey: the per-building stages on partitions of the buildings, in this
process or on a Dask cluster, with resumable per-partition results.

The work splits in three:

1. once, jurisdiction-wide: read the inputs, the weather and the yield tables
   (independent of the number of buildings);
2. per partition (townships grouped to balance sizes, or runs along a Hilbert curve):
   :func:`roofpv.run.stages.assess_buildings`, whose rows depend on nothing outside the
   partition but the footprints the DSM stage sees around it;
3. once, on the gathered building columns: grid admission in rank order, the rollout
   plan and the township table (:func:`roofpv.run.pipeline.conclude`).

Each finished partition is written to ``<out>/.partitions/<n>.parquet`` beside a
``manifest.json`` holding a fingerprint of the config, the inputs' sizes and times and
the partitioning; ``resume`` reuses the partitions of a matching manifest. Results do
not depend on the engine or on the partitioning.
"""

from __future__ import annotations

import hashlib
import json
import math
import pickle
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from roofpv import __version__
from roofpv.config import Config
from roofpv.grid import assess as gridstage
from roofpv.inputs import first_pass, jurisdictions
from roofpv.inputs.ids import positions
from roofpv.io.partitions import CACHE_DIR, PartitionCache, Partitions
from roofpv.io.tiles import Mosaic
from roofpv.results import Results
from roofpv.run import sequence
from roofpv.run.memory import give_back_freed_memory
from roofpv.run.pipeline import (
    COMPACT_TEXTS,
    HELD_COLUMNS,
    PLAN_ONLY_COLUMNS,
    Prepared,
    assess_buildings,
    calibrates,
    conclude,
    conclude_columns,
    plain,
    prepare,
    surface_sites,
)
from roofpv.run.sequence import ARRAYS_MAX_BUILDINGS, ENGINES, PARTITION_BY, PARTITION_SIZE
from roofpv.surfaces.facades import FacadeTables
from roofpv.targets.planning import PLAN_COLUMNS


@dataclass(frozen=True)
class Shared:
    """What every partition needs besides its buildings (sent to each worker once)."""

    config: Config
    hourly: pd.DataFrame
    tables: dict
    crs: str
    mosaic: Mosaic | None
    dem: Mosaic | None
    draw_arrays: bool
    facade_tables: FacadeTables | None = None
    #: For partitions that read their own inputs (:mod:`roofpv.inputs.first_pass`): the
    #: footprint layer's CRS, the township polygons as read, the survey's joined dtypes
    #: and the transformers table.
    reads: tuple[str, gpd.GeoDataFrame | None, pd.Series, pd.DataFrame | None] | None = None


@dataclass(frozen=True)
class PartitionDone:
    """Progress report of one finished partition."""

    index: int
    done: int
    total: int
    buildings: int
    seconds: float
    cached: bool


def partition_labels(b: gpd.GeoDataFrame, n: int, by: str = "township") -> np.ndarray:
    """Partition number (0 … n−1) of each building (:func:`plan`)."""
    township = b["township"].to_numpy() if by == "township" else np.zeros(len(b))
    return plan(township, shapely.bounds(b.geometry.to_numpy()), n, by)


def plan(township: np.ndarray, bounds: np.ndarray, n: int, by: str = "township") -> np.ndarray:
    """Partition number (0 … n−1) of each building, from its township and the (n, 4)
    bounds of its footprint (NaN without one).

    ``township``: whole townships, largest first, each into the partition with the
    fewest buildings so far (a township is never split). ``spatial``: equal runs of
    buildings ordered along a Hilbert curve over the footprints' bounds."""
    if by not in PARTITION_BY:
        raise ValueError(f"partition by {by!r}: use one of {', '.join(PARTITION_BY)}")
    size = len(bounds)
    n = max(1, min(n, size))
    if by == "spatial":
        valid = ~np.isnan(bounds).any(axis=1)
        key = np.zeros(size, dtype=np.int64)
        if valid.any():
            inner = bounds[valid]
            total = np.r_[inner[:, :2].min(axis=0), inner[:, 2:].max(axis=0)]
            centres = gpd.GeoSeries(shapely.points((inner[:, :2] + inner[:, 2:]) / 2))
            key[valid] = centres.hilbert_distance(total_bounds=total).to_numpy()
        order = np.lexsort((np.arange(size), key))
        labels = np.empty(size, dtype=np.int64)
        labels[order] = np.arange(size) * n // size
        return labels
    names = township if isinstance(township, pd.Categorical) else pd.Categorical(pd.Series(township).astype(str))
    sizes = pd.Series(np.bincount(names.codes, minlength=len(names.categories)), index=names.categories.astype(str))
    order = np.lexsort((sizes.index.to_numpy(), -sizes.to_numpy()))
    load = np.zeros(n, dtype=np.int64)
    assigned = np.zeros(len(sizes), dtype=np.int64)
    for at, count in zip(order, sizes.to_numpy()[order]):
        if count:
            k = int(np.argmin(load))
            assigned[at] = k
            load[k] += count
    return assigned[names.codes]


def reach_m(config: Config) -> float | None:
    """How far outside a partition its per-building stages look [m]: the DSM windows
    (one DSM block plus the horizon radius) and the facades' obstacles (the party-wall
    gap plus their search radius plus 1 m, as
    :func:`roofpv.surfaces.facades.within_reach` takes them); None when neither is run."""
    reach = [config.dsm.block_m + config.dsm.radius_m] if config.dsm.tiles is not None else []
    f = config.facades
    reach += [f.party_wall_gap_m + f.radius_m + 1.0] if f.enabled else []
    return max(reach) if reach else None


def reach_areas(bounds: np.ndarray, config: Config) -> np.ndarray | None:
    """Boxes holding every footprint outside a partition that its per-building stages
    see, from the (n, 4) ``bounds`` of its footprints (None when nothing looks outside).
    With a DSM, one box: the bounds of them all, :func:`reach_m` wider (the windows are
    read by blocks over all of them). Else one box per footprint, its bounds
    :func:`reach_m` wider: the facades see what stands near each wall, and one box over
    a partition of whole townships, which may lie anywhere in a county, would hold most
    of the county (at 1M buildings each partition read 0.97M footprints)."""
    boxes = reach_bounds(bounds, config)
    return None if boxes is None else shapely.box(*boxes.T)


def reach_bounds(bounds: np.ndarray, config: Config) -> np.ndarray | None:
    """The (m, 4) bounds of :func:`reach_areas`."""
    reach = reach_m(config)
    if reach is None:
        return None
    bounds = bounds[~np.isnan(bounds).any(axis=1)]
    if config.dsm.tiles is not None and len(bounds):
        bounds = np.r_[bounds[:, :2].min(axis=0), bounds[:, 2:].max(axis=0)][None]
    return bounds + [-reach, -reach, reach, reach]


def around_partition(b: gpd.GeoDataFrame, inside: np.ndarray, config: Config,
                     tree: shapely.STRtree | None = None) -> gpd.GeoDataFrame | None:
    """Footprints outside the partition in its :func:`reach_areas`, which its DSM windows
    and walls see (None when nothing looks outside). ``tree``: of ``b``'s geometries."""
    areas = reach_areas(shapely.bounds(b.geometry.to_numpy()[inside]), config)
    if areas is None:
        return None
    if tree is None:
        tree = shapely.STRtree(b.geometry.to_numpy())
    near = np.zeros(len(b), bool)
    near[tree.query(areas, predicate="intersects")[1]] = True
    return b[near & ~inside]


def assess_partition(part: gpd.GeoDataFrame | Path, neighbours: gpd.GeoDataFrame | None, shared: Shared,
                     progress: Callable[[str], None] = lambda stage: None,
                     ) -> tuple[pd.DataFrame, gpd.GeoDataFrame | None, gpd.GeoDataFrame | None,
                                gpd.GeoDataFrame | None, dict[str, list] | None]:
    """The per-building stages on one partition (runs in a worker); ``progress(stage)``
    as each stage starts. ``part``: the partition's buildings, or the file of what it
    reads itself (:func:`write_reads`; its findings are then returned too)."""
    findings = None
    if isinstance(part, Path):
        part, neighbours, findings = read_partition(part, shared)
    return (*assess_buildings(part, shared.config, shared.hourly, shared.tables, shared.crs,
                              progress, neighbours=neighbours, mosaic=shared.mosaic, dem=shared.dem,
                              draw_arrays=shared.draw_arrays, facade_tables=shared.facade_tables), findings)


def write_reads(cache: PartitionCache, k: int, scan: first_pass.Scan, own: np.ndarray,
                index: first_pass.Boxes, config: Config) -> tuple[Path, np.ndarray]:
    """``<cache>/<k>.inputs.pkl``: what partition ``k`` reads itself, on the storage its
    worker reads from: the ids and feature ids of its footprints, of those in its
    :func:`reach_areas` (what its DSM windows and walls see) and of those around both
    (:func:`roofpv.inputs.first_pass.surroundings`, for the overlaps); and the catalogue
    positions of all these, whose survey rows :func:`write_survey_rows` appends.
    ``index``: the bounds of the footprints with a geometry."""
    cat = scan.catalogue
    mine = own[~np.isnan(cat.bounds[own]).any(axis=1)]
    areas = reach_bounds(cat.bounds[mine], config)
    within = index.query(areas) if areas is not None else np.array([], np.int64)
    around = np.union1d(first_pass.surroundings(cat.bounds, np.union1d(mine, within), index), own)
    path = (cache.dir / f"{k}.inputs.pkl").resolve()  # as the workers see it
    pd.to_pickle({"ids": cat.ids[around], "fids": cat.fids[around].astype(np.int64), "own": np.isin(around, own),
                  "shade": np.isin(around, within) & ~np.isin(around, own),
                  "survey": scan.survey.probe.iloc[:0]}, path)
    return path, around


def write_survey_rows(scan: first_pass.Scan, paths: dict[int, Path], around: dict[int, np.ndarray]) -> None:
    """Append to each partition's inputs file (:func:`write_reads`) the survey rows of the
    footprints it reads (``around``: their catalogue positions), the survey read block by
    block from disk, each block once (:meth:`roofpv.io.survey_spill.SpilledSurvey.gather`)."""
    row = scan.catalogue.rows  # catalogue position → survey row used
    wanted = {k: np.sort(r[r >= 0]) for k, r in ((k, row[a]) for k, a in around.items())}

    def append(k: int, rows: pd.DataFrame) -> None:
        with open(paths[k], "ab") as f:
            pickle.dump(rows, f, protocol=pickle.HIGHEST_PROTOCOL)

    scan.survey.gather({k: w for k, w in wanted.items() if len(w)}, append)


def read_reads(path: Path) -> dict:
    """What :func:`write_reads` and :func:`write_survey_rows` wrote for a partition, its
    survey rows joined."""
    with open(path, "rb") as f:
        reads = pickle.load(f)
        pieces = []
        while True:
            try:
                pieces.append(pickle.load(f))
            except EOFError:
                break
    if pieces:
        reads["survey"] = pd.concat(pieces) if len(pieces) > 1 else pieces[0]
    return reads


def read_partition(path: Path, shared: Shared) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame | None,
                                                         dict[str, list]]:
    """A partition's buildings, the footprints around it within :func:`reach_m` (None when
    nothing looks outside) and its findings, from what it reads itself (:func:`write_reads`)."""
    reads = read_reads(path)
    source_crs, polygons, dtypes, transformers = shared.reads
    own, shade = reads["own"], reads["shade"]
    b, found = first_pass.assemble(shared.config, shared.crs, source_crs, polygons, reads["ids"],
                                   reads["fids"], own | shade, reads["survey"], dtypes, transformers)
    mine = set(reads["ids"][own])
    inside = b.index.isin(reads["ids"][own])
    around = b[~inside] if shade.any() else None
    return b[inside], around, {k: [f for f in v if f.building_id in mine] for k, v in found.items()}


def fingerprint(config: Config, n_partitions: int, by: str, arrays: bool, per_partition: bool = False) -> str:
    """Hash of everything a partition's result depends on: the config, the sizes and
    modification times of its input files and tiles, the partitioning, whether arrays are
    drawn and the version."""
    files = [config.inputs.footprints, config.inputs.survey, *jurisdictions.township_files(config),
             config.weather.file, config.dsm.tiles, config.dsm.dem]
    stats = []
    for path in files:
        if path is None:
            continue
        path = Path(path)
        members = sorted(path.rglob("*")) if path.is_dir() else [path]
        stats += [(str(m), m.stat().st_size, m.stat().st_mtime_ns) for m in members if m.is_file()]
    text = json.dumps([config.model_dump_json(), stats, n_partitions, by, arrays, per_partition, __version__],
                      default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _dask_client(scheduler: str | None, workers: int):
    """A client of the cluster at ``scheduler``, or of a new local cluster."""
    from distributed import Client, LocalCluster

    if scheduler:
        return Client(scheduler)
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                           dashboard_address=None)
    return Client(cluster)


def _timed(part: gpd.GeoDataFrame | Path, neighbours: gpd.GeoDataFrame | None, shared: Shared,
           progress: Callable[[str], None] = lambda stage: None):
    """:func:`assess_partition` and the seconds it took (measured where it ran)."""
    started = time.perf_counter()
    result = assess_partition(part, neighbours, shared, progress)
    return result, time.perf_counter() - started


def _run_local(tasks, shared, cache, on_done, progress):
    for index, part, neighbours, size in tasks:
        layers, seconds = _timed(part, neighbours, shared, progress)
        cache.store(index, *layers)
        on_done(index, size, seconds)


def _run_dask(tasks: Iterator, shared, cache, on_done, scheduler: str | None, workers: int):
    from distributed import as_completed

    # Dask's workers are the parallelism: the DSM stage runs one window at a time in each
    # (no threads of its own on top of the worker's, no process pool in a daemon process).
    dsm = shared.config.dsm.model_copy(update={"workers": 1})
    shared = replace(shared, config=shared.config.model_copy(update={"dsm": dsm}))
    client = _dask_client(scheduler, workers)
    try:
        remote = client.scatter(shared, broadcast=True)
        threads = client.nthreads()
        busy = dict.fromkeys(threads, 0)  # partitions in flight per worker
        futures = {}

        def submit() -> bool:
            """Send the next partition; False when none is left."""
            item = next(tasks, None)
            if item is None:
                return False
            index, part, neighbours, size = item
            # A partition reading its own inputs gets only the path of what it reads and
            # goes where the scheduler sends it. Others are scattered first (so the data go
            # to a worker, not into the task graph), to the worker with the fewest
            # partitions in flight per thread, where the task then runs. (Dask's round
            # robin advances by two for the pair of frames, so on two workers every
            # partition went to the same one; hash=False spares hashing a whole frame.)
            where = min(busy, key=lambda w: (busy[w] / threads[w], w))
            data = [part] if isinstance(part, Path) else client.scatter([part, neighbours], workers=[where],
                                                                         hash=False)
            future = client.submit(_timed, *data, *([None] if isinstance(part, Path) else []), remote,
                                   key=f"roofpv-{cache.key[:16]}-{index}")
            busy[where] += not isinstance(part, Path)
            futures[future] = (index, size, where, not isinstance(part, Path))
            pending.add(future)
            return True

        # Two partitions in flight per worker thread: workers stay busy, and memory
        # holds a few partitions, not all of them.
        pending = as_completed()
        in_flight = 2 * max(1, sum(threads.values()))
        for _ in range(in_flight):
            if not submit():
                break
        for future in pending:
            index, size, where, placed = futures.pop(future)
            busy[where] -= placed
            layers, seconds = future.result()
            future.release()
            cache.store(index, *layers)
            on_done(index, size, seconds)
            submit()
    finally:
        cluster = client.cluster
        client.close()
        if cluster is not None:
            cluster.close()


def run_partitions(
    config: Config, out_dir: Path, *, engine: str = "local", partitions: int | None = None,
    by: str = "township", scheduler: str | None = None, workers: int = 2, resume: bool = False,
    arrays: bool | None = None, prepared: Prepared | None = None, stream: bool = False,
    progress: Callable[[str], None] = lambda stage: None,
    on_partition: Callable[[PartitionDone], None] = lambda done: None,
) -> Results:
    """Run the survey of ``config`` partition by partition; same results as
    :func:`roofpv.run.pipeline.run`.

    Parameters
    ----------
    engine : ``local`` (partitions one after the other in this process) or ``dask``.
    partitions : number of partitions; default one per :data:`PARTITION_SIZE` buildings.
    by : ``township`` or ``spatial`` (:func:`partition_labels`).
    scheduler : address of a running Dask scheduler (``tcp://host:8786``); default a
        local cluster of ``workers`` processes. Input files must be readable by the
        workers only through what is sent to them: partitions and the shared tables
        travel over the network, DSM tiles are read by the workers at their config path.
    resume : reuse the finished partitions of an interrupted run into ``out_dir``.
    prepared : the inputs, weather and yield tables of :func:`roofpv.run.pipeline.prepare`,
        where the caller has them already; default: prepared here.
    arrays : draw the ``pv_arrays`` layer; default: for up to :data:`ARRAYS_MAX_BUILDINGS`
        buildings.
    stream : with more than one partition, gather only the columns the jurisdiction-wide
        steps need (:func:`roofpv.run.pipeline.conclude_columns`) and leave the rest on disk
        for :func:`roofpv.io.outputs.write_outputs` to stream partition by partition
        (``Results.partitions``): memory then holds one chunk of buildings and the slim
        table, not every building's columns and geometry. The partitions must stay in
        ``out_dir`` until the outputs are written (:func:`clear_partitions`).
    """
    if engine not in ENGINES:
        raise ValueError(f"engine {engine!r}: use one of {', '.join(ENGINES)}")
    prepared = prepared or prepare(config, progress, per_partition=first_pass.supported(config), spill=out_dir)
    inventory, scan = prepared.inventory, prepared.scan
    b = inventory.buildings
    ids = scan.catalogue.ids if scan is not None else b.index
    n = partitions or max(1, math.ceil(len(ids) / PARTITION_SIZE))
    draw_arrays = len(ids) <= ARRAYS_MAX_BUILDINGS if arrays is None else arrays
    reads = None if scan is None else (scan.catalogue.source_crs, scan.polygons, scan.survey_dtypes,
                                       scan.transformers)
    shared = Shared(config, prepared.hourly, prepared.tables, inventory.crs, inventory.dsm,
                    inventory.dem, draw_arrays, prepared.facade_tables, reads)

    progress(sequence.ROOFS)
    labels = (plan(scan.catalogue.township, scan.catalogue.bounds, n, by) if scan is not None
              else partition_labels(b, n, by))
    cache = PartitionCache(out_dir, fingerprint(config, n, by, draw_arrays, scan is not None), resume)
    todo = [k for k in range(n) if (labels == k).any() and not cache.done(k)]
    total = int(np.unique(labels).size)
    finished = total - len(todo)
    for k in sorted(set(np.unique(labels)) - set(todo)):
        on_partition(PartitionDone(int(k), finished, total, int((labels == k).sum()), 0.0, True))

    if scan is not None:  # each partition's inputs to shared storage, then the survey let go
        bounds = scan.catalogue.bounds
        index = first_pass.Boxes(bounds, np.flatnonzero(~np.isnan(bounds).any(axis=1)))
        order = np.argsort(labels, kind="stable")  # each partition's positions, ascending
        ends = np.searchsorted(labels[order], np.arange(n + 1))
        written = {k: write_reads(cache, k, scan, order[ends[k]:ends[k + 1]], index, config) for k in todo}
        paths = {k: path for k, (path, _) in written.items()}
        del index, order
        write_survey_rows(scan, paths, {k: around for k, (_, around) in written.items()})
        del written
        scan.survey.close()
        scan = replace(scan, survey=None)
        prepared = replace(prepared, scan=scan)

    def tasks():
        tree = None if scan is not None or reach_m(config) is None else shapely.STRtree(b.geometry.to_numpy())
        for k in todo:
            inside = labels == k
            if scan is not None:
                yield k, paths[k], None, int(inside.sum())
            else:
                yield k, b[inside], around_partition(b, inside, config, tree), int(inside.sum())

    count = [finished]

    def on_done(index: int, size: int, seconds: float) -> None:
        count[0] += 1
        on_partition(PartitionDone(index, count[0], total, size, seconds, False))

    if engine == "dask":
        _run_dask(tasks(), shared, cache, on_done, scheduler, workers)
    else:
        _run_local(tasks(), shared, cache, on_done, progress)

    numbers = tuple(int(k) for k in np.unique(labels))
    if scan is not None:  # the partitions' findings in their place among the inventory's
        stages = {}
        for k in numbers:
            for stage, found in cache.findings(k).items():
                stages.setdefault(stage, []).append(found)
        own = sum(len(item) for item in scan.layout if isinstance(item, list))
        rest, surfaces = inventory.findings[own:], prepared.surfaces
        if scan.surfaces_at is not None:  # the surface sites, cut by the outlines the partitions stored
            surfaces, found = surface_sites(config, inventory, partial(surface_footprints, cache.dir, numbers, ids))
            rest = rest[:scan.surfaces_at - own] + found + rest[scan.surfaces_at - own:]
        inventory = replace(inventory, findings=scan.findings(stages) + rest)
        prepared = replace(prepared, inventory=inventory, scan=None, surfaces=surfaces)
    if stream and len(numbers) > 1:
        source = Partitions(cache.dir, numbers, ids, inventory.crs,
                            ("planes", *(("arrays",) if draw_arrays else ()), "facades"))
        columns = conclude_columns(source.columns(), prepared, config)
        if inventory.dsm is None:  # conclude reads the inventory's footprints for the DSM only
            prepared = replace(prepared, inventory=replace(inventory, buildings=b.iloc[:0]))
        # memory: the first pass's catalogue (but its ids) and the partition plan go too
        del b, inventory, scan, shared, labels, reads
        give_back_freed_memory()
        calibrated = calibrates(prepared)  # then conclude re-appraises every roof from every column
        results = conclude(source.read(columns, compact=() if calibrated else COMPACT_TEXTS, by_position=True),
                           config, prepared, None, None, progress, ids=source.ids)
        if not calibrated:  # memory: the outputs take what conclude only read from the partitions
            b = results.buildings
            held = [c for c in b.columns if c not in columns or c in HELD_COLUMNS]
            results = replace(results, buildings=plain(b[held], tuple(held)),
                              plan=with_plan_columns(results.plan, source, columns))
            del b
        results = replace(_placed(results, source), partitions=source)
        give_back_freed_memory()  # conclude's temporaries (≈ 0.2 KB a building), before the outputs
        return results
    parts = [cache.load(k) for k in numbers]
    # infer_objects: a partition without a value in a text column gives it object dtype
    assessed = pd.concat([p[0] for p in parts]).reindex(ids).infer_objects()
    plane_layer, pv_arrays, facade_layer = (
        _gather([p[i] for p in parts], sort, inventory.crs)
        for i, sort in ((1, ["building_id", "plane"]), (2, ["building_id", "plane", "row"]),
                        (3, ["building_id", "wall"]))
    )
    if not draw_arrays:
        pv_arrays = None
    elif pv_arrays is None:  # no roof holds modules
        pv_arrays = next(p[2] for p in parts if p[2] is not None)
    if facade_layer is None and config.facades.enabled:  # no building has a wall
        facade_layer = next((p[3] for p in parts if p[3] is not None), None)
    return conclude(assessed, config, prepared, plane_layer, pv_arrays, progress, facade_layer)


def with_plan_columns(plan: pd.DataFrame, source: Partitions, gathered: list[str]) -> pd.DataFrame:
    """The rollout ``plan`` of a streamed run with the :data:`PLAN_ONLY_COLUMNS` its slim
    table left out (not in ``gathered``) read from the partitions ``source`` for the
    planned roofs, one column at a time, each in its place among the plan's columns
    (:data:`~roofpv.targets.planning.PLAN_COLUMNS`' order) with its dtype: the plan of
    the one-piece run."""
    held = set(source.columns())
    missing = [c for c in PLAN_COLUMNS if c in PLAN_ONLY_COLUMNS and c in held and c not in gathered]
    if not missing:
        return plan
    plan = plan.copy(deep=False)
    at = positions(source.ids, plan.index)
    for column in missing:
        before = [c for c in PLAN_COLUMNS[:PLAN_COLUMNS.index(column)] if c in plan.columns]
        plan.insert(plan.columns.get_loc(before[-1]) + 1 if before else 0, column, source.read_at(column, at))
    return plan


def surface_footprints(folder: Path, parts: tuple[int, ...], ids: pd.Index, outlines: gpd.GeoDataFrame
                       ) -> gpd.GeoSeries:
    """The buildings' outlines that matter to the surface sites ``outlines`` in a run whose
    partitions read their own footprints, as :func:`roofpv.run.pipeline.surface_sites`
    would take them from the whole inventory: those whose bounds meet a site's (the roofs
    on it) and those that set the buildings' extent (which tells a layer of another place,
    :func:`roofpv.surfaces.sites.near_buildings`), read from the partitions ``parts`` in
    ``folder`` one at a time, in the inventory's order (``ids``)."""
    boxes = shapely.box(*shapely.bounds(outlines.geometry.to_numpy()).T)
    tree = shapely.STRtree(boxes[~shapely.is_missing(boxes)])
    picked: list[gpd.GeoSeries] = []
    # per side (xmin, ymin, −xmax, −ymax): the least value so far and its outline
    extreme: list[tuple[float, gpd.GeoSeries] | None] = [None] * 4
    for k in parts:
        outline = gpd.read_parquet(folder / f"{k}.parquet", columns=["geometry"]).geometry
        picked.append(outline.iloc[np.unique(tree.query(outline.to_numpy())[0])])
        keys = shapely.bounds(outline.to_numpy()) * [1, 1, -1, -1]
        for side in range(4):
            if np.isnan(keys[:, side]).all():
                continue
            at = int(np.nanargmin(keys[:, side]))
            if extreme[side] is None or keys[at, side] < extreme[side][0]:
                extreme[side] = (keys[at, side], outline.iloc[[at]])
    chosen = pd.concat([*picked, *(e[1] for e in extreme if e is not None)])
    chosen = chosen[~chosen.index.duplicated()]
    return chosen.iloc[np.argsort(positions(ids, chosen.index), kind="stable")]


def _placed(results: Results, source: Partitions) -> Results:
    """Results of a run whose buildings stay in their partitions with the transformers
    placed and their ``transformer_areas`` drawn as a one-piece run does it: the centres
    and hulls of each transformer's footprints read a chunk at a time, merged."""
    if results.transformers is None or "transformer_id" not in results.buildings:
        return results
    served = results.buildings["transformer_id"]
    centres, hulls = [], []
    for at, chunk in source.chunks("buildings", columns=["geometry"], positions=True):
        geometry = shapely.from_wkb(chunk["geometry"].to_numpy())  # once for the centres and the hulls
        ids = served.iloc[at]
        centres.append(gridstage.served_centres(ids, geometry))
        hulls.append(gridstage.served_hulls(ids, geometry))
    layer = gridstage.placed_at_centres(results.transformers, gridstage.merge_centres(centres))
    return replace(results, transformers=layer,
                   transformer_areas=gridstage.service_area_layer(layer, gridstage.merge_hulls(hulls)))


def _gather(layers: list[gpd.GeoDataFrame | None], by: list[str], crs: str
            ) -> gpd.GeoDataFrame | None:
    """One layer from the partitions' pieces, in the order of the one-piece run."""
    pieces = [p for p in layers if p is not None and not p.empty]
    if not pieces:
        return None
    out = pd.concat(pieces).sort_values(by, kind="stable")
    return gpd.GeoDataFrame(out.reset_index(drop=True), geometry="geometry", crs=crs)


def clear_partitions(out_dir: Path) -> None:
    """Remove the finished partitions of a run once its outputs are written."""
    shutil.rmtree(out_dir / CACHE_DIR, ignore_errors=True)
