from pathlib import Path

import pytest

from roofpv.config import load_config

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def config():
    """The Pinghu configuration shipped with roofpv."""
    return load_config(ROOT / "configs" / "pinghu.yaml")
