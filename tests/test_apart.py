"""Whole-file reads in a child process only for large inputs (roofpv.io.apart): the
same results, findings and errors either way."""

import os
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd
import pytest

from roofpv.errors import InputError
from roofpv.findings import findings_frame
from roofpv.io import apart


def _fails(message):
    raise InputError(message)


def test_the_work_runs_in_a_child_from_the_threshold_on():
    here = os.getpid()
    assert apart.read_apart(os.getpid, size=apart.CHILD_FROM_BYTES - 1) == here
    assert apart.read_apart(os.getpid, size=apart.CHILD_FROM_BYTES) != here


@pytest.mark.parametrize("size", [0, apart.CHILD_FROM_BYTES])
def test_an_error_of_the_work_reaches_the_caller_as_raised(size):
    with pytest.raises(InputError, match="^footprints have no id column 'x'$"):
        apart.read_apart(_fails, "footprints have no id column 'x'", size=size)


def test_input_bytes_counts_a_shapefiles_attributes_and_a_folders_files(tmp_path):
    (tmp_path / "a.shp").write_bytes(b"s" * 100)
    (tmp_path / "a.dbf").write_bytes(b"d" * 30)
    (tmp_path / "a.shx").write_bytes(b"x" * 7)  # the index: not the data read
    (tmp_path / "b.gpkg").write_bytes(b"g" * 50)
    (tmp_path / "gdb").mkdir()
    (tmp_path / "gdb" / "t1").write_bytes(b"1" * 11)
    (tmp_path / "gdb" / "t2").write_bytes(b"2" * 13)
    assert apart.input_bytes(tmp_path / "a.shp") == 130
    assert apart.input_bytes(tmp_path / "b.gpkg") == 50
    assert apart.input_bytes(tmp_path / "gdb") == 24
    assert apart.input_bytes(tmp_path / "missing.gpkg") == 0
    assert apart.input_bytes(None) == 0


def test_the_first_pass_and_the_survey_read_here_are_those_read_in_a_child(config, tmp_path, monkeypatch):
    # A GBK shapefile without .cpg (Chinese id column and names) and the sample's
    # survey workbook, both far under the threshold: read here by default, in a child
    # with the threshold at 0; the catalogue, the survey's keys and the findings agree.
    from roofpv.run.pipeline import scan_inventory

    from .test_county_files import gbk_case, with_files
    from .test_first_pass import _read_per_partition

    case, fp, towns = gbk_case(tmp_path)
    cfg = _read_per_partition(with_files(case, config, fp, towns, footprints_id_column="编号"))
    assert apart.input_bytes(fp) < apart.CHILD_FROM_BYTES
    assert apart.input_bytes(cfg.inputs.survey) < apart.CHILD_FROM_BYTES
    scans = {}
    for way, threshold in (("here", apart.CHILD_FROM_BYTES), ("child", 0)):
        monkeypatch.setattr(apart, "CHILD_FROM_BYTES", threshold)
        calls = []

        def counted(calls=calls, **kw):
            calls.append(kw)
            return ProcessPoolExecutor(**kw)

        monkeypatch.setattr(apart, "ProcessPoolExecutor", counted)
        scans[way] = scan_inventory(cfg, tmp_path / way), len(calls)
    (here, scan_here), n_here = scans["here"]
    (child, scan_child), n_child = scans["child"]
    assert (n_here, n_child) == (0, 2)  # the survey's parse and the first pass
    assert scan_here.catalogue.ids.tolist() == ["A", "B", "C"]
    assert scan_here.catalogue.rows.tolist() == scan_child.catalogue.rows.tolist() == [0, 1, 2]
    assert scan_here.catalogue.ids.equals(scan_child.catalogue.ids)
    np.testing.assert_array_equal(scan_here.catalogue.bounds, scan_child.catalogue.bounds)
    pd.testing.assert_frame_equal(scan_here.survey.keys, scan_child.survey.keys)
    pd.testing.assert_frame_equal(findings_frame(here.findings), findings_frame(child.findings))
    said = [f for f in here.findings if f.problem.startswith("shapefile has no .cpg")]
    assert said[0].problem.endswith("read as GBK (its text decodes as Chinese), e.g. '当湖街道东湖大厦'")
    for scan in (scan_here, scan_child):
        scan.survey.close()
