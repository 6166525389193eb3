"""roofpv: rooftop-PV potential, yield and policy coverage, township by township.

The Python interface (see ``examples/notebook_api.py``)::

    import roofpv
    config = roofpv.load_config("configs/pinghu.yaml")
    results = roofpv.run(config)                 # the whole survey, as `roofpv survey`
    b = roofpv.assess(footprints, config)        # the per-building stages on a GeoDataFrame

The other commands' workflows, without the command line: ``read_returns``,
``read_issued`` and ``collect_survey`` (``roofpv collect``), ``compare_runs`` and
``write_comparison`` (``roofpv compare``), ``starting_config`` (``roofpv init``).

Names load on first use (module ``__getattr__``), so ``import roofpv`` stays light.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

#: Public name → module that defines it.
_API = {
    "load_config": "roofpv.config",
    "Config": "roofpv.config",
    "run": "roofpv.run.pipeline",
    "prepare": "roofpv.run.pipeline",
    "Results": "roofpv.results",
    "write_outputs": "roofpv.io.outputs",
    "read_outputs": "roofpv.io.outputs",
    "hourly_weather": "roofpv.api",
    "buildings_table": "roofpv.api",
    "assess": "roofpv.api",
    "read_returns": "roofpv.io.form_workbooks",
    "read_issued": "roofpv.io.form_workbooks",
    "collect_survey": "roofpv.fieldwork.collect",
    "compare_runs": "roofpv.io.comparison",
    "write_comparison": "roofpv.io.comparison",
    "starting_config": "roofpv.io.inspect",
    "RoofpvError": "roofpv.errors",
}

__all__ = ["__version__", *_API]


def __getattr__(name: str):
    if name in _API:
        value = getattr(importlib.import_module(_API[name]), name)
        globals()[name] = value  # later look-ups skip this function
        return value
    raise AttributeError(f"module 'roofpv' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_API))
