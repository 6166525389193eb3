"""Typed run configuration, loaded from one YAML file per jurisdiction.

Every number a survey depends on lives here, with its default; the YAML files in
``configs/`` carry the source of each default as a comment. Relative paths in a
config are resolved against the folder of the YAML file.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from roofpv.errors import ConfigError, EncodingError
from roofpv.io.encodings import read_text
from roofpv.schema import REASONS, VOCABULARIES

Severity = Literal["unsuitable", "conditional", "info"]
RoofType = Literal[
    "concrete_flat", "metal_standing_seam", "metal_trapezoidal", "tile_pitched", "sunroom", "other"
]
Category = Literal[
    "party_gov", "public_institution", "factory", "commercial",
    "urban_residential", "rural_residential", "other",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _known_crs(v: str | None) -> str | None:
    """``v`` if pyproj knows it as a CRS (or None)."""
    if v is not None:
        from pyproj import CRS
        from pyproj.exceptions import CRSError

        try:
            CRS.from_user_input(v)
        except CRSError:
            raise ValueError(f"{v!r} is not a CRS pyproj knows; write it as EPSG:<code>") from None
    return v


class Inputs(_Model):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    footprints: Path
    footprints_layer: str | None = None
    footprints_id_column: str = "building_id"
    footprints_crs: str | None = Field(
        None, description="CRS of the footprints' coordinates (e.g. EPSG:4528) for a file that "
        "has none or a wrong one (DXF, shapefile without .prj); null = the file's")
    footprints_datum: Literal["gcj02", "bd09"] | None = Field(
        None, description="web-map datum the footprints were digitised in (GCJ-02: Amap/Tencent, "
        "BD-09: Baidu); converted to WGS84/CGCS2000 on reading; null = as declared")
    survey: Path | None = None
    survey_sheet: str | int = 0
    townships: Path | None = None
    townships_layer: str | None = None
    townships_name_column: str = "township"
    townships_crs: str | None = Field(None, description="as footprints_crs, for the townships")
    register_file: Path | None = Field(None, alias="register",
                                       description="grid company's register of connected PV (CSV/XLSX)")
    register_sheet: str | int = 0
    meters: Path | None = Field(None, description="monthly metered generation per system (CSV/XLSX)")


    _known_crs = field_validator("footprints_crs", "townships_crs")(_known_crs)


class County(_Model):
    """One county (县/县级市/区) of a province run: its name and its townships layer."""

    name: str = Field(min_length=1)
    townships: Path
    townships_layer: str | None = None
    townships_name_column: str = "township"
    townships_crs: str | None = Field(None, description="as inputs.townships_crs")

    _known_crs = field_validator("townships_crs")(_known_crs)


class Province(_Model):
    """Several jurisdictions in one run (整县推进 by province or city): the counties, each
    with its own townships layer (``counties``), or a layer of county polygons over the
    province's townships layer ``inputs.townships`` (``counties_layer``); outputs carry
    the township, county and province levels, every level measured against the config's
    ``policy`` targets."""

    name: str = Field(min_length=1, description="the province (or city), e.g. 浙江省")
    counties: list[County] | None = Field(None, min_length=1)
    counties_layer: Path | None = Field(None, description="county polygons; each township lies in the "
                                        "county holding its representative point")
    counties_layer_name: str | None = None
    counties_name_column: str = "county"
    counties_crs: str | None = Field(None, description="as inputs.townships_crs, for the counties layer")

    _known_crs = field_validator("counties_crs")(_known_crs)

    @field_validator("counties")
    @classmethod
    def _unique_names(cls, v: list[County] | None) -> list[County] | None:
        names = [c.name for c in v or []]
        if len(set(names)) < len(names):
            raise ValueError(f"county names must be unique: {names}")
        return v

    @model_validator(mode="after")
    def _one_source(self) -> Province:
        if (self.counties is None) == (self.counties_layer is None):
            raise ValueError("give either counties (each with its townships layer) or counties_layer "
                             "(county polygons over inputs.townships)")
        return self


class Site(_Model):
    name: str
    latitude: float = Field(ge=-60, le=70, description="deg N")
    longitude: float = Field(ge=-180, le=180, description="deg E")
    altitude_m: float = 0.0
    timezone: str = "Asia/Shanghai"
    province: str | None = Field(None, description="province the site lies in, e.g. 浙江; "
                                 "None: guessed from the nearest stations (roofpv.energy.stations)")


class MonthlyClimate(_Model):
    ghi_kwh_m2: list[float] = Field(min_length=12, max_length=12)
    temp_air_c: list[float] = Field(min_length=12, max_length=12)
    wind_m_s: list[float] = Field(min_length=12, max_length=12)
    dhi_kwh_m2: list[float] | None = Field(
        None, min_length=12, max_length=12,
        description="monthly diffuse horizontal irradiation; sets the diffuse share of the typical year")
    latitude: float | None = Field(None, ge=-90, le=90, description="where the monthly means hold, deg N")
    longitude: float | None = Field(None, ge=-180, le=180, description="deg E; compared with the site")
    source: str | None = Field(None, description="where the monthly means come from")

    @field_validator("ghi_kwh_m2")
    @classmethod
    def _positive(cls, v: list[float]) -> list[float]:
        if min(v) <= 0:
            raise ValueError("monthly GHI must be positive (kWh/m² per month)")
        return v

    @model_validator(mode="after")
    def _diffuse_below_global(self) -> MonthlyClimate:
        if self.dhi_kwh_m2 is not None and any(
                not 0 <= d <= g for d, g in zip(self.dhi_kwh_m2, self.ghi_kwh_m2)):
            raise ValueError("monthly DHI (dhi_kwh_m2) must lie between 0 and the month's GHI "
                             "(月散射辐照量应不大于月总辐照量)")
        return self


class Weather(_Model):
    file: Path | None = Field(None, description="hourly weather file; wins over `monthly`")
    format: Literal["epw", "tmy3", "pvgis", "csv"] | None = Field(None, description="None = from extension")
    label: Literal["start", "middle", "end"] = Field("start", description="plain CSV time stamps")
    columns: dict[str, str] = Field(default_factory=dict, description="plain CSV column names")
    monthly: MonthlyClimate | None = None
    station: str | None = Field(None, description="station of roofpv's typical-year table "
                                "(roofpv/energy/stations.csv), e.g. 592870_CSWD; gives `monthly`")
    seed: int = 0
    shift_h: float = Field(0.0, ge=-12, le=12, description="hours added to the file's time stamps "
                           "(any format, fractions allowed); e.g. -1 when irradiance runs an hour late")
    warn_distance_km: float = Field(150.0, gt=0, description="file or climate this far from the site: warning")
    max_distance_km: float | None = Field(500.0, gt=0, description="this far: refused; null = no limit")

    @model_validator(mode="before")
    @classmethod
    def _station_climate(cls, data):
        """``monthly`` from ``station``: the station's typical-year means and location."""
        if not isinstance(data, dict) or data.get("station") is None:
            return data
        if data.get("monthly") is not None:
            raise ValueError("give weather.station or weather.monthly, not both (set monthly: null "
                             "when the station replaces an inherited climate)")
        from roofpv.energy.stations import station

        try:
            found = station(str(data["station"]))
        except KeyError as exc:
            raise ValueError(str(exc.args[0])) from None
        monthly = {**found.monthly, "latitude": found.latitude, "longitude": found.longitude,
                   "source": f"{found.label}, typical year {found.file}"}
        return {**data, "monthly": monthly}

    @model_validator(mode="after")
    def _source(self) -> Weather:
        if self.file is None and self.monthly is None:
            raise ValueError("give weather.file, weather.station or weather.monthly")
        return self


class Module(_Model):
    length_m: float = Field(gt=0)
    width_m: float = Field(gt=0)
    power_w: float = Field(gt=0)
    gamma_pdc_per_c: float = Field(lt=0)
    gap_m: float = Field(0.02, ge=0)
    ar_glass: bool = Field(True, description="anti-reflective coated glass (PVWatts v8 standard module)")

    @property
    def area_m2(self) -> float:
        return self.length_m * self.width_m


class System(_Model):
    losses_pct: dict[str, float]
    inverter_efficiency_nom: float = Field(0.96, gt=0, le=1)
    dc_ac_ratio: float = Field(1.2, gt=0)
    albedo: float = Field(0.2, ge=0, le=1)

    @property
    def total_losses_pct(self) -> float:
        """Combined losses as PVWatts combines them: 100 · (1 − Π(1 − lᵢ/100))."""
        remaining = 1.0
        for loss in self.losses_pct.values():
            remaining *= 1.0 - loss / 100.0
        return 100.0 * (1.0 - remaining)


class Bins(_Model):
    tilt_step_deg: float = Field(5, gt=0)
    azimuth_step_deg: float = Field(10, gt=0)
    max_tilt_deg: float = Field(60, gt=0, le=90)


class TemperatureModel(_Model):
    """Fuentes cell-temperature model of one way of fixing modules."""

    noct_installed_c: float = Field(gt=20, lt=100, description="installed NOCT, °C")
    source: str = ""


#: Installed NOCT by how the array is fixed (Fuentes model, as PVWatts v8 runs it).
DEFAULT_TEMPERATURE_MODELS = {
    "open_rack": TemperatureModel(
        noct_installed_c=45,
        source="PVWatts v8 fixed open rack, INOCT 45 °C (Dobos 2014, NREL/TP-6A20-62641)"),
    "roof_standoff": TemperatureModel(
        noct_installed_c=49,
        source="PVWatts v8 fixed roof mount, INOCT 49 °C (Dobos 2014): rails 5-15 cm off a pitched roof"),
    "metal_clamp": TemperatureModel(
        noct_installed_c=51,
        source="45 °C + 6 K for a 3.8-6.4 cm stand-off (SAM NOCT mounting table, Gilman et al. 2018, "
               "NREL/TP-6A20-67399): clamps on metal sheet"),
    "insulated_back": TemperatureModel(
        noct_installed_c=63,
        source="45 °C + 18 K for under 1.3 cm stand-off / building-integrated (Gilman et al. 2018)"),
}


class Mounting(_Model):
    dead_load_kn_m2: float = Field(ge=0)
    temperature_model: str
    module_tilt_deg: float | None = Field(None, ge=0, le=60, description="tilted racks only")
    row_spacing: Literal["gb50797", "flush"] = "flush"


class RoofRule(_Model):
    mounting: str | None = Field(description="key in `mountings`; null = cannot carry PV")
    slope_deg: float = Field(0, ge=0, lt=90)
    setback_m: float = Field(0.5, ge=0)
    planes: Literal[1, 2] = 1


class Rules(_Model):
    load_safety_factor: float = Field(1.0, ge=1.0)
    min_roof_area_m2: float = Field(10.0, ge=0)
    min_capacity_kwp: float = Field(1.0, ge=0)
    shading_loss: dict[str, float]
    default_shading: str = "light"
    north_half_width_deg: float = Field(67.5, ge=0, le=180)
    north_max_tilt_deg: float = Field(10.0, ge=0)
    severity: dict[str, Severity]
    default_roof_type: dict[Category, RoofType]

    @field_validator("shading_loss")
    @classmethod
    def _shading_classes(cls, v: dict[str, float]) -> dict[str, float]:
        missing = set(VOCABULARIES["shading"]) - set(v)
        if missing:
            raise ValueError(f"shading_loss needs every class; missing {sorted(missing)}")
        if any(not 0 <= x < 1 for x in v.values()):
            raise ValueError("shading_loss values are fractions in [0, 1)")
        return v

    @field_validator("severity")
    @classmethod
    def _every_reason(cls, v: dict[str, Severity]) -> dict[str, Severity]:
        unknown, missing = set(v) - set(REASONS), set(REASONS) - set(v)
        if unknown:
            raise ValueError(f"unknown reason codes {sorted(unknown)}; known: {sorted(REASONS)}")
        if missing:
            raise ValueError(f"give a severity for every reason code; missing {sorted(missing)}")
        return v


Metric = Literal["area_total", "area_installable", "count", "substitution"]
OwnerType = Literal["natural_person", "non_natural_person"]
#: Export modes (NEA 2025): 全额上网, 自发自用、余电上网, 全部自用.
ExportMode = Literal["full_export", "self_use_surplus", "full_self_use"]
#: Project categories of 国能发新能规〔2025〕7号.
NeaCategory = Literal[
    "natural_person_household", "non_natural_person_household", "general_ci", "large_ci"
]


class Target(_Model):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str
    categories: list[Category]
    built_since: int | None = Field(None, description="year; null = every building")
    metric: Metric = "area_total"
    milestones: dict[int, float]
    source: str
    grid_condition: str | None = Field(
        None, description="the plan's 消纳 condition on this target, quoted (e.g. 在满足电力消纳的前提下); the "
        "report shows it beside the coverage with the hosting grades and open capacity")

    @field_validator("milestones")
    @classmethod
    def _ratios(cls, v: dict[int, float]) -> dict[int, float]:
        if any(not 0 < x <= 1 for x in v.values()):
            raise ValueError("milestone ratios are fractions in (0, 1]")
        return dict(sorted(v.items()))


class Policy(_Model):
    targets: list[Target] = Field(min_length=1)

    @field_validator("targets")
    @classmethod
    def _unique_names(cls, v: list[Target]) -> list[Target]:
        names = [t.name for t in v]
        if len(set(names)) < len(names):
            raise ValueError(f"target names must be unique: {names}")
        return v


class EnergyUse(_Model):
    """Building energy use for the substitution rate (替代率)."""

    intensity_kwh_m2: dict[Category, float] = Field(description="kWh per m² floor area per year")


class Storage(_Model):
    """A battery beside each roof's PV, sized per kWp, dispatched greedily (:mod:`roofpv.grid.selfuse`)."""

    kwh_per_kwp: float = Field(gt=0, description="usable energy per kWp of PV, kWh/kWp")
    kw_per_kwp: float = Field(gt=0, description="charge and discharge power per kWp of PV, kW/kWp")
    round_trip_efficiency: float = Field(0.9, gt=0, le=1)


class GridConnection(_Model):
    """Connection to the distribution grid: 台区 transformers, connection classes, export modes."""

    transformers: Path | None = Field(None, description="table or layer: id, kva, existing_pv_kw, min_load_kw "
                                      "(optional planned_pv_kw, storage_kw, longitude, latitude)")
    transformers_layer: str | None = None
    topology: Path | None = Field(None, description="CSV/XLSX, one row per transformer: transformer_id, feeder_id, "
                                  "feeder_kva (optional feeder_pv_kw, feeder_min_load_kw, substation_id, "
                                  "substation_kva, substation_pv_kw, substation_min_load_kw); null = transformers only")
    reverse_load_rate: float = Field(gt=0, le=1, description="β: allowed reverse load ÷ rating")
    credit_min_load: bool = Field(description="add the transformer's minimum load to its hosting capacity")
    power_factor: float = Field(1.0, gt=0, le=1, description="cos θ of the reverse flow (DL/T 2041)")
    hosting_basis: Literal["dlt2041", "hourly"] = Field(
        "dlt2041", description="capacity the rollout admits roofs against: DL/T 2041's typical moment, "
        "or the hour-by-hour balance")
    profile_year: Literal["p50", "p90"] = Field(
        "p50", description="PV year the rollout admits roofs against: p50 (the weather year) or p90 (its every "
        "interval scaled by the P90 factor of `uncertainty`)")
    hourly: bool = Field(True, description="hourly PV and load: self-consumption and DL/T 2041 per transformer")
    metered_load: Path | None = Field(None, description="CSV of metered load per building: building_id, step, kwh")
    metered_transformer_load: Path | None = Field(
        None, description="CSV of metered load per transformer: transformer_id, step, kwh; replaces the category "
        "shapes of its buildings and its load in the hosting check")
    storage: Storage | None = Field(None, description="battery case per roof; null = none")
    flexible_share: float = Field(0.0, ge=0, le=1, description="光储直柔: share of each day's load that "
                                  "can move into the day's PV surplus hours")
    connection_classes_kw: dict[str, float] = Field(min_length=1, description="class → upper limit, kW")
    household_categories: list[Category]
    large_ci_kw: float = Field(gt=0, description="above: 大型工商业")
    export_modes: dict[NeaCategory, list[ExportMode]]

    @field_validator("connection_classes_kw")
    @classmethod
    def _ascending(cls, v: dict[str, float]) -> dict[str, float]:
        limits = list(v.values())
        if limits != sorted(limits):
            raise ValueError("connection classes must be listed by ascending limit")
        return v


class SharedProsperity(_Model):
    """阳光共富: an investor builds on village roofs and pays the household and the collective."""

    categories: list[Category]
    roof_rent_yuan_m2_year: float = Field(ge=0, description="to the household, per m² of panels")
    collective_share: float = Field(ge=0, lt=1, description="share of revenue to the village collective")
    mode: ExportMode


class StorageCost(_Model):
    """What a battery costs: energy part + power part (NREL ATB's split), fixed O&M as a
    share of capex, and the battery replaced at the end of its life."""

    yuan_per_kwh: float = Field(ge=0, description="battery energy cost, yuan per kWh of usable energy")
    yuan_per_kw: float = Field(ge=0, description="power cost (converter, balance of system), yuan per kW")
    om_share_per_year: float = Field(0.025, ge=0, lt=1, description="fixed O&M a year, share of capex")
    life_years: int = Field(15, gt=0, le=50, description="battery life; replaced within the PV lifetime")
    replacement_share: float = Field(1.0, ge=0, description="replacement cost, share of the energy part's capex")


class Economics(_Model):
    capex_yuan_per_w: dict[Category, float]
    om_yuan_per_w_year: float = Field(ge=0)
    degradation_per_year: float = Field(ge=0, lt=0.1, description="fraction of year-1 output lost per year")
    lifetime_years: int = Field(gt=0, le=50)
    discount_rate: float = Field(gt=-1, lt=1)
    mechanism_price_yuan_kwh: float = Field(ge=0)
    market_price_yuan_kwh: float = Field(ge=0)
    surplus_price: Literal["mechanism", "market"]
    tariff_yuan_kwh: dict[Category, float]
    self_consumption: dict[Category, float] = Field(description="self-consumed share of output")
    mode: dict[NeaCategory, ExportMode]
    shared_prosperity: SharedProsperity | None = None
    storage: StorageCost | None = Field(None, description="battery cost (grid.storage case, storage to host); "
                                        "null = not priced")
    province: str | None = Field(None, description="province whose prices these are, e.g. 浙江")
    assumptions: list[str] = Field(description="fields whose values no official source confirms")

    @model_validator(mode="after")
    def _complete(self) -> Economics:
        unknown = set(self.assumptions) - set(type(self).model_fields)
        if unknown:
            raise ValueError(f"assumptions names unknown fields {sorted(unknown)}")
        categories = set(VOCABULARIES["category"])
        for field in ("capex_yuan_per_w", "tariff_yuan_kwh", "self_consumption"):
            missing = categories - set(getattr(self, field))
            if missing:
                raise ValueError(f"{field} needs every category; missing {sorted(missing)}")
        missing = set(get_args(NeaCategory)) - set(self.mode)
        if missing:
            raise ValueError(f"mode needs every NEA category; missing {sorted(missing)}")
        return self


class Carbon(_Model):
    emission_factor_t_mwh: float = Field(gt=0, description="grid CO₂ emission factor, tCO₂/MWh")
    source: str
    province: str | None = Field(None, description="province of the factor, e.g. 浙江; 全国 = national")


class Planning(_Model):
    start_year: int = Field(description="first year in which planned roofs are built")
    horizon_year: int = Field(description="last year of the trajectory")
    rank_by: Literal["specific_yield", "lcoe", "payback"]
    statuses: list[Literal["suitable", "conditional"]] = Field(min_length=1)
    exclude_reasons: list[str] = Field(description="structure: reason codes that bar a roof from the plan")
    min_roof_load_kn_m2: float | None = Field(None, ge=0, description="structure: spare load required")
    owner_types: list[OwnerType] = Field(min_length=1)
    grid_hosting: bool = Field(description="respect transformer hosting capacity")
    draw_on: list[Literal["facades", "surfaces"]] = Field(
        default_factory=list, description="besides roofs, what the plan may build for `substitution` targets "
        "(facades of the cohort's buildings, the `surfaces` layer); coverage targets count roofs only")

    @field_validator("exclude_reasons")
    @classmethod
    def _known_reasons(cls, v: list[str]) -> list[str]:
        unknown = set(v) - set(REASONS)
        if unknown:
            raise ValueError(f"unknown reason codes {sorted(unknown)}")
        return v


class Dsm(_Model):
    """DSM tiles and the parameters of roof measurement (:mod:`roofpv.roofs.dsm`); lengths in
    m, angles in degrees. Planarity and plane-fit thresholds are not set here: they come
    from the noise measured on each DSM window."""

    tiles: Path | None = Field(None, description="folder of DSM GeoTIFF tiles, or of classified "
                                "LAS/LAZ point clouds (gridded, see point_cloud_*); null = no DSM")
    tiles_pattern: str = "*.tif"
    point_cloud_resolution_m: float = Field(0.5, gt=0, description="cell size of the DSM, DTM and "
                                            "canopy gridded from a `tiles` folder of LAS/LAZ point clouds")
    point_cloud_crs: str | None = Field(None, description="CRS of point clouds whose header has none")
    dem: Path | None = Field(None, description="folder of DEM tiles; null = ground from the DSM")
    canopy: Path | None = Field(None, description="folder of canopy (tree) height tiles, m above "
                                "ground, 0 = no tree (UMEP CDSM); trees shade roofs and are not roof")
    block_m: float = Field(500.0, gt=0)
    workers: int = Field(1, ge=1, description="threads measuring DSM windows")
    storey_height_m: float = Field(3.0, gt=0)
    inner_buffer_m: float = Field(0.75, ge=0, description="largest inner buffer of the roof pixels that "
                                  "seed planes: half a pixel, at most this and 1/8 of the footprint's width")
    ground_ring_m: tuple[float, float] = Field((1.0, 6.0), description="ring around each footprint "
                                               "whose low quantile is ground (without a DEM)")
    ground_quantile: float = Field(0.1, ge=0, le=1)
    flat_max_slope_deg: float = Field(3.0, ge=0, lt=90, description="planes flatter than this are flat")
    align_footprints: bool = Field(False, description="move the footprints by the shift that lays them "
                                   "best onto the DSM's buildings (up to 4 m; reported as a finding either way)")
    plane_min_area_m2: float = Field(4.0, gt=0, description="smallest roof plane kept (plan area)")
    min_coverage: float = Field(0.9, gt=0, le=1, description="share of the shrunk roof with DSM data "
                                "for the roof to be measured")
    points_per_plane: int = Field(16, ge=1, le=256, description="horizon sample points per plane, "
                                  "spread over the plane's pixels")
    point_height_m: float = Field(0.5, ge=0, description="sample points' height above the roof (modules)")
    n_sectors: int = Field(36, ge=4)
    radius_m: float = Field(300.0, gt=0)
    steps_per_octave: int = Field(8, ge=1)


#: Kinds of surface beyond roofs (建筑周边空间) that :mod:`roofpv.surfaces` lays PV on.
SurfaceType = Literal["carport", "corridor", "tank_cover", "greenhouse", "rural_yard"]


class SurfaceRule(_Model):
    """How PV is laid on one kind of surface (:mod:`roofpv.surfaces.canopies`). Areas are
    plan areas (m²); the PV's plan area is the open area (the drawn outline less the
    building footprints on it) × ``site_share`` (outlines drawn as whole sites, e.g. a
    wastewater plant) capped by ``coverage`` and ``1 − light_transmission`` and by what
    ``min_open_area_m2`` leaves open."""

    tilt_deg: float = Field(ge=0, le=60, description="module tilt of the canopy or cover, deg")
    facing: Literal["south", "long_axis"] = Field(
        "long_axis", description="south: due south; long_axis: rows along the outline's long axis, "
        "tilted towards its side nearer south (canopies follow the parking rows)")
    coverage: float = Field(gt=0, le=1, description="largest share of the open plan area under PV")
    site_share: float = Field(1.0, gt=0, le=1, description="share of an outline drawn as a whole site "
                              "(OSM man_made=wastewater_plant) that is the surface itself (the tanks)")
    light_transmission: float = Field(0.0, ge=0, lt=1, description="share of the plan left clear for "
                                      "daylight (greenhouse roofs, 农光互补)")
    min_open_area_m2: float = Field(0.0, ge=0, description="open area that stays without PV (rural yards)")
    min_area_m2: float = Field(50.0, ge=0, description="smaller open areas are not counted")
    clearance_m: float | None = Field(None, gt=0, description="clear height under the canopy, m")
    shading_loss: float = Field(0.0, ge=0, lt=1, description="annual share of the energy lost to shading")
    temperature_model: str = Field("open_rack", description="key in `temperature_models`")
    category: Category = Field(description="category whose tariff, self-consumption and capex the "
                               "economics use")
    owner_type: OwnerType = "non_natural_person"
    capex_yuan_per_w: float | None = Field(None, gt=0, description="investment, yuan/W; null = the "
                                           "category's (economics.capex_yuan_per_w)")
    source: str = ""


#: Default layout rules per surface type; sources in docs/sources.md §7.
DEFAULT_SURFACE_RULES: dict[str, SurfaceRule] = {
    "carport": SurfaceRule(
        tilt_deg=5, coverage=0.6, min_area_m2=100, clearance_m=2.2, shading_loss=0.05,
        category="commercial", capex_yuan_per_w=3.8,
        source="JGJ 100-2015: car space 2.4 × 5.3 m, aisle 5.5 m → spaces 0.66 of a double-row lot; "
               "clearance 2.2 m (small cars); tilt, shading and capex assumptions"),
    "corridor": SurfaceRule(
        tilt_deg=5, facing="long_axis", coverage=0.9, min_area_m2=20, clearance_m=2.2, shading_loss=0.10,
        category="public_institution", capex_yuan_per_w=4.0,
        source="assumption: covered walkway roof, 90 % of the outline; shading by the buildings it joins"),
    "tank_cover": SurfaceRule(
        tilt_deg=5, facing="south", coverage=0.8, site_share=0.35, min_area_m2=200, shading_loss=0.02,
        category="factory", capex_yuan_per_w=3.6,
        source="assumption: process tanks ≈ 35 % of a plant site, covers carry PV on 80 % of the tanks"),
    "greenhouse": SurfaceRule(
        tilt_deg=25, coverage=0.5, light_transmission=0.7, min_area_m2=100, shading_loss=0.0,
        temperature_model="roof_standoff", category="other",
        source="south slopes = half of a gable roof's plan; PV on at most 30 % of the roof "
               "(Cossu et al. 2014: a 50 % PV roof cut the light by about two thirds); assumption"),
    "rural_yard": SurfaceRule(
        tilt_deg=10, facing="south", coverage=0.5, min_open_area_m2=30, min_area_m2=30, clearance_m=2.5,
        shading_loss=0.10, category="rural_residential", owner_type="natural_person",
        source="assumption: pergola over at most half of the 院落空地, 30 m² kept open"),
}


class SurfaceLayer(_Model):
    """One input layer of surfaces: a file (and layer) whose outlines carry a type column,
    one type for all of them, or OSM-style tags (``amenity``, ``man_made``, ``building``,
    ``landuse``, or vector tiles' ``kind``)."""

    file: Path
    layer: str | None = None
    type: SurfaceType | None = Field(None, description="every outline of the layer is this type")
    type_column: str | None = Field(None, description="column naming each outline's type "
                                    "(carport/车棚, corridor/连廊, tank_cover/污水处理, greenhouse/大棚, rural_yard/院落)")
    id_column: str | None = Field(None, description="column of ids; null = <file stem>#<feature>")
    crs: str | None = Field(None, description="CRS of a file that has none or a wrong one")

    @model_validator(mode="after")
    def _one_way(self) -> SurfaceLayer:
        if self.type is not None and self.type_column is not None:
            raise ValueError("give a surface layer's `type` or its `type_column`, not both")
        return self


class Surfaces(_Model):
    """Surfaces beyond roofs (建筑周边空间): the layers to read and the layout rule per type."""

    layers: list[SurfaceLayer] = Field(default_factory=list)
    rules: dict[SurfaceType, SurfaceRule] = Field(default_factory=lambda: dict(DEFAULT_SURFACE_RULES))

    @model_validator(mode="before")
    @classmethod
    def _rules_over_defaults(cls, data):
        """A config's ``rules`` amend the defaults key by key (``rules: {carport: {tilt_deg: 10}}``)."""
        if isinstance(data, dict) and isinstance(data.get("rules"), dict):
            rules = {k: v.model_dump() for k, v in DEFAULT_SURFACE_RULES.items()}
            for name, values in data["rules"].items():
                rules[name] = {**rules.get(name, {}), **(values or {})}
            data = {**data, "rules": rules}
        return data


class Uncertainty(_Model):
    """Standard deviations of annual energy, % of P50, for P50/P90."""

    inter_annual_pct: float = Field(4.0, ge=0, description="year-to-year variability of annual GHI")
    inter_annual_source: str = "assumption"
    annual_ghi_kwh_m2: list[float] | None = Field(
        None, description="the user's annual GHI of several years; replaces inter_annual_pct")
    transposition_pct: float = Field(2.0, ge=0)
    temperature_pct: float = Field(1.0, ge=0)
    losses_pct: float = Field(2.0, ge=0)
    shading_class_pct: float = Field(3.0, ge=0, description="shading loss set by a survey class or default")
    shading_measured_pct: float = Field(1.5, ge=0, description="shading loss measured on a DSM")


class Monitoring(_Model):
    """Registered PV, metered generation and calibration (roofpv.monitoring.register, roofpv.monitoring.metering)."""

    match_min_score: float = Field(0.6, gt=0, le=1, description="below: a register system stays unmatched")
    match_sure_score: float = Field(0.85, gt=0, le=1, description="below: a match is reported as doubtful")
    capacity_tolerance: float = Field(0.1, ge=0, description="survey vs register kW: relative difference reported")
    min_months: int = Field(6, ge=1, le=12, description="metered months a system needs for a performance ratio")
    underperform_ratio: float = Field(0.8, gt=0, le=1, description="PR below this share of the group median: flagged")
    calibration_min_systems: int = Field(3, ge=2, description="systems a group needs for its own factor")
    calibrate: bool = Field(False, description="multiply potential yields by the calibration factor")
    calibrate_by: Literal["township", "category"] = "township"


Side = Literal["N", "E", "S", "W"]


class FacadeUse(_Model):
    """Which share of a building's walls can carry BIPV, by building category."""

    window_to_wall: dict[Side, float] = Field(description="window share of the wall by side (JGJ 26 sides: "
                                              "N ±60°, E/W 60°–150° from north, S ±30°)")
    other_excluded: float = Field(ge=0, lt=1, description="share of the opaque wall left for balconies, "
                                  "fire-rescue windows, escape stairs, structure")
    ground_floor_excluded: bool = Field(True, description="the ground storey carries no modules")
    source: str = ""

    @field_validator("window_to_wall")
    @classmethod
    def _every_side(cls, value: dict) -> dict:
        missing = set(get_args(Side)) - set(value)
        if missing or not all(0 <= v < 1 for v in value.values()):
            raise ValueError(f"give a window share in [0, 1) for each side N, E, S, W; missing {sorted(missing)}")
        return value


_JGJ26 = {"N": 0.30, "E": 0.35, "S": 0.50, "W": 0.35}
_GB50189 = {"N": 0.70, "E": 0.70, "S": 0.70, "W": 0.70}
#: Usable share of walls by category. The window shares are the national upper limits for
#: the cold zone (寒冷地区) of Shandong's seeds, so the opaque share is a lower bound; in the
#: hot-summer/cold-winter zone JGJ 134-2010 sets N 0.40, E/W 0.35, S 0.45.
DEFAULT_FACADE_USE = {
    "urban_residential": FacadeUse(
        window_to_wall=_JGJ26, other_excluded=0.25,
        source="windows: JGJ 26-2018 cold-zone limits by orientation (N 0.30, E/W 0.35, S 0.50); 25 % of "
               "the rest for balconies, air-conditioner platforms, rescue windows (GB 50016-2014 §7.2.4) "
               "and structure: assumption"),
    "rural_residential": FacadeUse(
        window_to_wall=_JGJ26, other_excluded=0.25,
        source="JGJ 26-2018 cold-zone limits applied to rural houses; 25 % other: assumption"),
    "party_gov": FacadeUse(
        window_to_wall=_GB50189, other_excluded=0.15,
        source="windows: GB 50189-2015 §3.2.2 limit 0.70 per facade (class A public buildings outside the "
               "severe-cold zone); 15 % other (entrances, rescue windows, structure): assumption"),
    "public_institution": FacadeUse(
        window_to_wall=_GB50189, other_excluded=0.15,
        source="GB 50189-2015 §3.2.2 limit 0.70; 15 % other: assumption"),
    "commercial": FacadeUse(
        window_to_wall=_GB50189, other_excluded=0.15,
        source="GB 50189-2015 §3.2.2 limit 0.70; 15 % other: assumption"),
    "factory": FacadeUse(
        window_to_wall={"N": 0.30, "E": 0.30, "S": 0.30, "W": 0.30}, other_excluded=0.10,
        source="assumption: ribbon windows over 30 % of an industrial hall's walls; 10 % doors and structure"),
    "other": FacadeUse(
        window_to_wall={"N": 0.40, "E": 0.40, "S": 0.40, "W": 0.40}, other_excluded=0.20,
        source="assumption"),
}


class Facades(_Model):
    """BIPV on walls (:mod:`roofpv.surfaces.facades`): usable share, modules and shading.
    Lengths in m, angles in degrees."""

    enabled: bool = Field(True, description="model facades (layer `facades`, `facade_kwp` on buildings)")
    power_w_m2: float = Field(150.0, gt=0, description="BIPV nameplate per m² of usable wall, W/m² (glass-glass "
                              "crystalline modules at about 75 % cell cover; a roof module gives ~210)")
    temperature_model: str = Field("insulated_back", description="one of temperature_models: BIPV without "
                                   "rear ventilation (INOCT 63 °C)")
    min_yield_share: float = Field(0.5, ge=0, le=1, description="walls whose shaded yield is below this share of "
                                   "the site's best unshaded wall are not used")
    use: dict[str, FacadeUse] = Field(default_factory=lambda: dict(DEFAULT_FACADE_USE),
                                      description="usable share by building category (`other`: any category "
                                      "not listed); a config's entries are laid over the defaults")
    min_wall_length_m: float = Field(1.0, ge=0, description="shorter footprint edges are no wall")
    party_wall_gap_m: float = Field(0.5, gt=0, description="a footprint this close outside a wall stands "
                                    "against it (hides it up to its height)")
    resolution_m: float = Field(2.0, gt=0, description="cell of the height grid of the extruded footprints")
    n_sectors: int = Field(24, ge=4)
    radius_m: float = Field(60.0, gt=0)
    steps_per_octave: int = Field(4, ge=1)
    sample_spacing_m: float = Field(10.0, gt=0, description="horizon points along a wall at most this far apart")

    @field_validator("use", mode="before")
    @classmethod
    def _over_defaults(cls, value):
        """A config's categories laid over the defaults field by field: it names only
        what it changes (and may add categories)."""
        if not isinstance(value, dict):
            return value
        out = {k: v.model_dump() for k, v in DEFAULT_FACADE_USE.items()}
        for category, rule in value.items():
            both = isinstance(rule, dict) and category in out
            out[category] = {**out[category], **rule} if both else rule
        return out


class Config(_Model):
    inputs: Inputs
    site: Site
    crs: str | None = Field(None, description="projected CRS; null = the DSM's own CRS when it is "
                            "projected in metres, else the CGCS2000 3° Gauss-Krüger zone (UTM outside China)")
    weather: Weather
    module: Module
    system: System
    bins: Bins = Bins()
    mountings: dict[str, Mounting]
    temperature_models: dict[str, TemperatureModel] = Field(
        default_factory=lambda: dict(DEFAULT_TEMPERATURE_MODELS))
    roofs: dict[RoofType, RoofRule]
    rules: Rules
    policy: Policy
    energy: EnergyUse
    grid: GridConnection
    economics: Economics
    carbon: Carbon
    planning: Planning
    dsm: Dsm = Dsm()
    facades: Facades = Facades()
    uncertainty: Uncertainty = Uncertainty()
    monitoring: Monitoring = Monitoring()
    surfaces: Surfaces = Surfaces()
    as_of: dt.date | None = Field(None, description="run date for milestone status; null = today")
    province: Province | None = Field(None, description="several counties in one run; null = one jurisdiction")
    source_path: Path | None = None

    @model_validator(mode="after")
    def _one_townships_source(self) -> Config:
        province = self.province
        if province is not None and province.counties is not None and self.inputs.townships is not None:
            raise ValueError("inputs.townships and province.counties both name townships: with a province, "
                             "give each county's townships layer under province.counties and remove inputs.townships")
        if province is not None and province.counties_layer is not None and self.inputs.townships is None:
            raise ValueError("province.counties_layer places the townships of inputs.townships in counties; "
                             "set inputs.townships to the province's townships layer")
        return self

    @model_validator(mode="after")
    def _references(self) -> Config:
        for roof_type, rule in self.roofs.items():
            if rule.mounting is not None and rule.mounting not in self.mountings:
                raise ValueError(
                    f"roofs.{roof_type}.mounting = {rule.mounting!r} is not one of "
                    f"mountings: {sorted(self.mountings)}"
                )
        for name, mounting in self.mountings.items():
            if mounting.temperature_model not in self.temperature_models:
                raise ValueError(
                    f"mountings.{name}.temperature_model = {mounting.temperature_model!r} is not one of "
                    f"temperature_models: {sorted(self.temperature_models)}"
                )
        for name, rule in self.surfaces.rules.items():
            if rule.temperature_model not in self.temperature_models:
                raise ValueError(
                    f"surfaces.rules.{name}.temperature_model = {rule.temperature_model!r} is not one of "
                    f"temperature_models: {sorted(self.temperature_models)}"
                )
        missing = set(VOCABULARIES["roof_type"]) - set(self.roofs)
        if missing:
            raise ValueError(f"roofs needs a rule for every roof type; missing {sorted(missing)}")
        if self.facades.temperature_model not in self.temperature_models:
            raise ValueError(f"facades.temperature_model = {self.facades.temperature_model!r} is not one of "
                             f"temperature_models: {sorted(self.temperature_models)}")
        return self

    @model_validator(mode="after")
    def _policy_sections(self) -> Config:
        allowed = self.grid.export_modes
        for category, mode in self.economics.mode.items():
            if mode not in allowed.get(category, []):
                raise ValueError(f"economics.mode.{category} = {mode!r} is not allowed by grid.export_modes")
        shared = self.economics.shared_prosperity
        if shared is not None and shared.mode not in allowed.get("non_natural_person_household", []):
            raise ValueError("economics.shared_prosperity.mode is not allowed for non_natural_person_household")
        missing = set(VOCABULARIES["category"]) - set(self.energy.intensity_kwh_m2)
        if missing:
            raise ValueError(f"energy.intensity_kwh_m2 needs every category; missing {sorted(missing)}")
        return self

    @property
    def run_date(self) -> dt.date:
        """``as_of``, else today."""
        return self.as_of or dt.date.today()


#: File paths per section, resolved against the folder of the YAML file that sets them.
_PATH_KEYS = {
    "inputs": ("footprints", "survey", "townships", "register", "meters"), "weather": ("file",), "grid": ("transformers", "topology", "metered_load", "metered_transformer_load"),
    "dsm": ("tiles", "dem", "canopy"),
}
#: Path keys of the items of list sections (``surfaces.layers[*].file``).
_LIST_PATH_KEYS = {("surfaces", "layers"): ("file",)}


def _merge(base: dict, override: dict) -> dict:
    """``override`` laid over ``base``: mappings merge key by key, anything else replaces."""
    out = dict(base)
    for key, value in override.items():
        both = isinstance(value, dict) and isinstance(out.get(key), dict)
        out[key] = _merge(out[key], value) if both else value
    return out


def read_config_text(path: Path) -> str:
    """The text of a config file, in whichever encoding it was saved (UTF-8, GBK as
    Notepad on a Chinese Windows saves, Big5 …; :func:`roofpv.io.encodings.decode`)."""
    try:
        return read_text(path).text
    except EncodingError:
        raise ConfigError(f"{path}: not readable as UTF-8, GBK/GB18030 or Big5 text; save the "
                          "config as UTF-8 (in Notepad: Save as → Encoding UTF-8)") from None


#: libyaml's safe loader where PyYAML was built with it (ten times faster than the
#: pure-Python parser, same data), else the pure-Python one.
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str):
    """The data of a YAML document, parsed by :data:`YAML_LOADER`; a document libyaml
    rejects is parsed again in Python, so the error names the problem and its line as it
    always has."""
    try:
        return yaml.load(text, Loader=YAML_LOADER)
    except yaml.YAMLError:
        if YAML_LOADER is yaml.SafeLoader:
            raise
        return yaml.safe_load(text)


def _read_yaml(path: Path, chain: tuple[Path, ...] = ()) -> dict:
    """One YAML file with its paths resolved, laid over the file it ``extends:``."""
    if path.resolve() in chain:
        raise ConfigError(f"{path}: extends itself (through {', '.join(p.name for p in chain)})")
    try:
        raw = load_yaml(read_config_text(path))
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a folder; give the path of the config's .yaml file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config ({exc.strerror}); check the path and "
                          "its permissions") from None
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" at line {where.line + 1}, column {where.column + 1}" if where else ""
        problem = getattr(exc, "problem", None) or exc
        raise ConfigError(f"{path}: not valid YAML{line}: {problem}; check the indentation and "
                          "quote values that contain ':' or '#'") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of sections at the top level")
    base = path.resolve().parent
    for section, keys in _PATH_KEYS.items():
        values = raw.get(section)
        if isinstance(values, dict):
            for key in keys:
                if values.get(key):
                    values[key] = str((base / Path(values[key])).resolve())
    for (section, key), keys in _LIST_PATH_KEYS.items():
        items = raw.get(section, {}).get(key) if isinstance(raw.get(section), dict) else None
        for item in items if isinstance(items, list) else ():
            for k in keys:
                if isinstance(item, dict) and item.get(k):
                    item[k] = str((base / Path(item[k])).resolve())
    province = raw.get("province")
    if isinstance(province, dict):
        if province.get("counties_layer"):
            province["counties_layer"] = str((base / Path(province["counties_layer"])).resolve())
        for county in province.get("counties") or []:
            if isinstance(county, dict) and county.get("townships"):
                county["townships"] = str((base / Path(county["townships"])).resolve())
    parent = raw.pop("extends", None)
    if parent is None:
        return raw
    return _merge(_read_yaml(base / parent, (*chain, path.resolve())), raw)


def load_config(path: str | Path) -> Config:
    """Read and validate a YAML config; relative paths resolve against the folder of the file.

    A config may start from another with ``extends: other.yaml``: its sections are laid
    over that file's, mappings merging key by key and lists or values replacing.
    """
    path = Path(path)
    raw = _read_yaml(path)
    try:
        return Config.model_validate({**raw, "source_path": path.resolve()})
    except ValidationError as exc:
        lines = [f"{path}: invalid configuration"]
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"])
            lines.append(f"  {where}: {err['msg']}")
        raise ConfigError("\n".join(lines)) from None
