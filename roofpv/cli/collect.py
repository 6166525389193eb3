"""``roofpv collect FORMS... --out FILE``: returned forms → the survey workbook roofpv
reads, with history, conflicts, new buildings, invalid values and completeness."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

#: Chinese (English) headers of the collect workbook's tables.
HEADERS = {
    "building_id": "建筑编号 building id", "column": "列 column", "value": "值 value",
    "time": "时间 time", "kind": "类型 kind", "file": "文件 file", "sheet": "工作表 sheet",
    "row": "行 row", "form": "表单 form", "office": "填报单位 office", "issued_value": "发放值 issued",
    "taken": "采用 taken", "final": "最终值 final", "township": "镇街道 township", "name": "建筑名称 name",
    "category": "建筑类别 category", "note": "备注 note", "action": "处理 action", "level": "级别 level",
    "problem": "问题 problem", "fix": "处理建议 fix", "person": "填报人 person", "filled": "填报日期 filled",
    "filled_from": "日期来源 date from", "issued": "发放日期 issued", "rows": "行数 rows",
    "status": "状态 status", "buildings": "建筑数 buildings", "returns": "报送次数 returns",
    "latest": "最近报送 latest", "senders": "报送单位 senders", "surveyed": "已调查 surveyed",
    "surveyed_share": "已调查比例 surveyed share", "complete": "关键列齐全 complete",
    "complete_share": "齐全比例 complete share", "field_check": "需现场复核 field check",
    "cohort_unknown": "无法判定是否属政策对象 cohort unknown", "measured": "DSM遮挡 DSM shading",
}


def add_parser(subparsers) -> argparse.ArgumentParser:
    command = subparsers.add_parser(
        "collect",
        help="merge returned survey forms into the survey workbook and report completeness",
        description=(
            "Merge returned forms (files or folders, any order, several versions of a township): "
            "the newest value of each building and column wins (填报日期, else the file time), every "
            "edit is kept in a history sheet, edits of one cell by two offices are reported as "
            "conflicts, rows added in the field are listed for digitising and values outside the "
            "lists or ranges are reported with file, sheet, row and column. Writes the survey "
            "workbook roofpv reads (point inputs.survey at it) with the completeness per township, "
            "column and policy cohort, the missing and stale forms and the roofs to check in the field."
        ),
    )
    command.add_argument("forms", nargs="+", type=Path, metavar="FORM",
                         help="returned form workbooks, or folders holding them")
    command.add_argument("--out", type=Path, required=True, metavar="FILE", help="survey workbook to write (.xlsx)")
    command.add_argument("--issued", type=Path, metavar="PATH",
                         help="forms_issued.csv of `roofpv forms` (or its folder): lets collect name "
                         "the forms never returned; default: only the returned forms count")
    command.add_argument("--config", type=Path, help="config whose policy cohorts and survey sheet name "
                         "to use; default: configs/pinghu.yaml")
    command.add_argument("--as-of", metavar="YYYY-MM-DD", help="date the staleness is measured at (default: today)")
    command.add_argument("--stale-days", type=int, default=30, metavar="N",
                         help="a form last returned more than N days before --as-of is stale (default 30)")
    command.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    command.add_argument("--quiet", action="store_true", help="print only errors")
    return command


def _paths(items: list[Path]) -> list[Path]:
    from roofpv.cli.forms import ISSUED_LIST

    out: list[Path] = []
    for item in items:
        if item.is_dir():
            out += sorted(p for p in item.glob("*.xlsx") if not p.name.startswith((".", "~$")))
        else:
            out.append(item)
    return [p for p in out if p.name != ISSUED_LIST]


def run(args: argparse.Namespace, console) -> int:
    import pandas as pd
    from rich.table import Table

    from roofpv.cli.forms import ISSUED_LIST
    from roofpv.cli.options import default_config
    from roofpv.config import load_config
    from roofpv.errors import ConfigError, FormError, OutputExistsError
    from roofpv.fieldwork import completeness
    from roofpv.fieldwork.collect import collect
    from roofpv.fieldwork.forms import survey_columns
    from roofpv.findings import Finding, findings_frame
    from roofpv.inputs.survey_table import normalise_survey
    from roofpv.io import form_workbooks as form_io

    config = load_config(args.config or default_config())
    if args.out.exists() and not args.overwrite:
        raise OutputExistsError(f"{args.out} already exists; pass --overwrite to replace it")
    try:
        as_of = dt.datetime.fromisoformat(args.as_of) if args.as_of else dt.datetime.now()
    except ValueError:
        raise ConfigError(f"--as-of {args.as_of!r}: write the date as YYYY-MM-DD") from None
    returns, unreadable = [], []
    for path in _paths(args.forms):
        try:
            returns.append(form_io.read_form(path))
        except FormError as exc:
            unreadable.append(Finding("error", str(path), None, None, None, None, str(exc),
                                      "collect the forms `roofpv forms` wrote, as returned"))
    if not returns:
        raise FormError("no readable form among " + ", ".join(map(str, args.forms))
                                + ("; " + unreadable[0].problem if unreadable else ""))
    merged = collect(returns)
    problems = unreadable + merged.problems

    # What was issued: the listing of `roofpv forms`, else the returned forms themselves.
    if args.issued is not None:
        listing_path = args.issued / ISSUED_LIST if args.issued.is_dir() else args.issued
        if not listing_path.exists():
            raise ConfigError(f"{listing_path}: not found; pass the forms folder of `roofpv forms`")
        listing = pd.read_csv(listing_path, dtype=str, encoding="utf-8-sig").set_index("building_id")
    else:
        listing = pd.concat([pd.DataFrame({"form": r.form_id, "township": r.township, "issued": r.issued_on,
                                           "measured_shading": r.measured.to_numpy(object)},
                                          index=r.issued.index) for r in returns])
        listing = listing[~listing.index.duplicated(keep="last")]
    canonical, _ = normalise_survey(merged.survey.reset_index(), str(args.out), None, first_row=2)
    status = completeness.building_status(listing[["township", "form"]], canonical,
                                          listing["measured_shading"].where(listing["measured_shading"].notna()))
    order = list(dict.fromkeys(listing["township"]))
    targets = list(config.policy.targets)
    by_town = completeness.summary(status, targets, order)
    by_column = completeness.column_shares(status, order)
    issued_forms = listing.groupby("form", sort=False).agg(
        township=("township", "first"), buildings=("township", "size"), issued=("issued", "first"))
    forms_status = completeness.form_status(issued_forms, merged.returns, as_of, args.stale_days)
    checks = status[status["field_check"]].join(canonical[["shading"]]).assign(
        measured=listing["measured_shading"])[["township", "form", "shading", "measured"]]

    labels = {c.key: c.header for c in survey_columns(as_of.year)}
    sheet = config.inputs.survey_sheet if isinstance(config.inputs.survey_sheet, str) else "屋顶普查"
    survey_sheet = merged.survey.reset_index().rename(columns=labels)
    col_labels = {**HEADERS, **{k: v for k, v in labels.items() if k not in HEADERS}}
    t_labels = {f"{t.name}_{s}": f"{t.label} {w}" for t in targets
                for s, w in (("cohort", "政策对象建筑数"), ("complete", "齐全数"), ("complete_share", "齐全比例"))}

    def table(frame, index=False):
        frame = frame.reset_index() if index else frame
        return frame.rename(columns={**col_labels, **t_labels})

    sheets = {
        sheet: survey_sheet,
        "完成情况": table(by_town, index=True),
        "各列完成率": table(by_column, index=True),
        "表单状态": table(forms_status, index=True),
        "修改记录": table(merged.history),
        "冲突": table(merged.conflicts),
        "新增建筑": table(merged.new_rows),
        "问题": table(findings_frame(problems)),
        "报送文件": table(merged.returns),
        "现场复核": table(checks.rename_axis("building_id"), index=True),
    }
    form_io.write_sheets(args.out, sheets)
    if args.quiet:
        return 0

    view = Table(title="roofpv collect · 普查完成情况", header_style="bold", pad_edge=False)
    for col in ("township", "bldgs", "surveyed", "complete", *(t.name[:18] for t in targets), "field chk"):
        view.add_column(col, justify="left" if col == "township" else "right", no_wrap=True)
    for name, row in by_town.iterrows():
        cells = [str(name), f"{int(row['buildings']):,}", _pct(row["surveyed_share"]), _pct(row["complete_share"])]
        cells += [f"{_pct(row[f'{t.name}_complete_share'])} of {int(row[f'{t.name}_cohort']):,}" for t in targets]
        view.add_row(*cells, f"{int(row['field_check']):,}", end_section=name == by_town.index[-2])
    console.print(view)
    console.print("surveyed: a survey row; complete: " + ", ".join(completeness.DECISIVE)
                  + " filled; cohort share: complete buildings of those the survey places in the cohort")
    for label, state in (("missing", completeness.MISSING), ("stale", completeness.STALE)):
        names = forms_status.index[forms_status["status"] == state]
        if len(names):
            console.print(f"{label} forms ({len(names)}): {'、'.join(names)}")
    levels = findings_frame(problems)["level"].value_counts()
    console.print(
        f"{len(returns)} forms read ({len(unreadable)} unreadable), {len(merged.survey):,} buildings surveyed; "
        f"{len(merged.history):,} values received, {merged.conflicts[['building_id', 'column']].drop_duplicates().shape[0]:,} "
        f"conflicting cells, {len(merged.new_rows):,} rows added in the field, "
        f"{int(levels.get('warning', 0)) + int(levels.get('error', 0)):,} problems; written to {args.out}")
    return 0


def _pct(x: float) -> str:
    return "–" if x != x else f"{100 * x:.0f}%"
