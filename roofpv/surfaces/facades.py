"""Building-integrated PV on facades (BIPV): walls, their sun, shading and yield.

Each wall segment of a footprint's outline and courtyards (:mod:`roofpv.surfaces.walls`) stands from the
ground to the building's height (``roof_height_m``: measured on the DSM where there is
one, else storeys × storey height). Of its area not hidden by neighbours standing
against it, the ground storey is left out (entrances, shop fronts, reach of passers-by)
and of the rest the windows (window-to-wall ratio by building category and
orientation) and a share for balconies, fire-escape and rescue openings and structure
(:class:`roofpv.config.Facades`, with their sources). What remains carries BIPV
modules of a lower nameplate per m² than a roof module, mounted without rear
ventilation (their own temperature model).

The yield of a vertical plane comes from the same orientation-bin model as the roofs
(:func:`roofpv.energy.solar.yield_tables_for`, PVWatts v8 chain) evaluated at tilt 90°,
once per run (:func:`tables`). Shading: what stands in front of a wall is read along
three rays from the middle of its band (the normal and ±45°, :data:`RAYS_DEG`) — on the
DSM where it has data, else on the extruded footprints — and taken as an equivalent
street canyon (:func:`front_tangent`), whose annual loss of plane-of-array irradiation
by azimuth and elevation is tabulated once per run from the hourly sun with the roofs'
horizon machinery (:class:`~roofpv.roofs.shading.SunTable`, :func:`canyon_losses`). A
wall whose shaded yield falls below a share of the best unshaded wall at the site is
not used (north walls, walls in narrow lanes). Checked wall by wall against UMEP SEBE,
pvlib and a DSM ray-cast in docs/validation.md ("Facades").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from roofpv.energy import solar
from roofpv.io import tiles
from roofpv.roofs import dsm, shading
from roofpv.roofs.raster import Raster
from roofpv.surfaces import walls

if TYPE_CHECKING:
    from roofpv.config import Config

#: The eight compass points a wall faces, from north clockwise (45° each).
COMPASS = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")
#: Tilts of the facade tables: vertical, and one node below it for interpolation [deg].
TILTS = (80.0, 90.0)
#: Obstacle elevation angles of the canyon loss table [deg].
CANYON_ANGLES = np.arange(0.0, 90.0, 1.0)


@dataclass(frozen=True, eq=False)
class FacadeTables:
    """What every partition needs for facades, computed once per run."""

    #: Specific yield of vertical planes with the facades' temperature model.
    yields: solar.YieldTable
    #: Irradiance arranged for horizon lookups on vertical planes.
    sun: shading.SunTable
    #: Annual shading loss of a vertical plane in a street canyon, shape (nazimuth,
    #: :data:`CANYON_ANGLES`): by the plane's azimuth (the bins of ``sun``) and the
    #: elevation angle of the obstacle straight in front of it [unitless].
    canyon: np.ndarray


def tables(config: Config, hourly: pd.DataFrame) -> FacadeTables:
    """Yield and sun tables of vertical planes at the site, from the weather of the run:
    the roofs' model chain with the facades' installed NOCT (:class:`roofpv.config.Facades`)."""
    site, f, system = config.site, config.facades, config.system
    azimuths = np.arange(0.0, 360.0, config.bins.azimuth_step_deg)
    yields = solar.yield_table(
        hourly, site.latitude, site.longitude, site.altitude_m, TILTS, azimuths,
        noct_installed=config.temperature_models[f.temperature_model].noct_installed_c,
        gamma_pdc=config.module.gamma_pdc_per_c, losses_pct=system.total_losses_pct,
        inverter_eff_nom=system.inverter_efficiency_nom, dc_ac_ratio=system.dc_ac_ratio,
        albedo=system.albedo, ar_glass=config.module.ar_glass)
    sun = shading.sun_table(hourly, site.latitude, site.longitude, site.altitude_m, TILTS, azimuths,
                            n_sectors=f.n_sectors, albedo=system.albedo)
    return FacadeTables(yields, sun, canyon_losses(sun))


def canyon_horizon(azimuth_deg: np.ndarray, tan_front: np.ndarray, n_sectors: int) -> np.ndarray:
    """Horizon [deg] of a wall facing ``azimuth_deg`` across a street whose far side
    rises ``tan_front`` (tangent of its elevation straight ahead) and runs parallel to
    the wall without end: ``tan h = tan_front · cos δ`` in the sector ``δ`` off the
    wall's normal, 0 behind the wall. Shape (n, ``n_sectors``)."""
    phi = np.arange(n_sectors) * 360.0 / n_sectors
    cos = np.cos(np.radians(phi[None, :] - np.asarray(azimuth_deg, float)[:, None]))
    return np.degrees(np.arctan(np.asarray(tan_front, float)[:, None] * np.maximum(cos, 0.0)))


def canyon_losses(sun: shading.SunTable) -> np.ndarray:
    """The canyon loss table of :class:`FacadeTables` from a sun table of vertical planes."""
    az, angle = np.meshgrid(sun.azimuths, CANYON_ANGLES, indexing="ij")
    horizon = canyon_horizon(az.ravel(), np.tan(np.radians(angle.ravel())), sun.n_sectors)
    loss, _ = shading.shading_loss(sun, horizon, 90.0, az.ravel())
    return np.clip(loss, 0.0, 1.0).reshape(az.shape)


def canyon_loss(ft: FacadeTables, azimuth_deg: np.ndarray, tan_front: np.ndarray) -> np.ndarray:
    """Annual shading loss of walls facing ``azimuth_deg`` with an obstacle of elevation
    ``atan(tan_front)`` straight ahead, from the canyon table (bilinear) [unitless]."""
    angle = np.degrees(np.arctan(np.asarray(tan_front, float)))
    return solar.bilinear(CANYON_ANGLES, ft.sun.azimuths, ft.canyon.T, angle, azimuth_deg)


def compass(azimuth_deg: np.ndarray) -> np.ndarray:
    """The compass point (:data:`COMPASS`) nearest each azimuth [deg from north]."""
    return np.asarray(COMPASS, dtype=object)[np.rint(np.asarray(azimuth_deg) / 45.0).astype(int) % 8]


#: Rays from each wall to its obstacles: off the normal by these angles [deg].
RAYS_DEG = (-45.0, 0.0, 45.0)


def front_tangent(front: dict[str, np.ndarray], z_m: np.ndarray, geometry: np.ndarray, height_m: np.ndarray,
                  edges: dict[str, np.ndarray], config: Config, mosaic: tiles.Mosaic | None = None,
                  dem: tiles.Mosaic | None = None) -> np.ndarray:
    """The street-canyon equivalent of what stands in front of each wall: the tangent
    of the elevation of the far side of an endless parallel street that would give the
    obstacles' elevation along each of :data:`RAYS_DEG` (``tan θ_δ / cos δ``), averaged
    over the rays. An endless street side gives its own elevation on every ray; a
    single block straight ahead counts a third, an obstacle off to the side too.
    Obstacles are read from the DSM where it has data (:func:`dsm_obstruction`), else
    from the extruded footprints (:func:`roofpv.surfaces.walls.facing_obstruction`)
    [unitless]."""
    f = config.facades
    measured = None if mosaic is None else dsm_obstruction(front, z_m, mosaic, dem, config, RAYS_DEG)
    total = np.zeros(len(z_m))
    for k, turn in enumerate(RAYS_DEG):
        tan = walls.facing_obstruction(front, z_m, geometry, height_m, edges, f.party_wall_gap_m, f.radius_m, turn)
        if measured is not None:
            tan = np.where(np.isnan(measured[:, k]), tan, measured[:, k])
        total += tan / np.cos(np.radians(turn))
    return total / len(RAYS_DEG)


def dsm_obstruction(w: dict[str, np.ndarray], z_m: np.ndarray, mosaic: tiles.Mosaic, dem: tiles.Mosaic | None,
                    config: Config, turns_deg: tuple[float, ...] = (0.0,)) -> np.ndarray:
    """Tangent of the elevation angle of the highest DSM cell straight in front of each
    wall, seen from the wall's middle at height ``z_m`` above ground: the DSM read along
    the outward normal turned by each of ``turns_deg`` (clockwise) every half cell, from
    one cell plus ``party_wall_gap_m`` out (a footprint a cell off the DSM does not see
    its own roof) to ``radius_m``. The ground under the wall is the DEM where given, else
    the DSM's ground surface (:func:`roofpv.roofs.dsm.ground_surface`, on whole blocks of
    the DSM so that any split of the buildings reads the same ground) one cell in front
    of it. Each block of the DSM is read, and its ground computed, once for all turns.
    NaN where the DSM has no data there; shape (walls, turns) [unitless]."""
    f = config.facades
    out = np.full((w["owner"].size, len(turns_deg)), np.nan)
    if not out.size:
        return out
    mx, my = (w["x0"] + w["x1"]) / 2, (w["y0"] + w["y1"]) / 2
    points = shapely.points(mx, my)
    for at, grid, ground, _ in tiles.windows(mosaic, points, f.radius_m + 2 * mosaic.res, config.dsm.block_m, dem,
                                             whole_blocks=True):
        res = grid.res
        feet = np.column_stack([mx[at] + res * w["nx"][at], my[at] + res * w["ny"][at]])
        if ground is None:  # the opening only around the walls' feet (a block is mostly open ground)
            near = grid.slices((*feet.min(axis=0), *feet.max(axis=0)), 1)
            ground = Raster(dsm.ground_surface(grid.z, res, near).astype(np.float32), grid.x0, grid.y0, res)
        foot = ground.sample(feet)
        z0 = foot + z_m[at]
        turned = [walls.turned(w["nx"][at], w["ny"][at], turn) for turn in turns_deg]
        nx, ny = (np.concatenate([t[i] for t in turned]) for i in (0, 1))   # every turn of every wall at once
        x, y, z_from = (np.tile(v, len(turns_deg)) for v in (mx[at], my[at], z0))
        best = np.zeros(x.size)
        for d in np.arange(f.party_wall_gap_m + res, f.radius_m, res / 2):
            z = grid.sample(np.column_stack([x + d * nx, y + d * ny]))
            np.fmax(best, (z - z_from) / d, out=best)
        out[at] = np.where(np.isfinite(foot)[:, None], best.reshape(len(turns_deg), at.size).T, np.nan)
    return out


def facade_layer(b: gpd.GeoDataFrame, config: Config, ft: FacadeTables, crs: str,
                 around: gpd.GeoDataFrame | None = None, north_deg: float | np.ndarray = 0.0,
                 mosaic: tiles.Mosaic | None = None, dem: tiles.Mosaic | None = None) -> gpd.GeoDataFrame:
    """The ``facades`` layer: one row per wall segment (outline and courtyards) of the buildings ``b``.

    Parameters
    ----------
    b : buildings with ``geometry``, ``roof_height_m`` [m], ``category`` and ``township``
    config : run configuration (:class:`roofpv.config.Facades` in ``config.facades``)
    ft : the run's :func:`tables`
    crs : projected CRS of the geometries
    around : footprints (with ``roof_height_m``) besides ``b`` that stand against or
        shade its walls, e.g. the neighbours of a partition; their walls are not listed
    north_deg : azimuth of grid north from true north (:func:`grid_north`), one for all or
        one per building of ``b`` [deg]
    mosaic, dem : the run's DSM (and DEM): where it has data in front of a wall, the
        obstacle in front is read from it (:func:`dsm_obstruction`: roofs as they stand,
        every building whether it has a footprint and a height or not), else from the
        extruded footprints

    Returns
    -------
    geopandas.GeoDataFrame
        Wall lines with the columns of ``LAYER_FIELDS["facades"]`` (:mod:`roofpv.schema`),
        by building id, then wall number along the outline.
    """
    f = config.facades
    every = b if around is None or around.empty else pd.concat([b[["geometry", "roof_height_m"]],
                                                               around[["geometry", "roof_height_m"]]])
    geometry = every.geometry.to_numpy()
    height = np.nan_to_num(every["roof_height_m"].to_numpy(float))
    own = np.zeros(len(every), bool)
    own[:len(b)] = True
    edges = walls.segments(geometry)
    # Outer walls and courtyard walls (the edges of holes, facing into the courtyard).
    w = walls.subset(edges, own[edges["owner"]] & (edges["length_m"] >= f.min_wall_length_m))
    exposed = walls.exposed_height(w, geometry, height, f.party_wall_gap_m)
    top = height[w["owner"]]
    north = np.broadcast_to(np.asarray(north_deg, float), (len(b),))
    azimuth = (w["azimuth_deg"] + north[w["owner"]]) % 360.0

    # The usable band: above the hidden part and the ground storey, up to the top.
    rules = _use_rules(b["category"].to_numpy(object)[w["owner"]], azimuth, config)
    bottom = np.maximum(top - exposed, np.where(rules["ground_floor_excluded"], config.dsm.storey_height_m, 0.0))
    band = np.clip(top - bottom, 0.0, None)
    area = w["length_m"] * exposed
    usable = w["length_m"] * band * (1 - rules["window_to_wall"]) * (1 - rules["other_excluded"])
    specific = solar.interpolate(ft.yields, 90.0, azimuth)
    poa = solar.interpolate_field(ft.yields, "poa_annual_kwh_m2", 90.0, azimuth)
    least = f.min_yield_share * float(ft.yields.annual_kwh_per_kwp[-1].max())

    # Shading from the middle of the band, on the walls that may carry modules.
    loss = np.full(len(top), np.nan)  # not assessed on walls that cannot carry modules
    candidate = np.flatnonzero((usable > 0) & (specific >= least))
    mid = (bottom + top)[candidate] / 2
    tan_front = front_tangent(walls.subset(w, candidate), mid, geometry, height, edges, config, mosaic, dem)
    loss[candidate] = canyon_loss(ft, azimuth[candidate], tan_front)
    usable = np.where(specific * (1 - np.nan_to_num(loss)) >= least, usable, 0.0)
    kwp = usable * f.power_w_m2 / 1000.0
    ids = b.index.to_numpy()[w["owner"]]
    number = np.arange(ids.size) - np.searchsorted(w["owner"], w["owner"])  # walls come by owner
    line = shapely.linestrings(np.stack([np.column_stack([w["x0"], w["y0"]]),
                                         np.column_stack([w["x1"], w["y1"]])], axis=1))
    layer = gpd.GeoDataFrame({
        "building_id": ids,
        "wall": number,
        "township": b["township"].to_numpy(object)[w["owner"]],
        "orientation": compass(azimuth),
        "azimuth_deg": azimuth,
        "length_m": w["length_m"],
        "wall_height_m": exposed,
        "band_bottom_m": np.where(band > 0, bottom, np.nan),
        "wall_area_m2": area,
        "usable_area_m2": usable,
        "poa_kwh_m2": poa,
        "shading_loss": loss,
        "specific_yield_kwh_kwp": specific,
        "kwp": kwp,
        "annual_kwh": kwp * specific * (1 - np.nan_to_num(loss)),
    }, geometry=line, crs=crs)
    return layer.sort_values(["building_id", "wall"], kind="stable", ignore_index=True)


def within_reach(neighbours: gpd.GeoDataFrame, b: gpd.GeoDataFrame, config: Config) -> gpd.GeoDataFrame:
    """The ``neighbours`` that can stand against or in front of a wall of ``b``: those
    within ``party_wall_gap_m`` + ``radius_m`` (+ 1 m) of a footprint of ``b``, the
    farthest a ray of :func:`roofpv.surfaces.walls.facing_obstruction` reaches. The
    walls of ``b`` are the same with these as with all the neighbours."""
    f = config.facades
    near = shapely.STRtree(b.geometry.to_numpy()).query(neighbours.geometry.to_numpy(), predicate="dwithin",
                                                        distance=f.party_wall_gap_m + f.radius_m + 1.0)[0]
    return neighbours.iloc[np.unique(near)]


def heights(buildings: gpd.GeoDataFrame, config: Config) -> gpd.GeoDataFrame:
    """Footprints with ``roof_height_m`` for :func:`facade_layer`'s ``around``: as
    assessed where a run has it, else storeys × ``config.dsm.storey_height_m`` (one
    storey where the storeys are unknown)."""
    storeys = buildings.get("floors", pd.Series(np.nan, buildings.index)).astype(float).fillna(1.0)
    height = storeys * config.dsm.storey_height_m
    if "roof_height_m" in buildings:
        height = buildings["roof_height_m"].astype(float).fillna(height)
    return gpd.GeoDataFrame({"roof_height_m": height}, geometry=buildings.geometry, crs=buildings.crs)


def grid_north(b: gpd.GeoDataFrame, crs: str) -> np.ndarray:
    """Azimuth of grid north from true north at the centre of each building's bounds
    [deg] (:func:`roofpv.roofs.dsm.true_north`; 0 where a building has no geometry):
    each building's own, so any split of the buildings gives the same walls."""
    xmin, ymin, xmax, ymax = shapely.bounds(b.geometry.to_numpy()).T
    north = dsm.true_north(pyproj.CRS(crs).to_wkt(), (xmin + xmax) / 2, (ymin + ymax) / 2)
    return np.nan_to_num(np.asarray(north, float))


def building_totals(layer: pd.DataFrame, index: pd.Index) -> pd.DataFrame:
    """``facade_kwp`` [kWp] and ``facade_annual_kwh`` [kWh/yr] of each building of
    ``index`` from its walls in the ``facades`` layer (0 without walls)."""
    at = index.get_indexer(layer["building_id"])
    n = len(index)
    return pd.DataFrame({
        "facade_kwp": np.bincount(at, layer["kwp"].to_numpy(float), minlength=n),
        "facade_annual_kwh": np.bincount(at, layer["annual_kwh"].to_numpy(float), minlength=n),
    }, index=index)


#: The sides of the window-to-wall rules (:class:`roofpv.config.FacadeUse`).
SIDES = ("N", "E", "S", "W")


def side(azimuth_deg: np.ndarray) -> np.ndarray:
    """Position in :data:`SIDES` of the side each azimuth [deg from north] falls on, as
    JGJ 26-2018 draws them: N within 60° of north, S within 30° of south, E and W
    between (60°–150° and 210°–300°)."""
    a = np.mod(azimuth_deg, 360.0)
    return np.select([(a >= 300) | (a < 60), a < 150, a <= 210], [0, 1, 2], 3)


def _use_rules(category: np.ndarray, azimuth_deg: np.ndarray, config: Config) -> dict[str, np.ndarray]:
    """Window-to-wall ratio (by the wall's :func:`side`), other exclusions and the
    ground-storey rule of each wall, from its building's category (``other`` where the
    category is not in ``config.facades.use``)."""
    use = config.facades.use
    codes, distinct = pd.factorize(pd.Series(category, dtype=object).fillna("other"), use_na_sentinel=False)
    rule = [use.get(c, use["other"]) for c in distinct] or [use["other"]]
    at = side(azimuth_deg)
    wwr = np.array([[r.window_to_wall[s] for s in SIDES] for r in rule])
    return {
        "window_to_wall": wwr[codes, at],
        "other_excluded": np.array([r.other_excluded for r in rule])[codes],
        "ground_floor_excluded": np.array([r.ground_floor_excluded for r in rule])[codes],
    }
