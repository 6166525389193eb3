"""``roofpv compare OLD_OUT NEW_OUT``: progress between two runs, from their outputs only."""

from __future__ import annotations

import argparse
from pathlib import Path

from roofpv.cli.common import milestone_cell, pct
from roofpv.schema import CITY, COMPARE_OUTPUTS


def add_parser(commands) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        "compare",
        help="progress between two runs: new systems, coverage, changed buildings, trend",
        description=(
            "Read the output folders of two runs (no modelling) and write, per township and per "
            "target cohort, the systems and kW added and the change of coverage, the buildings "
            "that changed and why (layer changed_buildings of compare.gpkg), and compare.html "
            "with the trend against the milestones. Writes " + ", ".join(COMPARE_OUTPUTS) + "."
        ),
    )
    parser.add_argument("old", type=Path, metavar="OLD_OUT", help="output folder of the earlier run")
    parser.add_argument("new", type=Path, metavar="NEW_OUT", help="output folder of the later run")
    parser.add_argument("--out", type=Path, metavar="DIR", help="folder for the comparison; default: NEW_OUT/compare")
    parser.add_argument("--overwrite", action="store_true", help="replace an earlier comparison")
    parser.add_argument("--lang", choices=("zh", "en"), default="zh", help="language of compare.html")
    parser.add_argument("--quiet", action="store_true", help="print only errors")
    return parser


def run(args: argparse.Namespace, console) -> int:
    import pandas as pd
    from rich.table import Table

    from roofpv.io.comparison import compare_runs, write_comparison
    from roofpv.targets.compare import targets_of

    out_dir = args.out or args.new / "compare"
    comparison = compare_runs(args.old, args.new)
    paths = write_comparison(comparison, out_dir, args.overwrite, args.lang)
    if args.quiet:
        return 0
    towns, labels = comparison.townships, comparison.labels
    city = towns.loc[CITY]
    console.print(f"{CITY}: {int(city['new_systems']):,} new systems, {city['kw_added']:,.1f} kW added, "
                  f"{int(city['buildings_changed']):,} buildings changed")
    for name, milestones in targets_of(comparison.new["townships"]).items():
        table = Table(title=f"roofpv compare · {labels.get(name, name)}", header_style="bold", pad_edge=False)
        for col in ("township", "old", "new", "points", *(str(y) for y in milestones)):
            table.add_column(col, justify="left" if col == "township" else "right", no_wrap=True)
        for town, r in towns.iterrows():
            cells = [str(town), pct(r[f"{name}_coverage_old"]), pct(r[f"{name}_coverage_new"]),
                     "–" if pd.isna(r[f"{name}_points"]) else f"{r[f'{name}_points']:+.1f}"]
            for y in milestones:
                before, after = r[f"{name}_status_{y}_old"], r[f"{name}_status_{y}_new"]
                cells.append((milestone_cell("", before) if before else "–") + " →"
                             + (milestone_cell("", after) if after else " –"))
            table.add_row(*cells, end_section=(town == towns.index[-2]))
        console.print(table)
    for path in paths:
        console.print(f"  {path}")
    return 0
