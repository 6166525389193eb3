"""The finished partitions of a run on disk (``<out>/.partitions``): written one by one
as the engine finishes them (:class:`PartitionCache`), read back a few columns or a chunk
of rows at a time in the order of the one-piece run (:class:`Partitions`).

Each partition is ``<n>.parquet`` (buildings) beside ``<n>.planes.parquet``,
``<n>.arrays.parquet`` and ``<n>.facades.parquet``; ``manifest.json`` holds the fingerprint of what they were
computed from, so that an interrupted run resumes only while it is unchanged.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from roofpv.inputs.ids import positions
from roofpv.io.writers import wkb_types

#: Folder of the partitions inside the output folder.
CACHE_DIR = ".partitions"


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

    def _paths(self, index: int) -> tuple[Path, Path, Path, Path]:
        return (self.dir / f"{index}.parquet", self.dir / f"{index}.planes.parquet",
                self.dir / f"{index}.arrays.parquet", self.dir / f"{index}.facades.parquet")

    def done(self, index: int) -> bool:
        return self._paths(index)[0].exists()

    def load(self, index: int
             ) -> tuple[pd.DataFrame, gpd.GeoDataFrame | None, gpd.GeoDataFrame | None, gpd.GeoDataFrame | None]:
        b_path, *layers = self._paths(index)
        planes, arrays, facades = (gpd.read_parquet(p) if p.exists() else None for p in layers)
        return gpd.read_parquet(b_path), planes, arrays, facades

    def store(self, index: int, b: pd.DataFrame, planes: gpd.GeoDataFrame | None,
              arrays: gpd.GeoDataFrame | None, facades: gpd.GeoDataFrame | None = None,
              findings: dict[str, list] | None = None) -> None:
        """Write the layers (and the findings of a partition that read its own inputs)
        first and the buildings last, each atomically: a partition counts as done only
        once its buildings file is in place."""
        b_path, *paths = self._paths(index)
        for layer, path in zip((planes, arrays, facades), paths):
            if layer is not None:
                _atomic_parquet(layer, path)
        if findings is not None:
            tmp = self.dir / f".{index}.findings.pkl.tmp"
            pd.to_pickle(findings, tmp)
            os.replace(tmp, self.dir / f"{index}.findings.pkl")
        _atomic_parquet(gpd.GeoDataFrame(b, geometry="geometry"), b_path)

    def findings(self, index: int) -> dict[str, list]:
        """The findings of partition ``index`` by check (one that read its own inputs)."""
        return pd.read_pickle(self.dir / f"{index}.findings.pkl")


#: Column of each building's position in :attr:`Partitions.ids` in the files
#: :meth:`Partitions.chunks` reads the buildings from.
POSITION = "__position__"
#: Version of the files :meth:`Partitions._split` writes (a resumed run splits again
#: what an older one split).
SPLIT_FORMAT = 2
#: Buildings per chunk when the partitions are streamed to the outputs in the order of
#: the one-piece run (:meth:`Partitions.chunks`).
CHUNK_ROWS = 50_000
#: Sort keys of each layer in the one-piece run (None: the inventory's order).
SORT_KEYS = {"buildings": None, "planes": ["building_id", "plane"],
               "arrays": ["building_id", "plane", "row"], "facades": ["building_id", "wall"]}


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
    #: Layers besides ``buildings`` the run writes where present: ``planes``, ``arrays``,
    #: ``facades``.
    layers: tuple[str, ...] = ()
    _dtypes: dict = field(default_factory=dict, compare=False, repr=False)
    _memo: dict = field(default_factory=dict, compare=False, repr=False)

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

    def read(self, columns: list[str], compact: tuple[str, ...] = (), by_position: bool = False) -> pd.DataFrame:
        """Building ``columns`` (no geometry) of every partition, by building id in the
        inventory's order, with the dtypes of the one-piece run; the text columns among
        ``compact`` as categories of those texts (≈ 1 byte a building against ≈ 20: for
        texts of few values; :func:`roofpv.run.pipeline.plain` gives the text column back).
        ``by_position``: indexed by position in :attr:`ids` (0 … n − 1, named as the
        ids), a frame whose steps pandas aligns without hashing the ids."""
        import pyarrow as pa

        # memory: one column of every partition at a time is read from the files (Arrow,
        # no Python objects), concatenated and put in order, so the table is held once
        # plus one column
        order = self._rows()
        out = {}
        for column in columns:
            out[column] = self._taken(column, order)
            if column in compact and isinstance(out[column].dtype, pd.StringDtype):
                out[column] = pd.Categorical(out[column])
        pa.default_memory_pool().release_unused()  # Arrow's allocator keeps what it freed otherwise
        # arrays, not Series: a frame of Series aligns them, which hashes the ids
        index = pd.RangeIndex(len(self.ids), name=self.ids.name) if by_position else self.ids
        return pd.DataFrame(out, index=index, copy=False)

    def read_at(self, column: str, at: np.ndarray) -> pd.api.extensions.ExtensionArray | np.ndarray:
        """Building ``column`` (no geometry) of the buildings at positions ``at`` of
        :attr:`ids` (−1: blank), with the dtype of the one-piece run."""
        import pyarrow as pa

        rows = self._rows()
        values = self._taken(column, np.where(at >= 0, rows[np.maximum(at, 0)], -1))
        pa.default_memory_pool().release_unused()
        return values

    def _taken(self, column: str, rows: np.ndarray) -> pd.api.extensions.ExtensionArray | np.ndarray:
        """``column`` of every partition, one after the other, at ``rows`` (−1: blank)."""
        whole = pd.concat([piece.to_pandas() for piece in self._pieces(column)], ignore_index=True)
        values = whole.array if isinstance(whole.dtype, pd.api.extensions.ExtensionDtype) else whole.to_numpy()
        # infer_objects: a partition without a value in a text column gives it object dtype
        return pd.Series(pd.api.extensions.take(values, rows, allow_fill=True), copy=False).infer_objects().array

    def _pieces(self, column: str | None) -> list:
        """``column`` (None: the building ids) of each partition's buildings, in partition
        order (Arrow, no Python objects). The partitions' files are opened per column (a
        province's hundreds of partitions stay within the open files allowed), their
        footers read once."""
        import pyarrow.parquet as pq

        if "footers" not in self._memo:
            self._memo["footers"] = [pq.read_metadata(self.path(k)) for k in self.parts]
        footers = self._memo["footers"]
        if column is None:
            column = footers[0].schema.to_arrow_schema().pandas_metadata["index_columns"][0]
        pieces = []
        for k, footer in zip(self.parts, footers):
            with pq.ParquetFile(self.path(k), metadata=footer) as f:
                pieces.append(f.read(columns=[column]).column(0))
        return pieces

    def _rows(self) -> np.ndarray:
        """For each of :attr:`ids`, its row among every partition's buildings one after
        the other (−1: no partition holds it); found once, by Arrow's hash of the
        partitions' ids, so that no hash of the ids is kept with :attr:`ids` (pandas keeps
        one, ≈ 0.15 KB a building, once an index is looked up)."""
        import pyarrow as pa

        if "rows" not in self._memo:
            keys = pa.chunked_array([c for piece in self._pieces(None) for c in piece.cast(pa.string()).chunks],
                                    type=pa.string())
            self._memo["rows"] = positions(keys, self.ids)
        return self._memo["rows"]

    def _where(self) -> np.ndarray:
        """For each row of every partition's buildings one after the other, its position
        in :attr:`ids` (−1: none)."""
        rows = self._rows()
        held = np.flatnonzero(rows >= 0)
        where = np.full(sum(f.num_rows for f in self._memo["footers"]), -1, dtype=np.int64)
        where[rows[held]] = held
        return where

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
               rows: int = CHUNK_ROWS, positions: bool = False) -> Iterator:
        """``layer`` in chunks of about ``rows`` buildings, in the order of the one-piece
        run and with its dtypes: ``buildings`` in the inventory's order (index: building
        id), ``planes`` and ``arrays`` by building id, plane and row. The geometry stays
        WKB (``bytes``), as the writer wants it. With ``positions`` (``buildings`` only),
        pairs of the chunk's positions in :attr:`ids` and the chunk, so that the caller
        takes what it holds per building by position, not by looking the ids up
        (:meth:`_rows`). Each partition's ``layer`` is rewritten
        once, grouped by chunk, as an Arrow IPC file with one record batch per chunk
        (:meth:`_split`), so a chunk reads one batch of each partition holding rows of it
        (only ``columns``) and converts them to pandas once."""
        import pyarrow as pa

        order = SORT_KEYS[layer]
        folder, n_chunks, batches = self._split(layer, rows)
        dtypes = self.dtypes(layer)
        holding: list[list[tuple[int, int]]] = [[] for _ in range(n_chunks)]
        for k, held in batches.items():  # partition order, as the one-piece run concatenates
            for j, c in enumerate(held):
                holding[c].append((k, j))
        wanted = None if columns is None else [*columns, *((POSITION,) if order is None else ())]
        readers = {k: _reader(folder / f"{k}.arrow", wanted) for k in batches}  # footers read once
        for pieces in holding:
            if not pieces:
                continue
            # permissive: a partition's column may be all blank (null) or int where another's is float
            frame = pa.concat_tables([pa.Table.from_batches([readers[k].get_batch(j)]) for k, j in pieces],
                                     promote_options="permissive").to_pandas()
            if order is None:
                at = frame.pop(POSITION).to_numpy()
                sort = np.argsort(at, kind="stable")
                frame, at = frame.iloc[sort], at[sort]
            else:
                frame = frame.sort_values(order, kind="stable").reset_index(drop=True)
            for column, dtype in dtypes.items():
                if column in frame and frame[column].dtype != dtype:
                    frame[column] = frame[column].astype(dtype)
            yield (at, frame) if positions else frame

    def _split(self, layer: str, rows: int) -> tuple[Path, int, dict[int, list[int]]]:
        """Rewrite every partition's ``layer`` grouped by chunk of the one-piece order
        (once): ``<folder>/<k>.arrow``, one record batch per chunk it holds rows of (the
        buildings' with their :data:`POSITION`), and note the layer's geometry types.
        Returns the folder, the number of chunks and, per partition, the chunk of each of
        its batches. One file per partition, not per partition and chunk: the pieces
        grow as partitions × chunks, quadratic in the buildings, and a parquet file and
        a pandas frame per piece cost ≈ 16 ms for the 113 columns of ``buildings``, a
        record batch ≈ 1 ms with its lz4 (docs/performance.md)."""
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        n_chunks = max(1, math.ceil(len(self.ids) / rows))
        folder = self.dir / "sorted" / f"{layer}-{rows}"
        if (folder / "chunks.json").exists():  # (split by this version: with the buildings' positions)
            found = json.loads((folder / "chunks.json").read_text())
            if found.get("format") == SPLIT_FORMAT:
                return folder, n_chunks, {int(k): held for k, held in found["batches"].items()}
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        where = self._where()  # each partition row's position in the ids
        starts = dict(zip(self.parts, np.cumsum([0] + [f.num_rows for f in self._memo["footers"]])))
        if SORT_KEYS[layer] is None:
            parts, keys, rank = list(self.parts), None, None
        else:  # by building id: each row's building among its partition's, then its id's rank
            parts, keys = self.present(layer), dict(zip(self.parts, self._pieces(None)))
            rank = np.empty(len(self.ids), dtype=np.int64)
            rank[self.ids.argsort()] = np.arange(len(self.ids))
        types, has_z, batches = set(), False, {}
        options = pa.ipc.IpcWriteOptions(compression="lz4")
        for k in parts:
            table = pq.read_table(self.path(k, layer))
            found, z = wkb_types(table.column("geometry"))
            types, has_z = types | found, has_z or z
            if keys is None:
                at = where[starts[k]:starts[k] + table.num_rows]
            else:
                local = pc.index_in(table.column("building_id"), value_set=keys[k]).fill_null(-1).to_numpy()
                at = np.where(local >= 0, where[starts[k] + np.maximum(local, 0)], -1)
                at = np.where(at >= 0, rank[np.maximum(at, 0)], -1)
            known = np.flatnonzero(at >= 0)  # a row of no listed building is in no chunk
            chunk = at[known] * n_chunks // len(self.ids)
            sort = np.argsort(chunk, kind="stable")
            held, starts_at = np.unique(chunk[sort], return_index=True)
            table = table.take(known[sort]).combine_chunks()
            if keys is None:
                table = table.append_column(POSITION, pa.array(at[known[sort]]))
            with pa.ipc.new_file(folder / f"{k}.arrow", table.schema, options=options) as writer:
                for start, end in zip(starts_at, [*starts_at[1:], len(sort)]):
                    writer.write_batch(table.slice(start, end - start).to_batches()[0])
            batches[k] = held.tolist()
            del table
        (folder / "chunks.json").write_text(json.dumps(
            {"format": SPLIT_FORMAT, "types": sorted(types, key=str), "has_z": has_z, "batches": batches}))
        return folder, n_chunks, batches

    def geo(self, layer: str = "buildings") -> dict:
        """GeoParquet metadata of ``layer``'s geometry over all its partitions
        (``geometry_types``, ``bbox``), as GeoPandas states it for the whole layer: from
        each partition's own GeoParquet metadata, the rows not read again."""
        parts = list(self.parts) if SORT_KEYS[layer] is None else self.present(layer)
        return _geo([self.path(k, layer) for k in parts])

    def geometry_types(self, layer: str = "buildings", rows: int = CHUNK_ROWS) -> tuple[set, bool]:
        """Geometry types (``geom_type`` names, None for missing) of ``layer`` and whether
        any non-empty geometry has Z (read from the WKB as the layer is split)."""
        folder = self._split(layer, rows)[0]
        found = json.loads((folder / "chunks.json").read_text())
        return set(found["types"]), found["has_z"]


def _geo(paths: list[Path]) -> dict:
    """The GeoParquet ``geometry_types`` and ``bbox`` of the files ``paths`` together: the
    union of each file's (``bbox`` left out where none is known, as GeoPandas leaves it)."""
    import pyarrow.parquet as pq

    types, low, high = set(), np.full(2, np.inf), np.full(2, -np.inf)
    for path in paths:
        geo = json.loads(pq.read_schema(path).metadata[b"geo"])
        column = geo["columns"][geo["primary_column"]]
        types.update(column["geometry_types"])
        if "bbox" in column:
            low, high = np.fmin(low, column["bbox"][:2]), np.fmax(high, column["bbox"][2:])
    out = {"geometry_types": sorted(types)}
    if np.isfinite([*low, *high]).all():
        out["bbox"] = [*low.tolist(), *high.tolist()]
    return out


def _reader(path: Path, columns: list[str] | None):
    """A reader of the Arrow IPC file ``path`` that decompresses only ``columns`` (None:
    all) and the pandas index of each batch it reads."""
    import pyarrow as pa

    whole = pa.ipc.open_file(path)
    if columns is None:
        return whole
    index = [c for c in whole.schema.pandas_metadata["index_columns"] if isinstance(c, str)]
    keep = [i for i, name in enumerate(whole.schema.names) if name in {*columns, *index}]
    return pa.ipc.open_file(path, options=pa.ipc.IpcReadOptions(included_fields=keep))


def _atomic_parquet(frame: gpd.GeoDataFrame, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    frame.to_parquet(tmp)
    os.replace(tmp, path)
