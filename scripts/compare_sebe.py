"""Wall irradiation of roofpv's facades against UMEP SEBE's wall results on the same DSM and
weather, wall by wall: ``python scripts/compare_sebe.py SEBE_CHECKOUT [config] [--csv t.csv]``.

SEBE (Solar Energy on Building Envelopes; Lindberg et al. 2015, Solar Energy 115, 369–378)
is part of UMEP's QGIS processing plugin (https://github.com/UMEP-dev/UMEP-processing,
GPL v3), not on PyPI. ``SEBE_CHECKOUT`` is the root of a checkout of that repository; this
script imports SEBE's own numpy functions from it (nothing of SEBE is copied here) and
does what its QGIS driver ``processor/sebe_algorithm.py`` does, without QGIS and GDAL:

1. the DSM as SEBE reads it (no-data → 0, lifted when below 0), wall heights and aspects
   with UMEP's wall preprocessor (``functions/wallalgorithms.py``: ``findwalls_sp`` with
   its default 3 m lower limit, ``filter1Goodwin_as_aspect_v3``);
2. the weather of the roofpv run (its hourly ``ghi``, ``dhi``, ``dni``, ``temp_air``)
   written as a UMEP meteorological table (24 columns, time stamps marking the end of
   each hour, in UTC so that SEBE's UTC offset is 0);
3. sun positions (``Solweig_2015a_metdata_noload``), the sky vault of 145 patches with
   the Perez diffuse distribution (``sunmapcreator_2015a``, diffuse and direct given) and
   SEBE's main model (``SEBE_2015a_calc``, no vegetation), at the run's albedo.

SEBE gives the annual irradiation [kWh/m²] of every wall pixel in 1-m height sections.
roofpv's facade stage runs in the survey of the config (the DSM's town). Each roofpv wall
that may carry modules (``usable_area_m2`` > 0) on a building the DSM measured is matched
with SEBE's wall pixels whose centre lies within ``--tolerance`` m of the wall's line,
between its ends less 1 m (corners are left out), and whose aspect is within 45° of the
wall's azimuth; SEBE's value of the wall is the mean over those pixels of their sections
inside roofpv's module band (``band_bottom_m`` to the roof height). It is compared with
roofpv's ``poa_kwh_m2 × (1 − shading_loss)``. Prints the median ratio roofpv / SEBE, the
quartiles, the share within 10 % and 20 %, and the walls beyond 20 %.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import subprocess
import sys
import tempfile
import types
from pathlib import Path

import numpy as np
import pandas as pd
import pyproj
import rasterio
from affine import Affine

from roofpv.energy import solar
from roofpv.surfaces import facades

sys.path.insert(0, str(Path(__file__).resolve().parent))
from validate_facades import measured_walls  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
GOTEBORG = ROOT / "tests" / "data" / "real" / "dsm_goteborg"
DEFAULT = GOTEBORG / "goteborg.yaml"
#: The Gothenburg typical year of the same UMEP folder as the DSM (its README).
WEATHER = GOTEBORG / "weather" / "GBG_TMY_1977.csv.gz"
#: Name under which the checkout's modules are imported.
PACKAGE = "sebe_checkout"
#: What SEBE's driver and its wall preprocessor need from the checkout.
NEEDED = ("functions/SEBEfiles/SEBE_2015a_calc_forprocessing.py", "functions/SEBEfiles/sunmapcreator_2015a.py",
          "functions/wallalgorithms.py", "util/SEBESOLWEIGCommonFiles/Solweig_v2015_metdata_noload.py")


def sebe_modules(checkout: Path) -> dict[str, types.ModuleType]:
    """SEBE's modules from the checkout, imported as the package :data:`PACKAGE`
    (relative imports work) without running the plugin's ``util/__init__.py``, which
    needs QGIS and a display."""
    missing = [p for p in NEEDED if not (checkout / p).is_file()]
    if missing:
        raise SystemExit(f"{checkout} is not a checkout of UMEP-processing: missing {', '.join(missing)}")
    for name, path in ((PACKAGE, checkout), (f"{PACKAGE}.util", checkout / "util"),
                       (f"{PACKAGE}.functions", checkout / "functions")):
        module = types.ModuleType(name)
        module.__path__ = [str(path)]
        sys.modules[name] = module
    get = lambda name: importlib.import_module(f"{PACKAGE}.{name}")  # noqa: E731
    return {
        "calc": get("functions.SEBEfiles.SEBE_2015a_calc_forprocessing"),
        "sunmap": get("functions.SEBEfiles.sunmapcreator_2015a"),
        "walls": get("functions.wallalgorithms"),
        "metdata": get("util.SEBESOLWEIGCommonFiles.Solweig_v2015_metdata_noload"),
    }


def umep_met(hourly: pd.DataFrame) -> np.ndarray:
    """The hourly weather (index: interval starts) as a UMEP meteorological table: 24
    columns ``iy id it imin qn qh qe qs qf U RH Tair pres rain kdown snow ldown fcld wuh
    xsmd lai kdiff kdir wdir``, each row stamped with the end of its hour in UTC; what
    SEBE does not read is −999."""
    end = hourly.index.tz_convert("UTC") + pd.Timedelta(hours=1)
    met = np.full((len(hourly), 24), -999.0)
    met[:, 0], met[:, 1], met[:, 2], met[:, 3] = end.year, end.day_of_year, end.hour, end.minute
    met[:, 10] = 75.0  # relative humidity [%]: read only when diffuse is modelled from global
    met[:, 11] = hourly["temp_air"].to_numpy(float)
    met[:, 14] = hourly["ghi"].to_numpy(float)
    met[:, 21] = hourly["dhi"].to_numpy(float)
    met[:, 22] = hourly["dni"].to_numpy(float)
    return met


class _Quiet:
    """The processing feedback SEBE reports its progress to."""

    def setProgress(self, value):  # noqa: N802 (SEBE's interface)
        pass

    def setProgressText(self, text):  # noqa: N802
        pass

    def isCanceled(self):  # noqa: N802
        return False


def read_dsm(dsm_path: Path, dem_path: Path) -> tuple[np.ndarray, np.ndarray, object, tuple[float, float]]:
    """The DSM as SEBE's driver reads it (no-data → 0, lifted when below 0), the height
    of each cell above the DEM's ground [m], the grid's transform, and the longitude and
    latitude of the DSM's lower left corner (where SEBE's driver takes its location)."""
    with rasterio.open(dsm_path) as src:
        dsm = src.read(1).astype(float)
        if src.nodata is not None:
            dsm[dsm == src.nodata] = 0.0
        transform, crs = src.transform, src.crs
    with rasterio.open(dem_path) as src:  # on the DSM's grid
        above = dsm - src.read(1).astype(float)
    if dsm.min() < 0:
        dsm = dsm + abs(dsm.min())
    lonlat = pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform(
        transform.c, transform.f + dsm.shape[0] * transform.e)
    return dsm, above, transform, lonlat


def run_sebe(m: dict[str, types.ModuleType], dsm: np.ndarray, above: np.ndarray, transform,
             lonlat: tuple[float, float], hourly: pd.DataFrame, albedo: float) -> dict[str, np.ndarray]:
    """SEBE's wall results on the DSM ``dsm`` (:func:`read_dsm`), as SEBE's QGIS driver
    computes them: per wall pixel its row, column, centre [m], aspect [deg], wall height
    [m], the height of its foot above the ground (``base``, > 0 where the wall rises from
    a lower roof; from ``above``) [m] and the annual irradiation of its 1-m sections from
    the foot up [kWh/m²] (0 above the wall). ``m``: :func:`sebe_modules`."""
    scale = 1 / transform.a
    # Wall preprocessor, as processing's "Wall Height and Aspect" runs it (scale 1 there).
    walls = m["walls"].findwalls_sp(dsm, 3.0, False)
    aspect = m["walls"].filter1Goodwin_as_aspect_v3(walls, 1, dsm, None, 100.0 / 180.0)
    alt = float(np.median(dsm))
    location = {"longitude": lonlat[0], "latitude": lonlat[1], "altitude": alt if alt >= 0 else 3}
    met = umep_met(hourly)
    with np.errstate():  # sunmapcreator sets numpy's error state (raise) for the rest of the run
        _, altitude, azimuth, zen, jday, _, _, _ = m["metdata"].Solweig_2015a_metdata_noload(met, location, 0)
        rad_i, rad_d, rad_r = m["sunmap"].sunmapcreator_2015a(
            met, altitude, azimuth, False, {"energymonth": 0, "energyyear": 1, "suitmap": 0}, jday, albedo,
            location, zen)
        slope, roof_aspect = m["walls"].get_ders(dsm, scale)
        result = m["calc"].SEBE_2015a_calc(dsm, scale, slope, roof_aspect, transform.a, dsm.shape[1], dsm.shape[0],
                                           0, 0, walls, aspect, albedo, 0.03, rad_i, rad_d, rad_r, 0, _Quiet(),
                                           walls.max())
    table = result["Energyyearwall"]
    row, col = table[:, 0].astype(int) - 1, table[:, 1].astype(int) - 1
    x, y = transform * (col + 0.5, row + 0.5)
    return {"row": row, "col": col, "x": np.asarray(x), "y": np.asarray(y), "aspect": aspect[row, col],
            "height": walls[row, col], "base": above[row, col], "sections": table[:, 2:]}


def open_walls(m: dict[str, types.ModuleType], lonlat: tuple[float, float], hourly: pd.DataFrame, albedo: float,
               ft: facades.FacadeTables) -> pd.DataFrame:
    """SEBE's irradiation of the four walls of one 40 × 40 m, 12 m block on open flat
    ground (nothing shades them; the middle 20 m of each wall, all sections) against
    roofpv's unshaded vertical plane of the azimuth SEBE gives the wall [kWh/m²]: how far
    the two sky models part before any shading."""
    size, block = 200, 40
    dsm = np.zeros((size, size))
    lo = (size - block) // 2
    dsm[lo:lo + block, lo:lo + block] = 12.0
    transform = Affine(1.0, 0.0, 0.0, 0.0, -1.0, float(size))  # 1 m, north up
    sebe = run_sebe(m, dsm, dsm, transform, lonlat, hourly, albedo)
    rows = []
    for azimuth, name in ((0.0, "N"), (90.0, "E"), (180.0, "S"), (270.0, "W")):
        # UMEP's aspect filter turns some walls by a few degrees: roofpv is read at SEBE's aspect.
        mid = np.abs((sebe["aspect"] - azimuth + 180) % 360 - 180) <= 10
        mid &= np.hypot(sebe["x"] - size / 2, sebe["y"] - size / 2) < block / 2 + 10  # the walls' middles
        s = sebe["sections"][mid]
        aspect = float(np.median(sebe["aspect"][mid]))
        rows.append({"wall": name, "sebe_aspect_deg": aspect, "pixels": int(mid.sum()), "sebe": float(s[s > 0].mean()),
                     "roofpv": float(solar.interpolate_field(ft.yields, "poa_annual_kwh_m2", 90.0,
                                                             np.array([aspect]))[0])})
    t = pd.DataFrame(rows)
    t["ratio"] = t["roofpv"] / t["sebe"]
    return t


def survey_config(config_path: Path, weather: Path | None, zone: str = "Etc/GMT-1") -> Path:
    """A config extending ``config_path`` with the typical-year ``weather`` file (time
    stamps at the end of each hour, as in UMEP's file) in the standard time ``zone`` of
    the file (UTC+1 for Gothenburg's), written to a temporary folder."""
    if weather is None:
        return config_path
    folder = Path(tempfile.mkdtemp(prefix="roofpv-sebe-"))
    path = folder / "config.yaml"
    path.write_text(f"extends: {config_path.resolve()}\nsite:\n  timezone: {zone}\nweather:\n"
                    f"  file: {weather.resolve()}\n  label: end\n  monthly: null\n", encoding="utf-8")
    return path


def match(walls, b, sebe: dict[str, np.ndarray], tolerance_m: float) -> pd.DataFrame:
    """Per roofpv wall: the SEBE pixels along it (see the module's docstring), their count
    and SEBE's mean irradiation over roofpv's band [kWh/m²] (NaN without pixels)."""
    rows = []
    px, py = sebe["x"], sebe["y"]
    levels = np.arange(sebe["sections"].shape[1]) + 0.5  # middle of each 1-m section above its foot
    for w in walls.itertuples():
        (x0, y0), (x1, y1) = w.geometry.coords[0], w.geometry.coords[-1]
        length = np.hypot(x1 - x0, y1 - y0)
        ux, uy = (x1 - x0) / length, (y1 - y0) / length
        along = (px - x0) * ux + (py - y0) * uy
        across = np.abs((px - x0) * uy - (py - y0) * ux)
        turn = np.abs((sebe["aspect"] - w.azimuth_deg + 180) % 360 - 180)
        at = np.flatnonzero((across <= tolerance_m) & (along >= 1.0) & (along <= length - 1.0) & (turn <= 45))
        top = float(b.at[w.building_id, "roof_height_m"])
        values = []
        for p in at:
            inside = (sebe["base"][p] + levels >= w.band_bottom_m) & (sebe["base"][p] + levels <= top)
            s = sebe["sections"][p][inside]
            s = s[s > 0]  # 0: above the pixel's wall
            if s.size:
                values.append(s.mean())
        rows.append({"building_id": w.building_id, "wall": w.wall, "orientation": w.orientation,
                     "azimuth_deg": w.azimuth_deg, "length_m": w.length_m, "pixels": len(values),
                     "roofpv_open": w.poa_kwh_m2, "roofpv_loss": w.shading_loss,
                     "roofpv": w.poa_kwh_m2 * (1 - w.shading_loss),
                     "sebe": float(np.mean(values)) if values else np.nan})
    t = pd.DataFrame(rows)
    t["ratio"] = t["roofpv"] / t["sebe"]
    return t


def compare(checkout: Path, config_path: Path = DEFAULT, weather: Path | None = WEATHER,
            tolerance_m: float = 1.5) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The per-wall table of roofpv against SEBE on the DSM (:func:`match`) and the open
    walls' (:func:`open_walls`)."""
    m = sebe_modules(Path(checkout))
    walls, b, prepared, config = measured_walls(survey_config(config_path, weather))
    albedo = config.system.albedo
    inv = prepared.inventory
    dsm, above, transform, lonlat = read_dsm(Path(inv.dsm.paths[0]), Path(inv.dem.paths[0]))
    sebe = run_sebe(m, dsm, above, transform, lonlat, prepared.hourly, albedo)
    return (match(walls, b, sebe, tolerance_m),
            open_walls(m, lonlat, prepared.hourly, albedo, prepared.facade_tables))


def checkout_commit(checkout: Path) -> str:
    """The checkout's git commit, or "unknown" (an exported tree has none)."""
    try:
        return subprocess.run(["git", "-C", str(checkout), "rev-parse", "HEAD"], capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkout", type=Path, help="root of a checkout of UMEP-dev/UMEP-processing")
    parser.add_argument("config", type=Path, nargs="?", default=DEFAULT)
    parser.add_argument("--weather", type=Path, default=WEATHER,
                        help="hourly CSV (time stamps at the end of each hour) replacing the config's weather")
    parser.add_argument("--config-weather", action="store_true", help="keep the config's own weather")
    parser.add_argument("--tolerance", type=float, default=1.5, help="SEBE pixels this close to a wall's line [m]")
    parser.add_argument("--csv", type=Path, help="write the per-wall table here")
    args = parser.parse_args(argv)
    t, open_t = compare(args.checkout, args.config, None if args.config_weather else args.weather, args.tolerance)
    matched = t.dropna(subset=["sebe"])
    r = matched["ratio"]
    pd.set_option("display.width", 200)
    print(f"SEBE checkout {args.checkout} (commit {checkout_commit(args.checkout)})")
    print(f"{len(t)} roofpv walls that may carry modules on {t['building_id'].nunique()} buildings the DSM "
          f"measured; {len(matched)} matched with SEBE wall pixels (median {matched['pixels'].median():.0f} "
          "pixels a wall)")
    print(f"roofpv / SEBE: median {r.median():.3f}, quartiles {r.quantile(0.25):.3f}–{r.quantile(0.75):.3f}, "
          f"within 10 %: {(abs(r - 1) <= 0.10).mean():.0%}, within 20 %: {(abs(r - 1) <= 0.20).mean():.0%}")
    print(f"median irradiation: roofpv {matched['roofpv'].median():.0f} kWh/m² (unshaded "
          f"{matched['roofpv_open'].median():.0f}), SEBE {matched['sebe'].median():.0f} kWh/m²")
    for name, group in matched.groupby("orientation"):
        print(f"  {name:>2}: {len(group):3d} walls, median ratio {group['ratio'].median():.3f}")
    print("unshaded walls of a lone block on open ground (sky models alone):")
    print(open_t.round(3).to_string(index=False))
    unmatched = t[t["pixels"] == 0]
    print(f"roofpv walls without SEBE wall pixels ({len(unmatched)}; 3 m long or less (corners' 1 m left out), "
          "rising less than SEBE's 3 m above a lower roof, or off the DSM):")
    print(unmatched[["building_id", "wall", "orientation", "length_m"]].round(1).to_string(index=False))
    outliers = matched[abs(r - 1) > 0.2].sort_values("ratio")
    print(f"walls beyond 20 % ({len(outliers)}):")
    print(outliers.round(3).to_string(index=False))
    if args.csv:
        t.to_csv(args.csv, index=False)


if __name__ == "__main__":
    main()
