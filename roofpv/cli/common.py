"""What the commands that run the survey share: the engine call, progress, the report
at the end and the reconciliation line."""

from __future__ import annotations

import argparse
import gc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from roofpv.run.sequence import REPORT_MAX_TOWNSHIPS


@contextmanager
def imports_frozen() -> Iterator[None]:
    """Leave the objects alive on entry (the modules a command has imported: their
    classes, functions and tables) out of the garbage collector's full collections
    until exit (:func:`gc.freeze`), which would otherwise walk them all again each time:
    some 60 ms a collection once the survey's modules are in, seven collections in a
    sample survey. Enter it after a command's imports, before it reads any data."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def pct(x: float) -> str:
    """A share as a percentage with one decimal, or – when unknown."""
    return "–" if x != x else f"{100 * x:.1f}%"


def milestone_cell(text: str, status: str) -> str:
    """``text`` and the milestone status in its traffic-light colour (rich markup)."""
    from roofpv.targets.milestones import LABELS, RICH_STYLES

    return f"{text} [{RICH_STYLES[status]}]{LABELS['zh'][status]}[/]"


def status_legend(as_of) -> str:
    """The meaning of the milestone statuses, for the line under a table."""
    from roofpv.targets.milestones import LABELS, STATUSES

    return (f"status on {as_of:%Y-%m-%d}: " + ", ".join(
        milestone_cell(LABELS["en"][s], s) for s in STATUSES) + " (rules: docs/design.md)")


def coverage_line(target, lang: str = "zh") -> str:
    """The line under a target's table: how its coverage is measured, in words (not the
    metric's code), and the policy it comes from."""
    from roofpv.report.labels import text

    return f"{'覆盖率' if lang == 'zh' else 'coverage'}: {text(lang)[f'metric_{target.metric}']} · {target.source}"


def reconciliation(counts: dict[str, int]) -> str:
    """One line: footprints in = buildings out, by status, and the survey rows."""
    from roofpv.appraise.suitability import STATUSES

    line = f"{counts['footprints']:,} footprints in → {counts['footprints']:,} buildings out"
    if "suitable" in counts:
        line += " = " + " + ".join(f"{counts[s]:,} {s}" for s in STATUSES)
    return line + (
        f"; {counts['with survey row']:,} with a survey row, {counts['without survey row']:,} without; "
        f"{counts['survey rows without footprint']:,} of {counts['survey rows']:,} survey rows have no footprint"
    )


def execute(config, out_dir: Path, args: argparse.Namespace, progress, on_partition, prepared=None):
    """Run the survey with the engine and partitioning the options ask for (on the
    ``prepared`` inputs, weather and yield tables where given)."""
    from roofpv.errors import ConfigError
    from roofpv.run.engine import run_partitions

    if args.partitions is not None and args.partitions < 1:
        raise ConfigError("--partitions must be at least 1")
    return run_partitions(
        config, out_dir, engine=args.engine, partitions=args.partitions, by=args.partition_by,
        scheduler=args.scheduler, workers=args.workers, resume=args.resume, arrays=args.arrays,
        prepared=prepared, stream=True, progress=progress, on_partition=on_partition,
    )


def write_report(results, config, out_dir: Path, args: argparse.Namespace,
                 paths: dict[str, Path], console, progress=None, stage: Path | None = None) -> None:
    """The HTML/XLSX report of a run into ``stage`` (default ``out_dir``), at the end of
    `survey` and `plan`, unless --no-report or too many townships (then a note says how
    to write it)."""
    townships = len(results.townships) - 1  # without the city row
    if args.report is False:
        return
    if args.report is None and townships > REPORT_MAX_TOWNSHIPS:
        if not args.quiet:
            console.print(f"report left out ({townships:,} townships): write it with `roofpv report "
                          f"--out {out_dir}` or pass --report")
        return
    if progress is not None:
        progress.phase(f"writing the report ({townships:,} townships)")
    from roofpv import report

    if results.partitions is not None:  # streamed: the buildings are read back from the outputs
        from dataclasses import replace

        from roofpv.io.outputs import read_buildings

        buildings, monthly = read_buildings(stage or out_dir)
        results = replace(results, buildings=buildings, monthly_yield=monthly)
    folder = report.write(report.from_results(results, config), config, stage or out_dir, args.lang,
                          pdf=getattr(args, "pdf", False))
    paths["report"] = folder / "index.html"

