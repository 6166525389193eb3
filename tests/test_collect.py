"""Collecting returned forms: newest wins with history, conflicts, new rows, invalid
values with their locations, completeness, and the round trip on the Pinghu sample."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from roofpv.cli import main
from roofpv.config import Target, load_config
from roofpv.fieldwork import completeness
from roofpv.fieldwork.collect import collect
from roofpv.io.form_workbooks import DATA_SHEET, read_form, write_sheets
from roofpv.io.readers import read_survey
from roofpv.schema import LABELS_ZH

from .conftest import ROOT
from .formcases import fill, write_forms

D1, D2, D3 = dt.date(2026, 3, 10), dt.date(2026, 3, 20), dt.date(2026, 3, 25)


@pytest.fixture(scope="module")
def forms(tmp_path_factory):
    return write_forms(tmp_path_factory.mktemp("issued"))


def test_untouched_forms_give_the_known_survey_only(forms):
    merged = collect([read_form(p) for p in forms.values()])
    # A1 and A2 had survey rows; the DSM estimates of A3 and B1 are nobody's answer yet.
    assert list(merged.survey.index) == ["A1", "A2"]
    assert merged.survey.loc["A1", "category"] == "工业厂房"
    assert merged.survey.loc["A1", "shading"] is None  # estimate, not confirmed
    assert merged.history.empty and merged.conflicts.empty and not merged.problems


def test_confirmed_row_takes_its_estimates(forms, tmp_path):
    path = fill(forms["甲镇"], tmp_path / "a.xlsx", {"A3": {"confirmed": "是"}}, "甲镇农办", D1)
    merged = collect([read_form(path)])
    assert merged.survey.loc["A3", "shading"] == "严重"
    assert merged.survey.loc["A3", "floors"] == 2


def test_newest_version_wins_and_history_keeps_both(forms, tmp_path):
    older = fill(forms["甲镇"], tmp_path / "v1.xlsx", {"A4": {"roof_type": "瓦屋面", "roof_load_kn_m2": 0.5}},
                 "甲镇农办", D1)
    newer = fill(forms["甲镇"], tmp_path / "v2.xlsx", {"A4": {"roof_type": "混凝土平屋面"}}, "甲镇农办", D2)
    for order in ([older, newer], [newer, older]):  # any order
        merged = collect([read_form(p) for p in order])
        assert merged.survey.loc["A4", "roof_type"] == "混凝土平屋面"
        assert merged.survey.loc["A4", "roof_load_kn_m2"] == 0.5  # only in v1, still taken
        h = merged.history[(merged.history.building_id == "A4") & (merged.history.column == "roof_type")]
        assert list(h["value"]) == ["瓦屋面", "混凝土平屋面"] and list(h["taken"]) == [False, True]
        assert merged.conflicts.empty  # one office revising its own answer
        assert list(merged.returns["status"]) == ["superseded", "latest"]


def test_conflicting_offices_reported_with_locations(forms, tmp_path):
    a = fill(forms["甲镇"], tmp_path / "a.xlsx", {"A4": {"shading": "无"}}, "甲镇农办", D1)
    b = fill(forms["甲镇"], tmp_path / "b.xlsx", {"A4": {"shading": "严重"}}, "东村村委", D2)
    merged = collect([read_form(b), read_form(a)])
    c = merged.conflicts
    assert set(c["office"]) == {"甲镇农办", "东村村委"}
    assert set(c["column"]) == {"shading"} and (c["building_id"] == "A4").all()
    row = c.set_index("office").loc["甲镇农办"]
    assert (row["file"], row["sheet"], row["row"], row["value"]) == (str(a), DATA_SHEET, 7, "无")
    assert (c["final"] == "严重").all()  # newest wins


def test_new_rows_flagged_for_digitising(forms, tmp_path):
    path = fill(forms["乙街道"], tmp_path / "b.xlsx", {}, "乙街道城建办", D1, new=[
        {"building_id": "新增-01", "name": "村文化礼堂", "category": "村委会", "roof_type": "瓦屋面"},
        {"name": "无编号仓库", "category": "仓储"},
    ])
    merged = collect([read_form(path)])
    new = merged.new_rows.set_index("row")
    assert list(new.index) == [6, 7]
    assert new.loc[6, "building_id"] == "新增-01" and new.loc[6, "township"] == "乙街道"
    assert pd.isna(new.loc[7, "building_id"]) and new.loc[7, "action"] == "补绘建筑轮廓并编号"
    assert merged.survey.loc["新增-01", "category"] == "村委会"
    assert merged.survey.loc["新增-01", "township"] == "乙街道"
    no_id = [f for f in merged.problems if f.row == 7]
    assert no_id and no_id[0].sheet == DATA_SHEET and no_id[0].file == str(path)


def test_invalid_values_reported_and_not_taken(forms, tmp_path):
    path = fill(forms["甲镇"], tmp_path / "a.xlsx", {
        "A2": {"roof_type": "茅草屋面", "roof_load_kn_m2": 15, "year_built": 2031},
        "A4": {"floors": "三层楼", "roof_load_kn_m2": "150kg/m²"},
    }, "甲镇农办", D1)
    merged = collect([read_form(path)])
    found = {(f.building_id, f.column): f for f in merged.problems if f.level != "info"}
    assert set(found) == {("A2", "roof_type"), ("A2", "roof_load_kn_m2"), ("A2", "year_built"),
                          ("A4", "floors"), ("A4", "roof_load_kn_m2")}
    f = found[("A2", "roof_type")]
    assert (f.file, f.sheet, f.row, f.value) == (str(path), DATA_SHEET, 5, "茅草屋面")
    # 15 kN/m² is above the form's 0–10 (the survey reader takes only values above 20 as kg/m²).
    assert "range" in found[("A2", "roof_load_kn_m2")].problem
    assert "not taken" in found[("A2", "roof_load_kn_m2")].problem
    assert found[("A2", "year_built")].row == 5
    s = merged.survey
    assert s.loc["A2", "roof_type"] is None and s.loc["A2", "year_built"] is None
    assert s.loc["A2", "roof_load_kn_m2"] is None
    assert s.loc["A4", "floors"] is None
    assert s.loc["A4", "roof_load_kn_m2"] == pytest.approx(150 / 101.97, rel=1e-3)  # converted, reported
    assert "taken as converted" in found[("A4", "roof_load_kn_m2")].problem


def test_completeness_on_a_hand_made_case():
    issued = pd.DataFrame({"township": ["甲"] * 4 + ["乙"] * 2, "form": ["F1"] * 4 + ["F2"] * 2},
                          index=pd.Index(["a", "b", "c", "d", "e", "f"], name="building_id"))
    full = {"category": "factory", "year_built": 2022, "roof_type": "concrete_flat",
            "roof_load_kn_m2": 1.0, "shading": "none", "grid_condition": "ready"}
    survey = pd.DataFrame([
        full,                                     # a: complete, in the cohort
        {**full, "roof_load_kn_m2": np.nan},      # b: in the cohort, load missing
        {**full, "category": "rural_residential", "shading": "severe"},  # c: not in the cohort
        {**full, "year_built": 2010},             # e: factory but old
    ], index=pd.Index(["a", "b", "c", "e"], name="building_id"))
    measured = pd.Series({"a": "none", "b": "light", "c": "none", "e": None, "f": "severe"})
    status = completeness.building_status(issued, survey, measured)
    target = Target(name="new_factory", label="新建厂房", categories=["factory"], built_since=2021,
                    metric="count", milestones={2025: 0.3}, source="test")
    table = completeness.summary(status, [target], ["甲", "乙"])
    assert list(table.index) == ["甲", "乙", completeness.TOTAL]
    assert table.loc["甲", ["buildings", "surveyed", "complete"]].tolist() == [4, 3, 2]
    assert table.loc["甲", "surveyed_share"] == 0.75
    assert table.loc["甲", "new_factory_cohort"] == 2 and table.loc["甲", "new_factory_complete"] == 1
    assert table.loc["甲", "new_factory_complete_share"] == 0.5
    assert table.loc["乙", ["buildings", "surveyed", "complete", "new_factory_cohort"]].tolist() == [2, 1, 1, 0]
    assert table.loc["乙", "cohort_unknown"] == 1  # f: no survey, cannot be placed
    # c: surveyed 严重, DSM 无 → check; b: 无 vs 轻微 is one class; f: not surveyed.
    assert list(status.index[status["field_check"]]) == ["c"]
    assert table.loc[completeness.TOTAL, "field_check"] == 1
    shares = completeness.column_shares(status, ["甲", "乙"])
    assert shares.loc["甲", "roof_load_kn_m2"] == 0.5 and shares.loc["乙", "roof_type"] == 0.5
    forms = pd.DataFrame({"township": ["甲", "乙", "丙"], "buildings": [4, 2, 3], "issued": "2026-03-01"},
                         index=pd.Index(["F1", "F2", "F3"], name="form"))
    returns = pd.DataFrame({"form": ["F1", "F1", "F2"], "office": ["x", "y", "z"],
                            "filled": pd.to_datetime(["2026-03-10", "2026-04-20", "2026-03-02"])})
    state = completeness.form_status(forms, returns, dt.datetime(2026, 4, 30), 30)
    assert state["status"].tolist() == ["returned", "stale", "missing"]
    assert state.loc["F1", "returns"] == 2 and state.loc["F1", "senders"] == "x、y"


def test_unreadable_workbook_is_a_message(tmp_path, capsys):
    bad = tmp_path / "not_a_form.xlsx"
    write_sheets(bad, {"x": pd.DataFrame({"a": [1]})})
    assert main(["collect", str(bad), "--out", str(tmp_path / "s.xlsx")]) == 2
    assert "not a roofpv survey form" in capsys.readouterr().err


def _sample_display(survey: pd.DataFrame) -> dict[str, dict[str, object]]:
    """The sample survey's canonical values as a surveyor writes them into a form."""
    shown = survey.copy()
    for column, labels in LABELS_ZH.items():
        if column in shown:
            shown[column] = shown[column].map(labels)
    shown = shown.astype(object).where(shown.notna(), None)
    return {bid: {**row, "confirmed": "是"} for bid, row in shown.to_dict("index").items()}


@pytest.mark.slow
def test_round_trip_reproduces_the_sample_survey(tmp_path):
    """Forms of the sample without its survey → filled with the sample survey by the test
    (the orphan survey row XC00425 as a new row) → collect → the survey reader gives the
    sample survey back, value for value."""
    from roofpv.fieldwork.forms import make_forms
    from roofpv.io.form_workbooks import write_form
    from roofpv.run.pipeline import survey_roofs

    config = load_config(ROOT / "configs" / "pinghu.yaml")
    sample, _ = read_survey(config.inputs.survey, config.inputs.survey_sheet)
    blank = config.model_copy(update={
        "inputs": config.inputs.model_copy(update={"survey": None}),
        "dsm": config.dsm.model_copy(update={"tiles": None}),
    })
    inventory, b = survey_roofs(blank)
    order = list(inventory.township_polygons.index)
    values = _sample_display(sample)
    returned = []
    for form in make_forms(b, 3.0, "2026-11-01", order):
        issued = tmp_path / "issued" / f"{form.file_name}.xlsx"
        write_form(issued, form, "平湖市")
        mine = {bid: v for bid, v in values.items() if bid in form.values.index}
        for row in mine.values():
            row.pop("township")
        new = [{"building_id": bid, **{k: v for k, v in row.items() if k != "township"}}
               for bid, row in values.items()
               if bid not in b.index and row["township"] == form.township]
        returned.append(fill(issued, tmp_path / "returned" / issued.name, mine, "农办", dt.date(2026, 11, 20), new))
    out = tmp_path / "survey.xlsx"
    assert main(["collect", str(tmp_path / "returned"), "--out", str(out), "--as-of", "2026-11-30",
                 "--quiet"]) == 0
    back, findings = read_survey(out, "屋顶普查")
    assert sorted(back.index) == sorted(sample.index)
    back = back.loc[sample.index]
    # The form's locked township fills the cells the sample left blank (taken from location).
    blank_town = sample["township"].isna()
    assert blank_town.sum() == 5
    expected = sample.copy()
    expected.loc[blank_town, "township"] = b.loc[sample.index[blank_town], "township"].to_numpy()
    pd.testing.assert_frame_equal(back, expected, check_dtype=False)
    assert not [f for f in findings if f.level != "info"]
    new = pd.read_excel(out, sheet_name="新增建筑", engine="calamine")
    assert new["建筑编号 building id"].tolist() == ["XC00425"]


@pytest.mark.slow
def test_collect_the_sample_returns(tmp_path):
    """`roofpv collect` on data/sample/forms: every problem the sample was given is found."""
    forms = ROOT / "data" / "sample" / "forms"
    out = tmp_path / "survey.xlsx"
    assert main(["collect", str(forms), "--issued", str(forms), "--out", str(out),
                 "--as-of", "2026-03-31"]) == 0
    sheets = pd.read_excel(out, sheet_name=None, engine="calamine")
    status = sheets["表单状态"].set_index("表单 form")["状态 status"]
    assert status["乍浦镇"] == "missing" and status["林埭镇"] == "stale"
    assert (status.drop(["乍浦镇", "林埭镇"]) == "returned").all()
    conflicts = sheets["冲突"]
    assert set(conflicts["填报单位 office"]) == {"钟埭街道农办", "钟埭街道南桥村委会"}
    assert conflicts["建筑编号 building id"].str.startswith("ZD").all()
    new = sheets["新增建筑"]
    assert new["文件 file"].str.endswith(("03-曹桥街道.xlsx", "06-新仓镇.xlsx")).all() and len(new) == 2
    problems = sheets["问题"]
    invalid = problems[problems["级别 level"] == "warning"]
    assert set(invalid["列 column"]) >= {"roof_type", "roof_load_kn_m2", "year_built"}
    assert invalid["行 row"].notna().all() and (invalid["工作表 sheet"] == DATA_SHEET).all()
    returns = sheets["报送文件"].set_index("文件 file")["状态 status"]
    assert returns[str(forms / "01-当湖街道-第1版.xlsx")] == "superseded"
    summary = sheets["完成情况"].set_index("镇街道 township")
    assert summary.loc["乍浦镇", "已调查 surveyed"] == 0
    survey, _ = read_survey(out, "屋顶普查")
    assert len(survey) == summary.loc["合计", "已调查 surveyed"]


def test_completeness_of_an_assessed_run():
    """The report's section reads completeness from a run's buildings: survey-sourced
    values only (a default roof type is not a surveyed one)."""
    b = pd.DataFrame({
        "township": ["甲", "甲", "乙"], "has_survey": [True, True, False],
        "category": ["factory", "factory", None], "year_built": [2022, 2023, np.nan],
        "roof_type": ["concrete_flat", "metal_trapezoidal", "concrete_flat"],
        "roof_type_source": ["survey", "default", "default"], "roof_load_kn_m2": [1.0, 1.0, np.nan],
        "shading": ["none", "none", None], "shading_source": ["survey", "survey", "default"],
        "grid_condition": ["ready", "ready", None], "field_check": [False, True, False],
    }, index=pd.Index(["a", "b", "c"], name="building_id"))
    target = Target(name="t", label="t", categories=["factory"], built_since=2021, metric="count",
                    milestones={2025: 0.3}, source="test")
    table = completeness.summary(completeness.from_buildings(b), [target], ["甲", "乙"])
    assert table.loc["甲", ["buildings", "surveyed", "complete", "t_cohort", "t_complete", "field_check"]
                     ].tolist() == [2, 2, 1, 2, 1, 1]
    assert table.loc["乙", ["surveyed", "complete"]].tolist() == [0, 0]


@pytest.mark.slow
def test_report_has_the_survey_section(pinghu_results, config):
    from roofpv import report

    files = report.make(report.from_results(pinghu_results, config), config, "zh")
    index = files["index.html"].decode()
    assert "普查完成情况" in index and "需现场复核" in index
    files = report.make(report.from_results(pinghu_results, config), config, "en")
    assert "Survey completeness" in files["index.html"].decode()


def test_date_typed_as_text_orders_the_versions(forms, tmp_path):
    """A 填报日期 typed as text (2026年3月20日) still orders the returns; without a date the
    file time counts."""
    newer = fill(forms["甲镇"], tmp_path / "n.xlsx", {"A4": {"shading": "部分"}}, "甲镇农办", "2026年3月20日")
    older = fill(forms["甲镇"], tmp_path / "o.xlsx", {"A4": {"shading": "轻微"}}, "甲镇农办", D1)
    undated = fill(forms["甲镇"], tmp_path / "u.xlsx", {"A4": {"shading": "无"}}, "甲镇农办")
    r = read_form(undated)
    assert r.filled_from == "file time"
    merged = collect([read_form(newer), read_form(older)])
    assert merged.survey.loc["A4", "shading"] == "部分"
    assert read_form(newer).filled == dt.datetime(2026, 3, 20)


def test_collect_survey_from_python(tmp_path):
    """The library entry points give what `roofpv collect` writes and prints, without the
    command line: the README's figures for the sample returns (10 forms, 2,245 buildings
    surveyed, 12 conflicting cells, 乍浦 missing, 林埭 stale)."""
    from roofpv import collect_survey, read_issued, read_returns

    folder = ROOT / "data" / "sample" / "forms"
    config = load_config(ROOT / "configs" / "pinghu.yaml")
    returns, unreadable = read_returns([folder])
    assert len(returns) == 10 and unreadable == []
    listing = read_issued(folder)
    assert listing.index.name == "building_id" and listing.index.is_unique
    survey = collect_survey(returns, config, dt.datetime(2026, 3, 31), listing, unreadable)
    assert survey.forms_read == 10 and len(survey.merged.survey) == 2245 and survey.conflicting_cells == 12
    assert survey.forms.loc["乍浦镇", "status"] == completeness.MISSING
    assert survey.forms.loc["林埭镇", "status"] == completeness.STALE
    assert survey.townships.loc[completeness.TOTAL, "buildings"] == 3450
    assert list(survey.sheets) == ["屋顶普查", "完成情况", "各列完成率", "表单状态", "修改记录", "冲突",
                                   "新增建筑", "问题", "报送文件", "现场复核"]
    # without the listing only the returned forms count: none is missing
    returned_only = collect_survey(returns, config, dt.datetime(2026, 3, 31))
    assert (returned_only.forms["status"] != completeness.MISSING).all()
    assert "乍浦镇" not in returned_only.forms.index


def test_read_returns_and_issued_name_what_is_wrong(tmp_path):
    from roofpv.errors import ConfigError, FormError
    from roofpv.io.form_workbooks import read_issued, read_returns

    bad = tmp_path / "not_a_form.xlsx"
    write_sheets(bad, {"x": pd.DataFrame({"a": [1]})})
    with pytest.raises(FormError, match="no readable form among .*not_a_form.xlsx: not a roofpv survey form"):
        read_returns([tmp_path])
    with pytest.raises(ConfigError, match=r"forms_issued.csv: not found; pass the forms folder"):
        read_issued(tmp_path)


def test_collect_workbook_written_atomically(tmp_path, monkeypatch):
    """A collect stopped while writing leaves the earlier workbook as it was and no
    temporary file."""
    from openpyxl import Workbook

    out = tmp_path / "survey.xlsx"
    write_sheets(out, {"earlier": pd.DataFrame({"a": [1]})})
    before = out.read_bytes()

    save = Workbook.save

    def broken(self, filename):  # written, then the disk fills before the move
        save(self, filename)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Workbook, "save", broken)
    with pytest.raises(Exception, match="No space left"):
        write_sheets(out, {"later": pd.DataFrame({"a": [2]})})
    assert out.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["survey.xlsx"]


def test_filled_in_tells_a_returned_form_from_an_issued_one(forms, tmp_path):
    from roofpv.fieldwork.collect import filled_in

    issued = next(iter(forms.values()))
    assert not filled_in(read_form(issued))
    bid = read_form(issued).issued.index[0]
    assert filled_in(read_form(fill(issued, tmp_path / "office.xlsx", {}, office="农办")))
    assert filled_in(read_form(fill(issued, tmp_path / "edit.xlsx", {bid: {"roof_load_kn_m2": 3.5}})))
    assert filled_in(read_form(fill(issued, tmp_path / "ok.xlsx", {bid: {"confirmed": "是"}})))
