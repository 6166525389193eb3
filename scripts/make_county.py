"""Generate a synthetic county of N buildings for benchmarks: ``python scripts/make_county.py
--buildings 100000 --out-dir data/county_100k [--dsm] [--survey-format csv|xlsx] [--seed S]``.

It writes into ``--out-dir``

* ``footprints.gpkg`` (layer ``footprints``, EPSG:4549 metres)
* ``survey.csv`` (UTF-8 with BOM, the sample's Chinese headers; ``--survey-format xlsx``
  writes ``survey.xlsx`` instead, which is only sensible for small N)
* ``townships.gpkg`` (layer ``townships``)
* ``transformers.csv`` (one row per transformer id of the survey)
* ``dsm/`` with 2 × 2 DSM tiles (0.5 m) over the first copy's 当湖 town centre, with
  ``--dsm``
* ``county.yaml``: a config extending ``configs/pinghu.yaml`` that points at these files.
* with ``--counties K``: a province instead (``province.yaml``), the copies grouped in K
  counties of about equal numbers of copies, each a block of whole rows of the grid of
  copies, and ``counties.gpkg`` (layer ``counties``, column ``county``: ``县01`` …) their
  outlines, the config's ``province.counties_layer``.

The county is the Pinghu sample layout (``scripts/make_sample.py``) repeated on a grid
of copies 1 km apart until N buildings are reached (the last copy is cut short, in
building-id order). Each
copy brings its own nine townships (``当湖街道-2``, …) and draws its own survey
attributes and transformers from the sample's distributions, so the attribute mix is
the sample's while the values differ from copy to copy. Deterministic for a given
``--seed``. Nothing here is real.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_sample as ms
from make_transformers import transformers

from roofpv.io.readers import read_survey

#: Gap between copies of the sample layout, m.
COPY_GAP_M = 1000.0


def sample_layout(seed: int) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, np.ndarray]:
    """The sample's townships and buildings (EPSG:4549) and candidate trees."""
    townships = ms.build_townships()
    buildings, trees = ms.layout_buildings(townships, np.random.default_rng(seed))
    b = gpd.GeoDataFrame(buildings, geometry="geometry", crs=ms.PROJ_CRS)
    b["area"] = b.geometry.area
    b = b.sort_values("building_id", ignore_index=True)
    return townships.to_crs(ms.PROJ_CRS), b, trees


def copy_offsets(copies: int, bounds: tuple[float, float, float, float]) -> np.ndarray:
    """(copies, 2) shifts, m, placing copies on a square grid, copy 0 unshifted."""
    xmin, ymin, xmax, ymax = bounds
    cols = math.ceil(math.sqrt(copies))
    k = np.arange(copies)
    return np.column_stack([(k % cols) * (xmax - xmin + COPY_GAP_M),
                            (k // cols) * (ymax - ymin + COPY_GAP_M)])


def suffix(k: int) -> str:
    """Name suffix of copy ``k``: none for the first copy, ``-2``, ``-3``… after it."""
    return "" if k == 0 else f"-{k + 1}"


def county(n: int, seed: int) -> tuple[gpd.GeoDataFrame, pd.DataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame, np.ndarray]:
    """Footprints, survey truth (sheet columns), townships, the first copy (with
    ``roof``, for the DSM) and the sample's trees for ``n`` buildings."""
    rng_layout, rng_survey = np.random.default_rng(seed).spawn(2)
    towns, base, trees = sample_layout(int(rng_layout.integers(2**31)))
    copies = math.ceil(n / len(base))
    offsets = copy_offsets(copies, towns.total_bounds)
    streams = rng_survey.spawn(copies)
    footprints, sheets, polygons = [], [], []
    for k, (dx, dy) in enumerate(offsets):
        sfx = suffix(k)
        moved = base.assign(
            geometry=shapely.transform(base.geometry.to_numpy(), lambda xy, d=(dx, dy): xy + d),
            x=base["x"] + dx, y=base["y"] + dy,
            building_id=base["building_id"] + sfx, township=base["township"] + sfx,
        )
        truth = ms.survey_truth(moved, streams[k])  # whole copy: every town has transformers
        truth["台区变压器编号"] = truth["台区变压器编号"] + sfx
        keep = min(len(base), n - k * len(base))
        moved, truth = moved.iloc[:keep], truth.iloc[:keep]
        if k == 0:
            first = moved.assign(roof=truth["屋面类型"].to_numpy())
        footprints.append(moved[["building_id", "geometry"]])
        sheets.append(truth)
        polygons.append(towns.assign(
            township=towns["township"] + sfx,
            geometry=shapely.transform(towns.geometry.to_numpy(), lambda xy, d=(dx, dy): xy + d),
        ))
    fp = gpd.GeoDataFrame(pd.concat(footprints, ignore_index=True), crs=ms.PROJ_CRS)
    return (fp, pd.concat(sheets, ignore_index=True), gpd.GeoDataFrame(pd.concat(polygons, ignore_index=True)),
            first, trees)


def write_dsm(first: gpd.GeoDataFrame, trees: np.ndarray, out: Path, seed: int) -> list[Path]:
    """DSM tiles over the first copy's 当湖 centre, rendered from its survey roof types."""
    x0, y0 = ms.point_proj(*ms.TOWNS[0].centre)
    half = ms.DSM_TILE_PX * ms.DSM_RES
    grid = ms.Grid(round(x0, -1) - half, round(y0, -1) + half, ms.DSM_RES,
                   2 * ms.DSM_TILE_PX, 2 * ms.DSM_TILE_PX)
    in_box = first[first.intersects(shapely.box(*grid.bounds))]
    dsm, _, _ = ms.render_dsm(grid, in_box, trees, np.random.default_rng(seed))
    out.mkdir(parents=True, exist_ok=True)
    return ms.write_tiles(dsm, grid, out)


def counties_layer(towns: gpd.GeoDataFrame, copies: int, k: int) -> gpd.GeoDataFrame:
    """Outlines of ``k`` counties grouping the ``copies`` copies (nine townships each, in
    copy order): copy ``c`` lies in county ``c * k // copies``, so each county holds whole
    copies in consecutive rows of the grid of copies."""
    copy = np.arange(len(towns)) // len(ms.TOWNS)
    name = np.array([f"县{i + 1:02d}" for i in range(k)])[copy * k // copies]
    return (gpd.GeoDataFrame({"county": name}, geometry=towns.geometry.to_numpy(), crs=towns.crs)
            .dissolve("county", as_index=False))


def write_config(out: Path, survey: Path, dsm: bool, counties: bool = False) -> Path:
    """``county.yaml`` (``province.yaml`` with ``counties``): the Pinghu config pointed at
    the generated files."""
    base = Path(__file__).resolve().parents[1] / "configs" / "pinghu.yaml"
    sheet = "\n  survey_sheet: 屋顶普查" if survey.suffix == ".xlsx" else ""
    province = ("province:\n  name: 合成省\n  counties_layer: counties.gpkg\n  counties_name_column: county\n"
                if counties else "")
    text = f"""# Synthetic {"province" if counties else "county"} made by scripts/make_county.py; everything else as Pinghu.
extends: {base}
inputs:
  footprints: footprints.gpkg
  survey: {survey.name}{sheet}
  townships: townships.gpkg
grid:
  transformers: transformers.csv
dsm:
  tiles: {"dsm" if dsm else "null"}
{province}"""
    path = out / ("province.yaml" if counties else "county.yaml")
    path.write_text(text, encoding="utf-8")
    return path


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--buildings", type=int, default=100_000, help="number of buildings N")
    parser.add_argument("--out-dir", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=ms.SEED)
    parser.add_argument("--dsm", action="store_true", help="DSM tiles over the first town centre")
    parser.add_argument("--survey-format", choices=("csv", "xlsx"), default="csv")
    parser.add_argument("--counties", type=int, metavar="K",
                        help="a province of K counties (province.yaml, counties.gpkg)")
    args = parser.parse_args(argv)
    out: Path = args.out_dir
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    fp, sheet, towns, first, trees = county(args.buildings, args.seed)
    print(f"layout and survey of {len(fp):,} buildings, {len(towns)} townships: "
          f"{time.perf_counter() - t0:.1f} s")
    pyogrio.write_dataframe(fp, out / "footprints.gpkg", layer="footprints", driver="GPKG",
                            use_arrow=True)
    pyogrio.write_dataframe(towns[["township", "code", "geometry"]], out / "townships.gpkg",
                            layer="townships", driver="GPKG")
    survey = out / f"survey.{args.survey_format}"
    if args.survey_format == "xlsx":
        ms.write_xlsx(sheet.astype(object).where(sheet.notna(), None), survey)
    else:
        sheet.to_csv(survey, index=False, encoding="utf-8-sig")
    canonical, _ = read_survey(survey, "屋顶普查")
    transformers(canonical, args.seed).to_csv(out / "transformers.csv", index=False, lineterminator="\n")
    if args.dsm:
        tiles = write_dsm(first, trees, out / "dsm", args.seed)
        print(f"DSM: {len(tiles)} tiles")
    if args.counties:
        copies = len(towns) // len(ms.TOWNS)
        if not 1 <= args.counties <= copies:
            parser.error(f"--counties: between 1 and the {copies} copies of the sample")
        pyogrio.write_dataframe(counties_layer(towns, copies, args.counties), out / "counties.gpkg",
                                layer="counties", driver="GPKG")
    config = write_config(out, survey, args.dsm, bool(args.counties))
    print(f"wrote {out} ({config.name}) in {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
