"""``roofpv validate``: check the inputs without modelling and write validation.xlsx."""

from __future__ import annotations

import argparse
from pathlib import Path

from roofpv.cli.common import reconciliation
from roofpv.cli.options import config_option, setup
from roofpv.schema import LANGS


def add_parser(commands) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        "validate",
        help="check the inputs without modelling and write a validation report",
        description=(
            "Read footprints, survey and townships as `survey` would, and list every problem "
            "with file, sheet, row, building id, column, value, what is wrong and how to fix "
            "it. Writes validation.xlsx; exits with 1 when a problem is an error."
        ),
    )
    config_option(parser)
    parser.add_argument("--out", type=Path, metavar="DIR",
                        help="folder for validation.xlsx; default: out/<config name>")
    parser.add_argument("--overwrite", action="store_true", help="replace an earlier validation.xlsx")
    parser.add_argument("--lang", choices=LANGS, default="zh",
                        help="language of the problems and fixes in validation.xlsx and the table: zh (default) or en")
    return parser


def run(args: argparse.Namespace, console) -> int:
    import pandas as pd
    from rich.table import Table

    from roofpv.findings import findings_frame, in_language
    from roofpv.io.outputs import output_set
    from roofpv.io.writers import write_findings_workbook
    from roofpv.results import reconcile
    from roofpv.run.pipeline import check_inputs

    config, out_dir = setup(args)
    with console.status("reading inputs…"):
        inventory = check_inputs(config)
    frame = in_language(findings_frame(inventory.findings), args.lang)
    levels = frame["level"].value_counts()
    # a finding about no column in particular (a file, the survey as a whole) groups under "–"
    summary = (frame.assign(column=frame["column"].fillna("–")).groupby(["level", "column", "problem"])
               .size().rename("count").reset_index())
    counts = reconcile(inventory.buildings, inventory.survey_rows)
    overview = pd.DataFrame(list(counts.items()), columns=["item", "count"])
    with output_set(out_dir, args.overwrite, ["validation.xlsx"], merge=True) as stage:
        write_findings_workbook(stage / "validation.xlsx", frame,
                                pd.concat([overview.rename(columns={"item": "problem"}), summary]))
    report = out_dir / "validation.xlsx"
    table = Table(title="roofpv validate · 输入检查", header_style="bold")
    for col in ("level", "column", "problem", "count"):
        table.add_column(col, justify="right" if col == "count" else "left")
    for _, row in summary.sort_values("count", ascending=False).iterrows():
        table.add_row(row["level"], row["column"], row["problem"], f"{row['count']:,}")
    console.print(table)
    console.print(reconciliation(counts))
    console.print(
        f"{levels.get('error', 0)} errors, {levels.get('warning', 0)} warnings, "
        f"{levels.get('info', 0)} notes; report: {report}"
    )
    return 1 if levels.get("error", 0) else 0
