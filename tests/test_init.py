"""`roofpv init`: a starting config from the user's own files."""

from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import box

from roofpv.cli import main
from roofpv.config import load_config
from roofpv.fieldwork.init import (
    FootprintFacts,
    SiteFacts,
    config_text,
    id_column,
    nearest_site,
    timezone,
)
from roofpv.io import inspect
from roofpv.run.pipeline import check_inputs

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"


def facts(columns, features=10, lat=30.7, lon=121.0, path=Path("/data/town.gpkg")):
    return FootprintFacts(path=path, layer=None, features=features, columns=columns, crs="EPSG:4490",
                          crs_notes=[], latitude=lat, longitude=lon)


@pytest.mark.parametrize(("columns", "chosen", "note"), [
    ({"osm_id": (10, 0), "name": (3, 7)}, "osm_id", None),
    ({"fid": (8, 0), "建筑编号": (10, 0)}, "建筑编号", None),
    ({"id": (7, 1)}, "id", "repeat an id"),
    ({"code": (10, 0), "kind": (2, 0)}, "code", "no column is named like an id"),
    ({"kind": (2, 0)}, "kind", "add an id column"),
])
def test_id_column(columns, chosen, note):
    choice = id_column(facts(columns))
    assert choice.value == chosen
    assert (note is None and not choice.notes) or any(note in n for n in choice.notes)


def test_nearest_site_and_timezone():
    sites = inspect.configured_sites(ROOT / "configs")
    assert {s.path.stem for s in sites} >= {"pinghu", "jinan", "jilin", "yangquan"}
    site, km = nearest_site(sites, 36.6, 117.1)            # Jinan
    assert site.path.stem == "jinan" and km < 15
    assert timezone(30.7, 121.0) == "Asia/Shanghai"
    assert timezone(47.4, 8.5) == "Etc/GMT-1"
    assert timezone(40.7, -74.0) == "Etc/GMT+5"


def test_config_for_sample_with_survey_and_dsm_loads(tmp_path):
    """The sample's own files give a config that loads and points at them."""
    out = tmp_path / "configs" / "mine.yaml"
    text = config_text(
        out, inspect.inspect_footprints(SAMPLE / "footprints.gpkg"),
        inspect.configured_sites(ROOT / "configs"),
        survey=inspect.inspect_survey(SAMPLE / "survey.xlsx"),
        dsm=inspect.inspect_dsm(ROOT / "data" / "sample_tiles"),
    )
    out.parent.mkdir()
    out.write_text(text, encoding="utf-8")
    config = load_config(out)
    assert config.inputs.footprints == (SAMPLE / "footprints.gpkg").resolve()
    assert config.inputs.footprints_id_column == "building_id"
    assert config.inputs.survey_sheet == "屋顶普查" and config.inputs.townships is None
    assert config.grid.transformers is None
    assert config.dsm.tiles == (ROOT / "data" / "sample_tiles").resolve()
    assert "extends: ../../" not in text or "pinghu.yaml" in text
    assert "建筑编号 → building_id" in text
    assert "0.5 × 0.5 pixels" in text
    assert abs(config.site.latitude - 30.68) < 0.2 and config.crs is None


def test_init_outside_china_uses_utm_and_warns_about_climate(tmp_path, capsys):
    """Footprints in Zürich: UTM zone 32N, a fixed-offset time zone, and a CHECK that the
    nearest configured climate is thousands of km away."""
    layer = tmp_path / "zurich.geojson"
    gpd.GeoDataFrame({"osm_id": [1, 2]}, geometry=[box(8.540, 47.370, 8.541, 47.3705),
                                                   box(8.542, 47.371, 8.543, 47.3715)],
                     crs="EPSG:4326").to_file(layer)
    out = tmp_path / "zurich.yaml"
    assert main(["init", str(layer), "--out", str(out)]) == 0
    assert main(["init", str(layer), "--out", str(out)]) == 2      # no overwrite unasked
    text = out.read_text(encoding="utf-8")
    assert "EPSG:32632" in text and "timezone: Etc/GMT-1" in text
    # No station of the table (China) is near: said with the distance, CHECKs on time zone and prices.
    assert "  # CHECK: no station is near (the table covers China): this climate is 5,358 km away" in text
    assert "  # CHECK: time zone from the longitude (8.5° ≈ UTC+1, no daylight" in text
    assert "# CHECK: the site lies outside China: the prices, tariffs and emission factor of" in text
    config = load_config(out)
    assert config.inputs.footprints_id_column == "osm_id" and config.site.longitude == pytest.approx(8.5415)
    assert config.weather.station == "517090_CSWD"  # Kashi and config.site.province is None
    # The station's climate is refused with its distance: an error with a message, no traceback.
    assert main(["validate", str(out), "--out", str(tmp_path / "v")]) == 1
    told = " | ".join(f.problem for f in check_inputs(config).findings)
    assert "typical-year climate lies 5,358 km from the site (more than 500 km)" in told
    assert "the site lies outside China (no typical-year station within 500 km)" in told
    assert main(["survey", str(out), "--out", str(tmp_path / "s"), "--no-report", "--quiet"]) == 2
    assert "5,358 km from the site (more than 500 km): another climate" in " ".join(capsys.readouterr().err.split())


def test_site_facts_path_relative(tmp_path):
    """Paths in the config are relative to its folder, as load_config resolves them."""
    sites = [SiteFacts(path=ROOT / "configs" / "pinghu.yaml", name="平湖市", latitude=30.677, longitude=121.013)]
    out = tmp_path / "a" / "b.yaml"
    text = config_text(out, facts({"building_id": (10, 0)}, path=SAMPLE / "footprints.gpkg"), sites)
    line = next(x for x in text.splitlines() if x.startswith("extends:"))
    assert (out.parent / line.split(": ", 1)[1]).resolve() == (ROOT / "configs" / "pinghu.yaml").resolve()


@pytest.mark.slow
def test_outside_china_end_to_end(tmp_path, capsys):
    """Footprints at Greensboro, NC with the TMY3 file pvlib ships for it: UTM 17N,
    no traceback from init to survey."""
    import pvlib

    tmy3 = Path(pvlib.__file__).parent / "data" / "723170TYA.CSV"
    layer = tmp_path / "greensboro.geojson"
    gpd.GeoDataFrame({"osm_id": [1, 2, 3], "building": ["industrial", "house", "yes"]},
                     geometry=[box(-79.940, 36.070, -79.939, 36.0705), box(-79.938, 36.071, -79.9378, 36.0712),
                               box(-79.936, 36.072, -79.9355, 36.0724)], crs="EPSG:4326").to_file(layer)
    out = tmp_path / "greensboro.yaml"
    assert main(["init", str(layer), "--weather", str(tmy3), "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert "EPSG:32617" in text and "timezone: Etc/GMT+5" in text
    assert main(["validate", str(out), "--out", str(tmp_path / "o")]) == 0
    assert main(["survey", str(out), "--out", str(tmp_path / "o"), "--no-report", "--quiet"]) == 0
    b = gpd.read_file(tmp_path / "o" / "roofpv.gpkg", layer="buildings")
    assert b.crs.to_epsg() == 32617
    assert b.set_index("building_id").loc["1", "category"] == "factory"
    capsys.readouterr()


def test_starting_config_from_python(tmp_path):
    """roofpv.starting_config gives the text `roofpv init` writes, without the command
    line; the command writes it whole (no temporary file left beside it)."""
    import roofpv

    out = tmp_path / "mine.yaml"
    text = roofpv.starting_config(SAMPLE / "footprints.gpkg", out, configs=ROOT / "configs",
                                  survey=SAMPLE / "survey.xlsx", dsm=ROOT / "data" / "sample_tiles")
    assert "建筑编号 → building_id" in text and "0.5 × 0.5 pixels" in text
    assert main(["init", str(SAMPLE / "footprints.gpkg"), "--survey", str(SAMPLE / "survey.xlsx"),
                 "--dsm", str(ROOT / "data" / "sample_tiles"), "--out", str(tmp_path / "cli.yaml")]) == 0
    assert (tmp_path / "cli.yaml").read_text(encoding="utf-8") == text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cli.yaml"]
    out.write_text(text, encoding="utf-8")
    config = load_config(out)
    assert config.inputs.footprints == (SAMPLE / "footprints.gpkg").resolve()
    assert config.dsm.tiles == (ROOT / "data" / "sample_tiles").resolve()
def _layer(tmp_path, name, lat, lon):
    """Three small footprints around a point, WGS84."""
    d = 0.0005
    path = tmp_path / f"{name}.geojson"
    gpd.GeoDataFrame({"osm_id": [1, 2, 3]}, geometry=[box(lon + k * 2 * d, lat, lon + k * 2 * d + d, lat + d)
                                                      for k in range(3)], crs="EPSG:4326").to_file(path)
    return path


@pytest.mark.parametrize(("name", "lat", "lon", "station", "km", "province"), [
    # Hand distances (equirectangular): Guangzhou CSWD (23.17°N 113.33°E) 8.2 km, Nanning CSWD
    # (22.63°N 108.22°E) 25.6 km from the footprints' centre.
    ("guangzhou", 23.130, 113.260, "592870_CSWD", 8, "广东"),
    ("nanning", 22.817, 108.366, "594310_CSWD", 26, "广西"),
])
def test_init_southern_china_picks_the_nearest_station(tmp_path, capsys, name, lat, lon, station, km, province):
    layer = _layer(tmp_path, name, lat, lon)
    out = tmp_path / f"{name}.yaml"
    assert main(["init", str(layer), "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert f"  station: {station}\n  monthly: null\n  file: null" in text
    assert f", {km} km\n  # from the site; monthly means of CHN_" in text
    assert "github.com/gwyxjtu/eppy_for_power_load_generation/blob/f52597b" in text
    assert f"  province: {province}\n  # Beijing time, as all of China keeps.\n  timezone: Asia/Shanghai" in text
    assert f"# CHECK: roofpv has no prices or emission factor for {province}: those of pinghu.yaml (浙江)" in text
    config = load_config(out)
    assert config.weather.monthly.latitude == pytest.approx(lat, abs=0.3)
    assert main(["validate", str(out), "--out", str(tmp_path / "v")]) == 0
    told = " | ".join(f.problem for f in check_inputs(config).findings)
    assert "typical-year climate lies" not in told                  # within 150 km: nothing to say
    assert f"the prices (mechanism price, tariffs) are 浙江's, but the site lies in {province}" in told
    assert f"the grid emission factor is 浙江's, but the site lies in {province}" in told


def test_init_in_a_configured_province_extends_it(tmp_path):
    """A site in Shandong extends a Shandong jurisdiction (its prices hold), without CHECK on them."""
    text = config_text(tmp_path / "x.yaml", facts({"osm_id": (10, 0)}, lat=36.25, lon=117.1),
                       inspect.configured_sites(ROOT / "configs"))
    assert "configs/jinan.yaml" in text.split("extends: ", 1)[1].splitlines()[0]
    assert "# Prices, tariffs and emission factor are 山东's, from jinan.yaml (山东)" in text


def test_init_north_america_says_no_station_is_near(tmp_path):
    text = config_text(tmp_path / "x.yaml", facts({"osm_id": (10, 0)}, lat=39.74, lon=-104.99),
                       inspect.configured_sites(ROOT / "configs"))
    assert "this climate is 8,708 km away" in text and "  province: null" in text
    assert "timezone: Etc/GMT+7" in text


def _station_config(tmp_path, lat, lon, **weather):
    out = tmp_path / "site.yaml"
    out.write_text(
        f"extends: {(ROOT / 'configs' / 'pinghu.yaml').as_posix()}\n"
        f"site: {{name: s, latitude: {lat}, longitude: {lon}, province: 浙江}}\n"
        "weather: {station: 584570_CSWD, monthly: null"
        + "".join(f", {k}: {v}" for k, v in weather.items()) + "}\n", encoding="utf-8")
    return out


@pytest.mark.parametrize(("lat", "level", "text"), [
    (31.5, None, None),                                         # 142 km north of Hangzhou
    (31.7, "warning", "typical-year climate lies 163 km from the site (more than 150 km)"),
    (34.8, "error", "typical-year climate lies 507 km from the site (more than 500 km)"),
])
def test_validate_climate_distance_thresholds(tmp_path, lat, level, text):
    """Hangzhou CSWD (30.23°N 120.17°E) for a site due north of it, on the same meridian:
    by hand 1° of latitude ≈ 110.9 km, so 1.27° ≈ 141 km, 1.47° ≈ 163 km, 4.57° ≈ 507 km.
    The sample without its DSM: the distance does not depend on it."""
    config = load_config(_station_config(tmp_path, lat, 120.17))
    config = config.model_copy(update={"dsm": config.dsm.model_copy(update={"tiles": None})})
    found = [f for f in check_inputs(config).findings if "climate" in f.problem]
    if level is None:
        assert found == []
    else:
        (f,) = found
        assert f.level == level and text in f.problem
        assert "weather.station of " in f.file + f.problem


def test_climate_distance_limits_overridable(tmp_path):
    from roofpv.io.weather_files import load_weather

    config = load_config(_station_config(tmp_path, 34.8, 120.17, max_distance_km="null"))
    _, meta = load_weather(config)
    (f,) = meta["findings"]
    assert f.level == "warning" and "507 km" in f.problem
    config = load_config(_station_config(tmp_path, 31.7, 120.17, warn_distance_km=200))
    assert load_weather(config)[1]["findings"] == []


def test_init_with_a_ghi_only_monitoring_file(tmp_path):
    """A station's GHI-only export of one month (no location in the file): init reads it at
    the footprints' centre, validate reports the split and the part year, nothing fails."""
    from roofpv.io.weather_files import read_weather

    real, meta = read_weather(ROOT / "tests" / "data" / "real" / "weather"
                              / "CHN_HN_Changsha.576870_TMYx.2007-2021.epw.gz", tz="Asia/Shanghai")
    month = real.loc["2023-05"]
    csv = tmp_path / "changsha_may.csv"
    month[["ghi", "temp_air", "wind_speed"]].set_axis(month.index.strftime("%Y-%m-%dT%H:%M+08:00")) \
        .rename_axis("timestamp").reset_index().to_csv(csv, index=False)
    layer = _layer(tmp_path, "changsha", meta["latitude"], meta["longitude"])
    out = tmp_path / "changsha.yaml"
    assert main(["init", str(layer), "--weather", str(csv), "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert "  # hourly CSV file changsha_may.csv (stamps at interval start), part year: 744 of 8,760" in text
    assert "  # CHECK: 2 findings on reading it (values repaired, DNI/DHI split from GHI, hours not" in text
    problems = " | ".join(f.problem for f in check_inputs(load_config(out)).findings)
    assert "the file gives no DNI and DHI: split from GHI with the Erbs" in problems
    assert "the file covers 744 of 8,760 hours of a year (05-01 00:00 to 05-31 23:00)" in problems
    assert main(["validate", str(out), "--out", str(tmp_path / "v")]) == 0
