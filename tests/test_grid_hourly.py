"""Hourly PV and load, self-consumption, storage and DL/T 2041 hosting capacity, against
hand-computed cases, and the sample's transformers layer."""

import numpy as np
import pandas as pd
import pyogrio
import pytest

from roofpv.appraise.economics import export_mode
from roofpv.energy.solar import YieldTable, bilinear_weights, interpolate, yield_tables_for
from roofpv.energy.weather import typical_year
from roofpv.grid import hosting, loads, selfuse
from roofpv.grid.assess import building_balance, split_surplus, transformer_table, with_admitted
from roofpv.grid.profiles import BinSeries

from .conftest import GHI, SITE, TEMP, WIND

SYSTEM = {"noct_installed": [45.0, 49.0], "gamma_pdc": -0.0034, "losses_pct": 14.08}


# --- hourly PV profiles -------------------------------------------------------------------


@pytest.fixture(scope="module")
def pinghu_tables():
    weather = typical_year(**SITE, monthly_ghi_kwh_m2=GHI, monthly_temp_air_c=TEMP, monthly_wind_m_s=WIND)[0]
    tables = yield_tables_for(weather, **SITE, tilts=[0, 10, 20, 30], azimuths=np.arange(0, 360, 30),
                              hourly=True, **SYSTEM)
    return weather, dict(zip(["open_rack", "roof_mount"], tables))


def test_hourly_table_sums_to_the_annual_and_monthly_yield(pinghu_tables):
    weather, tables = pinghu_tables
    for table in tables.values():
        steps = table.hourly_kwh_per_kwp.astype(float)
        assert steps.shape == (len(weather), 4, 12)
        np.testing.assert_allclose(steps.sum(axis=0), table.annual_kwh_per_kwp, rtol=1e-3)
        month = weather.index.month.to_numpy()
        by_month = np.stack([steps[month == m].sum(axis=0) for m in range(1, 13)])
        np.testing.assert_allclose(by_month, table.monthly_kwh_per_kwp, rtol=1e-3, atol=1e-3)
        assert steps[weather.index.hour < 4].max() == 0.0  # no PV at night (local time)


def test_bin_weights_reproduce_the_interpolation(pinghu_tables):
    _, tables = pinghu_tables
    table = tables["roof_mount"]
    tilt = np.array([0.0, 7.5, 22.0, 35.0, 12.0])
    azimuth = np.array([180.0, 95.0, 350.0, 200.0, -20.0])
    bins, weights = bilinear_weights(table.tilts, table.azimuths, tilt, azimuth)
    np.testing.assert_allclose((weights * table.annual_kwh_per_kwp.ravel()[bins]).sum(axis=1),
                               interpolate(table, tilt, azimuth), rtol=1e-12)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0)


def test_group_profiles_sum_to_the_annual_yield_of_their_planes(pinghu_tables):
    """A building of two planes (south and east) and a group of two buildings: their hourly
    series sum, within 0.1 %, to the annual yield interpolated plane by plane."""
    _, tables = pinghu_tables
    bins = BinSeries(tables)
    model = np.array(["roof_mount", "roof_mount", "open_rack"], dtype=object)
    tilt, azimuth, kwp = np.array([25.0, 25.0, 10.0]), np.array([180.0, 90.0, 200.0]), np.array([6.0, 4.0, 50.0])
    expected = np.array([6 * interpolate(tables["roof_mount"], 25, 180) + 4 * interpolate(tables["roof_mount"], 25, 90),
                         50 * interpolate(tables["open_rack"], 10, 200)])
    w = bins.weights(np.array([0, 0, 1]), 2, model, tilt, azimuth, kwp)
    np.testing.assert_allclose(bins.series(w).sum(axis=1, dtype=float), expected, rtol=1e-3)
    group = bins.weights(np.zeros(3, int), 1, model, tilt, azimuth, kwp)
    np.testing.assert_allclose(bins.series(group).sum(dtype=float), expected.sum(), rtol=1e-3)


# --- load profiles -----------------------------------------------------------------------


def test_load_shapes_sum_to_one_and_follow_the_working_week():
    index = pd.date_range("2025-01-01", periods=8760, freq="h")
    table = loads.shapes(index)
    np.testing.assert_allclose(table.sum(), 1.0)
    office = table["party_gov"]
    # 2025-01-06 is a Monday, 01-05 a Sunday: the office draws 1.0 vs 0.4 at 10 h.
    assert office["2025-01-06 10:00"] / office["2025-01-05 10:00"] == pytest.approx(1.0 / 0.4)
    half = loads.shapes(pd.date_range("2025-01-01", periods=2 * 8760, freq="30min"))
    np.testing.assert_allclose(half["factory"].resample("h").sum().to_numpy(), table["factory"].to_numpy(),
                               rtol=1e-9)


def test_metered_load_rows_and_findings(tmp_path):
    path = tmp_path / "load.csv"
    path.write_text("building_id,step,kwh\nB1,0,2\nB1,1,4\nB2,0,1\nB2,7,3\nB2,x,1\n", encoding="utf-8")
    table, found = loads.read_metered(path, 4)
    assert table.loc["B1"].tolist() == [2.0, 4.0, 3.0, 3.0]  # missing steps: the building's mean
    assert table.loc["B2"].tolist() == [1.0, 1.0, 1.0, 1.0]
    assert [(f.row, f.building_id) for f in found] == [(5, "B2"), (6, "B2")]
    assert "0…3" in found[0].problem


# --- self-consumption and storage ------------------------------------------------------


def test_flat_load_self_consumption_is_the_hand_integral():
    # PV over a day, kWh per hour; flat load 4 kWh/h: Σ min = 0+2+4+4+4+2+0 = 16, surplus 6.
    pv = np.array([[0, 2, 5, 8, 5, 2, 0]], float)
    used, surplus = selfuse.balance(pv, np.full_like(pv, 4.0))
    assert used.tolist() == [16.0] and surplus.tolist() == [6.0]


def test_battery_greedy_dispatch_by_hand():
    pv = np.array([[0, 6, 6, 0, 0]], float)
    load = np.array([[1, 1, 1, 3, 3]], float)
    # Lossless, 4 kWh / 3 kW: charges 3 then 1, discharges 3 then 1: used 2 + 4, surplus 2 + 4.
    assert [x.tolist() for x in selfuse.battery(pv, load, 4.0, 3.0, 1.0)] == [[6.0], [6.0]]
    # 80 % round trip: charges 3 (stores 2.4) then 2 (to 4.0), surplus 2 + 3; 4 kWh back out.
    used, surplus = selfuse.battery(pv, load, 4.0, 3.0, 0.8)
    assert used == pytest.approx([6.0]) and surplus == pytest.approx([5.0])
    # No battery: the plain balance.
    assert [x.tolist() for x in selfuse.battery(pv, load, 0.0, 3.0, 0.9)] == [[2.0], [10.0]]


def _flat_tables(series, config):
    """Tables, one per temperature model of ``config``, whose every bin yields ``series``
    (kWh/kWp per step)."""
    steps = np.broadcast_to(np.asarray(series, np.float32)[:, None, None], (len(series), 2, 2)).copy()
    annual = steps.sum(axis=0).astype(float)
    zeros = np.zeros((12, 2, 2))
    return {name: YieldTable(np.array([0.0, 60.0]), np.array([0.0, 180.0]), annual, zeros, annual, zeros, steps)
            for name in config.temperature_models}


def test_building_balance_against_a_flat_metered_load(config):
    """A 10 kWp roof yielding 0, 0.2, 0.5, 0.8, 0.5, 0.2, 0 kWh/kWp over seven hours, a
    metered flat load of 4 kWh/h: the hand integral of min(PV, load) is 16 kWh, 6 kWh
    surplus, exported under 余电上网 and curtailed under 全部自用; under 全额上网 every kWh is
    exported."""
    series = [0, 0.2, 0.5, 0.8, 0.5, 0.2, 0]
    index = pd.date_range("2025-06-02", periods=7, freq="h")
    b = pd.DataFrame({"annual_kwh": [22.0, 22.0], "capacity_kwp": [10.0, 10.0], "category": ["factory"] * 2,
                      "energy_use_kwh": [1e6, 1e6], "nea_category": ["general_ci", "large_ci"]},
                     index=pd.Index(["A", "B"], name="building_id"))
    planes = pd.DataFrame({"building_id": ["A", "B"], "mounting": ["clamp_flush", "clamp_flush"],
                           "module_tilt_deg": [20.0, 20.0], "azimuth_deg": [180.0, 180.0],
                           "layout_kwp": [10.0, 10.0], "shading_loss": [0.0, 0.0]})
    metered = pd.DataFrame(4.0, index=["A", "B"], columns=range(7), dtype=np.float32)
    out = building_balance(b, planes, config, BinSeries(_flat_tables(series, config)), index, metered)
    out = split_surplus(out.assign(export_mode=export_mode(b, config.economics)))
    assert out["self_consumed_kwh"].tolist() == pytest.approx([16.0, 16.0])
    assert out["exported_kwh"].tolist() == pytest.approx([6.0, 0.0])
    assert out["curtailed_kwh"].tolist() == pytest.approx([0.0, 6.0])
    assert out["self_consumption_share"].tolist() == pytest.approx([16 / 22, 16 / 22])
    assert out["pv_azimuth_deg"].tolist() == [180.0, 180.0] and out["storage_kwh"].isna().all()
    household = b.assign(nea_category="natural_person_household", category="urban_residential")
    sold = building_balance(household, planes, config, BinSeries(_flat_tables(series, config)), index, metered)
    assert sold["self_consumed_kwh"].tolist() == [0.0, 0.0] and sold["exported_kwh"].tolist() == [22.0, 22.0]


# --- DL/T 2041 --------------------------------------------------------------------------


def test_dlt2041_two_transformers_by_hand():
    """T1: 400 kVA, P_load,min 40 kW, τ_max 0.8: S_d = (40 + 0.8·400) / 0.8 = 450 kWp; with
    100 kW connected and 50 kW filed, 300 kWp open; λ = (0.8·150 − 40) / 400 = 0.2, yellow.
    T2: 100 kVA, 10 kW: S_d = (10 + 80) / 0.8 = 112.5 kWp < 120 kW connected: none open;
    λ = (96 − 10) / 100 = 0.86, red."""
    kva, load, tau = [400.0, 100.0], [40.0, 10.0], [0.8, 0.8]
    connected, filed = np.array([100.0, 120.0]), np.array([50.0, 0.0])
    hosting_kw = hosting.dlt2041_hosting(kva, load, [0.0, 0.0], tau, 0.8)
    np.testing.assert_allclose(hosting_kw, [450.0, 112.5])
    np.testing.assert_allclose(hosting.open_capacity(hosting_kw, connected, filed), [300.0, 0.0])
    rate = hosting.reverse_load_rate(np.multiply(tau, connected + filed), load, kva)
    np.testing.assert_allclose(rate, [0.2, 0.86])
    assert hosting.grade(rate, 0.8).tolist() == ["yellow", "red"]
    assert hosting.grade([-0.2, 0.0, np.nan], 0.8).tolist() == ["green", "green", "red"]
    # 20 kW of storage charging and cos θ 0.95 on T1: (40 + 20 + 304) / 0.8 = 455.
    assert hosting.dlt2041_hosting(400.0, 40.0, 20.0, 0.8, 0.8, 0.95) == pytest.approx(455.0)


def test_hourly_hosting_by_hand():
    # 1 kWp gives 0, 0.5, 1.0 kW; load 5, 10, 30 kW; limit 0.8 · 100 kVA = 80 kW:
    # (80 + 10) / 0.5 = 180, (80 + 30) / 1.0 = 110 → 110 kWp; 20 kW of storage: 130.
    p = np.array([[0.0, 0.5, 1.0]])
    load = np.array([[5.0, 10.0, 30.0]])
    assert hosting.hourly_hosting(p, load, hosting.reverse_limit([100.0], [0.0], 0.8)) == pytest.approx([110.0])
    assert hosting.hourly_hosting(p, load, hosting.reverse_limit([100.0], [20.0], 0.8)) == pytest.approx([130.0])
    assert hosting.hourly_hosting(np.zeros((1, 3)), load, [80.0]).tolist() == [np.inf]


def test_transformer_table_two_transformers(config):
    """Two transformers with measured minimum loads (the DL/T 2041 case above) and
    roofs whose 1 kWp peaks at 0.8 kW: hosting 450 and 112.5 kWp, grades yellow and red;
    T1's 250 kWp of roofs fit its 450 − 100 − 50 open kWp, T2's 10 kWp do not; built on T2
    they need the battery or the upgrade that takes the excess reverse flow."""
    series = np.array([0.0, 0.4, 0.8, 0.4, 0.0] * 2)      # two days, kWh/kWp per hour
    index = pd.date_range("2025-06-02", periods=10, freq="h")
    b = pd.DataFrame({
        "transformer_id": ["T1", "T1", "T2", None], "township": ["甲", "甲", "乙", "乙"],
        "capacity_kwp": [100.0, 150.0, 10.0, 5.0], "category": ["factory"] * 4,
        "energy_use_kwh": [1000.0, 1000.0, 1000.0, 1000.0], "mounting": ["clamp_flush"] * 4,
        "pv_tilt_deg": [20.0] * 4, "pv_azimuth_deg": [180.0] * 4,
    }, index=pd.Index(list("abcd"), name="building_id"))
    b["annual_kwh"] = b["capacity_kwp"] * series.sum()
    transformers = pd.DataFrame({"kva": [400.0, 100.0], "existing_pv_kw": [100.0, 120.0],
                                 "min_load_kw": [40.0, 10.0], "planned_pv_kw": [50.0, 0.0]},
                                index=pd.Index(["T1", "T2"], name="id"))
    grid = config.grid.model_copy(update={"credit_min_load": True, "power_factor": 1.0})
    t, none = transformer_table(b, transformers, config.model_copy(update={"grid": grid}),
                                BinSeries(_flat_tables(series, config)), index)
    assert none is None and "feeder_id" not in t
    assert t["tau_max"].tolist() == pytest.approx([0.8, 0.8])
    assert t["hosting_kw"].tolist() == pytest.approx([450.0, 112.5])
    assert t["open_kw"].tolist() == pytest.approx([300.0, 0.0])
    # λ counts the filed PV too: T1 (0.8 · 150 − 40) / 400 = 0.2.
    assert t["reverse_load_rate"].tolist() == pytest.approx([0.2, 0.86])
    assert t["grade"].tolist() == ["yellow", "red"] and t["min_load_source"].tolist() == ["table", "table"]
    assert t["candidate_kwp"].tolist() == [250.0, 10.0] and t["hosting_bound"].tolist() == [False, True]
    assert t["buildings"].tolist() == [2, 1] and t["township"].tolist() == ["甲", "乙"]
    # T2 with every roof: 130 kWp of PV against its profile load + 80 kW.
    load_t2 = 1000.0 * loads.shapes(index)["factory"].to_numpy()
    over = np.maximum(130 * series - load_t2 - 80.0, 0.0)
    assert t.loc["T2", "storage_to_host_kw"] == pytest.approx(over.max(), rel=1e-5)
    assert t.loc["T2", "storage_to_host_kwh"] == pytest.approx(max(over[:5].sum(), over[5:].sum()), rel=1e-5)
    assert t.loc["T2", "upgrade_kva"] == pytest.approx(over.max() / 0.8, rel=1e-5)
    planned = with_admitted(t, pd.Series({"T1": 250.0}), grid)
    assert planned.loc["T1", "planned_reverse_load_rate"] == pytest.approx((0.8 * 400 - 40) / 400)
    assert planned["planned_grade"].tolist() == ["yellow", "red"]
    assert planned["admitted_kwp"].tolist() == [250.0, 0.0]


# --- the sample -------------------------------------------------------------------------


def test_sample_profiles_sum_to_the_annual_yield(pinghu_results):
    """Every roof's hourly series, split into self-consumed, exported and curtailed
    energy, sums to its annual yield within 0.1 %; so do the townships'."""
    b = pinghu_results.buildings
    has = b["annual_kwh"] > 0
    total = b[["self_consumed_kwh", "exported_kwh", "curtailed_kwh"]].sum(axis=1)
    np.testing.assert_allclose(total[has], b.loc[has, "annual_kwh"], rtol=1e-3)
    towns = total.groupby(b["township"]).sum()
    np.testing.assert_allclose(towns, b["annual_kwh"].groupby(b["township"]).sum(), rtol=1e-3)
    share = b.loc[has, "self_consumption_share"]
    sold = b.loc[has, "export_mode"].eq("full_export")
    assert share.between(0, 1).all() and (share[sold] == 0).all()
    assert 0.1 < share[~sold].median() < 0.95


def test_sample_writes_the_transformers_layer(pinghu_cli_out):
    t = pyogrio.read_dataframe(pinghu_cli_out / "roofpv.gpkg", layer="transformers")
    assert len(t) == 275 and t.geometry.geom_type.eq("Point").all()
    assert set(t["grade"]) <= {"green", "yellow", "red"} and t["grade"].nunique() >= 2
    assert (t["open_kw"] >= 0).all() and (t["admitted_kwp"] <= t["open_kw"] + 1e-6).all()
    assert t["tau_max"].between(0.6, 0.9).all()
    assert set(t["min_load_source"]) == {"table", "profiles"}


def test_sample_building_without_survey_goes_to_the_nearest_transformer(pinghu_results):
    found = [f for f in pinghu_results.findings if f.column == "transformer_id" and "nearest" in f.problem]
    assert {f.building_id for f in found} == {"DH00169", "LD00410"}  # no survey transformer
    b = pinghu_results.buildings
    for f in found:
        assert f.problem.endswith(f"served by the nearest one, {b.loc[f.building_id, 'transformer_id']}")
        assert b.loc[f.building_id, "transformer_id"].startswith(f"T-{f.building_id[:2]}-")


# --- the plan, the townships and the economics -----------------------------------------


def test_binding_transformers_most_kwp_kept_out_first():
    from roofpv.targets.planning import binding_transformers

    limited = pd.DataFrame({"township": ["甲", "甲", "甲", "乙"], "transformer_id": ["T1", "T2", "T2", "T3"],
                            "capacity_kwp": [30.0, 20.0, 15.0, 5.0]})
    got = binding_transformers(limited, pd.Index(["甲", "乙", "丙"]))
    assert got.tolist() == ["T2;T1", "T3", ""]


def test_township_grid_rolls_up_grades_open_capacity_and_self_use():
    from roofpv.grid.assess import township_grid

    b = pd.DataFrame({"township": ["甲", "甲", "乙"], "self_consumed_kwh": [60.0, 0.0, 10.0],
                      "exported_kwh": [40.0, 0.0, 30.0], "curtailed_kwh": [0.0, 0.0, 10.0]})
    table = pd.DataFrame({"township": ["甲", "甲", "乙"], "grade": ["green", "red", "red"],
                          "open_kw": [100.0, 0.0, 5.0], "storage_to_host_kwh": [0.0, 40.0, 2.0]})
    out = township_grid(b, table, pd.Index(["甲", "乙", "全市"]), "全市")
    assert out["transformers_green"].tolist() == [1, 0, 1] and out["transformers_red"].tolist() == [1, 1, 2]
    assert out["open_kw"].tolist() == [100.0, 5.0, 105.0]
    assert out["self_consumption_share"].tolist() == pytest.approx([0.6, 0.2, 70 / 150])


def test_hourly_share_prices_self_use_and_curtails_full_self_use(config):
    from roofpv.appraise.economics import price_per_kwh

    econ = config.economics
    b = pd.DataFrame({"category": ["factory"] * 3, "self_consumption_share": [0.25, 0.25, np.nan]})
    mode = pd.Series(["self_use_surplus", "full_self_use", "self_use_surplus"])
    tariff, surplus = econ.tariff_yuan_kwh["factory"], econ.market_price_yuan_kwh
    got = price_per_kwh(b, econ, mode).tolist()
    assert got == pytest.approx([0.25 * tariff + 0.75 * surplus, 0.25 * tariff,
                                 econ.self_consumption["factory"] * tariff
                                 + (1 - econ.self_consumption["factory"]) * surplus])


def test_flexible_load_moves_into_the_surplus_by_hand():
    # One day: PV 0, 6, 0 kWh; load 2, 2, 2 kWh. Direct use 2, surplus 4, unmet 4; half
    # of the day's 6 kWh may move: 3 kWh more self-consumed.
    pv = np.array([[0.0, 6.0, 0.0]])
    load = np.array([[2.0, 2.0, 2.0]])
    assert selfuse.shift_flexible(pv, load, np.zeros(3, int), np.array([[6.0]]), 0.5).tolist() == [3.0]
    # Two days, the second without sun: day 1 moves all its unmet 2 kWh, day 2 nothing
    # (no load moves across days, though 2 kWh of surplus are left).
    pv2, load2 = np.array([[0.0, 6.0, 0.0, 0.0]]), np.array([[2.0, 2.0, 2.0, 2.0]])
    day = np.array([0, 0, 1, 1])
    assert selfuse.shift_flexible(pv2, load2, day, np.array([[4.0, 4.0]]), 1.0).tolist() == [2.0]
    # Only the daylight steps given (as the balance forms them): the day's load still counts whole.
    assert selfuse.shift_flexible(pv[:, 1:2], load[:, 1:2], np.zeros(1, int), np.array([[6.0]]), 0.5).tolist() == [3.0]


def test_building_balance_with_flexible_load_and_battery(config):
    series = [0, 0.2, 0.5, 0.8, 0.5, 0.2, 0]
    index = pd.date_range("2025-06-02", periods=7, freq="h")
    b = pd.DataFrame({"annual_kwh": [22.0], "capacity_kwp": [10.0], "category": ["factory"],
                      "energy_use_kwh": [1e6], "nea_category": ["general_ci"]}, index=pd.Index(["A"], name="building_id"))
    planes = pd.DataFrame({"building_id": ["A"], "mounting": ["clamp_flush"], "module_tilt_deg": [20.0],
                           "azimuth_deg": [180.0], "layout_kwp": [10.0], "shading_loss": [0.0]})
    metered = pd.DataFrame(4.0, index=["A"], columns=range(7), dtype=np.float32)
    grid = config.grid.model_copy(update={"flexible_share": 0.1})
    bins = BinSeries(_flat_tables(series, config))
    out = building_balance(b, planes, config.model_copy(update={"grid": grid}), bins, index, metered)
    # 16 kWh direct; 0.1 · 28 kWh of the day's load moves into the 6 kWh surplus: 18.8.
    assert out["self_consumed_kwh"].tolist() == pytest.approx([18.8])
    assert out["exported_kwh"].tolist() == pytest.approx([22.0 - 18.8])
    from roofpv.config import Storage

    grid = config.grid.model_copy(update={"storage": Storage(kwh_per_kwp=0.3, kw_per_kwp=0.2,
                                                             round_trip_efficiency=1.0)})
    out = building_balance(b, planes, config.model_copy(update={"grid": grid}), bins, index, metered)
    # A 3 kWh / 2 kW battery stores 1 + 2 of the 1, 4, 1 kWh surplus (2 kW limit) and
    # returns 2 then 1 in the last hour(s): 16 + 3 = 19 kWh self-consumed with it.
    assert out["storage_kwh"].tolist() == [3.0] and out["storage_kw"].tolist() == [2.0]
    assert out["self_consumed_storage_kwh"].tolist() == pytest.approx([19.0])
    assert out["self_consumed_kwh"].tolist() == pytest.approx([16.0])


def test_nearest_transformer_keeps_what_it_cannot_place():
    import geopandas as gpd
    from shapely.geometry import Point

    from roofpv.grid.assess import assign_transformers

    b = gpd.GeoDataFrame({"transformer_id": ["T1", None, "TX", None]},
                         geometry=[Point(0, 0), Point(90, 0), Point(10, 0), None], crs="EPSG:3857",
                         index=pd.Index(list("abcd"), name="building_id"))
    # T1 at x = 0, T2 at x ≈ 100 m (EPSG:3857 at the equator).
    lon = [0.0, 100 / 111319.49]
    table = pd.DataFrame({"kva": [100.0, 100.0], "longitude": lon, "latitude": [0.0, 0.0]},
                         index=pd.Index(["T1", "T2"], name="id"))
    out, found = assign_transformers(b, table, "EPSG:3857", "survey.csv")
    assert out["transformer_id"].tolist()[:3] == ["T1", "T2", "T1"] and pd.isna(out.at["d", "transformer_id"])
    assert [(f.building_id, f.value) for f in found if f.level == "info"] == [("b", None), ("c", "TX")]
    assert "1 buildings" in found[0].problem and found[0].level == "warning"
    # Without positions nothing moves and the surveyed ids stay.
    out, found = assign_transformers(b, table.drop(columns=["longitude", "latitude"]), "EPSG:3857", "s")
    assert out["transformer_id"].fillna("").tolist() == ["T1", "", "TX", ""] and "3 buildings" in found[0].problem
