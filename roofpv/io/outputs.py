"""The outputs of ``roofpv survey`` and ``roofpv plan``: written into their folder as
one set, and read back from it.

A command writes its files into a staging folder inside ``--out``
(:func:`output_set`) and the set is swapped in at the end: the new files are moved
into place and the files the earlier run wrote that this one did not are removed. The
swap is recorded first in a journal; a run killed during the swap is completed by the
next command that opens the folder, so the folder always ends up all old or all new.
``roofpv-manifest.json`` lists the files of the set. A lock (``.roofpv.lock``) keeps a
second command from writing into the same folder at the same time.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj

from roofpv.appraise.suitability import STATUSES
from roofpv.errors import InputError, OutputExistsError, OutputLockedError
from roofpv.findings import findings_frame, in_language
from roofpv.io import writers
from roofpv.io.survey_spill import FOLDER_PREFIX
from roofpv.qgis.project import project_xml
from roofpv.qgis.styles import aliases, layer_styles
from roofpv.results import Results
from roofpv.schema import CITY, MONTHLY_FIELDS, PLAN_OUTPUTS, SURVEY_OUTPUTS
from roofpv.targets.planning import by_building


def read_outputs(out_dir: Path) -> dict:
    """``buildings`` (GeoDataFrame by building id), ``townships`` (by township, with the
    whole-city row), ``polygons`` (township boundaries by name, or None), ``plan``
    (layer ``rollout_plan`` by building id, or None when the run made no plan),
    ``monthly_yield`` (table ``monthly_yield`` by building id, or None), ``surfaces``
    (layer ``surfaces`` without geometry, or None), ``transformers`` (layer
    ``transformers`` without geometry, or None) and, from a province run, ``counties``
    (``counties.csv`` by county, with the province row, else None)."""
    gpkg = out_dir / "roofpv.gpkg"
    csv = out_dir / "townships.csv"
    for path in (gpkg, csv):
        if not path.exists():
            raise InputError(f"{path} not found; run `roofpv survey` (or `plan`) with --out {out_dir} first")
    layers = set(pyogrio.list_layers(gpkg)[:, 0])
    buildings = pyogrio.read_dataframe(gpkg, layer="buildings").set_index("building_id")
    townships = pd.read_csv(csv, encoding="utf-8-sig", dtype=TEXT_KEYS).set_index("township")
    polygons = (
        pyogrio.read_dataframe(gpkg, layer="townships", columns=["township"]).set_index("township")
        if "townships" in layers else None
    )
    plan = (
        pd.DataFrame(pyogrio.read_dataframe(gpkg, layer="rollout_plan", read_geometry=False)).set_index("building_id")
        if "rollout_plan" in layers else None
    )
    monthly = (
        pd.DataFrame(pyogrio.read_dataframe(gpkg, layer="monthly_yield", read_geometry=False)).set_index("building_id")
        if "monthly_yield" in layers else None
    )
    surfaces = (pd.DataFrame(pyogrio.read_dataframe(gpkg, layer="surfaces", read_geometry=False))
                if "surfaces" in layers else None)
    transformers = (pd.DataFrame(pyogrio.read_dataframe(gpkg, layer="transformers", read_geometry=False))
                    if "transformers" in layers else None)
    counties = out_dir / "counties.csv"
    counties = (pd.read_csv(counties, encoding="utf-8-sig", dtype=TEXT_KEYS).set_index("county")
                if counties.exists() else None)
    return {"buildings": gpd.GeoDataFrame(buildings, geometry="geometry"), "townships": townships,
            "polygons": polygons, "plan": plan, "monthly_yield": monthly, "surfaces": surfaces,
            "counties": counties, "transformers": transformers}


def read_buildings(out_dir: Path) -> tuple[gpd.GeoDataFrame, pd.DataFrame | None]:
    """Layers ``buildings`` and ``monthly_yield`` (or None) of an output folder, from
    ``roofpv.gpkg`` or, written with ``--format parquet``, from their GeoParquet files;
    by building id."""
    if (out_dir / "buildings.parquet").exists() and not (out_dir / "roofpv.gpkg").exists():
        monthly = out_dir / "monthly_yield.parquet"
        return (gpd.read_parquet(out_dir / "buildings.parquet").set_index("building_id"),
                pd.read_parquet(monthly).set_index("building_id") if monthly.exists() else None)
    found = read_outputs(out_dir)
    return found["buildings"], found["monthly_yield"]


#: Decimals of the township table's quantities, by suffix; ratios and shares are written
#: in full, so that `roofpv report` re-reads the coverage the run computed.
CSV_DECIMALS = {"_kwp": 1, "_kw": 1, "_mwh": 1, "_mwh_p90": 1, "_m2": 0, "_myuan": 3, "_myuan_yr": 3, "_t_yr": 1,
                "_yuan_kwh": 4, "_years": 1}


#: Columns of ``townships.csv`` and ``counties.csv`` read back as text (codes may look numeric).
TEXT_KEYS = {"township": str, "county": str}


def as_read_back(table: pd.DataFrame, polygons: pd.DataFrame | None, key: str = "township") -> pd.DataFrame:
    """A township (or county) table exactly as :func:`read_outputs` reads it back from the
    CSV :func:`townships_csv` writes (its order, rounding and dtypes), so that a report of a
    run held in memory shows the figures of one rebuilt from the output folder."""
    text = townships_csv(table, polygons, key).to_csv(index=False)
    return pd.read_csv(io.StringIO(text), dtype=TEXT_KEYS).set_index(key)


def townships_csv(townships: pd.DataFrame, polygons: pd.DataFrame | None, key: str = "township") -> pd.DataFrame:
    """The township table as ``townships.csv`` writes it: in the order of the township
    file (its codes), the whole-city row last; counts as integers, kWp, kW, MWh to 0.1,
    m² to 1, money to 1,000 yuan; ratios in full. ``key``: the index's column name (the
    county table: ``county``, in its own order)."""
    names = [n for n in townships.index if n != CITY]
    first = [n for n in polygons.index if n in names] if polygons is not None else []
    order = first + [n for n in names if n not in first] + [n for n in townships.index if n == CITY]
    table = townships.loc[order].copy()
    for column in table.columns:
        values = table[column]
        if values.dtype == object:  # numbers held as objects (e.g. after joining the city row)
            kinds = set(values.dropna().map(type))
            if not kinds or not all(issubclass(k, (int, float)) and not issubclass(k, bool) for k in kinds):
                continue
            values = values.astype(float)
        if values.dtype == bool or not pd.api.types.is_numeric_dtype(values):
            continue
        whole = values.dropna()
        if len(whole) and (whole == whole.round()).all() and not column.endswith(tuple(CSV_DECIMALS)):
            table[column] = values.round().astype("Int64")
            continue
        digits = next((d for suffix, d in CSV_DECIMALS.items() if column.endswith(suffix)), None)
        table[column] = values.round(digits) if digits is not None else values
    return table.rename_axis(key).reset_index()


def write_outputs(results: Results, out_dir: Path, plan: bool = False, geo_format: str = "gpkg",
                  progress: Callable[[str, int, int], None] = lambda what, done, total: None,
                  title: str | None = None, lang: str = "en") -> dict[str, Path]:
    """Write ``roofpv.gpkg`` (buildings, roof planes, PV arrays, townships, run_info, with
    QGIS styles), the QGIS project ``roofpv.qgz``, ``townships.csv`` and ``findings.csv``;
    with ``plan`` also layer ``rollout_plan`` and the :data:`PLAN_OUTPUTS` tables.
    ``geo_format="parquet"`` writes each layer as ``<layer>.parquet`` (GeoParquet) instead
    of the GeoPackage and the project. ``progress(what, done, total)`` is called as each
    layer or file starts, ``done`` of ``total`` written. ``title`` names the QGIS project
    (default: the folder's name); ``lang`` is the language of the problems and fixes in
    ``findings.csv``."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise writers.output_error(out_dir, exc) from None
    gpkg = out_dir / "roofpv.gpkg"
    streamed = _Streamed(results, plan) if results.partitions is not None else None
    layers = {"buildings": streamed.buildings() if streamed else results.buildings.reset_index()}
    if results.roof_planes is not None:
        layers["roof_planes"] = results.roof_planes
    if results.pv_arrays is not None:
        layers["pv_arrays"] = results.pv_arrays
    if results.facades is not None:
        layers["facades"] = results.facades
    if streamed:
        layers.update(streamed.layers())
    if results.unmatched_roofs is not None:  # after the planes and arrays, streamed or not
        layers["unmatched_roofs"] = results.unmatched_roofs
    if results.surfaces is not None:
        layers["surfaces"] = results.surfaces
    if results.transformers is not None:
        layers["transformers"] = results.transformers
    if results.transformer_areas is not None:
        layers["transformer_areas"] = results.transformer_areas
    if results.feeders is not None:
        layers["feeders"] = results.feeders
    if plan:
        layers["rollout_plan"] = streamed.plan() if streamed else by_building(results.plan).reset_index()
    if results.run_info is not None:
        layers["run_info"] = results.run_info
    if results.monthly_yield is not None:
        layers["monthly_yield"] = results.monthly_yield.reset_index()
    elif streamed and streamed.monthly:
        layers["monthly_yield"] = streamed.monthly_yield()
    if results.township_polygons is not None:
        poly = results.township_polygons[["geometry"]].join(results.townships, how="left")
        poly = poly.fillna({c: 0 for c in ("buildings", *STATUSES)})
        layers["townships"] = poly.rename_axis("township").reset_index()
    if results.counties is not None and results.township_polygons is not None:  # a province run
        outline = results.township_polygons[["county", "geometry"]].dissolve("county", sort=False)
        poly = outline.join(results.counties, how="left").fillna({c: 0 for c in ("buildings", *STATUSES)})
        layers["counties"] = poly.rename_axis("county").reset_index()
    total = len(layers) + 2 + (len(PLAN_OUTPUTS) if plan else 0) + (geo_format != "parquet")
    step = iter(range(total))

    def started(what: str) -> None:
        progress(what, next(step), total)

    def rows(name: str) -> str:
        layer = layers[name]
        count = streamed.rows.get(name) if isinstance(layer, writers.Chunked) else len(layer)
        return "" if count is None else f" ({count:,} rows)"

    if geo_format == "parquet":
        paths = {f"{name}.parquet": out_dir / f"{name}.parquet" for name in layers}
        for name, frame in layers.items():
            started(f"{name}.parquet{rows(name)}")
            writers.write_geoparquet(out_dir / f"{name}.parquet", frame)
    else:
        labels = results.target_labels
        # styles and aliases read a layer's columns (and the buildings' yields) only
        shapes = {n: streamed.shape(n) if isinstance(f, writers.Chunked) else f for n, f in layers.items()}
        styles = layer_styles(shapes, labels)
        writers.write_geopackage(gpkg, layers, styles,
                                 {n: aliases(f.columns, labels) for n, f in shapes.items()},
                                 lambda name: started(f"layer {name}{rows(name)}"))
        started("roofpv.qgz")
        qgz = out_dir / "roofpv.qgz"
        extent = (layers["townships"].total_bounds if "townships" in layers else
                  pyogrio.read_info(gpkg, layer="buildings")["total_bounds"] if streamed
                  else layers["buildings"].total_bounds)
        writers.write_qgis_project(qgz, project_xml(
            f"roofpv {title or out_dir.resolve().name}", gpkg.name,
            [n for n, f in layers.items() if isinstance(f, gpd.GeoDataFrame)
             or (isinstance(f, writers.Chunked) and n != "monthly_yield")],
            results.crs,
            pyproj.CRS(results.crs).to_wkt(), tuple(extent),
            {s.layer: s.qml for s in styles if s.default},
        ))
        paths = {"geopackage": gpkg, "qgis project": qgz}
    started("townships.csv")
    csv = out_dir / "townships.csv"
    writers.write_table(csv, townships_csv(results.townships, results.township_polygons))
    started("findings.csv")
    findings = out_dir / "findings.csv"
    writers.write_table(findings, in_language(findings_frame(results.findings), lang))
    paths.update({"townships": csv, "findings": findings})
    if results.counties is not None:
        paths["counties"] = out_dir / "counties.csv"
        writers.write_table(paths["counties"], townships_csv(results.counties, None, "county"))
    monitored = {"register_matches.csv": results.register, "performance.csv": results.performance,
                 "calibration.csv": results.calibration}
    for name, frame in monitored.items():
        if frame is not None:
            paths[name.removesuffix(".csv")] = out_dir / name
            writers.write_table(out_dir / name, frame)
    if plan:
        tables = (
            results.plan.drop(columns="geometry", errors="ignore"), results.plan_status, results.trajectory,
            results.parameters.set_index("parameter"),
        )
        for name, frame in zip(PLAN_OUTPUTS, tables):
            started(name)
            paths[name.removesuffix(".csv")] = out_dir / name
            writers.write_table(out_dir / name, frame.reset_index())
    return paths


class _Streamed:
    """The per-building layers of a run whose results hold only the slim buildings
    table (``Results.partitions``): each built chunk by chunk from the partitions on
    disk, joined to the jurisdiction-wide columns, in the rows, values, dtypes and order
    of the one-piece run."""

    def __init__(self, results: Results, plan: bool):
        self.results, self.source = results, results.partitions
        self.columns = self.source.columns()
        self.monthly = [c for c in MONTHLY_FIELDS if c in self.columns]
        self.plan_ids = set(results.plan.index) if plan else set()
        self.plan_geometry: list[pd.Series] = []
        self.rows = {"buildings": len(results.buildings)}
        self._shapes: dict[str, pd.DataFrame] = {}

    def _chunked(self, chunks, layer: str) -> writers.Chunked:
        kind, promote = writers.layer_geometry(*self.source.geometry_types(layer))
        return writers.Chunked(chunks, kind, promote, wkb_crs=self.results.crs, geo=self.source.geo(layer))

    def buildings(self) -> writers.Chunked:
        slim = self.results.buildings
        final = [c for c in self.columns if c not in self.monthly]
        final += [c for c in slim.columns if c not in final]
        # the yields for the styles' class breaks; the other columns' names only, each
        # the same blank array (a frame of ~90 blank columns would hold 0.7 GB at 1M)
        blank = np.full(len(slim), np.nan)
        yields = slim["specific_yield_kwh_kwp"].to_numpy()
        self._shapes["buildings"] = pd.DataFrame(
            {c: yields if c == "specific_yield_kwh_kwp" else blank for c in [slim.index.name or "index", *final]}, copy=False)

        def chunks():
            for at, chunk in self.source.chunks("buildings", positions=True):
                chunk = chunk.drop(columns=self.monthly)
                rows = slim.iloc[at]  # slim: by building id in the partitions' order (Partitions.ids)
                for column in slim.columns:  # set: existing columns keep their place
                    chunk[column] = rows[column]
                if self.plan_ids:
                    self.plan_geometry.append(chunk["geometry"][chunk.index.isin(self.plan_ids)])
                yield chunk.reset_index()

        return self._chunked(chunks(), "buildings")

    def layers(self) -> dict[str, writers.Chunked]:
        """``roof_planes`` (where any roof has planes), ``pv_arrays`` (where drawn) and
        ``facades`` (where modelled)."""
        out = {}
        for layer, name in (("planes", "roof_planes"), ("arrays", "pv_arrays"), ("facades", "facades")):
            if layer not in self.source.layers or (layer == "planes" and not self.source.present(layer)):
                continue
            if not any(self.source.path(k, layer).exists() for k in self.source.parts):
                continue
            self._shapes[name] = pd.DataFrame(columns=self.source.columns(layer))
            out[name] = self._chunked(self._layer_chunks(layer), layer)
        return out

    def _layer_chunks(self, layer: str):
        if not self.source.present(layer):  # no roof holds modules: the empty layer
            k = next(k for k in self.source.parts if self.source.path(k, layer).exists())
            yield pd.read_parquet(self.source.path(k, layer))
            return
        yield from self.source.chunks(layer)

    def plan(self) -> writers.Chunked:
        """Layer ``rollout_plan``, its roofs' outlines gathered as the buildings are
        written (so it must be written after them)."""
        layer = by_building(self.results.plan)
        self._shapes["rollout_plan"] = layer.reset_index()

        def chunks():
            wkb = pd.concat(self.plan_geometry) if self.plan_geometry else pd.Series(dtype=object)
            geometry = gpd.GeoSeries.from_wkb(wkb.reindex(layer.index).to_numpy(), crs=self.results.crs)
            yield gpd.GeoDataFrame(layer, geometry=geometry.to_numpy(), crs=self.results.crs).reset_index()

        return writers.Chunked(chunks())

    def monthly_yield(self) -> writers.Chunked:
        self._shapes["monthly_yield"] = pd.DataFrame(columns=["building_id", *self.monthly])

        def chunks():
            for chunk in self.source.chunks("buildings", columns=self.monthly):
                yield chunk[self.monthly].dropna(how="all").rename_axis("building_id").reset_index()

        return writers.Chunked(chunks())

    def shape(self, name: str) -> pd.DataFrame:
        return self._shapes[name]


#: The set's list of files, in the output folder.
MANIFEST = "roofpv-manifest.json"
#: Lock file of a command writing into the folder (holds its process id).
LOCK = ".roofpv.lock"
#: The journal of a swap in progress: written when the new set is complete.
JOURNAL = ".roofpv-swap.json"
#: Prefixes of a command's staging folder and of the folder the replaced files go to.
STAGE_PREFIX, TRASH_PREFIX = ".roofpv-stage-", ".roofpv-old-"
#: Layers written as GeoParquet files with ``--format parquet``.
PARQUET_LAYERS = ("buildings", "roof_planes", "pv_arrays", "facades", "surfaces", "unmatched_roofs", "transformers",
                  "transformer_areas", "feeders",
                  "rollout_plan", "run_info", "townships", "counties")
#: What roofpv versions without a manifest wrote into an output folder: the earlier set
#: when there is no manifest.
KNOWN_OUTPUTS = (*SURVEY_OUTPUTS, *PLAN_OUTPUTS, *(f"{n}.parquet" for n in PARQUET_LAYERS),
                 "report", "report_en")


@contextmanager
def output_set(out_dir: Path, overwrite: bool, names=(), merge: bool = False) -> Iterator[Path]:
    """Lock ``out_dir`` and yield an empty staging folder inside it; write every output
    of the command there. On success the staged files replace the folder's set as one
    (:func:`swap`); on an error nothing in ``out_dir`` changes.

    Parameters
    ----------
    out_dir : the output folder (created if missing).
    overwrite : replace an earlier run's files; without it, any of ``names`` already in
        ``out_dir`` is refused with :class:`OutputExistsError` before anything runs.
    names : the files and folders the command may write.
    merge : keep the earlier set's other files (``report``, ``validate``); without it
        the earlier set's files that this run does not write are removed.
    """
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise writers.output_error(out_dir, exc) from None
    with lock(out_dir):
        recover(out_dir)
        clash = [out_dir / n for n in names if (out_dir / n).exists()]
        if clash and not overwrite:
            raise OutputExistsError(
                f"{', '.join(map(str, clash))} already exist; pass --overwrite to replace them "
                "or --out to write elsewhere"
            )
        try:
            stage = Path(tempfile.mkdtemp(prefix=STAGE_PREFIX, dir=out_dir))
        except OSError as exc:
            raise writers.output_error(out_dir, exc) from None
        stage.chmod(0o755)  # mkdtemp makes it private
        try:
            yield stage
            swap(out_dir, stage, merge)
        except OSError as exc:
            raise writers.output_error(Path(exc.filename or out_dir), exc) from None
        finally:
            if not (out_dir / JOURNAL).exists():  # else a recorded swap still needs the stage
                shutil.rmtree(stage, ignore_errors=True)


def earlier_set(out_dir: Path) -> list[str]:
    """The files of the folder's current set: its manifest's, or the known roofpv outputs
    present when an older roofpv wrote it."""
    try:
        return list(json.loads((out_dir / MANIFEST).read_text(encoding="utf-8"))["files"])
    except (OSError, ValueError, KeyError, TypeError):
        return [n for n in KNOWN_OUTPUTS if (out_dir / n).exists()]


def swap(out_dir: Path, stage: Path, merge: bool = False) -> None:
    """Make the complete set in ``stage`` the folder's set: record the swap in the
    journal (the commit point), then move the files and remove the replaced ones."""
    new = sorted(p.name for p in stage.iterdir())
    earlier = earlier_set(out_dir)
    files = sorted(set(new) | set(earlier)) if merge else new
    manifest = {"files": files, "written": new,
                "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    (stage / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    journal = {"stage": stage.name, "install": [*new, MANIFEST],
               "remove": [] if merge else [n for n in earlier if n not in new]}
    tmp = out_dir / f"{JOURNAL}{writers.TMP_MARK}"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(journal, f, ensure_ascii=False)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, out_dir / JOURNAL)
    _apply(out_dir, journal)


def _apply(out_dir: Path, journal: dict) -> None:
    """Carry out a recorded swap; safe to repeat after an interruption."""
    stage = out_dir / journal["stage"]
    trash = out_dir / (TRASH_PREFIX + journal["stage"].removeprefix(STAGE_PREFIX))
    trash.mkdir(exist_ok=True)
    for name in journal["remove"]:
        if os.path.lexists(out_dir / name):
            os.replace(out_dir / name, trash / name)
    for name in journal["install"]:
        src, dst = stage / name, out_dir / name
        if not os.path.lexists(src):
            continue  # moved before the interruption
        if dst.is_dir() or (src.is_dir() and os.path.lexists(dst)):
            os.replace(dst, trash / name)
        os.replace(src, dst)
    os.unlink(out_dir / JOURNAL)
    shutil.rmtree(trash, ignore_errors=True)
    shutil.rmtree(stage, ignore_errors=True)


def recover(out_dir: Path) -> None:
    """Finish a swap a killed command left half done, and remove what killed commands
    left behind: staging folders, replaced files, temporary files, spilled surveys."""
    journal = out_dir / JOURNAL
    if journal.exists():
        _apply(out_dir, json.loads(journal.read_text(encoding="utf-8")))
    for path in out_dir.iterdir():
        name = path.name
        if name.startswith((STAGE_PREFIX, TRASH_PREFIX, FOLDER_PREFIX)) or writers.TMP_MARK in name or (
            name.startswith(".") and any(name.startswith(f".{k}.") for k in KNOWN_OUTPUTS)
        ):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def lock(out_dir: Path) -> Iterator[None]:
    """Hold ``out_dir``'s lock file for the block; refuse with :class:`OutputLockedError`
    while a live process holds it. A lock left by a process that died is taken over:
    with ``fcntl`` (Linux, macOS) the system releases it, elsewhere the recorded
    process id is checked. The file is removed on release."""
    path = out_dir / LOCK
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise writers.output_error(path, exc) from None
        holder = os.read(fd, 32).decode(errors="replace").strip()
        try:
            import fcntl
        except ImportError:  # no fcntl: trust the recorded process id
            locked = holder.isdigit() and int(holder) != os.getpid() and _alive(int(holder))
        else:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                locked = False
            except BlockingIOError:
                locked = True
        if locked:
            os.close(fd)
            raise OutputLockedError(
                f"{out_dir}: another roofpv command (process {holder or '?'}) is writing into "
                "this folder; wait for it to finish, or write elsewhere with --out"
            )
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # the holder removed the file as we opened it: open the new one
    try:
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, str(os.getpid()).encode())
        yield
    finally:
        path.unlink(missing_ok=True)
        os.close(fd)
def run_date(out_dir: Path):
    """The run date of an output folder (``milestone status as of`` in layer run_info),
    or None for runs that did not record it."""
    import datetime as dt

    gpkg = out_dir / "roofpv.gpkg"
    if "run_info" not in set(pyogrio.list_layers(gpkg)[:, 0]):
        return None
    info = pyogrio.read_dataframe(gpkg, layer="run_info", read_geometry=False)
    value = info.loc[info["item"] == "milestone status as of", "value"]
    return dt.date.fromisoformat(value.iloc[0]) if len(value) else None


def field_aliases(gpkg: Path, layer: str) -> dict[str, str]:
    """Field aliases of a layer (``gpkg_data_columns.name``), column → alias."""
    import sqlite3

    with sqlite3.connect(gpkg) as db:
        try:
            rows = db.execute("SELECT column_name, name FROM gpkg_data_columns WHERE table_name = ?",
                              (layer,)).fetchall()
        except sqlite3.OperationalError:  # no schema extension
            rows = []
    db.close()
    return {c: a for c, a in rows if a}
