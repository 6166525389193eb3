"""roofpv from Python: the per-building stages on your own GeoDataFrame, no files written.

Copy these cells into a notebook, or run ``python examples/notebook_api.py`` from the
roofpv folder. It takes the sample's footprints (any GeoDataFrame of polygons with a
CRS will do), gives a few of them survey values by hand, assesses them with and
without the DSM tiles and sums the result by category.
"""

from pathlib import Path

import geopandas as gpd

import roofpv

ROOT = Path(__file__).resolve().parents[1]

# 1. A configuration: site, module, rules, targets. Point its inputs at your files, or
#    ignore them and bring your own frames as below.
config = roofpv.load_config(ROOT / "configs" / "pinghu.yaml")

# 2. Your buildings: polygons with a CRS and an id (column `building_id` or the index).
#    Survey columns are optional; Chinese headers and values are understood.
#    Here: 200 buildings of the town centre, where the sample DSM tiles lie.
footprints = gpd.read_file(ROOT / "data" / "sample" / "footprints.gpkg").to_crs("EPSG:4549")
footprints = footprints.cx[596800:597700, 3397700:3398600].head(200)
footprints["category"] = "厂房"               # 建筑类别: factory
footprints.loc[footprints.index[:80], "roof_type"] = "彩钢瓦"   # metal_trapezoidal
footprints.loc[footprints.index[80:], "roof_type"] = "concrete_flat"

# 3. The hourly weather once (a typical year), then assess. `dsm=` a folder of DSM
#    GeoTIFF tiles measures roof planes and shading where the tiles cover a roof.
weather = roofpv.hourly_weather(config)
buildings = roofpv.assess(footprints, config, weather=weather)
measured = roofpv.assess(footprints, config, weather=weather, dsm=ROOT / "data" / "sample_tiles")

# 4. Ordinary GeoDataFrames: filter, group, plot, write.
summary = buildings.groupby("suitability")[["capacity_kwp", "annual_kwh"]].sum()
print(summary.round(0))
print(f"{len(buildings)} buildings: {buildings['capacity_kwp'].sum() / 1000:.2f} MWp, "
      f"{buildings['annual_kwh'].sum() / 1e6:.2f} GWh/yr without DSM; "
      f"{measured['capacity_kwp'].sum() / 1000:.2f} MWp, "
      f"{measured['annual_kwh'].sum() / 1e6:.2f} GWh/yr with DSM "
      f"({(measured['roof_form_source'] == 'dsm').sum()} roofs measured)")
print(f"input findings: {len(buildings.attrs['findings'])}")
