"""Names and limits shared by the pipeline, the engine, the outputs and the command line.

Free of heavy imports, so that ``roofpv --help`` can show them without loading the
geospatial and PV stacks.
"""

#: Stages of a run, in order, as the progress display names them.
STAGES = (
    "read inputs", "weather and yield table", "roof planes and layout",
    "yield", "suitability", "PV array outlines", "grid, economics and carbon", "rollout plan",
    "coverage and targets",
)
#: Name of the whole-jurisdiction row of the township table.
CITY = "全市"
#: Survey shading classes from least to most shaded (the DSM measures the same classes).
SHADING_CLASSES = ("none", "light", "moderate", "severe")

#: Files `roofpv survey` writes into its output folder.
SURVEY_OUTPUTS = ("roofpv.gpkg", "roofpv.qgz", "townships.csv", "findings.csv", "register_matches.csv",
                  "performance.csv", "calibration.csv")
#: Files `roofpv plan` writes besides the survey's (and layer ``rollout_plan`` in roofpv.gpkg).
PLAN_OUTPUTS = ("rollout_plan.csv", "plan_status.csv", "trajectory.csv", "parameters.csv")

#: Engines that run the per-building stages: in this process, or on a Dask cluster.
ENGINES = ("local", "dask")
#: Ways to split the buildings into partitions (:func:`roofpv.engine.partition_labels`).
PARTITION_BY = ("township", "spatial")
#: Default number of buildings per partition: small enough to bound the memory of the
#: per-plane tables, large enough that per-partition overhead is negligible.
PARTITION_SIZE = 50_000
#: Above this many buildings the ``pv_arrays`` preview is left out unless asked for: it
#: holds about five module rows per roof and drawing them costs as much as the layout.
ARRAYS_MAX_BUILDINGS = 200_000
#: Above this many townships `survey` and `plan` leave the report to `roofpv report`
#: unless --report asks for it: each township page takes about a second.
REPORT_MAX_TOWNSHIPS = 100
#: Languages of the reports and tables: Chinese (default) and English.
LANGS = ("zh", "en")
#: Report folder inside the output folder per language.
REPORT_FOLDERS = {"zh": "report", "en": "report_en"}
