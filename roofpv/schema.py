"""Canonical buildings-table columns, vocabularies and their Chinese aliases.

A bureau's survey workbook arrives with Chinese headers and values (建筑类别 = 学校,
屋面类型 = 混凝土平屋面 …). Everything downstream works on the canonical English
column names and codes defined here; :mod:`roofpv.inputs.survey_table` does the translation.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

#: Name of the whole-jurisdiction row of the township table.
CITY = "全市"
#: Survey shading classes from least to most shaded (the DSM measures the same classes).
SHADING_CLASSES = ("none", "light", "moderate", "severe")

#: Files `roofpv survey` writes into its output folder.
SURVEY_OUTPUTS = ("roofpv.gpkg", "roofpv.qgz", "townships.csv", "findings.csv", "register_matches.csv",
                  "performance.csv", "calibration.csv", "counties.csv")
#: Files `roofpv plan` writes besides the survey's (and layer ``rollout_plan`` in roofpv.gpkg).
PLAN_OUTPUTS = ("rollout_plan.csv", "plan_status.csv", "trajectory.csv", "parameters.csv")
#: Files `roofpv compare` writes into its folder.
COMPARE_OUTPUTS = ("compare_townships.csv", "compare_cohorts.csv", "changed_buildings.csv", "compare.gpkg",
                   "compare.html", "compare_counties.csv")
#: Listing of every issued building, written beside the forms for `roofpv collect --issued`.
ISSUED_LIST = "forms_issued.csv"
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
    "築編號鎮類別權屬載擋況並網條裝積黨機關學醫會構業廠農鎖邊馳鋼陽無輕嚴備變壓臺區層數註稱單個倉儲庫辦衛園體場館戶麼實際設計與為產連護蓋幹筆車溫處",
    "筑编号镇类别权属载挡况并网条装积党机关学医会构业厂农锁边驰钢阳无轻严备变压台区层数注称单个仓储库办卫园体场馆户么实际设计与为产连护盖干笔车温处",
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
    "dsm_step_wall": ("实测陡面（≥20 m²）为屋面高差处的墙面，不计为屋面、不布置组件",
                      "a steep DSM plane of 20 m² or more is the wall of a height step between roof "
                      "levels, not a roof plane: left out, no modules"),
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


#: Surfaces beyond roofs (:mod:`roofpv.surfaces`): type → (Chinese, English) name, and the
#: words a type column may hold for it (compared after :func:`value_key`).
SURFACE_TYPES: dict[str, tuple[str, str]] = {
    "carport": ("光伏车棚", "carport"),
    "corridor": ("光伏连廊", "corridor"),
    "tank_cover": ("污水处理池加盖", "tank cover"),
    "greenhouse": ("农业大棚（农光互补）", "greenhouse"),
    "rural_yard": ("农房院落空地", "rural yard"),
}
SURFACE_TYPE_ALIASES: dict[str, tuple[str, ...]] = {
    "carport": ("carport", "car port", "parking", "车棚", "光伏车棚", "停车场", "停车棚", "车库顶"),
    "corridor": ("corridor", "walkway", "covered walkway", "连廊", "光伏连廊", "廊道", "风雨廊"),
    "tank_cover": ("tank_cover", "tank cover", "tanks", "wastewater_plant", "wastewater plant", "污水处理厂",
                   "污水处理设施", "污水池", "水池加盖", "污水处理池"),
    "greenhouse": ("greenhouse", "greenhouse_horticulture", "大棚", "温室", "农业大棚", "蔬菜大棚", "农光互补"),
    "rural_yard": ("rural_yard", "yard", "farmyard", "院落", "院落空地", "农房院落", "庭院"),
}


# --- Output layers ------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """One column of the output layers and tables: its unit (``""`` for codes, text,
    counts and shares 0–1), its Chinese alias (QGIS field alias, workbook header) and
    what it means, in one line."""

    unit: str
    alias: str
    meaning: str


#: Every column of the output layers and tables, by name: declared once, one name per
#: concept, the same name in every layer and table (docs/columns.md lists them).
#: ``*_source`` columns say where a value came from (``survey``, ``footprints``,
#: ``dsm``, ``register``, ``default``). Per-target columns are in :data:`TARGET_FIELDS`.
FIELDS: dict[str, Field] = {
    # identity and survey
    "building_id": Field("", "建筑编号", "id of the footprint (blank or repeated ids kept as <file>#<n>, ID#2)"),
    "township": Field("", "镇街道", "township (镇/街道) the building lies in"),
    "township_source": Field("", "镇街道来源", "where the township came from: survey, the township layer, or 未知"),
    "county": Field("", "县(市、区)", "county (县/县级市/区) of a province run: the county whose townships layer "
                    "holds the township (未知: none; the province's name on the whole-run row)"),
    "name": Field("", "建筑名称", "building or owner name, from the survey or the footprint layer"),
    "address": Field("", "地址", "address from the survey"),
    "category": Field("", "建筑类别", "building category code (schema.VOCABULARIES['category'])"),
    "category_source": Field("", "建筑类别来源", "where the category came from"),
    "owner_type": Field("", "权属", "owner type code (public institution, enterprise, household, …)"),
    "year_built": Field("year", "建成年份", "year of completion"),
    "floors": Field("", "层数", "storeys above ground"),
    "floors_source": Field("", "层数来源", "where the storeys came from: survey, footprints:<the footprint "
                                          "layer's column, e.g. height_m> or default"),
    "floor_area_m2": Field("m²", "建筑面积(m²)", "gross floor area"),
    "roof_type": Field("", "屋面类型", "roof type code (configs' roofs: concrete flat, tile, metal, …)"),
    "roof_type_source": Field("", "屋面类型来源", "where the roof type came from"),
    "roof_load_kn_m2": Field("kN/m²", "屋面荷载(kN/m²)", "spare roof load from the structural survey"),
    "shading": Field("", "遮挡情况", "surveyed shading class: none, light, moderate, severe"),
    "shading_source": Field("", "遮挡来源", "where the shading class came from"),
    "grid_condition": Field("", "并网条件", "surveyed grid connection condition code"),
    "transformer_id": Field("", "台区变压器编号", "台区 transformer serving the building"),
    "existing_pv_kw": Field("kW", "已装光伏容量(kW)", "PV already installed (survey or grid register; a feeder or substation: on its transformers and connected to it directly)"),
    "existing_pv_area_m2": Field("m²", "已装光伏面积(m²)", "panel area of the PV already installed"),
    "existing_pv_source": Field("", "已装光伏来源", "where the installed PV came from: survey or register"),
    "note": Field("", "备注", "the survey's remarks"),
    "has_survey": Field("", "有普查记录", "the building has a survey row"),
    "overlap_of": Field("", "所在轮廓编号", "id of the larger footprint this one lies mostly inside (counted there)"),
    "overlap_share": Field("", "重叠比例", "share of this footprint inside that larger footprint"),
    # measured roofs (DSM)
    "shading_loss": Field("", "遮挡损失", "annual share of the energy lost to shading (0–1)"),
    "shading_loss_source": Field("", "遮挡损失来源", "where the shading loss came from: survey class or DSM horizon"),
    "shading_measured_class": Field("", "实测遮挡等级", "shading class of the DSM-measured loss"),
    "shading_class": Field("", "采用遮挡等级", "shading class the rules use (measured where the DSM gives one)"),
    "field_check": Field("", "需现场核查", "surveyed shading two or more classes from the DSM's: check on site"),
    "sky_view_factor": Field("", "天空可视因子", "share of the sky dome the roof sees (DSM)"),
    "roof_height_m": Field("m", "屋面高度(m)", "roof height above ground"),
    "roof_height_m_source": Field("", "屋面高度来源", "where the roof height came from: dsm, or the storeys' source"),
    "roof_form": Field("", "屋顶形式", "roof form: flat, mono_pitch, gable, hip, complex"),
    "roof_form_source": Field("", "屋顶形式来源", "where the roof form came from"),
    "planar_share": Field("", "平面占比", "share of the roof's DSM pixels on fitted planes"),
    "dsm_coverage": Field("", "DSM覆盖率", "share of the roof with DSM data"),
    "dsm_status": Field("", "数字表面模型测量结果", "what the DSM gave: measured, no_data, nothing_standing, no_planes"),
    "roof_slope_deg_source": Field("", "屋面坡度来源", "where the roof slope came from"),
    "roof_aspect_deg_source": Field("", "屋面朝向来源", "where the roof aspect came from"),
    "mounting_source": Field("", "安装方式来源", "where the mounting came from: roof type or DSM roof form"),
    # layout and yield
    "roof_area_m2": Field("m²", "屋顶面积(m²)", "footprint area counted once (overlaps removed)"),
    "roof_slope_deg": Field("°", "屋面坡度(°)", "roof slope"),
    "roof_aspect_deg": Field("°", "屋面朝向(°)", "azimuth of the main roof plane, clockwise from north"),
    "mounting": Field("", "安装方式", "module mounting (configs' mountings: racks, flush rails, clamps)"),
    "module_tilt_deg": Field("°", "组件倾角(°)", "module tilt"),
    "usable_area_m2": Field("m²", "可用面积(m²)", "roof area inside the setbacks on usable planes (townships: "
                                                  "of the suitable and conditional roofs, those of the technical potential; "
                                                  "facades: wall face left for modules after the ground storey, windows "
                                                  "and other exclusions; surfaces: the plan area under PV)"),
    "modules": Field("", "组件数", "modules the layout adds (net of the PV already installed)"),
    "capacity_kwp": Field("kWp", "本栋排布容量(kWp)", "capacity of the roof's layout, modules × module power"),
    "pv_area_m2": Field("m²", "光伏面积(m²)", "panel area of the layout"),
    "annual_kwh": Field("kWh/yr", "年发电量(kWh)", "P50 annual energy of the layout after shading"),
    "annual_kwh_p90": Field("kWh/yr", "年发电量P90(kWh)", "P90 annual energy"),
    "yield_uncertainty_pct": Field("%", "发电量不确定度(%)", "standard deviation of the annual energy"),
    "specific_yield_kwh_kwp": Field("kWh/kWp·yr", "单位发电量(kWh/kWp)", "annual energy per kWp before shading"),
    "suitability": Field("", "适宜性", "suitable, conditional or unsuitable (the worst of the reasons)"),
    "reasons": Field("", "原因", "reason codes, ';'-separated (schema.REASONS)"),
    "technical_potential_kwp": Field("kWp", "技术潜力(kWp,适宜+有条件)", "capacity of suitable and conditional roofs"),
    "counted_potential_kwp": Field("kWp", "计入潜力(kWp,仅适宜)", "capacity of suitable roofs: what totals and coverage count"),
    "pv_full": Field("", "适宜但已装满光伏", "suitable, but the PV already installed leaves no room"),
    # grid, economics, carbon, energy use
    "connection_class": Field("", "并网电压等级", "connection voltage class by capacity (grid rules)"),
    "nea_category": Field("", "能源局分类", "NEA distributed-PV category (natural person, general or large commercial)"),
    "export_modes": Field("", "可选上网模式", "export modes the NEA rules allow, ';'-separated"),
    "export_mode": Field("", "上网模式", "export mode appraised: full export, self-use, self-use with surplus export"),
    "shared_prosperity": Field("", "共富模式", "village-collective (共同富裕) model applies"),
    "capex_yuan": Field("yuan", "投资(元)", "investment"),
    "revenue_yuan_yr": Field("yuan/yr", "年收益(元)", "first-year revenue and savings"),
    "npv_yuan": Field("yuan", "净现值(元)", "net present value over the system life"),
    "lcoe_yuan_kwh": Field("yuan/kWh", "度电成本(元/kWh)", "levelised cost of energy"),
    "payback_years": Field("yr", "回收期(年)", "simple payback time"),
    "household_income_yuan_yr": Field("yuan/yr", "农户年收入(元)", "household's yearly income under the shared model"),
    "collective_income_yuan_yr": Field("yuan/yr", "村集体年收入(元)", "village collective's yearly income under the shared model"),
    "co2_avoided_t_yr": Field("t/yr", "年减碳(tCO₂)", "CO₂ avoided by the annual energy (grid emission factor)"),
    "energy_use_kwh": Field("kWh/yr", "建筑用能(kWh)", "annual energy use (floor area × intensity by category)"),
    "existing_pv_kwh": Field("kWh/yr", "已装光伏发电量(kWh)", "annual energy of the PV already installed"),
    # rollout plan
    "plan_order": Field("", "实施顺序", "rank of the roof in the rollout order"),
    "plan_rank": Field("", "规划排序", "rank of the roof in the plan"),
    "contribution": Field("", "贡献", "what the roof adds to its target's coverage numerator"),
    "milestone": Field("year", "节点年份", "milestone year"),
    "target": Field("", "目标", "policy target name"),
    "targets": Field("", "服务目标", "targets the roof serves, ';'-separated"),
    "milestones": Field("", "目标节点", "milestones the roof serves, ';'-separated"),
    "overdue": Field("", "已逾期", "the milestone lies before the plan's start year"),
    "build_year": Field("year", "建设年份", "year the plan builds the roof"),
    # roof planes and module rows
    "plane": Field("", "屋面编号", "plane number within the building"),
    "azimuth_deg": Field("°", "朝向(°)", "azimuth of the plane (or the direction a wall faces), clockwise from true north"),
    "tilt_deg": Field("°", "坡度(°)", "plane tilt from horizontal"),
    "area_m2": Field("m²", "面积(m²)", "area in plan view (horizontal projection, like every area in roofpv) of the plane, raised roof or surface outline"),
    "fit_rms_m": Field("m", "拟合残差(m)", "root-mean-square distance of the plane's pixels from its fitted plane"),
    "sky_visible": Field("", "可见天空比例", "share of the sky the plane's sample points see"),
    "horizon_deg": Field("°", "地平线高度角(°)", "horizon elevation in 36 sectors of 10° from north"),
    "shading_points": Field("", "遮挡采样点数", "sample points of the plane's horizon"),
    "layout_kwp": Field("kWp", "排布容量(kWp)", "capacity the layout places on the plane"),
    "poa_kwh_m2": Field("kWh/m²·yr", "年面辐照量(kWh/m²)", "annual plane-of-array irradiation"),
    "row": Field("", "阵列排号", "module row number on the plane"),
    "kwp": Field("kWp", "容量(kWp)", "capacity of the module row (facades: of the wall segment; surfaces: of the surface)"),
    # facades: one row per outer wall segment
    "wall": Field("", "墙段编号", "wall segment number within the building, along its outline, then its courtyards"),
    "orientation": Field("", "朝向", "compass point the wall faces (N, NE, E, SE, S, SW, W, NW)"),
    "length_m": Field("m", "墙段长度(m)", "length of the wall segment along the footprint's outline"),
    "wall_height_m": Field("m", "外露墙高(m)", "mean height of the wall not hidden by a neighbour standing against it"),
    "band_bottom_m": Field("m", "可用带下沿(m)", "height above ground where the band that may carry modules starts "
                                               "(above the ground storey and any neighbour against the wall)"),
    "wall_area_m2": Field("m²", "墙面面积(m²)", "exposed area of the wall's vertical face"),
    "facade_kwp": Field("kWp", "立面光伏容量(kWp)", "BIPV capacity on the building's walls (townships: on their buildings' walls)"),
    "facade_annual_kwh": Field("kWh/yr", "立面年发电量(kWh)", "P50 annual energy of the building's facade BIPV after shading"),
    # raised roofs with no footprint
    "roof_id": Field("", "无轮廓屋顶编号", "number of the raised roof no footprint covers (U1, U2, …)"),
    "height_m": Field("m", "离地高度(m)", "median height of the region above the ground (DEM or ground estimate)"),
    "cells": Field("", "像元数", "DSM cells of the region"),
    # surfaces beyond roofs (carports, corridors, tank covers, greenhouses, rural yards)
    "surface_id": Field("", "场地编号", "id of the surface (the layer's id column, else <file>#<feature>)"),
    "surface_type": Field("", "场地类型", "carport, corridor, tank_cover, greenhouse or rural_yard (schema.SURFACE_TYPES); "
                          "in the rollout plan also roof or facade"),
    "surface_source": Field("", "场地来源", "what made the outline a surface: the layer's type, its type column or "
                                          "its OSM tag (e.g. amenity=parking)"),
    "open_area_m2": Field("m²", "空地面积(m²)", "plan area of the outline less the building footprints on it "
                                              "(their roofs count as roofs)"),
    "clearance_m": Field("m", "净空高度(m)", "clear height under the canopy or pergola"),
    "facade_annual_mwh": Field("MWh/yr", "立面年发电量(MWh)", "annual energy of the facades' PV"),
    "surface_kwp": Field("kWp", "周边场地容量(kWp)", "capacity on surfaces beyond roofs (carports, covers, yards …)"),
    "surface_annual_mwh": Field("MWh/yr", "周边场地年发电量(MWh)", "annual energy of the PV on surfaces beyond roofs"),
    "total_kwp": Field("kWp", "合计容量(kWp)", "counted roof potential + facades + surfaces"),
    "total_annual_mwh": Field("MWh/yr", "合计年发电量(MWh)", "annual energy of roofs (suitable) + facades + surfaces"),
    "substitution_roofs": Field("", "替代率(仅屋顶)", "renewable substitution rate with the roofs only: (existing PV + "
                                                     "suitable roofs' PV) ÷ the buildings' energy use"),
    "substitution_with_facades": Field("", "替代率(屋顶+立面)", "substitution rate with the roofs and the facades"),
    "substitution_all": Field("", "替代率(屋顶+立面+周边场地)", "substitution rate with roofs, facades and surfaces "
                                                              "beyond roofs"),
    # townships
    "buildings": Field("", "建筑数", "buildings (footprints)"),
    "suitable": Field("", "适宜数", "suitable roofs"),
    "conditional": Field("", "有条件适宜数", "conditional roofs"),
    "unsuitable": Field("", "不适宜数", "unsuitable roofs"),
    "annual_mwh": Field("MWh/yr", "年发电量(MWh)", "P50 annual energy of the suitable roofs"),
    "annual_mwh_p90": Field("MWh/yr", "年发电量P90(MWh)", "P90 annual energy of the suitable roofs"),
    "technical_annual_mwh": Field("MWh/yr", "技术潜力年发电量(MWh,筛查)",
                                  "P50 annual energy of the technical potential (suitable and conditional roofs): "
                                  "the screening answer, survey needed before it counts toward a target"),
    "technical_annual_mwh_p90": Field("MWh/yr", "技术潜力年发电量P90(MWh,筛查)",
                                      "P90 annual energy of the technical potential (screening)"),
    "grid_limited": Field("", "并网受限数", "suitable roofs whose grid condition is limited"),
    "capex_myuan": Field("million yuan", "投资(百万元)", "investment of the suitable roofs"),
    "revenue_myuan_yr": Field("million yuan/yr", "年收益(百万元)", "first-year revenue of the suitable roofs"),
    "npv_myuan": Field("million yuan", "净现值(百万元)", "net present value of the suitable roofs"),
    "energy_use_mwh": Field("MWh/yr", "建筑用能(MWh)", "annual energy use of the buildings"),
    **{f"kwh_{m:02d}": Field("kWh", f"{m}月发电量(kWh)", f"energy in month {m}") for m in range(1, 13)},
    **{f"poa_kwh_m2_{m:02d}": Field("kWh/m²", f"{m}月面辐照量(kWh/m²)", f"plane-of-array irradiation in month {m}")
       for m in range(1, 13)},
    # hourly balance and DL/T 2041 hosting capacity (roofpv.grid)
    "pv_tilt_deg": Field("°", "主阵列倾角(°)", "module tilt of the roof's plane with the most kWp (its hourly shape)"),
    "pv_azimuth_deg": Field("°", "主阵列方位角(°)", "module azimuth of that plane, clockwise from north"),
    "self_consumed_kwh": Field("kWh/yr", "自用电量(kWh/年)", "added PV output used in the building, hour by hour"),
    "exported_kwh": Field("kWh/yr", "上网电量(kWh/年)", "added PV output fed into the grid"),
    "curtailed_kwh": Field("kWh/yr", "弃光电量(kWh/年)", "surplus of a roof that may not export (全部自发自用)"),
    "self_consumption_share": Field("", "自用比例", "self-consumed share of the added PV output (hourly balance)"),
    "storage_kwh": Field("kWh", "储能容量(kWh)", "battery of the storage case (grid.storage; blank without)"),
    "storage_kw": Field("kW", "储能功率(kW)", "storage power: the roof's battery case, or on a transformer the "
                                             "storage charging power connected to it (DL/T 2041 P_ESS)"),
    "self_consumed_storage_kwh": Field("kWh/yr", "配储自用电量(kWh/年)", "self-consumed output with the battery"),
    "storage_capex_yuan": Field("yuan", "储能投资(元)", "investment in the grid.storage battery: yuan/kWh × kWh + "
                                                      "yuan/kW × kW (economics.storage)"),
    "storage_npv_yuan": Field("yuan", "储能净现值(元)", "NPV of adding that battery: the self-use it adds, less capex, "
                                                    "replacements and O&M"),
    "released_kwp": Field("kWp", "可释放容量(kWp)", "candidate PV beyond the open capacity: what the storage or the "
                                                 "upgrade to host every candidate roof would let in"),
    "storage_to_host_yuan": Field("yuan", "全部接入需储能投资(元)", "investment in that storage (economics.storage)"),
    "kva": Field("kVA", "额定容量(kVA)", "rating S: of the transformer; of a feeder its thermal limit; of a "
                                          "substation its main transformers'"),
    "feeder_id": Field("", "10kV线路编号", "10 kV feeder the transformer hangs on (grid.topology)"),
    "substation_id": Field("", "变电站编号", "substation feeding the feeder (grid.topology)"),
    "level": Field("", "设备层级", "feeder (10 kV line) or substation (its main transformers)"),
    "transformers": Field("", "所带台区数", "transformers of the table the feeder or substation serves"),
    "limited_open_kw": Field("kWp", "可开放容量(计上级)(kWp)", "open capacity limited by the feeder's and the "
                                                              "substation's: the smallest on the way to the grid"),
    "planned_pv_kw": Field("kW", "已备案未并网光伏(kW)", "PV filed but not yet connected"),
    "load_mwh_yr": Field("MWh/yr", "年用电量(MWh/年)", "annual load of the buildings served (profiles)"),
    "min_load_kw": Field("kW", "最小负荷(kW)", "P_load,min: lowest load while PV produces (or the table's)"),
    "min_load_source": Field("", "最小负荷来源", "profiles, metered (the transformer's metered load), table (measured) or not credited"),
    "tau_max": Field("kW/kWp", "最大出力系数", "τ_max: largest output per kWp of the PV on the transformer (feeder, substation)"),
    "hosting_kw": Field("kWp", "承载力(kWp)", "DL/T 2041 S_d: distributed PV the transformer (feeder, substation) can carry"),
    "open_kw": Field("kWp", "可开放容量(kWp)", "S_d less the PV connected and the PV filed but not connected "
                                                "(a township: the sum over its transformers)"),
    "open_kw_p90": Field("kWp", "P90年可开放容量(kWp)", "open capacity in the P90 PV year: every interval "
                                                       "× (1 − 1.2816·σ), σ of the uncertainty model"),
    "hourly_hosting_kw": Field("kWp", "逐时承载力(kWp)", "largest PV within β·S·cosθ + P_ESS in every hour"),
    "reverse_load_rate": Field("", "反向负载率", "λ = (τ_max·PV − P_load,min − P_ESS) / S, PV connected and filed"),
    "grade": Field("", "承载力等级", "DL/T 2041 grade: green λ ≤ 0, yellow λ ≤ β·cosθ, red above"),
    "candidate_kwp": Field("kWp", "候选屋顶容量(kWp)", "added PV of every roof served (through its transformers)"),
    "admitted_kwp": Field("kWp", "规划接入容量(kWp)", "added PV the rollout admits on the transformer (a feeder or substation: on the transformers it serves)"),
    "planned_reverse_load_rate": Field("", "规划后反向负载率", "λ once the admitted PV is built"),
    "planned_grade": Field("", "规划后等级", "grade once the admitted PV is built"),
    "peak_reverse_kw": Field("kW", "最大反送功率(kW)", "largest reverse flow with every candidate roof built"),
    "storage_to_host_kw": Field("kW", "全部接入需储能功率(kW)", "battery power that keeps that flow within the limit"),
    "storage_to_host_kwh": Field("kWh", "全部接入需储能容量(kWh)", "battery energy for it (largest daily excess)"),
    "upgrade_kva": Field("kVA", "全部接入需增容(kVA)", "extra rating that takes every candidate roof instead"),
    "transformers_green": Field("", "绿色台区数", "transformers graded green (DL/T 2041), by their buildings' township"),
    "transformers_yellow": Field("", "黄色台区数", "transformers graded yellow"),
    "transformers_red": Field("", "红色台区数", "transformers graded red"),
    "hosting_bound": Field("", "承载力受限", "the candidate roofs exceed the transformer's open capacity"),
}

#: Per-target columns ``<target>_<suffix>`` of the township table (``{y}``: the milestone
#: year) and ``cohort_<target>`` of the buildings: pattern → field (alias after the
#: target's label).
TARGET_FIELDS: dict[str, Field] = {
    r"buildings": Field("", "对象建筑数", "buildings in the target's cohort"),
    r"denominator": Field("m², buildings or kWh", "覆盖率分母", "the coverage measure's denominator over the cohort"),
    r"coverage_today": Field("", "现状覆盖率", "coverage by the PV installed today"),
    r"coverage_potential": Field("", "潜在覆盖率", "coverage with every suitable roof built"),
    r"coverage_technical": Field("", "筛查覆盖率", "screening coverage: with every suitable and conditional roof "
                                                 "built (survey needed before it counts toward the target)"),
    r"target_(?P<y>\d{4})": Field("", "{y}年目标", "target coverage at the milestone"),
    r"gap_(?P<y>\d{4})": Field("m², buildings or kWh", "{y}年差距", "numerator still missing at the milestone"),
    r"reachable_(?P<y>\d{4})": Field("", "{y}年可达", "the suitable roofs can reach the milestone's target"),
    r"gap_kwp_(?P<y>\d{4})": Field("kWp", "{y}年缺口(kWp)", "the gap as capacity"),
    r"plan_roofs_(?P<y>\d{4})": Field("", "{y}年规划屋顶数", "roofs the plan builds by the milestone"),
    r"plan_kwp_(?P<y>\d{4})": Field("kWp", "{y}年规划容量(kWp)", "capacity the plan builds by the milestone"),
    r"planned_coverage_(?P<y>\d{4})": Field("", "{y}年规划覆盖率", "coverage the plan reaches at the milestone"),
    r"binding_(?P<y>\d{4})": Field("", "{y}年制约因素", "what limits the plan at the milestone (roofs, grid, …)"),
    r"status_(?P<y>\d{4})": Field("", "{y}年目标状态", "met, on track, at risk, unreachable or missed on the run date"),
    r"pace_needed_(?P<y>\d{4})": Field("per year", "{y}年所需年进度", "coverage points a year needed to meet the milestone"),
}

#: Columns of the transformers layer and of their service areas (roofpv.grid.assess).
_TRANSFORMER_FIELDS = (
    "transformer_id", "township", "buildings", "kva", "existing_pv_kw", "planned_pv_kw", "storage_kw",
    "load_mwh_yr", "min_load_kw", "min_load_source", "tau_max", "hosting_kw", "open_kw", "open_kw_p90", "hourly_hosting_kw",
    "reverse_load_rate", "grade", "candidate_kwp", "admitted_kwp", "planned_reverse_load_rate",
    "planned_grade", "peak_reverse_kw", "storage_to_host_kw", "storage_to_host_kwh", "upgrade_kva", "hosting_bound",
    "released_kwp", "storage_to_host_yuan", "feeder_id", "substation_id", "limited_open_kw",
)

#: Columns of each output layer and table, in order (``cohort_<target>`` after
#: ``overlap_share``; the township table's per-target columns after ``technical_annual_mwh_p90``).
LAYER_FIELDS: dict[str, tuple[str, ...]] = {
    "buildings": (
        "building_id", "township", "township_source", "name", "address", "category", "owner_type", "year_built",
        "floors", "floor_area_m2", "roof_type", "roof_type_source", "roof_load_kn_m2", "shading",
        "shading_source", "shading_loss", "shading_loss_source", "shading_measured_class", "field_check",
        "sky_view_factor", "roof_height_m", "roof_height_m_source", "roof_form", "roof_form_source",
        "planar_share", "dsm_coverage", "dsm_status", "roof_slope_deg_source", "roof_aspect_deg_source",
        "shading_class", "mounting_source", "grid_condition", "transformer_id", "existing_pv_kw",
        "existing_pv_area_m2", "existing_pv_source", "roof_area_m2", "roof_slope_deg", "roof_aspect_deg",
        "mounting", "module_tilt_deg", "usable_area_m2", "modules", "capacity_kwp", "pv_area_m2", "annual_kwh",
        "specific_yield_kwh_kwp", "suitability", "reasons", "has_survey", "note", "category_source",
        "floors_source", "overlap_of", "overlap_share",
        "connection_class", "nea_category", "export_modes", "energy_use_kwh", "existing_pv_kwh",
        "self_consumed_kwh", "exported_kwh", "curtailed_kwh", "self_consumption_share", "pv_tilt_deg",
        "pv_azimuth_deg", "storage_kwh", "storage_kw", "self_consumed_storage_kwh", "export_mode",
        "shared_prosperity", "capex_yuan", "revenue_yuan_yr", "npv_yuan", "lcoe_yuan_kwh", "payback_years",
        "storage_capex_yuan", "storage_npv_yuan", "household_income_yuan_yr", "collective_income_yuan_yr",
        "co2_avoided_t_yr", "annual_kwh_p90",
        "yield_uncertainty_pct", "facade_kwp", "facade_annual_kwh", "plan_order", "grid_limited",
        "technical_potential_kwp",
        "counted_potential_kwp", "pv_full",
    ),
    "transformers": _TRANSFORMER_FIELDS,
    # The area each transformer serves (roofpv.grid.assess.service_areas): the transformers' columns.
    "transformer_areas": _TRANSFORMER_FIELDS,
    "feeders": (
        "level", "feeder_id", "substation_id", "transformers", "kva", "existing_pv_kw", "planned_pv_kw", "storage_kw",
        "min_load_kw", "min_load_source", "tau_max", "hosting_kw", "open_kw", "open_kw_p90", "hourly_hosting_kw",
        "reverse_load_rate", "grade", "candidate_kwp", "admitted_kwp",
    ),
    "roof_planes": (
        "building_id", "plane", "azimuth_deg", "tilt_deg", "area_m2", "fit_rms_m", "shading_loss",
        "sky_visible", "horizon_deg", "shading_points", "module_tilt_deg", "modules", "layout_kwp",
        "poa_kwh_m2", "specific_yield_kwh_kwp", "annual_kwh",
    ),
    "pv_arrays": ("building_id", "plane", "row", "modules", "kwp", "module_tilt_deg", "azimuth_deg"),
    "facades": (
        "building_id", "wall", "township", "orientation", "azimuth_deg", "length_m", "wall_height_m", "band_bottom_m",
        "wall_area_m2", "usable_area_m2", "poa_kwh_m2", "shading_loss", "specific_yield_kwh_kwp", "kwp",
        "annual_kwh",
    ),
    "unmatched_roofs": ("roof_id", "area_m2", "height_m", "tilt_deg", "azimuth_deg", "cells"),
    "monthly_yield": ("building_id", *(f"kwh_{m:02d}" for m in range(1, 13)),
                      *(f"poa_kwh_m2_{m:02d}" for m in range(1, 13))),
    "rollout_plan": (
        "building_id", "plan_rank", "township", "name", "category", "owner_type", "capacity_kwp", "pv_area_m2",
        "annual_kwh", "specific_yield_kwh_kwp", "transformer_id", "connection_class", "nea_category",
        "export_mode", "capex_yuan", "revenue_yuan_yr", "npv_yuan", "lcoe_yuan_kwh", "payback_years",
        "co2_avoided_t_yr", "plan_order", "overdue", "build_year", "targets", "milestones",
    ),
    "townships": (
        "township", "buildings", "suitable", "conditional", "unsuitable", "roof_area_m2", "usable_area_m2",
        "pv_full", "technical_potential_kwp", "counted_potential_kwp", "existing_pv_kw", "annual_mwh",
        "technical_annual_mwh", "grid_limited", "capex_myuan", "revenue_myuan_yr", "npv_myuan",
        "co2_avoided_t_yr", "energy_use_mwh", "lcoe_yuan_kwh", "payback_years", "annual_mwh_p90",
        "technical_annual_mwh_p90", "transformers_green", "transformers_yellow", "transformers_red", "open_kw",
        "storage_to_host_kwh", "self_consumption_share", "facade_kwp", "facade_annual_mwh", "surface_kwp",
        "surface_annual_mwh", "total_kwp", "total_annual_mwh", "substitution_roofs", "substitution_with_facades",
        "substitution_all",
    ),
    "surfaces": (
        "surface_id", "surface_type", "surface_source", "township", "name", "area_m2", "open_area_m2",
        "usable_area_m2", "module_tilt_deg", "azimuth_deg", "clearance_m", "modules", "kwp", "shading_loss",
        "specific_yield_kwh_kwp", "annual_kwh", "export_mode", "capex_yuan", "revenue_yuan_yr", "npv_yuan",
        "lcoe_yuan_kwh", "payback_years", "co2_avoided_t_yr",
    ),
}
#: Layers of a province run (config ``province``) besides those of :data:`LAYER_FIELDS`,
#: whose ``buildings`` (after ``township_source``) and ``townships`` (after ``township``)
#: then also hold ``county``: ``counties`` has one row per county with the township
#: table's columns (the per-target ones after ``technical_annual_mwh_p90``);
#: ``counties.csv`` adds the province row.
PROVINCE_LAYER_FIELDS: dict[str, tuple[str, ...]] = {
    "counties": ("county", *LAYER_FIELDS["townships"][1:]),
}
#: Columns of layer ``buildings`` the suitability stage fixes (:func:`roofpv.run.stages.finish`),
#: before the ``cohort_<target>`` flags and the columns the later stages add.
ASSESSED_FIELDS = list(LAYER_FIELDS["buildings"][1:LAYER_FIELDS["buildings"].index("overlap_share") + 1])
#: Columns of table ``monthly_yield`` besides ``building_id``.
MONTHLY_FIELDS = list(LAYER_FIELDS["monthly_yield"][1:])


def field_alias(column: str, targets: dict[str, str] | None = None) -> str | None:
    """Chinese alias of an output column (``targets``: target name → label, for the
    per-target columns), or None."""
    if column in FIELDS:
        return FIELDS[column].alias
    for name, label in (targets or {}).items():
        if column == f"cohort_{name}":
            return f"属于对象：{label}"
        if column.startswith(f"{name}_"):
            suffix = column[len(name) + 1:]
            for pattern, field in TARGET_FIELDS.items():
                m = re.fullmatch(pattern, suffix)
                if m:
                    return f"{label}·{field.alias.format(**m.groupdict())}"
    return None
