"""
Compare roofpv's yield model with NREL's PVWatts v8 (SAM Simulation Core, via
PySAM) on every weather file of the validation tests, open rack and roof
mount, at several orientations; prints the Markdown table kept in
docs/validation.md.

    python scripts/validate_pvwatts.py
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from roofpv.io.weather_files import read_weather
from tests.test_validation import (
    MOUNTINGS,
    ORIENTATIONS,
    WEATHER_FILES,
    pvwatts_v8_kwh_per_kwp,
    roofpv_kwh_per_kwp,
)


def main():
    print("| weather file | mounting (INOCT) | tilt / azimuth | PVWatts v8 kWh/kWp | roofpv kWh/kWp "
          "| difference |")
    print("|---|---|---|---|---|---|")
    for param in WEATHER_FILES:
        path, tz = param.values
        if not path.is_file():
            print(f"| {path.name} | absent, skipped | | | | |")
            continue
        weather, meta = read_weather(path, tz=tz)
        for array_type, (label, noct) in MOUNTINGS.items():
            for tilt, azimuth in ORIENTATIONS:
                reference = pvwatts_v8_kwh_per_kwp(path, tilt, azimuth, array_type)
                ours = float(roofpv_kwh_per_kwp(weather, meta, tilt, azimuth, array_type))
                print(f"| {path.name} | {label} ({noct:g} °C) | {tilt}° / {azimuth}° | {reference:.1f} | "
                      f"{ours:.1f} | {100 * (ours / reference - 1):+.2f} % |", flush=True)


if __name__ == "__main__":
    main()
