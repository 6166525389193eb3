"""Kill ``roofpv survey --overwrite`` at several moments and check that its output folder
holds either the earlier run's output set or the new one, never a mix:
``python scripts/kill_test.py [--work DIR] [--buildings N] [--moments 0.3 0.8 gpkg swap]``.

The earlier set is a ``roofpv plan`` run (it has the plan's CSVs, which the survey does
not write, so a new set must have removed them). For each moment the earlier set is put
back, ``survey --overwrite`` is started and sent SIGKILL: after a share of a full run's
duration (a number), as soon as the GeoPackage is complete in the staging folder
(``gpkg``), or as soon as the swap's journal appears (``swap``). The folder is then
classified: ``old`` (every visible file byte-identical to the earlier set), ``new`` (the
manifest's files, all written after the run started, no plan CSVs) or ``mixed``. A
folder left mid-swap is completed by :func:`roofpv.io.outputs.recover` (what the next
command does first) and classified again; leftovers of the killed run must be gone
after it. Exits 1 when any moment ends mixed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from roofpv.io.outputs import JOURNAL, MANIFEST, STAGE_PREFIX, lock, recover  # noqa: E402
from roofpv.io.partitions import CACHE_DIR  # noqa: E402

PLAN_ONLY = ("rollout_plan.csv", "plan_status.csv", "trajectory.csv", "parameters.csv")


def roofpv(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "roofpv", *args, "--quiet"], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def snapshot(out: Path) -> dict[str, str]:
    """Hash of every visible file below ``out`` (relative path → sha256)."""
    files = {}
    for path in sorted(out.rglob("*")):
        rel = path.relative_to(out)
        if path.is_file() and not any(p.startswith(".") for p in rel.parts):
            files[str(rel)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return files


def classify(out: Path, old: dict[str, str], started: float) -> str:
    """``old``, ``new`` or ``mixed`` (with what is wrong)."""
    now = snapshot(out)
    if now == old:
        return "old"
    manifest = out / MANIFEST
    if not manifest.exists():
        return "mixed: no manifest and not the earlier set"
    listed = json.loads(manifest.read_text(encoding="utf-8"))["files"]
    visible = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    if visible != sorted([*listed, MANIFEST]):
        return f"mixed: folder holds {visible}, the manifest lists {listed}"
    if any(name in listed for name in PLAN_ONLY):
        return "mixed: the new set still lists the plan's files"
    stale = [rel for rel in now if (out / rel).stat().st_mtime < started]
    return f"mixed: files of the earlier run {stale}" if stale else "new"


def leftovers(out: Path) -> list[str]:
    """Hidden entries other than the engine's partition cache (kept on purpose, for
    ``--resume``; a run without ``--resume`` starts it afresh)."""
    return sorted(p.name for p in out.iterdir() if p.name.startswith(".") and p.name != CACHE_DIR)


def wait_for(condition, proc: subprocess.Popen, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end and proc.poll() is None:
        if condition():
            return True
        time.sleep(0.002)
    return False


def trial(config: Path, out: Path, saved: Path, old: dict[str, str], moment: str, full: float,
          extra: tuple[str, ...] = ()) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(saved, out)  # copy2 keeps the earlier files' times
    started = time.time()
    proc = roofpv("survey", str(config), "--out", str(out), "--overwrite", *extra)
    if moment == "gpkg":
        def staged():
            return any((d / "roofpv.gpkg").exists() for d in out.glob(f"{STAGE_PREFIX}*"))
        wait_for(staged, proc, 4 * full)
    elif moment == "swap":
        wait_for(lambda: (out / JOURNAL).exists(), proc, 4 * full)
    else:
        wait_for(lambda: False, proc, float(moment) * full)
    finished = proc.poll() is not None
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    state = classify(out, old, started)
    row = {"moment": moment, "killed after s": round(time.time() - started, 1),
           "run had finished": finished, "state": state, "mid-swap": (out / JOURNAL).exists()}
    with lock(out):
        recover(out)  # what the next command does first
    row["after recovery"] = classify(out, old, started)
    row["leftovers after recovery"] = leftovers(out)
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, default=Path("out/kill_test"))
    parser.add_argument("--buildings", type=int, default=300)
    parser.add_argument("--moments", nargs="+", default=["0.2", "0.5", "0.8", "0.95", "gpkg", "swap"])
    parser.add_argument("--partitions", type=int,
                        help="run the survey in N partitions (streamed to the outputs)")
    args = parser.parse_args(argv)
    extra = ("--partitions", str(args.partitions)) if args.partitions else ()
    work = args.work.resolve()
    county = work / "county"
    if not (county / "county.yaml").exists():
        subprocess.run([sys.executable, str(ROOT / "scripts" / "make_county.py"), "--buildings",
                        str(args.buildings), "--out-dir", str(county)], check=True, stdout=subprocess.DEVNULL)
    config = county / "county.yaml"
    saved, out = work / "earlier_set", work / "out"
    shutil.rmtree(saved, ignore_errors=True)
    proc = roofpv("plan", str(config), "--out", str(saved), "--no-report")
    if proc.wait():
        print(proc.stderr.read())
        return 2
    old = snapshot(saved)
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(saved, out)
    start = time.monotonic()
    proc = roofpv("survey", str(config), "--out", str(out), "--overwrite", *extra)
    if proc.wait():
        print(proc.stderr.read())
        return 2
    full = time.monotonic() - start
    print(f"earlier set: plan, {len(old)} files; a full `survey --overwrite` takes {full:.1f} s")
    rows = [trial(config, out, saved, old, m, full, extra) for m in args.moments]
    bad = 0
    for row in rows:
        ok = row["state"] in ("old", "new") or (row["mid-swap"] and row["after recovery"] == "new")
        ok = ok and row["after recovery"] in ("old", "new") and not row["leftovers after recovery"]
        bad += not ok
        print(("ok   " if ok else "FAIL ") + json.dumps(row, ensure_ascii=False))
    shutil.rmtree(saved, ignore_errors=True)
    return 1 if bad else 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    sys.exit(main())
