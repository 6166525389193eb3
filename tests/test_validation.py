"""
Validation of the yield model against NREL's PVWatts v8 (SAM Simulation Core
via PySAM); the figures are tabulated in docs/validation.md.
"""

import os
from pathlib import Path

import numpy as np
import pvlib
import pytest

from roofpv.io.weather import read_weather
from roofpv.solar import plane_yield_exact, yield_table
from roofpv.weather import typical_year

from .conftest import GHI, TEMP, WIND
from .conftest import SITE as PINGHU

SHARED_DATA = Path(os.environ.get("ROOFPV_SHARED_DATA",
                                  Path(__file__).resolve().parents[2] / "shared" / "data"))
SHANGHAI_EPW = SHARED_DATA / "Shanghai-Hongqiao_1956_2023_TMYx.epw"
GREENSBORO_TMY3 = Path(os.path.dirname(pvlib.__file__)) / "data" / "723170TYA.CSV"
REAL_WEATHER = Path(__file__).resolve().parent / "data" / "real" / "weather"
#: Weather files of the cross-check: the TMY3 file pvlib ships, every EPW
#: under tests/data/real/weather, and the shared Shanghai file when present.
WEATHER_FILES = [
    pytest.param(GREENSBORO_TMY3, None, id="greensboro_tmy3"),
    *(pytest.param(p, "Asia/Shanghai", id=p.stem, marks=pytest.mark.real_data)
      for p in sorted(REAL_WEATHER.glob("*.epw"))),
    pytest.param(SHANGHAI_EPW, "Asia/Shanghai", id="shanghai_tmyx", marks=[
        pytest.mark.real_data,
        pytest.mark.skipif(not SHANGHAI_EPW.is_file(),
                           reason=f"real weather file absent: {SHANGHAI_EPW}")]),
]
#: PVWatts v8 standard module (γ −0.37 %/°C, anti-reflective glass), 14.08 %
#: losses, DC/AC 1.2, inverter 96 %, albedo 0.2.
PVWATTS_V8 = {"gamma_pdc": -0.0037, "losses_pct": 14.08, "inverter_eff_nom": 0.96,
              "dc_ac_ratio": 1.2, "albedo": 0.2}
#: PVWatts array type → installed NOCT of the Fuentes model (PVWatts v8).
MOUNTINGS = {0: ("open rack", 45.0), 1: ("roof mount", 49.0)}
ORIENTATIONS = [(0, 180), (20, 180), (30, 180), (10, 135), (20, 90), (40, 270)]
FLUSH = {"noct_installed": 49.0, "gamma_pdc": -0.0034, "losses_pct": 14.08}


def site(meta):
    return {k: meta[k] for k in ("latitude", "longitude", "altitude")}


def pvwatts_v8_kwh_per_kwp(weather_file, tilt, azimuth, array_type, gcr=0.01):
    """Annual AC energy of NREL's PVWatts v8, fixed open rack (array type 0,
    a single row: GCR 0.01) or fixed roof mount (1) [kWh/kWp]."""
    pvwatts = pytest.importorskip("PySAM.Pvwattsv8", reason="NREL PySAM (extra [test]) not installed")
    model = pvwatts.default("PVWattsNone")
    model.SolarResource.solar_resource_file = str(weather_file)
    model.SolarResource.use_wf_albedo = 0
    model.SolarResource.albedo_default = PVWATTS_V8["albedo"]
    model.SystemDesign.assign({
        "array_type": array_type, "module_type": 0, "system_capacity": 4.0,
        "tilt": tilt, "azimuth": azimuth, "gcr": gcr,
        "losses": PVWATTS_V8["losses_pct"], "dc_ac_ratio": PVWATTS_V8["dc_ac_ratio"],
        "inv_eff": 100 * PVWATTS_V8["inverter_eff_nom"]})
    model.execute()
    return model.Outputs.ac_annual / 4.0


def roofpv_kwh_per_kwp(weather, meta, tilt, azimuth, array_type):
    return np.asarray(plane_yield_exact(
        weather, **site(meta), tilt=tilt, azimuth=azimuth,
        noct_installed=MOUNTINGS[array_type][1], **PVWATTS_V8))


@pytest.mark.parametrize("array_type", sorted(MOUNTINGS))
@pytest.mark.parametrize("path, tz", WEATHER_FILES)
def test_reproduces_nrel_pvwatts_v8(path, tz, array_type):
    """Every orientation within 1.5 % of PVWatts v8, open rack and roof mount."""
    weather, meta = read_weather(path, tz=tz)
    tilt, azimuth = np.array(ORIENTATIONS, dtype=float).T
    ours = roofpv_kwh_per_kwp(weather, meta, tilt, azimuth, array_type)
    expected = np.array([pvwatts_v8_kwh_per_kwp(path, t, a, array_type) for t, a in ORIENTATIONS])
    np.testing.assert_array_less(np.abs(ours / expected - 1), 0.015)


def test_roof_mount_costs_what_pvwatts_says():
    """The 4 K hotter roof mount loses as much against the open rack as in PVWatts v8."""
    weather, meta = read_weather(GREENSBORO_TMY3)
    ours = roofpv_kwh_per_kwp(weather, meta, 20, 180, 1) / roofpv_kwh_per_kwp(weather, meta, 20, 180, 0)
    theirs = (pvwatts_v8_kwh_per_kwp(GREENSBORO_TMY3, 20, 180, 1)
              / pvwatts_v8_kwh_per_kwp(GREENSBORO_TMY3, 20, 180, 0))
    assert ours == pytest.approx(theirs, abs=0.002)


@pytest.fixture(scope="module")
def pinghu():
    return typical_year(**PINGHU, monthly_ghi_kwh_m2=GHI,
                        monthly_temp_air_c=TEMP, monthly_wind_m_s=WIND)[0]


@pytest.mark.real_data
@pytest.mark.skipif(not SHANGHAI_EPW.is_file(),
                    reason=f"real weather file absent: {SHANGHAI_EPW} "
                           "(clone the shared data beside the repository)")
def test_typical_year_reproduces_real_shanghai_file():
    real, meta = read_weather(SHANGHAI_EPW, tz="Asia/Shanghai")
    month = real.groupby(real.index.month)
    monthly_ghi = month["ghi"].sum().to_numpy() / 1000
    synthetic, _ = typical_year(
        **site(meta), monthly_ghi_kwh_m2=monthly_ghi,
        monthly_temp_air_c=month["temp_air"].mean().to_numpy(),
        monthly_wind_m_s=month["wind_speed"].mean().to_numpy())
    np.testing.assert_allclose(
        synthetic["ghi"].groupby(synthetic.index.month).sum() / 1000,
        monthly_ghi, rtol=0.01)
    from_file = plane_yield_exact(real, **site(meta), tilt=25, azimuth=180, **FLUSH)
    from_means = plane_yield_exact(synthetic, **site(meta), tilt=25, azimuth=180, **FLUSH)
    assert abs(from_means / from_file - 1) <= 0.05


@pytest.mark.parametrize("path, tz", [p for p in WEATHER_FILES if p.id != "greensboro_tmy3"])
def test_typical_year_yield_within_2_percent_of_real_chinese_files(path, tz):
    """The synthetic year built from a real file's monthly means yields within 2 % of
    the file on a 25° south roof. Its diffuse share is recorded in docs/validation.md,
    not asserted: it exceeds the TMYx file's by 0.16 (an open item)."""
    real, meta = read_weather(path, tz=tz)
    month = real.groupby(real.index.month)
    synthetic, _ = typical_year(
        **site(meta), monthly_ghi_kwh_m2=month["ghi"].sum().to_numpy() / 1000,
        monthly_temp_air_c=month["temp_air"].mean().to_numpy(),
        monthly_wind_m_s=month["wind_speed"].mean().to_numpy())
    from_file = plane_yield_exact(real, **site(meta), tilt=25, azimuth=180, **FLUSH)
    from_means = plane_yield_exact(synthetic, **site(meta), tilt=25, azimuth=180, **FLUSH)
    assert abs(from_means / from_file - 1) <= 0.02


def test_horizontal_poa_equals_ghi(pinghu):
    table = yield_table(pinghu, **PINGHU, tilts=[0, 5], azimuths=[0, 180], **FLUSH)
    np.testing.assert_allclose(table.poa_annual_kwh_m2[0], pinghu["ghi"].sum() / 1000, rtol=1e-5)


def test_yield_falls_as_plane_turns_north(pinghu):
    azimuth = np.arange(180, 361, 15)
    for tilt in (10, 30, 50):
        west = plane_yield_exact(pinghu, **PINGHU, tilt=tilt, azimuth=azimuth, **FLUSH)
        east = plane_yield_exact(pinghu, **PINGHU, tilt=tilt, azimuth=360 - azimuth, **FLUSH)
        assert (np.diff(west) < 0).all() and (np.diff(east) < 0).all()


def test_optimal_tilt_at_pinghu(pinghu):
    tilts = np.arange(10.0, 41.0)
    annual = plane_yield_exact(pinghu, **PINGHU, tilt=tilts, azimuth=180, **FLUSH)
    optimum = tilts[np.argmax(annual)]
    assert 18 <= optimum <= 28
    # The optimum is flat: 20-25° is within 0.5 % of the best tilt.
    assert annual[(tilts >= 20) & (tilts <= 25)].min() >= 0.995 * annual.max()
