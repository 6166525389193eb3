"""Generate the synthetic surfaces beyond roofs of the Pinghu sample.

Run ``python scripts/make_surfaces.py [--data-dir data]``; it reads
``<data>/sample/footprints.gpkg``, ``survey.xlsx`` and ``townships.gpkg`` and writes
``<data>/sample/surfaces.gpkg`` (layer ``surfaces``, EPSG:4490 like the footprints):
car parks beside the largest hospital, school and shops of 当湖街道, a covered walkway
beside a school, a wastewater plant in an industrial park of 钟埭街道, greenhouses beside
village houses of 新埭镇 and two farmyards drawn round village houses (the house's
footprint inside the yard, as a bureau's 院落 layer draws it). Columns ``编号`` (id), ``类型`` (the type
in Chinese, as a bureau's layer would name it), ``name``. Deterministic.

Like the rest of the sample, nothing here is real: each outline is a rectangle of a
plausible size placed on open ground next to its building (the first of the four sides
where it lies at least 3 m from every footprint and inside the building's township); a
farmyard is the house's bounding box widened by 2 m (8 m to the south).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from roofpv.io.readers import read_survey

#: Analysis CRS of the sample (CGCS2000 3° Gauss-Krüger, CM 120°E), metres.
METRIC = "EPSG:4549"
#: (id, 类型, name, township, anchor category, rank among the township's buildings of that
#: category by floor area, width m, depth m; a farmyard is drawn round its house)
SURFACES = (
    ("CP01", "车棚", "人民医院停车场", "当湖街道", "hospital", 0, 45.0, 30.0),
    ("CP02", "光伏车棚", "实验中学停车场", "当湖街道", "school", 0, 40.0, 22.0),
    ("CP03", "停车场", "商业街停车场", "当湖街道", "commercial", 0, 60.0, 34.0),
    ("CR01", "连廊", "实验小学连廊", "当湖街道", "school", 1, 36.0, 4.0),
    ("WW01", "污水处理厂", "钟埭污水处理厂", "钟埭街道", "factory", 0, 150.0, 110.0),
    ("GH01", "大棚", "蔬菜大棚一", "新埭镇", "rural_residential", 0, 60.0, 10.0),
    ("GH02", "农业大棚", "蔬菜大棚二", "新埭镇", "rural_residential", 3, 60.0, 10.0),
    ("YD01", "院落", "农房院落", "新埭镇", "rural_residential", 5, None, None),  # round the house
    ("YD02", "院落空地", "农房院落", "新埭镇", "rural_residential", 8, None, None),
)
#: Clear distance from every footprint, m.
CLEARANCE = 3.0


def _placed(anchor, width: float, depth: float, blocked, township) -> shapely.Polygon | None:
    """A width × depth rectangle beside ``anchor`` (south, east, west, north, in this
    order), clear of ``blocked`` and inside ``township``; None when no side fits."""
    x0, y0, x1, y1 = anchor.bounds
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    gap = CLEARANCE + 1.0
    for box in (
        (cx - width / 2, y0 - gap - depth, cx + width / 2, y0 - gap),
        (x1 + gap, cy - width / 2, x1 + gap + depth, cy + width / 2),
        (x0 - gap - depth, cy - width / 2, x0 - gap, cy + width / 2),
        (cx - width / 2, y1 + gap, cx + width / 2, y1 + gap + depth),
    ):
        candidate = shapely.box(*box)
        if township.contains(candidate) and not blocked.intersects(candidate):
            return candidate
    return None


def _yard(anchor, blocked, township) -> shapely.Polygon | None:
    """A farmyard round the house ``anchor``: its bounding box widened by 2 m to the west,
    east and north and 8 m to the south (the 院子 in front of the house), clear of every
    other footprint and inside ``township``; None when it does not fit."""
    x0, y0, x1, y1 = anchor.bounds
    yard = shapely.box(x0 - 2.0, y0 - 8.0, x1 + 2.0, y1 + 2.0)
    others = shapely.difference(blocked, anchor.buffer(CLEARANCE + 0.5))
    return yard if township.contains(yard) and not others.intersects(yard) else None


def surfaces(footprints: gpd.GeoDataFrame, survey: pd.DataFrame, townships: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The sample's surfaces (metric CRS) as described in the module docstring."""
    b = footprints.to_crs(METRIC).join(survey[["township", "category", "name", "floor_area_m2"]])
    towns = townships.to_crs(METRIC).set_index("township")
    blocked = shapely.union_all(b.geometry.buffer(CLEARANCE).to_numpy())
    names = b["name"].fillna("")
    rows, taken = [], shapely.Polygon()
    for sid, kind, name, township, category, rank, width, depth in SURFACES:
        if category == "hospital":
            pool = b[(b["township"] == township) & names.str.contains("医院")]
        elif category == "school":
            pool = b[(b["township"] == township) & names.str.contains("学")]
        else:
            pool = b[(b["township"] == township) & (b["category"] == category)]
        pool = pool.sort_values("floor_area_m2", ascending=False, kind="stable")
        for _, anchor in pool.iloc[rank:].iterrows():
            if kind.startswith("院落"):  # drawn round the house: its footprint is cut out again
                shape = _yard(anchor.geometry, shapely.union(blocked, taken), towns.geometry[township])
            else:
                shape = _placed(anchor.geometry, width, depth, shapely.union(blocked, taken), towns.geometry[township])
            if shape is not None:
                rows.append({"编号": sid, "类型": kind, "name": name, "geometry": shape})
                taken = shapely.union(taken, shape.buffer(CLEARANCE))
                break
        else:
            raise SystemExit(f"no open ground found for {sid} in {township}")
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=METRIC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path(__file__).resolve().parents[1] / "data")
    args = parser.parse_args()
    sample = args.data_dir / "sample"
    footprints = gpd.read_file(sample / "footprints.gpkg").set_index("building_id")
    survey, _ = read_survey(sample / "survey.xlsx", "屋顶普查")
    townships = gpd.read_file(sample / "townships.gpkg")
    out = sample / "surfaces.gpkg"
    frame = surfaces(footprints, survey, townships).to_crs(footprints.crs)
    frame["geometry"] = shapely.set_precision(frame.geometry.to_numpy(), 1e-8)
    frame.to_file(out, layer="surfaces", driver="GPKG")
    print(f"wrote {out}: {len(frame)} surfaces, {np.round(frame.to_crs(METRIC).area.sum()):.0f} m²")


if __name__ == "__main__":
    main()
