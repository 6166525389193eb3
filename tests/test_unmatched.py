"""Roofs without footprints and footprints off the DSM, on synthetic scenes (0.5 m and
1 m, noise, trees, a hill) and on the real Gothenburg DSM with footprints dropped and
shifted by known amounts."""

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from scipy import ndimage

from roofpv.config import load_config
from roofpv.inputs import dsm_match
from roofpv.io import tiles
from roofpv.roofs import alignment, unmatched
from roofpv.roofs.raster import Raster, gradient_at

X0, Y0 = 400_000.0, 3_300_200.0
REAL = Path(__file__).parent / "data" / "real" / "dsm_goteborg"

#: Buildings of the scene: centre x, y (m from the window's NW corner), half sizes,
#: eave height, pitch (0 = flat), ridge angle (deg).
HOUSES = [
    (30, 30, 9, 5, 7.0, 30, 0), (70, 28, 12, 6, 9.0, 0, 20), (30, 75, 7, 4, 6.0, 40, 90),
    (75, 75, 10, 5, 8.0, 25, 35), (120, 40, 8, 6, 10.0, 35, 0), (125, 90, 14, 5, 12.0, 0, 60),
    (40, 130, 9, 5, 7.5, 30, 10), (90, 135, 11, 6, 8.0, 20, 75),
]
#: The house with no footprint.
MISSING = 3


def scene(res: float, noise: float = 0.08, seed: int = 0):
    """A 160 m DSM on gently sloping ground with a 12 m hill, eight houses and a
    grove of trees (rough crowns), Gaussian noise ``noise`` (m)."""
    rng = np.random.default_rng(seed)
    n = int(160 / res)
    c = (np.arange(n) + 0.5) * res
    u, v = np.meshgrid(c, c)                        # east, south of the NW corner
    ground = 20.0 + 0.02 * u + 0.01 * v + 12.0 * np.exp(-((u - 150) ** 2 + (v - 150) ** 2) / (2 * 12.0 ** 2))
    z = ground.copy()
    footprints, truth = [], []
    for cx, cy, hu, hv, eave, pitch, angle in HOUSES:
        t = np.radians(angle)
        a = (u - cx) * np.cos(t) + (v - cy) * np.sin(t)
        b = -(u - cx) * np.sin(t) + (v - cy) * np.cos(t)
        inside = (np.abs(a) < hu) & (np.abs(b) < hv)
        base = 20.0 + 0.02 * cx + 0.01 * cy
        z[inside] = (base + eave + (hv - np.abs(b)) * np.tan(np.radians(pitch)))[inside]
        corners = np.array([[-hu, -hv], [hu, -hv], [hu, hv], [-hu, hv]])
        xy = np.c_[corners[:, 0] * np.cos(t) - corners[:, 1] * np.sin(t) + cx,
                   corners[:, 0] * np.sin(t) + corners[:, 1] * np.cos(t) + cy]
        footprints.append(shapely.Polygon(np.c_[X0 + xy[:, 0], Y0 - xy[:, 1]]))
        truth.append((4 * hu * hv, eave + hv * np.tan(np.radians(pitch)) / 2, pitch))
    trees = np.zeros_like(z)
    for tx, ty in rng.uniform([20, 100], [70, 110], (6, 2)):
        r = np.hypot(u - tx, v - ty)
        crown = np.where(r < 4.0, 9.0 + 1.5 * np.sqrt(np.maximum(16 - r * r, 0)) + rng.normal(0, 1.2, r.shape), 0)
        trees = np.maximum(trees, crown)
    z = np.maximum(z, np.where(trees > 0, ground + trees, -np.inf))
    z = (z + rng.normal(0, noise, z.shape)).astype(np.float32)
    return (Raster(z, X0, Y0, res), Raster(ground.astype(np.float32), X0, Y0, res),
            Raster(trees.astype(np.float32), X0, Y0, res), np.array(footprints, dtype=object), truth)


@pytest.mark.parametrize("res", [0.5, 1.0])
@pytest.mark.parametrize("with_dem", [True, False])
def test_the_house_without_footprint_is_found_and_nothing_else(res, with_dem):
    """With or without DEM and canopy: the one house the register lacks is reported with
    its area, height and pitch; the trees, the hill and the other houses are not."""
    dsm, dem, trees, footprints, truth = scene(res)
    kept = np.delete(footprints, MISSING)
    found = unmatched.unmatched_roofs(dsm, unmatched.burn(kept, dsm), dem if with_dem else None,
                                      trees if with_dem else None)
    assert len(found) == 1
    roof = found.iloc[0]
    area, height, pitch = truth[MISSING]
    assert roof["area_m2"] == pytest.approx(area, rel=0.15)
    assert roof["height_m"] == pytest.approx(height, abs=1.0)
    assert roof["tilt_deg"] == pytest.approx(pitch, abs=5.0)
    assert shapely.intersection(found.geometry.iloc[0], footprints[MISSING]).area > 0.8 * area
    # Every house has a footprint: nothing is reported.
    assert len(unmatched.unmatched_roofs(dsm, unmatched.burn(footprints, dsm), dem if with_dem else None,
                                         trees if with_dem else None)) == 0


@pytest.mark.parametrize("res", [0.5, 1.0])
@pytest.mark.parametrize("shift", [(1.0, 0.0), (0.0, -2.0), (1.5, 1.5), (-2.5, 0.8), (0.0, 0.0)])
def test_footprint_shift_is_estimated_within_half_a_metre(res, shift):
    dsm, dem, trees, footprints, _ = scene(res, noise=0.12, seed=3)
    raised, _ = unmatched.raised_mask(dsm)          # no DEM, no canopy: the hardest case
    moved = shapely.transform(footprints, lambda xy: xy + np.array(shift))
    s = alignment.footprint_shift(dsm, raised, unmatched.burn(moved, dsm))
    assert np.hypot(s.dx + shift[0], s.dy + shift[1]) <= 0.5
    assert alignment.significant(s) == (np.hypot(*shift) >= 1.0)


def test_too_few_footprint_cells_give_no_estimate():
    dsm, *_ = scene(1.0)
    small = unmatched.burn(np.array([shapely.box(X0, Y0 - 5, X0 + 5, Y0)]), dsm)
    assert alignment.footprint_shift(dsm, np.zeros(dsm.z.shape, bool), small) is None
    assert alignment.combine([None]) is None


def goteborg(tmp_path, shift=(0.0, 0.0), drop=(), align=False):
    config = load_config(REAL / "goteborg.yaml")
    config = config.model_copy(update={"dsm": config.dsm.model_copy(update={"align_footprints": align})})
    crs = "EPSG:3007"
    b = gpd.read_file(REAL / "buildings.gpkg").set_index("building_id")
    b = b.drop(index=list(drop))
    b["geometry"] = b.geometry.translate(*shift)
    b["geometry_valid"] = True
    mosaic = tiles.open_mosaic(REAL / "dsm", crs)
    dem = tiles.open_mosaic(REAL / "dem", crs)
    return dsm_match.footprints_on_dsm(config, b, crs, mosaic, dem), b


@pytest.mark.real_data
@pytest.mark.parametrize("shift", [(1.0, 0.0), (0.0, 2.0), (-1.4, -1.4), (2.0, -1.0)])
def test_goteborg_footprints_shifted_by_a_known_amount(tmp_path, shift):
    (b, layer, findings), given = goteborg(tmp_path, shift)
    found = [f for f in findings if "off the DSM" in f.problem]
    assert len(found) == 1 and found[0].level == "warning"
    dx, dy = (float(p.split()[1]) for p in found[0].value.split(", "))     # "dx -1.97 m, dy …"
    assert np.hypot(dx + shift[0], dy + shift[1]) <= 0.5
    assert f"{np.hypot(dx, dy):.1f} m off the DSM's buildings" in found[0].problem
    assert b.geometry.equals(given.geometry)            # not moved without align_footprints
    (moved, _, found), _ = goteborg(tmp_path, shift, align=True)
    back = shapely.get_coordinates(moved.geometry.to_numpy()) - shapely.get_coordinates(given.geometry.to_numpy())
    assert np.allclose(back, [dx, dy], atol=0.005)       # the finding's value is rounded to 1 cm
    assert any(f.level == "info" and "dsm.align_footprints" in f.problem for f in found)


@pytest.mark.real_data
def test_goteborg_dropped_footprints_become_unmatched_roofs(tmp_path):
    """The two largest footprints wholly on the rasters, dropped from the register,
    come back as raised roofs with no footprint and a finding; with every footprint
    nothing is reported."""
    (_, layer, findings), _ = goteborg(tmp_path)
    assert len(layer) == 0 and not any("no footprint" in f.problem for f in findings)
    all_b = gpd.read_file(REAL / "buildings.gpkg").set_index("building_id")
    dsm = tiles.open_mosaic(REAL / "dsm", "EPSG:3007")
    on = all_b[all_b.within(shapely.box(*dsm.bounds[0]))]
    drop = on.geometry.area.sort_values().index[-3:-1]
    (_, layer, findings), _ = goteborg(tmp_path, drop=drop)
    assert len(layer) == 2
    assert layer["roof_id"].tolist() == ["U1", "U2"]
    for bid in drop:
        hit = layer[layer.intersects(on.geometry[bid])]
        assert len(hit) == 1
        assert hit["area_m2"].iloc[0] == pytest.approx(on.geometry[bid].area, rel=0.25)
    text = next(f.problem for f in findings if "no footprint" in f.problem)
    assert text.startswith("2 raised roofs with no footprint") and "unmatched_roofs" in text
    # A register 2 m off the DSM, not moved: the same two roofs, no slivers of the others.
    (_, shifted, _), _ = goteborg(tmp_path, shift=(2.0, 0.0), drop=drop)
    assert len(shifted) == 2


def test_a_dem_window_a_pixel_off_is_cut_to_the_dsm_window():
    """A warped mosaic's snapped DEM window can differ from the DSM's by a pixel: it is cut
    or padded (no data) to the DSM's shape instead of failing the check."""
    dsm = Raster(np.zeros((10, 10), np.float32), X0, Y0, 1.0)
    dem = Raster(np.ones((11, 9), np.float32), X0, Y0, 1.0)
    fitted = dsm_match._on(dsm, dem)
    assert fitted.z.shape == (10, 10)
    assert np.isnan(fitted.z[:, 9]).all() and (fitted.z[:, :9] == 1).all()
    raised, height = unmatched.raised_mask(dsm, fitted)
    assert raised.shape == (10, 10) and not raised.any()


@pytest.mark.parametrize("shape", [(1, 1), (2, 5), (3, 3), (64, 97)])
def test_the_rough_cells_counted_are_those_of_the_median_filter(shape):
    # Values on a coarse grid (ties with each other and with the threshold), edges
    # reflected; with a NaN the median filter itself decides.
    rng = np.random.default_rng(7)
    values = np.round(np.abs(rng.normal(0.0, 0.6, shape)), 1)
    expected = ndimage.median_filter(values, size=3) > 0.5
    np.testing.assert_array_equal(unmatched._median_above(values, 0.5), expected)
    values[0, 0] = np.nan
    np.testing.assert_array_equal(unmatched._median_above(values, 0.5), ndimage.median_filter(values, size=3) > 0.5)


def test_gradient_at_cells_equals_numpys_gradient_there():
    rng = np.random.default_rng(11)
    big = (rng.normal(size=(50, 40)) * 10).astype(np.float32)
    for z in (big[:2, :2], big[:3, :7], big, big[5:45, 3:-6]):  # views too: a DSM window's cut
        cells = np.flatnonzero(rng.random(z.size) < 0.5)
        cells = np.r_[cells, 0, z.size - 1, z.shape[1] - 1]  # corners: one-sided on both axes
        whole = np.gradient(z.astype(float), 0.7)
        for at_cells, grid in zip(gradient_at(z, 0.7, cells), whole):
            np.testing.assert_array_equal(at_cells, grid.ravel()[cells])  # bit for bit
