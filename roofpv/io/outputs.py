"""Read back the outputs of ``roofpv survey`` or ``roofpv plan`` from their folder."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

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
