"""What the hourly grid stage adds to a run: ``python scripts/bench_grid.py out/county_100k``
(a folder written by ``scripts/make_county.py``).

In one process, on the same prepared inputs, it runs the per-building stages and the
jurisdiction-wide steps with ``grid.hourly`` off and on (twice each, alternating, the
faster of each kept), and times the yield tables with and without the per-interval
energy. It reports CPU and wall seconds per step, the overhead of the hourly profiles,
self-consumption and DL/T 2041 hosting as a share of the end-to-end time without them
(prepare + assess + conclude + writing the outputs), and the peak resident memory while
each variant ran (psutil, sampled every 20 ms). The hourly variant also assesses the feeders
and substations of a topology table (``<county>/topology.csv``, made by
``scripts/make_topology.py``'s rule from the county's transformers when missing) and draws
the transformers' service areas. Opt-in, not part of the test suite; needs the ``bench``
extra (psutil).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pandas as pd
import psutil

from roofpv.config import load_config
from roofpv.energy import solar
from roofpv.io.outputs import write_outputs
from roofpv.run.pipeline import assess_buildings, conclude, prepare

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_topology import topology  # noqa: E402


@contextmanager
def measured(out: dict, name: str):
    """Wall and CPU seconds and the peak RSS (MB) of this process while the block runs."""
    proc = psutil.Process()
    peak = [proc.memory_info().rss]
    stop = threading.Event()

    def sample():
        while not stop.wait(0.02):
            peak[0] = max(peak[0], proc.memory_info().rss)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        result = (time.perf_counter() - wall, time.process_time() - cpu, peak[0] / 2**20)
        best = out.get(name)
        out[name] = result if best is None or result[1] < best[1] else (result[0], result[1], max(best[2], result[2]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("county", type=Path)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    on = load_config(args.county / "county.yaml")
    grid_topology = args.county / "topology.csv"
    if not grid_topology.exists():
        transformers = pd.read_csv(on.grid.transformers, dtype={"id": str})
        topology(transformers).to_csv(grid_topology, index=False, lineterminator="\n")
    on = on.model_copy(update={"grid": on.grid.model_copy(update={"topology": grid_topology})})
    off = on.model_copy(update={"grid": on.grid.model_copy(update={"hourly": False})})
    times: dict = {}
    with measured(times, "prepare (tables with steps)"):
        prepared = prepare(on)
    inv = prepared.inventory
    n = len(inv.buildings)
    for _ in range(args.repeat):
        with measured(times, "yield tables, off"):
            solar.yield_tables(off, prepared.hourly, steps=False)
        with measured(times, "yield tables, on"):
            tables = solar.yield_tables(on, prepared.hourly, steps=True)
    tables_off = solar.yield_tables(off, prepared.hourly, steps=False)
    results = {}
    for _ in range(args.repeat):
        for label, config, tab in (("off", off, tables_off), ("on", on, tables)):
            with measured(times, f"assess, {label}"):
                b, planes, *_ = assess_buildings(inv.buildings, config, prepared.hourly, tab, inv.crs,
                                                draw_arrays=False, mosaic=inv.dsm, dem=inv.dem)
            with measured(times, f"conclude, {label}"):
                results[label] = conclude(b, config, replace(prepared, tables=tab), planes, None)
            del b, planes
    with tempfile.TemporaryDirectory() as tmp, measured(times, "write outputs, on"):
        write_outputs(results["on"], Path(tmp) / "out", plan=True)
    load = os.getloadavg()
    feeders = results["on"].feeders
    print(f"{n:,} buildings, {len(results['on'].transformers):,} transformers, "
          f"{0 if feeders is None else len(feeders):,} feeders and substations; load {load[0]:.1f} {load[1]:.1f}")
    print(f"{'step':32s} {'wall s':>8s} {'CPU s':>8s} {'peak MB':>8s}")
    for name, (wall, cpu, peak) in times.items():
        print(f"{name:32s} {wall:8.2f} {cpu:8.2f} {peak:8.0f}")
    base = (times["prepare (tables with steps)"][1] - times["yield tables, on"][1] + times["yield tables, off"][1]
            + times["assess, off"][1] + times["conclude, off"][1] + times["write outputs, on"][1])
    extra = (times["yield tables, on"][1] - times["yield tables, off"][1] + times["assess, on"][1]
             - times["assess, off"][1] + times["conclude, on"][1] - times["conclude, off"][1])
    print(f"hourly grid overhead: {extra:.2f} s CPU on {base:.2f} s CPU end to end = {extra / base:.1%}")
    print(f"peak RSS assess on/off: {times['assess, on'][2]:.0f} / {times['assess, off'][2]:.0f} MB")


if __name__ == "__main__":
    sys.exit(main())
