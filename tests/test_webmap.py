"""Web-map datums: the GCJ-02 / BD-09 conversions and the decision on the evidence."""

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from roofpv.inputs import webmap
from roofpv.inputs.webmap import Fit, datum_findings

PINGHU = (121.013, 30.677)
EARTH_M = 6371000.0


def metres(lon0, lat0, lon1, lat1):
    """Local east and north distance between two lon/lat points [m]."""
    east = np.radians(np.subtract(lon1, lon0)) * EARTH_M * np.cos(np.radians(lat0))
    north = np.radians(np.subtract(lat1, lat0)) * EARTH_M
    return east, north


def test_gcj02_offset_near_pinghu_is_a_few_hundred_metres_east_and_south():
    lon, lat = webmap.wgs84_to_gcj02(*PINGHU)
    east, north = metres(*PINGHU, lon, lat)
    # Around Shanghai, web maps put features ~0.0045° east and ~0.0023° south of WGS84.
    assert 350 < east < 500 and -320 < north < -180
    assert webmap.shift_m(*PINGHU, "gcj02") == pytest.approx(np.hypot(east, north))
    # Baidu adds ~0.0065° E, 0.006° N on top: about a kilometre from WGS84.
    assert 900 < webmap.shift_m(*PINGHU, "bd09") < 1300


def test_no_offset_outside_china():
    assert webmap.wgs84_to_gcj02(2.35, 48.85) == (2.35, 48.85)


@settings(max_examples=200, deadline=None)
@given(lon=st.floats(73.0, 135.0), lat=st.floats(18.0, 53.0))
def test_round_trips_are_within_half_a_metre(lon, lat):
    for forward, datum in ((lambda x, y: webmap.wgs84_to_gcj02(x, y), "gcj02"),
                           (lambda x, y: webmap.gcj02_to_bd09(*webmap.wgs84_to_gcj02(x, y)), "bd09")):
        back = webmap.to_wgs84(*forward(lon, lat), datum)
        east, north = metres(lon, lat, *back)
        assert np.hypot(east, north) < 0.5


def test_unshift_moves_projected_footprints_back():
    box = shapely.box(597000, 3398000, 597020, 3398010)  # EPSG:4549, Pinghu
    truth = gpd.GeoSeries([box], crs="EPSG:4549")
    lonlat = truth.to_crs("EPSG:4326")
    gcj = shapely.transform(
        lonlat.to_numpy(), lambda xy: np.column_stack(webmap.wgs84_to_gcj02(xy[:, 0], xy[:, 1])))
    digitised = gpd.GeoSeries(gcj, crs="EPSG:4326").to_crs("EPSG:4549")
    assert digitised.distance(truth).iloc[0] > 300
    back = webmap.unshift(digitised, "gcj02")
    assert back.crs == digitised.crs
    assert shapely.hausdorff_distance(back.iloc[0], box) < 0.05
    assert webmap.unshift(digitised, None) is digitised


def test_hint_words_name_the_datum():
    assert webmap.hinted_datums(["building_id", "高德地图描绘"]) == {"高德": "gcj02"}
    assert webmap.hinted_datums(["Baidu_BD09.shp"]) == {"baidu": "bd09", "bd09": "bd09"}
    assert webmap.hinted_datums(["footprints.gpkg", "DH00001"]) == {}


SHIFT = {"gcj02": 490.0, "bd09": 1100.0}


def decide(fits, configured=None, hints=None, n=100):
    return datum_findings(fits, configured, n, hints or {}, SHIFT, "fp.gpkg")


def test_dsm_that_fits_only_after_correction_is_an_error():
    found = decide({None: Fit(3, 0, None), "gcj02": Fit(40, 37, None), "bd09": Fit(25, 4, None)})
    assert [f.level for f in found] == ["error"]
    assert "only if read as GCJ-02" in found[0].problem
    assert "GCJ-02 (Amap/Tencent): 37 of 40" in found[0].problem
    assert "untested (the tiles reach 3 footprints there)" in found[0].problem
    assert "inputs.footprints_datum: gcj02" in found[0].fix and "490 m" in found[0].fix


def test_dsm_that_fits_as_declared_is_a_note_and_silences_hints():
    fits = {None: Fit(51, 50, 100), "gcj02": Fit(51, 8, 90), "bd09": Fit(0, 0, 60)}
    found = decide(fits, hints={"高德": "gcj02"})
    assert [f.level for f in found] == ["info", "info"]
    assert "WGS84/CGCS2000 (no shift) fits" in found[0].problem
    assert "mentions 高德" in found[1].problem


def test_configured_datum_contradicted_by_the_dsm():
    found = decide({None: Fit(30, 29, None), "gcj02": Fit(30, 5, None), "bd09": Fit(0, 0, None)},
                   configured="gcj02")
    assert [f.level for f in found] == ["info", "error"]
    assert "converted from GCJ-02" in found[0].problem
    assert "remove inputs.footprints_datum" in found[1].fix


def test_townships_and_names_without_dsm():
    no_dsm = Fit(0, 0, None)
    fits = {None: no_dsm, "gcj02": no_dsm, "bd09": no_dsm}
    towns = {d: Fit(0, 0, k) for d, k in ((None, 80), ("gcj02", 99), ("bd09", 70))}
    found = decide(towns)
    assert [f.level for f in found] == ["warning"]
    assert "outside every township: WGS84/CGCS2000 (no shift): 20 of 100; GCJ-02 (Amap/Tencent): 1 of 100" \
        in found[0].problem
    # Small differences are not evidence.
    assert decide({d: Fit(0, 0, k) for d, k in ((None, 98), ("gcj02", 99), ("bd09", 97))}) == []
    named = decide(fits, hints={"百度": "bd09"})
    assert [f.level for f in named] == ["info", "warning"] and "BD-09" in named[1].problem
    assert "inputs.footprints_datum: bd09" in named[1].fix


def test_says_when_the_datum_check_could_not_run_and_why():
    untested = {d: Fit(0, 0, None) for d in (None, "gcj02", "bd09")}
    (note,) = decide(untested)
    assert note.level == "info" and note.column == "geometry"
    assert note.problem.startswith("the web-map datum check (GCJ-02/BD-09) could not run: no DSM (dsm.tiles); "
                                   "no township layer (inputs.townships)")
    assert "~490–1100 m" in note.problem and "give dsm.tiles or inputs.townships" in note.fix
    # DSM tiles given but reaching too few footprints: the reason says so
    sparse = {None: Fit(3, 3, None), "gcj02": Fit(4, 1, None), "bd09": Fit(0, 0, None)}
    (note,) = datum_findings(sparse, None, 100, {}, SHIFT, "fp.gpkg", dsm=True)
    assert "the DSM tiles reach 4 footprints at most (10 needed)" in note.problem
    # any evidence: no such note
    assert decide({d: Fit(0, 0, 100) for d in (None, "gcj02", "bd09")}) == []
    assert all("could not run" not in f.problem
               for f in decide({None: Fit(51, 50, None), "gcj02": Fit(51, 8, None), "bd09": Fit(0, 0, None)}))
