"""The partitioned engine: partitioning, identity with the one-piece pipeline (locally
and on a Dask cluster) and resuming an interrupted run."""

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from roofpv.cli import main
from roofpv.config import load_config
from roofpv.inputs.ids import positions
from roofpv.io import partitions
from roofpv.io.outputs import write_outputs
from roofpv.run import engine, pipeline
from roofpv.run.pipeline import run

from .conftest import ROOT

CONFIG = ROOT / "configs" / "pinghu.yaml"


def _frame(townships, xs):
    return gpd.GeoDataFrame({"township": townships}, geometry=shapely.points(xs, np.zeros(len(xs))),
                            crs="EPSG:4549")


def test_townships_are_kept_whole_and_balanced():
    # Sizes A 5, B 3, C 2, D 2 into 2 partitions, largest first to the lighter one:
    # A→0 (5), B→1 (3), C→1 (5), D→0 (tie, first) → 7 and 5 buildings.
    towns = ["A"] * 5 + ["B"] * 3 + ["C"] * 2 + ["D"] * 2
    labels = engine.partition_labels(_frame(towns, np.arange(12.0)), 2, "township")
    assert labels.tolist() == [0] * 5 + [1] * 3 + [1] * 2 + [0] * 2


def test_spatial_partitions_are_equal_runs_along_the_hilbert_curve():
    rng = np.random.default_rng(1)
    frame = gpd.GeoDataFrame(geometry=shapely.points(rng.uniform(0, 1000, (9, 2))), crs="EPSG:4549")
    labels = engine.partition_labels(frame, 3, "spatial")
    assert np.bincount(labels).tolist() == [3, 3, 3]
    distance = frame.geometry.hilbert_distance().to_numpy()
    assert (np.diff(labels[np.argsort(distance, kind="stable")]) >= 0).all()


def test_more_partitions_than_buildings_and_bad_choice():
    frame = _frame(["A", "B"], [0.0, 1.0])
    assert sorted(engine.partition_labels(frame, 5, "spatial").tolist()) == [0, 1]
    with pytest.raises(ValueError, match="township, spatial"):
        engine.partition_labels(frame, 2, "county")


@pytest.fixture(scope="module")
def reference(pinghu_plan_out):
    """The one-piece pipeline's outputs on the sample (DSM included)."""
    return pinghu_plan_out


@pytest.fixture(scope="module")
def flat_config(tmp_path_factory):
    """The sample without DSM tiles (faster), as a config file for the CLI."""
    path = tmp_path_factory.mktemp("flat") / "flat.yaml"
    path.write_text(f"extends: {CONFIG}\ndsm:\n  tiles: null\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def flat_reference(tmp_path_factory, flat_config):
    out = tmp_path_factory.mktemp("flat_reference")
    write_outputs(run(load_config(flat_config)), out, plan=True)
    return out


#: Tolerance of the partitioned run's coordinates against the one-piece run's [m]: none,
#: they are the same numbers.
GEOMETRY_TOLERANCE_M = 0.0


def _layers(folder):
    """Every layer of roofpv.gpkg, rows in the file's order (a partitioned run writes the
    one-piece run's order), but ``roof_planes`` by building and plane: the one-piece run
    keeps the DSM stage's order, a partitioned run sorts them."""
    layers = {}
    for name in pyogrio.list_layers(folder / "roofpv.gpkg")[:, 0]:
        frame = pyogrio.read_dataframe(folder / "roofpv.gpkg", layer=name)
        if name == "roof_planes":
            frame = frame.sort_values(["building_id", "plane"], kind="stable").reset_index(drop=True)
        layers[name] = frame.drop(columns=["update_time"], errors="ignore")  # layer_styles: write time
    return layers


def assert_same_outputs(folder, reference):
    ours, theirs = _layers(folder), _layers(reference)
    assert sorted(ours) == sorted(theirs)
    for name in theirs:
        a, b = ours[name], theirs[name]
        if isinstance(b, gpd.GeoDataFrame):
            assert a.geometry.geom_equals_exact(b.geometry, GEOMETRY_TOLERANCE_M).all(), name
            a, b = a.drop(columns="geometry"), b.drop(columns="geometry")
        pd.testing.assert_frame_equal(a, b, obj=name)
    for table in ("townships.csv", "rollout_plan.csv", "plan_status.csv", "trajectory.csv"):
        assert (folder / table).read_bytes() == (reference / table).read_bytes(), table


@pytest.mark.dask
def test_dask_engine_gives_the_same_layers(tmp_path, reference):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        code = main(["plan", str(CONFIG), "--out", str(tmp_path), "--quiet", "--engine", "dask",
                     "--scheduler", cluster.scheduler_address, "--partitions", "3",
                     "--partition-by", "spatial"])
    assert code == 0
    assert "roof_planes" in pyogrio.list_layers(tmp_path / "roofpv.gpkg")[:, 0]
    assert_same_outputs(tmp_path, reference)
    assert not (tmp_path / partitions.CACHE_DIR).exists()


def _name(part):
    """A partition's first building, or the file of what it reads itself."""
    return part.name if isinstance(part, Path) else part.index[0]


@pytest.mark.slow
def test_interrupted_run_resumes_without_redoing_finished_partitions(
    tmp_path, flat_config, flat_reference, monkeypatch,
):
    real = engine.assess_partition
    calls = []

    def failing_third(part, neighbours, shared, *rest):
        calls.append(_name(part))
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(part, neighbours, shared, *rest)

    monkeypatch.setattr(engine, "assess_partition", failing_third)
    args = ["plan", str(flat_config), "--out", str(tmp_path), "--quiet", "--partitions", "4"]
    with pytest.raises(KeyboardInterrupt):
        main(args)
    cached = sorted(p.name for p in (tmp_path / partitions.CACHE_DIR).glob("[0-9].parquet"))
    assert len(cached) == 2
    assert not (tmp_path / "roofpv.gpkg").exists()

    first_two = list(calls[:2])
    calls.clear()
    monkeypatch.setattr(engine, "assess_partition", lambda *a: (calls.append(_name(a[0])), real(*a))[1])
    assert main([*args, "--resume"]) == 0
    assert len(calls) == 2 and not set(calls) & set(first_two)
    assert_same_outputs(tmp_path, flat_reference)


def test_resume_recomputes_when_the_inputs_changed(tmp_path, config):
    cache = partitions.PartitionCache(tmp_path, "fingerprint-1", resume=False)
    frame = gpd.GeoDataFrame({"x": [1.0]}, geometry=[shapely.Point(0, 0)], crs="EPSG:4549")
    cache.store(0, frame, None, None)
    assert partitions.PartitionCache(tmp_path, "fingerprint-1", resume=True).done(0)
    assert not partitions.PartitionCache(tmp_path, "fingerprint-2", resume=True).done(0)
    key = engine.fingerprint(config, 4, "township", True)
    assert key == engine.fingerprint(config, 4, "township", True)
    assert key != engine.fingerprint(config, 5, "township", True)
    assert key != engine.fingerprint(config, 4, "township", False)
    assert key != engine.fingerprint(config.model_copy(update={"crs": "EPSG:4550"}), 4, "township",
                                     True)


@pytest.mark.slow
def test_geoparquet_output(tmp_path, flat_config, flat_reference):
    assert main(["survey", str(flat_config), "--out", str(tmp_path), "--quiet", "--format", "parquet",
                 "--partitions", "2"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "buildings.parquet", "facades.parquet", "feeders.parquet", "findings.csv", "monthly_yield.parquet",
        "pv_arrays.parquet", "report", "roofpv-manifest.json", "run_info.parquet", "surfaces.parquet",
        "townships.csv", "townships.parquet", "transformer_areas.parquet", "transformers.parquet",
    ]
    ours = gpd.read_parquet(tmp_path / "buildings.parquet").set_index("building_id")
    theirs = pyogrio.read_dataframe(flat_reference / "roofpv.gpkg", layer="buildings").set_index("building_id")
    assert ours.crs == theirs.crs
    assert ours.index.equals(theirs.index)
    np.testing.assert_array_equal(ours["annual_kwh"], theirs["annual_kwh"])
    assert (ours["suitability"] == theirs["suitability"]).all()


@pytest.mark.dask
def test_dask_cli_on_a_local_process_cluster_with_dsm_tiles(tmp_path, reference):
    """`roofpv plan --engine dask` as a user types it: a local cluster of worker processes
    (daemonic, so the DSM stage must not start a process pool inside them), DSM tiles on."""
    pytest.importorskip("distributed")
    assert load_config(CONFIG).dsm.tiles is not None and load_config(CONFIG).dsm.workers > 1
    code = main(["plan", str(CONFIG), "--out", str(tmp_path), "--quiet", "--engine", "dask",
                 "--workers", "2", "--partitions", "2", "--no-report"])
    assert code == 0
    assert "roof_planes" in pyogrio.list_layers(tmp_path / "roofpv.gpkg")[:, 0]
    assert_same_outputs(tmp_path, reference)


def _store(cache, k, ids, values, extra):
    frame = gpd.GeoDataFrame({"building_id": ids, "x": values, "note": extra},
                             geometry=shapely.points(np.arange(len(ids)), 0.0), crs="EPSG:4549")
    arrays = gpd.GeoDataFrame({"building_id": np.repeat(ids, 2), "plane": 0, "row": [1, 0] * len(ids)},
                              geometry=shapely.points(np.arange(2 * len(ids)), 1.0), crs="EPSG:4549")
    cache.store(k, frame.set_index("building_id"), None, arrays)


def test_partitions_read_back_in_chunks_in_the_one_piece_order_and_dtypes(tmp_path):
    """Interleaved ids, an int column in one partition and float in another, text in one
    and None in the other: chunks give the rows, order and dtypes of the one-piece frame."""
    cache = partitions.PartitionCache(tmp_path, "key", resume=False)
    _store(cache, 0, ["d", "a", "f"], [1, 2, 3], [None, None, None])
    _store(cache, 1, ["c", "b", "e"], [0.5, np.nan, 2.5], ["x", None, "=y"])
    ids = pd.Index(["f", "a", "b", "c", "d", "e"], name="building_id")
    source = partitions.Partitions(cache.dir, (0, 1), ids, "EPSG:4549", ("arrays",))
    whole = pd.concat([gpd.read_parquet(cache.dir / f"{k}.parquet") for k in (0, 1)])
    whole = whole.reindex(ids).infer_objects()
    chunks = list(source.chunks("buildings", rows=2))
    assert [len(c) for c in chunks] == [2, 2, 2]
    got = pd.concat(chunks)
    assert list(got.index) == list(ids)
    pd.testing.assert_frame_equal(got.drop(columns="geometry"), pd.DataFrame(whole.drop(columns="geometry")))
    assert gpd.GeoSeries.from_wkb(got["geometry"], crs="EPSG:4549").geom_equals(whole.geometry).all()
    pd.testing.assert_frame_equal(source.read(["x", "note"]), pd.DataFrame(whole[["x", "note"]]))
    # an id no partition holds reads blank, as reindexing leaves it
    more = ids.append(pd.Index(["z"], name="building_id"))
    got = partitions.Partitions(cache.dir, (0, 1), more, "EPSG:4549").read(["x", "note"])
    pd.testing.assert_frame_equal(got, pd.DataFrame(whole.reindex(more).infer_objects()[["x", "note"]]))
    assert np.isnan(got.at["z", "x"]) and got["x"].dtype == float
    arrays = pd.concat(source.chunks("arrays", rows=4), ignore_index=True)
    assert list(zip(arrays["building_id"], arrays["row"])) == [
        (b, r) for b in sorted(ids) for r in (0, 1)]
    assert source.geometry_types("arrays") == ({"Point"}, False)


def test_partitions_find_buildings_by_position_without_a_hash_of_the_ids(tmp_path):
    """The slim table, the chunks (with each row's position in the ids), a column at some
    positions and the positions of some ids (:func:`roofpv.inputs.ids.positions`: −1
    for an unknown id or a blank) come without pandas' hash of the ids (kept with the
    index once built, ≈ 0.15 KB a building); an id no partition holds and a position −1
    read blank."""
    cache = partitions.PartitionCache(tmp_path, "key", resume=False)
    _store(cache, 0, ["d", "a", "f"], [1, 2, 3], ["u", "v", "w"])
    _store(cache, 1, ["c", "b", "e"], [4, 5, 6], ["x", "y", "z"])
    ids = pd.Index(["f", "a", "z", "b", "c", "d", "e"], name="building_id", dtype="str")
    source = partitions.Partitions(cache.dir, (0, 1), ids, "EPSG:4549")
    x = source.read(["x"])["x"]
    assert x.iloc[[0, 1, 3]].tolist() == [3, 2, 5] and np.isnan(x.iloc[2])
    pairs = list(source.chunks("buildings", columns=["note"], rows=3, positions=True))
    assert [at.tolist() for at, _ in pairs] == [[0, 1], [3, 4], [5, 6]]  # "z" (2) is in no partition
    assert [list(c.index) for _, c in pairs] == [["f", "a"], ["b", "c"], ["d", "e"]]
    assert positions(ids, pd.Index(["e", "q", "f", None, "e"])).tolist() == [6, -1, 0, -1, 6]
    notes = pd.Series(source.read_at("note", np.array([6, -1, 2, 0])))
    assert notes.iloc[[0, 3]].tolist() == ["z", "w"] and notes.iloc[1:3].isna().all()
    assert "_engine" not in ids._cache


def test_conclude_by_position_gives_the_results_of_conclude_by_id(tmp_path):
    """A streamed run's slim table (:func:`~roofpv.run.pipeline.conclude_columns`) is
    indexed by position, its ids beside it: conclude
    then gives, to the bit, the buildings, the plan (roofs, facades and sites of the
    substitution target, each by its id), its status and the township table of conclude
    on the table indexed by id, and pandas never hashes the ids."""
    path = tmp_path / "draw_on.yaml"
    path.write_text(f"""extends: {CONFIG}
dsm: {{tiles: null}}
planning: {{draw_on: [facades, surfaces]}}
policy:  # beyond what the roofs can reach, so that the plan takes facades and sites too
  targets:
    - {{name: substitution, label: 替代率, categories: [public_institution, commercial, urban_residential],
       built_since: 1900, metric: substitution, milestones: {{2025: 0.3, 2030: 0.9}}, source: test}}
""", encoding="utf-8")
    config = load_config(path)
    prepared = pipeline.prepare(config)
    inventory = prepared.inventory
    b = pipeline.assess_buildings(inventory.buildings, config, prepared.hourly, prepared.tables, inventory.crs,
                                  facade_tables=prepared.facade_tables)[0]
    b = b[pipeline.conclude_columns(list(b.columns), prepared, config)]  # what a streamed run gathers
    by_id = pipeline.conclude(b.copy(), config, prepared, None, None)
    ids = pd.Index(b.index.to_numpy(), name=b.index.name, dtype=b.index.dtype)
    by_position = pipeline.conclude(b.reset_index(drop=True).rename_axis(ids.name), config, prepared, None, None,
                                    ids=ids)
    assert "_engine" not in ids._cache
    assert {"roof", "facade"} < set(by_id.plan["surface_type"]) and by_id.plan["surface_type"].nunique() > 2
    assert by_position.plan.index.is_unique is False  # a roof and its facade share an id
    for name in ("buildings", "plan", "plan_status", "trajectory", "townships"):
        pd.testing.assert_frame_equal(getattr(by_position, name), getattr(by_id, name), check_exact=True, obj=name)


def test_positions_find_texts_by_arrow_and_other_values_as_pandas_does():
    """Ids as Arrow text, as Python text and as numbers mixed with text (a hostile table):
    the same positions as ``get_indexer``, −1 for an unknown label or a blank."""
    labels = pd.Series(["t2", None, "t9", "t1", "t2"], dtype="str")
    for ids in (pd.Index(["t1", "t2", "t3"], dtype="str"), pd.Index(["t1", "t2", "t3"], dtype=object)):
        assert positions(ids, labels).tolist() == [1, -1, -1, 0, 1]
    mixed = pd.Index([7, "t2", 3.5], dtype=object)
    assert positions(mixed, pd.Series([3.5, "t2", 7, "x"], dtype=object)).tolist() == [2, 1, 0, -1]
    assert positions(pd.Index([7, 8]), pd.Series(["7", "8"], dtype="str")).tolist() == [-1, -1]


def test_a_resumed_run_splits_again_what_an_older_version_split(tmp_path):
    """The chunks' files of an interrupted run by a version that split the buildings
    without their positions are written again, not read without them."""
    import json

    import pyarrow as pa

    cache = partitions.PartitionCache(tmp_path, "key", resume=False)
    _store(cache, 0, ["d", "a"], [1, 2], ["u", "v"])
    _store(cache, 1, ["c", "b"], [4, 5], ["x", "y"])
    ids = pd.Index(["a", "b", "c", "d"], name="building_id")
    list(partitions.Partitions(cache.dir, (0, 1), ids, "EPSG:4549").chunks("buildings", rows=2))
    folder = cache.dir / "sorted" / "buildings-2"
    old = json.loads((folder / "chunks.json").read_text())
    del old["format"]
    (folder / "chunks.json").write_text(json.dumps(old))
    for k in (0, 1):  # as the older version wrote them: no positions
        table = pa.ipc.open_file(folder / f"{k}.arrow").read_all().drop_columns([partitions.POSITION])
        with pa.ipc.new_file(folder / f"{k}.arrow", table.schema) as writer:
            writer.write_table(table)
    pairs = list(partitions.Partitions(cache.dir, (0, 1), ids, "EPSG:4549").chunks("buildings", rows=2,
                                                                                    positions=True))
    assert [at.tolist() for at, _ in pairs] == [[0, 1], [2, 3]]
    assert [c["x"].tolist() for _, c in pairs] == [[2, 5], [4, 1]]


def test_the_slim_table_holds_few_valued_texts_as_categories_and_steps_read_them_as_text(tmp_path):
    """Partitions.read holds the asked text columns as categories (not numbers, not
    others); plain() gives a step the texts it names exactly as read without categories
    (values, blanks, dtype, place) and leaves the other categories out; a table without
    categories is given as it is."""
    from roofpv.run.pipeline import plain

    cache = partitions.PartitionCache(tmp_path, "key", resume=False)
    _store(cache, 0, ["d", "a", "f"], [1.0, 2.0, 3.0], ["suitable", None, "conditional"])
    _store(cache, 1, ["c", "b", "e"], [4.0, 5.0, 6.0], ["suitable", "unsuitable", "suitable"])
    source = partitions.Partitions(cache.dir, (0, 1), pd.Index(list("abcdef"), name="building_id"), "EPSG:4549")
    whole = source.read(["x", "note"])
    slim = source.read(["x", "note"], compact=("note", "x"))
    assert isinstance(slim["note"].dtype, pd.CategoricalDtype) and slim["x"].dtype == float
    assert slim["note"].cat.codes.dtype.itemsize == 1  # a byte a building
    pd.testing.assert_frame_equal(plain(slim, ("note",)), whole)
    assert list(plain(slim).columns) == ["x"]
    assert plain(whole, ("note",)) is whole


def test_the_plan_takes_its_own_texts_from_the_partitions(tmp_path):
    """A streamed run's plan gets the building texts its slim table left out (name,
    connection class, …) from the partitions: each planned roof's, in its place among
    the plan's columns, also for a roof planned for two targets; none re-read when the
    slim table held them."""
    cache = partitions.PartitionCache(tmp_path, "key", resume=False)
    for k, ids, names in ((0, ["d", "a"], ["甲", None]), (1, ["c", "b"], ["丙", "乙"])):
        frame = gpd.GeoDataFrame({"building_id": ids, "township": "t", "name": names, "capacity_kwp": 1.0,
                                  "connection_class": ["low", "10kV"]},
                                 geometry=shapely.points(np.arange(2), 0.0), crs="EPSG:4549")
        cache.store(k, frame.set_index("building_id"), None, None)
    source = partitions.Partitions(cache.dir, (0, 1), pd.Index(["a", "b", "c", "d"], name="building_id"), "EPSG:4549")
    plan = pd.DataFrame({"plan_rank": [1, 1, 2], "township": "t", "capacity_kwp": 1.0, "target": ["p", "q", "p"]},
                        index=pd.Index(["c", "c", "a"], name="building_id"))
    got = engine.with_plan_columns(plan, source, ["township", "capacity_kwp"])
    assert list(got.columns) == ["plan_rank", "township", "name", "capacity_kwp", "connection_class", "target"]
    assert got["name"].tolist()[:2] == ["丙", "丙"] and pd.isna(got["name"].iloc[2])
    assert got["connection_class"].tolist() == ["low", "low", "10kV"]
    assert got["name"].dtype == source.read(["name"])["name"].dtype
    assert list(plan.columns) == ["plan_rank", "township", "capacity_kwp", "target"]  # the given plan unchanged
    held = ["township", "name", "capacity_kwp", "connection_class"]
    assert engine.with_plan_columns(plan, source, held) is plan


def test_chunks_read_one_file_per_partition_however_many_chunks(tmp_path):
    """Each partition is regrouped by chunk once into one file (not a file per partition
    and chunk, which grows as the square of the buildings); a column subset reads back
    with the index, in the one-piece order."""
    cache = partitions.PartitionCache(tmp_path, "key", resume=False)
    _store(cache, 0, ["d", "a", "f"], [1, 2, 3], ["u", "v", "w"])
    _store(cache, 1, ["c", "b", "e"], [4, 5, 6], ["x", "y", "z"])
    ids = pd.Index(["f", "a", "b", "c", "d", "e"], name="building_id")
    source = partitions.Partitions(cache.dir, (0, 1), ids, "EPSG:4549")
    chunks = list(source.chunks("buildings", columns=["x"], rows=1))
    assert [list(c.index) for c in chunks] == [[i] for i in ids]
    assert [c["x"].iloc[0] for c in chunks] == [3, 2, 5, 4, 1, 6]
    assert all(list(c.columns) == ["x"] for c in chunks)
    assert sorted(p.name for p in (cache.dir / "sorted" / "buildings-1").glob("*.arrow")) == ["0.arrow", "1.arrow"]


def test_a_layer_written_in_chunks_reads_back_as_written_whole(tmp_path):
    """GeoParquet written a chunk at a time: the rows, dtypes and GeoParquet metadata
    (geometry types and bounds of the whole layer) of ``to_parquet`` on the whole."""
    from roofpv.io.writers import Chunked, write_geoparquet

    whole = gpd.GeoDataFrame(
        {"building_id": ["a", "b", "c", "d"], "kwp": [1.0, np.nan, 3.0, 4.0], "note": ["x", None, "z", None]},
        geometry=[shapely.box(0, 0, 1, 1), None, shapely.MultiPolygon([shapely.box(5, -2, 6, 0)]),
                  shapely.box(-3, 1, -2, 9)], crs="EPSG:4549")
    whole.to_parquet(tmp_path / "whole.parquet")
    pieces = [whole.iloc[:2].reset_index(drop=True), whole.iloc[2:].reset_index(drop=True)]
    for k, piece in enumerate(pieces):
        piece.to_parquet(tmp_path / f"{k}.parquet")
    geo = partitions._geo([tmp_path / f"{k}.parquet" for k in range(2)])
    assert geo == {"geometry_types": ["MultiPolygon", "Polygon"], "bbox": [-3.0, -2.0, 6.0, 9.0]}
    wkb = (pd.DataFrame(p).assign(geometry=shapely.to_wkb(p.geometry.to_numpy())) for p in pieces)
    write_geoparquet(tmp_path / "chunked.parquet", Chunked(wkb, wkb_crs="EPSG:4549", geo=geo))
    got = gpd.read_parquet(tmp_path / "chunked.parquet")
    pd.testing.assert_frame_equal(got, gpd.read_parquet(tmp_path / "whole.parquet"))
    meta = [_geo_metadata(tmp_path / f"{name}.parquet") for name in ("chunked", "whole")]
    assert meta[0] == meta[1]


def _geo_metadata(path: Path) -> dict:
    import json

    import pyarrow.parquet as pq

    return json.loads(pq.read_schema(path).metadata[b"geo"])


def test_partitions_read_one_column_of_every_partition_at_a_time(tmp_path, monkeypatch):
    """The slim table is read a column at a time (each partition's file opened for it and
    closed), so a large run holds the table once plus one column: the same frame as the
    partitions concatenated and reindexed."""
    import pyarrow.parquet as pq

    cache = partitions.PartitionCache(tmp_path, "key", resume=False)
    _store(cache, 0, ["d", "a", "f"], [1.0, 2.0, 3.0], ["p", None, "q"])
    _store(cache, 1, ["c", "b", "e"], [0.5, np.nan, 2.5], ["x", None, "=y"])
    _store(cache, 2, ["g"], [7.0], ["z"])
    ids = pd.Index(["f", "a", "g", "b", "c", "d", "e"], name="building_id")
    asked, files = [], []
    read = pq.ParquetFile.read

    def spy_read(self, columns=None, **kwargs):
        asked.append(list(columns))
        files.append(self)
        return read(self, columns=columns, **kwargs)

    monkeypatch.setattr(pq.ParquetFile, "read", spy_read)
    got = partitions.Partitions(cache.dir, (0, 1, 2), ids, "EPSG:4549").read(["note", "x"])
    monkeypatch.undo()
    assert asked == [["building_id"]] * 3 + [["note"]] * 3 + [["x"]] * 3 and all(f.closed for f in files)
    whole = pd.concat([gpd.read_parquet(cache.dir / f"{k}.parquet") for k in (0, 1, 2)]).reindex(ids)
    pd.testing.assert_frame_equal(got, pd.DataFrame(whole[["note", "x"]]))
    assert got.at["g", "note"] == "z" and got.at["e", "x"] == 2.5 and pd.isna(got.at["a", "note"])


@pytest.mark.slow
def test_a_streamed_run_writes_the_one_piece_files_row_for_row(tmp_path, flat_config, flat_reference):
    """With partitions the CLI streams them to the outputs: same layers, fields, field
    types, rows in the same order, same tables."""
    assert main(["plan", str(flat_config), "--out", str(tmp_path), "--quiet", "--partitions", "3",
                 "--no-report"]) == 0
    gpkg, ref = tmp_path / "roofpv.gpkg", flat_reference / "roofpv.gpkg"
    names = list(pyogrio.list_layers(ref)[:, 0])
    assert list(pyogrio.list_layers(gpkg)[:, 0]) == names
    for name in names:
        info, theirs = pyogrio.read_info(gpkg, layer=name), pyogrio.read_info(ref, layer=name)
        for key in ("fields", "dtypes", "geometry_type", "features", "crs"):
            assert list(np.atleast_1d(info[key])) == list(np.atleast_1d(theirs[key])), (name, key)
        a, b = (pyogrio.read_dataframe(g, layer=name).drop(columns=["update_time"], errors="ignore")
                for g in (gpkg, ref))
        if isinstance(b, gpd.GeoDataFrame):
            assert a.geometry.geom_equals_exact(b.geometry, GEOMETRY_TOLERANCE_M).all(), name
            a, b = a.drop(columns="geometry"), b.drop(columns="geometry")
        pd.testing.assert_frame_equal(pd.DataFrame(a), pd.DataFrame(b), obj=name)
    for table in ("townships.csv", "rollout_plan.csv", "plan_status.csv", "trajectory.csv"):
        assert (tmp_path / table).read_bytes() == (flat_reference / table).read_bytes(), table
    assert not (tmp_path / partitions.CACHE_DIR).exists()


@pytest.mark.slow
def test_transformers_without_positions_are_placed_alike_in_a_streamed_run(tmp_path):
    """A transformers table without longitude/latitude: each transformer stands at the
    centre of the buildings it serves and gets its service area, whether the buildings
    stay in their partitions (streamed, the centres summed chunk by chunk) or not."""
    table = pd.read_csv(ROOT / "data" / "sample" / "transformers.csv").drop(columns=["longitude", "latitude"])
    table.to_csv(tmp_path / "transformers.csv", index=False)
    config = tmp_path / "unplaced.yaml"
    config.write_text(f"extends: {CONFIG}\ndsm:\n  tiles: null\nfacades:\n  enabled: false\n"
                      f"grid:\n  transformers: {tmp_path / 'transformers.csv'}\n", encoding="utf-8")
    whole, streamed = tmp_path / "whole", tmp_path / "streamed"
    assert main(["survey", str(config), "--out", str(whole), "--quiet", "--no-report"]) == 0
    assert main(["survey", str(config), "--out", str(streamed), "--quiet", "--no-report",
                 "--partitions", "3"]) == 0
    for layer in ("transformers", "transformer_areas"):
        a, b = (pyogrio.read_dataframe(f / "roofpv.gpkg", layer=layer) for f in (streamed, whole))
        assert len(b) == len(table) and b.geometry.notna().all(), layer
        assert a.geometry.geom_equals_exact(b.geometry, 1e-6).all(), layer
        pd.testing.assert_frame_equal(a.drop(columns="geometry"), b.drop(columns="geometry"), obj=layer)
    # the centre of T-CQ-001's buildings, by hand from the one-piece buildings layer
    buildings = pyogrio.read_dataframe(whole / "roofpv.gpkg", layer="buildings")
    served = buildings[buildings["transformer_id"] == "T-CQ-001"].geometry.representative_point()
    placed = pyogrio.read_dataframe(streamed / "roofpv.gpkg", layer="transformers").set_index("transformer_id")
    assert placed.geometry["T-CQ-001"].distance(shapely.Point(served.x.mean(), served.y.mean())) < 1e-6


@pytest.mark.slow
def test_a_streamed_county_of_100k_concludes_as_the_one_piece_run(tmp_path, county_100k):
    """What the streamed run concludes from its slim table (read back from 6 partitions,
    column by column into the inventory's order) equals the one-piece run's: every
    building column it holds, the township table and the plan, numbers within 1e-9
    relative."""
    from .test_first_pass import assert_same_frame

    config, whole = county_100k
    streamed = engine.run_partitions(config, tmp_path / "out", partitions=6, stream=True)
    b = streamed.buildings
    # the columns conclude adds or changes, and those read after it; the outputs take the rest from the partitions
    assert streamed.partitions is not None and len(b) == 100_000
    assert {"plan_order", "grid_limited", "suitability", "has_survey", "counted_potential_kwp"} <= set(b.columns)
    assert_same_frame(b, pd.DataFrame(whole.buildings[b.columns]), "buildings")
    numbers = [c for c in b.columns if not pd.api.types.is_string_dtype(whole.buildings[c])]
    assert (b[numbers].dtypes == whole.buildings[numbers].dtypes).all()  # texts: str or object alike
    assert_same_frame(streamed.townships, whole.townships, "townships")
    assert_same_frame(streamed.plan, pd.DataFrame(whole.plan.drop(columns="geometry")), "plan")


def test_the_slim_table_holds_what_the_steps_after_the_partitions_read():
    """township_source is read by no step after the partitions, dsm_status and
    dsm_coverage only with a DSM (the stand check), floor areas, shading losses and the
    PV's source only with a register (its pace), the plan's own texts only when the plan
    draws on surfaces; with metered generation every column but the geometry."""
    from types import SimpleNamespace

    from roofpv.run.pipeline import conclude_columns

    columns = ["township", "township_source", "dsm_status", "dsm_coverage", "capacity_kwp", "roof_type",
               "floor_area_m2", "shading_loss", "existing_pv_source", "name", "export_mode", "geometry"]

    def prepared(dsm=None, register=None, meters=None):
        return SimpleNamespace(inventory=SimpleNamespace(dsm=dsm, register=register), meters=meters)

    def config(draw_on=()):
        return SimpleNamespace(planning=SimpleNamespace(draw_on=list(draw_on)))

    assert conclude_columns(columns, prepared(), config()) == ["township", "capacity_kwp"]
    assert conclude_columns(columns, prepared(dsm=object()), config()) == [
        "township", "dsm_status", "dsm_coverage", "capacity_kwp"]
    assert conclude_columns(columns, prepared(register=object()), config(["surfaces"])) == [
        "township", "capacity_kwp", "floor_area_m2", "shading_loss", "existing_pv_source", "name", "export_mode"]
    assert conclude_columns(columns, prepared(register=object(), meters=object()), config()) == columns[:-1]
