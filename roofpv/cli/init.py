"""``roofpv init``: a starting config for the user's own footprints (and survey, DSM, weather)."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(commands) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        "init",
        help="write a starting config for your own footprints (and survey, DSM, weather)",
        description=(
            "Read a footprint layer (and optionally a survey, a DSM folder and a weather file) "
            "and write a starting config: id column and CRS detected, survey headers mapped, "
            "DSM resolution read, site at the data's centre, extending the nearest configured "
            "jurisdiction, with CHECK comments saying what to confirm."
        ),
    )
    parser.add_argument("footprints", type=Path, help="building footprint layer (GeoPackage, GeoJSON, Shapefile …)")
    parser.add_argument("--layer", help="layer of a multi-layer file")
    parser.add_argument("--survey", type=Path, metavar="F", help="survey workbook (.xlsx) or CSV")
    parser.add_argument("--dsm", type=Path, metavar="DIR", help="folder of DSM GeoTIFF tiles or of classified LAS/LAZ point clouds")
    parser.add_argument("--weather", type=Path, metavar="F", help="hourly weather file (EPW, TMY3, PVGIS, CSV)")
    parser.add_argument("--out", type=Path, metavar="CONFIG",
                        help="config file to write; default: <footprints name>.yaml")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing config file")
    return parser


def run(args: argparse.Namespace, console) -> int:
    from roofpv.cli.options import default_config
    from roofpv.errors import OutputExistsError
    from roofpv.io.inspect import starting_config
    from roofpv.io.writers import write_text

    out = args.out or Path(args.footprints.stem + ".yaml")
    if out.exists() and not args.overwrite:
        raise OutputExistsError(f"{out} already exists; pass --overwrite to replace it or --out to write elsewhere")
    text = starting_config(args.footprints, out, configs=default_config().parent, layer=args.layer,
                           survey=args.survey, dsm=args.dsm, weather=args.weather)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_text(out, text)
    checks = sum("CHECK" in line for line in text.splitlines())
    console.print(f"wrote {out}: {checks} CHECK comments to read, then `roofpv validate {out}`")
    return 0
