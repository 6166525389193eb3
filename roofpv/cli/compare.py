"""``roofpv compare OLD_OUT NEW_OUT``: progress between two runs, from their outputs only."""

from __future__ import annotations

import argparse
from pathlib import Path

from roofpv.cli.common import milestone_cell, pct
from roofpv.errors import OutputExistsError
from roofpv.schema import CITY

#: Files `roofpv compare` writes into its folder.
COMPARE_OUTPUTS = ("compare_townships.csv", "compare_cohorts.csv", "changed_buildings.csv", "compare.gpkg",
                   "compare.html")


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


def target_labels(buildings, folder: Path) -> dict[str, str]:
    """Target labels kept as field aliases of the cohort columns, else the target names."""
    from roofpv.io.outputs import field_aliases

    aliases = field_aliases(folder / "roofpv.gpkg", "buildings")
    return {c.removeprefix("cohort_"): aliases.get(c, c).removeprefix("属于对象：").removeprefix("cohort_")
            for c in buildings.columns if c.startswith("cohort_")}


def run(args: argparse.Namespace, console) -> int:
    import pandas as pd
    from rich.table import Table

    from roofpv.io.outputs import read_outputs, run_date
    from roofpv.io.writers import write_geopackage, write_table, write_text
    from roofpv.targets import compare

    out_dir = args.out or args.new / "compare"
    clash = [out_dir / n for n in COMPARE_OUTPUTS if (out_dir / n).exists()]
    if clash and not args.overwrite:
        raise OutputExistsError(f"{', '.join(map(str, clash))} already exist; pass --overwrite to replace them "
                                "or --out to write elsewhere")
    runs = []
    for folder in (args.old, args.new):
        outputs = read_outputs(folder)
        outputs.update(folder=str(folder), as_of=run_date(folder))
        runs.append(outputs)
    old, new = runs
    changes = compare.building_changes(old["buildings"], new["buildings"])
    towns = compare.township_changes(old, new, changes, CITY)
    cohorts = compare.cohort_changes(old, new, changes)
    labels = target_labels(new["buildings"], args.new)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_table(out_dir / "compare_townships.csv", towns.reset_index())
    write_table(out_dir / "compare_cohorts.csv", cohorts)
    write_table(out_dir / "changed_buildings.csv", changes.drop(columns="geometry").reset_index())
    write_geopackage(out_dir / "compare.gpkg", {"changed_buildings": changes.reset_index()})
    write_text(out_dir / "compare.html", compare.page(towns, cohorts, old, new, labels, CITY, args.lang))
    if args.quiet:
        return 0
    city = towns.loc[CITY]
    console.print(f"{CITY}: {int(city['new_systems']):,} new systems, {city['kw_added']:,.1f} kW added, "
                  f"{int(city['buildings_changed']):,} buildings changed")
    for name, milestones in compare.targets_of(new["townships"]).items():
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
    for name in COMPARE_OUTPUTS:
        console.print(f"  {out_dir / name}")
    return 0
