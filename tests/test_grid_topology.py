"""Feeders and substations after DL/T 2041 from a topology table, against hand-computed
cases: two transformers on one feeder, the admission they limit, and the table's bad rows."""

import numpy as np
import pandas as pd
import pytest

from roofpv.appraise.grid import over_hosting
from roofpv.errors import InputError
from roofpv.grid import topology
from roofpv.grid.assess import feeder_table, transformer_table, with_admitted
from roofpv.grid.profiles import BinSeries
from roofpv.io.topology import read_topology

from .test_grid_hourly import _flat_tables

SERIES = np.array([0.0, 0.4, 0.8, 0.4, 0.0] * 2)      # two days, kWh/kWp per hour: τ_max 0.8


def _case(config, tmp_path, feeder_min="60", substation="S1,400kVA,,50"):
    """T1 (400 kVA, 100 kW connected, 50 filed, 250 kWp of roofs) and T2 (100 kVA, 120 kW
    connected, 10 kWp of roofs) on feeder F1 (500 kVA, 20 kW of 10 kV PV of its own) of
    substation S1 (400 kVA)."""
    index = pd.date_range("2025-06-02", periods=10, freq="h")
    b = pd.DataFrame({
        "transformer_id": ["T1", "T1", "T2"], "township": ["甲", "甲", "乙"],
        "capacity_kwp": [100.0, 150.0, 10.0], "category": ["factory"] * 3,
        "energy_use_kwh": [1000.0] * 3, "mounting": ["clamp_flush"] * 3,
        "pv_tilt_deg": [20.0] * 3, "pv_azimuth_deg": [180.0] * 3,
    }, index=pd.Index(list("abc"), name="building_id"))
    b["annual_kwh"] = b["capacity_kwp"] * SERIES.sum()
    transformers = pd.DataFrame({"kva": [400.0, 100.0], "existing_pv_kw": [100.0, 120.0],
                                 "min_load_kw": [40.0, 10.0], "planned_pv_kw": [50.0, 0.0]},
                                index=pd.Index(["T1", "T2"], name="id"))
    path = tmp_path / "topology.csv"
    path.write_text("transformer_id,feeder_id,feeder_kva,feeder_pv_kw,feeder_min_load_kw,"
                    "substation_id,substation_kva,substation_pv_kw,substation_min_load_kw\n"
                    f"T1,F1,500,20,{feeder_min},{substation}\nT2,F1,0.5MVA,20,{feeder_min},{substation}\n",
                    encoding="utf-8")
    topo, found = read_topology(path)
    assert found == []
    grid = config.grid.model_copy(update={"credit_min_load": True, "power_factor": 1.0})
    cfg = config.model_copy(update={"grid": grid})
    t, equipment = transformer_table(b, transformers, cfg, BinSeries(_flat_tables(SERIES, config)), index, topo)
    return b, t, equipment, grid


def test_feeder_and_substation_by_hand(config, tmp_path):
    """Feeder F1, 500 kVA, measured minimum load 60 kW, τ_max 0.8 (both transformers' PV
    peaks at 0.8 kW/kWp): S_d = (60 + 0.8·500) / 0.8 = 575 kWp; connected 100 + 120 + 20 =
    240 kW, filed 50: 285 kWp open; λ = (0.8·290 − 60) / 500 = 0.344, yellow. Substation
    S1, 400 kVA, 50 kW: S_d = (50 + 320) / 0.8 = 462.5, open 462.5 − 240 − 50 = 172.5;
    λ = (232 − 50) / 400 = 0.455, yellow. T1's own 300 open kWp shrink to 172.5 on its way
    to the grid; T2 has none."""
    b, t, eq, grid = _case(config, tmp_path)
    f, s = eq.loc["feeder:F1"], eq.loc["substation:S1"]
    assert (f["transformers"], f["kva"], f["existing_pv_kw"], f["planned_pv_kw"]) == (2, 500.0, 240.0, 50.0)
    assert f["tau_max"] == pytest.approx(0.8) and f["min_load_source"] == "table"
    assert f["hosting_kw"] == pytest.approx(575.0) and f["open_kw"] == pytest.approx(285.0)
    assert f["reverse_load_rate"] == pytest.approx(0.344) and f["grade"] == "yellow"
    assert f["candidate_kwp"] == 260.0 and f["substation_id"] == "S1"
    assert s["hosting_kw"] == pytest.approx(462.5) and s["open_kw"] == pytest.approx(172.5)
    assert s["existing_pv_kw"] == 240.0 and s["reverse_load_rate"] == pytest.approx(0.455)
    assert t["open_kw"].tolist() == pytest.approx([300.0, 0.0])
    assert t["limited_open_kw"].tolist() == pytest.approx([172.5, 0.0])
    assert t["feeder_id"].tolist() == ["F1", "F1"] and t["substation_id"].tolist() == ["S1", "S1"]
    assert t["hosting_bound"].tolist() == [True, True]
    # Admission in rank order: a (100 kWp) fits T1's 300 and the substation's 172.5; b would
    # make 250 > 172.5; c does not fit T2.
    limits = topology.limits(t, eq)
    over = over_hosting(b["capacity_kwp"], b["transformer_id"], pd.Series([1, 2, 3], b.index), limits)
    assert over.tolist() == [False, True, True]
    # The P90 year: σ = √(4² + 2² + 1² + 2²) % = 5 %, every interval × (1 − 1.2816 · 0.05) =
    # 0.93592: T1 hosts 450 / 0.93592 = 480.81 kWp, 330.81 open; the feeder 575 / 0.93592 − 290.
    f90 = 1 - 1.2815515655446004 * 0.05
    assert t.loc["T1", "open_kw_p90"] == pytest.approx(450 / f90 - 150)
    assert f["open_kw_p90"] == pytest.approx(575 / f90 - 290)
    table = feeder_table(eq, with_admitted(t, pd.Series({"T1": 100.0}), grid))
    assert table["level"].tolist() == ["feeder", "substation"] and table["admitted_kwp"].tolist() == [100.0, 100.0]


def test_feeder_minimum_load_from_the_summed_profiles(config, tmp_path):
    """Without a measured minimum the feeder's is the lowest of its transformers' summed
    load while PV produces: three buildings of 1,000 kWh a year of factory load each; without
    a substation the transformers are limited by their feeder only."""
    from roofpv.grid import loads

    _, t, eq, _ = _case(config, tmp_path, feeder_min="", substation=",,,")
    index = pd.date_range("2025-06-02", periods=10, freq="h")
    load = 3 * 1000.0 * loads.shapes(index)["factory"].to_numpy()
    lit = SERIES > 0
    f = eq.loc["feeder:F1"]
    assert f["min_load_source"] == "profiles" and f["min_load_kw"] == pytest.approx(load[lit].min(), rel=1e-5)
    assert f["hosting_kw"] == pytest.approx((load[lit].min() + 400.0) / 0.8, rel=1e-5)
    assert list(eq["level"]) == ["feeder"] and t["substation_id"].isna().all()
    assert t.loc["T1", "limited_open_kw"] == pytest.approx(min(300.0, f["open_kw"]))


def test_topology_table_bad_rows(tmp_path, config):
    """Unknown transformers, negative and unreadable ratings and a feeder rated twice are
    findings naming the row and column; missing columns an InputError naming the file."""
    path = tmp_path / "topo.csv"
    path.write_text("transformer_id,feeder_id,feeder_kva,substation_id,substation_kva\n"
                    "T1,F1,-5,S1,40MVA\nT9,F1,500,S1,40MVA\nT2,F2,abc,S1,40MVA\nT3,F2,600,S1,40MVA\n,F3,1,,\n",
                    encoding="utf-8")
    frame, found = read_topology(path)
    where = {(f.row, f.column): f for f in found}
    assert where[(2, "feeder_kva")].value == "-5" and "0 kVA" in where[(2, "feeder_kva")].problem
    assert where[(4, "feeder_kva")].value == "abc" and where[(4, "feeder_kva")].level == "error"
    assert where[(5, "feeder_kva")].level == "warning" and "F2" in where[(5, "feeder_kva")].problem
    assert where[(6, "transformer_id")].level == "error"
    assert frame.loc["T1", "feeder_kva"] == 0.0 and frame.loc["T1", "substation_kva"] == 40000.0
    transformers = pd.DataFrame({"kva": [100.0, 100.0, 100.0, 100.0]}, index=["T1", "T2", "T3", "T4"])
    kept, more = topology.match(frame, transformers, str(path))
    assert list(kept.index) == ["T1", "T2", "T3"]
    assert (more[0].row, more[0].column, more[0].value) == (3, "transformer_id", "T9")
    assert "1 transformers have no feeder" in more[1].problem and "T4" in more[1].problem
    from roofpv.run.pipeline import read_topology as configured

    alone = config.model_copy(update={"grid": config.grid.model_copy(update={"topology": path})})
    none, lost = configured(alone, None)
    assert none is None and lost[0].file == str(path) and "without a transformers table" in lost[0].problem
    path.write_text("transformer_id,feeder\nT1,F1\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"topo\.csv.*\['feeder_id', 'feeder_kva'\]"):
        read_topology(path)


def test_sample_writes_the_feeders_table(pinghu_cli_out):
    """The sample's 275 transformers on 40 feeders of 9 substations: every level graded,
    and the rollout admits no more on a feeder or substation than it has open."""
    import pyogrio

    gpkg = pinghu_cli_out / "roofpv.gpkg"
    f = pyogrio.read_dataframe(gpkg, layer="feeders", read_geometry=False)
    assert f["level"].value_counts().to_dict() == {"feeder": 40, "substation": 9}
    assert set(f["grade"]) <= {"green", "yellow", "red"}
    assert (f["admitted_kwp"] <= f["open_kw"] + 1e-6).all()
    assert f.groupby("level")["transformers"].sum().to_dict() == {"feeder": 275, "substation": 275}
    t = pyogrio.read_dataframe(gpkg, layer="transformers", read_geometry=False)
    assert (t["limited_open_kw"] <= t["open_kw"] + 1e-9).all() and t["feeder_id"].notna().all()
    assert (t["admitted_kwp"] <= t["limited_open_kw"] + 1e-6).all()
    areas = pyogrio.read_dataframe(gpkg, layer="transformer_areas")
    assert len(areas) == 275 and areas.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    assert areas.union_all().area == pytest.approx(areas.area.sum(), rel=1e-6)   # no overlaps


def test_service_areas_by_hand():
    """T1 stands at (5, 5) and serves the squares at x 0–10 and 40–50, T2 at (25, 5) the one
    between them (x 20–30), all 10 m deep: the Voronoi bisector x = 15 cuts T1's hull
    (x 0–50) to x 0–15 (150 m²; its far building lies nearer T2 and outside); T2 keeps its
    hull (100 m²); the areas do not overlap; a building on no transformer counts nowhere."""
    import geopandas as gpd
    from shapely import box, points

    from roofpv.grid.assess import merge_hulls, served_hulls, service_areas

    b = gpd.GeoDataFrame({"transformer_id": ["T1", "T1", "T2", None]},
                         geometry=[box(0, 0, 10, 10), box(40, 0, 50, 10), box(20, 0, 30, 10), box(90, 0, 95, 5)],
                         crs="EPSG:4549")
    at = pd.Series(points([[5.0, 5.0], [25.0, 5.0], [70.0, 5.0]]), index=["T1", "T2", "T3"])
    areas = service_areas(at, served_hulls(b["transformer_id"], b.geometry))
    assert list(areas.index) == ["T1", "T2"]
    assert areas["T1"].area == pytest.approx(150.0) and areas["T2"].area == pytest.approx(100.0)
    assert areas["T1"].intersection(areas["T2"]).area == pytest.approx(0.0)
    assert areas["T1"].bounds == pytest.approx((0.0, 0.0, 15.0, 10.0))
    # One transformer: its area is its buildings' hull.
    one = service_areas(at[["T1"]], served_hulls(b["transformer_id"], b.geometry))
    assert one["T1"].area == pytest.approx(500.0)
    # Hulls of two parts of the buildings (a run's partitions) merge into the whole's.
    halves = [served_hulls(b["transformer_id"][s], b.geometry[s]) for s in (slice(0, 2), slice(2, 4))]
    assert merge_hulls(halves)["T1"].equals(served_hulls(b["transformer_id"], b.geometry)["T1"])
    assert merge_hulls([served_hulls(b["transformer_id"][:1], b.geometry[:1]),
                        served_hulls(b["transformer_id"][1:], b.geometry[1:])])["T1"].area == pytest.approx(500.0)


def test_storage_npv_by_hand(config):
    """A 100 kWh / 50 kW battery at 700 yuan/kWh + 300 yuan/kW = 85,000 yuan; its energy
    part bought again in year 15 at 60 %: 42,000 / 1.05¹⁵ = 20,202.7; 20 years at 5 %
    (annuity 12.4622), no fade: 20,000 added kWh × 0.5 yuan = 124,622 in; O&M 2.5 % of
    capex: 26,482 out; NPV −7,063 yuan."""
    from roofpv.appraise.economics import storage_capex, storage_cash_flows
    from roofpv.config import StorageCost

    econ = config.economics.model_copy(update={"lifetime_years": 20, "discount_rate": 0.05,
                                               "degradation_per_year": 0.0})
    cost = StorageCost(yuan_per_kwh=700.0, yuan_per_kw=300.0, om_share_per_year=0.025, life_years=15,
                       replacement_share=0.6)
    annuity = sum(1.05 ** -t for t in range(1, 21))
    assert annuity == pytest.approx(12.46221, rel=1e-6)
    assert storage_capex([100.0], [50.0], cost).tolist() == [85000.0]
    npv = storage_cash_flows([100.0, 100.0], [50.0, 50.0], [20000.0, 0.0], [0.5, 0.5], econ, cost)
    expected = -85000 - 42000 / 1.05 ** 15 + 20000 * 0.5 * annuity - 0.025 * 85000 * annuity
    assert npv[0] == pytest.approx(expected) and npv[0] == pytest.approx(-7062.8, abs=0.1)
    # A battery that moves nothing loses its capex, replacement and O&M.
    assert npv[1] == pytest.approx(-85000 - 42000 / 1.05 ** 15 - 0.025 * 85000 * annuity)


def test_storage_value_by_export_mode(config):
    """A kWh moved into self-use is worth tariff − surplus price under 余电上网, the tariff
    under 全部自用 (it was curtailed) and nothing under 全额上网."""
    from roofpv.appraise.economics import storage_value

    econ = config.economics
    b = pd.DataFrame({"category": ["factory"] * 3})
    mode = pd.Series(["self_use_surplus", "full_self_use", "full_export"])
    tariff = econ.tariff_yuan_kwh["factory"]
    surplus = econ.market_price_yuan_kwh if econ.surplus_price == "market" else econ.mechanism_price_yuan_kwh
    assert storage_value(b, econ, mode).tolist() == pytest.approx([tariff - surplus, tariff, 0.0])


def test_report_shows_grid_beside_coverage_and_what_releases_it(pinghu_cli_out):
    """The index puts each township's hosting grades and open capacity beside its
    coverage; a township page lists its bound transformers with the storage or upgrade
    that releases them, read from the transformers layer."""
    import pyogrio

    t = pyogrio.read_dataframe(pinghu_cli_out / "roofpv.gpkg", layer="transformers", read_geometry=False)
    index = (pinghu_cli_out / "report" / "index.html").read_text(encoding="utf-8")
    dh = t[t["township"] == "当湖街道"]
    grades = "/".join(f"{c}{(dh['grade'] == g).sum()}" for c, g in (("绿", "green"), ("黄", "yellow"), ("红", "red")))
    assert f"消纳：台区 {grades} 台，可开放 {dh['open_kw'].sum() / 1000:,.2f} MWp" in index
    page = next((pinghu_cli_out / "report").glob("01-*.html")).read_text(encoding="utf-8")
    top = dh.sort_values("released_kwp", ascending=False).iloc[0]
    assert "受承载力制约的台区及释放措施" in page and top["transformer_id"] in page
    assert f"可释放 {top['released_kwp']:,.0f} kWp" in page


def test_report_quotes_the_targets_grid_condition(config):
    """A target's 消纳 condition (Jilin: 在满足电力消纳的前提下) stands, quoted, in each
    township's coverage cell beside its hosting grades and open capacity."""
    from roofpv.report.pages import _area_rows

    target = config.policy.targets[0].model_copy(update={"grid_condition": "在满足电力消纳的前提下"})
    row = {"buildings": 10, "suitable": 5, "counted_potential_kwp": 100.0, "technical_potential_kwp": 120.0,
           "annual_mwh": 100.0, "transformers_green": 3, "transformers_yellow": 1, "transformers_red": 0,
           "open_kw": 2500.0, f"{target.name}_coverage_today": 0.1, f"{target.name}_coverage_potential": 0.5,
           **{f"{target.name}_target_{y}": r for y, r in target.milestones.items()},
           **{f"{target.name}_status_{y}": "on_track" for y in target.milestones}}
    table = pd.DataFrame([row, row], index=["甲镇", "全市"])
    cell = _area_rows(table, ["甲镇"], "全市", {}, [target], "zh")[0]["coverage"][0]
    assert cell["condition"] == "在满足电力消纳的前提下"
    assert cell["grid"] == "消纳：台区 绿3/黄1/红0 台，可开放 2.50 MWp"


def test_metered_transformer_load_replaces_the_category_shapes(config, tmp_path):
    """A factory on transformer T1, metered at 2 kWh in each of seven hours: the building
    takes T1's flat shape × its own 28 kWh a year = 4 kWh/h, so its 10 kWp yielding 0, 0.2,
    0.5, 0.8, 0.5, 0.2, 0 kWh/kWp self-consume Σ min(PV, 4) = 16 kWh (6 surplus), not what
    the factory shape gives (building B). T1's hosting check takes the metered 2 kW as its minimum load:
    (2 + 0.8 · 100) / 0.8 = 102.5 kWp."""
    from roofpv.grid.assess import building_balance, metered_load
    from roofpv.grid.loads import read_metered

    series = np.array([0, 0.2, 0.5, 0.8, 0.5, 0.2, 0])
    index = pd.date_range("2025-06-02 05:00", periods=7, freq="h")   # a Monday, 5–11 h
    path = tmp_path / "t.csv"
    path.write_text("transformer_id,step,kwh\n" + "".join(f"T1,{i},2\n" for i in range(7)) + "T1,9,x\n",
                    encoding="utf-8")
    metered, found = read_metered(path, 7, "transformer_id")
    assert metered.loc["T1"].tolist() == [2.0] * 7
    assert (found[0].row, found[0].building_id, found[0].column) == (9, "T1", "step")
    assert metered_load(None, 7, "transformer_id") == (None, [])
    b = pd.DataFrame({"annual_kwh": [series.sum() * 10] * 2, "capacity_kwp": [10.0, 10.0], "category": ["factory"] * 2,
                      "energy_use_kwh": [28.0, 28.0], "nea_category": ["general_ci"] * 2, "transformer_id": ["T1", "T9"],
                      "mounting": ["clamp_flush"] * 2, "township": ["甲", "甲"]},
                     index=pd.Index(["A", "B"], name="building_id"))
    planes = pd.DataFrame({"building_id": ["A", "B"], "mounting": ["clamp_flush"] * 2,
                           "module_tilt_deg": [20.0] * 2, "azimuth_deg": [180.0] * 2,
                           "layout_kwp": [10.0] * 2, "shading_loss": [0.0] * 2})
    bins = BinSeries(_flat_tables(series, config))
    out = building_balance(b, planes, config, bins, index, None, metered)
    assert out.loc["A", "self_consumed_kwh"] == pytest.approx(16.0)
    assert out.loc["A", "exported_kwh"] == pytest.approx(6.0)
    # B (T9, not metered) keeps the factory's working-day factors 0.45, 0.45, 0.8, 1, 1, 1, 1.
    factory = np.array([0.45, 0.45, 0.8, 1, 1, 1, 1]) / 5.7 * 28.0
    assert out.loc["B", "self_consumed_kwh"] == pytest.approx(np.minimum(series * 10, factory).sum(), rel=1e-5)
    transformers = pd.DataFrame({"kva": [100.0], "existing_pv_kw": [0.0], "min_load_kw": [np.nan]},
                                index=pd.Index(["T1"], name="id"))
    grid = config.grid.model_copy(update={"credit_min_load": True, "power_factor": 1.0})
    t, _ = transformer_table(out, transformers, config.model_copy(update={"grid": grid}), bins, index,
                             None, metered)
    assert t.loc["T1", "min_load_source"] == "metered" and t.loc["T1", "min_load_kw"] == pytest.approx(2.0)
    assert t.loc["T1", "hosting_kw"] == pytest.approx(102.5) and t.loc["T1", "load_mwh_yr"] == pytest.approx(0.014)


def test_level_sums_in_pieces_are_the_matrix_product():
    """add_rows over transformers in pieces gives the float32 sums of ``matrix @ rows``
    bit for bit (the feeder sums do not depend on how transformer_table blocks them),
    where summing each piece first and adding the pieces would not."""
    rng = np.random.default_rng(7)
    ids = pd.Index([f"T{i}" for i in range(60)])
    topo = pd.DataFrame({"feeder_id": rng.choice(["F1", "F2", "F3", None], 60),
                         "substation_id": "S1"}, index=ids).dropna()
    rows = (rng.random((60, 24)) * rng.choice([1e-4, 1.0, 3e3], (60, 1))).astype(np.float32)
    for level, (_, matrix) in topology.members(topo, ids).items():
        expected = np.asarray(matrix @ rows)
        at = topology.member_rows(matrix)
        assert (at >= 0).sum() == matrix.nnz and np.array_equal(np.asarray(matrix.argmax(axis=0)).ravel()[at >= 0],
                                                                 at[at >= 0])
        sums, naive = np.zeros_like(expected), np.zeros_like(expected)
        for start in range(0, 60, 7):
            topology.add_rows(sums, at[start:start + 7], rows[start:start + 7])
            naive += matrix[:, start:start + 7] @ rows[start:start + 7]
        assert sums.dtype == np.float32 and np.array_equal(sums, expected)
        if level == "substation":  # one sum over all 60: pieces summed first round differently
            assert not np.array_equal(naive, expected)


def test_transformer_table_does_not_depend_on_its_blocks(config, tmp_path, monkeypatch):
    """Blocks of 3 transformers give the table and the feeders of blocks of 9, to the bit
    (the feeders' float32 sums are added up per :data:`BLOCK`, whatever :data:`ROWS`); the
    transformers' rows are those of one block."""
    from roofpv.grid import assess

    rng = np.random.default_rng(3)
    n, nt = 120, 40
    index = pd.date_range("2025-06-02", periods=10, freq="h")
    tids = [f"T{i}" for i in range(nt)]
    b = pd.DataFrame({
        "transformer_id": rng.choice(tids, n), "township": rng.choice(["甲", "乙"], n),
        "capacity_kwp": rng.random(n) * 200, "category": rng.choice(["factory", "commercial", "rural_residential"], n),
        "energy_use_kwh": rng.random(n) * 1e5, "mounting": "clamp_flush",
        "pv_tilt_deg": 20.0, "pv_azimuth_deg": 180.0,
    }, index=pd.Index([f"b{i}" for i in range(n)], name="building_id"))
    b["annual_kwh"] = b["capacity_kwp"] * SERIES.sum() * rng.random(n)
    transformers = pd.DataFrame({"kva": rng.choice([200.0, 400.0, 630.0], nt), "existing_pv_kw": rng.random(nt) * 50,
                                 "min_load_kw": np.nan}, index=pd.Index(tids, name="id"))
    path = tmp_path / "topology.csv"
    path.write_text("transformer_id,feeder_id,feeder_kva,substation_id,substation_kva\n" + "".join(
        f"{t},F{i % 5},2000,S{i % 2},8000\n" for i, t in enumerate(tids)), encoding="utf-8")
    topo, _ = read_topology(path)
    bins = BinSeries(_flat_tables(SERIES, config))
    whole = transformer_table(b, transformers, config, bins, index, topo)
    monkeypatch.setattr(assess, "ROWS", 3)
    monkeypatch.setattr(assess, "BLOCK", 9)
    small = transformer_table(b, transformers, config, bins, index, topo)
    monkeypatch.setattr(assess, "ROWS", 9)
    pieces = transformer_table(b, transformers, config, bins, index, topo)
    pd.testing.assert_frame_equal(small[0], pieces[0], check_exact=True)
    pd.testing.assert_frame_equal(small[1], pieces[1], check_exact=True)
    assert whole[1]["transformers"].sum() == 2 * nt and 0 < (whole[0]["candidate_kwp"] == 0).sum() < nt // 2
    pd.testing.assert_frame_equal(whole[0], pieces[0], check_exact=True)
    pd.testing.assert_frame_equal(whole[1], pieces[1], rtol=1e-6)


def test_mounting_models_shared_per_mounting(config):
    """Each plane's temperature model by its mounting (unknown or blank: the first
    mounting's), one shared name per model (not one text per plane)."""
    from roofpv.grid.assess import _mounting_model

    got = _mounting_model(pd.Series(["clamp_flush", "ballasted_tilted", None, "thatch", "clamp_flush"],
                                    dtype="str"), config)
    assert list(got) == ["metal_clamp", "open_rack", "open_rack", "open_rack", "metal_clamp"]
    assert got[0] is got[4] and got.dtype == object
    assert _mounting_model(pd.Series([], dtype="str"), config).size == 0
