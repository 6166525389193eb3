"""
Build roofpv/energy/stations.csv, the embedded typical-year monthly climate of Chinese
stations, from typical-year EPW files (CSWD, CTYW, TMYx, IWEC named as the EnergyPlus
weather site names them: ``CHN_<Province>.<Station>.<WMO>_<DATASET>.epw``).

    python scripts/make_stations.py EPW_FOLDER --url-base URL [--out roofpv/energy/stations.csv]

Every ``*.epw`` (or ``*.epw.gz``) under EPW_FOLDER is read with roofpv's own reader
(values repaired as a run would repair them) and summed by month: GHI and DHI
[kWh/m² per month], mean air temperature [°C] and wind speed [m/s]. A file's URL is
``URL/<relative path>``. Files that cannot be read are listed on stderr and left out.

The table shipped was built from the 270 CSWD files of
https://github.com/gwyxjtu/eppy_for_power_load_generation at commit
f52597b20ff0192f119e01a8da1b80b379d52b0e, folder weathers/spyder (see
roofpv/energy/stations.md):

    git -C <clone> archive f52597b weathers/spyder | tar -x -C /tmp/cswd
    python scripts/make_stations.py /tmp/cswd/weathers/spyder --url-base \
      https://github.com/gwyxjtu/eppy_for_power_load_generation/blob/f52597b20ff0192f119e01a8da1b80b379d52b0e/weathers/spyder
"""

import argparse
import re
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from roofpv.energy.stations import COLUMNS, MONTHLY, PROVINCES  # noqa: E402
from roofpv.io.weather_files import WeatherFileError, read_weather  # noqa: E402

NAME = re.compile(r"^CHN_(?P<province>[A-Za-z]+)\.(?P<place>.+)\.(?P<wmo>\d{6})_(?P<dataset>[A-Za-z]+)")


def station_row(path: Path, url: str) -> dict:
    """One row of the table from one EPW file."""
    stem = path.name.removesuffix(".gz").removesuffix(".epw")
    match = NAME.match(stem)
    if match is None or match["province"] not in PROVINCES:
        raise ValueError(f"{path.name}: not named CHN_<Province>.<Station>.<WMO>_<DATASET>")
    weather, meta = read_weather(path)
    month = weather.index.month
    row = {
        "station_id": f"{match['wmo']}_{match['dataset'].upper()}",
        "name": match["place"].split(".")[-1],
        "province": match["province"],
        "province_zh": PROVINCES[match["province"]],
        "latitude": round(float(meta["latitude"]), 3),
        "longitude": round(float(meta["longitude"]), 3),
        "elevation_m": round(float(meta["altitude"]), 1),
        "dataset": match["dataset"].upper(),
        "file": path.name,
        "url": url,
        "repaired_values": len(meta["findings"]),
    }
    sums = {"ghi_kwh_m2": weather["ghi"].groupby(month).sum() / 1000,
            "dhi_kwh_m2": weather["dhi"].groupby(month).sum() / 1000,
            "temp_air_c": weather["temp_air"].groupby(month).mean(),
            "wind_m_s": weather["wind_speed"].groupby(month).mean()}
    for name, values in sums.items():
        for m, value in values.items():
            row[f"{name}_{m:02d}"] = round(float(value), 1)
    return row


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--url-base", required=True)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1]
                        / "roofpv" / "energy" / "stations.csv")
    args = parser.parse_args(argv)
    rows = []
    for path in sorted(p for p in args.folder.rglob("*") if p.name.endswith((".epw", ".epw.gz"))):
        url = f"{args.url_base.rstrip('/')}/{path.relative_to(args.folder).as_posix()}"
        try:
            rows.append(station_row(path, url))
        except (WeatherFileError, ValueError) as exc:
            print(f"left out: {exc}", file=sys.stderr)
    table = pd.DataFrame(rows)[list(COLUMNS) + list(MONTHLY)]
    table = table.drop_duplicates("station_id").sort_values(["province", "name"])
    table.to_csv(args.out, index=False, lineterminator="\n")
    print(f"{len(table)} stations in {table['province'].nunique()} provinces -> {args.out}")


if __name__ == "__main__":
    main()
