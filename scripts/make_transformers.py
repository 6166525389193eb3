"""Generate the synthetic 台区 transformers table of the Pinghu sample.

Run ``python scripts/make_transformers.py [--data-dir data]``; it reads
``<data>/sample/survey.xlsx`` and ``footprints.gpkg`` and writes
``<data>/sample/transformers.csv`` with one row per transformer id of the survey: ``id``,
``kva``, ``existing_pv_kw``, ``min_load_kw`` and the other inputs DL/T 2041 needs,
``planned_pv_kw``, ``storage_kw``, and the position ``longitude``, ``latitude``.
Deterministic: same survey, same file.

Like the rest of the sample, nothing here is real. Each transformer is sized for the
estimated peak load of its buildings (floor area × an assumed load density per
category) at 80 % loading, rounded up to a standard distribution-transformer rating;
its existing PV is the survey's existing PV on it; one in four has a measured minimum
load (10–25 % of the rating), the others leave it blank for roofpv's load profiles; one
in ten has PV filed but not connected (10–40 % of the rating); none has storage; each
stands at the centre of its buildings (CGCS2000 longitude and latitude, degrees).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from roofpv.io.readers import read_survey

SEED = 20260
#: Assumed peak load density, kW per m² of floor area (synthetic sample only).
LOAD_KW_M2 = {
    "party_gov": 0.05, "public_institution": 0.05, "factory": 0.06, "commercial": 0.08,
    "urban_residential": 0.02, "rural_residential": 0.015, "other": 0.03,
}
#: Standard 10 kV distribution-transformer ratings, kVA.
RATINGS_KVA = np.array([100, 160, 200, 250, 315, 400, 500, 630, 800, 1000, 1250, 1600, 2000, 2500])


def transformers(survey: pd.DataFrame, seed: int = SEED, centres: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per transformer id of ``survey`` (canonical columns), sorted by id;
    ``centres``: longitude and latitude of each building, by building id (without them
    the table has no position columns)."""
    s = survey.dropna(subset=["transformer_id"])
    load = s["floor_area_m2"].fillna(0.0) * s["category"].fillna("other").map(LOAD_KW_M2)
    frame = pd.DataFrame({
        "load_kw": load, "existing_pv_kw": s["existing_pv_kw"].fillna(0.0), "id": s["transformer_id"],
    }).groupby("id").sum().sort_index()
    need = frame["load_kw"].to_numpy() / 0.8
    largest = RATINGS_KVA[-1]
    index = np.minimum(np.searchsorted(RATINGS_KVA, need, side="left"), len(RATINGS_KVA) - 1)
    kva = np.where(need > largest, np.ceil(need / largest) * largest, RATINGS_KVA[index]).astype(int)
    rng = np.random.default_rng(seed)
    share = rng.uniform(0.10, 0.25, len(frame))
    measured = rng.uniform(size=len(frame)) < 0.25
    filed = rng.uniform(size=len(frame)) < 0.10
    planned = np.where(filed, np.round(rng.uniform(0.10, 0.40, len(frame)) * kva, 1), 0.0)
    table = pd.DataFrame({
        "id": frame.index,
        "kva": kva,
        "existing_pv_kw": frame["existing_pv_kw"].round(1).to_numpy(),
        "min_load_kw": np.where(measured, np.round(share * kva, 1), np.nan),
        "planned_pv_kw": planned,
        "storage_kw": 0.0,
    })
    if centres is None:
        return table
    where = centres.reindex(s.index).groupby(s["transformer_id"]).mean().reindex(frame.index)
    return table.assign(longitude=where["longitude"].round(6).to_numpy(), latitude=where["latitude"].round(6).to_numpy())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path(__file__).resolve().parents[1] / "data")
    args = parser.parse_args()
    survey, _ = read_survey(args.data_dir / "sample" / "survey.xlsx", "屋顶普查")
    footprints = gpd.read_file(args.data_dir / "sample" / "footprints.gpkg").set_index("building_id")
    points = footprints.geometry.representative_point()
    centres = pd.DataFrame({"longitude": points.x, "latitude": points.y}, index=footprints.index)
    out = args.data_dir / "sample" / "transformers.csv"
    transformers(survey, centres=centres).to_csv(out, index=False, lineterminator="\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
