"""What facades add to a survey: ``python scripts/bench_facades.py /tmp/county_100k [--rounds 2]``.

Runs the survey of ``<folder>/county.yaml`` (from ``scripts/make_county.py``) as
``roofpv survey`` runs it (local engine, partitions, streamed outputs; the stages of
``scripts/bench_scale.py``) with ``facades.enabled`` off and on, alternately, in one
process, and prints the CPU time of each run, the facades' own stages (the facade stage
in the partitions, writing layer ``facades``) and the ratio on / off. Alternating the
runs in one process keeps the ratio fair on a loaded machine; state ``uptime`` with it.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_scale import Meter, survey_stages

from roofpv.config import load_config
from roofpv.run.sequence import FACADES


def run_once(config, enabled: bool) -> dict:
    """CPU seconds of one survey with facades on or off, and of its facade stage."""
    config = config.model_copy(update={"facades": config.facades.model_copy(update={"enabled": enabled})})
    meter = Meter()
    with tempfile.TemporaryDirectory() as out:
        started = time.process_time()
        n = survey_stages(config, Path(out), meter)
        cpu = time.process_time() - started
        walls = 0
        if enabled:
            import pyogrio

            walls = pyogrio.read_info(Path(out) / "roofpv.gpkg", layer="facades")["features"]
    meter.close()
    return {"buildings": n, "cpu_s": cpu, "facade_stage_cpu_s": meter.cpu.get(FACADES, 0.0),
            "write_cpu_s": meter.cpu.get("write GeoPackage + CSV", 0.0), "walls": walls}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path, help="a county from scripts/make_county.py")
    parser.add_argument("--rounds", type=int, default=2, help="off/on pairs")
    args = parser.parse_args(argv)
    config = load_config(args.folder / "county.yaml")
    print(f"load average {os.getloadavg()[0]:.2f}")
    runs = {False: [], True: []}
    for _ in range(args.rounds):
        for enabled in (False, True):
            r = run_once(config, enabled)
            runs[enabled].append(r)
            print(f"facades {'on ' if enabled else 'off'}: {r['buildings']:,} buildings, {r['walls']:,} walls, "
                  f"CPU {r['cpu_s']:.2f} s (facade stage {r['facade_stage_cpu_s']:.2f} s, "
                  f"writing all outputs {r['write_cpu_s']:.2f} s)", flush=True)
    off = min(r["cpu_s"] for r in runs[False])
    on = min(r["cpu_s"] for r in runs[True])
    print(f"best of {args.rounds}: off {off:.2f} s, on {on:.2f} s CPU: facades add {100 * (on / off - 1):.1f} %")
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
