"""Digest of the outputs of the sample and real-data chains, to show a change kept them.

Runs ``roofpv survey`` and ``roofpv plan`` (no report) on the embedded sample, the real
DSM (Göteborg) and the real OSM footprints (Lujiazui, through ``roofpv init``), then
hashes every table that matters to a bureau: layers ``buildings``, ``roof_planes``,
``townships``, ``rollout_plan``, ``pv_arrays``, table ``monthly_yield`` and the CSVs
(rows in file order, values as written; the GeoPackage's own timestamps are left out).

    python scripts/output_digest.py digest.json            # write the digest
    python scripts/output_digest.py digest.json --check    # compare with a digest written before

``--check`` prints each table that differs and exits 1 if any does.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from pathlib import Path

import pyogrio

from roofpv.cli import main

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT / "tests" / "data" / "real"
LAYERS = ("buildings", "roof_planes", "townships", "rollout_plan", "pv_arrays", "monthly_yield")
CSVS = ("townships.csv", "findings.csv", "rollout_plan.csv", "plan_status.csv", "trajectory.csv")


def chains(work: Path) -> dict[str, list[str]]:
    """Name → config of each chain (the Lujiazui config is written by ``roofpv init``)."""
    lujiazui = work / "lujiazui.yaml"
    main(["init", str(REAL / "osm_shanghai" / "lujiazui_buildings.geojson"), "--weather",
          str(REAL / "weather" / "CHN_Zhejiang.Hangzhou.584570_CSWD.epw.gz"), "--out", str(lujiazui)])
    return {"sample": str(ROOT / "configs" / "pinghu.yaml"),
            "goteborg": str(REAL / "dsm_goteborg" / "goteborg.yaml"),
            "lujiazui": str(lujiazui)}


def table_digest(path: Path, layer: str) -> str:
    frame = pyogrio.read_dataframe(path, layer=layer)
    text = frame.to_csv(index=False) if "geometry" not in frame else (
        frame.drop(columns="geometry").to_csv(index=False) + "\n".join(frame.geometry.to_wkt()))
    return hashlib.sha256(text.encode()).hexdigest()


def without_folders(text: bytes, work: Path) -> bytes:
    """``text`` with the run's temporary folder and the checkout's folder named by
    placeholders: findings name their input files, whose folders differ from one
    checkout or run to the next while the results do not."""
    return text.replace(str(work).encode(), b"<work>").replace(str(ROOT).encode(), b"<checkout>")


def digest() -> dict[str, str]:
    out: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for name, config in chains(work).items():
            for command in ("survey", "plan"):
                folder = work / f"{name}-{command}"
                code = main([command, config, "--out", str(folder), "--no-report", "--quiet"])
                if code != 0:
                    raise SystemExit(f"{command} {name}: exit {code}")
                layers = {info[0] for info in pyogrio.list_layers(folder / "roofpv.gpkg")}
                for layer in LAYERS:
                    if layer in layers:
                        out[f"{name}/{command}/{layer}"] = table_digest(folder / "roofpv.gpkg", layer)
                for csv in CSVS:
                    if (folder / csv).exists():
                        out[f"{name}/{command}/{csv}"] = hashlib.sha256(
                            without_folders((folder / csv).read_bytes(), work)).hexdigest()
    return out


def run(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    now = digest()
    if not args.check:
        args.file.write_text(json.dumps(now, indent=1, sort_keys=True))
        print(f"{len(now)} tables written to {args.file}")
        return 0
    before = json.loads(args.file.read_text())
    differ = sorted(k for k in before.keys() | now.keys() if before.get(k) != now.get(k))
    for key in differ:
        print(f"differs: {key}")
    print(f"{len(now) - len(differ)} of {len(before.keys() | now.keys())} tables identical")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(run())
