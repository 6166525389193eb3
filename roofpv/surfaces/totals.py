"""What counts where: roofs, facades and other surfaces side by side, per township.

Rooftop-PV coverage targets count roofs only (:mod:`roofpv.targets.policy`: a target's
numerator is panel area, buildings or kWh of roofs). The renewable substitution rate
(城镇建筑可再生能源替代率) counts every building-related renewable generation, so it is
shown three ways for every township, over all its buildings' energy use
(``energy_use_mwh``)::

    substitution_roofs        = (existing PV + suitable roofs) / energy use
    substitution_with_facades = (existing PV + suitable roofs + facades) / energy use
    substitution_all          = (existing PV + suitable roofs + facades + surfaces) / energy use

Facades are the buildings' ``facade_kwp`` and ``facade_annual_kwh`` (0 when a run has
no facades); surfaces are the ``surfaces`` layer's ``kwp`` and ``annual_kwh`` by the
surface's township. Totals: ``total_kwp`` = counted roof potential + facades +
surfaces, ``total_annual_mwh`` likewise with the suitable roofs' ``annual_mwh``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from roofpv.schema import CITY, LAYER_FIELDS

#: Township columns this module adds, in order (after the roofs' own totals).
TOTAL_FIELDS = LAYER_FIELDS["townships"][LAYER_FIELDS["townships"].index("facade_kwp"):]


def _by_township(values: pd.Series | float, township: pd.Series) -> pd.Series:
    values = pd.Series(values, index=township.index, dtype=float) if np.isscalar(values) else values
    return values.fillna(0.0).astype(float).groupby(township).sum()  # not to_numpy(): no Python strings


def with_surfaces(table: pd.DataFrame, b: pd.DataFrame, surfaces: pd.DataFrame | None, total: str = CITY
                  ) -> pd.DataFrame:
    """The township table (with its whole-city row :data:`~roofpv.schema.CITY`) with
    :data:`TOTAL_FIELDS`, its columns in the order of :data:`~roofpv.schema.LAYER_FIELDS`
    (the per-target columns after them).

    ``b``: the buildings with ``township``, ``existing_pv_kwh`` and, where the run has
    facades, ``facade_kwp`` and ``facade_annual_kwh``; ``surfaces``: the ``surfaces``
    layer (or None). Surfaces of a township missing from ``table`` count in the city row.
    ``total``: the name of the whole-run row (the province's in a county table, whose
    ``township`` columns then hold counties).
    """
    rows = table.index
    city = rows == total

    def per_row(values, township) -> np.ndarray:
        sums = _by_township(values, township)
        out = sums.reindex(rows).fillna(0.0).to_numpy(copy=True)
        out[city] = sums.sum()
        return out

    t = b["township"]
    has = {c: b[c] if c in b else 0.0 for c in ("facade_kwp", "facade_annual_kwh", "existing_pv_kwh")}
    surf = surfaces if surfaces is not None else pd.DataFrame({"township": [], "kwp": [], "annual_kwh": []})
    facade_kwp = per_row(has["facade_kwp"], t)
    facade_mwh = per_row(has["facade_annual_kwh"], t) / 1000.0
    surface_kwp = per_row(surf["kwp"], surf["township"])
    surface_mwh = per_row(surf["annual_kwh"], surf["township"]) / 1000.0
    existing_mwh = per_row(has["existing_pv_kwh"], t) / 1000.0
    roofs_mwh = table["annual_mwh"].to_numpy(float)
    # no energy use (no floor areas): the rate is unknown, not infinite
    use = np.where(table["energy_use_mwh"].to_numpy(float) > 0, table["energy_use_mwh"].to_numpy(float), np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        added = pd.DataFrame({
            "facade_kwp": facade_kwp, "facade_annual_mwh": facade_mwh,
            "surface_kwp": surface_kwp, "surface_annual_mwh": surface_mwh,
            "total_kwp": table["counted_potential_kwp"].to_numpy(float) + facade_kwp + surface_kwp,
            "total_annual_mwh": roofs_mwh + facade_mwh + surface_mwh,
            "substitution_roofs": (existing_mwh + roofs_mwh) / use,
            "substitution_with_facades": (existing_mwh + roofs_mwh + facade_mwh) / use,
            "substitution_all": (existing_mwh + roofs_mwh + facade_mwh + surface_mwh) / use,
        }, index=rows)[list(TOTAL_FIELDS)]
    out = pd.concat([table.drop(columns=[c for c in TOTAL_FIELDS if c in table]), added], axis=1)
    declared = [c for c in LAYER_FIELDS["townships"] if c in out]  # the declared order, then per target
    return out[declared + [c for c in out.columns if c not in declared]]


def by_type(surfaces: pd.DataFrame | None, townships: list[str]) -> pd.DataFrame:
    """kWp and MWh/yr of the surfaces per township and surface type: one row per
    township of ``townships`` and the city row, columns ``(<type>, kwp)`` and
    ``(<type>, annual_mwh)`` for the types present (none without surfaces)."""
    index = pd.Index([*townships, CITY], name="township")
    if surfaces is None or surfaces.empty:
        return pd.DataFrame(index=index)
    frame = pd.DataFrame({"township": surfaces["township"].to_numpy(), "type": surfaces["surface_type"].to_numpy(),
                          "kwp": surfaces["kwp"].to_numpy(float),
                          "annual_mwh": surfaces["annual_kwh"].to_numpy(float) / 1000.0})
    sums = frame.groupby(["township", "type"])[["kwp", "annual_mwh"]].sum().unstack("type", fill_value=0.0)
    sums = sums.swaplevel(axis=1).sort_index(axis=1)
    city = frame.groupby("type")[["kwp", "annual_mwh"]].sum().stack().rename(CITY)
    out = sums.reindex(index).fillna(0.0)
    out.loc[CITY] = city.reindex(out.columns).fillna(0.0).to_numpy()
    return out
