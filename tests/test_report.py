"""HTML and XLSX reports: `roofpv plan` on the Pinghu sample, escaping of input strings,
safe file names, the embedded font and the parameter sources."""

import base64
import dataclasses
import io
import json
import re
import shutil
import sys
import zipfile

import numpy as np
import openpyxl
import pandas as pd
import pyogrio
import pytest
from fontTools.ttLib import TTFont

from roofpv import report
from roofpv.cli import main
from roofpv.io.writers import write_folder
from roofpv.report import data, fonts, maps, pages, parameters, workbook
from roofpv.schema import CITY

from .conftest import ROOT

CONFIG = ROOT / "configs" / "pinghu.yaml"
TOWNSHIPS = ["当湖街道", "钟埭街道", "曹桥街道", "乍浦镇", "新埭镇", "新仓镇", "广陈镇", "林埭镇", "独山港镇"]
EVIL = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def out(pinghu_cli_out):
    """`roofpv plan` on the sample, report included (shared with the end-to-end tests)."""
    return pinghu_cli_out


@pytest.fixture(scope="module")
def html(out):
    return {p.name: p.read_text(encoding="utf-8") for p in (out / "report").glob("*.html")}


def test_report_folder_has_index_and_nine_township_pages(out, html):
    names = sorted(p.name for p in (out / "report").iterdir())
    assert names == sorted(["index.html", "roofpv.xlsx", *(pages.page_file(i + 1, t) for i, t in enumerate(TOWNSHIPS))])
    assert "<title>平湖市 全市概况 · 屋顶光伏普查报告</title>" in html["index.html"]
    page = html[pages.page_file(1, "当湖街道")]
    assert "<h1>平湖市 当湖街道 · 屋顶光伏普查报告</h1>" in page
    for heading in ("屋顶适宜性分布", "覆盖率：现状与潜力对照 2025、2030 年目标", "逐月发电量", "规划屋顶",
                    "不适宜与有条件适宜的原因"):
        assert heading in page


def test_pages_are_self_contained(html):
    for name, page in html.items():
        assert page.count("<svg") >= 4, name  # map, coverage, categories, months
        assert 'class="map"' in page, name  # the maps, drawn as vector SVG
        assert re.search(r"""(src|href)=["']?(https?:|//)""", page) is None, name
        assert "@font-face" in page and "data:font/woff;base64," in page, name
        assert "@page { size: A4" in page, name
        assert len(page.encode()) < 1_000_000, name


def test_every_character_on_a_page_is_in_its_embedded_font(html):
    for name, page in html.items():
        woff = base64.b64decode(re.search(r"data:font/woff;base64,([A-Za-z0-9+/=]+)", page).group(1))
        cmap = TTFont(io.BytesIO(woff)).getBestCmap()
        visible = re.sub(r"base64,[A-Za-z0-9+/=]+", "", page)
        missing = {c for c in visible if c.isprintable() and not c.isspace() and ord(c) not in cmap}
        assert not missing, (name, missing)
    assert "平湖市" in html["index.html"] and "当湖街道" in html["index.html"]


def test_city_overview_lists_townships_and_parameters(html):
    index = html["index.html"]
    for i, name in enumerate(TOWNSHIPS):
        assert f'<a href="{pages.page_file(i + 1, name)}">{name}</a>' in index
    assert "参数、来源与假设" in index
    # discount rate: an assumption per the config; module power: sourced (REFERENCE §2)
    rows = re.findall(r"<tr( class=\"assumed\")?><td>([^<]+)<br><code>([^<]+)</code>", index)
    assumed = {key: bool(flag) for flag, _, key in rows}
    assert assumed["economics.discount_rate"] and not assumed["module.power_w"]


@pytest.mark.slow
def test_report_command_rebuilds_the_same_report_from_the_output_folder(out, tmp_path, html):
    copy = tmp_path / "copy"
    shutil.copytree(out, copy, ignore=shutil.ignore_patterns("report"))
    assert main(["report", str(CONFIG), "--out", str(copy), "--quiet"]) == 0
    assert (copy / "report" / "index.html").read_text(encoding="utf-8") == html["index.html"]


def test_report_is_not_replaced_without_overwrite(out, capsys):
    before = (out / "report" / "index.html").stat().st_mtime_ns
    assert main(["report", str(CONFIG), "--out", str(out), "--quiet"]) == 2
    assert "pass --overwrite" in capsys.readouterr().err.replace("\n", "")
    assert (out / "report" / "index.html").stat().st_mtime_ns == before


def test_report_without_outputs_says_what_to_run(tmp_path, capsys):
    assert main(["report", str(CONFIG), "--out", str(tmp_path / "nothing"), "--quiet"]) == 2
    assert "run `roofpv survey`" in capsys.readouterr().err.replace("\n", "")


def test_workbook_summary_and_township_sheets(out):
    book = openpyxl.load_workbook(out / "report" / "roofpv.xlsx")
    assert book.sheetnames == ["汇总", *TOWNSHIPS, "周边场地"]
    summary = book["汇总"]
    header = [c.value for c in summary[1]]
    assert header[:4] == ["镇街道", "建筑数", "适宜", "有条件适宜"]
    assert summary.freeze_panes == "B2"
    city = next(row for row in summary.iter_rows(values_only=True) if row[0] == CITY)
    assert city[1] == 3449  # footprints of the sample (data/sample/README.md)
    coverage = header.index("新建公共机构建筑、新建厂房屋顶光伏覆盖率 现状覆盖率") + 1
    assert summary.cell(row=2, column=coverage).number_format == "0.0%"
    sheet = book["当湖街道"]
    assert [c.value for c in sheet[1]][:3] == ["建筑编号", "建筑名称", "建筑类别"]
    assert sheet.freeze_panes == "B2"
    ids = [r[0] for r in sheet.iter_rows(min_row=2, values_only=True)]
    assert len(ids) == 401 and all(i.startswith("DH") for i in ids)  # DH = 当湖 (sample README)
    kwp = [c.value for c in sheet[1]].index("计入潜力 (kWp，仅适宜)") + 1
    assert sheet.cell(row=2, column=kwp).number_format == "#,##0.0"


@pytest.fixture(scope="module")
def evil(pinghu_results):
    """Two townships of the sample with a building named like a script and a township
    named like a path out of the folder."""
    bad = f"../../x{EVIL}"
    results = pinghu_results
    keep = ["当湖街道", "乍浦镇"]

    def rename(frame):
        return frame.rename(index={"乍浦镇": bad}) if frame is not None else None

    b = results.buildings[results.buildings["township"].isin(keep)].copy()
    b["township"] = b["township"].replace("乍浦镇", bad)
    b.loc[b.index[0], "name"] = EVIL
    plan = results.plan[results.plan["township"].isin(keep)].copy()
    plan["township"] = plan["township"].replace("乍浦镇", bad)
    plan.loc[plan.index[0], "name"] = EVIL
    towns = rename(results.townships.loc[[*keep, CITY]])
    polygons = rename(results.township_polygons.loc[keep])
    return dataclasses.replace(results, buildings=b, townships=towns, township_polygons=polygons, plan=plan), bad


def test_strings_from_inputs_are_escaped_and_file_names_stay_inside(evil, config, tmp_path):
    results, _ = evil
    files = report.make(report.from_results(results, config), config)
    names = sorted(files)
    assert names == ["01-当湖街道.html", "02-xscriptalert1script.html", "index.html", "roofpv.xlsx"]
    page = files["02-xscriptalert1script.html"].decode()
    index = files["index.html"].decode()
    for text in (page, index, files["01-当湖街道.html"].decode()):
        assert "<script" not in text
    assert "../../x&lt;script&gt;alert(1)&lt;/script&gt;" in page  # title, heading, chart labels
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in index  # plan table and map label
    write_folder(tmp_path / "out" / "report", files)
    written = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()}
    assert written == {f"out/report/{n}" for n in names}
    sheets = openpyxl.load_workbook(io.BytesIO(files["roofpv.xlsx"])).sheetnames
    assert sheets == ["汇总", "当湖街道", ".._.._x<script>alert(1)<_script", "周边场地"]  # "/" → "_", 31 characters


#: Look-alikes of ``< > " ' &`` that NFKC folds to them: small form, full width.
LOOKALIKES = {"﹤": "<", "﹥": ">", "＜": "<", "＞": ">", "＂": '"', "＇": "'", "＆": "&", "﹠": "&"}
FORMULAS = ["=HYPERLINK(\"http://x\",\"y\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]


@pytest.fixture(scope="module")
def lookalike(pinghu_results):
    """Two townships of the sample: one named with small-form brackets around an image
    tag, a building name and ids of every look-alike and formula-leading cells."""
    township = "﹤img src=x onerror=alert(1)﹥"
    keep = ["当湖街道", "乍浦镇"]
    results = pinghu_results

    def rename(frame):
        return frame.rename(index={"乍浦镇": township}) if frame is not None else None

    b = results.buildings[results.buildings["township"].isin(keep)].copy()
    b["township"] = b["township"].replace("乍浦镇", township)
    names = ["".join(LOOKALIKES) + "img src=x onerror=alert(2)", *FORMULAS]
    ids = {old: new for old, new in zip(b.index[:len(names)], ["＂＞﹤svg onload=alert(3)﹥", *FORMULAS])}
    b.loc[b.index[:len(names)], "name"] = names
    b = b.rename(index=ids)
    plan = results.plan[results.plan["township"].isin(keep)].copy()
    plan["township"] = plan["township"].replace("乍浦镇", township)
    plan = plan.rename(index=ids)
    plan.loc[plan.index[0], "name"] = names[0]
    towns = rename(results.townships.loc[[*keep, CITY]])
    polygons = rename(results.township_polygons.loc[keep])
    return dataclasses.replace(results, buildings=b, townships=towns, township_polygons=polygons, plan=plan)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_unicode_lookalikes_are_escaped_after_normalising(lookalike, config, lang):
    files = report.make(report.from_results(lookalike, config), config, lang)
    pages_ = {n: v.decode() for n, v in files.items() if n.endswith(".html")}
    assert len(pages_) == 3
    for name, page in pages_.items():
        body = re.sub(r"base64,[A-Za-z0-9+/=]+", "", page)
        for tag in ("<img", "<svg onload", "onerror=alert(1)>"):
            assert tag not in body, (name, tag)
        # every tag on the page is one the report writes
        tags = set(re.findall(r"<([a-zA-Z][\w:-]*)", body))
        assert tags <= ALLOWED_TAGS, (name, tags - ALLOWED_TAGS)
    index = pages_["index.html"]
    # folded to ASCII where the font lacks the look-alike, then escaped
    assert "&lt;img src=x onerror=alert(1)&gt;" in index


ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "h3", "p", "nav", "a", "dl", "div",
    "b", "ul", "li", "figure", "figcaption", "dt", "dd", "section", "table", "thead", "tbody", "tr", "th", "td", "span", "br", "code", "svg", "g", "path",
    "defs", "clipPath", "image", "text", "use", "rect", "metadata", "rdf:RDF", "cc:Work", "dc:type",
    "dc:date", "dc:creator", "dc:format", "cc:Agent", "dc:title", "small", "strong",
    "polygon", "line", "circle", "tspan", "mark", "img", "aside", "footer", "caption", "col", "colgroup",
} - {"img"}


def test_formula_cells_are_strings_in_the_workbook(lookalike, config):
    files = report.make(report.from_results(lookalike, config), config)
    book = openpyxl.load_workbook(io.BytesIO(files["roofpv.xlsx"]))
    cells = [c for ws in book for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    # as Excel reads them: OOXML escapes a control character as _xHHHH_ (openpyxl leaves it)
    values = {re.sub(r"_x([0-9A-F]{4})_", lambda m: chr(int(m.group(1), 16)), c.value) for c in cells}
    for formula in FORMULAS:  # kept as text behind an apostrophe, control characters and all
        assert "'" + formula in values
    with zipfile.ZipFile(io.BytesIO(files["roofpv.xlsx"])) as z:
        assert not any("<f>" in z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/"))


def test_english_report(evil, config):
    results, _ = evil
    files = report.make(report.from_results(results, config), config, "en")
    index = files["index.html"].decode()
    assert "Rooftop PV survey report" in index and "Parameters, sources and assumptions" in index
    assert openpyxl.load_workbook(io.BytesIO(files["roofpv.xlsx"])).sheetnames[0] == "Summary"


@pytest.mark.browser
@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium not installed (apt-get install chromium)")
def test_headless_chromium_draws_chinese_with_the_embedded_font(out, tmp_path):
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import check_report_render
    finally:
        sys.path.pop(0)
    assert check_report_render.check(out / "report", tmp_path, check_report_render.browser())
    assert len(list(tmp_path.glob("*-embedded.png"))) == 2


def _render_script():
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import check_report_render
    finally:
        sys.path.pop(0)
    return check_report_render


@pytest.mark.browser
@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium not installed (apt-get install chromium)")
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_chromium_draws_township_sheets_with_legible_roofs_and_city_map(out, config, tmp_path, lang):
    from PIL import Image

    from roofpv.appraise.suitability import STATUS_COLOURS
    from roofpv.targets.milestones import COLOURS

    render = _render_script()
    folder = report.write(report.from_folder(out, config), config, tmp_path, lang)
    page = folder / pages.page_file(1, TOWNSHIPS[0])
    png = tmp_path / "township.png"
    render.screenshot(page, png, render.browser(), full=True)
    boxes = json.loads(png.with_suffix(".json").read_text())
    assert len(boxes) >= 3  # overview and the sheets
    sizes = render.roof_sizes(png, boxes[1:], list(STATUS_COLOURS.values()))
    assert len(sizes) >= 100
    assert np.median(sizes) >= 4.0, np.median(sizes)  # median roof ≥ 4 px across, as drawn
    # the planned roofs carry their rank from the plan table
    html = page.read_text(encoding="utf-8")
    assert re.search(r'font-weight="bold"[^>]*>1</text>', html)
    # city page: one map per target, townships filled by milestone status
    png = tmp_path / "city.png"
    render.screenshot(folder / "index.html", png, render.browser(), full=True)
    boxes = json.loads(png.with_suffix(".json").read_text())
    assert len(boxes) == len(config.policy.targets)
    image = np.asarray(Image.open(png).convert("RGB")).astype(int)
    x, y, w, h = map(int, boxes[0])
    crop = image[y:y + h, x:x + w]
    filled = {k: int((np.abs(crop - np.array(list(bytes.fromhex(c[1:])))).max(axis=2) <= 6).sum())
              for k, c in {**COLOURS, "none": maps.NO_STATUS}.items()}
    assert sum(filled.values()) > 0.5 * w * h, filled  # the townships cover the map


# --- the pure parts ---------------------------------------------------------------

YAML = """\
# file header

module:
  # Module of REFERENCE §2.
  length_m: 2.278
  width_m: 1.134

  # Clamp gap (assumption).
  gap_m: 0.02
  power_w: 580   # datasheet
  other: 1
economics:
  discount_rate: 0.06
"""


def test_key_comments_above_trailing_grouped_and_inherited():
    c = parameters.key_comments(YAML)
    assert c["module.length_m"] == "Module of REFERENCE §2."
    assert c["module.width_m"] == "Module of REFERENCE §2."  # same group: no blank line
    assert c["module.gap_m"] == "Clamp gap (assumption)."  # blank line ends the group
    assert c["module.power_w"] == "datasheet"  # a trailing comment is the key's own
    assert c["module.other"] == "Clamp gap (assumption)."
    assert c["module"] == "" and c["economics.discount_rate"] == ""


def test_parameter_table_marks_assumptions():
    values = {"module": {"power_w": 580, "gamma_pdc_per_c": -0.003}, "economics": {"discount_rate": 0.06}}
    comments = {"module.power_w": "typical module (REFERENCE §2)", "module.gamma_pdc_per_c": "typical (assumption)"}
    table = parameters.parameter_table(values, comments, ["discount_rate"], "zh").set_index("key")
    assert table.loc["module.power_w", "parameter"] == "组件功率 (W)"
    assert table["assumption"].to_dict() == {
        "module.power_w": False, "module.gamma_pdc_per_c": True, "economics.discount_rate": True,
    }
    assert table.loc["module.gamma_pdc_per_c", "value"] == "-0.003"


def test_config_comments_follow_extends():
    c = parameters.config_comments(ROOT / "configs" / "jinan.yaml")
    assert "Jinan" in c["site.latitude"]
    assert "REFERENCE §2" in c["module.power_w"]  # from pinghu.yaml, which jinan extends


def test_page_and_sheet_names_are_safe():
    assert pages.page_file(3, "../../x") == "03-x.html"
    assert pages.page_file(4, "a/b\\c:d") == "04-abcd.html"
    assert pages.page_file(5, "...") == "05.html"
    taken: set[str] = set()
    assert workbook.sheet_title("a[1]:b*?/\\", taken) == "a_1__b____"
    assert workbook.sheet_title("x" * 40, taken) == "x" * 31
    assert workbook.sheet_title("X" * 40, taken) == "X" * 29 + "~2"  # sheet names ignore case


def test_write_folder_refuses_paths(tmp_path):
    for name in ("../x.html", "a/b.html", "..", ""):
        with pytest.raises(ValueError, match="plain file name"):
            write_folder(tmp_path / "report", {name: b""})
    assert not (tmp_path / "report").exists()


def test_write_folder_replaces_the_whole_folder(tmp_path):
    write_folder(tmp_path / "r", {"a.html": b"1", "b.html": b"2"})
    write_folder(tmp_path / "r", {"a.html": b"3"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]
    assert {p.name: p.read_bytes() for p in (tmp_path / "r").iterdir()} == {"a.html": b"3"}


def test_exclusions_and_category_totals():
    b = pd.DataFrame({
        "suitability": ["suitable", "unsuitable", "unsuitable", "conditional", "suitable"],
        "reasons": ["north_plane_unused", "roof_load;shading_severe", "roof_load", "grid_limited", ""],
        "category": ["factory", "factory", None, "commercial", None],
        "capacity_kwp": [100.0, 0.0, 0.0, 50.0, 20.0],
        "annual_kwh": [110_000.0, 0.0, 0.0, 55_000.0, 21_000.0],
    })
    severity = {"north_plane_unused": "info", "roof_load": "unsuitable", "shading_severe": "unsuitable",
                "grid_limited": "conditional"}
    table = data.exclusions(b, severity)
    assert table.values.tolist() == [
        ["roof_load", "unsuitable", 2], ["shading_severe", "unsuitable", 1], ["grid_limited", "conditional", 1],
    ]
    cat = data.by_category(b)
    assert cat.index.tolist() == ["factory", "other"]  # suitable only; blank → other
    assert cat["capacity_mwp"].tolist() == [0.1, 0.02]
    assert cat["generation_gwh"].tolist() == pytest.approx([0.11, 0.021])


def test_plan_roofs_one_row_per_building_in_rank_order():
    plan = pd.DataFrame({
        "building_id": ["B", "A", "B", "C"], "plan_order": [2, 1, 2, 3], "township": "t",
        "name": ["b", "a", "b", "c"], "category": "factory", "capacity_kwp": [2.0, 1.0, 2.0, 3.0],
        "annual_kwh": [20.0, 10.0, 20.0, 30.0], "build_year": [2028, 2026, 2026, 2027],
        "target": ["t2", "t1", "t1", "t1"],
    }).set_index("building_id")
    roofs = data.plan_roofs(plan, 2)
    assert roofs.index.tolist() == ["A", "B"]
    assert roofs.loc["B", "build_year"] == 2026 and roofs.loc["B", "targets"] == ["t1", "t2"]


def test_monthly_share_and_energy():
    # monthly kWh of two buildings with a layout; the third has none (no row)
    kwh = [f"kwh_{m:02d}" for m in range(1, 13)]
    summer = np.array([2, 3, 6, 9, 12, 13, 14, 12, 9, 6, 3, 2], float)
    flat = np.array([1, 2, 5, 9, 13, 15, 16, 13, 9, 5, 2, 1], float)
    monthly = pd.DataFrame([summer * 10, flat * 4], index=["A", "B"], columns=kwh)
    b = pd.DataFrame({"suitability": ["suitable", "suitable", "unsuitable"],
                      "annual_kwh": [summer.sum() * 10, flat.sum() * 4, 0.0]}, index=["A", "B", "C"])
    share = data.monthly_share(b, monthly)
    assert share.sum(axis=1) == pytest.approx([1.0, 1.0, 1.0])
    assert share[0] == pytest.approx(summer / summer.sum())
    assert share[2] == pytest.approx(np.full(12, 1 / 12))  # no layout: an even split of nothing
    mwh = data.monthly_mwh(b, share, np.array([True, True, True]))
    assert mwh.sum() * 1000 == pytest.approx(b["annual_kwh"].sum())
    assert mwh[6] * 1000 == pytest.approx(summer[6] * 10 + flat[6] * 4)


def test_printable_swaps_characters_the_font_lacks():
    assert "₂" not in fonts.coverage()
    assert fonts.printable("CO₂ 平湖") == "CO2 平湖"
    assert fonts.missing("平湖市 m² ✓") == set()


def test_the_cached_font_subset_is_the_subset_cut_afresh(tmp_path, monkeypatch):
    """Cache miss: the subset is cut and stored; cache hit (same characters, any order
    or repetition): the stored bytes, which are those of a second cut; other characters
    miss; a cache folder that cannot be written still gives the subset."""
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    text = "平湖市当湖街道 CO2 kWp"
    cut = fonts.woff_subset(text)
    stored = list((tmp_path / "cache" / "roofpv" / "fonts").glob("*.woff"))
    assert len(stored) == 1 and stored[0].read_bytes() == cut
    font = TTFont(io.BytesIO(cut))
    assert font.flavor == "woff" and set(font.getBestCmap()) == {ord(c) for c in set(text)}
    fresh = fonts._cut_subset("".join(sorted(set(text))))
    assert fresh == cut

    def no_cut(chars):
        raise AssertionError(f"cut again for {chars!r}")

    monkeypatch.setattr(fonts, "_cut_subset", no_cut)
    assert fonts.woff_subset(text[::-1] + text) == cut
    with pytest.raises(AssertionError, match="cut again"):
        fonts.woff_subset(text + "镇")
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "a-file"))
    monkeypatch.setattr(fonts, "_cut_subset", lambda chars: chars.encode())
    assert fonts.woff_subset(text) == "".join(sorted(set(text))).encode()


def test_the_cached_advance_widths_are_those_read_from_the_font(tmp_path, monkeypatch):
    """The advance widths kept in the cache (miss: read and stored; hit: read back
    without opening the font) are those of the font's own tables."""
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    font = TTFont(fonts.font_path())
    em, metrics = font["head"].unitsPerEm, font["hmtx"].metrics
    expected = {chr(c): metrics[g][0] / em for c, g in font.getBestCmap().items()}
    try:
        fonts.advances.cache_clear()
        assert fonts.advances() == expected
        assert len(list((tmp_path / "roofpv" / "fonts").glob("*-advances.json"))) == 1
        fonts.advances.cache_clear()
        monkeypatch.setattr(fonts, "_read_advances", lambda: pytest.fail("read the font again"))
        assert fonts.advances() == expected and fonts.advances()["平"] == 1.0
    finally:
        fonts.advances.cache_clear()


def test_capacity_fields_agree_across_layers_csv_and_report(out):
    """Technical potential, counted potential and existing PV: the same named fields,
    with the same sums, in the buildings and townships layers, townships.csv, the
    workbook and the city page."""
    buildings = pyogrio.read_dataframe(out / "roofpv.gpkg", layer="buildings", read_geometry=False)
    layer = pyogrio.read_dataframe(out / "roofpv.gpkg", layer="townships", read_geometry=False)
    csv = pd.read_csv(out / "townships.csv", encoding="utf-8-sig").set_index("township")
    book = openpyxl.load_workbook(out / "report" / "roofpv.xlsx", read_only=True)
    header = [c.value for c in next(book["汇总"].iter_rows(max_row=1))]
    city = next(r for r in book["汇总"].iter_rows(values_only=True) if r[0] == CITY)
    index = (out / "report" / "index.html").read_text(encoding="utf-8")
    for field, label, page_label, unit in (
        ("technical_potential_kwp", "技术潜力 (kWp，适宜＋有条件)", "技术潜力 (MWp，适宜＋有条件适宜，筛查†)", 1000),
        ("counted_potential_kwp", "计入潜力 (kWp，仅适宜)", "计入潜力 (MWp，适宜屋顶)", 1000),
        ("existing_pv_kw", "已装光伏 (kW)", "已装光伏 (MW)", 1000),
    ):
        total = buildings[field].fillna(0).sum()
        assert total > 0, field
        assert layer[field].sum() == pytest.approx(total), field
        assert csv.loc[csv.index != CITY, field].sum() == pytest.approx(total, abs=0.5), field  # 9 × 0.05
        assert csv.loc[CITY, field] == pytest.approx(total, abs=0.1), field
        assert city[header.index(label)] == pytest.approx(total), field
        shown = re.search(rf"<dt>{re.escape(page_label)}</dt><dd>([\d,.]+)</dd>", index).group(1)
        assert float(shown.replace(",", "")) == pytest.approx(total / unit, abs=0.051), field  # shown to 0.1
    # the technical potential's energy (screening): P50 the sum of its roofs', P90 below it
    technical = buildings["suitability"].isin(["suitable", "conditional"])
    mwh = buildings.loc[technical, "annual_kwh"].sum() / 1000.0
    assert csv.loc[CITY, "technical_annual_mwh"] == pytest.approx(mwh, abs=0.1)
    assert csv.loc[CITY, "annual_mwh"] < mwh and 0.8 * mwh < csv.loc[CITY, "technical_annual_mwh_p90"] < mwh
    assert layer["technical_annual_mwh"].sum() == pytest.approx(mwh)
    assert city[header.index("技术潜力年发电量 P50 (MWh，筛查，需普查核实后方可计入目标)")] == pytest.approx(mwh)
    shown = re.search(r"<dt>技术潜力年发电量 P50 \(GWh，筛查†\)</dt><dd>([\d,.]+)</dd>", index).group(1)
    assert float(shown) == pytest.approx(mwh / 1000, abs=0.006)
    # technical ⊇ counted; the suitable roofs already full of PV are counted and named
    assert buildings["technical_potential_kwp"].sum() > buildings["counted_potential_kwp"].sum()
    full = buildings["pv_full"].astype(bool)
    assert full.sum() == csv.loc[CITY, "pv_full"] > 0
    assert (buildings.loc[full, "suitability"] == "suitable").all() and (buildings.loc[full, "capacity_kwp"] == 0).all()


@pytest.mark.browser
@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium not installed (apt-get install chromium)")
def test_pdfs_are_a4_with_a_chinese_text_layer(evil, config, tmp_path):
    pypdf = pytest.importorskip("pypdf")
    from roofpv.report import pdf

    results, _ = evil
    files = report.make(report.from_results(results, config), config)
    printed = pdf.pdfs({k: v.decode() for k, v in files.items() if k.endswith(".html")})
    assert sorted(printed) == ["01-当湖街道.pdf", "02-xscriptalert1script.pdf", "city.pdf", "index.pdf"]
    pages = {}
    for name, data_ in printed.items():
        reader = pypdf.PdfReader(io.BytesIO(data_))
        box = reader.pages[0].mediabox
        assert (round(float(box.width)), round(float(box.height))) == (595, 842), name  # A4 in points
        pages[name] = len(reader.pages)
        text = "".join(page.extract_text() for page in reader.pages)
        assert "屋顶光伏普查报告" in text, name
        fonts = {str(f) for page in reader.pages for f in (page["/Resources"].get("/Font") or {}).values()}
        assert fonts, name
    first = pypdf.PdfReader(io.BytesIO(printed["01-当湖街道.pdf"])).pages[0].extract_text()
    assert "平湖市 当湖街道" in first and "计入潜力" in first
    # the city PDF holds the overview and every township page
    assert pages["city.pdf"] >= pages["index.pdf"] + pages["01-当湖街道.pdf"]


def test_sample_banner_on_every_page_and_in_the_geopackage(out, html):
    for name, page in html.items():
        assert '<p class="banner">示例数据' in page, name
    info = pyogrio.read_dataframe(out / "roofpv.gpkg", layer="run_info", read_geometry=False).set_index("item")
    assert info.loc["synthetic sample inputs", "value"] == "footprints.gpkg, survey.xlsx, townships.gpkg, surfaces.gpkg"


def test_jurisdiction_is_checked_against_the_townships(evil, config):
    from roofpv.config import load_config
    from roofpv.inputs.provenance import site_distance_km, site_mismatch

    results, _ = evil
    liaocheng = load_config(ROOT / "configs" / "liaocheng.yaml")
    assert site_mismatch(config, results.township_polygons) is None
    assert site_distance_km(config, results.township_polygons) < 10
    km = site_mismatch(liaocheng, results.township_polygons)
    assert 550 < km < 800  # 聊城 to 平湖, ~650 km
    elsewhere = config.model_copy(update={"site": liaocheng.site})  # Liaocheng's site, the sample's targets
    page = report.make(report.from_results(results, elsewhere), elsewhere)["index.html"].decode()
    assert "辖区不符：配置文件的辖区是聊城市" in page
    assert "辖区不符" not in report.make(report.from_results(results, config), config)["index.html"].decode()


def _internal_codes(config) -> set[str]:
    """Every code of the config's internal vocabularies: survey vocabularies, statuses,
    reasons, metrics, mountings, target names, NEA categories and export modes."""
    import typing

    from roofpv.config import Metric
    from roofpv.schema import REASONS, VOCABULARIES

    codes = {c for vocab in VOCABULARIES.values() for c in vocab} | set(REASONS) | set(typing.get_args(Metric))
    codes |= set(config.mountings) | {t.name for t in config.policy.targets}
    codes |= {c for c in config.model_dump(mode="json").get("grid", {}).get("export_modes", {})}
    return codes


def _visible_text(page: str) -> str:
    page = re.sub(r"<style>.*?</style>", " ", page, flags=re.S)
    page = re.sub(r"<code>.*?</code>", " ", page, flags=re.S)  # config keys, shown as keys
    page = re.sub(r"<metadata>.*?</metadata>", " ", page, flags=re.S)
    return re.sub(r"<[^>]+>", " ", page)


def test_no_internal_code_on_any_page(html, evil, config):
    codes = _internal_codes(config)
    assert {"party_gov", "area_total", "substitution", "roof_load", "concrete_flat"} <= codes
    for name, page in html.items():  # Chinese: no code at all
        text = _visible_text(page)
        found = {c for c in codes if re.search(rf"(?<![\w.]){re.escape(c)}(?![\w.])", text)}
        assert not found, (name, found)
    results, _ = evil
    files = report.make(report.from_results(results, config), config, "en")
    for name, page in files.items():  # English: no code with an underscore
        if name.endswith(".html"):
            text = _visible_text(page.decode())
            found = {c for c in codes if "_" in c and c in text}
            assert not found, (name, found)


def test_output_folder_name_lists_each_policy_once():
    from pathlib import Path

    from roofpv.cli.options import output_name

    config = Path("configs/pinghu.yaml")
    assert output_name(config, []) == "pinghu"
    assert output_name(config, ["pinghu", "nea_whole_county"]) == "pinghu+nea_whole_county"
    assert output_name(config, ["nea_whole_county", "x/nea_whole_county.yaml"]) == "pinghu+nea_whole_county"


def test_townships_csv_in_file_order_with_integers_and_rounded_values(out):
    csv = pd.read_csv(out / "townships.csv", encoding="utf-8-sig", dtype=str)
    assert list(csv["township"]) == [*TOWNSHIPS, CITY]  # the township file's order, city last
    assert csv["buildings"].str.fullmatch(r"\d+").all() and csv["pv_full"].str.fullmatch(r"\d+").all()
    kwp = csv["counted_potential_kwp"].str.split(".").str[1].fillna("")
    assert (kwp.str.len() <= 1).all()  # kWp to 0.1
    energy = csv["annual_mwh"].str.split(".").str[1].fillna("")
    assert (energy.str.len() <= 1).all()  # MWh to 0.1
    findings = (out / "findings.csv").read_text(encoding="utf-8-sig").splitlines()
    assert not any(re.match(r"[^,]*,[^,]*,\d+\.0,", line) for line in findings[1:])  # rows as integers


def test_findings_in_chinese_with_values_carried_over(out):
    from roofpv.findings import translate

    assert translate("roofpv used 1.961 kN/m²; write the value in kN/m²", "zh") == "roofpv 采用 1.961 kN/m²；请以 kN/m² 填写"
    assert translate("trim the cell; roofpv read it as '瓦屋面'", "zh") == "请删除多余空格；roofpv 读作“瓦屋面”"
    assert translate("fill in the cell", "en") == "fill in the cell"
    findings = pd.read_csv(out / "findings.csv", encoding="utf-8-sig")  # `plan` with the default --lang zh
    english = [t for t in pd.concat([findings["problem"], findings["fix"]]).dropna()
               if not re.search(r"[\u4e00-\u9fff]", t)]
    # the catalogue covers the messages of the sample; a message added since stays English
    assert len(findings) > 20 and len(english) <= 0.1 * len(findings), english


def test_rollout_plan_layer_has_one_row_per_building_with_its_targets(out, pinghu_results):
    layer = pyogrio.read_dataframe(out / "roofpv.gpkg", layer="rollout_plan", read_geometry=False)
    plan = pinghu_results.plan
    assert layer["building_id"].is_unique
    assert set(layer["building_id"]) == set(plan.index)
    per_building = plan.groupby(level=0)["capacity_kwp"].first()
    assert layer["capacity_kwp"].sum() == pytest.approx(per_building.sum())  # a sum counts each roof once
    served = plan.groupby(level=0)["target"].agg(set)
    listed = layer.set_index("building_id")["targets"].str.split(";").map(set)
    assert (listed == served.reindex(listed.index)).all()
    assert (listed.map(len) > 1).any()  # some roofs serve two targets


def test_workbook_has_gap_columns_per_milestone(out):
    book = openpyxl.load_workbook(out / "report" / "roofpv.xlsx", read_only=True)
    header = [c.value for c in next(book["汇总"].iter_rows(max_row=1))]
    city = next(r for r in book["汇总"].iter_rows(values_only=True) if r[0] == CITY)
    towns = pd.read_csv(out / "townships.csv", encoding="utf-8-sig").set_index("township")
    label = "新建公共机构建筑、新建厂房屋顶光伏覆盖率"
    for year in (2025, 2030):
        gap = city[header.index(f"{label} {year} 差距")]
        assert gap == pytest.approx(towns.loc[CITY, f"new_public_and_factory_gap_{year}"])
        kwp = city[header.index(f"{label} {year} 缺口 (kWp)")]
        assert kwp == pytest.approx(towns.loc[CITY, f"new_public_and_factory_gap_kwp_{year}"], abs=0.1)


@pytest.mark.browser
@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium not installed (apt-get install chromium)")
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_pages_fit_a4_between_the_margins(out, config, tmp_path, lang):
    """Laid out for print, nothing of the city page (its township table with the screening
    columns) or of a township page (three columns of map sheets) reaches past the A4
    content width, and the PDF's text stays inside the page's right margin."""
    pypdf = pytest.importorskip("pypdf")
    from roofpv.report import pdf

    render = _render_script()
    folder = report.write(report.from_folder(out, config), config, tmp_path, lang)
    for name in ("index.html", pages.page_file(1, TOWNSHIPS[0])):
        assert render.print_overflow(folder / name, render.browser()) == [], name
    printed = pdf.pdfs({name: (folder / name).read_text(encoding="utf-8")
                        for name in ("index.html", pages.page_file(1, TOWNSHIPS[0]))})
    right = (210 - 14) / 25.4 * 72 + 1  # points: the right margin of A4, 1 pt to spare
    for name, data_ in printed.items():
        xs = _text_x(pypdf.PdfReader(io.BytesIO(data_)))
        assert xs and max(xs) < right, (name, max(xs))


def _text_x(reader) -> list[float]:
    """Where every piece of text of a PDF starts, in points from the page's left edge."""
    xs = []
    for page in reader.pages:
        page.extract_text(visitor_text=lambda text, cm, tm, *_: xs.append(tm[4] * cm[0] + cm[4])
                          if text.strip() else None)
    return xs
