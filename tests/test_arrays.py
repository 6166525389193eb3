"""Module rows drawn on roofs, against hand-computed layouts (see tests/test_layout.py)."""

import numpy as np
import pandas as pd
import pytest
import shapely
from shapely import affinity

from roofpv.roofs import layout
from roofpv.roofs.arrays import ROW_COLUMNS, module_rows
from roofpv.roofs.roof import from_local, roof_planes, to_local

L, W, GAP, POWER = 2.278, 1.134, 0.02, 580.0


def planes_for(footprint, n_planes, slope, setback, tilt, pitch):
    planes = roof_planes(np.array([footprint]), np.array([n_planes]), np.array([slope]),
                         np.array([setback]))
    return planes.assign(
        building_id="B1", module_tilt_deg=tilt,
        module_depth_m=L * np.cos(np.radians(tilt)), row_pitch_m=pitch,
    )


def test_flat_roof_20_by_30_rows_by_hand():
    """20 × 30 m flat roof at 30.7°N, 1 m setback, 20° racks: 5 rows × 24 modules.

    A row is 24 × 1.134 + 23 × 0.02 = 27.676 m long and L cos20° = 2.1406 m deep,
    centred in the 28 m usable width (x from 1.162 m past the setback); the rows
    span 4 × 3.6204 + 2.1406 = 16.622 m of the 18 m usable depth, front row south.
    """
    footprint = shapely.box(500_000, 3_400_000, 500_030, 3_400_020)
    pitch = layout.row_pitch_tilted(L, 20, 30.7)
    rows = module_rows(planes_for(footprint, 1, 0.0, 1.0, 20.0, pitch), W, GAP, POWER)
    assert list(rows.columns) == ROW_COLUMNS
    assert rows["row"].tolist() == [0, 1, 2, 3, 4]
    assert rows["modules"].tolist() == [24] * 5
    assert rows["kwp"].sum() == pytest.approx(69.6)
    depth = L * np.cos(np.radians(20))
    assert shapely.area(rows.geometry.to_numpy()) == pytest.approx([27.676 * depth] * 5)
    xmin, ymin, xmax, ymax = shapely.bounds(rows.geometry.to_numpy()).T
    assert xmin == pytest.approx([500_001.162] * 5)
    assert xmax - xmin == pytest.approx([27.676] * 5)
    assert ymax - ymin == pytest.approx([depth] * 5)
    assert np.diff(ymin) == pytest.approx([3.6204] * 4, abs=1e-4)
    assert ymin[0] == pytest.approx(3_400_001 + (18 - 16.622) / 2, abs=1e-3)
    usable = shapely.buffer(footprint, -1.0, join_style="mitre")
    assert shapely.within(rows.geometry.to_numpy(), usable).all()


def test_rotated_gable_rows_lie_on_their_plane():
    """The 10 × 20 m gable of tests/test_layout.py (2 rows × 16 flush modules per plane),
    turned 30°: each plane's rows lie on the side its plane faces, run along the ridge,
    and stay inside the footprint less the 0.3 m setback."""
    box = shapely.box(0, 0, 20, 10)
    footprint = affinity.rotate(box, 30, origin=(10, 5))
    beta = np.radians(25)
    planes = planes_for(footprint, 2, 25.0, 0.3, 25.0, (L + GAP) * np.cos(beta))
    rows = module_rows(planes, W, GAP, POWER)
    assert rows.groupby("plane")["modules"].sum().tolist() == [32, 32]
    assert rows["modules"].tolist() == [16] * 4
    geoms = rows.geometry.to_numpy()
    assert shapely.within(geoms, shapely.buffer(footprint, -0.3 + 1e-6, join_style="mitre")).all()
    assert shapely.area(geoms) == pytest.approx([(16 * W + 15 * GAP) * L * np.cos(beta)] * 4)
    az = np.radians(rows["azimuth_deg"].to_numpy())
    facing = np.column_stack([np.sin(az), np.cos(az)])  # compass azimuth → (east, north)
    offset = shapely.get_coordinates(shapely.centroid(geoms)) - [10, 5]
    assert ((offset * facing).sum(axis=1) > 0.3).all()
    ridge = np.array([np.cos(np.radians(30)), np.sin(np.radians(30))])
    env = shapely.get_coordinates(shapely.oriented_envelope(geoms)).reshape(4, 5, 2)
    sides = np.diff(env[:, :3], axis=1)
    longer = np.where((np.hypot(*sides[:, 0].T) > np.hypot(*sides[:, 1].T))[:, None],
                      sides[:, 0], sides[:, 1])
    unit = longer / np.hypot(*longer.T)[:, None]
    assert unit[:, 0] * ridge[1] - unit[:, 1] * ridge[0] == pytest.approx([0] * 4, abs=1e-9)


def test_row_interrupted_by_a_notch_becomes_two_runs():
    """Two rows of 10 flush cells; a notch over columns 4-5 of the back row leaves
    it two runs of 4 modules."""
    step, depth = W + GAP, L + GAP
    roof = shapely.difference(
        shapely.box(0, 0, 10 * step - GAP, 2 * depth - GAP),
        shapely.box(4 * step - GAP / 2, depth, 6 * step - GAP / 2, 2 * depth),
    )
    planes = pd.DataFrame({
        "building_id": ["N"], "plane": [0], "azimuth_deg": [180.0], "module_tilt_deg": [0.0],
        "local": [roof], "centre_x": [0.0], "centre_y": [0.0], "rotation_deg": [0.0],
        "module_depth_m": [L], "row_pitch_m": [depth],
    })
    rows = module_rows(planes, W, GAP, POWER)
    assert rows["modules"].tolist() == [10, 8]
    back = rows.geometry.iloc[1]
    assert shapely.get_num_geometries(back) == 2
    assert shapely.area(back) == pytest.approx(2 * (4 * W + 3 * GAP) * L)


def test_from_local_inverts_to_local():
    geoms = np.array([shapely.box(3, 4, 9, 7), shapely.Point(100, -50)])
    centre, angle = np.array([[5.0, 5.0], [90.0, -40.0]]), np.array([37.0, -120.0])
    back = from_local(to_local(geoms, centre, angle), centre, angle)
    assert shapely.equals_exact(back, geoms, tolerance=1e-9).all()


def test_no_modules_gives_an_empty_frame():
    planes = planes_for(shapely.box(0, 0, 2, 2), 1, 0.0, 0.5, 20.0, 3.6)
    rows = module_rows(planes, W, GAP, POWER)
    assert rows.empty and list(rows.columns) == ROW_COLUMNS
