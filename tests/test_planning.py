"""Rollout plans against hand-computed fixtures."""

import pandas as pd
import pytest

from roofpv.config import GridConnection, Planning, Policy, Target
from roofpv.grid.assess import flat_hosting as hosting_capacity
from roofpv.targets.planning import admit, rank_order, rollout

TARGET = Target(
    name="t", label="new public and factory", categories=["public_institution", "factory"],
    built_since=2021, metric="area_total", milestones={2025: 0.30, 2030: 0.50}, source="test",
)
PLANNING = Planning(
    start_year=2026, horizon_year=2030, rank_by="specific_yield", statuses=["suitable"],
    exclude_reasons=["roof_load_unknown"], owner_types=["natural_person", "non_natural_person"],
    grid_hosting=True,
)
GRID = GridConnection(
    reverse_load_rate=0.8, credit_min_load=False, connection_classes_kw={"220V": 8, "380V": 400, "10kV": 6000},
    household_categories=["rural_residential"], large_ci_kw=6000,
    export_modes={"general_ci": ["self_use_surplus"]},
)
KW_PER_M2 = 0.2


def town():
    """Town A: five new cohort roofs of 400 m² (2000 m² in all), no PV yet.

    By specific yield (kWh/kWp): A1 1200, A2 1100, A3 1050, A4 1000 with 200, 300,
    100 and 250 m² of panels; A5 is conditional with 200 m². Town B: one roof that
    already meets its target.
    """
    kwp = [40.0, 60.0, 20.0, 50.0, 40.0, 10.0]
    return pd.DataFrame({
        "township": ["A"] * 5 + ["B"],
        "category": ["factory"] * 6,
        "year_built": [2022] * 6,
        "owner_type": ["non_natural_person"] * 6,
        "roof_area_m2": [400.0] * 5 + [100.0],
        "usable_area_m2": [300.0] * 5 + [80.0],
        "existing_pv_area_m2": [0.0] * 5 + [60.0],
        "pv_area_m2": [200.0, 300.0, 100.0, 250.0, 200.0, 10.0],
        "capacity_kwp": kwp,
        "annual_kwh": [k * y for k, y in zip(kwp, [1200, 1100, 1050, 1000, 1300, 900])],
        "suitability": ["suitable"] * 4 + ["conditional", "suitable"],
        "reasons": ["", "", "", "", "roof_load_unknown", ""],
        "roof_load_kn_m2": [2.0] * 4 + [None, 2.0],
        "transformer_id": ["T1", "T2", "T2", "T3", "T1", "T9"],
    }, index=pd.Index([f"A{i}" for i in range(1, 6)] + ["B1"], name="building_id"))


def plan(b, transformers=None, cfg=PLANNING):
    remaining = hosting_capacity(transformers, GRID) if transformers is not None else None
    b = admit(b, cfg, remaining)
    return rollout(b, Policy(targets=[TARGET]), cfg, remaining, KW_PER_M2, "all")


def test_ranking_by_specific_yield():
    order = rank_order(town(), "specific_yield")
    assert list(order.sort_values().index) == ["A5", "A1", "A2", "A3", "A4", "B1"]


def test_ranking_ties_go_to_the_larger_roof_then_the_building_id_and_blanks_come_last():
    # the ids in no sorted order: C and A yield alike and are as large (id decides), B as
    # well but larger (first), D has no capacity (no key: last), E yields more (first of all)
    b = pd.DataFrame({"capacity_kwp": [10.0, 10.0, 20.0, float("nan"), 5.0],
                      "annual_kwh": [10_000.0, 10_000.0, 20_000.0, 1_000.0, 6_000.0]},
                     index=pd.Index(["C", "A", "B", "D", "E"], name="building_id"))
    order = rank_order(b, "specific_yield")
    assert list(order.sort_values().index) == ["E", "B", "A", "C", "D"]
    assert list(order) == [3, 2, 1, 4, 0] and order.dtype == "int64"


def test_township_reaches_its_target_exactly_with_the_expected_roofs():
    roofs, status, _ = plan(town())
    a2025 = status[(status.index == "A") & (status["milestone"] == 2025)].iloc[0]
    # gap = 0.30 × 2000 − 0 = 600 m²; A1 + A2 + A3 = 200 + 300 + 100 = 600 exactly.
    assert a2025["gap"] == pytest.approx(600.0)
    assert a2025["gap_kwp"] == pytest.approx(600.0 * KW_PER_M2)
    chosen = roofs[roofs["milestone"] == 2025]
    assert list(chosen.index) == ["A1", "A2", "A3"]
    assert list(chosen["plan_rank"]) == [1, 2, 3]
    assert a2025["plan_m2"] == pytest.approx(600.0) and a2025["plan_kwp"] == pytest.approx(120.0)
    assert a2025["planned_coverage"] == pytest.approx(0.30)
    assert bool(a2025["reaches"]) and a2025["binding"] == ""


def test_unreachable_milestone_names_the_binding_constraint():
    roofs, status, _ = plan(town())
    a2030 = status[(status.index == "A") & (status["milestone"] == 2030)].iloc[0]
    # gap 1000 m²; suitable roofs give 850; the conditional A5 would add 200 → 1050.
    assert a2030["plan_m2"] == pytest.approx(850.0)
    assert not a2030["reaches"] and a2030["binding"] == "suitability"
    assert roofs.loc["A4", "milestone"] == 2030
    b = status[(status.index == "B")].iloc[0]  # 60 of 100 m² already: no gap, nothing planned
    assert (b["gap"], b["plan_roofs"], bool(b["reaches"])) == (0.0, 0, True)
    total = status[(status.index == "all") & (status["milestone"] == 2030)].iloc[0]
    assert total["binding"] == "1 short" and total["gap"] == pytest.approx(1000.0)


def test_owner_constraint_binds_when_it_removes_the_roofs():
    cfg = PLANNING.model_copy(update={"owner_types": ["natural_person"]})
    _, status, _ = plan(town(), cfg=cfg)
    a2025 = status[(status.index == "A") & (status["milestone"] == 2025)].iloc[0]
    assert a2025["binding"] == "owner" and a2025["plan_roofs"] == 0


def test_transformer_hosting_stops_selection_at_beta_kva_minus_existing_pv():
    # T2: 0.8 × 100 kVA − 20 kW existing = 60 kW: A2 (60 kWp) fits exactly, A3 (20 kWp) does not.
    transformers = pd.DataFrame(
        {"kva": [1000.0, 100.0, 1000.0], "existing_pv_kw": [0.0, 20.0, 0.0], "min_load_kw": [50.0, 30.0, 0.0]},
        index=pd.Index(["T1", "T2", "T3"], name="id"),
    )
    roofs, status, _ = plan(town(), transformers)
    assert admit(town(), PLANNING, hosting_capacity(transformers, GRID))["grid_limited"].tolist() == [
        False, False, True, False, False, False
    ]
    # A3 is skipped: the 2025 gap of 600 m² is closed by A1 + A2 + A4 = 750 m².
    assert list(roofs[roofs["milestone"] == 2025].index) == ["A1", "A2", "A4"]
    a2030 = status[(status.index == "A") & (status["milestone"] == 2030)].iloc[0]
    assert a2030["binding"] == "suitability"  # first constraint short of 1000 m² in the chain
    # Crediting T2's 30 kW minimum load makes room for A3 again.
    credited = hosting_capacity(transformers, GRID.model_copy(update={"credit_min_load": True}))
    assert credited["T2"] == pytest.approx(0.8 * 100 + 30 - 20)


def test_grid_hosting_named_when_it_is_the_binding_constraint():
    transformers = pd.DataFrame(
        {"kva": [1000.0, 10.0, 10.0], "existing_pv_kw": [0.0, 8.0, 8.0], "min_load_kw": [0.0, 0.0, 0.0]},
        index=pd.Index(["T1", "T2", "T3"], name="id"),
    )
    _, status, _ = plan(town(), transformers)
    a2025 = status[(status.index == "A") & (status["milestone"] == 2025)].iloc[0]
    assert not a2025["reaches"] and a2025["binding"] == "grid_hosting"  # only A1 (200 m²) fits
    # T2 keeps out A2 and A3 (80 kWp), T3 keeps out A4 (50 kWp): most first.
    assert a2025["binding_transformers"] == "T2;T3"
    assert status.loc[status.index == "B", "binding_transformers"].eq("").all()


def test_build_years_and_trajectory():
    roofs, _, trajectory = plan(town())
    # 2025 is overdue: its roofs are built in the start year 2026. A4 alone serves 2030 and is
    # spread over 2026-2030 starting at its share 0 → 2026.
    assert roofs["build_year"].tolist() == [2026, 2026, 2026, 2026]
    a = trajectory[(trajectory.index == "A") & (trajectory["target"] == "t")].set_index("year")
    assert list(a.index) == [2026, 2027, 2028, 2029, 2030]
    assert a.loc[2026, "planned_coverage"] == pytest.approx(850.0 / 2000.0)
    assert a.loc[2030, "planned_coverage"] == pytest.approx(850.0 / 2000.0)
    assert a.loc[2026, "roofs"] == 4 and a.loc[2027, "roofs"] == 0


def test_roofs_are_spread_over_the_years_before_their_milestone():
    cfg = PLANNING.model_copy(update={"start_year": 2021})
    roofs, _, trajectory = plan(town(), cfg=cfg)
    # 2025 window 2021-2025 (5 years); shares of the 600 m² before each roof: 0, 1/3, 5/6.
    assert roofs["build_year"].to_dict() == {"A1": 2021, "A2": 2022, "A3": 2025, "A4": 2026}
    a = trajectory[trajectory.index == "A"].set_index("year")
    assert a.loc[2022, "planned_coverage"] == pytest.approx(500.0 / 2000.0)
    assert a.loc[2025, "planned_coverage"] == pytest.approx(600.0 / 2000.0)


SUBSTITUTION = Target(
    name="s", label="substitution of new factories", categories=["factory"], built_since=2021,
    metric="substitution", milestones={2030: 0.50}, source="test",
)


def with_facades():
    """Town A's five factories use 100,000 kWh/yr each (target 50 %: 250,000 kWh); the
    suitable roofs give A1 48,000, A2 66,000, A3 21,000, A4 50,000 kWh (185,000: short;
    with the conditional A5's 52,000 still 237,000). Facades: A1 20 kWp, 12,000 kWh
    (600 kWh/kWp), A3 10 kWp, 7,000 kWh (700). Town B already meets its target."""
    b = town().assign(
        energy_use_kwh=[100_000.0] * 5 + [10_000.0], existing_pv_kwh=[0.0] * 5 + [9_000.0],
        facade_kwp=[20.0, 0.0, 10.0, 0.0, 0.0, 0.0], facade_annual_kwh=[12_000.0, 0.0, 7_000.0, 0.0, 0.0, 0.0])
    return b


#: One carport in town A: 50 kWp, 55,000 kWh/yr (1,100 kWh/kWp).
CARPORT = pd.DataFrame({"surface_id": ["S1"], "surface_type": ["carport"], "township": ["A"], "kwp": [50.0],
                        "annual_kwh": [55_000.0], "specific_yield_kwh_kwp": [1100.0], "lcoe_yuan_kwh": [0.3]})


def test_substitution_target_draws_on_facades_and_surfaces():
    from roofpv.targets.planning import others

    cfg = PLANNING.model_copy(update={"draw_on": ["facades", "surfaces"], "grid_hosting": False})
    b = admit(with_facades(), cfg, None)
    roofs_only, status_roofs, _ = rollout(b, Policy(targets=[SUBSTITUTION]), PLANNING.model_copy(
        update={"grid_hosting": False}), None, KW_PER_M2, "all")
    a = status_roofs.loc["A"]
    assert not a["reaches"] and a["binding"] == "roof_potential"  # 237,000 < 250,000 kWh
    assert set(roofs_only["surface_type"]) == {"roof"}

    plan_rows, status, _ = rollout(b, Policy(targets=[SUBSTITUTION]), cfg, None, KW_PER_M2, "all",
                                   others(b, CARPORT, cfg))
    # By specific yield: A1 1200, A2 1100 (60 kWp before the carport's 50 at the same
    # yield), S1 1100, A3 1050, A4 1000, A3's facade 700, A1's facade 600: 247,000 kWh
    # before A1's facade, which crosses the 250,000 kWh gap.
    a_rows = plan_rows[plan_rows["township"] == "A"]
    assert list(zip(a_rows.index, a_rows["surface_type"])) == [
        ("A1", "roof"), ("A2", "roof"), ("S1", "carport"), ("A3", "roof"), ("A4", "roof"),
        ("A3", "facade"), ("A1", "facade")]
    assert list(a_rows["plan_rank"]) == [1, 2, 3, 4, 5, 6, 7]
    assert a_rows["contribution"].sum() == pytest.approx(259_000.0)
    a = status.loc["A"]
    assert a["reaches"] and a["binding"] == "" and a["plan_kwh"] == pytest.approx(259_000.0)
    assert a["plan_kwp"] == pytest.approx(40 + 60 + 50 + 20 + 50 + 10 + 20)
    # Coverage targets count roofs only, whatever the plan may draw on.
    area_cfg, _, _ = rollout(b, Policy(targets=[TARGET]), cfg, None, KW_PER_M2, "all", others(b, CARPORT, cfg))
    area_plain, _, _ = rollout(b, Policy(targets=[TARGET]), PLANNING.model_copy(update={"grid_hosting": False}),
                               None, KW_PER_M2, "all")
    pd.testing.assert_frame_equal(area_cfg, area_plain)
    # The report's and the GeoPackage layer's plan rows: roofs only.
    from roofpv.report.data import plan_roofs
    from roofpv.targets.planning import by_building

    assert list(plan_roofs(plan_rows.assign(name="")).index) == ["A1", "A2", "A3", "A4"]
    assert list(by_building(plan_rows).index) == ["A1", "A2", "A3", "A4"]
    # A facade's owner outside the plan's owner types: left out.
    private = others(b.assign(owner_type="natural_person"), None, cfg.model_copy(update={"owner_types": [
        "non_natural_person"], "draw_on": ["facades"]}))
    assert private.empty


def test_each_plan_status_row_takes_its_townships_milestone_status():
    """Rows in any order, several targets and the whole-city row: each its own cell."""
    from roofpv.run.pipeline import milestone_status

    townships = pd.DataFrame({
        "roofs_status_2025": ["met", "at_risk", "missed"], "roofs_status_2030": ["on_track", "unreachable", "met"],
        "new_status_2025": ["no_cohort", "met", "at_risk"]}, index=["甲", "乙", "全市"])
    plan_status = pd.DataFrame({"target": ["new", "roofs", "roofs", "roofs", "new"],
                                "milestone": [2025, 2030, 2025, 2030, 2025]}, index=["乙", "全市", "乙", "甲", "甲"])
    assert milestone_status(plan_status, townships) == ["met", "met", "at_risk", "on_track", "no_cohort"]
