"""
Validation of the yield model; the figures are tabulated in
docs/validation.md.
"""

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pvlib
import pytest
from pvlib.location import Location
from pvlib.modelchain import ModelChain
from pvlib.pvsystem import PVSystem

from roofpv.io.weather import read_weather
from roofpv.solar import interpolate, plane_yield_exact, yield_table
from roofpv.weather import typical_year

from .conftest import GHI, TEMP, WIND
from .conftest import SITE as PINGHU

SHANGHAI_EPW = (Path(__file__).resolve().parents[2] / "shared" / "data"
                / "Shanghai-Hongqiao_1956_2023_TMYx.epw")
GREENSBORO_TMY3 = Path(os.path.dirname(pvlib.__file__)) / "data" / \
    "723170TYA.CSV"
FLUSH = {"temperature_model": "close_mount_glass_glass",
         "gamma_pdc": -0.0034, "losses_pct": 14.08}
# PVWatts v5 defaults: standard module (-0.47 %/°C), open rack, 14.08 %
# losses, DC/AC 1.2, inverter 96 %, albedo 0.2.
PVWATTS = {"temperature_model": "open_rack_glass_polymer",
           "gamma_pdc": -0.0047, "losses_pct": 14.08,
           "inverter_eff_nom": 0.96, "dc_ac_ratio": 1.2, "albedo": 0.2}


def site(meta):
    return {k: meta[k] for k in ("latitude", "longitude", "altitude")}


@pytest.fixture(scope="module")
def pinghu():
    return typical_year(**PINGHU, monthly_ghi_kwh_m2=GHI,
                        monthly_temp_air_c=TEMP, monthly_wind_m_s=WIND)[0]


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
    from_file = plane_yield_exact(real, **site(meta), tilt=25, azimuth=180,
                                  **FLUSH)
    from_means = plane_yield_exact(synthetic, **site(meta), tilt=25,
                                   azimuth=180, **FLUSH)
    assert abs(from_means / from_file - 1) <= 0.05


def modelchain_annual_kwh(tilt, azimuth):
    """pvlib's PVWatts-type ModelChain on the raw TMY3 file, 1 kWp."""
    raw, head = pvlib.iotools.read_tmy3(GREENSBORO_TMY3)
    weather = raw[["ghi", "dni", "dhi", "temp_air", "wind_speed"]]
    # TMY3 stamps are interval ends; the sun is taken at interval middles.
    weather = weather.set_axis(raw.index - pd.Timedelta(minutes=30))
    system = PVSystem(
        surface_tilt=tilt, surface_azimuth=azimuth, albedo=PVWATTS["albedo"],
        module_parameters={"pdc0": 1.0, "gamma_pdc": PVWATTS["gamma_pdc"]},
        inverter_parameters={
            "pdc0": 1 / (PVWATTS["dc_ac_ratio"] * PVWATTS["inverter_eff_nom"]),
            "eta_inv_nom": PVWATTS["inverter_eff_nom"]},
        temperature_model_parameters=pvlib.temperature.
        TEMPERATURE_MODEL_PARAMETERS["sapm"]["open_rack_glass_polymer"])
    location = Location(head["latitude"], head["longitude"],
                        altitude=head["altitude"], tz=head["TZ"])
    chain = ModelChain(system, location, transposition_model="perez",
                       aoi_model="physical", spectral_model="no_loss",
                       temperature_model="sapm", dc_model="pvwatts",
                       ac_model="pvwatts", losses_model="pvwatts")
    chain.run_model(weather)
    return chain.results.ac.clip(lower=0).sum()


def test_cross_check_against_pvlib_modelchain():
    """Not a published reference: pvlib's ModelChain on the same inputs."""
    weather, meta = read_weather(GREENSBORO_TMY3)
    options = {**PVWATTS, "diffuse_iam": False}
    expected = modelchain_annual_kwh(20, 180)
    assert 1200 < expected < 1500
    exact = plane_yield_exact(weather, **site(meta), tilt=20, azimuth=180,
                              **options)
    assert abs(exact / expected - 1) <= 0.005
    table = yield_table(weather, **site(meta), tilts=np.arange(0, 61, 5),
                        azimuths=np.arange(0, 360, 10), **options)
    off_node = modelchain_annual_kwh(22.5, 167)
    assert abs(interpolate(table, 22.5, 167) / off_node - 1) <= 0.005
    full = plane_yield_exact(weather, **site(meta), tilt=20, azimuth=180,
                             **PVWATTS)
    assert -0.03 < full / expected - 1 < -0.01


# NREL PVWatts v8 as run by NREL's SAM Simulation Core (PySAM), the engine of
# pvwatts.nrel.gov: standard module (γ −0.37 %/°C, anti-reflective glass),
# fixed open rack, 14.08 % losses, DC/AC 1.2, inverter 96 %, albedo 0.2.
PVWATTS_V8 = {**PVWATTS, "gamma_pdc": -0.0037}
ORIENTATIONS = [(20, 180), (30, 180), (10, 135), (20, 90), (40, 270)]


def pvwatts_v8_kwh_per_kwp(weather_file, tilt, azimuth, gcr):
    """Annual AC energy of NREL's PVWatts v8 for a fixed open rack [kWh/kWp]."""
    pvwatts = pytest.importorskip(
        "PySAM.Pvwattsv8", reason="NREL PySAM (extra [test]) not installed")
    model = pvwatts.default("PVWattsNone")
    model.SolarResource.solar_resource_file = str(weather_file)
    model.SolarResource.use_wf_albedo = 0
    model.SolarResource.albedo_default = PVWATTS["albedo"]
    model.SystemDesign.assign({
        "array_type": 0, "module_type": 0, "system_capacity": 4.0,
        "tilt": tilt, "azimuth": azimuth, "gcr": gcr,
        "losses": PVWATTS["losses_pct"], "dc_ac_ratio": PVWATTS["dc_ac_ratio"],
        "inv_eff": 100 * PVWATTS["inverter_eff_nom"]})
    model.execute()
    return model.Outputs.ac_annual / 4.0


@pytest.mark.parametrize("tilt, azimuth", ORIENTATIONS)
def test_reproduces_nrel_pvwatts_on_greensboro(tilt, azimuth):
    """A single open-rack row (no row-to-row self-shading, GCR 0.01) on the
    TMY3 file pvlib ships, within 3 % of PVWatts v8."""
    weather, meta = read_weather(GREENSBORO_TMY3)
    expected = pvwatts_v8_kwh_per_kwp(GREENSBORO_TMY3, tilt, azimuth, 0.01)
    ours = plane_yield_exact(weather, **site(meta), tilt=tilt, azimuth=azimuth,
                             **PVWATTS_V8)
    assert abs(ours / expected - 1) <= 0.03


def test_reproduces_pvwatts_default_system():
    """PVWatts' default system (20°, south, GCR 0.4 with its self-shading)."""
    weather, meta = read_weather(GREENSBORO_TMY3)
    expected = pvwatts_v8_kwh_per_kwp(GREENSBORO_TMY3, 20, 180, 0.4)
    assert 1300 < expected < 1400
    ours = plane_yield_exact(weather, **site(meta), tilt=20, azimuth=180,
                             **PVWATTS_V8)
    assert abs(ours / expected - 1) <= 0.03


@pytest.mark.skipif(not SHANGHAI_EPW.is_file(),
                    reason=f"real weather file absent: {SHANGHAI_EPW} "
                           "(clone the shared data beside the repository)")
@pytest.mark.parametrize("tilt, azimuth", ORIENTATIONS)
def test_reproduces_nrel_pvwatts_on_shanghai(tilt, azimuth):
    weather, meta = read_weather(SHANGHAI_EPW, tz="Asia/Shanghai")
    expected = pvwatts_v8_kwh_per_kwp(SHANGHAI_EPW, tilt, azimuth, 0.01)
    ours = plane_yield_exact(weather, **site(meta), tilt=tilt, azimuth=azimuth,
                             **PVWATTS_V8)
    assert abs(ours / expected - 1) <= 0.03


def test_horizontal_poa_equals_ghi(pinghu):
    table = yield_table(pinghu, **PINGHU, tilts=[0, 5], azimuths=[0, 180],
                        **FLUSH)
    np.testing.assert_allclose(table.poa_annual_kwh_m2[0],
                               pinghu["ghi"].sum() / 1000, rtol=0.001)


def test_yield_falls_as_plane_turns_north(pinghu):
    azimuth = np.arange(180, 361, 15)
    for tilt in (10, 30, 50):
        west = plane_yield_exact(pinghu, **PINGHU, tilt=tilt,
                                 azimuth=azimuth, **FLUSH)
        east = plane_yield_exact(pinghu, **PINGHU, tilt=tilt,
                                 azimuth=360 - azimuth, **FLUSH)
        assert (np.diff(west) < 0).all() and (np.diff(east) < 0).all()


def test_optimal_tilt_at_pinghu(pinghu):
    tilts = np.arange(10.0, 41.0)
    annual = plane_yield_exact(pinghu, **PINGHU, tilt=tilts, azimuth=180,
                               **FLUSH)
    optimum = tilts[np.argmax(annual)]
    assert 20 <= optimum <= 28
    # The optimum is flat: 20-25° is within 0.5 % of the best tilt.
    assert annual[(tilts >= 20) & (tilts <= 25)].min() >= 0.995 * annual.max()
