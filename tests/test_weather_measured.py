"""Weather as measured: GHI-only files, sub-hourly values and part years (issue 23)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pvlib
import pytest

from roofpv.energy.solar import yield_table
from roofpv.energy.weather import interval_midpoints, solar_position
from roofpv.io.weather_files import read_weather

CHANGSHA = Path(__file__).parent / "data" / "real" / "weather" / "CHN_HN_Changsha.576870_TMYx.2007-2021.epw.gz"
TZ = "Asia/Shanghai"


@pytest.fixture(scope="module")
def changsha():
    return read_weather(CHANGSHA, tz=TZ)


def _csv(weather, path, columns=("ghi", "temp_air", "wind_speed")):
    frame = weather[list(columns)].copy()
    frame.insert(0, "timestamp", weather.index.strftime("%Y-%m-%d %H:%M"))
    frame.to_csv(path, index=False)
    return path


def test_ghi_only_csv_split_with_erbs(tmp_path, changsha):
    real, meta = changsha
    path = _csv(real, tmp_path / "station.csv")
    weather, got = read_weather(path, tz=TZ, latitude=meta["latitude"], longitude=meta["longitude"],
                                altitude=meta["altitude"])
    # GHI, temperature and wind as written; DNI and DHI from the Erbs model at the interval midpoints.
    np.testing.assert_allclose(weather["ghi"], real["ghi"])
    np.testing.assert_allclose(weather["temp_air"], real["temp_air"])
    zenith = solar_position(real, meta["latitude"], meta["longitude"], meta["altitude"])["zenith"]
    erbs = pvlib.irradiance.erbs(real["ghi"].to_numpy(), zenith.to_numpy(), interval_midpoints(real.index))
    np.testing.assert_allclose(weather["dhi"], np.clip(erbs["dhi"], 0, None), atol=1e-9)
    np.testing.assert_allclose(weather["dni"], erbs["dni"], atol=1e-9)
    assert got["split"] == ["dni", "dhi"]
    assert "DNI and DHI split from GHI with the Erbs" in got["source"]
    (finding,) = [f for f in got["findings"] if f.column == "dni, dhi"]
    assert finding.level == "info" and "the file gives no DNI and DHI" in finding.problem
    assert "docs/validation.md" in finding.problem
    # Closure holds: the split keeps the horizontal irradiation.
    cos_z = np.cos(np.radians(zenith.to_numpy()))
    day = zenith.to_numpy() < 87
    np.testing.assert_allclose((weather["dni"] * cos_z + weather["dhi"])[day], weather["ghi"][day], atol=1e-6)


def test_ghi_only_epw_missing_codes(tmp_path, changsha):
    """An EPW whose DNI and DHI fields hold the missing code 9999 throughout is GHI-only."""
    import gzip

    lines = gzip.decompress(CHANGSHA.read_bytes()).decode().splitlines()
    out = lines[:8]
    for line in lines[8:]:
        fields = line.split(",")
        fields[14], fields[15] = "9999", "9999"
        out.append(",".join(fields))
    path = tmp_path / "ghi_only.epw"
    path.write_text("\n".join(out) + "\n")
    weather, meta = read_weather(path, tz=TZ)
    real, _ = changsha
    np.testing.assert_allclose(weather["ghi"], real["ghi"])
    assert meta["split"] == ["dni", "dhi"]
    # Erbs gives more diffuse light than the file's own split (0.55 against 0.40).
    assert weather["dhi"].sum() / weather["ghi"].sum() == pytest.approx(0.547, abs=0.005)
    assert real["dhi"].sum() / real["ghi"].sum() == pytest.approx(0.401, abs=0.005)


def test_one_component_completed_by_closure(tmp_path, changsha):
    real, meta = changsha
    path = _csv(real, tmp_path / "with_dhi.csv", ("ghi", "dhi", "temp_air", "wind_speed"))
    weather, got = read_weather(path, tz=TZ, latitude=meta["latitude"], longitude=meta["longitude"])
    assert got["split"] == ["dni"]
    np.testing.assert_allclose(weather["dhi"], np.minimum(real["dhi"], real["ghi"]))
    assert "DNI from GHI and DHI by closure" in got["source"]


def test_ghi_only_without_location_uses_site(tmp_path, changsha):
    real, meta = changsha
    path = _csv(real, tmp_path / "station.csv")
    weather, got = read_weather(path, tz=TZ, site=(meta["latitude"], meta["longitude"], 0.0))
    assert got["latitude"] is None and weather["dni"].sum() > 0


def test_ten_minute_values_averaged(tmp_path, changsha):
    real, meta = changsha
    fine = real.reindex(pd.date_range(real.index[0], periods=8760 * 6, freq="10min", tz=TZ), method="ffill")
    path = _csv(fine, tmp_path / "ten_minutes.csv", ("ghi", "dni", "dhi", "temp_air", "wind_speed"))
    weather, got = read_weather(path, tz=TZ)
    pd.testing.assert_frame_equal(weather, real, check_freq=False)
    assert got["source"].startswith("10-minute CSV file ten_minutes.csv")
    assert any("10-minute values averaged to 8,760 hours" in f.problem for f in got["findings"])


def test_part_year_energy_for_the_period(tmp_path, changsha):
    real, meta = changsha
    summer = real.loc["2023-06-01":"2023-08-31"]
    path = _csv(summer, tmp_path / "monitoring.csv", ("ghi", "dni", "dhi", "temp_air", "wind_speed"))
    weather, got = read_weather(path, tz=TZ)
    hours = 92 * 24
    assert got["covered_hours"] == hours
    assert got["period"] == (f"part year: {hours:,} of 8,760 hours covered (06-01 00:00 to 08-31 23:00); "
                             "energy figures cover these hours only")
    assert got["period"] in got["source"]
    (finding,) = [f for f in got["findings"] if f.column == "timestamp"]
    assert finding.level == "warning" and "not annual" in finding.problem
    assert weather.loc[~weather.index.month.isin([6, 7, 8]), ["ghi", "dni", "dhi"]].to_numpy().sum() == 0
    # Energy of the covered months, as the full year computes them for those months.
    site = (meta["latitude"], meta["longitude"], meta["altitude"])
    kw = dict(noct_installed=45, gamma_pdc=-0.003, losses_pct=14.08)
    part = yield_table(weather, *site, [0, 30], [180, 190], **kw)
    full = yield_table(real, *site, [0, 30], [180, 190], **kw)
    assert part.monthly_kwh_per_kwp[:5].sum() == 0 and part.monthly_kwh_per_kwp[8:].sum() == 0
    np.testing.assert_allclose(part.monthly_kwh_per_kwp[5:8], full.monthly_kwh_per_kwp[5:8], rtol=1e-9)
    assert part.annual_kwh_per_kwp[1, 0] == pytest.approx(full.monthly_kwh_per_kwp[5:8, 1, 0].sum())
    # The time-stamp check looks at the covered days only: the full year's 0.38 h late.
    from roofpv.energy.weather import irradiance_lag_h

    full_lag = irradiance_lag_h(real, meta["latitude"], meta["longitude"])
    assert irradiance_lag_h(weather, meta["latitude"], meta["longitude"]) == pytest.approx(full_lag, abs=0.02)


def test_short_absent_spell_filled(tmp_path, changsha):
    real, _ = changsha
    path = _csv(real.drop(real.index[1000:1003]), tmp_path / "gap.csv",
                ("ghi", "dni", "dhi", "temp_air", "wind_speed"))
    weather, got = read_weather(path, tz=TZ)
    assert got["period"] == "full year" and got["covered_hours"] == 8760
    assert any("3 hours absent from 02-11 16:00" in f.problem for f in got["findings"])
    np.testing.assert_allclose(weather["temp_air"].iloc[1001],
                               np.interp(1001, [999, 1003], real["temp_air"].iloc[[999, 1003]]))


def test_run_labels_part_year_and_ghi_only(tmp_path, changsha):
    """Through the config: a GHI-only monitoring period, split at the site (the CSV states no
    location), labelled in the run's findings and run_info."""
    from roofpv.config import load_config
    from roofpv.io.weather_files import load_weather
    from roofpv.results import run_info

    real, meta = changsha
    path = _csv(real.loc["2023-03-01":"2023-03-31"], tmp_path / "meter_period.csv")
    root = Path(__file__).resolve().parents[1]
    config = load_config(root / "configs" / "pinghu.yaml")
    site = config.site.model_copy(update={"latitude": meta["latitude"], "longitude": meta["longitude"]})
    weather_cfg = config.weather.model_copy(update={"file": path, "monthly": None})
    config = config.model_copy(update={"site": site, "weather": weather_cfg})
    hourly, got = load_weather(config)
    assert got["covered_hours"] == 31 * 24 and got["split"] == ["dni", "dhi"]
    problems = " | ".join(f.problem for f in got["findings"])
    assert "the file covers 744 of 8,760 hours of a year (03-01 00:00 to 03-31 23:00)" in problems
    assert "the file gives no DNI and DHI: split from GHI with the Erbs" in problems
    info = run_info(config, got, hourly, "EPSG:4549").set_index("item")["value"]
    assert info["weather period"] == ("part year: 744 of 8,760 hours covered (03-01 00:00 to 03-31 23:00); "
                                      "energy figures cover these hours only")
    assert "DNI and DHI split from GHI with the Erbs" in info["weather source"]
    assert float(info["weather annual GHI (kWh/m²)"]) == pytest.approx(real.loc["2023-03", "ghi"].sum() / 1000, abs=0.05)
