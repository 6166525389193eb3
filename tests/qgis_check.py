"""Open roofpv's GeoPackage and QGIS project with PyQGIS; print what QGIS sees as JSON.

Runs under the Python that QGIS is built for (Debian: ``/usr/bin/python3`` with
``python3-qgis``), not roofpv's virtualenv; ``tests/test_qgis.py`` calls it::

    python3 tests/qgis_check.py OUT/roofpv.gpkg OUT/roofpv.qgz IMAGE_DIR

For each GeoPackage layer (opened as QGIS opens it, default style from the
GeoPackage): validity, feature count, CRS, renderer type and classes, labels, aliases
and the styles stored for it. For the project: its layers in drawing order and their
validity. Two map images are rendered offscreen: every project layer (PNG saved), and
the buildings layer alone, whose pixels are counted by colour.
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.core import (
    Qgis,
    QgsApplication,
    QgsMapRendererParallelJob,
    QgsMapSettings,
    QgsProject,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor

SIZE = 600
BACKGROUND = (255, 255, 255)


def describe(layer: QgsVectorLayer) -> dict:
    renderer = layer.renderer()
    out = {
        "valid": layer.isValid(), "features": layer.featureCount(), "crs": layer.crs().authid(),
        "renderer": renderer.type() if renderer else None,
        "labels": (layer.labeling().settings().fieldName
                   if layer.labelsEnabled() and layer.labeling() else None),
        "aliases": {f.name(): layer.attributeAlias(i) for i, f in enumerate(layer.fields())
                    if layer.attributeAlias(i)},
    }
    if out["renderer"] == "categorizedSymbol":
        out["attribute"] = renderer.classAttribute()
        out["categories"] = [str(c.value()) for c in renderer.categories()]
        out["colors"] = [c.symbol().color().name() for c in renderer.categories()]
    elif out["renderer"] == "graduatedSymbol":
        out["attribute"] = renderer.classAttribute()
        out["ranges"] = [[r.lowerValue(), r.upperValue()] for r in renderer.ranges()]
    elif out["renderer"] == "singleSymbol":
        out["color"] = renderer.symbol().color().name()
    out["related_styles"] = layer.listStylesInDatabase()[0]  # stored for this layer
    out["scale_visibility"] = [layer.hasScaleBasedVisibility(), layer.minimumScale(), layer.maximumScale()]
    if layer.labelsEnabled() and layer.labeling():
        out["label_font"] = layer.labeling().settings().format().font().family()
    return out


def render(layers: list, extent, crs, path: str | None = None):
    settings = QgsMapSettings()
    settings.setLayers(layers)
    settings.setDestinationCrs(crs)
    settings.setExtent(extent)
    settings.setOutputSize(QSize(SIZE, SIZE))
    settings.setBackgroundColor(QColor(*BACKGROUND))
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    image = job.renderedImage()
    if path:
        image.save(path, "PNG")
    colors = Counter(
        QColor(image.pixel(x, y)).getRgb()[:3] for x in range(image.width()) for y in range(image.height())
    )
    return image, colors


def near(colors: Counter, rgb, tolerance: int = 12) -> int:
    """Pixels whose colour is within ``tolerance`` of ``rgb`` or of its outline shade (80 %)."""
    shades = (rgb, tuple(int(c * 0.8) for c in rgb))
    return sum(n for c, n in colors.items()
               if any(max(abs(a - b) for a, b in zip(c, s)) <= tolerance for s in shades))


def main(gpkg: str, qgz: str, image_dir: str) -> dict:
    QgsApplication.setPrefixPath("/usr", True)
    app = QgsApplication([], False)
    app.initQgis()
    report = {"qgis": Qgis.version(), "layers": {}, "project": {}}

    layers = {}
    for name in ("transformers", "pv_arrays", "roof_planes", "facades", "unmatched_roofs", "rollout_plan", "buildings",
                 "surfaces", "transformer_areas", "townships"):
        layer = QgsVectorLayer(f"{gpkg}|layername={name}", name, "ogr")
        if layer.isValid():
            layers[name] = layer
        report["layers"][name] = describe(layer) if layer.isValid() else {"valid": False}

    # Buildings alone, zoomed on the largest building of each category: its pixels
    # show the category's colour when the stored style is what QGIS draws.
    b = layers["buildings"]
    field = report["layers"]["buildings"].get("attribute")
    largest = {}
    for f in b.getFeatures():
        value, area = f[field] if field else None, f.geometry().area()
        if value not in largest or area > largest[value][0]:
            largest[value] = (area, f.geometry().boundingBox())
    report["buildings_images"] = {}
    for value, color in zip(report["layers"]["buildings"].get("categories", []),
                            report["layers"]["buildings"].get("colors", [])):
        if value not in largest:
            continue
        image, colors = render([b], largest[value][1], b.crs())
        report["buildings_images"][value] = {
            "size": [image.width(), image.height()], "color": color,
            "pixels_of_color": colors.get(QColor(color).getRgb()[:3], 0),
        }

    project = QgsProject.instance()
    ok = project.read(qgz)
    order = project.layerTreeRoot().layerOrder()
    report["project"] = {
        "read": ok, "crs": project.crs().authid(), "title": project.title(),
        "layers": [{"name": lyr.name(), "source": lyr.source(), "valid": lyr.isValid(),
                    "renderer": lyr.renderer().type() if lyr.renderer() else None,
                    "scale_visibility": [lyr.hasScaleBasedVisibility(), lyr.minimumScale(), lyr.maximumScale()]}
                   for lyr in order],
    }
    # the map as the project opens: its saved extent, every layer QGIS draws at that scale
    canvas = QgsMapSettings()
    canvas.setDestinationCrs(project.crs())
    canvas.setOutputSize(QSize(SIZE, SIZE))
    extent = project.viewSettings().defaultViewExtent() if hasattr(project, "viewSettings") else None
    if extent is None or extent.isEmpty():
        extent = layers["townships"].extent() if "townships" in layers else b.extent()
    canvas.setExtent(extent)
    scale = canvas.scale()
    drawn = [lyr for lyr in order if lyr.isInScaleRange(scale)]
    path = os.path.join(image_dir, "roofpv_project.png")
    image, colors = render(drawn, extent, project.crs(), path)
    status_colors = dict(zip(report["layers"]["buildings"].get("categories", []),
                             report["layers"]["buildings"].get("colors", [])))
    report["project_image"] = {
        "path": path, "size": [image.width(), image.height()], "scale": scale,
        "drawn": [lyr.source().rsplit("layername=", 1)[-1] for lyr in drawn],
        "background_pixels": colors.get(BACKGROUND, 0), "colors": len(colors),
        "status_pixels": {s: near(colors, QColor(c).getRgb()[:3]) for s, c in status_colors.items()},
    }
    return report


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:4]), ensure_ascii=False), flush=True)
    # PyQGIS 3.22 can crash tearing down layers at interpreter exit; the report is out.
    os._exit(0)
