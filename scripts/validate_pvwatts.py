"""
Compare roofpv's yield model with NREL's PVWatts v8 (SAM Simulation Core, via
PySAM) on the TMY3 file pvlib ships and, when present, the Shanghai EPW in
``../shared/data``; prints the Markdown table kept in docs/validation.md.

    python scripts/validate_pvwatts.py
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from roofpv.io.weather import read_weather
from roofpv.solar import plane_yield_exact
from tests.test_validation import (
    GREENSBORO_TMY3,
    ORIENTATIONS,
    PVWATTS_V8,
    SHANGHAI_EPW,
    pvwatts_v8_kwh_per_kwp,
    site,
)


def rows(path, weather, meta):
    """One table row per orientation and mounting."""
    cases = [(t, a, 0.01, "open rack, single row") for t, a in ORIENTATIONS]
    cases.append((20, 180, 0.4, "open rack, GCR 0.4 (PVWatts default)"))
    for tilt, azimuth, gcr, label in cases:
        reference = pvwatts_v8_kwh_per_kwp(path, tilt, azimuth, gcr)
        ours = float(plane_yield_exact(weather, **site(meta), tilt=tilt, azimuth=azimuth,
                                       **PVWATTS_V8))
        yield (f"| {path.name} | {label} | {tilt}° / {azimuth}° | {reference:.1f} | "
               f"{ours:.1f} | {100 * (ours / reference - 1):+.2f} % |")


def main():
    print("| weather file | system | tilt / azimuth | PVWatts v8 kWh/kWp | roofpv kWh/kWp "
          "| difference |")
    print("|---|---|---|---|---|---|")
    for path, tz in ((GREENSBORO_TMY3, None), (SHANGHAI_EPW, "Asia/Shanghai")):
        if not path.is_file():
            print(f"| {path.name} | absent, skipped | | | | |")
            continue
        weather, meta = read_weather(path, tz=tz)
        for row in rows(path, weather, meta):
            print(row, flush=True)


if __name__ == "__main__":
    main()
