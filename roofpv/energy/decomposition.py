"""
Direct and diffuse irradiance from global horizontal irradiance alone.

Chinese meteorological stations and satellite products mostly give GHI only; the
transposition onto tilted roofs needs its beam and diffuse parts. They are split with
the Erbs model (Erbs, Klein & Duffie 1982, Solar Energy 28(4):293-302): the diffuse
fraction is a piecewise polynomial of the hourly clearness index. Against the DNI/DHI of
four Chinese typical-year files (Changsha and Shanghai TMYx, Zhengzhou and Hangzhou
CSWD) it changes the annual irradiation of a 30° south plane by -1.5 % to +4.2 % (mean
absolute 1.8 %; the seven models pvlib offers give 1.7-2.4 %, Orgill-Hollands and the
continuous Erbs within 0.1 % of it), ``scripts/validate_decomposition.py`` and
docs/validation.md; it is also the split of roofpv's synthetic typical year, so a GHI-only
file and monthly means are treated alike. The horizontal plane keeps the file's GHI.
"""

import numpy as np
import pvlib

from roofpv.energy.weather import interval_midpoints, solar_position

#: The model, as named in findings and run_info.
MODEL = "Erbs (Erbs, Klein & Duffie 1982)"
#: Beyond this zenith angle [degrees] DNI is zero and all of GHI is diffuse (as pvlib's Erbs).
MAX_ZENITH_DEG = 87.0


def split_ghi(weather, latitude, longitude, altitude, keep=None):
    """
    Canonical weather frame with DNI and DHI split from its GHI.

    Parameters
    ----------
    weather : pandas.DataFrame
        Canonical weather frame (:mod:`roofpv.energy.weather`) with ``ghi`` [W/m²]; its
        ``dni`` and ``dhi`` columns, if any, are replaced unless named in ``keep``.
    latitude, longitude : float
        Where the GHI was measured [degrees north, degrees east].
    altitude : float
        Elevation [m]; sets the pressure of the solar position's refraction.
    keep : {"dni", "dhi"}, optional
        A measured component to keep: the other one then follows from the closure
        ``GHI = DNI cos Z + DHI`` instead of the model.

    Returns
    -------
    pandas.DataFrame
        ``weather`` with ``dni`` and ``dhi`` [W/m²], the sun at each interval's midpoint.
    """
    zenith = solar_position(weather, latitude, longitude, altitude)["zenith"].to_numpy()
    ghi = weather["ghi"].to_numpy(dtype=float)
    cos_zenith = np.cos(np.radians(zenith))
    day = zenith < MAX_ZENITH_DEG
    if keep == "dni":
        dni = np.where(day, weather["dni"].to_numpy(dtype=float), 0.0)
        dhi = np.clip(ghi - dni * cos_zenith, 0.0, None)
    elif keep == "dhi":
        dhi = np.minimum(weather["dhi"].to_numpy(dtype=float), ghi)
        dni = np.where(day, (ghi - dhi) / np.where(day, cos_zenith, 1.0), 0.0)
    else:
        parts = pvlib.irradiance.erbs(ghi, zenith, interval_midpoints(weather.index),
                                      max_zenith=MAX_ZENITH_DEG)
        dni = np.nan_to_num(np.asarray(parts["dni"], dtype=float))
        dhi = np.clip(np.nan_to_num(np.asarray(parts["dhi"], dtype=float)), 0.0, None)
    out = weather.copy()
    out["dni"] = np.clip(dni, 0.0, None)
    out["dhi"] = dhi
    return out
