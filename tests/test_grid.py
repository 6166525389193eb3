"""Connection classes, NEA categories, export modes and transformer hosting capacity."""

import pandas as pd
import pytest

from roofpv.appraise.grid import (
    classify,
    connection_class,
    over_hosting,
)
from roofpv.errors import InputError
from roofpv.grid.assess import flat_hosting
from roofpv.io.readers import read_transformers


def test_connection_class_limits(config):
    classes = config.grid.connection_classes_kw
    got = connection_class([3.0, 8.0, 8.01, 400.0, 400.5, 6000.0, 6001.0], classes).tolist()
    assert got == ["220V", "220V", "380V", "380V", "10kV", "10kV", ">10kV"]


def test_nea_category_and_export_modes(config):
    b = pd.DataFrame({
        "category": ["rural_residential", "rural_residential", "factory", "factory"],
        "owner_type": ["natural_person", "non_natural_person", "non_natural_person", "non_natural_person"],
        "existing_pv_kw": [0.0, 0.0, 100.0, 0.0],
        "capacity_kwp": [10.0, 10.0, 5900.0, 6500.0],
    })
    out = classify(b, config.grid)
    assert out["nea_category"].tolist() == [
        "natural_person_household", "non_natural_person_household", "general_ci", "large_ci"
    ]
    assert out["connection_class"].tolist() == ["380V", "380V", "10kV", ">10kV"]
    assert out.loc[2, "export_modes"] == "full_self_use;self_use_surplus"
    assert out.loc[3, "export_modes"] == "full_self_use"


def test_flat_hosting_is_beta_kva_minus_existing_pv(config):
    t = pd.DataFrame({"kva": [400.0, 100.0], "existing_pv_kw": [100.0, 90.0], "min_load_kw": [40.0, 0.0]},
                     index=["T1", "T2"])
    grid = config.grid.model_copy(update={"credit_min_load": False})
    assert flat_hosting(t, grid).tolist() == pytest.approx([0.8 * 400 - 100, 0.0])


def test_over_hosting_in_order():
    kwp = pd.Series([30.0, 25.0, 10.0, 99.0], index=list("abcd"))
    tid = pd.Series(["T1", "T1", "T1", "TX"], index=list("abcd"))
    order = pd.Series([2, 0, 1, 3], index=list("abcd"))  # b, c, a
    # 50 kW left: b 25, c 35, a 65 > 50 → a limited; TX is unknown → never limited.
    assert over_hosting(kwp, tid, order, pd.Series({"T1": 50.0})).tolist() == [True, False, False, False]


def test_read_transformers(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("id,kva,existing_pv_kw,min_load_kw\nT-1,400,12.5,40\n", encoding="utf-8")
    t, findings = read_transformers(path)
    assert t.loc["T-1"].tolist() == [400.0, 12.5, 40.0] and findings == []
    path.write_text("id,kva\nT-1,400\n", encoding="utf-8")
    with pytest.raises(InputError, match="existing_pv_kw"):
        read_transformers(path)
