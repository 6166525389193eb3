"""The Chinese font of the reports: packaged, measured for the layout of the charts, and
embedded in each page as a WOFF subset of the characters the pages use (kept in the
user's cache folder, :func:`cache_dir`: a survey's pages use the same characters run
after run, and cutting the subset is the report's largest single step).

The packaged font is Noto Sans CJK SC Regular (SIL Open Font License 1.1, see
``fonts/LICENSE-OFL.txt``) cut to GB 2312 by ``scripts/make_font.py``. Maps and charts
are SVG with their text left as text, so pages, maps and charts are drawn by the
browser with the same embedded font and a fresh machine needs no CJK font installed.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import os
import sys
import tempfile
import unicodedata
from functools import cache
from importlib.resources import files
from pathlib import Path

import fontTools
from fontTools.ttLib import TTFont

#: Family name of the packaged font.
FAMILY = "Noto Sans CJK SC"
#: OpenType features kept in the subset: those a browser applies to horizontal text.
#: ``locl`` is left out: it only maps to the Japanese, Korean and traditional forms
#: (40 % of the subset with it), and the pages are simplified Chinese or English.
FEATURES = ["ccmp", "liga", "calt", "kern", "mark", "mkmk"]
#: Advance width of a character the font lacks, em (the browser's fallback font draws it).
FALLBACK_EM = 0.6


def font_path() -> Path:
    """Path of the packaged OpenType font."""
    return Path(str(files("roofpv.report") / "fonts" / "NotoSansCJKsc-GB2312.otf"))


@cache
def advances() -> dict[str, float]:
    """Advance width (em) of each character the packaged font draws: read from the font
    (:func:`_read_advances`, 0.1 s to parse its character map) once and kept in
    :func:`cache_dir` under the font's hash."""
    path = cache_dir() / "fonts" / f"{_font_digest()}-fonttools-{fontTools.version}-advances.json"
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(found, dict):
            return found
    except (OSError, ValueError):
        pass
    found = _read_advances()
    _store(path, json.dumps(found, ensure_ascii=False).encode("utf-8"))
    return found


def _read_advances() -> dict[str, float]:
    """Advance width (em) of each character of the packaged font's character map."""
    font = TTFont(font_path(), lazy=True)
    metrics, em = font["hmtx"].metrics, font["head"].unitsPerEm
    return {chr(c): metrics[glyph][0] / em for c, glyph in font.getBestCmap().items()}


@cache
def coverage() -> frozenset[str]:
    """Characters the packaged font draws."""
    return frozenset(advances())


def text_width(text: str, size: float) -> float:
    """Width of ``text`` set in the packaged font at ``size`` (in the unit of ``size``)."""
    em = advances()
    return size * sum(em.get(c, FALLBACK_EM) for c in text)


def missing(text: str) -> set[str]:
    """Printable characters of ``text`` that the packaged font cannot draw."""
    return {c for c in set(text).difference(coverage()) if c.isprintable() and not c.isspace()}


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


def cache_dir() -> Path:
    """roofpv's folder in the user's cache folder (``%LOCALAPPDATA%`` on Windows,
    ``~/Library/Caches`` on macOS, else ``$XDG_CACHE_HOME`` or ``~/.cache``)."""
    if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        root = Path(os.environ["LOCALAPPDATA"])
    elif sys.platform == "darwin":
        root = Path.home() / "Library" / "Caches"
    else:
        root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return root / "roofpv"


def woff_subset(text: str) -> bytes:
    """WOFF font with the glyphs of the packaged font that ``text`` needs (zlib: WOFF2's
    Brotli at its usual level makes it 8 % smaller for eight times the time).

    The subset is kept in :func:`cache_dir` under a name that hashes everything it
    depends on (the font file, fontTools' version, :data:`FEATURES` and the characters),
    so a cached subset is the one :func:`_cut_subset` would cut; a cache that cannot be
    read or written is left alone and the subset cut."""
    chars = "".join(sorted(set(text) & coverage())) or " "
    recipe = "\n".join((fontTools.version, _font_digest(), ",".join(FEATURES), chars))
    path = cache_dir() / "fonts" / f"{hashlib.sha256(recipe.encode()).hexdigest()}.woff"
    try:
        return path.read_bytes()
    except OSError:
        pass
    data = _cut_subset(chars)
    _store(path, data)
    return data


def _store(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` in the cache, whole or not at all (runs at the same
    time read the old file or the new one); a cache that cannot be written is left."""
    part = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".tmp", delete=False) as f:
            part = Path(f.name)
            f.write(data)
        part.replace(path)
    except OSError:
        with contextlib.suppress(OSError):
            if part is not None:
                part.unlink(missing_ok=True)


@cache
def _font_digest() -> str:
    """SHA-256 of the packaged font file."""
    return hashlib.sha256(font_path().read_bytes()).hexdigest()


def _cut_subset(chars: str) -> bytes:
    """The WOFF subset of the packaged font holding ``chars`` (:func:`woff_subset`)."""
    from fontTools import subset  # only here: 0.1 s of imports a cached subset does without

    options = subset.Options()
    options.flavor = "woff"
    options.layout_features = FEATURES
    options.drop_tables += ["vhea", "vmtx", "VORG", "BASE"]  # vertical text only
    options.hinting = True  # the packaged font has no hints; dropping them costs a pass over each glyph
    options.name_IDs = ["*"]
    font = TTFont(font_path(), recalcTimestamp=False, recalcBBoxes=False)
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=chars)
    subsetter.subset(font)
    out = io.BytesIO()
    subset.save_font(font, out, options)
    return out.getvalue()


def font_face_css(text: str) -> str:
    """``@font-face`` rule embedding the subset for ``text`` as a data URL."""
    data = base64.b64encode(woff_subset(text)).decode("ascii")
    return (
        f"@font-face {{ font-family: '{FAMILY}'; font-style: normal; font-weight: 400; "
        f"src: url(data:font/woff;base64,{data}) format('woff'); }}"
    )
