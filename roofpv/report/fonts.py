"""The Chinese font of the reports: packaged, registered with matplotlib, and embedded
in each page as a WOFF2 subset of the characters the pages use.

The packaged font is Noto Sans CJK SC Regular (SIL Open Font License 1.1, see
``fonts/LICENSE-OFL.txt``) cut to GB 2312 by ``scripts/make_font.py``. Charts are SVG
with their text left as text, so pages and charts are drawn by the browser with the
same embedded font and a fresh machine needs no CJK font installed.
"""

from __future__ import annotations

import base64
import io
import unicodedata
from functools import cache
from importlib.resources import files
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

#: Family name of the packaged font, as matplotlib writes it into SVG text.
FAMILY = "Noto Sans CJK SC"


def font_path() -> Path:
    """Path of the packaged OpenType font."""
    return Path(str(files("roofpv.report") / "fonts" / "NotoSansCJKsc-GB2312.otf"))


@cache
def register_with_matplotlib() -> str:
    """Make the packaged font known to matplotlib (once); returns its family name."""
    from matplotlib import font_manager

    font_manager.fontManager.addfont(str(font_path()))
    return FAMILY


@cache
def coverage() -> frozenset[str]:
    """Characters the packaged font draws."""
    return frozenset(chr(c) for c in TTFont(font_path(), lazy=True).getBestCmap())


def missing(text: str) -> set[str]:
    """Printable characters of ``text`` that the packaged font cannot draw."""
    return {c for c in set(text) if c.isprintable() and not c.isspace() and c not in coverage()}


#: Characters with a meaning in HTML and XML markup.
MARKUP = frozenset("<>&\"'")


def printable(text: str, markup: bool = False) -> str:
    """``text`` with each character the font lacks replaced by its compatibility form
    (NFKC: CO₂ → CO2, ㎡ → m2) where the font has that; others are left to the browser.

    Apply it to text *before* escaping it. With ``markup=True`` (text that is already
    HTML or SVG) a character whose compatibility form has a meaning in markup (﹤ → <,
    ＆ → &) is left alone, so the swap can never create a tag, attribute or entity.
    """
    swap = {}
    for c in missing(text):
        plain = unicodedata.normalize("NFKC", c)
        if plain != c and all(p in coverage() for p in plain) and not (markup and MARKUP & set(plain)):
            swap[c] = plain
    return text.translate(str.maketrans(swap)) if swap else text


def woff2_subset(text: str) -> bytes:
    """WOFF2 font with the glyphs of the packaged font that ``text`` needs."""
    options = subset.Options()
    options.flavor = "woff2"
    options.layout_features = ["*"]
    options.hinting = False
    options.name_IDs = ["*"]
    font = TTFont(font_path(), recalcTimestamp=False)
    subsetter = subset.Subsetter(options)
    subsetter.populate(text="".join(sorted(set(text) & coverage())) or " ")
    subsetter.subset(font)
    out = io.BytesIO()
    subset.save_font(font, out, options)
    return out.getvalue()


def font_face_css(text: str) -> str:
    """``@font-face`` rule embedding the subset for ``text`` as a data URL."""
    data = base64.b64encode(woff2_subset(text)).decode("ascii")
    return (
        f"@font-face {{ font-family: '{FAMILY}'; font-style: normal; font-weight: 400; "
        f"src: url(data:font/woff2;base64,{data}) format('woff2'); }}"
    )
