"""Hourly PV profiles of roofs and groups of roofs from the orientation-bin tables.

The yield tables (:mod:`roofpv.energy.solar`) hold, per temperature model, the AC
energy of every weather-file interval for 1 kWp on each (tilt, azimuth) bin. A plane's
series is the bilinear mix of four bins (:func:`roofpv.energy.solar.bilinear_weights`),
so a building, a transformer's service area or a township is one sparse row of bin
weights, and its series is that row times the bin table: no pvlib call per roof. The
weights carry each plane's kWp after its shading loss, so the series of a roof sums to
the energy the yield stage computes for it.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
from scipy import sparse

from roofpv.energy import solar


class BinSeries:
    """The per-interval energy of every orientation bin of every temperature model,
    as one matrix (bins × steps) [kWh/kWp per interval], and where each model's bins
    start in it."""

    def __init__(self, tables: dict[str, solar.YieldTable]):
        missing = [m for m, t in tables.items() if t.hourly_kwh_per_kwp is None]
        if missing:
            raise ValueError(f"yield tables {missing} hold no per-interval energy (steps=False)")
        self.tables = tables
        self._blocks, self.offset, start = [], {}, 0
        for name, table in tables.items():
            steps = table.hourly_kwh_per_kwp
            self._blocks.append(steps.reshape(steps.shape[0], -1).T.astype(np.float32, copy=False))
            self.offset[name] = start
            start += self._blocks[-1].shape[0]
        #: Intervals in which some bin produces: the only ones where PV meets load or
        #: flows back (the night holds half of the year's intervals and no PV).
        self.lit = np.flatnonzero(np.any([block.any(axis=0) for block in self._blocks], axis=0))
        #: :attr:`matrix` at the :attr:`lit` intervals only.
        self.lit_matrix = np.ascontiguousarray(np.concatenate([block[:, self.lit] for block in self._blocks]))

    @functools.cached_property
    def matrix(self) -> np.ndarray:
        """(bins × steps), float32; formed when first asked for (most runs need only
        :attr:`lit_matrix`: without a battery the night does not matter)."""
        return np.ascontiguousarray(np.concatenate(self._blocks))

    @property
    def n_bins(self) -> int:
        return self.lit_matrix.shape[0]

    @property
    def n_steps(self) -> int:
        return self._blocks[0].shape[1]

    def weights(self, group: np.ndarray, n_groups: int, model: np.ndarray, tilt: np.ndarray,
                azimuth: np.ndarray, kwp: np.ndarray) -> sparse.csr_matrix:
        """Sparse (n_groups × bins) weights [kWp]: plane p, of temperature model
        ``model[p]`` at ``tilt[p]``, ``azimuth[p]`` [degrees], adds ``kwp[p]`` to row
        ``group[p]``, spread on its four bins."""
        rows, cols, vals = [], [], []
        for name in pd.unique(model):
            hit = np.flatnonzero(model == name)
            table = self.tables[name]
            bins, w = solar.bilinear_weights(table.tilts, table.azimuths, tilt[hit], azimuth[hit])
            rows.append(np.repeat(group[hit], 4))
            cols.append((bins + self.offset[name]).ravel())
            vals.append((w * kwp[hit, None]).ravel())
        if not rows:
            return sparse.csr_matrix((n_groups, self.n_bins))
        return sparse.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                                 shape=(n_groups, self.n_bins))

    def series(self, weights: sparse.spmatrix, lit_only: bool = False) -> np.ndarray:
        """Energy per interval of each weighted row, (rows × steps) [kWh]; with
        ``lit_only`` only the intervals :attr:`lit`. Computed in float32, as the bin table
        is held (a float64 product would copy the table and run three times slower)."""
        return np.asarray(weights.astype(np.float32, copy=False) @ (self.lit_matrix if lit_only else self.matrix))

    def annual(self, weights: sparse.spmatrix) -> np.ndarray:
        """Energy over the weather year of each weighted row [kWh]: the yield tables'
        annual values interpolated, the sum of :meth:`series` without forming it."""
        annual = np.concatenate([t.annual_kwh_per_kwp.ravel() for t in self.tables.values()])
        return np.asarray(weights @ annual).ravel()

