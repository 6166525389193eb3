"""Report charts as inline SVG drawn straight from the numbers (no plotting library):
bar charts whose text stays text, laid out with the advance widths of the packaged font
and drawn by the browser with the page's embedded font.

Lengths are in points of a chart :data:`WIDTH` wide (7 in, an A4 page with 15 mm
margins); the page's CSS scales the chart to the width of the page.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from roofpv.report import svg
from roofpv.report.fonts import text_width
from roofpv.report.labels import code_label, text
from roofpv.targets.milestones import COLOURS, LABELS

#: Colours: coverage today, potential (and capacity), generation, monthly generation.
TODAY, POTENTIAL, GENERATION, MONTHLY = "#7f8c8d", "#2e8b57", "#2874a6", "#d4a017"
#: Colour of the screening coverage (suitable and conditional roofs): the potential's, lighter.
SCREENING = "#a9dfbf"
#: Width of a chart and the margin around its drawing, points.
WIDTH, MARGIN = 504.0, 8.0
#: Font sizes, points: tick and category labels, titles, values written beside bars,
#: milestone labels.
LABEL, TITLE, VALUE, NOTE = 9.0, 9.5, 8.0, 7.5
#: Tick mark length and gap between a tick and its label; height of a title line and
#: of an axis's tick labels, points.
TICK, PAD, LINE, AXIS = 3.5, 3.5, 13.0, 17.0
#: Points per tick interval at least (the ticks' density).
TICK_SPACING = 40.0


@dataclass(frozen=True)
class Axes:
    """A plot area: its box in points and the data ranges it shows."""

    left: float
    top: float
    right: float
    bottom: float
    x_min: float
    x_max: float
    y_min: float
    y_max: float

    def x(self, v: ArrayLike) -> np.ndarray:
        """Points from the chart's left edge of data ``v``."""
        return self.left + (self.right - self.left) * (np.asarray(v, float) - self.x_min) / (self.x_max - self.x_min)

    def y(self, v: ArrayLike) -> np.ndarray:
        """Points from the chart's top edge of data ``v``."""
        return self.bottom - (self.bottom - self.top) * (np.asarray(v, float) - self.y_min) / (self.y_max - self.y_min)


def nice_ticks(top: float, most: int) -> tuple[np.ndarray, int]:
    """Ticks from 0 to at most ``top`` at the smallest step of 1, 2, 2.5 or 5 times a power
    of ten that gives at most ``most`` whole intervals, and the decimals the step needs."""
    top = top if np.isfinite(top) and top > 0 else 1.0
    power = 10.0 ** math.floor(math.log10(top / (max(most, 1) + 1)))
    step = next(m * power for m in (1, 2, 2.5, 5, 10, 20) if math.floor(top / (m * power) + 1e-9) <= max(most, 1))
    decimals = next(d for d in range(12) if abs(round(step, d) - step) <= step * 1e-9)
    return step * np.arange(math.floor(top / step + 1e-9) + 1), decimals


def wrap(value: str, size: float, width: float) -> list[str]:
    """``value`` in lines at most ``width`` wide at font ``size``: broken between words
    or between any two Chinese characters."""
    tokens = []
    for token in re.findall(r"[!-~]+|\s+|.", value):
        tokens += list(token) if text_width(token, size) > width else [token]
    lines, line = [], ""
    for token in tokens:
        if line.strip() and text_width(line + token, size) > width:
            lines.append(line.rstrip())
            line = token.lstrip()
        else:
            line += token
    return [*lines, line.rstrip()] if line.strip() else lines


def shorten(value: str, size: float, width: float) -> str:
    """``value``, cut and ended with an ellipsis where it is wider than ``width`` at ``size``."""
    if text_width(value, size) <= width:
        return value
    while value and text_width(value + "…", size) > width:
        value = value[:-1]
    return value + "…"


def _x_axis(ax: Axes, at: np.ndarray, labels: list[str]) -> list[str]:
    """Bottom spine with tick marks at data ``at`` and their labels."""
    out = [svg.line(ax.left, ax.bottom, ax.right, ax.bottom)]
    below = ax.bottom + TICK + PAD + 0.8 * LABEL
    for x, label in zip(ax.x(at).tolist(), labels):
        out += [svg.line(x, ax.bottom, x, ax.bottom + TICK), svg.text(x, below, label, LABEL, "middle")]
    return out


def _y_axis(ax: Axes, at: np.ndarray, labels: list[str] | None) -> list[str]:
    """Left spine with tick marks at data ``at`` and their labels (none: marks only)."""
    out = [svg.line(ax.left, ax.top, ax.left, ax.bottom)]
    for k, y in enumerate(ax.y(at).tolist()):
        out.append(svg.line(ax.left - TICK, y, ax.left, y))
        if labels is not None:
            out.append(svg.text(ax.left - TICK - PAD, y + 0.35 * LABEL, labels[k], LABEL, "end"))
    return out


def _hbars(ax: Axes, at: np.ndarray, values: np.ndarray, colours: list[str], height: float = 0.6) -> list[str]:
    """Horizontal bars from 0 to ``values`` centred on data ``at``, ``height`` data units."""
    top, bottom = ax.y(np.asarray(at) + height / 2), ax.y(np.asarray(at) - height / 2)
    return [svg.rect(ax.left, t, x - ax.left, b - t, colour)
            for t, b, x, colour in zip(top.tolist(), bottom.tolist(), ax.x(values).tolist(), colours)]


def coverage_chart(rows: list[dict], lang: str) -> str:
    """Per target (cohort): bars of coverage today, potential and, where the rows have it,
    the screening coverage (suitable and conditional roofs, not counted toward the target),
    with the milestone targets as vertical lines in the colour of their status (solid: met
    or on track)."""
    t = text(lang)
    screening = any("technical" in r for r in rows)
    labels = [t["coverage_today"], t["coverage_potential"], *([t["coverage_technical"]] if screening else [])]
    bars = np.arange(len(labels), dtype=float)[::-1] - (len(labels) - 2)
    left = MARGIN + max(text_width(s, LABEL) for s in labels) + TICK + PAD
    right = WIDTH - MARGIN
    body, y = [], MARGIN
    for row in rows:
        target = row["target"]
        title = target.label if lang == "zh" else target.name.replace("_", " ")
        metric = t[f"metric_{target.metric}"] if f"metric_{target.metric}" in t else target.metric
        for line in wrap(f"{title} ({metric})", TITLE, right - left):
            y += LINE
            body.append(svg.text(left, y - 2, line, TITLE))
        # An empty cohort has no coverage (NaN): no bar, a dash.
        shown = np.array([row["today"], row["potential"], *([row["technical"]] if screening else [])], float)
        values = np.where(np.isfinite(shown), shown, 0.0)
        top = max([*values, *(r for _, r, _ in row["milestones"])]) * 1.25 or 1.0
        ax = Axes(left, y + 4, right, y + 76 + 24 * (len(labels) - 2), 0.0, top, bars[-1] - 0.5, 2.15)
        body += _hbars(ax, bars, values, [TODAY, POTENTIAL, SCREENING][:len(labels)])
        for x, bar, v in zip(ax.x(values).tolist(), ax.y(bars).tolist(), shown):
            body.append(svg.text(x + 2, bar + 0.35 * VALUE, f"{v:.1%}" if np.isfinite(v) else "–", VALUE))
        for k, (year, ratio, status) in enumerate(row["milestones"]):
            x = float(ax.x(ratio))
            dash = None if status in ("met", "on_track") else "4 2"
            body.append(svg.line(x, ax.top, x, ax.bottom, COLOURS[status], 1.2, dash))
            note = f"{year} {t['target']} {ratio:.0%} {LABELS[lang][status]}"
            at = float(ax.y(1.4 + 0.35 * (k % 2))) - 1
            if x + 2 + text_width(note, NOTE) <= WIDTH - 2:
                body.append(svg.text(x + 2, at, note, NOTE, colour=COLOURS[status]))
            else:  # no room right of the line: left of it
                body.append(svg.text(x - 2, at, note, NOTE, "end", colour=COLOURS[status]))
        ticks, decimals = nice_ticks(top, int((right - left) / TICK_SPACING))
        body += _x_axis(ax, ticks, [f"{v * 100:.{max(decimals - 2, 0)}f}%" for v in ticks])
        body += _y_axis(ax, bars, labels)
        y = ax.bottom + AXIS + 4
    return svg.document(WIDTH, y + MARGIN, body, t["coverage"], "chart")


def category_chart(table: pd.DataFrame, lang: str, labels: dict[str, str] | None = None,
                   title: str | None = None) -> str:
    """Side-by-side bars of capacity (MWp) and generation (GWh/yr) per category (or per
    row of ``table`` named by ``labels``; ``title`` replaces the category chart's)."""
    t = text(lang)
    names = [shorten(labels[c] if labels else code_label("category", c, lang), LABEL, WIDTH / 3) for c in table.index]
    left = MARGIN + max([text_width(s, LABEL) for s in names], default=0.0) + TICK + PAD
    gap = 24.0
    panel = (WIDTH - MARGIN - left - gap) / 2
    n = max(len(table), 1)
    top = MARGIN + LINE + 4
    at = np.arange(len(table), dtype=float)[::-1] + (n - len(table))
    body = []
    for k, (column, colour, title) in enumerate((("capacity_mwp", POTENTIAL, t["capacity_mwp"]),
                                                 ("generation_gwh", GENERATION, t["generation_gwh"]))):
        values = np.nan_to_num(table[column].to_numpy(float))
        x0 = left + k * (panel + gap)
        ax = Axes(x0, top, x0 + panel, top + 25.0 * n, 0.0, (values.max() if len(values) else 1.0) * 1.25 or 1.0,
                  -0.5, n - 0.5)
        body.append(svg.text(x0, top - 5, title, TITLE))
        body += _hbars(ax, at, values, [colour] * len(values))
        for x, y, v in zip(ax.x(values).tolist(), ax.y(at).tolist(), values):
            body.append(svg.text(x + 2, y + 0.35 * NOTE, f"{v:,.1f}", NOTE))
        ticks, decimals = nice_ticks(ax.x_max, int(panel / TICK_SPACING))
        body += _x_axis(ax, ticks, [f"{v:,.{decimals}f}" for v in ticks])
        body += _y_axis(ax, at, names if k == 0 else None)
    return svg.document(WIDTH, top + 25.0 * n + AXIS + MARGIN, body, title or t["by_category"], "chart")


def monthly_chart(mwh: np.ndarray, lang: str) -> str:
    """Bars of generation per month (MWh)."""
    t = text(lang)
    months = t["month_names"].split(",")
    mwh = np.nan_to_num(np.asarray(mwh, float))
    y_max = mwh.max() * 1.05 or 1.0
    height = 166.0
    ticks, decimals = nice_ticks(y_max, int((height - 2 * MARGIN - AXIS) / 30))
    tick_labels = [f"{v:,.{decimals}f}" for v in ticks]
    left = MARGIN + LABEL + 6 + max(text_width(s, LABEL) for s in tick_labels) + TICK + PAD
    ax = Axes(left, MARGIN + 4, WIDTH - MARGIN, height - MARGIN - AXIS, -0.5, 11.5, 0.0, y_max)
    bottom, x = ax.y(0.0), ax.x(np.arange(12) - 0.35)
    width = float(ax.x(0.35) - ax.x(-0.35))
    body = [svg.rect(xi, yi, width, bottom - yi, MONTHLY) for xi, yi in zip(x.tolist(), ax.y(mwh).tolist())]
    body += _x_axis(ax, np.arange(12), months) + _y_axis(ax, ticks, tick_labels)
    body.append(svg.text(MARGIN + 0.8 * LABEL, (ax.top + ax.bottom) / 2, t["generation_mwh"], LABEL, "middle",
                         rotate=True))
    return svg.document(WIDTH, height, body, t["monthly"], "chart")
