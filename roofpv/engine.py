"""Partitioned survey: the per-building stages on partitions of the buildings, in this
process or on a Dask cluster, with resumable per-partition results.

The work splits in three:

1. once, jurisdiction-wide: read the inputs, the weather and the yield tables
   (independent of the number of buildings);
2. per partition (townships grouped to balance sizes, or runs along a Hilbert curve):
   :func:`roofpv.stages.assess_buildings`, whose rows depend on nothing outside the
   partition but the footprints the DSM stage sees around it;
3. once, on the gathered building columns: grid admission in rank order, the rollout
   plan and the township table (:func:`roofpv.pipeline.conclude`).

Each finished partition is written to ``<out>/.partitions/<n>.parquet`` beside a
``manifest.json`` holding a fingerprint of the config, the inputs' sizes and times and
the partitioning; ``resume`` reuses the partitions of a matching manifest. Results do
not depend on the engine or on the partitioning.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import __version__
from .config import Config
from .constants import ARRAYS_MAX_BUILDINGS, ENGINES, PARTITION_BY, PARTITION_SIZE, STAGES
from .io.tiles import Mosaic
from .pipeline import Prepared, conclude, conclude_columns, prepare
from .results import Results
from .stages import assess_buildings

CACHE_DIR = ".partitions"


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
    """Partition number (0 … n−1) of each building.

    ``township``: whole townships, largest first, each into the partition with the
    fewest buildings so far (a township is never split). ``spatial``: equal runs of
    buildings ordered along a Hilbert curve over the footprints' bounds."""
    if by not in PARTITION_BY:
        raise ValueError(f"partition by {by!r}: use one of {', '.join(PARTITION_BY)}")
    n = max(1, min(n, len(b)))
    if by == "spatial":
        valid = ~(b.geometry.is_empty | b.geometry.isna())
        key = np.zeros(len(b), dtype=np.int64)
        if valid.any():
            key[valid.to_numpy()] = b.geometry[valid].hilbert_distance().to_numpy()
        order = np.lexsort((np.arange(len(b)), key))
        labels = np.empty(len(b), dtype=np.int64)
        labels[order] = np.arange(len(b)) * n // len(b)
        return labels
    sizes = b["township"].astype(str).value_counts()
    sizes = sizes.iloc[np.lexsort((sizes.index.to_numpy(), -sizes.to_numpy()))]
    load = np.zeros(n, dtype=np.int64)
    assigned = {}
    for township, size in sizes.items():
        k = int(np.argmin(load))
        assigned[township] = k
        load[k] += size
    return b["township"].astype(str).map(assigned).to_numpy(np.int64)


def dsm_neighbours(b: gpd.GeoDataFrame, inside: np.ndarray, config: Config) -> gpd.GeoDataFrame | None:
    """Footprints outside the partition that its DSM windows can see: those within one
    DSM block plus the horizon radius of the partition's bounds (None without DSM)."""
    if config.dsm.tiles is None:
        return None
    reach = config.dsm.block_m + config.dsm.radius_m
    xmin, ymin, xmax, ymax = shapely.total_bounds(b.geometry.to_numpy()[inside])
    area = shapely.box(xmin - reach, ymin - reach, xmax + reach, ymax + reach)
    near = ~inside & b.geometry.intersects(area).to_numpy()
    return b[near]


def assess_partition(part: gpd.GeoDataFrame, neighbours: gpd.GeoDataFrame | None, shared: Shared,
                     progress: Callable[[str], None] = lambda stage: None,
                     ) -> tuple[pd.DataFrame, gpd.GeoDataFrame | None, gpd.GeoDataFrame | None]:
    """The per-building stages on one partition (runs in a worker); ``progress(stage)``
    as each stage starts."""
    return assess_buildings(part, shared.config, shared.hourly, shared.tables, shared.crs,
                            progress, neighbours=neighbours, mosaic=shared.mosaic, dem=shared.dem,
                            draw_arrays=shared.draw_arrays)


def fingerprint(config: Config, n_partitions: int, by: str, arrays: bool) -> str:
    """Hash of everything a partition's result depends on: the config, the sizes and
    modification times of its input files and tiles, the partitioning, whether arrays are
    drawn and the version."""
    files = [config.inputs.footprints, config.inputs.survey, config.inputs.townships,
             config.weather.file, config.dsm.tiles, config.dsm.dem]
    stats = []
    for path in files:
        if path is None:
            continue
        path = Path(path)
        members = sorted(path.rglob("*")) if path.is_dir() else [path]
        stats += [(str(m), m.stat().st_size, m.stat().st_mtime_ns) for m in members if m.is_file()]
    text = json.dumps([config.model_dump_json(), stats, n_partitions, by, arrays, __version__],
                      default=str)
    return hashlib.sha256(text.encode()).hexdigest()


class PartitionCache:
    """Finished partitions of one run in ``<out>/.partitions``, valid for one fingerprint."""

    def __init__(self, out_dir: Path, key: str, resume: bool):
        self.dir, self.key = out_dir / CACHE_DIR, key
        manifest = self.dir / "manifest.json"
        valid = resume and manifest.exists() and json.loads(manifest.read_text())["fingerprint"] == key
        if not valid and self.dir.exists():
            shutil.rmtree(self.dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        if not valid:
            manifest.write_text(json.dumps({"fingerprint": key}))

    def _paths(self, index: int) -> tuple[Path, Path, Path]:
        return (self.dir / f"{index}.parquet", self.dir / f"{index}.planes.parquet",
                self.dir / f"{index}.arrays.parquet")

    def done(self, index: int) -> bool:
        return self._paths(index)[0].exists()

    def load(self, index: int
             ) -> tuple[pd.DataFrame, gpd.GeoDataFrame | None, gpd.GeoDataFrame | None]:
        b_path, *layers = self._paths(index)
        planes, arrays = (gpd.read_parquet(p) if p.exists() else None for p in layers)
        return gpd.read_parquet(b_path), planes, arrays

    def store(self, index: int, b: pd.DataFrame, planes: gpd.GeoDataFrame | None,
              arrays: gpd.GeoDataFrame | None) -> None:
        """Write the layers first and the buildings last, each atomically: a partition
        counts as done only once its buildings file is in place."""
        b_path, *paths = self._paths(index)
        for layer, path in zip((planes, arrays), paths):
            if layer is not None:
                _atomic_parquet(layer, path)
        _atomic_parquet(gpd.GeoDataFrame(b, geometry="geometry"), b_path)


#: Buildings per chunk when the partitions are streamed to the outputs in the order of
#: the one-piece run (:meth:`Partitions.chunks`).
CHUNK_ROWS = 50_000
#: Sort keys of each layer in the one-piece run.
LAYER_ORDER = {"buildings": None, "planes": ["building_id", "plane"],
               "arrays": ["building_id", "plane", "row"]}


@dataclass(frozen=True)
class Partitions:
    """The finished partitions of a run on disk (``<out>/.partitions``), read back a few
    columns at a time (:meth:`read`) or a chunk of rows at a time in the order of the
    one-piece run (:meth:`chunks`), so that a large run never holds all its buildings'
    columns and geometries at once."""

    dir: Path
    #: Partition numbers, in the order the one-piece run concatenates them.
    parts: tuple[int, ...]
    #: Building ids in the inventory's order (the order of layer ``buildings``).
    ids: pd.Index
    crs: str
    #: Layers besides ``buildings`` the run writes where present: ``planes``, ``arrays``.
    layers: tuple[str, ...] = ()
    _dtypes: dict = field(default_factory=dict, compare=False, repr=False)

    def path(self, k: int, layer: str = "buildings") -> Path:
        return self.dir / (f"{k}.parquet" if layer == "buildings" else f"{k}.{layer}.parquet")

    def present(self, layer: str) -> list[int]:
        """Partitions holding a non-empty ``layer``."""
        import pyarrow.parquet as pq

        return [k for k in self.parts if self.path(k, layer).exists()
                and pq.ParquetFile(self.path(k, layer)).metadata.num_rows > 0]

    def columns(self, layer: str = "buildings") -> list[str]:
        """Columns of ``layer`` (without the index), as the one-piece run has them."""
        import pyarrow.parquet as pq

        k = (self.present(layer) or list(self.parts))[0]
        return list(pq.read_schema(self.path(k, layer)).empty_table().to_pandas().columns)

    def read(self, columns: list[str]) -> pd.DataFrame:
        """Building ``columns`` (no geometry) of every partition, by building id in the
        inventory's order, with the dtypes of the one-piece run."""
        import pyarrow.parquet as pq

        pieces = [pq.read_table(self.path(k), columns=columns, use_pandas_metadata=True).to_pandas()
                  for k in self.parts]
        # infer_objects: a partition without a value in a text column gives it object dtype
        return pd.concat(pieces).reindex(self.ids).infer_objects()

    def dtypes(self, layer: str = "buildings") -> pd.Series:
        """dtype of every non-geometry column of ``layer`` in the one-piece run: where the
        partitions differ, or hold Python objects, from the column's values."""
        import pyarrow.parquet as pq

        if layer in self._dtypes:
            return self._dtypes[layer]
        parts = self.present(layer) if layer != "buildings" else list(self.parts)
        each = [pq.read_schema(self.path(k, layer)).empty_table().to_pandas().dtypes for k in parts]
        out = each[0].copy()
        mixed = [c for c in out.index if c != "geometry" and (
            pd.api.types.is_object_dtype(out[c]) or any(d.get(c) != out[c] for d in each[1:]))]
        if mixed:
            pieces = [pq.read_table(self.path(k, layer), columns=mixed).to_pandas() for k in parts]
            whole = pd.concat(pieces, ignore_index=True)
            out[mixed] = (whole.infer_objects() if layer == "buildings" else whole).dtypes[mixed]
        self._dtypes[layer] = out.drop("geometry", errors="ignore")
        return self._dtypes[layer]

    def chunks(self, layer: str = "buildings", columns: list[str] | None = None,
               rows: int = CHUNK_ROWS) -> Iterator[pd.DataFrame]:
        """``layer`` in chunks of about ``rows`` buildings, in the order of the one-piece
        run and with its dtypes: ``buildings`` in the inventory's order (index: building
        id), ``planes`` and ``arrays`` by building id, plane and row. The geometry stays
        WKB (``bytes``), as the writer wants it. The partitions are split by chunk into
        ``<dir>/sorted/<layer>`` once (one pass), so each chunk reads only its own rows."""
        import pyarrow.parquet as pq

        order = LAYER_ORDER[layer]
        folder, position, n_chunks, parts = self._split(layer, rows)
        dtypes = self.dtypes(layer)
        for c in range(n_chunks):
            files = [f for f in (folder / str(c) / f"{k}.parquet" for k in parts) if f.exists()]
            if not files:
                continue
            frame = pd.concat([pq.read_table(f, columns=columns, use_pandas_metadata=True).to_pandas()
                               for f in files])
            if order is None:
                frame = frame.iloc[np.argsort(position.reindex(frame.index).to_numpy(), kind="stable")]
            else:
                frame = frame.sort_values(order, kind="stable").reset_index(drop=True)
            for column, dtype in dtypes.items():
                if column in frame and frame[column].dtype != dtype:
                    frame[column] = frame[column].astype(dtype)
            yield frame

    def _split(self, layer: str, rows: int) -> tuple[Path, pd.Series, int, list[int]]:
        """Split every partition's ``layer`` by chunk of the one-piece order (once), and
        note the layer's geometry types."""
        import pyarrow.parquet as pq

        from .io.writers import wkb_types

        ids = self.ids if LAYER_ORDER[layer] is None else self.ids.sort_values()
        position = pd.Series(np.arange(len(ids)), index=ids)
        n_chunks = max(1, math.ceil(len(ids) / rows))
        parts = list(self.parts) if LAYER_ORDER[layer] is None else self.present(layer)
        folder = self.dir / "sorted" / f"{layer}-{rows}"
        if (folder / "types.json").exists():
            return folder, position, n_chunks, parts
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        types, has_z = set(), False
        for k in parts:
            table = pq.read_table(self.path(k, layer))
            found, z = wkb_types(table.column("geometry"))
            types, has_z = types | found, has_z or z
            chunk = position.reindex(table.column("building_id").to_numpy(zero_copy_only=False)).to_numpy()
            chunk = chunk * n_chunks // len(ids)
            for c in np.unique(chunk):
                (folder / str(c)).mkdir(exist_ok=True)
                pq.write_table(table.take(np.flatnonzero(chunk == c)), folder / str(c) / f"{k}.parquet")
            del table
        (folder / "types.json").write_text(json.dumps({"types": sorted(types, key=str), "has_z": has_z}))
        return folder, position, n_chunks, parts

    def geometry_types(self, layer: str = "buildings", rows: int = CHUNK_ROWS) -> tuple[set, bool]:
        """Geometry types (``geom_type`` names, None for missing) of ``layer`` and whether
        any non-empty geometry has Z (read from the WKB as the layer is split)."""
        folder = self._split(layer, rows)[0]
        found = json.loads((folder / "types.json").read_text())
        return set(found["types"]), found["has_z"]


def _atomic_parquet(frame: gpd.GeoDataFrame, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    frame.to_parquet(tmp)
    os.replace(tmp, path)


def _dask_client(scheduler: str | None, workers: int):
    """A client of the cluster at ``scheduler``, or of a new local cluster."""
    from distributed import Client, LocalCluster

    if scheduler:
        return Client(scheduler)
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                           dashboard_address=None)
    return Client(cluster)


def _timed(part: gpd.GeoDataFrame, neighbours: gpd.GeoDataFrame | None, shared: Shared,
           progress: Callable[[str], None] = lambda stage: None):
    """:func:`assess_partition` and the seconds it took (measured where it ran)."""
    started = time.perf_counter()
    result = assess_partition(part, neighbours, shared, progress)
    return result, time.perf_counter() - started


def _run_local(tasks, shared, cache, on_done, progress):
    for index, part, neighbours in tasks:
        layers, seconds = _timed(part, neighbours, shared, progress)
        cache.store(index, *layers)
        on_done(index, len(part), seconds)


def _run_dask(tasks: Iterator, shared, cache, on_done, scheduler: str | None, workers: int):
    from distributed import as_completed

    # Dask's workers are the parallelism: the DSM stage runs one window at a time in each
    # (no threads of its own on top of the worker's, no process pool in a daemon process).
    dsm = shared.config.dsm.model_copy(update={"workers": 1})
    shared = replace(shared, config=shared.config.model_copy(update={"dsm": dsm}))
    client = _dask_client(scheduler, workers)
    try:
        remote = client.scatter(shared, broadcast=True)
        futures = {}

        def submit() -> bool:
            """Send the next partition; False when none is left."""
            item = next(tasks, None)
            if item is None:
                return False
            index, part, neighbours = item
            # Scattered first, so the data go to a worker and not into the task graph.
            data = client.scatter([part, neighbours])
            future = client.submit(_timed, *data, remote, key=f"roofpv-{cache.key[:16]}-{index}")
            futures[future] = (index, len(part))
            pending.add(future)
            return True

        # Two partitions in flight per worker thread: workers stay busy, and memory
        # holds a few partitions, not all of them.
        pending = as_completed()
        in_flight = 2 * max(1, sum(client.nthreads().values()))
        for _ in range(in_flight):
            if not submit():
                break
        for future in pending:
            index, size = futures.pop(future)
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


def survey(
    config: Config, out_dir: Path, *, engine: str = "local", partitions: int | None = None,
    by: str = "township", scheduler: str | None = None, workers: int = 2, resume: bool = False,
    arrays: bool | None = None, prepared: Prepared | None = None, stream: bool = False,
    progress: Callable[[str], None] = lambda stage: None,
    on_partition: Callable[[PartitionDone], None] = lambda done: None,
) -> Results:
    """Run the survey of ``config`` partition by partition; same results as
    :func:`roofpv.pipeline.run`.

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
    prepared : the inputs, weather and yield tables of :func:`roofpv.pipeline.prepare`,
        where the caller has them already; default: prepared here.
    arrays : draw the ``pv_arrays`` layer; default: for up to :data:`ARRAYS_MAX_BUILDINGS`
        buildings.
    stream : with more than one partition, gather only the columns the jurisdiction-wide
        steps need (:func:`roofpv.pipeline.conclude_columns`) and leave the rest on disk
        for :func:`roofpv.io.outputs.write_outputs` to stream partition by partition
        (``Results.partitions``): memory then holds one chunk of buildings and the slim
        table, not every building's columns and geometry. The partitions must stay in
        ``out_dir`` until the outputs are written (:func:`clear_partitions`).
    """
    if engine not in ENGINES:
        raise ValueError(f"engine {engine!r}: use one of {', '.join(ENGINES)}")
    prepared = prepared or prepare(config, progress)
    inventory = prepared.inventory
    b = inventory.buildings
    n = partitions or max(1, math.ceil(len(b) / PARTITION_SIZE))
    draw_arrays = len(b) <= ARRAYS_MAX_BUILDINGS if arrays is None else arrays
    shared = Shared(config, prepared.hourly, prepared.tables, inventory.crs, inventory.dsm,
                    inventory.dem, draw_arrays)

    progress(STAGES[2])
    labels = partition_labels(b, n, by)
    cache = PartitionCache(out_dir, fingerprint(config, n, by, draw_arrays), resume)
    todo = [k for k in range(n) if (labels == k).any() and not cache.done(k)]
    total = int(np.unique(labels).size)
    finished = total - len(todo)
    for k in sorted(set(np.unique(labels)) - set(todo)):
        on_partition(PartitionDone(int(k), finished, total, int((labels == k).sum()), 0.0, True))

    def tasks():
        for k in todo:
            inside = labels == k
            yield k, b[inside], dsm_neighbours(b, inside, config)

    count = [finished]

    def on_done(index: int, size: int, seconds: float) -> None:
        count[0] += 1
        on_partition(PartitionDone(index, count[0], total, size, seconds, False))

    if engine == "dask":
        _run_dask(tasks(), shared, cache, on_done, scheduler, workers)
    else:
        _run_local(tasks(), shared, cache, on_done, progress)

    numbers = tuple(int(k) for k in np.unique(labels))
    if stream and len(numbers) > 1:
        source = Partitions(cache.dir, numbers, b.index, inventory.crs,
                            ("planes", *(("arrays",) if draw_arrays else ())))
        assessed = source.read(conclude_columns(source.columns(), prepared))
        if inventory.dsm is None:  # conclude reads the inventory's footprints for the DSM only
            prepared = replace(prepared, inventory=replace(inventory, buildings=b.iloc[:0]))
        del b, inventory
        return replace(conclude(assessed, config, prepared, None, None, progress), partitions=source)
    parts = [cache.load(k) for k in numbers]
    # infer_objects: a partition without a value in a text column gives it object dtype
    assessed = pd.concat([p[0] for p in parts]).reindex(b.index).infer_objects()
    plane_layer, pv_arrays = (
        _gather([p[i] for p in parts], sort, inventory.crs)
        for i, sort in ((1, ["building_id", "plane"]), (2, ["building_id", "plane", "row"]))
    )
    if not draw_arrays:
        pv_arrays = None
    elif pv_arrays is None:  # no roof holds modules
        pv_arrays = next(p[2] for p in parts if p[2] is not None)
    return conclude(assessed, config, prepared, plane_layer, pv_arrays, progress)


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
