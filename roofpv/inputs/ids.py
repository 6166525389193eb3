"""Building ids as spreadsheets and GIS layers mangle them, and their repair.

Ids arrive as floats (``100006475.0``), with full-width characters (``Ａ１２``),
zero-width spaces, spaces around them, leading zeros lost on one side (``000123`` vs ``123``) or changed
case. :func:`clean_id` undoes what cannot change an id's meaning (invisible characters,
width, a whole float's ``.0``); :func:`id_key` also drops leading zeros and case, for
matching the survey to the footprints; :func:`positions` finds ids among many. Pure
functions.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd

#: Characters that show as nothing: zero-width space, joiners, word joiner, BOM, soft hyphen.
INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e]")
#: A whole number written with a decimal point (``12.0``), read as the number.
WHOLE_FLOAT = re.compile(r"^([+-]?\d+)\.0*$")
_LEADING_ZEROS = re.compile(r"^0+(?=\d)")
#: Text that :func:`clean_id` may change beyond trimming: anything but printable ASCII,
#: or a whole number written with a decimal point.
ODD = r"[^\x20-\x7e]|^[+-]?\d+\.0*$"

#: What :func:`clean_id` repaired, as named in findings.
REPAIRS = {
    "float": "written as a decimal number (e.g. 100006475.0)",
    "width": "full-width characters (e.g. Ａ１２)",
    "invisible": "invisible characters (zero-width spaces)",
}


def clean_id(value: object) -> tuple[str | None, tuple[str, ...]]:
    """``value`` as an id string and the :data:`REPAIRS` applied; None for a blank."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)) or value is pd.NA:
        return None, ()
    repairs = []
    if isinstance(value, (float, np.floating)):
        if float(value).is_integer():
            return str(int(value)), ("float",)
        return repr(float(value)), ()
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return str(int(value)), ()
    text = str(value)
    if INVISIBLE.search(text):
        text, _ = INVISIBLE.subn("", text)
        repairs.append("invisible")
    narrow = unicodedata.normalize("NFKC", text)
    if narrow != text:
        repairs.append("width")
    stripped = narrow.strip()  # spaces around an id are trimmed without a word
    whole = WHOLE_FLOAT.match(stripped)
    if whole:
        stripped = whole[1]
        repairs.append("float")
    return (stripped or None), tuple(repairs)


def clean_ids(values: pd.Series) -> tuple[pd.Series, dict[str, list]]:
    """:func:`clean_id` of each value (once per distinct value); returns the ids (object,
    None for blanks) and, per repair, the positions of the rows it changed. Plain
    printable-ASCII text, the common case, is only trimmed."""
    cells = values.to_numpy(dtype=object)
    if pd.api.types.infer_dtype(cells, skipna=True) == "string":
        text = pd.Series(cells, dtype="string")
        odd = text.str.contains(ODD, regex=True).fillna(False).to_numpy(dtype=bool)
        if not odd.any():
            ids = text.str.strip().replace("", None).astype(object)
            return pd.Series(np.where(ids.isna(), None, ids), index=values.index, dtype=object), {}
    codes, distinct = pd.factorize(cells, use_na_sentinel=True)
    cleaned = [clean_id(v) for v in distinct]
    ids = np.array([None] + [c for c, _ in cleaned], dtype=object)[codes + 1]
    repaired: dict[str, list] = {}
    for k, (_, repairs) in enumerate(cleaned):
        for r in repairs:
            repaired.setdefault(r, []).append(k)
    rows = {r: np.flatnonzero(np.isin(codes, ks)).tolist() for r, ks in repaired.items()}
    return pd.Series(ids, index=values.index, dtype=object), rows


def id_key(text: str) -> str:
    """Matching key of a cleaned id: leading zeros of a numeric id dropped, case folded."""
    return _LEADING_ZEROS.sub("", text).casefold()


def positions(ids, labels) -> np.ndarray:
    """The position among ``ids`` (each once: an index, array or Arrow array) of each of
    ``labels`` (−1: not among them, or blank): ``ids.get_indexer(labels)`` by way of the
    distinct labels, so that a column of texts shared by many (transformer ids,
    categories) is neither hashed nor turned into Python strings label by label. Texts
    are looked up by Arrow's hash of the distinct labels, so that building ids are not
    hashed by pandas either (≈ 0.15 KB an id as Python strings, kept with the index once
    built: 1.5 GB at 10 million); other values (a table's numbers) by pandas'."""
    import pyarrow as pa
    import pyarrow.compute as pc

    codes, distinct = pd.factorize(labels)
    try:
        held, wanted = _arrow(ids), _arrow(distinct)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed values
        held = wanted = None
    text = [a is not None and (pa.types.is_string(a.type) or pa.types.is_large_string(a.type)) for a in (held, wanted)]
    if not all(text):  # compared as pandas compares them (7 is not "7")
        return np.append(pd.Index(ids).get_indexer(distinct), -1)[codes]
    at = pc.index_in(held, value_set=wanted.cast(held.type))  # each id's label, or null
    found = at.is_valid()
    out = np.full(len(distinct) + 1, -1, dtype=np.int64)  # the last: where ``codes`` is −1 (a blank)
    out[at.filter(found).to_numpy()] = np.flatnonzero(found.to_numpy(zero_copy_only=False))
    return out[codes]


def _arrow(values):
    """``values`` (an index, array or Arrow array) as Arrow, without a copy where they are
    held in Arrow already."""
    import pyarrow as pa

    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return values
    values = getattr(values, "array", values)
    return pa.array(values if hasattr(values, "__arrow_array__") else np.asarray(values, dtype=object))
