"""A survey read in blocks of rows (roofpv.io.readers.read_survey_blocks) and spilled to
disk (roofpv.io.survey_spill): the table, its dtypes and its findings, in order, are
those of the file read in one piece, whatever the block size."""

import numpy as np
import pandas as pd
import pytest

from roofpv.findings import findings_frame
from roofpv.io import readers
from roofpv.io.survey_spill import spill_survey

HEADER = "建筑编号,镇街道,建筑类别,屋面类型,屋面荷载(kN/m²),备注,台区变压器编号,建成年份"


def _messy_rows() -> list[str]:
    """Survey lines with what spans blocks of 7 rows: an id repeated four blocks later,
    ids repaired in two blocks, an unquoted comma (a ragged row) and a trailing comma,
    a note only in the third block, a note only on a repeated row's line (its column
    stays without text), a blank row, a row without id, quoted newlines at the start of
    a block (the rows after them numbered by record, not by line), unknown codes and
    implausible loads in several blocks."""
    rows = []
    for i in range(40):
        town = "曹桥街道" if i % 3 else "新仓镇"
        load = "1.5" if i % 5 else "900"  # 900 kN/m²: implausible, read as kg/m²
        roof = "混凝土平屋面" if i % 4 else "草屋顶"  # 草屋顶: unknown code
        note = "东侧加建" if 14 <= i < 21 else ""
        rows.append(f"B{i:03d},{town},工业厂房,{roof},{load},{note},T-{i // 10},{2000 + i % 20}")
    rows[2] = "Ｂ００２,新仓镇,工业厂房,混凝土平屋面,1.5,,T-0,2002"  # full-width, repaired
    rows[30] = "Ｂ０３０,曹桥街道,工业厂房,混凝土平屋面,1.5,,T-3,2010"
    rows[9] = "B009,曹桥街道,工业厂房,混凝土平屋面,1,5,,T-0,2009"  # unquoted comma: skipped
    rows[17] = rows[17] + ","  # a trailing comma: read as written
    rows[29] = "B003,新仓镇,工业厂房,瓦屋面,2.0,,T-2,"  # repeats B003 of the first block
    rows[31] = "B001,新仓镇,工业厂房,瓦屋面,2.0,,T-3,1999"  # and B001
    rows[11] = ",,,,,,,"  # blank row
    rows[12] = ",曹桥街道,工业厂房,瓦屋面,2.0,,T-1,2001"  # no id
    # Records 14 and 15 (a block of 7 records ends with record 13): two lines each.
    rows[13] = 'B013,曹桥街道,工业厂房,混凝土平屋面,1.5,"南侧\n北侧",T-1,2013'
    rows[14] = 'B014,曹桥街道,工业厂房,混凝土平屋面,1.5,"上\n下",T-1,2014'
    return rows


def _write(path, rows, encoding="utf-8"):
    path.write_bytes(("\n".join([HEADER, *rows]) + "\n").encode(encoding))
    return path


def _whole_and_blocks(path, monkeypatch, rows=7):
    whole = readers.read_survey(path)
    monkeypatch.setattr(readers, "CSV_BLOCK_ROWS", rows)
    return whole, readers.read_survey(path), spill_survey(path, 0)


def _gathered(spilled) -> pd.DataFrame:
    got = []
    spilled.gather({0: np.arange(len(spilled))}, lambda k, rows: got.append(rows))
    spilled.close()
    return pd.concat(got)


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
def test_a_survey_read_in_blocks_is_the_survey_read_whole(tmp_path, monkeypatch, encoding):
    path = _write(tmp_path / "survey.csv", _messy_rows(), encoding)
    (whole, found), (blocks, in_blocks), (spilled, spilled_found) = _whole_and_blocks(path, monkeypatch)
    assert len(whole) == 35  # 40 lines − ragged − blank − no id − 2 repeated ids
    pd.testing.assert_frame_equal(blocks, whole)
    pd.testing.assert_frame_equal(_gathered(spilled), whole)
    pd.testing.assert_series_equal(spilled.dtypes, whole.dtypes)
    pd.testing.assert_series_equal(spilled.probe.dtypes, whole.dtypes)
    assert spilled.index.equals(whole.index)
    pd.testing.assert_frame_equal(findings_frame(in_blocks), findings_frame(found))
    pd.testing.assert_frame_equal(findings_frame(spilled_found), findings_frame(found))
    # The file's findings, read off the file (rows are the file's records, the header row 1).
    file_findings = [(f.level, f.row) for f in found[:2]]  # the encoding's, then the ragged row's
    assert file_findings == ([("info", None), ("error", 11)] if encoding == "gb18030" else [("error", 11), ("warning", 19)])
    by = {(f.row, f.column, f.problem.split(";")[0]) for f in found}
    assert (11, None, "row has 9 cells but the header has 8 (likely an unquoted comma in 备注 ('5,') "
            "or 台区变压器编号 (',T-0'))") in by
    assert (31, "building_id", "duplicate building id") in by and (33, "building_id", "duplicate building id") in by
    assert (14, "building_id", "row has no building id and is skipped") in by
    repaired = next(f for f in found if "full-width" in f.problem)
    assert (repaired.row, repaired.building_id, repaired.problem.split(" building")[0]) == (4, "B002", "2")
    assert whole.at["B003", "roof_type"] == "concrete_flat" and whole.at["B001", "year_built"] == 2001
    assert whole.loc["B014":"B020", "note"].eq("东侧加建").sum() == 6 and whole.at["B013", "note"] == "南侧\n北侧"
    # Findings after the skipped ragged row name its own record (row 19: 18th data record + header).
    assert [f.row for f in found if f.building_id == "B018" and f.column == "roof_load_kn_m2"] == []
    assert [f.row for f in found if f.building_id == "B020" and f.column == "roof_load_kn_m2"] == [22]


def test_a_text_column_filled_only_on_a_repeated_row_stays_without_text(tmp_path, monkeypatch):
    rows = _messy_rows()
    rows = [r.replace("东侧加建", "").replace('"南侧\n北侧"', "").replace('"上\n下"', "") for r in rows]
    rows[29] = "B003,新仓镇,工业厂房,瓦屋面,2.0,只在重复行,T-2,"
    path = _write(tmp_path / "survey.csv", rows)
    (whole, found), (blocks, in_blocks), (spilled, spilled_found) = _whole_and_blocks(path, monkeypatch, 10)
    assert whole["note"].dtype == object and whole["note"].isna().all()
    assert whole["township"].dtype != object  # text
    pd.testing.assert_frame_equal(blocks, whole)
    pd.testing.assert_series_equal(spilled.dtypes, whole.dtypes)
    pd.testing.assert_frame_equal(_gathered(spilled), whole)
    assert in_blocks == found == spilled_found


def test_the_usual_row_length_is_the_whole_files_not_the_first_blocks(tmp_path, monkeypatch):
    # The first block's rows have the header's 8 cells; most rows after it end in a comma,
    # so the usual row has 9 cells and none of them is ragged. The file is read again.
    rows = [f"B{i:03d},曹桥街道,工业厂房,瓦屋面,1.5,,T-1,2001" + ("," if i >= 9 else "") for i in range(30)]
    rows[20] = "B020,曹桥街道,工业厂房,瓦屋面,1,5,,T-1,2001,"  # 10 cells: ragged
    path = _write(tmp_path / "survey.csv", rows)
    (whole, found), (blocks, in_blocks), (spilled, spilled_found) = _whole_and_blocks(path, monkeypatch, 10)
    assert len(whole) == 29 and "B020" not in whole.index
    assert [f.row for f in found if f.problem.startswith("row has")] == [22]
    pd.testing.assert_frame_equal(blocks, whole)
    pd.testing.assert_frame_equal(_gathered(spilled), whole)
    assert in_blocks == found == spilled_found


@pytest.mark.parametrize("text, encoding", [
    ("建筑编号,备注\nB1,东侧加建\n", "utf-8"), ("建筑编号,备注\nB1,东侧加建\n", "utf-8-sig"),
    ("建筑编号,备注\nB1,东侧加建\n", "utf-16"), ("建筑编号,备注\nB1,东侧加建\n", "gb18030"),
    ("建築編號,備註\nB1,東側加建\n", "big5"), ("id,note\nB1,Café\n", "cp1252")])
def test_the_encoding_told_in_chunks_is_the_one_told_from_the_whole_text(tmp_path, monkeypatch, text, encoding):
    from roofpv.io import encodings

    data = text.encode(encoding)
    (tmp_path / "t.csv").write_bytes(data)
    monkeypatch.setattr(encodings, "CHUNK_BYTES", 5)  # characters cut between chunks
    told, whole = encodings.detect(tmp_path / "t.csv"), encodings.decode(data)
    assert (told.encoding, told.how) == (whole.encoding, whole.how)
