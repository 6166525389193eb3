"""How far the footprints lie off the buildings of a DSM.

Footprints from another source or survey year than the DSM are often off by 0.5–3 m:
a systematic shift the whole register shares (a datum or georeferencing difference),
too small for the web-map datum check (hundreds of metres) and too large for a 1 m
DSM to ignore: the inner buffer then samples walls and the ground rings roofs.

:func:`footprint_shift` cross-correlates the footprints' mask with the DSM's
raised-building mask (:func:`roofpv.roofs.unmatched.raised_mask`) over every shift up
to :data:`MAX_SHIFT_M` in one FFT, and refines the best integer shift to a fraction
of a pixel from the correlation peak's slopes in x and in y.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy import fft

from roofpv.roofs.raster import Raster

#: Largest shift searched (m): beyond a few metres a shift is a datum question
#: (:func:`roofpv.inputs.checks.datum_check`).
MAX_SHIFT_M = 4.0
#: A shift is reported when it is at least this long (m): the estimate's error on
#: real and synthetic 0.5–1 m DSMs stays below 0.3 m (tests/test_unmatched.py).
MIN_SHIFT_M = 0.5
#: Fewer footprint cells than this in a window give no estimate.
MIN_CELLS = 200


class Shift(NamedTuple):
    """The move that puts footprints onto the DSM's buildings (m, east and north), the
    footprint cells it rests on and the gain of the correlation peak over no shift
    (share of the footprint cells that move from ground onto roof)."""

    dx: float
    dy: float
    cells: int
    gain: float


def footprint_shift(window: Raster, raised: np.ndarray, covered: np.ndarray) -> Shift | None:
    """The shift (m) that best lays the footprints' cells ``covered``
    (:func:`roofpv.roofs.unmatched.burn`) onto the ``raised`` cells of ``window``
    (:func:`roofpv.roofs.unmatched.raised_mask`), or None where fewer than
    :data:`MIN_CELLS` footprint cells lie on the window.

    Correlation c(s) = Σ f(x)·g(x + s) with f = 1 on footprint cells, g = +1 on raised
    cells, −1 on other cells with data and 0 without data; the footprints, moved by the
    shift s that maximises c, cover most roof and least ground.
    """
    res = window.res
    f = covered.astype(np.float32)
    cells = int(covered.sum())
    if cells < MIN_CELLS:
        return None
    g = np.where(np.isnan(window.z), 0.0, np.where(raised, 1.0, -1.0)).astype(np.float32)
    m = int(np.ceil(MAX_SHIFT_M / res))
    shape = tuple(fft.next_fast_len(n + 2 * m, real=True) for n in f.shape)
    corr = fft.irfft2(np.conj(fft.rfft2(f, shape, workers=-1)) * fft.rfft2(g, shape, workers=-1), shape,
                      workers=-1)
    # corr[i, j] = Σ f(x)·g(x + (i, j)), indices taken modulo the padded shape.
    shifts = np.arange(-m, m + 1)
    c = corr[np.ix_(shifts % shape[0], shifts % shape[1])]
    i, j = np.unravel_index(np.argmax(c), c.shape)
    gain = (c[i, j] - c[m, m]) / (2.0 * cells)
    di, dj = float(shifts[i]) + _vertex(c, i, j, 0), float(shifts[j]) + _vertex(c, i, j, 1)
    # Moving the footprints by −s cells puts f(x) where g(x + s) was: the building
    # is s cells from the footprint; rows run south.
    return Shift(dj * res, -di * res, cells, float(gain))


def _vertex(c: np.ndarray, i: int, j: int, axis: int) -> float:
    """Offset (cells, within ±0.5) of the apex of the correlation peak ``c[i, j]``
    along ``axis`` from it and its two neighbours: the correlation of two masks falls
    off linearly on either side of its apex, so the apex is where two lines of equal
    and opposite slope through them meet (0 at the search's edge)."""
    k = (i, j)[axis]
    if k == 0 or k == c.shape[axis] - 1:
        return 0.0
    lo, mid, hi = (c[i + d, j] if axis == 0 else c[i, j + d] for d in (-1, 0, 1))
    fall = mid - min(lo, hi)
    return float(np.clip(0.5 * (hi - lo) / fall, -0.5, 0.5)) if fall > 0 else 0.0


def combine(shifts: list[Shift]) -> Shift | None:
    """One shift from the windows' estimates: the median of each component over the
    windows, weighted by their footprint cells; None without estimates."""
    shifts = [s for s in shifts if s is not None]
    if not shifts:
        return None
    w = np.array([s.cells for s in shifts], float)

    def median(values):
        order = np.argsort(values)
        cum = np.cumsum(w[order])
        return float(np.asarray(values)[order][np.searchsorted(cum, cum[-1] / 2.0)])

    return Shift(median([s.dx for s in shifts]), median([s.dy for s in shifts]), int(w.sum()),
                 float(np.average([s.gain for s in shifts], weights=w)))


def significant(shift: Shift | None) -> bool:
    """Whether a shift is worth a finding: at least :data:`MIN_SHIFT_M` long and
    covering more roof than no shift does."""
    return shift is not None and np.hypot(shift.dx, shift.dy) >= MIN_SHIFT_M and shift.gain > 0
