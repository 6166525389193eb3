"""
How much splitting GHI into DNI and DHI changes the energy of a roof: on every real
Chinese typical-year file at hand that has DNI and DHI, drop them, split GHI with each
decomposition model pvlib offers, and compare the annual irradiation of the horizontal
and of a 30° south plane, and the annual specific yield of that plane (roofpv's model,
open rack), with the file's own components. Prints the Markdown tables kept in
docs/validation.md.

    python scripts/validate_decomposition.py

The file's DNI and DHI are themselves derived (CSWD: from sunshine duration and
station radiation; TMYx: ERA5), so this measures the split against the components a
typical-year file would have given, not against pyrheliometer readings.
"""

import sys
from pathlib import Path

import numpy as np
import pvlib

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from roofpv.energy import decomposition  # noqa: E402
from roofpv.energy.solar import yield_table  # noqa: E402
from roofpv.energy.weather import interval_midpoints, solar_position  # noqa: E402
from roofpv.io.weather_files import read_weather  # noqa: E402

REAL = ROOT / "tests" / "data" / "real" / "weather"
#: File and the shift of its stamps (Hangzhou CSWD runs an hour late, tests/data/real/weather).
FILES = {
    REAL / "CHN_HN_Changsha.576870_TMYx.2007-2021.epw.gz": 0,
    ROOT.parent / "shared" / "data" / "Shanghai-Hongqiao_1956_2023_TMYx.epw": 0,
    REAL / "CHN_Henan.Zhengzhou.570830_CSWD.epw.gz": 0,
    REAL / "CHN_Zhejiang.Hangzhou.584570_CSWD.epw.gz": -1,
}
MODELS = ("erbs", "erbs_driesse", "orgill_hollands", "boland", "louche", "disc", "dirint")
TILT, AZIMUTH = 30.0, 180.0


def split(model, weather, lat, lon, alt):
    """``weather`` with DNI and DHI from GHI by one pvlib model (the sun at interval midpoints)."""
    if model == "erbs":
        return decomposition.split_ghi(weather, lat, lon, alt)
    zenith = solar_position(weather, lat, lon, alt)["zenith"]
    times = interval_midpoints(weather.index)
    ghi = weather["ghi"].set_axis(times)
    zenith = zenith.set_axis(times)
    if model in ("disc", "dirint"):
        pressure = pvlib.atmosphere.alt2pres(alt)
        dni = (pvlib.irradiance.disc(ghi, zenith, times, pressure=pressure)["dni"] if model == "disc"
               else pvlib.irradiance.dirint(ghi, zenith, times, pressure=pressure))
        dni = np.nan_to_num(dni.to_numpy())
        dhi = ghi.to_numpy() - dni * np.cos(np.radians(zenith.to_numpy()))
    else:
        parts = getattr(pvlib.irradiance, model)(ghi.to_numpy(), zenith.to_numpy(), times)
        dni, dhi = (np.nan_to_num(np.asarray(parts[c], dtype=float)) for c in ("dni", "dhi"))
    return weather.assign(dni=np.clip(dni, 0, None), dhi=np.clip(dhi, 0, None))


def figures(weather, lat, lon, alt):
    """Annual horizontal and 30° south irradiation [kWh/m²] and the plane's yield [kWh/kWp]."""
    table = yield_table(weather, lat, lon, alt, [0.0, TILT], [AZIMUTH, AZIMUTH + 10],
                        noct_installed=45.0, gamma_pdc=-0.003, losses_pct=14.08)
    return (table.poa_annual_kwh_m2[0, 0], table.poa_annual_kwh_m2[1, 0],
            table.annual_kwh_per_kwp[1, 0])


def main():
    errors = {m: [] for m in MODELS}
    print("| file | shift | diffuse share file / Erbs | horizontal | 30° south POA | 30° south yield |")
    print("|---|---|---|---|---|---|")
    rows = []
    for path, shift in FILES.items():
        if not path.is_file():
            print(f"| {path.name} | absent, skipped | | | | |")
            continue
        weather, meta = read_weather(path, tz="Asia/Shanghai", shift_h=shift)
        site = meta["latitude"], meta["longitude"], meta["altitude"]
        reference = figures(weather, *site)
        for model in MODELS:
            rebuilt = split(model, weather, *site)
            got = figures(rebuilt, *site)
            change = [100 * (g / r - 1) for g, r in zip(got, reference)]
            errors[model].append(change)
            if model == "erbs":
                share = rebuilt["dhi"].sum() / rebuilt["ghi"].sum()
                print(f"| {path.name.split('.epw')[0]} | {shift:+d} h | "
                      f"{weather['dhi'].sum() / weather['ghi'].sum():.3f} / {share:.3f} | "
                      f"{reference[0]:.1f} → {got[0]:.1f} kWh/m² ({change[0]:+.2f} %) | "
                      f"{reference[1]:.1f} → {got[1]:.1f} kWh/m² ({change[1]:+.2f} %) | "
                      f"{reference[2]:.1f} → {got[2]:.1f} kWh/kWp ({change[2]:+.2f} %) |")
            rows.append((path.name.split(".epw")[0], model, change))
    print()
    print("| model (pvlib) | 30° south POA, per file | mean abs. | 30° south yield, per file | mean abs. |")
    print("|---|---|---|---|---|")
    for model in MODELS:
        e = np.array(errors[model])
        print(f"| {model} | {' / '.join(f'{x:+.2f}' for x in e[:, 1])} % | {np.abs(e[:, 1]).mean():.2f} % "
              f"| {' / '.join(f'{x:+.2f}' for x in e[:, 2])} % | {np.abs(e[:, 2]).mean():.2f} % |")


if __name__ == "__main__":
    main()
