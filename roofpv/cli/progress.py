"""What a run shows while it works: stages, partitions and write phases with counts and
an ETA, as rich progress bars on a terminal and as plain log lines when piped; and the
``logging`` set-up behind ``--verbose`` and ``--log-file``.

Every event is a record of logger ``roofpv``: on a terminal the bars show it and the
records print only with ``--verbose``; piped, the records are the display; a log file
gets them all, with times.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

from roofpv.run.sequence import STAGES

log = logging.getLogger("roofpv")


def setup_logging(args: argparse.Namespace, console) -> None:
    """Handlers of logger ``roofpv`` for this command: the console (plain lines when
    piped, WARNING and above on a terminal unless ``--verbose``, nothing but errors with
    ``--quiet``) and ``--log-file`` (every record, with time and level)."""
    verbose, quiet = getattr(args, "verbose", False), getattr(args, "quiet", False)
    log_file: Path | None = getattr(args, "log_file", None)
    log.handlers.clear()
    log.propagate = False
    if console.is_terminal:
        from rich.logging import RichHandler

        handler: logging.Handler = RichHandler(console=console, show_path=False,
                                               log_time_format="%H:%M:%S")
        handler.setFormatter(logging.Formatter("%(message)s"))
        level = logging.DEBUG if verbose else logging.WARNING
    else:
        handler = logging.StreamHandler(console.file)
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
        level = logging.DEBUG if verbose else logging.INFO
    handler.setLevel(logging.ERROR if quiet else level)
    log.addHandler(handler)
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        to_file = logging.FileHandler(log_file, encoding="utf-8")
        to_file.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        to_file.setLevel(logging.DEBUG)
        log.addHandler(to_file)
    log.setLevel(logging.DEBUG)


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}" if seconds >= 60 else f"{seconds} s"


class RunProgress:
    """Progress of one run (``survey``, ``plan``): pass :meth:`stage` and
    :meth:`partition` to the engine, :meth:`write` to ``write_outputs`` and call
    :meth:`phase` for the steps after it. Bars on a terminal unless ``quiet``."""

    def __init__(self, console, quiet: bool = False):
        self.started = time.perf_counter()
        self.bars = None
        self.tasks: dict[str, int] = {}
        self._partitions_started = 0.0
        self._cached = 0     # partitions reused from an interrupted run
        self._buildings = 0  # buildings in the finished partitions
        self._seen: set[str] = set()
        if console.is_terminal and not quiet:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self.bars = Progress(
                SpinnerColumn(), TextColumn("{task.description:<34}"), BarColumn(bar_width=24),
                MofNCompleteColumn(), TextColumn("{task.fields[detail]}"),
                TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                console=console,
            )

    def __enter__(self) -> RunProgress:
        if self.bars is not None:
            self.bars.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.bars is not None:
            for task in self.bars.tasks:
                if exc[0] is None and task.total is not None:
                    self.bars.update(task.id, completed=task.total)
            self.bars.stop()

    def _bar(self, key: str, description: str, total: int, completed: int, detail: str = "") -> None:
        if self.bars is None:
            return
        if key not in self.tasks:
            self.tasks[key] = self.bars.add_task(description, total=total, detail=detail)
        self.bars.update(self.tasks[key], description=description, total=total,
                         completed=completed, detail=detail)

    def stage(self, name: str) -> None:
        """A stage of :data:`roofpv.run.sequence.STAGES` starts."""
        number = STAGES.index(name) + 1
        if number == 3 and name not in self._seen:  # the partitions start (once)
            self._partitions_started = time.perf_counter()
        self._bar("stages", f"[{number}/{len(STAGES)}] {name}", len(STAGES), number - 1)
        # Stages 3–7 run once per partition: shown the first time, logged in detail after.
        level = logging.DEBUG if name in self._seen else logging.INFO
        self._seen.add(name)
        log.log(level, "[%d/%d] %s", number, len(STAGES), name)

    def partition(self, p) -> None:
        """A partition finished (:class:`roofpv.run.engine.PartitionDone`)."""
        elapsed = time.perf_counter() - self._partitions_started
        self._cached += p.cached
        self._buildings += p.buildings
        fresh = p.done - self._cached
        eta = elapsed / fresh * (p.total - p.done) if fresh > 0 else float("nan")
        self._bar("partitions", "    partitions", p.total, p.done, f"{self._buildings:,} bldgs")
        how = "already done (resumed)" if p.cached else f"{p.seconds:.1f} s"
        log.info("  partition %d: %s buildings, %s [%d/%d]%s", p.index + 1, f"{p.buildings:,}", how,
                 p.done, p.total, "" if eta != eta else f", ETA {_duration(eta)}")

    def write(self, what: str, done: int, total: int) -> None:
        """Output ``what`` starts; ``done`` of ``total`` written."""
        self._bar("write", "writing outputs", total, done, what)
        log.info("writing %s [%d/%d]", what, done + 1, total)

    def phase(self, what: str) -> None:
        """A step after the outputs (the report, cleaning up)."""
        if self.bars is not None and "write" in self.tasks:
            task = self.tasks["write"]
            self.bars.update(task, completed=self.bars.tasks[task].total, detail=what)
        log.info("%s", what)

    def done(self) -> float:
        """Seconds since the run started (logged)."""
        elapsed = time.perf_counter() - self.started
        log.info("done in %s", _duration(elapsed))
        return elapsed
