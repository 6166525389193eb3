"""What a partition sees around it: the footprints within reach of one of its own, not
every footprint in the box around the whole partition (whose townships may lie far
apart: that box held nearly the whole county, O(N²) over the partitions)."""

import geopandas as gpd
import numpy as np
import shapely

from roofpv.config import load_config
from roofpv.run import engine

from .conftest import ROOT

CONFIG = load_config(ROOT / "configs" / "pinghu.yaml")


def _squares(x0: np.ndarray) -> gpd.GeoDataFrame:
    """10 × 10 m footprints with their lower left corners at (x0, 0)."""
    return gpd.GeoDataFrame(geometry=shapely.box(x0, 0.0, x0 + 10.0, 10.0), crs="EPSG:4549")


def test_reach_is_what_the_walls_and_the_dsm_windows_look_at():
    f, d = CONFIG.facades, CONFIG.dsm
    walls = f.party_wall_gap_m + f.radius_m + 1.0
    assert engine.reach_m(CONFIG.model_copy(update={"dsm": d.model_copy(update={"tiles": None})})) == walls
    assert engine.reach_m(CONFIG) == max(walls, d.block_m + d.radius_m)


def test_neighbours_are_those_within_reach_of_an_own_footprint():
    config = CONFIG.model_copy(update={"dsm": CONFIG.dsm.model_copy(update={"tiles": None})})
    reach = engine.reach_m(config)  # 61.5 m with the sample's facades
    # Own footprints at x = 0 and x = 10,000 m (two townships far apart); the others
    # 30 m, reach − 0.5 m and reach + 0.5 m beyond the first's edge, and one in the
    # middle of the partition's box, 5 km from both (which the box took in).
    x0 = np.array([0.0, 10_000.0, 40.0, 10.0 + reach - 0.5, 10.0 + reach + 0.5, 5_000.0])
    b = _squares(x0)
    inside = np.array([True, True, False, False, False, False])
    around = engine.around_partition(b, inside, config, shapely.STRtree(b.geometry.to_numpy()))
    assert around.index.tolist() == [2, 3]
