"""
Specific PV yield per plane orientation.

The yield of a site is computed once for a grid of (tilt, azimuth) bins and
looked up per roof plane by bilinear interpolation. All energies are AC
energy per kWp of DC nameplate over the weather year.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pvlib

from roofpv.weather import interval_midpoints, solar_position

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
    """

    tilts: np.ndarray
    azimuths: np.ndarray
    annual_kwh_per_kwp: np.ndarray
    monthly_kwh_per_kwp: np.ndarray
    poa_annual_kwh_m2: np.ndarray


def yield_table(weather, latitude, longitude, altitude, tilts, azimuths, *,
                temperature_model, gamma_pdc, losses_pct,
                inverter_eff_nom=0.96, dc_ac_ratio=1.2, albedo=0.2,
                diffuse_iam=True):
    """
    Specific yield for every combination of ``tilts`` and ``azimuths``.

    Parameters
    ----------
    weather : pandas.DataFrame
        Canonical hourly weather frame, see :mod:`roofpv.weather`.
    latitude, longitude : float
        Site coordinates [degrees north, degrees east].
    altitude : float
        Site elevation above sea level [m].
    tilts : array_like
        At least two increasing plane tilts from horizontal [degrees].
    azimuths : array_like
        Increasing plane azimuths clockwise from north spanning less than 360,
        e.g. ``range(0, 360, 10)`` [degrees].
    temperature_model : str or list of str
        Name of a SAPM cell temperature parameter set in
        ``pvlib.temperature.TEMPERATURE_MODEL_PARAMETERS["sapm"]``:
        ``"open_rack_glass_polymer"`` for tilted racks on flat roofs,
        ``"close_mount_glass_glass"`` for rail-mounted modules parallel to a
        pitched roof. ``"insulated_back_glass_polymer"`` describes modules
        without rear ventilation (building-integrated) and is too hot for
        ordinary rail mounts, which keep a gap of several centimetres.
    gamma_pdc : float
        Temperature coefficient of DC power, e.g. -0.0034 [1/°C].
    losses_pct : float
        Total DC system losses, e.g. 14.08 as returned by
        :py:func:`pvlib.pvsystem.pvwatts_losses` [%].
    inverter_eff_nom : float, default 0.96
        Nominal inverter efficiency. [unitless]
    dc_ac_ratio : float, default 1.2
        DC nameplate over inverter AC rating. [unitless]
    albedo : float, default 0.2
        Ground reflectance. [unitless]
    diffuse_iam : bool, default True
        Apply reflection losses to diffuse and ground-reflected irradiance
        too. ``False`` applies the IAM to the beam only and passes all
        diffuse light unchanged, as :py:class:`pvlib.modelchain.ModelChain`
        does; it exists for cross-checks and raises yields by about 2 %.

    Returns
    -------
    YieldTable, or a dict model → YieldTable when ``temperature_model`` is a list
    (the irradiance is computed once for all of them)

    See Also
    --------
    plane_yield_exact, interpolate, interpolate_monthly

    Notes
    -----
    Model chain for 1 kWp DC, with the sun at interval midpoints: Perez
    transposition (relative airmass, extraterrestrial DNI) plus isotropic
    ground reflection; the physical IAM on beam and circumsolar irradiance
    and its Marion hemispherical averages on the isotropic, horizon-band and
    ground-reflected parts; SAPM cell temperature driven by plane-of-array
    irradiance before reflection losses; PVWatts DC with ``losses_pct``
    applied to DC power; PVWatts inverter with an AC rating of
    ``1 / dc_ac_ratio`` kW, i.e. a DC input limit of
    ``1 / (dc_ac_ratio * inverter_eff_nom)`` kW. There is no spectral
    correction. Intervals whose midpoint has the sun below the horizon, or
    with zero DNI and DHI, contribute no energy.
    """
    tilts = np.asarray(tilts, dtype=float)
    azimuths = np.asarray(azimuths, dtype=float)
    if tilts.ndim != 1 or tilts.size < 2 or np.any(np.diff(tilts) <= 0):
        raise ValueError("tilts must hold at least two increasing values")
    if (azimuths.ndim != 1 or np.any(np.diff(azimuths) <= 0)
            or azimuths[-1] - azimuths[0] >= 360):
        raise ValueError("azimuths must increase and span less than 360")
    tilt, azimuth = np.meshgrid(tilts, azimuths, indexing="ij")
    # temperature_model may also be a list: one table each, sharing the irradiance.
    models = [temperature_model] if isinstance(temperature_model, str) else list(temperature_model)
    monthly, poa = _orientation_energy(
        weather, latitude, longitude, altitude, tilt.ravel(), azimuth.ravel(),
        temperature_models=models, gamma_pdc=gamma_pdc,
        losses_pct=losses_pct, inverter_eff_nom=inverter_eff_nom,
        dc_ac_ratio=dc_ac_ratio, albedo=albedo, diffuse_iam=diffuse_iam)
    tables = {}
    for model in models:
        by_month = monthly[model].reshape(12, *tilt.shape)
        tables[model] = YieldTable(tilts, azimuths, by_month.sum(axis=0), by_month,
                                   poa.reshape(tilt.shape))
    return tables[temperature_model] if isinstance(temperature_model, str) else tables


def plane_yield_exact(weather, latitude, longitude, altitude, tilt, azimuth,
                      *, temperature_model, gamma_pdc, losses_pct,
                      inverter_eff_nom=0.96, dc_ac_ratio=1.2, albedo=0.2,
                      diffuse_iam=True):
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
    monthly, _ = _orientation_energy(
        weather, latitude, longitude, altitude, tilt.ravel(), azimuth.ravel(),
        temperature_models=[temperature_model], gamma_pdc=gamma_pdc,
        losses_pct=losses_pct, inverter_eff_nom=inverter_eff_nom,
        dc_ac_ratio=dc_ac_ratio, albedo=albedo, diffuse_iam=diffuse_iam)
    return monthly[temperature_model].sum(axis=0).reshape(tilt.shape)[()]


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
    return _bilinear(table.tilts, table.azimuths, table.annual_kwh_per_kwp,
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
        _bilinear(table.tilts, table.azimuths, table.monthly_kwh_per_kwp,
                  tilt, azimuth), 0, -1)


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


def _bilinear(tilts, azimuths, grid, tilt, azimuth):
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


def _orientation_energy(weather, latitude, longitude, altitude, surface_tilt,
                        surface_azimuth, *, temperature_models, gamma_pdc,
                        losses_pct, inverter_eff_nom, dc_ac_ratio, albedo,
                        diffuse_iam=True, chunk_size=96):
    """
    Monthly AC energy and annual POA irradiation of 1 kWp planes.

    ``surface_tilt`` and ``surface_azimuth`` are 1-D arrays of length n.
    Returns the monthly AC energy per temperature model, a dict of arrays of shape
    (12, n) [kWh/kWp], and the annual
    plane-of-array irradiation, shape (n,) [kWh/m²]. Hours are processed as
    rows and orientations as columns, ``chunk_size`` orientations at a time.
    The model is described in :py:func:`yield_table`.
    """
    sapm = pvlib.temperature.TEMPERATURE_MODEL_PARAMETERS["sapm"]
    for model in temperature_models:
        if model not in sapm:
            raise ValueError(f"temperature_model must be one of {sorted(sapm)}")
    solpos = solar_position(weather, latitude, longitude, altitude)
    day = ((solpos["apparent_zenith"].to_numpy() < 90)
           & (weather["dni"].to_numpy() + weather["dhi"].to_numpy() > 0))
    zenith = solpos["apparent_zenith"].to_numpy()[day, None]
    sun_azimuth = solpos["azimuth"].to_numpy()[day, None]
    ghi, dni, dhi, temp_air, wind_speed = (
        weather[c].to_numpy()[day, None]
        for c in ("ghi", "dni", "dhi", "temp_air", "wind_speed"))
    dni_extra = pvlib.irradiance.get_extra_radiation(
        interval_midpoints(weather.index[day])).to_numpy()[:, None]
    airmass = pvlib.atmosphere.get_relative_airmass(zenith)
    month = weather.index.month.to_numpy()[day]
    month_sum = (month == np.arange(1, 13)[:, None]).astype(float)

    unique_tilt, tilt_inverse = np.unique(surface_tilt, return_inverse=True)
    iam_diffuse = {region: values[tilt_inverse] for region, values in
                   pvlib.iam.marion_diffuse("physical", unique_tilt).items()}
    pdc0_inverter = 1 / (dc_ac_ratio * inverter_eff_nom)

    monthly = {model: np.empty((12, surface_tilt.size)) for model in temperature_models}
    poa_annual = np.empty(surface_tilt.size)
    for start in range(0, surface_tilt.size, chunk_size):
        cols = slice(start, start + chunk_size)
        tilt, azimuth = surface_tilt[cols], surface_azimuth[cols]
        aoi = pvlib.irradiance.aoi(tilt, azimuth, zenith, sun_azimuth)
        beam = dni * np.maximum(np.cos(np.radians(aoi)), 0)
        sky = pvlib.irradiance.perez(
            tilt, azimuth, dhi, dni, dni_extra, zenith, sun_azimuth,
            airmass, return_components=True)
        ground = pvlib.irradiance.get_ground_diffuse(tilt, ghi, albedo)
        poa_global = beam + sky["poa_sky_diffuse"] + ground
        if diffuse_iam:
            effective = (
                (beam + sky["poa_circumsolar"]) * pvlib.iam.physical(aoi)
                + sky["poa_isotropic"] * iam_diffuse["sky"][cols]
                + sky["poa_horizon"] * iam_diffuse["horizon"][cols]
                + ground * iam_diffuse["ground"][cols])
        else:
            effective = (beam * pvlib.iam.physical(aoi)
                         + sky["poa_sky_diffuse"] + ground)
        for model in temperature_models:
            temp_cell = pvlib.temperature.sapm_cell(
                poa_global, temp_air, wind_speed, **sapm[model])
            pdc = (pvlib.pvsystem.pvwatts_dc(effective, temp_cell, 1.0, gamma_pdc)
                   * (1 - losses_pct / 100))
            pac = pvlib.inverter.pvwatts(pdc, pdc0_inverter, inverter_eff_nom)
            monthly[model][:, cols] = month_sum @ pac
        poa_annual[cols] = poa_global.sum(axis=0) / 1000
    return monthly, poa_annual


def yield_tables(config: Config, hourly: pd.DataFrame, tilt_step_deg: float | None = None,
                 azimuth_step_deg: float | None = None) -> dict[str, YieldTable]:
    """Specific-yield tables over orientation bins, one per temperature model in use;
    bin widths from ``config.bins`` unless given [degrees]."""
    site = config.site
    bins = config.bins
    tilts = np.arange(0.0, bins.max_tilt_deg + 1e-9, tilt_step_deg or bins.tilt_step_deg)
    azimuths = np.arange(0.0, 360.0, azimuth_step_deg or bins.azimuth_step_deg)
    models = sorted({m.temperature_model for m in config.mountings.values()})
    return yield_table(
        hourly, site.latitude, site.longitude, site.altitude_m, tilts, azimuths,
        temperature_model=models, gamma_pdc=config.module.gamma_pdc_per_c,
        losses_pct=config.system.total_losses_pct,
        inverter_eff_nom=config.system.inverter_efficiency_nom,
        dc_ac_ratio=config.system.dc_ac_ratio, albedo=config.system.albedo,
    )
