import numpy as np
import pandas as pd
import pvlib
import pytest

from roofpv.energy.weather import interval_midpoints, solar_position, typical_year

from .conftest import GHI, SITE, TEMP, WIND


@pytest.fixture(scope="module")
def pinghu():
    return typical_year(**SITE, monthly_ghi_kwh_m2=GHI,
                        monthly_temp_air_c=TEMP, monthly_wind_m_s=WIND)


@pytest.fixture(scope="module")
def solpos(pinghu):
    return solar_position(pinghu[0], **SITE)


@pytest.fixture(scope="module")
def clear_sky(pinghu):
    location = pvlib.location.Location(**SITE, tz="Asia/Shanghai")
    return location.get_clearsky(interval_midpoints(pinghu[0].index))["ghi"]


def test_canonical_frame(pinghu):
    weather, meta = pinghu
    assert weather.shape == (8760, 5)
    assert list(weather.columns) == ["ghi", "dni", "dhi", "temp_air",
                                     "wind_speed"]
    assert str(weather.index.tz) == "Asia/Shanghai"
    assert weather.index[0] == pd.Timestamp("2023-01-01 00:00",
                                            tz="Asia/Shanghai")
    assert (np.diff(weather.index) == pd.Timedelta(hours=1)).all()
    assert meta == {**SITE, "tz": "Asia/Shanghai",
                    "source": "synthetic typical year from monthly means"}


def test_monthly_means_reproduced(pinghu):
    weather, _ = pinghu
    monthly = weather.groupby(weather.index.month)
    np.testing.assert_allclose(monthly["ghi"].sum() / 1000, GHI, rtol=0.005)
    np.testing.assert_allclose(monthly["temp_air"].mean(), TEMP, atol=0.2)
    np.testing.assert_allclose(monthly["wind_speed"].mean(), WIND,
                               rtol=0.01)


def test_irradiance_is_physical(pinghu, solpos, clear_sky):
    weather, _ = pinghu
    assert (weather[["ghi", "dni", "dhi", "wind_speed"]] >= 0).all().all()
    night = solpos["apparent_zenith"] >= 90
    assert night.sum() > 4000
    assert (weather.loc[night, ["ghi", "dni", "dhi"]] == 0).all().all()
    assert (weather["dhi"] <= weather["ghi"] + 1e-9).all()
    closure = (weather["dni"] * np.cos(np.radians(solpos["apparent_zenith"]))
               + weather["dhi"])
    np.testing.assert_allclose(closure, weather["ghi"], atol=1e-6)
    assert (weather["ghi"].to_numpy()
            <= 1.1 * clear_sky.to_numpy() + 1e-6).all()


def test_day_to_day_variability(pinghu, clear_sky):
    weather, _ = pinghu
    day = weather.index.day_of_year
    daily_index = (weather["ghi"].groupby(day).sum()
                   / clear_sky.set_axis(weather.index).groupby(day).sum())
    month = weather.index.month[::24]
    assert (daily_index.groupby(month).std() > 0.15).all()
    assert (daily_index > 0.85).sum() > 30
    assert (daily_index < 0.3).sum() > 30


def test_diurnal_temperature_cycle(pinghu):
    weather, _ = pinghu
    hourly = weather["temp_air"].groupby(weather.index.hour).mean()
    assert hourly.idxmax() in (14, 15)
    assert 4 <= hourly.idxmin() <= 6
    daily = weather["temp_air"].groupby(weather.index.day_of_year)
    assert 5 < (daily.max() - daily.min()).mean() < 8


def test_deterministic_for_seed(pinghu):
    again, _ = typical_year(**SITE, monthly_ghi_kwh_m2=GHI,
                            monthly_temp_air_c=TEMP, monthly_wind_m_s=WIND)
    pd.testing.assert_frame_equal(again, pinghu[0])
    other, _ = typical_year(**SITE, monthly_ghi_kwh_m2=GHI,
                            monthly_temp_air_c=TEMP, monthly_wind_m_s=WIND,
                            seed=1)
    assert not np.allclose(other["ghi"], pinghu[0]["ghi"])
    np.testing.assert_allclose(
        other["ghi"].groupby(other.index.month).sum() / 1000, GHI, rtol=1e-6)


def test_solar_position_at_interval_midpoints(pinghu, solpos):
    weather, _ = pinghu
    assert solpos.index.equals(weather.index)
    start = pd.Timestamp("2023-06-21 11:00", tz="Asia/Shanghai")
    expected = pvlib.solarposition.get_solarposition(
        pd.DatetimeIndex([start + pd.Timedelta(minutes=30)]), **SITE)
    np.testing.assert_allclose(solpos.loc[start, "zenith"],
                               expected["zenith"].iloc[0])


@pytest.mark.parametrize("kwargs", [
    {"year": 2024},
    {"monthly_ghi_kwh_m2": GHI[:11]},
    {"monthly_ghi_kwh_m2": [400.0] * 12},
])
def test_invalid_input(kwargs):
    arguments = {"monthly_ghi_kwh_m2": GHI, "monthly_temp_air_c": TEMP,
                 "monthly_wind_m_s": WIND, **kwargs}
    with pytest.raises(ValueError):
        typical_year(**SITE, **arguments)


DHI = [31.2, 34.2, 47.7, 54.2, 67.9, 67.6, 67.1, 65.7, 52.3, 40.5, 30.2, 29.6]


@pytest.fixture(scope="module")
def with_diffuse():
    return typical_year(**SITE, monthly_ghi_kwh_m2=GHI, monthly_temp_air_c=TEMP,
                        monthly_wind_m_s=WIND, monthly_dhi_kwh_m2=DHI)[0]


def test_monthly_diffuse_is_met_and_components_close(with_diffuse, pinghu):
    w = with_diffuse
    month = w.index.month
    np.testing.assert_allclose(w["dhi"].groupby(month).sum() / 1000, DHI, rtol=1e-6)
    np.testing.assert_allclose(w["ghi"].groupby(month).sum() / 1000, GHI, rtol=1e-9)
    assert (w["dhi"] <= w["ghi"] + 1e-9).all() and (w["dni"] >= 0).all()
    zenith = solar_position(w, **SITE)["apparent_zenith"].to_numpy()
    low = zenith < 87
    closure = w["dni"].to_numpy()[low] * np.cos(np.radians(zenith[low])) + w["dhi"].to_numpy()[low]
    np.testing.assert_allclose(closure, w["ghi"].to_numpy()[low], atol=1e-6)
    # Less diffuse than the Erbs split alone (0.59), hours of one sky kept in order:
    # an hour more diffuse than another under Erbs stays so.
    assert w["dhi"].sum() / w["ghi"].sum() == pytest.approx(sum(DHI) / sum(GHI), abs=1e-6)
    erbs = pinghu[0]
    assert erbs["dhi"].sum() / erbs["ghi"].sum() > 0.55
    lit = (erbs["ghi"] > 0).to_numpy()
    before = (erbs["dhi"] / erbs["ghi"]).to_numpy()[lit]
    after = (w["dhi"] / w["ghi"]).to_numpy()[lit]
    jan = (w.index.month == 1)[lit]
    order = np.argsort(before[jan])
    assert (np.diff(after[jan][order]) >= -1e-9).all()


def test_monthly_diffuse_validated():
    with pytest.raises(ValueError, match="monthly_dhi_kwh_m2"):
        typical_year(**SITE, monthly_ghi_kwh_m2=GHI, monthly_temp_air_c=TEMP,
                     monthly_wind_m_s=WIND, monthly_dhi_kwh_m2=[200.0] * 12)


def test_solar_position_is_computed_once_per_index_and_site(monkeypatch):
    index = pd.date_range("2023-01-01", periods=48, freq="h", tz="Asia/Shanghai")
    calls = []
    compute = pvlib.solarposition.get_solarposition
    monkeypatch.setattr(pvlib.solarposition, "get_solarposition",
                        lambda *a, **k: calls.append(a) or compute(*a, **k))
    first = solar_position(pd.DataFrame(index=index), 30.7, 121.0, 5.0)
    first["azimuth"] = 0.0  # a caller's change stays its own
    again = solar_position(pd.DataFrame(index=index), 30.7, 121.0, 5.0)
    other = solar_position(pd.DataFrame(index=index), 30.7, 121.5, 5.0)
    assert len(calls) == 2
    assert again["azimuth"].gt(0).all() and not again.equals(other)
    pd.testing.assert_frame_equal(again, compute(index + pd.Timedelta(minutes=30), 30.7, 121.0, 5.0)
                                  .set_axis(index))
