"""The parameters of a run with their sources, read from the comments of the config.

Every default in ``configs/pinghu.yaml`` carries its source in a comment: on the lines
just above the key, or after the value on the same line. A comment above a key also
covers the sibling keys that follow it without a blank line or a comment of their own
(``length_m``, ``width_m``, ``power_w`` under one module comment); a comment after
a value belongs to that key only; a key without any takes its parent's. A value is an assumption when its comment says
"assumption" or the economics section lists it under ``assumptions``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import yaml

from roofpv.config import YAML_LOADER, load_yaml, read_config_text
from roofpv.report.sources import source_text

#: Sections and keys shown in reports, in order, with Chinese and English names.
SHOWN: dict[str, tuple[str, str]] = {
    "site.latitude": ("纬度 (°)", "latitude (°)"),
    "site.longitude": ("经度 (°)", "longitude (°)"),
    "weather.monthly.ghi_kwh_m2": ("逐月水平面总辐照 (kWh/m²)", "monthly GHI (kWh/m²)"),
    "weather.monthly.temp_air_c": ("逐月平均气温 (°C)", "monthly air temperature (°C)"),
    "module.power_w": ("组件功率 (W)", "module power (W)"),
    "module.length_m": ("组件长度 (m)", "module length (m)"),
    "module.width_m": ("组件宽度 (m)", "module width (m)"),
    "module.gamma_pdc_per_c": ("功率温度系数 (1/°C)", "power temperature coefficient (1/°C)"),
    "system.losses_pct": ("系统损失 (%)", "system losses (%)"),
    "system.inverter_efficiency_nom": ("逆变器额定效率", "inverter nominal efficiency"),
    "system.dc_ac_ratio": ("容配比", "DC/AC ratio"),
    "mountings.ballasted_tilted.dead_load_kn_m2": ("平屋面压载支架恒载 (kN/m²)", "ballasted rack dead load (kN/m²)"),
    "mountings.ballasted_tilted.module_tilt_deg": ("平屋面组件倾角 (°)", "flat-roof module tilt (°)"),
    "mountings.clamp_flush.dead_load_kn_m2": ("直立锁边夹具恒载 (kN/m²)", "standing-seam clamp dead load (kN/m²)"),
    "mountings.penetrating_flush.dead_load_kn_m2": ("彩钢瓦支架恒载 (kN/m²)", "trapezoidal-sheet mount dead load (kN/m²)"),
    "mountings.tile_hook_flush.dead_load_kn_m2": ("瓦屋面挂钩恒载 (kN/m²)", "tile-hook mount dead load (kN/m²)"),
    "rules.min_roof_area_m2": ("最小屋顶面积 (m²)", "minimum roof area (m²)"),
    "rules.min_capacity_kwp": ("最小装机容量 (kWp)", "minimum capacity (kWp)"),
    "rules.shading_loss": ("遮挡损失（按普查等级）", "shading loss by survey class"),
    "rules.default_shading": ("遮挡缺省等级", "default shading class"),
    "rules.north_half_width_deg": ("朝北判定半角 (°)", "north-facing half-width (°)"),
    "grid.reverse_load_rate": ("台区反向负载率上限", "transformer reverse load rate"),
    "economics.capex_yuan_per_w": ("单位造价 (元/W)", "installed cost (yuan/W)"),
    "economics.om_yuan_per_w_year": ("运维费用 (元/W·年)", "O&M (yuan/W/yr)"),
    "economics.degradation_per_year": ("年衰减率", "degradation per year"),
    "economics.lifetime_years": ("运行年限 (年)", "lifetime (years)"),
    "economics.discount_rate": ("折现率", "discount rate"),
    "economics.mechanism_price_yuan_kwh": ("机制电价 (元/kWh)", "mechanism price (yuan/kWh)"),
    "economics.market_price_yuan_kwh": ("市场电价 (元/kWh)", "market price (yuan/kWh)"),
    "economics.tariff_yuan_kwh": ("用户电价 (元/kWh)", "user tariff (yuan/kWh)"),
    "economics.self_consumption": ("自用比例", "self-consumed share"),
    "carbon.emission_factor_t_mwh": ("电网排放因子 (tCO₂/MWh)", "grid emission factor (tCO₂/MWh)"),
    "energy.intensity_kwh_m2": ("建筑用能强度 (kWh/m²·年)", "building energy intensity (kWh/m²/yr)"),
    "planning.start_year": ("规划起始年", "plan start year"),
}


def key_comments(text: str) -> dict[str, str]:
    """Comment of every key of a YAML document, by dotted path (see the module doc)."""
    lines = text.splitlines()
    root = yaml.compose(text, Loader=YAML_LOADER)
    out: dict[str, str] = {}

    def comment_above(line: int) -> str:
        block = []
        i = line - 1
        while i >= 0 and lines[i].strip().startswith("#"):
            block.insert(0, lines[i].strip().lstrip("#").strip())
            i -= 1
        return " ".join(block)

    def trailing(line: int, column: int) -> str:
        rest = lines[line][column:].strip().lstrip(":").strip()
        return rest.lstrip("#").strip() if rest.startswith("#") else ""

    def walk(node: yaml.Node, prefix: str, inherited: str) -> None:
        if not isinstance(node, yaml.MappingNode) or node.flow_style:
            return
        group, previous_line = "", None
        for key, value in node.value:
            path = f"{prefix}{key.value}"
            line = key.start_mark.line
            above = comment_above(line)
            same_line = value.end_mark.line == line
            after = trailing(line, value.end_mark.column if same_line else key.end_mark.column)
            contiguous = previous_line is not None and line - previous_line == 1
            if above or not contiguous:
                group = above
            own = " ".join(c for c in (above, after) if c)
            out[path] = own or group or inherited
            previous_line = line if same_line else None
            walk(value, f"{path}.", out[path])

    walk(root, "", "")
    return out


def config_comments(path: Path) -> dict[str, str]:
    """Comments of a config and of the files it ``extends:``; its own win."""
    text = read_config_text(path)
    parent = (load_yaml(text) or {}).get("extends")
    base = config_comments(path.parent / parent) if parent else {}
    return {**base, **{k: v for k, v in key_comments(text).items() if v}}


#: Chinese names of the loss items of ``system.losses_pct`` (PVWatts names).
LOSSES_ZH = {"soiling": "污渍", "shading": "遮挡", "snow": "积雪", "mismatch": "失配", "wiring": "线损",
             "connections": "连接", "lid": "光致衰减", "nameplate_rating": "铭牌偏差", "age": "老化",
             "availability": "可用率"}


def value_words(lang: str) -> dict[str, str]:
    """Words for the codes that appear in parameter values (categories, shading classes,
    loss items): Chinese labels, or the code with spaces for English."""
    from roofpv.schema import LABELS_ZH

    codes = {code: label for vocab in LABELS_ZH.values() for code, label in vocab.items()} | LOSSES_ZH
    return codes if lang == "zh" else {code: code.replace("_", " ") for code in codes}


def format_value(value: object, words: dict[str, str] | None = None) -> str:
    """Compact text of a parameter value: mappings as ``key value · …``, lists joined;
    codes written as ``words`` say."""
    words = words or {}
    if isinstance(value, dict):
        return " · ".join(f"{words.get(k, k)} {format_value(v, words)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(format_value(v, words) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return words.get(value, str(value)) if isinstance(value, str) else str(value)


def lookup(values: dict, dotted: str) -> object:
    """Value at a dotted path of nested mappings; KeyError names the path."""
    node = values
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            raise KeyError(dotted)
        node = node[part]
    return node


def parameter_table(values: dict, comments: dict[str, str], assumptions: list[str], lang: str) -> pd.DataFrame:
    """Rows of :data:`SHOWN` present in ``values`` (the config as a mapping): ``parameter``
    (in ``lang``), ``key``, ``value``, ``source`` and ``assumption``."""
    rows, words = [], value_words(lang)
    for key, names in SHOWN.items():
        try:
            value = lookup(values, key)
        except KeyError:
            continue
        source = comments.get(key, "")
        assumed = bool(re.search(r"\bassumption", source, re.IGNORECASE)) or (
            key.startswith("economics.") and key.split(".")[1] in assumptions
        )
        rows.append((names[0] if lang == "zh" else names[1], key, format_value(value, words),
                     source_text(source, lang), assumed))
    return pd.DataFrame(rows, columns=["parameter", "key", "value", "source", "assumption"])
