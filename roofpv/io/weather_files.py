"""
Read hourly weather files into the canonical weather frame.

:py:func:`read_weather` reads an EPW, TMY3, PVGIS TMY (csv, json or epw) or
plain hourly CSV file and returns ``(weather, meta)`` in the form described in
:mod:`roofpv.energy.weather`: one non-leap year of 8760 hourly rows, a tz-aware index
labelled at the *start* of each interval, columns ``ghi``, ``dni``, ``dhi``,
``temp_air``, ``wind_speed``, and a ``meta`` dict with ``latitude``,
``longitude``, ``altitude``, ``tz`` and ``source``.

Time-stamp conventions of the formats (all converted to interval start):

====================  =========================  ==========================
format                time zone of the stamps    stamp labels
====================  =========================  ==========================
EPW                   local standard time (file  interval start once read by
                      header ``TZ``)             ``pvlib.iotools.read_epw``
                                                 (it subtracts one hour from
                                                 the file's hour 1..24)
TMY3                  local standard time (file  interval end; shifted back
                      header ``TZ``)             one hour here
PVGIS TMY csv/json    UTC                        hh:00; irradiance belongs to
                                                 hh:00 + ``irradiance time
                                                 offset`` (see below)
plain CSV             UTC offset in the stamps,  ``label``: start, middle or
                      or ``tz``                  end of the interval
====================  =========================  ==========================

A typical meteorological year strings together months of different years.
Every row is therefore placed by its local (month, day, hour) into one
non-leap ``year``; a 29 February is dropped. This also rolls a UTC file into
local time: the first local hours of 1 January come from the last UTC hours
of 31 December.
"""

from __future__ import annotations

import datetime as _dt
import gzip
import io
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from pvlib import iotools

from roofpv.energy import decomposition
from roofpv.energy import weather as _weather
from roofpv.energy.decomposition import split_ghi
from roofpv.energy.weather import shift_hours, typical_year
from roofpv.errors import EncodingError, WeatherFileError
from roofpv.findings import Finding
from roofpv.io.encodings import read_text

if TYPE_CHECKING:
    from roofpv.config import Config

COLUMNS = ("ghi", "dni", "dhi", "temp_air", "wind_speed")
#: Columns a file must give; DNI and DHI are split from GHI where a file lacks them
#: (:mod:`roofpv.energy.decomposition`).
REQUIRED = ("ghi", "temp_air", "wind_speed")
#: Share of a DNI or DHI column that, missing or implausible, makes the file GHI-only
#: (EPW files of stations that measure GHI alone fill the others with 9999).
ABSENT_SHARE = 0.99
FORMATS = ("epw", "tmy3", "pvgis", "csv")
_TMY3_DATE, _TMY3_TIME = "Date (MM/DD/YYYY)", "Time (HH:MM)"
LABELS = {"start": 0.0, "middle": 0.5, "end": 1.0}

#: Plausible ranges; values outside them are missing-value codes (EPW 9999,
#: 99.9, 999; TMY3 -9900), single bad records or wrong units.
_RANGES = {"ghi": (-10.0, 1500.0), "dni": (-10.0, 1500.0),
           "dhi": (-10.0, 1000.0), "temp_air": (-80.0, 65.0),
           "wind_speed": (0.0, 75.0)}
_UNITS = {"ghi": "W/m²", "dni": "W/m²", "dhi": "W/m²", "temp_air": "°C",
          "wind_speed": "m/s"}
#: A value outside its range by at most this share of the range's width is a bad
#: record and is clipped to the range; further out it is a missing-value code and
#: is filled from the neighbouring hours.
CLIP_SHARE = 0.1
#: Hours in a row that may be filled by linear interpolation.
FILL_MAX_HOURS = 6
#: More bad values than this share of a column means wrong units or a broken
#: file, not single bad records: the file is refused.
MAX_REPAIR_SHARE = 0.01


def read_weather(path, format=None, tz=None, *, label="start", year=2023,
                 columns=None, latitude=None, longitude=None, altitude=None,
                 shift_h=0.0, site=None):
    """
    Read an hourly weather file into the canonical weather frame.

    Parameters
    ----------
    path : str or pathlib.Path
        Weather file.
    format : {"epw", "tmy3", "pvgis", "csv"}, optional
        File format. By default it is taken from the extension (a ``.gz``
        file is unpacked and its inner extension used): ``.epw`` is
        EPW, ``.json`` is PVGIS; a ``.csv`` is PVGIS if it starts with
        ``Latitude``, TMY3 if its second line starts with ``Date
        (MM/DD/YYYY)``, and a plain CSV otherwise.
    tz : str, optional
        Time zone of the returned index, e.g. ``"Asia/Shanghai"``; it must
        have one UTC offset all year within ``year`` (no daylight saving).
        By default: the standard-time offset of an EPW or TMY3 file, the
        offset nearest ``longitude / 15`` for PVGIS, the offset written in
        the stamps of a plain CSV. A plain CSV whose stamps carry no offset
        needs ``tz``, which then also says how to read the stamps.
    label : {"start", "middle", "end"}, default "start"
        Plain CSV only: which instant of its hourly interval a stamp names.
    year : int, default 2023
        Non-leap calendar year of the returned index.
    columns : dict, optional
        Plain CSV only: map of file column name to canonical name
        (``timestamp``, ``ghi``, ``dni``, ``dhi``, ``temp_air``,
        ``wind_speed``). Columns already named so (any case) need no entry.
    latitude, longitude, altitude : float, optional
        Plain CSV only (it has no header): site coordinates [degrees north,
        degrees east] and elevation [m] for ``meta``; ``None`` if not given.
    shift_h : float, default 0
        Hours added to every time stamp after reading, any format, fractions
        allowed: -1 when the irradiance runs one hour late against the sun
        (see :py:func:`roofpv.energy.weather.irradiance_lag_h`). The year is shifted
        circularly and fractional shifts interpolate linearly between hours.
    site : tuple of float, optional
        ``(latitude, longitude, altitude)`` of the site: where the sun is computed to
        split a GHI-only file that states no location of its own.

    Returns
    -------
    weather : pandas.DataFrame
        Canonical weather frame of 8760 rows, see :mod:`roofpv.energy.weather`.
    meta : dict
        ``latitude``, ``longitude``, ``altitude``, ``tz`` (the index time
        zone as a string), ``source`` (format and file name), ``findings``
        (list of :class:`roofpv.findings.Finding`: each value repaired, DNI/DHI
        split from GHI, hours not covered), ``split`` (the components split from
        GHI, empty for a complete file), ``covered_hours`` (hours the file
        covers, 8760 for a full year), ``period`` (``"full year"`` or what
        part of the year) and, for PVGIS, ``irradiance_time_offset_h`` and
        ``solar_time_error_h`` (see Notes).

    Raises
    ------
    WeatherFileError
        If the file is missing or unreadable, lacks a column, holds more than
        :data:`MAX_REPAIR_SHARE` missing or implausible values in a column (or
        a gap longer than :data:`FILL_MAX_HOURS`), or does not make exactly
        one year of hours.

    Notes
    -----
    PVGIS TMY stamps are whole UTC hours. Files written since late 2024
    state an ``Irradiance Time Offset`` in hours: irradiance describes the
    instant (or the centre of the hour) at stamp + offset, e.g. 0.5 for
    ERA5 hourly means and about 0.1-0.2 for instantaneous SARAH satellite
    values. The canonical frame evaluates the sun at interval start + 0.5 h,
    so rows are shifted by ``round(offset - 0.5)`` whole hours and the
    remainder, at most 0.5 h, is reported as ``solar_time_error_h``. Without
    an offset in the file 0.5 (hourly means centred on the half hour) is
    assumed.

    A value outside its plausible range by at most :data:`CLIP_SHARE` of the
    range (one hour of DHI = 1011 W/m², say) is clipped to the range; a value
    further out (a missing-value code) or missing is filled by linear
    interpolation between its neighbouring hours. Each repair is a warning in
    ``meta["findings"]``.

    A file without DNI and DHI (columns absent, or at least :data:`ABSENT_SHARE`
    missing) is GHI-only: both are split from GHI with the Erbs model
    (:func:`roofpv.energy.decomposition.split_ghi`); with one of them, the other
    follows from closure. A plain CSV of sub-hourly values is averaged to hours.

    Hours the file does not cover (a monitoring period, say) are a part year:
    absent spells of at most :data:`FILL_MAX_HOURS` between covered hours are
    interpolated, longer ones get zero irradiance, so that every energy figure
    is the energy of the covered hours; ``meta["period"]`` says which.
    """
    path = Path(path)
    if not path.is_file():
        raise WeatherFileError(f"{path}: weather file not found")
    if path.suffix.lower() == ".gz":
        return _read_gzip(path, format=format, tz=tz, label=label, year=year, columns=columns,
                          latitude=latitude, longitude=longitude, altitude=altitude,
                          shift_h=shift_h)
    if label not in LABELS:
        raise WeatherFileError(f"{path}: label must be one of {list(LABELS)}, "
                               f"not {label!r}")
    if pd.Timestamp(year=year, month=1, day=1).is_leap_year:
        raise WeatherFileError(f"{path}: year {year} is a leap year")
    format = _detect_format(path) if format is None else format.lower()
    if format not in FORMATS:
        raise WeatherFileError(f"{path}: unknown weather format {format!r}; "
                               f"use one of {list(FORMATS)}")
    reader = {"epw": _read_epw, "tmy3": _read_tmy3, "pvgis": _read_pvgis,
              "csv": _read_csv}[format]
    try:
        frame, meta = reader(path, tz=tz, label=label, columns=columns or {},
                             latitude=latitude, longitude=longitude,
                             altitude=altitude)
    except WeatherFileError:
        raise
    except Exception as exc:  # noqa: BLE001 - pvlib readers raise many kinds
        raise WeatherFileError(
            f"{path}: cannot read as {format} weather ({exc})") from None
    frame, findings, absent = _check_values(path, frame)
    findings += meta.pop("aggregated", [])
    target_tz = tz if tz is not None else meta.pop("file_tz")
    meta.pop("file_tz", None)
    weather, covered, gaps = _one_year(path, frame, target_tz, year)
    findings += gaps
    meta["covered_hours"] = int(covered.sum())
    meta["period"] = "full year" if covered.all() else _period(weather.index, covered)
    if not covered.all():
        meta["source"] += f", {meta['period']}"
    meta["split"] = absent
    if absent:
        weather, finding = _split(path, weather, meta, absent, site)
        findings.append(finding)
    if shift_h:
        weather = shift_hours(weather, shift_h)
        meta["source"] += f", shifted {shift_h:+g} h"
    meta["tz"] = str(target_tz)
    meta["shift_h"] = float(shift_h)
    meta["findings"] = findings
    return weather, meta


def _read_gzip(path, **options):
    """:func:`read_weather` of a gzip-compressed file (``name.epw.gz`` …), unpacked to a
    temporary file; messages and findings name the compressed file."""
    with tempfile.TemporaryDirectory() as folder:
        plain = Path(folder) / path.stem
        try:
            plain.write_bytes(gzip.decompress(path.read_bytes()))
        except (OSError, EOFError) as exc:
            raise WeatherFileError(f"{path}: not a readable gzip file ({exc})") from None
        try:
            weather, meta = read_weather(plain, **options)
        except WeatherFileError as exc:
            raise WeatherFileError(str(exc).replace(str(plain), str(path))) from None
    meta["findings"] = [replace(f, file=str(path)) for f in meta["findings"]]
    meta["source"] += " (gzip)"
    return weather, meta


def _detect_format(path):
    suffix = path.suffix.lower()
    if suffix == ".epw":
        return "epw"
    if suffix == ".json":
        return "pvgis"
    if suffix == ".csv":
        with open(path, encoding="utf-8", errors="replace") as f:
            first, second = f.readline(), f.readline()
        if first.lower().startswith("latitude"):
            return "pvgis"
        if second.startswith("Date (MM/DD/YYYY)"):
            return "tmy3"
        return "csv"
    raise WeatherFileError(
        f"{path}: cannot tell the weather format from the extension "
        f"{path.suffix!r}; give format (one of {list(FORMATS)})")


def _fixed_offset(hours):
    """Time zone of a fixed UTC offset [h]: an ``Etc/GMT`` name if whole."""
    if float(hours).is_integer():
        h = int(hours)
        return "UTC" if h == 0 else f"Etc/GMT{-h:+d}"
    return _dt.timezone(_dt.timedelta(hours=hours))


def _require(path, frame, names):
    """``frame`` with every column of ``names``; DNI and DHI may be absent (then all missing),
    the others (:data:`REQUIRED`, a time stamp) not."""
    needed = [n for n in names if n not in COLUMNS or n in REQUIRED]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise WeatherFileError(
            f"{path}: no column {missing[0]!r} (needed: {needed}; found: {list(frame.columns)})")
    return frame.assign(**{c: np.nan for c in names if c not in frame.columns})


def _text(path) -> io.StringIO:
    """The file's text in whichever encoding it was saved (a station export in GBK, an
    EPW with a Chinese place name; :func:`roofpv.io.encodings.read_text`)."""
    try:
        return io.StringIO(read_text(path).text)
    except EncodingError:
        raise WeatherFileError(f"{path}: not readable as UTF-8, GBK/GB18030 or Big5 text; "
                               "save it as UTF-8") from None


def _read_epw(path, **_):
    data, head = iotools.read_epw(_text(path))
    data = _require(path, data, COLUMNS)
    meta = {"latitude": head["latitude"], "longitude": head["longitude"],
            "altitude": head["altitude"], "source": f"EPW file {path.name}",
            "file_tz": _fixed_offset(head["TZ"])}
    # read_epw labels rows at interval start already.
    return data[list(COLUMNS)], meta


def _read_tmy3(path, **_):
    data, head = iotools.read_tmy3(path, map_variables=True)
    data = _require(path, data, COLUMNS + (_TMY3_DATE, _TMY3_TIME))
    # TMY3 stamps name the interval end ("60 minutes prior to timestamp"),
    # hours 01:00..24:00. The start is built from the file's own date and
    # hour, since pvlib's index turns 02/28 24:00 of a leap year into 03/01.
    hour = data[_TMY3_TIME].str.split(":").str[0].astype(int)
    start = (pd.to_datetime(data[_TMY3_DATE], format="%m/%d/%Y")
             + pd.to_timedelta(hour - 1, unit="h"))
    data = data[list(COLUMNS)].set_axis(
        pd.DatetimeIndex(start).tz_localize(_fixed_offset(head["TZ"])))
    meta = {"latitude": head["latitude"], "longitude": head["longitude"],
            "altitude": head["altitude"], "source": f"TMY3 file {path.name}",
            "file_tz": _fixed_offset(head["TZ"])}
    return data, meta


def _read_pvgis(path, **_):
    result = iotools.read_pvgis_tmy(path, map_variables=True)
    if len(result) == 4:  # pvlib < 0.13: (data, months, inputs, meta)
        data, _, inputs, head = result
        head = {**(head if isinstance(head, dict) else {}),
                "inputs": inputs}
    else:
        data, head = result
    data = _require(path, data, COLUMNS)
    if path.suffix.lower() == ".epw":
        inputs = {"latitude": head["latitude"], "longitude": head["longitude"],
                  "elevation": head["altitude"]}
        offset = None
    else:
        inputs = head.get("inputs", {})
        inputs = {**inputs.get("location", {}), **inputs}
        offset = _find_offset(head)
    data = data[list(COLUMNS)]
    meta = {"latitude": float(inputs["latitude"]),
            "longitude": float(inputs["longitude"]),
            "altitude": float(inputs["elevation"]),
            "source": f"PVGIS TMY file {path.name}"}
    if data.index.tz is None:
        data.index = data.index.tz_localize("UTC")
    assumed = offset is None
    offset = 0.5 if assumed else offset
    shift = round(offset - 0.5)
    data.index = data.index + pd.Timedelta(hours=shift)
    meta["irradiance_time_offset_h"] = offset
    meta["irradiance_time_offset_assumed"] = assumed
    meta["solar_time_error_h"] = round(offset - 0.5 - shift, 4)
    meta["file_tz"] = _fixed_offset(round(meta["longitude"] / 15))
    return data, meta


def _find_offset(tree):
    """A number under a key naming a time offset anywhere in ``tree``."""
    if isinstance(tree, dict):
        for key, value in tree.items():
            if ("offset" in str(key).lower()
                    and isinstance(value, (int, float))):
                return float(value)
            found = _find_offset(value)
            if found is not None:
                return found
    elif isinstance(tree, list):
        for value in tree:
            found = _find_offset(value)
            if found is not None:
                return found
    return None


def _read_csv(path, *, tz, label, columns, latitude, longitude, altitude):
    data = pd.read_csv(_text(path))
    rename = {c: columns.get(c, str(c).strip().lower()) for c in data.columns}
    data = data.rename(columns=rename)
    data = _require(path, data, ("timestamp",) + COLUMNS)
    try:
        stamps = pd.to_datetime(data["timestamp"])
    except (ValueError, TypeError):
        try:  # stamps with different UTC offsets
            stamps = pd.to_datetime(data["timestamp"], utc=True)
        except (ValueError, TypeError) as exc:
            raise WeatherFileError(
                f"{path}: cannot parse column 'timestamp' ({exc})") from None
    index = pd.DatetimeIndex(stamps)
    if index.tz is None:
        if tz is None:
            raise WeatherFileError(
                f"{path}: timestamps carry no UTC offset; give the time zone "
                "(tz) they are in")
        try:
            index = index.tz_localize(tz, ambiguous="raise",
                                      nonexistent="raise")
        except Exception as exc:  # noqa: BLE001 - zoneinfo, pytz and pandas
            raise WeatherFileError(
                f"{path}: timestamps are not valid in {tz} ({exc})") from None
    step = pd.Series(index).diff().median() if len(index) > 1 else pd.Timedelta(hours=1)
    step = min(step, pd.Timedelta(hours=1))
    index = index - step * LABELS[label]
    frame = data[list(COLUMNS)].apply(pd.to_numeric, errors="coerce").set_axis(index)
    kind = "hourly"
    aggregated = []
    if step < pd.Timedelta(hours=1):
        minutes = step / pd.Timedelta(minutes=1)
        kind = f"{minutes:g}-minute"
        # Means of the hour each value's interval starts in; hours without values are absent.
        frame = frame.groupby(index.floor("h")).mean()
        frame = frame[frame.notna().any(axis=1)]
        aggregated.append(Finding(
            "info", str(path), None, None, "timestamp", f"{minutes:g} min",
            f"{minutes:g}-minute values averaged to {len(frame):,} hours",
            "nothing to do; give hourly means if the file's values are not interval means"))
    meta = {"latitude": latitude, "longitude": longitude,
            "altitude": altitude,
            "source": f"{kind} CSV file {path.name} (stamps at interval "
                      f"{label})",
            "file_tz": index.tz, "aggregated": aggregated}
    return frame, meta


def _check_values(path, frame):
    """Numeric frame with single bad values repaired, a finding per repair, and the
    irradiance components the file lacks (``dni``, ``dhi``: missing almost everywhere)."""
    frame = frame.apply(pd.to_numeric, errors="coerce").astype(float)
    findings = []
    absent = []
    for column in COLUMNS:
        values = frame[column]
        low, high = _RANGES[column]
        unit = _UNITS[column]
        outside = (values < low) | (values > high)
        bad = values.isna() | outside
        if column in ("dni", "dhi") and bad.sum() >= ABSENT_SHARE * len(values):
            absent.append(column)
            frame[column] = 0.0
            continue
        if bad.sum() > MAX_REPAIR_SHARE * len(values):
            first = values.index[bad][0]
            raise WeatherFileError(
                f"{path}: {int(bad.sum())} of {len(values)} values of {column!r} "
                f"missing, non-numeric or outside [{low:g}, {high:g}] {unit} "
                f"(missing-value codes or wrong units), the first "
                f"{values[first]:g} at {first}")
        if not bad.any():
            continue
        margin = CLIP_SHARE * (high - low)
        clip = outside & (values >= low - margin) & (values <= high + margin)
        fill = bad & ~clip
        repaired = values.clip(low, high).where(~fill)
        repaired = repaired.reset_index(drop=True).interpolate(
            limit=FILL_MAX_HOURS, limit_area="inside").set_axis(values.index)
        if repaired.isna().any():
            first = repaired.index[repaired.isna()][0]
            raise WeatherFileError(
                f"{path}: column {column!r} has a gap of more than "
                f"{FILL_MAX_HOURS} hours of missing or implausible values "
                f"(or one at the start or end of the file) at {first}")
        for i in np.flatnonzero(bad.to_numpy()):
            value, when = values.iloc[i], values.index[i]
            what = ("missing or non-numeric" if np.isnan(value) else
                    f"{value:g} {unit} outside [{low:g}, {high:g}]")
            how = ("clipped to" if clip.iloc[i] else
                   "filled from the neighbouring hours with")
            findings.append(Finding(
                "warning", str(path), int(i) + 1,
                None, column, None if np.isnan(value) else f"{value:g}",
                f"{column} at {when:%Y-%m-%d %H:%M} {what}; {how} "
                f"{repaired.iloc[i]:.4g} {unit}",
                "check the value at its source; nothing to do if the repair "
                "is acceptable"))
        frame[column] = repaired
    irradiance = ["ghi", "dni", "dhi"]
    frame[irradiance] = frame[irradiance].clip(lower=0.0)
    return frame, findings, absent


def _split(path, weather, meta, absent, site):
    """``weather`` with the ``absent`` irradiance components split from GHI, and the finding."""
    where = (meta["latitude"], meta["longitude"], meta["altitude"])
    if where[0] is None or where[1] is None:
        if site is None:
            raise WeatherFileError(
                f"{path}: the file gives no {' and '.join(c.upper() for c in absent)}; splitting "
                "GHI needs the file's location: give latitude and longitude")
        where = site
    keep = next((c for c in ("dni", "dhi") if c not in absent), None)
    weather = split_ghi(weather, where[0], where[1], where[2] or 0.0, keep=keep)[list(COLUMNS)]
    how = (f"split from GHI with the {decomposition.MODEL} model" if keep is None
           else f"from GHI and {keep.upper()} by closure (GHI = DNI cos Z + DHI)")
    meta["source"] += f", {' and '.join(c.upper() for c in absent)} {how}"
    return weather, Finding(
        "info", str(path), None, None, ", ".join(absent), None,
        f"the file gives no {' and '.join(c.upper() for c in absent)}: {how}"
        + ("; against four Chinese typical years the split changes a 30° south plane's annual "
           "irradiation by -1.5 % to +4.2 % (docs/validation.md)" if keep is None else ""),
        "nothing to do; give measured DNI and DHI if the station has them")


def _period(index, covered):
    """What part of the year ``covered`` hours are, in words."""
    n = int(covered.sum())
    first, last = index[covered][0], index[covered][-1]
    return (f"part year: {n:,} of {len(index):,} hours covered ({first:%m-%d %H:%M} to "
            f"{last:%m-%d %H:%M}); energy figures cover these hours only")


def _one_year(path, frame, tz, year):
    """Place rows by local (month, day, hour) into one year of ``tz``: the year, which
    hours the file covers (a boolean array) and a finding per absent spell filled."""
    expected = pd.date_range(f"{year}-01-01", periods=8760, freq="h", tz=tz)
    offsets = np.unique(expected.map(lambda t: t.utcoffset()).to_numpy())
    if offsets.size != 1:
        raise WeatherFileError(
            f"{path}: time zone {tz} has daylight saving in {year}; give a "
            "zone with one UTC offset all year")
    # The offset of ``tz`` in ``year``, not in the years the rows come from
    # (Asia/Shanghai had daylight saving 1986-1991).
    local = (frame.index.tz_convert("UTC").tz_localize(None)
             + pd.Timedelta(offsets[0]))
    if (local.minute != 0).any() or (local.second != 0).any():
        first = local[(local.minute != 0) | (local.second != 0)][0]
        raise WeatherFileError(
            f"{path}: interval starts must fall on whole hours of {tz}; "
            f"found {first} (check the label convention and time zone)")
    keep = ~((local.month == 2) & (local.day == 29))
    frame, local = frame[keep], local[keep]
    naive = pd.to_datetime(pd.DataFrame(
        {"year": year, "month": local.month, "day": local.day,
         "hour": local.hour}))
    index = pd.DatetimeIndex(naive).tz_localize(tz)
    duplicated = index.duplicated()
    if duplicated.any():
        raise WeatherFileError(
            f"{path}: more than one row for the hour starting "
            f"{index[duplicated][0]:%m-%d %H:%M}; expected one year of "
            "hourly data")
    out = frame.set_axis(index).sort_index()
    out = out.reindex(expected)
    out.index.name = None
    present = expected.isin(index)
    if present.all():
        return out, present, []
    if not present.any():
        raise WeatherFileError(f"{path}: no hours of data")
    covered, findings = present.copy(), []
    # Absent spells: (start, length) of runs of absent hours between covered ones.
    edges = np.flatnonzero(np.diff(np.r_[1, present.astype(int), 1]))
    for start, stop in zip(edges[::2], edges[1::2]):
        inside = start > 0 and stop < len(present)
        if inside and stop - start <= FILL_MAX_HOURS:
            covered[start:stop] = True
            findings.append(Finding(
                "warning", str(path), None, None, "timestamp", None,
                f"{stop - start} hours absent from {expected[start]:%m-%d %H:%M}; filled from "
                "the neighbouring hours", "check the file at its source; nothing to do if the "
                "repair is acceptable"))
    out = out.interpolate(limit_area="inside")
    irradiance = ["ghi", "dni", "dhi"]
    out.loc[~covered, irradiance] = 0.0
    # Not covered: no sun, so no energy; temperature and wind only carry the thermal model.
    out = out.ffill().bfill()
    findings.append(Finding(
        "warning", str(path), None, None, "timestamp", f"{int(covered.sum())} h",
        f"the file covers {int(covered.sum()):,} of {len(expected):,} hours of a year "
        f"({expected[covered][0]:%m-%d %H:%M} to {expected[covered][-1]:%m-%d %H:%M}): energy "
        "figures are for the covered hours only, not annual",
        "give a full-year (typical-year) file for annual figures; a monitoring period compares "
        "with meters of the same period"))
    return out, covered, findings


def load_weather(config: Config, strict: bool = True) -> tuple[pd.DataFrame, dict]:
    """
    Hourly weather of a run: the configured file, else a typical year built from the
    config's monthly means (:func:`roofpv.energy.weather.typical_year`).

    Findings (values repaired, DNI/DHI split from GHI, a part year, time stamps against the
    sun, distance of the file's or the monthly climate's location from the site) are in
    ``meta["findings"]``. A monthly climate too far from the site (another climate)
    raises :class:`WeatherFileError`; so does a file too far with ``strict``.
    """
    w, site = config.weather, config.site
    if w.file is None:
        m = w.monthly
        source = f"weather.{'station' if w.station else 'monthly'} of {config.source_path or 'the config'}"
        found = _weather.location_findings(
            {"latitude": m.latitude, "longitude": m.longitude}, site.latitude, site.longitude, source,
            w.warn_distance_km, w.max_distance_km, what="typical-year climate")
        if any(f.level == "error" for f in found):  # another climate: no year to build
            raise WeatherFileError(f"{source}: {found[0].problem}; {found[0].fix}")
        try:
            hourly, meta = typical_year(
                site.latitude, site.longitude, site.altitude_m, m.ghi_kwh_m2, m.temp_air_c,
                m.wind_m_s, tz=site.timezone, seed=w.seed, monthly_dhi_kwh_m2=m.dhi_kwh_m2,
            )
        except ValueError as exc:  # monthly GHI above what the sky gives at the site
            raise WeatherFileError(
                f"weather.monthly of {config.source_path or 'the config'} cannot describe a year "
                f"at {site.latitude:.2f}°N, {site.longitude:.2f}°E ({exc}): the monthly means "
                "belong to another climate; give weather.file or the site's own monthly means"
            ) from None
        if m.source:
            meta["source"] += f" of {m.source}"
        return hourly, {**meta, "findings": found, "covered_hours": len(hourly), "period": "full year",
                        "split": []}
    hourly, meta = read_weather(w.file, w.format, tz=site.timezone, label=w.label,
                                columns=w.columns or None, shift_h=w.shift_h,
                                site=(site.latitude, site.longitude, site.altitude_m))
    source = str(w.file)
    found = _weather.location_findings(meta, site.latitude, site.longitude, source,
                                       w.warn_distance_km, w.max_distance_km)
    if strict and any(f.level == "error" for f in found):
        raise WeatherFileError(f"{source}: {found[0].problem}; {found[0].fix}")
    lat, lon = meta.get("latitude"), meta.get("longitude")
    found += _weather.timing_findings(hourly, meta, site.latitude if lat is None else lat,
                                      site.longitude if lon is None else lon, source)
    meta["findings"] = meta["findings"] + found
    return hourly, meta
