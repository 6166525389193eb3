"""The output layers hold exactly the columns declared in roofpv/schema.py, in the
declared order, each with a unit, a Chinese alias and a meaning; docs/columns.md is
generated from the same declaration."""

import re
import subprocess
import sys

import pyogrio
import pytest

from roofpv.config import load_config
from roofpv.run.pipeline import CONCLUDE_COLUMNS
from roofpv.schema import FIELDS, LAYER_FIELDS, TARGET_FIELDS, field_alias

from .conftest import ROOT


def expected(layer: str, found: list[str], targets: list[str]) -> list[str]:
    """The declared columns of ``layer`` with the per-target ones where they go."""
    declared = list(LAYER_FIELDS[layer])
    if layer == "buildings":
        at = declared.index("overlap_share") + 1
        declared[at:at] = [f"cohort_{t}" for t in targets]
    if layer == "townships":
        per_target = [c for c in found if any(c.startswith(f"{t}_") for t in targets)]
        declared += per_target
    return declared


@pytest.mark.parametrize("layer", list(LAYER_FIELDS))
def test_layers_hold_the_declared_columns_in_order(pinghu_cli_out, layer):
    config = load_config(ROOT / "configs" / "pinghu.yaml")
    targets = [t.name for t in config.policy.targets]
    labels = {t.name: t.label for t in config.policy.targets}
    found = list(pyogrio.read_info(pinghu_cli_out / "roofpv.gpkg", layer=layer)["fields"])
    assert found == expected(layer, found, targets)
    for column in found:
        assert field_alias(column, labels), column
        suffix = next((column[len(t) + 1:] for t in targets if column.startswith(f"{t}_")), None)
        if suffix is not None and layer == "townships":
            assert any(re.fullmatch(p, suffix) for p in TARGET_FIELDS), column


def test_every_field_has_a_meaning_and_the_conclude_columns_are_declared():
    assert all(f.alias and f.meaning for f in FIELDS.values())
    assert set(CONCLUDE_COLUMNS) <= set(FIELDS)


def test_columns_doc_is_generated_from_the_schema():
    run = subprocess.run([sys.executable, str(ROOT / "scripts" / "make_columns_doc.py"), "--check"])
    assert run.returncode == 0, "docs/columns.md is out of date: run scripts/make_columns_doc.py"
