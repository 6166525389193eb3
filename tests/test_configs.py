"""Every jurisdiction's config loads and runs on the sample; ``extends:`` merges configs."""

from pathlib import Path

import pytest
import yaml

from roofpv.cli.options import policy_of
from roofpv.config import load_config
from roofpv.errors import ConfigError
from roofpv.run.pipeline import run
from roofpv.schema import CITY

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
JURISDICTIONS = ["pinghu", "liaocheng", "jinan", "jilin", "yangquan", "national"]


@pytest.mark.parametrize("name", [*JURISDICTIONS, "nea_whole_county"])
def test_config_loads_with_sources(name):
    config = load_config(CONFIGS / f"{name}.yaml")
    assert config.inputs.footprints.exists() and config.grid.transformers.exists()
    assert all(t.source for t in config.policy.targets)
    assert "capex_yuan_per_w" in config.economics.assumptions


def test_nea_ratios_combine_with_any_policy():
    policy = policy_of(["jinan", "nea_whole_county"], CONFIGS / "pinghu.yaml")
    ratios = {t.name: t.milestones[2023] for t in policy.targets if t.name.startswith("nea_")}
    assert ratios == {"nea_party_gov": 0.5, "nea_public": 0.4, "nea_industry_commerce": 0.3, "nea_rural": 0.2}
    with pytest.raises(ConfigError, match="unique"):
        policy_of(["pinghu", "pinghu"], CONFIGS / "pinghu.yaml")


def write(path, data):
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_extends_merges_sections_and_resolves_paths_per_file(tmp_path):
    sub = tmp_path / "sub"
    sub.mkdir()
    child = write(sub / "child.yaml", {
        "extends": str(CONFIGS / "pinghu.yaml"),
        "site": {"name": "甲县", "latitude": 36.5},
        "grid": {"transformers": "t.csv"},
        "policy": {"targets": [{
            "name": "x", "label": "x", "categories": ["factory"], "metric": "count",
            "milestones": {2030: 0.5}, "source": "test",
        }]},
    })
    config = load_config(child)
    assert (config.site.name, config.site.latitude) == ("甲县", 36.5)
    assert config.site.longitude == pytest.approx(121.013)            # kept from the parent
    assert config.inputs.footprints == (CONFIGS.parent / "data/sample/footprints.gpkg").resolve()
    assert config.grid.transformers == sub / "t.csv"                  # relative to the child
    assert [t.name for t in config.policy.targets] == ["x"]           # lists replace


def test_extends_cycle_is_refused(tmp_path):
    write(tmp_path / "a.yaml", {"extends": "b.yaml"})
    write(tmp_path / "b.yaml", {"extends": "a.yaml"})
    with pytest.raises(ConfigError, match="extends itself"):
        load_config(tmp_path / "a.yaml")


def test_export_mode_must_be_allowed(tmp_path):
    child = write(tmp_path / "c.yaml", {
        "extends": str(CONFIGS / "pinghu.yaml"), "economics": {"mode": {"general_ci": "full_export"}},
    })
    with pytest.raises(ConfigError, match="economics.mode.general_ci"):
        load_config(child)


# One jurisdiction in the default run, without the DSM (its prices, targets and site are
# what differs); every one with the DSM under the slow marker (a sample run each).
@pytest.mark.parametrize(("name", "dsm"), [("liaocheng", False)] + [
    pytest.param(n, True, marks=pytest.mark.slow) for n in JURISDICTIONS[1:]])
def test_jurisdiction_runs_on_the_sample(name, dsm):
    config = load_config(CONFIGS / f"{name}.yaml")
    if not dsm:
        config = config.model_copy(update={"dsm": config.dsm.model_copy(update={"tiles": None})})
    results = run(config)
    towns = results.townships
    assert len(results.buildings) == 3449 and CITY in towns.index
    for target in config.policy.targets:
        assert f"{target.name}_coverage_potential" in towns  # NaN where the cohort is empty (Yangquan: new since 2026)
        status = results.plan_status[results.plan_status["target"] == target.name]
        assert set(status["milestone"]) == set(target.milestones)
    assert towns.loc[CITY, "co2_avoided_t_yr"] == pytest.approx(
        results.buildings["co2_avoided_t_yr"].where(results.buildings["suitability"] == "suitable", 0).sum()
    )
