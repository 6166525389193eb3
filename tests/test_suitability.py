"""Suitability rules: each finding gives its reason code and the worst sets the status."""

import numpy as np
import pandas as pd
import pytest

from roofpv.appraise.suitability import classify, reason_masks
from roofpv.schema import REASONS


def building(**overrides):
    """A suitable 500 m² concrete flat roof (ballast 0.6 kN/m², spare 2.0 kN/m²)."""
    row = dict(
        geometry_valid=True, has_survey=True, roof_type_surveyed="concrete_flat",
        roof_type="concrete_flat", roof_load_kn_m2=2.0, dead_load_kn_m2=0.6, shading="none",
        grid_condition="ready", category="factory", existing_pv_kw=np.nan,
        existing_pv_area_m2=0.0, roof_area_m2=500.0, layout_kwp=60.0,
        north_plane_unused=False, township_source="survey",
    )
    row.update(overrides)
    return row


def run(*rows, config):
    return classify(pd.DataFrame(list(rows)), config.rules)


def test_every_reason_code_has_a_rule(config):
    masks = reason_masks(pd.DataFrame([building()]), config.rules)
    assert set(masks) == set(REASONS)


def test_plain_roof_is_suitable_without_reasons(config):
    out = run(building(), config=config)
    assert out.suitability.tolist() == ["suitable"] and out.reasons.tolist() == [""]


def test_load_below_mounting_dead_load_is_unsuitable(config):
    out = run(building(roof_load_kn_m2=0.5), building(roof_load_kn_m2=0.6), config=config)
    assert out.suitability.tolist() == ["unsuitable", "suitable"]
    assert out.reasons[0] == "roof_load"


@pytest.mark.parametrize(
    "overrides, status, reasons",
    [
        (dict(roof_load_kn_m2=np.nan), "conditional", "roof_load_unknown"),
        (dict(shading="moderate"), "conditional", "shading_moderate"),
        (dict(shading="severe"), "unsuitable", "shading_severe"),
        (dict(shading=np.nan), "suitable", "shading_unknown"),
        (dict(grid_condition="none"), "conditional", "grid_none"),
        (dict(roof_type="sunroom", roof_type_surveyed="sunroom", dead_load_kn_m2=np.nan),
         "unsuitable", "roof_type_sunroom"),
        (dict(roof_area_m2=8.0, layout_kwp=0.0), "unsuitable", "area_too_small"),
        (dict(layout_kwp=0.58), "unsuitable", "capacity_too_small"),
        (dict(existing_pv_kw=30.0), "suitable", "existing_pv"),
        (dict(has_survey=False, roof_type_surveyed=np.nan, shading=np.nan, grid_condition=np.nan),
         "conditional", "no_survey_record;shading_unknown;grid_unknown"),
        (dict(geometry_valid=False, layout_kwp=0.0), "unsuitable", "invalid_geometry"),
        (dict(shading="moderate", roof_load_kn_m2=0.1), "unsuitable", "roof_load;shading_moderate"),
    ],
)
def test_rules(config, overrides, status, reasons):
    out = run(building(**overrides), config=config)
    assert (out.suitability[0], out.reasons[0]) == (status, reasons)
