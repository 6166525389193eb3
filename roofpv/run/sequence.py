"""The stages of a run, in order, and how a run may be split: free of heavy imports, so
that ``roofpv --help`` and the progress display can name them.

:mod:`roofpv.run.pipeline` is the one place that runs the stages in this order
(:func:`~roofpv.run.pipeline.prepare`, :func:`~roofpv.run.pipeline.assess_buildings`,
:func:`~roofpv.run.pipeline.conclude`); each calls ``progress(stage)`` with one of the
labels below as the stage starts.
"""

READ = "read inputs"
WEATHER = "weather and yield table"
ROOFS = "roof planes and layout"
YIELD = "yield"
SUITABILITY = "suitability"
FACADES = "facades (BIPV)"
ARRAYS = "PV array outlines"
APPRAISE = "grid, economics and carbon"
SURFACES = "surfaces beyond roofs"
PLAN = "rollout plan"
TARGETS = "coverage and targets"
#: The stages of a run, in order, as the progress display names them.
STAGES = (READ, WEATHER, ROOFS, YIELD, SUITABILITY, FACADES, ARRAYS, APPRAISE, SURFACES, PLAN, TARGETS)

#: Engines that run the per-building stages: in this process, or on a Dask cluster.
ENGINES = ("local", "dask")
#: Ways to split the buildings into partitions (:func:`roofpv.run.engine.partition_labels`).
PARTITION_BY = ("township", "spatial")
#: Default number of buildings per partition: small enough to bound the memory of the
#: per-plane tables (a partition's layout peaks at ~0.65 GB per 20,000 buildings above
#: the process's base, docs/performance.md), large enough that per-partition overhead
#: is negligible.
PARTITION_SIZE = 20_000
#: Above this many buildings the ``pv_arrays`` preview is left out unless asked for: it
#: holds about five module rows per roof and drawing them costs as much as the layout.
ARRAYS_MAX_BUILDINGS = 200_000
#: Above this many townships `survey` and `plan` leave the report to `roofpv report`
#: unless --report asks for it: each township page takes about a second.
REPORT_MAX_TOWNSHIPS = 100
