"""Maps of the report as inline SVG drawn straight from the geometries (no plotting
library): vector roofs stay sharp in print and PDF, text stays text in the page's font.

A township map is an atlas: an overview of the township boundary with the sheets
(lettered A, B, …) placed on the clusters of buildings, and one sheet per cluster at a
scale where a roof of median size is :data:`MIN_ROOF_PX` pixels across or more, roofs
coloured by status and the planned roofs numbered as in the plan table. The city map
shows the townships coloured by the status of a target's last milestone. Every map has
a scale bar and a north arrow (grid north of the projected CRS).
"""

from __future__ import annotations

import math
import string
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely

from roofpv.appraise.suitability import STATUS_COLOURS, STATUSES
from roofpv.report import svg
from roofpv.report.svg import INK

#: Width of the page's map area in CSS pixels (A4 with 14 mm margins, 96 dpi) and of
#: one atlas sheet (three to a row).
PAGE_PX, SHEET_PX = 680.0, 220.0
#: Median roof width on a sheet, pixels (the sheets' scale is chosen for it).
MIN_ROOF_PX = 6.0
#: Sheets per township at most; beyond it the sheets grow and roofs get smaller.
MAX_SHEETS = 24
#: Buildings closer than this many sheet widths share a cluster.
LINK_SHARE = 0.25
#: Colours: township boundary, overview roofs, sheet frames.
BOUNDARY, ROOF_GREY, FRAME = "#34495e", "#7f8c8d", "#c0392b"
#: Fill of a township without a status (no buildings in the cohort).
NO_STATUS = "#eeeeee"


def hex_colour(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def projected(frame: gpd.GeoDataFrame | gpd.GeoSeries):
    """``frame`` in a metric CRS (its own when projected, else the local UTM zone)."""
    if frame.crs is None or frame.crs.is_projected or frame.empty:
        return frame
    return frame.to_crs(frame.estimate_utm_crs())


@dataclass(frozen=True)
class View:
    """A map window: ground box (metres) and its drawing size (pixels)."""

    x0: float
    y0: float
    x1: float
    y1: float
    width: float

    @property
    def scale(self) -> float:
        """Metres per pixel."""
        return (self.x1 - self.x0) / self.width

    @property
    def height(self) -> float:
        return (self.y1 - self.y0) / self.scale

    def px(self, xy: np.ndarray) -> np.ndarray:
        return np.column_stack([(xy[:, 0] - self.x0) / self.scale, (self.y1 - xy[:, 1]) / self.scale])


def path_data(geoms, view: View) -> str:
    """SVG path data of polygons and lines (``M x y x y …``, ``Z`` closing polygon
    rings), clipped to the view (with a margin)."""
    geoms = np.asarray(geoms, dtype=object)
    if not len(geoms):
        return ""
    pad = 4 * view.scale
    geoms = shapely.clip_by_rect(geoms, view.x0 - pad, view.y0 - pad, view.x1 + pad, view.y1 + pad)
    parts = shapely.get_parts(geoms[~shapely.is_empty(geoms)])
    polygon = shapely.get_type_id(parts) == 3
    lines = parts[~polygon & np.isin(shapely.get_type_id(parts), (1, 2))]
    rings = np.concatenate([shapely.get_rings(parts[polygon]), lines])
    if not len(rings):
        return ""
    closed = np.arange(len(rings)) < len(rings) - len(lines)
    xy, index = shapely.get_coordinates(rings, return_index=True)
    coords = [f"{x:g} {y:g}" for x, y in np.round(view.px(xy), 1).tolist()]
    starts = np.flatnonzero(np.r_[True, index[1:] != index[:-1]])
    ends = np.r_[starts[1:], len(index)]
    return " ".join("M" + " ".join(coords[s:e]) + ("Z" if closed[index[s]] else "")
                    for s, e in zip(starts.tolist(), ends.tolist()))


def _text(x: float, y: float, text: str, size: float = 9, anchor: str = "start", weight: str = "normal",
          colour: str = INK) -> str:
    return svg.text(x, y, text, size, anchor, weight, colour, halo=True)


def scale_bar(view: View, unit_m: str = "m", unit_km: str = "km") -> str:
    """A scale bar of a round length about a fifth of the map wide, bottom left."""
    target = view.scale * view.width / 5
    step = 10 ** math.floor(math.log10(target))
    length = max(s * step for s in (1, 2, 5) if s * step <= target)
    bar = length / view.scale
    x, y = 8.0, view.height - 10
    label = f"{length / 1000:g} {unit_km}" if length >= 1000 else f"{length:g} {unit_m}"
    return (f'<g class="scale"><rect x="{x}" y="{y - 4:.1f}" width="{bar / 2:.1f}" height="4" fill="{INK}"/>'
            f'<rect x="{x + bar / 2:.1f}" y="{y - 4:.1f}" width="{bar / 2:.1f}" height="4" fill="#fff" '
            f'stroke="{INK}" stroke-width="0.8"/>{_text(x + bar + 4, y, label, 8)}</g>')


def north_arrow(view: View, north: str = "N") -> str:
    """A north arrow, top right (grid north of the map's CRS)."""
    x, y = view.width - 14, 8.0
    return (f'<g class="north"><path d="M{x} {y} L{x + 6} {y + 18} L{x} {y + 14} L{x - 6} {y + 18} Z" '
            f'fill="{INK}"/>{_text(x, y + 29, north, 8, "middle", "bold")}</g>')


def _svg(view: View, body: list[str], label: str) -> str:
    return svg.document(view.width, view.height, body, label, "map",
                        '<rect width="100%" height="100%" fill="#fbfcfc" stroke="#d5d8dc"/>', clip=True)


def _fit(box: tuple[float, float, float, float], width: float, pad: float = 0.04, max_aspect: float = 1.0) -> View:
    """A view of ``width`` pixels around ``box`` (with a margin), height at most
    ``max_aspect`` times the width."""
    x0, y0, x1, y1 = box
    w, h = max(x1 - x0, 1.0), max(y1 - y0, 1.0)
    w, h = w * (1 + 2 * pad), h * (1 + 2 * pad)
    w = max(w, h / max_aspect)
    h = max(h, w * 0.45)
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return View(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2, width)


def clusters(cells: np.ndarray) -> tuple[np.ndarray, int]:
    """Cluster of each grid cell ``cells`` (n, 2) (cells touching at a side or a corner
    share one) and the number of clusters; clusters numbered in the order of their first
    cell by row, then column."""
    occupied, where = np.unique(cells, axis=0, return_inverse=True)
    number = {cell: i for i, cell in enumerate(map(tuple, occupied.tolist()))}
    label = [-1] * len(occupied)
    n = 0
    for start, (x0, y0) in enumerate(number):
        if label[start] >= 0:
            continue
        label[start], stack = n, [(x0, y0)]
        while stack:
            x, y = stack.pop()
            for near in ((x + dx, y + dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)):
                j = number.get(near)
                if j is not None and label[j] < 0:
                    label[j] = n
                    stack.append(near)
        n += 1
    return np.asarray(label, int)[where.ravel()], n


def sheet_boxes(xy: np.ndarray, side: float) -> list[tuple[float, float, float, float]]:
    """Square ground boxes (at most ``side`` metres) covering the points ``xy``: one per
    cluster of points (linked when closer than a quarter of ``side``), large clusters cut
    into a grid of ``side``; ordered north to south, then west to east."""
    if not len(xy):
        return []
    cluster, n = clusters(np.floor((xy - xy.min(axis=0)) / (side * LINK_SHARE)).astype(int))
    boxes = []
    for k in range(n):
        pts = xy[cluster == k]
        (x0, y0), (x1, y1) = pts.min(axis=0), pts.max(axis=0)
        if max(x1 - x0, y1 - y0) <= side * 0.9:
            s = max(x1 - x0, y1 - y0, side / 3) / 0.9
            cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
            boxes.append((cx - s / 2, cy - s / 2, cx + s / 2, cy + s / 2))
            continue
        nx, ny = math.ceil((x1 - x0) / side), math.ceil((y1 - y0) / side)
        ox, oy = (x0 + x1 - nx * side) / 2, (y0 + y1 - ny * side) / 2
        ix = np.minimum(((pts[:, 0] - ox) // side).astype(int), nx - 1)
        iy = np.minimum(((pts[:, 1] - oy) // side).astype(int), ny - 1)
        for i, j in sorted(set(zip(ix.tolist(), iy.tolist()))):
            boxes.append((ox + i * side, oy + j * side, ox + (i + 1) * side, oy + (j + 1) * side))
    return sorted(boxes, key=lambda b: (-round((b[1] + b[3]) / 2 / side), (b[0] + b[2]) / 2))


def sheet_letter(i: int) -> str:
    """A, B, … Z, AA, AB, …"""
    letters = string.ascii_uppercase
    return letters[i] if i < 26 else sheet_letter(i // 26 - 1) + letters[i % 26]


@dataclass(frozen=True)
class Atlas:
    """A township's maps: ``overview`` and ``sheets`` (letter, SVG) as SVG text,
    ``sheet_of`` the letter of each building's sheet (by building id) and the scale of
    the sheets (metres per pixel)."""

    overview: str
    sheets: list[tuple[str, str]]
    sheet_of: dict
    scale: float


def township_atlas(buildings: gpd.GeoDataFrame, boundary: gpd.GeoSeries | None, numbers: dict,
                   words: dict[str, str]) -> Atlas:
    """The atlas of one township: ``buildings`` with ``suitability``; ``numbers`` maps
    building id → number written on the roof (its rank in the page's plan table);
    ``words`` has ``sheet``, ``north``, ``m``, ``km`` and ``overview``. Buildings without
    a geometry (kept in the tables with their reason) are not drawn."""
    b = projected(buildings[~(buildings.geometry.isna() | buildings.geometry.is_empty).to_numpy()])
    geoms = b.geometry.to_numpy()
    if boundary is not None and not boundary.empty and b.crs is not None and boundary.crs is not None:
        boundary = boundary.to_crs(b.crs)
    if not len(b):
        box = tuple(boundary.total_bounds) if boundary is not None and not boundary.empty else (0, 0, 1000, 1000)
        view = _fit(box, PAGE_PX, max_aspect=0.75)
        return Atlas(_svg(view, [scale_bar(view, words["m"], words["km"]), north_arrow(view, words["north"])],
                          words["overview"]), [], {}, view.scale)
    centre = shapely.get_coordinates(shapely.centroid(geoms))
    roof_m = float(np.median(np.sqrt(np.maximum(shapely.area(geoms), 1.0))))
    side = SHEET_PX * roof_m / MIN_ROOF_PX
    boxes = sheet_boxes(centre, side)
    while len(boxes) > MAX_SHEETS:
        side *= 1.25
        boxes = sheet_boxes(centre, side)
    letters = [sheet_letter(i) for i in range(len(boxes))]
    # the sheet of each building: the first whose box holds its centre
    sheet_of = np.full(len(b), "", dtype=object)
    for letter, (x0, y0, x1, y1) in zip(letters, boxes):
        inside = (sheet_of == "") & (centre[:, 0] >= x0) & (centre[:, 0] <= x1) & (centre[:, 1] >= y0) & (centre[:, 1] <= y1)
        sheet_of[inside] = letter
    status = b["suitability"].to_numpy()
    edge = boundary.boundary.to_numpy() if boundary is not None and not boundary.empty else np.array([], object)

    # overview: boundary, roofs in grey, sheet frames with their letters
    extent = np.array([*centre.min(axis=0), *centre.max(axis=0)])
    if len(edge):
        extent = np.r_[np.minimum(extent[:2], boundary.total_bounds[:2]), np.maximum(extent[2:], boundary.total_bounds[2:])]
    view = _fit(tuple(extent), PAGE_PX, max_aspect=0.75)
    body = [f'<path d="{path_data(edge, view)}" fill="none" stroke="{BOUNDARY}" stroke-width="1.2"/>',
            f'<path d="{path_data(geoms, view)}" fill="{ROOF_GREY}" stroke="{ROOF_GREY}" stroke-width="0.6"/>']
    for letter, (x0, y0, x1, y1) in zip(letters, boxes):
        (px0, py1), (px1, py0) = view.px(np.array([[x0, y0], [x1, y1]]))
        body.append(f'<rect x="{px0:.1f}" y="{py0:.1f}" width="{px1 - px0:.1f}" height="{py1 - py0:.1f}" '
                    f'fill="none" stroke="{FRAME}" stroke-width="1"/>')
        body.append(_text(px0 + 2, py0 - 2, letter, 9, weight="bold", colour=FRAME))
    body += [scale_bar(view, words["m"], words["km"]), north_arrow(view, words["north"])]
    overview = _svg(view, body, words["overview"])

    ids = b.index.to_numpy()
    sheets = []
    for letter, box in zip(letters, boxes):
        view = View(*box, SHEET_PX)
        x0, y0, x1, y1 = box
        near = (centre[:, 0] >= x0 - side) & (centre[:, 0] <= x1 + side) & (centre[:, 1] >= y0 - side) & (centre[:, 1] <= y1 + side)
        body = [f'<path d="{path_data(edge, view)}" fill="none" stroke="{BOUNDARY}" stroke-width="1.2" stroke-dasharray="5 3"/>']
        for s in STATUSES:
            take = near & (status == s)
            if take.any():
                colour = hex_colour(STATUS_COLOURS[s])
                body.append(f'<path class="roof-{s}" d="{path_data(geoms[take], view)}" fill="{colour}" '
                            f'fill-rule="evenodd" stroke="#2c3e50" stroke-width="0.4"/>')
        for k in np.flatnonzero(near):
            number = numbers.get(ids[k])
            if number is not None:
                (x, y), = view.px(centre[k:k + 1])
                body.append(_text(x, y + 3.5, number, 9.5, "middle", "bold"))
        body += [_text(6, 14, f"{words['sheet']} {letter}", 10, weight="bold", colour=FRAME),
                 scale_bar(view, words["m"], words["km"]), north_arrow(view, words["north"])]
        sheets.append((letter, _svg(view, body, f"{words['sheet']} {letter}")))
    return Atlas(overview, sheets, dict(zip(ids, sheet_of)), side / SHEET_PX)


def city_map(polygons: gpd.GeoDataFrame, fill: dict[str, str], words: dict[str, str], title: str) -> str:
    """Townships (``polygons`` indexed by name) filled with ``fill`` (name → colour;
    :data:`NO_STATUS` where missing), with their names, a scale bar and a north arrow."""
    p = projected(polygons)
    view = _fit(tuple(p.total_bounds), PAGE_PX / 2 - 6, pad=0.03, max_aspect=1.2)
    body = []
    for name, geom in zip(p.index, p.geometry):
        colour = fill.get(name, NO_STATUS)
        body.append(f'<path d="{path_data([geom], view)}" fill="{colour}" stroke="#ffffff" stroke-width="1.2"/>')
    for name, point in zip(p.index, p.geometry.representative_point()):
        (x, y), = view.px(np.array([[point.x, point.y]]))
        body.append(_text(x, y, name, 8.5, "middle"))
    body += [_text(6, 14, title, 9.5, weight="bold"), scale_bar(view, words["m"], words["km"]),
             north_arrow(view, words["north"])]
    return _svg(view, body, title)
