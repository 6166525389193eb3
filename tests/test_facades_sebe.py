"""Facade irradiation wall by wall on the real Gothenburg DSM against UMEP SEBE's wall
results on the same DSM and weather (scripts/compare_sebe.py; docs/validation.md,
"Facades"). SEBE is not on PyPI: the test runs on a checkout of UMEP-dev/UMEP-processing
named by the environment variable ``UMEP_PROCESSING`` and is skipped without one."""

import os
import sys
from pathlib import Path

import numpy as np
import pytest

from .conftest import ROOT

pytestmark = [pytest.mark.real_data, pytest.mark.slow]

CHECKOUT = Path(os.environ.get("UMEP_PROCESSING", "")) if os.environ.get("UMEP_PROCESSING") else None


@pytest.mark.skipif(CHECKOUT is None or not (CHECKOUT / "functions" / "SEBEfiles").is_dir(),
                    reason="no UMEP-processing checkout in $UMEP_PROCESSING (SEBE is not on PyPI)")
def test_goteborg_walls_against_sebe():
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import compare_sebe
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    t, open_walls = compare_sebe.compare(CHECKOUT)
    matched = t.dropna(subset=["sebe"])
    assert len(matched) >= 45 and matched["building_id"].nunique() >= 12
    # Sky models alone, on a lone block: within 3.5 % on every side (measured 0.973–1.032).
    assert np.all(abs(open_walls["ratio"] - 1) < 0.035)
    # The goal, median within 10 %; as measured at UMEP-processing df036d8
    # (docs/validation.md): median 1.066, 61 % of the walls within 10 %, 95 % within 20 %.
    assert abs(matched["ratio"].median() - 1) < 0.10
    assert (abs(matched["ratio"] - 1) <= 0.20).mean() >= 0.85
