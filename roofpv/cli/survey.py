"""``roofpv survey``: assess every building and write the GeoPackage and township table."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from ..constants import CITY, STAGES, SURVEY_OUTPUTS
from .common import execute, partition_log, pct, reconciliation, write_report
from .options import run_options, setup


def add_parser(commands) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        "survey",
        help="assess every building and write the GeoPackage and township table",
        description=(
            "Assess every building of the survey: suitability with reasons, module layout, "
            "capacity, yield, and coverage per township against the policy targets. Writes "
            "roofpv.gpkg (layers buildings, townships), townships.csv and findings.csv."
        ),
    )
    run_options(parser)
    return parser


def summary_table(townships, target):
    """Rich table: buildings, suitable, capacity, energy and coverage of ``target`` per township."""
    from rich.table import Table

    milestones = list(target.milestones)
    table = Table(title=f"roofpv survey · 分镇街道汇总 · {target.label}", header_style="bold",
                  pad_edge=False)
    for col in ("township", "bldgs", "suitable", "cond.", "MWp", "GWh/yr", "cov. now", "potential"):
        table.add_column(col, justify="left" if col == "township" else "right", no_wrap=True)
    for year in milestones:
        table.add_column(f"{year}", justify="right", no_wrap=True)
    p = f"{target.name}_"
    for name, row in townships.iterrows():
        cells = [
            str(name), f"{row['buildings']:,.0f}", f"{row['suitable']:,.0f}",
            f"{row['conditional']:,.0f}", f"{row['counted_potential_kwp'] / 1000:,.1f}",
            f"{row['annual_mwh'] / 1000:,.1f}", pct(row[p + "coverage_today"]),
            pct(row[p + "coverage_potential"]),
        ]
        for year in milestones:
            ok = "✓" if row[f"{p}reachable_{year}"] else "✗"
            cells.append(f"{pct(row[f'{p}target_{year}'])}{ok}")
        table.add_row(*cells, end_section=(name == townships.index[-2]))
    return table


def township_order(results) -> list[str]:
    """Townships in the order of the township layer, then any others."""
    order = list(results.township_polygons.index) if results.township_polygons is not None else []
    towns = results.townships.index.drop(CITY)
    return [t for t in order if t in towns] + [t for t in towns if t not in order]


def run(args: argparse.Namespace, console) -> int:
    import pandas as pd

    from .. import report
    from ..engine import clear_partitions
    from ..io.outputs import write_outputs
    from ..results import reconcile

    config, out_dir = setup(args, (*SURVEY_OUTPUTS, report.folder(Path(), args.lang).name))
    started = time.perf_counter()
    with console.status("starting…") as status:
        def progress(stage: str) -> None:
            number = STAGES.index(stage) + 1
            status.update(f"[{number}/{len(STAGES)}] {stage}")
            if not args.quiet:
                console.log(f"[{number}/{len(STAGES)}] {stage}")

        results = execute(config, out_dir, args, progress, partition_log(console, status, args.quiet))
        status.update("writing outputs")
        paths = write_outputs(results, out_dir, geo_format=args.geo_format)
        clear_partitions(out_dir)
        status.update("writing the report")
        write_report(results, config, out_dir, args, paths, console)
    elapsed = time.perf_counter() - started
    if args.quiet:
        return 0
    t = results.townships
    table = pd.concat([t.loc[township_order(results)], t.loc[[CITY]]])
    for target in config.policy.targets:
        console.print(summary_table(table, target))
        console.print(
            f"coverage: {target.metric}, {target.source}; "
            "✓/✗: target reachable with every suitable roof"
        )
    console.print(reconciliation(reconcile(results.buildings, results.survey_rows)))
    errors = sum(f.level == "error" for f in results.findings)
    console.print(f"{len(results.findings)} input findings ({errors} errors): see findings.csv "
                  "or run `roofpv validate`")
    for name, path in paths.items():
        console.print(f"  {name}: {path}")
    console.print(f"done in {elapsed:.1f} s")
    return 0
