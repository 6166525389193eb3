"""QGIS styles and project document, on small hand-made layers."""

import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest

from roofpv.qgis import styles
from roofpv.qgis.project import project_xml
from roofpv.schema import field_alias

TARGETS = {"t1": "覆盖率"}


def test_quantile_breaks():
    assert styles.quantile_breaks(np.arange(1, 11), 5) == pytest.approx(
        [1.0, 2.8, 4.6, 6.4, 8.2, 10.0])
    assert styles.quantile_breaks([np.nan, np.nan]) == []
    assert styles.quantile_breaks([3.0, 3.0, np.nan]) == [3.0, 3.0]


@pytest.mark.parametrize("column, alias", [
    ("t1_coverage_today", "覆盖率·现状覆盖率"),
    ("t1_target_2025", "覆盖率·2025年目标"),
    ("t1_gap_kwp_2030", "覆盖率·2030年缺口(kWp)"),
    ("cohort_t1", "属于对象：覆盖率"),
    ("t1_something_else", None),
    ("t2_target_2025", None),
])
def test_target_aliases(column, alias):
    assert field_alias(column, TARGETS) == alias


def frames():
    buildings = pd.DataFrame({"suitability": ["suitable", "unsuitable"],
                              "specific_yield_kwh_kwp": [1100.0, np.nan], "geometry": [None, None]})
    towns = pd.DataFrame({"township": ["甲镇"], "t1_coverage_today": [0.1],
                          "t1_target_2025": [0.3], "t1_target_2030": [0.5]})
    plan = pd.DataFrame({"plan_rank": [1, 2, 3], "build_year": [2027, 2026, 2027]})
    return {"buildings": buildings, "townships": towns, "rollout_plan": plan}


def test_layer_styles_defaults_and_classes():
    out = styles.layer_styles(frames(), TARGETS)
    by_layer = {}
    for s in out:
        by_layer.setdefault(s.layer, []).append(s)
    assert [s.default for s in by_layer["buildings"]] == [True, False]
    # Two milestones × (today, potential) for the one target.
    assert len(by_layer["townships"]) == 4 and by_layer["townships"][0].default
    town = ET.fromstring(by_layer["townships"][0].qml)
    assert town.get("labelsEnabled") == "1"
    assert town.find("labeling/settings/text-style").get("fieldName") == "township"
    assert town.find("renderer-v2").get("attr") == '("t1_coverage_today" - "t1_target_2025") * 100'
    assert [r.get("lower") for r in town.iter("range")] == ["-100", "-20", "-10", "0", "10", "20"]
    plan = ET.fromstring(by_layer["rollout_plan"][0].qml)
    assert [c.get("value") for c in plan.iter("category")] == ["2026", "2027"]
    building = ET.fromstring(by_layer["buildings"][0].qml)
    assert {a.get("field"): a.get("name") for a in building.iter("alias")} == {
        "suitability": "适宜性", "specific_yield_kwh_kwp": "单位发电量(kWh/kWp)"}
    symbols = building.findall("renderer-v2/symbols/symbol")
    assert [s.get("name") for s in symbols] == ["0", "1", "2"]
    colour = symbols[0].find("layer/Option/Option[@name='color']").get("value")
    assert colour == "26,150,65,255"


def test_project_orders_layers_and_embeds_styles():
    out = styles.layer_styles(frames(), TARGETS)
    default = {s.layer: s.qml for s in out if s.default}
    xml = project_xml("t", "roofpv.gpkg", ["buildings", "townships", "rollout_plan", "extra"],
                      "EPSG:4549", "PROJCRS[...]", (0, 0, 10, 10), default)
    root = ET.fromstring(xml)
    ids = [e.get("id") for e in root.iter("layer-tree-layer")]
    assert ids == ["rollout_plan_roofpv", "buildings_roofpv", "townships_roofpv", "extra_roofpv"]
    layers = {e.find("id").text: e for e in root.iter("maplayer")}
    assert layers["townships_roofpv"].get("labelsEnabled") == "1"
    assert layers["buildings_roofpv"].find("renderer-v2").get("attr") == "suitability"
    assert layers["extra_roofpv"].find("renderer-v2") is None
    assert layers["buildings_roofpv"].find("datasource").text == "./roofpv.gpkg|layername=buildings"
    assert root.find("projectCrs/spatialrefsys/wkt").text == "PROJCRS[...]"
