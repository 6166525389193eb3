"""Status of each policy milestone on the run date: met, on track, at risk, unreachable, missed.

A milestone ``(year, ratio)`` is due at the end of its year (31 December). On the run
date ``as_of``, with coverage ``today`` (a ratio) and the gap still open:

``met``          today ≥ ratio (whatever the date)
``missed``       the deadline has passed and today < ratio
``unreachable``  deadline ahead, but the eligible roofs cannot close the gap (the rollout
                 plan does not reach it; without a plan: potential < ratio)
``at_risk``      deadline ahead, reachable, but the pace needed — gap ÷ years left,
                 coverage points per year — exceeds the reference pace
``on_track``     deadline ahead, reachable, needed pace ≤ reference pace
``no_cohort``    no building of the township is in the target's cohort: no coverage to
                 measure (the target does not apply there yet)

The reference pace is the pace observed in the grid company's register (coverage
added by the systems connected in the year before ``as_of``) where a register is
given, else the rollout plan's own pace: the gap spread evenly over the whole plan
years left — from the later of ``planning.start_year`` and the year after ``as_of`` to
the milestone year, at least one (:func:`plan_pace`). Without a register a milestone is
therefore at risk when its year is the run year (or the plan starts too late for it).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

STATUSES = ("met", "on_track", "at_risk", "unreachable", "missed", "no_cohort")
#: Traffic-light colours: green for met and on track, amber at risk, red unreachable or missed.
COLOURS = {"met": "#1a9850", "on_track": "#91cf60", "at_risk": "#f0a30a",
           "unreachable": "#d73027", "missed": "#a50026", "no_cohort": "#bababa"}
LABELS = {
    "zh": {"met": "已达成", "on_track": "进度正常", "at_risk": "有风险", "unreachable": "不可达",
           "missed": "未达成", "no_cohort": "无适用建筑"},
    "en": {"met": "met", "on_track": "on track", "at_risk": "at risk", "unreachable": "unreachable",
           "missed": "missed", "no_cohort": "no cohort buildings"},
}
#: Terminal colours (rich styles) per status.
RICH_STYLES = {"met": "bold green", "on_track": "green", "at_risk": "bold yellow",
               "unreachable": "red", "missed": "bold red", "no_cohort": "dim"}


def deadline(year: int) -> dt.date:
    """A milestone is due at the end of its year."""
    return dt.date(year, 12, 31)


def years_left(year: int, as_of: dt.date) -> float:
    """Years from ``as_of`` to the milestone's deadline (negative once passed)."""
    return (deadline(year) - as_of).days / 365.25


def plan_pace(gap: np.ndarray, year: int, start_year: int, as_of: dt.date) -> np.ndarray:
    """The rollout plan's pace: the gap (ratio) spread over the whole plan years left,
    from the later of ``start_year`` and the year after ``as_of`` to ``year`` (≥ 1), ratio per year."""
    first = max(start_year, as_of.year + 1)
    return np.asarray(gap, float) / max(year - first + 1, 1)


def status(today, ratio: float, reachable, year: int, as_of: dt.date, pace) -> np.ndarray:
    """Milestone status per group (see the module docstring for the rules).

    Parameters
    ----------
    today : coverage today per group, ratio (NaN: empty cohort).
    ratio : the milestone's target ratio.
    reachable : whether the eligible roofs close the gap, per group.
    year : the milestone year, due on 31 December.
    as_of : the run date.
    pace : reference pace per group, ratio per year.
    """
    today = np.asarray(today, float)
    reachable = np.asarray(reachable, bool)
    pace = np.asarray(pace, float)
    left = years_left(year, as_of)
    gap = np.clip(ratio - today, 0.0, None)
    met = today >= ratio - 1e-9
    with np.errstate(invalid="ignore", divide="ignore"):
        needed = gap / left if left > 0 else np.full_like(gap, np.inf)
    out = np.where(needed <= pace + 1e-12, "on_track", "at_risk").astype(object)
    out[~reachable] = "unreachable"
    if left < 0:
        out[:] = "missed"
    out[met] = "met"
    out[np.isnan(today)] = "no_cohort"
    return out


def table(cov: pd.DataFrame, plan_status: pd.DataFrame | None, target, as_of: dt.date,
          start_year: int, observed_pace: pd.Series | None = None) -> pd.DataFrame:
    """``status_<year>`` (and ``pace_needed_<year>``, ratio per year) per group of a
    :func:`roofpv.targets.policy.coverage` table (``coverage_today``, ``reachable_<year>``).

    ``plan_status``: the rollout plan's status rows (``reaches`` per township and milestone)
    or None (then reachable = potential ≥ target). ``observed_pace``: coverage ratio per
    year added in the year before ``as_of``, per group; None = the plan's pace.
    """
    out = pd.DataFrame(index=cov.index)
    today = cov["coverage_today"].to_numpy(float)
    for year, ratio in target.milestones.items():
        reachable = cov[f"reachable_{year}"]
        if plan_status is not None:
            rows = plan_status[(plan_status["target"] == target.name) & (plan_status["milestone"] == year)]
            reachable = rows["reaches"].reindex(cov.index).fillna(reachable).astype(bool)
        gap = np.clip(ratio - today, 0.0, None)
        pace = (observed_pace.reindex(cov.index).fillna(0.0).to_numpy(float) if observed_pace is not None
                else plan_pace(gap, year, start_year, as_of))
        out[f"status_{year}"] = status(today, ratio, reachable.to_numpy(), year, as_of, pace)
        left = years_left(year, as_of)
        out[f"pace_needed_{year}"] = gap / left if left > 0 else np.nan
    return out
