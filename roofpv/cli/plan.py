"""``roofpv plan``: the survey, then the rollout plan that closes each township's gap."""

from __future__ import annotations

import argparse

from roofpv.cli.common import (
    execute,
    imports_frozen,
    milestone_cell,
    pct,
    status_legend,
    write_report,
)
from roofpv.cli.options import run_options, setup
from roofpv.cli.progress import RunProgress
from roofpv.cli.survey import township_order
from roofpv.schema import CITY, PLAN_OUTPUTS, REPORT_FOLDERS, SURVEY_OUTPUTS

#: Unit of a target's gap column and the divisor from the metric's units (area gaps in MWp).
GAP_UNITS = {"area_total": ("MWp", 1000.0), "area_installable": ("MWp", 1000.0),
             "count": ("bldgs", 1.0), "substitution": ("GWh/yr", 1e6)}
#: Short names of binding constraints for the terminal.
BINDING_SHORT = {"roof_potential": "roofs", "suitability": "status", "structure": "struct",
                 "owner": "owner", "grid_hosting": "grid"}


def add_parser(commands) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        "plan",
        help="survey, then the rollout plan that closes each township's gap to each target",
        description=(
            "Run the survey, then rank the eligible roofs and pick, per township and target, "
            "those that close the gap of each milestone, with build years to the horizon. "
            "Writes the survey outputs plus layer rollout_plan in roofpv.gpkg, "
            + ", ".join(PLAN_OUTPUTS) + "."
        ),
    )
    run_options(parser)
    return parser


def plan_table(status, target, order: list[str]):
    """Rich table of one target's plan: per township and milestone the gap, the MWp
    planned, the planned coverage and the milestone status (with the binding constraint
    when unreachable)."""
    from rich.table import Table

    unit, scale = GAP_UNITS[target.metric]
    table = Table(
        title=f"roofpv plan · {target.label} (gap {unit}, plan MWp)", header_style="bold", pad_edge=False
    )
    table.add_column("township", no_wrap=True)
    table.add_column("now", justify="right", no_wrap=True)
    for year, ratio in target.milestones.items():
        for col in (f"{year} gap", "plan", f"→{pct(ratio)}"):
            table.add_column(col, justify="right", no_wrap=True)
    rows = status[status["target"] == target.name]
    towns = [t for t in order if t in rows.index] + [t for t in rows.index.unique() if t not in order and t != CITY]
    for name in [*towns, CITY]:
        by_year = rows.loc[[name]].set_index("milestone")
        first = by_year.iloc[0]
        cells = [str(name), pct(first["today"] / first["denominator"] if first["denominator"] else float("nan"))]
        for year in target.milestones:
            r = by_year.loc[year]
            gap = r["gap_kwp"] if target.metric.startswith("area") else r["gap"]
            reach = "" if r["reaches"] else f" {BINDING_SHORT.get(r['binding'], r['binding'])}"
            if reach and r.get("binding_transformers"):  # the grid binds: name its transformers
                first, *more = str(r["binding_transformers"]).split(";")
                reach += f" ({first}{' …' if more else ''})"
            cells += [f"{gap / scale:,.1f}", f"{r['plan_kwp'] / 1000:,.1f}", milestone_cell(pct(r["planned_coverage"]), r["status"]) + reach]
        table.add_row(*cells, end_section=(name == towns[-1]))
    return table


def run(args: argparse.Namespace, console) -> int:
    from roofpv.io.outputs import output_set, write_outputs
    from roofpv.run.engine import clear_partitions

    config, out_dir = setup(args)
    names = (*SURVEY_OUTPUTS, *PLAN_OUTPUTS, REPORT_FOLDERS[args.lang])
    with imports_frozen(), output_set(out_dir, args.overwrite, names) as stage, \
            RunProgress(console, args.quiet) as progress:
        results = execute(config, out_dir, args, progress.stage, progress.partition)
        paths = write_outputs(results, stage, plan=True, geo_format=args.geo_format,
                              progress=progress.write, title=out_dir.resolve().name,
                              lang=args.lang)
        write_report(results, config, out_dir, args, paths, console, progress, stage)
    paths = {name: out_dir / path.relative_to(stage) for name, path in paths.items()}
    clear_partitions(out_dir)
    progress.done()
    if args.quiet:
        return 0
    order = township_order(results)
    for target in config.policy.targets:
        console.print(plan_table(results.plan_status, target, order))
        city = results.trajectory[(results.trajectory["target"] == target.name)].loc[[CITY]]
        console.print(f"{CITY} planned coverage by year: " + " · ".join(
            f"{int(r.year)} {pct(r.planned_coverage)}" for r in city.itertuples()
        ))
    console.print(
        "gap: still needed beyond today's PV; plan MWp: the roofs planned up to that milestone; "
        "an unreachable milestone names its binding constraint (roofs = roof potential, status, struct, "
        "owner, grid)"
    )
    c = results.townships.loc[CITY]
    econ = config.economics
    console.print(
        f"{CITY}, every suitable roof: capex {c['capex_myuan']:,.0f} M yuan, NPV {c['npv_myuan']:,.0f} M yuan "
        f"at {econ.discount_rate:.0%}, LCOE {c['lcoe_yuan_kwh']:.3f} yuan/kWh, median payback "
        f"{c['payback_years']:.1f} years, {c['co2_avoided_t_yr'] / 1000:,.1f} kt CO₂/yr avoided "
        f"({config.carbon.emission_factor_t_mwh} t/MWh, {config.carbon.source})"
    )
    console.print(status_legend(config.run_date))
    console.print(f"[bold]assumption[/] (no official source): {', '.join(econ.assumptions)}")
    for name, path in paths.items():
        console.print(f"  {name}: {path}")
    return 0
