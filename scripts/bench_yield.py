"""
Benchmark of the yield stage (opt-in; not part of the test suite).

Steps, each timed:

1. the Pinghu typical year from the monthly means of configs/pinghu.yaml;
2. yield tables over orientation bins (tilt 0-60° by 5°, azimuth by 10°),
   one per temperature model (installed NOCT), from one irradiance pass;
3. annual kWh of N random roof planes (tilt, azimuth, capacity, shading,
   mounting) by bilinear interpolation in the tables;
4. a naive loop of one pvlib ModelChain (PVWatts-type system) per building
   on a small subset, extrapolated linearly to N buildings;
5. the interpolation error against the exact per-plane computation over
   random orientations.

Usage::

    python scripts/bench_yield.py [--roofs 100000] [--loop 20] [--orientations 2000]
"""

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pvlib
import yaml
from pvlib.location import Location
from pvlib.modelchain import ModelChain
from pvlib.pvsystem import PVSystem

from roofpv.energy.solar import interpolate, plane_yield_exact, yield_tables_for
from roofpv.energy.weather import interval_midpoints, typical_year

CONFIG = Path(__file__).resolve().parents[1] / "configs" / "pinghu.yaml"
MODELS = ("open_rack", "roof_standoff", "metal_clamp")


def cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def naive_loop(weather, site, system, roofs):
    """Annual kWh per building with one ModelChain each."""
    # The sun at interval middles, as roofpv does.
    weather = weather.set_axis(interval_midpoints(weather.index))
    location = Location(site["latitude"], site["longitude"],
                        altitude=site["altitude"], tz="Asia/Shanghai")
    out = []
    for roof in roofs.itertuples():
        pdc0 = roof.capacity_kwp * 1000
        pv = PVSystem(
            surface_tilt=roof.tilt, surface_azimuth=roof.azimuth,
            albedo=system["albedo"],
            module_parameters={"pdc0": pdc0,
                               "gamma_pdc": system["gamma_pdc"]},
            inverter_parameters={
                "pdc0": pdc0 / (system["dc_ac_ratio"]
                                * system["inverter_eff_nom"]),
                "eta_inv_nom": system["inverter_eff_nom"]},
            temperature_model_parameters={"noct_installed": system["nocts"][roof.model]},
            losses_parameters=system["losses_items"])
        chain = ModelChain(pv, location, transposition_model="perez",
                           aoi_model="physical", spectral_model="no_loss",
                           temperature_model="fuentes", dc_model="pvwatts",
                           ac_model="pvwatts", losses_model="pvwatts")
        chain.run_model(weather)
        out.append(chain.results.ac.clip(lower=0).sum() / 1000
                   * (1 - roof.shading))
    return np.array(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--roofs", type=int, default=100_000)
    parser.add_argument("--loop", type=int, default=20)
    parser.add_argument("--orientations", type=int, default=2000)
    args = parser.parse_args()

    config = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    site = {"latitude": config["site"]["latitude"],
            "longitude": config["site"]["longitude"],
            "altitude": config["site"].get("altitude_m", 0.0)}
    items = config["system"]["losses_pct"]
    remaining = np.prod([1 - v / 100 for v in items.values()])
    system = {"gamma_pdc": config["module"]["gamma_pdc_per_c"],
              "losses_pct": 100 * (1 - remaining),
              "inverter_eff_nom": config["system"]["inverter_efficiency_nom"],
              "dc_ac_ratio": config["system"]["dc_ac_ratio"],
              "albedo": config["system"]["albedo"]}
    nocts = {m: config["temperature_models"][m]["noct_installed_c"] for m in MODELS}
    losses_items = dict(items)
    bins = config.get("bins", {})
    tilts = np.arange(0, bins.get("max_tilt_deg", 60) + 1e-9,
                      bins.get("tilt_step_deg", 5))
    azimuths = np.arange(0, 360, bins.get("azimuth_step_deg", 10))
    print(f"machine: {os.cpu_count()} cores, {cpu_model()}; "
          f"python {platform.python_version()}, pvlib {pvlib.__version__}, "
          f"numpy {np.__version__}, pandas {pd.__version__}")

    t0 = time.perf_counter()
    monthly = config["weather"]["monthly"]
    weather, _ = typical_year(**site, monthly_ghi_kwh_m2=monthly["ghi_kwh_m2"],
                              monthly_temp_air_c=monthly["temp_air_c"],
                              monthly_wind_m_s=monthly["wind_m_s"])
    t1 = time.perf_counter()
    tables = dict(zip(MODELS, yield_tables_for(
        weather, **site, tilts=tilts, azimuths=azimuths,
        noct_installed=[nocts[m] for m in MODELS], **system)))
    t2 = time.perf_counter()
    print(f"typical year (8760 h):                 {t1 - t0:8.2f} s")
    print(f"yield tables ({len(MODELS)} models x {tilts.size} tilts x "
          f"{azimuths.size} azimuths): {t2 - t1:8.2f} s")

    rng = np.random.default_rng(1)
    n = args.roofs
    flat = rng.random(n) < 0.5
    roofs = pd.DataFrame({
        "tilt": np.where(flat, 20.0, rng.uniform(5, 45, n)),
        "azimuth": np.where(flat, 180.0, rng.uniform(0, 360, n)),
        "capacity_kwp": rng.lognormal(np.log(20), 1.2, n).clip(1, 6000),
        "shading": rng.choice([0.0, 0.03, 0.10, 0.25], n),
        "model": np.where(flat, MODELS[0], rng.choice(MODELS[1:], n)),
    })
    t3 = time.perf_counter()
    specific = np.empty(n)
    for model, table in tables.items():
        hit = (roofs["model"] == model).to_numpy()
        specific[hit] = interpolate(table, roofs["tilt"].to_numpy()[hit],
                                    roofs["azimuth"].to_numpy()[hit])
    annual = (specific * roofs["capacity_kwp"].to_numpy()
              * (1 - roofs["shading"].to_numpy()))
    t4 = time.perf_counter()
    print(f"annual kWh of {n} roofs (interpolation): {t4 - t3:8.3f} s "
          f"(total {annual.sum() / 1e6:,.1f} GWh)")
    print(f"weather + tables + {n} roofs:         {t4 - t0:8.2f} s")

    subset = roofs.iloc[:args.loop]
    t5 = time.perf_counter()
    naive = naive_loop(weather, site,
                       {**system, "losses_items": losses_items, "nocts": nocts}, subset)
    t6 = time.perf_counter()
    per_building = (t6 - t5) / args.loop
    extrapolated = per_building * n
    print(f"naive ModelChain loop, {args.loop} buildings: {t6 - t5:8.2f} s "
          f"({per_building * 1000:.0f} ms each)")
    print(f"  extrapolated linearly to {n} buildings: {extrapolated:8.0f} s "
          f"({extrapolated / 3600:.1f} h)")
    print(f"  ratio naive / binned for {n} roofs (weather excluded, tables "
          f"included): {extrapolated / (t4 - t1):,.0f}x; "
          f"interpolation step alone: {extrapolated / (t4 - t3):,.0f}x")
    diff = naive / annual[:args.loop] - 1
    print(f"  naive vs binned annual kWh on the subset: mean {diff.mean():+.2%}"
          f" (the loop has pvlib's physical IAM on beam only and no spectral factor)")

    k = args.orientations
    tilt = rng.uniform(0, tilts[-1], k)
    azimuth = rng.uniform(0, 360, k)
    t7 = time.perf_counter()
    for model, table in tables.items():
        exact = plane_yield_exact(weather, **site, tilt=tilt, azimuth=azimuth,
                                  noct_installed=nocts[model], **system)
        error = interpolate(table, tilt, azimuth) / exact - 1
        print(f"interpolation error, {k} random orientations (tilt 0-"
              f"{tilts[-1]:g}°, azimuth 0-360°), {model}: max |e| "
              f"{np.abs(error).max():.3%}, mean |e| {np.abs(error).mean():.3%},"
              f" mean e {error.mean():+.3%}")
    t8 = time.perf_counter()
    print(f"exact computation of {k} orientations x {len(MODELS)} models: "
          f"{t8 - t7:8.2f} s")


if __name__ == "__main__":
    main()
