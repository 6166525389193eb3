"""
Typical-year monthly climate of Chinese weather stations, shipped with roofpv.

``stations.csv`` (next to this module) holds, per station, the monthly global and diffuse
horizontal irradiation [kWh/m²], mean air temperature [°C] and wind speed [m/s] of a
public typical-year file, and where that file comes from; ``stations.md`` says how it was
built (``scripts/make_stations.py``). :func:`nearest` picks a site's station: the
typical year of a site without a weather file of its own, and the province whose
defaults apply.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyproj

TABLE = Path(__file__).with_name("stations.csv")
#: Provinces as the EPW files name them (first part after ``CHN_``) → Chinese name.
PROVINCES = {
    "Anhui": "安徽", "Beijing": "北京", "Chongqing": "重庆", "Fujian": "福建", "Gansu": "甘肃",
    "Guangdong": "广东", "Guangxi": "广西", "Guizhou": "贵州", "Hainan": "海南", "Hebei": "河北",
    "Heilongjiang": "黑龙江", "Henan": "河南", "Hubei": "湖北", "Hunan": "湖南", "Jiangsu": "江苏",
    "Jiangxi": "江西", "Jilin": "吉林", "Liaoning": "辽宁", "Nei": "内蒙古", "Ningxia": "宁夏",
    "Qinghai": "青海", "Shaanxi": "陕西", "Shandong": "山东", "Shanghai": "上海", "Shanxi": "山西",
    "Sichuan": "四川", "Tianjin": "天津", "Tibet": "西藏", "Xinjiang": "新疆", "Yunnan": "云南",
    "Zhejiang": "浙江",
}
COLUMNS = ("station_id", "name", "province", "province_zh", "latitude", "longitude", "elevation_m",
           "dataset", "file", "url", "repaired_values")
#: Monthly columns, January first: ``<quantity>_01`` … ``<quantity>_12``.
QUANTITIES = ("ghi_kwh_m2", "dhi_kwh_m2", "temp_air_c", "wind_m_s")
MONTHLY = tuple(f"{q}_{m:02d}" for q in QUANTITIES for m in range(1, 13))


@dataclass(frozen=True)
class Station:
    """One station of the table and its typical-year monthly means."""

    station_id: str
    name: str
    province: str
    province_zh: str
    latitude: float
    longitude: float
    elevation_m: float
    dataset: str
    file: str
    url: str
    #: ``ghi_kwh_m2``, ``dhi_kwh_m2``, ``temp_air_c``, ``wind_m_s`` → 12 values, January first.
    monthly: dict[str, list[float]]

    @property
    def label(self) -> str:
        """How findings and configs name the station."""
        return f"{self.name} ({self.province_zh}, {self.dataset} {self.station_id.split('_')[0]})"


@lru_cache(maxsize=1)
def table() -> pd.DataFrame:
    """The station table, one row per station."""
    return pd.read_csv(TABLE, dtype={"station_id": str}, encoding="utf-8")


def _station(row) -> Station:
    monthly = {q: [float(row[f"{q}_{m:02d}"]) for m in range(1, 13)] for q in QUANTITIES}
    return Station(**{c: row[c] for c in COLUMNS if c != "repaired_values"}, monthly=monthly)


def station(station_id: str) -> Station:
    """The station of ``station_id`` (``"592870_CSWD"``; the WMO number alone if unique)."""
    t = table()
    found = t[(t["station_id"] == station_id) | (t["station_id"].str.split("_").str[0] == station_id)]
    if len(found) != 1:
        raise KeyError(f"no station {station_id!r} in {TABLE.name} (ids like "
                       f"{t['station_id'].iloc[0]!r}; {len(found)} matches)")
    return _station(found.iloc[0])


def distances_km(latitude: float, longitude: float) -> np.ndarray:
    """Geodesic distance from a point to every station of the table [km], in table order."""
    t = table()
    n = len(t)
    _, _, metres = pyproj.Geod(ellps="WGS84").inv(
        np.full(n, float(longitude)), np.full(n, float(latitude)),
        t["longitude"].to_numpy(float), t["latitude"].to_numpy(float))
    return np.asarray(metres) / 1000.0


def nearest(latitude: float, longitude: float) -> tuple[Station, float]:
    """The station nearest to a point and its distance [km]."""
    km = distances_km(latitude, longitude)
    k = int(np.argmin(km))
    return _station(table().iloc[k]), float(km[k])


#: Stations voting on a site's province, and how far a station may lie to vote [km]:
#: beyond it the site is taken to lie outside China.
PROVINCE_VOTERS = 3
CHINA_MAX_KM = 500.0


def site_province(latitude: float, longitude: float) -> tuple[str, Station, float] | None:
    """
    The province a site most likely lies in, guessed from the stations nearest to it.

    The table holds no boundaries (China's boundary data need an approved map), so the
    province is the one most of the :data:`PROVINCE_VOTERS` nearest stations within
    :data:`CHINA_MAX_KM` lie in, the nearest station's on a tie: Yangquan (山西), 76 km
    from Shijiazhuang (河北), has Taiyuan and Yushe (山西) next. A guess near a border;
    ``site.province`` in the config states it.

    Returns
    -------
    tuple or None
        ``(province, nearest station, its distance [km])``; None when no station lies
        within :data:`CHINA_MAX_KM` (a site outside China).
    """
    km = distances_km(latitude, longitude)
    order = np.argsort(km)[:PROVINCE_VOTERS]
    order = order[km[order] < CHINA_MAX_KM]
    if order.size == 0:
        return None
    t = table()
    provinces = t["province_zh"].to_numpy()[order]
    names, counts = np.unique(provinces, return_counts=True)
    best = names[counts == counts.max()]
    province = provinces[0] if provinces[0] in best else best[0]
    return str(province), _station(t.iloc[order[0]]), float(km[order[0]])
