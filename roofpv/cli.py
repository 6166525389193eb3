"""Command line: ``roofpv survey [CONFIG] [--out DIR]``.

Thin by design: parse arguments, run the pipeline with a progress display, print
the township summary, write the outputs.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.table import Table

from . import __version__
from .config import ConfigError, load_config
from .io.readers import InputError
from .io.weather import WeatherFileError
from .pipeline import CITY, STAGES, run, write_outputs
from .survey import SurveyError

DEFAULT_CONFIG = "pinghu.yaml"


def default_config() -> Path:
    """``configs/pinghu.yaml`` of the working directory, else of the roofpv source tree."""
    for root in (Path.cwd(), Path(__file__).resolve().parents[1]):
        candidate = root / "configs" / DEFAULT_CONFIG
        if candidate.exists():
            return candidate
    raise ConfigError(
        f"no CONFIG given and configs/{DEFAULT_CONFIG} not found; "
        "run from the roofpv folder or pass a config file"
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="roofpv",
        description="Rooftop-PV potential, yield and policy coverage per township.",
    )
    parser.add_argument("--version", action="version", version=f"roofpv {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    survey = commands.add_parser(
        "survey",
        help="assess every building and write the GeoPackage and township table",
        description=(
            "Assess every building of the survey: suitability with reasons, module layout, "
            "capacity, yield, and coverage per township against the policy targets. Writes "
            "roofpv.gpkg (layers buildings, townships), townships.csv and findings.csv."
        ),
    )
    survey.add_argument(
        "config", nargs="?", type=Path,
        help=f"jurisdiction config (YAML); default: the Pinghu sample, configs/{DEFAULT_CONFIG}",
    )
    survey.add_argument(
        "--out", type=Path, metavar="DIR",
        help="output folder; default: out/<config name>, e.g. out/pinghu",
    )
    survey.add_argument("--quiet", action="store_true", help="print only errors")
    return parser


def _pct(x: float) -> str:
    return "–" if pd.isna(x) else f"{100 * x:.1f}%"


def summary_table(townships: pd.DataFrame, target_name: str, milestones: list[int]) -> Table:
    """Rich table: buildings, suitable, capacity, energy and coverage per township."""
    table = Table(title="roofpv survey · 分镇街道汇总", header_style="bold", pad_edge=False)
    for col in ("township", "bldgs", "suitable", "cond.", "MWp", "GWh/yr", "cov. now", "potential"):
        table.add_column(col, justify="left" if col == "township" else "right", no_wrap=True)
    for year in milestones:
        table.add_column(f"{year}", justify="right", no_wrap=True)
    p = f"{target_name}_"
    for name, row in townships.iterrows():
        cells = [
            str(name), f"{row['buildings']:,.0f}", f"{row['suitable']:,.0f}",
            f"{row['conditional']:,.0f}", f"{row['capacity_kwp'] / 1000:,.1f}",
            f"{row['annual_mwh'] / 1000:,.1f}", _pct(row[p + "coverage_today"]),
            _pct(row[p + "coverage_potential"]),
        ]
        for year in milestones:
            ok = "✓" if row[f"{p}reachable_{year}"] else "✗"
            cells.append(f"{_pct(row[f'{p}target_{year}'])}{ok}")
        table.add_row(*cells, end_section=(name == townships.index[-2]))
    return table


def cmd_survey(args: argparse.Namespace, console: Console) -> int:
    config_path = args.config or default_config()
    config = load_config(config_path)
    out_dir = args.out or Path("out") / config_path.stem
    started = time.perf_counter()
    with console.status("starting…") as status:
        def progress(stage: str) -> None:
            number = STAGES.index(stage) + 1
            status.update(f"[{number}/{len(STAGES)}] {stage}")
            if not args.quiet:
                console.log(f"[{number}/{len(STAGES)}] {stage}")

        results = run(config, progress)
        status.update("writing outputs")
        paths = write_outputs(results, out_dir)
    elapsed = time.perf_counter() - started
    if args.quiet:
        return 0
    b = results.buildings
    target = config.policy.targets[0]
    order = list(results.township_polygons.index) if results.township_polygons is not None else []
    towns = results.townships.drop(index=CITY)
    towns = towns.loc[[t for t in order if t in towns.index] + [t for t in towns.index if t not in order]]
    table = pd.concat([towns, results.townships.loc[[CITY]]])
    console.print(summary_table(table, target.name, list(target.milestones)))
    console.print(
        f"coverage = {target.label} ({target.metric}, {target.source}); "
        "✓/✗: target reachable with every suitable roof"
    )
    counts = b["suitability"].value_counts()
    console.print(
        f"{len(b):,} buildings = " + " + ".join(f"{counts.get(s, 0):,} {s}"
        for s in ("suitable", "conditional", "unsuitable"))
        + f"; {len(results.findings)} input findings (see findings.csv)"
    )
    for name, path in paths.items():
        console.print(f"  {name}: {path}")
    console.print(f"done in {elapsed:.1f} s")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # pvlib 0.16 still calls DatetimeIndex.dayofyear, deprecated in pandas 3: not the user's concern.
    warnings.filterwarnings("ignore", message="DatetimeIndex.dayofyear is deprecated")
    console = Console(stderr=False, quiet=False)
    try:
        return cmd_survey(args, console)
    except (ConfigError, InputError, SurveyError, WeatherFileError) as exc:
        Console(stderr=True).print(f"[bold red]error:[/] {exc}", highlight=False)
        return 2


if __name__ == "__main__":
    sys.exit(main())
