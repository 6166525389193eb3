"""Command line: ``roofpv COMMAND [CONFIG] [options]``.

Thin by design, one module per command (as rasterio's ``rio``): each has
``add_parser(commands)`` and ``run(args, console) -> int``. Modules load the geospatial
and PV stacks inside ``run``, so ``roofpv --help`` answers at once. A new command is a
new module and one line in :data:`COMMANDS`.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import warnings

from roofpv import __version__
from roofpv.errors import RoofpvError

#: Command modules of :mod:`roofpv.cli`, in the order ``roofpv --help`` lists them.
COMMANDS = ("survey", "plan", "report", "validate", "forms", "collect", "compare", "init")

#: Exit status: 0 done, 1 `validate` found an error in the inputs, 2 the run could not
#: be done (bad config, unreadable input, output exists); the message says what to do.
EXIT_OK, EXIT_INPUT_ERRORS, EXIT_FAILED = 0, 1, 2

EPILOG = (
    "exit status: 0 done; 1 `roofpv validate` found errors in the inputs; 2 the command could "
    "not run (config, input file or output folder problem; the message says what to do)"
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="roofpv",
        description="Rooftop-PV potential, yield and policy coverage per township.",
        epilog=EPILOG,
    )
    parser.add_argument("--version", action="version", version=f"roofpv {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"{__name__}.{name}")
        module.add_parser(commands).set_defaults(run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    args = _parser().parse_args(argv)
    from rich.console import Console

    # pvlib 0.16 still calls DatetimeIndex.dayofyear, deprecated in pandas 3: not the user's concern.
    warnings.filterwarnings("ignore", message="DatetimeIndex.dayofyear is deprecated")
    # Piped output (logs, CI) gets a fixed width so the township table is not cut.
    console = Console() if sys.stdout.isatty() else Console(width=150)
    from roofpv.cli.progress import setup_logging

    setup_logging(args, console)
    # The commands run their own threads (DSM windows) and worker processes (partitions);
    # their linear algebra is a few 3-column least squares per roof, on which OpenBLAS's
    # threads only spin between calls (≈ 0.15 s CPU of a sample survey). One BLAS thread,
    # as Dask's nanny gives its workers; set before the commands import numpy.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    try:
        return args.run(args, console)
    except RoofpvError as exc:
        Console(stderr=True).print(f"[bold red]error:[/] {exc}", highlight=False)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
