import datetime as dt

import numpy as np
import pandas as pd
import pyogrio
import pytest
from rich.console import Console

from roofpv import report
from roofpv.cli.survey import summary_table
from roofpv.config import Target
from roofpv.schema import CITY
from roofpv.targets.milestones import (
    COLOURS,
    LABELS,
    STATUSES,
    plan_pace,
    status,
    table,
    years_left,
)

AS_OF = dt.date(2026, 11, 30)


def test_one_of_each_status():
    # groups: 2025 done; 2025 short; 2030 short but reachable with a fast enough pace;
    # 2030 reachable but the pace needed exceeds the reference; 2030 not reachable.
    today = np.array([0.35, 0.20, 0.25, 0.05, 0.25])
    out_2025 = status(today[:2], 0.30, [True, True], 2025, AS_OF, [0.0, 0.0])
    assert list(out_2025) == ["met", "missed"]
    # 2030: 4.09 years left; gap 0.05 needs 0.0122/yr, gap 0.25 needs 0.061/yr.
    out_2030 = status(today[2:], 0.30, [True, True, False], 2030, AS_OF, [0.02, 0.02, 0.02])
    assert list(out_2030) == ["on_track", "at_risk", "unreachable"]
    # a township with no building in the target's cohort has nothing to measure
    empty = status([np.nan, np.nan], 0.30, [True, True], 2025, AS_OF, [0.0, 0.0])
    assert list(empty) == ["no_cohort", "no_cohort"]
    assert set(out_2025) | set(out_2030) | set(empty) == set(STATUSES)


def test_met_wins_over_date_and_reachability():
    assert list(status([0.5], 0.3, [False], 2020, AS_OF, [0.0])) == ["met"]


def test_missed_wins_over_unreachable_once_the_deadline_passed():
    assert list(status([0.1], 0.3, [False], 2025, AS_OF, [1.0])) == ["missed"]
    assert list(status([0.1], 0.3, [True], 2025, dt.date(2025, 12, 31), [1.0])) == ["at_risk"]


def test_years_left_and_plan_pace():
    assert years_left(2030, AS_OF) == pytest.approx(1492 / 365.25)
    assert years_left(2025, AS_OF) < 0
    # whole plan years left after 2026: 2027-2030 → gap / 4; start_year later → fewer years
    assert plan_pace(np.array([0.2]), 2030, 2026, AS_OF)[0] == pytest.approx(0.05)
    assert plan_pace(np.array([0.2]), 2030, 2029, AS_OF)[0] == pytest.approx(0.1)
    # the milestone is this year: one (already late) year
    assert plan_pace(np.array([0.2]), 2026, 2026, AS_OF)[0] == pytest.approx(0.2)


def test_table_takes_reachability_from_the_plan():
    target = Target(name="t", label="T", categories=["factory"], milestones={2025: 0.3, 2030: 0.5}, source="s")
    cov = pd.DataFrame({"coverage_today": [0.1, 0.6], "reachable_2025": [True, True],
                        "reachable_2030": [True, True]}, index=pd.Index(["a", "b"], name="township"))
    plan = pd.DataFrame({"target": "t", "milestone": [2025, 2030, 2025, 2030],
                         "reaches": [True, False, True, True]}, index=["a", "a", "b", "b"])
    out = table(cov, plan, target, AS_OF, start_year=2026)
    assert list(out["status_2025"]) == ["missed", "met"]
    assert list(out["status_2030"]) == ["unreachable", "met"]
    assert out.loc["a", "pace_needed_2030"] == pytest.approx(0.4 / years_left(2030, AS_OF))


def test_every_status_has_a_label_and_a_traffic_light_colour():
    for s in STATUSES:
        assert LABELS["zh"][s] and LABELS["en"][s] and COLOURS[s].startswith("#")
    assert COLOURS["missed"] != COLOURS["met"]


def test_sample_2025_milestone_is_missed_below_30_percent(pinghu_results, config):
    """Today is after 2025: every township below the 2025 target has missed it."""
    assert config.run_date > dt.date(2025, 12, 31)
    t = pinghu_results.townships
    for target in config.policy.targets:
        p = target.name
        below = t[f"{p}_coverage_today"] < t[f"{p}_target_2025"]
        assert below.any()
        assert (t.loc[below, f"{p}_status_2025"] == "missed").all()
    info = pinghu_results.run_info.set_index("item")["value"]
    assert info["milestone status as of"] == config.run_date.isoformat()


def test_status_in_terminal_table_csv_and_layer(pinghu_results, pinghu_plan_out, config):
    target = config.policy.targets[0]
    console = Console(width=200, record=True, color_system=None)
    towns = pinghu_results.townships
    console.print(summary_table(towns, target))
    text = console.export_text()
    assert "未达成" in text and "✓" not in text and "✗" not in text
    csv = pd.read_csv(pinghu_plan_out / "townships.csv", encoding="utf-8-sig").set_index("township")
    assert csv.loc[CITY, f"{target.name}_status_2025"] == "missed"
    layer = pyogrio.read_dataframe(pinghu_plan_out / "roofpv.gpkg", layer="townships", read_geometry=False)
    assert (layer[f"{target.name}_status_2025"] == "missed").all()
    plan = pd.read_csv(pinghu_plan_out / "plan_status.csv", encoding="utf-8-sig")
    assert set(plan.loc[plan["milestone"] == 2025, "status"]) == {"missed"}


@pytest.mark.slow
def test_status_in_report_pages_and_workbook(pinghu_results, config, tmp_path):
    import openpyxl

    folder = report.write(report.from_results(pinghu_results, config), config, tmp_path, "zh")
    index = (folder / "index.html").read_text(encoding="utf-8")
    assert "2025 未达成" in index and "✓" not in index
    summary = openpyxl.load_workbook(folder / "roofpv.xlsx").worksheets[0]
    header = [c.value for c in summary[1]]
    column = header.index(f"{config.policy.targets[0].label} 2025 状态") + 1
    cells = [summary.cell(row=r, column=column) for r in range(2, summary.max_row + 1)]
    assert {c.value for c in cells} == {"未达成"}
    assert cells[0].fill.fgColor.rgb.endswith(COLOURS["missed"].lstrip("#").upper())
