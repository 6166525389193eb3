"""Benchmark the survey stage by stage on synthetic counties (scripts/make_county.py).

Run ``python scripts/bench_scale.py out/county_10k out/county_100k …`` (each folder holds
the ``county.yaml`` the generator wrote). Per county it reports, for every stage, the
wall time, the throughput (buildings/s) and the peak resident memory of the process
while the stage ran (psutil, sampled every 20 ms), and in the same run:

Wall time and CPU time of this process are both reported: on a shared machine the
CPU time is the steadier figure.

* the I/O floor: reading the same inputs (pyogrio for the layers, pandas for the survey
  and transformers CSV) and writing the same outputs (every layer of ``roofpv.gpkg`` the
  run wrote, ``roof_planes``, ``pv_arrays`` and ``monthly_yield`` included, and every
  CSV table, same rows) with pyogrio and pandas alone, no modelling;
* the naive yield baseline: one pvlib ``ModelChain`` per building
  (``bench_yield.naive_loop``) on ``--loop`` buildings, extrapolated linearly to all
  buildings (not measured at full size);
* where the county has DSM tiles, the naive DSM baseline: rasterstats zonal statistics
  (mean, std, min, max, count) of every roof over the DSM, against roofpv's DSM stage on
  the same roofs.

The stages are run the way ``roofpv survey`` runs them with the local engine
(:func:`roofpv.run.engine.run_partitions`: partitions of whole townships one after the other, each
written to ``.partitions``; the jurisdiction-wide steps on the slim table; the outputs
streamed partition by partition), without the report. Opt-in, not part of the test suite; needs the ``bench``
extra (rasterstats, psutil).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import psutil
import pyogrio

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_yield import cpu_model, naive_loop

from roofpv.config import load_config
from roofpv.io import tiles
from roofpv.io.outputs import write_outputs
from roofpv.io.weather_files import load_weather
from roofpv.run import engine
from roofpv.run.pipeline import build_inventory, prepare
from roofpv.run.stages import measure_roofs

MB = 1024 * 1024


class Meter:
    """Wall time and peak RSS per named stage; ``mark(name)`` ends the current stage and
    starts ``name`` (usable as the pipeline's progress callback). Times of a stage
    entered several times (once per partition) add up; its peak is the highest."""

    def __init__(self):
        self.process = psutil.Process()
        self.stage: str | None = None
        self.started = 0.0
        self.seconds: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self.cpu_started = 0.0
        self.peak: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self._record()

    def _record(self) -> None:
        stage = self.stage
        if stage is not None:
            rss = self.process.memory_info().rss
            self.peak[stage] = max(self.peak.get(stage, 0), rss)

    def mark(self, name: str | None) -> None:
        now, cpu = time.perf_counter(), time.process_time()
        self._record()
        if self.stage is not None:
            self.seconds[self.stage] = self.seconds.get(self.stage, 0.0) + now - self.started
            self.cpu[self.stage] = self.cpu.get(self.stage, 0.0) + cpu - self.cpu_started
        self.stage, self.started, self.cpu_started = name, now, cpu
        self._record()

    @contextmanager
    def __call__(self, name: str):
        self.mark(name)
        try:
            yield
        finally:
            self.mark(None)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()


def survey_stages(config, out: Path, meter: Meter) -> int:
    """The survey as ``roofpv survey`` runs it with the local engine
    (:func:`roofpv.run.engine.run_partitions`: partitions written to ``<out>/.partitions``, the slim
    table gathered, the outputs streamed partition by partition), each stage metered;
    writes the outputs into ``out``."""
    prepared = prepare(config, meter.mark)
    meter.mark(None)
    n = len(prepared.inventory.buildings)

    def on_partition(done: engine.PartitionDone) -> None:
        if done.done == done.total:  # what follows the last partition until the plan
            meter.mark("gather partitions, grid admission")

    results = engine.run_partitions(config, out, prepared=prepared, stream=True, progress=meter.mark,
                            on_partition=on_partition)
    del prepared
    meter.mark(None)
    with meter("write GeoPackage + CSV"):
        write_outputs(results, out)
    engine.clear_partitions(out)
    return n


def io_floor(config, out: Path, meter: Meter) -> dict[str, int]:
    """Read the inputs and write the same outputs (every layer and table the run wrote,
    same rows) with pyogrio and pandas alone; returns the rows written per output."""
    inputs = config.inputs
    with meter("floor: read inputs"):
        pyogrio.read_dataframe(inputs.footprints, use_arrow=True)
        pd.read_csv(inputs.survey, dtype=object, encoding="utf-8-sig")
        if inputs.townships is not None:
            pyogrio.read_dataframe(inputs.townships)
        if config.grid.transformers is not None:
            pd.read_csv(config.grid.transformers)
    gpkg = out / "roofpv.gpkg"
    names = [n for n in pyogrio.list_layers(gpkg)[:, 0] if n != "layer_styles"]
    tables = sorted(p.name for p in out.glob("*.csv"))
    rows = {}
    for name in [*names, *tables]:  # read back outside the meter, written under it
        if name in tables:
            frame = pd.read_csv(out / name, dtype=object, encoding="utf-8-sig")
            with meter("floor: write outputs"):
                frame.to_csv(out / f"floor_{name}", index=False)
        else:
            frame = pyogrio.read_dataframe(gpkg, layer=name, use_arrow=True)
            with meter("floor: write outputs"):
                pyogrio.write_dataframe(frame, out / "floor.gpkg", layer=name, driver="GPKG",
                                        use_arrow=True)
        rows[name] = len(frame)
        del frame
    return rows


def naive_yield(config, out: Path, n_loop: int, meter: Meter) -> float:
    """Seconds per building of the ModelChain loop on the first roofs with PV."""
    roofs = pyogrio.read_dataframe(
        out / "roofpv.gpkg", layer="buildings", where="capacity_kwp > 0", max_features=n_loop,
        columns=["module_tilt_deg", "roof_aspect_deg", "capacity_kwp", "shading_loss", "mounting"],
        read_geometry=False)
    mountings = config.mountings
    frame = pd.DataFrame({
        "tilt": roofs["module_tilt_deg"].to_numpy(), "azimuth": roofs["roof_aspect_deg"].to_numpy(),
        "capacity_kwp": roofs["capacity_kwp"].to_numpy(), "shading": roofs["shading_loss"].to_numpy(),
        "model": roofs["mounting"].map(lambda m: mountings[m].temperature_model).to_numpy(),
    })
    site = {"latitude": config.site.latitude, "longitude": config.site.longitude,
            "altitude": config.site.altitude_m}
    system = config.system
    items = system.losses_pct
    hourly, _ = load_weather(config)
    params = {"gamma_pdc": config.module.gamma_pdc_per_c, "losses_items": dict(items),
              "inverter_eff_nom": system.inverter_efficiency_nom, "dc_ac_ratio": system.dc_ac_ratio,
              "albedo": system.albedo,
              "nocts": {k: m.noct_installed_c for k, m in config.temperature_models.items()}}
    with meter("naive: ModelChain loop"):
        naive_loop(hourly, site, params, frame)
    return meter.seconds["naive: ModelChain loop"] / len(frame)


def dsm_baseline(config, meter: Meter) -> dict:
    """roofpv's DSM stage and rasterstats zonal statistics on the same roofs."""
    from rasterstats import zonal_stats

    inventory = build_inventory(config)
    hourly, _ = load_weather(config)
    b = inventory.buildings
    with meter("DSM stage alone"):
        roofs, _ = measure_roofs(b, config, hourly, inventory.crs, inventory.dsm, inventory.dem)
    mosaic = tiles.open_mosaic(config.dsm.tiles, inventory.crs, config.dsm.tiles_pattern)
    geometry = b.geometry[b.index.isin(roofs.index)].to_numpy()
    with meter("naive: rasterstats"):
        for path in mosaic.paths:
            zonal_stats(geometry, str(path), stats=["mean", "std", "min", "max", "count"])
    return {"roofs": len(roofs)}


def machine() -> str:
    return (f"{os.cpu_count()} cores ({cpu_model()}), {psutil.virtual_memory().total / 2**30:.0f} GB; "
            f"python {platform.python_version()}, pandas {pd.__version__}, pyogrio {pyogrio.__version__}, "
            f"GDAL {pyogrio.__gdal_version_string__}")


def bench(folder: Path, n_loop: int, dsm: bool) -> dict:
    config = load_config(folder / "county.yaml")
    if not dsm:
        config = config.model_copy(update={"dsm": config.dsm.model_copy(update={"tiles": None})})
    meter = Meter()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        started, cpu_started = time.perf_counter(), time.process_time()
        n = survey_stages(config, Path(tmp), meter)
        total, total_cpu = time.perf_counter() - started, time.process_time() - cpu_started
        peak_total = max(meter.peak.values())
        stages = dict(meter.seconds)
        floor_rows = io_floor(config, Path(tmp), meter)
        per_building = naive_yield(config, Path(tmp), n_loop, meter)
    extra = dsm_baseline(config, meter) if dsm and config.dsm.tiles is not None else {}
    meter.close()
    return {
        "county": str(folder), "buildings": n, "dsm": dsm, "total_s": total,
        "peak_rss_mb": peak_total / MB, "stages_s": stages, "total_cpu_s": total_cpu,
        "stages_cpu_s": {k: v for k, v in meter.cpu.items() if k in stages},
        "peak_mb": {k: v / MB for k, v in meter.peak.items()},
        "floor_s": meter.seconds["floor: read inputs"] + meter.seconds["floor: write outputs"],
        "floor_stages_s": {k: meter.seconds[k] for k in ("floor: read inputs", "floor: write outputs")},
        "floor_cpu_s": meter.cpu["floor: read inputs"] + meter.cpu["floor: write outputs"],
        "floor_rows": floor_rows,
        "naive_s_per_building": per_building, "naive_loop_buildings": n_loop,
        "naive_extrapolated_s": per_building * n, "dsm_baseline": {
            **extra, **{k: meter.seconds[k] for k in ("DSM stage alone", "naive: rasterstats")
                        if k in meter.seconds}},
        "load_before": load_before, "load_after": os.getloadavg(),
    }


def report(r: dict) -> None:
    n = r["buildings"]
    print(f"\n{r['county']}: {n:,} buildings{' with DSM' if r['dsm'] else ''}; load average "
          f"{r['load_before'][0]:.1f} before, {r['load_after'][0]:.1f} after")
    print(f"{'stage':<34}{'time s':>9}{'CPU s':>9}{'bldg/s':>12}{'peak MB':>9}")
    for name, seconds in r["stages_s"].items():
        print(f"{name:<34}{seconds:>9.2f}{r['stages_cpu_s'][name]:>9.2f}{n / seconds:>12,.0f}"
              f"{r['peak_mb'][name]:>9,.0f}")
    print(f"{'end to end':<34}{r['total_s']:>9.2f}{r['total_cpu_s']:>9.2f}{n / r['total_s']:>12,.0f}"
          f"{r['peak_rss_mb']:>9,.0f}")
    for name, seconds in r["floor_stages_s"].items():
        print(f"{name:<34}{seconds:>9.2f}{'':>9}{n / seconds:>12,.0f}{r['peak_mb'][name]:>9,.0f}")
    print("floor writes " + ", ".join(f"{k} {v:,}" for k, v in r["floor_rows"].items()) + " rows")
    print(f"I/O floor {r['floor_s']:.2f} s ({r['floor_cpu_s']:.2f} s CPU); end to end / floor = "
          f"{r['total_s'] / r['floor_s']:.2f} (wall), {r['total_cpu_s'] / r['floor_cpu_s']:.2f} (CPU)")
    print(f"naive ModelChain loop: {r['naive_s_per_building'] * 1000:.0f} ms per building on "
          f"{r['naive_loop_buildings']} buildings, extrapolated to {n:,}: {r['naive_extrapolated_s']:,.0f} s "
          f"(not measured); naive / end to end = {r['naive_extrapolated_s'] / r['total_s']:,.0f}x")
    d = r["dsm_baseline"]
    if d:
        print(f"DSM on {d['roofs']:,} roofs: roofpv {d['DSM stage alone']:.2f} s (geometry, planes, "
              f"horizon, shading); rasterstats zonal statistics alone {d['naive: rasterstats']:.2f} s")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("counties", nargs="+", type=Path, help="folders made by make_county.py")
    parser.add_argument("--loop", type=int, default=20, help="buildings in the naive ModelChain loop")
    parser.add_argument("--dsm", action="store_true", help="keep the county's DSM tiles")
    parser.add_argument("--json", type=Path, help="append the results as JSON lines to this file")
    args = parser.parse_args(argv)
    print(f"machine: {machine()}")
    for folder in args.counties:
        result = bench(folder, args.loop, args.dsm)
        report(result)
        if args.json:
            with args.json.open("a", encoding="utf-8") as f:
                f.write(json.dumps({**result, "machine": machine()}) + "\n")


if __name__ == "__main__":
    main()
