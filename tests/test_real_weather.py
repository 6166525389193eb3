"""Real Chinese standard-year weather files as bureaus get them (tests/data/real/weather)."""

import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from roofpv.cli import main
from roofpv.energy.weather import irradiance_lag_h, location_findings, timing_findings
from roofpv.io.weather_files import read_weather

pytestmark = pytest.mark.real_data

DATA = Path(__file__).parent / "data" / "real" / "weather"
HANGZHOU = DATA / "CHN_Zhejiang.Hangzhou.584570_CSWD.epw.gz"
ZHENGZHOU = DATA / "CHN_Henan.Zhengzhou.570830_CSWD.epw.gz"
CHANGSHA = DATA / "CHN_HN_Changsha.576870_TMYx.2007-2021.epw.gz"
PINGHU = (30.677, 121.013)


def solar_noon_offset_h(weather, longitude):
    """Hand check independent of roofpv's model: the GHI-weighted mean time of day
    (interval midpoints) minus mean solar noon at the longitude, 12:00 − 4 min per degree
    east of the zone meridian (the equation of time averages out over a year)."""
    midpoint = weather.index.hour + 0.5
    centroid = np.average(midpoint, weights=weather["ghi"].to_numpy())
    meridian = 15 * round(longitude / 15)
    return centroid - (12.0 - (longitude - meridian) * 4 / 60)


@pytest.fixture(scope="module")
def hangzhou():
    return read_weather(HANGZHOU, tz="Asia/Shanghai")


def test_hangzhou_reads_with_its_one_bad_hour_clipped(hangzhou):
    weather, meta = hangzhou
    (finding,) = meta["findings"]
    assert (finding.column, finding.value) == ("dhi", "1011")
    assert "2005-06-28 14:00" in finding.problem and "clipped to 1000" in finding.problem
    # Annual GHI of the file (1202.0 kWh/m², REFERENCE §4): one hour's DHI does not touch it.
    assert weather["ghi"].sum() / 1000 == pytest.approx(1202.0, abs=0.1)
    assert weather["dhi"].max() == 1000.0


def test_hangzhou_runs_an_hour_late_and_shift_h_fixes_it(hangzhou):
    weather, meta = hangzhou
    lag = irradiance_lag_h(weather, meta["latitude"], meta["longitude"])
    assert lag == pytest.approx(1.0, abs=0.15)
    # By hand: the irradiance centre of the day lies ~1 h after solar noon (0.5 h is the
    # width of the midpoint convention at most; a correct file sits within 0.15 h).
    assert solar_noon_offset_h(weather, meta["longitude"]) == pytest.approx(1.0, abs=0.2)
    (finding,) = timing_findings(weather, meta, meta["latitude"], meta["longitude"], str(HANGZHOU))
    assert finding.level == "warning" and "shift_h: -1.0" in finding.fix
    fixed, fixed_meta = read_weather(HANGZHOU, tz="Asia/Shanghai", shift_h=-1)
    assert abs(irradiance_lag_h(fixed, meta["latitude"], meta["longitude"])) < 0.15
    assert abs(solar_noon_offset_h(fixed, meta["longitude"])) < 0.2
    assert timing_findings(fixed, fixed_meta, meta["latitude"], meta["longitude"], "x") == []


def test_zhengzhou_half_hour_and_location():
    weather, meta = read_weather(ZHENGZHOU, tz="Asia/Shanghai")
    assert meta["findings"] == []
    lag = irradiance_lag_h(weather, meta["latitude"], meta["longitude"])
    assert lag == pytest.approx(solar_noon_offset_h(weather, meta["longitude"]), abs=0.2)
    (note,) = timing_findings(weather, meta, meta["latitude"], meta["longitude"], "z")
    assert note.level == "info"
    # Zhengzhou is 823 km from Pinghu (haversine on a 6371 km sphere, by hand: 822 km).
    (error,) = location_findings(meta, *PINGHU, str(ZHENGZHOU))
    assert error.level == "error" and "823 km" in error.problem


def test_changsha_tmyx():
    """A TMYx file (ISD/ERA5, 2007–2021): clean, irradiance ~0.4 h late (instantaneous
    hourly values), agreeing with the hand centroid; compressed files read as they are."""
    weather, meta = read_weather(CHANGSHA)
    assert meta["findings"] == [] and meta["source"].endswith("(gzip)")
    assert meta["tz"] == "Etc/GMT-8" and (meta["latitude"], meta["longitude"]) == (28.1095, 112.788)
    assert weather["ghi"].sum() / 1000 == pytest.approx(1382.5, abs=0.1)
    lag = irradiance_lag_h(weather, meta["latitude"], meta["longitude"])
    assert 0.25 < lag < 0.75
    assert lag == pytest.approx(solar_noon_offset_h(weather, meta["longitude"]), abs=0.1)


def write_config(tmp_path, weather, extra=""):
    """Pinghu's config on two footprints at Pinghu, no survey, with ``weather``."""
    root = Path(__file__).resolve().parents[1]
    x, y = PINGHU[1], PINGHU[0]
    gpd.GeoDataFrame({"building_id": ["a", "b"]},
                     geometry=[box(x, y, x + 0.0004, y + 0.0003), box(x + 0.001, y, x + 0.0013, y + 0.0002)],
                     crs="EPSG:4490").to_file(tmp_path / "fp.gpkg")
    config = tmp_path / "site.yaml"
    config.write_text(
        f"extends: {root / 'configs' / 'pinghu.yaml'}\n"
        "inputs:\n  footprints: fp.gpkg\n  survey: null\n  townships: null\n"
        "grid:\n  transformers: null\n"
        f"weather:\n  file: {weather}\n{extra}"
        "dsm:\n  tiles: null\n", encoding="utf-8")
    return config


def test_validate_reports_the_weather(tmp_path, capsys):
    # 95 km: within the default 150 km; a warning once the config asks from 50 km.
    config = write_config(tmp_path, HANGZHOU, "  warn_distance_km: 50\n")
    assert main(["validate", str(config), "--out", str(tmp_path / "v")]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "weather file lies 95 km from the site" in out
    assert re.search(r"irradiance runs 1\.0\d h late", out)  # a whole hour, as the file is known to be
    assert "clipped to 1000" in out


def test_far_weather_refused_unless_allowed(tmp_path, capsys):
    config = write_config(tmp_path, ZHENGZHOU)
    assert main(["validate", str(config), "--out", str(tmp_path / "v")]) == 1
    assert main(["survey", str(config), "--out", str(tmp_path / "s"), "--no-report",
                 "--no-arrays", "--quiet"]) == 2
    assert "823 km from the site" in " ".join(capsys.readouterr().err.split())
    allowed = write_config(tmp_path, ZHENGZHOU, "  max_distance_km: null\n")
    out = tmp_path / "w"
    assert main(["validate", str(allowed), "--out", str(out)]) == 0
    for command in ("survey", "plan"):
        assert main([command, str(allowed), "--out", str(out), "--no-report", "--quiet", "--overwrite"]) == 0
    assert main(["report", str(allowed), "--out", str(out), "--overwrite"]) == 0
    findings = pd.read_csv(out / "findings.csv")
    assert findings["problem"].str.contains("823 km from the site").any()
