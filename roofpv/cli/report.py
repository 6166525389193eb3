"""``roofpv report``: the HTML and XLSX report from an existing output folder."""

from __future__ import annotations

import argparse
from pathlib import Path

from roofpv.cli.options import output_options, setup


def add_parser(commands) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        "report",
        help="write the HTML and XLSX report from an existing output folder",
        description=(
            "Read roofpv.gpkg and townships.csv of an earlier `survey` or `plan` run (no "
            "modelling) and write the report folder: index.html (city overview), one page per "
            "township and roofpv.xlsx. `survey` and `plan` write the same report at their end. "
            "Pass the config, --out and --policy of that run."
        ),
    )
    output_options(parser)
    return parser


def run(args: argparse.Namespace, console) -> int:
    from roofpv import report
    from roofpv.errors import ConfigError
    from roofpv.io.outputs import output_set

    config, out_dir = setup(args)
    name = report.folder(Path(), args.lang).name
    with output_set(out_dir, args.overwrite, [name], merge=True) as stage, \
            console.status("writing the report…"):
        results = report.from_folder(out_dir, config)
        missing = [t.name for t in config.policy.targets
                   if f"{t.name}_coverage_today" not in results.townships.columns]
        if missing:
            raise ConfigError(
                f"{out_dir}: the run there did not assess the targets {', '.join(missing)}; run "
                "`roofpv survey` (or plan) with the same --policy into that folder first, or give the "
                "run's own policy")
        report.write(results, config, stage, args.lang, pdf=args.pdf)
    path = out_dir / name
    if not args.quiet:
        console.print(f"  report: {path / 'index.html'}, {path / 'roofpv.xlsx'}")
    return 0
