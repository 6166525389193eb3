"""Coverage, targets and gaps against hand-computed fixtures."""

import pandas as pd
import pytest

from roofpv.config import Target
from roofpv.targets.policy import coverage, in_cohort

TARGET = Target(
    name="t", label="new public and factory", categories=["public_institution", "factory"],
    built_since=2021, metric="area_total", milestones={2025: 0.30, 2030: 0.50}, source="test",
)


def buildings():
    # Town A: two new cohort roofs of 1000 m², one with 200 m² of PV and room for 300 m²
    # more, one bare with room for 400 m²; an old factory and a new house are outside
    # the cohort. Town B: one new factory that cannot carry PV.
    return pd.DataFrame({
        "township": ["A", "A", "A", "A", "B"],
        "category": ["factory", "public_institution", "factory", "rural_residential", "factory"],
        "year_built": [2022, 2023, 2010, 2024, 2022],
        "roof_area_m2": [1000.0, 1000.0, 5000.0, 100.0, 400.0],
        "usable_area_m2": [800.0, 700.0, 4000.0, 80.0, 300.0],
        "existing_pv_area_m2": [200.0, 0.0, 0.0, 0.0, 0.0],
        "pv_area_m2": [300.0, 400.0, 2000.0, 30.0, 0.0],
        "capacity_kwp": [60.0, 120.0, 400.0, 6.0, 0.0],
        "suitability": ["suitable", "suitable", "suitable", "suitable", "unsuitable"],
    })


def test_cohort_is_categories_built_since():
    assert in_cohort(buildings(), TARGET).tolist() == [True, True, False, False, True]


def test_area_total_coverage_and_gap_by_hand():
    cov = coverage(buildings(), TARGET)
    a = cov.loc["A"]
    assert a.buildings == 2
    assert a.coverage_today == pytest.approx(200 / 2000)
    assert a.coverage_potential == pytest.approx((200 + 300 + 400) / 2000)
    assert a.gap_2025 == pytest.approx(0.30 * 2000 - 200)  # 400 m² of panels
    assert a.gap_2030 == pytest.approx(0.50 * 2000 - 200)
    assert bool(a.reachable_2025) and not bool(a.reachable_2030)
    b = cov.loc["B"]
    assert (b.coverage_today, b.coverage_potential, bool(b.reachable_2025)) == (0.0, 0.0, False)


def test_switching_denominator_to_installable_area():
    cov = coverage(buildings(), TARGET.model_copy(update={"metric": "area_installable"}))
    assert cov.loc["A", "coverage_today"] == pytest.approx(200 / 1500)
    assert cov.loc["A", "coverage_potential"] == pytest.approx(900 / 1500)
    assert cov.loc["A", "gap_2030"] == pytest.approx(0.5 * 1500 - 200)


def test_count_based_coverage():
    cov = coverage(buildings(), TARGET.model_copy(update={"metric": "count"}))
    assert cov.loc["A", "coverage_today"] == pytest.approx(0.5)
    assert cov.loc["A", "coverage_potential"] == pytest.approx(1.0)
    assert cov.loc["B", "gap_2025"] == pytest.approx(0.3)  # 0.3 of a building still missing


def test_substitution_rate_by_hand():
    from roofpv.config import EnergyUse
    from roofpv.targets.policy import energy

    b = buildings().assign(
        floor_area_m2=[2000.0, 1000.0, 5000.0, 100.0, 400.0],
        existing_pv_kw=[40.0, 0.0, 0.0, 0.0, 0.0],
        specific_yield_kwh_kwp=[1000.0, 1100.0, 1000.0, 1000.0, None],
        shading_loss=[0.0, 0.0, 0.0, 0.0, 0.0],
        annual_kwh=[60_000.0, 132_000.0, 400_000.0, 6000.0, 0.0],
    )
    use = EnergyUse(intensity_kwh_m2={
        "party_gov": 80, "public_institution": 70, "factory": 60, "commercial": 120,
        "urban_residential": 30, "rural_residential": 20, "other": 50,
    })
    b = energy(b, use)
    assert b["energy_use_kwh"].tolist() == [120_000.0, 70_000.0, 300_000.0, 2000.0, 24_000.0]
    assert b.loc[0, "existing_pv_kwh"] == pytest.approx(40_000.0)
    cov = coverage(b, TARGET.model_copy(update={"metric": "substitution", "milestones": {2025: 0.08, 2030: 0.12}}))
    # Town A cohort: 120 000 + 70 000 kWh of use; 40 000 kWh of PV today; +60 000 +132 000 potential.
    assert cov.loc["A", "coverage_today"] == pytest.approx(40_000 / 190_000)
    assert cov.loc["A", "coverage_potential"] == pytest.approx(232_000 / 190_000)
    assert cov.loc["B", "gap_2030"] == pytest.approx(0.12 * 24_000)


def test_empty_cohort_with_text_typed_columns_gives_unknown_coverage():
    """No building in the cohort, with columns of object dtype (as a run's frame has
    them before any value is read): coverage unknown (NaN), never a ZeroDivisionError."""
    b = buildings().astype({"existing_pv_area_m2": object, "roof_area_m2": object})
    b["year_built"] = 2000
    cov = coverage(b, TARGET)
    assert cov["buildings"].tolist() == [0, 0]
    assert cov["coverage_today"].isna().all() and cov["coverage_potential"].isna().all()


def test_group_sums_one_column_at_a_time_are_the_frame_groupby_to_the_bit():
    """The township table's sums built a column at a time equal the whole frame's
    ``groupby().sum()`` exactly: the same groups (sorted, missing townships in none), the
    same float sums to the last bit (pandas adds with compensation in row order), counts
    and flags summed to integers; an empty table keeps its columns and dtypes."""
    import numpy as np

    from roofpv.targets.policy import group_sums

    rng = np.random.default_rng(7)
    n = 20_000
    township = pd.Series(rng.choice(["镇乙", "镇甲", "Z town", None], n), name="township", dtype="str")
    columns = {"buildings": pd.Series(1, index=township.index), "kwh": pd.Series(rng.lognormal(8, 3, n)),
               "suitable": pd.Series(rng.random(n) < 0.4)}
    for rows in (slice(None), slice(0, 0)):
        key = township[rows]
        whole = pd.DataFrame({"township": key, **{c: v[rows] for c, v in columns.items()}}).groupby("township").sum()
        got = group_sums(key, {c: (lambda v=v, rows=rows: v[rows]) for c, v in columns.items()})
        pd.testing.assert_frame_equal(got, whole, check_exact=True)
    assert list(got.columns) == ["buildings", "kwh", "suitable"]
    assert list(whole.index) == [] and got["buildings"].dtype == np.int64
    full = group_sums(township, {"buildings": lambda: columns["buildings"]})
    assert full.index.tolist() == ["Z town", "镇乙", "镇甲"]
    assert full["buildings"].sum() == township.notna().sum()
