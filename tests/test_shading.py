"""Horizon and shading loss against analytic answers."""

import numpy as np
import pandas as pd
import pvlib
import pytest

from roofpv.energy.weather import solar_position, typical_year
from roofpv.roofs import shading
from roofpv.roofs.raster import Raster as Grid

LAT, LON, ALT = 30.677, 121.013, 5.0
MONTHLY = dict(
    monthly_ghi_kwh_m2=[74.5, 80.2, 110.2, 131.2, 144.6, 134.4, 149.7, 148.8, 113.8, 96.3, 77.2, 75.5],
    monthly_temp_air_c=[5.0, 6.4, 10.3, 16.0, 21.0, 24.6, 28.1, 28.4, 24.4, 19.3, 13.1, 6.9],
    monthly_wind_m_s=[2.8] * 12,
)


@pytest.fixture(scope="module")
def weather():
    return typical_year(LAT, LON, ALT, **MONTHLY)[0]


@pytest.fixture(scope="module")
def table(weather):
    return shading.sun_table(weather, LAT, LON, ALT, tilts=np.arange(0.0, 41.0, 10.0))


def _plain(n=400, res=1.0):
    return np.zeros((n, n), np.float32), res


def test_wall_horizon_is_atan_h_over_d_in_its_sector_only():
    z, res = _plain()
    # The point sits at the centre of pixel (200, 200); a 1-pixel wall 12 m north of it.
    H, D = 9.0, 12
    z[200 - D, 200] = H
    grid = Grid(z, 0.0, 400.0, res)
    xy = np.array([[200.5, 400 - 200.5]])
    h = shading.horizon(grid, xy, np.zeros(1), n_sectors=36, radius_m=150)
    assert h[0, 0] == pytest.approx(np.degrees(np.arctan(H / D)), abs=1e-4)
    assert np.all(h[0, 1:] == 0)


@pytest.mark.parametrize("D", [40, 90])
def test_far_wall_is_found_and_seen_at_most_one_step_nearer(D):
    z, res = _plain()
    H = 20.0
    # A wall across the whole grid D m east of the point: the east sector sees it.
    z[:, 200 + D] = H
    grid = Grid(z, 0.0, 400.0, res)
    h = shading.horizon(grid, np.array([[200.5, 199.5]]), np.zeros(1), radius_m=150,
                        steps_per_octave=8)
    true = np.degrees(np.arctan(H / D))
    assert true - 1e-4 <= h[0, 9] <= np.degrees(np.arctan(H / (D * (1 - 1 / 8)))) + 1e-4
    assert h[0, 27] == 0  # west: nothing


def test_sky_view_factor_of_uniform_horizon():
    h = np.full((1, 36), 30.0)
    assert shading.sky_view_factor(h)[0] == pytest.approx(np.cos(np.radians(30)) ** 2)
    assert shading.sky_view_factor(np.zeros((1, 36)))[0] == 1.0


def test_open_horizon_loses_nothing_and_full_horizon_keeps_only_ground(table):
    loss, visible = shading.shading_loss(table, np.zeros((2, 36)), [0.0, 30.0], [180.0, 90.0])
    assert loss == pytest.approx([0.0, 0.0]) and visible == pytest.approx([1.0, 1.0])
    loss, visible = shading.shading_loss(table, np.full((1, 36), 90.0), [0.0], [180.0])
    assert loss[0] == pytest.approx(1.0) and visible[0] == pytest.approx(0.0, abs=1e-12)


def test_wall_loss_on_horizontal_plane_matches_hour_by_hour_sum(weather, table):
    """A wall of angle atan(H/D) = 45° over the south sectors 150°–210°: beam (and circumsolar)
    lost in the hours the sun is behind it, sky diffuse reduced by the horizontal
    sky-view factor, computed here directly from pvlib hour by hour."""
    h = np.zeros(36)
    south = np.arange(15, 22)
    h[south] = 45.0
    loss, _ = shading.shading_loss(table, h[None, :], [0.0], [0.0])

    sp = solar_position(weather, LAT, LON, ALT)
    zen, az = sp["apparent_zenith"].to_numpy(), sp["azimuth"].to_numpy()
    day = (zen < 90) & (weather["dni"] + weather["dhi"] > 0).to_numpy()
    w = weather[day]
    zen, az = zen[day], az[day]
    perez = pvlib.irradiance.perez(
        0.0, 0.0, w["dhi"].to_numpy(), w["dni"].to_numpy(),
        pvlib.irradiance.get_extra_radiation(w.index + pd.Timedelta(minutes=30)).to_numpy(),
        zen, az, pvlib.atmosphere.get_relative_airmass(zen), return_components=True)
    beam = w["dni"].to_numpy() * np.maximum(np.cos(np.radians(zen)), 0) + perez["poa_circumsolar"]
    sky = perez["poa_isotropic"] + perez["poa_horizon"]
    sector = np.rint(az / 10).astype(int) % 36
    blocked = (90 - zen) < h[sector]
    svf = np.mean(np.cos(np.radians(h)) ** 2)
    expected = (beam[blocked].sum() + sky.sum() * (1 - svf)) / (beam.sum() + sky.sum())
    assert loss[0] == pytest.approx(expected, rel=1e-3)  # sky quadrature vs cos²
    assert 0.1 < loss[0] < 0.5


def test_loss_grows_with_the_horizon(table):
    heights = np.linspace(0, 60, 7)
    h = np.repeat(heights[:, None], 36, axis=1)
    loss, _ = shading.shading_loss(table, h, np.full(7, 20.0), np.full(7, 180.0))
    assert np.all(np.diff(loss) > 0)
