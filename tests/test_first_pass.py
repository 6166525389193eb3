"""Inputs read per partition (roofpv.inputs.first_pass): a run whose partitions read
their own footprints and survey rows gives the one-piece run's results, every column,
also where footprints overlap across partition borders and in every vector format."""

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from shapely import affinity

from roofpv.config import load_config
from roofpv.findings import Finding, findings_frame
from roofpv.inputs import first_pass
from roofpv.run import engine
from roofpv.run.pipeline import run

from .conftest import ROOT

SAMPLE = ROOT / "data" / "sample"
#: Relative tolerance of numbers between the two paths (they are in fact equal).
RTOL = 1e-9


def _messy_footprints(n: int = 400) -> gpd.GeoDataFrame:
    """The first ``n`` sample footprints and what real layers hold besides: copies
    shrunk inside their original (building parts), copies shifted to overlap it by a
    third, a copy inside a shifted copy (a chain), a repeated and a blank id, a
    self-intersecting ring and a 2 m² sliver; none of the added ones has a survey row."""
    fp = pyogrio.read_dataframe(SAMPLE / "footprints.gpkg").iloc[:n].reset_index(drop=True)
    g = fp.geometry
    width = (g.bounds["maxx"] - g.bounds["minx"]).to_numpy()
    added = []
    for k in range(0, n, 13):
        added.append((f"PART{k}", affinity.scale(g[k], 0.6, 0.6)))
        shifted = affinity.translate(g[k], width[k] / 3)
        added.append((f"SHIFT{k}", shifted))
        added.append((f"INNER{k}", affinity.scale(shifted, 0.5, 0.5)))
    x, y = g[5].centroid.x, g[5].centroid.y
    added.append(("BOWTIE", shapely.Polygon([(x, y), (x + 2e-4, y + 2e-4), (x + 2e-4, y), (x, y + 2e-4)])))
    added.append(("SLIVER", shapely.box(x + 3e-4, y, x + 3e-4 + 1e-5, y + 2e-5)))
    added.append((fp.at[7, "building_id"], affinity.translate(g[7], 0.0, 1e-3)))  # repeated id
    added.append((None, affinity.translate(g[9], 0.0, 1e-3)))  # blank id
    extra = gpd.GeoDataFrame({"building_id": [a for a, _ in added]}, geometry=[b for _, b in added],
                             crs=fp.crs)
    # Interleaved, so that a footprint and its copies fall in different partitions.
    out = pd.concat([fp, extra], ignore_index=True)
    order = np.random.default_rng(3).permutation(len(out))
    return gpd.GeoDataFrame(out.iloc[order].reset_index(drop=True), crs=fp.crs)


@pytest.fixture(scope="module")
def messy(tmp_path_factory):
    """Configs of the sample without DSM on the messy footprints, in GeoPackage and
    FlatGeobuf. Facades off: their walls see the partition's grid north and no
    neighbours outside it, in any partitioned run."""
    folder = tmp_path_factory.mktemp("messy")
    fp = _messy_footprints()
    configs = {}
    for suffix, driver in ((".gpkg", "GPKG"), (".fgb", "FlatGeobuf")):
        path = folder / f"footprints{suffix}"
        pyogrio.write_dataframe(fp, path, driver=driver)
        config = folder / f"messy{suffix}.yaml"
        config.write_text(f"extends: {ROOT / 'configs' / 'pinghu.yaml'}\ninputs:\n  footprints: {path}\n"
                          "dsm:\n  tiles: null\nsurfaces:\n  layers: []\n", encoding="utf-8")
        configs[suffix] = load_config(config)
    return configs


def assert_same_frame(a: pd.DataFrame, b: pd.DataFrame, name: str) -> None:
    """Same index and columns; numbers within :data:`RTOL`, everything else equal,
    geometries coordinate for coordinate."""
    assert list(a.columns) == list(b.columns), name
    assert a.index.equals(b.index), name
    for column in a.columns:
        x, y = a[column], b[column]
        if isinstance(x.dtype, gpd.array.GeometryDtype):
            same = shapely.equals_exact(x.to_numpy(), y.to_numpy(), 0.0) | (x.isna() & y.isna()).to_numpy()
        elif pd.api.types.is_float_dtype(x) and pd.api.types.is_float_dtype(y):
            same = np.isclose(x, y, rtol=RTOL, atol=0.0, equal_nan=True)
        else:
            x, y = x.astype(object), y.astype(object)
            same = (x.where(x.notna(), None).to_numpy() == y.where(y.notna(), None).to_numpy())
        assert np.all(same), f"{name}.{column}: {x[~same].head(3).tolist()} ≠ {y[~same].head(3).tolist()}"


def assert_same_results(a, b) -> None:
    assert_same_frame(a.buildings, b.buildings, "buildings")
    assert_same_frame(a.townships, b.townships, "townships")
    assert_same_frame(a.plan, b.plan, "plan")
    if a.pv_arrays is not None:
        assert_same_frame(a.pv_arrays, b.pv_arrays, "pv_arrays")
    pd.testing.assert_frame_equal(findings_frame(a.findings), findings_frame(b.findings))


@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".gpkg", ".fgb"])
def test_partitions_reading_their_own_inputs_give_the_one_piece_results(messy, suffix, tmp_path):
    config = messy[suffix]
    assert first_pass.supported(config)
    whole = run(config)
    b = whole.buildings
    # what the layer holds reached the buildings: parts, cut overlaps, a repaired ring
    assert b["overlap_of"].notna().sum() >= 30 and (b["overlap_share"].between(0.01, 0.5)).sum() >= 5
    problems = {f.problem for f in whole.findings}
    assert "invalid polygon (self-intersection or bad ring) repaired" in problems
    assert any(p.startswith("duplicate building_id") for p in problems)

    parted = engine.run_partitions(config, tmp_path, partitions=20, by="spatial")
    assert_same_results(whole, parted)
    # The partitions read footprints beyond their own, and some of those decide an overlap.
    reads = [pd.read_pickle(p) for p in sorted((tmp_path / ".partitions").glob("*.inputs.pkl"))]
    assert len(reads) == 20 and sum(r["own"].sum() < len(r["ids"]) for r in reads) >= 5
    owner = {bid: k for k, r in enumerate(reads) for bid in r["ids"][r["own"]]}
    pairs = b[b["overlap_of"].notna()]
    assert sum(owner[i] != owner[j] for i, j in pairs["overlap_of"].items()) >= 3


@pytest.mark.slow
def test_surface_sites_of_a_run_read_per_partition_are_the_one_piece_sites(tmp_path):
    # The sample's surfaces with buildings on two of them (one inside, one over the edge)
    # and a second layer 1° away (another place's, left out with a finding): the sites are
    # cut to open ground from the outlines the partitions stored, as from the whole layer.
    fp = _messy_footprints(200)
    surfaces = pyogrio.read_dataframe(SAMPLE / "surfaces.gpkg")
    on = [("ONSITE", affinity.scale(surfaces.geometry[0], 0.3, 0.3)),
          ("OVERSITE", affinity.translate(surfaces.geometry[4], 0.5 * np.ptp(surfaces.geometry[4].exterior.xy[0])))]
    fp = pd.concat([fp, gpd.GeoDataFrame({"building_id": [i for i, _ in on]}, geometry=[g for _, g in on],
                                         crs=fp.crs)], ignore_index=True)
    pyogrio.write_dataframe(fp, tmp_path / "footprints.gpkg")
    far = surfaces.assign(编号=surfaces["编号"] + "-far", geometry=surfaces.geometry.translate(1.0, 0.0))
    pyogrio.write_dataframe(far, tmp_path / "far.gpkg", layer="surfaces")
    layer = "layer: surfaces\n      type_column: 类型\n      id_column: 编号"
    (tmp_path / "c.yaml").write_text(
        f"extends: {ROOT / 'configs' / 'pinghu.yaml'}\ninputs:\n  footprints: {tmp_path / 'footprints.gpkg'}\n"
        f"dsm:\n  tiles: null\nfacades:\n  enabled: false\nsurfaces:\n  layers:\n"
        f"    - file: {SAMPLE / 'surfaces.gpkg'}\n      {layer}\n    - file: {tmp_path / 'far.gpkg'}\n      {layer}\n",
        encoding="utf-8")
    config = load_config(tmp_path / "c.yaml")
    assert first_pass.supported(config)
    whole = run(config)
    cut = whole.surfaces.set_index("surface_id")
    assert cut.at["CP01", "open_area_m2"] == pytest.approx(cut.at["CP01", "area_m2"] * (1 - 0.3 ** 2), rel=1e-3)
    assert cut.at["WW01", "open_area_m2"] < 0.6 * cut.at["WW01", "area_m2"]
    assert not cut.index.str.endswith("-far").any()
    assert any("surfaces lie" in f.problem for f in whole.findings)

    parted = engine.run_partitions(config, tmp_path / "out", partitions=4)
    assert_same_frame(whole.surfaces, parted.surfaces, "surfaces")
    assert_same_results(whole, parted)


def test_surroundings_are_two_rings_deep():
    # A chain of boxes each touching the next: two rings around box 0 reach box 2.
    bounds = np.array([[0.0, 0, 1, 1], [1, 0, 2, 1], [2, 0, 3, 1], [3, 0, 4, 1], [10, 10, 11, 11]])
    index = first_pass.Boxes(bounds, np.arange(len(bounds)))
    assert first_pass.surroundings(bounds, np.array([0]), index).tolist() == [0, 1, 2]
    assert first_pass.surroundings(bounds, np.array([4]), index).tolist() == [4]


def test_boxes_meet_what_a_tree_of_their_extents_meets():
    # Small boxes on a grid (so that many touch exactly), a few large ones, points, boxes
    # without bounds; queries of every size, some outside the indexed extent, one over
    # more cells than hold boxes (compared with every box).
    rng = np.random.default_rng(7)
    corner = np.round(rng.uniform(0, 2000, (6000, 2)))
    size = np.r_[rng.choice([0.0, 5, 10, 20], 5950), rng.uniform(200, 900, 50)]
    bounds = np.column_stack([corner, corner + size[:, None] * [1, 1]])
    bounds[rng.choice(6000, 40, replace=False)] = np.nan
    valid = np.flatnonzero(~np.isnan(bounds).any(axis=1))
    index = first_pass.Boxes(bounds, valid)
    tree = shapely.STRtree(shapely.box(*bounds[valid].T))
    for q in (bounds[rng.choice(valid, 300)], bounds[rng.choice(valid, 9000)] + [-61.5, -61.5, 61.5, 61.5],
              np.array([[-500.0, -500, -1, -1], [-500, -500, 0, 0], [1000, 1000, 1000, 1000], [-1e4, -1e4, 1e4, 1e4]])):
        expected = valid[np.unique(tree.query(shapely.box(*q.T))[1])]
        assert index.query(q).tolist() == expected.tolist()
        index.BLOCK = 997  # the query's cells looked in a few at a time
        assert index.query(q).tolist() == expected.tolist()
        del index.BLOCK
    assert index.query(np.array([[np.nan] * 4])).size == 0
    small = valid[size[valid] <= 20]  # boxes up to the cell's side are filed in at most 4 cells
    assert first_pass.Boxes(bounds, small).boxes.size <= 4 * len(small)


def test_bounds_are_projected_around_the_outline():
    # A 20 m footprint in lon/lat: its projected outline lies inside the projected bounds.
    square = shapely.box(121.0, 30.7, 121.0002, 30.7002)
    box = first_pass.project_bounds(np.array([square.bounds]), "EPSG:4490", "EPSG:4549")[0]
    outline = gpd.GeoSeries([square], crs="EPSG:4490").to_crs("EPSG:4549").iloc[0]
    assert shapely.box(*box).contains(outline)
    assert np.allclose(box, np.array(outline.bounds) + [-1, -1, 1, 1], atol=1e-3)


@pytest.mark.slow
def test_a_county_of_100k_read_per_partition_gives_the_one_piece_results(tmp_path, county_100k):
    config, whole = county_100k
    parted = engine.run_partitions(config, tmp_path / "out", partitions=6)
    assert_same_results(whole, parted)


def test_first_pass_plans_buildings_without_a_surveyed_township_by_their_location():
    config = load_config(ROOT / "configs" / "pinghu.yaml").model_copy(deep=True)
    from roofpv.io import readers
    from roofpv.run.pipeline import analysis_crs

    polygons, _ = readers.read_townships(SAMPLE / "townships.gpkg", None, "township", None)
    catalogue, findings, (sample, (n, total, _)) = first_pass.scan(
        config, analysis_crs(config), polygons, pd.Series(dtype=object))
    assert isinstance(catalogue.township, pd.Categorical)
    assert len(catalogue.ids) == total == 3449 and n == 3449 and len(sample) == 3449
    assert catalogue.ids[0] == "CQ00001" and not findings
    located = pd.Series(catalogue.township).value_counts()
    assert set(located.index) <= set(polygons.index) | {"未知"} and located.get("未知", 0) < 30


@pytest.mark.slow
def test_a_csv_survey_spilled_in_blocks_gives_the_one_piece_results(messy, tmp_path, monkeypatch):
    # The sample's survey as CSV with a repeated id across blocks and a ragged row, read in
    # blocks of 500 rows: the partitions' survey rows come from the blocks on disk.
    from roofpv.io import readers

    cells = pd.read_excel(SAMPLE / "survey.xlsx", header=None, dtype=object, engine="calamine")
    lines = cells.to_csv(index=False, header=False).splitlines()
    lines[1200] = lines[3].replace(",", ",,", 1)  # an unquoted comma: this row is skipped
    lines[2400] = lines[5]  # repeats a row of the first block
    (tmp_path / "survey.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    config = messy[".gpkg"]
    config = config.model_copy(update={"inputs": config.inputs.model_copy(update={"survey": tmp_path / "survey.csv"})})
    monkeypatch.setattr(readers, "CSV_BLOCK_ROWS", 500)
    whole = run(config)
    problems = [f.problem for f in whole.findings]
    assert any(p.startswith("duplicate building id") for p in problems)
    assert any(p.startswith("row has") for p in problems)
    parted = engine.run_partitions(config, tmp_path / "out", partitions=12, by="spatial")
    assert_same_results(whole, parted)
    assert not list((tmp_path / "out").glob(".survey-*"))  # the blocks are removed


def _read_per_partition(cfg):
    """``cfg`` without DSM and surface layers: read per partition."""
    cfg = cfg.model_copy(update={"dsm": cfg.dsm.model_copy(update={"tiles": None}),
                                 "surfaces": cfg.surfaces.model_copy(update={"layers": []})})
    assert first_pass.supported(cfg)
    return cfg


def test_the_first_pass_in_its_child_reads_gbk_and_reports_as_in_one_piece(config, tmp_path):
    # A GBK shapefile without .cpg (Chinese id column and names), read by the child
    # process: the ids decoded, the encoding finding and the survey's match come back.
    from roofpv.errors import InputError
    from roofpv.run.pipeline import scan_inventory

    from .test_county_files import gbk_case, with_files

    case, fp, towns = gbk_case(tmp_path)
    cfg = _read_per_partition(with_files(case, config, fp, towns, footprints_id_column="编号"))
    inventory, scan = scan_inventory(cfg, tmp_path / "spill")
    assert scan.catalogue.ids.tolist() == ["A", "B", "C"]
    assert scan.catalogue.rows.tolist() == [0, 1, 2]  # each footprint's survey row
    said = [f for f in inventory.findings if f.problem.startswith("shapefile has no .cpg")]
    assert [Path(f.file).name for f in said] == ["建筑.shp", "乡镇.shp"]
    assert said[0].problem.endswith("read as GBK (its text decodes as Chinese), e.g. '当湖街道东湖大厦'")
    scan.survey.close()
    # An error raised in the child reaches the caller as the same error and message.
    cfg = cfg.model_copy(update={"inputs": cfg.inputs.model_copy(update={"footprints_id_column": "建筑编号"})})
    with pytest.raises(InputError, match=r"footprints have no id column '建筑编号'; columns are \['编号', '名称'\]"):
        scan_inventory(cfg, tmp_path / "spill")


def test_a_bad_footprint_layer_stops_the_survey_with_a_message_not_a_traceback(tmp_path, capsys):
    from roofpv.cli import main

    fp = pyogrio.read_dataframe(SAMPLE / "footprints.gpkg").iloc[:20].rename(columns={"building_id": "编号"})
    pyogrio.write_dataframe(fp, tmp_path / "fp.gpkg")
    (tmp_path / "c.yaml").write_text(
        f"extends: {ROOT / 'configs' / 'pinghu.yaml'}\ninputs:\n  footprints: {tmp_path / 'fp.gpkg'}\n"
        "dsm:\n  tiles: null\nsurfaces:\n  layers: []\n", encoding="utf-8")
    assert first_pass.supported(load_config(tmp_path / "c.yaml"))
    assert main(["survey", str(tmp_path / "c.yaml"), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "error:" in err and "footprints have no id column 'building_id'" in err
    assert "Set inputs.footprints_id_column" in err and "Traceback" not in err


def test_unserved_footprints_are_those_naming_no_transformer_of_the_table(tmp_path):
    # Survey rows naming a transformer of the table, one not in it, none; footprints
    # without a survey row: the same footprints as a lookup of every id finds.
    from roofpv.io import survey_spill

    table = pd.DataFrame({"township": ["甲镇"] * 4, "transformer_id": ["T1", "T9", None, "T2"]},
                         index=pd.Index(["a", "b", "c", "d"], name="building_id"))
    survey = survey_spill.from_table(table, tmp_path)
    ids = pd.Index(["d", "x", "a", "b", "c"], name="building_id")
    bounds = np.arange(20.0).reshape(5, 4)
    catalogue = first_pass.Catalogue(ids=ids, fids=np.arange(5), bounds=bounds, township=pd.Categorical(["甲镇"] * 5),
                                     source_crs="EPSG:4549", rows=np.array([3, -1, 0, 1, 2]))
    scan = first_pass.Scan(catalogue=catalogue, survey=survey, survey_dtypes=table.dtypes, polygons=None, layout=())
    transformers = pd.DataFrame({"capacity_kva": [400, 630]}, index=pd.Index(["T1", "T2"], name="transformer_id"))
    lost = scan.unserved(transformers, "EPSG:4549")
    looked_up = survey.keys["transformer_id"].reindex(ids).astype(object)
    assert ids[lost.index].tolist() == ids[~looked_up.isin(transformers.index)].tolist() == ["x", "b", "c"]
    assert lost["transformer_id"].tolist()[1] == "T9" and pd.isna(lost["transformer_id"]).tolist() == [True, False, True]
    assert lost.geometry.x.tolist() == [5.0, 13.0, 17.0]  # the centres of their bounds (x: 4–6, 12–14, 16–18)
    survey.close()


def test_findings_are_placed_by_the_catalogue_positions_of_the_ids_they_name():
    ids = pd.Index(np.array(["b7", "a1", "c3", "d4"]).astype(str), name="building_id")
    catalogue = first_pass.Catalogue(ids=ids, fids=np.arange(4), bounds=np.zeros((4, 4)),
                                     township=pd.Categorical(["甲镇"] * 4), source_crs="EPSG:4549")
    scan = first_pass.Scan(catalogue=catalogue, survey=None, survey_dtypes=pd.Series(), polygons=None, layout=())
    assert scan.positions(["c3", None, "b7", "elsewhere", "c3"]).to_dict() == {"b7": 0, "c3": 2}
    fix = "give each footprint its own id"
    found = [[Finding("warning", "f", None, i, None, None, "p", fix) for i in ("c3", "zz", "b7")],
             [Finding("warning", "f", None, "a1", None, None, "p", fix)]]
    assert [f.building_id for f in first_pass.gather_findings(found, scan.positions(["c3", "zz", "b7", "a1"]))] == [
        "zz", "b7", "a1", "c3"]  # an id the catalogue does not hold first, as in one piece
