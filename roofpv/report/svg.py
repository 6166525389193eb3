"""SVG elements of the report's maps and charts, written as text.

Every string is made printable in the packaged font and escaped here, so a name from
the inputs cannot open a tag or an attribute; numbers are written to 0.1 unit.
"""

from __future__ import annotations

import hashlib

from markupsafe import escape

from roofpv.report.fonts import printable

#: Colour of text and axes.
INK = "#1b2631"


def text(x: float, y: float, value: object, size: float = 9, anchor: str = "start", weight: str = "normal",
         colour: str = INK, halo: bool = False, rotate: bool = False) -> str:
    """A ``<text>`` at (``x``, ``y``) (baseline); ``anchor`` is ``start``, ``middle`` or
    ``end``; ``halo`` draws a white outline under it (text over a map); ``rotate`` turns
    it a quarter to the left (a vertical axis label)."""
    attrs = ' stroke="#fff" stroke-width="2.5" paint-order="stroke" stroke-linejoin="round"' if halo else ""
    if rotate:
        attrs += f' transform="rotate(-90 {x:.1f} {y:.1f})"'
    anchor_attr = f' text-anchor="{anchor}"' if anchor != "start" else ""
    weight_attr = f' font-weight="{weight}"' if weight != "normal" else ""
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size:g}"{anchor_attr}{weight_attr} fill="{colour}"'
            f'{attrs}>{escape(printable(str(value)))}</text>')


def rect(x: float, y: float, width: float, height: float, fill: str, **attrs: str) -> str:
    """A ``<rect>``; ``attrs`` are further attributes (``_`` written as ``-``)."""
    extra = "".join(f' {k.replace("_", "-")}="{v}"' for k, v in attrs.items())
    return f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{height:.1f}" fill="{fill}"{extra}/>'


def line(x0: float, y0: float, x1: float, y1: float, colour: str = INK, width: float = 0.8,
         dash: str | None = None) -> str:
    """A ``<line>``, dashed with the SVG ``dash`` array when given."""
    dashed = f' stroke-dasharray="{dash}"' if dash else ""
    return (f'<line x1="{x0:.1f}" y1="{y0:.1f}" x2="{x1:.1f}" y2="{y1:.1f}" stroke="{colour}" '
            f'stroke-width="{width:g}"{dashed}/>')


def document(width: float, height: float, body: list[str], label: str, css_class: str,
             background: str = "", clip: bool = False) -> str:
    """An inline ``<svg>`` of ``width`` × ``height`` user units (scaled to the page's
    width by its CSS) holding ``background`` (an element) and ``body``; ``label`` is read
    out by screen readers.

    With ``clip`` the body is drawn through a ``<clipPath>`` of the box, so nothing shows
    outside it whatever the renderer does with ``overflow`` (Chromium draws an inline
    SVG's overflow onto the page and into the PDF). The clip's id is made from the body,
    so it is unique among the maps of a page and of the combined PDF, and the same for
    the same drawing.
    """
    content = "".join(body)
    if clip:
        key = hashlib.sha1(f"{width:.0f} {height:.0f} {content}".encode()).hexdigest()[:12]
        content = (f'<defs><clipPath id="clip-{key}"><rect width="{width:.0f}" height="{height:.0f}"/>'
                   f'</clipPath></defs><g clip-path="url(#clip-{key})">{content}</g>')
    return (f'<svg class="{css_class}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" '
            f'width="{width:.0f}" height="{height:.0f}" overflow="hidden" role="img" '
            f'aria-label="{escape(printable(label))}">{background}{content}</svg>')
