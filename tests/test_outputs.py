"""Whole outputs: a command's files replace the earlier set as one, a failed or killed
command leaves the earlier set, a second command cannot write into the same folder, and
disk and permission failures get a message naming the path."""

import errno
import json
import os
import subprocess
import sys
import time

import pytest

from roofpv.cli import main
from roofpv.errors import OutputError
from roofpv.io import outputs
from roofpv.io.outputs import (
    JOURNAL,
    LOCK,
    MANIFEST,
    OutputExistsError,
    OutputLockedError,
    output_set,
    recover,
)
from roofpv.io.writers import write_table


def write_set(out, files, overwrite=True, merge=False):
    with output_set(out, overwrite, list(files), merge=merge) as stage:
        for name, text in files.items():
            if name.endswith("/"):
                (stage / name).mkdir()
                (stage / name / "index.html").write_text(text)
            else:
                (stage / name).write_text(text)


def listing(out):
    return sorted(p.name for p in out.iterdir())


def test_a_new_set_replaces_the_earlier_one_and_removes_its_leftovers(tmp_path):
    out = tmp_path / "out"
    write_set(out, {"roofpv.gpkg": "old", "townships.csv": "old", "rollout_plan.csv": "old", "report/": "old"})
    (out / "notes.txt").write_text("the user's own file")
    write_set(out, {"roofpv.gpkg": "new", "townships.csv": "new", "report/": "new"})
    assert listing(out) == ["notes.txt", "report", "roofpv-manifest.json", "roofpv.gpkg", "townships.csv"]
    assert (out / "report" / "index.html").read_text() == "new"
    assert json.loads((out / MANIFEST).read_text())["files"] == ["report", "roofpv.gpkg", "townships.csv"]


def test_an_earlier_set_without_manifest_is_replaced_by_its_known_names(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    for name in ("roofpv.gpkg", "plan_status.csv", "notes.txt"):
        (out / name).write_text("old")
    write_set(out, {"roofpv.gpkg": "new"})
    assert listing(out) == ["notes.txt", "roofpv-manifest.json", "roofpv.gpkg"]


def test_merge_adds_to_the_set(tmp_path):
    out = tmp_path / "out"
    write_set(out, {"roofpv.gpkg": "run", "townships.csv": "run"})
    write_set(out, {"validation.xlsx": "check"}, merge=True)
    assert listing(out) == ["roofpv-manifest.json", "roofpv.gpkg", "townships.csv", "validation.xlsx"]
    assert "validation.xlsx" in json.loads((out / MANIFEST).read_text())["files"]


def test_a_failed_command_leaves_the_earlier_set_untouched(tmp_path):
    out = tmp_path / "out"
    write_set(out, {"roofpv.gpkg": "old", "townships.csv": "old"})
    with pytest.raises(RuntimeError), output_set(out, True, ["roofpv.gpkg"]) as stage:
        (stage / "roofpv.gpkg").write_text("new")
        raise RuntimeError("the run failed half way")
    assert listing(out) == ["roofpv-manifest.json", "roofpv.gpkg", "townships.csv"]
    assert (out / "roofpv.gpkg").read_text() == "old"


def test_without_overwrite_an_earlier_output_is_refused_before_anything_runs(tmp_path):
    out = tmp_path / "out"
    write_set(out, {"roofpv.gpkg": "old"})
    with pytest.raises(OutputExistsError, match="roofpv.gpkg already exist; pass --overwrite"), \
            output_set(out, False, ["roofpv.gpkg"]):
        pytest.fail("the block must not run")


def test_a_swap_cut_short_is_finished_by_the_next_command(tmp_path, monkeypatch):
    out = tmp_path / "out"
    write_set(out, {"roofpv.gpkg": "old", "townships.csv": "old", "rollout_plan.csv": "old"})
    moves = []
    real = os.replace

    def killed_after_two_moves(src, dst):
        if len(moves) == 2 and not str(src).endswith(".roofpv-tmp"):
            raise KeyboardInterrupt  # as a kill between two moves
        moves.append(dst)
        real(src, dst)

    monkeypatch.setattr(outputs.os, "replace", killed_after_two_moves)
    with pytest.raises(KeyboardInterrupt), output_set(out, True) as stage:
        (stage / "roofpv.gpkg").write_text("new")
        (stage / "townships.csv").write_text("new")
    monkeypatch.undo()
    assert (out / JOURNAL).exists()  # the swap was recorded before the first move
    recover(out)
    assert listing(out) == ["roofpv-manifest.json", "roofpv.gpkg", "townships.csv"]
    assert {(out / n).read_text() for n in ("roofpv.gpkg", "townships.csv")} == {"new"}


def test_leftovers_of_a_killed_command_are_cleaned_at_the_next_start(tmp_path):
    out = tmp_path / "out"
    write_set(out, {"roofpv.gpkg": "old"})
    (out / ".roofpv-stage-abc").mkdir()
    (out / ".roofpv-stage-abc" / "roofpv.gpkg").write_text("half")
    (out / ".townships.csv.roofpv-tmp.x1.csv").write_text("half")
    (out / ".roofpv.gpkg.k2j3.gpkg").write_text("left by an older roofpv")
    write_set(out, {"roofpv.gpkg": "new"})
    assert listing(out) == ["roofpv-manifest.json", "roofpv.gpkg"]


HOLD = """
import sys, time
from pathlib import Path
from roofpv.io.outputs import lock
with lock(Path(sys.argv[1])):
    print("locked", flush=True)
    time.sleep(30)
"""


def test_a_second_command_on_the_same_folder_is_refused(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(out)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(OutputLockedError, match=rf"another roofpv command \(process {holder.pid}\) is "
                                                   "writing into this folder"), output_set(out, True):
            pass
    finally:
        holder.kill()
        holder.wait()
    # The holder died without releasing: its lock is taken over.
    with output_set(out, True) as stage:
        (stage / "a.csv").write_text("x")
    assert not (out / LOCK).exists()


def test_a_lock_file_of_a_dead_process_is_taken_over(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (out / LOCK).write_text(str(dead.pid))
    write_set(out, {"a.csv": "x"})
    assert listing(out) == ["a.csv", "roofpv-manifest.json"]


def test_full_disk_names_the_file_and_what_to_do(tmp_path, monkeypatch):
    import pandas as pd

    def full(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_csv", full)
    with pytest.raises(OutputError, match=r"townships.csv: cannot write \(No space left on device\); "
                                          "free disk space, or write elsewhere with --out"):
        with output_set(tmp_path / "out", True) as stage:
            write_table(stage / "townships.csv", pd.DataFrame({"a": [1]}))
    assert listing(tmp_path / "out") == []


def test_permission_denied_on_the_swap_names_the_path(tmp_path, monkeypatch):
    real = os.replace

    def denied(src, dst):
        if str(dst).endswith("roofpv.gpkg"):
            raise PermissionError(errno.EACCES, "Permission denied", str(dst))
        real(src, dst)

    monkeypatch.setattr(outputs.os, "replace", denied)
    with pytest.raises(OutputError, match=r"roofpv.gpkg: cannot write \(Permission denied\); make the folder "
                                          "writable"), output_set(tmp_path / "out", True) as stage:
        (stage / "roofpv.gpkg").write_text("x")


def test_an_output_folder_that_cannot_be_made_exits_2_with_a_message(tmp_path, capsys):
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a folder")
    start = time.perf_counter()
    code = main(["report", "--out", str(blocker / "out")])
    assert code == 2 and time.perf_counter() - start < 30
    assert "cannot write" in capsys.readouterr().err


@pytest.mark.slow
def test_a_killed_survey_leaves_the_old_or_the_new_set(tmp_path):
    """scripts/kill_test.py: `survey --overwrite` killed half way, once the GeoPackage is
    staged and once the swap starts; each time the folder is all old or all new."""
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "scripts" / "kill_test.py"
    done = subprocess.run([sys.executable, str(script), "--work", str(tmp_path), "--buildings", "200",
                           "--moments", "0.5", "gpkg", "swap"], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("\nok   ") == 3


def test_geometry_types_read_from_wkb_headers_match_shapely():
    import pyarrow as pa
    import shapely

    from roofpv.io.writers import layer_geometry, wkb_types

    shapes = [shapely.box(0, 0, 1, 1), shapely.MultiPolygon([shapely.box(0, 0, 1, 1)]), None,
              shapely.Polygon(), shapely.Point(1, 2)]
    column = pa.chunked_array([pa.array(shapely.to_wkb(shapes), pa.binary())])
    assert wkb_types(column) == ({"Polygon", "MultiPolygon", None, "Point"}, False)
    z = shapely.to_wkb([shapely.Point(1, 2, 3)], byte_order=0, flavor="iso")  # big-endian, ISO Z
    assert wkb_types(pa.chunked_array([pa.array(z, pa.binary())])) == ({"Point"}, True)
    assert layer_geometry({"Polygon", "MultiPolygon", None}, False) == ("MultiPolygon", True)
    assert layer_geometry({"Polygon"}, True) == ("Polygon Z", False)
    assert layer_geometry({"Polygon", "Point"}, False) == ("Unknown", False)
    assert layer_geometry({None}, False) == ("Unknown", False)
