"""Maps of roofs by suitability, as inline SVG (roofs rasterised inside the SVG so a
township of thousands of footprints stays small; labels and legend stay text)."""

from __future__ import annotations

import geopandas as gpd
import matplotlib.pyplot as plt
from matplotlib.patches import Patch

from ..suitability import STATUS_COLOURS, STATUSES
from .charts import WIDTH_IN, style, to_svg
from .labels import text

#: Resolution of the rasterised roofs, dots per inch.
DPI = 200


def suitability_map(buildings: gpd.GeoDataFrame, boundary: gpd.GeoSeries | None, lang: str,
                    salt: str, labels: gpd.GeoSeries | None = None, height_in: float = 5.2) -> str:
    """Roofs coloured by suitability inside the township boundaries; ``labels`` (points
    indexed by name) are written on the map."""
    t = text(lang)
    with style(salt):
        fig, ax = plt.subplots(figsize=(WIDTH_IN, height_in))
        if boundary is not None and not boundary.empty:
            boundary.boundary.plot(ax=ax, color="#34495e", linewidth=0.8)
        for status in STATUSES:
            roofs = buildings[buildings["suitability"] == status]
            if not roofs.empty:
                # an outline of the roof's colour keeps small roofs visible on a township map
                colour = _hex(STATUS_COLOURS[status])
                roofs.plot(ax=ax, color=colour, edgecolor=colour, linewidth=0.5, rasterized=True)
        if labels is not None:
            for name, point in labels.items():
                ax.annotate(str(name), (point.x, point.y), ha="center", fontsize=8, color="#1b2631")
        ax.set_aspect("equal")
        ax.set_axis_off()
        handles = [Patch(color=_hex(STATUS_COLOURS[s]), label=t[s]) for s in STATUSES]
        handles.append(Patch(facecolor="none", edgecolor="#34495e", label=t["legend_boundary"]))
        ax.legend(handles=handles, loc="lower left", fontsize=8, frameon=True)
        return to_svg(fig, dpi=DPI, tight=True)


def _hex(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)
