"""PV on surfaces beyond roofs: canopies over car parks and walkways, covers over
wastewater tanks, greenhouse roofs and pergolas over rural yards — each laid out by its
type's rule (:class:`roofpv.config.SurfaceRule`), its yield read from the run's
orientation-bin yield tables and its economics appraised as a roof's.

Layout, per surface (areas in plan view, m²)::

    base    = open area × site_share          (site_share only for whole sites)
    pv area = min(coverage · base, (1 − light_transmission) · base, base − min_open_area)
              (0 when base < min_area)
    modules = ⌊ pv area / cos(tilt) / ((L + gap) · (W + gap)) ⌋
    kWp     = modules × module power
    kWh/yr  = kWp × specific yield(tilt, azimuth) × (1 − shading loss)

The canopy surface of a plan area A tilted by β is A / cos β; modules of length L and
width W sit on it at the module's clamp gap. The azimuth is due south, or (``facing:
long_axis``) perpendicular to the long axis of the outline's minimum rotated rectangle,
on the side nearer south: canopy rows follow the parking rows. The specific yield is
:func:`roofpv.energy.solar.interpolate` in the table of the rule's temperature model
(canopies are open racks), one call per model for all surfaces.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from roofpv.appraise import carbon, economics, grid
from roofpv.config import Config, Module, SurfaceRule
from roofpv.energy import solar
from roofpv.schema import LAYER_FIELDS


def facing_azimuth(geometry: np.ndarray) -> np.ndarray:
    """Azimuth (degrees clockwise from grid north) perpendicular to the long axis of each
    outline's minimum rotated rectangle, on the side nearer south (180°)."""
    rect = shapely.minimum_rotated_rectangle(geometry)
    coords = shapely.get_coordinates(shapely.get_exterior_ring(rect)).reshape(len(geometry), -1, 2)[:, :3]
    first, second = coords[:, 1] - coords[:, 0], coords[:, 2] - coords[:, 1]
    longer = np.where((np.hypot(*first.T) >= np.hypot(*second.T))[:, None], first, second)
    axis = np.degrees(np.arctan2(longer[:, 0], longer[:, 1])) % 180.0  # 0…180
    normal = (axis + 90.0) % 360.0  # 90…270: the normal on the southern side
    return np.where(np.isfinite(normal), normal, 180.0)


def _rule_values(types: pd.Series, rules: dict[str, SurfaceRule], field: str) -> np.ndarray:
    return types.map({t: getattr(r, field) for t, r in rules.items()}).to_numpy(dtype=float)


def lay_out(surfaces: gpd.GeoDataFrame, rules: dict[str, SurfaceRule], module: Module) -> pd.DataFrame:
    """Per surface: ``usable_area_m2`` (plan area under PV), ``module_tilt_deg``,
    ``azimuth_deg``, ``clearance_m``, ``modules`` and ``kwp``; ``surfaces`` needs
    ``surface_type``, ``open_area_m2``, ``whole_site`` and the open ground's geometry."""
    types = surfaces["surface_type"]
    value = {f: _rule_values(types, rules, f) for f in (
        "tilt_deg", "coverage", "site_share", "light_transmission", "min_open_area_m2", "min_area_m2")}
    base = surfaces["open_area_m2"].to_numpy(float) * np.where(
        surfaces["whole_site"].to_numpy(bool), value["site_share"], 1.0)
    pv = np.minimum.reduce([value["coverage"] * base, (1.0 - value["light_transmission"]) * base,
                            base - value["min_open_area_m2"]])
    pv = np.where(base >= value["min_area_m2"], np.clip(pv, 0.0, None), 0.0)
    tilt = value["tilt_deg"]
    pitch = (module.length_m + module.gap_m) * (module.width_m + module.gap_m)
    modules = np.floor(pv / np.cos(np.radians(tilt)) / pitch + 1e-9).astype(int)
    south = types.map({t: r.facing == "south" for t, r in rules.items()}).to_numpy(bool)
    geometry = surfaces.geometry.to_numpy()
    azimuth = np.full(len(surfaces), 180.0)
    shaped = ~south & ~shapely.is_empty(geometry)
    if shaped.any():
        azimuth[shaped] = facing_azimuth(geometry[shaped])
    return pd.DataFrame({
        "usable_area_m2": pv, "module_tilt_deg": tilt, "azimuth_deg": azimuth,
        "clearance_m": types.map({t: r.clearance_m for t, r in rules.items()}).to_numpy(dtype=float),
        "modules": modules, "kwp": modules * module.power_w / 1000.0,
        "shading_loss": _rule_values(types, rules, "shading_loss"),
    }, index=surfaces.index)


def energy(surfaces: pd.DataFrame, rules: dict[str, SurfaceRule], tables: dict[str, solar.YieldTable]
           ) -> pd.DataFrame:
    """``specific_yield_kwh_kwp`` (before shading) and ``annual_kwh`` of each laid-out
    surface, from the yield table of its rule's temperature model."""
    model = surfaces["surface_type"].map({t: r.temperature_model for t, r in rules.items()})
    specific = np.full(len(surfaces), np.nan)
    for name in model.unique():
        rows = (model == name).to_numpy()
        specific[rows] = solar.interpolate(tables[name], surfaces["module_tilt_deg"].to_numpy(float)[rows],
                                           surfaces["azimuth_deg"].to_numpy(float)[rows])
    kwh = surfaces["kwp"].to_numpy(float) * specific * (1.0 - surfaces["shading_loss"].to_numpy(float))
    return pd.DataFrame({"specific_yield_kwh_kwp": specific, "annual_kwh": kwh}, index=surfaces.index)


def appraise(surfaces: pd.DataFrame, config: Config) -> pd.DataFrame:
    """Economics and avoided carbon of each surface's PV, as a roof's
    (:func:`roofpv.appraise.economics.appraise`): tariff, self-consumption and export
    mode of the rule's category and owner, its own capex where the rule gives one
    (a canopy's steel costs more than roof racks)."""
    rules = config.surfaces.rules
    types = surfaces["surface_type"]
    frame = pd.DataFrame({
        "category": types.map({t: r.category for t, r in rules.items()}),
        "owner_type": types.map({t: r.owner_type for t, r in rules.items()}),
        "existing_pv_kw": 0.0, "capacity_kwp": surfaces["kwp"], "annual_kwh": surfaces["annual_kwh"],
        "pv_area_m2": surfaces["modules"] * config.module.area_m2,
    }, index=surfaces.index)
    frame = grid.classify(frame, config.grid)
    capex = types.map({t: r.capex_yuan_per_w for t, r in rules.items()}).astype(float)
    valued = economics.appraise(frame, config.economics, capex)
    return carbon.account(valued, config.carbon)


def assess(sites: gpd.GeoDataFrame, config: Config, tables: dict[str, solar.YieldTable]) -> gpd.GeoDataFrame:
    """The ``surfaces`` layer: every site (from :func:`roofpv.surfaces.sites.open_ground`)
    laid out, its yield and economics, with the columns of
    :data:`roofpv.schema.LAYER_FIELDS` ``["surfaces"]`` and the open ground as geometry."""
    rules = config.surfaces.rules
    if sites.empty:  # every outline left out (not surfaces, far away, on roofs): an empty layer
        columns = {c: pd.Series(dtype=object if c in ("surface_id", "surface_type", "surface_source", "township",
                                                      "name", "export_mode") else float)
                   for c in LAYER_FIELDS["surfaces"]}
        return gpd.GeoDataFrame(columns, geometry=gpd.GeoSeries([], crs=sites.crs), crs=sites.crs)
    out = sites.join(lay_out(sites, rules, config.module))
    out = out.join(energy(out, rules, tables))
    valued = appraise(out, config)
    out = out.join(valued[["export_mode", "capex_yuan", "revenue_yuan_yr", "npv_yuan", "lcoe_yuan_kwh",
                           "payback_years", "co2_avoided_t_yr"]])
    return gpd.GeoDataFrame(out[list(LAYER_FIELDS["surfaces"])],
                            geometry=gpd.GeoSeries(_multi(out.geometry.to_numpy()), index=out.index), crs=sites.crs)


def _multi(geometry: np.ndarray) -> np.ndarray:
    """Each (multi)polygon as a MultiPolygon of its polygon parts (one geometry type for
    the layer; an empty open ground stays an empty MultiPolygon)."""
    parts, owner = shapely.get_parts(geometry, return_index=True)
    keep = shapely.get_type_id(parts) == 3
    out = np.array([shapely.MultiPolygon()] * len(geometry), dtype=object)
    if keep.any():
        which = np.unique(owner[keep])
        out[which] = shapely.multipolygons(parts[keep], indices=np.searchsorted(which, owner[keep]))
    return out
