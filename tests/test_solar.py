import numpy as np
import pytest

from roofpv.energy.solar import (
    YieldTable,
    interpolate,
    interpolate_monthly,
    plane_yield_exact,
    yield_table,
)
from roofpv.energy.weather import typical_year

from .conftest import GHI, SITE, TEMP, WIND

SYSTEM = {"noct_installed": 49.0, "gamma_pdc": -0.0034, "losses_pct": 14.08}
TILTS = np.arange(0, 61, 5)
AZIMUTHS = np.arange(0, 360, 10)


@pytest.fixture(scope="module")
def weather():
    return typical_year(**SITE, monthly_ghi_kwh_m2=GHI,
                        monthly_temp_air_c=TEMP, monthly_wind_m_s=WIND)[0]


@pytest.fixture(scope="module")
def table(weather):
    return yield_table(weather, **SITE, tilts=TILTS, azimuths=AZIMUTHS,
                       **SYSTEM)


def exact(weather, tilt, azimuth, **system):
    return plane_yield_exact(weather, **SITE, tilt=tilt, azimuth=azimuth,
                             **{**SYSTEM, **system})


def test_table_layout(table):
    assert isinstance(table, YieldTable)
    np.testing.assert_array_equal(table.tilts, TILTS)
    np.testing.assert_array_equal(table.azimuths, AZIMUTHS)
    assert table.annual_kwh_per_kwp.shape == (13, 36)
    assert table.poa_annual_kwh_m2.shape == (13, 36)
    assert table.poa_monthly_kwh_m2.shape == (12, 13, 36)
    np.testing.assert_allclose(table.poa_monthly_kwh_m2.sum(axis=0), table.poa_annual_kwh_m2)
    assert table.monthly_kwh_per_kwp.shape == (12, 13, 36)
    np.testing.assert_allclose(table.monthly_kwh_per_kwp.sum(axis=0),
                               table.annual_kwh_per_kwp)
    assert (table.monthly_kwh_per_kwp > 0).all()


def test_horizontal_poa_equals_ghi(weather, table):
    np.testing.assert_allclose(table.poa_annual_kwh_m2[0],
                               weather["ghi"].sum() / 1000, rtol=1e-5)
    np.testing.assert_allclose(table.poa_monthly_kwh_m2[:, 0, 0],
                               weather["ghi"].groupby(weather.index.month).sum() / 1000, rtol=1e-5)
    np.testing.assert_allclose(table.annual_kwh_per_kwp[0],
                               table.annual_kwh_per_kwp[0, 0])


def test_yield_falls_from_south_to_north_through_east(table):
    south_to_north = table.annual_kwh_per_kwp[TILTS == 30][0, 18::-1]
    assert (np.diff(south_to_north) < 0).all()


def test_optimal_south_tilt(weather):
    tilts = np.arange(10.0, 36.0)
    optimum = tilts[np.argmax(exact(weather, tilts, 180))]
    assert 15 <= optimum <= 28


def test_specific_yield_25_south(weather):
    assert 1000 < exact(weather, 25, 180) < 1250


def test_exact_equals_table_at_nodes(weather, table):
    np.testing.assert_allclose(exact(weather, [25, 60], [180, 90]),
                               table.annual_kwh_per_kwp[[5, 12], [18, 9]])


def test_interpolation_error(weather, table):
    rng = np.random.default_rng(42)
    tilt = rng.uniform(0, 60, 200)
    azimuth = rng.uniform(0, 360, 200)
    error = interpolate(table, tilt, azimuth) / exact(weather, tilt,
                                                      azimuth) - 1
    assert np.abs(error).max() <= 0.005


def test_interpolation_wraps_and_clips(table):
    at_nodes = interpolate(table, TILTS[:, None], AZIMUTHS)
    np.testing.assert_allclose(at_nodes, table.annual_kwh_per_kwp)
    tilt = np.array([12.3, 40.0, 7.0])
    azimuth = np.array([355.0, 2.5, 181.0])
    np.testing.assert_allclose(interpolate(table, tilt, azimuth - 720),
                               interpolate(table, tilt, azimuth))
    np.testing.assert_allclose(
        interpolate(table, 30, 355),
        table.annual_kwh_per_kwp[6, [35, 0]].mean())
    np.testing.assert_allclose(interpolate(table, [75, -5], 180),
                               table.annual_kwh_per_kwp[[12, 0], 18])


def test_interpolate_monthly(table):
    tilt = np.array([3.0, 22.0, 58.0])
    azimuth = np.array([10.0, 185.0, 271.0])
    monthly = interpolate_monthly(table, tilt, azimuth)
    assert monthly.shape == (3, 12)
    np.testing.assert_allclose(monthly.sum(axis=1),
                               interpolate(table, tilt, azimuth))


def test_system_parameters(weather):
    base = exact(weather, 25, 180)
    # A cooler mounting yields more; roughly gamma × the NOCT difference.
    open_rack = exact(weather, 25, 180, noct_installed=45.0)
    insulated = exact(weather, 25, 180, noct_installed=63.0)
    assert 1.003 < open_rack / base < 1.02
    assert 0.93 < insulated / base < 0.985
    assert exact(weather, 25, 180, ar_glass=False) < base
    # Losses scale DC power; the inverter's part-load curve and clipping move AC by < 0.4 %.
    np.testing.assert_allclose(exact(weather, 25, 180, losses_pct=0) * 0.8592,
                               base, rtol=0.004)
    assert exact(weather, 25, 180, dc_ac_ratio=2.0) < 0.95 * base


@pytest.mark.parametrize("kwargs", [
    {"noct_installed": "open_rack"},
    {"tilts": [30]},
    {"azimuths": [0, 180, 360]},
])
def test_invalid_input(weather, kwargs):
    arguments = {"tilts": TILTS, "azimuths": AZIMUTHS, **SYSTEM, **kwargs}
    with pytest.raises(ValueError):
        yield_table(weather, **SITE, **arguments)


def test_lifetime_energy_by_hand():
    from roofpv.energy.solar import lifetime_energy

    # 1000 + 990 + 980.1 = 2970.1
    assert lifetime_energy(1000.0, 3, 0.01) == pytest.approx(2970.1)
    assert lifetime_energy(1000.0, 25, 0.0) == pytest.approx(25000.0)
    assert lifetime_energy(1000.0, 0, 0.005) == 0.0
    np.testing.assert_allclose(lifetime_energy([1000.0, 2000.0], 2, 0.5),
                               [1500.0, 3000.0])
    # 25 years at 0.55 %/year: sum of 0.9945**k, k = 0..24
    assert lifetime_energy(1.0, 25, 0.0055) == pytest.approx(
        sum(0.9945 ** k for k in range(25)))
    for years, rate in ((-1, 0.01), (2.5, 0.01), (10, 1.0), (10, -0.01)):
        with pytest.raises(ValueError):
            lifetime_energy(1000.0, years, rate)


def test_cover_transmission_as_pvwatts():
    from roofpv.energy.solar import cover_transmission

    beam, sky, ground = cover_transmission(np.array([0.0, 30.0, 60.0, 80.0, 95.0]), 20.0)
    # Coated glass loses nothing up to about 50°, then falls steeply.
    np.testing.assert_allclose(beam[:2], 1.0)
    assert 1.0 > beam[2] > beam[3] > beam[4] > 0.0
    plain = cover_transmission(np.array([0.0, 60.0]), 20.0, ar_glass=False)[0]
    assert plain[0] == pytest.approx(1.0) and plain[1] < beam[2]
    # Brandemuehl-Beckman angles at 20°: sky 57.5°, ground 77.5°.
    assert 0.85 < sky < 1.0 and 0.5 < ground < sky


def test_tables_for_several_nocts_share_irradiance(weather):
    from roofpv.energy.solar import yield_tables_for

    cool, hot = yield_tables_for(weather, **SITE, tilts=[0, 30], azimuths=[90, 180],
                                 noct_installed=[45.0, 63.0], gamma_pdc=-0.0034, losses_pct=14.08)
    np.testing.assert_array_equal(cool.poa_monthly_kwh_m2, hot.poa_monthly_kwh_m2)
    assert (cool.annual_kwh_per_kwp > hot.annual_kwh_per_kwp).all()
    single = yield_table(weather, **SITE, tilts=[0, 30], azimuths=[90, 180], noct_installed=63.0,
                         gamma_pdc=-0.0034, losses_pct=14.08)
    np.testing.assert_allclose(single.annual_kwh_per_kwp, hot.annual_kwh_per_kwp)


def test_interpolate_field(table):
    from roofpv.energy.solar import interpolate_field

    tilt, azimuth = np.array([3.0, 22.0, 58.0]), np.array([10.0, 185.0, 271.0])
    np.testing.assert_allclose(interpolate_field(table, "annual_kwh_per_kwp", tilt, azimuth),
                               interpolate(table, tilt, azimuth))
    np.testing.assert_allclose(interpolate_field(table, "monthly_kwh_per_kwp", tilt, azimuth),
                               interpolate_monthly(table, tilt, azimuth))
    poa = interpolate_field(table, "poa_monthly_kwh_m2", tilt, azimuth)
    assert poa.shape == (3, 12)
    np.testing.assert_allclose(poa.sum(axis=1),
                               interpolate_field(table, "poa_annual_kwh_m2", tilt, azimuth))
