"""The first pass read batch by batch (roofpv.inputs.first_pass.scan,
roofpv.io.readers.FootprintIds): the ids, repairs, names of blank and repeated ids,
townships and findings of a layer read in small batches are those of the layer read in
one piece, in text and order, whatever batch an odd id falls in."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pyogrio
import pytest

from roofpv.config import load_config
from roofpv.findings import findings_frame
from roofpv.inputs import first_pass
from roofpv.inputs.survey_table import first_of_each_id, repeat_counts
from roofpv.io import readers

from .conftest import ROOT
from .test_first_pass import _messy_footprints


def _batched(values: pd.Series, size: int, path="fp.gpkg", column="building_id"):
    ids = readers.FootprintIds(path, column)
    for at in range(0, len(values), size):
        ids.add(values.iloc[at:at + size])
    return ids.finish()


def _odd_ids() -> pd.Series:
    """Text ids with what cleaning repairs, spread over batches of 4: a full-width id in
    the first batch only, a whole number written as a decimal with spaces around it in a
    later batch of plain ids (the whole column, not plain, reads it as a repaired float),
    an invisible character, blanks, a repeat across batches and a blank's name taken."""
    return pd.Series(["A1", "Ｂ２", "C3", "D4",
                      "E5", " 12.0 ", "12", "F6",
                      "\u200bG7", None, "A1", "fp#12",
                      None, "H8", "A1", "12.0"], dtype="str")


def test_ids_read_in_batches_are_the_ids_read_whole():
    values = _odd_ids()
    whole, said = readers.footprint_ids(values, "fp.gpkg", "building_id")
    assert whole.tolist() == ["A1", "B2", "C3", "D4", "E5", "12", "12#2", "F6", "G7", "fp#10", "A1#2", "fp#12",
                              "fp#13", "H8", "A1#3", "12#3"]
    assert whole.dtype == pd.StringDtype("pyarrow", na_value=np.nan) and whole.name == "building_id"
    assert [(f.row, f.building_id, f.value, f.problem) for f in said] == [
        (2, "B2", "'Ｂ２'", "1 ids full-width characters (e.g. Ａ１２); read as 'B2'"),
        (6, "12", "' 12.0 '", "2 ids written as a decimal number (e.g. 100006475.0); read as '12'"),
        (9, "G7", "'\\u200bG7'", "1 ids invisible characters (zero-width spaces); read as 'G7'"),
        (10, "fp#10", None, "feature has no building_id; named fp#10"),
        (13, "fp#13", None, "feature has no building_id; named fp#13"),
        (7, "12#2", "12", "duplicate building_id; this footprint is kept as 12#2 and gets no survey row"),
        (11, "A1#2", "A1", "duplicate building_id; this footprint is kept as A1#2 and gets no survey row"),
        (15, "A1#3", "A1", "duplicate building_id; this footprint is kept as A1#3 and gets no survey row"),
        (16, "12#3", "12", "duplicate building_id; this footprint is kept as 12#3 and gets no survey row"),
    ]
    for size in (1, 3, 4, 5):
        ids, found = _batched(values, size)
        pd.testing.assert_index_equal(ids, whole, exact=True)
        assert found == said, size
    # Plain ids only: " 12.0 " is trimmed, not read as a number, batch by batch as whole.
    plain = values.where(~values.isin(["Ｂ２", "\u200bG7", "12.0"]), "Z")
    whole, said = readers.footprint_ids(plain, "fp.gpkg", "building_id")
    assert "12.0" in whole and not any("decimal" in f.problem for f in said)
    ids, found = _batched(plain, 4)
    pd.testing.assert_index_equal(ids, whole, exact=True)
    assert found == said


def test_number_ids_read_in_batches_are_read_as_the_whole_column():
    # A blank in one batch makes the whole column floats (1000.0 …): every id is then a
    # repaired float, in the batches without a blank too.
    values = pd.Series(np.arange(1000, 1010), dtype="Int64").astype(object)
    batches = [pa.array(values.iloc[:5].tolist(), pa.int64()).to_pandas(),
               pa.array([*values.iloc[5:8].tolist(), None, 1001], pa.int64()).to_pandas()]
    assert [b.dtype for b in batches] == [np.dtype("int64"), np.dtype("float64")]
    whole, said = readers.footprint_ids(pd.concat(batches, ignore_index=True), "fp.gpkg", "fid")
    ids = readers.FootprintIds("fp.gpkg", "fid")
    for b in batches:
        ids.add(b)
    got, found = ids.finish()
    pd.testing.assert_index_equal(got, whole, exact=True)
    assert found == said
    assert [f.problem for f in said] == ["9 ids written as a decimal number (e.g. 100006475.0); read as '1000'",
                                         "feature has no fid; named fp#9",
                                         "duplicate fid; this footprint is kept as 1001#2 and gets no survey row"]
    assert said[0].value == "np.float64(1000.0)"


def test_repeat_counts_are_the_running_count_of_each_id(monkeypatch):
    from roofpv.inputs import survey_table

    rng = np.random.default_rng(5)
    monkeypatch.setattr(survey_table, "REPEAT_SLICE", 7)  # the sorted ids compared a few at a time
    for n in (0, 1, 2, 7, 8, 60):
        values = rng.choice(["a", "b", "Ａ", "ab", "b "], n).astype(object)
        expected = pd.Series(values, dtype=object).groupby(values).cumcount().to_numpy()
        assert repeat_counts(pa.array(values, pa.large_string())).tolist() == expected.tolist()
        index = pd.Index(values, dtype="str")
        assert first_of_each_id(index).tolist() == (~pd.Index(values, dtype=object).duplicated()).tolist()


def test_rows_fill_one_buffer_and_grow_when_more_come():
    for expected in (0, 3, 10):
        rows = first_pass.Rows(expected, (2,), np.float64)
        for k in range(4):
            rows.add(np.full((k, 2), float(k)))
        assert rows.array().tolist() == [[1.0, 1.0], [2.0, 2.0], [2.0, 2.0], [3.0, 3.0], [3.0, 3.0], [3.0, 3.0]]


def test_townships_planned_from_codes_are_those_of_a_lookup_by_id():
    # Surveyed (one blank), located by a polygon, outside all, without bounds.
    polygons = readers.read_townships(ROOT / "data" / "sample" / "townships.gpkg", None, "township", None)[0]
    crs = "EPSG:4549"
    inner = polygons.to_crs(crs).geometry.representative_point()
    x, y = inner.x.to_numpy(), inner.y.to_numpy()
    bounds = np.array([[x[0], y[0], x[0] + 1, y[0] + 1], [x[1], y[1], x[1] + 1, y[1] + 1],
                       [0.0, 0.0, 1.0, 1.0], [np.nan] * 4, [x[2], y[2], x[2] + 1, y[2] + 1]])
    ids = pd.Index(["s1", "p2", "far", "none", "blank"], dtype="str")
    surveyed = pd.Series(pd.Categorical(["新仓镇", None, "乙镇"]), index=pd.Index(["s1", "blank", "other"], dtype="str"))
    got = first_pass.planned_townships(ids, bounds, surveyed, polygons, crs)
    # The reference: a lookup of every id, then the polygons, as the first pass did it whole.
    township = surveyed.dropna().reindex(ids).to_numpy(dtype=object, copy=True)
    township[[1, 4]] = polygons.index[[1, 2]]
    township[pd.isna(township)] = "未知"
    expected = pd.Categorical(township.astype(str))
    assert list(got) == list(expected) == ["新仓镇", polygons.index[1], "未知", "未知", polygons.index[2]]
    pd.testing.assert_index_equal(got.categories, expected.categories, exact=True)
    assert got.codes.dtype == expected.codes.dtype


@pytest.fixture(scope="module")
def messy_layer(tmp_path_factory):
    """The messy footprints with ids odd in one batch and plain in others."""
    folder = tmp_path_factory.mktemp("batches")
    fp = _messy_footprints(400)
    ids = fp["building_id"].astype(object).to_numpy().copy()
    ids[3], ids[200], ids[201], ids[350], ids[420], ids[421] = "ＣＱ００００３", " 12.0 ", "12", "\u200bCQ00360", ids[10], None
    fp["building_id"] = ids
    pyogrio.write_dataframe(fp, folder / "footprints.gpkg")
    (folder / "c.yaml").write_text(f"extends: {ROOT / 'configs' / 'pinghu.yaml'}\ninputs:\n  footprints: "
                                   f"{folder / 'footprints.gpkg'}\ndsm:\n  tiles: null\n", encoding="utf-8")
    return load_config(folder / "c.yaml")


def test_a_layer_scanned_in_small_batches_gives_the_catalogue_of_one_batch(messy_layer, monkeypatch):
    from roofpv.inputs import jurisdictions
    from roofpv.run.pipeline import analysis_crs

    polygons, _ = jurisdictions.read_townships(messy_layer)
    crs = analysis_crs(messy_layer)
    surveyed = pd.Series(pd.Categorical(["新仓镇"] * 3), index=pd.Index(["CQ00001", "CQ00003", "12"], dtype="str"))
    scans = []
    for size in (100_000, 97):
        monkeypatch.setattr(first_pass, "BATCH_ROWS", size)
        scans.append(first_pass.scan(messy_layer, crs, polygons, surveyed))
    (one, said, (sample, sampled)), (batched, found, (sample_b, sampled_b)) = scans
    pd.testing.assert_index_equal(batched.ids, one.ids, exact=True)
    assert np.array_equal(batched.bounds, one.bounds, equal_nan=True) and np.array_equal(batched.fids, one.fids)
    assert list(batched.township) == list(one.township) and batched.township.categories.equals(one.township.categories)
    pd.testing.assert_frame_equal(findings_frame(found), findings_frame(said))
    assert sampled_b[:2] == sampled[:2] and np.array_equal(sampled_b[2], sampled[2]) and sample_b.equals(sample)
    problems = [f.problem for f in said]
    assert "1 ids written as a decimal number (e.g. 100006475.0); read as '12'" in problems
    assert one.fids.dtype == np.int32 and one.township[list(one.ids).index("12")] == "新仓镇"
