"""
PV cell temperature from installed NOCT: the Fuentes model as PVWatts uses it.

Fuentes (1987) balances absorbed sunlight against convection (free and
forced), sky and ground radiation and the module's thermal mass; its one
mounting parameter is the installed nominal operating cell temperature
(INOCT), the cell temperature at 800 W/m², 20 °C air and 1 m/s wind in the
mounting at hand. PVWatts v8 runs it with INOCT 45 °C for an open rack and
49 °C for a roof mount. :func:`fuentes` evaluates it for many planes at once
on hourly data.

Reference: Fuentes, M. K. (1987), "A simplified thermal model for
flat-plate photovoltaic arrays", Sandia report SAND85-0330.
"""

from __future__ import annotations

import numpy as np

_BOLTZMANN = 5.669e-8  # W/(m² K⁴), value of Fuentes (1987)
_T_NOCT_AIR = 293.15  # K, 20 °C
_T_NOCT_SKY = 282.21  # K, sky temperature at NOCT conditions


def _hydraulic_diameter(width, length):
    return 2 * width * length / (width + length)


def _convection(t_mean, wind, delta_t, length, tilt, turbulent):
    """Top-surface convective coefficient, free and forced combined [W/(m² K)]."""
    density = 0.003484 * 101325.0 / t_mean
    viscosity = 0.24237e-6 * t_mean**0.76 / density
    conductivity = 2.1695e-4 * t_mean**0.84
    reynolds = wind * length / viscosity
    laminar = 0.86 / np.sqrt(reynolds) * density * wind * 1007 / 0.71**0.67
    if turbulent:
        forced = np.where(
            reynolds > 1.2e5,
            0.0282 / reynolds**0.2 * density * wind * 1007 / 0.71**0.4, laminar)
    else:
        forced = laminar
    grashof = (9.8 / t_mean * delta_t * length**3 / viscosity**2
               * np.sin(np.radians(tilt)))
    free = 0.21 * (grashof * 0.71) ** 0.32 * conductivity / length
    return np.cbrt(free**3 + forced**3)


def fuentes(poa_global, temp_air, wind_speed, noct_installed, *,
            surface_tilt=30.0, continues=None, module_height=5.0,
            wind_height=9.144, emissivity=0.84, absorption=0.83,
            module_width=0.31579, module_length=1.2, iterations=8):
    """
    Hourly cell temperature of the Fuentes model for many planes at once.

    Parameters
    ----------
    poa_global : array_like
        Plane-of-array irradiance before reflection losses, shape (nt, n)
        with hours as rows [W/m²].
    temp_air : array_like
        Air temperature, shape (nt, 1) or (nt, n) [°C].
    wind_speed : array_like
        Wind speed at ``wind_height``, shape (nt, 1) or (nt, n) [m/s].
    noct_installed : float
        Installed nominal operating cell temperature [°C].
    surface_tilt : array_like, default 30
        Plane tilt, broadcast with the columns [degrees]. Sets free
        convection; Fuentes' own code fixes it at 30°.
    continues : array_like of bool, optional
        Shape (nt,): row ``t`` is the hour right after row ``t - 1``. Where
        it is False the previous hour is taken as dark, with the module at
        air temperature. By default every row follows the one before.
    module_height, wind_height : float
        Heights of the array and of the wind measurement [m]; PVWatts uses
        5 m and 9.144 m (30 ft).
    emissivity, absorption : float
        Of the module's top surface. [unitless]
    module_width, module_length : float
        Set the hydraulic diameter for convection [m].
    iterations : int, default 8
        Fixed-point iterations over all hours at once.

    Returns
    -------
    numpy.ndarray
        Cell temperature, shape (nt, n) [°C].

    Notes
    -----
    Fuentes solves hour after hour, iterating each hour's heat balance from
    the previous hour's temperature. With hourly steps the thermal memory
    ``exp(-h·Δt/C)`` is below 0.02 for any INOCT up to 63 °C, so here all
    hours are iterated together, each using the previous iterate of the
    hour before; the result differs from the sequential solution of
    :py:func:`pvlib.temperature.fuentes` by less than 0.1 K (tested). The
    thermal capacity grows with INOCT above 48 °C as in Fuentes' Table 3.
    """
    poa = np.asarray(poa_global, dtype=float)
    t_air = np.asarray(temp_air, dtype=float) + 273.15
    nt = poa.shape[0]
    follows = (np.ones(nt, dtype=bool) if continues is None
               else np.asarray(continues, dtype=bool))
    follows = follows.copy()
    follows[0] = False
    length = _hydraulic_diameter(module_width, module_length)
    t_noct = noct_installed + 273.15

    # Calibration at NOCT conditions: ground temperature ratio and the ratio
    # of total to top-side convection (Fuentes' equations 12-16).
    h_top = _convection((t_noct + _T_NOCT_AIR) / 2, 1.0, t_noct - _T_NOCT_AIR,
                        length, surface_tilt, False)
    h_ground = (emissivity * _BOLTZMANN * (t_noct**2 + _T_NOCT_AIR**2)
                * (t_noct + _T_NOCT_AIR))
    back = ((absorption * 800.0
             - emissivity * _BOLTZMANN * (t_noct**4 - _T_NOCT_SKY**4)
             - h_top * (t_noct - _T_NOCT_AIR))
            / ((h_ground + h_top) * (t_noct - _T_NOCT_AIR)))
    t_ground = np.clip((t_noct**4 - back * (t_noct**4 - _T_NOCT_AIR**4))**0.25,
                       _T_NOCT_AIR, t_noct)
    ground_ratio = (t_ground - _T_NOCT_AIR) / (t_noct - _T_NOCT_AIR)
    convection_ratio = (
        (absorption * 800 - emissivity * _BOLTZMANN
         * (2 * t_noct**4 - _T_NOCT_SKY**4 - t_ground**4))
        / (h_top * (t_noct - _T_NOCT_AIR)))
    capacity = 11000.0 * (1 + max(t_noct - 321.15, 0.0) / 12)  # J/(m² K)

    sun = poa * absorption
    sun_before = np.where(follows[:, None], np.roll(sun, 1, axis=0), 0.0)
    t_sky = 0.68 * (0.0552 * t_air**1.5) + 0.32 * t_air
    wind = (np.asarray(wind_speed, dtype=float)
            * (module_height / wind_height) ** 0.2 + 1e-4)
    t_air_before = np.roll(t_air, 1, axis=0)
    t_mod = t_air + sun / 30.0
    for _ in range(iterations):
        t_before = np.where(follows[:, None], np.roll(t_mod, 1, axis=0),
                            t_air_before)
        h_conv = convection_ratio * _convection(
            (t_mod + t_air) / 2, wind, np.abs(t_mod - t_air), length,
            surface_tilt, True)
        h_sky = emissivity * _BOLTZMANN * (t_mod**2 + t_sky**2) * (t_mod + t_sky)
        t_gnd = t_air + ground_ratio * (t_mod - t_air)
        h_gnd = emissivity * _BOLTZMANN * (t_mod**2 + t_gnd**2) * (t_mod + t_gnd)
        h_total = h_conv + h_sky + h_gnd
        eigen = -h_total / capacity * 3600.0
        memory = np.where(eigen > -10, np.exp(np.maximum(eigen, -10)), 0.0)
        t_mod = t_before * memory + (
            (1 - memory) * (h_conv * t_air + h_sky * t_sky + h_gnd * t_gnd
                            + sun_before + (sun - sun_before) / eigen)
            + sun - sun_before) / h_total
    return t_mod - 273.15
