"""Register matching on real OpenStreetMap buildings and address nodes of Lujiazui,
Shanghai (tests/data/real/osm_lujiazui_addresses/README.md). The reference is OSM's own:
the building a name belongs to, and the building an address node was placed in."""

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from roofpv.config import Monitoring
from roofpv.monitoring.register import match, normalise

DATA = Path(__file__).parent / "data" / "real" / "osm_lujiazui_addresses"
CRS = "EPSG:4550"  # CGCS2000 3° Gauss-Krüger CM 120°E... zone 40 covers 121.5°E
pytestmark = pytest.mark.real_data


@pytest.fixture(scope="module")
def buildings():
    b = gpd.read_file(DATA / "buildings.geojson").to_crs("EPSG:4549")
    # split pieces of one OSM way share its id: number them, keep the OSM id
    b["osm_id"] = b["id"]
    b.index = pd.Index(b["id"] + "#" + b.groupby("id").cumcount().astype(str), name="building_id")
    number = b["addr_housenumber"].fillna("").str.replace("号", "")
    b["address"] = (b["addr_street"].fillna("") + number + "号").where(b["addr_street"].notna() & (number != ""))
    b["township"] = "陆家嘴街道"
    return b


def _register(rows: pd.DataFrame) -> pd.DataFrame:
    out = rows.copy()
    for col in ("building_id", "address", "project", "owner", "township", "connected"):
        if col not in out:
            out[col] = None
    out["geometry"] = None
    out["row"] = range(2, len(out) + 2)
    out["kw"] = 100.0
    return out


def test_real_names_match_their_own_building(buildings):
    """Every named OSM building given as a register project name (no id, no point)."""
    named = buildings[buildings["name"].notna()].drop_duplicates("osm_id")
    reg = _register(pd.DataFrame({"project": (named["name"] + "屋顶分布式光伏项目").to_numpy()},
                                 index=pd.Index(named["osm_id"].to_numpy(), name="system_id")))
    m, _ = match(reg, buildings, Monitoring(), "register.csv")
    m = m.drop_duplicates("system_id").set_index("system_id")
    got = buildings["name"].reindex(m["building_id"]).to_numpy()
    same_name = pd.Series(got == named.set_index("osm_id")["name"].reindex(m.index).to_numpy(), index=m.index)
    sure = m["status"] == "matched"
    # a name shared by several OSM ways (上海国际会议中心 …) may land on any of them
    assert same_name[sure].all()
    assert sure.mean() >= 0.95, f"{sure.mean():.2%} of {len(m)} real names matched surely"


def test_real_address_nodes_match_the_building_they_stand_in(buildings):
    """OSM address nodes (mapped apart from the building outline) as register addresses:
    a text match must be the building the node stands in or one with the same address."""
    nodes = gpd.read_file(DATA / "addresses.geojson").to_crs("EPSG:4549")
    nodes = nodes[nodes["addr_street"].fillna("").str.contains(r"[\u4e00-\u9fff]") & nodes["addr_housenumber"].notna()]
    nodes = nodes[~nodes["id"].isin(buildings["osm_id"])]  # not a label point of a building way
    inside = gpd.sjoin(nodes, buildings[["osm_id", "geometry"]], predicate="within").groupby(level=0)["osm_id"].first()
    text = "上海市浦东新区" + nodes["addr_street"] + nodes["addr_housenumber"].str.replace("号", "") + "号"
    reg = _register(pd.DataFrame({"address": text.to_numpy()}, index=pd.Index(nodes["id"], name="system_id")))
    m, _ = match(reg, buildings, Monitoring(), "register.csv")
    m = m.drop_duplicates("system_id").set_index("system_id")
    found = m[m["status"] != "unmatched"]
    osm = buildings["osm_id"].reindex(found["building_id"]).to_numpy()
    where = pd.Series(inside.reindex(nodes.index).to_numpy(), index=nodes["id"].to_numpy()).reindex(found.index)
    def key(text):  # the same street and number, however written
        return normalise(text).removeprefix("上海市浦东新区").replace("no", "")

    same_address = [key(x) == key(y) for x, y in zip(buildings["address"].reindex(found["building_id"]),
                                                      reg["address"].reindex(found.index))]
    right = (osm == where.to_numpy()) | same_address
    assert right.all(), found[~right]
    assert len(found) >= 3  # the nodes whose building carries their address
