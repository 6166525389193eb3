"""Survey normalisation: Chinese headers and values, units, blemishes reported."""

import numpy as np
import pandas as pd
import pytest

from roofpv.errors import SurveyError
from roofpv.inputs.survey_table import normalise_survey


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


# --- units, decimal commas and plausibility ---------------------------------------


def values(column, cells, header=None):
    df, findings = normalise_survey(raw(**{"建筑编号": [f"B{i}" for i in range(len(cells))],
                                           header or column: cells}), "s.csv", typed=False)
    return df.iloc[:, list(df.columns).index(column_of(column))].tolist(), findings


def column_of(header):
    from roofpv.schema import HEADER_LOOKUP, header_key

    return HEADER_LOOKUP[header_key(header)]


def test_unit_in_the_header_is_honoured():
    used, findings = values("屋面荷载", ["12.2", "2.0千牛/平方米"], header="屋面荷载(kg/m²)")
    assert used == pytest.approx([12.2 / 101.97162, 2.0])
    assert any("cell unit kN/m² differs from the header's kg/m²" in f.problem for f in findings)
    used, _ = values("已装光伏容量", ["0.5", "300kW"], header="已装光伏容量(MW)")
    assert used == pytest.approx([500.0, 300.0])


def test_unknown_header_unit_is_reported():
    used, findings = values("屋面荷载", ["2"], header="屋面荷载(吨每平方米)")
    assert used == [2.0]
    assert any("unit '吨每平方米' in the header not understood" in f.problem for f in findings)


@pytest.mark.parametrize("cell, kn", [("250千克/平方米", 250 / 101.97162), ("300公斤", 300 / 101.97162),
                                      ("2千牛/㎡", 2.0), ("2.5kPa", 2.5), ("2,5", 2.5), ("2，5", 2.5)])
def test_chinese_unit_words_and_decimal_commas(cell, kn):
    used, _ = values("屋面荷载", [cell])
    assert used == pytest.approx([kn])


def test_thousands_separators_stay_thousands():
    used, findings = values("建筑面积", ["1,250", "12,345.5", "2,5"])
    assert used == pytest.approx([1250.0, 12345.5, 2.5])
    assert [f.row for f in findings if "decimal comma" in f.problem] == [4]


@pytest.mark.parametrize("column, cell", [("屋面荷载", "1e9"), ("屋面荷载", "1000000000"),
                                          ("建成年份", "21"), ("建成年份", "1800"), ("建成年份", "2099"),
                                          ("层数", "0"), ("层数", "400"), ("建筑面积", "5000000"),
                                          ("已装光伏容量", "500000")])
def test_implausible_values_are_treated_as_blank_with_a_finding(column, cell):
    used, findings = values(column, [cell])
    assert np.isnan(used[0])
    hit = [f for f in findings if f.problem.startswith("implausible") or "not a number" in f.problem]
    assert hit and hit[0].building_id == "B0" and hit[0].value == cell
    assert "treated as blank" in hit[0].problem or "left blank" in hit[0].problem


def test_unrecognised_headers_name_the_nearest_column():
    _, findings = normalise_survey(raw(**{"建筑编号": ["A"], "屋面荷栽": ["2"], "Roof Colour": ["red"]}), "s.csv")
    unknown = {f.column: f for f in findings if f.problem == "column not recognised; ignored"}
    assert set(unknown) == {"屋面荷栽", "Roof Colour"}
    assert "nearest known column: 屋面荷载 (roof_load_kn_m2)" in unknown["屋面荷栽"].fix


def test_mangled_ids_are_cleaned_and_reported():
    df, findings = normalise_survey(raw(**{"建筑编号": [100006475.0, "Ｂ７", "C\u200b1", " D "]}), "s.xlsx")
    assert df.index.tolist() == ["100006475", "B7", "C1", "D"]
    problems = " | ".join(f.problem for f in findings)
    assert "1 building ids written as a decimal number" in problems
    assert "full-width characters" in problems and "invisible characters" in problems
