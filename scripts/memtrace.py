"""Peak resident memory of a command and of each process it starts, sampled:
``python scripts/memtrace.py [--every 0.5] [--timeline t.csv] -- roofpv survey county.yaml …``.

Prints the command's wall time and, per process (the command itself, its children such
as the read phase's and e.g. each Dask worker, named by its command line), the largest
resident set size seen, the CPU seconds it had used when last seen (which tells whether
every worker took its share) and when it was seen first and last (which tells a short-lived
child, e.g. the survey's parse before the footprints' first pass), then the largest sum
over all of them at one instant. Sampling misses peaks shorter than the
interval; ``/usr/bin/time -v`` gives the command's own exact peak."""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

import psutil

#: Programs that only start the command (their child is the command's process).
WRAPPERS = ("time", "nice", "env", "timeout")


def _past_wrappers(process: psutil.Process) -> int | None:
    """pid of the process the command runs: ``process``, or past a wrapper its only child
    (None while the wrapper has not started it yet)."""
    while process.name() in WRAPPERS:
        children = process.children()
        if len(children) != 1:
            return None
        process = children[0]
    return process.pid


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--every", type=float, default=0.5, help="sampling interval, s")
    parser.add_argument("--timeline", type=argparse.FileType("w"),
                        help="CSV of every sample: seconds, command's RSS, all processes' RSS (MB)")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    started = time.perf_counter()
    child = subprocess.Popen(command)
    root = psutil.Process(child.pid)
    main_pid = None  # "command": the process the command runs, past wrappers such as /usr/bin/time
    peaks: dict[int, tuple[int, str]] = {}
    cpu: dict[int, float] = {}
    seen: dict[int, list[float]] = {}  # first and last sample holding the process, s
    total = 0
    while child.poll() is None:
        try:
            procs = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            break
        if main_pid is None and procs:
            main_pid = _past_wrappers(root)
        now = own = 0
        for p in procs:
            try:
                rss = p.memory_info().rss
                name = " ".join(p.cmdline()[-3:])[-60:] if p.pid != main_pid else "command"
                times = p.cpu_times()
            except psutil.Error:
                continue
            now += rss
            cpu[p.pid] = times.user + times.system
            seen.setdefault(p.pid, [time.perf_counter() - started] * 2)[1] = time.perf_counter() - started
            own = rss if p.pid == main_pid else own
            if rss > peaks.get(p.pid, (0, ""))[0]:
                peaks[p.pid] = (rss, name)
        total = max(total, now)
        if args.timeline:
            args.timeline.write(f"{time.perf_counter() - started:.1f},{own / 1e6:.0f},{now / 1e6:.0f}\n")
        time.sleep(args.every)
    wall = time.perf_counter() - started
    print(f"wall {wall:.1f} s, exit {child.returncode}", file=sys.stderr)
    for pid, (rss, name) in sorted(peaks.items(), key=lambda kv: -kv[1][0])[:8]:
        first, last = seen.get(pid, (0.0, 0.0))
        print(f"peak {rss / 1e9:.2f} GB  cpu {cpu.get(pid, 0):.0f} s  seen {first:.0f}–{last:.0f} s  pid {pid}  {name}",
              file=sys.stderr)
    print(f"peak of all processes at one instant {total / 1e9:.2f} GB", file=sys.stderr)
    return child.returncode


if __name__ == "__main__":
    raise SystemExit(main())
