"""A survey too large to hold: its rows normalised block by block and written to disk,
with only what the jurisdiction-wide steps need kept in memory.

A run read per partition (:mod:`roofpv.inputs.first_pass`) needs of the whole survey
only its ids (matched to the footprints, repeated ids found), the surveyed township
(the partition plan) and the transformer id (the buildings no transformer serves);
each partition then needs its own rows. :func:`spill_survey` reads the survey in the
blocks of :func:`roofpv.io.readers.read_survey_blocks`, writes each block's normalised
rows to a pickle file, and keeps the ids as Arrow strings and the two keys as
categories; :meth:`SpilledSurvey.gather` reads each block once and hands each
partition its rows.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals

from roofpv.findings import Finding
from roofpv.inputs.survey_table import settle_dtypes
from roofpv.io import readers
from roofpv.io.apart import input_bytes, read_apart
from roofpv.run.memory import give_back_freed_memory

#: Survey columns held in memory for the jurisdiction-wide steps.
KEYS = ("township", "transformer_id")
#: Name prefix of a spilled survey's folder (one a killed command left behind is removed
#: by the next command into the same output folder, :func:`roofpv.io.outputs.recover`).
FOLDER_PREFIX = ".survey-"


@dataclass(frozen=True, kw_only=True)
class SpilledSurvey:
    """A survey table as blocks of rows on disk, and in memory the ids and :data:`KEYS`
    of the rows used (the first of each id), in the survey's order."""

    #: The folder holding the blocks (removed by :meth:`close`).
    folder: tempfile.TemporaryDirectory
    #: Each block's normalised rows (every row with an id), and which of them are used.
    files: tuple[Path, ...]
    used: tuple[np.ndarray, ...]
    #: Ids of the rows used (renamed to their footprint's by :meth:`renamed`).
    index: pd.Index
    #: :data:`KEYS` of the rows used, as categories, indexed by :attr:`index`.
    keys: pd.DataFrame
    #: dtypes of the table read whole (:func:`roofpv.io.readers.read_survey`).
    dtypes: pd.Series
    #: The table's first row (none for an empty table), in :attr:`dtypes`.
    probe: pd.DataFrame

    def __len__(self) -> int:
        return len(self.index)

    def renamed(self, keys: pd.DataFrame) -> SpilledSurvey:
        """The survey with the ids of ``keys`` (:attr:`keys` as
        :func:`roofpv.inputs.checks.match_ids` renamed them)."""
        return replace(self, index=keys.index, keys=keys)

    def gather(self, wanted: dict[int, np.ndarray], write: Callable[[int, pd.DataFrame], None]) -> None:
        """Hand each partition ``k`` its rows: ``write(k, rows)`` with the rows used at
        positions ``wanted[k]`` (sorted), one call per block holding some, in order.
        Each block is read once."""
        if not wanted:
            return
        pos = np.concatenate(list(wanted.values()))
        part = np.repeat(np.array(list(wanted), dtype=np.int64), [len(p) for p in wanted.values()])
        blank = [c for c, dtype in self.dtypes.items() if dtype == np.dtype(object)]  # columns without text: None
        order = np.argsort(pos, kind="stable")
        pos, part = pos[order], part[order]
        start = 0
        for file, used in zip(self.files, self.used):
            lo, hi = start, start + int(used.sum())
            start = hi
            a, b = np.searchsorted(pos, [lo, hi])
            if a == b:
                continue
            block = pd.read_pickle(file).iloc[np.flatnonzero(used)]
            block = block.set_axis(self.index[lo:hi], axis=0).astype(self.dtypes)
            block = block.assign(**{c: np.full(len(block), None, object) for c in blank})
            here, to = pos[a:b] - lo, part[a:b]
            for k in np.unique(to):
                write(int(k), block.iloc[here[to == k]])

    def close(self) -> None:
        """Remove the blocks from disk."""
        self.folder.cleanup()


def from_table(table: pd.DataFrame, folder: Path | None = None) -> SpilledSurvey:
    """A survey table held whole (the empty one of a run without survey) as a
    :class:`SpilledSurvey` of one block."""
    spill = _folder(folder)
    file = Path(spill.name) / "0.pkl"
    table.to_pickle(file)
    keys = pd.DataFrame({c: pd.Categorical(table[c]) for c in KEYS}, index=table.index)
    return SpilledSurvey(folder=spill, files=(file,), used=(np.ones(len(table), bool),), index=table.index,
                         keys=keys, dtypes=table.dtypes, probe=table.iloc[:1])


def _folder(folder: Path | None) -> tempfile.TemporaryDirectory:
    """A new temporary folder inside ``folder`` (default: the system's)."""
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
    return tempfile.TemporaryDirectory(prefix=FOLDER_PREFIX, dir=folder)


def spill_survey(path: Path, sheet: str | int, folder: Path | None = None) -> tuple[SpilledSurvey, list[Finding]]:
    """The survey at ``path`` (CSV read in blocks of rows; a workbook whole, as one block)
    as a :class:`SpilledSurvey` in a temporary folder inside ``folder`` (default: the
    system's), and the findings :func:`roofpv.io.readers.read_survey` makes, in its order.

    The file is parsed in a child process, which returns only what the
    :class:`SpilledSurvey` holds: Python keeps the memory a parse touched (the cells'
    texts of every block, freed among the few objects that outlive them), so parsed
    here the survey would still grow this process by about 0.3 GB per million rows. A file
    under :data:`roofpv.io.apart.CHILD_FROM_BYTES` is parsed in this process."""
    spill = _folder(folder)
    try:
        files, used, keys, dtypes, probe, findings = read_apart(_spill, path, sheet, Path(spill.name),
                                                                size=input_bytes(path))
    except BaseException:
        spill.cleanup()
        raise
    spilled = SpilledSurvey(folder=spill, files=files, used=used, index=keys.index, keys=keys, dtypes=dtypes,
                            probe=probe)
    return spilled, findings


def _spill(path: Path, sheet: str | int, folder: Path):
    """The blocks of :func:`spill_survey` written to ``folder``, and what it keeps of them:
    per block its ids (Arrow strings), :data:`KEYS` (codes), which rows hold text and the
    dtypes; over all blocks the ids joined once, the repeated ones told by a sort."""
    import pyarrow as pa

    held: list[tuple[Path, pa.Array, dict[str, pd.Categorical], dict[str, np.ndarray], pd.Series]] = []
    probe: list[pd.DataFrame] = []

    def keep(k: int, table: pd.DataFrame) -> int:
        if k == 0:  # (again, when readers.read_survey_blocks reads the file a second time)
            held.clear()
            probe.clear()
        file = folder / f"{k}.pkl"
        table.to_pickle(file)
        if not probe and len(table):
            probe.append(table.iloc[:1])
        # Which rows hold text, per text column: the whole table's dtype depends on the rows used.
        text = {c: np.packbits(table[c].notna().to_numpy()) for c in table.columns
                if isinstance(table[c].dtype, pd.StringDtype)}
        ids = pa.array(table.index.to_numpy(dtype=object), pa.large_string())
        held.append((file, ids, {c: pd.Categorical(table[c]) for c in KEYS}, text, table.dtypes))
        if k:  # the blocks' cells given back: else the heap keeps growing block by block
            give_back_freed_memory()
        return k

    read = readers.read_survey_blocks(path, sheet, keep)
    sizes = [len(h[1]) for h in held]
    ids = pa.chunked_array([h[1] for h in held], pa.large_string()).combine_chunks()
    held = [(file, None, *rest) for file, _, *rest in held]  # the blocks' ids: joined in ``ids``
    first, findings = read.used(_index(ids))
    used = np.split(first, np.cumsum(sizes)[:-1])
    keys = pd.DataFrame({c: union_categoricals([h[2][c] for h in held])[first] for c in KEYS},
                        index=_index(ids.filter(pa.array(first))))
    del ids
    dtypes = held[0][4].copy()
    for c in dtypes.index:  # a text column is str where a row used holds text (settle_dtypes)
        filled = [h[4][c] for h, u in zip(held, used)
                  if c in h[3] and (np.unpackbits(h[3][c], count=len(u)).astype(bool) & u).any()]
        if filled:
            dtypes[c] = filled[0]
        elif isinstance(dtypes[c], pd.StringDtype):
            dtypes[c] = np.dtype(object)
    first_row = probe[0] if probe else pd.read_pickle(held[0][0]).iloc[:0]
    return (tuple(h[0] for h in held), tuple(used), keys, dtypes, settle_dtypes(first_row).astype(dtypes),
            findings)


def _index(ids) -> pd.Index:
    """The Arrow strings ``ids`` as the survey's ``building_id`` index (pandas' ``str``)."""
    import pyarrow as pa

    return pd.Index(pd.arrays.ArrowStringArray(pa.chunked_array([ids]), dtype=pd.StringDtype("pyarrow", na_value=np.nan)),
                    name="building_id")
