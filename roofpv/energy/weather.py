"""
Canonical hourly weather frame and a synthetic typical year.

The canonical weather frame is a :class:`pandas.DataFrame` of one non-leap
year of hourly data (8760 rows) with a tz-aware :class:`pandas.DatetimeIndex`
labelled at the *start* of each interval and columns

- ``ghi``, ``dni``, ``dhi``: mean irradiance over the interval [W/m²]
- ``temp_air``: air temperature [°C]
- ``wind_speed``: wind speed at 10 m [m/s]

Its metadata is a dict with ``latitude``, ``longitude``, ``altitude``, ``tz``
and ``source``. Sun-position dependent quantities of an interval are evaluated
at its midpoint (index + 30 min, see :py:func:`interval_midpoints`).
"""

import threading

import numpy as np
import pandas as pd
import pvlib
import pyproj
from scipy.optimize import brentq

from roofpv.findings import Finding


def interval_midpoints(index):
    """
    Midpoints of the hourly intervals labelled by ``index``.

    Parameters
    ----------
    index : pandas.DatetimeIndex
        Interval starts.

    Returns
    -------
    pandas.DatetimeIndex
        ``index`` + 30 min.
    """
    return index + pd.Timedelta(minutes=30)


def solar_position(weather, latitude, longitude, altitude):
    """
    Solar position at the midpoint of each hourly interval.

    Parameters
    ----------
    weather : pandas.DataFrame
        Canonical weather frame; only its index is used.
    latitude, longitude : float
        Site coordinates [degrees north, degrees east].
    altitude : float
        Site elevation above sea level [m]; sets the pressure used for
        refraction.

    Returns
    -------
    pandas.DataFrame
        Output of :py:func:`pvlib.solarposition.get_solarposition` computed
        at ``weather.index + 30 min`` and labelled with ``weather.index``.
    """
    index = weather.index
    key = (index.asi8.tobytes(), str(index.tz), float(latitude), float(longitude), float(altitude))
    with _SOLAR_LOCK:
        found = _SOLAR_POSITIONS.get(key)
    if found is None:
        found = pvlib.solarposition.get_solarposition(
            interval_midpoints(index), latitude, longitude, altitude).set_axis(index)
        with _SOLAR_LOCK:
            while len(_SOLAR_POSITIONS) >= 4:
                _SOLAR_POSITIONS.pop(next(iter(_SOLAR_POSITIONS)))
            _SOLAR_POSITIONS[key] = found
    return found.copy()


#: The last few solar positions computed, by index, time zone and site: the synthetic
#: year, the yield tables and the DSM's sun table of a run share one computation.
_SOLAR_POSITIONS: dict[tuple, pd.DataFrame] = {}
_SOLAR_LOCK = threading.Lock()


def typical_year(latitude, longitude, altitude, monthly_ghi_kwh_m2,
                 monthly_temp_air_c, monthly_wind_m_s, tz="Asia/Shanghai",
                 year=2023, seed=0, *, monthly_dhi_kwh_m2=None, temp_amplitude=7.0,
                 clearness_concentration=2.0, max_clear_sky_index=1.1):
    """
    Synthetic hourly typical year from monthly means.

    Parameters
    ----------
    latitude, longitude : float
        Site coordinates [degrees north, degrees east].
    altitude : float
        Site elevation above sea level [m].
    monthly_ghi_kwh_m2 : array_like of length 12
        Monthly global horizontal irradiation, January first [kWh/m²].
    monthly_temp_air_c : array_like of length 12
        Monthly mean air temperature [°C].
    monthly_wind_m_s : array_like of length 12
        Monthly mean wind speed [m/s].
    tz : str, default "Asia/Shanghai"
        Time zone of the index.
    year : int, default 2023
        Calendar year of the index; must not be a leap year.
    seed : int, default 0
        Seed of the random generator; equal inputs give equal outputs.
    monthly_dhi_kwh_m2 : array_like of length 12, optional
        Monthly diffuse horizontal irradiation, January first [kWh/m²]. When
        given, the Erbs split of each month is rescaled to it (see Notes).
    temp_amplitude : float, default 7.0
        Mean daily peak-to-peak air temperature range [K].
    clearness_concentration : float, default 2.0
        Concentration ``a + b`` of the beta distribution of the daily clear-sky
        index; smaller values give more contrast between clear and overcast
        days. The default reproduces the spread of daily clear-sky indices
        (standard deviation about 0.27) of a Shanghai typical year. [unitless]
    max_clear_sky_index : float, default 1.1
        Upper bound of GHI relative to clear-sky GHI. [unitless]

    Returns
    -------
    weather : pandas.DataFrame
        Canonical weather frame of 8760 rows.
    meta : dict
        ``latitude``, ``longitude``, ``altitude``, ``tz``, ``source``.

    Raises
    ------
    ValueError
        If an input does not hold 12 values, ``year`` is a leap year, or a
        monthly GHI exceeds ``max_clear_sky_index`` times clear sky.

    Notes
    -----
    Clear-sky GHI is the Ineichen–Perez model with the climatological Linke
    turbidity shipped with pvlib. Each day gets a clear-sky index drawn from a
    beta distribution whose mean is the month's ratio of target to clear-sky
    irradiation (floored at 0.05, i.e. a very dark overcast day). The indices
    of a month are then scaled by one common factor, with days that would
    exceed ``max_clear_sky_index`` held at that bound, so that the monthly
    total is met exactly. Hourly GHI is the day's index times hourly
    clear-sky GHI; days are independent and have no intra-day variability.

    GHI is split into DNI and DHI with the Erbs model. It needs only the
    hourly clearness index, whereas DIRINT also uses the hour-to-hour change
    of the clearness index, which is meaningless for a series without
    intra-day variability. Erbs gives more diffuse light than typical-year
    files of China report (diffuse share 0.56 against 0.41 for Shanghai
    Hongqiao TMYx, docs/validation.md); with ``monthly_dhi_kwh_m2`` every
    hour's DHI of a month is multiplied by one factor, at most up to its GHI,
    so that the month's DHI is met, and DNI follows from closure,
    ``(GHI - DHI) / cos Z`` (zero beyond 87° zenith, as Erbs).

    The daily mean air temperature follows a periodic linear interpolation
    between mid-month values plus an AR(1) anomaly (lag-one correlation 0.7,
    standard deviation about 2 K), corrected so every monthly mean is exact.
    The diurnal cycle is a pair of half cosines with its minimum at sunrise
    and its maximum at 14:30 local solar time, with zero daily mean. Wind
    speed is the monthly mean times a Weibull(k=2) daily factor and a ±20 %
    diurnal cycle peaking at 14:00 solar time, rescaled to the monthly mean.
    """
    ghi_month, temp_month, wind_month = (
        np.asarray(v, dtype=float) for v in
        (monthly_ghi_kwh_m2, monthly_temp_air_c, monthly_wind_m_s))
    if not ghi_month.shape == temp_month.shape == wind_month.shape == (12,):
        raise ValueError("monthly inputs must each hold 12 values")
    if pd.Timestamp(year=year, month=1, day=1).is_leap_year:
        raise ValueError(f"{year} is a leap year")
    index = pd.date_range(f"{year}-01-01", periods=8760, freq="h", tz=tz)
    rng = np.random.default_rng(seed)

    midpoints = interval_midpoints(index)
    solpos = solar_position(pd.DataFrame(index=index), latitude, longitude,
                            altitude)
    zenith = solpos["apparent_zenith"].to_numpy()
    month = index.month.to_numpy() - 1
    day = index.day_of_year.to_numpy() - 1
    day_month = np.zeros(365, dtype=int)
    day_month[day] = month

    sun_up = zenith < 90
    airmass = pvlib.atmosphere.get_absolute_airmass(
        pvlib.atmosphere.get_relative_airmass(zenith[sun_up]),
        pvlib.atmosphere.alt2pres(altitude))
    clear = np.zeros(index.size)
    clear[sun_up] = pvlib.clearsky.ineichen(
        zenith[sun_up], airmass,
        pvlib.clearsky.lookup_linke_turbidity(
            midpoints[sun_up], latitude, longitude).to_numpy(),
        altitude,
        pvlib.irradiance.get_extra_radiation(midpoints[sun_up]).to_numpy(),
    )["ghi"]

    clear_day = np.bincount(day, clear, minlength=365)
    target = ghi_month * 1000.0
    mean_index = target / np.bincount(day_month, clear_day, minlength=12)
    if np.any(mean_index > max_clear_sky_index):
        raise ValueError("monthly GHI exceeds max_clear_sky_index times "
                         "clear-sky irradiation")
    mu = np.clip(mean_index, 0.05, 0.95)[day_month]
    draws = np.maximum(rng.beta(mu * clearness_concentration,
                                (1 - mu) * clearness_concentration), 0.05)
    clear_sky_index = np.empty(365)
    for m in range(12):
        sel = day_month == m
        clear_sky_index[sel] = _scale_to_total(
            draws[sel], clear_day[sel], target[m], max_clear_sky_index)
    ghi = clear * clear_sky_index[day]
    parts = pvlib.irradiance.erbs(ghi, zenith, midpoints)
    dni, dhi = parts["dni"].to_numpy(copy=True), parts["dhi"].to_numpy(copy=True)
    if monthly_dhi_kwh_m2 is not None:
        dhi_month = np.asarray(monthly_dhi_kwh_m2, dtype=float)
        if dhi_month.shape != (12,) or np.any(dhi_month < 0) or np.any(dhi_month > ghi_month):
            raise ValueError("monthly_dhi_kwh_m2 must hold 12 values between 0 and the monthly GHI")
        for m in range(12):
            sel = month == m
            dhi[sel] = _diffuse_to_total(dhi[sel], ghi[sel], dhi_month[m] * 1000.0)
        low_sun = zenith < 87
        dni = np.where(low_sun, (ghi - dhi) / np.cos(np.radians(np.where(low_sun, zenith, 0.0))), 0.0)
        dhi = np.where(low_sun, dhi, ghi)

    solar_hour = np.mod(12 + pvlib.solarposition.hour_angle(
        midpoints, longitude, solpos["equation_of_time"].to_numpy()) / 15, 24)
    declination = pvlib.solarposition.declination_spencer71(np.arange(1, 366))
    sunrise = 12 - np.degrees(np.arccos(np.clip(
        -np.tan(np.radians(latitude)) * np.tan(declination), -1, 1))) / 15
    t_min, t_max = sunrise[day], 14.5
    rising = (solar_hour >= t_min) & (solar_hour < t_max)
    shape = np.where(
        rising,
        -np.cos(np.pi * (solar_hour - t_min) / (t_max - t_min)),
        np.cos(np.pi * np.mod(solar_hour - t_max, 24) / (24 - t_max + t_min)))
    shape -= _group_mean(shape, day, 365)[day]

    mid_month = np.cumsum(np.bincount(day_month)) - np.bincount(day_month) / 2
    daily_temp = np.interp(
        np.arange(365) + 0.5,
        np.r_[mid_month[-1] - 365, mid_month, mid_month[0] + 365],
        np.r_[temp_month[-1], temp_month, temp_month[0]])
    daily_temp += _ar1(rng.normal(0.0, 1.4, 365), 0.7)
    daily_temp += (temp_month - _group_mean(daily_temp, day_month, 12))[
        day_month]
    temp_air = daily_temp[day] + temp_amplitude / 2 * shape

    wind = (rng.weibull(2.0, 365)[day]
            * (1 + 0.2 * np.cos(2 * np.pi * (solar_hour - 14) / 24)))
    wind *= (wind_month / _group_mean(wind, month, 12))[month]

    weather = pd.DataFrame(
        {"ghi": ghi, "dni": dni, "dhi": dhi, "temp_air": temp_air,
         "wind_speed": wind},
        index=index)
    meta = {"latitude": latitude, "longitude": longitude,
            "altitude": altitude, "tz": tz,
            "source": "synthetic typical year from monthly means"}
    return weather, meta


def _ar1(noise: np.ndarray, phi: float) -> np.ndarray:
    """First-order autoregression ``y[n] = noise[n] + phi * y[n - 1]`` (day-to-day
    persistence of the temperature anomaly)."""
    out = np.empty_like(noise)
    previous = 0.0
    for i, value in enumerate(noise):
        previous = out[i] = value + phi * previous
    return out


def _group_mean(values, groups, n):
    """Mean of ``values`` per integer group label in ``range(n)``."""
    return (np.bincount(groups, values, minlength=n)
            / np.bincount(groups, minlength=n))


def _diffuse_to_total(dhi, ghi, total):
    """DHI whose diffuse fractions are ``(dhi / ghi) ** g``, one exponent ``g``
    chosen so that they sum to ``total``: overcast hours (fraction near 1)
    stay diffuse, clear hours change most."""
    lit = ghi > 0
    fraction = np.ones_like(ghi)
    fraction[lit] = np.clip(dhi[lit] / ghi[lit], 1e-6, 1.0)
    total = min(max(total, 0.0), ghi.sum())

    def excess(log_g):
        return (ghi * fraction ** np.exp(log_g)).sum() - total

    if excess(-8.0) < 0 or excess(8.0) > 0:
        return np.where(lit, dhi, 0.0)
    g = np.exp(brentq(excess, -8.0, 8.0, xtol=1e-12))
    return ghi * fraction ** g


def _scale_to_total(index, weight, total, cap):
    """
    Scale ``index`` by one factor, capped at ``cap``, so that
    ``sum(weight * index) == total``.
    """
    def excess(factor):
        return np.sum(weight * np.minimum(factor * index, cap)) - total

    factor = brentq(excess, 0.0, cap / index.min(), xtol=1e-12, rtol=1e-12)
    return np.minimum(factor * index, cap)


def shift_hours(weather, hours):
    """
    Move a typical year's rows by ``hours`` (a fraction allowed), circularly.

    The row labelled ``t`` takes the values the input labels ``t - hours``:
    ``hours = -1`` moves data that runs one hour late back onto the sun.
    Fractional shifts interpolate linearly between neighbouring hours; the end
    of the year wraps to its start, as a typical year allows.

    Parameters
    ----------
    weather : pandas.DataFrame
        Canonical weather frame (hourly, one year).
    hours : float
        Shift [h].

    Returns
    -------
    pandas.DataFrame
        Same index and columns, shifted values.
    """
    whole = int(np.floor(hours))
    part = hours - whole
    values = weather.to_numpy(dtype=float)
    out = (1.0 - part) * np.roll(values, whole, axis=0)
    if part:
        out += part * np.roll(values, whole + 1, axis=0)
    return pd.DataFrame(out, index=weather.index, columns=weather.columns)


#: Lags tried by :py:func:`irradiance_lag_h` [h] and their step [minutes].
MAX_LAG_H = 3.0
LAG_STEP_MIN = 6
#: Share of the days, the clearest, whose hours the lag is fitted on.
CLEAR_DAY_SHARE = 0.2


def irradiance_lag_h(weather, latitude, longitude):
    """
    How late the irradiance of a weather frame runs against the sun [h].

    Clear-sky GHI (Haurwitz) is averaged over each row's hour moved by lags of
    ±:data:`MAX_LAG_H` in :data:`LAG_STEP_MIN` steps and correlated with the
    frame's GHI on the clearest :data:`CLEAR_DAY_SHARE` of the days with any GHI (clouds on
    other days, often in the afternoon, bias the fit; a part year's days outside its
    period have none); the best lag is refined
    by a parabola through the correlation peak. A frame whose rows hold the
    mean of the hour they start gives 0; data stamped one hour too late, +1;
    instantaneous values at the hour's end, +0.5.

    Parameters
    ----------
    weather : pandas.DataFrame
        Canonical weather frame with column ``ghi`` [W/m²].
    latitude, longitude : float
        Where the irradiance was measured [degrees north, degrees east].

    Returns
    -------
    float
        Lag [h]; ``weather.shift_h = -lag`` in the config realigns the file.
    """
    index = weather.index
    n = len(index)
    k = 60 // LAG_STEP_MIN
    pad = int(MAX_LAG_H * k) + k
    fine = pd.date_range(
        index[0] - pd.Timedelta(minutes=LAG_STEP_MIN * pad), periods=n * k + 2 * pad,
        freq=f"{LAG_STEP_MIN}min", tz=index.tz) + pd.Timedelta(minutes=LAG_STEP_MIN / 2)
    zenith = pvlib.solarposition.get_solarposition(
        fine, latitude, longitude, method="nrel_numpy")["apparent_zenith"]
    clear = pvlib.clearsky.haurwitz(zenith)["ghi"].to_numpy()
    total = np.concatenate([[0.0], np.cumsum(clear)])
    lags = np.arange(-int(MAX_LAG_H * k), int(MAX_LAG_H * k) + 1)
    start = pad + np.arange(n) * k + lags[:, None]
    model = (total[start + k] - total[start]) / k      # lags × hours
    ghi = weather["ghi"].to_numpy(dtype=float)
    day = np.arange(n) // 24
    centre = model[len(lags) // 2]
    index_of_day = np.bincount(day, ghi) / np.maximum(np.bincount(day, centre), 1e-9)
    # Days without any GHI (outside a part-year file's period) are not candidates.
    lit = index_of_day > 0
    clearest = lit & (index_of_day >= np.quantile(index_of_day[lit], 1 - CLEAR_DAY_SHARE))
    use = clearest[day]
    x = ghi[use] - ghi[use].mean()
    m = model[:, use] - model[:, use].mean(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = (m @ x) / np.sqrt((m * m).sum(axis=1) * (x @ x))
    i = int(np.nanargmax(corr))
    shift = 0.0
    if 0 < i < len(lags) - 1:
        a, b, c = corr[i - 1], corr[i], corr[i + 1]
        denominator = a - 2 * b + c
        shift = 0.5 * (a - c) / denominator if denominator < 0 else 0.0
    # A model moved by lag L matches data that is -L late.
    return float(-(lags[i] + shift) * LAG_STEP_MIN / 60)


#: Lags below this [h] are noted, from it on warned about (a mislabelled hour).
LAG_WARNING_H = 0.75
LAG_NOTE_H = 0.25


def timing_findings(weather, meta, latitude, longitude, source):
    """
    Findings on the time-stamp convention of a weather file read into ``weather``.

    Parameters
    ----------
    weather : pandas.DataFrame
        Canonical weather frame as read (after any configured shift).
    meta : dict
        Its metadata (``shift_h``: the shift already applied [h]).
    latitude, longitude : float
        Where the file was measured [degrees north, degrees east].
    source : str
        The file, for the finding.

    Returns
    -------
    list of Finding
        One ``warning`` from :data:`LAG_WARNING_H`, one ``info`` from
        :data:`LAG_NOTE_H`, else none; the fix gives ``weather.shift_h``.
    """
    lag = irradiance_lag_h(weather, latitude, longitude)
    if abs(lag) < LAG_NOTE_H:
        return []
    shift = float(meta.get("shift_h", 0.0)) - lag
    level = "warning" if abs(lag) >= LAG_WARNING_H else "info"
    when = "late" if lag > 0 else "early"
    return [Finding(
        level, source, None, None, "time stamps", f"{lag:+.2f} h",
        f"irradiance runs {abs(lag):.2f} h {when} against the sun (clear-sky "
        "alignment of GHI on the clearest days); west roofs gain and east roofs "
        "lose yield" + (" — a whole hour mislabelled" if level == "warning" else
                        " — e.g. instantaneous values at the hour's end"),
        f"set weather.shift_h: {shift:.1f} in the config if the file's stamps are "
        "known to be off, or check its time convention")]


def distance_km(lat1, lon1, lat2, lon2):
    """Geodesic distance on the WGS84 ellipsoid between two points [km]."""
    _, _, metres = pyproj.Geod(ellps="WGS84").inv(lon1, lat1, lon2, lat2)
    return metres / 1000.0


def location_findings(meta, latitude, longitude, source, warn_km=150.0, max_km=500.0,
                      what="weather file"):
    """
    Findings on how far a weather file's (or a typical-year climate's) location lies from
    the site.

    Parameters
    ----------
    meta : dict
        Weather metadata with ``latitude`` and ``longitude`` (None: not known).
    latitude, longitude : float
        The site [degrees north, degrees east].
    source : str
        The file or config key, for the finding.
    warn_km : float, default 150
        From this distance a ``warning``: irradiation differs by several per cent.
    max_km : float or None, default 500
        From this distance an ``error``: another climate; None: never.
    what : str, default "weather file"
        What lies there, for the finding's text.

    Returns
    -------
    list of Finding
    """
    lat, lon = meta.get("latitude"), meta.get("longitude")
    if lat is None or lon is None:
        return [Finding("info", source, None, None, "location", None,
                        f"{what} states no location; not compared with the site",
                        "check that it belongs to the site" + (
                            "" if what == "weather file" else
                            " (weather.monthly.latitude/longitude say where the means hold)"))]
    km = distance_km(lat, lon, latitude, longitude)
    at = f"{lat:.3f}°N {lon:.3f}°E"
    if max_km is not None and km >= max_km:
        return [Finding("error", source, None, None, "location", at,
                        f"{what} lies {km:,.0f} km from the site (more than "
                        f"{max_km:g} km): another climate",
                        "use a weather file or station of the site's region (`roofpv init` "
                        "picks the nearest station), or raise weather.max_distance_km "
                        "(null = no limit) if intended")]
    if km >= warn_km:
        return [Finding("warning", source, None, None, "location", at,
                        f"{what} lies {km:,.0f} km from the site (more than {warn_km:g} km)",
                        "use a nearer station if there is one; raise "
                        "weather.warn_distance_km to accept it")]
    return []
