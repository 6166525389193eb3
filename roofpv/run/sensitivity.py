"""
How township capacity, energy and target coverage move with the main
assumptions: module power, system losses, the roof-load safety factor and the
shading loss of the survey classes.

Each scenario changes one assumption and reruns the per-building stages on
the prepared inventory; the DSM measurement of the roofs is done once, and
the orientation yield tables are recomputed only when the losses change
(one broadcast computation over the bin grid, no per-building pvlib call).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pandas as pd

from roofpv.config import Config
from roofpv.energy import solar
from roofpv.run.pipeline import Prepared, admit, assess_buildings, township_table
from roofpv.run.stages import measure_roofs


def scenarios(config: Config) -> Iterator[tuple[str, float, Config]]:
    """``(parameter, value, config)`` for the base case and each one-at-a-time change:
    module power ±10 %, DC losses ±2 percentage points, load safety factor +0.1 and
    +0.25, survey-class shading losses ×0.5 and ×1.5."""
    yield "base", 0.0, config
    module, system, rules = config.module, config.system, config.rules
    for factor in (0.9, 1.1):
        power = round(module.power_w * factor, 1)
        yield "module_power_w", power, config.model_copy(
            update={"module": module.model_copy(update={"power_w": power})})
    for points in (-2.0, 2.0):
        losses = {**system.losses_pct, "sensitivity": points}
        changed = system.model_copy(update={"losses_pct": losses})
        yield "losses_pct", round(changed.total_losses_pct, 2), config.model_copy(update={"system": changed})
    for step in (0.1, 0.25):
        factor = rules.load_safety_factor + step
        yield "load_safety_factor", factor, config.model_copy(
            update={"rules": rules.model_copy(update={"load_safety_factor": factor})})
    for factor in (0.5, 1.5):
        losses = {k: min(v * factor, 0.95) for k, v in rules.shading_loss.items()}
        yield "shading_loss_factor", factor, config.model_copy(
            update={"rules": rules.model_copy(update={"shading_loss": losses})})


def sensitivity_table(config: Config, prepared: Prepared,
                      progress: Callable[[str], None] = lambda step: None) -> pd.DataFrame:
    """One row per scenario and township (and the whole jurisdiction): capacity
    (MWp), P50 and P90 energy (MWh/yr), the potential coverage of every policy target,
    and the change of energy (%) and coverage (percentage points) from the base case."""
    inventory = prepared.inventory
    b0 = inventory.buildings
    measured = measure_roofs(b0, config, prepared.hourly, inventory.crs, inventory.dsm, inventory.dem)
    rows = []
    for parameter, value, changed in scenarios(config):
        progress(f"{parameter} {value:g}")
        tables = (prepared.tables if changed.system == config.system
                  else solar.yield_tables(changed, prepared.hourly))
        b, *_ = assess_buildings(b0, changed, prepared.hourly, tables, inventory.crs, draw_arrays=False,
                                 measured=measured, facade_tables=prepared.facade_tables)
        b, *_ = admit(b, changed, prepared.transformers, tables, prepared.hourly.index, prepared.topology)
        towns = township_table(b, changed, inventory.township_polygons)
        coverage = [f"{t.name}_coverage_potential" for t in changed.policy.targets]
        frame = towns[["counted_potential_kwp", "annual_mwh", "annual_mwh_p90", *coverage]].copy()
        frame.insert(0, "value", value)
        frame.insert(0, "parameter", parameter)
        rows.append(frame.rename_axis("township").reset_index())
    table = pd.concat(rows, ignore_index=True)
    table["capacity_mwp"] = table.pop("counted_potential_kwp") / 1000.0  # suitable roofs
    base = table[table["parameter"] == "base"].set_index("township")
    by_town = table["township"]
    table["energy_change_pct"] = 100.0 * (table["annual_mwh"] / by_town.map(base["annual_mwh"]) - 1)
    for col in coverage:
        table[col.replace("_coverage_potential", "_coverage_change_pp")] = 100.0 * (
            table[col] - by_town.map(base[col]))
    return table
