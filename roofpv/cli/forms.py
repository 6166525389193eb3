"""``roofpv forms [CONFIG] --out DIR``: one survey form (XLSX) and one map (PDF) per
township, or per village of a township."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from roofpv.schema import ISSUED_LIST


def add_parser(subparsers) -> argparse.ArgumentParser:
    command = subparsers.add_parser(
        "forms",
        help="write the survey forms (XLSX) and maps (PDF) to send to the townships",
        description=(
            "Write one survey form per township (per village with --village-column): one row per "
            "building with the values the survey already holds, DSM estimates of shading and "
            "storeys to confirm, drop-down lists and number ranges, locked id columns and "
            "instructions in Chinese; a PDF map per form with every building id; and "
            f"{ISSUED_LIST}, the list of what was issued, for `roofpv collect --issued`."
        ),
    )
    command.add_argument("config", nargs="?", type=Path,
                         help="jurisdiction config (YAML); default: configs/pinghu.yaml")
    command.add_argument("--out", type=Path, metavar="DIR", help="folder for the forms; default: out/<config name>/forms")
    command.add_argument("--overwrite", action="store_true", help="replace forms of an earlier run")
    command.add_argument("--village-column", metavar="NAME",
                         help="footprints attribute naming each building's village or community: one form per village")
    command.add_argument("--paper", choices=("A3", "A4"), default="A3", help="map paper size (default A3)")
    command.add_argument("--date", metavar="YYYY-MM-DD", help="issue date written in the forms (default: today)")
    command.add_argument("--no-maps", dest="maps", action="store_false", help="forms only, no PDF maps")
    command.add_argument("--quiet", action="store_true", help="print only errors")
    return command


def run(args: argparse.Namespace, console) -> int:
    import pandas as pd

    from roofpv.cli.options import default_config
    from roofpv.config import load_config
    from roofpv.errors import ConfigError, OutputExistsError
    from roofpv.fieldwork import forms
    from roofpv.io import form_workbooks as form_io
    from roofpv.io.outputs import output_set
    from roofpv.io.readers import read_vector
    from roofpv.io.writers import write_table
    from roofpv.run.pipeline import survey_roofs

    config_path = args.config or default_config()
    config = load_config(config_path)
    out_dir = args.out or Path("out") / config_path.stem / "forms"
    issued = args.date or dt.date.today().isoformat()
    try:
        dt.date.fromisoformat(issued)
    except ValueError:
        raise ConfigError(f"--date {issued!r}: write the issue date as YYYY-MM-DD") from None
    if (out_dir / ISSUED_LIST).exists() and not args.overwrite:
        raise OutputExistsError(f"{out_dir / ISSUED_LIST} already exists; pass --overwrite to replace "
                                "the forms or --out to write elsewhere")
    with console.status("reading inputs and measuring roofs on the DSM…"):
        inventory, b = survey_roofs(config)
    village = None
    if args.village_column:
        inputs = config.inputs
        attrs = read_vector(inputs.footprints, inputs.footprints_layer, read_geometry=False)
        if args.village_column not in attrs.columns:
            raise ConfigError(f"{inputs.footprints}: no column {args.village_column!r}; columns are "
                              f"{[c for c in attrs.columns]}")
        ids = attrs[inputs.footprints_id_column].astype("string").str.strip()
        village = attrs[args.village_column].set_axis(ids.to_numpy()).astype(object)
        village = village[~village.index.duplicated()]
    order = list(inventory.township_polygons.index) if inventory.township_polygons is not None else []
    made = forms.make_forms(b, config.dsm.storey_height_m, issued, order, village)
    title = config.site.name
    font = Path(__file__).parents[1] / "report" / "fonts" / "NotoSansCJKsc-GB2312.otf"
    suffixes = (".xlsx", ".pdf") if args.maps else (".xlsx",)
    names = [ISSUED_LIST, *(f"{f.file_name}{suffix}" for f in made for suffix in suffixes)]
    listing = []
    # merge: the folder's other files (returned forms, an earlier round's forms) are kept
    with output_set(out_dir, args.overwrite, names, merge=True) as stage, \
            console.status("writing forms…") as status:
        _keep_returned(out_dir, names)
        for form in made:
            status.update(f"writing {form.file_name}")
            rows = b.loc[form.values.index]
            points = rows.geometry.representative_point()
            pages, page = forms.map_pages(points.x.to_numpy(), points.y.to_numpy(), rows.index, args.paper)
            form_io.write_form(stage / f"{form.file_name}.xlsx", form, title, page)
            if args.maps:
                polygon = (inventory.township_polygons.geometry.get(form.township)
                           if inventory.township_polygons is not None else None)
                form_io.write_map(stage / f"{form.file_name}.pdf", rows[["geometry"]], polygon, pages, page,
                                  f"{title} · {form.form_id} · 屋顶光伏普查地图", args.paper, font)
            listing.append(pd.DataFrame({
                "building_id": form.values.index, "form": form.form_id, "township": form.township,
                "file": f"{form.file_name}.xlsx", "issued": issued,
                "measured_shading": form.measured.to_numpy(object),
            }))
        write_table(stage / ISSUED_LIST, pd.concat(listing, ignore_index=True))
    if not args.quiet:
        estimates = sum(int(f.estimate.to_numpy().sum()) for f in made)
        console.print(f"{len(made)} forms, {len(b):,} buildings, {estimates:,} DSM estimates to confirm; "
                      f"written to {out_dir}")
        for form in made:
            console.print(f"  {form.file_name}.xlsx{' + .pdf' if args.maps else ''}: {len(form.values):,} buildings")
    return 0


def _keep_returned(out_dir: Path, names: list[str]) -> None:
    """Refuse to replace a form an office has filled in (a returned form saved under its
    issued name): it would be lost."""
    from roofpv.errors import FormError, OutputExistsError
    from roofpv.fieldwork.collect import filled_in
    from roofpv.io.form_workbooks import read_form

    for name in names:
        path = out_dir / name
        if path.suffix != ".xlsx" or not path.exists():
            continue
        try:
            returned = filled_in(read_form(path))
        except FormError:
            returned = True  # not a form roofpv wrote: not ours to replace
        if returned:
            raise OutputExistsError(
                f"{path}: filled in by an office (a returned form) or not a form roofpv wrote; "
                "move it out of the folder (or rename it) before issuing new forms, so it is not lost")
