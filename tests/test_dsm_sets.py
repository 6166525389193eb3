"""`roofpv init` → `validate` → `survey` on every real DSM set (tests/dsm_sets.py), as a
new user runs it: the footprints and the DSM folder (GeoTIFF tiles, or a folder of LAZ
point clouds) given to `init`, the DEM named as its CHECK comment asks, the weather the
set's own, and `crs` left as `init` writes it (null: the analysis CRS is the
DSM's own CRS when it is metric, so the DSM is not resampled)."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
import yaml

from . import dsm_sets as ds

pytestmark = pytest.mark.real_data

#: Sets whose chain fails today, and why.
FAILING: dict[str, str] = {}


def _roofpv(*args):
    return subprocess.run([sys.executable, "-m", "roofpv", *map(str, args)], capture_output=True, text=True)


def _params():
    for name in ds.SETS:
        yield pytest.param(name, "set", id=f"{name}-crs_of_the_data")
        marks = [pytest.mark.xfail(strict=True, reason=FAILING[name])] if name in FAILING else []
        yield pytest.param(name, "init", marks=marks, id=f"{name}-crs_as_init_writes")


@pytest.mark.parametrize("name, crs", list(_params()))
def test_init_validate_survey_with_a_dem_and_the_crs_init_writes(name, crs, tmp_path):
    """``crs``: "init" keeps the config's ``crs`` as ``init`` writes it (null); "set" gives
    the data's own CRS, so a failure of the rest of the chain is not hidden by the CRS's."""
    src = ds.SETS[name].parent
    own = yaml.safe_load(ds.SETS[name].read_text(encoding="utf-8"))
    dsm = own["dsm"]
    for item in ("buildings.gpkg", dsm["tiles"], dsm.get("dem")):
        if item:
            path = src / item
            (shutil.copytree(path, tmp_path / item, ignore=shutil.ignore_patterns("roofpv_grid"))
             if path.is_dir() else shutil.copy(path, tmp_path / item))
    config = tmp_path / "init.yaml"
    run = _roofpv("init", tmp_path / "buildings.gpkg", "--dsm", tmp_path / dsm["tiles"], "--out", config)
    assert run.returncode == 0, run.stderr[-2000:]
    text = yaml.safe_load(config.read_text(encoding="utf-8"))
    assert text["crs"] is None
    # What the CHECK comments ask for: the DEM folder, a point cloud's CRS, the site's weather.
    if dsm.get("dem"):
        text["dsm"]["dem"] = dsm["dem"]
    if "point_cloud_crs" in text["dsm"]:
        assert text["dsm"]["point_cloud_crs"] is None
        text["dsm"]["point_cloud_crs"] = dsm["point_cloud_crs"]
    text["weather"] = {"monthly": own["weather"]["monthly"]}
    if crs == "set":
        text["crs"] = own["crs"]
    config.write_text(yaml.safe_dump(text, allow_unicode=True), encoding="utf-8")
    for command in (("validate", "--lang", "en"), ("survey", "--no-report", "--quiet")):
        run = _roofpv(command[0], config, "--out", tmp_path / command[0], *command[1:])
        assert "Traceback" not in run.stderr, (command, run.stderr[-3000:])
        assert run.returncode == 0, (command, run.stdout[-2000:], run.stderr[-2000:])
