"""Sources of the parameters in the page's language: the comments of the shipped configs
in Chinese, and their ``REFERENCE §n`` citations pointing at ``docs/sources.md``."""

from __future__ import annotations

import re

#: Section titles of docs/sources.md (Chinese, English).
SECTIONS = {
    1: ("政策目标与定义", "policy targets and definitions"),
    2: ("工程规则", "engineering rules"),
    3: ("国际方法参照", "method anchors"),
    4: ("平湖市", "Pinghu"),
    5: ("经济性与碳排放", "economics and carbon"),
    6: ("电网承载力、荷载、公开数据", "grid hosting capacity, loads, open data"),
}

#: Chinese text of the comments of the shipped configs, by their English text.
COMMENTS_ZH = {
    "Pinghu seat 30°40′37″N, 121°00′47″E (REFERENCE §4).": "平湖市政府驻地 30°40′37″N、121°00′47″E（REFERENCE §4）。",
    "Typical-year monthly means for Pinghu: mean of Shanghai Hongqiao TMYx 1956-2023 and Hangzhou CSWD typical "
    "years (REFERENCE §4). Hourly values are synthesised from these.":
        "平湖典型年逐月均值：上海虹桥 TMYx 1956–2023 与杭州 CSWD 典型年的平均（REFERENCE §4）；逐时值由此合成。",
    "Typical 2023-25 mono PERC/TOPCon module, 2278 × 1134 mm, 580 W ≈ 224 W/m² (REFERENCE §2).":
        "2023–2025 年典型单晶 PERC/TOPCon 组件，2278 × 1134 mm，580 W，约 224 W/m²（REFERENCE §2）。",
    "Temperature coefficient of power, 1/°C: typical TOPCon datasheet value (assumption).":
        "功率温度系数（1/°C）：TOPCon 组件规格书典型值（假设）。",
    "PVWatts / pvlib default loss budget, % (REFERENCE §3); total 14.08 %. Shading is 0 here: roofpv applies a "
    "per-roof shading loss from the survey or DSM.":
        "PVWatts / pvlib 默认损失分项（%，REFERENCE §3），合计 14.08%；此处遮挡取 0，roofpv 按普查或 DSM 逐屋顶计遮挡损失。",
    "PVWatts default (REFERENCE §3)": "PVWatts 默认值（REFERENCE §3）",
    "Ballasted racks on concrete flat roofs: 0.5-1.0 kN/m² (assumption, REFERENCE §2).":
        "混凝土平屋面压载支架：0.5–1.0 kN/m²（假设，REFERENCE §2）。",
    "Fixed tilt on flat roofs, slightly below the optimum to shorten row pitch (assumption).":
        "平屋面固定倾角，略低于最佳倾角以缩短阵列间距（假设）。",
    "Non-penetrating clamps on standing-seam metal: modules 10-20 + rails 5-10 kg/m² (REFERENCE §2).":
        "直立锁边金属屋面免穿孔夹具：组件 10–20 kg/m² 加导轨 5–10 kg/m²（REFERENCE §2）。",
    "Trapezoidal sheet needs penetrating supports, heavier rails (REFERENCE §2 range, upper part).":
        "梯形彩钢瓦需穿孔支架，导轨更重（取 REFERENCE §2 区间上部）。",
    "Tile hooks and rails on pitched tiled roofs (REFERENCE §2 range).": "坡屋面瓦屋面挂钩与导轨（REFERENCE §2 区间）。",
    "Minimum roof area: NREL 2016 and Sonnendach use 10 m² (REFERENCE §3).":
        "最小屋顶面积：NREL 2016 与 Sonnendach 均取 10 m²（REFERENCE §3）。",
    "Below one string-worth of modules an installation is not worth connecting (assumption).":
        "不足一串组件的装机不值得并网（假设）。",
    "Annual shading loss by survey class, fraction of unshaded yield (assumption; replaced by DSM-measured "
    "losses where tiles cover a roof).":
        "按普查遮挡等级的年遮挡损失，占无遮挡发电量的比例（假设；有 DSM 覆盖的屋顶改用实测损失）。",
    "used when the survey cell is blank (assumption)": "普查表该项为空时采用（假设）",
    "Planes facing within ±67.5° of north and steeper than 10° are not used (NREL 2016, REFERENCE §3).":
        "朝向在正北 ±67.5° 以内且坡度大于 10° 的屋面不采用（NREL 2016，REFERENCE §3）。",
    "Allowed reverse load rate β of a transformer's rating (DL/T 2041—2025 as read in secondary sources, "
    "REFERENCE §2).": "台区变压器允许反向负载率 β（DL/T 2041—2025，据二手资料，REFERENCE §2）。",
    "Installed cost, yuan/W, by category (assumption: no source confirmed, REFERENCE §5).":
        "按建筑类别的单位造价（元/W）（假设：无确认来源，REFERENCE §5）。",
    "assumption": "假设",
    "assumption: typical linear module warranty, 0.4 %/yr": "假设：组件线性质保典型值，每年 0.4%",
    "assumption: typical module warranty period": "假设：组件典型质保年限",
    "Zhejiang incremental projects: mechanism price bid cap 0.393 yuan/kWh (REFERENCE §5; the cleared price and "
    "its 8-12-year term are not modelled: the cap is used for the whole life).":
        "浙江增量项目机制电价竞价上限 0.393 元/kWh（REFERENCE §5；未模拟出清价与 8–12 年执行期，全寿命期按上限计）。",
    "Spot-market price for surplus output (assumption: below the 0.4153 coal benchmark).":
        "余电的现货市场电价（假设：低于 0.4153 元/kWh 燃煤基准价）。",
    "User tariffs, yuan/kWh (assumption: Zhejiang residential first tier and a general C&I average).":
        "用户电价（元/kWh）（假设：浙江居民第一档与一般工商业平均）。",
    "Share of output used on site under 自发自用、余电上网 (assumption).": "自发自用、余电上网模式下的自用比例（假设）。",
    "Zhejiang grid emission factor 2022, tCO₂/MWh (MEE/NBS, REFERENCE §5).":
        "浙江省 2022 年电力二氧化碳排放因子（tCO₂/MWh，生态环境部、国家统计局，REFERENCE §5）。",
    "Building energy use per m² of floor area per year, as kWh of electricity (assumption: round values of the "
    "order of GB/T 51161-2016 constraint values for hot-summer/cold-winter public buildings and of household "
    "electricity use; not confirmed for Pinghu).":
        "单位建筑面积年用能（kWh 电）（假设：取 GB/T 51161-2016 夏热冬冷地区公共建筑约束值及居民用电量级的整数值，未经平湖核实）。",
    "First year of building (assumption: the year after the 2025 milestone; roofs needed for 2025 are overdue "
    "and scheduled in 2026).": "规划起始建设年份（假设：2025 年节点的次年；2025 年所需屋顶已逾期，排在 2026 年）。",
}


def source_text(comment: str, lang: str) -> str:
    """The comment in ``lang`` (a shipped comment in Chinese; a user's own as written),
    with ``REFERENCE §n`` cited as the section of ``docs/sources.md``."""
    text = COMMENTS_ZH.get(comment, comment) if lang == "zh" else comment

    def cite(match: re.Match) -> str:
        n = int(match.group(1))
        zh, en = SECTIONS.get(n, ("", ""))
        if lang == "zh":
            return f"《参数来源》第 {n} 节{zh}（docs/sources.md）"
        return f"docs/sources.md §{n} ({en})" if en else f"docs/sources.md §{n}"

    return re.sub(r"REFERENCE §(\d+)", cite, text)
