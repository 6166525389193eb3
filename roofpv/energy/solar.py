"""
Specific PV yield per plane orientation.

The yield of a site is computed once for a grid of (tilt, azimuth) bins and
looked up per roof plane by bilinear interpolation. All energies are AC
energy per kWp of DC nameplate over the weather year. The model chain is
NREL's PVWatts v8 for fixed arrays (see :py:func:`yield_table` and
docs/validation.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pvlib

from roofpv.energy.temperature import cell_temperature, heat_balance
from roofpv.energy.weather import interval_midpoints, solar_position

if TYPE_CHECKING:
    import pandas as pd

    from roofpv.config import Config


@dataclass(frozen=True, eq=False)
class YieldTable:
    """
    Yield of a site per orientation bin.

    Attributes
    ----------
    tilts : numpy.ndarray
        Plane tilts from horizontal, increasing [degrees].
    azimuths : numpy.ndarray
        Plane azimuths clockwise from north, increasing, spanning less than
        360 [degrees].
    annual_kwh_per_kwp : numpy.ndarray
        Annual AC yield, shape (ntilt, nazimuth) [kWh/kWp].
    monthly_kwh_per_kwp : numpy.ndarray
        Monthly AC yield, shape (12, ntilt, nazimuth) [kWh/kWp].
    poa_annual_kwh_m2 : numpy.ndarray
        Annual plane-of-array irradiation before reflection losses, shape
        (ntilt, nazimuth) [kWh/m²].
    poa_monthly_kwh_m2 : numpy.ndarray
        Monthly plane-of-array irradiation before reflection losses, shape
        (12, ntilt, nazimuth) [kWh/m²].
    hourly_kwh_per_kwp : numpy.ndarray or None
        AC energy of each interval of the weather file, shape
        (nsteps, ntilt, nazimuth), float32; its sum over the steps is
        ``annual_kwh_per_kwp`` [kWh/kWp]. None unless asked for.
    """

    tilts: np.ndarray
    azimuths: np.ndarray
    annual_kwh_per_kwp: np.ndarray
    monthly_kwh_per_kwp: np.ndarray
    poa_annual_kwh_m2: np.ndarray
    poa_monthly_kwh_m2: np.ndarray
    hourly_kwh_per_kwp: np.ndarray | None = None


def _grid(tilts, azimuths):
    tilts = np.asarray(tilts, dtype=float)
    azimuths = np.asarray(azimuths, dtype=float)
    if tilts.ndim != 1 or tilts.size < 2 or np.any(np.diff(tilts) <= 0):
        raise ValueError("tilts must hold at least two increasing values")
    if (azimuths.ndim != 1 or np.any(np.diff(azimuths) <= 0)
            or azimuths[-1] - azimuths[0] >= 360):
        raise ValueError("azimuths must increase and span less than 360")
    return tilts, azimuths


def yield_tables_for(weather, latitude, longitude, altitude, tilts, azimuths, *,
                     noct_installed, gamma_pdc, losses_pct, inverter_eff_nom=0.96,
                     dc_ac_ratio=1.2, albedo=0.2, ar_glass=True, hourly=False):
    """
    Yield tables for several installed NOCTs from one irradiance computation.

    Parameters as :py:func:`yield_table`, except ``noct_installed``: a
    sequence of installed NOCTs [°C]. With ``hourly`` the tables also hold
    the energy of every interval (``hourly_kwh_per_kwp``). Returns one
    :class:`YieldTable` per NOCT, in the same order.
    """
    tilts, azimuths = _grid(tilts, azimuths)
    tilt, azimuth = np.meshgrid(tilts, azimuths, indexing="ij")
    monthly, poa, steps = _orientation_energy(
        weather, latitude, longitude, altitude, tilt.ravel(), azimuth.ravel(),
        noct_installed=noct_installed, gamma_pdc=gamma_pdc, losses_pct=losses_pct,
        inverter_eff_nom=inverter_eff_nom, dc_ac_ratio=dc_ac_ratio, albedo=albedo,
        ar_glass=ar_glass, hourly=hourly)
    poa = poa.reshape(12, *tilt.shape)
    out = []
    for k, energy in enumerate(monthly):
        energy = energy.reshape(12, *tilt.shape)
        out.append(YieldTable(tilts, azimuths, energy.sum(axis=0), energy,
                              poa.sum(axis=0), poa,
                              None if steps is None else steps[k].reshape(-1, *tilt.shape)))
    return out


def yield_table(weather, latitude, longitude, altitude, tilts, azimuths, *,
                noct_installed, gamma_pdc, losses_pct,
                inverter_eff_nom=0.96, dc_ac_ratio=1.2, albedo=0.2,
                ar_glass=True):
    """
    Specific yield for every combination of ``tilts`` and ``azimuths``.

    Parameters
    ----------
    weather : pandas.DataFrame
        Canonical hourly weather frame, see :mod:`roofpv.energy.weather`.
    latitude, longitude : float
        Site coordinates [degrees north, degrees east].
    altitude : float
        Site elevation above sea level [m].
    tilts : array_like
        At least two increasing plane tilts from horizontal [degrees].
    azimuths : array_like
        Increasing plane azimuths clockwise from north spanning less than 360,
        e.g. ``range(0, 360, 10)`` [degrees].
    noct_installed : float
        Installed nominal operating cell temperature of the mounting, e.g.
        45 for an open rack, 49 for rails on a roof (PVWatts v8) [°C].
    gamma_pdc : float
        Temperature coefficient of DC power, e.g. -0.0037 [1/°C].
    losses_pct : float
        Total DC system losses, e.g. 14.08 as returned by
        :py:func:`pvlib.pvsystem.pvwatts_losses` [%].
    inverter_eff_nom : float, default 0.96
        Nominal inverter efficiency. [unitless]
    dc_ac_ratio : float, default 1.2
        DC nameplate over inverter AC rating. [unitless]
    albedo : float, default 0.2
        Ground reflectance. [unitless]
    ar_glass : bool, default True
        Module glass with an anti-reflective coating.

    Returns
    -------
    YieldTable

    See Also
    --------
    plane_yield_exact, interpolate, interpolate_monthly

    Notes
    -----
    The model chain of NREL's PVWatts v8 for a fixed array without
    row-to-row shading, for 1 kWp DC, with the sun at interval midpoints:
    Perez transposition (relative airmass, extraterrestrial DNI) plus
    isotropic ground reflection, a horizontal plane receiving the file's GHI;
    cover transmission of beam, sky and ground light by
    :py:func:`cover_transmission`; the De Soto air-mass modifier; Fuentes
    cell temperature (:py:func:`roofpv.energy.temperature.fuentes`) from the
    installed NOCT and plane-of-array irradiance before reflection losses;
    PVWatts DC with ``losses_pct`` applied to DC power; PVWatts inverter with
    an AC rating of ``1 / dc_ac_ratio`` kW. Intervals whose midpoint has the
    sun below the horizon, or with zero DNI and DHI, contribute no energy.
    """
    return yield_tables_for(
        weather, latitude, longitude, altitude, tilts, azimuths,
        noct_installed=[noct_installed], gamma_pdc=gamma_pdc, losses_pct=losses_pct,
        inverter_eff_nom=inverter_eff_nom, dc_ac_ratio=dc_ac_ratio, albedo=albedo,
        ar_glass=ar_glass)[0]


def plane_yield_exact(weather, latitude, longitude, altitude, tilt, azimuth,
                      *, noct_installed, gamma_pdc, losses_pct,
                      inverter_eff_nom=0.96, dc_ac_ratio=1.2, albedo=0.2,
                      ar_glass=True):
    """
    Annual specific yield of planes computed without binning.

    Uses the model of :py:func:`yield_table`; the other parameters are the
    same.

    Parameters
    ----------
    tilt : numeric
        Plane tilt from horizontal [degrees].
    azimuth : numeric
        Plane azimuth clockwise from north [degrees]; broadcast with ``tilt``.

    Returns
    -------
    numeric
        Annual AC yield with the broadcast shape of ``tilt`` and ``azimuth``
        [kWh/kWp].
    """
    tilt, azimuth = np.broadcast_arrays(np.asarray(tilt, dtype=float),
                                        np.asarray(azimuth, dtype=float))
    monthly, _, _ = _orientation_energy(
        weather, latitude, longitude, altitude, tilt.ravel(), azimuth.ravel(),
        noct_installed=[noct_installed], gamma_pdc=gamma_pdc,
        losses_pct=losses_pct, inverter_eff_nom=inverter_eff_nom,
        dc_ac_ratio=dc_ac_ratio, albedo=albedo, ar_glass=ar_glass)
    return monthly[0].sum(axis=0).reshape(tilt.shape)[()]


def interpolate(table, tilt, azimuth):
    """
    Annual yield of planes by bilinear interpolation in a yield table.

    Parameters
    ----------
    table : YieldTable
    tilt : array_like
        Plane tilts [degrees]; clipped to the range of ``table.tilts``.
    azimuth : array_like
        Plane azimuths clockwise from north [degrees]; wraps at 360.

    Returns
    -------
    numpy.ndarray
        Annual AC yield with the broadcast shape of ``tilt`` and ``azimuth``
        [kWh/kWp].
    """
    return bilinear(table.tilts, table.azimuths, table.annual_kwh_per_kwp,
                     tilt, azimuth)


def interpolate_monthly(table, tilt, azimuth):
    """
    Monthly yield of planes by bilinear interpolation in a yield table.

    Parameters
    ----------
    table : YieldTable
    tilt : array_like
        Plane tilts [degrees]; clipped to the range of ``table.tilts``.
    azimuth : array_like
        Plane azimuths clockwise from north [degrees]; wraps at 360.

    Returns
    -------
    numpy.ndarray
        Monthly AC yield, shape (``*shape``, 12) where ``shape`` is the
        broadcast shape of ``tilt`` and ``azimuth`` [kWh/kWp].
    """
    return np.moveaxis(
        bilinear(table.tilts, table.azimuths, table.monthly_kwh_per_kwp,
                  tilt, azimuth), 0, -1)


def interpolate_field(table, name, tilt, azimuth):
    """
    Any field of a yield table at planes, by bilinear interpolation.

    Parameters
    ----------
    table : YieldTable
    name : str
        A field of :class:`YieldTable` of shape (ntilt, nazimuth) or
        (12, ntilt, nazimuth), e.g. ``"poa_annual_kwh_m2"``.
    tilt, azimuth : array_like
        Plane tilts (clipped) and azimuths (wrapping at 360) [degrees].

    Returns
    -------
    numpy.ndarray
        Shape ``shape`` or (``*shape``, 12) for monthly fields, where
        ``shape`` is the broadcast shape of ``tilt`` and ``azimuth``.
    """
    grid = getattr(table, name)
    values = bilinear(table.tilts, table.azimuths, grid, tilt, azimuth)
    return np.moveaxis(values, 0, -1) if grid.ndim == 3 else values


def lifetime_energy(annual_kwh, years, degradation_per_year):
    """
    Energy over a system lifetime with a constant annual degradation.

    Year ``k`` (``k = 1 .. years``) yields
    ``annual_kwh * (1 - degradation_per_year) ** (k - 1)``: the first year
    gives ``annual_kwh`` and output falls geometrically after it.

    Parameters
    ----------
    annual_kwh : array_like
        First-year energy [kWh].
    years : int
        Lifetime, at least 0 [years].
    degradation_per_year : float
        Fractional loss of output per year, e.g. 0.005 for 0.5 %/year, in
        [0, 1). [unitless]

    Returns
    -------
    numpy.ndarray or float
        Lifetime energy with the shape of ``annual_kwh`` [kWh].

    Raises
    ------
    ValueError
        If ``years`` is negative or not whole, or ``degradation_per_year``
        is outside [0, 1).
    """
    if years < 0 or int(years) != years:
        raise ValueError("years must be a whole number, at least 0")
    if not 0 <= degradation_per_year < 1:
        raise ValueError("degradation_per_year must lie in [0, 1)")
    d = float(degradation_per_year)
    factor = (float(years) if d == 0
              else (1 - (1 - d) ** int(years)) / d)
    return np.asarray(annual_kwh, dtype=float)[()] * factor


def bilinear(tilts, azimuths, grid, tilt, azimuth):
    """
    Interpolate ``grid`` of shape (..., ntilt, nazimuth) bilinearly at
    ``tilt`` (clipped) and ``azimuth`` (periodic).
    """
    tilt, azimuth = np.broadcast_arrays(np.asarray(tilt, dtype=float),
                                        np.asarray(azimuth, dtype=float))
    tilt = np.clip(tilt, tilts[0], tilts[-1])
    i = np.clip(np.searchsorted(tilts, tilt, side="right") - 1,
                0, tilts.size - 2)
    wt = (tilt - tilts[i]) / (tilts[i + 1] - tilts[i])
    edges = np.append(azimuths, azimuths[0] + 360)
    azimuth = azimuths[0] + np.mod(azimuth - azimuths[0], 360)
    j = np.clip(np.searchsorted(edges, azimuth, side="right") - 1,
                0, azimuths.size - 1)
    wa = (azimuth - edges[j]) / (edges[j + 1] - edges[j])
    k = np.mod(j + 1, azimuths.size)
    return ((1 - wt) * ((1 - wa) * grid[..., i, j] + wa * grid[..., i, k])
            + wt * ((1 - wa) * grid[..., i + 1, j] + wa * grid[..., i + 1, k]))


def bilinear_weights(tilts, azimuths, tilt, azimuth):
    """
    The interpolation of :py:func:`interpolate` as weights on the table's bins.

    Returns ``(bins, weights)``, both of shape (n, 4) for the n planes of the
    flattened ``tilt`` and ``azimuth``: flat indices into a (ntilt, nazimuth)
    grid and their weights (summing to 1). ``weights · grid.ravel()[bins]``
    summed over the last axis is the interpolated value, so a sparse matrix
    of these weights turns any per-bin series (e.g. hourly energy) into the
    series of planes, buildings or groups of them by one matrix product.
    """
    tilt, azimuth = (a.ravel() for a in np.broadcast_arrays(np.asarray(tilt, dtype=float),
                                                            np.asarray(azimuth, dtype=float)))
    tilt = np.clip(tilt, tilts[0], tilts[-1])
    i = np.clip(np.searchsorted(tilts, tilt, side="right") - 1, 0, tilts.size - 2)
    wt = (tilt - tilts[i]) / (tilts[i + 1] - tilts[i])
    edges = np.append(azimuths, azimuths[0] + 360)
    azimuth = azimuths[0] + np.mod(azimuth - azimuths[0], 360)
    j = np.clip(np.searchsorted(edges, azimuth, side="right") - 1, 0, azimuths.size - 1)
    wa = (azimuth - edges[j]) / (edges[j + 1] - edges[j])
    k = np.mod(j + 1, azimuths.size)
    n = azimuths.size
    bins = np.stack([i * n + j, i * n + k, (i + 1) * n + j, (i + 1) * n + k], axis=1)
    weights = np.stack([(1 - wt) * (1 - wa), (1 - wt) * wa, wt * (1 - wa), wt * wa], axis=1)
    return bins, weights


#: De Soto et al. (2006) air-mass modifier, the polynomial PVWatts v8 applies
#: to crystalline silicon, lowest order first. [unitless]
AIR_MASS_MODIFIER = (0.918093, 0.086257, -0.024459, 0.002816, -0.000126)


def _transmittance(aoi, n_cover, n_before, thickness):
    """Fresnel transmittance with Bouguer absorption (k = 4 /m) of one cover
    layer, and the angle of refraction; angles in degrees."""
    theta = np.radians(aoi)
    refracted = np.arcsin(n_before / n_cover * np.sin(theta))
    fresnel = 1 - 0.5 * (np.sin(refracted - theta)**2 / np.sin(refracted + theta)**2
                         + np.tan(refracted - theta)**2 / np.tan(refracted + theta)**2)
    return fresnel * np.exp(-4.0 * thickness / np.cos(refracted)), np.degrees(refracted)


def cover_transmission(aoi, surface_tilt, ar_glass=True):
    """
    Share of beam, sky-diffuse and ground-reflected irradiance that passes
    the module cover, as PVWatts v8 computes it.

    Parameters
    ----------
    aoi : array_like
        Angle of incidence of the beam, clipped to 1-89 [degrees].
    surface_tilt : array_like
        Plane tilt [degrees].
    ar_glass : bool, default True
        Glass with an anti-reflective coating (n 1.3, 1/100 of the glass
        thickness) on 2 mm glass of n 1.526.

    Returns
    -------
    beam, sky, ground : numpy.ndarray
        Transmission relative to normal incidence, at most 1. [unitless]

    Notes
    -----
    De Soto et al. (2006): Fresnel reflection and Bouguer absorption; the
    diffuse parts at the effective incidence angles of Brandemuehl and
    Beckman (Duffie & Beckman eq. 5.4.1-2) through plain glass. The
    normal-incidence reference is the coated stack entered from air, as in
    NREL's SAM Simulation Core, so coated glass passes beam light without
    loss up to about 50°.
    """
    aoi = np.clip(aoi, 1.0, 89.0)
    tilt = np.asarray(surface_tilt, dtype=float)
    glass, coat, coat_thickness = 1.526, 1.3, 0.002 * 0.01
    if ar_glass:
        coating, inside = _transmittance(1.0, coat, 1.0, coat_thickness)
        normal = coating * _transmittance(inside, glass, 1.0, 0.002)[0]
        coating, inside = _transmittance(aoi, coat, 1.0, coat_thickness)
        beam = coating * _transmittance(inside, glass, coat, 0.002)[0]
    else:
        normal = _transmittance(1.0, glass, 1.0, 0.002)[0]
        beam = _transmittance(aoi, glass, 1.0, 0.002)[0]
    sky = _transmittance(59.7 - 0.1388 * tilt + 0.001497 * tilt**2, glass, 1.0, 0.002)[0]
    ground = _transmittance(90.0 - 0.5788 * tilt + 0.002693 * tilt**2, glass, 1.0, 0.002)[0]
    return tuple(np.minimum(t / normal, 1.0) for t in (beam, sky, ground))


def air_mass_modifier(zenith, altitude):
    """Spectral factor of De Soto et al. (2006) from the Kasten-Young air
    mass corrected for site elevation [m]; ``zenith`` in degrees. [unitless]"""
    zenith = np.minimum(zenith, 89.9)
    airmass = (np.exp(-0.0001184 * altitude)
               / (np.cos(np.radians(zenith)) + 0.5057 * (96.080 - zenith) ** -1.634))
    return np.maximum(np.polynomial.polynomial.polyval(airmass, AIR_MASS_MODIFIER), 0.0)


def _orientation_energy(weather, latitude, longitude, altitude, surface_tilt,
                        surface_azimuth, *, noct_installed, gamma_pdc,
                        losses_pct, inverter_eff_nom, dc_ac_ratio, albedo,
                        ar_glass=True, chunk_size=96, hourly=False):
    """
    Monthly AC energy and monthly POA irradiation of 1 kWp planes (and, with
    ``hourly``, the AC energy of every interval).

    ``surface_tilt`` and ``surface_azimuth`` are 1-D arrays of length n,
    ``noct_installed`` a sequence of K installed NOCTs [°C]. Returns the
    monthly AC energy, shape (K, 12, n) [kWh/kWp], and the monthly
    plane-of-array irradiation before reflection losses, shape (12, n)
    [kWh/m²], and with ``hourly`` the AC energy per interval of the weather
    file, shape (K, nsteps, n), float32 [kWh/kWp] (else None). Hours are rows
    and orientations columns, ``chunk_size``
    orientations at a time; the irradiance of a chunk serves every NOCT.
    The model is described in :py:func:`yield_table`.
    """
    nocts = np.atleast_1d(np.asarray(noct_installed, dtype=float))
    solpos = solar_position(weather, latitude, longitude, altitude)
    zenith_all = solpos["apparent_zenith"].to_numpy()
    lit = (zenith_all < 90) & (weather["dni"].to_numpy() + weather["dhi"].to_numpy() > 0)
    # The dark hour before each lit spell carries the module's night
    # temperature into the thermal model; it yields nothing.
    rows = lit | np.roll(lit, -1)
    follows = np.r_[False, np.diff(np.flatnonzero(rows)) == 1]
    lit = lit[rows][:, None]
    zenith = np.where(lit, zenith_all[rows, None], 0.0)
    sun_azimuth = solpos["azimuth"].to_numpy()[rows, None]
    ghi, dni, dhi, temp_air, wind_speed = (
        np.where(lit, weather[c].to_numpy()[rows, None], 0.0) if c in ("ghi", "dni", "dhi")
        else weather[c].to_numpy()[rows, None]
        for c in ("ghi", "dni", "dhi", "temp_air", "wind_speed"))
    dni_extra = pvlib.irradiance.get_extra_radiation(
        interval_midpoints(weather.index[rows])).to_numpy()[:, None]
    airmass = pvlib.atmosphere.get_relative_airmass(zenith)
    spectral = np.where(lit, air_mass_modifier(zenith, altitude), 0.0)
    # Rows run in time order: each month is one contiguous block.
    month = weather.index.month.to_numpy()[rows]
    month_start = np.flatnonzero(np.r_[True, np.diff(month) != 0])
    month_index = month[month_start] - 1
    # Beam transmission tabulated over the angle of incidence (0.05° steps).
    aoi_nodes = np.linspace(0.0, 90.0, 1801)
    beam_nodes = cover_transmission(aoi_nodes, 0.0, ar_glass)[0]
    pdc0_inverter = 1 / (dc_ac_ratio * inverter_eff_nom)

    # Heat-balance nodes span the plane-of-array range (above it the balance extrapolates linearly).
    poa_max = float(np.max(dni + 2 * dhi + albedo * ghi, initial=0.0))
    balances = [heat_balance(temp_air, wind_speed, noct, poa_max) for noct in nocts]
    monthly = np.zeros((nocts.size, 12, surface_tilt.size))
    poa_monthly = np.zeros((12, surface_tilt.size))
    # Orientation-major: each orientation's intervals contiguous, as the hourly grid
    # stacks them (roofpv.grid.profiles.BinSeries); returned as its transpose.
    steps = (np.zeros((nocts.size, surface_tilt.size, len(weather)), np.float32) if hourly else None)
    for start in range(0, surface_tilt.size, chunk_size):
        cols = slice(start, start + chunk_size)
        tilt, azimuth = surface_tilt[cols], surface_azimuth[cols]
        aoi = pvlib.irradiance.aoi(tilt, azimuth, zenith, sun_azimuth)
        beam = dni * np.maximum(np.cos(np.radians(aoi)), 0)
        # A horizontal plane receives the file's GHI, whatever its closure.
        beam = np.where(tilt == 0, np.maximum(ghi - dhi, 0.0), beam)
        sky = np.nan_to_num(pvlib.irradiance.perez(
            tilt, azimuth, dhi, dni, dni_extra, zenith, sun_azimuth, airmass))
        ground = pvlib.irradiance.get_ground_diffuse(tilt, ghi, albedo)
        poa_global = beam + sky + ground
        _, k_sky, k_ground = cover_transmission(0.0, tilt, ar_glass)
        effective = (beam * np.interp(aoi, aoi_nodes, beam_nodes)
                     + sky * k_sky + ground * k_ground) * spectral
        poa_monthly[month_index, cols] = np.add.reduceat(poa_global, month_start, axis=0) / 1000
        for k, balance in enumerate(balances):
            temp_cell = cell_temperature(balance, poa_global, follows)
            pdc = (pvlib.pvsystem.pvwatts_dc(effective, temp_cell, 1.0, gamma_pdc)
                   * (1 - losses_pct / 100))
            pac = np.maximum(pvlib.inverter.pvwatts(pdc, pdc0_inverter, inverter_eff_nom), 0.0)
            monthly[k, month_index, cols] = np.add.reduceat(pac, month_start, axis=0)
            if steps is not None:
                steps[k, cols][:, rows] = pac.T
    return monthly, poa_monthly, None if steps is None else steps.transpose(0, 2, 1)


def yield_tables(config: Config, hourly: pd.DataFrame, tilt_step_deg: float | None = None,
                 azimuth_step_deg: float | None = None, steps: bool | None = None) -> dict[str, YieldTable]:
    """Specific-yield tables over orientation bins, one per temperature model
    (``config.temperature_models``) in use by a mounting, from one irradiance
    computation; bin widths from ``config.bins`` unless given [degrees]. ``steps``:
    keep the energy of every interval too (``YieldTable.hourly_kwh_per_kwp``); by
    default when ``config.grid.hourly``."""
    site = config.site
    bins = config.bins
    tilts = np.arange(0.0, bins.max_tilt_deg + 1e-9, tilt_step_deg or bins.tilt_step_deg)
    azimuths = np.arange(0.0, 360.0, azimuth_step_deg or bins.azimuth_step_deg)
    models = {m.temperature_model for m in config.mountings.values()}
    if config.surfaces.layers:  # surfaces beyond roofs: their rules' mountings too
        models |= {r.temperature_model for r in config.surfaces.rules.values()}
    models = sorted(models)
    tables = yield_tables_for(
        hourly, site.latitude, site.longitude, site.altitude_m, tilts, azimuths,
        noct_installed=[config.temperature_models[m].noct_installed_c for m in models],
        gamma_pdc=config.module.gamma_pdc_per_c, losses_pct=config.system.total_losses_pct,
        inverter_eff_nom=config.system.inverter_efficiency_nom,
        dc_ac_ratio=config.system.dc_ac_ratio, albedo=config.system.albedo,
        ar_glass=config.module.ar_glass, hourly=config.grid.hourly if steps is None else steps)
    return dict(zip(models, tables))
