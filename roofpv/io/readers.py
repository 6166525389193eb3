"""Readers for footprints, survey tables, township boundaries and transformers.

A file that cannot be read at all stops the run with an :class:`InputError` naming the
file and what to do; everything readable is read, and each problem becomes a finding.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import functools
import glob
import itertools
import re
import sys
import warnings
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from roofpv.errors import InputError, SurveyError
from roofpv.findings import Finding
from roofpv.inputs.formulas import plain_arithmetic
from roofpv.inputs.georef import resolve_crs
from roofpv.inputs.ids import ODD, REPAIRS, WHOLE_FLOAT, clean_id, clean_ids
from roofpv.inputs.survey_table import (
    SurveyHeader,
    SurveyPart,
    cell_fits,
    first_of_each_id,
    locate_header,
    normalise_rows,
    repeat_counts,
    settle_dtypes,
    survey_findings,
    survey_header,
    unit_key,
)
from roofpv.io import encodings
from roofpv.schema import HEADER_LOOKUP, NUMERIC_COLUMNS, VOCABULARIES, header_key


def read_vector(path: Path, layer: str | None = None, **options) -> pd.DataFrame:
    """:func:`pyogrio.read_dataframe` of an input layer, the one way roofpv reads a layer.

    A shapefile's text is decoded in the encoding :func:`dbf_encoding` detects when no
    ``.cpg`` file says it. A fast (``use_arrow``) read that fails is done again the
    slow way, so the fast path never fails where the slow one works. GDAL renumbers
    GeoJSON features whose ``id`` repeats and warns once per layer; that warning is not
    shown, since the id column is checked and repeated ids are reported as findings."""
    if Path(path).suffix.lower() == ".dxf":
        return read_dxf(Path(path), layer, **options)[0]
    detected = dbf_encoding(Path(path), layer)
    if detected is not None:
        options.setdefault("encoding", detected.encoding)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Several features with id", category=RuntimeWarning)
        if options.get("use_arrow"):
            try:
                return pyogrio.read_dataframe(path, layer=layer, **options)
            except Exception:  # Arrow refuses some encodings and types the slow path reads
                options["use_arrow"] = False
        return pyogrio.read_dataframe(path, layer=layer, **options)


def dbf_of(path: Path, layer: str | None = None) -> Path | None:
    """The attribute table (``.dbf``) of a shapefile given as its ``.shp``/``.dbf`` or as
    a folder and layer name; None for other formats."""
    if path.is_dir() and layer is not None:
        path = path / f"{layer}.shp"
    if path.suffix.lower() not in (".shp", ".dbf"):
        return None
    found = [p for p in path.parent.glob(f"{glob.escape(path.stem)}.*") if p.suffix.lower() == ".dbf"]
    return found[0] if found else None


def zipped_dbf(path: Path, layer: str | None = None) -> str | None:
    """The member name of the attribute table of a zipped shapefile (the one named
    ``layer``, else the only one); None when there is none or several."""
    with zipfile.ZipFile(path) as book:
        found = [n for n in book.namelist()
                 if n.lower().endswith(".dbf") and (layer is None or Path(n).stem == layer)]
    return found[0] if len(found) == 1 else None


def dbf_encoding(path: Path, layer: str | None = None) -> encodings.Decoded | None:
    """The encoding of a shapefile's text (also zipped) when no ``.cpg`` file beside it
    says it (:func:`roofpv.io.encodings.dbf_encoding`); None when there is a ``.cpg``,
    when the text is plain ASCII or for other formats (GeoPackage and GeoJSON are UTF-8)."""
    if path.suffix.lower() == ".zip" and zipfile.is_zipfile(path):
        stat = path.stat()
        return _zipped_encoding(str(path), layer, stat.st_mtime_ns, stat.st_size)
    dbf = dbf_of(path, layer)
    if dbf is None or any(p.suffix.lower() == ".cpg" for p in dbf.parent.glob(f"{glob.escape(dbf.stem)}.*")):
        return None
    stat = dbf.stat()
    return _dbf_encoding(str(dbf), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=32)
def _dbf_encoding(dbf: str, mtime_ns: int, size: int) -> encodings.Decoded | None:
    return encodings.dbf_encoding(Path(dbf))


@functools.lru_cache(maxsize=32)
def _zipped_encoding(path: str, layer: str | None, mtime_ns: int, size: int) -> encodings.Decoded | None:
    member = zipped_dbf(Path(path), layer)
    if member is None:
        return None
    with zipfile.ZipFile(path) as book:
        if any(n.lower() == member[:-4].lower() + ".cpg" for n in book.namelist()):
            return None
        return encodings.dbf_encoding(book.read(member))


def encoding_finding(path: Path, layer: str | None = None) -> list[Finding]:
    """A finding saying in which encoding a shapefile without ``.cpg`` was read (with a
    sample of its text) and how to make the file say it."""
    detected = dbf_encoding(path, layer)
    if detected is None:
        return []
    why = {"utf-8": "its text decodes as UTF-8", "cjk": "its text decodes as Chinese",
           "declared": "its language driver byte says so", "assumed": "it is neither UTF-8 nor Chinese; "
           "Windows-1252 is the usual encoding of European GIS files"}[detected.how]
    sample = next((t for t in detected.text.split("\n") if not t.isascii()), "")[:40]
    dbf = dbf_of(path, layer) or Path(zipped_dbf(path, layer) or path.name)
    cpg = {"utf-8": "UTF-8", "gb18030": "GBK", "big5": "BIG5"}.get(
        detected.encoding, detected.encoding.removeprefix("cp"))  # 1252, 437 …: as ArcGIS writes code pages
    return [Finding("warning", str(path), None, None, None, detected.label,
                    f"shapefile has no .cpg file saying its text encoding; read as {detected.label} "
                    f"({why}), e.g. {sample!r}",
                    f"check the names; add a text file {dbf.with_suffix('.cpg').name} holding the line {cpg} "
                    "beside the .shp (or export the layer as GeoPackage), so every GIS reads them alike")]


#: CAD layers read as building outlines when the config names none: 居民地 (settlements),
#: coded JMD in Chinese topographic maps, and its common spellings.
DXF_BUILDING_LAYERS = ("JMD", "居民地", "房屋", "FW", "BUILDING", "BUILDINGS")


def dxf_encoding(path: Path) -> str:
    """The encoding of a DXF drawing's text (:func:`roofpv.io.encodings.decode` of its
    non-ASCII lines), as GDAL names it. GDAL takes it from ``$DWGCODEPAGE``, which
    AutoCAD 2007 and later leave at the system's code page (ANSI_936) while writing
    UTF-8, so Chinese layer names and labels would come out garbled."""
    try:
        sample = encodings.text_sample(path)
        return encodings.decode(sample, truncated=True).encoding.removesuffix("-sig") if sample else "utf-8"
    except (encodings.EncodingError, ValueError):  # ValueError: an empty file cannot be mapped
        return "utf-8"


@contextlib.contextmanager
def gdal_options(**values):
    """GDAL configuration options set for the duration of a block (a read, a write), then restored."""
    before = {k: pyogrio.get_gdal_config_option(k) for k in values}
    pyogrio.set_gdal_config_options(values)
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options(before)


def read_dxf(path: Path, cad_layer: str | None = None, **options) -> tuple[gpd.GeoDataFrame, list[Finding]]:
    """The outlines on one layer of a CAD drawing (DXF, as topographic maps 地形图 are
    exported) as polygons, one row per entity with its ``EntityHandle`` (the drawing's
    own id of the entity), and findings on what was chosen and left out.

    ``cad_layer`` is the drawing's layer (CAD layer names ignore case); without one, the
    first of :data:`DXF_BUILDING_LAYERS` present. Closed polylines and hatches become
    polygons; a hatch repeating a closed polyline's outline (a filled building) is
    kept once; open lines, texts and points are left out and counted.
    """
    read_geometry = options.pop("read_geometry", True)
    for key in ("columns", "use_arrow", "encoding", "where"):
        options.pop(key, None)
    findings: list[Finding] = []
    with gdal_options(DXF_ENCODING=dxf_encoding(path)), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        names = pyogrio.read_dataframe(path, columns=["Layer"], read_geometry=False, **options)["Layer"]
        layers = names.value_counts()
        if cad_layer is None:
            present = {str(n).casefold(): n for n in layers.index}
            cad_layer = next((present[k.casefold()] for k in DXF_BUILDING_LAYERS if k.casefold() in present), None)
            if cad_layer is not None:
                findings.append(Finding("info", str(path), None, None, "Layer", cad_layer,
                                        f"no CAD layer configured; outlines read from layer {cad_layer}",
                                        "set inputs.footprints_layer to the drawing's building layer"))
        chosen = [n for n in layers.index if cad_layer is not None and str(n).casefold() == cad_layer.casefold()]
        if not chosen:
            listed = ", ".join(f"{n} ({c})" for n, c in layers.head(30).items())
            wanted = repr(cad_layer) if cad_layer else f"named like a building layer ({', '.join(DXF_BUILDING_LAYERS)})"
            raise InputError(f"{path}: no CAD layer {wanted} in the drawing; its layers (entities) are "
                             f"{listed}. Set inputs.footprints_layer to the building layer (居民地, JMD)")
        quoted = "', '".join(str(n).replace("'", "''") for n in chosen)
        frame = pyogrio.read_dataframe(path, where=f"Layer IN ('{quoted}')", **options)
    frame, found = _cad_outlines(frame, str(path), chosen[0])
    findings += found
    if not read_geometry:
        frame = pd.DataFrame(frame.drop(columns="geometry"))
    return frame, findings


def _cad_outlines(frame: gpd.GeoDataFrame, source: str, layer: str) -> tuple[gpd.GeoDataFrame, list[Finding]]:
    """Closed lines of ``frame`` as polygons, polygons kept, hatches repeating an
    outline dropped, everything else left out; findings count what was left out."""
    g = frame.geometry.to_numpy()
    kind = shapely.get_type_id(g)
    closed = (kind == 1) & shapely.is_closed(g) & (shapely.get_num_coordinates(g) >= 4)
    if closed.any():
        xy, index = shapely.get_coordinates(g[closed], return_index=True)
        g = g.copy()
        g[closed] = shapely.polygons(shapely.linearrings(xy, indices=index))
    outline = closed | np.isin(kind, (3, 6))
    findings = []
    left = frame.geometry[~outline].geom_type.fillna("no geometry").value_counts()
    if len(left):
        kinds = ", ".join(f"{n} {k}" for k, n in left.items())
        findings.append(Finding("info", source, None, None, "Layer", layer,
                                f"{int(left.sum())} entities of layer {layer} are not closed outlines "
                                f"({kinds}); left out", "close the building outlines in CAD (PEDIT → Close)"))
    frame = frame.set_geometry(gpd.GeoSeries(g, index=frame.index, crs=frame.crs))[outline]
    key = pd.Series(shapely.to_wkb(shapely.normalize(shapely.set_precision(frame.geometry.to_numpy(), 0.001))),
                    index=frame.index)
    hatch = frame.get("SubClasses", pd.Series("", index=frame.index)).fillna("").str.contains("Hatch")
    order = np.argsort(hatch.to_numpy(), kind="stable")  # outlines before the hatches that fill them
    repeat = np.zeros(len(frame), bool)
    repeat[order] = key.iloc[order].duplicated().to_numpy()
    if repeat.any():
        findings.append(Finding("info", source, None, None, "Layer", layer,
                                f"{int(repeat.sum())} hatches or outlines of layer {layer} repeat another "
                                "outline; each building counted once", "nothing to do"))
    return frame[~repeat], findings


def read_layer(path: Path, layer: str | None, what: str, crs: str | None = None,
               crs_key: str = "inputs.footprints_crs") -> tuple[gpd.GeoDataFrame, list[Finding]]:
    """A polygon layer with its CRS resolved (and the findings about it); a message
    naming the file for one that is missing, empty, unreadable or not polygons.
    ``crs`` (the config's ``crs_key``) replaces the file's CRS; a DXF drawing's
    ``layer`` is its CAD layer (:func:`read_dxf`)."""
    if not path.exists():
        raise InputError(f"{path}: {what} file not found; check `inputs` in the config")
    if path.is_file() and path.stat().st_size == 0:
        raise InputError(f"{path}: {what} file is empty (0 bytes); export the layer again")
    found: list[Finding] = []
    try:
        if path.suffix.lower() == ".dxf":
            frame, found = read_dxf(path, layer)
        else:
            frame = read_vector(path, layer)
    except InputError:
        raise
    except Exception as exc:  # pyogrio raises several DataSourceError subclasses
        raise InputError(f"{path}: cannot read {what} ({exc}); open it in QGIS to check it, "
                         "or export it again as GeoPackage") from None
    if frame.geometry.isna().all() or frame.geometry.is_empty.all():
        raise InputError(f"{path}: {what} layer has no geometries; point the config at the "
                         "layer with the outlines")
    kinds = shapely.get_type_id(frame.geometry.to_numpy())
    if not np.isin(kinds, (3, 6)).any():
        found = sorted(set(frame.geometry.geom_type.dropna()))
        raise InputError(f"{path}: {what} layer holds {', '.join(found)} geometries, not polygons; "
                         f"point the config at a polygon layer of {what} outlines")
    crs, findings = resolve_crs(frame.crs, frame.total_bounds, str(path), crs, crs_key)
    if crs is None:
        raise InputError(f"{path}: {findings[0].problem}; {findings[0].fix}")
    return frame.set_crs(crs, allow_override=True), found + encoding_finding(path, layer) + findings


#: Column of a DXF drawing's entity handles, the building ids of CAD outlines.
DXF_HANDLE = "EntityHandle"


def read_footprints(
    path: Path, layer: str | None = None, id_column: str = "building_id", crs: str | None = None,
) -> tuple[gpd.GeoDataFrame, list[Finding]]:
    """Building footprints indexed by ``building_id`` (string), geometry and the layer's
    other columns as found; ``crs`` replaces the file's (``inputs.footprints_crs``).

    Every feature is kept: a blank id becomes ``<file>#<feature number>`` and a repeated
    id gets ``#2``, ``#3`` …, each reported. Outlines from a DXF drawing without the id
    column take their entity handles as ids.
    """
    frame, findings = read_layer(path, layer, "footprints", crs)
    if id_column not in frame.columns and DXF_HANDLE in frame.columns:
        findings.append(Finding("info", str(path), None, None, DXF_HANDLE, None,
                                f"the drawing has no {id_column!r} attribute; its entity handles "
                                f"(e.g. {frame[DXF_HANDLE].iloc[0]}) are the building ids",
                                "use the handles as 建筑编号 in the survey, or set "
                                "inputs.footprints_id_column to an attribute holding the ids"))
        id_column = DXF_HANDLE
    if id_column not in frame.columns:
        raise InputError(
            f"{path}: footprints have no id column {id_column!r}; columns are "
            f"{list(frame.columns.drop('geometry'))}. Set inputs.footprints_id_column"
        )
    ids, found = footprint_ids(frame[id_column], path, id_column)
    findings += found
    frame = frame.drop(columns=id_column).set_index(ids)
    return frame, findings


def footprint_ids(values: pd.Series, path: Path, id_column: str) -> tuple[pd.Index, list[Finding]]:
    """The building ids of a footprint layer's id column ``values`` (in feature order),
    as :func:`read_footprints` names them: repaired ids (numbers stored as text…), a
    blank id named ``<file>#<feature number>``, a repeated one ``#2``, ``#3`` …, each
    reported (:class:`FootprintIds` of one batch)."""
    ids = FootprintIds(path, id_column)
    ids.add(values)
    return ids.finish()


#: The order in which :func:`roofpv.inputs.ids.clean_id` applies its repairs to one id.
CLEANED_IN = ("invisible", "width", "float")


class FootprintIds:
    """The building ids of a footprint layer read batch by batch (:meth:`add` each
    batch's id column in feature order, then :meth:`finish`), exactly as
    :func:`footprint_ids` names the whole column, without a Python string per id: the
    ids are held as one Arrow string array (≈ their characters and 8 bytes each), and
    repeated ids are found by a sort of them
    (:func:`roofpv.inputs.survey_table.repeat_counts`).

    A text column is cleaned (:func:`roofpv.inputs.ids.clean_ids`) batch by batch; a
    number column, whose pandas type depends on whether the whole column holds a blank,
    is gathered first (8 bytes a feature) and cleaned :data:`SLICE` features at a time."""

    #: Features cleaned at a time where a number column is gathered first.
    SLICE = 100_000

    def __init__(self, path: Path, id_column: str):
        self.path, self.id_column = Path(path), id_column
        self.count = 0
        #: Cleaned ids (Arrow), a batch each; the raw batches of a column that is not text.
        self.cleaned: list = []
        self.raw: list[pd.Series] = []
        #: Per repair, in the order first met: rows, first feature number, id, raw value.
        self.repairs: dict[str, list] = {}
        #: Whether each text batch was cleaned as plain text (trimmed only), and in those
        #: the features whose trimmed id is a whole number written as a decimal (a blank
        #: list in all but odd layers): what the whole column cleaned at once reads as a
        #: repaired float where any of its ids is not plain (``clean_ids``' two paths).
        self.plain: list[bool | None] = []
        self.decimals: list[tuple[np.ndarray, list]] = []

    def add(self, values: pd.Series) -> None:
        """The next batch of the id column, as read (features in order)."""
        if not isinstance(values.dtype, pd.StringDtype):
            self.raw.append(values.reset_index(drop=True))
            return
        self._clean(values.reset_index(drop=True), text=True)

    def _clean(self, values: pd.Series, text: bool) -> None:
        import pyarrow as pa
        import pyarrow.compute as pc

        cleaned, repaired = clean_ids(values)
        start, self.count = self.count, self.count + len(values)
        for repair, rows in repaired.items():
            if repair in self.repairs:
                self.repairs[repair][0] += len(rows)
            else:
                self.repairs[repair] = [len(rows), start + rows[0] + 1, cleaned.iloc[rows[0]], values.iloc[rows[0]]]
        chunk = pa.array(cleaned.to_numpy(dtype=object), pa.large_string())
        self.cleaned.append(chunk)
        if not text:
            return
        cells = values.dropna()
        plain = None if cells.empty else not cells.str.contains(ODD, regex=True).any()  # as clean_ids tells
        self.plain.append(plain)
        decimal = np.flatnonzero(pc.fill_null(pc.match_substring_regex(chunk, WHOLE_FLOAT.pattern), False).to_numpy(
            zero_copy_only=False)) if plain else np.empty(0, np.int64)
        self.decimals.append((start + decimal, values.iloc[decimal].tolist()))

    def finish(self) -> tuple[pd.Index, list[Finding]]:
        """The ids (Arrow strings, ``building_id``) and the findings, in
        :func:`footprint_ids`' order."""
        import pyarrow as pa
        import pyarrow.compute as pc

        if self.raw:  # a column that is not text: whole, then cleaned in slices
            column = pd.concat(self.raw, ignore_index=True) if len(self.raw) > 1 else self.raw[0]
            self.raw = []
            step = len(column) if column.dtype == object else self.SLICE
            for at in range(0, len(column), max(step, 1)):
                self._clean(column.iloc[at:at + step], text=False)
        ids = pa.chunked_array(self.cleaned, pa.large_string()).combine_chunks()
        self.cleaned = []
        if any(p is False for p in self.plain):  # the column read whole is not plain text
            ids = self._whole_decimals(ids)
        findings = [
            Finding("warning", str(self.path), feature, bid, self.id_column, repr(raw),
                    f"{count:,} ids {REPAIRS[repair]}; read as {bid!r}",
                    "store the ids as text, as the survey writes them")
            for repair, (count, feature, bid, raw) in self.repairs.items()
        ]
        missing = np.flatnonzero(ids.is_null().to_numpy(zero_copy_only=False))
        named = [f"{self.path.stem}#{n}" for n in missing + 1]
        findings += [
            Finding("warning", str(self.path), int(n), bid, self.id_column, None,
                    f"feature has no {self.id_column}; named {bid}", "give every footprint an id that the survey uses")
            for n, bid in zip(missing + 1, named)
        ]
        if missing.size:
            ids = pc.replace_with_mask(ids, ids.is_null(), pa.array(named, pa.large_string()))
        repeat = repeat_counts(ids)
        again = np.flatnonzero(repeat)
        if again.size:
            old = ids.take(pa.array(again)).to_pylist()
            new = [f"{bid}#{r + 1}" for bid, r in zip(old, repeat[again])]
            findings += [
                Finding("warning", str(self.path), int(i) + 1, n, self.id_column, bid,
                        f"duplicate {self.id_column}; this footprint is kept as {n} and gets no survey row",
                        "give each footprint its own id, or delete the duplicate")
                for i, bid, n in zip(again, old, new)
            ]
            mask = np.zeros(len(ids), bool)
            mask[again] = True
            ids = pc.replace_with_mask(ids, pa.array(mask), pa.array(new, pa.large_string()))
        return pd.Index(pd.arrays.ArrowStringArray(pa.chunked_array([ids]), dtype=pd.StringDtype("pyarrow", na_value=np.nan)),
                        name="building_id"), findings

    def _whole_decimals(self, ids):
        """``ids`` as the whole column cleaned at once reads them where it is not plain
        text: in the batches cleaned as plain text, a whole number written as a decimal
        (``12.0``, spaces around it) read as the number, a repaired float."""
        import pyarrow as pa
        import pyarrow.compute as pc

        at = np.concatenate([d for d, _ in self.decimals])
        if not at.size:
            return ids
        raw = [v for _, values in self.decimals for v in values]
        fixed = [clean_id(v)[0] for v in raw]
        count, row, bid, value = self.repairs.get("float", [0, at[0] + 2, None, None])
        self.repairs["float"] = [count + at.size, *((row, bid, value) if row <= at[0] + 1
                                                    else (int(at[0]) + 1, fixed[0], raw[0]))]
        # The repairs in the whole column's order: by their first row, then as clean_id applies them.
        self.repairs = dict(sorted(self.repairs.items(), key=lambda kv: (kv[1][1], CLEANED_IN.index(kv[0]))))
        mask = np.zeros(len(ids), bool)
        mask[at] = True
        return pc.replace_with_mask(ids, pa.array(mask), pa.array(fixed, pa.large_string()))


def read_townships(
    path: Path, layer: str | None, name_column: str, crs: str | None = None,
) -> tuple[gpd.GeoDataFrame, list[Finding]]:
    """Township polygons indexed by name, one row per name; ``crs`` replaces the file's
    (``inputs.townships_crs``).

    A polygon without a name is named ``<file>#<feature number>``; polygons sharing a
    name are merged into one township (so it is counted once and gets one page); each
    is reported.
    """
    frame, findings = read_layer(path, layer, "townships", crs, "inputs.townships_crs")
    if name_column not in frame.columns:
        raise InputError(
            f"{path}: townships have no name column {name_column!r}; columns are "
            f"{list(frame.columns.drop('geometry'))}. Set inputs.townships_name_column"
        )
    names, _ = clean_ids(frame[name_column])
    feature = np.arange(1, len(frame) + 1)
    for n in feature[names.isna().to_numpy()]:
        names.iloc[n - 1] = f"{path.stem}#{n}"
        findings.append(Finding("warning", str(path), int(n), None, name_column, None,
                                f"township polygon has no name; called {names.iloc[n - 1]}",
                                f"fill in {name_column} for every township polygon"))
    frame = frame.drop(columns=name_column).set_index(pd.Index(names.to_numpy(dtype=object), name="township"))
    repeated = frame.index[frame.index.duplicated()].unique()
    for name in repeated:
        rows = [int(n) for n in feature[frame.index == name]]
        findings.append(Finding("warning", str(path), rows[1], None, name_column, name,
                                f"{len(rows)} township polygons (features {rows}) share the name "
                                f"{name!r}; merged into one township",
                                "give each township its own name, or merge the parts in QGIS"))
    if len(repeated):
        frame = frame.dissolve(level=0, sort=False, aggfunc="first")
    return frame, findings


def read_survey(path: Path, sheet: str | int = 0) -> tuple[pd.DataFrame, list[Finding]]:
    """Survey workbook (XLSX) or CSV → canonical survey table and findings.

    The header row is found among the first rows (titles above it and two- or
    three-row headers are fine); CSV files may be in any encoding
    :func:`roofpv.io.encodings.decode` detects (UTF-8, GBK, Big5, Windows-1252).
    """
    read = read_survey_blocks(path, sheet, lambda k, table: table)
    table = pd.concat(read.blocks) if len(read.blocks) > 1 else read.blocks[0]
    first, findings = read.used(table.index)
    return settle_dtypes(table.iloc[np.flatnonzero(first)]), findings


@dataclasses.dataclass(frozen=True)
class SurveyBlocks:
    """A survey file read in blocks of rows (:func:`read_survey_blocks`)."""

    header: SurveyHeader
    #: Each block's normalised rows as kept by the caller, and what their findings need.
    blocks: list
    parts: list[SurveyPart]
    #: The findings on the file and on its ragged rows; :meth:`used` gives them all.
    findings: list[Finding]

    def used(self, ids: pd.Index) -> tuple[np.ndarray, list[Finding]]:
        """Which rows are used, given every block's ids in order (the first row of each
        id), and all the survey's findings in the one-piece order."""
        first = first_of_each_id(ids)
        rows = np.concatenate([p.rows for p in self.parts])
        return first, self.findings + survey_findings(self.header, self.parts, rows[~first], ids[~first].to_numpy())


def read_survey_blocks(path: Path, sheet: str | int, keep: Callable[[int, pd.DataFrame], object]) -> SurveyBlocks:
    """A survey file read :data:`CSV_BLOCK_ROWS` rows at a time (CSV; a workbook in one
    block), each block normalised on its own (:func:`roofpv.inputs.survey_table.normalise_rows`)
    and given to ``keep(block number, table)``, which returns what to hold of it (the
    table itself, or where it was written).

    Checks that span blocks are exact: the usual row length that tells ragged rows is
    taken from the first block and checked on the whole file (the file is read again
    in the rare case it differs); repeated ids are the caller's
    (:func:`roofpv.inputs.survey_table.first_of_each_id` on the parts' ids)."""
    if not path.exists():
        raise InputError(f"{path}: survey file not found; check inputs.survey in the config")
    suffix = path.suffix.lower()
    if path.stat().st_size == 0:
        raise InputError(f"{path}: survey file is empty (0 bytes); save or export the survey again")
    if suffix in (".xlsx", ".xlsm"):
        return _workbook_survey(path, sheet, keep)
    if suffix != ".csv":
        raise InputError(f"{path}: survey must be .xlsx or .csv")
    expected = None
    while True:
        read, usual = _csv_survey(path, keep, expected)
        if usual is None:
            return read
        expected = usual


def _survey_header(path: Path, cells: pd.DataFrame, sheet_name: str | None, typed: bool
                   ) -> tuple[SurveyHeader, list[str], int]:
    """The header of a survey whose first cells are ``cells``: its :class:`SurveyHeader`,
    its column names and the position of the first data row."""
    try:
        columns, first = locate_header(cells)
        return survey_header(columns, str(path), sheet_name, first, typed), columns, first
    except SurveyError as exc:
        raise InputError(f"{path}: {exc}") from None


def _workbook_survey(path: Path, sheet: str | int, keep) -> SurveyBlocks:
    """:func:`read_survey_blocks` of a workbook: read whole, one block."""
    try:
        cells = pd.read_excel(path, sheet_name=sheet, header=None, dtype=object, engine="calamine")
    except ValueError as exc:
        if "Worksheet" in str(exc) or "sheet" in str(exc).lower():
            raise InputError(f"{path}: cannot read sheet {sheet!r} ({exc}); set inputs.survey_sheet "
                             "to one of the workbook's sheets") from None
        raise InputError(f"{path}: not a readable XLSX workbook ({exc}); open it in Excel or WPS "
                         "and save it again as .xlsx") from None
    except Exception as exc:  # zipfile, XML and I/O errors of a damaged or truncated file
        raise InputError(f"{path}: not a readable XLSX workbook ({type(exc).__name__}: {exc}); "
                         "the file may be truncated or not XLSX: open it in Excel or WPS and "
                         "save it again as .xlsx") from None
    sheet_name = sheet if isinstance(sheet, str) else None
    cells, evaluated = _unsaved_formulas(path, sheet, cells)
    header, columns, first = _survey_header(path, cells, sheet_name, typed=True)
    raw = cells.iloc[first:].set_axis(columns, axis=1)
    id_col = next((c for c in columns if _canonical(c) == "building_id"), columns[0])
    findings = [
        Finding("info" if value is not None else "warning", str(path), i + 1, _text(cells.iat[i, columns.index(id_col)]),
                columns[j], formula,
                f"formula {formula} has no saved value (the workbook was written by a program, not "
                + (f"saved in Excel or WPS); evaluated as {value:g}" if value is not None else
                   "saved in Excel or WPS) and is not plain arithmetic (numbers with + - * /); read as blank"),
                "open the workbook in Excel or WPS and save it, so that formulas keep their values"
                + ("" if value is not None else ", or type the value"), sheet_name)
        for i, j, formula, value in evaluated if i >= first
    ]
    table, part = normalise_rows(raw, header, np.arange(first + 1, first + 1 + len(raw)))
    return SurveyBlocks(header=header, blocks=[keep(0, table)], parts=[part], findings=findings)


def _csv_survey(path: Path, keep, expected: int | None) -> tuple[SurveyBlocks, int | None]:
    """:func:`read_survey_blocks` of a CSV file, block by block, with rows longer than
    ``expected`` cells taken as ragged (None: the usual length of the first block's
    rows); and the usual length on the whole file (None where it matches)."""
    decoded, blocks = csv_blocks(path, "survey")
    findings = []
    if decoded.encoding not in ("utf-8", "utf-8-sig"):
        findings.append(Finding(
            "info" if decoded.how == "cjk" else "warning", str(path), None, None, None,
            decoded.label, f"file is encoded in {decoded.label}, not UTF-8",
            "nothing to do; save as UTF-8 CSV to share it with other tools" if decoded.how == "cjk"
            else "check the names read; save the file as UTF-8 CSV",
        ))
    kept, parts, counts = [], [], np.zeros(1, np.int64)
    header = columns = None
    for k, (cells, widths) in enumerate(blocks):
        if header is None:
            header, columns, first = _survey_header(path, cells, None, typed=False)
            header_width = int(widths[:first].max(initial=0))
            cells, widths = cells.iloc[first:], widths[first:]
            if expected is None:
                expected = max(header_width, int(np.bincount(widths).argmax())) if len(widths) else header_width
        names = columns + [f"column {j + 1}" for j in range(len(columns), cells.shape[1])]
        if cells.shape[1] < len(names):  # a block of rows shorter than the header
            blank = pd.DataFrame(np.full((len(cells), len(names) - cells.shape[1]), None, object),
                                 index=cells.index, columns=range(cells.shape[1], len(names)))
            cells = pd.concat([cells, blank], axis=1)
        here = np.bincount(widths)
        counts = np.pad(counts, (0, max(0, here.size - counts.size)))
        counts[:here.size] += here
        raw, found = _ragged_rows(cells.set_axis(names, axis=1), names, widths, expected, str(path))
        findings += found
        table, part = normalise_rows(raw, header, raw.index.to_numpy() + 1)
        kept.append(keep(k, table))
        parts.append(part)
    usual = max(header_width, int(counts.argmax())) if counts.sum() else header_width
    read = SurveyBlocks(header=header, blocks=kept, parts=parts, findings=findings)
    return read, (None if usual == expected else usual)
#: The end of a worksheet cell holding a formula without a saved value (as scripts
#: write them): ``</f>`` followed by an empty ``<v/>`` or by the cell's end, with or
#: without a namespace prefix.
_UNSAVED = re.compile(rb"</(?:\w+:)?f>\s*(?:<(?:\w+:)?v\s*/>|<(?:\w+:)?v>\s*</(?:\w+:)?v>|</(?:\w+:)?c>)"
                      rb"|<(?:\w+:)?f\b[^>]*/>\s*(?:<(?:\w+:)?v\s*/>|</(?:\w+:)?c>)")


def _unsaved_formulas(path: Path, sheet: str | int, cells: pd.DataFrame
                      ) -> tuple[pd.DataFrame, list[tuple[int, int, str, float | None]]]:
    """``cells`` (as read from A1) with the blank cells whose formula has no saved value
    filled with its value when it is plain arithmetic
    (:func:`roofpv.inputs.formulas.plain_arithmetic`), and each such cell: row and
    column position, formula, value (None when not evaluated). Only a workbook whose
    sheets hold such formulas is read a second time, for its formulas."""
    with zipfile.ZipFile(path) as book:
        sheets = [n for n in book.namelist() if n.startswith("xl/worksheets/") and n.endswith(".xml")]
        if not any(_UNSAVED.search(book.read(n)) for n in sheets):
            return cells, []
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True, data_only=False)
    try:
        ws = book[sheet] if isinstance(sheet, str) else book.worksheets[sheet]
        found = [(i, j, v) for i, row in enumerate(ws.iter_rows(values_only=True)) if i < len(cells)
                 for j, v in enumerate(row[:cells.shape[1]])
                 if isinstance(v, str) and v.startswith("=") and _text(cells.iat[i, j]) is None]
    finally:
        book.close()
    cells = cells.copy()
    out = []
    for i, j, formula in found:
        value = plain_arithmetic(formula)
        if value is not None:
            cells.iat[i, j] = value
        out.append((i, j, formula, value))
    return cells, out


def read_csv_cells(path: Path, what: str = "CSV") -> tuple[pd.DataFrame, encodings.Decoded, np.ndarray]:
    """All cells of a CSV file as text (blank as None), how it was decoded
    (:func:`roofpv.io.encodings.decode`, without the text) and the number of cells of each
    row as written. Rows of unequal length (a comma inside a cell without quotes) are
    kept, padded with blanks; their lengths tell them apart. (:func:`csv_blocks`, joined.)"""
    decoded, blocks = csv_blocks(path, what)
    pieces = list(blocks)
    width = max(c.shape[1] for c, _ in pieces)
    columns = {j: np.concatenate([c[j].to_numpy() if j < c.shape[1] else np.full(len(c), None, object)
                                  for c, _ in pieces]) for j in range(width)}
    widths = np.concatenate([w for _, w in pieces])
    cells = pd.DataFrame(columns, index=pd.RangeIndex(len(widths)), columns=pd.RangeIndex(width), dtype=object)
    return cells, decoded, widths


#: Rows of a CSV file parsed at a time (:func:`csv_blocks`).
CSV_BLOCK_ROWS = 50_000


def csv_blocks(path: Path, what: str = "CSV") -> tuple[encodings.Decoded, Iterator[tuple[pd.DataFrame, np.ndarray]]]:
    """How a CSV file is decoded (:func:`roofpv.io.encodings.detect`) and its rows,
    :data:`CSV_BLOCK_ROWS` at a time: each block's cells as text (blank as None; columns
    0, 1 … as many as its longest row has; indexed by the row's position in the file)
    and the number of cells of each row as written.

    Memory: the file is decoded as it is parsed, never held as text; each distinct text
    of a block's column is held once (:func:`_block_cells`)."""
    try:
        decoded = encodings.detect(path)
    except encodings.EncodingError:
        raise InputError(f"{path}: not readable as UTF-8, GBK, Big5 or Windows-1252 text; "
                         "save it as UTF-8 CSV") from None
    with open(path, encoding=decoded.encoding, newline="") as f:
        while (text := f.read(1 << 16)) and not text.strip():
            pass
    if not text:
        raise InputError(f"{path}: {what} file has no text; export the sheet again as CSV")
    return decoded, _csv_rows(path, decoded.encoding)


def _csv_rows(path: Path, encoding: str) -> Iterator[tuple[pd.DataFrame, np.ndarray]]:
    """The blocks of :func:`csv_blocks`."""
    start = 0
    with open(path, encoding=encoding, newline="") as f:
        reader = csv.reader(f)
        try:
            while block := list(itertools.islice(reader, CSV_BLOCK_ROWS)):
                yield _block_cells(block, start)
                start += len(block)
        except csv.Error as exc:
            raise InputError(f"{path}: not readable as CSV ({exc}); open it in Excel or WPS and save "
                             "it again as CSV UTF-8") from None


def _block_cells(block: list[list[str]], start: int) -> tuple[pd.DataFrame, np.ndarray]:
    """The rows of ``block`` (the first at position ``start`` of the file) as columns,
    blank as None, short rows padded with blanks, and their lengths. Each text is interned
    (:func:`sys.intern`): a text met again, as a survey's categories, years and loads
    are on every row, is held once."""
    lengths = np.fromiter(map(len, block), np.intp, len(block))
    width = int(lengths.max())
    if lengths.min() < width:  # pad the short rows with blanks
        block = [row + [""] * (width - n) if n < width else row for row, n in zip(block, lengths)]
    columns = {}
    for j, column in enumerate(zip(*block)):
        values = np.array(list(map(sys.intern, column)), dtype=object)
        values[values == ""] = None
        columns[j] = values
    return pd.DataFrame(columns, index=pd.RangeIndex(start, start + len(block)), columns=pd.RangeIndex(width),
                        dtype=object), lengths


def _ragged_rows(raw: pd.DataFrame, columns: list[str], widths: np.ndarray, expected: int,
                 source: str) -> tuple[pd.DataFrame, list[Finding]]:
    """Leave out the CSV rows ``raw`` with more cells than ``expected`` (the header's and
    the usual row's; an unquoted comma shifted their cells), whatever the extra cells
    hold, each reported with the column where the comma most likely is
    (:func:`likely_comma`). A row whose extra cells are blank and whose cells all read
    right where they are (a stray trailing comma) is kept, with a warning. ``raw`` is
    indexed by the rows' positions in the file; ``widths`` the cells of each row as
    written."""
    data = widths
    ragged = data > expected
    if not ragged.any():
        return raw, []
    canonical = [_canonical(c) for c in columns]
    id_col = next((c for c, k in zip(columns, canonical) if k == "building_id"), columns[0])
    findings = []
    for i in np.flatnonzero(ragged):
        cells = [_text(v) for v in raw.iloc[i, :data[i]]]
        if all(c is None for c in cells[expected:]) and all(map(cell_fits, canonical[:expected], cells)):
            ragged[i] = False
            findings.append(Finding(
                "warning", source, int(raw.index[i]) + 1, _text(raw.iloc[i][id_col]), None, ",".join(c or "" for c in cells),
                f"row has {int(data[i])} cells but the header has {expected}; the extra cells are blank and "
                "the others read right where they are, so the row is read as written",
                "check the row (a comma inside a cell without quotes shifts the cells after it) and "
                "remove the trailing commas"))
            continue
        where = likely_comma(cells, canonical[:expected])
        said = ("likely an unquoted comma in " + " or ".join(
            f"{columns[j]} ({','.join(c or '' for c in cells[j:j + data[i] - expected + 1])!r})"
            for j in where)) if where else "a comma inside a cell without quotes?"
        findings.append(Finding(
            "error", source, int(raw.index[i]) + 1, _text(raw.iloc[i][id_col]), None,
            ",".join(c or "" for c in cells),
            f"row has {int(data[i])} cells but the header has {expected} ({said}); the row is skipped",
            "put the cell in double quotes or remove the comma, then export the CSV again"))
    return raw.loc[~ragged], findings


def likely_comma(cells: list[str | None], canonical: list[str | None]) -> list[int]:
    """Where an unquoted comma most likely split a row of ``len(canonical)`` columns
    into ``cells``: the positions whose cell, joined with the extra cells after it,
    leaves every cell readable in its column (:func:`roofpv.inputs.survey_table.cell_fits`);
    free-text columns first when several do."""
    extra = len(cells) - len(canonical)
    fitting = []
    for j in range(len(canonical)):
        merged = [*cells[:j], ",".join(c or "" for c in cells[j:j + extra + 1]), *cells[j + extra + 1:]]
        if all(cell_fits(k, v) for k, v in zip(canonical, merged)):
            fitting.append(j)
    free = [j for j in fitting if canonical[j] not in TYPED_COLUMNS]
    return free or fitting


#: Survey columns holding ids, codes or numbers: an unquoted comma is rarely in them.
TYPED_COLUMNS = {"building_id", *VOCABULARIES, *NUMERIC_COLUMNS}


def _canonical(header: str) -> str | None:
    return HEADER_LOOKUP.get(header_key(header))


def _text(value) -> str | None:
    return None if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)


#: Columns of the transformers table.
TRANSFORMER_COLUMNS = ("id", "kva", "existing_pv_kw", "min_load_kw")
#: Optional columns of the transformers table (DL/T 2041's other inputs and the location):
#: PV filed but not yet connected, kW; storage charging power, kW; WGS 84 position, degrees.
TRANSFORMER_OPTIONAL = ("planned_pv_kw", "storage_kw", "longitude", "latitude")
#: Units each transformer number may carry (after :func:`roofpv.inputs.survey_table.unit_key`) →
#: factor to the column's unit (kVA, kW).
#: Units of a rating (→ kVA) and of a PV power (→ kW) in the grid tables.
RATING_UNITS = {"": 1.0, "kva": 1.0, "千伏安": 1.0, "mva": 1000.0, "兆伏安": 1000.0}
PV_UNITS = {"": 1.0, "kw": 1.0, "kwp": 1.0, "mw": 1000.0, "mwp": 1000.0}
TRANSFORMER_UNITS = {
    "kva": RATING_UNITS,
    "existing_pv_kw": PV_UNITS,
    "min_load_kw": {"": 1.0, "kw": 1.0, "mw": 1000.0},
    "planned_pv_kw": PV_UNITS,
    "storage_kw": {"": 1.0, "kw": 1.0, "mw": 1000.0},
    "longitude": {"": 1.0, "°": 1.0},
    "latitude": {"": 1.0, "°": 1.0},
}
#: What an unreadable value of each column is taken as, and why (never "unlimited").
TRANSFORMER_FALLBACK = {
    "kva": (0.0, "taken as 0 kVA: no PV is admitted on this transformer until its rating is given"),
    "existing_pv_kw": (0.0, "taken as 0 kW of PV already connected"),
    "min_load_kw": (0.0, "taken as 0 kW minimum load (no load credited)"),
    "planned_pv_kw": (0.0, "taken as 0 kW of PV filed but not connected"),
    "storage_kw": (0.0, "taken as 0 kW of storage"),
    "longitude": (np.nan, "the transformer is placed at the centre of the buildings it serves"),
    "latitude": (np.nan, "the transformer is placed at the centre of the buildings it serves"),
}
_QUANTITY = re.compile(r"^(?P<num>[+-]?(\d+(\.\d*)?|\.\d+))(?P<unit>.*)$")


def read_grid_table(path: Path, what: str, key: str, layer: str | None = None) -> tuple[pd.DataFrame, int]:
    """A grid table (``what``: transformers, topology; ``key``: its config key) as text
    cells with its header, from a CSV, an XLSX (sheet ``layer`` or the first) or any
    vector layer GDAL reads, and the file's row number of its first data row."""
    if not path.exists():
        raise InputError(f"{path}: {what} file not found; check `{key}` in the config")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: {what} file is empty (0 bytes); export the table again")
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            frame = read_csv_cells(path, what)[0]
            return frame.iloc[1:].set_axis([str(c).strip() for c in frame.iloc[0]], axis=1), 2
        if suffix in (".xlsx", ".xls"):
            return pd.read_excel(path, sheet_name=layer or 0, dtype=object, engine="calamine"), 2
        return read_vector(path, layer, read_geometry=False), 1
    except InputError:
        raise
    except Exception as exc:  # damaged file: zip, XML, GDAL or parser errors
        raise InputError(f"{path}: cannot read the {what} table ({type(exc).__name__}: {exc}); "
                         "open it in Excel, WPS or QGIS and save it again") from None


def read_transformers(path: Path, layer: str | None = None) -> tuple[pd.DataFrame, list[Finding]]:
    """Transformers table (CSV, XLSX or any vector layer GDAL reads), indexed by ``id``,
    and its findings.

    Columns: ``kva`` (rating, kVA), ``existing_pv_kw`` (PV already connected, kW) and
    ``min_load_kw`` (minimum load, kW); optional :data:`TRANSFORMER_OPTIONAL` columns are
    kept when present. Numbers may carry a unit (``100kVA``, ``0.5MW``);
    an unreadable or negative value is an error finding and takes the conservative
    value of :data:`TRANSFORMER_FALLBACK`, so no transformer is ever read as unlimited.
    """
    frame, first = read_grid_table(path, "transformers", "grid.transformers", layer)
    missing = set(TRANSFORMER_COLUMNS) - set(frame.columns)
    if missing:
        raise InputError(f"{path}: the transformers table needs columns {sorted(missing)}; "
                         f"found {[str(c) for c in frame.columns]}")
    columns = [*TRANSFORMER_COLUMNS, *(c for c in TRANSFORMER_OPTIONAL if c in frame.columns)]
    frame = frame.loc[:, columns]
    frame.index = np.arange(first, first + len(frame))
    ids, _ = clean_ids(frame["id"])
    findings = [
        Finding("error", str(path), int(row), None, "id", None,
                "transformer has no id; the row is left out", "fill in the transformer id")
        for row in ids.index[ids.isna()]
    ]
    frame, ids = frame.loc[ids.notna()], ids[ids.notna()]
    repeated = sorted(set(ids[ids.duplicated()]))
    if repeated:
        raise InputError(f"{path}: transformer ids repeat: {repeated}; give each transformer its own id")
    out = pd.DataFrame(index=pd.Index(ids.to_numpy(dtype=object), name="id"))
    for column in columns[1:]:
        units = TRANSFORMER_UNITS[column]
        fallback, meaning = TRANSFORMER_FALLBACK[column]
        values = []
        for row, bid, value in zip(frame.index, ids, frame[column]):
            if column != "kva" and _text(value) is None:
                values.append(np.nan)  # blank: none connected / no load credited
                continue
            number = quantity(value, units)
            if number is None:
                findings.append(Finding(
                    "error", str(path), int(row), bid, column, None if _text(value) is None else str(value),
                    f"not a number in a known unit; {meaning}",
                    f"write a plain number in {'kVA' if column == 'kva' else 'kW'}"))
                number = fallback
            values.append(number)
        out[column] = np.asarray(values, dtype=float)
    return out, findings


def quantity(value, units: dict[str, float]) -> float | None:
    """A non-negative number with an optional unit of ``units``, in the column's unit;
    None when blank, unreadable or negative."""
    if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
        number = float(value)
        return number if np.isfinite(number) and number >= 0 else None
    if _text(value) is None:
        return None
    match = _QUANTITY.match(unit_key(str(value)).replace(",", ""))
    if match is None or match["unit"] not in units:
        return None
    number = float(match["num"]) * units[match["unit"]]
    return number if number >= 0 else None


def layer_text(path: Path, layer: str | None = None, limit: int = 1000) -> list[str]:
    """The words of a vector layer that may say where it came from: file and layer
    name, field names, metadata and up to ``limit`` distinct values of each text field."""
    if path.suffix.lower() == ".dxf":
        frame = read_vector(path, layer, read_geometry=False)
        text_fields = [c for c in frame.columns if pd.api.types.is_string_dtype(frame[c])]
        texts = [path.name, str(layer), *map(str, frame.columns)]
    else:
        detected = dbf_encoding(path, layer)
        info = pyogrio.read_info(path, layer=layer, encoding=detected.encoding if detected else None)
        texts = [path.name, str(info["layer_name"]), *map(str, info["fields"]),
                 str(info["layer_metadata"]), str(info["dataset_metadata"])]
        text_fields = [f for f, t in zip(info["fields"], info["dtypes"]) if t == "object"]
        if text_fields:
            frame = read_vector(path, layer, columns=text_fields, read_geometry=False, use_arrow=True)
    for column in text_fields:
        texts += frame[column].dropna().astype(str).unique()[:limit].tolist()
    return texts
