"""QGIS styles of the output layers: QML documents and Chinese field aliases.

Each style is a QML document (the ``<qgis>`` XML QGIS writes with "Save Style") with a
renderer, field aliases and, for townships, labels. :func:`layer_styles` returns them
per layer; the first of a layer is its default, which QGIS applies when it opens the
layer from the GeoPackage's ``layer_styles`` table; the others are listed under
Layer Properties › Style › Load Style › From Database. Class breaks that depend on the
data (quantiles, plan years) are computed from the layer being styled.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import numpy as np
import pandas as pd

from roofpv.appraise.suitability import STATUS_COLOURS, STATUSES
from roofpv.schema import LABELS_ZH, SURFACE_TYPES, field_alias

#: QGIS version the documents are written for (read by QGIS ≥ 3.16).
QGIS_VERSION = "3.22.16-Białowieża"
#: QGIS geometry type code of polygon layers (``<layerGeometryType>``).
POLYGON = 2

#: Sequential ramp (light → dark yellow-orange-red), for yields and losses.
SEQUENTIAL = [(255, 255, 178), (254, 204, 92), (253, 141, 60), (240, 59, 32), (189, 0, 38)]
#: Diverging ramp, red below the target through white to blue above it.
DIVERGING = [(202, 0, 32), (244, 165, 130), (253, 219, 199), (209, 229, 240), (146, 197, 222),
             (5, 113, 176)]
#: Class breaks (percentage points from the target) of the township coverage styles.
TARGET_BREAKS_PP = [-100.0, -20.0, -10.0, 0.0, 10.0, 20.0, 100.0]
#: Purple ramp (dark = early) for the plan's build years.
YEARS = [(63, 0, 125), (106, 81, 163), (128, 125, 186), (158, 154, 200), (188, 189, 220),
         (218, 218, 235)]
#: Layers drawn only when zoomed in to at least 1:DETAIL_SCALE: the module rows and roof
#: planes cover a whole city with dark outlines at city scale and hide the buildings'
#: colours; below 1:5,000 a row of modules is a few pixels wide.
DETAIL_SCALE = 5000
DETAIL_LAYERS = ("pv_arrays", "roof_planes", "facades")
#: Label font: Noto Sans CJK SC (SIL OFL; packaged with roofpv in roofpv/report/fonts/,
#: in Debian/Ubuntu fonts-noto-cjk). Where it is not installed QGIS falls back to its
#: default font and Qt draws the Chinese from any installed CJK font (Windows: Microsoft
#: YaHei); the README says how to install the packaged one.
LABEL_FONT = "Noto Sans CJK SC"
#: Class breaks of the roof-plane shading loss (fraction; the survey classes 5/15/35 %).
SHADING_BREAKS = [0.0, 0.05, 0.15, 0.35, 1.0]


@dataclass(frozen=True)
class Style:
    """One row of the ``layer_styles`` table."""

    layer: str
    name: str
    qml: str
    default: bool
    description: str


def aliases(columns, targets: dict[str, str]) -> dict[str, str]:
    """Chinese alias of every column that has one (:func:`roofpv.schema.field_alias`)."""
    return {c: alias for c in columns if (alias := field_alias(c, targets))}


def _rgba(rgb, alpha: int = 255) -> str:
    return ",".join(str(v) for v in (*rgb, alpha))


def _options(parent: ET.Element, values: dict[str, str]) -> None:
    opts = ET.SubElement(parent, "Option", type="Map")
    for k, v in values.items():
        ET.SubElement(opts, "Option", type="QString", name=k, value=str(v))


def fill_symbol(name: str, fill, outline=(35, 35, 35), outline_mm: float = 0.1,
                fill_alpha: int = 255, brush: str = "solid") -> ET.Element:
    """A polygon symbol: one simple fill layer."""
    symbol = ET.Element("symbol", type="fill", name=name, alpha="1", clip_to_extent="1",
                        force_rhr="0")
    layer = ET.SubElement(symbol, "layer", {"class": "SimpleFill", "enabled": "1", "pass": "0",
                                            "locked": "0"})
    _options(layer, {
        "color": _rgba(fill, fill_alpha), "style": brush, "outline_color": _rgba(outline),
        "outline_style": "solid", "outline_width": f"{outline_mm:g}", "outline_width_unit": "MM",
        "joinstyle": "miter",
    })
    return symbol


def categorized(attr: str, classes: list[tuple[str, str, ET.Element]]) -> ET.Element:
    """Categorised renderer on ``attr``: (value, label, symbol) per class."""
    r = ET.Element("renderer-v2", {"type": "categorizedSymbol", "attr": attr, "symbollevels": "0",
                                   "forceraster": "0", "enableorderby": "0"})
    cats = ET.SubElement(r, "categories")
    symbols = ET.SubElement(r, "symbols")
    for i, (value, label, symbol) in enumerate(classes):
        ET.SubElement(cats, "category", render="true", value=value, symbol=str(i), label=label)
        symbol.set("name", str(i))
        symbols.append(symbol)
    return r


def graduated(attr: str, classes: list[tuple[float, float, str, ET.Element]]) -> ET.Element:
    """Graduated renderer on ``attr`` (a field or an expression): (lower, upper, label,
    symbol) per class."""
    r = ET.Element("renderer-v2", {"type": "graduatedSymbol", "attr": attr,
                                   "graduatedMethod": "GraduatedColor", "symbollevels": "0",
                                   "forceraster": "0", "enableorderby": "0"})
    ranges = ET.SubElement(r, "ranges")
    symbols = ET.SubElement(r, "symbols")
    for i, (lower, upper, label, symbol) in enumerate(classes):
        ET.SubElement(ranges, "range", render="true", lower=f"{lower:.6g}", upper=f"{upper:.6g}",
                      symbol=str(i), label=label)
        symbol.set("name", str(i))
        symbols.append(symbol)
    return r


def line_symbol(name: str, color, width_mm: float = 0.8) -> ET.Element:
    """A line symbol: one simple line layer with flat caps."""
    symbol = ET.Element("symbol", type="line", name=name, alpha="1", clip_to_extent="1", force_rhr="0")
    layer = ET.SubElement(symbol, "layer", {"class": "SimpleLine", "enabled": "1", "pass": "0", "locked": "0"})
    _options(layer, {
        "line_color": _rgba(color), "line_style": "solid", "line_width": f"{width_mm:g}",
        "line_width_unit": "MM", "capstyle": "flat", "joinstyle": "miter",
    })
    return symbol


def single(symbol: ET.Element) -> ET.Element:
    """Single-symbol renderer."""
    r = ET.Element("renderer-v2", {"type": "singleSymbol", "symbollevels": "0",
                                   "forceraster": "0", "enableorderby": "0"})
    symbol.set("name", "0")
    ET.SubElement(r, "symbols").append(symbol)
    return r


def labels(field: str, size_pt: float = 11) -> ET.Element:
    """Simple labels from ``field``, dark text with a white halo, over the centroid."""
    labeling = ET.Element("labeling", type="simple")
    settings = ET.SubElement(labeling, "settings", calloutType="simple")
    text = ET.SubElement(settings, "text-style", fieldName=field, isExpression="0",
                         fontFamily=LABEL_FONT, namedStyle="Regular", fontSize=f"{size_pt:g}", fontSizeUnit="Point", fontWeight="75",
                         textColor="30,30,30,255", textOpacity="1")
    ET.SubElement(text, "text-buffer", bufferDraw="1", bufferSize="1", bufferSizeUnits="MM",
                  bufferColor="255,255,255,255", bufferOpacity="1")
    ET.SubElement(settings, "placement", placement="1", centroidInside="1", centroidWhole="0")
    ET.SubElement(settings, "rendering", obstacle="1", drawLabels="1", labelPerPart="0",
                  limitNumLabels="0", minFeatureSize="0", scaleVisibility="0")
    return labeling


def style_elements(renderer: ET.Element, field_aliases: dict[str, str],
                   labeling: ET.Element | None = None) -> list[ET.Element]:
    """The children of a QML document (also the style part of a project's ``<maplayer>``)."""
    geometry = ET.Element("layerGeometryType")
    geometry.text = str(POLYGON)
    alias_el = ET.Element("aliases")
    for i, (field, alias) in enumerate(field_aliases.items()):
        ET.SubElement(alias_el, "alias", field=field, index=str(i), name=alias)
    return [e for e in (renderer, labeling, alias_el, geometry) if e is not None]


def qml(elements: list[ET.Element], labels_enabled: bool = False, min_scale: float | None = None) -> str:
    """A QML document holding ``elements``; with ``min_scale`` the layer is drawn only
    at scales of 1:``min_scale`` or larger (zoomed in further)."""
    root = ET.Element("qgis", version=QGIS_VERSION, styleCategories="AllStyleCategories",
                      labelsEnabled=str(int(labels_enabled)))
    if min_scale:
        root.attrib.update(hasScaleBasedVisibilityFlag="1", minScale=f"{min_scale:g}", maxScale="0")
    root.extend(elements)
    body = ET.tostring(root, encoding="unicode")
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + body


def quantile_breaks(values, n: int = 5) -> list[float]:
    """``n`` quantile classes of the finite values: n + 1 distinct increasing breaks
    (fewer where values repeat); [] without finite values."""
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return []
    breaks = np.unique(np.quantile(v, np.linspace(0, 1, n + 1)))
    return breaks.tolist() if breaks.size > 1 else [breaks[0], breaks[0]]


def _ramp(colors: list, n: int) -> list:
    """``n`` colours spread over ``colors``."""
    return [colors[i] for i in np.linspace(0, len(colors) - 1, n).round().astype(int)]


def _graduated_by(attr: str, breaks: list[float], colors: list, fmt: str,
                  **symbol) -> ET.Element:
    ramp = _ramp(colors, len(breaks) - 1)
    classes = [(lo, hi, f"{fmt.format(lo)} – {fmt.format(hi)}", fill_symbol("", c, **symbol))
               for lo, hi, c in zip(breaks[:-1], breaks[1:], ramp)]
    return graduated(attr, classes)


@dataclass(frozen=True)
class LayerStyle:
    """A named style of one layer before it is serialised."""

    name: str
    elements: list[ET.Element]
    labels: bool
    description: str


def _darker(rgb, factor: float = 0.8) -> tuple[int, int, int]:
    return tuple(int(c * factor) for c in rgb)


def building_styles(frame: pd.DataFrame, al: dict[str, str]) -> list[LayerStyle]:
    """Buildings by suitability (default) and by specific yield (quantile classes)."""
    status = categorized("suitability", [
        (status, f"{LABELS_ZH['suitability'][status]} {status}",
         fill_symbol("", STATUS_COLOURS[status], outline=_darker(STATUS_COLOURS[status]), outline_mm=0.2))
        for status in STATUSES
    ])
    out = [LayerStyle("适宜性 suitability", style_elements(status, al), False,
                      "buildings by suitability status")]
    breaks = quantile_breaks(frame.get("specific_yield_kwh_kwp", []))
    if breaks:
        by_yield = _graduated_by("specific_yield_kwh_kwp", breaks, SEQUENTIAL, "{:.0f}",
                                 outline=(90, 90, 90), outline_mm=0.05)
        out.append(LayerStyle("单位发电量 specific yield", style_elements(by_yield, al), False,
                              "buildings by specific yield (kWh/kWp), quantile classes"))
    return out


def township_styles(frame: pd.DataFrame, targets: dict[str, str], al: dict[str, str], key: str = "township"
                    ) -> list[LayerStyle]:
    """Townships (or, ``key="county"``, counties) by coverage against each target and
    milestone, today and potential, in percentage points from the target (diverging),
    labelled with the ``key`` column; the first is the default."""
    out = []
    ramp = DIVERGING
    for name, label in targets.items():
        years = sorted(int(m.group(1)) for c in frame.columns
                       if (m := re.fullmatch(rf"{re.escape(name)}_target_(\d{{4}})", c)))
        for year in years:
            for kind, word in (("today", "现状"), ("potential", "潜在")):
                expr = f'("{name}_coverage_{kind}" - "{name}_target_{year}") * 100'
                classes = [
                    (lo, hi, _pp_label(lo, hi), fill_symbol("", c, outline=(60, 60, 60),
                                                            outline_mm=0.4, fill_alpha=170))
                    for lo, hi, c in zip(TARGET_BREAKS_PP[:-1], TARGET_BREAKS_PP[1:], ramp)
                ]
                out.append(LayerStyle(
                    f"{word}覆盖率对{year}年目标 {name} {kind} vs {year}",
                    style_elements(graduated(expr, classes), al, labels(key)), True,
                    f"{label}: coverage {kind} minus the {year} target, percentage points",
                ))
    if not out:
        plain = single(fill_symbol("", (240, 240, 240), outline=(60, 60, 60), outline_mm=0.4))
        title = {"township": "镇街道 townships", "county": "县(市、区) counties"}[key]
        out.append(LayerStyle(title, style_elements(plain, al, labels(key)), True, f"{key} outlines"))
    return out


def _pp_label(lo: float, hi: float) -> str:
    if lo <= TARGET_BREAKS_PP[0]:
        return f"低于目标 {-hi:g} 个百分点以上"
    if hi >= TARGET_BREAKS_PP[-1]:
        return f"高于目标 {lo:g} 个百分点以上"
    return f"{lo:+g} – {hi:+g} 个百分点"


def plan_styles(frame: pd.DataFrame, al: dict[str, str]) -> list[LayerStyle]:
    """Rollout plan by build year (default) and by rank (quantile classes)."""
    years = sorted(int(y) for y in pd.unique(frame.get("build_year", pd.Series(dtype=float)).dropna()))
    out = []
    if years:
        ramp = _ramp(YEARS, len(years))
        by_year = categorized("build_year", [
            (str(y), f"{y}年", fill_symbol("", c, outline=c, outline_mm=0.6, fill_alpha=120))
            for y, c in zip(years, ramp)
        ])
        out.append(LayerStyle("建设年份 build year", style_elements(by_year, al), False,
                              "planned roofs by build year"))
    breaks = quantile_breaks(frame.get("plan_rank", []))
    if breaks:
        by_rank = _graduated_by("plan_rank", breaks, YEARS, "{:.0f}", outline_mm=0.6,
                                fill_alpha=120)
        out.append(LayerStyle("规划排序 rank", style_elements(by_rank, al), False,
                              "planned roofs by rank (1 = first), quantile classes"))
    return out


def plane_styles(al: dict[str, str]) -> list[LayerStyle]:
    """Roof planes by shading loss (the survey classes' 5 / 15 / 35 % as breaks)."""
    b = SHADING_BREAKS
    r = _graduated_by("shading_loss", b, SEQUENTIAL[1:], "{:.0%}", outline=(80, 80, 80),
                      outline_mm=0.05)
    return [LayerStyle("遮挡损失 shading loss", style_elements(r, al), False,
                       "roof planes by annual shading loss")]


def array_styles(al: dict[str, str]) -> list[LayerStyle]:
    """Module rows as dark-blue outlines over a translucent fill."""
    r = single(fill_symbol("", (49, 54, 149), outline=(8, 29, 88), outline_mm=0.15,
                           fill_alpha=110))
    return [LayerStyle("光伏阵列 module rows", style_elements(r, al), False,
                       "module rows of the layout preview")]


def unmatched_styles(al: dict[str, str]) -> list[LayerStyle]:
    """Raised roofs with no footprint: hatched magenta, to stand out from the buildings
    as the ones the register misses."""
    r = single(fill_symbol("", (197, 27, 125), outline=(142, 1, 82), outline_mm=0.4, brush="b_diagonal"))
    return [LayerStyle("无轮廓屋顶 roofs without footprint", style_elements(r, al), False,
                       "raised DSM roofs no footprint covers (buildings missing from the register)")]


#: Fill colours of the surfaces beyond roofs, by type (ColorBrewer Dark2).
SURFACE_COLOURS = {"carport": (27, 158, 119), "corridor": (217, 95, 2), "tank_cover": (117, 112, 179),
                   "greenhouse": (102, 166, 30), "rural_yard": (230, 171, 2)}


def surface_styles(frame: pd.DataFrame, al: dict[str, str]) -> list[LayerStyle]:
    """Surfaces beyond roofs by type (default, hatched so the roofs under them show) and
    by capacity (quantile classes)."""
    by_type = categorized("surface_type", [
        (kind, f"{SURFACE_TYPES[kind][0]} {kind}",
         fill_symbol("", colour, outline=_darker(colour), outline_mm=0.4, brush="b_diagonal"))
        for kind, colour in SURFACE_COLOURS.items()
    ])
    out = [LayerStyle("场地类型 surface type", style_elements(by_type, al), False,
                      "surfaces beyond roofs by type (carport, corridor, tank cover, greenhouse, rural yard)")]
    breaks = quantile_breaks(frame.get("kwp", []))
    if breaks:
        by_kwp = _graduated_by("kwp", breaks, SEQUENTIAL, "{:.0f}", outline=(90, 90, 90), outline_mm=0.2)
        out.append(LayerStyle("容量 capacity", style_elements(by_kwp, al), False,
                              "surfaces by capacity (kWp), quantile classes"))
    return out


def marker_symbol(fill, size_mm: float = 3.0, outline=(35, 35, 35)) -> ET.Element:
    """A point symbol: one simple circle marker."""
    symbol = ET.Element("symbol", type="marker", name="", alpha="1", clip_to_extent="1", force_rhr="0")
    layer = ET.SubElement(symbol, "layer", {"class": "SimpleMarker", "enabled": "1", "pass": "0",
                                            "locked": "0"})
    _options(layer, {"name": "circle", "color": _rgba(fill), "outline_color": _rgba(outline),
                     "outline_width": "0.2", "outline_width_unit": "MM", "size": f"{size_mm:g}",
                     "size_unit": "MM"})
    return symbol


#: DL/T 2041 grades: colour and label.
GRADE_COLOURS = {"green": ((26, 150, 65), "绿色 可接入"), "yellow": ((253, 174, 97), "黄色 接近上限"),
                 "red": ((215, 25, 28), "红色 无可开放容量")}


def transformer_styles(al: dict[str, str]) -> list[LayerStyle]:
    """Transformers by DL/T 2041 grade today (default) and once the plan is built."""
    out = []
    for field, name, what in (("grade", "承载力等级 hosting grade", "DL/T 2041 grade today"),
                              ("planned_grade", "规划后等级 grade after the plan", "grade once the admitted PV is built")):
        r = categorized(field, [(g, label, marker_symbol(c)) for g, (c, label) in GRADE_COLOURS.items()])
        out.append(LayerStyle(name, style_elements(r, al), False, what))
    return out


def service_area_styles(al: dict[str, str]) -> list[LayerStyle]:
    """Transformer service areas filled by DL/T 2041 grade today (default) and once the
    plan is built, half transparent over the map."""
    out = []
    for field, name, what in (("grade", "承载力等级 hosting grade", "DL/T 2041 grade today"),
                              ("planned_grade", "规划后等级 grade after the plan", "grade once the admitted PV is built")):
        r = categorized(field, [(g, label, fill_symbol("", c, outline=c, outline_mm=0.3, fill_alpha=90))
                                for g, (c, label) in GRADE_COLOURS.items()])
        out.append(LayerStyle(name, style_elements(r, al), False, what))
    return out


#: Class breaks of the walls' irradiation after shading, kWh/m²·yr (the first class:
#: walls that carry no modules).
FACADE_BREAKS = [0.0, 1.0, 500.0, 650.0, 800.0, 950.0, 2000.0]


def facade_styles(al: dict[str, str]) -> list[LayerStyle]:
    """Walls as thick lines by their irradiation after shading (grey: no modules)."""
    sun = 'CASE WHEN "usable_area_m2" > 0 THEN "poa_kwh_m2" * (1 - coalesce("shading_loss", 0)) ELSE 0 END'
    colors = [(189, 189, 189), *_ramp(SEQUENTIAL, len(FACADE_BREAKS) - 2)]
    classes = [(lo, hi, "无组件 no modules" if lo == 0 else f"{lo:.0f} – {hi:.0f} kWh/m²", line_symbol("", c))
               for lo, hi, c in zip(FACADE_BREAKS[:-1], FACADE_BREAKS[1:], colors)]
    return [LayerStyle("立面辐照 facade irradiation", style_elements(graduated(sun, classes), al), False,
                       "walls by annual irradiation after shading (kWh/m²); grey: no BIPV")]


#: The styles of each styled layer, from (frame, targets, aliases).
STYLES_BY_LAYER = {
    "buildings": lambda frame, targets, al: building_styles(frame, al),
    "townships": lambda frame, targets, al: township_styles(frame, targets, al),
    "counties": lambda frame, targets, al: township_styles(frame, targets, al, "county"),
    "rollout_plan": lambda frame, targets, al: plan_styles(frame, al),
    "roof_planes": lambda frame, targets, al: plane_styles(al),
    "pv_arrays": lambda frame, targets, al: array_styles(al),
    "unmatched_roofs": lambda frame, targets, al: unmatched_styles(al),
    "surfaces": lambda frame, targets, al: surface_styles(frame, al),
    "transformers": lambda frame, targets, al: transformer_styles(al),
    "transformer_areas": lambda frame, targets, al: service_area_styles(al),
    "facades": lambda frame, targets, al: facade_styles(al),
}


def layer_styles(layers: dict[str, pd.DataFrame], targets: dict[str, str]) -> list[Style]:
    """Every style of the ``layers`` present, first of each layer the default.

    ``targets`` maps policy target names to their labels (for the township styles and
    the per-target aliases)."""
    out = []
    for layer, frame in layers.items():
        al = aliases(frame.columns, targets)
        make = STYLES_BY_LAYER.get(layer)
        if make is None:
            continue
        styles = make(frame, targets, al)
        for i, s in enumerate(styles):
            scale = DETAIL_SCALE if layer in DETAIL_LAYERS else None
            out.append(Style(layer, s.name, qml(s.elements, s.labels, scale), i == 0, s.description))
    return out
