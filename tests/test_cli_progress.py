"""What a run shows: plain progress lines with counts and ETA when piped, log records
through ``logging`` (``--verbose``, ``--log-file``), bars on a terminal."""

import argparse
import io
import logging

from rich.console import Console

from roofpv.cli.progress import RunProgress, setup_logging
from roofpv.run.engine import PartitionDone
from roofpv.run.sequence import STAGES


def _run(console, args):
    setup_logging(args, console)
    with RunProgress(console, getattr(args, "quiet", False)) as progress:
        for stage in STAGES[:3]:
            progress.stage(stage)
        for k in range(3):
            progress.stage(STAGES[2])  # each partition enters the stage again
            progress.partition(PartitionDone(k, k + 1, 3, 1000 * (k + 1), 0.5, False))
        for k, what in enumerate(["layer buildings (6,000 rows)", "townships.csv"]):
            progress.write(what, k, 2)
        progress.phase("writing the report (9 townships)")
    progress.done()


def test_piped_output_is_plain_lines_with_counts_and_eta(tmp_path):
    out = io.StringIO()
    log_file = tmp_path / "logs" / "run.log"
    _run(Console(file=out, width=120), argparse.Namespace(verbose=False, quiet=False, log_file=log_file))
    text = out.getvalue()
    assert "\x1b[" not in text and ".py:" not in text          # no colours, no source paths
    lines = text.splitlines()
    assert sum("[3/11] roof planes and layout" in line for line in lines) == 1  # repeats at DEBUG
    assert "partition 2: 2,000 buildings, 0.5 s [2/3], ETA" in text
    assert "writing layer buildings (6,000 rows) [1/2]" in text and "writing townships.csv [2/2]" in text
    assert "writing the report (9 townships)" in text and "done in" in text
    logged = log_file.read_text(encoding="utf-8")
    assert "INFO roofpv: [1/11] read inputs" in logged
    assert logged.count("DEBUG roofpv: [3/11] roof planes and layout") == 3


def test_eta_counts_from_the_first_partition(monkeypatch):
    now = [0.0]
    monkeypatch.setattr("roofpv.cli.progress.time.perf_counter", lambda: now[0])
    progress = RunProgress(Console(file=io.StringIO()), quiet=True)
    records = []
    monkeypatch.setattr("roofpv.cli.progress.log.info", lambda *a: records.append(a[0] % a[1:]))
    now[0] = 10.0
    progress.stage(STAGES[2])          # the partitions start
    now[0] = 25.0
    progress.stage(STAGES[2])          # the first partition enters the stage itself
    now[0] = 30.0
    progress.partition(PartitionDone(0, 1, 4, 100, 5.0, False))  # 20 s for 1 of 4
    assert records[-1].endswith("[1/4], ETA 1:00")


def test_quiet_prints_nothing_and_verbose_prints_more():
    quiet, verbose = io.StringIO(), io.StringIO()
    _run(Console(file=quiet), argparse.Namespace(verbose=False, quiet=True, log_file=None))
    _run(Console(file=verbose), argparse.Namespace(verbose=True, quiet=False, log_file=None))
    assert quiet.getvalue() == ""
    assert verbose.getvalue().count("[3/11] roof planes and layout") == 4


def test_terminal_shows_bars_and_hides_records_unless_verbose():
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=120)
    _run(console, argparse.Namespace(verbose=False, quiet=False, log_file=None))
    text = out.getvalue()
    assert "partitions" in text and "3/3" in text and "6,000 bldgs" in text and "ETA" in text
    assert "partition 2: 2,000 buildings" not in text
    logging.getLogger("roofpv").handlers.clear()


def test_imports_frozen_only_while_the_command_runs():
    import gc

    from roofpv.cli.common import imports_frozen

    assert gc.get_freeze_count() == 0
    with imports_frozen():
        assert gc.get_freeze_count() > 0  # the modules' objects: out of full collections
    assert gc.get_freeze_count() == 0  # a process running more commands collects them again
