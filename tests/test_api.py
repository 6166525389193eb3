"""The public Python interface: light import, the stages on one's own GeoDataFrame,
and the notebook example."""

import os
import subprocess
import sys

import geopandas as gpd
import numpy as np
import pytest
import shapely

import roofpv
from roofpv.errors import ApiInputError

from .conftest import ROOT


def _python(code: str, cwd=ROOT, timeout=600) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, *code], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


def test_import_is_light_and_names_load_on_use():
    done = _python(["-c", "import sys, roofpv; heavy = {'pandas', 'geopandas', 'pvlib', 'shapely'}; "
                    "print(sorted(heavy & set(sys.modules))); roofpv.assess; "
                    "print('pandas' in sys.modules)"])
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["[]", "True"]
    assert {"assess", "run", "load_config", "buildings_table", "hourly_weather"} <= set(dir(roofpv))
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        roofpv.nothing  # noqa: B018


@pytest.fixture(scope="module")
def hourly(config):
    return roofpv.hourly_weather(config)


def _rectangles(crs="EPSG:4549"):
    """Three flat roofs 20 m × 10 m (plus one empty geometry) near the Pinghu site."""
    x0, y0 = 597000.0, 3398000.0
    boxes = [shapely.box(x0 + 40 * i, y0, x0 + 40 * i + 20, y0 + 10) for i in range(3)]
    return gpd.GeoDataFrame({"建筑编号": ["a", "b", "c", "d"], "屋面类型": ["混凝土平屋面"] * 4,
                             "建筑类别": ["学校", "厂房", None, "厂房"]},
                            geometry=[*boxes, shapely.Polygon()], crs=crs)


def test_assess_own_geodataframe_with_chinese_headers(config, hourly):
    b = roofpv.assess(_rectangles(), config, weather=hourly)
    assert isinstance(b, gpd.GeoDataFrame) and b.crs == "EPSG:4549"
    assert b.index.tolist() == ["a", "b", "c", "d"]
    assert b["category"].tolist()[:2] == ["public_institution", "factory"]
    assert (b["roof_type"] == "concrete_flat").all()
    # The three equal roofs carry the same modules; the empty one none, with a reason.
    assert b["modules"].iloc[0] > 0 and b["modules"].iloc[:3].nunique() == 1
    assert b.at["d", "suitability"] == "unsuitable" and b.at["d", "capacity_kwp"] == 0
    # A 20 m × 10 m roof holds at most 200 m² / module area modules.
    assert b["pv_area_m2"].iloc[0] <= 200.0
    findings = b.attrs["findings"]
    assert (findings["building_id"] == "d").any()


def test_assess_returns_arrays_and_reprojects(config, hourly):
    frame = _rectangles().iloc[:3].to_crs("EPSG:4490").set_index("建筑编号")
    b, arrays = roofpv.assess(frame, config, weather=hourly, arrays=True)
    assert b.crs == "EPSG:4549" and b.index.name == "building_id"
    assert set(arrays["building_id"]) == {"a", "b", "c"}
    assert np.isclose(arrays.groupby("building_id")["kwp"].sum().to_numpy(),
                      b["capacity_kwp"].to_numpy()).all()


def test_api_input_errors(config):
    with pytest.raises(ApiInputError, match="no CRS"):
        roofpv.buildings_table(_rectangles().set_crs(None, allow_override=True), config)
    twice = _rectangles().assign(建筑编号=["a", "a", "b", "c"])
    with pytest.raises(ApiInputError, match="blank or repeated building_id"):
        roofpv.buildings_table(twice, config)
    assert issubclass(ApiInputError, roofpv.RoofpvError)


@pytest.mark.slow
def test_notebook_example_runs(tmp_path):
    done = _python([str(ROOT / "examples" / "notebook_api.py")], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "200 buildings:" in done.stdout and "(200 roofs measured)" in done.stdout
