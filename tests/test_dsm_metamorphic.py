"""Metamorphic tests of the DSM stage on every real DSM set (tests/dsm_sets.py): each set
changed the way the next data set will differ — another CRS, another resolution, noise,
photogrammetric smoothing, no-data holes, trees over the eaves, footprints missing or
shifted — must run without a crash and keep its figures within the tolerances below of
the unchanged run. docs/validation.md states the same tolerances and the figures.

Variants that fail today are marked ``xfail(strict=True)`` with the figure measured when
they were marked, so a fix turns them into a failure that asks for the mark to go.
"""

from __future__ import annotations

import pytest

from . import dsm_sets as ds

pytestmark = [pytest.mark.metamorphic, pytest.mark.real_data]

#: Largest fall of the share of true roof area within 5°/15° (absolute), by variant;
#: resampling 0.5 → 1 m (or 1 → 2 m) loses narrow faces, so it is allowed more.
WITHIN_DROP = {"resample_coarser": 0.15}
WITHIN_DROP_DEFAULT = 0.10
#: Largest fall of the share of true roof area measured (absolute).
MEASURED_DROP = {"resample_coarser": 0.15}
MEASURED_DROP_DEFAULT = 0.10
#: Largest relative change of the kWp installed on the measured buildings (on the
#: footprints both runs have).
KWP_CHANGE = 0.25

#: Figures the unchanged sets must reach (issue 24's "done when"): share within 5°/15°
#: at the set's resolution (0.5 m: 0.90, 1 m: 0.80) and share of true area measured.
WITHIN_MIN = {"goteborg": 0.80, "delft": 0.90, "zurich": 0.90, "toufeng": 0.80}
MEASURED_MIN = 0.85

#: (set, variant) → why it fails today, with the figure measured (unchanged → variant).
FAILING = {
    ("goteborg", "resample_coarser"): "1 → 2 m: within 5°/15° 0.926 → 0.556 (faces of 2–4 pixels at 2 m), "
                                      "kWp 1,885.6 → 2,045.1",
    ("delft", "noise_0.15"): "kWp 164.7 → 213.4 (+30 %): the noise widens the join tolerance, planes "
                             "take 22 % more area (3,245 → 3,963 m²) and hide the 8–14 m² flat parts "
                             "that split row-house faces; most of the gain is 2–5 kWp each on row houses "
                             "that get none unchanged (within 0.968 → 0.878 passes)",
    ("delft", "resample_coarser"): "0.5 → 1 m: within 0.968 → 0.720, kWp 164.7 → 249.4 (40–50° faces 3 m deep "
                                   "read 5–10° flatter: every 1 m pixel of them is averaged with a ridge or eave)",
    ("delft", "trees"): "trees over the eaves: measured 0.903 → 0.792 (crowns over 3 m of 5 m wide roofs are "
                        "not roof, by design: no modules under a crown)",
    ("delft", "trees_in_dsm"): "trees in the DSM over every third roof corner, no canopy layer: "
                               "within 0.968 → 0.812 (crowns cover whole 15 m² faces; their flat tops "
                               "become 7–11 m² planes)",
    ("zurich", "smooth"): "σ 0.5 m blur: measured 0.821 → 0.658 (rounded ridges and eaves fit no plane "
                          "within 3σ), within 0.939 → 0.849 passes",
    ("toufeng", "resample_coarser"): "0.8 → 2 m: within 0.767 → 0.507 (the drone DSM's 3–6 m wide faces and "
                                     "roof levels become 2–3 pixels, each averaged with a step or an eave)",
}
#: Sets whose unchanged figures miss WITHIN_MIN / MEASURED_MIN today.
SHORT = {
    "zurich": "within 0.938, measured 0.820: 11.7 % of the LoD2 roof area overhangs the footprints (planes "
              "stop at the footprint); of the rest 92.9 % is measured",
    "toufeng": "within 0.767 (measured 0.859 passes): flat levels beside smoothed 2.5–4 m steps read as "
               "10–15° planes (10.6 % of the truth area; the DSM slopes beside the step, the walls themselves are "
               "left out: roofs/steps.py), near-flat faces of 3–5° scored on azimuth (7.4 %), "
               "tower tops and a 3 m gable face flattened (3.4 %), two small faces unmeasured (1.8 %)",
}


@pytest.fixture(scope="module")
def unchanged(tmp_path_factory):
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = ds.run_variant(name, None, tmp_path_factory.mktemp(f"{name}_unchanged"))
        return cache[name]
    return get


def _params():
    for name in ds.SETS:
        for variant in ds.VARIANTS:
            reason = FAILING.get((name, variant))
            marks = [pytest.mark.xfail(strict=True, reason=reason, raises=AssertionError)] if reason else []
            yield pytest.param(name, variant, marks=marks, id=f"{name}-{variant}")


@pytest.mark.parametrize("name", [pytest.param(n, marks=[pytest.mark.xfail(strict=True, reason=SHORT[n],
                                                                            raises=AssertionError)]
                                               if n in SHORT else []) for n in ds.SETS])
def test_unchanged_set_meets_the_figures(name, unchanged):
    f = unchanged(name)
    assert f["faces"] >= 30
    assert f["within_tol"] >= WITHIN_MIN[name], f
    assert f["measured"] >= MEASURED_MIN, f


@pytest.mark.parametrize("name, variant", list(_params()))
def test_variant_keeps_the_figures(name, variant, unchanged, tmp_path):
    base = unchanged(name)
    got = ds.run_variant(name, variant, tmp_path)  # nothing crashes
    assert got["buildings"] > 0
    summary = {k: round(v, 3) for k, v in got.items() if isinstance(v, float)}
    assert got["within_tol"] >= base["within_tol"] - WITHIN_DROP.get(variant, WITHIN_DROP_DEFAULT), summary
    assert got["measured"] >= base["measured"] - MEASURED_DROP.get(variant, MEASURED_DROP_DEFAULT), summary
    # kWp on the footprints both runs have (a dropped footprint takes its kWp along).
    kept = got["capacity"].index.union(base["capacity"].index)
    if variant == "drop_30pct":
        kept = kept.intersection(got["ids"])
    before = float(base["capacity"].reindex(kept).fillna(0).sum())
    after = float(got["capacity"].reindex(kept).fillna(0).sum())
    assert abs(after - before) <= KWP_CHANGE * max(before, 1.0), (before, after, summary)
