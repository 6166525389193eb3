"""Reading a whole input file in a child process, where the file is large enough for
the memory of its parse to matter.

Parsing a whole input touches memory that the process keeps after the parse: Python's
small-object arenas and glibc's heap hold what was freed among the few objects that
outlive it. Measured on synthetic counties (docs/performance.md, "The read phase in a
child"), the first pass over the footprints left the process ≈ 0.4 KB per footprint
larger, and the survey's parse ≈ 0.3 KB per row. Done in a child, that memory goes with
the child. A child is not free: a fork of this process (its page tables) and the result
pickled across, ≈ 0.1–0.2 s of CPU for a few thousand buildings, which on a small input
is a large share of the run and buys nothing.

So the work runs in a child only from :data:`CHILD_FROM_BYTES` of input file on. Files
of that size hold ≈ 35,000 footprints in a GeoPackage (≈ 0.23 KB each) or ≈ 65,000
survey rows in a CSV (≈ 0.12 KB each): read here, they leave ≈ 15–20 MB behind, under
what the run's later steps allocate for as many buildings anyway. A survey workbook is
compressed (XLSX: a zip), so its 8 MB hold several times as many rows; a bureau's
workbook of that size is rare (large surveys come as CSV), and its parse left here costs
memory, never results.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TypeVar

#: Input size [bytes] from which a whole-file read runs in a child process.
CHILD_FROM_BYTES = 8 * 2**20

T = TypeVar("T")


def input_bytes(path: str | Path | None) -> int:
    """Size of the input at ``path`` [bytes]: the file, with a shapefile's ``.dbf``
    (its attributes); every file inside a folder (a File Geodatabase); 0 where there is
    nothing to read (a missing file is reported by the read itself)."""
    if path is None:
        return 0
    path = Path(path)
    try:
        if path.is_dir():
            return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
        files = [path, path.with_suffix(".dbf")] if path.suffix.lower() == ".shp" else [path]
        return sum(p.stat().st_size for p in files if p.is_file())
    except OSError:
        return 0


def read_apart(work: Callable[..., T], *args, size: int) -> T:
    """``work(*args)`` in a child process where ``size`` (:func:`input_bytes` of what it
    reads) is at least :data:`CHILD_FROM_BYTES`, else in this one. Either way the result
    is the same and an exception of ``work`` reaches the caller as raised."""
    if size < CHILD_FROM_BYTES:
        return work(*args)
    with ProcessPoolExecutor(max_workers=1) as child:
        return child.submit(work, *args).result()
