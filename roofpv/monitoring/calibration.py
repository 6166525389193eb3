"""Monitoring: PV registered with the grid company, metered generation and the pace of
progress they show, applied to the assessed buildings (pure: the files are read by
:mod:`roofpv.io.register_files`)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from roofpv.config import Config
from roofpv.energy import solar
from roofpv.findings import Finding
from roofpv.monitoring import metering, register
from roofpv.run.stages import appraise
from roofpv.schema import CITY, MONTHLY_FIELDS
from roofpv.targets.policy import energy, observed_pace


def apply_register(b: gpd.GeoDataFrame, table: pd.DataFrame, config: Config, path: str
                   ) -> tuple[gpd.GeoDataFrame, pd.DataFrame, list[Finding]]:
    """Existing PV from the grid company's register (``table``, as
    :func:`roofpv.io.register_files.read_register` reads it from ``path``) where its systems
    match buildings: the buildings, the matches and the findings."""
    matches, found = register.match(table, b, config.monitoring, path)
    b, disagree = register.apply(b, matches, config.monitoring, path)
    return b, matches, found + disagree


def calibrate(b: pd.DataFrame, meters: pd.DataFrame, matches: pd.DataFrame, config: Config,
              tables: dict[str, solar.YieldTable], path: str
              ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, list[Finding], dict[str, str]]:
    """Performance ratio of every metered system (``meters`` as
    :func:`roofpv.io.register_files.read_meters` reads them from ``path``), the calibration
    factors and, with ``monitoring.calibrate``, potential yields (and what follows from
    them) calibrated. Returns the buildings, the performance and calibration tables,
    the findings and the ``run_info`` items."""
    cfg = config.monitoring
    findings: list[Finding] = []
    models = {k: m.temperature_model for k, m in config.mountings.items()}
    model = metering.modelled(matches, b, metering.monthly_specific(b, tables, models))
    first = matches.dropna(subset=["building_id"]).drop_duplicates("system_id").set_index("system_id")["building_id"]
    systems = b[["township", "category"]].reindex(first.to_numpy()).set_index(first.index)
    perf = metering.performance(meters, model, systems, cfg)
    unknown = sorted(set(meters["system_id"]) - set(model.index))
    if unknown:
        findings.append(Finding("warning", path, None, None, "system_id", ", ".join(unknown[:5]),
                                f"{len(unknown)} metered systems are not matched to a building",
                                "check the 户号 against the register"))
    calib = metering.calibration(perf, cfg)
    c = calib.iloc[0]
    info = {"metered systems": f"{len(perf)} ({int(perf['underperforming'].sum())} underperforming)",
            "calibration factor (all systems)": f"{c['factor']:.3f} ± {c['uncertainty']:.3f} "
            f"(median metered ÷ modelled, bootstrap SE, {int(c['systems'])} systems)"}
    if cfg.calibrate and perf["performance_ratio"].notna().any():
        factor = metering.factors(b, calib, cfg.calibrate_by)
        # P50, P90 and the monthly split scale alike.
        kwh = [c for c in ("annual_kwh", "annual_kwh_p90", *MONTHLY_FIELDS[:12]) if c in b]
        b = b.assign(**{c: b[c].mul(factor) for c in kwh})
        b = energy(appraise(b, config), config.energy)
        info["calibration applied"] = (f"potential yields × factor of the {cfg.calibrate_by} "
                                       f"(range {factor.min():.3f}–{factor.max():.3f})")
    else:
        info["calibration applied"] = "no (monitoring.calibrate: false)"
    return b, perf.reset_index(names="system_id"), calib, findings, info


def registered_pace(b: pd.DataFrame, config: Config, matches: pd.DataFrame, as_of) -> dict[str, pd.Series]:
    """Coverage added in the year before ``as_of`` by registered systems, per target and
    township (with the whole-city row): the observed pace of :mod:`roofpv.targets.milestones`."""
    year_ago = pd.Timestamp(as_of) - pd.DateOffset(years=1)
    kw = register.registered_kw(matches, b.index, before=year_ago)
    from_register = b["existing_pv_source"] == "register"
    before_kw = b["existing_pv_kw"].where(~from_register, kw.fillna(0.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        share = (before_kw / b["existing_pv_kw"]).where(b["existing_pv_kw"] > 0, 0.0).fillna(0.0)
    ago = energy(b.assign(existing_pv_kw=before_kw, existing_pv_area_m2=b["existing_pv_area_m2"] * share),
                 config.energy)
    out = {}
    for target in config.policy.targets:
        towns = observed_pace(b, ago, target)
        city = observed_pace(b.assign(township=CITY), ago.assign(township=CITY), target)
        out[target.name] = pd.concat([towns, city])
    return out
