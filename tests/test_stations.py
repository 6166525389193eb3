"""The embedded typical-year station table (roofpv/energy/stations.csv)."""

from pathlib import Path

import numpy as np
import pytest

from roofpv.energy import stations
from roofpv.io.weather_files import read_weather

REAL = Path(__file__).parent / "data" / "real" / "weather"
CAPITALS = {  # provincial-level division → capital station (as the CSWD files name it)
    "Beijing": "Beijing", "Tianjin": "Tianjin", "Hebei": "Shijiazhuang", "Shanxi": "Taiyuan",
    "Nei": "Hohhot", "Liaoning": "Shenyang", "Jilin": "Changchun", "Heilongjiang": "Harbin",
    "Shanghai": "Shanghai", "Jiangsu": "Nanjing", "Zhejiang": "Hangzhou", "Anhui": "Hefei",
    "Fujian": "Fuzhou", "Jiangxi": "Nanchang", "Shandong": "Jinan", "Henan": "Zhengzhou",
    "Hubei": "Wuhan", "Hunan": "Changsha", "Guangdong": "Guangzhou", "Guangxi": "Nanning",
    "Hainan": "Haikou", "Chongqing": "Shapingba", "Sichuan": "Chengdu", "Guizhou": "Guiyang",
    "Yunnan": "Kunming", "Tibet": "Lhasa", "Shaanxi": "Xian", "Gansu": "Lanzhou", "Qinghai": "Xining",
    "Ningxia": "Yinchuan", "Xinjiang": "Urumqi",
}


def test_every_province_and_capital_with_its_source():
    t = stations.table()
    assert set(t["province"]) == set(stations.PROVINCES) and len(CAPITALS) == 31
    for province, capital in CAPITALS.items():
        assert ((t["province"] == province) & (t["name"] == capital)).sum() == 1, capital
    assert t["station_id"].is_unique and len(t) == 270
    assert t["url"].str.startswith("https://github.com/gwyxjtu/eppy_for_power_load_generation/blob/").all()
    assert (t["url"].str.split("/").str[-1] == t["file"]).all()
    assert set(t["dataset"]) == {"CSWD"}
    ghi = t[[f"ghi_kwh_m2_{m:02d}" for m in range(1, 13)]].to_numpy()
    dhi = t[[f"dhi_kwh_m2_{m:02d}" for m in range(1, 13)]].to_numpy()
    assert (ghi > 0).all() and (dhi <= ghi + 0.05).all()
    # GB/T 31155-2014 classes of annual GHI (≥ 1750, 1400-1750, 1050-1400, < 1050 kWh/m²) as the
    # national resource map places these cities: plateau richest, Sichuan basin and Guizhou lowest.
    annual = dict(zip(t["name"], ghi.sum(axis=1)))
    classes = {"Lhasa": 0, "Golmud": 0, "Yinchuan": 1, "Hohhot": 1, "Kunming": 1, "Shanghai": 2,
               "Guangzhou": 2, "Jinan": 2, "Wuhan": 2, "Shapingba": 3, "Chengdu": 3, "Guiyang": 3}
    bounds = [np.inf, 1750, 1400, 1050, 0]
    for name, k in classes.items():
        assert bounds[k + 1] <= annual[name] < bounds[k], (name, annual[name])


@pytest.mark.parametrize("path", ["CHN_Zhejiang.Hangzhou.584570_CSWD.epw.gz", "CHN_Henan.Zhengzhou.570830_CSWD.epw.gz"])
def test_rows_equal_the_files_in_the_corpus(path):
    """The same CSWD files are in tests/data/real/weather: monthly sums and means agree."""
    weather, meta = read_weather(REAL / path)
    s = stations.station(path.split(".")[-3].split("_")[0])
    month = weather.index.month
    np.testing.assert_allclose(s.monthly["ghi_kwh_m2"], weather["ghi"].groupby(month).sum() / 1000, atol=0.05)
    np.testing.assert_allclose(s.monthly["dhi_kwh_m2"], weather["dhi"].groupby(month).sum() / 1000, atol=0.05)
    np.testing.assert_allclose(s.monthly["temp_air_c"], weather["temp_air"].groupby(month).mean(), atol=0.05)
    assert (s.latitude, s.longitude) == (round(meta["latitude"], 3), round(meta["longitude"], 3))


@pytest.mark.parametrize(("lat", "lon", "province", "nearest", "km"), [
    (30.677, 121.013, "浙江", "Shanghai", 90),      # 平湖: Shanghai nearest, Hangzhou and Dinghai next
    (43.84, 126.55, "吉林", "Changchun", 107),      # 吉林市
    (36.46, 115.99, "山东", "Chaoyang", 38),        # 聊城
    (37.86, 113.58, "山西", "Shijiazhuang", 76),    # 阳泉: nearest station across the border in 河北
    (23.13, 113.26, "广东", "Guangzhou", 8),
])
def test_seed_sites_and_province_guess(lat, lon, province, nearest, km):
    guessed, station, distance = stations.site_province(lat, lon)
    assert (guessed, station.name, round(distance)) == (province, nearest, km)
    assert stations.nearest(lat, lon)[0].name == nearest


def test_abroad_has_no_province():
    assert stations.site_province(52.52, 13.40) is None             # Berlin
    station, km = stations.nearest(52.52, 13.40)
    assert km > 4000 and station.province == "Xinjiang"
    with pytest.raises(KeyError, match="no station 'nowhere'"):
        stations.station("nowhere")
