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
    assert "does\n  # not describe this site" in text
    config = load_config(out)
    assert config.inputs.footprints_id_column == "osm_id" and config.site.longitude == pytest.approx(8.5415)
    # Pinghu's monthly means cannot make a Zürich year: an error with a message, no traceback.
    assert main(["validate", str(out), "--out", str(tmp_path / "v")]) == 1
    assert main(["survey", str(out), "--out", str(tmp_path / "s"), "--no-report", "--quiet"]) == 2
    assert "belong to another climate" in " ".join(capsys.readouterr().err.split())


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
