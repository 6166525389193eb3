"""The report's SVG charts and map helpers, drawn without a plotting library: well-formed,
escaped, to scale, laid out with the font's own widths; and the report path stays free
of the plotting and DSM stacks."""

import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from fontTools.ttLib import TTFont

from roofpv.report import charts, fonts, maps

from .conftest import ROOT

SVG = "{http://www.w3.org/2000/svg}"
EVIL = "<script>alert(1)</script>"


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # raises on markup an input could have broken


def _bars(root: ET.Element, colour: str) -> list[dict]:
    return [r.attrib for r in root.iter(f"{SVG}rect") if r.get("fill") == colour]


def _texts(root: ET.Element) -> list[str]:
    return [t.text for t in root.iter(f"{SVG}text")]


def test_text_width_is_the_fonts_advance_widths():
    font = TTFont(fonts.font_path())
    cmap, hmtx, em = font.getBestCmap(), font["hmtx"].metrics, font["head"].unitsPerEm
    for sample in ("平湖市", "Generation (GWh)", "12,345.6%"):
        expected = sum(hmtx[cmap[ord(c)]][0] for c in sample) / em * 10
        assert fonts.text_width(sample, 10) == pytest.approx(expected)
    assert fonts.text_width("平湖", 9) == pytest.approx(18.0)  # CJK characters are 1 em wide
    assert fonts.text_width("\U0001F600", 10) == pytest.approx(10 * fonts.FALLBACK_EM)


@pytest.mark.parametrize(("top", "most", "ticks"), [
    (0.70, 10, [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]),
    (0.29, 10, [0, 0.05, 0.1, 0.15, 0.2, 0.25]),
    (373.0, 4, [0, 100, 200, 300]),
    (42_500.0, 4, [0, 10_000, 20_000, 30_000, 40_000]),
    (1.0, 4, [0, 0.25, 0.5, 0.75, 1.0]),
    (0.0, 4, [0, 0.25, 0.5, 0.75, 1.0]),  # nothing to show: the unit range
    (float("nan"), 4, [0, 0.25, 0.5, 0.75, 1.0]),
])
def test_nice_ticks(top, most, ticks):
    got, decimals = charts.nice_ticks(top, most)
    assert got.tolist() == pytest.approx(ticks)
    assert len(got) - 1 <= most
    assert all(float(f"{v:.{decimals}f}") == pytest.approx(v) for v in got)  # enough decimals


def test_wrap_breaks_between_words_and_chinese_characters():
    title = "新建公共机构建筑、新建厂房屋顶光伏覆盖率 (光伏面积 ÷ 屋面总面积)"
    lines = charts.wrap(title, 10, 120)
    assert "".join(lines).replace(" ", "") == title.replace(" ", "") and len(lines) == 3
    assert all(fonts.text_width(line, 10) <= 120 and line == line.strip() for line in lines)
    english = charts.wrap("roofs of new public buildings and new factories", 10, 120)
    assert " ".join(english) == "roofs of new public buildings and new factories"
    assert all(fonts.text_width(line, 10) <= 120 for line in english)
    assert charts.wrap("x" * 200, 10, 50)  # a word wider than the line is cut
    assert charts.wrap("", 10, 50) == []


def _target(label: str) -> SimpleNamespace:
    return SimpleNamespace(name="new_public", label=label, metric="area_share")


def test_coverage_chart_bars_to_scale_milestones_coloured_labels_escaped():
    from roofpv.targets.milestones import COLOURS

    rows = [{"target": _target(EVIL), "today": 0.1, "potential": 0.4,
             "milestones": [(2025, 0.3, "missed"), (2030, 0.5, "unreachable")]},
            {"target": _target("城镇新建建筑"), "today": float("nan"), "potential": 0.2,
             "milestones": [(2030, 0.12, "on_track")]}]
    svg = charts.coverage_chart(rows, "zh")
    assert "<script" not in svg and "&lt;script&gt;" in svg
    root = _parse(svg)
    today, potential = _bars(root, charts.TODAY), _bars(root, charts.POTENTIAL)
    assert len(today) == len(potential) == 2
    assert float(potential[0]["width"]) / float(today[0]["width"]) == pytest.approx(4.0, rel=0.01)
    assert float(today[1]["width"]) == 0  # empty cohort: no bar, a dash
    texts = _texts(root)
    assert "10.0%" in texts and "–" in texts
    assert "2025 目标 30% 未达成" in texts
    lines = {(ln.get("stroke"), ln.get("stroke-dasharray")) for ln in root.iter(f"{SVG}line")}
    assert (COLOURS["missed"], "4 2") in lines and (COLOURS["on_track"], None) in lines
    assert {"0%", "10%", "20%", "30%", "40%", "50%", "60%"} <= set(texts)
    width = float(root.get("viewBox").split()[2])
    assert all(float(t.get("x")) <= width for t in root.iter(f"{SVG}text"))


def test_category_chart_bars_to_scale_and_names_escaped():
    table = pd.DataFrame({"capacity_mwp": [300.0, 20.0, 0.5], "generation_gwh": [320.0, 23.0, 0.6]},
                         index=["factory", EVIL, "rural_residential"])
    svg = charts.category_chart(table, "zh")
    assert "<script" not in svg and "&lt;script&gt;" in svg
    root = _parse(svg)
    capacity = _bars(root, charts.POTENTIAL)
    assert [float(r["width"]) / float(capacity[0]["width"]) for r in capacity] == pytest.approx(
        [1, 20 / 300, 0.5 / 300], abs=0.001)  # to 0.1 pt
    assert float(capacity[0]["y"]) < float(capacity[1]["y"])  # largest first, at the top
    texts = _texts(root)
    assert {"工业厂房", "农村住宅", "300.0", "320.0"} <= set(texts)
    _parse(charts.category_chart(table.iloc[:0], "en"))  # no suitable roof: empty axes
    long = charts.category_chart(table.rename(index={EVIL: "x" * 300}), "zh")
    names = [t for t in _texts(_parse(long)) if t.startswith("x")]
    assert names and names[0].endswith("…") and fonts.text_width(names[0], charts.LABEL) <= charts.WIDTH / 3
    assert all(float(r["width"]) > 50 for r in _bars(_parse(long), charts.POTENTIAL)[:1])  # room for the bars


def test_monthly_chart_bars_to_scale():
    mwh = np.array([24, 25, 33, 38, 40, 37, 40, 41, 32, 29, 24, 25], float) * 1000
    root = _parse(charts.monthly_chart(mwh, "zh"))
    bars = _bars(root, charts.MONTHLY)
    heights = np.array([float(b["height"]) for b in bars])
    assert heights / heights[7] == pytest.approx(mwh / mwh[7], abs=0.01)
    bottoms = {round(float(b["y"]) + float(b["height"]), 1) for b in bars}
    assert len(bottoms) == 1  # one baseline
    texts = _texts(root)
    assert {"1月", "12月", "40,000", "发电量 (MWh)"} <= set(texts)
    assert _bars(_parse(charts.monthly_chart(np.zeros(12), "en")), charts.MONTHLY)


def test_sheet_clusters_as_image_labelling():
    """The sheets' clusters are the 8-connected components of the occupied cells, as an
    image-labelling routine (scipy.ndimage.label) finds them."""
    ndimage = pytest.importorskip("scipy.ndimage")
    rng = np.random.default_rng(7)
    for _ in range(100):
        cells = rng.integers(0, rng.integers(2, 25), size=(rng.integers(1, 200), 2))
        grid = np.zeros(cells.max(axis=0) + 1, bool)
        grid[cells[:, 0], cells[:, 1]] = True
        labels, n = ndimage.label(grid, structure=np.ones((3, 3)))
        got, m = maps.clusters(cells)
        assert m == n and (got == labels[cells[:, 0], cells[:, 1]] - 1).all()
    assert maps.clusters(np.array([[0, 0], [1, 1], [3, 3]]))[0].tolist() == [0, 0, 1]  # corners touch


def test_report_path_loads_no_plotting_or_dsm_stack():
    code = ("import sys; import roofpv.cli.report, roofpv.report, roofpv.fieldwork.completeness, roofpv.report.pdf; "
            "print(' '.join(m for m in ('matplotlib', 'scipy', 'pvlib', 'rasterio') if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == ""


def test_map_text_is_escaped_and_haloed():
    text = maps._text(5, 5, EVIL)
    assert "<script" not in text and "&lt;script&gt;" in text and 'paint-order="stroke"' in text
    assert re.fullmatch(r"<text [^<>]*>[^<>]*</text>", text)


def test_coverage_chart_shows_the_screening_coverage_as_a_third_bar():
    rows = [{"target": _target("整县推进"), "today": 0.05, "potential": 0.0, "technical": 0.45,
             "milestones": [(2025, 0.5, "unreachable")]}]
    root = _parse(charts.coverage_chart(rows, "zh"))
    today, screening = _bars(root, charts.TODAY), _bars(root, charts.SCREENING)
    assert len(screening) == 1
    assert float(screening[0]["width"]) / float(today[0]["width"]) == pytest.approx(9.0, rel=0.01)
    assert {"5.0%", "0.0%", "45.0%", "筛查†（适宜＋有条件适宜屋顶）"} <= set(_texts(root))
    # rows without the screening coverage (an output written before it existed): two bars
    old = [{k: v for k, v in rows[0].items() if k != "technical"}]
    assert _bars(_parse(charts.coverage_chart(old, "zh")), charts.SCREENING) == []


def test_map_sheets_are_clipped_to_their_frame():
    """Roofs straddling a sheet's edge are drawn through a clipPath of the sheet's box, so
    nothing of one sheet shows on its neighbours (Chromium draws an SVG's overflow)."""
    import geopandas as gpd
    import shapely

    x, y = np.meshgrid(np.arange(0, 1200, 25.0), np.arange(0, 600, 25.0))
    roofs = shapely.box(x.ravel(), y.ravel(), x.ravel() + 18, y.ravel() + 12)
    b = gpd.GeoDataFrame({"suitability": "suitable"}, geometry=roofs, crs="EPSG:4549",
                         index=pd.Index([f"b{i}" for i in range(len(roofs))], name="building_id"))
    words = {"sheet": "图幅", "north": "北", "m": "米", "km": "千米", "overview": "总图"}
    atlas = maps.township_atlas(b, None, {}, words)
    assert len(atlas.sheets) >= 2
    ids = set()
    for letter, svg in [("overview", atlas.overview), *atlas.sheets]:
        root = _parse(svg)
        _, _, width, height = root.get("viewBox").split()
        (clip,) = root.iter(f"{SVG}clipPath")
        (rect,) = clip.iter(f"{SVG}rect")
        assert (rect.get("width"), rect.get("height")) == (width, height), letter
        ids.add(clip.get("id"))
        # every drawing hangs under the clipped group; only the frame's background is outside
        (group,) = [g for g in root if g.tag == f"{SVG}g"]
        assert group.get("clip-path") == f"url(#{clip.get('id')})"
        assert [e.tag for e in root if e not in (group,)] == [f"{SVG}rect", f"{SVG}defs"]
        paths = [p.get("d") for p in group.iter(f"{SVG}path") if "roof" in (p.get("class") or "")]
        coords = np.array([float(v) for d in paths for v in re.findall(r"-?\d+(?:\.\d+)?", d)])
        if letter != "overview":  # roofs reach past the edge: the clip is what keeps them in
            assert coords.max() > float(width) or coords.min() < 0, letter
    assert len(ids) == len(atlas.sheets) + 1  # unique on the page
