"""Self-consumption, export and curtailment of a roof's PV against its building's load,
interval by interval, with an optional battery.

In each interval the building uses its PV output up to its load; the rest is exported,
or curtailed where the export mode allows no export (全部自发自用, an anti-reverse-flow
relay). A battery charges from the surplus and discharges into the deficit, greedily,
within its energy and power ratings; the round-trip loss is taken on charging.
"""

from __future__ import annotations

import numpy as np


def balance(pv: np.ndarray, load: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Self-consumed and surplus energy over the intervals, per row [kWh]:
    ``Σ min(pv, load)`` and ``Σ max(pv − load, 0)``; ``pv`` and ``load`` are
    (rows × steps) energies per interval [kWh]."""
    used = np.minimum(pv, load).sum(axis=1, dtype=np.float64)
    return used, pv.sum(axis=1, dtype=np.float64) - used


def battery(pv: np.ndarray, load: np.ndarray, capacity_kwh, power_kw, efficiency: float,
            step_h: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Self-consumed and surplus energy with a battery dispatched greedily, per row [kWh].

    Parameters
    ----------
    pv, load : numpy.ndarray
        Energy per interval, (rows × steps) [kWh].
    capacity_kwh : array_like
        Usable energy of each row's battery [kWh]; it starts the year empty.
    power_kw : array_like
        Charge and discharge power limit [kW].
    efficiency : float
        Round-trip efficiency, applied when charging, in (0, 1] [unitless].
    step_h : float
        Length of an interval [h].

    Returns
    -------
    used, surplus : numpy.ndarray
        Load met by PV directly or through the battery, and PV energy neither used
        nor stored (exported or curtailed) [kWh].
    """
    capacity = np.broadcast_to(np.asarray(capacity_kwh, float), pv.shape[:1])
    limit = np.broadcast_to(np.asarray(power_kw, float), pv.shape[:1]) * step_h
    stored = np.zeros(pv.shape[0])
    used = np.zeros(pv.shape[0])
    surplus = np.zeros(pv.shape[0])
    for t in range(pv.shape[1]):
        p, d = pv[:, t].astype(float), load[:, t].astype(float)
        direct = np.minimum(p, d)
        extra, short = p - direct, d - direct
        charge = np.minimum(np.minimum(extra, limit), (capacity - stored) / efficiency)
        discharge = np.minimum(np.minimum(short, limit), stored)
        stored += charge * efficiency - discharge
        used += direct + discharge
        surplus += extra - charge
    return used, surplus
