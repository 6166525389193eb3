"""Inputs read per partition: a light first pass over the whole jurisdiction, then each
partition's own footprints and survey rows.

A large run holds its footprints whole nowhere. :func:`scan` streams the footprint
layer in batches of :data:`BATCH_ROWS` and keeps, per footprint, only what the
jurisdiction-wide steps need (a :class:`Catalogue`: building id, feature id, bounds in
the analysis CRS, a township key for the partition plan); the checks that need every
footprint run on it (ids repeated or blank, survey rows without a footprint, the datum
on an even sample read back by feature id). :func:`assemble` then builds one
partition's buildings exactly as :func:`roofpv.run.pipeline.build_inventory` builds
them from the whole layer: it reads the partition's footprints by feature id together
with those whose bounds reach them, two rings deep, so that a footprint overlapping
one across the partition's border is resolved as in one piece
(:func:`roofpv.inputs.inventory.resolve_overlaps` decides a pair from the footprints
touching either of them). Findings about single buildings are gathered from the
partitions and put in the one-piece order by :func:`gather_findings`.
"""

from __future__ import annotations

import graphlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from itertools import pairwise
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from roofpv.config import Config
from roofpv.errors import InputError
from roofpv.findings import Finding
from roofpv.grid import assess as gridstage
from roofpv.inputs import checks, jurisdictions
from roofpv.inputs.georef import resolve_crs
from roofpv.inputs.ids import positions
from roofpv.inputs.inventory import (
    assign_townships,
    fill_from_footprints,
    footprint_attributes,
    join_survey,
    resolve_overlaps,
    survey_orphans,
    to_analysis_crs,
)
from roofpv.inputs.survey_table import arrow_strings
from roofpv.inputs.webmap import to_wgs84
from roofpv.io import readers
from roofpv.io.apart import input_bytes, read_apart
from roofpv.io.survey_spill import SpilledSurvey
from roofpv.run.memory import give_back_freed_memory

#: GDAL drivers whose feature ids address the features directly and stay the same from
#: one opening to the next (GeoJSON renumbers repeated ids, for one).
BY_FEATURE_ID = ("GPKG", "FlatGeobuf", "ESRI Shapefile")
#: Footprints per batch of the first pass (its memory: one batch's geometries).
BATCH_ROWS = 100_000
#: Checks whose findings concern single buildings, in the order
#: :func:`roofpv.run.pipeline.build_inventory` makes them (each partition makes its own).
STAGES = ("survey", "geometry", "overlaps", "townships", "cross", "transformers")


@dataclass(frozen=True, kw_only=True)
class Scan:
    """The first pass of a run read per partition: the :class:`Catalogue`, the survey
    (ids matched; its rows on disk until the partitions have theirs), and the place of
    each partition's findings among the jurisdiction-wide ones."""

    catalogue: Catalogue
    #: None once the partitions have their rows (:func:`roofpv.run.engine.write_reads`).
    survey: SpilledSurvey | None
    #: dtypes of the survey columns once joined to every footprint.
    survey_dtypes: pd.Series
    #: Township polygons as read (their file's CRS), or None.
    polygons: gpd.GeoDataFrame | None
    #: The inventory's findings in order: lists of jurisdiction-wide findings, and the
    #: names of :data:`STAGES` where the partitions' findings go.
    layout: tuple[list[Finding] | str, ...]
    #: The 台区 transformers table each partition assigns its buildings to, or None.
    transformers: pd.DataFrame | None = None
    #: Where the surface sites' findings go among the inventory's jurisdiction-wide
    #: findings (None: no surface layers). The sites are cut to open ground by the
    #: buildings' outlines once the partitions have them (:mod:`roofpv.run.engine`).
    surfaces_at: int | None = None

    def unserved(self, transformers: pd.DataFrame, crs: str) -> gpd.GeoDataFrame:
        """The footprints whose survey names no transformer of ``transformers`` (or that
        have no survey row), by catalogue position, with the value named, each at the
        centre of its bounds (``crs``: the catalogue's): those
        :func:`roofpv.grid.assess.assign_transformers` does not find in the table, told
        by the survey's category codes, not by a lookup of every id."""
        named, rows = self.survey.keys["transformer_id"].array, self.catalogue.rows
        code = np.full(rows.size, -1, np.int64)  # a survey of headers only has no codes at all
        code[rows >= 0] = named.codes[rows[rows >= 0]]
        known = np.append(named.categories.isin(transformers.index), transformers.index.hasnans)
        at = np.flatnonzero(~known[code])  # (code −1, the last: no row, or no value)
        bounds = self.catalogue.bounds[at]
        return gpd.GeoDataFrame(
            {"transformer_id": np.append(named.categories.to_numpy(dtype=object), np.nan)[code[at]]},
            geometry=gpd.points_from_xy((bounds[:, 0] + bounds[:, 2]) / 2, (bounds[:, 1] + bounds[:, 3]) / 2),
            index=at, crs=crs)

    def findings(self, stages: dict[str, list[list[Finding]]]) -> list[Finding]:
        """The inventory's findings in the one-piece order, given each stage's findings
        from every partition."""
        position = self.positions([f.building_id for pieces in stages.values() for piece in pieces for f in piece])
        return [f for item in self.layout
                for f in (item if isinstance(item, list) else gather_findings(stages.get(item, []), position))]

    def positions(self, named: list) -> pd.Series:
        """Catalogue position by building id of those of the ids ``named`` it holds
        (:func:`roofpv.inputs.ids.positions`)."""
        keys = pd.unique(pd.Series([i for i in named if i is not None], dtype=object))
        at = positions(self.catalogue.ids, keys)
        return pd.Series(at[at >= 0], index=keys[at >= 0], dtype=np.int64)


@dataclass(frozen=True, kw_only=True)
class Catalogue:
    """What the first pass keeps of every footprint, in the layer's order."""

    #: Building ids as :func:`roofpv.io.readers.read_footprints` names them.
    ids: pd.Index
    #: Feature ids, to read each footprint again (:func:`roofpv.io.readers.read_vector` ``fids``;
    #: 32-bit where they fit).
    fids: np.ndarray
    #: (n, 4) bounds in the analysis CRS (xmin, ymin, xmax, ymax), NaN without geometry.
    bounds: np.ndarray
    #: The township each building is planned with: surveyed, else located by the
    #: centre of its bounds (for the partition plan only; results never depend on it).
    township: pd.Categorical
    #: CRS the footprint layer is read in (its own, or ``inputs.footprints_crs``).
    source_crs: str
    #: Each footprint's row among the survey rows used (in the order of
    #: :attr:`roofpv.io.survey_spill.SpilledSurvey.index`; 32-bit), −1 without one; None before
    #: the survey is matched (:func:`scan_apart`).
    rows: np.ndarray | None = None


@dataclass(frozen=True, kw_only=True)
class Pass:
    """What :func:`scan_apart` brings back from its child process."""

    catalogue: Catalogue
    #: Findings of reading the footprints (:func:`scan`), then of matching the survey's
    #: ids to theirs (:func:`roofpv.inputs.checks.match_ids`, survey rows without footprint).
    read: list[Finding]
    matched: list[Finding]
    #: The survey's keys with their ids renamed to their footprint's (``match_ids``).
    keys: pd.DataFrame
    #: The footprints :func:`roofpv.inputs.checks.datum_check` samples, and its ``sampled``.
    sample: gpd.GeoSeries
    sampled: tuple[int, int, np.ndarray]


def supported(config: Config) -> bool:
    """Whether the run can read its inputs per partition: footprints in a layer GDAL
    reads by feature id directly (GeoPackage, FlatGeobuf, shapefile; not a DXF drawing),
    no DSM (the footprints are matched against the DSM as a whole first,
    :mod:`roofpv.inputs.dsm_match`), no PV register (joined to the buildings as a
    whole). Surface layers are cut to open ground after the partitions, from the
    outlines they stored (:func:`roofpv.run.engine.surface_footprints`)."""
    import pyogrio

    inputs = config.inputs
    path = Path(inputs.footprints)
    if config.dsm.tiles is not None or inputs.register_file is not None or path.suffix.lower() == ".dxf":
        return False
    try:
        info = pyogrio.read_info(path, layer=inputs.footprints_layer)
    except Exception:  # unreadable: the whole read reports it
        return False
    return info["driver"] in BY_FEATURE_ID and bool(info["capabilities"]["random_read"])


def _batches(path: Path, layer: str | None, id_column: str) -> Iterator[tuple[np.ndarray, pd.Series, np.ndarray]]:
    """Feature ids, raw ids and geometries of the footprint layer, batch by batch."""
    import pyogrio

    encoding = readers.dbf_encoding(path, layer)
    options = {"encoding": encoding.encoding} if encoding is not None else {}
    with pyogrio.open_arrow(path, layer=layer, columns=[id_column], return_fids=True,
                            batch_size=BATCH_ROWS, use_pyarrow=True, **options) as (_, reader):
        for batch in reader:  # by position: the feature id, the id column, the geometry
            # (copied: a view would hold the whole batch as read, its geometries included)
            fids = batch.column(0).to_numpy().copy()
            ids = batch.column(1).to_pandas()
            yield fids, ids, shapely.from_wkb(batch.column(2).to_numpy(zero_copy_only=False))


def scan(config: Config, crs: str, polygons: gpd.GeoDataFrame | None, surveyed: pd.Series
         ) -> tuple[Catalogue, list[Finding], tuple[gpd.GeoSeries, tuple[int, int, np.ndarray]]]:
    """The first pass over the footprint layer: its :class:`Catalogue`, the findings
    :func:`roofpv.io.readers.read_footprints` makes, and the footprints
    :func:`roofpv.inputs.checks.datum_check` samples with its ``sampled`` numbers.
    ``surveyed``: the survey's township by building id (blank: not surveyed);
    ``polygons`` the townships."""
    import pyogrio

    inputs = config.inputs
    path, layer, id_column = Path(inputs.footprints), inputs.footprints_layer, inputs.footprints_id_column
    if not path.exists():
        raise InputError(f"{path}: footprints file not found; check `inputs` in the config")
    detected = readers.dbf_encoding(path, layer)  # a shapefile's text without a .cpg
    info = pyogrio.read_info(path, layer=layer, **({"encoding": detected.encoding} if detected else {}))
    if id_column not in list(info["fields"]):
        raise InputError(
            f"{path}: footprints have no id column {id_column!r}; columns are "
            f"{list(info['fields'])}. Set inputs.footprints_id_column")
    # Kept per footprint: feature id, bounds, whether it is a polygon (rows filled batch by
    # batch, no list of batches to join) and its id (readers.FootprintIds).
    expected = max(int(info["features"]), 0)
    fids, raw, polygonal = (Rows(expected, (), np.int64), Rows(expected, (4,), np.float64), Rows(expected, (), bool))
    low, high, lows, highs = [], [], [], []
    named = readers.FootprintIds(path, id_column)
    for k, (f, ids, geometry) in enumerate(_batches(path, layer, id_column)):
        fids.add(f)
        named.add(ids)
        box = shapely.bounds(geometry)
        raw.add(box)
        shaped = (shapely.is_valid(geometry) & ~shapely.is_empty(geometry)
                  & np.isin(shapely.get_type_id(geometry), (3, 6)))
        polygonal.add(shaped)
        low.append(np.fmin.reduce(box[:, :2], axis=0, initial=np.nan))  # NaN where the batch has no bounds
        high.append(np.fmax.reduce(box[:, 2:], axis=0, initial=np.nan))
        if shaped.any():
            lows.append(box[shaped, :2].min(axis=0))
            highs.append(box[shaped, 2:].max(axis=0))
        del f, ids, geometry, box
        if k:  # the batches' geometries given back (else the heap grows by their size each
            give_back_freed_memory()  # batch); a layer of one batch keeps its heap for what follows
    fids, raw, polygonal = fids.array(), raw.array(), polygonal.array()
    if not low or np.isnan(low).all():
        raise InputError(f"{path}: footprints layer has no geometries; point the config at the "
                         "layer with the outlines")
    if not polygonal.any():
        raise InputError(f"{path}: footprints layer holds no polygons; point the config at a "
                         "polygon layer of footprint outlines")
    total = np.r_[np.fmin.reduce(low, axis=0), np.fmax.reduce(high, axis=0)]
    source, crs_findings = resolve_crs(info["crs"], total, str(path), inputs.footprints_crs)
    if source is None:
        raise InputError(f"{path}: {crs_findings[0].problem}; {crs_findings[0].fix}")
    ids, found = named.finish()
    del named
    findings = readers.encoding_finding(path, layer) + crs_findings + found
    fids = _compact(fids)
    extent = np.r_[np.min(lows, axis=0), np.max(highs, axis=0)]
    bounds = raw  # projected in place, a batch at a time
    for at in range(0, len(bounds), BATCH_ROWS):
        bounds[at:at + BATCH_ROWS] = project_bounds(raw[at:at + BATCH_ROWS], source, crs, inputs.footprints_datum)
    catalogue = Catalogue(ids=ids, fids=fids, bounds=bounds, township=planned_townships(ids, bounds, surveyed, polygons, crs),
                          source_crs=str(source))
    positions = np.flatnonzero(polygonal)
    pick = positions[checks.township_sample(positions.size)]
    sample = readers.read_vector(path, layer, fids=fids[pick]).geometry.set_crs(source, allow_override=True)
    return catalogue, findings, (sample, (int(positions.size), len(ids), extent))


def planned_townships(ids: pd.Index, bounds: np.ndarray, surveyed: pd.Series, polygons: gpd.GeoDataFrame | None,
                      crs: str) -> pd.Categorical:
    """The township each footprint (``ids``, ``bounds`` in ``crs``) is planned with: its
    survey row's (``surveyed``: township by building id), else the township polygon
    holding the centre of its bounds, else 未知. Worked on codes into the names, not on a
    name per footprint; the footprints to locate are located a batch at a time."""
    import pyarrow.compute as pc

    index = surveyed.index

    surveyed = pd.Categorical(surveyed)  # (by position; the ids stay surveyed's)
    names = [*map(str, surveyed.categories), *(map(str, polygons.index) if polygons is not None else ()), "未知"]
    unknown = len(names) - 1
    code = np.full(len(ids), unknown, np.int64)
    if len(surveyed):
        row = pc.index_in(arrow_strings(ids), value_set=arrow_strings(index))
        found = row.is_valid().to_numpy(zero_copy_only=False)
        taken = surveyed.codes[row.filter(row.is_valid()).to_numpy()]
        code[found] = np.where(taken >= 0, taken, unknown)  # a blank township: not surveyed
    missing = np.flatnonzero((code == unknown) & ~np.isnan(bounds).any(axis=1))
    if polygons is not None and missing.size:  # the rest are planned by where they lie
        tree = shapely.STRtree(polygons.to_crs(crs).geometry.to_numpy())
        start = len(surveyed.categories)
        for part in np.array_split(missing, -(-missing.size // BATCH_ROWS)):
            at, hit = tree.query(shapely.points((bounds[part, :2] + bounds[part, 2:]) / 2), predicate="within")
            code[part[at]] = start + hit
    unique, to = np.unique(np.array(names, dtype=object), return_inverse=True)
    code = to[code]
    present = np.unique(code)
    return pd.Categorical.from_codes(np.searchsorted(present, code), categories=pd.Index(unique[present]))


class Rows:
    """An array filled batch by batch: rows added into one buffer, sized by the rows
    expected and grown by half when they are more (never a list of batches to join,
    which held every row twice)."""

    def __init__(self, expected: int, shape: tuple[int, ...], dtype):
        self.data = np.empty((expected, *shape), dtype)
        self.size = 0

    def add(self, rows: np.ndarray) -> None:
        end = self.size + len(rows)
        if end > len(self.data):
            grown = np.empty((max(end, len(self.data) * 3 // 2), *self.data.shape[1:]), self.data.dtype)
            grown[:self.size] = self.data[:self.size]
            self.data = grown
        self.data[self.size:end] = rows
        self.size = end

    def array(self) -> np.ndarray:
        """The rows added (the buffer itself when they filled it)."""
        return self.data if self.size == len(self.data) else self.data[:self.size].copy()


def _compact(values: np.ndarray) -> np.ndarray:
    """Integers ``values`` in 32 bits where they fit, else as they are."""
    small = values.size == 0 or (values.min() >= np.iinfo(np.int32).min and values.max() <= np.iinfo(np.int32).max)
    return values.astype(np.int32) if small else values


def scan_apart(config: Config, crs: str, polygons: gpd.GeoDataFrame | None, keys: pd.DataFrame) -> Pass:
    """:func:`scan` and the survey matched to the footprints, run in a child process that
    returns only the :class:`Pass`: per footprint its id (Arrow strings where pandas
    holds text so), feature id, bounds, township (a category) and survey row, ≈ 0.1 KB.
    ``keys``: the survey's ``township`` and ``transformer_id`` by building id (the rows
    used, :attr:`roofpv.io.survey_spill.SpilledSurvey.keys`).

    The child, not this process, touches the memory of parsing the footprint layer and of
    the checks over every id: Python and the allocators keep most of what a parse touched
    (freed among the few objects that outlive it), so done here the first pass left the
    process about 0.4 KB per footprint larger for the rest of the run. Errors reach the
    caller as raised in the child (:class:`roofpv.errors.InputError` and its message).
    A footprint file under :data:`roofpv.io.apart.CHILD_FROM_BYTES` is read in this
    process: its memory is small, the child's cost is not."""
    return read_apart(_scan_and_match, config, crs, polygons, keys, size=input_bytes(config.inputs.footprints))


def _scan_and_match(config: Config, crs: str, polygons: gpd.GeoDataFrame | None, keys: pd.DataFrame) -> Pass:
    """The work of :func:`scan_apart`, in its child."""
    import pyarrow.compute as pc

    inputs = config.inputs
    catalogue, read, (sample, sampled) = scan(config, crs, polygons, keys["township"])
    footprints = arrow_strings(catalogue.ids)
    held = pc.is_in(arrow_strings(keys.index), value_set=footprints).to_numpy(zero_copy_only=False)
    matched = []
    if not held.all():  # (else no id to match: checks.match_ids would return them as they are)
        keys, matched = checks.match_ids(catalogue.ids, keys, str(inputs.survey))
        held = pc.is_in(arrow_strings(keys.index), value_set=footprints).to_numpy(zero_copy_only=False)
    if inputs.survey is None:
        matched += survey_orphans(catalogue.ids, keys.index, None, str(inputs.footprints))
    else:  # the rows whose id no footprint has, as survey_orphans tells them from every id (sorted)
        matched += survey_orphans(catalogue.ids[:1], keys.index[~held], str(inputs.survey), str(inputs.footprints))
    # Each footprint's survey row: ids are unique on both sides (repeats renamed or left out).
    at = pc.index_in(footprints, value_set=arrow_strings(keys.index))
    rows = pc.fill_null(at, -1).to_numpy(zero_copy_only=False).astype(np.int32)
    return Pass(catalogue=replace(catalogue, rows=rows), read=read, matched=matched, keys=keys, sample=sample,
                sampled=sampled)


#: Margin added to each footprint's projected bounds, m: the bounds are projected by
#: their corners, which over a building's extent bounds the projected outline to well
#: under a millimetre.
BOUNDS_PAD_M = 1.0


def project_bounds(bounds: np.ndarray, source, crs: str, datum=None) -> np.ndarray:
    """(n, 4) bounds in ``source`` CRS (digitised on a web-map ``datum``) → bounds in
    ``crs`` of the outlines they hold, :data:`BOUNDS_PAD_M` wider on every side."""
    from pyproj import CRS, Transformer

    x = bounds[:, [0, 2, 0, 2]].ravel()
    y = bounds[:, [1, 1, 3, 3]].ravel()
    if datum is not None:
        x, y = Transformer.from_crs(CRS(source), CRS("EPSG:4326"), always_xy=True).transform(x, y)
        x, y = to_wgs84(x, y, datum)
        source = "EPSG:4326"
    x, y = Transformer.from_crs(CRS(source), CRS(crs), always_xy=True).transform(x, y)
    x, y = x.reshape(-1, 4), y.reshape(-1, 4)
    with np.errstate(invalid="ignore"):
        return np.column_stack([x.min(axis=1) - BOUNDS_PAD_M, y.min(axis=1) - BOUNDS_PAD_M,
                                x.max(axis=1) + BOUNDS_PAD_M, y.max(axis=1) + BOUNDS_PAD_M])


class Boxes:
    """An index of boxes answering which of them meet given boxes, as
    :meth:`shapely.STRtree.query` answers for their extents (touching counts), without a
    geometry per box.

    The boxes are filed under the cells of a square grid they cover (cells
    :data:`CELLS_PER_BOX` times their median width, so most cover one to four): a query
    looks in the cells its boxes cover and keeps the boxes that meet one of them. A
    tree of shapely boxes took ≈ 0.47 KB per box (the geometries and the tree); this
    takes 16 bytes per box and cell it covers besides the bounds, which it shares.
    Two boxes that meet share a point, and that point's cell is among the cells of
    both (a cell is the floor of a monotonic function of a coordinate), so the
    cells miss no pair; the comparison of the bounds then keeps exactly those that meet."""

    #: Grid cells looked in at a time by a query (bounds what it holds at once).
    BLOCK = 1 << 20
    #: Side of a grid cell in median box widths.
    CELLS_PER_BOX = 2.0

    def __init__(self, bounds: np.ndarray, positions: np.ndarray):
        """``bounds``: (n, 4) xmin, ymin, xmax, ymax; ``positions``: those indexed (finite
        bounds, ascending), by which queries answer."""
        self.bounds, self.positions = bounds, positions
        inner = bounds[positions]
        self.origin = inner[:, :2].min(axis=0) if len(inner) else np.zeros(2)
        width = np.maximum(inner[:, 2] - inner[:, 0], inner[:, 3] - inner[:, 1])
        self.cell = max(self.CELLS_PER_BOX * float(np.median(width)), 1e-6) if len(inner) else 1.0
        top = self._cells(inner[:, 2:]).max(axis=0) + 1 if len(inner) else np.ones(2, np.int64)
        self.shape = (int(top[0]), int(top[1]))
        box, key = self._filed(*self._span(inner))
        order = np.argsort(key, kind="stable")
        #: The boxes (rows of ``positions``) cell by cell, the cells holding any (their
        #: keys, ascending) and where each cell's boxes start in ``boxes``.
        self.boxes = box[order]
        self.cells, self.starts = np.unique(key[order], return_index=True)
        self.starts = np.append(self.starts, len(order))

    def _cells(self, xy: np.ndarray) -> np.ndarray:
        """Grid cell (column, row) of each point of the (m, 2) ``xy``."""
        return np.floor((xy - self.origin) / self.cell).astype(np.int64)

    def _span(self, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The first and last cell (column, row) of the grid each of the (m, 4) ``boxes``
        covers (last < first where it lies outside the grid)."""
        return (np.maximum(self._cells(boxes[:, :2]), 0),
                np.minimum(self._cells(boxes[:, 2:]), np.array(self.shape) - 1))

    def _filed(self, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For boxes covering the cells ``lo`` to ``hi`` (:meth:`_span`): the box (its row
        in ``lo``) and the key of each cell it covers."""
        across = np.maximum(hi - lo + 1, 0)
        count = across[:, 0] * across[:, 1]
        box = np.repeat(np.arange(len(lo)), count)
        k = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
        rows = across[box, 1]
        return box, (lo[box, 0] + k // rows) * self.shape[1] + lo[box, 1] + k % rows

    def query(self, boxes: np.ndarray) -> np.ndarray:
        """Positions (sorted, unique) of the boxes meeting any of the (m, 4) ``boxes``."""
        boxes = boxes[~np.isnan(boxes).any(axis=1)] if self.cells.size else boxes[:0]
        hit = np.zeros(len(self.positions), bool)
        lo, hi = self._span(boxes)
        count = np.prod(np.maximum(hi - lo + 1, 0), axis=1)
        wide = count > self.cells.size  # more cells than hold boxes: compared with every box
        b = self.bounds[self.positions] if wide.any() else None
        for q in boxes[wide]:
            hit |= (b[:, 0] <= q[2]) & (q[0] <= b[:, 2]) & (b[:, 1] <= q[3]) & (q[1] <= b[:, 3])
        boxes, lo, hi, count = boxes[~wide], lo[~wide], hi[~wide], count[~wide]
        block = np.cumsum(count) // self.BLOCK  # runs of boxes covering about BLOCK cells
        for part in np.split(np.arange(len(boxes)), np.flatnonzero(np.diff(block)) + 1):
            which, key = self._filed(lo[part], hi[part])
            at = np.minimum(np.searchsorted(self.cells, key), len(self.cells) - 1)
            first, n = self.starts[at], np.where(self.cells[at] == key, self.starts[at + 1] - self.starts[at], 0)
            q = boxes[part][np.repeat(which, n)]
            box = self.boxes[np.repeat(first, n) + np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)]
            b = self.bounds[self.positions[box]]
            hit[box[(b[:, 0] <= q[:, 2]) & (q[:, 0] <= b[:, 2]) & (b[:, 1] <= q[:, 3]) & (q[:, 1] <= b[:, 3])]] = True
        return self.positions[hit]


def surroundings(bounds: np.ndarray, own: np.ndarray, index: Boxes, rings: int = 2) -> np.ndarray:
    """Positions (sorted) of the footprints ``rings`` deep around the positions ``own``:
    each ring adds those whose bounds meet the bounds of the ring before. ``index``:
    :class:`Boxes` of the footprints with a geometry (``own`` among them)."""
    around = np.unique(own)
    for _ in range(rings):
        near = index.query(bounds[around])
        if near.size == around.size:
            break
        around = near
    return around


def assemble(config: Config, crs: str, catalogue_crs: str, polygons: gpd.GeoDataFrame | None,
             ids: pd.Index, fids: np.ndarray, own: np.ndarray, survey: pd.DataFrame,
             survey_dtypes: pd.Series, transformers: pd.DataFrame | None = None,
             ) -> tuple[gpd.GeoDataFrame, dict[str, list[Finding]]]:
    """One partition's buildings as :func:`roofpv.run.pipeline.build_inventory` gives
    them, and the findings about them by check (:data:`STAGES`).

    ``ids``/``fids``: the footprints read (the partition's and those around it, in the
    layer's order), ``own`` which of them are the partition's; ``survey`` their survey
    rows; ``survey_dtypes`` the survey columns' dtypes once joined to every footprint;
    ``transformers`` the 台区 table the buildings are served from (as
    :func:`roofpv.run.pipeline.prepare` assigns them)."""
    inputs = config.inputs
    fp_source, survey_source = str(inputs.footprints), str(inputs.survey) if inputs.survey else None
    frame = readers.read_vector(Path(inputs.footprints), inputs.footprints_layer, fids=fids)
    frame = frame.set_crs(catalogue_crs, allow_override=True).set_index(ids)
    frame = frame.drop(columns=inputs.footprints_id_column)
    attributes = footprint_attributes(frame.drop(columns="geometry"), config.dsm.storey_height_m)
    b, joined = join_survey(frame[["geometry"]], survey, survey_source, fp_source)
    b = b.astype(survey_dtypes[survey_dtypes.index.isin(b.columns)].to_dict())
    b, geometry = to_analysis_crs(fill_from_footprints(b, attributes), crs, fp_source, inputs.footprints_datum)
    b, overlaps = resolve_overlaps(b, fp_source)
    b = b[own]
    b, towns = assign_townships(b, polygons, str(inputs.survey))
    county = jurisdictions.county_of(b["township"], polygons)
    if county is not None:  # a province run: the county level
        b.insert(b.columns.get_loc("township_source") + 1, "county", county)
    projected = polygons.to_crs(crs) if polygons is not None else None
    mine = set(b.index)
    found = {"survey": joined if survey_source else [], "geometry": geometry, "overlaps": overlaps,
             "townships": towns,
             "cross": checks.building_checks(b, projected, str(inputs.survey), fp_source)}
    if transformers is not None:
        b, found["transformers"] = gridstage.assign_transformers(
            b, transformers, crs, str(inputs.survey or inputs.footprints))
    return b, {k: [f for f in v if f.building_id in mine] for k, v in found.items()}


def gather_findings(pieces: list[list[Finding]], position: pd.Series) -> list[Finding]:
    """One check's findings from every partition in the one-piece order: by kind (a
    check emits its kinds of finding, told apart by their fix, one kind after the other;
    each partition's findings give part of that order) and within a kind by building in
    the layer's order (``position``: building id → position)."""
    order = graphlib.TopologicalSorter()
    for piece in pieces:
        kinds = list(dict.fromkeys(f.fix for f in piece))
        for kind in kinds:
            order.add(kind)
        for before, after in pairwise(kinds):
            order.add(after, before)
    rank = {kind: r for r, kind in enumerate(order.static_order())}
    found = [f for piece in pieces for f in piece]
    return sorted(found, key=lambda f: (rank[f.fix], position.get(f.building_id, -1)))
