import dataclasses
import datetime as dt

import pandas as pd
import pyogrio
import pytest

from roofpv.cli import main
from roofpv.io.outputs import read_outputs, run_date, write_outputs
from roofpv.schema import CITY
from roofpv.targets import planning
from roofpv.targets.compare import building_changes, page, targets_of, township_changes
from roofpv.targets.policy import township_summary, with_status

LATER = dt.date(2027, 11, 30)


@pytest.fixture(scope="module")
def later_out(tmp_path_factory, pinghu_results, config):
    """The sample a year later: ten factories without PV now carry registered systems and
    one building's suitability changed; the township table is recomputed from them."""
    b = pinghu_results.buildings.copy()
    free = b[(b["category"] == "factory") & (b["existing_pv_kw"].fillna(0) == 0) & (b["capacity_kwp"] > 50)]
    new = free.groupby("township").head(2).index[:10]
    kw = (b.loc[new, "capacity_kwp"] / 2).round(1)
    b.loc[new, "existing_pv_kw"] = kw
    b.loc[new, "existing_pv_area_m2"] = b.loc[new, "pv_area_m2"] / 2
    b.loc[new, "existing_pv_source"] = "register"
    flipped = b.index[(b["suitability"] == "conditional")][0]
    b.loc[flipped, "suitability"] = "suitable"
    b.loc[flipped, "reasons"] = ""
    b.loc[flipped, "name"] = "=HYPERLINK(\"x\")<b>"
    policy = config.policy
    towns = pd.concat([township_summary(b, policy), township_summary(b.assign(township=CITY), policy)])
    towns = with_status(towns.join(planning.wide(pinghu_results.plan_status)), pinghu_results.plan_status,
                        policy, LATER, config.planning.start_year)
    info = pinghu_results.run_info.copy()
    info.loc[info["item"] == "milestone status as of", "value"] = LATER.isoformat()
    later = dataclasses.replace(pinghu_results, buildings=b, townships=towns, run_info=info)
    out = tmp_path_factory.mktemp("later") / "pinghu"
    write_outputs(later, out, plan=True)
    return out, new, kw, flipped


def test_building_changes_name_each_change_and_why(pinghu_plan_out, later_out):
    out, new, kw, flipped = later_out
    old, now = read_outputs(pinghu_plan_out), read_outputs(out)
    changes = building_changes(old["buildings"], now["buildings"])
    assert set(changes.index) == {*new, flipped}
    assert (changes.loc[new, "change"] == "new_pv").all()
    assert changes.loc[new, "kw_added"].to_numpy() == pytest.approx(kw.to_numpy())
    assert changes.loc[new[0], "why"] == f"new PV {kw.iloc[0]:,.1f} kW (register)"
    assert changes.loc[flipped, "change"] == "suitability_changed"
    assert changes.loc[flipped, "why"].startswith("conditional → suitable (−")


def test_township_and_city_change(pinghu_plan_out, later_out):
    out, new, kw, _ = later_out
    old, now = read_outputs(pinghu_plan_out), read_outputs(out)
    for run, folder in ((old, pinghu_plan_out), (now, out)):
        run.update(folder=str(folder), as_of=run_date(folder))
    assert now["as_of"] == LATER
    changes = building_changes(old["buildings"], now["buildings"])
    table = township_changes(old, now, changes, CITY)
    assert table.loc[CITY, "new_systems"] == 10
    assert table.loc[CITY, "kw_added"] == pytest.approx(kw.sum())
    assert table.loc[CITY, "systems_new"] - table.loc[CITY, "systems_old"] == 10
    per_town = now["buildings"].loc[new, "township"].value_counts()
    assert table.loc[per_town.index, "new_systems"].tolist() == per_town.tolist()
    name = next(iter(targets_of(now["townships"])))
    years = (LATER - old["as_of"]).days / 365.25
    city = table.loc[CITY]
    assert city[f"{name}_points"] > 0
    assert city[f"{name}_pace_points_yr"] == pytest.approx(city[f"{name}_points"] / years)
    assert city[f"{name}_status_2025_old"] == city[f"{name}_status_2025_new"] == "missed"


def test_compare_command_writes_layer_tables_and_an_escaped_page(pinghu_plan_out, later_out, tmp_path):
    out, new, _, flipped = later_out
    target = tmp_path / "cmp"
    assert main(["compare", str(pinghu_plan_out), str(out), "--out", str(target), "--quiet"]) == 0
    layer = pyogrio.read_dataframe(target / "compare.gpkg", layer="changed_buildings")
    assert len(layer) == 11 and layer.geometry.notna().all()
    csv = pd.read_csv(target / "changed_buildings.csv", encoding="utf-8-sig").set_index("building_id")
    assert csv.loc[flipped, "name"].startswith("'=")  # never a formula in a spreadsheet
    html = (target / "compare.html").read_text(encoding="utf-8")
    assert "<script" not in html and "http" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "未达成" in html and "<svg" in html
    assert main(["compare", str(pinghu_plan_out), str(out), "--out", str(target), "--quiet"]) == 2


def test_page_escapes_labels_and_township_names():
    towns = pd.DataFrame({"new_systems": [1, 1], "kw_added": [5.0, 5.0], "buildings_changed": [1, 1],
                          "t_coverage_old": [0.1, 0.1], "t_coverage_new": [0.2, 0.2], "t_points": [10.0, 10.0],
                          "t_pace_points_yr": [10.0, 10.0], "t_target_2030": [0.5, 0.5],
                          "t_status_2030_old": ["at_risk", "at_risk"], "t_status_2030_new": ["on_track", "on_track"]},
                         index=pd.Index(["<img src=x onerror=alert(1)>", CITY], name="township"))
    townships = pd.DataFrame({"t_coverage_today": [0.2], "t_target_2030": [0.5]})
    run = {"folder": "<b>old</b>", "as_of": dt.date(2026, 1, 1), "townships": townships}
    html = page(towns, pd.DataFrame(columns=["target"]), run, {**run, "folder": "new", "as_of": LATER},
                {"t": "<script>alert(2)</script>"}, CITY)
    assert "<img" not in html and "<script>" not in html and "<b>old" not in html
    assert "&lt;script&gt;" in html and "进度正常" in html


@pytest.mark.slow
def test_compare_two_runs_of_the_sample_the_second_with_the_register(pinghu_plan_out, tmp_path):
    """The real workflow: the sample survey, then the same with the grid company's register."""
    from tests.conftest import ROOT

    new = tmp_path / "monitor"
    assert main(["plan", str(ROOT / "configs" / "pinghu_monitor.yaml"), "--out", str(new), "--quiet",
                 "--no-report"]) == 0
    assert main(["compare", str(pinghu_plan_out), str(new), "--quiet"]) == 0
    table = pd.read_csv(new / "compare" / "compare_townships.csv", encoding="utf-8-sig").set_index("township")
    assert table.loc[CITY, "new_systems"] >= 40  # systems connected after the survey (make_sample.py)
    assert table.loc[CITY, "kw_added"] > 5000
    for name in targets_of(table.rename(columns=lambda c: c.replace("_coverage_new", "_coverage_today"))):
        assert table.loc[CITY, f"{name}_status_2025_new"] == "missed"


def test_compare_runs_from_python_gives_what_the_command_writes(pinghu_plan_out, later_out, tmp_path):
    """The library entry points: compare_runs reads the two folders, write_comparison
    writes the command's five files; a Comparison computed from dicts in memory gives the
    same tables."""
    import roofpv
    from roofpv.io.comparison import read_run
    from roofpv.schema import COMPARE_OUTPUTS
    from roofpv.targets.compare import compare

    out, new, kw, flipped = later_out
    comparison = roofpv.compare_runs(pinghu_plan_out, out)
    assert set(comparison.changes.index) == {*new, flipped}
    assert comparison.townships.loc[CITY, "new_systems"] == 10
    assert comparison.townships.loc[CITY, "kw_added"] == pytest.approx(kw.sum())
    assert comparison.new["as_of"] == LATER and comparison.new["folder"] == str(out)
    name = next(iter(targets_of(comparison.new["townships"])))
    assert comparison.labels[name] != name  # the label kept as the cohort column's alias
    in_memory = compare(read_run(pinghu_plan_out), read_run(out))
    pd.testing.assert_frame_equal(in_memory.townships, comparison.townships)
    assert in_memory.labels == {}  # no labels given: the page shows the target names

    paths = roofpv.write_comparison(comparison, tmp_path / "py")
    assert [p.name for p in paths] == [n for n in COMPARE_OUTPUTS if n != "compare_counties.csv"]
    assert all(p.exists() for p in paths)
    assert main(["compare", str(pinghu_plan_out), str(out), "--out", str(tmp_path / "cli"), "--quiet"]) == 0
    for name in ("compare_townships.csv", "compare_cohorts.csv", "changed_buildings.csv", "compare.html"):
        assert (tmp_path / "py" / name).read_bytes() == (tmp_path / "cli" / name).read_bytes()


def test_compare_stopped_while_writing_leaves_the_earlier_comparison(pinghu_plan_out, later_out, tmp_path,
                                                                     monkeypatch, capsys):
    """A compare that fails part-way (here: the page cannot be written) leaves the earlier
    comparison whole and the folder's other files alone; the next one replaces it as one."""
    from roofpv.io import comparison as io_comparison
    from roofpv.io.outputs import MANIFEST

    out, *_ = later_out
    target = tmp_path / "cmp"
    target.mkdir()
    (target / "notes.txt").write_text("mine", encoding="utf-8")
    assert main(["compare", str(out), str(out), "--out", str(target), "--quiet"]) == 0  # nothing changed
    earlier = {p.name: p.read_bytes() for p in target.iterdir()}
    assert pd.read_csv(target / "changed_buildings.csv").empty

    def disk_full(path, text):
        path.write_text(text[:100], encoding="utf-8")
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(io_comparison, "write_text", disk_full)
    assert main(["compare", str(pinghu_plan_out), str(out), "--out", str(target), "--overwrite",
                 "--quiet"]) == 2
    assert "compare.html: cannot write (No space left on device)" in capsys.readouterr().err.replace("\n", "")
    assert {p.name: p.read_bytes() for p in target.iterdir()} == earlier  # no staging folder left either
    monkeypatch.undo()
    assert main(["compare", str(pinghu_plan_out), str(out), "--out", str(target), "--overwrite",
                 "--quiet"]) == 0
    assert len(pd.read_csv(target / "changed_buildings.csv", encoding="utf-8-sig")) == 11
    assert (target / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert "notes.txt" not in (target / MANIFEST).read_text(encoding="utf-8")
