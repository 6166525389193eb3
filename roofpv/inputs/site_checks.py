"""
Checks of the site against its site-dependent defaults: time zone, the province of the
prices and of the grid emission factor (`roofpv validate` and `roofpv survey`).

A config usually extends a jurisdiction's file and inherits its prices and emission
factor; they hold for one province (``economics.province``, ``carbon.province``). The
site's province is ``site.province``, else guessed from the nearest typical-year
stations (:func:`roofpv.energy.stations.site_province`); a site with no station within
500 km lies outside China.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from roofpv.energy.stations import CHINA_MAX_KM, site_province
from roofpv.findings import Finding

if TYPE_CHECKING:
    from roofpv.config import Config

#: The province value of a nationwide figure (national grid emission factor).
NATIONAL = "全国"
#: UTC offset of Beijing time, which all of China keeps [h].
CHINA_UTC_OFFSET_H = 8.0


def utc_offset_h(timezone: str, year: int = 2023) -> float | None:
    """UTC offset of a time zone on 1 January of ``year`` [h]; None if the zone is unknown."""
    try:
        stamp = pd.Timestamp(year=year, month=1, day=1).tz_localize(timezone)
    except Exception:  # noqa: BLE001 - zoneinfo and pytz raise different errors
        return None
    return stamp.utcoffset().total_seconds() / 3600


def site_findings(config: Config) -> list[Finding]:
    """Findings on the site's time zone and on prices and an emission factor of another
    province (or of China for a site abroad)."""
    site = config.site
    source = str(config.source_path or "config")
    guess = site_province(site.latitude, site.longitude)
    findings = []
    offset = utc_offset_h(site.timezone)
    if guess is not None and offset != CHINA_UTC_OFFSET_H:
        findings.append(Finding(
            "warning", source, None, None, "site.timezone", site.timezone,
            f"the site lies in China ({guess[0]}, guessed from the nearest station {guess[1].label}, "
            f"{guess[2]:,.0f} km) but its time zone {site.timezone} is not Beijing time (UTC+8): "
            "every hour of sun is misplaced", "set site.timezone: Asia/Shanghai"))
    elif guess is None and offset is not None and abs(offset - site.longitude / 15) > 2:
        findings.append(Finding(
            "warning", source, None, None, "site.timezone", site.timezone,
            f"time zone {site.timezone} (UTC{offset:+g}) lies more than 2 h from the site's "
            f"solar time (longitude {site.longitude:.2f}° ≈ UTC{site.longitude / 15:+.1f})",
            "set site.timezone to the zone of the weather data's time stamps"))
    if guess is None:
        where = (f"the site lies outside China (no typical-year station within {CHINA_MAX_KM:g} km)")
        for section, what in (("economics", "prices and tariffs"), ("carbon", "grid emission factor")):
            province = getattr(config, section).province
            findings.append(Finding(
                "warning", source, None, None, f"{section}.province", province,
                f"{where}: the config's {what} are {province or 'Chinese'} values and do not apply",
                f"set {section}.* for the site's own country and region"))
        return findings
    stated = site.province
    province = stated or guess[0]
    how = ("site.province" if stated else
           f"guessed from the nearest station {guess[1].label}, {guess[2]:,.0f} km; set site.province to state it")
    for section, what, verb in (("economics", "prices (mechanism price, tariffs)", "are"),
                                ("carbon", "grid emission factor", "is")):
        of = getattr(config, section).province
        if of is None:
            findings.append(Finding(
                "info", source, None, None, f"{section}.province", None,
                f"the config does not say which province its {what} {verb} for; the site lies in "
                f"{province} ({how})", f"set {section}.province once the values are {province}'s"))
        elif of != province and of != NATIONAL:
            findings.append(Finding(
                "warning", source, None, None, f"{section}.province", of,
                f"the {what} {verb} {of}'s, but the site lies in {province} ({how}); roofpv has no "
                f"{province} values", f"set {section}.* to {province}'s values and {section}.province: "
                f"{province}" + ("; or the national factor (national.yaml)" if section == "carbon" else "")))
    return findings
