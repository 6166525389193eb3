"""``roofpv survey``: assess every building and write the GeoPackage and township table."""

from __future__ import annotations

import argparse

from roofpv.cli.common import (
    coverage_line,
    execute,
    imports_frozen,
    milestone_cell,
    pct,
    reconciliation,
    status_legend,
    write_report,
)
from roofpv.cli.options import run_options, setup
from roofpv.cli.progress import RunProgress
from roofpv.schema import CITY, REPORT_FOLDERS, SURVEY_OUTPUTS


def add_parser(commands) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        "survey",
        help="assess every building and write the GeoPackage and township table",
        description=(
            "Assess every building of the survey: suitability with reasons, module layout, "
            "capacity, yield, and coverage per township against the policy targets. Writes "
            "roofpv.gpkg (layers buildings, townships), townships.csv and findings.csv."
        ),
    )
    run_options(parser)
    parser.add_argument(
        "--sensitivity", action="store_true",
        help="also write sensitivity.csv: township capacity, energy and coverage with module "
             "power ±10 %%, losses ±2 points, load safety factor +0.1/+0.25 and survey shading "
             "losses ×0.5/×1.5 (敏感性分析)")
    return parser


#: Column headers of the terminal table per language; † marks the screening columns.
SUMMARY_COLUMNS = {
    "zh": ("镇街道", "建筑数", "适宜", "有条件", "计入潜力\nMWp", "年发电\nGWh", "现状\n覆盖率", "潜力\n覆盖率",
           "技术潜力†\nMWp", "年发电† GWh\nP50/P90", "筛查†\n覆盖率"),
    "en": ("township", "bldgs", "suitable", "cond.", "counted\nMWp", "GWh/yr", "cov.\nnow", "cov.\npotential",
           "technical†\nMWp", "GWh/yr†\nP50/P90", "cov.†\nscreening"),
}
#: What the screening columns are, printed under each table.
SCREENING_NOTE = {
    "zh": "† 筛查：适宜与有条件适宜屋顶（含无普查记录的建筑）的技术潜力，需普查核实后方可计入目标",
    "en": "† screening: technical potential of suitable and conditional roofs (buildings without a "
          "survey row among them); survey needed before counting toward a target",
}


def summary_table(townships, target, lang: str = "zh", county: bool = False):
    """Rich table: buildings, suitable, counted capacity, energy and coverage of ``target``
    per township (``county``: per county of a province run) and, marked † as screening,
    the technical potential with its P50/P90 energy and coverage (:data:`SCREENING_NOTE`),
    headed in ``lang``."""
    from rich.table import Table

    milestones = list(target.milestones)
    level = ("分县汇总", "counties", "县(市、区)", "county") if county else ("分镇街道汇总", "townships", None, None)
    title = (f"roofpv survey · {level[0]} · {target.label}" if lang == "zh"
             else f"roofpv survey · {level[1]} · {target.name.replace('_', ' ')}")
    table = Table(title=title, header_style="bold", pad_edge=False, caption=SCREENING_NOTE[lang],
                  caption_justify="left")
    heads = SUMMARY_COLUMNS[lang]
    if county:
        heads = (level[2] if lang == "zh" else level[3], *heads[1:])
    for i, col in enumerate(heads):
        table.add_column(col, justify="left" if i == 0 else "right", no_wrap=True)
    for year in milestones:
        table.add_column(f"{year}", justify="right")
    p = f"{target.name}_"
    for name, row in townships.iterrows():
        cells = [
            str(name), f"{row['buildings']:,.0f}", f"{row['suitable']:,.0f}",
            f"{row['conditional']:,.0f}", f"{row['counted_potential_kwp'] / 1000:,.1f}",
            f"{row['annual_mwh'] / 1000:,.1f}", pct(row[p + "coverage_today"]),
            pct(row[p + "coverage_potential"]), f"{row['technical_potential_kwp'] / 1000:,.1f}",
            f"{row['technical_annual_mwh'] / 1000:,.1f}/{row['technical_annual_mwh_p90'] / 1000:,.1f}",
            pct(row[p + "coverage_technical"]),
        ]
        for year in milestones:
            cells.append(milestone_cell(pct(row[f"{p}target_{year}"]), row[f"{p}status_{year}"]))
        table.add_row(*cells, end_section=(name == townships.index[-2]))
    return table


#: Where a province run's township figures are, printed under its county tables.
PROVINCE_NOTE = {
    "zh": "{n:,} 个镇街道的分项结果见 townships.csv、成果工作簿与报告",
    "en": "the {n:,} townships' figures are in townships.csv, the workbook and the report",
}


#: Column headers of the table of roofs, facades and surfaces beside each other.
SURFACE_COLUMNS = {
    "zh": ("镇街道", "屋顶\nMWp", "立面\nMWp", "周边场地\nMWp", "合计\nMWp", "屋顶\nGWh", "立面\nGWh",
           "周边场地\nGWh", "合计\nGWh", "替代率\n仅屋顶", "替代率\n+立面", "替代率\n+立面+场地"),
    "en": ("township", "roofs\nMWp", "facades\nMWp", "surfaces\nMWp", "total\nMWp", "roofs\nGWh/yr",
           "facades\nGWh/yr", "surfaces\nGWh/yr", "total\nGWh/yr", "subst.\nroofs", "subst.\n+facades",
           "subst.\n+surfaces"),
}
#: What the table counts, printed under it.
SURFACE_NOTE = {
    "zh": "屋顶为计入潜力（适宜屋顶）；周边场地：车棚、连廊、污水处理池加盖、农业大棚、院落空地。覆盖率目标只计屋顶；"
          "替代率 =（已装光伏 + 新增）发电量 ÷ 建筑用能",
    "en": "roofs: counted potential (suitable roofs); surfaces: carports, corridors, tank covers, greenhouses, "
          "rural yards. Coverage targets count roofs only; substitution = (existing PV + added) kWh ÷ energy use",
}


def surfaces_table(townships, lang: str = "zh", county: bool = False):
    """Rich table: capacity and energy of roofs, facades and surfaces beyond roofs side
    by side, their sum, and the substitution rate with roofs only, with facades and with
    every surface (:mod:`roofpv.surfaces.totals`), per township (``county``: per county of
    a province run), headed in ``lang``."""
    from rich.table import Table

    title = ("roofpv survey · 屋顶、立面与周边场地" if lang == "zh"
             else "roofpv survey · roofs, facades and surfaces beyond roofs")
    table = Table(title=title, header_style="bold", pad_edge=False, caption=SURFACE_NOTE[lang],
                  caption_justify="left")
    heads = SURFACE_COLUMNS[lang]
    if county:
        heads = ("县(市、区)" if lang == "zh" else "county", *heads[1:])
    for i, col in enumerate(heads):
        table.add_column(col, justify="left" if i == 0 else "right", no_wrap=True)
    for name, row in townships.iterrows():
        table.add_row(
            str(name),
            *(f"{row[c] / 1000:,.1f}" for c in ("counted_potential_kwp", "facade_kwp", "surface_kwp", "total_kwp",
                                               "annual_mwh", "facade_annual_mwh", "surface_annual_mwh",
                                               "total_annual_mwh")),
            *(pct(row[c]) for c in ("substitution_roofs", "substitution_with_facades", "substitution_all")),
            end_section=(name == townships.index[-2]))
    return table


def township_order(results) -> list[str]:
    """Townships in the order of the township layer, then any others."""
    order = list(results.township_polygons.index) if results.township_polygons is not None else []
    towns = results.townships.index.drop(CITY)
    known = set(order)
    return [t for t in order if t in towns] + [t for t in towns if t not in known]


def run(args: argparse.Namespace, console) -> int:
    import pandas as pd

    from roofpv.io.outputs import output_set, write_outputs
    from roofpv.results import reconcile
    from roofpv.run.engine import clear_partitions
    from roofpv.run.pipeline import prepare

    config, out_dir = setup(args)
    names = (*SURVEY_OUTPUTS, REPORT_FOLDERS[args.lang],
             *(("sensitivity.csv",) if args.sensitivity else ()))
    with imports_frozen(), output_set(out_dir, args.overwrite, names) as stage, \
            RunProgress(console, args.quiet) as progress:
        # --sensitivity reruns the per-building stages on the same prepared inputs
        prepared = prepare(config, progress.stage) if args.sensitivity else None
        results = execute(config, out_dir, args, progress.stage, progress.partition, prepared)
        paths = write_outputs(results, stage, geo_format=args.geo_format, progress=progress.write,
                              title=out_dir.resolve().name, lang=args.lang)
        write_report(results, config, out_dir, args, paths, console, progress, stage)
        if args.sensitivity:
            from roofpv.io import writers
            from roofpv.run.sensitivity import sensitivity_table

            paths["sensitivity"] = stage / "sensitivity.csv"
            writers.write_table(paths["sensitivity"], sensitivity_table(config, prepared))
    paths = {name: out_dir / path.relative_to(stage) for name, path in paths.items()}
    clear_partitions(out_dir)
    elapsed = progress.done()
    if args.quiet:
        return 0
    t = results.townships
    # a province's terminal summary is by county: its townships (thousands) are in
    # townships.csv, the workbook and the report
    table = (results.counties if results.counties is not None
             else pd.concat([t.loc[township_order(results)], t.loc[[CITY]]]))
    for target in config.policy.targets:
        console.print(summary_table(table, target, args.lang, county=results.counties is not None))
        console.print(coverage_line(target, args.lang))
    if results.counties is not None:
        console.print(PROVINCE_NOTE[args.lang].format(n=len(t) - 1))
    console.print(surfaces_table(table, args.lang, county=results.counties is not None))
    console.print(status_legend(config.run_date))
    console.print(reconciliation(reconcile(results.buildings, results.survey_rows)))
    errors = sum(f.level == "error" for f in results.findings)
    console.print(f"{len(results.findings)} input findings ({errors} errors): see findings.csv "
                  "or run `roofpv validate`")
    for name, path in paths.items():
        console.print(f"  {name}: {path}")
    console.print(f"done in {elapsed:.1f} s")
    return 0
