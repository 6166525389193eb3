"""Report charts as inline SVG: matplotlib figures whose text stays text, drawn by the
browser with the page's embedded Chinese font."""

from __future__ import annotations

import io
import textwrap
from contextlib import contextmanager

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..milestones import COLOURS, LABELS
from .fonts import register_with_matplotlib
from .labels import code_label, text

#: Colours: today, potential, target markers; and roofs by suitability.
TODAY, POTENTIAL, TARGET = "#7f8c8d", "#2e8b57", "#c0392b"
#: Width of a chart on an A4 page with 15 mm margins, inches.
WIDTH_IN = 7.0


@contextmanager
def style(salt: str):
    """matplotlib settings of every report figure; ``salt`` makes SVG ids unique per chart."""
    family = register_with_matplotlib()
    rc = {
        "font.family": [family, "DejaVu Sans"], "font.size": 9, "svg.fonttype": "none",
        "svg.hashsalt": salt, "text.parse_math": False, "axes.spines.top": False,
        "axes.spines.right": False, "axes.titlesize": 9.5,
    }
    with matplotlib.rc_context(rc):
        yield


def to_svg(fig, dpi: float = 72, tight: bool = False) -> str:
    """The figure as an ``<svg>`` element for inline use (no XML prolog, no date);
    ``dpi`` is the resolution of rasterised artists, ``tight`` crops to the drawing."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight" if tight else None, dpi=dpi,
                metadata={"Date": None})
    plt.close(fig)
    svg = buffer.getvalue()
    return svg[svg.index("<svg"):]


def _percent(ax, axis: str = "x") -> None:
    fmt = matplotlib.ticker.PercentFormatter(1.0, decimals=0)
    (ax.xaxis if axis == "x" else ax.yaxis).set_major_formatter(fmt)


def coverage_chart(rows: list[dict], lang: str, salt: str) -> str:
    """Per target (cohort): bars of coverage today and potential, with the milestone
    targets as vertical lines in the colour of their status (solid: met or on track)."""
    t = text(lang)
    with style(salt):
        fig, axes = plt.subplots(len(rows), 1, figsize=(WIDTH_IN, 1.5 * len(rows) + 0.3), squeeze=False)
        for ax, row in zip(axes[:, 0], rows):
            target = row["target"]
            # An empty cohort has no coverage (NaN): no bar, a dash.
            shown = [row["today"], row["potential"]]
            values = [v if np.isfinite(v) else 0.0 for v in shown]
            labels = [t["coverage_today"], t["coverage_potential"]]
            bars = ax.barh([1, 0], values, color=[TODAY, POTENTIAL], height=0.6)
            ax.set_yticks([1, 0], labels)
            for bar, v in zip(bars, shown):
                ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2,
                        f" {v:.1%}" if np.isfinite(v) else " –", va="center", fontsize=8)
            top = max([*values, *(r for _, r, _ in row["milestones"])]) * 1.25 or 1.0
            for k, (year, ratio, status) in enumerate(row["milestones"]):
                good = status in ("met", "on_track")
                ax.axvline(ratio, color=COLOURS[status], linestyle="-" if good else "--", linewidth=1.2)
                ax.text(ratio, 1.4 + 0.35 * (k % 2), f" {year} {t['target']} {ratio:.0%} {LABELS[lang][status]}",
                        color=COLOURS[status], fontsize=7.5, ha="left", va="bottom")
            ax.set_xlim(0, top)
            ax.set_ylim(-0.5, 2.15)
            _percent(ax)
            title = target.label if lang == "zh" else target.name.replace("_", " ")
            metric = t[f"metric_{target.metric}"] if f"metric_{target.metric}" in t else target.metric
            ax.set_title("\n".join(textwrap.wrap(f"{title} ({metric})", 60)), loc="left")
        fig.tight_layout()
        return to_svg(fig)


def category_chart(table: pd.DataFrame, lang: str, salt: str) -> str:
    """Side-by-side bars of capacity (MWp) and generation (GWh/yr) per category."""
    t = text(lang)
    names = [code_label("category", c, lang) for c in table.index]
    with style(salt):
        height = 0.35 * max(len(table), 1) + 0.9
        fig, (left, right) = plt.subplots(1, 2, figsize=(WIDTH_IN, height), sharey=True)
        y = np.arange(len(table))[::-1]
        for ax, column, colour, title in (
            (left, "capacity_mwp", POTENTIAL, t["capacity_mwp"]),
            (right, "generation_gwh", "#2874a6", t["generation_gwh"]),
        ):
            values = np.nan_to_num(table[column].to_numpy(float))
            ax.barh(y, values, color=colour, height=0.6)
            for yi, v in zip(y, values):
                ax.text(v, yi, f" {v:,.1f}", va="center", fontsize=7.5)
            ax.set_title(title, loc="left")
            ax.set_xlim(0, (values.max() if len(values) else 1.0) * 1.25 or 1.0)
        left.set_yticks(y, names)
        fig.tight_layout()
        return to_svg(fig)


def monthly_chart(mwh: np.ndarray, lang: str, salt: str) -> str:
    """Bars of generation per month (MWh)."""
    t = text(lang)
    months = t["month_names"].split(",")
    with style(salt):
        fig, ax = plt.subplots(figsize=(WIDTH_IN, 2.3))
        ax.bar(np.arange(12), mwh, color="#d4a017", width=0.7)
        ax.set_xticks(np.arange(12), months)
        ax.set_ylabel(t["generation_mwh"])
        ax.yaxis.set_major_formatter(matplotlib.ticker.StrMethodFormatter("{x:,.0f}"))
        fig.tight_layout()
        return to_svg(fig)
