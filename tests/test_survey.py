"""Survey normalisation: Chinese headers and values, units, blemishes reported."""

import numpy as np
import pandas as pd
import pytest

from roofpv.survey import SurveyError, normalise_survey


def raw(**columns):
    return pd.DataFrame(columns, dtype=object)


def test_chinese_headers_and_values_become_canonical():
    df, findings = normalise_survey(raw(**{
        "建筑编号": ["A1", "A2"],
        "镇街道": ["当湖街道", "乍浦镇"],
        "建筑类别": ["学校", "工业厂房"],
        "权属": ["非自然人", "非自然人"],
        "屋面类型": ["混凝土平屋面", "梯形彩钢瓦"],
        "屋面荷载(kN/m²)": [2.0, 0.3],
        "遮挡情况": ["无", "部分"],
        "并网条件": ["具备", "受限"],
        "建成年份": [2022, 2015],
    }), "s.xlsx")
    assert findings == []
    assert df.loc["A1", "category"] == "public_institution"
    assert df.loc["A2", ["roof_type", "shading", "grid_condition"]].tolist() == [
        "metal_trapezoidal", "moderate", "limited"]
    assert df.loc["A2", "roof_load_kn_m2"] == 0.3
    assert np.isnan(df.loc["A1", "existing_pv_kw"])  # absent column → NaN


def test_blemishes_are_repaired_and_reported_with_row_and_column():
    df, findings = normalise_survey(raw(**{
        "建筑编号": ["B1", "B2", "B3", "B4"],
        "屋面类型": [" 混凝土平屋面 ", "瓦屋面", "混泥土平屋面", None],
        "屋面荷载（kN/m²）": ["150kg/m²", 200, "1.5", None],
        "建成年份": ["'2019", 2001, 2002, 2003],
    }), "s.xlsx", sheet="屋顶普查")
    # 150 kg/m² and a bare 200 (kg/m², implausible in kN/m²) → kN/m²; "1.5" text → 1.5
    assert df["roof_load_kn_m2"].tolist()[:3] == pytest.approx([150 / 101.97, 200 / 101.97, 1.5], rel=1e-3)
    assert df.loc["B1", "roof_type"] == "concrete_flat"
    assert df.loc["B1", "year_built"] == 2019
    assert pd.isna(df.loc["B3", "roof_type"])  # misspelt: left blank, suggestion given
    by_cell = {(f.row, f.column): f for f in findings}
    assert by_cell[(2, "roof_type")].problem == "stray spaces around the value"
    assert "kg/m²" in by_cell[(2, "roof_load_kn_m2")].problem
    assert "implausible" in by_cell[(3, "roof_load_kn_m2")].problem
    assert by_cell[(4, "roof_type")].level == "warning"
    assert "混凝土平屋面" in by_cell[(4, "roof_type")].fix
    assert by_cell[(2, "year_built")].problem == "number stored as text"
    assert all(f.sheet == "屋顶普查" and f.file == "s.xlsx" for f in findings)


def test_missing_and_duplicate_ids_are_reported_not_used():
    df, findings = normalise_survey(raw(建筑编号=["C1", None, "C1", " C2 "], 层数=[1, 2, 3, 4]), "s.csv")
    assert df.index.tolist() == ["C1", "C2"]
    assert df.loc["C1", "floors"] == 1
    assert sorted((f.row, f.level) for f in findings) == [(3, "error"), (4, "error")]


def test_no_id_column_is_a_clear_error():
    with pytest.raises(SurveyError, match="no building id column"):
        normalise_survey(raw(名称=["x"]), "s.xlsx")
