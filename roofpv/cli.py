"""Command line: ``roofpv survey|plan|report|validate [CONFIG] [--out DIR] [--policy NAME]``
and ``roofpv init FOOTPRINTS``.

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
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from . import __version__, report
from .config import ConfigError, Policy, Target, load_config
from .engine import (
    ARRAYS_MAX_BUILDINGS,
    ENGINES,
    PARTITION_BY,
    PARTITION_SIZE,
    PartitionDone,
    clear_partitions,
    survey,
)
from .findings import findings_frame
from .io.readers import InputError
from .io.weather import WeatherFileError
from .io.writers import write_findings_workbook
from .pipeline import (
    CITY,
    PLAN_OUTPUTS,
    STAGES,
    SURVEY_OUTPUTS,
    check_inputs,
    existing_outputs,
    reconcile,
    write_outputs,
)
from .suitability import STATUSES
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


CONFIG_HELP = f"jurisdiction config (YAML); default: the Pinghu sample, configs/{DEFAULT_CONFIG}"


def _output_options(command: argparse.ArgumentParser) -> None:
    """Options of every command that writes a run's outputs (survey, plan, report)."""
    command.add_argument("config", nargs="?", type=Path, help=CONFIG_HELP)
    command.add_argument(
        "--out", type=Path, metavar="DIR",
        help="output folder; default: out/<config name>, e.g. out/pinghu",
    )
    command.add_argument("--overwrite", action="store_true", help="replace outputs of an earlier run")
    command.add_argument("--quiet", action="store_true", help="print only errors")
    command.add_argument(
        "--lang", choices=report.LANGS, default="zh",
        help="language of the HTML/XLSX report: zh (default) writes report/, en writes report_en/",
    )
    command.add_argument(
        "--policy", action="append", metavar="NAME",
        help="evaluate the targets of configs/NAME.yaml (or of a YAML path) instead of the "
        "config's own; repeat to combine, e.g. --policy pinghu --policy nea_whole_county",
    )


def _run_options(command: argparse.ArgumentParser) -> None:
    """Options of the commands that run the survey (survey, plan)."""
    _output_options(command)
    command.add_argument(
        "--report", action=argparse.BooleanOptionalAction, default=None,
        help=f"write the HTML/XLSX report at the end (default: for up to {REPORT_MAX_TOWNSHIPS} "
        "townships; `roofpv report` writes it later from the output folder)",
    )
    scale = command.add_argument_group("large runs")
    scale.add_argument("--engine", choices=ENGINES, default="local",
                       help="local: partitions one after the other in this process; dask: on a "
                       "Dask cluster (--scheduler) or a local one (default: local)")
    scale.add_argument("--scheduler", metavar="ADDRESS",
                       help="Dask scheduler address, e.g. tcp://10.0.0.5:8786; default: a local "
                       "cluster of --workers processes")
    scale.add_argument("--workers", type=int, default=2, metavar="N",
                       help="worker processes of the local Dask cluster (default: 2)")
    scale.add_argument("--partitions", type=int, metavar="N",
                       help=f"number of partitions (default: one per {PARTITION_SIZE:,} buildings)")
    scale.add_argument("--partition-by", choices=PARTITION_BY, default="township",
                       help="whole townships, balanced by size, or runs along a Hilbert curve")
    scale.add_argument("--resume", action="store_true",
                       help="reuse the finished partitions of an interrupted run into --out")
    scale.add_argument("--format", choices=("gpkg", "parquet"), default="gpkg", dest="geo_format",
                       help="layers as one GeoPackage (default) or one GeoParquet file each")
    scale.add_argument("--arrays", action=argparse.BooleanOptionalAction, default=None,
                       help="draw the pv_arrays layout preview (default: for up to "
                       f"{ARRAYS_MAX_BUILDINGS:,} buildings)")


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
    _run_options(survey)

    plan = commands.add_parser(
        "plan",
        help="survey, then the rollout plan that closes each township's gap to each target",
        description=(
            "Run the survey, then rank the eligible roofs and pick, per township and target, "
            "those that close the gap of each milestone, with build years to the horizon. "
            "Writes the survey outputs plus layer rollout_plan in roofpv.gpkg, "
            + ", ".join(PLAN_OUTPUTS) + "."
        ),
    )
    _run_options(plan)

    report_command = commands.add_parser(
        "report",
        help="write the HTML and XLSX report from an existing output folder",
        description=(
            "Read roofpv.gpkg and townships.csv of an earlier `survey` or `plan` run (no "
            "modelling) and write the report folder: index.html (city overview), one page per "
            "township and roofpv.xlsx. `survey` and `plan` write the same report at their end. "
            "Pass the config, --out and --policy of that run."
        ),
    )
    _output_options(report_command)

    validate = commands.add_parser(
        "validate",
        help="check the inputs without modelling and write a validation report",
        description=(
            "Read footprints, survey and townships as `survey` would, and list every problem "
            "with file, sheet, row, building id, column, value, what is wrong and how to fix "
            "it. Writes validation.xlsx; exits with 1 when a problem is an error."
        ),
    )
    validate.add_argument("config", nargs="?", type=Path, help=CONFIG_HELP)
    validate.add_argument("--out", type=Path, metavar="DIR", help="folder for validation.xlsx; default: out/<config name>")
    validate.add_argument("--overwrite", action="store_true", help="replace an earlier validation.xlsx")

    init = commands.add_parser(
        "init",
        help="write a starting config for your own footprints (and survey, DSM, weather)",
        description=(
            "Read a footprint layer (and optionally a survey, a DSM folder and a weather file) "
            "and write a starting config: id column and CRS detected, survey headers mapped, "
            "DSM resolution read, site at the data's centre, extending the nearest configured "
            "jurisdiction, with comments saying what to check."
        ),
    )
    init.add_argument("footprints", type=Path, help="building footprint layer (GeoPackage, GeoJSON, Shapefile …)")
    init.add_argument("--layer", help="layer of a multi-layer file")
    init.add_argument("--survey", type=Path, metavar="F", help="survey workbook (.xlsx) or CSV")
    init.add_argument("--dsm", type=Path, metavar="DIR", help="folder of DSM GeoTIFF tiles")
    init.add_argument("--weather", type=Path, metavar="F", help="hourly weather file (EPW, TMY3, PVGIS, CSV)")
    init.add_argument("--out", type=Path, metavar="CONFIG", help="config file to write; default: <footprints name>.yaml")
    init.add_argument("--overwrite", action="store_true", help="replace an existing config file")
    return parser


def cmd_init(args: argparse.Namespace, console: Console) -> int:
    from .init import config_text
    from .io import inspect

    out = args.out or Path(args.footprints.stem + ".yaml")
    if out.exists() and not args.overwrite:
        raise OutputExistsError(f"{out} already exists; pass --overwrite to replace it or --out to write elsewhere")
    configs = default_config().parent
    text = config_text(
        out, inspect.inspect_footprints(args.footprints, args.layer), inspect.configured_sites(configs),
        survey=inspect.inspect_survey(args.survey) if args.survey else None,
        dsm=inspect.inspect_dsm(args.dsm) if args.dsm else None,
        weather=inspect.inspect_weather(args.weather) if args.weather else None,
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    checks = sum("CHECK" in line for line in text.splitlines())
    console.print(f"wrote {out}: {checks} CHECK comments to read, then `roofpv validate {out}`")
    return 0


def _pct(x: float) -> str:
    return "–" if pd.isna(x) else f"{100 * x:.1f}%"


def summary_table(townships: pd.DataFrame, target: Target) -> Table:
    """Rich table: buildings, suitable, capacity, energy and coverage of ``target`` per township."""
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
            f"{row['conditional']:,.0f}", f"{row['capacity_kwp'] / 1000:,.1f}",
            f"{row['annual_mwh'] / 1000:,.1f}", _pct(row[p + "coverage_today"]),
            _pct(row[p + "coverage_potential"]),
        ]
        for year in milestones:
            ok = "✓" if row[f"{p}reachable_{year}"] else "✗"
            cells.append(f"{_pct(row[f'{p}target_{year}'])}{ok}")
        table.add_row(*cells, end_section=(name == townships.index[-2]))
    return table


class OutputExistsError(RuntimeError):
    """An output that a run would replace without ``--overwrite``."""


def policy_of(names: list[str], config_path: Path) -> Policy:
    """The targets of the named policies, in order: ``configs/NAME.yaml`` beside the
    config, or a YAML path."""
    paths = [Path(n) if n.endswith((".yaml", ".yml")) else config_path.parent / f"{n}.yaml" for n in names]
    try:
        return Policy(targets=[t for path in paths for t in load_config(path).policy.targets])
    except ValidationError as exc:
        raise ConfigError(f"--policy {' '.join(names)}: {exc.errors()[0]['msg']}") from None


def _setup(args: argparse.Namespace, names) -> tuple:
    """Config, output folder, and a refusal to overwrite earlier outputs unasked."""
    config_path = args.config or default_config()
    config = load_config(config_path)
    policies = getattr(args, "policy", None) or []
    if policies:
        config = config.model_copy(update={"policy": policy_of(policies, config_path)})
    out_dir = args.out or Path("out") / "+".join([config_path.stem, *(Path(n).stem for n in policies)])
    clash = existing_outputs(out_dir, names)
    if clash and not args.overwrite:
        raise OutputExistsError(
            f"{', '.join(map(str, clash))} already exist; pass --overwrite to replace them "
            "or --out to write elsewhere"
        )
    return config, out_dir


def _reconciliation(counts: dict[str, int]) -> str:
    line = (
        f"{counts['footprints']:,} footprints in → {counts['footprints']:,} buildings out"
    )
    if "suitable" in counts:
        line += " = " + " + ".join(f"{counts[s]:,} {s}" for s in STATUSES)
    return line + (
        f"; {counts['with survey row']:,} with a survey row, {counts['without survey row']:,} without; "
        f"{counts['survey rows without footprint']:,} of {counts['survey rows']:,} survey rows have no footprint"
    )


def _execute(config, out_dir: Path, args: argparse.Namespace, progress, on_partition):
    """Run the survey with the engine and partitioning the options ask for."""
    if args.partitions is not None and args.partitions < 1:
        raise ConfigError("--partitions must be at least 1")
    return survey(
        config, out_dir, engine=args.engine, partitions=args.partitions, by=args.partition_by,
        scheduler=args.scheduler, workers=args.workers, resume=args.resume, arrays=args.arrays,
        progress=progress, on_partition=on_partition,
    )


def _partition_log(console: Console, status, quiet: bool):
    """Progress callback of the partitions: status line, and a log line unless quiet."""
    def report(p: PartitionDone) -> None:
        status.update(f"[3/{len(STAGES)}] partitions {p.done}/{p.total}")
        if not quiet:
            how = "already done (resumed)" if p.cached else f"{p.seconds:.1f} s"
            console.log(f"  partition {p.index + 1}: {p.buildings:,} buildings, {how} "
                        f"[{p.done}/{p.total}]")
    return report


def cmd_validate(args: argparse.Namespace, console: Console) -> int:
    config, out_dir = _setup(args, ["validation.xlsx"])
    with console.status("reading inputs…"):
        inventory = check_inputs(config)
    frame = findings_frame(inventory.findings)
    levels = frame["level"].value_counts()
    summary = frame.groupby(["level", "column", "problem"], dropna=False).size().rename("count").reset_index()
    counts = reconcile(inventory.buildings, inventory.survey_rows)
    overview = pd.DataFrame(list(counts.items()), columns=["item", "count"])
    out_dir.mkdir(parents=True, exist_ok=True)
    report = out_dir / "validation.xlsx"
    write_findings_workbook(report, frame, pd.concat([overview.rename(columns={"item": "problem"}), summary]))
    table = Table(title="roofpv validate · 输入检查", header_style="bold")
    for col in ("level", "column", "problem", "count"):
        table.add_column(col, justify="right" if col == "count" else "left")
    for _, row in summary.sort_values("count", ascending=False).iterrows():
        table.add_row(row["level"], str(row["column"]), row["problem"], f"{row['count']:,}")
    console.print(table)
    console.print(_reconciliation(counts))
    console.print(
        f"{levels.get('error', 0)} errors, {levels.get('warning', 0)} warnings, "
        f"{levels.get('info', 0)} notes; report: {report}"
    )
    return 1 if levels.get("error", 0) else 0


#: Above this many townships `survey` and `plan` leave the report to `roofpv report`
#: unless --report asks for it: each township page takes about a second.
REPORT_MAX_TOWNSHIPS = 100


def _write_report(results, config, out_dir: Path, args: argparse.Namespace,
                  paths: dict[str, Path], console: Console) -> None:
    """The HTML/XLSX report of a run, at the end of `survey` and `plan`, unless --no-report
    or too many townships (then a note says how to write it)."""
    townships = len(results.townships) - 1  # without the city row
    if args.report is False:
        return
    if args.report is None and townships > REPORT_MAX_TOWNSHIPS:
        if not args.quiet:
            console.print(f"report left out ({townships:,} townships): write it with `roofpv report "
                          f"--out {out_dir}` or pass --report")
        return
    folder = report.write(report.from_results(results, config), config, out_dir, args.lang)
    paths["report"] = folder / "index.html"


def cmd_report(args: argparse.Namespace, console: Console) -> int:
    config, out_dir = _setup(args, [report.folder(Path(), args.lang).name])
    with console.status("writing the report…"):
        results = report.from_folder(out_dir, config)
        missing = [t.name for t in config.policy.targets
                   if f"{t.name}_coverage_today" not in results.townships.columns]
        if missing:
            raise ConfigError(
                f"{out_dir}: the run there did not assess the targets {', '.join(missing)}; run "
                "`roofpv survey` (or plan) with the same --policy into that folder first, or give the "
                "run's own policy")
        path = report.write(results, config, out_dir, args.lang)
    if not args.quiet:
        console.print(f"  report: {path / 'index.html'}, {path / 'roofpv.xlsx'}")
    return 0


def cmd_survey(args: argparse.Namespace, console: Console) -> int:
    config, out_dir = _setup(args, (*SURVEY_OUTPUTS, report.folder(Path(), args.lang).name))
    started = time.perf_counter()
    with console.status("starting…") as status:
        def progress(stage: str) -> None:
            number = STAGES.index(stage) + 1
            status.update(f"[{number}/{len(STAGES)}] {stage}")
            if not args.quiet:
                console.log(f"[{number}/{len(STAGES)}] {stage}")

        results = _execute(config, out_dir, args, progress, _partition_log(console, status, args.quiet))
        status.update("writing outputs")
        paths = write_outputs(results, out_dir, geo_format=args.geo_format)
        clear_partitions(out_dir)
        status.update("writing the report")
        _write_report(results, config, out_dir, args, paths, console)
    elapsed = time.perf_counter() - started
    if args.quiet:
        return 0
    b = results.buildings
    order = list(results.township_polygons.index) if results.township_polygons is not None else []
    towns = results.townships.drop(index=CITY)
    towns = towns.loc[[t for t in order if t in towns.index] + [t for t in towns.index if t not in order]]
    table = pd.concat([towns, results.townships.loc[[CITY]]])
    for target in config.policy.targets:
        console.print(summary_table(table, target))
        console.print(
            f"coverage: {target.metric}, {target.source}; "
            "✓/✗: target reachable with every suitable roof"
        )
    console.print(_reconciliation(reconcile(b, results.survey_rows)))
    errors = sum(f.level == "error" for f in results.findings)
    console.print(f"{len(results.findings)} input findings ({errors} errors): see findings.csv "
                  "or run `roofpv validate`")
    for name, path in paths.items():
        console.print(f"  {name}: {path}")
    console.print(f"done in {elapsed:.1f} s")
    return 0


#: Unit of a target's gap column and the divisor from the metric's units (area gaps in MWp).
GAP_UNITS = {"area_total": ("MWp", 1000.0), "area_installable": ("MWp", 1000.0),
             "count": ("bldgs", 1.0), "substitution": ("GWh/yr", 1e6)}
#: Short names of binding constraints for the terminal.
BINDING_SHORT = {"roof_potential": "roofs", "suitability": "status", "structure": "struct",
                 "owner": "owner", "grid_hosting": "grid"}


def plan_table(status: pd.DataFrame, target, order: list[str]) -> Table:
    """Rich table of one target's plan: per township and milestone the gap, the MWp
    planned, the planned coverage and ✓ or ✗ with the binding constraint."""
    unit, scale = GAP_UNITS[target.metric]
    table = Table(
        title=f"roofpv plan · {target.label} (gap {unit}, plan MWp)", header_style="bold", pad_edge=False
    )
    table.add_column("township", no_wrap=True)
    table.add_column("now", justify="right", no_wrap=True)
    for year, ratio in target.milestones.items():
        for col in (f"{year} gap", "plan", f"→{_pct(ratio)}"):
            table.add_column(col, justify="right", no_wrap=True)
    rows = status[status["target"] == target.name]
    towns = [t for t in order if t in rows.index] + [t for t in rows.index.unique() if t not in order and t != CITY]
    for name in [*towns, CITY]:
        by_year = rows.loc[[name]].set_index("milestone")
        first = by_year.iloc[0]
        cells = [str(name), _pct(first["today"] / first["denominator"] if first["denominator"] else float("nan"))]
        for year in target.milestones:
            r = by_year.loc[year]
            gap = r["gap_kwp"] if target.metric.startswith("area") else r["gap"]
            reach = "✓" if r["reaches"] else f"✗{BINDING_SHORT.get(r['binding'], r['binding'])}"
            cells += [f"{gap / scale:,.1f}", f"{r['plan_kwp'] / 1000:,.1f}", f"{_pct(r['planned_coverage'])}{reach}"]
        table.add_row(*cells, end_section=(name == towns[-1]))
    return table


def cmd_plan(args: argparse.Namespace, console: Console) -> int:
    config, out_dir = _setup(args, (*SURVEY_OUTPUTS, *PLAN_OUTPUTS, report.folder(Path(), args.lang).name))
    with console.status("starting…") as status:
        def progress(stage: str) -> None:
            status.update(f"[{STAGES.index(stage) + 1}/{len(STAGES)}] {stage}")

        results = _execute(config, out_dir, args, progress, _partition_log(console, status, True))
        status.update("writing outputs")
        paths = write_outputs(results, out_dir, plan=True, geo_format=args.geo_format)
        clear_partitions(out_dir)
        status.update("writing the report")
        _write_report(results, config, out_dir, args, paths, console)
    if args.quiet:
        return 0
    order = list(results.township_polygons.index) if results.township_polygons is not None else []
    for target in config.policy.targets:
        console.print(plan_table(results.plan_status, target, order))
        city = results.trajectory[(results.trajectory["target"] == target.name)].loc[[CITY]]
        console.print(f"{CITY} planned coverage by year: " + " · ".join(
            f"{int(r.year)} {_pct(r.planned_coverage)}" for r in city.itertuples()
        ))
    console.print(
        "gap: still needed beyond today's PV; plan MWp: the roofs planned up to that milestone; "
        "✗ names the binding constraint (roofs = roof potential, status, struct, owner, grid)"
    )
    c = results.townships.loc[CITY]
    econ = config.economics
    console.print(
        f"{CITY}, every suitable roof: capex {c['capex_myuan']:,.0f} M yuan, NPV {c['npv_myuan']:,.0f} M yuan "
        f"at {econ.discount_rate:.0%}, LCOE {c['lcoe_yuan_kwh']:.3f} yuan/kWh, median payback "
        f"{c['payback_years']:.1f} years, {c['co2_avoided_t_yr'] / 1000:,.1f} kt CO₂/yr avoided "
        f"({config.carbon.emission_factor_t_mwh} t/MWh, {config.carbon.source})"
    )
    console.print(f"[bold]assumption[/] (no official source): {', '.join(econ.assumptions)}")
    for name, path in paths.items():
        console.print(f"  {name}: {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # pvlib 0.16 still calls DatetimeIndex.dayofyear, deprecated in pandas 3: not the user's concern.
    warnings.filterwarnings("ignore", message="DatetimeIndex.dayofyear is deprecated")
    # Piped output (logs, CI) gets a fixed width so the township table is not cut.
    console = Console() if sys.stdout.isatty() else Console(width=120)
    command = {"survey": cmd_survey, "plan": cmd_plan, "report": cmd_report, "validate": cmd_validate,
               "init": cmd_init}[args.command]
    try:
        return command(args, console)
    except (ConfigError, InputError, SurveyError, WeatherFileError, OutputExistsError) as exc:
        Console(stderr=True).print(f"[bold red]error:[/] {exc}", highlight=False)
        return 2


if __name__ == "__main__":
    sys.exit(main())
