"""Config loading: the shipped config validates; mistakes name the field."""

from pathlib import Path

import pytest
import yaml

from roofpv.config import load_config
from roofpv.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


def test_pinghu_config_loads(config):
    assert config.policy.targets[0].milestones == {2025: 0.30, 2030: 0.50}
    assert config.system.total_losses_pct == pytest.approx(11.42, abs=0.01)
    assert config.inputs.footprints.is_absolute()


def broken(tmp_path, edit):
    raw = yaml.safe_load((ROOT / "configs" / "pinghu.yaml").read_text(encoding="utf-8"))
    edit(raw)
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda r: r["policy"]["targets"][0]["milestones"].update({2025: 30}), "policy.targets.0.milestones"),
        (lambda r: r["roofs"]["tile_pitched"].update(mounting="glue"), "roofs.tile_pitched.mounting"),
        (lambda r: r["rules"]["severity"].pop("roof_load"), "missing ['roof_load']"),
        (lambda r: r["weather"]["monthly"]["ghi_kwh_m2"].pop(), "weather.monthly.ghi_kwh_m2"),
        (lambda r: r["module"].update(power_w=-1), "module.power_w"),
    ],
)
def test_invalid_values_name_the_field(tmp_path, edit, message):
    with pytest.raises(ConfigError, match="invalid configuration") as err:
        load_config(broken(tmp_path, edit))
    assert message in str(err.value)


def test_unsafe_yaml_is_refused(tmp_path):
    path = tmp_path / "evil.yaml"
    path.write_text("inputs: !!python/object/apply:os.system ['echo hi']\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(path)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.yaml")


def test_weather_file_resolves_against_the_config_folder(tmp_path):
    path = broken(tmp_path, lambda r: r["weather"].update(file="weather/site.epw", monthly=None))
    config = load_config(path)
    assert config.weather.file == (tmp_path / "weather" / "site.epw").resolve()


def test_weather_needs_a_file_or_monthly_means(tmp_path):
    with pytest.raises(ConfigError, match="give weather.file, weather.station or weather.monthly"):
        load_config(broken(tmp_path, lambda r: r["weather"].update(monthly=None)))


def test_weather_station_gives_the_monthly_climate(tmp_path):
    config = load_config(broken(tmp_path, lambda r: r["weather"].update(monthly=None, station="594310_CSWD")))
    m = config.weather.monthly
    # Nanning CSWD typical year (roofpv/energy/stations.csv, from CHN_Guangxi.Zhuang.Nanning.594310_CSWD.epw).
    assert (m.latitude, m.longitude) == (22.63, 108.22)
    assert m.source == "Nanning (广西, CSWD 594310), typical year CHN_Guangxi.Zhuang.Nanning.594310_CSWD.epw"
    assert len(m.ghi_kwh_m2) == 12 and 1000 < sum(m.ghi_kwh_m2) < 1500
    with pytest.raises(ConfigError, match="give weather.station or weather.monthly, not both"):
        load_config(broken(tmp_path, lambda r: r["weather"].update(station="594310_CSWD")))
    with pytest.raises(ConfigError, match="no station 'Atlantis'"):
        load_config(broken(tmp_path, lambda r: r["weather"].update(monthly=None, station="Atlantis")))
