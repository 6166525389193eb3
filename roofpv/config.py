"""Typed run configuration, loaded from one YAML file per jurisdiction.

Every number a survey depends on lives here, with its default; the YAML files in
``configs/`` carry the source of each default as a comment. Relative paths in a
config are resolved against the folder of the YAML file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .schema import REASONS, VOCABULARIES

Severity = Literal["unsuitable", "conditional", "info"]
RoofType = Literal[
    "concrete_flat", "metal_standing_seam", "metal_trapezoidal", "tile_pitched", "sunroom", "other"
]
Category = Literal[
    "party_gov", "public_institution", "factory", "commercial",
    "urban_residential", "rural_residential", "other",
]


class ConfigError(ValueError):
    """A configuration file that cannot be used; the message says where and why."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Inputs(_Model):
    footprints: Path
    footprints_layer: str | None = None
    footprints_id_column: str = "building_id"
    survey: Path | None = None
    survey_sheet: str | int = 0
    townships: Path | None = None
    townships_layer: str | None = None
    townships_name_column: str = "township"


class Site(_Model):
    name: str
    latitude: float = Field(ge=-60, le=70, description="deg N")
    longitude: float = Field(ge=-180, le=180, description="deg E")
    altitude_m: float = 0.0
    timezone: str = "Asia/Shanghai"


class MonthlyClimate(_Model):
    ghi_kwh_m2: list[float] = Field(min_length=12, max_length=12)
    temp_air_c: list[float] = Field(min_length=12, max_length=12)
    wind_m_s: list[float] = Field(min_length=12, max_length=12)

    @field_validator("ghi_kwh_m2")
    @classmethod
    def _positive(cls, v: list[float]) -> list[float]:
        if min(v) <= 0:
            raise ValueError("monthly GHI must be positive (kWh/m² per month)")
        return v


class Weather(_Model):
    monthly: MonthlyClimate
    seed: int = 0


class Module(_Model):
    length_m: float = Field(gt=0)
    width_m: float = Field(gt=0)
    power_w: float = Field(gt=0)
    gamma_pdc_per_c: float = Field(lt=0)
    gap_m: float = Field(0.02, ge=0)

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


class Target(_Model):
    name: str
    label: str
    categories: list[Category]
    built_since: int | None = Field(None, description="year; null = every building")
    metric: Literal["area_total", "area_installable", "count"] = "area_total"
    milestones: dict[int, float]
    source: str

    @field_validator("milestones")
    @classmethod
    def _ratios(cls, v: dict[int, float]) -> dict[int, float]:
        if any(not 0 < x <= 1 for x in v.values()):
            raise ValueError("milestone ratios are fractions in (0, 1]")
        return dict(sorted(v.items()))


class Policy(_Model):
    targets: list[Target] = Field(min_length=1)
    category_ratios: dict[Category, float] = Field(default_factory=dict)


class Config(_Model):
    inputs: Inputs
    site: Site
    crs: str | None = Field(None, description="projected CRS; null = CGCS2000 3° Gauss-Krüger zone")
    weather: Weather
    module: Module
    system: System
    bins: Bins = Bins()
    mountings: dict[str, Mounting]
    roofs: dict[RoofType, RoofRule]
    rules: Rules
    policy: Policy
    source_path: Path | None = None

    @model_validator(mode="after")
    def _references(self) -> "Config":
        for roof_type, rule in self.roofs.items():
            if rule.mounting is not None and rule.mounting not in self.mountings:
                raise ValueError(
                    f"roofs.{roof_type}.mounting = {rule.mounting!r} is not one of "
                    f"mountings: {sorted(self.mountings)}"
                )
        missing = set(VOCABULARIES["roof_type"]) - set(self.roofs)
        if missing:
            raise ValueError(f"roofs needs a rule for every roof type; missing {sorted(missing)}")
        return self


def load_config(path: str | Path) -> Config:
    """Read and validate a YAML config; relative input paths resolve against its folder."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of sections at the top level")
    base = path.resolve().parent
    inputs = raw.get("inputs")
    if isinstance(inputs, dict):
        for key in ("footprints", "survey", "townships"):
            if inputs.get(key):
                inputs[key] = str((base / Path(inputs[key])).resolve())
    try:
        return Config.model_validate({**raw, "source_path": path.resolve()})
    except ValidationError as exc:
        lines = [f"{path}: invalid configuration"]
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"])
            lines.append(f"  {where}: {err['msg']}")
        raise ConfigError("\n".join(lines)) from None
