"""Roof planes and capacity measured on every real DSM set against its truth, at 0.5 m
and 1 m, with and without noise — and what leave-one-data-set-out means for roofpv.

    python scripts/bench_dsm_sets.py [--sets goteborg,delft,zurich] [--variants]

The sets, their truth and the figures are those of ``tests/dsm_sets.py`` (see its
docstring): ``within`` = share of the true roof area within 5° tilt / 15° azimuth,
``measured`` = share of the true roof area under measured planes, ``inside`` = share of
it inside the footprints (the ceiling of ``measured``: eaves overhang the walls), ``kWp`` installed on
the buildings the DSM measured, per m² of measured plane. The other resolution is the
set resampled (bilinear) from its own grid, or, for a point cloud, the cloud gridded at
that cell. ``--variants`` adds every metamorphic variant.

Leave-one-data-set-out: roofpv's DSM parameters are one set of defaults
(:class:`roofpv.config.Dsm`) with the noise-dependent thresholds measured on each
window; no set's config changes any of them (checked below), and none was fitted to any
set's truth. So every set is scored with parameters chosen without it, and the
leave-one-out figures are the plain figures.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import roofpv  # noqa: E402
from roofpv.config import Dsm  # noqa: E402
from tests import dsm_sets as ds  # noqa: E402

#: Dsm settings a set's config may change without tuning the measurement: where the
#: data lie, how they are read, threads, and the horizon search radius (the extent of
#: the rasters).
NOT_TUNING = {"tiles", "tiles_pattern", "dem", "canopy", "workers", "radius_m",
              "point_cloud_crs", "point_cloud_resolution_m", "block_m"}


def tuned_parameters() -> dict[str, dict]:
    """Per set, the measurement parameters its config sets away from the defaults."""
    default = Dsm().model_dump()
    out = {}
    for name, path in ds.SETS.items():
        c = roofpv.load_config(path).dsm.model_dump()
        out[name] = {k: v for k, v in c.items() if k not in NOT_TUNING and v != default[k]}
    return out


def bench(names, variants: bool) -> pd.DataFrame:
    rows = []
    for name in names:
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            cloud = ds.is_cloud(name)
            runs = [("as given", None, None)]
            if cloud:
                runs.append(("gridded at 1 m", None, 1.0))
            else:
                runs.append(("resampled", "resample_finer" if name == "goteborg" else "resample_coarser", None))
            runs += [("noise σ 0.05 m", "noise_0.05", None), ("noise σ 0.15 m", "noise_0.15", None)]
            if variants:
                runs += [(v, v, None) for v in ds.VARIANTS if v not in {r[1] for r in runs}]
            for i, (label, variant, res) in enumerate(runs):
                t = time.perf_counter()
                try:
                    f = ds.run_variant(name, variant, tmp / str(i), cloud_res=res)
                except Exception as exc:  # a crash is a figure too
                    rows.append({"set": name, "run": label, "error": f"{type(exc).__name__}: {exc}"[:90]})
                    continue
                res_m = _res(tmp / str(i))
                rows.append({"set": name, "run": label, "res_m": res_m, "faces": f["faces"],
                             "true_m2": round(f["true_m2"]), "within": f["within_tol"],
                             "measured": f["measured"], "inside": f["inside"], "buildings": f["buildings"],
                             "measured_buildings": f["buildings_measured"], "plane_m2": round(f["plane_m2"]),
                             "kWp": round(f["kwp"], 1), "kWp_per_m2": f["kwp_per_m2"],
                             "s": round(time.perf_counter() - t, 1)})
    return pd.DataFrame(rows)


def _res(root: Path) -> float | None:
    import rasterio

    tiles = sorted((root / "tiles").glob("*.tif"))
    if not tiles:
        return None
    with rasterio.open(tiles[0]) as src:
        return round(abs(src.res[0]), 2)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sets", default=",".join(ds.SETS))
    ap.add_argument("--variants", action="store_true", help="also every metamorphic variant")
    args = ap.parse_args(argv)
    warnings.filterwarnings("ignore")
    tuned = tuned_parameters()
    print("measurement parameters a set's config changes from the defaults:",
          {k: v or "none" for k, v in tuned.items()})
    table = bench(args.sets.split(","), args.variants)
    pd.set_option("display.width", 220)
    pd.set_option("display.max_columns", 30)
    print(table.round(3).to_string(index=False))
    if not any(tuned.values()):
        print("leave-one-data-set-out = the figures above: no set's parameters were chosen with it")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
