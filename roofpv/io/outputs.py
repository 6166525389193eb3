"""The outputs of ``roofpv survey`` and ``roofpv plan``: written into their folder and
read back from it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pyproj

from ..constants import CITY, PLAN_OUTPUTS
from ..findings import findings_frame, in_language
from ..planning import by_building
from ..policy import potential
from ..qgis_project import project_xml
from ..results import Results
from ..styles import aliases, layer_styles
from ..suitability import STATUSES
from . import writers
from .readers import InputError


def read_outputs(out_dir: Path) -> dict:
    """``buildings`` (GeoDataFrame by building id), ``townships`` (by township, with the
    whole-city row), ``polygons`` (township boundaries by name, or None) and ``plan``
    (layer ``rollout_plan`` by building id, or None when the run made no plan)."""
    gpkg = out_dir / "roofpv.gpkg"
    csv = out_dir / "townships.csv"
    for path in (gpkg, csv):
        if not path.exists():
            raise InputError(f"{path} not found; run `roofpv survey` (or `plan`) with --out {out_dir} first")
    layers = set(pyogrio.list_layers(gpkg)[:, 0])
    buildings = pyogrio.read_dataframe(gpkg, layer="buildings").set_index("building_id")
    townships = pd.read_csv(csv, encoding="utf-8-sig", dtype={"township": str}).set_index("township")
    polygons = (
        pyogrio.read_dataframe(gpkg, layer="townships", columns=["township"]).set_index("township")
        if "townships" in layers else None
    )
    plan = (
        pd.DataFrame(pyogrio.read_dataframe(gpkg, layer="rollout_plan", read_geometry=False)).set_index("building_id")
        if "rollout_plan" in layers else None
    )
    return {"buildings": gpd.GeoDataFrame(buildings, geometry="geometry"), "townships": townships,
            "polygons": polygons, "plan": plan}


#: Decimals of the township table's quantities, by suffix; ratios and shares are written
#: in full, so that `roofpv report` re-reads the coverage the run computed.
CSV_DECIMALS = {"_kwp": 1, "_kw": 1, "_mwh": 1, "_m2": 0, "_myuan": 3, "_myuan_yr": 3, "_t_yr": 1,
                "_yuan_kwh": 4, "_years": 1}


def townships_csv(townships: pd.DataFrame, polygons: pd.DataFrame | None) -> pd.DataFrame:
    """The township table as ``townships.csv`` writes it: in the order of the township
    file (its codes), the whole-city row last; counts as integers, kWp, kW, MWh to 0.1,
    m² to 1, money to 1,000 yuan; ratios in full."""
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
    return table.rename_axis("township").reset_index()


def write_outputs(results: Results, out_dir: Path, plan: bool = False, geo_format: str = "gpkg",
                  progress: Callable[[str, int, int], None] = lambda what, done, total: None,
                  lang: str = "en") -> dict[str, Path]:
    """Write ``roofpv.gpkg`` (buildings, roof planes, PV arrays, townships, run_info, with
    QGIS styles), the QGIS project ``roofpv.qgz``, ``townships.csv`` and ``findings.csv``;
    with ``plan`` also layer ``rollout_plan`` and the :data:`PLAN_OUTPUTS` tables.
    ``geo_format="parquet"`` writes each layer as ``<layer>.parquet`` (GeoParquet) instead
    of the GeoPackage and the project. ``progress(what, done, total)`` is called as each
    layer or file starts, ``done`` of ``total`` written. ``lang`` is the language of the
    problems and fixes in ``findings.csv``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    gpkg = out_dir / "roofpv.gpkg"
    extra = potential(results.buildings)
    buildings = results.buildings.drop(columns=extra.columns, errors="ignore").join(extra)
    layers = {"buildings": buildings.reset_index()}
    if results.roof_planes is not None:
        layers["roof_planes"] = results.roof_planes
    if results.pv_arrays is not None:
        layers["pv_arrays"] = results.pv_arrays
    if plan:
        layers["rollout_plan"] = by_building(results.plan).reset_index()
    if results.run_info is not None:
        layers["run_info"] = results.run_info
    if results.township_polygons is not None:
        poly = results.township_polygons[["geometry"]].join(results.townships, how="left")
        poly = poly.fillna({c: 0 for c in ("buildings", *STATUSES)})
        layers["townships"] = poly.rename_axis("township").reset_index()
    total = len(layers) + 2 + (len(PLAN_OUTPUTS) if plan else 0) + (geo_format != "parquet")
    step = iter(range(total))

    def started(what: str) -> None:
        progress(what, next(step), total)

    if geo_format == "parquet":
        paths = {f"{name}.parquet": out_dir / f"{name}.parquet" for name in layers}
        for name, frame in layers.items():
            started(f"{name}.parquet ({len(frame):,} rows)")
            writers.write_geoparquet(out_dir / f"{name}.parquet", frame)
    else:
        labels = results.target_labels
        styles = layer_styles(layers, labels)
        writers.write_geopackage(gpkg, layers, styles,
                                 {n: aliases(f.columns, labels) for n, f in layers.items()},
                                 lambda name: started(f"layer {name} ({len(layers[name]):,} rows)"))
        started("roofpv.qgz")
        qgz = out_dir / "roofpv.qgz"
        extent = (layers["townships"] if "townships" in layers else layers["buildings"]).total_bounds
        writers.write_qgis_project(qgz, project_xml(
            f"roofpv {out_dir.resolve().name}", gpkg.name,
            [n for n, f in layers.items() if isinstance(f, gpd.GeoDataFrame)], results.crs,
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
    monitored = {"register_matches.csv": results.register, "performance.csv": results.performance,
                 "calibration.csv": results.calibration}
    for name, frame in monitored.items():
        if frame is not None:
            paths[name.removesuffix(".csv")] = out_dir / name
            writers.write_table(out_dir / name, frame)
    if plan:
        tables = (
            results.plan.drop(columns="geometry"), results.plan_status, results.trajectory,
            results.parameters.set_index("parameter"),
        )
        for name, frame in zip(PLAN_OUTPUTS, tables):
            started(name)
            paths[name.removesuffix(".csv")] = out_dir / name
            writers.write_table(out_dir / name, frame.reset_index())
    return paths


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
