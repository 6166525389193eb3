import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pvlib
import pytest

from roofpv.energy.weather import typical_year
from roofpv.errors import WeatherFileError
from roofpv.io.weather_files import COLUMNS, read_weather

SITE = {"latitude": 30.68, "longitude": 121.01, "altitude": 5.0}
GHI = [74.5, 80.2, 110.2, 131.2, 144.6, 134.4,
       149.7, 148.8, 113.8, 96.3, 77.2, 75.5]
TEMP = [5.0, 6.4, 10.3, 16.0, 21.0, 24.6, 28.1, 28.4, 24.4, 19.3, 13.1, 6.9]
WIND = [2.8, 2.8, 3.3, 2.8, 3.0, 3.0, 2.4, 2.1, 3.3, 2.6, 2.3, 2.3]
SHANGHAI_EPW = (Path(__file__).resolve().parents[2] / "shared" / "data"
                / "Shanghai-Hongqiao_1956_2023_TMYx.epw")
PVLIB_DATA = Path(os.path.dirname(pvlib.__file__)) / "data"


@pytest.fixture(scope="module")
def truth():
    """A canonical year, rounded as the files below write it."""
    weather, _ = typical_year(**SITE, monthly_ghi_kwh_m2=GHI,
                              monthly_temp_air_c=TEMP, monthly_wind_m_s=WIND)
    return weather.round(1)


def write_epw(path, weather):
    """EPW with months taken from different years, hours 1..24."""
    start = weather.index.tz_localize(None)
    year = np.where(start.month == 2, 2004, 1990 + start.month)
    location = (f"LOCATION,Pinghu,ZJ,CHN,test,000000,{SITE['latitude']},"
                f"{SITE['longitude']},8.0,{SITE['altitude']}")
    head = [location]
    head += [f"HEADER{i}" for i in range(1, 8)]
    rows = []
    for k, (t, r) in enumerate(weather.iterrows()):
        fields = [year[k], t.month, t.day, t.hour + 1, 0, "?", r.temp_air,
                  10.0, 70, 101325, 0, 0, 300, r.ghi, r.dni, r.dhi, 0, 0, 0,
                  0, 180, r.wind_speed, 5, 5, 20, 77777, 9, 999999999, 20,
                  0.1, 0, 88, 0.2, 0, 1]
        rows.append(",".join(str(f) for f in fields))
    path.write_text("\n".join(head + rows) + "\n")


def pvgis_rows(weather):
    utc = weather.index.tz_convert("UTC")
    # A TMY: January from 2010, the rest from 2015, stamps in UTC.
    year = np.where(utc.month == 1, 2010, 2015)
    stamps = [f"{y}{t:%m%d:%H%M}" for y, t in zip(year, utc)]
    order = np.lexsort((utc.hour, utc.day, utc.month))
    return [stamps[i] for i in order], weather.iloc[order]


def write_pvgis_csv(path, weather, offset=None):
    stamps, values = pvgis_rows(weather)
    lines = [f"Latitude (decimal degrees): {SITE['latitude']}",
             f"Longitude (decimal degrees): {SITE['longitude']}",
             f"Elevation (m): {SITE['altitude']}"]
    if offset is not None:
        lines.append(f"Irradiance Time Offset (h): {offset}")
    lines.append("month,year")
    lines += [f"{m},{2010 if m == 1 else 2015}" for m in range(1, 13)]
    lines.append("time(UTC),T2m,RH,G(h),Gb(n),Gd(h),IR(h),WS10m,WD10m,SP")
    for s, (_, r) in zip(stamps, values.iterrows()):
        lines.append(f"{s},{r.temp_air},70,{r.ghi},{r.dni},{r.dhi},300,"
                     f"{r.wind_speed},180,101325")
    lines += ["T2m: 2-m air temperature (degree Celsius)",
              "PVGIS (c) European Union, 2001-2024"]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode())


def test_epw_mixed_years_to_canonical(tmp_path, truth):
    path = tmp_path / "site.epw"
    write_epw(path, truth)
    weather, meta = read_weather(path, tz="Asia/Shanghai")
    assert list(weather.columns) == list(COLUMNS)
    pd.testing.assert_frame_equal(weather, truth, check_freq=False)
    assert meta == {**SITE, "tz": "Asia/Shanghai",
                    "source": "EPW file site.epw", "findings": [], "shift_h": 0.0,
                    "covered_hours": 8760, "period": "full year", "split": []}
    fixed, meta = read_weather(path)
    assert meta["tz"] == "Etc/GMT-8"
    np.testing.assert_array_equal(fixed.to_numpy(), truth.to_numpy())
    assert fixed.index[0] == truth.index[0]


def test_tmy3_end_labels_shifted_to_start():
    path = PVLIB_DATA / "723170TYA.CSV"
    weather, meta = read_weather(path)
    raw = pd.read_csv(path, skiprows=1)
    assert weather.shape == (8760, 5)
    assert meta["tz"] == "Etc/GMT+5"
    assert (meta["latitude"], meta["longitude"]) == (36.1, -79.95)
    # The file's "01/05 10:00" covers 09:00-10:00 local standard time.
    row = raw[(raw["Date (MM/DD/YYYY)"].str.startswith("01/05/"))
              & (raw["Time (HH:MM)"] == "10:00")].iloc[0]
    assert weather.loc["2023-01-05 09:00", "ghi"].item() == row["GHI (W/m^2)"]
    # 02/28 24:00 of the leap year 1996 is the interval 02/28 23:00-24:00.
    row = raw[(raw["Date (MM/DD/YYYY)"] == "02/28/1996")
              & (raw["Time (HH:MM)"] == "24:00")].iloc[0]
    assert weather.loc["2023-02-28 23:00", "temp_air"].item() == \
        row["Dry-bulb (C)"]
    np.testing.assert_allclose(weather["ghi"].sum(),
                               raw["GHI (W/m^2)"].sum())


@pytest.mark.parametrize("offset, shift, error", [
    (None, 0, 0.0), (0.1761, 0, -0.3239), (0.5, 0, 0.0), (1.6, 1, 0.1)])
def test_pvgis_csv_utc_rolled_to_local(tmp_path, truth, offset, shift, error):
    path = tmp_path / "tmy.csv"
    write_pvgis_csv(path, truth, offset)
    weather, meta = read_weather(path, tz="Asia/Shanghai")
    expected = truth.to_numpy()
    np.testing.assert_array_equal(weather.to_numpy(),
                                  np.roll(expected, shift, axis=0))
    assert meta["source"] == "PVGIS TMY file tmy.csv"
    assert meta["solar_time_error_h"] == pytest.approx(error)
    assert meta["irradiance_time_offset_assumed"] == (offset is None)
    assert (meta["latitude"], meta["altitude"]) == (30.68, 5.0)
    # Without tz: the whole-hour offset nearest longitude / 15 (UTC+8).
    _, meta = read_weather(path)
    assert meta["tz"] == "Etc/GMT-8"


def test_pvgis_json(tmp_path, truth):
    stamps, values = pvgis_rows(truth)
    hourly = [{"time(UTC)": s, "T2m": r.temp_air, "G(h)": r.ghi,
               "Gb(n)": r.dni, "Gd(h)": r.dhi, "WS10m": r.wind_speed,
               "RH": 70, "IR(h)": 300, "WD10m": 180, "SP": 101325}
              for s, (_, r) in zip(stamps, values.iterrows())]
    src = {"inputs": {"location": {"latitude": 30.68, "longitude": 121.01,
                                   "elevation": 5.0}},
           "outputs": {"months_selected": [], "tmy_hourly": hourly},
           "meta": {"inputs": {}}}
    path = tmp_path / "tmy.json"
    path.write_text(json.dumps(src))
    weather, meta = read_weather(path, tz="Asia/Shanghai")
    np.testing.assert_array_equal(weather.to_numpy(), truth.to_numpy())
    assert meta["longitude"] == 121.01


def plain(weather, label="start", fmt="%Y-%m-%d %H:%M"):
    shift = {"start": 0, "middle": 30, "end": 60}[label]
    stamps = (weather.index + pd.Timedelta(minutes=shift)).strftime(fmt)
    return weather.set_axis(stamps).rename_axis("timestamp").reset_index()


@pytest.mark.parametrize("label", ["start", "middle", "end"])
def test_plain_csv_labels(tmp_path, truth, label):
    path = tmp_path / "hourly.csv"
    plain(truth, label).to_csv(path, index=False)
    weather, meta = read_weather(path, tz="Asia/Shanghai", label=label,
                                 latitude=30.68, longitude=121.01)
    pd.testing.assert_frame_equal(weather, truth, check_freq=False)
    assert meta["source"] == f"hourly CSV file hourly.csv (stamps at " \
                             f"interval {label})"
    assert meta["latitude"] == 30.68 and meta["altitude"] is None


def test_plain_csv_utc_offsets_and_renamed_columns(tmp_path, truth):
    frame = plain(truth.tz_convert("UTC"), fmt="%Y-%m-%dT%H:%M%z")
    frame = frame.rename(columns={"ghi": "GHI", "temp_air": "T2m"})
    path = tmp_path / "hourly.csv"
    frame.to_csv(path, index=False)
    weather, meta = read_weather(path, tz="Asia/Shanghai",
                                 columns={"T2m": "temp_air"})
    pd.testing.assert_frame_equal(weather, truth, check_freq=False)
    utc, meta = read_weather(path, columns={"T2m": "temp_air"})
    assert meta["tz"] == "UTC"
    assert utc["ghi"].sum() == truth["ghi"].sum()


def test_errors(tmp_path, truth):
    path = tmp_path / "bad.csv"
    with pytest.raises(WeatherFileError, match="bad.csv: weather file not"):
        read_weather(path)

    plain(truth).drop(columns="dni").to_csv(path, index=False)
    with pytest.raises(WeatherFileError, match=r"bad.csv: the file gives no DNI; splitting GHI "
                                               "needs the file's location"):
        read_weather(path, tz="Asia/Shanghai")
    plain(truth).drop(columns=["dni", "temp_air"]).to_csv(path, index=False)
    with pytest.raises(WeatherFileError, match=r"bad.csv: no column 'temp_air'"):
        read_weather(path, tz="Asia/Shanghai")

    plain(truth).to_csv(path, index=False)
    with pytest.raises(WeatherFileError, match="no UTC offset; give the"):
        read_weather(path)
    with pytest.raises(WeatherFileError, match="daylight saving"):
        read_weather(path, tz="Europe/Berlin")

    frame = plain(truth)
    frame.loc[100:199, "temp_air"] = 99.9
    frame.to_csv(path, index=False)
    with pytest.raises(WeatherFileError, match="100 of 8760 values of 'temp_air'"):
        read_weather(path, tz="Asia/Shanghai")

    frame = plain(truth)
    frame.loc[10:20, "ghi"] = np.nan
    frame.to_csv(path, index=False)
    with pytest.raises(WeatherFileError, match="gap of more than 6 hours"):
        read_weather(path, tz="Asia/Shanghai")

    two_years = pd.concat([plain(truth), plain(truth.shift(
        freq=pd.Timedelta(days=365)))])
    two_years.to_csv(path, index=False)
    with pytest.raises(WeatherFileError, match="more than one row"):
        read_weather(path, tz="Asia/Shanghai")

    plain(truth, "middle").to_csv(path, index=False)
    with pytest.raises(WeatherFileError, match="whole hours"):
        read_weather(path, tz="Asia/Shanghai", label="start")

    with pytest.raises(WeatherFileError, match="cannot tell the weather"):
        other = tmp_path / "weather.txt"
        other.write_text("x")
        read_weather(other)


def test_leap_day_dropped(tmp_path, truth):
    leap = truth.copy()
    leap.index = pd.date_range("2024-01-01", periods=8760, freq="h",
                               tz="Asia/Shanghai")
    feb29 = leap.loc["2024-02-29"].copy()
    rest = leap.loc[:"2024-02-28"]
    path = tmp_path / "leap.csv"
    pd.concat([plain(rest), plain(feb29)]).to_csv(path, index=False)
    # 59 days: Feb 29 is dropped without complaint, the rest of the year is not covered.
    weather, meta = read_weather(path, tz="Asia/Shanghai")
    assert meta["covered_hours"] == 59 * 24
    assert weather.loc["2023-03-01":, "ghi"].sum() == 0


@pytest.mark.skipif(not SHANGHAI_EPW.is_file(),
                    reason=f"real weather file absent: {SHANGHAI_EPW}")
def test_real_shanghai_epw():
    weather, meta = read_weather(SHANGHAI_EPW, tz="Asia/Shanghai")
    raw, _ = pvlib.iotools.read_epw(SHANGHAI_EPW)
    assert weather.shape == (8760, 5)
    assert meta["latitude"] == 31.198 and meta["longitude"] == 121.336
    np.testing.assert_allclose(
        weather["ghi"].groupby(weather.index.month).sum().to_numpy(),
        raw["ghi"].groupby(raw["month"]).sum().to_numpy())
    assert 1400 < weather["ghi"].sum() / 1000 < 1550


def test_single_bad_values_repaired(tmp_path, truth):
    """One out-of-range record is clipped, a missing-value code and blanks are
    filled from their neighbours; each repair is a finding naming hour and value."""
    frame = plain(truth)
    noon = frame.index[(frame["ghi"] > 300)][0]
    frame.loc[noon, "dhi"] = 1011.0              # 1 % past the range: clipped
    frame.loc[100, "temp_air"] = 99.9            # missing-value code: filled
    frame.loc[[5, 6], "ghi"] = np.nan            # blanks: filled
    path = tmp_path / "repaired.csv"
    frame.to_csv(path, index=False)
    weather, meta = read_weather(path, tz="Asia/Shanghai")
    found = {(f.column, f.value): f for f in meta["findings"]}
    assert len(meta["findings"]) == 4
    assert "clipped to 1000" in found["dhi", "1011"].problem
    assert found["dhi", "1011"].row == noon + 1
    assert "filled" in found["temp_air", "99.9"].problem
    assert weather["dhi"].max() == 1000.0
    expected = (truth["temp_air"].iloc[99] + truth["temp_air"].iloc[101]) / 2
    assert weather["temp_air"].iloc[100] == pytest.approx(expected)
    assert not weather.isna().any().any()


def test_shift_hours(tmp_path, truth):
    path = tmp_path / "plain.csv"
    plain(truth).to_csv(path, index=False)
    late, meta = read_weather(path, tz="Asia/Shanghai", shift_h=1)
    assert meta["shift_h"] == 1.0 and "shifted +1 h" in meta["source"]
    np.testing.assert_array_equal(late["ghi"].to_numpy()[1:], truth["ghi"].to_numpy()[:-1])
    half, _ = read_weather(path, tz="Asia/Shanghai", shift_h=-0.5)
    ghi = truth["ghi"].to_numpy()
    np.testing.assert_allclose(half["ghi"].to_numpy()[:-1], (ghi[:-1] + ghi[1:]) / 2)
    assert half["ghi"].sum() == pytest.approx(truth["ghi"].sum())


def test_irradiance_lag_found_and_fixed(truth):
    """The synthetic year is on the sun; moved an hour late, the lag is found, the
    finding says how to fix it and the fix removes it."""
    from roofpv.energy.weather import irradiance_lag_h, shift_hours, timing_findings

    lat, lon = SITE["latitude"], SITE["longitude"]
    assert abs(irradiance_lag_h(truth, lat, lon)) < 0.1
    late = shift_hours(truth, 1.0)
    assert irradiance_lag_h(late, lat, lon) == pytest.approx(1.0, abs=0.1)
    half = shift_hours(truth, 0.5)
    assert irradiance_lag_h(half, lat, lon) == pytest.approx(0.5, abs=0.1)
    (finding,) = timing_findings(late, {"shift_h": 0.0}, lat, lon, "late.epw")
    assert finding.level == "warning" and "shift_h: -1.0" in finding.fix
    assert timing_findings(shift_hours(late, -1.0), {}, lat, lon, "x") == []
    (note,) = timing_findings(half, {}, lat, lon, "half.epw")
    assert note.level == "info"


def test_location_findings():
    from roofpv.energy.weather import distance_km, location_findings

    # Hand value: 1° of latitude on the WGS84 ellipsoid near 30.5°N is 110.85 km.
    assert distance_km(30.0, 121.0, 31.0, 121.0) == pytest.approx(110.85, abs=0.05)
    near = {"latitude": 30.70, "longitude": 121.05}
    assert location_findings(near, 30.677, 121.013, "f") == []
    hangzhou = {"latitude": 30.23, "longitude": 120.17}
    # 95 km: within the 150 km of a station's climate (issue 23), a warning only when asked.
    assert location_findings(hangzhou, 30.677, 121.013, "f") == []
    (warn,) = location_findings(hangzhou, 30.677, 121.013, "f", warn_km=50)
    assert warn.level == "warning" and "95 km" in warn.problem
    zhengzhou = {"latitude": 34.72, "longitude": 113.65}  # 823 km
    (error,) = location_findings(zhengzhou, 30.677, 121.013, "f")
    assert error.level == "error" and "823 km" in error.problem
    nanjing = {"latitude": 32.0, "longitude": 118.8}  # 257 km (haversine by hand: 256 km)
    (warn,) = location_findings(nanjing, 30.677, 121.013, "f", what="typical-year climate")
    assert warn.level == "warning" and warn.problem == ("typical-year climate lies 257 km from the "
                                                        "site (more than 150 km)")
    berlin = {"latitude": 52.5, "longitude": 13.4}
    (error,) = location_findings(berlin, 30.677, 121.013, "f")
    assert error.level == "error" and "max_distance_km" in error.fix
    (warn,) = location_findings(berlin, 30.677, 121.013, "f", max_km=None)
    assert warn.level == "warning"
    (note,) = location_findings({"latitude": None, "longitude": None}, 30.0, 120.0, "f")
    assert note.level == "info"


def test_gzip_files(tmp_path, truth):
    import gzip

    path = tmp_path / "site.epw"
    write_epw(path, truth)
    packed = tmp_path / "site.epw.gz"
    packed.write_bytes(gzip.compress(path.read_bytes()))
    weather, meta = read_weather(packed, tz="Asia/Shanghai")
    pd.testing.assert_frame_equal(weather, read_weather(path, tz="Asia/Shanghai")[0])
    assert meta["source"] == "EPW file site.epw (gzip)"
    broken = tmp_path / "broken.epw.gz"
    broken.write_bytes(b"not gzip")
    with pytest.raises(WeatherFileError, match="broken.epw.gz: not a readable gzip"):
        read_weather(broken)
    bad = tmp_path / "bad.csv.gz"
    bad.write_bytes(gzip.compress(b"timestamp,ghi\n2023-01-01 00:00,0\n"))
    with pytest.raises(WeatherFileError, match=r"bad.csv.gz: no column 'temp_air'"):
        read_weather(bad, tz="Asia/Shanghai")


def test_gbk_station_files(tmp_path, truth):
    """A station's hourly CSV with Chinese headers and an EPW with a Chinese place name,
    both saved in GBK (as Chinese Windows tools save them), read like UTF-8 ones."""
    epw = tmp_path / "平湖.epw"
    write_epw(epw, truth)
    epw.write_bytes(epw.read_text().replace("LOCATION,Pinghu", "LOCATION,平湖").encode("gbk"))
    weather, meta = read_weather(epw, tz="Asia/Shanghai")
    pd.testing.assert_frame_equal(weather, truth, check_freq=False)
    csv = tmp_path / "站点.csv"
    frame = plain(truth, "start").rename(columns={"ghi": "总辐射", "temp_air": "气温"})
    csv.write_bytes(frame.to_csv(index=False).encode("gbk"))
    weather, _ = read_weather(csv, tz="Asia/Shanghai", label="start",
                              columns={"总辐射": "ghi", "气温": "temp_air"}, latitude=30.68, longitude=121.01)
    pd.testing.assert_frame_equal(weather, truth, check_freq=False)
