"""Facade BIPV (roofpv.surfaces): walls from footprints, party walls, usable share, shading
by the buildings in front, and a south wall computed by hand."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pvlib
import pytest
import shapely
import yaml

from roofpv.config import load_config
from roofpv.energy.weather import interval_midpoints, solar_position
from roofpv.errors import ConfigError
from roofpv.io.weather_files import load_weather
from roofpv.surfaces import facades, walls

CRS = "EPSG:4549"  # CGCS2000 3° Gauss-Krüger, the sample's; walls here run along its grid


@pytest.fixture(scope="module")
def hourly(config):
    return load_weather(config)[0]


@pytest.fixture(scope="module")
def tables(config, hourly):
    return facades.tables(config, hourly)


def buildings(boxes, heights, category="urban_residential"):
    """Buildings of the given (xmin, ymin, xmax, ymax) boxes and roof heights [m]."""
    ids = [f"B{i}" for i in range(len(boxes))]
    return gpd.GeoDataFrame(
        {"roof_height_m": heights, "category": category, "township": "T"},
        geometry=[shapely.box(*b) for b in boxes], index=pd.Index(ids, name="building_id"), crs=CRS)


def test_south_wall_by_hand(config, tables):
    # 20 m × 10 m, 12 m high (four storeys), alone: no neighbour hides or shades it.
    b = buildings([(500_000, 3_400_000, 500_020, 3_400_010)], [12.0])
    layer = facades.facade_layer(b, config, tables, CRS)
    assert sorted(layer["orientation"]) == ["E", "N", "S", "W"]
    south = layer.set_index("orientation").loc["S"]
    assert south["azimuth_deg"] == pytest.approx(180.0)
    assert south["length_m"] == pytest.approx(20.0)
    assert south["wall_area_m2"] == pytest.approx(240.0)       # 20 m × 12 m
    assert south["band_bottom_m"] == pytest.approx(3.0)        # the ground storey is left out
    # 20 m × 9 m above the ground storey, less JGJ 134's 45 % south windows (the Pinghu
    # config: hot-summer/cold-winter zone), less 25 % other.
    assert south["usable_area_m2"] == pytest.approx(20 * 9 * (1 - 0.45) * (1 - 0.25))  # 74.25 m²
    assert south["kwp"] == pytest.approx(74.25 * 150 / 1000)                         # 11.1375 kWp
    # Tilt 90°, azimuth 180°: a node of the table (tilts 80, 90; azimuths every 10°).
    j = list(tables.yields.azimuths).index(180.0)
    assert south["poa_kwh_m2"] == pytest.approx(tables.yields.poa_annual_kwh_m2[1, j])
    assert south["specific_yield_kwh_kwp"] == pytest.approx(tables.yields.annual_kwh_per_kwp[1, j])
    assert south["shading_loss"] == pytest.approx(0.0, abs=1e-12)
    assert south["annual_kwh"] == pytest.approx(11.1375 * tables.yields.annual_kwh_per_kwp[1, j])
    # A south wall at Pinghu (30.7° N) gets about 60-70 % of the horizontal irradiation.
    assert 0.55 < tables.yields.poa_annual_kwh_m2[1, j] / 1000 / (load_weather(config)[0]["ghi"].sum() / 1e6) < 0.8
    # The north wall is too dark for modules: no usable area, shading not assessed.
    north = layer.set_index("orientation").loc["N"]
    assert north["usable_area_m2"] == 0 and north["kwp"] == 0 and np.isnan(north["shading_loss"])
    totals = facades.building_totals(layer, b.index)
    assert totals.loc["B0", "facade_kwp"] == pytest.approx(layer["kwp"].sum())
    assert totals.loc["B0", "facade_annual_kwh"] == pytest.approx(layer["annual_kwh"].sum())


def test_party_walls_hide_up_to_the_neighbours_height(config, tables):
    # Row houses: A (12 m) and B (6 m) share a wall, digitised with a 0.3 m gap; C (12 m)
    # shares B's other wall exactly.
    b = buildings([(0, 0, 10, 10), (10.3, 0, 20, 10), (20, 0, 30, 10)], [12.0, 6.0, 12.0])
    layer = facades.facade_layer(b, config, tables, CRS).set_index(["building_id", "orientation"])
    assert layer.loc[("B0", "E"), "wall_height_m"] == pytest.approx(6.0)      # hidden up to B's 6 m
    assert layer.loc[("B0", "E"), "band_bottom_m"] == pytest.approx(6.0)
    assert layer.loc[("B1", "W"), "wall_area_m2"] == 0                         # B is lower: all hidden
    assert layer.loc[("B1", "E"), "wall_area_m2"] == 0
    assert layer.loc[("B1", "E"), "kwp"] == 0
    assert layer.loc[("B2", "W"), "wall_height_m"] == pytest.approx(6.0)
    assert layer.loc[("B0", "W"), "wall_height_m"] == pytest.approx(12.0)     # the end walls are free


def test_segments_of_a_courtyard_and_a_multipolygon():
    ring = shapely.Polygon([(0, 0), (0, 30), (30, 30), (30, 0)], [[(10, 10), (20, 10), (20, 20), (10, 20)]])
    multi = shapely.MultiPolygon([shapely.box(100, 0, 110, 5), shapely.box(120, 0, 125, 5)])
    e = walls.segments(np.array([ring, multi, None], dtype=object))
    assert np.bincount(e["owner"]).tolist() == [8, 8]
    outer = e["exterior"] & (e["owner"] == 0)
    # Outer walls face away from the building, courtyard walls into the courtyard.
    assert sorted(np.round(e["azimuth_deg"][outer])) == [0, 90, 180, 270]
    hole = ~e["exterior"]
    centre_side = np.column_stack([(e["x0"] + e["x1"]) / 2 + e["nx"], (e["y0"] + e["y1"]) / 2 + e["ny"]])[hole]
    assert shapely.contains_xy(shapely.box(10, 10, 20, 20), centre_side[:, 0], centre_side[:, 1]).all()


def test_obstruction_in_front_by_hand(config, tables):
    # A 20 m high block 15 m south of a 12 m high building's south wall.
    b = buildings([(0, 0, 20, 10), (-30, -35, 50, -15)], [12.0, 20.0])
    g = b.geometry.to_numpy()
    e = walls.segments(g)
    south = np.flatnonzero((e["owner"] == 0) & (np.round(e["azimuth_deg"]) == 180))
    tan = walls.facing_obstruction(walls.subset(e, south), np.array([7.5]), g, b["roof_height_m"].to_numpy(),
                                   e, 0.5, 60.0)
    assert tan == pytest.approx([(20 - 7.5) / 15])
    layer = facades.facade_layer(b, config, tables, CRS).set_index(["building_id", "orientation"])
    assert layer.loc[("B0", "S"), "shading_loss"] == pytest.approx(
        facades.canyon_loss(tables, 180.0, (20 - 7.5) / 15))
    assert layer.loc[("B0", "S"), "shading_loss"] > 0.2


@pytest.mark.parametrize("azimuth, angle", [(180.0, 15.0), (180.0, 45.0), (90.0, 30.0), (135.0, 60.0)])
def test_canyon_loss_against_an_hourly_reference(config, hourly, tables, azimuth, angle):
    """The canyon table against an independent hour-by-hour computation with pvlib: beam
    and circumsolar lost while the sun is below the far side, isotropic and horizon-band
    sky scaled by the wall's 2-D view of the sky over an endless street side,
    (1 − sin θ)/2 of a free wall's 1/2."""
    site = config.site
    pos = solar_position(hourly, site.latitude, site.longitude, site.altitude_m)
    zenith, sun_az = pos["apparent_zenith"].to_numpy(), pos["azimuth"].to_numpy()
    day = (zenith < 90) & (hourly["dni"].to_numpy() + hourly["dhi"].to_numpy() > 0)
    dni, dhi, ghi = (hourly[c].to_numpy()[day] for c in ("dni", "dhi", "ghi"))
    zenith, sun_az = zenith[day], sun_az[day]
    extra = pvlib.irradiance.get_extra_radiation(interval_midpoints(hourly.index[day])).to_numpy()
    parts = pvlib.irradiance.perez(90, azimuth, dhi, dni, extra, zenith, sun_az,
                                   pvlib.atmosphere.get_relative_airmass(zenith), return_components=True)
    beam = dni * np.maximum(np.cos(np.radians(pvlib.irradiance.aoi(90, azimuth, zenith, sun_az))), 0)
    beam = beam + np.nan_to_num(parts["poa_circumsolar"])
    sky = np.nan_to_num(parts["poa_isotropic"] + parts["poa_horizon"])
    ground = pvlib.irradiance.get_ground_diffuse(90, ghi, config.system.albedo)
    t = np.tan(np.radians(angle))
    far_side = np.degrees(np.arctan(t * np.maximum(np.cos(np.radians(sun_az - azimuth)), 0)))
    blocked = beam[90 - zenith < far_side].sum() + sky.sum() * np.sin(np.radians(angle))
    reference = blocked / (beam.sum() + sky.sum() + ground.sum())
    # Sectors of 15° and whole-degree elevations: within 1.5 points of the exact hours
    # (0.7 points at most measured at 15-60° on the three azimuths).
    assert facades.canyon_loss(tables, azimuth, t) == pytest.approx(reference, abs=0.015)


def test_config_use_over_the_defaults_and_its_errors(tmp_path):
    from .conftest import ROOT

    def config(use):
        path = tmp_path / "c.yaml"
        path.write_text(yaml.safe_dump({"extends": str(ROOT / "configs" / "pinghu.yaml"), "facades": {"use": use}}),
                        encoding="utf-8")
        return load_config(path)

    use = config({"factory": {"other_excluded": 0.2}}).facades.use
    assert use["factory"].other_excluded == 0.2 and use["factory"].window_to_wall["S"] == 0.30
    assert use["urban_residential"].window_to_wall["S"] == 0.45   # Pinghu's JGJ 134 kept
    with pytest.raises(ConfigError, match=r"facades\.use\.factory\.window_to_wall.*W"):
        config({"factory": {"window_to_wall": {"N": 0.3, "E": 0.3, "S": 0.3}}})


def test_courtyard_walls_face_into_the_courtyard_and_are_shaded_by_its_far_side(config, tables):
    # A 60 m × 60 m block, 15 m high, around a 20 m × 20 m courtyard.
    ring = shapely.Polygon([(0, 0), (60, 0), (60, 60), (0, 60)], [[(20, 20), (20, 40), (40, 40), (40, 20)]])
    b = gpd.GeoDataFrame({"roof_height_m": [15.0], "category": "urban_residential", "township": "T"},
                         geometry=[ring], index=pd.Index(["B0"], name="building_id"), crs=CRS)
    layer = facades.facade_layer(b, config, tables, CRS)
    assert len(layer) == 8
    inner = layer[layer["length_m"] < 30].set_index("orientation")
    assert sorted(inner.index) == ["E", "N", "S", "W"]
    # From the middle of the band (9 m) of the courtyard's south-facing wall the block
    # rises 6 m: 20 m away straight ahead (tan 0.3), 10·√2 m away along the rays at ±45°,
    # which meet the side walls (tan 6 / (10·√2), i.e. 0.6 as a street side, / cos 45°).
    assert inner.loc["S", "shading_loss"] == pytest.approx(
        facades.canyon_loss(tables, 180.0, (0.3 + 0.6 + 0.6) / 3), abs=1e-6)
    assert inner.loc["S", "shading_loss"] > layer[layer["length_m"] > 30].set_index("orientation").loc["S",
                                                                                                   "shading_loss"]


def test_neighbours_beyond_a_rays_reach_are_left_out(config, tables):
    # Neighbours 15 m, 55 m and 70 m south of a 20 m wide building; the rays reach
    # party_wall_gap_m + radius_m = 0.5 + 60 m (+ 1 m): the first two are kept.
    b = buildings([(0, 0, 20, 10)], [12.0])
    around = buildings([(-30, -35, 50, -15), (-30, -75, 50, -55), (-30, -100, 50, -80)], [20.0, 90.0, 200.0])
    around.index = pd.Index(["N15", "N55", "N70"], name="building_id")
    kept = facades.within_reach(around, b, config)
    assert list(kept.index) == ["N15", "N55"]
    # The walls are the same with the neighbours in reach as with all of them.
    pd.testing.assert_frame_equal(facades.facade_layer(b, config, tables, CRS, around=kept),
                                  facades.facade_layer(b, config, tables, CRS, around=around))
