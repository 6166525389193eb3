"""Property-based tests: random geometries and attribute values either go through the
stages with every building accounted for, or stop with a clear error."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from roofpv.energy import solar
from roofpv.errors import SurveyError
from roofpv.inputs.inventory import (
    fill_from_footprints,
    footprint_attributes,
    join_survey,
    resolve_overlaps,
    to_analysis_crs,
)
from roofpv.inputs.survey_table import normalise_survey
from roofpv.io.weather_files import load_weather
from roofpv.run import stages
from roofpv.schema import COLUMN_ALIASES, VOCABULARIES

X0, Y0 = 500_000.0, 3_394_000.0
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

coords = st.floats(-60, 60, allow_nan=False)
rings = st.lists(st.tuples(coords, coords), min_size=0, max_size=7)


@st.composite
def footprint(draw):
    kind = draw(st.sampled_from(["box", "ring", "empty", "multi"]))
    if kind == "box":
        x, y = draw(coords), draw(coords)
        w, h = draw(st.floats(0.1, 120)), draw(st.floats(0.1, 120))
        g = shapely.affinity.rotate(shapely.box(x, y, x + w, y + h), draw(st.floats(0, 180)))
    elif kind == "ring":
        pts = draw(rings)
        g = shapely.Polygon(pts) if len(pts) >= 3 else shapely.Polygon()
    elif kind == "multi":
        g = shapely.MultiPolygon([shapely.box(0, 0, 10, 10), shapely.box(20, 0, 25, 30)])
    else:
        g = shapely.Polygon()
    return shapely.affinity.translate(g, X0, Y0)


def cell(field):
    known = [s for spellings in VOCABULARIES[field].values() for s in spellings]
    return st.one_of(st.none(), st.sampled_from(known), st.text(max_size=6), st.integers(-5, 5))


number = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=False, width=32),
                   st.text(max_size=8), st.sampled_from(["150kg/m²", "'2019", "2亩", "0.5MW", " 3 "]))


@st.composite
def survey_rows(draw, n):
    return pd.DataFrame({
        "建筑编号": [f"B{i}" for i in range(n)],
        **{header: [draw(cell(field)) for _ in range(n)] for header, field in
           [("建筑类别", "category"), ("屋面类型", "roof_type"), ("遮挡情况", "shading"),
            ("并网条件", "grid_condition"), ("权属", "owner_type")]},
        **{header: [draw(number) for _ in range(n)] for header in
           ["屋面荷载", "建成年份", "建筑面积", "已装光伏容量", "已装光伏面积"]},
    }, dtype=object)


@pytest.fixture(scope="module")
def tables(config):
    hourly, _ = load_weather(config)
    return solar.yield_tables(config, hourly)


@SETTINGS
@given(data=st.data())
def test_random_buildings_are_all_accounted_for(config, tables, data):
    n = data.draw(st.integers(1, 8))
    geoms = [data.draw(footprint()) for _ in range(n)]
    fp = gpd.GeoDataFrame(geometry=geoms, index=pd.Index([f"B{i}" for i in range(n)], name="building_id"),
                          crs="EPSG:4549")
    survey, _ = normalise_survey(data.draw(survey_rows(n)), "s.csv")
    b, _ = join_survey(fp, survey, "s.csv")
    b = fill_from_footprints(b, footprint_attributes(pd.DataFrame(index=b.index)))
    b, _ = to_analysis_crs(b, "EPSG:4549")
    b, _ = resolve_overlaps(b)          # random footprints may overlap: counted once
    b["township"] = "甲镇"
    b["township_source"] = "survey"
    b = stages.resolve_roofs(b, config)
    b = stages.building_layout(b, stages.lay_out(b, config, tables)[0], config)
    out = stages.finish(b, config)
    assert out.index.tolist() == fp.index.tolist()
    assert out["suitability"].isin(["suitable", "conditional", "unsuitable"]).all()
    assert (out["capacity_kwp"] >= 0).all() and out["capacity_kwp"].notna().all()
    assert np.isfinite(out["annual_kwh"]).all()
    assert (out.loc[out["suitability"] == "unsuitable", "capacity_kwp"] == 0).all()
    assert (out.loc[~out["geometry"].is_valid | out["geometry"].is_empty, "suitability"] == "unsuitable").all()


@SETTINGS
@given(headers=st.lists(st.one_of(st.text(max_size=6), st.sampled_from(
    [a for aliases in COLUMN_ALIASES.values() for a in aliases])), min_size=1, max_size=6),
    data=st.data())
def test_random_tables_normalise_or_fail_clearly(headers, data):
    rows = data.draw(st.integers(0, 5))
    raw = pd.DataFrame({f"{h}_{i}" if headers.count(h) > 1 else h: [data.draw(number) for _ in range(rows)]
                        for i, h in enumerate(headers)}, dtype=object)
    try:
        table, findings = normalise_survey(raw, "s.xlsx")
    except SurveyError as exc:
        assert "s.xlsx" in str(exc)
        return
    assert len(table) <= rows
    assert table.index.is_unique
