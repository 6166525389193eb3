"""Survey CSV at scale: every cell of a CSV is text, and each distinct value is parsed once."""

import pandas as pd
import pytest

from roofpv.io.readers import read_survey


def test_csv_numbers_are_not_reported_as_text_and_repeated_problems_are_reported_per_row(tmp_path):
    path = tmp_path / "survey.csv"
    pd.DataFrame({
        "建筑编号": ["A1", "A2", "A3", "A4"],
        "屋面荷载": ["2.0", "200kg/m²", "abc", "200kg/m²"],
        "屋面类型": ["混凝土平屋面", "玻璃屋顶", "混凝土平屋面", "玻璃屋顶"],
        "建成年份": ["2020", "2021", "", "2021"],
    }).to_csv(path, index=False)
    survey, findings = read_survey(path)
    assert survey["roof_load_kn_m2"].tolist()[:2] == pytest.approx([2.0, 200 * 9.80665e-3])
    assert pd.isna(survey.at["A3", "roof_load_kn_m2"])
    assert survey["year_built"].tolist()[:2] == [2020.0, 2021.0]
    assert not [f for f in findings if f.problem == "number stored as text"]
    reported = [(f.row, f.building_id, f.column) for f in findings if f.level == "warning"]
    assert reported == [  # columns in canonical order, rows in file order
        (3, "A2", "roof_type"), (5, "A4", "roof_type"),
        (3, "A2", "roof_load_kn_m2"), (4, "A3", "roof_load_kn_m2"), (5, "A4", "roof_load_kn_m2"),
    ]
