"""Layout against hand calculations (GB 50797 row spacing, module packing)."""

import numpy as np
import pytest
import shapely

from roofpv.roofs import layout
from roofpv.roofs.roof import roof_planes

L, W, GAP = 2.278, 1.134, 0.02


@pytest.mark.parametrize(
    "latitude, ratio",  # REFERENCE §2: gap/height ratio D/H per city
    [(30.7, 1.90), (36.5, 2.47), (36.7, 2.50), (37.9, 2.66), (43.8, 3.82)],
)
def test_gb50797_shadow_ratio_matches_reference(latitude, ratio):
    assert layout.gb50797_shadow_ratio(latitude) == pytest.approx(ratio, abs=0.01)


def test_row_pitch_by_hand():
    # L cos20° + L sin20° · 1.8993 = 2.1406 + 0.7791 · 1.8993 = 3.6204 m
    assert layout.row_pitch_tilted(L, 20, 30.7) == pytest.approx(3.6204, abs=1e-3)


def test_flat_roof_20_by_30_by_hand():
    """20 × 30 m flat concrete roof at 30.7°N, 1 m setback, 20° racks facing south.

    Usable 28 m (E–W) × 18 m (N–S). Rows: depth L cos20° = 2.1406 m, pitch 3.6204 m,
    so floor((18 − 2.1406) / 3.6204) + 1 = 5 rows; per row floor((28 + 0.02) / 1.154)
    = 24 modules; 120 modules × 580 W = 69.6 kWp.
    """
    footprint = np.array([shapely.box(500_000, 3_400_000, 500_030, 3_400_020)])
    planes = roof_planes(footprint, np.array([1]), np.array([0.0]), np.array([1.0]))
    assert len(planes) == 1 and planes.azimuth_deg[0] == 180
    assert shapely.area(planes.local[0]) == pytest.approx(28 * 18)
    depth = L * np.cos(np.radians(20))
    pitch = layout.row_pitch_tilted(L, 20, 30.7)
    n = layout.count_modules(planes.local.to_numpy(), W, GAP, depth, pitch)
    assert n.tolist() == [120]
    assert n[0] * 580 / 1000 == pytest.approx(69.6)


def test_gable_roof_flush_by_hand():
    """10 × 20 m rural house, ridge E–W, 25° tiles, 0.3 m setback from edges and ridge.

    South plane 19.4 m × 4.4 m (horizontal). Flush modules: depth L cos25° = 2.0646 m,
    pitch (L + gap) cos25° = 2.0827 m → floor((4.4 − 2.0646) / 2.0827) + 1 = 2 rows of
    floor((19.4 + 0.02) / 1.154) = 16 → 32 modules. The north plane is its mirror.
    """
    footprint = np.array([shapely.box(0, 0, 20, 10)])
    planes = roof_planes(footprint, np.array([2]), np.array([25.0]), np.array([0.3]))
    assert planes.azimuth_deg.tolist() == [180.0, 0.0]
    beta = np.radians(25)
    n = layout.count_modules(planes.local.to_numpy(), W, GAP, L * np.cos(beta), (L + GAP) * np.cos(beta))
    assert n.tolist() == [32, 32]


def test_l_shaped_roof_counts_only_modules_inside():
    """An L of two 11.54 × 4.556 m arms (10 modules × 2 rows of flush 0° cells each)
    sharing a corner square holds the modules of both arms minus the shared square."""
    step, depth = W + GAP, L + GAP
    arm_x = shapely.box(0, 0, 10 * step - GAP, 2 * depth - GAP)
    arm_y = shapely.box(0, 0, 2 * step - GAP, 10 * depth - GAP)
    poly = np.array([shapely.union(arm_x, arm_y)])
    n = layout.count_modules(poly, W, GAP, L, depth)
    assert n.tolist() == [10 * 2 + 2 * 10 - 2 * 2]


def test_empty_and_tiny_polygons_hold_nothing():
    polys = np.array([shapely.Polygon(), None, shapely.box(0, 0, 1, 1)])
    assert layout.count_modules(polys, W, GAP, L, L).tolist() == [0, 0, 0]
