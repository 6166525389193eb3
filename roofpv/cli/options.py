"""Options shared by the commands, and what they resolve to: the config and the output folder."""

from __future__ import annotations

import argparse
from pathlib import Path

from roofpv.run.sequence import (
    ARRAYS_MAX_BUILDINGS,
    ENGINES,
    PARTITION_BY,
    PARTITION_SIZE,
    REPORT_MAX_TOWNSHIPS,
)
from roofpv.schema import LANGS

DEFAULT_CONFIG = "pinghu.yaml"
CONFIG_HELP = f"jurisdiction config (YAML); default: the Pinghu sample, configs/{DEFAULT_CONFIG}"


def default_config() -> Path:
    """``configs/pinghu.yaml`` of the working directory, else of the roofpv source tree."""
    from roofpv.errors import ConfigError

    for root in (Path.cwd(), Path(__file__).resolve().parents[2]):
        candidate = root / "configs" / DEFAULT_CONFIG
        if candidate.exists():
            return candidate
    raise ConfigError(
        f"no CONFIG given and configs/{DEFAULT_CONFIG} not found; "
        "run from the roofpv folder or pass a config file"
    )


def config_option(command: argparse.ArgumentParser) -> None:
    """The optional CONFIG argument."""
    command.add_argument("config", nargs="?", type=Path, help=CONFIG_HELP)
    command.add_argument("-v", "--verbose", action="store_true",
                         help="log every step (on a terminal besides the progress bars)")
    command.add_argument("--log-file", type=Path, metavar="FILE",
                         help="also write every log record, with time and level, to FILE")


def output_options(command: argparse.ArgumentParser) -> None:
    """Options of every command that writes a run's outputs (survey, plan, report)."""
    config_option(command)
    command.add_argument(
        "--out", type=Path, metavar="DIR",
        help="output folder; default: out/<config name>, e.g. out/pinghu",
    )
    command.add_argument("--overwrite", action="store_true", help="replace outputs of an earlier run")
    command.add_argument("--quiet", action="store_true", help="print only errors")
    command.add_argument(
        "--lang", choices=LANGS, default="zh",
        help="language of the HTML/XLSX report: zh (default) writes report/, en writes report_en/",
    )
    command.add_argument(
        "--pdf", action="store_true",
        help="also print each report page and the whole city (city.pdf) to A4 PDF (needs chromium)",
    )
    command.add_argument(
        "--policy", action="append", metavar="NAME",
        help="evaluate the targets of configs/NAME.yaml (or of a YAML path) instead of the "
        "config's own; repeat to combine, e.g. --policy pinghu --policy nea_whole_county",
    )


def run_options(command: argparse.ArgumentParser) -> None:
    """Options of the commands that run the survey (survey, plan)."""
    output_options(command)
    command.add_argument(
        "--report", action=argparse.BooleanOptionalAction, default=None,
        help=f"write the HTML/XLSX report at the end (default: for up to {REPORT_MAX_TOWNSHIPS} "
        "townships; `roofpv report` writes it later from the output folder)",
    )
    scale = command.add_argument_group("large runs")
    scale.add_argument("--engine", choices=ENGINES, default="local",
                       help="local: partitions one after the other in this process; dask: on a "
                       "Dask cluster (--scheduler) or a local one (default: local)")
    scale.add_argument("--scheduler", metavar="ADDRESS",
                       help="Dask scheduler address, e.g. tcp://10.0.0.5:8786; default: a local "
                       "cluster of --workers processes")
    scale.add_argument("--workers", type=int, default=2, metavar="N",
                       help="worker processes of the local Dask cluster (default: 2)")
    scale.add_argument("--partitions", type=int, metavar="N",
                       help=f"number of partitions (default: one per {PARTITION_SIZE:,} buildings)")
    scale.add_argument("--partition-by", choices=PARTITION_BY, default="township",
                       help="whole townships, balanced by size, or runs along a Hilbert curve")
    scale.add_argument("--resume", action="store_true",
                       help="reuse the finished partitions of an interrupted run into --out")
    scale.add_argument("--format", choices=("gpkg", "parquet"), default="gpkg", dest="geo_format",
                       help="layers as one GeoPackage (default) or one GeoParquet file each")
    scale.add_argument("--arrays", action=argparse.BooleanOptionalAction, default=None,
                       help="draw the pv_arrays layout preview (default: for up to "
                       f"{ARRAYS_MAX_BUILDINGS:,} buildings)")


def policy_of(names: list[str], config_path: Path):
    """The :class:`~roofpv.config.Policy` of the named policies' targets, in order:
    ``configs/NAME.yaml`` beside the config, or a YAML path."""
    from pydantic import ValidationError

    from roofpv.config import Policy, load_config
    from roofpv.errors import ConfigError

    paths = [Path(n) if n.endswith((".yaml", ".yml")) else config_path.parent / f"{n}.yaml" for n in names]
    try:
        return Policy(targets=[t for path in paths for t in load_config(path).policy.targets])
    except ValidationError as exc:
        raise ConfigError(f"--policy {' '.join(names)}: {exc.errors()[0]['msg']}") from None


def output_name(config_path: Path, policies: list[str]) -> str:
    """Default output folder name: the config's name and each policy's, once, joined by
    ``+`` (``pinghu`` with ``--policy pinghu --policy nea_whole_county`` gives
    ``pinghu+nea_whole_county``)."""
    return "+".join(dict.fromkeys([config_path.stem, *(Path(n).stem for n in policies)]))


def setup(args: argparse.Namespace) -> tuple:
    """Config and output folder (:func:`roofpv.io.outputs.output_set` refuses to replace
    an earlier run's outputs unasked)."""
    from roofpv.config import load_config

    config_path = args.config or default_config()
    config = load_config(config_path)
    policies = getattr(args, "policy", None) or []
    if policies:
        config = config.model_copy(update={"policy": policy_of(policies, config_path)})
    out_dir = args.out or Path("out") / output_name(config_path, policies)
    return config, out_dir
