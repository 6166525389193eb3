"""Build the Simplified-Chinese font that the HTML reports embed.

Run ``python scripts/make_font.py SOURCE.otf`` with ``SOURCE`` a Noto Sans CJK SC
Regular OpenType file (SIL Open Font License 1.1), e.g. Debian's
``/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc`` (``--font-number 2`` picks
the SC face of that collection) or ``NotoSansCJKsc-Regular.otf`` from the Noto CJK
release. It writes ``roofpv/report/fonts/NotoSansCJKsc-GB2312.otf``: the font subset to
the 7 445 characters of GB 2312 (6 763 hanzi, the full-width forms and punctuation),
Latin-1 and Latin Extended-A, general punctuation, super- and subscripts and a few
report symbols. Each report page embeds a further subset of it with only the characters
that page uses. Deterministic: the same source gives the same file.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

OUT = Path(__file__).resolve().parents[1] / "roofpv" / "report" / "fonts" / "NotoSansCJKsc-GB2312.otf"
#: Characters beyond GB 2312 that reports print (✓, ≥, ‰ …) where the source font has them.
EXTRA = "←→↑↓≤≥±×÷°·✓−–—…‰€¥℃㎡"


def gb2312() -> str:
    """Every character GB 2312 encodes (rows 0xA1–0xF7, cells 0xA1–0xFE)."""
    chars = []
    for row in range(0xA1, 0xF8):
        for cell in range(0xA1, 0xFF):
            try:
                chars.append(bytes([row, cell]).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return "".join(chars)


def charset() -> str:
    """The characters of the packaged font."""
    latin = "".join(chr(c) for c in range(0x20, 0x180) if not 0x7F <= c < 0xA0)
    punctuation = "".join(chr(c) for c in range(0x2000, 0x20A0))
    return "".join(sorted(set(gb2312() + latin + punctuation + EXTRA)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="Noto Sans CJK SC Regular (.otf, or .ttc with --font-number)")
    parser.add_argument("--font-number", type=int, default=-1, help="face of a .ttc collection")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    font = TTFont(args.source, fontNumber=args.font_number, lazy=False, recalcTimestamp=False)
    family = font["name"].getDebugName(1)
    if "CJK SC" not in (family or "") and "Noto Sans CJK" not in (family or ""):
        raise SystemExit(f"{args.source}: expected Noto Sans CJK SC, found {family!r}")
    options = subset.Options()
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.hinting = False
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=charset())
    subsetter.subset(font)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    font.save(args.out)
    print(f"{args.out}: {len(font.getBestCmap())} characters, {args.out.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
