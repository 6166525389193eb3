"""Generate the synthetic grid topology of the Pinghu sample: the 10 kV feeder and the
substation of each 台区 transformer (``grid.topology``, :mod:`roofpv.io.topology`).

Run ``python scripts/make_topology.py [--data-dir data]``; it reads
``<data>/sample/transformers.csv`` and writes ``<data>/sample/topology.csv`` with one row
per transformer: ``transformer_id``, ``feeder_id``, ``feeder_kva``, ``feeder_pv_kw``,
``feeder_min_load_kw``, ``substation_id``, ``substation_kva``, ``substation_pv_kw``,
``substation_min_load_kw`` (kVA, kW). Deterministic: same transformers, same file.

Like the rest of the sample, nothing here is real. The transformers of a township (their id
without the trailing number) hang, in id order, on feeders of eight; a feeder is rated at the
smallest standard 10 kV line rating that reaches half of its transformers' kVA (a
capacity-to-load ratio of about 2); one feeder in four has 10 kV PV of its own (5–15 %
of its rating) and one in two a measured minimum load (5–15 %). Each township has one
substation, rated at the smallest standard main-transformer rating that reaches its
feeders' kVA divided by 1.8, with a measured minimum load of 5–10 % of its rating.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20261
#: Transformers per feeder.
PER_FEEDER = 8
#: Standard ratings, kVA: 10 kV lines (thermal limit of the usual conductors) and 35/110 kV
#: main transformers.
FEEDER_KVA = np.array([2000, 3000, 4000, 5000, 6000, 8000, 10000])
SUBSTATION_KVA = np.array([6300, 10000, 20000, 31500, 40000, 50000, 63000])


def _rating(need: np.ndarray, ratings: np.ndarray) -> np.ndarray:
    return ratings[np.minimum(np.searchsorted(ratings, need), len(ratings) - 1)]


def topology(transformers: pd.DataFrame, seed: int = SEED) -> pd.DataFrame:
    """One row per transformer of ``transformers`` (columns ``id``, ``kva``), in id order."""
    t = transformers.sort_values("id", kind="stable").reset_index(drop=True)
    town = t["id"].str.rsplit("-", n=1).str[0].str.removeprefix("T-")   # T-CQ-001 → CQ
    feeder_no = t.groupby(town).cumcount() // PER_FEEDER + 1
    t = t.assign(feeder_id="F-" + town + "-" + feeder_no.astype(str), substation_id="S-" + town)
    rng = np.random.default_rng(seed)
    feeders = t.groupby("feeder_id", sort=False).agg(kva=("kva", "sum"), substation_id=("substation_id", "first"))
    n = len(feeders)
    feeders["feeder_kva"] = _rating(feeders["kva"].to_numpy() / 2, FEEDER_KVA)
    own_pv = rng.uniform(size=n) < 0.25
    feeders["feeder_pv_kw"] = np.where(own_pv, np.round(rng.uniform(0.05, 0.15, n) * feeders["feeder_kva"], 0), 0.0)
    measured = rng.uniform(size=n) < 0.5
    feeders["feeder_min_load_kw"] = np.where(
        measured, np.round(rng.uniform(0.05, 0.15, n) * feeders["feeder_kva"], 0), np.nan)
    subs = feeders.groupby("substation_id", sort=False).agg(kva=("feeder_kva", "sum"))
    subs["substation_kva"] = _rating(subs["kva"].to_numpy() / 1.8, SUBSTATION_KVA)
    subs["substation_pv_kw"] = 0.0
    subs["substation_min_load_kw"] = np.round(rng.uniform(0.05, 0.10, len(subs)) * subs["substation_kva"], 0)
    out = t[["id", "feeder_id", "substation_id"]].rename(columns={"id": "transformer_id"})
    out = out.join(feeders[["feeder_kva", "feeder_pv_kw", "feeder_min_load_kw"]], on="feeder_id")
    out = out.join(subs[["substation_kva", "substation_pv_kw", "substation_min_load_kw"]], on="substation_id")
    return out[["transformer_id", "feeder_id", "feeder_kva", "feeder_pv_kw", "feeder_min_load_kw",
                "substation_id", "substation_kva", "substation_pv_kw", "substation_min_load_kw"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path(__file__).resolve().parents[1] / "data")
    args = parser.parse_args()
    transformers = pd.read_csv(args.data_dir / "sample" / "transformers.csv", dtype={"id": str})
    out = args.data_dir / "sample" / "topology.csv"
    topology(transformers).to_csv(out, index=False, lineterminator="\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
