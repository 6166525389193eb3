import numpy as np
import pandas as pd
import pytest

from roofpv.config import Monitoring
from roofpv.energy.solar import YieldTable
from roofpv.monitoring.metering import calibration, factors, modelled, monthly_specific, performance

CFG = Monitoring()
PROFILE = np.array([60, 65, 88, 105, 116, 108, 120, 119, 91, 77, 62, 60], float)  # kWh/kWp, sums to 1071


def _buildings(n: int, township="甲镇") -> pd.DataFrame:
    return pd.DataFrame({
        "township": township, "category": "factory", "mounting": "rack", "module_tilt_deg": 20.0,
        "roof_aspect_deg": 180.0, "specific_yield_kwh_kwp": PROFILE.sum(), "shading_loss": 0.05,
    }, index=pd.Index([f"B{i}" for i in range(n)], name="building_id"))


def _table() -> YieldTable:
    """Same monthly profile at every orientation, scaled ×2 (only the shape is used)."""
    tilts, azimuths = np.array([0.0, 30.0]), np.array([0.0, 180.0, 270.0])
    monthly = np.broadcast_to(2 * PROFILE[:, None, None], (12, 2, 3)).copy()
    return YieldTable(tilts, azimuths, monthly.sum(axis=0), monthly, monthly.sum(axis=0), monthly)


def _matches(b: pd.DataFrame, kw: float = 100.0) -> pd.DataFrame:
    return pd.DataFrame({"system_id": [f"S{i}" for i in range(len(b))], "building_id": b.index, "kw": kw})


def _meters(model: pd.DataFrame, factor: np.ndarray, months=range(1, 13)) -> pd.DataFrame:
    rows = [{"system_id": s, "month": pd.Period(f"2025-{m:02d}", "M"), "kwh": model.loc[s, m] * f[m - 1]}
            for s, f in zip(model.index, factor) for m in months]
    return pd.DataFrame(rows)


def test_monthly_specific_scales_the_table_shape_to_the_roof_yield():
    b = _buildings(2)
    b.loc["B1", ["module_tilt_deg", "specific_yield_kwh_kwp"]] = [np.nan, np.nan]  # no layout
    spec = monthly_specific(b, {"model": _table()}, {"rack": "model"})
    np.testing.assert_allclose(spec.loc["B0"].to_numpy(), PROFILE)  # shape of the table, annual of the roof
    np.testing.assert_allclose(spec.loc["B1"].to_numpy(), PROFILE)  # median profile of the others


def test_calibration_recovers_a_known_factor():
    b = _buildings(12)
    model = modelled(_matches(b), b, pd.DataFrame([PROFILE] * 12, index=b.index, columns=range(1, 13)))
    assert model.loc["S0", 1] == pytest.approx(100 * 60 * 0.95)
    rng = np.random.default_rng(1)
    noise = rng.lognormal(0, 0.03, (12, 12))
    perf = performance(_meters(model, 0.9 * noise), model, b.set_index(model.index), CFG)
    table = calibration(perf, CFG)
    all_ = table.iloc[0]
    assert all_["systems"] == 12
    assert all_["factor"] == pytest.approx(0.9, abs=0.02)
    assert 0 < all_["uncertainty"] < 0.02
    exact = performance(_meters(model, np.full((12, 12), 0.9)), model, b.set_index(model.index), CFG)
    assert calibration(exact, CFG).iloc[0]["factor"] == pytest.approx(0.9)
    np.testing.assert_allclose(factors(b, calibration(exact, CFG), "township"), 0.9)


def test_underperformers_are_flagged_with_a_reason():
    b = _buildings(10)
    model = modelled(_matches(b), b, pd.DataFrame([PROFILE] * 10, index=b.index, columns=range(1, 13)))
    f = np.full((10, 12), 0.92)
    f[0, [5, 6]] = 0.0                       # two months without generation
    f[1, [0, 1, 10, 11]] = 0.4               # winter shading
    f[2] = 0.6                               # low all year
    perf = performance(_meters(model, f), model, b.set_index(model.index), CFG)
    flagged = perf[perf["underperforming"]]
    assert list(flagged.index) == ["S0", "S1", "S2"]
    assert flagged.loc["S0", "reason"].startswith("outage: 2 months")
    assert "shading by low winter sun" in flagged.loc["S1", "reason"]
    assert flagged.loc["S2", "reason"].startswith("uniformly low")
    table = calibration(perf, CFG)  # the outage is left out of the factor
    assert table.iloc[0]["systems"] == 9


def test_too_few_months_and_small_groups_fall_back():
    b = pd.concat([_buildings(4, "甲镇"), _buildings(2, "乙镇").rename(index=lambda i: "X" + i)])
    model = modelled(_matches(b), b, pd.DataFrame([PROFILE] * 6, index=b.index, columns=range(1, 13)))
    f = np.full((6, 12), 0.9)
    f[4:] = 1.1
    meters = _meters(model, f)
    meters = meters[~((meters["system_id"] == "S0") & (meters["month"].dt.month > 3))]  # 3 months only
    perf = performance(meters, model, b.set_index(model.index), CFG)
    assert np.isnan(perf.loc["S0", "performance_ratio"]) and "fewer than 6 months" in perf.loc["S0", "reason"]
    table = calibration(perf, CFG)
    own = table.set_index(["level", "group"])["own"]
    assert own[("township", "甲镇")] and not own[("township", "乙镇")]
    per_building = factors(b, table, "township")
    assert per_building["B1"] == pytest.approx(0.9)
    assert per_building["XB0"] == pytest.approx(table.iloc[0]["factor"])  # 乙镇: all systems' factor


@pytest.mark.slow
def test_sample_meters_against_the_model(pinghu_results):
    """The sample's meters were made as kW × a horizontal-irradiance profile × 0.92 (make_sample.py):
    against roofpv's tilted-plane model the median ratio is near that, and the nine planted
    faults are what is flagged."""
    from roofpv.config import load_config
    from roofpv.io.register_files import read_meters, read_register
    from roofpv.monitoring.calibration import apply_register, calibrate
    from roofpv.run.pipeline import prepare
    from tests.conftest import ROOT

    config = load_config(ROOT / "configs" / "pinghu_monitor.yaml")
    b = pinghu_results.buildings
    table, _ = read_register(config.inputs.register_file, config.inputs.register_sheet, pinghu_results.crs)
    _, matches, _ = apply_register(b[["name", "township", "existing_pv_kw", "existing_pv_area_m2", "geometry"]],
                                   table, config, "register")
    tables = prepare(config).tables
    meters, _ = read_meters(config.inputs.meters)
    _, perf, calib, _, info = calibrate(b, meters, matches, config, tables, "meters")
    assert 0.8 < calib.iloc[0]["factor"] < 1.05
    flagged = perf.loc[perf["underperforming"], "reason"].str.split(":").str[0].str.split(" ").str[0]
    assert flagged.value_counts().to_dict() == {"outage": 3, "winter": 3, "uniformly": 3}  # as planted
    assert "calibration factor (all systems)" in info
    assert info["calibration applied"].startswith("no")
    on = config.model_copy(update={"monitoring": config.monitoring.model_copy(update={"calibrate": True})})
    calibrated, _, calib, _, info = calibrate(b, meters, matches, on, tables, "meters")
    factor = factors(b, calib, "township")
    np.testing.assert_allclose(calibrated["annual_kwh"], b["annual_kwh"] * factor)
    assert info["calibration applied"].startswith("potential yields × factor of the township")
    assert (calibrated["revenue_yuan_yr"] != b["revenue_yuan_yr"]).any()  # economics follow
