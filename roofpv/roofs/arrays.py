"""PV arrays as map features: the module rows of the layout drawn on their roofs.

The layout (:mod:`roofpv.roofs.layout`) places modules in runs of consecutive cells along
the rows of each plane's local frame (:mod:`roofpv.roofs.roof`). Here each run becomes one
rectangle from the first module's edge to the last's, gaps between modules included,
and each row becomes one feature, a MultiPolygon of its runs (a row splits
into several runs where the roof outline interrupts it), mapped back to the projected
CRS. Geometries are horizontal footprints (plan view), like every area in roofpv.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from roofpv.roofs.layout import module_runs

#: Columns of the frame :func:`module_rows` returns.
ROW_COLUMNS = ["building_id", "plane", "row", "modules", "kwp", "module_tilt_deg",
               "azimuth_deg", "geometry"]


def module_rows(planes: pd.DataFrame, width_m: float, gap_m: float, power_w: float,
                runs: dict[str, np.ndarray] | None = None) -> pd.DataFrame:
    """Module rows of ``planes`` as polygons in the projected CRS.

    Parameters
    ----------
    planes : DataFrame, one row per plane: ``building_id``, ``plane``, ``azimuth_deg``,
        ``module_tilt_deg``, ``local`` (plane polygon after setbacks, local frame),
        ``centre_x``/``centre_y``/``rotation_deg`` (the frame, as from
        :func:`roofpv.roofs.roof.roof_planes`), ``module_depth_m`` (horizontal depth of a
        module, m), ``row_pitch_m`` (front edge to front edge, m) and optionally
        ``module_width_m`` (along the row, m: landscape rows; default ``width_m``)
    width_m, gap_m : module width along the row and gap between modules (m)
    power_w : module rating (W)
    runs : the layout's runs of modules (:func:`roofpv.roofs.layout.module_runs`, ``polygon``
        = position in ``planes``), so the rows are drawn from the cells the layout
        counted; default: packed here

    Returns
    -------
    DataFrame with :data:`ROW_COLUMNS`: ``row`` counts grid rows from the front (the
    lowest edge of the plane, 0), ``modules`` and ``kwp`` are the row's, ``geometry``
    is a MultiPolygon of the row's runs. Ordered by plane, then row.
    """
    depth = planes["module_depth_m"].to_numpy(float)
    width = (planes["module_width_m"].to_numpy(float) if "module_width_m" in planes
             else np.full(len(planes), width_m))
    if runs is None:
        runs = module_runs(planes["local"].to_numpy(), width, gap_m, depth,
                           planes["row_pitch_m"].to_numpy(float))
    owner, row, n = runs["polygon"], runs["row"], runs["modules"]
    if len(owner) == 0:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in ROW_COLUMNS})
    # Each run's rectangle, corners in the order of shapely.box, mapped to the projected
    # CRS with the inverse of roofpv.roofs.roof.to_local and built in one pass.
    x0, y0 = runs["x"], runs["y"]
    x1, y1 = x0 + n * (width[owner] + gap_m) - gap_m, y0 + depth[owner]
    x = np.stack([x1, x1, x0, x0, x1], axis=1)
    y = np.stack([y0, y1, y1, y0, y0], axis=1)
    theta = np.radians(planes["rotation_deg"].to_numpy(float)[owner])[:, None]
    cos, sin = np.cos(theta), np.sin(theta)
    xy = np.empty((len(owner), 5, 2))
    xy[..., 0] = x * cos + y * sin + planes["centre_x"].to_numpy(float)[owner, None]
    xy[..., 1] = -x * sin + y * cos + planes["centre_y"].to_numpy(float)[owner, None]

    first = np.r_[True, (owner[1:] != owner[:-1]) | (row[1:] != row[:-1])]
    run_row = np.cumsum(first) - 1
    modules = np.bincount(run_row, weights=n).astype(np.int64)
    geometry = shapely.from_ragged_array(
        shapely.GeometryType.MULTIPOLYGON, xy.reshape(-1, 2),
        (np.arange(0, 5 * len(owner) + 1, 5), np.arange(len(owner) + 1),
         np.r_[np.flatnonzero(first), len(owner)]))
    take = owner[first]
    return pd.DataFrame({
        "building_id": planes["building_id"].to_numpy()[take],
        "plane": planes["plane"].to_numpy(int)[take],
        "row": row[first],
        "modules": modules,
        "kwp": modules * power_w / 1000.0,
        "module_tilt_deg": planes["module_tilt_deg"].to_numpy(float)[take],
        "azimuth_deg": planes["azimuth_deg"].to_numpy(float)[take],
        "geometry": geometry,
    })
