"""Generate the deterministic, fully synthetic roofpv sample data set for Pinghu.

Run ``python scripts/make_sample.py [--out-dir data]``.  It writes

* ``<out>/sample/townships.gpkg``  (layer ``townships``, EPSG:4490)
* ``<out>/sample/footprints.gpkg`` (layer ``footprints``, EPSG:4490)
* ``<out>/sample/survey.xlsx``     (sheet ``屋顶普查``)
* ``<out>/sample/register.csv``    (grid company's register of connected PV, 国网 headers)
* ``<out>/sample/meters.csv``      (monthly metered generation 2025 per register system)
* ``<out>/sample/README.md``       (incl. the machine-readable blemish list)
* ``<out>/sample/forms/``          (returned survey forms, partly filled, and the list of
  what was issued: ``roofpv collect`` walkthrough)
* ``<out>/sample_tiles/dsm_<xmin>_<ymin>.tif`` (2 x 2 DSM tiles, EPSG:4549)
* ``<out>/sample_tiles/README.md``

Nothing here is real: township boundaries, buildings, survey answers and
heights are invented, only the township names and rough town locations
follow the real city of Pinghu (平湖市, Zhejiang).

Design
------
1. **Townships.**  Nine seed points at the approximate locations of Pinghu's
   subdistricts and towns are turned into a Voronoi partition, computed in an
   equirectangular frame (longitude scaled by cos(latitude)) so that cell
   edges are straight lines in lon/lat, and clipped to the city's bounding
   rectangle 120°57'-121°16'E, 30°35'-30°52'N.
2. **Buildings** are laid out in EPSG:4549 metres as *sites*: one gridded town
   centre per township whose blocks each get a land use, industrial parks
   (grids of company plots) and village clusters (rows of houses along a
   lane).  Within a site each building occupies its own lot; sites are placed
   by rejection sampling so that their hulls neither overlap nor leave the
   township or the land (a rough Hangzhou Bay coastline).  Footprints are
   therefore non-overlapping and inside exactly one township by construction;
   both properties are re-checked before anything is written.
3. **Survey.**  Attributes are drawn per building from category-dependent
   distributions (the clean "truth"); a documented list of realistic
   blemishes is then applied to a copy, which is what the workbook holds.
4. **DSM.**  A 1 km x 1 km mosaic over the 当湖 town centre is rendered from
   the truth: a gently sloping ground, tree canopies in streets, gardens and
   courtyards, and each building's roof according to its surveyed roof type
   and number of floors.  It is cut into 2 x 2 GeoTIFF tiles.

Reproducibility: all randomness comes from ``numpy.random.default_rng(SEED)``
split into independent child streams (layout, survey, DSM), iteration is over
tuples/lists only, GDAL's GeoPackage timestamps are pinned with
``OGR_CURRENT_DATE`` and the XLSX zip members get fixed properties and
timestamps, so two runs produce byte-identical files.
"""
from __future__ import annotations

import argparse
import datetime as dt
import math
import re
from dataclasses import dataclass, replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import rasterio
import shapely
import shapely.affinity
from openpyxl import Workbook
from openpyxl.styles import Font
from rasterio.transform import from_origin

SEED = 20250101
GEO_CRS = "EPSG:4490"  # CGCS2000 geographic
PROJ_CRS = "EPSG:4549"  # CGCS2000 / 3-degree Gauss-Kruger CM 120E, metres
LON_MIN, LON_MAX = 120 + 57 / 60, 121 + 16 / 60
LAT_MIN, LAT_MAX = 30 + 35 / 60, 30 + 52 / 60
FIXED_TIME = dt.datetime(2025, 1, 1)
STOREY_HEIGHT = 3.0  # m per floor, used for every building in the DSM

# Rough Hangzhou Bay shoreline (lon, lat); the polygon is the sea inside the
# bounding rectangle.  Used only to keep synthetic buildings on land.
SEA_LONLAT = ((121.03, LAT_MIN), (121.10, 30.596), (121.16, 30.627),
              (121.22, 30.662), (LON_MAX, 30.695), (LON_MAX, LAT_MIN))

# DSM mosaic: 2 x 2 tiles of 1000 x 1000 px at 0.5 m around the 当湖 centre.
DSM_RES = 0.5  # m
DSM_TILE_PX = 1000
DSM_NODATA = -9999.0
PARAPET_THICKNESS = 0.3  # m

CATEGORIES = ("党政机关", "学校", "医院", "村委会", "其他公共机构",
              "工业厂房", "商业", "城镇住宅", "农村住宅")
PUBLIC = ("党政机关", "学校", "医院", "村委会", "其他公共机构")
ROOF_TYPES = ("混凝土平屋面", "直立锁边金属屋面", "梯形彩钢瓦", "瓦屋面", "阳光房", "其他")
METAL_ROOFS = ("直立锁边金属屋面", "梯形彩钢瓦")
HEADERS = ("建筑编号", "镇街道", "建筑名称", "建筑类别", "权属", "屋面类型",
           "屋面荷载(kN/m²)", "遮挡情况", "并网条件", "台区变压器编号", "建成年份",
           "层数", "建筑面积(m²)", "已装光伏容量(kW)", "已装光伏面积(m²)", "备注")

# Footprint area ranges per category (m², per building), checked at the end.
AREA_RANGES = {"农村住宅": (80, 200), "城镇住宅": (300, 1500), "工业厂房": (1000, 20000),
               "学校": (2000, 6000), "医院": (3000, 10000), "村委会": (200, 600),
               "党政机关": (800, 3000), "其他公共机构": (300, 2500), "商业": (500, 5000)}


# --------------------------------------------------------------------------
# Configuration of the nine townships
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class ParkSpec:
    """An industrial park; ``anchor`` (lon, lat) is a preferred location."""

    big: bool
    anchor: tuple[float, float] | None = None


@dataclass(frozen=True)
class TownSpec:
    """Everything the layout needs to know about one township."""

    code: str
    name: str
    name_en: str
    kind: str  # 街道 or 镇
    seed: tuple[float, float]  # (lon, lat) Voronoi seed
    centre: tuple[float, float]  # (lon, lat) centre of the town-centre grid
    grid: tuple[int, int]  # blocks in x and y
    block: tuple[float, float]  # block size (m)
    street: float  # street width (m)
    grid_angle: float  # rotation of the street grid (deg, counter-clockwise)
    programme: tuple[tuple[str, int], ...]  # (block use, number of blocks)
    parks: tuple[ParkSpec, ...]
    n_villages: int  # administrative villages, two clusters each
    schools: tuple[str, ...] = ()
    hospitals: tuple[str, ...] = ()
    governments: tuple[str, ...] = ()
    publics: tuple[str, ...] = ()

    @property
    def short(self) -> str:
        """Name without the 街道/镇 suffix, e.g. 乍浦."""
        return self.name.removesuffix("街道").removesuffix("镇")


STD_PROGRAMME = (("residential", 7), ("commercial", 6), ("school", 2), ("hospital", 1),
                 ("government", 1), ("public", 2), ("green", 1))
SMALL = ParkSpec(big=False)


def big_park(lon: float, lat: float) -> ParkSpec:
    """A big industrial park (3000-20000 m² factories) preferably at (lon, lat)."""
    return ParkSpec(True, (lon, lat))


def _town(code, name, name_en, kind, seed, centre=None, grid=(5, 4), block=(110.0, 100.0),
          street=16.0, grid_angle=0.0, programme=STD_PROGRAMME, parks=(SMALL, SMALL, SMALL),
          n_villages=9, **names) -> TownSpec:
    """Build a TownSpec, filling in generic institution names."""
    spec = TownSpec(code, name, name_en, kind, seed, centre or seed, grid, block, street,
                    grid_angle, programme, parks, n_villages)
    short = spec.short
    if kind == "街道":
        defaults = dict(schools=(f"{name}第一小学", f"{name}第二小学", f"{name}中心幼儿园"),
                        hospitals=(f"{name}社区卫生服务中心",),
                        governments=(f"{name}办事处",))
    else:
        defaults = dict(schools=(f"{name}中心小学", f"{short}中学", f"{name}中心幼儿园"),
                        hospitals=(f"{name}卫生院", f"{short}康复医院"),
                        governments=(f"{name}人民政府",))
    defaults["publics"] = (f"{name}便民服务中心", f"{short}派出所", f"{name}文化站",
                           f"{name}敬老院", f"{short}消防救援站", f"{name}社区服务中心")
    defaults.update(names)
    return replace(spec, **defaults)


TOWNS = (
    _town("DH", "当湖街道", "Danghu", "街道", (121.020, 30.688), centre=(121.015, 30.700),
          grid=(7, 7), block=(120.0, 120.0), street=20.0, grid_angle=6.0,
          programme=(("residential", 16), ("commercial", 12), ("school", 3), ("hospital", 2),
                     ("government", 2), ("public", 3), ("urban_village", 4), ("workshop", 3),
                     ("green", 4)),
          parks=(big_park(121.055, 30.705), big_park(121.060, 30.685), SMALL),
          n_villages=3,
          schools=("当湖街道第一小学", "当湖街道第二小学", "平湖市第一中学"),
          hospitals=("平湖市第一人民医院", "平湖市中医院"),
          governments=("平湖市人民政府", "当湖街道办事处"),
          publics=("平湖市图书馆", "平湖市行政服务中心", "平湖市体育馆", "平湖市档案馆",
                   "当湖派出所", "当湖街道文化站")),
    _town("ZD", "钟埭街道", "Zhongdai", "街道", (120.985, 30.738), grid_angle=-4.0,
          parks=(big_park(121.010, 30.735), SMALL, SMALL), n_villages=5),
    _town("CQ", "曹桥街道", "Caoqiao", "街道", (120.975, 30.650), grid_angle=10.0,
          n_villages=8),
    _town("ZP", "乍浦镇", "Zhapu", "镇", (121.085, 30.607), centre=(121.080, 30.614),
          grid_angle=22.0,
          programme=(("residential", 6), ("commercial", 6), ("school", 2), ("hospital", 2),
                     ("government", 1), ("public", 2), ("green", 1)),
          parks=(big_park(121.062, 30.602), big_park(121.112, 30.617),
                 big_park(121.100, 30.630), SMALL), n_villages=7),
    _town("XD", "新埭镇", "Xindai", "镇", (120.990, 30.795), grid_angle=-8.0),
    _town("XC", "新仓镇", "Xincang", "镇", (121.110, 30.765), grid_angle=3.0),
    _town("GC", "广陈镇", "Guangchen", "镇", (121.070, 30.825), grid_angle=-12.0),
    _town("LD", "林埭镇", "Lindai", "镇", (121.025, 30.630), grid_angle=5.0),
    _town("DSG", "独山港镇", "Dushangang", "镇", (121.175, 30.680), grid_angle=30.0,
          parks=(big_park(121.175, 30.650), big_park(121.215, 30.672),
                 big_park(121.140, 30.640), SMALL)),
)


# --------------------------------------------------------------------------
# Small geometry helpers (local frame: metres, angle in degrees CCW from east)
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class Proto:
    """A building before placement: shape parameters in a local frame.

    ``length`` (m) is along the long axis at ``angle`` degrees counter-clockwise
    from east, ``width`` (m) across it.  ``shape`` is ``rect``, ``L`` (corner
    ``cut_x`` x ``cut_y`` removed) or ``court`` (wings ``cut_x`` m deep).
    """

    category: str
    name: str
    floors: int
    x: float
    y: float
    length: float
    width: float
    angle: float = 0.0
    shape: str = "rect"
    cut_x: float = 0.0
    cut_y: float = 0.0


def rotate_xy(xy: np.ndarray, angle_deg: float) -> np.ndarray:
    """Rotate (n, 2) coordinates counter-clockwise by ``angle_deg`` about 0."""
    a = math.radians(angle_deg)
    rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    return xy @ rot.T


def moved(protos: list[Proto], dx: float, dy: float, angle: float = 0.0) -> list[Proto]:
    """Rotate protos by ``angle`` about the origin, then shift by (dx, dy) m."""
    if not protos:
        return []
    xy = rotate_xy(np.array([(p.x, p.y) for p in protos]), angle) + (dx, dy)
    return [replace(p, x=float(x), y=float(y), angle=p.angle + angle)
            for p, (x, y) in zip(protos, xy)]


def moved_trees(trees: np.ndarray, dx: float, dy: float, angle: float = 0.0) -> np.ndarray:
    """Rotate/shift tree rows (x, y, radius, height) like :func:`moved`."""
    out = trees.copy()
    out[:, :2] = rotate_xy(trees[:, :2], angle) + (dx, dy)
    return out


def _box(length: float, width: float) -> np.ndarray:
    """Corners (4, 2) of a length x width rectangle centred at 0, CCW."""
    return np.array([[-length / 2, -width / 2], [length / 2, -width / 2],
                     [length / 2, width / 2], [-length / 2, width / 2]])


def proto_polygon(p: Proto) -> shapely.Polygon:
    """Polygon (m) of a proto in the frame its x/y refer to."""
    half_l, half_w = p.length / 2, p.width / 2
    shell, holes = _box(p.length, p.width), []
    if p.shape == "L":
        shell = np.array([[-half_l, -half_w], [half_l, -half_w], [half_l, half_w - p.cut_y],
                          [half_l - p.cut_x, half_w - p.cut_y], [half_l - p.cut_x, half_w],
                          [-half_l, half_w]])
    elif p.shape == "court":
        holes = [_box(p.length - 2 * p.cut_x, p.width - 2 * p.cut_x)[::-1]]
    shell = rotate_xy(shell, p.angle) + (p.x, p.y)
    return shapely.Polygon(shell, [rotate_xy(h, p.angle) + (p.x, p.y) for h in holes])


def proto_area(p: Proto) -> float:
    """Footprint area (m²) of a proto."""
    if p.shape == "L":
        return p.length * p.width - p.cut_x * p.cut_y
    if p.shape == "court":
        return p.length * p.width - (p.length - 2 * p.cut_x) * (p.width - 2 * p.cut_x)
    return p.length * p.width


def lot_centres(bw: float, bh: float, nx: int, ny: int) -> tuple[np.ndarray, float, float]:
    """Centres (n, 2) of an nx x ny grid of equal lots filling a bw x bh block."""
    lw, lh = bw / nx, bh / ny
    xs = -bw / 2 + lw * (np.arange(nx) + 0.5)
    ys = -bh / 2 + lh * (np.arange(ny) + 0.5)
    gx, gy = np.meshgrid(xs, ys)
    return np.column_stack([gx.ravel(), gy.ravel()]), lw, lh


def fit_rect(rng, lot_w, lot_h, area, aspect, margin=2.0):
    """Draw a rectangle (length, width in m) with log-uniform area in ``area``
    (m²) and length/width ratio in ``aspect`` that fits into a lot_w x lot_h lot
    with ``margin`` m clearance; shrink it if needed, None if it gets too small."""
    a = math.exp(rng.uniform(math.log(area[0]), math.log(area[1])))
    r = rng.uniform(*aspect)
    length, width = math.sqrt(a * r), math.sqrt(a / r)
    s = min(1.0, (lot_w - 2 * margin) / length, (lot_h - 2 * margin) / width)
    length, width = length * s, width * s
    return (length, width) if length * width >= area[0] else None


# --------------------------------------------------------------------------
# Name generation
# --------------------------------------------------------------------------
WORD_CHARS = "宏达华新嘉恒瑞鑫盛泰源丰隆联通远博科晨宇金海天利安富永信和润佳美景明光辉星湖"
VILLAGE_FIRST = "新金星红朝前南北东西大上中兴胜民联光庆永太万"
VILLAGE_SECOND = "桥港塘浜泾河湾庄园圩埭漾丰利华光明益安乐兴"
INDUSTRIES = ("纺织", "服装", "箱包", "机械", "电子", "光电", "新材料", "汽车零部件",
              "精密机械", "五金", "包装", "食品", "家具")
PORT_INDUSTRIES = ("化工", "新材料", "纸业", "物流", "钢结构", "能源装备")
COMMERCIAL_SUFFIX = ("商厦", "大酒店", "购物中心", "商务楼", "农贸市场", "超市", "宾馆",
                     "商业广场", "家居城", "汽车城")
COMPLEX_SUFFIX = ("苑", "花园", "小区", "新村", "公寓", "家园")
REMARKS = ("屋顶有水箱", "屋面有空调外机等设备", "屋面渗漏待修", "计划拆除",
           "屋顶已出租", "产权待核实", "屋面部分加层")


class Namer:
    """Unique, deterministic pseudo place/company words from fixed character pools."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self.used: set[str] = set()  # membership only, never iterated

    def _unique(self, first: str, second: str) -> str:
        while True:
            w = first[self.rng.integers(len(first))] + second[self.rng.integers(len(second))]
            if w[0] != w[1] and w not in self.used:
                self.used.add(w)
                return w

    def word(self) -> str:
        return self._unique(WORD_CHARS, WORD_CHARS)

    def village(self) -> str:
        return self._unique(VILLAGE_FIRST, VILLAGE_SECOND)

    def company(self, port: bool) -> str:
        industry = self.rng.choice(PORT_INDUSTRIES if port and self.rng.random() < 0.5
                                   else INDUSTRIES)
        prefix = ("浙江", "平湖市", "嘉兴")[self.rng.integers(3)]
        return f"{prefix}{self.word()}{industry}有限公司"

    def commercial(self) -> str:
        return self.word() + COMMERCIAL_SUFFIX[self.rng.integers(len(COMMERCIAL_SUFFIX))]

    def housing_complex(self) -> str:
        return self.word() + COMPLEX_SUFFIX[self.rng.integers(len(COMPLEX_SUFFIX))]


def rural_house_name(rng, village: str, number: int) -> str:
    """Rural houses are often unnamed in the survey; otherwise 村名 + 门牌号."""
    return "" if rng.random() < 0.45 else f"{village}村{number}号"


# --------------------------------------------------------------------------
# Site layouts.  Each builder returns (protos, trees) in the site's frame;
# trees are rows (x, y, crown radius m, height m).
# --------------------------------------------------------------------------
@dataclass
class Ctx:
    """Per-township state shared by the block builders."""

    town: TownSpec
    rng: np.random.Generator
    namer: Namer
    used: dict  # institution kind -> how many names already used

    def institution(self, kind: str) -> str:
        names = getattr(self.town, kind)
        k = self.used.get(kind, 0)
        self.used[kind] = k + 1
        return names[k]


NO_TREES = np.empty((0, 4))


def random_trees(rng, n: int, bw: float, bh: float, radius=(3.0, 6.0)) -> np.ndarray:
    """``n`` candidate trees uniformly inside a bw x bh block (5-12 m tall)."""
    return np.column_stack([rng.uniform(-bw / 2, bw / 2, n), rng.uniform(-bh / 2, bh / 2, n),
                            rng.uniform(*radius, n), rng.uniform(5.0, 12.0, n)])


def block_residential(ctx: Ctx, bw: float, bh: float):
    """Urban housing estate: slabs, point towers or long slabs, 300-1500 m²."""
    rng, protos = ctx.rng, []
    estate = ctx.namer.housing_complex()
    variant = rng.choice(["slab", "tower", "long"], p=[0.55, 0.25, 0.2])
    if variant == "slab":
        centres, lw, lh = lot_centres(bw, bh, 2, int(bh // 30))
    elif variant == "tower":
        centres, lw, lh = lot_centres(bw, bh, 3, 3)
    else:
        centres, lw, lh = lot_centres(bw, bh, 1, int(bh // 32))
    for i, (x, y) in enumerate(centres, start=1):
        name = f"{estate}{i}幢"
        if variant == "tower":
            side = rng.uniform(19, 25)
            protos.append(Proto("城镇住宅", name, int(rng.choice([11, 15, 18])), x, y,
                                side, side * rng.uniform(0.85, 1.0)))
            continue
        width = rng.uniform(11, 15)
        length = lw * rng.uniform(0.7, 0.85)
        if variant == "long":
            length = min(length, 1450 / width)
        floors = int(rng.choice([4, 5, 6, 7]))
        if variant == "slab" and rng.random() < 0.12:
            depth = min(lh - 4, 26.0)
            protos.append(Proto("城镇住宅", name, floors, x, y, length, depth, shape="L",
                                cut_x=length * rng.uniform(0.45, 0.6),
                                cut_y=depth * rng.uniform(0.45, 0.55)))
        else:
            protos.append(Proto("城镇住宅", name, floors, x, y, length, width))
    return protos, random_trees(rng, 8, bw, bh)


def block_commercial(ctx: Ctx, bw: float, bh: float):
    """Shops, mid-size commercial buildings or one mall (500-5000 m²)."""
    rng, protos = ctx.rng, []
    variant = rng.choice(["shops", "plaza", "mall"], p=[0.5, 0.4, 0.1])
    if variant == "mall":
        length, width = bw * rng.uniform(0.65, 0.75), bh * rng.uniform(0.5, 0.6)
        if rng.random() < 0.5:
            return [Proto("商业", ctx.namer.commercial(), int(rng.integers(3, 6)), 0, 0,
                          length, width, shape="court", cut_x=rng.uniform(13, 16))], NO_TREES
        return [Proto("商业", ctx.namer.commercial(), int(rng.integers(3, 6)), 0, 0,
                      min(length, 4900 / width), width)], NO_TREES
    nx, ny, area = (3, 2, (500, 1500)) if variant == "shops" else (2, 2, (800, 2200))
    centres, lw, lh = lot_centres(bw, bh, nx, ny)
    for x, y in centres:
        dims = fit_rect(rng, lw, lh, area, (1.2, 2.2))
        if dims is None:
            continue
        floors = int(rng.integers(2, 5) if variant == "shops" else rng.integers(3, 7))
        if variant == "plaza" and rng.random() < 0.25:
            length, depth = lw - 6, lh - 6
            protos.append(Proto("商业", ctx.namer.commercial(), floors, x, y, length, depth,
                                shape="L", cut_x=length * rng.uniform(0.5, 0.6),
                                cut_y=depth * rng.uniform(0.5, 0.6)))
        else:
            protos.append(Proto("商业", ctx.namer.commercial(), floors, x, y, *dims))
    return protos, random_trees(rng, 2, bw, bh)


def _court_building(rng, category, name, floors, length_range, width_range, depth, area):
    """A courtyard building whose area lies in ``area`` (m²), else None."""
    p = Proto(category, name, floors, 0.0, 0.0, rng.uniform(*length_range),
              rng.uniform(*width_range), shape="court", cut_x=depth)
    return p if area[0] <= proto_area(p) <= area[1] else None


def courtyard_tree(p: Proto) -> np.ndarray:
    """One tree in the middle of a courtyard, crown clear of the walls."""
    inner = min(p.length, p.width) - 2 * p.cut_x
    return np.array([[p.x, p.y, min(5.0, inner / 2 - 1.5), 9.0]])


def block_school(ctx: Ctx, bw: float, bh: float):
    """School campus: two teaching buildings (2000-3000 m²), one maybe a courtyard."""
    rng, protos = ctx.rng, []
    trees = [random_trees(rng, 6, bw, bh)]
    school = ctx.institution("schools")
    centres, lw, lh = lot_centres(bw, bh, 1, 2)
    for i, ((x, y), label) in enumerate(zip(centres, ("教学楼", "综合楼"))):
        floors = int(rng.integers(3, 6))
        court = None
        if i == 0 and rng.random() < 0.3:
            court = _court_building(rng, "学校", school + label, floors, (70, 78), (40, 42), 12.0,
                                    AREA_RANGES["学校"])
        if court is not None and court.width <= lh - 4:
            court = moved([court], x, y)[0]
            protos.append(court)
            trees.append(courtyard_tree(court))
            continue
        dims = fit_rect(rng, lw, lh, (2000, 3000), (2.5, 3.5))
        if dims is not None:
            protos.append(Proto("学校", school + label, floors, x, y, *dims))
    return protos, np.vstack(trees)


def block_hospital(ctx: Ctx, bw: float, bh: float):
    """Hospital: out-patient and in-patient buildings (3000-4800 m²)."""
    rng, protos = ctx.rng, []
    hospital = ctx.institution("hospitals")
    centres, lw, lh = lot_centres(bw, bh, 1, 2)
    for (x, y), label, floors in zip(centres, ("门诊楼", "住院楼"), ((3, 4, 5), (6, 8, 12))):
        dims = fit_rect(rng, lw, lh, (3000, 4800), (2.0, 3.0))
        if dims is not None:
            protos.append(Proto("医院", hospital + label, int(rng.choice(floors)), x, y, *dims))
    return protos, random_trees(rng, 5, bw, bh)


def block_government(ctx: Ctx, bw: float, bh: float):
    """Government compound: a courtyard office or two office buildings."""
    rng = ctx.rng
    org = ctx.institution("governments")
    floors = int(rng.integers(3, 7))
    court = _court_building(rng, "党政机关", org, floors, (55, 65), (40, 46),
                            rng.uniform(11, 13), AREA_RANGES["党政机关"])
    if rng.random() < 0.5 and court is not None:
        return [court], np.vstack([courtyard_tree(court), random_trees(rng, 5, bw, bh)])
    centres, lw, lh = lot_centres(bw, bh, 1, 2)
    protos = []
    for i, (x, y) in enumerate(centres, start=1):
        dims = fit_rect(rng, lw, lh, (900, 2400), (2.0, 3.0))
        if dims is not None:
            protos.append(Proto("党政机关", f"{org}{i}号楼", floors, x, y, *dims))
    return protos, random_trees(rng, 5, bw, bh)


def block_public(ctx: Ctx, bw: float, bh: float):
    """Two other public institutions (library, police station, ...)."""
    rng, protos = ctx.rng, []
    centres, lw, lh = lot_centres(bw, bh, 1, 2)
    for x, y in centres:
        dims = fit_rect(rng, lw, lh, (600, 2000), (1.5, 3.0))
        if dims is not None:
            protos.append(Proto("其他公共机构", ctx.institution("publics"),
                                int(rng.integers(2, 5)), x, y, *dims))
    return protos, random_trees(rng, 4, bw, bh)


def block_urban_village(ctx: Ctx, bw: float, bh: float):
    """城中村: rural houses in a 4 x 4 lot grid at assorted orientations."""
    rng, protos = ctx.rng, []
    village = ctx.namer.village()
    centres, lw, lh = lot_centres(bw, bh, 4, 4)
    angles = (0, 0, 90, 90, 30, -30, 60, -60, 15, -15, 75)
    number = 1
    for x, y in centres:
        if rng.random() > 0.85:
            continue
        area, ratio = rng.uniform(80, 200), rng.uniform(1.8, 2.2)
        length, width = math.sqrt(area * ratio), math.sqrt(area / ratio)
        angle = angles[rng.integers(len(angles))] + rng.uniform(-3, 3)
        extent = np.abs(rotate_xy(_box(length, width), angle)).max(axis=0) * 2
        if extent[0] > lw - 3 or extent[1] > lh - 3:
            continue
        protos.append(Proto("农村住宅", rural_house_name(rng, village, number),
                            int(rng.choice([2, 3, 4], p=[0.3, 0.6, 0.1])), x, y,
                            length, width, angle))
        number += 1
    return protos, random_trees(rng, 4, bw, bh)


def block_workshop(ctx: Ctx, bw: float, bh: float):
    """Small urban workshops (工业厂房, 1000-2200 m²) of one or two companies."""
    rng, protos = ctx.rng, []
    centres, lw, lh = lot_centres(bw, bh, 2, 2)
    companies = [ctx.namer.company(port=False) for _ in range(2)]
    for i, (x, y) in enumerate(centres):
        dims = fit_rect(rng, lw, lh, (1000, 2200), (1.5, 2.2))
        if dims is not None:
            company = companies[i // 2]
            protos.append(Proto("工业厂房", f"{company}{i + 1}号厂房",
                                int(rng.choice([1, 2])), x, y, *dims))
    return protos, random_trees(rng, 2, bw, bh)


def block_green(ctx: Ctx, bw: float, bh: float):
    """Pocket park: trees only."""
    return [], random_trees(ctx.rng, int(ctx.rng.integers(25, 41)), bw, bh)


BLOCK_BUILDERS = {"residential": block_residential, "commercial": block_commercial,
                  "school": block_school, "hospital": block_hospital,
                  "government": block_government, "public": block_public,
                  "urban_village": block_urban_village, "workshop": block_workshop,
                  "green": block_green}
# Lower = closer to the centre of the grid (plus noise).
CENTRALITY = {"government": 0.0, "commercial": 0.3, "hospital": 0.5, "public": 0.5,
              "residential": 0.6, "green": 0.6, "school": 0.7, "urban_village": 0.9,
              "workshop": 1.0}


def street_trees(rng, nx, ny, px, py, street) -> np.ndarray:
    """Candidate street trees along both kerbs of every grid street."""
    half_x, half_y = nx * px / 2, ny * py / 2
    rows = []
    for horizontal, n, half_len in ((False, nx, half_y), (True, ny, half_x)):
        pitch = py if horizontal else px
        for k in range(n + 1):
            c = (k - n / 2) * pitch
            for side in (-1, 1):
                t = np.arange(-half_len, half_len, 12.0) + rng.uniform(-2, 2)
                t = t[rng.random(t.size) < 0.8]
                off = np.full(t.size, c + side * (street / 2 - 2.0))
                xy = np.column_stack([t, off] if horizontal else [off, t])
                rows.append(np.column_stack([xy, rng.uniform(3.0, 4.5, t.size),
                                             rng.uniform(6.0, 10.0, t.size)]))
    return np.vstack(rows)


def town_centre(ctx: Ctx):
    """Gridded town centre.  Returns (protos, trees, hull) in the site frame."""
    rng, town = ctx.rng, ctx.town
    (nx, ny), (bw, bh), street = town.grid, town.block, town.street
    px, py = bw + street, bh + street
    gx, gy = np.meshgrid((np.arange(nx) - (nx - 1) / 2) * px, (np.arange(ny) - (ny - 1) / 2) * py)
    blocks = np.column_stack([gx.ravel(), gy.ravel()])
    uses = [use for use, n in town.programme for _ in range(n)]
    assert len(uses) == len(blocks), town.code
    score = np.array([CENTRALITY[u] for u in uses]) + rng.uniform(0, 0.6, len(uses))
    order_uses = np.argsort(score, kind="stable")
    order_blocks = np.argsort(np.hypot(blocks[:, 0], blocks[:, 1]), kind="stable")
    protos, trees = [], [street_trees(rng, nx, ny, px, py, street)]
    for ui, bi in zip(order_uses, order_blocks):
        p, t = BLOCK_BUILDERS[uses[ui]](ctx, bw, bh)
        protos += moved(p, *blocks[bi])
        trees.append(moved_trees(t, *blocks[bi]))
    hull = shapely.box(-nx * px / 2, -ny * py / 2, nx * px / 2, ny * py / 2)
    return protos, np.vstack(trees), hull


def industrial_park(ctx: Ctx, big: bool):
    """Grid of 4 x 3 company plots, each with 1-3 factory buildings."""
    rng, port = ctx.rng, ctx.town.code in ("ZP", "DSG")
    (pw, ph), road = ((230.0, 150.0) if big else (140.0, 100.0)), 20.0
    area = (3000, 20000) if big else (1000, 8000)
    k_prob = [0.4, 0.4, 0.2] if big else [0.3, 0.4, 0.3]
    nx, ny = 4, 3
    plots, _, _ = lot_centres(nx * (pw + road), ny * (ph + road), nx, ny)
    protos = []
    for x, y in plots:
        company = ctx.namer.company(port)
        k = int(rng.choice([1, 2, 3], p=k_prob))
        subs, sw, sh = lot_centres(pw, ph, k, 1)
        turn = 90.0 if sh > sw else 0.0  # long axis along the longer lot side
        for i, (sx, sy) in enumerate(subs, start=1):
            dims = fit_rect(rng, *sorted((sw, sh), reverse=True), area, (1.3, 3.0), margin=4.0)
            if dims is not None:
                floors = int(rng.choice([1, 1, 2]) if big else rng.choice([1, 2, 3, 4]))
                protos.append(Proto("工业厂房", f"{company}{i}号厂房", floors, x + sx, y + sy,
                                    *dims, angle=turn))
    hull = shapely.box(-nx * (pw + road) / 2, -ny * (ph + road) / 2,
                       nx * (pw + road) / 2, ny * (ph + road) / 2)
    return protos, hull


def village_cluster(ctx: Ctx, village: str, first_number: int, committee: bool):
    """Rows of rural houses (80-200 m², ~2:1) along a lane; the first cluster
    of an administrative village also holds the 村委会 and the 文化礼堂.

    Returns (protos, hull, next house number)."""
    rng, protos = ctx.rng, []
    n_rows = int(rng.choice([1, 2, 3], p=[0.3, 0.45, 0.25]))
    spacing = rng.uniform(24, 32)
    number = first_number
    row_end = []
    for r in range(n_rows):
        x = rng.uniform(0, 15)
        for _ in range(int(rng.integers(3, 11))):
            area, ratio = rng.uniform(80, 200), rng.uniform(1.8, 2.2)
            length, width = math.sqrt(area * ratio), math.sqrt(area / ratio)
            protos.append(Proto("农村住宅", rural_house_name(rng, village, number),
                                int(rng.choice([2, 3, 4], p=[0.3, 0.6, 0.1])),
                                x + length / 2, r * spacing, length, width,
                                rng.uniform(-4, 4)))
            number += 1
            x += length + rng.uniform(4, 10) + (rng.uniform(10, 25) if rng.random() < 0.12 else 0)
        row_end.append(x)
    if committee:
        extras = (("村委会", f"{village}村委会", (200, 600), (2, 3)),
                  ("其他公共机构", f"{village}村文化礼堂", (300, 800), (1, 2)))
        for j, (category, name, area, floors) in enumerate(extras):
            r = min(j, n_rows - 1)
            ratio = rng.uniform(1.5, 2.5)
            a = rng.uniform(*area)
            length, width = math.sqrt(a * ratio), math.sqrt(a / ratio)
            x = row_end[r] + 6
            protos.append(Proto(category, name, int(rng.integers(floors[0], floors[1] + 1)),
                                x + length / 2, r * spacing, length, width))
            row_end[r] = x + length
    protos = moved(protos, -np.mean([p.x for p in protos]), -np.mean([p.y for p in protos]))
    hull = shapely.union_all([proto_polygon(p) for p in protos]).convex_hull.buffer(15)
    return protos, hull, number


# --------------------------------------------------------------------------
# Townships and placement of the sites
# --------------------------------------------------------------------------
def build_townships() -> gpd.GeoDataFrame:
    """Voronoi partition of the town seeds clipped to the city rectangle (EPSG:4490)."""
    lat0 = math.radians((LAT_MIN + LAT_MAX) / 2)
    kx = math.cos(lat0)  # equirectangular x scale
    seeds = shapely.multipoints([(t.seed[0] * kx, t.seed[1]) for t in TOWNS])
    frame = shapely.box(LON_MIN * kx - 1, LAT_MIN - 1, LON_MAX * kx + 1, LAT_MAX + 1)
    cells = shapely.voronoi_polygons(seeds, extend_to=frame, ordered=True).geoms
    rect = shapely.box(LON_MIN, LAT_MIN, LON_MAX, LAT_MAX)
    polys = [shapely.transform(c, lambda xy: xy / (kx, 1.0)).intersection(rect) for c in cells]
    return gpd.GeoDataFrame({"township": [t.name for t in TOWNS],
                             "township_en": [t.name_en for t in TOWNS],
                             "code": [t.code for t in TOWNS],
                             "kind": [t.kind for t in TOWNS]},
                            geometry=polys, crs=GEO_CRS)


def lonlat_to_proj(geom):
    """Densify a lon/lat geometry (0.001°) and transform it to EPSG:4549."""
    return gpd.GeoSeries([shapely.segmentize(geom, 0.001)], crs=GEO_CRS).to_crs(PROJ_CRS).iloc[0]


def point_proj(lon: float, lat: float) -> tuple[float, float]:
    """(x, y) in EPSG:4549 metres of a lon/lat point."""
    p = lonlat_to_proj(shapely.Point(lon, lat))
    return p.x, p.y


class SitePlacer:
    """Rejection sampler that keeps site hulls inside a region and apart."""

    def __init__(self, rng: np.random.Generator, gap: float = 60.0):
        self.rng, self.gap, self.hulls = rng, gap, []

    def _free(self, hull) -> bool:
        return not self.hulls or not shapely.intersects(np.array(self.hulls),
                                                         hull.buffer(self.gap)).any()

    def add(self, region, hull, xy: tuple[float, float], angle: float) -> None:
        """Place a hull at a fixed position (town centre); it must fit."""
        world = shapely.affinity.translate(shapely.affinity.rotate(hull, angle, origin=(0, 0)),
                                           *xy)
        assert region.contains(world) and self._free(world), "town centre does not fit"
        self.hulls.append(world)

    def place(self, region, hull, angle: float, near=None, spread=400.0, tries=3000):
        """Find (x, y) for ``hull`` rotated by ``angle`` deg, preferably within
        ~``spread`` m of ``near``; returns the position."""
        rotated = shapely.affinity.rotate(hull, angle, origin=(0, 0))
        minx, miny, maxx, maxy = region.bounds
        for attempt in range(tries):
            if near is not None and attempt < tries // 3:
                xy = near + self.rng.normal(0, spread, 2)
            else:
                xy = self.rng.uniform((minx, miny), (maxx, maxy))
            world = shapely.affinity.translate(rotated, *xy)
            if region.contains(world) and self._free(world):
                self.hulls.append(world)
                return float(xy[0]), float(xy[1])
        raise RuntimeError("could not place site")


def layout_buildings(townships: gpd.GeoDataFrame, rng: np.random.Generator):
    """Lay out every site of every township.

    Returns a DataFrame of placed protos (EPSG:4549 metres) with ``code`` and
    ``building_id`` columns, and the candidate trees (x, y, radius, height)."""
    rect = shapely.box(LON_MIN, LAT_MIN, LON_MAX, LAT_MAX)
    land = lonlat_to_proj(rect.difference(shapely.Polygon(SEA_LONLAT))).buffer(-300)
    namer, placer = Namer(rng), SitePlacer(rng)
    rows, trees = [], []
    for town, geom in zip(TOWNS, townships.geometry):
        region = lonlat_to_proj(geom).intersection(land).buffer(-100)
        shapely.prepare(region)
        ctx = Ctx(town, rng, namer, {})
        centre = point_proj(*town.centre)
        protos, centre_trees, hull = town_centre(ctx)
        placer.add(region, hull, centre, town.grid_angle)
        placed = moved(protos, *centre, town.grid_angle)
        trees.append(moved_trees(centre_trees, *centre, town.grid_angle))
        for spec in town.parks:
            protos, hull = industrial_park(ctx, spec.big)
            angle = town.grid_angle + rng.uniform(-10, 10)
            near = np.array(point_proj(*spec.anchor)) if spec.anchor else None
            placed += moved(protos, *placer.place(region, hull, angle, near), angle)
        for _ in range(town.n_villages):
            village, number, near = namer.village(), 1, None
            for k in range(2):
                protos, hull, number = village_cluster(ctx, village, number, committee=k == 0)
                angle = rng.uniform(-20, 20) if rng.random() < 0.8 else rng.uniform(-90, 90)
                xy = placer.place(region, hull, angle, near, spread=700.0)
                near = np.array(xy)
                placed += moved(protos, *xy, angle)
        for i, p in enumerate(placed, start=1):
            rows.append(dict(vars(p), geometry=proto_polygon(p), code=town.code,
                             township=town.name, building_id=f"{town.code}{i:05d}"))
    return pd.DataFrame(rows), np.vstack(trees)


# --------------------------------------------------------------------------
# Survey attributes
# --------------------------------------------------------------------------
ROOF_PROBS = {
    "农村住宅": {"瓦屋面": 0.72, "混凝土平屋面": 0.22, "阳光房": 0.04, "其他": 0.02},
    "城镇住宅": {"混凝土平屋面": 0.85, "瓦屋面": 0.12, "其他": 0.03},
    "工业厂房": {"梯形彩钢瓦": 0.45, "直立锁边金属屋面": 0.28, "混凝土平屋面": 0.25, "其他": 0.02},
    "商业": {"混凝土平屋面": 0.85, "瓦屋面": 0.06, "梯形彩钢瓦": 0.05, "其他": 0.04},
    **{c: {"混凝土平屋面": 0.88, "瓦屋面": 0.10, "其他": 0.02} for c in PUBLIC},
}
# Spare-load bands (kN/m²) per roof type: ((low, high), probability).  The
# first band of each is "too low for PV" (see README thresholds).
LOAD_BANDS = {
    "混凝土平屋面": (((0.30, 0.50), 0.08), ((0.50, 0.80), 0.09), ((0.80, 3.00), 0.83)),
    "直立锁边金属屋面": (((0.10, 0.15), 0.08), ((0.15, 0.50), 0.92)),
    "梯形彩钢瓦": (((0.10, 0.15), 0.08), ((0.15, 0.50), 0.92)),
    "瓦屋面": (((0.15, 0.20), 0.08), ((0.20, 0.60), 0.92)),
    "阳光房": (((0.10, 0.15), 0.5), ((0.15, 0.30), 0.5)),
    "其他": (((0.10, 0.20), 0.08), ((0.20, 1.00), 0.92)),
}
PV_MIN_LOAD = {"混凝土平屋面": 0.5, "直立锁边金属屋面": 0.15, "梯形彩钢瓦": 0.15,
               "瓦屋面": 0.2, "阳光房": 0.15, "其他": 0.2}
P_NEW = {"农村住宅": 0.10, "城镇住宅": 0.14, "工业厂房": 0.30, "商业": 0.18,
         **{c: 0.30 for c in PUBLIC}}
SHADING = ("无", "轻微", "部分", "严重")
GRID = ("具备", "受限", "不具备")


def choose_per_category(rng, categories: np.ndarray, probs: dict) -> np.ndarray:
    """Draw one option per row from the category's {option: probability}."""
    out = np.empty(categories.size, dtype=object)
    for cat in CATEGORIES:
        idx = np.flatnonzero(categories == cat)
        options = list(probs[cat])
        out[idx] = rng.choice(options, size=idx.size, p=list(probs[cat].values()))
    return out


def draw_loads(rng, roofs: np.ndarray) -> np.ndarray:
    """Spare roof load (kN/m², 2 decimals) from the roof type's bands."""
    loads = np.empty(roofs.size)
    for roof in ROOF_TYPES:
        idx = np.flatnonzero(roofs == roof)
        bands = LOAD_BANDS[roof]
        pick = rng.choice(len(bands), size=idx.size, p=[p for _, p in bands])
        lo = np.array([b[0][0] for b in bands])[pick]
        hi = np.array([b[0][1] for b in bands])[pick]
        loads[idx] = rng.uniform(lo, hi)
    return np.round(loads, 2)


def assign_transformers(rng, df: pd.DataFrame) -> np.ndarray:
    """About 30 distribution transformers per township, placed at random
    buildings; each building is fed by the nearest one (T-<code>-NNN, numbered
    north to south)."""
    out = np.empty(len(df), dtype=object)
    for town in TOWNS:
        idx = np.flatnonzero(df["code"].to_numpy() == town.code)
        xy = df[["x", "y"]].to_numpy()[idx]
        sites = xy[rng.choice(idx.size, size=int(rng.integers(26, 35)), replace=False)]
        sites = sites[np.lexsort((sites[:, 0], -sites[:, 1]))]
        nearest = np.argmin(((xy[:, None, :] - sites[None, :, :]) ** 2).sum(-1), axis=1)
        out[idx] = [f"T-{town.code}-{k + 1:03d}" for k in nearest]
    return out


def survey_truth(df: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Clean survey attributes for every building (one row per footprint)."""
    cat = df["category"].to_numpy()
    n = len(df)
    roof = choose_per_category(rng, cat, ROOF_PROBS)
    roof[df["shape"].to_numpy() != "rect"] = "混凝土平屋面"  # L/courtyard: flat roofs
    private = (cat == "农村住宅") | ((cat == "城镇住宅") & (rng.random(n) < 0.85))
    new = rng.random(n) < np.array([P_NEW[c] for c in cat])
    year = np.where(new, rng.integers(2021, 2026, n), rng.integers(1985, 2021, n))
    dense = np.isin(cat, ("农村住宅", "城镇住宅"))
    shading = np.where(dense, rng.choice(SHADING, n, p=[0.42, 0.30, 0.19, 0.09]),
                       rng.choice(SHADING, n, p=[0.62, 0.26, 0.09, 0.03]))
    area = df["area"].to_numpy()
    p_pv = np.select([new & np.isin(cat, ("工业厂房",) + PUBLIC), cat == "工业厂房",
                      cat == "农村住宅"], [0.30, 0.10, 0.06], 0.04)
    has_pv = (rng.random(n) < p_pv) & (roof != "阳光房")
    pv_area = np.round(area * rng.uniform(0.2, 0.6, n))
    pv_kw = np.round(pv_area * 0.2 * rng.uniform(0.95, 1.05, n), 1)
    remark = np.where(rng.random(n) < 0.04, rng.choice(REMARKS, n), "")
    return pd.DataFrame({
        "建筑编号": df["building_id"].to_numpy(),
        "镇街道": df["township"].to_numpy(),
        "建筑名称": df["name"].to_numpy(),
        "建筑类别": cat,
        "权属": np.where(private, "自然人", "非自然人"),
        "屋面类型": roof,
        "屋面荷载(kN/m²)": draw_loads(rng, roof),
        "遮挡情况": shading,
        "并网条件": rng.choice(GRID, n, p=[0.85, 0.11, 0.04]),
        "台区变压器编号": assign_transformers(rng, df),
        "建成年份": year,
        "层数": df["floors"].to_numpy(),
        "建筑面积(m²)": np.round(area * df["floors"].to_numpy()).astype(int),
        "已装光伏容量(kW)": np.where(has_pv, pv_kw, np.nan),
        "已装光伏面积(m²)": np.where(has_pv, pv_area, np.nan),
        "备注": remark,
    })


def apply_blemishes(truth: pd.DataFrame, rng: np.random.Generator):
    """Copy the truth into sheet rows (object values) with deliberate blemishes.

    Returns (sheet DataFrame, updated truth, blemish list DataFrame).  Loads
    written in kg/m² also change the truth so that both stay consistent."""
    truth = truth.copy()
    sheet = truth.astype(object).where(truth.notna(), None)
    sheet.loc[sheet["备注"] == "", "备注"] = None
    sheet.loc[sheet["建筑名称"] == "", "建筑名称"] = None
    log = []
    free = list(rng.permutation(len(truth)))  # rows not yet blemished

    def take(mask=None) -> int:
        for pos, i in enumerate(free):
            if mask is None or mask[i]:
                return free.pop(pos)
        raise RuntimeError("no row left for blemish")

    def note(i, column, issue, raw, expected):
        log.append(dict(building_id=truth.at[i, "建筑编号"], column=column, issue=issue,
                        raw=raw, expected=expected))

    load_col = "屋面荷载(kN/m²)"
    for _ in range(15):
        i = take()
        note(i, load_col, "blank", "", "unknown")
        sheet.at[i, load_col] = None
    for _ in range(10):
        i = take()
        note(i, "遮挡情况", "blank", "", "unknown")
        sheet.at[i, "遮挡情况"] = None
    for _ in range(5):
        i = take()
        note(i, "镇街道", "blank; derive spatially", "", truth.at[i, "镇街道"])
        sheet.at[i, "镇街道"] = None
    concrete = (truth["屋面类型"] == "混凝土平屋面").to_numpy()
    for kg, text in ((150, "150kg/m²"), (200, "200 kg/m2"), (250, "250kg/㎡"),
                     (200, 200), (300, 300)):
        i = take(concrete)
        kn = round(kg * 9.80665e-3, 2)
        truth.at[i, load_col] = kn
        sheet.at[i, load_col] = text
        issue = "load as kg/m² text" if isinstance(text, str) else "bare number in kg/m²"
        note(i, load_col, issue, str(text), f"{kn:.2f}")
    for column, fmt in (("屋面类型", " {} "), ("并网条件", "{} "), ("屋面类型", "{} "),
                        ("遮挡情况", " {}"), ("并网条件", " {}"), ("建筑类别", "{} ")):
        i = take()
        sheet.at[i, column] = fmt.format(truth.at[i, column])
        note(i, column, "stray whitespace", sheet.at[i, column], truth.at[i, column])
    for column in ("建成年份", "建成年份", "层数"):
        i = take()
        sheet.at[i, column] = str(truth.at[i, column])
        note(i, column, "number stored as text", sheet.at[i, column], str(truth.at[i, column]))
    dropped = sorted(take() for _ in range(2))
    for i in dropped:
        note(i, "*", "footprint without survey row", "", "")
    sheet = sheet.drop(index=dropped)
    # One surveyed building that is missing from the footprint layer.
    xc = truth.index[(truth["建筑编号"].str.startswith("XC")) & (truth["建筑类别"] == "农村住宅")]
    template = sheet.loc[[i for i in xc if i in sheet.index][0]].copy()
    orphan_id = f"XC{(truth['建筑编号'].str.startswith('XC')).sum() + 1:05d}"
    template["建筑编号"], template["建成年份"], template["备注"] = orphan_id, 2024, "新建"
    template["已装光伏容量(kW)"] = template["已装光伏面积(m²)"] = None
    sheet = pd.concat([sheet, template.to_frame().T], ignore_index=True)
    sheet = sheet.sort_values("建筑编号", kind="stable", ignore_index=True)
    log.append(dict(building_id=orphan_id, column="建筑编号", issue="survey row without footprint",
                    raw=orphan_id, expected=""))
    blemishes = pd.DataFrame(log).sort_values(["building_id", "column"], kind="stable",
                                              ignore_index=True)
    return sheet, truth, blemishes


# --------------------------------------------------------------------------
# Writers
# --------------------------------------------------------------------------
def write_gpkg(gdf: gpd.GeoDataFrame, path: Path, layer: str, description: str) -> None:
    """Write one GeoPackage layer with a pinned timestamp (byte-reproducible)."""
    path.unlink(missing_ok=True)
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": "2025-01-01T00:00:00.000Z"})
    gdf.to_file(path, layer=layer, driver="GPKG", engine="pyogrio",
                layer_options={"DESCRIPTION": description, "IDENTIFIER": layer})


def write_xlsx(sheet: pd.DataFrame, path: Path) -> None:
    """Write the survey sheet as a bureau would: bold frozen header, filters,
    number formats; fixed document properties and zip timestamps."""
    wb = Workbook()
    ws = wb.active
    ws.title = "屋顶普查"
    ws.append(HEADERS)
    for row in sheet.itertuples(index=False):
        ws.append([None if v is None or (isinstance(v, float) and math.isnan(v)) else
                   (v.item() if isinstance(v, np.generic) else v) for v in row])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in ws.iter_rows(min_row=2):
        for cell in row:  # numbers typed as text ('2019) carry Excel's quote prefix
            if isinstance(cell.value, str) and cell.value.isdigit():
                cell.quotePrefix = True
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = ws.dimensions
    widths = (11, 10, 30, 12, 9, 16, 15, 9, 9, 14, 9, 6, 13, 15, 15, 20)
    for col, width in zip(ws.iter_cols(min_row=1, max_row=1), widths):
        ws.column_dimensions[col[0].column_letter].width = width
    number_formats = {"屋面荷载(kN/m²)": "0.00", "已装光伏容量(kW)": "0.0",
                      "建筑面积(m²)": "0", "已装光伏面积(m²)": "0"}
    for j, header in enumerate(HEADERS, start=1):
        if header in number_formats:
            for (cell,) in ws.iter_rows(min_row=2, min_col=j, max_col=j):
                if isinstance(cell.value, (int, float)):
                    cell.number_format = number_formats[header]
    wb.properties.creator = wb.properties.lastModifiedBy = "roofpv make_sample.py"
    wb.properties.title = "平湖市屋顶光伏资源普查表（合成样例数据）"
    from roofpv.io import form_workbooks as form_io

    form_io.save(wb, path, FIXED_TIME)  # pinned times: the same content gives the same bytes


# --------------------------------------------------------------------------
# DSM
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class Grid:
    """North-up raster grid in EPSG:4549; pixel (row, col) centres."""

    xmin: float
    ymax: float
    res: float
    nrows: int
    ncols: int

    def window(self, bounds):
        """Row/col slice covering ``bounds`` and the pixel-centre coordinates."""
        minx, miny, maxx, maxy = bounds
        c0 = max(int(math.floor((minx - self.xmin) / self.res)), 0)
        c1 = min(int(math.ceil((maxx - self.xmin) / self.res)), self.ncols)
        r0 = max(int(math.floor((self.ymax - maxy) / self.res)), 0)
        r1 = min(int(math.ceil((self.ymax - miny) / self.res)), self.nrows)
        if c0 >= c1 or r0 >= r1:
            return None
        xs = self.xmin + (np.arange(c0, c1) + 0.5) * self.res
        ys = self.ymax - (np.arange(r0, r1) + 0.5) * self.res
        gx, gy = np.meshgrid(xs, ys)
        return (slice(r0, r1), slice(c0, c1)), gx, gy

    @property
    def bounds(self):
        return (self.xmin, self.ymax - self.nrows * self.res,
                self.xmin + self.ncols * self.res, self.ymax)


class Ground:
    """Ground height (m a.s.l.): 3.5 m + planar trend (~0.25 m/km) + three
    low-amplitude sinusoids (total ±0.2 m, wavelengths 150-450 m)."""

    def __init__(self, rng: np.random.Generator, x0: float, y0: float):
        self.x0, self.y0 = x0, y0
        self.slope = rng.uniform(-0.3, 0.3, 2) / 1000.0
        self.k = 2 * np.pi / rng.uniform(150, 450, 3)
        self.dir = rng.uniform(0, np.pi, 3)
        self.phase = rng.uniform(0, 2 * np.pi, 3)
        self.amp = np.array([0.09, 0.06, 0.05])

    def __call__(self, x, y):
        dx, dy = np.asarray(x) - self.x0, np.asarray(y) - self.y0
        z = 3.5 + self.slope[0] * dx + self.slope[1] * dy
        for k, d, ph, a in zip(self.k, self.dir, self.phase, self.amp):
            z = z + a * np.sin(k * (dx * np.cos(d) + dy * np.sin(d)) + ph)
        return z


def roof_heights(b, gx, gy, inside, base, rng) -> tuple[np.ndarray, str]:
    """Absolute roof surface (m) of building row ``b`` at pixel centres
    (gx, gy), and a label of the modelled roof form.

    Eaves / flat roof at floors x 3 m above ``base`` (m); ``inside`` marks
    pixel centres inside the footprint.  Tile roofs: gable (70 %) or hip,
    20-30°; metal roofs: 5° gable; flat concrete roofs: 1.0-1.2 m parapet,
    0.3 m thick; other roof types: flat."""
    top = base + b.floors * STOREY_HEIGHT
    if b.roof == "混凝土平屋面":
        # A DSM pixel shows the highest surface inside it: pixels within half
        # a pixel of the 0.3 m parapet band take the parapet height.
        dist = np.full(gx.shape, np.inf)
        dist[inside] = shapely.distance(b.geometry.boundary,
                                        shapely.points(gx[inside], gy[inside]))
        parapet = dist <= PARAPET_THICKNESS + DSM_RES / 2
        return np.where(parapet, top + rng.uniform(1.0, 1.2), top), "flat+parapet"
    if b.roof not in METAL_ROOFS and b.roof != "瓦屋面":
        return np.full(gx.shape, top), "flat"
    a = math.radians(b.angle)
    u = (gx - b.x) * math.cos(a) + (gy - b.y) * math.sin(a)
    v = -(gx - b.x) * math.sin(a) + (gy - b.y) * math.cos(a)
    run = np.clip(b.width / 2 - np.abs(v), 0, None)
    if b.roof in METAL_ROOFS:
        return top + run * math.tan(math.radians(5.0)), "metal gable 5°"
    pitch = rng.uniform(20, 30)
    if rng.random() < 0.3:
        run = np.minimum(run, np.clip(b.length / 2 - np.abs(u), 0, None))
        form = "hip"
    else:
        form = "gable"
    return top + run * math.tan(math.radians(pitch)), f"tile {form}"


def render_dsm(grid: Grid, buildings: gpd.GeoDataFrame, trees: np.ndarray,
               rng: np.random.Generator):
    """Render ground, trees and roofs (m a.s.l.) onto ``grid``.

    ``buildings`` (EPSG:4549) must carry x, y, angle, length, width, floors and
    roof.  Trees whose crown (+0.5 m) touches a building are dropped.  Returns
    the float32 array (0.01 m steps), a per-building roof-form Series and the
    number of trees drawn."""
    rows, cols = np.mgrid[0:grid.nrows, 0:grid.ncols]
    xs = grid.xmin + (cols + 0.5) * grid.res
    ys = grid.ymax - (rows + 0.5) * grid.res
    ground = Ground(rng, xs.mean(), ys.mean())
    dsm = ground(xs, ys)
    minx, miny, maxx, maxy = grid.bounds
    t = trees[(trees[:, 0] > minx - 6) & (trees[:, 0] < maxx + 6)
              & (trees[:, 1] > miny - 6) & (trees[:, 1] < maxy + 6)]
    crowns = shapely.buffer(shapely.points(t[:, :2]), t[:, 2] + 0.5)
    hit = shapely.STRtree(buildings.geometry.to_numpy()).query(crowns, predicate="intersects")[0]
    t = np.delete(t, np.unique(hit), axis=0)
    for x, y, radius, height in t:
        win = grid.window((x - radius, y - radius, x + radius, y + radius))
        if win is None:
            continue
        sl, gx, gy = win
        r2 = ((gx - x) ** 2 + (gy - y) ** 2) / radius ** 2
        crown_base = 0.35 * height
        z = ground(x, y) + crown_base + (height - crown_base) * np.sqrt(np.clip(1 - r2, 0, 1))
        dsm[sl] = np.where(r2 < 1, np.maximum(dsm[sl], z), dsm[sl])
    forms = {}
    for b in buildings.itertuples():
        win = grid.window(b.geometry.bounds)
        if win is None:
            continue
        sl, gx, gy = win
        inside = shapely.contains_xy(b.geometry, gx, gy)
        base = round(float(ground(b.x, b.y)), 2)
        z, forms[b.building_id] = roof_heights(b, gx, gy, inside, base, rng)
        dsm[sl] = np.where(inside, z, dsm[sl])
    return np.round(dsm, 2).astype(np.float32), pd.Series(forms, dtype=object), len(t)


def write_tiles(dsm: np.ndarray, grid: Grid, out_dir: Path) -> list[Path]:
    """Cut the mosaic into DSM_TILE_PX tiles, DEFLATE + floating-point predictor."""
    paths = []
    n = DSM_TILE_PX
    for r in range(grid.nrows // n):
        for c in range(grid.ncols // n):
            xmin = grid.xmin + c * n * grid.res
            ymax = grid.ymax - r * n * grid.res
            path = out_dir / f"dsm_{xmin:.0f}_{ymax - n * grid.res:.0f}.tif"
            profile = dict(driver="GTiff", width=n, height=n, count=1, dtype="float32",
                           crs=PROJ_CRS, transform=from_origin(xmin, ymax, grid.res, grid.res),
                           nodata=DSM_NODATA, tiled=True, blockxsize=256, blockysize=256,
                           compress="deflate", predictor=3, zlevel=9)
            with rasterio.open(path, "w", **profile) as dst:
                dst.write(dsm[r * n:(r + 1) * n, c * n:(c + 1) * n], 1)
                dst.update_tags(DESCRIPTION="SYNTHETIC digital surface model (roofpv sample)",
                                UNITS="metre above sea level", AREA_OR_POINT="Area")
                dst.set_band_description(1, "surface height (m)")
            paths.append(path)
    return paths


# --------------------------------------------------------------------------
# Checks and reports
# --------------------------------------------------------------------------
def check_outputs(townships: gpd.GeoDataFrame, footprints: gpd.GeoDataFrame,
                  footprints_proj: gpd.GeoDataFrame, categories: pd.Series) -> None:
    """Raise AssertionError unless the geometry invariants hold."""
    rect = shapely.box(LON_MIN, LAT_MIN, LON_MAX, LAT_MAX)
    t = townships.geometry.to_numpy()
    assert shapely.is_valid(t).all(), "invalid township"
    assert shapely.coverage_is_valid(t), "townships overlap"
    assert shapely.symmetric_difference(shapely.union_all(t), rect).area < 1e-12, "gaps"
    assert abs(shapely.area(t).sum() - rect.area) < 1e-12, "townships overlap"
    for fp in (footprints, footprints_proj):
        g = fp.geometry.to_numpy()
        assert shapely.is_valid(g).all(), "invalid footprint"
        assert set(shapely.get_type_id(g)) == {3}, "footprint is not a Polygon"
        left, right = shapely.STRtree(g).query(g, predicate="intersects")
        assert (left == right).all(), "footprints overlap or touch"
    assert footprints["building_id"].is_unique
    hits = gpd.sjoin(footprints, townships, predicate="within", how="left")
    per_building = hits.groupby(level=0)["code"].agg(["count", "first"])
    assert (per_building["count"] == 1).all(), "footprint not within exactly one township"
    assert (per_building["first"].to_numpy() ==
            footprints["building_id"].str.extract(r"^([A-Z]+)")[0].to_numpy()).all()
    area = footprints_proj.geometry.area
    for cat, (lo, hi) in AREA_RANGES.items():
        a = area[categories == cat]
        assert a.min() >= lo - 1 and a.max() <= hi + 1, (cat, a.min(), a.max())


def markdown_table(df: pd.DataFrame) -> str:
    """A DataFrame as a GitHub-flavoured Markdown table (index first)."""
    lines = ["| " + " | ".join([""] + [str(c) for c in df.columns]) + " |",
             "|" + "---|" * (len(df.columns) + 1)]
    lines += ["| " + " | ".join([str(i)] + [str(v) for v in row]) + " |"
              for i, row in zip(df.index, df.to_numpy())]
    return "\n".join(lines)


def blemish_csv(blemishes: pd.DataFrame) -> str:
    """The blemish list as CSV text (UTF-8, comma separated, quoted as needed)."""
    return blemishes.to_csv(index=False, lineterminator="\n")


def write_sample_readme(path: Path, counts: pd.DataFrame, blemishes: pd.DataFrame,
                        n_buildings: int, n_rows: int) -> None:
    """data/sample/README.md: description, vocabularies and blemish list."""
    vocab = "\n".join([
        f"- 建筑类别: {', '.join(CATEGORIES)}",
        "- 权属: 自然人, 非自然人",
        f"- 屋面类型: {', '.join(ROOF_TYPES)}",
        f"- 遮挡情况: {', '.join(SHADING)}",
        f"- 并网条件: {', '.join(GRID)}",
        "- 台区变压器编号: `T-<code>-NNN` (26-34 per township)",
    ])
    thresholds = ", ".join(f"{k} < {v:.2f}" for k, v in PV_MIN_LOAD.items())
    sizes = ", ".join(f"{k} {lo:,}–{hi:,}" for k, (lo, hi) in AREA_RANGES.items())
    text = f"""# roofpv sample data (SYNTHETIC)

Generated by `python scripts/make_sample.py` (seed {SEED}); do not edit by hand.
**Everything here is synthetic.**  Township names are those of Pinghu (平湖市,
Zhejiang) and the town centres sit near the real ones, but the township
**boundaries are invented** (a Voronoi partition of one seed point per
township, clipped to the city's bounding rectangle 120°57′–121°16′E,
30°35′–30°52′N) and every building and survey answer is made up.

| file | content | CRS |
|---|---|---|
| `townships.gpkg` | layer `townships`: 9 polygons tiling the rectangle; columns `township` (中文), `township_en` (pinyin), `code`, `kind` (街道/镇) | EPSG:4490 (CGCS2000 geographic, lon/lat) |
| `footprints.gpkg` | layer `footprints`: {n_buildings} building polygons; columns `building_id`, geometry | EPSG:4490 (created in EPSG:4549 metres) |
| `survey.xlsx` | sheet `屋顶普查`: {n_rows} rows, header in row 1 (bold, frozen) | – |
| `register.csv` | the grid company's register of connected PV: 户号, 项目名称, 户名, 安装地址, 装机容量 + 容量单位 (kW or MW), 并网日期, 并网电压等级, 消纳方式, 经度/纬度 (some rows), 建筑编号 (some rows) | coordinates EPSG:4490 |
| `meters.csv` | monthly generation 2025 (户号, 年月, 发电量(kWh)) of the registered systems connected before 2025 | – |

Register blemishes (see `make_register`): a quarter of the rows give the building id, a
third coordinates (30 % of those a few metres off the roof), the rest an address only,
respelt as clerks type it (幢 for 号楼, `#`, full-width digits, traditional characters,
Chinese numerals); systems of 200 kW and more in MW half of the time; one system on two
neighbouring village houses (…31号、32号); one system (望海路888弄) on no building of
the sample; 8 % of capacities differ from the survey's; systems connected after the
survey (2025-12 to 2026-10) on factories and public buildings without PV. Meters: kW ×
a horizontal-irradiance profile × 0.92 × noise, with three outages (two months at 0),
three shaded in winter and three uniformly low.

Township codes: {', '.join(f'{t.code} {t.name}' for t in TOWNS)}.
`building_id` = township code + 5-digit sequence, e.g. `DH00001`.  Footprints
do not overlap and each lies within exactly one township.  Areas should be
measured in EPSG:4549.  The DSM tiles in `../sample_tiles/` cover the 当湖
town centre and match these footprints (see the README there).

Layout: every township has a gridded town centre (housing estates, shops,
schools, hospitals, offices, pocket parks), three or four industrial parks
(big ones, factories up to 20,000 m², east of 当湖 and in 钟埭 — the
development zone — and along the coast at 乍浦 and 独山港) and 3–9
administrative villages of two house clusters each, the first holding the
村委会 and a 文化礼堂 (其他公共机构).  Rural houses are ~2:1 rectangles
with the long axis mostly within ±20° of east–west; the 当湖 centre also has
城中村 blocks with houses at assorted orientations.  A rough coastline keeps
buildings on land.  Footprint areas per building (m²): {sizes}.

## Survey workbook

Headers (exact strings, in this order):
`{' | '.join(HEADERS)}`

Value vocabularies:
{vocab}

Numbers: 屋面荷载 = spare roof load in kN/m² (2 decimals); 建成年份 1985–2025;
建筑面积 = footprint area × 层数 (rounded); 已装光伏容量 (kW) ≈ 0.2 kW/m² ×
已装光伏面积 (m², ≤ 60 % of the roof), both blank when no PV is installed.
Loads were drawn so that about 8 % of roofs are too weak for PV, i.e. below
(kN/m²): {thresholds}.  L-shaped and courtyard buildings always have
混凝土平屋面.

## Counts (township × category)

{markdown_table(counts)}

## Deliberate blemishes

The workbook is messy on purpose.  A loader is expected to: strip whitespace;
parse numbers stored as text; treat loads written with a kg unit, or bare
numbers ≥ 50, as kg/m² (1 kg/m² = 0.00980665 kN/m²); derive a blank 镇街道
from the footprint location; report footprints without a survey row and
survey rows without a footprint.  Machine-readable list (`expected` = the
clean value; `*` = the whole row):

<!-- BLEMISHES:BEGIN -->
```csv
{blemish_csv(blemishes)}```
<!-- BLEMISHES:END -->
"""
    path.write_text(text, encoding="utf-8")


def write_tiles_readme(path: Path, tiles: list[Path], grid: Grid, stats: dict) -> None:
    """data/sample_tiles/README.md describing the synthetic DSM."""
    minx, miny, maxx, maxy = grid.bounds
    rows = "\n".join(f"| `{p.name}` | {p.stat().st_size / 1e6:.2f} MB |" for p in tiles)
    forms = ", ".join(f"{k}: {v}" for k, v in stats["forms"].items())
    text = f"""# Sample DSM tiles (SYNTHETIC)

Generated by `python scripts/make_sample.py`; do not edit by hand.  A made-up
digital surface model of the 当湖街道 town centre (Pinghu), consistent with
`../sample/footprints.gpkg` and the roof types / floors in `../sample/survey.xlsx`.

- CRS EPSG:4549 (CGCS2000 / 3-degree Gauss-Kruger CM 120E), metres; heights in
  metres above sea level.
- 2 × 2 tiles of 500 m × 500 m, 0.5 m pixels (1000 × 1000), float32,
  nodata −9999, internally tiled 256 × 256, DEFLATE + PREDICTOR=3, heights
  rounded to 0.01 m.  Tile names are `dsm_<xmin>_<ymin>.tif`.
- Mosaic extent: x {minx:.0f}–{maxx:.0f}, y {miny:.0f}–{maxy:.0f}
  (≈ 30.700N 121.015E in the centre).

| tile | size |
|---|---|
{rows}

What is modelled:
- Ground 3–4 m a.s.l.: 3.5 m + gentle planar trend + ±0.2 m long-wavelength undulation.
- Buildings stand on the ground height at their centroid; eaves / flat roofs
  at 层数 × 3 m.  混凝土平屋面: flat with a 1.0–1.2 m parapet, 0.3 m thick
  (a DSM pixel shows the highest surface in it, so the parapet is a one- to
  two-pixel ring).  瓦屋面: gable (70 %) or hip roofs, pitch 20–30°, ridge along
  the long axis, at several azimuths (some ridges run N–S).  梯形彩钢瓦 /
  直立锁边金属屋面: 5° gables.  阳光房 / 其他: flat, no parapet.
- Trees: canopies 5–12 m tall, crown radius 3–6 m (ellipsoidal top, crown
  base at 35 % of height) in streets, gardens and courtyards; never over roofs.
- Not modelled: PV panels, roof furniture, noise, water bodies.

Buildings fully inside the mosaic: {stats['inside']} (another {stats['partial']} cut by
its edge); trees drawn: {stats['trees']}.  Roof forms rendered: {forms}.
"""
    path.write_text(text, encoding="utf-8")


#: Monthly specific yield profile of the synthetic meters, kWh/kWp (Pinghu GHI × 0.8).
METER_PROFILE = (59.6, 64.2, 88.2, 105.0, 115.7, 107.5, 119.8, 119.0, 91.0, 77.0, 61.8, 60.4)
FULL_WIDTH = str.maketrans("0123456789#", "０１２３４５６７８９＃")
TRADITIONAL_FORMS = str.maketrans("号区镇厂楼园业东桥", "號區鎮廠樓園業東橋")
CN_DIGITS = "〇一二三四五六七八九"


def _respell(rng, text: str) -> str:
    """An address as a grid company's clerk might type it: 号楼 → 幢 or #楼, full-width
    digits, traditional characters or small numbers in Chinese numerals."""
    form = rng.integers(5)
    if form == 0:
        return text.replace("号楼", "幢")
    if form == 1:
        return text.replace("号楼", "#楼").translate(FULL_WIDTH)
    if form == 2:
        return text.translate(TRADITIONAL_FORMS)
    if form == 3:
        return re.sub(r"(?<!\d)([1-9])(?=号)", lambda m: CN_DIGITS[int(m.group(1))], text)
    return text


def make_register(truth: pd.DataFrame, fp_proj: gpd.GeoDataFrame, sample_dir: Path) -> tuple[int, int]:
    """Write ``register.csv`` and ``meters.csv``: the grid company's view of the PV.

    Every building with PV in the survey truth is one registered system, plus systems
    connected after the survey (2025-12 to 2026-10) on factories and public buildings
    without PV. Blemishes: a quarter of the rows name the building id, a third give
    coordinates (some a few metres off the roof), the rest an address only, respelt
    (幢 / #楼 / full-width digits / traditional characters / Chinese numerals); large
    systems in MW; one system on two neighbouring houses (…12号、13号); one address that
    matches no building; 8 % of capacities differ from the survey. Meters: 2025 monthly
    kWh of the systems connected before 2025 = kW × METER_PROFILE × 0.92 × noise, with
    three outages, three shaded in winter and three uniformly low."""
    rng = np.random.default_rng([SEED, 17])
    t = truth.set_index("建筑编号")
    fp = fp_proj.set_index("building_id")
    lonlat = gpd.GeoSeries(fp.geometry.representative_point(), crs=PROJ_CRS).to_crs(GEO_CRS)
    has = t["已装光伏容量(kW)"].notna()
    fresh = (~has) & t["建筑类别"].isin(["工业厂房", "学校", "医院", "党政机关"]) & (rng.random(len(t)) < 0.08)
    ids = list(t.index[has]) + list(t.index[fresh])
    area = fp.geometry.area
    kw = pd.concat([t.loc[has, "已装光伏容量(kW)"], np.round(area[t.index[fresh]] * 0.35 * 0.2, 1)])
    off = rng.random(len(ids)) < 0.08
    kw = kw.reindex(ids).to_numpy() * np.where(off, rng.uniform(0.5, 1.6, len(ids)), 1.0)
    start = np.datetime64("2018-01-01")
    span = (np.datetime64("2025-11-01") - start).astype(int)
    connected = start + (span * rng.random(len(ids)) ** 0.6).astype(int).astype("timedelta64[D]")
    n_old = int(has.sum())
    connected[n_old:] = np.datetime64("2025-12-01") + rng.integers(0, 330, len(ids) - n_old).astype("timedelta64[D]")
    rows = []
    named = t["建筑名称"].fillna("").astype(str)
    for bid, cap, when in zip(ids, kw, connected):
        town, name, cat = t.at[bid, "镇街道"], named[bid], t.at[bid, "建筑类别"]
        how = rng.choice(["id", "point", "text"], p=[0.25, 0.35, 0.40])
        if how == "text" and not name:
            how = "point"
        lon = lat = None
        if how == "point":
            jitter = rng.normal(0, 3e-5, 2) if rng.random() < 0.3 else (0.0, 0.0)
            lon, lat = lonlat[bid].x + jitter[0], lonlat[bid].y + jitter[1]
        mw = cap >= 200 and rng.random() < 0.5
        rows.append({
            "户号": f"33{rng.integers(10**9, 10**10)}",
            "项目名称": f"{name or town}屋顶分布式光伏发电项目",
            "户名": name if cat != "农村住宅" else f"{town}村民",
            "安装地址": f"浙江省平湖市{town}{_respell(rng, name) if how == 'text' else name}",
            "装机容量": round(cap / 1000, 4) if mw else round(cap, 1),
            "容量单位": "MW" if mw else "kW",
            "并网日期": str(when),
            "并网电压等级": "10kV" if cap >= 400 else "380V",
            "消纳方式": "全额上网" if cat == "农村住宅" else "自发自用、余电上网",
            "经度": None if lon is None else round(lon, 7), "纬度": None if lat is None else round(lat, 7),
            "建筑编号": bid if how == "id" else None,
        })
    register = pd.DataFrame(rows)
    # One system on two neighbouring village houses: "…12号、13号" (their kW summed).
    village = named[named.str.fullmatch(r".+村\d+号")]
    split = village.str.extract(r"^(.+村)(\d+)号$")
    pairs = [(a, b) for a, b in zip(village.index[:-1], village.index[1:])
             if split.at[a, 0] == split.at[b, 0] and int(split.at[b, 1]) == int(split.at[a, 1]) + 1
             and a not in ids and b not in ids]
    a, b = pairs[len(pairs) // 2]
    register.loc[len(register)] = {
        "户号": "3300000000002", "项目名称": f"{split.at[a, 0]}两户屋顶分布式光伏项目", "户名": f"{split.at[a, 0]}村民",
        "安装地址": f"浙江省平湖市{t.at[a, '镇街道']}{split.at[a, 0]}{split.at[a, 1]}号、{split.at[b, 1]}号",
        "装机容量": round(float((area[a] + area[b]) * 0.4 * 0.2), 1), "容量单位": "kW",
        "并网日期": "2026-06-18", "并网电压等级": "380V", "消纳方式": "全额上网",
        "经度": None, "纬度": None, "建筑编号": None}
    register.loc[len(register)] = {
        "户号": "3300000000001", "项目名称": "望海农业光伏大棚项目", "户名": "平湖市望海农业发展有限公司",
        "安装地址": "浙江省平湖市望海路888弄农业园区", "装机容量": 0.5, "容量单位": "MW",
        "并网日期": "2024-05-20", "并网电压等级": "10kV", "消纳方式": "全额上网",
        "经度": None, "纬度": None, "建筑编号": None}
    register.to_csv(sample_dir / "register.csv", index=False, encoding="utf-8-sig")

    old = register[pd.to_datetime(register["并网日期"]) < "2025-01-01"].reset_index(drop=True)
    kw_old = (old["装机容量"] * np.where(old["容量单位"] == "MW", 1000.0, 1.0)).to_numpy()
    factor = 0.92 * rng.lognormal(0.0, 0.05, len(old))
    month_factor = np.ones((len(old), 12))
    picks = rng.choice(len(old), 9, replace=False)
    for i in picks[:3]:
        month_factor[i, rng.choice(12, 2, replace=False)] = 0.0
    for i in picks[3:6]:
        month_factor[i, [0, 1, 10, 11]] = 0.55
    for i in picks[6:]:
        month_factor[i] = 0.65
    kwh = np.round(kw_old[:, None] * np.array(METER_PROFILE) * factor[:, None] * month_factor
                   * rng.lognormal(0.0, 0.04, (len(old), 12)))
    meters = pd.DataFrame(kwh, columns=[f"2025-{m:02d}" for m in range(1, 13)])
    meters = meters.assign(户号=old["户号"]).melt("户号", var_name="年月", value_name="发电量(kWh)")
    meters.to_csv(sample_dir / "meters.csv", index=False, encoding="utf-8-sig")
    return len(register), len(old)


# --------------------------------------------------------------------------
# --------------------------------------------------------------------------
# Returned survey forms (roofpv forms / roofpv collect walkthrough)
# --------------------------------------------------------------------------
FORMS_ISSUED = "2026-01-05"
FORMS_TIME = dt.datetime(2026, 4, 1)
#: How each township's form came back: (office, 填报日期, share of rows filled, extras).
#: 乍浦镇 never returned its form; 当湖 sent two versions; a village office of 钟埭 sent
#: the township's form too, with answers that contradict the town office's (conflicts);
#: 林埭's only return is old (stale by the end of March).
RETURNS = (
    ("当湖街道", "当湖街道城建办", dt.date(2026, 2, 10), 0.40, "v1"),
    ("当湖街道", "当湖街道城建办", dt.date(2026, 3, 20), 0.85, "v2"),
    ("钟埭街道", "钟埭街道农办", dt.date(2026, 3, 2), 0.90, ""),
    ("钟埭街道", "钟埭街道南桥村委会", dt.date(2026, 3, 12), 0.0, "conflicts"),
    ("曹桥街道", "曹桥街道经发办", dt.date(2026, 3, 15), 0.75, "invalid"),
    ("新埭镇", "新埭镇农业农村办", dt.date(2026, 3, 18), 0.60, "no_shading"),
    ("新仓镇", "新仓镇经发办", dt.date(2026, 3, 25), 0.80, "new_row"),
    ("广陈镇", "广陈镇农业农村办", dt.date(2026, 3, 28), 0.95, ""),
    ("林埭镇", "林埭镇城建办", dt.date(2026, 1, 20), 0.30, ""),
    ("独山港镇", "独山港镇经发办", dt.date(2026, 3, 30), 0.70, ""),
)


def write_sample_forms(out_dir: Path) -> list[Path]:
    """``<out>/sample/forms/``: the forms roofpv issued on FORMS_ISSUED for the sample
    without its survey (``forms_issued.csv``) and the returned, partly filled forms
    (RETURNS), filled with the sample survey's answers (blank cells as in the survey)."""
    from roofpv.config import load_config
    from roofpv.fieldwork.forms import make_forms
    from roofpv.io import form_workbooks as form_io
    from roofpv.io.readers import read_survey
    from roofpv.run.pipeline import survey_roofs
    from roofpv.schema import ISSUED_LIST, LABELS_ZH

    sample = out_dir / "sample"
    folder = sample / "forms"
    folder.mkdir(parents=True, exist_ok=True)
    config = load_config(Path(__file__).resolve().parents[1] / "configs" / "pinghu.yaml")
    config = config.model_copy(update={
        "inputs": config.inputs.model_copy(update={
            "footprints": sample / "footprints.gpkg", "townships": sample / "townships.gpkg", "survey": None}),
        "dsm": config.dsm.model_copy(update={"tiles": out_dir / "sample_tiles"}),
    })
    survey, _ = read_survey(sample / "survey.xlsx", "屋顶普查")
    shown = survey.copy()
    for column, labels in LABELS_ZH.items():
        if column in shown:
            shown[column] = shown[column].map(labels)
    shown = shown.astype(object).where(shown.notna(), None).drop(columns="township")
    inventory, b = survey_roofs(config)
    forms = {f.township: f for f in make_forms(b, config.dsm.storey_height_m, FORMS_ISSUED,
                                               list(inventory.township_polygons.index))}
    rng = np.random.default_rng([SEED, 18])
    listing, written, filled_before = [], [], {}
    scratch = folder / ".issued.xlsx"
    for town, office, date, share, extra in RETURNS:
        form = forms[town]
        form_io.write_form(scratch, form, "平湖市", fixed_time=FORMS_TIME)
        ids = [i for i in form.values.index if i in shown.index]
        chosen = sorted(rng.choice(ids, size=round(share * len(ids)), replace=False).tolist())
        if extra == "v2":  # the second version keeps the first's rows and adds more
            chosen = sorted(set(chosen) | set(filled_before[town]))
        values = {bid: {**shown.loc[bid].to_dict(), "confirmed": "是"} for bid in chosen}
        new = []
        if extra == "v2":
            for bid in filled_before[town][:5]:  # loads measured again on site
                load = values[bid]["roof_load_kn_m2"]
                values[bid]["roof_load_kn_m2"] = round((load or 1.0) * 1.2, 2)
        if extra == "conflicts":  # the village answers differently for rows the town filled
            chosen = filled_before[town][:6]
            values = {bid: {"roof_type": "瓦屋面" if i % 2 else "梯形彩钢瓦", "grid_condition": "受限"}
                      for i, bid in enumerate(chosen)}
        if extra == "invalid":
            first = chosen[:3]
            values[first[0]]["roof_type"] = "茅草屋面"
            values[first[1]]["roof_load_kn_m2"] = 15
            values[first[2]]["year_built"] = 2031
            new.append({"name": "新建冷链仓库（未编号）", "category": "仓储", "roof_type": "梯形彩钢瓦"})
        if extra == "no_shading":
            for bid in chosen[::5]:
                values[bid]["shading"] = None
        if extra == "new_row":  # a building the footprints lack (the survey's orphan row)
            for bid in sorted(set(shown.index) - set(b.index)):
                new.append({"building_id": bid, **shown.loc[bid].to_dict()})
        filled_before.setdefault(town, chosen)
        suffix = {"v1": "-第1版", "v2": "-第2版", "conflicts": "-南桥村"}.get(extra, "")
        path = folder / f"{form.file_name}{suffix}.xlsx"
        _fill_form(scratch, path, values, new, office, date)
        written.append(path)
    scratch.unlink()
    for form in forms.values():
        listing.append(pd.DataFrame({
            "building_id": form.values.index, "form": form.form_id, "township": form.township,
            "file": f"{form.file_name}.xlsx", "issued": FORMS_ISSUED,
            "measured_shading": form.measured.to_numpy(object)}))
    pd.concat(listing).to_csv(folder / ISSUED_LIST, index=False, encoding="utf-8-sig", lineterminator="\n")
    lines = "\n".join(f"| `{p.name}` | {town} | {office} | {date} | {share:.0%} | {FORM_NOTES[extra]} |"
                      if share else f"| `{p.name}` | {town} | {office} | {date} | 6 rows | {FORM_NOTES[extra]} |"
                      for p, (town, office, date, share, extra) in zip(written, RETURNS))
    (folder / "README.md").write_text(FORMS_README.format(issued=FORMS_ISSUED, lines=lines), encoding="utf-8")
    return written


FORM_NOTES = {"": "", "v1": "first version", "v2": "second version: more rows, 5 loads re-measured",
              "conflicts": "a village office's copy of the township form: 6 rows answered "
              "differently from the town office (conflicts)",
              "invalid": "3 values outside the lists/ranges, 1 new row without an id",
              "no_shading": "shading left blank on every fifth row", "new_row": "1 new building (XC00425)"}
FORMS_README = """# Returned survey forms (SYNTHETIC)

Written by `scripts/make_sample.py` for the `roofpv collect` walkthrough in the main
README. On {issued} roofpv issued one form per township for the sample *without* its survey
(`forms_issued.csv` lists every issued building, its form and the DSM shading class);
these are the forms that came back, filled with the answers of `../survey.xlsx` for a
share of the rows (已核实 = 是) and a few realistic problems. 乍浦镇 never returned its
form; 林埭镇's only return is from January (stale at the end of March).

| file | township | office (填报单位) | 填报日期 | rows filled | what else |
|---|---|---|---|---|---|
{lines}
"""


def _fill_form(form: Path, out: Path, values: dict, new: list[dict], office: str, date: dt.date) -> None:
    """A copy of ``form`` filled as an office would: ``values`` by building id and column
    key, rows ``new`` in the blank rows, the office's name and date."""
    from openpyxl import load_workbook

    from roofpv.fieldwork.forms import survey_columns
    from roofpv.io import form_workbooks as form_io

    header_of = {c.key: c.header for c in survey_columns(int(FORMS_ISSUED[:4]))}
    wb = load_workbook(form)
    ws = wb[form_io.DATA_SHEET]
    column = {cell.value: cell.column for cell in ws[form_io.HEADER_ROW]}
    rows = {ws.cell(r, 1).value: r for r in range(form_io.FIRST_ROW, ws.max_row + 1) if ws.cell(r, 1).value}
    for bid, cells in values.items():
        for key, value in cells.items():
            if key in header_of:
                form_io.put(ws, ws.cell(rows[bid], column[header_of[key]]).coordinate, value)
    for i, cells in enumerate(new, start=max(rows.values()) + 1):
        for key, value in cells.items():
            if key in header_of:
                form_io.put(ws, ws.cell(i, column[header_of[key]]).coordinate, value)
    form_io.put(ws, form_io.OFFICE_CELL, office)
    ws[form_io.DATE_CELL] = date
    form_io.save(wb, out, FORMS_TIME)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out-dir", type=Path, default=Path("data"),
                        help="output root; writes <out>/sample and <out>/sample_tiles")
    parser.add_argument("--only-register", action="store_true",
                        help="write only register.csv and meters.csv (the rest is unchanged)")
    args = parser.parse_args(argv)
    sample_dir, tiles_dir = args.out_dir / "sample", args.out_dir / "sample_tiles"
    sample_dir.mkdir(parents=True, exist_ok=True)
    tiles_dir.mkdir(parents=True, exist_ok=True)
    rng_layout, rng_survey, rng_dsm = np.random.default_rng(SEED).spawn(3)

    townships = build_townships()
    buildings, trees = layout_buildings(townships, rng_layout)
    fp_proj = gpd.GeoDataFrame(buildings, geometry="geometry", crs=PROJ_CRS)
    fp_proj["area"] = fp_proj.geometry.area
    fp_proj = fp_proj.sort_values("building_id", ignore_index=True)
    footprints = fp_proj[["building_id", "geometry"]].to_crs(GEO_CRS)
    check_outputs(townships, footprints, fp_proj, fp_proj["category"])

    truth = survey_truth(fp_proj, rng_survey)
    systems, metered = make_register(truth, fp_proj, sample_dir)
    print(f"register: {systems} systems, {metered} metered")
    if args.only_register:
        return
    sheet, truth, blemishes = apply_blemishes(truth, rng_survey)

    write_gpkg(townships, sample_dir / "townships.gpkg", "townships",
               "SYNTHETIC township boundaries of Pinghu (平湖市) for the roofpv sample: a "
               "Voronoi partition of one seed point per township clipped to 120°57'-121°16'E, "
               "30°35'-30°52'N. Names are real, boundaries are NOT.")
    write_gpkg(footprints, sample_dir / "footprints.gpkg", "footprints",
               "SYNTHETIC building footprints for the roofpv sample (Pinghu); join to "
               "survey.xlsx on building_id = 建筑编号.")
    write_xlsx(sheet, sample_dir / "survey.xlsx")

    x0, y0 = point_proj(*TOWNS[0].centre)
    half = DSM_TILE_PX * DSM_RES
    grid = Grid(round(x0, -1) - half, round(y0, -1) + half, DSM_RES,
                2 * DSM_TILE_PX, 2 * DSM_TILE_PX)
    box = shapely.box(*grid.bounds)
    fp_proj["roof"] = truth["屋面类型"].to_numpy()
    in_box = fp_proj[fp_proj.intersects(box)]
    dsm, forms, n_trees = render_dsm(grid, in_box, trees, rng_dsm)
    tiles = write_tiles(dsm, grid, tiles_dir)

    counts = pd.crosstab(fp_proj["township"], fp_proj["category"], margins=True,
                         margins_name="合计")
    counts = counts.reindex(index=[t.name for t in TOWNS] + ["合计"],
                            columns=list(CATEGORIES) + ["合计"])
    write_sample_readme(sample_dir / "README.md", counts, blemishes, len(footprints), len(sheet))
    stats = dict(inside=int(in_box.within(box).sum()),
                 partial=int((~in_box.within(box)).sum()), trees=n_trees,
                 forms=forms.value_counts().sort_index().to_dict())
    write_tiles_readme(tiles_dir / "README.md", tiles, grid, stats)
    returned = write_sample_forms(args.out_dir)

    pd.set_option("display.width", 200)
    print(counts.to_string())
    print("\nshare per category:",
          (fp_proj["category"].value_counts(normalize=True) * 100).round(1).to_dict())
    print(f"built 2021+: {(truth['建成年份'] >= 2021).mean():.1%}, "
          f"with PV: {truth['已装光伏面积(m²)'].notna().mean():.1%}")
    print(f"DSM: {stats}")
    for p in sorted([p for p in sample_dir.iterdir() if p.is_file()] + tiles + returned):
        print(f"{p}: {p.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
