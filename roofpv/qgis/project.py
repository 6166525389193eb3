"""The QGIS project that opens the GeoPackage: layer order, CRS, extent and styles.

:func:`project_xml` returns the ``.qgs`` document; :func:`roofpv.io.writers.write_qgis_project`
zips it into a ``.qgz`` next to the GeoPackage. Layers point at the GeoPackage by a
relative path (``./roofpv.gpkg|layername=…``), so the folder can be moved or shared,
and each carries its default style, so the project looks like the GeoPackage.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from roofpv.qgis.styles import QGIS_VERSION

#: Draw order, top first: arrays over planes over planned roofs over buildings over townships.
DRAWING_ORDER = ("transformers", "pv_arrays", "roof_planes", "facades", "unmatched_roofs", "rollout_plan", "buildings",
                 "surfaces", "transformer_areas", "townships", "counties")
#: Names shown in the QGIS layer panel.
LAYER_TITLES = {
    "pv_arrays": "光伏阵列 PV arrays", "roof_planes": "屋面 roof planes",
    "rollout_plan": "推进计划 rollout plan", "buildings": "建筑 buildings",
    "townships": "镇街道 townships", "unmatched_roofs": "无轮廓屋顶 roofs without footprint",
    "surfaces": "周边场地 surfaces beyond roofs",
    "transformers": "台区变压器 transformers",
    "transformer_areas": "台区供电范围 transformer service areas",
    "counties": "县(市、区) counties",
}


def _text(parent: ET.Element, tag: str, text: str, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, attrs)
    el.text = text
    return el


def _srs(parent: ET.Element, crs: str, wkt: str) -> None:
    srs = ET.SubElement(parent, "spatialrefsys", nativeFormat="Wkt")
    _text(srs, "wkt", wkt)
    _text(srs, "authid", crs)


def project_xml(title: str, gpkg_name: str, layers: list[str], crs: str, crs_wkt: str,
                extent: tuple[float, float, float, float], styles: dict[str, str]) -> str:
    """The ``.qgs`` document.

    Parameters
    ----------
    title : project title
    gpkg_name : file name of the GeoPackage, in the project's folder
    layers : layer names present in the GeoPackage (drawn in :data:`DRAWING_ORDER`)
    crs, crs_wkt : project CRS, e.g. ``EPSG:4549``, and its WKT (QGIS reads the WKT)
    extent : (xmin, ymin, xmax, ymax) the map opens on, in ``crs``
    styles : default QML document per layer (its renderer, labels and aliases are
        copied into the layer)
    """
    ordered = [n for n in DRAWING_ORDER if n in layers] + [n for n in layers if n not in DRAWING_ORDER]
    ids = {n: f"{n}_roofpv" for n in ordered}
    root = ET.Element("qgis", projectname=title, version=QGIS_VERSION)
    _text(root, "title", title)
    ET.SubElement(root, "homePath", path="")
    _srs(ET.SubElement(root, "projectCrs"), crs, crs_wkt)

    tree = ET.SubElement(root, "layer-tree-group")
    ET.SubElement(tree, "customproperties")
    for n in ordered:
        ET.SubElement(tree, "layer-tree-layer", id=ids[n], name=LAYER_TITLES.get(n, n),
                      source=f"./{gpkg_name}|layername={n}", providerKey="ogr",
                      checked="Qt::Checked", expanded="0")
    order = ET.SubElement(tree, "custom-order", enabled="0")
    for n in ordered:
        _text(order, "item", ids[n])

    canvas = ET.SubElement(root, "mapcanvas", name="theMapCanvas", annotationsVisible="1")
    _text(canvas, "units", "meters")
    box = ET.SubElement(canvas, "extent")
    for tag, value in zip(("xmin", "ymin", "xmax", "ymax"), extent):
        _text(box, tag, repr(float(value)))
    _text(canvas, "rotation", "0")
    _srs(ET.SubElement(canvas, "destinationsrs"), crs, crs_wkt)

    project_layers = ET.SubElement(root, "projectlayers")
    for n in ordered:
        layer = ET.SubElement(project_layers, "maplayer", type="vector", geometry="Polygon",
                              labelsEnabled="0", styleCategories="AllStyleCategories")
        _text(layer, "id", ids[n])
        _text(layer, "datasource", f"./{gpkg_name}|layername={n}")
        _text(layer, "layername", LAYER_TITLES.get(n, n))
        _srs(ET.SubElement(layer, "srs"), crs, crs_wkt)
        _text(layer, "provider", "ogr", encoding="UTF-8")
        if n in styles:
            style = ET.fromstring(styles[n])
            for key in ("labelsEnabled", "hasScaleBasedVisibilityFlag", "minScale", "maxScale"):
                if style.get(key) is not None:
                    layer.set(key, style.get(key))
            layer.extend(c for c in style if c.tag != "layerGeometryType")

    props = ET.SubElement(root, "properties")
    paths = ET.SubElement(props, "Paths")
    _text(paths, "Absolute", "false", type="bool")
    srs = ET.SubElement(props, "SpatialRefSys")
    _text(srs, "ProjectionsEnabled", "1", type="int")
    _text(srs, "ProjectCrs", crs, type="QString")
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + ET.tostring(
        root, encoding="unicode"
    )
