"""The jurisdictions of a run: one county's townships, or a province's counties, each
with its own townships layer (``province.counties`` in the config).

The levels (township → county → province) are a property of this configuration: the
township polygons of a province run carry a ``county`` column, each building takes the
county of its township (:func:`county_of`), and the roll-up
(:mod:`roofpv.targets.levels`) groups by it. A run without ``province`` has no county
level and its tables stay as they were.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from roofpv.config import Config
from roofpv.errors import InputError
from roofpv.findings import Finding
from roofpv.io import readers

#: County of a building whose township lies in no county's townships layer (the same
#: word as a building outside every township).
UNKNOWN = "未知"


def township_files(config: Config) -> list:
    """The townships layers the config names (each county's in a province run)."""
    if config.province is None:
        return [config.inputs.townships] if config.inputs.townships is not None else []
    return [county.townships for county in config.province.counties]


def read_townships(config: Config) -> tuple[gpd.GeoDataFrame | None, list[Finding]]:
    """The township polygons indexed by name (None without a townships layer); in a
    province run the townships of every county, in the counties' order, with their
    ``county``, all in the first county's CRS. A township name must be unique across
    the province (it keys the township table and pages)."""
    inputs = config.inputs
    if config.province is None:
        if inputs.townships is None:
            return None, []
        return readers.read_townships(inputs.townships, inputs.townships_layer, inputs.townships_name_column,
                                      inputs.townships_crs)
    parts, findings, home = [], [], {}
    for county in config.province.counties:
        polygons, found = readers.read_townships(county.townships, county.townships_layer,
                                                 county.townships_name_column, county.townships_crs)
        findings += found
        for name in polygons.index:
            if name in home:
                raise InputError(
                    f"{county.townships}: township {name!r} of county {county.name!r} is also a township of "
                    f"{home[name]!r}; township names key the tables and pages of a province run, so make them "
                    f"unique (e.g. {county.name}{name}) in {county.townships_name_column}")
            home[name] = county.name
        if parts:
            polygons = polygons.to_crs(parts[0].crs)
        parts.append(polygons.assign(county=county.name))
    return gpd.GeoDataFrame(pd.concat(parts), crs=parts[0].crs), findings


def county_of(townships: pd.Series, polygons: gpd.GeoDataFrame | None) -> pd.Series | None:
    """The county of each building's township (:data:`UNKNOWN` for a township in no
    county's layer); None when the run has no county level."""
    if polygons is None or "county" not in polygons:
        return None
    return townships.map(polygons["county"]).fillna(UNKNOWN).rename("county")
