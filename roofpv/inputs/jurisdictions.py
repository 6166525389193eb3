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
    """The townships layers the config names (each county's in a province run) and the
    province's counties layer."""
    province = config.province
    if province is not None and province.counties is not None:
        return [county.townships for county in province.counties]
    files = [config.inputs.townships] if config.inputs.townships is not None else []
    return files + ([province.counties_layer] if province is not None else [])


def read_townships(config: Config) -> tuple[gpd.GeoDataFrame | None, list[Finding]]:
    """The township polygons indexed by name (None without a townships layer); in a
    province run the townships of every county, in the counties' order, with their
    ``county``, all in the first county's CRS. A township name must be unique across
    the province (it keys the township table and pages)."""
    inputs = config.inputs
    if config.province is None or config.province.counties_layer is not None:
        if inputs.townships is None:
            return None, []
        polygons, findings = readers.read_townships(inputs.townships, inputs.townships_layer,
                                                    inputs.townships_name_column, inputs.townships_crs)
        if config.province is None:
            return polygons, findings
        county, found = in_counties(polygons, config)
        return polygons.assign(county=county), findings + found
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


def in_counties(townships: gpd.GeoDataFrame, config: Config) -> tuple[pd.Series, list[Finding]]:
    """The county of each township: the polygon of ``province.counties_layer`` that holds
    the township's representative point (the first where counties overlap;
    :data:`UNKNOWN`, with a warning, where none does)."""
    province = config.province
    path = province.counties_layer
    counties, findings = readers.read_layer(path, province.counties_layer_name, "counties", province.counties_crs,
                                            "province.counties_crs")
    column = province.counties_name_column
    if column not in counties.columns:
        raise InputError(f"{path}: counties have no name column {column!r}; columns are "
                         f"{list(counties.columns.drop('geometry'))}. Set province.counties_name_column")
    points = gpd.GeoDataFrame(geometry=townships.representative_point().to_crs(counties.crs).to_numpy(),
                              index=townships.index, crs=counties.crs)
    hits = points.sjoin(counties[[column, "geometry"]], predicate="within", how="left")
    county = hits[column].groupby(level=0, sort=False).first().reindex(townships.index)
    for name in county.index[county.isna()]:
        findings.append(Finding("warning", str(path), None, None, column, name,
                                f"township {name!r} lies in no county of the counties layer; its buildings "
                                f"count in county {UNKNOWN} and in the province",
                                "extend the counties layer over the township, or check both layers' CRS"))
    return county.fillna(UNKNOWN).astype(object).rename("county"), findings


def county_of(townships: pd.Series, polygons: gpd.GeoDataFrame | None) -> pd.Series | None:
    """The county of each building's township (:data:`UNKNOWN` for a township in no
    county's layer); None when the run has no county level."""
    if polygons is None or "county" not in polygons:
        return None
    return townships.map(polygons["county"]).fillna(UNKNOWN).rename("county")
