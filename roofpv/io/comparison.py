"""``roofpv compare``'s edges: the two runs read from their output folders, the
comparison written into its folder as one set (:func:`roofpv.io.outputs.output_set`).
:func:`roofpv.targets.compare.compare` computes it."""

from __future__ import annotations

from pathlib import Path

from roofpv.io.outputs import field_aliases, output_set, read_outputs, run_date
from roofpv.io.writers import write_geopackage, write_table, write_text
from roofpv.schema import COMPARE_OUTPUTS
from roofpv.targets.compare import Comparison, compare


def read_run(out_dir: Path) -> dict:
    """A run's outputs (:func:`roofpv.io.outputs.read_outputs`) with ``folder`` (the
    folder as given) and ``as_of`` (its run date, or None)."""
    out_dir = Path(out_dir)
    return {**read_outputs(out_dir), "folder": str(out_dir), "as_of": run_date(out_dir)}


def target_labels(out_dir: Path, buildings) -> dict[str, str]:
    """Target labels kept as field aliases of the buildings' cohort columns in the run's
    GeoPackage, else the target names."""
    aliases = field_aliases(Path(out_dir) / "roofpv.gpkg", "buildings")
    return {c.removeprefix("cohort_"): aliases.get(c, c).removeprefix("属于对象：").removeprefix("cohort_")
            for c in buildings.columns if c.startswith("cohort_")}


def compare_runs(old_out: Path, new_out: Path) -> Comparison:
    """Progress between the runs whose outputs are in the folders ``old_out`` and
    ``new_out`` (of ``roofpv survey`` or ``plan``; nothing is re-run), the targets
    labelled as the later run labels them."""
    old, new = read_run(old_out), read_run(new_out)
    return compare(old, new, target_labels(new_out, new["buildings"]))


def write_comparison(comparison: Comparison, out_dir: Path, overwrite: bool = False,
                     lang: str = "zh") -> list[Path]:
    """Write :data:`COMPARE_OUTPUTS` (``compare_counties.csv`` for province runs only)
    into ``out_dir`` as one set: a comparison stopped
    part-way leaves the earlier one whole. The folder's other files are kept (it may be
    a run's output folder). Without ``overwrite`` an earlier comparison there is refused
    (:class:`~roofpv.errors.OutputExistsError`). ``lang``: language of ``compare.html``."""
    out_dir = Path(out_dir)
    with output_set(out_dir, overwrite, COMPARE_OUTPUTS, merge=True) as stage:
        write_table(stage / "compare_townships.csv", comparison.townships.reset_index())
        if comparison.counties is not None:
            write_table(stage / "compare_counties.csv", comparison.counties.reset_index())
        write_table(stage / "compare_cohorts.csv", comparison.cohorts)
        write_table(stage / "changed_buildings.csv", comparison.changes.drop(columns="geometry").reset_index())
        write_geopackage(stage / "compare.gpkg", {"changed_buildings": comparison.changes.reset_index()})
        write_text(stage / "compare.html", comparison.html(lang))
    return [out_dir / name for name in COMPARE_OUTPUTS
            if name != "compare_counties.csv" or comparison.counties is not None]
