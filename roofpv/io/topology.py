"""Reader of the grid topology table: which 10 kV feeder each 台区 transformer hangs on,
and which substation feeds that feeder, with the ratings and the PV the DL/T 2041
assessment of feeders and substations needs (:mod:`roofpv.grid.topology`).

One row per transformer (CSV or XLSX, first sheet); a feeder's and a substation's values
repeat on the rows of their transformers:

==========================  ======  ================================================================
column                      unit    meaning
==========================  ======  ================================================================
``transformer_id``                  id of the transformer, as in the transformers table
``feeder_id``                       10 kV feeder (线路) the transformer is connected to
``feeder_kva``              kVA     the feeder's rating S: its thermal limit (``8MVA`` accepted)
``feeder_pv_kw``            kW      optional: PV connected to the feeder outside the listed
                                    transformers (10 kV plants, 专变 users); blank = 0
``feeder_min_load_kw``      kW      optional: measured minimum load of the feeder while PV
                                    produces; blank = from the hourly profiles
``substation_id``                   optional: the substation (变电站) feeding the feeder
``substation_kva``          kVA     its main transformers' rating (``50MVA`` accepted); needed
                                    with ``substation_id``
``substation_pv_kw``        kW      optional: PV connected at the substation outside the listed
                                    feeders; blank = 0
``substation_min_load_kw``  kW      optional: measured minimum load of the substation
==========================  ======  ================================================================
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from roofpv.errors import InputError
from roofpv.findings import Finding
from roofpv.io.readers import PV_UNITS, RATING_UNITS, quantity, read_grid_table

#: Columns every topology table has.
REQUIRED = ("transformer_id", "feeder_id", "feeder_kva")
#: Optional columns (see the module's table).
OPTIONAL = ("feeder_pv_kw", "feeder_min_load_kw", "substation_id", "substation_kva", "substation_pv_kw",
            "substation_min_load_kw")
#: Units each number may carry → factor to the column's unit (kVA or kW).
UNITS = {"feeder_kva": RATING_UNITS, "substation_kva": RATING_UNITS, "feeder_pv_kw": PV_UNITS,
         "substation_pv_kw": PV_UNITS, "feeder_min_load_kw": PV_UNITS, "substation_min_load_kw": PV_UNITS}
#: Per level: its id column and the columns whose value belongs to the feeder or substation.
LEVELS = {"feeder": ("feeder_id", ("feeder_kva", "feeder_pv_kw", "feeder_min_load_kw")),
          "substation": ("substation_id", ("substation_kva", "substation_pv_kw", "substation_min_load_kw"))}


def _text(value) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(value).strip()
    return text or None


def read_topology(path: Path) -> tuple[pd.DataFrame, list[Finding]]:
    """The topology table indexed by transformer id, with its row number in the file
    (``row``), and its findings.

    A rating that is blank, unreadable or negative is an error finding and reads as 0 kVA
    (nothing more is admitted on that feeder or substation until it is given); an unreadable
    PV or load value reads as blank. A repeated transformer keeps its first row; a feeder or
    substation given different values on its rows keeps the first (a warning names the row).
    """
    frame, first = read_grid_table(path, "topology", "grid.topology")
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in REQUIRED if c not in frame.columns]
    if "substation_id" in frame.columns and "substation_kva" not in frame.columns:
        missing.append("substation_kva")
    if missing:
        raise InputError(f"{path}: the topology table needs columns {missing}; found {list(frame.columns)}. "
                         "Give one row per transformer: transformer_id, feeder_id, feeder_kva (kVA), and "
                         "optionally substation_id, substation_kva (kVA)")
    source = str(path)
    frame.index = np.arange(first, first + len(frame))   # the file's row numbers
    findings: list[Finding] = []
    out = pd.DataFrame({"row": frame.index}, index=frame.index)
    for column in ("transformer_id", "feeder_id", "substation_id"):
        out[column] = frame[column].map(_text) if column in frame else None
    for column in ("transformer_id", "feeder_id"):
        for row in out.index[out[column].isna()]:
            findings.append(Finding("error", source, int(row), None, column, None,
                                    f"no {column}: the row is left out",
                                    f"fill in the {column} of every row"))
    out = out[out["transformer_id"].notna() & out["feeder_id"].notna()]
    for column, units in UNITS.items():
        values = np.full(len(out), np.nan)
        if column in frame:
            is_rating = column.endswith("_kva")
            for i, (row, tid) in enumerate(zip(out.index, out["transformer_id"])):
                cell = frame.at[row, column]
                if is_rating and column.startswith("substation") and out.at[row, "substation_id"] is None:
                    continue  # no substation on this row: no rating needed
                if _text(cell) is None and not is_rating:
                    continue
                number = quantity(cell, units)
                if number is None:
                    findings.append(Finding(
                        "error", source, int(row), tid, column, _text(cell),
                        ("rating blank, unreadable or negative: taken as 0 kVA, nothing more is admitted on it"
                         if is_rating else "not a number ≥ 0 in a known unit: left blank"),
                        f"write a plain number ≥ 0 in {'kVA (or with MVA)' if is_rating else 'kW'}"))
                    number = 0.0 if is_rating else np.nan
                values[i] = number
        out[column] = values
    repeated = out["transformer_id"].duplicated()
    findings += [Finding("warning", source, int(row), tid, "transformer_id", tid,
                         "transformer listed again: this row is left out, its first row counts",
                         "list each transformer once")
                 for row, tid in zip(out.index[repeated], out["transformer_id"][repeated])]
    out = out[~repeated]
    for level, (key, columns) in LEVELS.items():
        on = out[out[key].notna()]
        for column in columns:
            first = on.groupby(key, sort=False)[column].transform("first")
            differs = ~((on[column] == first) | (on[column].isna() & first.isna()))
            findings += [Finding("warning", source, int(row), tid, column, _text(v),
                                 f"{level} {fid} has another {column} on an earlier row: the first one counts",
                                 f"give {level} {fid} the same {column} on every row")
                         for row, tid, fid, v in zip(on.index[differs], on["transformer_id"][differs],
                                                     on[key][differs], on[column][differs])]
    return out.set_index("transformer_id"), findings
