from pathlib import Path

import pytest

from roofpv.config import load_config
from roofpv.io.outputs import write_outputs
from roofpv.run.pipeline import run

ROOT = Path(__file__).resolve().parents[1]

#: Pinghu site and typical-year monthly means (REFERENCE §4), for the weather and yield tests.
SITE = {"latitude": 30.68, "longitude": 121.01, "altitude": 5.0}
GHI = [74.5, 80.2, 110.2, 131.2, 144.6, 134.4, 149.7, 148.8, 113.8, 96.3, 77.2, 75.5]
TEMP = [5.0, 6.4, 10.3, 16.0, 21.0, 24.6, 28.1, 28.4, 24.4, 19.3, 13.1, 6.9]
WIND = [2.8, 2.8, 3.3, 2.8, 3.0, 3.0, 2.4, 2.1, 3.3, 2.6, 2.3, 2.3]


@pytest.fixture(scope="session")
def config():
    """The Pinghu configuration shipped with roofpv."""
    return load_config(ROOT / "configs" / "pinghu.yaml")


@pytest.fixture(scope="session")
def pinghu_results(config):
    """One pipeline run on the Pinghu sample (DSM included), for the tests that only read it."""
    return run(config)


@pytest.fixture(scope="session")
def pinghu_cli_out(tmp_path_factory):
    """One `roofpv plan` on the Pinghu sample through the command line (DSM, report, log
    file ``<folder>.log`` beside it), shared by the end-to-end and report tests."""
    from roofpv.cli import main

    out = tmp_path_factory.mktemp("pinghu_cli") / "pinghu"
    log = out.parent / "pinghu.log"
    assert main(["plan", str(ROOT / "configs" / "pinghu.yaml"), "--out", str(out), "--quiet",
                 "--log-file", str(log)]) == 0
    return out


@pytest.fixture(scope="session")
def pinghu_plan_out(tmp_path_factory, pinghu_results):
    """The folder ``write_outputs(..., plan=True)`` fills from :func:`pinghu_results`."""
    out = tmp_path_factory.mktemp("plan") / "pinghu"
    write_outputs(pinghu_results, out, plan=True)
    return out


@pytest.fixture(scope="session")
def county_100k(tmp_path_factory):
    """A synthetic county of 100,000 buildings (``scripts/make_county.py``), its config
    without facades, and its one-piece results, for the slow identity tests."""
    import subprocess
    import sys

    county = tmp_path_factory.mktemp("county_100k")
    subprocess.run([sys.executable, str(ROOT / "scripts" / "make_county.py"), "--buildings", "100000",
                    "--out-dir", str(county)], check=True, capture_output=True)
    config = load_config(county / "county.yaml")
    config = config.model_copy(update={"facades": config.facades.model_copy(update={"enabled": False})})
    return config, run(config)
