"""The text encoding of the files a county hands over, detected once for every reader.

Chinese GIS and office software save text in GBK (GB18030 covers it and GB2312) more
often than in UTF-8: Notepad and Excel on a Chinese Windows write configs and CSVs in
it, and ArcGIS writes shapefile attribute tables (DBF) in it without the ``.cpg`` file
that would say so. European data arrives in Windows-1252 (Latin-1). Every text file
roofpv reads (configs, CSVs, DBF tables) is decoded by :func:`decode`, which tries, in
order: a byte-order mark, UTF-8, the CJK double-byte encodings (GB18030, then Big5) when
they give plausible Chinese, and a single-byte encoding (the file's own declaration,
such as a DBF's language driver, else Windows-1252).

Plausible Chinese: text in GBK or Big5 is written almost entirely in each standard's
frequently used hanzi and punctuation (the 6,763 hanzi of GB 2312 and its rows of
punctuation and full-width forms; the 5,401 hanzi of Big5 level 1 and its symbols).
Latin text read as GBK gives characters outside them, because each accented letter
pairs with the ASCII letter after it into a rare character (``Müller`` → ``M黮er``);
Big5 text read as GBK gives kana and Greek letters (GB 2312's rows 4–7) among the
hanzi. The share of frequent characters among the non-ASCII ones is near 1 in the
right encoding and far lower in a wrong one: a majority is required and the higher
share wins (GB18030 on a tie).
"""

from __future__ import annotations

import codecs
import mmap
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from roofpv.errors import EncodingError

#: Byte-order marks and their encodings.
BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))
#: CJK double-byte encodings tried after UTF-8, in order (ties go to the first).
CJK = ("gb18030", "big5")
#: Single-byte encoding assumed when nothing else fits and the file declares none.
FALLBACK = "cp1252"
#: Names of encodings as a user would write them in a ``.cpg`` file or an editor.
LABELS = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8", "utf-16": "UTF-16", "gb18030": "GBK",
          "big5": "Big5", "cp1252": "Windows-1252 (Latin-1)"}

#: A DBF's language driver id (header byte 29) → Python codec, as dBASE, FoxPro and
#: ArcGIS write it (the table GDAL's shapefile driver uses). 0x57 means "the system's
#: ANSI code page", which is GBK on a Chinese Windows: it says nothing.
DBF_LANGUAGE_DRIVERS = {
    0x01: "cp437", 0x02: "cp850", 0x03: "cp1252", 0x04: "mac_roman", 0x08: "cp865", 0x09: "cp437",
    0x0A: "cp850", 0x0B: "cp437", 0x0D: "cp437", 0x0E: "cp850", 0x0F: "cp437", 0x10: "cp850",
    0x11: "cp437", 0x12: "cp850", 0x13: "cp932", 0x14: "cp850", 0x15: "cp437", 0x16: "cp850",
    0x17: "cp865", 0x18: "cp437", 0x19: "cp437", 0x1A: "cp850", 0x1B: "cp437", 0x1C: "cp863",
    0x1D: "cp850", 0x1F: "cp852", 0x22: "cp852", 0x23: "cp852", 0x24: "cp860", 0x25: "cp850",
    0x26: "cp866", 0x37: "cp850", 0x40: "cp852", 0x4D: "gb18030", 0x4E: "cp949", 0x4F: "big5",
    0x50: "cp874", 0x58: "cp1252", 0x59: "cp1252", 0x64: "cp852", 0x65: "cp866", 0x66: "cp865",
    0x67: "cp861", 0x6A: "cp737", 0x6B: "cp857", 0x6C: "cp863", 0x78: "big5", 0x79: "cp949",
    0x7A: "gb18030", 0x7B: "cp932", 0x7C: "cp874", 0x86: "cp737", 0x87: "cp852", 0x88: "cp857",
    0xC8: "cp1250", 0xC9: "cp1251", 0xCA: "cp1254", 0xCB: "cp1253", 0xCC: "cp1257",
}


@dataclass(frozen=True)
class Decoded:
    """Text and how it was decoded: ``encoding`` (a Python codec name) and ``how``
    (``bom``, ``utf-8``, ``cjk``, ``declared`` or ``assumed``)."""

    text: str
    encoding: str
    how: str

    @property
    def label(self) -> str:
        """The encoding as a user names it (``GBK``, ``UTF-8`` …)."""
        return LABELS.get(self.encoding, self.encoding)


def _frequent(char: str, encoding: str) -> bool:
    """True when ``char`` is among the frequently used characters of ``encoding``: for
    GB18030 those of GB 2312's punctuation and full-width rows (lead byte 0xA1–0xA3)
    and hanzi (0xB0–0xF7); for Big5 its symbols and level-1 hanzi (0xA1–0xC6)."""
    try:
        if encoding == "gb18030":
            lead = char.encode("gb2312")[0]
            return lead <= 0xA3 or 0xB0 <= lead <= 0xF7
        return 0xA1 <= char.encode("big5")[0] <= 0xC6
    except UnicodeEncodeError:
        return False


def cjk_share(text: str, encoding: str) -> float:
    """Share of the non-ASCII characters of ``text`` that are frequently used
    characters of ``encoding`` (1.0 for text without any)."""
    return _share(Counter(text), encoding)


def _share(counts: Counter, encoding: str) -> float:
    """:func:`cjk_share` of a text given as the count of each of its characters."""
    wide = {c: n for c, n in counts.items() if ord(c) > 127}
    total = sum(wide.values())
    return sum(n for c, n in wide.items() if _frequent(c, encoding)) / total if total else 1.0


def _strict(data: bytes, encoding: str, final: bool) -> str | None:
    """``data`` decoded, or None. With ``final=False`` an incomplete character at the
    end is dropped (a DBF field cut in the middle of a character)."""
    try:
        return codecs.getincrementaldecoder(encoding)().decode(data, final=final)
    except UnicodeDecodeError:
        return None


def decode(data: bytes, declared: str | None = None, *, truncated: bool = False) -> Decoded:
    """``data`` as text: byte-order mark, UTF-8, GB18030 or Big5 when they give
    plausible Chinese (see the module), else ``declared`` (a single-byte encoding the
    file names), else :data:`FALLBACK`. ``truncated``: ``data`` are cut-off pieces
    (samples of fixed-width fields), so a character cut at the end is not an error."""
    for bom, encoding in BOMS:
        if data.startswith(bom):
            text = _strict(data, encoding, True)
            if text is not None and "\0" not in text:
                return Decoded(text, encoding, "bom")
    if b"\0" in data:  # not text (UTF-16 without a mark, a binary file)
        raise EncodingError("not text (it holds NUL bytes)")
    text = _strict(data, "utf-8", not truncated)
    if text is not None:
        return Decoded(text, "utf-8", "utf-8")
    best = None
    for encoding in CJK:
        text = _strict(data, encoding, not truncated)
        if text is not None:
            share = cjk_share(text, encoding)
            if share > 0.5 and (best is None or share > best[0]):
                best = (share, Decoded(text, encoding, "cjk"))
    if best is not None:
        return best[1]
    for encoding, how in ((declared, "declared"), (FALLBACK, "assumed")):
        if encoding is not None and (text := _strict(data, encoding, True)) is not None:
            return Decoded(text, encoding, how)
    raise EncodingError("not readable as UTF-8, GBK/GB18030, Big5 or Windows-1252 text")


def read_text(path: Path) -> Decoded:
    """The text of the file at ``path`` (see :func:`decode`)."""
    return decode(Path(path).read_bytes())


#: Bytes read at a time by :func:`detect`.
CHUNK_BYTES = 1 << 22


def _scan(path: Path, encoding: str, on_text=None) -> bool:
    """Whether the whole file decodes strictly in ``encoding``, read in chunks; each
    decoded piece goes to ``on_text``, which returns False to stop (as failed)."""
    decoder = codecs.getincrementaldecoder(encoding)()
    with open(path, "rb") as f:
        try:
            while True:
                chunk = f.read(CHUNK_BYTES)
                text = decoder.decode(chunk, final=not chunk)
                if on_text is not None and on_text(text) is False:
                    return False
                if not chunk:
                    return True
        except UnicodeDecodeError:
            return False


def detect(path: Path) -> Decoded:
    """How :func:`read_text` decodes the file at ``path``, told from the file read in
    chunks of :data:`CHUNK_BYTES` (so a large survey is never held as text; ``text`` is
    left empty): the same rules as :func:`decode` on the whole file."""
    path = Path(path)
    with open(path, "rb") as f:
        head = f.read(4)
    for bom, encoding in BOMS:
        if head.startswith(bom) and _scan(path, encoding, lambda text: "\0" not in text):
            return Decoded("", encoding, "bom")
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK_BYTES):
            if b"\0" in chunk:  # not text (UTF-16 without a mark, a binary file)
                raise EncodingError("not text (it holds NUL bytes)")
    if _scan(path, "utf-8"):
        return Decoded("", "utf-8", "utf-8")
    best = None
    for encoding in CJK:
        counts: Counter = Counter()
        if _scan(path, encoding, counts.update) and (share := _share(counts, encoding)) > 0.5 \
                and (best is None or share > best[0]):
            best = (share, Decoded("", encoding, "cjk"))
    if best is not None:
        return best[1]
    if _scan(path, FALLBACK):
        return Decoded("", FALLBACK, "assumed")
    raise EncodingError("not readable as UTF-8, GBK/GB18030, Big5 or Windows-1252 text")


#: A line of text holding a byte above ASCII.
_WIDE_LINE = re.compile(rb"[^\n]*[\x80-\xff][^\n]*")


def text_sample(path: Path, limit: int = 5_000) -> bytes:
    """Up to ``limit`` lines of a text file that hold non-ASCII bytes, joined by
    newlines: what tells its encoding, without holding a large file (a county's CAD
    drawing) in memory as text."""
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
        return b"\n".join(m.group() for m, _ in zip(_WIDE_LINE.finditer(data), range(limit)))


def dbf_text_sample(path: Path | bytes, limit: int = 5_000) -> tuple[bytes, int]:
    """The non-ASCII bytes of a DBF table's field names and text fields (up to
    ``limit`` distinct values, each with its padding stripped, joined by newlines) and
    its language driver id (header byte 29).

    The records are viewed as a byte matrix, scanned in blocks of rows until the
    sample is full, so a million-row table is not read whole."""
    import numpy as np

    raw = np.frombuffer(path, np.uint8) if isinstance(path, bytes) else np.memmap(path, dtype=np.uint8, mode="r")
    if raw.size < 32:
        return b"", 0
    header = bytes(raw[:32])
    count = int.from_bytes(header[4:8], "little")
    start, width = int.from_bytes(header[8:10], "little"), int.from_bytes(header[10:12], "little")
    names, fields, offset = [], [], 1  # byte 0 of a record is the deletion flag
    for pos in range(32, min(start, raw.size) - 31, 32):
        descriptor = bytes(raw[pos:pos + 32])
        if descriptor[0] == 0x0D:
            break
        names.append(descriptor[:11].split(b"\0", 1)[0])
        size = descriptor[16]
        if descriptor[11:12] in (b"C", b"M", b"V"):
            fields.append((offset, size))
        offset += size
    pieces: list[bytes] = []
    count = min(count, (raw.size - start) // width) if width else 0
    if fields and count:
        records = raw[start:start + count * width].reshape(count, width)
        for block in range(0, count, 65_536):
            rows = records[block:block + 65_536]
            for first, size in fields:
                cells = rows[:, first:first + size]
                wide = np.flatnonzero((cells > 127).any(axis=1))[:limit]
                pieces += [bytes(v).rstrip(b" \0") for v in np.unique(cells[wide], axis=0)]
            if len(pieces) >= limit:
                break
    pieces = pieces[:limit] + [n for n in names if max(n, default=0) > 127]  # values first: the example
    return b"\n".join(pieces).replace(b"\0", b" "), int(header[29])


def dbf_encoding(path: Path | bytes) -> Decoded | None:
    """How the text of a DBF table (a file, or its bytes) without a ``.cpg`` file is encoded (see
    :func:`decode`; the language driver byte is the declared single-byte encoding), or
    None when its text is plain ASCII."""
    sample, driver = dbf_text_sample(path)
    if not sample:
        return None
    return decode(sample, DBF_LANGUAGE_DRIVERS.get(driver), truncated=True)
