from dataclasses import replace

import numpy as np
import pytest

from roofpv.run.pipeline import prepare
from roofpv.run.sensitivity import scenarios, sensitivity_table
from roofpv.schema import CITY


@pytest.fixture(scope="module")
def prepared(config):
    return prepare(config)


@pytest.fixture(scope="module")
def table(config, prepared):
    inventory = prepared.inventory
    # 300 buildings without the DSM keep the test short; the stages are the survey's.
    small = replace(inventory, buildings=inventory.buildings.iloc[::10].iloc[:300], dsm=None, dem=None)
    return sensitivity_table(config, replace(prepared, inventory=small)).set_index(["parameter", "value"])


def test_scenarios_change_one_assumption(config):
    cases = list(scenarios(config))
    assert [c[0] for c in cases] == ["base", *["module_power_w"] * 2, *["losses_pct"] * 2,
                                     *["load_safety_factor"] * 2, *["shading_loss_factor"] * 2]
    assert cases[1][1] == pytest.approx(0.9 * config.module.power_w, abs=0.1)
    assert cases[3][1] < config.system.total_losses_pct < cases[4][1]


@pytest.mark.slow
def test_energy_and_coverage_move_the_expected_way(table, config):
    city = table[table["township"] == CITY]
    base = city.loc["base"].iloc[0]
    power = city.loc["module_power_w"]
    # Capacity and energy scale with module power at equal module count.
    np.testing.assert_allclose(power["capacity_mwp"] / base["capacity_mwp"], [0.9, 1.1], rtol=1e-9)
    np.testing.assert_allclose(power["energy_change_pct"], [-10.0, 10.0], atol=1e-6)
    losses = city.loc["losses_pct"]["energy_change_pct"].to_numpy()
    assert losses[0] > 1.5 and losses[1] < -1.5
    load = city.loc["load_safety_factor"]["capacity_mwp"].to_numpy()
    assert load[0] <= base["capacity_mwp"] and load[1] <= load[0]
    shade = city.loc["shading_loss_factor"]["energy_change_pct"].to_numpy()
    assert shade[0] > 0 > shade[1]
    target = config.policy.targets[0].name
    assert (city[f"{target}_coverage_change_pp"].loc["base"] == 0).all()
    # P90 ≤ P50 wherever there is energy (a township without buildings has none)
    energy = table["annual_mwh"] > 0
    assert (table.loc[energy, "annual_mwh_p90"] <= table.loc[energy, "annual_mwh"]).all()


@pytest.mark.slow
def test_base_case_rows_are_the_township_table(config, prepared):
    """sensitivity.csv lists the townships of townships.csv, also one without buildings,
    and its base case has the same capacity and energy."""
    from roofpv.run.pipeline import assess_buildings, conclude

    inventory = prepared.inventory
    b = inventory.buildings
    empty = inventory.township_polygons.index[0]
    small = b[b["township"] != empty].iloc[::20].iloc[:100]
    prepared = replace(prepared, inventory=replace(inventory, buildings=small, dsm=None, dem=None))
    table = sensitivity_table(config, prepared)
    base = table[table["parameter"] == "base"].set_index("township")
    assessed, planes, arrays, _ = assess_buildings(small, config, prepared.hourly, prepared.tables,
                                                   inventory.crs, draw_arrays=False)
    townships = conclude(assessed, config, prepared, planes, arrays).townships
    assert empty in base.index and list(base.index) == list(townships.index)
    assert np.allclose(base["capacity_mwp"], townships["counted_potential_kwp"] / 1000.0)
    assert np.allclose(base["annual_mwh"], townships["annual_mwh"])
