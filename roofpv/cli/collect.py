"""``roofpv collect FORMS... --out FILE``: returned forms → the survey workbook roofpv
reads, with history, conflicts, new buildings, invalid values and completeness."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path


def add_parser(subparsers) -> argparse.ArgumentParser:
    command = subparsers.add_parser(
        "collect",
        help="merge returned survey forms into the survey workbook and report completeness",
        description=(
            "Merge returned forms (files or folders, any order, several versions of a township): "
            "the newest value of each building and column wins (填报日期, else the file time), every "
            "edit is kept in a history sheet, edits of one cell by two offices are reported as "
            "conflicts, rows added in the field are listed for digitising and values outside the "
            "lists or ranges are reported with file, sheet, row and column. Writes the survey "
            "workbook roofpv reads (point inputs.survey at it) with the completeness per township, "
            "column and policy cohort, the missing and stale forms and the roofs to check in the field."
        ),
    )
    command.add_argument("forms", nargs="+", type=Path, metavar="FORM",
                         help="returned form workbooks, or folders holding them")
    command.add_argument("--out", type=Path, required=True, metavar="FILE", help="survey workbook to write (.xlsx)")
    command.add_argument("--issued", type=Path, metavar="PATH",
                         help="forms_issued.csv of `roofpv forms` (or its folder): lets collect name "
                         "the forms never returned; default: only the returned forms count")
    command.add_argument("--config", type=Path, help="config whose policy cohorts and survey sheet name "
                         "to use; default: configs/pinghu.yaml")
    command.add_argument("--as-of", metavar="YYYY-MM-DD", help="date the staleness is measured at (default: today)")
    command.add_argument("--stale-days", type=int, default=30, metavar="N",
                         help="a form last returned more than N days before --as-of is stale (default 30)")
    command.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    command.add_argument("--quiet", action="store_true", help="print only errors")
    return command


def run(args: argparse.Namespace, console) -> int:
    from rich.table import Table

    from roofpv.cli.options import default_config
    from roofpv.config import load_config
    from roofpv.errors import ConfigError, OutputExistsError
    from roofpv.fieldwork import completeness
    from roofpv.fieldwork.collect import collect_survey
    from roofpv.findings import findings_frame
    from roofpv.io import form_workbooks as form_io

    config = load_config(args.config or default_config())
    if args.out.exists() and not args.overwrite:
        raise OutputExistsError(f"{args.out} already exists; pass --overwrite to replace it")
    try:
        as_of = dt.datetime.fromisoformat(args.as_of) if args.as_of else dt.datetime.now()
    except ValueError:
        raise ConfigError(f"--as-of {args.as_of!r}: write the date as YYYY-MM-DD") from None
    returns, unreadable = form_io.read_returns(args.forms)
    listing = form_io.read_issued(args.issued) if args.issued is not None else None
    survey = collect_survey(returns, config, as_of, listing, unreadable, args.stale_days)
    form_io.write_sheets(args.out, survey.sheets)
    if args.quiet:
        return 0

    by_town, targets, merged = survey.townships, list(config.policy.targets), survey.merged
    view = Table(title="roofpv collect · 普查完成情况", header_style="bold", pad_edge=False)
    for col in ("township", "bldgs", "surveyed", "complete", *(t.name[:18] for t in targets), "field chk"):
        view.add_column(col, justify="left" if col == "township" else "right", no_wrap=True)
    for name, row in by_town.iterrows():
        cells = [str(name), f"{int(row['buildings']):,}", _pct(row["surveyed_share"]), _pct(row["complete_share"])]
        cells += [f"{_pct(row[f'{t.name}_complete_share'])} of {int(row[f'{t.name}_cohort']):,}" for t in targets]
        view.add_row(*cells, f"{int(row['field_check']):,}", end_section=name == by_town.index[-2])
    console.print(view)
    console.print("surveyed: a survey row; complete: " + ", ".join(completeness.DECISIVE)
                  + " filled; cohort share: complete buildings of those the survey places in the cohort")
    for label, state in (("missing", completeness.MISSING), ("stale", completeness.STALE)):
        names = survey.forms.index[survey.forms["status"] == state]
        if len(names):
            console.print(f"{label} forms ({len(names)}): {'、'.join(names)}")
    levels = findings_frame(survey.problems)["level"].value_counts()
    console.print(
        f"{survey.forms_read} forms read ({len(unreadable)} unreadable), {len(merged.survey):,} buildings surveyed; "
        f"{len(merged.history):,} values received, {survey.conflicting_cells:,} "
        f"conflicting cells, {len(merged.new_rows):,} rows added in the field, "
        f"{int(levels.get('warning', 0)) + int(levels.get('error', 0)):,} problems; written to {args.out}")
    return 0


def _pct(x: float) -> str:
    return "–" if x != x else f"{100 * x:.0f}%"
