"""Canonical buildings-table columns, vocabularies and their Chinese aliases.

A bureau's survey workbook arrives with Chinese headers and values (建筑类别 = 学校,
屋面类型 = 混凝土平屋面 …). Everything downstream works on the canonical English
column names and codes defined here; :mod:`roofpv.inputs.survey_table` does the translation.
"""

from __future__ import annotations

import re
import unicodedata

#: Name of the whole-jurisdiction row of the township table.
CITY = "全市"
#: Survey shading classes from least to most shaded (the DSM measures the same classes).
SHADING_CLASSES = ("none", "light", "moderate", "severe")

#: Files `roofpv survey` writes into its output folder.
SURVEY_OUTPUTS = ("roofpv.gpkg", "roofpv.qgz", "townships.csv", "findings.csv", "register_matches.csv",
                  "performance.csv", "calibration.csv")
#: Files `roofpv plan` writes besides the survey's (and layer ``rollout_plan`` in roofpv.gpkg).
PLAN_OUTPUTS = ("rollout_plan.csv", "plan_status.csv", "trajectory.csv", "parameters.csv")
#: Languages of the reports and tables: Chinese (default) and English.
LANGS = ("zh", "en")
#: Report folder inside the output folder per language.
REPORT_FOLDERS = {"zh": "report", "en": "report_en"}

#: Canonical survey columns and the headers that name them (compared after
#: :func:`header_key`, so units in brackets, spaces and case do not matter).
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "building_id": ("building_id", "id", "bldg_id", "建筑编号", "建筑物编号", "编号", "建筑id"),
    "township": ("township", "town", "镇街道", "镇（街道）", "镇(街道)", "乡镇街道", "所属镇街道"),
    "name": ("name", "building_name", "建筑名称", "名称", "单位名称"),
    "category": ("category", "building type", "建筑类别", "建筑类型", "建筑分类", "类别"),
    "owner_type": ("owner_type", "owner", "ownership", "权属", "产权性质", "业主类型"),
    "roof_type": ("roof_type", "roof", "屋面类型", "屋顶类型", "屋面形式"),
    "address": ("address", "地址", "建筑地址", "门牌地址", "门牌号", "详细地址"),
    "roof_load_kn_m2": ("roof_load_kn_m2", "roof_load", "屋面荷载", "屋顶荷载", "屋面富余荷载", "可用荷载"),
    "shading": ("shading", "遮挡情况", "遮挡", "遮挡程度"),
    "grid_condition": ("grid_condition", "grid", "grid connection", "并网条件", "接入条件"),
    "transformer_id": ("transformer_id", "transformer", "台区变压器编号", "变压器编号", "台区编号"),
    "year_built": ("year_built", "year of construction", "construction year", "建成年份", "建成年代", "竣工年份"),
    "floors": ("floors", "storeys", "stories", "层数", "建筑层数"),
    "floor_area_m2": ("floor_area_m2", "floor_area", "建筑面积"),
    "existing_pv_kw": ("existing_pv_kw", "existing_pv", "已装光伏容量", "已建光伏容量", "光伏装机容量"),
    "existing_pv_area_m2": ("existing_pv_area_m2", "已装光伏面积", "已建光伏面积", "光伏面积"),
    "note": ("note", "remarks", "备注"),
}

NUMERIC_COLUMNS = (
    "roof_load_kn_m2", "year_built", "floors", "floor_area_m2",
    "existing_pv_kw", "existing_pv_area_m2",
)

#: Vocabularies: canonical code -> accepted spellings (Chinese and English).
VOCABULARIES: dict[str, dict[str, tuple[str, ...]]] = {
    "category": {
        "party_gov": ("党政机关", "党政机关建筑", "机关", "政府机关", "政府"),
        "public_institution": (
            "公共机构", "公共建筑", "学校", "医院", "村委会", "村(社区)委会", "社区",
            "其他公共机构", "卫生院", "幼儿园", "文体场馆", "事业单位",
        ),
        "factory": ("工业厂房", "厂房", "工业", "工商业厂房", "仓储", "仓库"),
        "commercial": ("商业", "商业建筑", "商业办公", "办公"),
        "urban_residential": ("城镇住宅", "城镇居民", "住宅", "小区"),
        "rural_residential": ("农村住宅", "农村居民", "农房", "农居", "农户", "自建房"),
        "other": ("其他", "其它"),
    },
    "owner_type": {
        "natural_person": ("自然人", "个人", "居民", "农户"),
        "non_natural_person": ("非自然人", "单位", "企业", "法人", "集体"),
    },
    "roof_type": {
        "concrete_flat": ("混凝土平屋面", "混凝土屋面", "平屋面", "平屋顶", "混凝土"),
        "metal_standing_seam": ("直立锁边", "直立锁边金属屋面", "角驰", "角驰型", "角驰彩钢瓦", "金属屋面"),
        "metal_trapezoidal": ("梯形彩钢瓦", "彩钢瓦", "梯形", "彩钢板", "彩钢屋面"),
        "tile_pitched": ("瓦屋面", "坡屋面", "坡屋顶", "瓦屋顶", "琉璃瓦", "小青瓦"),
        "sunroom": ("阳光房",),
        "other": ("其他", "其它"),
    },
    "shading": {
        "none": ("无", "无遮挡", "没有"),
        "light": ("轻微", "轻微遮挡", "少量"),
        "moderate": ("部分", "部分遮挡", "中等", "一般"),
        "severe": ("严重", "严重遮挡", "大面积遮挡"),
    },
    "grid_condition": {
        "ready": ("具备", "良好", "可接入", "是"),
        "limited": ("受限", "容量受限", "一般"),
        "none": ("不具备", "无", "不可接入", "否"),
    },
}

#: Chinese labels of canonical codes, for reports and QGIS field aliases.
LABELS_ZH: dict[str, dict[str, str]] = {
    field: {code: spellings[0] for code, spellings in vocab.items()}
    for field, vocab in VOCABULARIES.items()
}
LABELS_ZH["suitability"] = {"suitable": "适宜", "conditional": "有条件适宜", "unsuitable": "不适宜"}


#: Traditional → simplified forms of the characters used in survey headers and values,
#: so workbooks typed with traditional characters match the vocabularies.
TRADITIONAL = str.maketrans(
    "築編號鎮類別權屬載擋況並網條裝積黨機關學醫會構業廠農鎖邊馳鋼陽無輕嚴備變壓臺區層數註稱單個倉儲庫辦衛園體場館戶麼實際設計與為產連護蓋幹筆",
    "筑编号镇类别权属载挡况并网条装积党机关学医会构业厂农锁边驰钢阳无轻严备变压台区层数注称单个仓储库办卫园体场馆户么实际设计与为产连护盖干笔",
)


def header_key(text: object) -> str:
    """Normalise a column header for matching: NFKC, simplified characters, no units in
    brackets, no spaces, lower case."""
    s = unicodedata.normalize("NFKC", str(text)).translate(TRADITIONAL).strip().lower()
    s = re.sub(r"[(（\[【].*?[)）\]】]", "", s)
    return re.sub(r"[\s_\-/]+", "", s)


def value_key(text: object) -> str:
    """Normalise a vocabulary value for matching: NFKC, simplified characters, no spaces,
    lower case."""
    text = unicodedata.normalize("NFKC", str(text)).translate(TRADITIONAL)
    return re.sub(r"\s+", "", text).lower()


def _build_lookup(aliases: dict[str, tuple[str, ...]], key) -> dict[str, str]:
    lookup: dict[str, str] = {}
    for code, spellings in aliases.items():
        for s in (code, *spellings):
            lookup.setdefault(key(s), code)
    return lookup


HEADER_LOOKUP = _build_lookup(COLUMN_ALIASES, header_key)
VALUE_LOOKUP = {field: _build_lookup(vocab, value_key) for field, vocab in VOCABULARIES.items()}

#: Reason codes a building can carry: code -> (Chinese, English) explanation for reports.
REASONS: dict[str, tuple[str, str]] = {
    "invalid_geometry": ("轮廓无效或为空", "footprint geometry is empty or invalid"),
    "footprint_overlap": ("位于另一轮廓内（建筑部件或重复），屋顶已计入该建筑",
                          "inside another footprint (building part or duplicate); roof counted there"),
    "no_survey_record": ("无普查记录，按默认值评估", "no survey row; assessed with defaults"),
    "roof_type_unknown": ("屋面类型未填，按建筑类别假定", "roof type blank; assumed from category"),
    "roof_type_sunroom": ("阳光房，不宜安装", "sunroom roof cannot carry PV"),
    "roof_type_other": ("屋面类型为其他，需现场核实", "other roof type; needs a site check"),
    "roof_load_unknown": ("屋面荷载未知，需结构复核", "roof load unknown; needs a structural check"),
    "roof_load": ("屋面富余荷载不足", "spare roof load below the mounting's dead load"),
    "shading_unknown": ("遮挡情况未填，按默认等级", "shading blank; default class assumed"),
    "shading_moderate": ("部分遮挡", "moderate shading"),
    "shading_severe": ("严重遮挡", "severe shading"),
    "grid_unknown": ("并网条件未填", "grid condition blank"),
    "grid_limited": ("并网容量受限", "grid connection limited"),
    "grid_none": ("不具备并网条件", "no grid connection available"),
    "category_unknown": ("建筑类别未填或无法识别", "building category blank or unknown"),
    "area_too_small": ("屋顶面积过小", "roof area below the minimum"),
    "capacity_too_small": ("可装容量过小", "installable capacity below the minimum"),
    "existing_pv": ("已装光伏", "PV already installed"),
    "north_plane_unused": ("朝北坡面不安装", "north-facing plane left unused"),
    "plane_too_narrow": ("实测屋面（≥20 m²）退让后过窄或过碎，放不下组件",
                         "a measured roof plane of 20 m² or more holds no module: after the "
                         "setback it is narrower than a module or lies in pieces"),
    "dsm_nothing_standing": ("数字表面模型显示轮廓内无建筑（离地高度在测量噪声内），不计潜力",
                             "the DSM shows nothing standing on the footprint (height above ground "
                             "within its noise); not counted as potential"),
    "dsm_no_planes": ("数字表面模型无法识别屋面，屋面几何按普查或默认值",
                      "no roof plane could be read from the DSM; roof geometry from the survey or defaults"),
    "dsm_no_data": ("数字表面模型未覆盖屋面，屋面几何按普查或默认值",
                    "the DSM does not cover the roof; roof geometry from the survey or defaults"),
    "mounting_from_dsm": ("安装方式按实测屋面形式确定（坡屋面顺坡，平屋面支架）",
                          "mounting set by the DSM-measured roof form (flush on pitched, racks on flat)"),
    "shading_from_dsm": ("遮挡等级按数字表面模型实测", "shading class measured from the DSM"),
    "township_from_location": ("镇街道按位置判定", "township taken from the location"),
    "outside_townships": ("不在任何镇街道范围内", "outside every township boundary"),
}
