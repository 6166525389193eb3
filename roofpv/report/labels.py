"""Words of the reports in Chinese (default) and English."""

from __future__ import annotations

import math

from ..constants import LANGS
from ..schema import LABELS_ZH, REASONS

TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "title": "屋顶光伏普查报告",
        "overview": "全市概况",
        "township": "镇街道",
        "townships": "各镇街道",
        "buildings": "建筑数",
        "suitable": "适宜",
        "conditional": "有条件适宜",
        "unsuitable": "不适宜",
        "capacity_mwp": "可装容量 (MWp)",
        "counted_mwp": "计入潜力 (MWp，适宜屋顶)",
        "technical_mwp": "技术潜力 (MWp，适宜＋有条件适宜)",
        "existing_mw": "已装光伏 (MW)",
        "pv_full": "适宜但已装满光伏的屋顶",
        "counted_kwp": "计入潜力 (kWp，仅适宜)",
        "technical_kwp": "技术潜力 (kWp，适宜＋有条件)",
        "existing_kw": "已装光伏 (kW)",
        "generation_gwh": "年发电量 (GWh)",
        "generation_mwh": "发电量 (MWh)",
        "co2_kt": "年减排 CO₂ (kt)",
        "map": "屋顶适宜性分布",
        "coverage": "覆盖率：现状与潜力对照 2025、2030 年目标",
        "coverage_today": "现状",
        "coverage_potential": "潜力（全部适宜屋顶）",
        "target": "目标",
        "reachable": "可达",
        "by_category": "按建筑类别的可装容量与年发电量（适宜屋顶）",
        "category": "建筑类别",
        "monthly": "逐月发电量（适宜屋顶）",
        "plan": "规划屋顶（按排序前 {n} 个）",
        "no_plan": "本次输出没有实施规划；运行 roofpv plan 生成。",
        "exclusions": "不适宜与有条件适宜的原因",
        "reason": "原因",
        "status": "结论",
        "count": "建筑数",
        "parameters": "参数、来源与假设",
        "parameter": "参数",
        "value": "取值",
        "source": "来源（配置文件注释）",
        "assumption": "假设",
        "yes": "是",
        "no": "否",
        "rank": "序号",
        "building_id": "建筑编号",
        "name": "建筑名称",
        "kwp": "容量 (kWp)",
        "mwh": "年发电量 (MWh)",
        "build_year": "建设年份",
        "targets": "服务目标",
        "back": "返回全市概况",
        "params_note": "参数、来源与假设见全市概况页。",
        "config": "配置文件",
        "legend_boundary": "镇街道边界",
        "roof_area": "屋顶面积 (m²)",
        "reasons_col": "原因代码",
        "annual_kwh": "年发电量 (kWh)",
        "summary_sheet": "汇总",
        "coverage_today_col": "现状覆盖率",
        "coverage_potential_col": "潜力覆盖率",
        "month_names": "1月,2月,3月,4月,5月,6月,7月,8月,9月,10月,11月,12月",
        "none": "无",
        "plan_year": "规划建设年份",
        "roof_type": "屋面类型",
        "specific_yield": "单位发电量 (kWh/kWp)",
        "banner_sample": "示例数据：本报告的输入（{files}）是 roofpv 自带的合成示例数据，建筑、普查结果和镇街道边界均为虚构，数字不代表任何真实地区。",
        "banner_site": "辖区不符：配置文件的辖区是{site}，但所给镇街道边界距{site}的位置 {km:,.0f} 千米，不在该辖区内；请检查配置文件与输入数据是否对应。",
        "map_sheet": "图幅",
        "map_north": "北",
        "map_m": "米",
        "map_km": "千米",
        "map_overview": "全镇街道总图",
        "map_note": "总图中红框为分幅图（共 {n} 幅），分幅图比例约 1:{scale:,.0f}；屋顶按结论着色，数字为下方规划表的序号。",
        "map_legend_planned": "规划屋顶序号",
        "city_map": "各镇街道目标完成情况",
        "city_map_title": "{target}：{year} 年目标",
        "milestone_met": "现状已达标",
        "milestone_reachable": "全部适宜屋顶安装后可达标",
        "milestone_short": "全部适宜屋顶安装后仍不达标",
        "milestone_none": "无该类建筑",
        "sheet_col": "图幅",
    },
    "en": {
        "title": "Rooftop PV survey report",
        "overview": "City overview",
        "township": "Township",
        "townships": "Townships",
        "buildings": "Buildings",
        "suitable": "Suitable",
        "conditional": "Conditional",
        "unsuitable": "Unsuitable",
        "capacity_mwp": "Capacity (MWp)",
        "counted_mwp": "Counted potential (MWp, suitable roofs)",
        "technical_mwp": "Technical potential (MWp, suitable + conditional)",
        "existing_mw": "Existing PV (MW)",
        "pv_full": "Suitable roofs already full of PV",
        "counted_kwp": "Counted potential (kWp, suitable only)",
        "technical_kwp": "Technical potential (kWp, suitable + conditional)",
        "existing_kw": "Existing PV (kW)",
        "generation_gwh": "Generation (GWh/yr)",
        "generation_mwh": "Generation (MWh)",
        "co2_kt": "CO₂ avoided (kt/yr)",
        "map": "Roofs by suitability",
        "coverage": "Coverage today and potential against the 2025 and 2030 targets",
        "coverage_today": "Today",
        "coverage_potential": "Potential (every suitable roof)",
        "target": "Target",
        "reachable": "reachable",
        "by_category": "Capacity and generation by building category (suitable roofs)",
        "category": "Category",
        "monthly": "Monthly generation (suitable roofs)",
        "plan": "Roofs in the plan (first {n} by rank)",
        "no_plan": "This output has no rollout plan; run roofpv plan to make one.",
        "exclusions": "Why roofs are unsuitable or conditional",
        "reason": "Reason",
        "status": "Status",
        "count": "Buildings",
        "parameters": "Parameters, sources and assumptions",
        "parameter": "Parameter",
        "value": "Value",
        "source": "Source (config comment)",
        "assumption": "Assumption",
        "yes": "yes",
        "no": "no",
        "rank": "Rank",
        "building_id": "Building id",
        "name": "Name",
        "kwp": "Capacity (kWp)",
        "mwh": "Generation (MWh/yr)",
        "build_year": "Build year",
        "targets": "Targets served",
        "back": "Back to the city overview",
        "params_note": "Parameters, their sources and assumptions: see the city overview.",
        "config": "Config",
        "legend_boundary": "Township boundary",
        "roof_area": "Roof area (m²)",
        "reasons_col": "Reason codes",
        "annual_kwh": "Generation (kWh/yr)",
        "summary_sheet": "Summary",
        "coverage_today_col": "Coverage today",
        "coverage_potential_col": "Coverage potential",
        "month_names": "Jan,Feb,Mar,Apr,May,Jun,Jul,Aug,Sep,Oct,Nov,Dec",
        "none": "none",
        "plan_year": "Planned build year",
        "roof_type": "Roof type",
        "specific_yield": "Specific yield (kWh/kWp)",
        "banner_sample": ("Sample data: the inputs of this report ({files}) are roofpv's synthetic sample; "
                          "buildings, survey answers and township boundaries are invented and the figures "
                          "describe no real place."),
        "banner_site": ("Jurisdiction mismatch: the config is for {site}, but the township boundaries given lie "
                        "{km:,.0f} km from {site}; check that the config and the input data belong together."),
        "map_sheet": "Sheet",
        "map_north": "N",
        "map_m": "m",
        "map_km": "km",
        "map_overview": "Township overview",
        "map_note": ("Red frames on the overview are the map sheets ({n}); sheets at about 1:{scale:,.0f}; "
                     "roofs coloured by status, numbers are the ranks of the plan table below."),
        "map_legend_planned": "Rank in the plan table",
        "city_map": "Townships against the targets",
        "city_map_title": "{target}: {year} target",
        "milestone_met": "met today",
        "milestone_reachable": "reachable with every suitable roof",
        "milestone_short": "short even with every suitable roof",
        "milestone_none": "no buildings in the cohort",
        "sheet_col": "Map sheet",
    },
}


def text(lang: str) -> dict[str, str]:
    """The words of ``lang`` (``zh`` or ``en``)."""
    if lang not in TEXT:
        raise ValueError(f"language must be one of {', '.join(LANGS)}, not {lang!r}")
    return TEXT[lang]


def code_label(field: str, code: object, lang: str) -> str:
    """Label of a canonical code (category, roof type, suitability …); blank → ``none``."""
    if code is None or (isinstance(code, float) and math.isnan(code)) or code == "":
        return text(lang)["none"]
    if lang == "zh":
        return LABELS_ZH.get(field, {}).get(str(code), str(code))
    return str(code).replace("_", " ")


def reason_label(code: str, lang: str) -> str:
    """Explanation of a reason code in ``lang``."""
    zh, en = REASONS.get(code, (code, code))
    return zh if lang == "zh" else en
