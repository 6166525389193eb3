import numpy as np
import pandas as pd
import pvlib
import pytest

from roofpv.energy.temperature import fuentes


@pytest.fixture(scope="module")
def hours():
    index = pd.date_range("2023-06-01", periods=24 * 14, freq="h")
    rng = np.random.default_rng(1)
    hour = index.hour.to_numpy()
    poa = np.clip(1000 * np.sin(np.pi * (hour - 6) / 12), 0, None) * rng.uniform(0.3, 1, index.size)
    temp = 22 + 6 * np.sin(np.pi * (hour - 9) / 12)
    wind = rng.uniform(0.5, 6, index.size)
    return index, poa, temp, wind


@pytest.mark.parametrize("noct, worst", [(45.0, 0.15), (49.0, 0.15), (63.0, 2.5)])
def test_equals_sequential_fuentes_of_pvlib(hours, noct, worst):
    index, poa, temp, wind = hours
    expected = pvlib.temperature.fuentes(pd.Series(poa, index), pd.Series(temp, index),
                                         pd.Series(wind, index), noct).to_numpy()
    ours = fuentes(poa[:, None], temp, wind, noct)[:, 0]
    lit = poa > 0
    assert np.abs(ours - expected)[lit].max() < worst
    assert abs((ours - expected)[lit].mean()) < 0.05


def test_planes_as_columns_and_lit_rows_only(hours):
    index, poa, temp, wind = hours
    both = fuentes(np.c_[poa, 0.5 * poa, poa], temp, wind, 49.0)
    assert (both[:, 0] > both[:, 1])[poa > 100].all()
    np.testing.assert_array_equal(both[:, 0], both[:, 2])
    # Lit hours plus the dark hour before each spell reproduce the full series.
    lit = poa > 0
    rows = lit | np.roll(lit, -1)
    follows = np.r_[False, np.diff(np.flatnonzero(rows)) == 1]
    part = fuentes(poa[rows, None], temp[rows, None], wind[rows, None], 49.0, continues=follows)[:, 0]
    full = fuentes(poa[:, None], temp[:, None], wind[:, None], 49.0)[:, 0]
    assert np.abs(part - full[rows])[lit[rows]].max() < 0.1


def test_installed_noct_at_noct_conditions():
    # 800 W/m², 20 °C, 1 m/s at module height for hours on end: the cell sits near its INOCT.
    wind = 1.0 / (5.0 / 9.144) ** 0.2
    t = fuentes(np.full((30, 1), 800.0), np.full((30, 1), 20.0), np.full((30, 1), wind), 49.0)
    assert t[-1, 0] == pytest.approx(49.0, abs=1.5)


@pytest.mark.parametrize("noct, mean_k", [(45.0, 0.01), (49.0, 0.01), (63.0, 0.15)])
def test_irradiance_weighted_on_a_real_year(noct, mean_k):
    from pathlib import Path

    from roofpv.io.weather_files import read_weather

    weather, _ = read_weather(Path(pvlib.__file__).parent / "data" / "723170TYA.CSV")
    poa = (weather["ghi"] * 1.15).clip(lower=0).to_numpy()
    expected = pvlib.temperature.fuentes(pd.Series(poa, weather.index), weather["temp_air"],
                                         weather["wind_speed"], noct).to_numpy()
    ours = fuentes(poa[:, None], weather["temp_air"], weather["wind_speed"], noct)[:, 0]
    assert abs(((ours - expected) * poa).sum() / poa.sum()) < mean_k
