"""A province run: two counties made of the sample's townships, each with its own
townships layer (another CRS and name column for the second). The county and province
rows are checked against sums computed here from the buildings layer: capacities and
energy add up, coverage is a ratio of area sums (not a mean of the townships' ratios),
a county reaches a milestone only when each of its townships does."""

import contextlib
import io

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest

from roofpv.cli import main
from roofpv.config import load_config
from roofpv.errors import ConfigError, InputError
from roofpv.inputs import jurisdictions
from roofpv.schema import CITY, PROVINCE_LAYER_FIELDS

from .conftest import ROOT

EAST, WEST, PROVINCE = "东县", "西县", "示例省"


def write_province(folder, west_file="west.gpkg", west_column="name"):
    """Two counties of the sample's townships: the first four in CGCS2000 lon/lat named
    by ``township``, the other five in a projected CRS named by ``name``."""
    towns = gpd.read_file(ROOT / "data" / "sample" / "townships.gpkg")
    towns.iloc[:4].to_file(folder / "east.gpkg")
    towns.iloc[4:].rename(columns={"township": "name"}).to_crs("EPSG:4549").to_file(folder / "west.gpkg")
    config = folder / "province.yaml"
    config.write_text(f"""extends: {(ROOT / "configs" / "pinghu.yaml").as_posix()}
inputs:
  townships: null
dsm:
  tiles: null
province:
  name: {PROVINCE}
  counties:
    - name: {EAST}
      townships: east.gpkg
    - name: {WEST}
      townships: {west_file}
      townships_name_column: {west_column}
""", encoding="utf-8")
    return config, towns


@pytest.fixture(scope="module")
def province(tmp_path_factory):
    folder = tmp_path_factory.mktemp("province")
    config, towns = write_province(folder)
    out = folder / "out"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(["survey", str(config), "--out", str(out)]) == 0
    return out, load_config(config), towns, printed.getvalue()


def test_the_terminal_summarises_a_province_by_county(province):
    """The terminal's tables are per county (a province has thousands of townships);
    the townships are named in the note under them, not row by row."""
    out, config, towns, printed = province
    assert "分县汇总" in printed and "分镇街道汇总" not in printed
    assert f"{len(towns):,} 个镇街道的分项结果见 townships.csv" in printed
    assert all(name in printed for name in (EAST, WEST, PROVINCE))
    assert not any(name in printed for name in towns["township"])


def test_county_and_province_rows_are_the_sums_of_their_buildings(province):
    out, config, towns, _ = province
    b = pyogrio.read_dataframe(out / "roofpv.gpkg", layer="buildings", read_geometry=False)
    counties = pd.read_csv(out / "counties.csv", encoding="utf-8-sig").set_index("county")
    townships = pd.read_csv(out / "townships.csv", encoding="utf-8-sig").set_index("township")
    assert list(counties.index) == [EAST, WEST, PROVINCE]
    expected = {**dict.fromkeys(towns["township"].iloc[:4], EAST), **dict.fromkeys(towns["township"].iloc[4:], WEST)}
    assert b["county"].eq(b["township"].map(expected)).all()
    assert townships["county"].drop(CITY).to_dict() == expected and townships.at[CITY, "county"] == PROVINCE
    suitable = b["suitability"] == "suitable"
    by = b.assign(level=b["county"])
    for county, rows in [*by.groupby("level"), (PROVINCE, b)]:
        row, ok = counties.loc[county], suitable[rows.index]
        assert row["buildings"] == len(rows)
        assert row["suitable"] == ok.sum()
        assert row["counted_potential_kwp"] == pytest.approx(rows["capacity_kwp"][ok].sum(), abs=0.051)
        assert row["technical_potential_kwp"] == pytest.approx(rows["technical_potential_kwp"].sum(), abs=0.051)
        assert row["annual_mwh"] == pytest.approx(rows["annual_kwh"][ok].sum() / 1000, abs=0.051)
        assert row["existing_pv_kw"] == pytest.approx(rows["existing_pv_kw"].sum(), abs=0.051)
    for column in ("buildings", "suitable", "counted_potential_kwp", "annual_mwh"):
        assert counties.loc[[EAST, WEST], column].sum() == pytest.approx(counties.at[PROVINCE, column], abs=0.11)
    # the province row is the township table's whole-run row
    shared = counties.columns.intersection(townships.columns)
    pd.testing.assert_series_equal(counties.loc[PROVINCE, shared], townships.loc[CITY, shared], check_names=False)


def test_county_coverage_is_a_ratio_of_area_sums_not_a_mean_of_township_ratios(province):
    out, config, _, _ = province
    b = pyogrio.read_dataframe(out / "roofpv.gpkg", layer="buildings", read_geometry=False)
    counties = pd.read_csv(out / "counties.csv", encoding="utf-8-sig").set_index("county")
    townships = pd.read_csv(out / "townships.csv", encoding="utf-8-sig").set_index("township")
    target = next(t for t in config.policy.targets if t.metric == "area_total")
    cohort = b[b["category"].isin(target.categories) & (b["year_built"] >= target.built_since)]
    p = f"{target.name}_"
    for county, rows in cohort.groupby("county"):
        roof = rows["roof_area_m2"].sum()
        today = rows["existing_pv_area_m2"].fillna(0).sum() / roof
        added = rows["pv_area_m2"].where(rows["suitability"] == "suitable", 0.0).sum()
        assert counties.at[county, p + "coverage_today"] == pytest.approx(today, rel=1e-9)
        assert counties.at[county, p + "coverage_potential"] == pytest.approx(today + added / roof, rel=1e-9)
        mean_of_ratios = townships.loc[townships["county"] == county, p + "coverage_today"].mean()
        assert abs(mean_of_ratios - today) > 1e-4  # the sample's townships differ in size
        assert counties.at[county, p + "denominator"] == pytest.approx(roof, rel=1e-9)


def test_a_county_reaches_a_milestone_when_each_of_its_townships_does(province):
    out, config, _, _ = province
    counties = pd.read_csv(out / "counties.csv", encoding="utf-8-sig", keep_default_na=False).set_index("county")
    townships = pd.read_csv(out / "townships.csv", encoding="utf-8-sig", keep_default_na=False).set_index("township")
    for target in config.policy.targets:
        for year in target.milestones:
            short = townships[f"{target.name}_binding_{year}"].drop(CITY) != ""
            for county in (EAST, WEST):
                n = int(short[townships["county"].drop(CITY) == county].sum())
                assert counties.at[county, f"{target.name}_binding_{year}"] == (f"{n} short" if n else "")
                status = counties.at[county, f"{target.name}_status_{year}"]
                assert status in ("met", "missed", "unreachable") if n else status != "unreachable"


def test_province_layers_report_workbook_and_compare(province, tmp_path):
    out, config, towns, _ = province
    gpkg = out / "roofpv.gpkg"
    fields = list(pyogrio.read_info(gpkg, layer="counties")["fields"])
    townships = list(pyogrio.read_info(gpkg, layer="townships")["fields"])
    assert fields == ["county", *townships[2:]]  # the township table's columns, county for township
    assert set(PROVINCE_LAYER_FIELDS["counties"]) <= set(fields)
    layer = pyogrio.read_dataframe(gpkg, layer="counties")
    assert list(layer["county"]) == [EAST, WEST]
    west = towns.iloc[4:].to_crs(layer.crs).union_all().area
    assert layer.set_index("county").geometry[WEST].area == pytest.approx(west, rel=1e-6)
    buildings = list(pyogrio.read_info(gpkg, layer="buildings")["fields"])
    assert buildings[buildings.index("township_source") + 1] == "county"
    assert list(pyogrio.read_info(gpkg, layer="townships")["fields"])[:2] == ["township", "county"]

    index = (out / "report" / "index.html").read_text(encoding="utf-8")
    assert f"{PROVINCE} 全省概况" in index and "各县(市、区)目标进展" in index
    assert 'href="county-01-东县.html"' in index and 'href="county-02-西县.html"' in index
    page = (out / "report" / "county-02-西县.html").read_text(encoding="utf-8")
    assert all(name in page for name in towns["township"].iloc[4:])
    assert not any(f">{name}<" in page for name in towns["township"].iloc[:4])
    assert "← 返回全省概况" in page
    from openpyxl import load_workbook

    sheet = load_workbook(out / "report" / "roofpv.xlsx", read_only=True)["各县汇总"]
    rows = list(sheet.iter_rows(values_only=True))
    assert [r[0] for r in rows] == ["县(市、区)", EAST, WEST, PROVINCE]

    assert main(["compare", str(out), str(out), "--out", str(tmp_path / "cmp"), "--quiet"]) == 0
    compared = pd.read_csv(tmp_path / "cmp" / "compare_counties.csv", encoding="utf-8-sig").set_index("county")
    counties = pd.read_csv(out / "counties.csv", encoding="utf-8-sig").set_index("county")
    assert list(compared.index) == [EAST, WEST, PROVINCE]
    assert (compared["kw_new"] - counties["existing_pv_kw"]).abs().max() < 0.051
    assert (compared["new_systems"] == 0).all()
    assert "县(市、区)" in (tmp_path / "cmp" / "compare.html").read_text(encoding="utf-8")


def test_a_township_name_in_two_counties_is_refused_naming_both(tmp_path):
    config, _ = write_province(tmp_path, west_file="east.gpkg", west_column="township")
    with pytest.raises(InputError, match=f"of county '{WEST}' is also a township of '{EAST}'"):
        jurisdictions.read_townships(load_config(config))


def test_townships_given_twice_are_a_config_error(tmp_path):
    config, _ = write_province(tmp_path)
    text = config.read_text(encoding="utf-8").replace("  townships: null\n", "  townships: east.gpkg\n", 1)
    config.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match="inputs.townships and province.counties both name townships"):
        load_config(config)
    config.write_text(text.replace("  counties:\n", "  counties_layer: east.gpkg\n  counties:\n"), encoding="utf-8")
    with pytest.raises(ConfigError, match="give either counties .* or counties_layer"):
        load_config(config)


@pytest.mark.slow
def test_a_partitioned_province_run_gives_the_one_piece_tables(province, tmp_path):
    out, config, _, _ = province
    parts = tmp_path / "parts"
    assert main(["survey", str(config.source_path), "--out", str(parts), "--quiet", "--no-report",
                 "--partitions", "3"]) == 0
    for name in ("counties.csv", "townships.csv"):
        assert (parts / name).read_bytes() == (out / name).read_bytes()
    one, three = (pyogrio.read_dataframe(o / "roofpv.gpkg", layer="buildings", read_geometry=False)
                  for o in (out, parts))
    pd.testing.assert_frame_equal(one, three)


def test_a_counties_layer_places_the_province_townships_in_counties(tmp_path):
    towns = gpd.read_file(ROOT / "data" / "sample" / "townships.gpkg")
    counties = gpd.GeoDataFrame({"名称": [EAST, WEST]}, geometry=[
        towns.geometry.iloc[:4].union_all().buffer(0.001), towns.geometry.iloc[4:8].union_all()], crs=towns.crs)
    counties.to_crs("EPSG:4549").to_file(tmp_path / "counties.gpkg")  # another CRS than the townships'
    (tmp_path / "province.yaml").write_text(f"""extends: {(ROOT / "configs" / "pinghu.yaml").as_posix()}
province:
  name: {PROVINCE}
  counties_layer: counties.gpkg
  counties_name_column: 名称
""", encoding="utf-8")
    config = load_config(tmp_path / "province.yaml")
    polygons, findings = jurisdictions.read_townships(config)
    names = list(towns["township"])
    assert polygons["county"].to_dict() == {**dict.fromkeys(names[:4], EAST), **dict.fromkeys(names[4:8], WEST),
                                            names[8]: jurisdictions.UNKNOWN}
    lost = [f for f in findings if f.value == names[8]]
    assert len(lost) == 1 and "lies in no county" in lost[0].problem and lost[0].file.endswith("counties.gpkg")
    assert config.province.counties_layer in jurisdictions.township_files(config)
