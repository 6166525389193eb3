"""Problems found in the inputs, each pointing at the exact cell an analyst must look at."""

from __future__ import annotations

import re
from dataclasses import dataclass
from operator import attrgetter
from typing import Literal

import pandas as pd

Level = Literal["error", "warning", "info"]


@dataclass(frozen=True)
class Finding:
    """One input problem: where it is, what is wrong and how to fix it.

    ``level`` is ``error`` when the value could not be used, ``warning`` when roofpv
    repaired or assumed it, ``info`` when nothing changed the result.
    """

    level: Level
    file: str
    row: int | None
    building_id: str | None
    column: str | None
    value: str | None
    problem: str
    fix: str
    sheet: str | None = None


def findings_frame(findings: list[Finding]) -> pd.DataFrame:
    """Findings as a table, in input order."""
    columns = list(Finding.__dataclass_fields__)
    fields = attrgetter(*columns)  # not dataclasses.asdict, which deep-copies each finding
    frame = pd.DataFrame([fields(f) for f in findings], columns=columns)
    return frame.astype({"row": "Int64"})  # row numbers print as 392, not 392.0


#: Chinese of the problem and fix texts: a pattern matching the whole English text and
#: its Chinese, with the pattern's groups (values, names) carried over. A text none
#: matches stays in English.
ZH: list[tuple[re.Pattern, str]] = [(re.compile(p), zh) for p, zh in (
    (r"blank cell: the configured default shading class is assumed", "单元格为空：按配置的默认遮挡等级计"),
    (r"blank cell: the roof stays conditional until a structural check gives its spare load",
     "单元格为空：结构核查给出富余荷载之前，该屋顶为有条件适宜"),
    (r"blank cell: the township is taken from the footprint's location", "单元格为空：镇街道按建筑轮廓所在位置确定"),
    (r"blank cell: (.*)", r"单元格为空：\1"),
    (r"fill in the cell", "请填写该单元格"),
    (r"footprint at the edge of the DSM tiles \(DSM data over less than (\S+) of the roof\); roof geometry from the survey",
     r"建筑轮廓位于 DSM 图幅边缘（DSM 数据覆盖不足屋顶的 \1）；屋顶几何采用普查值"),
    (r"footprint inside the DSM tiles but over a gap in their data \(DSM data over less than (\S+) of the roof\); "
     r"roof geometry from the survey", r"建筑轮廓在 DSM 图幅内但位于数据空洞（DSM 数据覆盖不足屋顶的 \1）；屋顶几何采用普查值"),
    (r"check the tile's nodata value, or fill the gap in the DSM", "请检查图幅的无数据值，或补全 DSM 空洞"),
    (r"nothing to do, or add the neighbouring tile", "无需处理，或补充相邻图幅"),
    (r"footprint has no survey row; assessed with default values", "建筑轮廓没有对应的普查记录；按默认值评估"),
    (r"add the building to the survey workbook", "请在普查表中补充该建筑"),
    (r"survey row has no footprint and is not assessed", "普查记录没有对应的建筑轮廓，未评估"),
    (r"add the footprint or correct 建筑编号", "请补充建筑轮廓或更正建筑编号"),
    (r"nothing to do", "无需处理"),
    (r"load implausible in kN/m² \(> (\S+)\), read as kg/m²; converted to kN/m²",
     r"荷载按 kN/m² 不合理（> \1），按 kg/m² 读取并换算为 kN/m²"),
    (r"value written in kg/m²; converted to kN/m²", "数值按 kg/m² 填写，已换算为 kN/m²"),
    (r"cell unit (\S+) differs from the header's (\S+); the cell's unit is used; converted to (\S+)",
     r"单元格单位 \1 与表头单位 \2 不一致；采用单元格的单位，已换算为 \3"),
    (r"header says (\S+) but (\S+) is implausible in (\S+) \(> (\S+)\); read as (\S+); converted to (\S+)",
     r"表头单位为 \1，但 \2 按 \3 不合理（> \4）；按 \5 读取，已换算为 \6"),
    (r"roofpv used (\S+) kN/m²; write the value in kN/m²", r"roofpv 采用 \1 kN/m²；请以 kN/m² 填写"),
    (r"number stored as text", "数字以文本形式存储"),
    (r"format the cell as a number", "请将单元格设为数字格式"),
    (r"stray spaces around the value", "数值前后有多余空格"),
    (r"trim the cell; roofpv read it as '(.*)'", r"请删除多余空格；roofpv 读作“\1”"),
    (r"the DSM covers (\S+) of (\S+) footprints \((\S+)\); the other (\S+) keep the survey's roof geometry.*",
     r"DSM 覆盖 \2 个建筑轮廓中的 \1 个（\3）；其余 \4 个采用普查的屋顶几何（roof_*_source 为 survey 或 default）"),
    (r"nothing to do if the tiles were meant to cover only part of the area", "若图幅本就只覆盖部分区域，无需处理"),
    (r"footprint positions checked against the DSM: (.*?) fits; (.*)", r"已用 DSM 核对建筑轮廓位置：\1 吻合；\2"),
    (r"set dsm.align_footprints: true to move them, or fix their georeferencing",
     "设置 dsm.align_footprints: true 自动平移，或修正轮廓的地理配准"),
    (r"fix the footprints' georeferencing to drop the move", "修正轮廓的地理配准后即可取消平移"),
    (r"(\S+) raised roofs with no footprint, (\S+) m² \(layer unmatched_roofs\): buildings missing from the "
     r"footprint register", r"DSM 中有 \1 处高出地面的屋顶没有建筑轮廓，共 \2 m²（图层 unmatched_roofs）：轮廓底册可能漏登这些建筑"),
    (r"check them on imagery and add the buildings to the footprints file", "请对照影像核实，并把这些建筑补入轮廓文件"),
    (r"building lies outside every township polygon", "建筑不在任何镇街道边界内"),
    (r"check the footprint's position and CRS, or the township layer", "请检查建筑轮廓的位置与坐标系，或镇街道图层"),
    (r"file is encoded in (\S+), not UTF-8", r"文件编码为 \1，不是 UTF-8"),
    (r"nothing to do; save as UTF-8 CSV to share it with other tools", "无需处理；如需与其他软件共享，请另存为 UTF-8 CSV"),
    (r"feature has no (\S+); named (\S+)", r"要素缺少 \1，命名为 \2"),
    (r"give every footprint an id that the survey uses", "请为每个建筑轮廓填写普查表所用的编号"),
    (r"duplicate (\S+); this footprint is kept as (\S+) and gets no survey row",
     r"\1 重复；该建筑轮廓保留为 \2，不关联普查记录"),
    (r"give each footprint its own id, or delete the duplicate", "请为每个建筑轮廓设置唯一编号，或删除重复项"),
    (r"surveyed township '(.*)' matches no township; located in (.*)", r"普查填写的镇街道“\1”与任何镇街道都不匹配；按位置归入\2"),
    (r"surveyed township '(.*)' matches no township; kept as written", r"普查填写的镇街道“\1”与任何镇街道都不匹配；保留原值"),
    (r"use one of: (.*)", r"请使用以下之一：\1"),
    (r"shapefile has no \.cpg file saying its text encoding; read as (.+?) \((.*)\), e\.g\. (.*)",
     r"shapefile 缺少说明文字编码的 .cpg 文件；按 \1 读取（依据：\2），例如 \3"),
    (r"check the names; add a text file (\S+) holding the line (\S+) beside the \.shp .*",
     r"请核对名称；在 .shp 旁新建文本文件 \1，内容为一行 \2（或将图层导出为 GeoPackage），使各 GIS 软件读法一致"),
    (r"layer has no CRS; its eastings start with the zone number (\d+) \((.*)\): read as (.*) \((EPSG:\d+)\)",
     r"图层没有坐标系；横坐标以带号 \1 开头（\2）：按 \3（\4）读取"),
    (r"formula (.*) has no saved value \(the workbook was written by a program, not saved in Excel or WPS\); "
     r"evaluated as (\S+)", r"公式 \1 没有保存计算结果（工作簿由程序生成，未经 Excel 或 WPS 保存）；已计算为 \2"),
    (r"formula (.*) has no saved value \(the workbook was written by a program, not saved in Excel or WPS\) "
     r"and is not plain arithmetic \(numbers with \+ - \* /\); read as blank",
     r"公式 \1 没有保存计算结果（工作簿由程序生成，未经 Excel 或 WPS 保存），且不是简单四则运算；按空值读取"),
    (r"row has (\d+) cells but the header has (\d+) \(likely an unquoted comma in (.*)\); the row is skipped",
     r"该行有 \1 个单元格而表头只有 \2 个（可能是 \3 中的逗号未加引号）；该行已跳过"),
    (r"row has (\d+) cells but the header has (\d+); the extra cells are blank and the others read right where "
     r"they are, so the row is read as written", r"该行有 \1 个单元格而表头只有 \2 个；多出的单元格为空，其余单元格内容与列相符，按原样读取"),
    (r"row has (\d+) cells but the header has (\d+) \((.*)\); the row is skipped",
     r"该行有 \1 个单元格而表头只有 \2 个（单元格内有未加引号的逗号？）；该行已跳过"),
)]
#: Findings about surfaces beyond roofs (roofpv.surfaces.sites).
ZH += [(re.compile(p), zh) for p, zh in (
    (r"not a surface type \(nearest known: (\S+)\); the outline is left out", r"不是场地类型（最接近：\1）；该轮廓未计入"),
    (r"not a surface type; the outline is left out", "不是场地类型；该轮廓未计入"),
    (r"write carport, corridor, tank_cover, greenhouse or rural_yard \(or 车棚, 连廊, 污水处理池, 大棚, 院落\)",
     "请填写 车棚、连廊、污水处理池、大棚 或 院落（或 carport、corridor、tank_cover、greenhouse、rural_yard）"),
    (r"(\d+) car parks are multi-storey, underground or on a roof: no open surface to cover; left out "
     r"\(a multi-storey car park's roof counts as a building roof\)",
     r"\1 处停车场为立体、地下或屋顶停车场，没有可加盖的露天场地，未计入（立体停车楼的屋顶按建筑屋顶计）"),
    (r"(\d+) of (\d+) features carry no tag of a surface \(.*\); left out", r"\2 个要素中有 \1 个不带场地标签，未计入"),
    (r"nothing to do; give the layer a type or type_column to use other outlines",
     "无需处理；如需使用其他轮廓，请为该图层设置 type 或 type_column"),
    (r"(\d+) surfaces are points, lines or empty, not outlines; left out", r"\1 个场地为点、线或空几何，不是轮廓，未计入"),
    (r"draw the surfaces as polygons", "请将场地绘制为面"),
    (r"(\d+) surface outlines are invalid \(self-intersecting\); repaired", r"\1 个场地轮廓无效（自相交），已修复"),
    (r"check them in QGIS", "请在 QGIS 中检查"),
    (r"(\d+) outlines share the id of another of the same type \(pieces of one feature cut at tile edges\); "
     r"merged into (\d+) surfaces", r"\1 个轮廓与同类轮廓编号相同（同一要素在瓦片边缘被切开），已合并为 \2 个场地"),
    (r"(\d+) surfaces lie (\S+) km or more from the buildings; left out", r"\1 个场地距建筑 \2 km 以上，未计入"),
    (r"check the CRS of the surface layers, or set surfaces.layers for this place .*",
     "请检查场地图层的坐标系，或为本地设置 surfaces.layers（extends 的配置会继承其场地图层；无场地写 `layers: []`）"),
    (r"the (\S+) lies on building footprint\(s\) (.*): its roof counts as a roof, not as a surface",
     r"该场地（\1）位于建筑轮廓 \2 上：按建筑屋顶计，不按场地计"),
    (r"(\d+) surfaces lie outside every township; counted under 未知 and in the whole city",
     r"\1 个场地不在任何镇街道范围内；计入“未知”和全市合计"),
    (r"check the surfaces' CRS, or extend the township layer", "请检查场地图层的坐标系，或补全镇街道图层"),
)]
#: The footprint shift finding, one pattern per pair of directions, moved or not.
ZH += [(re.compile(rf"the footprints lie (\S+) m off the DSM's buildings: moved (\S+) m {ew} and (\S+) m {ns} "
                   rf"they cover them best \((\S+) footprint cells\){re.escape(tail)}"),
        rf"建筑轮廓与 DSM 中的建筑错开 \1 m：向{ew_zh}移 \2 m、向{ns_zh}移 \3 m 时吻合最好（\4 个轮廓像元）{tail_zh}")
       for ew, ew_zh in (("east", "东"), ("west", "西")) for ns, ns_zh in (("north", "北"), ("south", "南"))
       for tail, tail_zh in (("", ""), ("; moved so (dsm.align_footprints)", "；已按此平移（dsm.align_footprints）"))]

def translate(text: str | None, lang: str) -> str | None:
    """``text`` (a problem or fix) in ``lang``: Chinese from :data:`ZH`, else as written."""
    if lang != "zh" or not isinstance(text, str):
        return text
    for pattern, zh in ZH:
        match = pattern.fullmatch(text)
        if match:
            return match.expand(zh)
    return text


def in_language(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """A findings table with its ``problem`` and ``fix`` in ``lang`` (each distinct text
    translated once)."""
    if lang != "zh" or frame.empty:
        return frame
    out = frame.copy()
    for column in ("problem", "fix"):
        distinct = out[column].drop_duplicates()
        out[column] = out[column].map(dict(zip(distinct, (translate(t, lang) for t in distinct))))
    return out
