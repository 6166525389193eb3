"""HTML and XLSX reports of a survey run.

``write(report, config, out_dir, lang)`` writes the folder ``report`` (``report_en`` for
English) into the output folder: ``index.html`` (city overview), one page per
township and ``roofpv.xlsx``. Data come from a run's results (:func:`from_results`,
used at the end of ``roofpv survey`` and ``plan``) or from an output folder
(:func:`from_folder`, used by ``roofpv report``); both give the same report. The
monthly energy profile is the run's own ``monthly_yield`` table.
"""

from __future__ import annotations

from pathlib import Path

from roofpv.config import Config
from roofpv.errors import RoofpvError
from roofpv.io.outputs import as_read_back, read_outputs
from roofpv.io.writers import write_folder
from roofpv.report import pages, workbook
from roofpv.report.data import ReportData, monthly_share
from roofpv.report.labels import LANGS, text
from roofpv.report.parameters import config_comments, parameter_table
from roofpv.results import Results
from roofpv.schema import CITY, REPORT_FOLDERS
from roofpv.targets.policy import POTENTIAL_FIELDS

__all__ = ["LANGS", "ReportData", "folder", "from_folder", "from_results", "write"]

def folder(out_dir: Path, lang: str) -> Path:
    """The report folder of a language inside the output folder."""
    text(lang)
    return out_dir / REPORT_FOLDERS[lang]


def from_results(results: Results, config: Config) -> ReportData:
    """Report data of a run held in memory."""
    b = results.buildings
    counties = None if results.counties is None else as_read_back(results.counties, None, "county")
    return ReportData(b, as_read_back(results.townships, results.township_polygons), results.township_polygons,
                      results.plan, monthly_share(b, results.monthly_yield), CITY, counties, _province(config),
                      results.surfaces, results.transformers)


def from_folder(out_dir: Path, config: Config) -> ReportData:
    """Report data read back from the output folder of ``roofpv survey`` or ``plan``."""
    found = read_outputs(out_dir)
    missing = [c for c in (*POTENTIAL_FIELDS, "pv_full") if c not in found["townships"].columns]
    if missing:
        raise RoofpvError(f"{out_dir} was written by an earlier roofpv (no {', '.join(missing)}); "
                          f"run `roofpv survey --out {out_dir} --overwrite` again")
    b = found["buildings"]
    return ReportData(b, found["townships"], found["polygons"], found["plan"],
                      monthly_share(b, found["monthly_yield"]), CITY, found["counties"], _province(config),
                      found["surfaces"], found["transformers"])


def _province(config: Config) -> str | None:
    return config.province.name if config.province is not None else None


def make(report: ReportData, config: Config, lang: str = "zh") -> dict[str, bytes]:
    """Every file of the report folder by name: pages and the workbook."""
    comments = config_comments(config.source_path) if config.source_path else {}
    params = parameter_table(config.model_dump(mode="json"), comments, config.economics.assumptions, lang)
    name = config.source_path.name if config.source_path else ""
    files = {k: v.encode("utf-8") for k, v in pages.render(report, config, params, lang, name).items()}
    files["roofpv.xlsx"] = workbook.build(report, config, lang)
    return files


def write(report: ReportData, config: Config, out_dir: Path, lang: str = "zh", pdf: bool = False) -> Path:
    """Write the report folder (replacing an earlier one whole); returns its path. With
    ``pdf`` each page is also printed to an A4 PDF beside it, plus ``city.pdf`` of all
    pages (needs Chromium, see :mod:`roofpv.report.pdf`)."""
    path = folder(out_dir, lang)
    files = make(report, config, lang)
    if pdf:
        from roofpv.report.pdf import pdfs

        files.update(pdfs({k: v.decode("utf-8") for k, v in files.items() if k.endswith(".html")}))
    write_folder(path, files)
    return path
