"""Config: the original format loads unchanged; bad configs name the key and line."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clocksync.config import load_config
from clocksync.errors import ConfigError
from tests.conftest import EXAMPLES

ORIGINAL = """workspace:
  fallback_manager_email: "ops-lead@example.com"
  fallback_group_name: "Other functions"
field_mapping:              # CSV column -> Clockify USER custom field name
  "Company (Label)": "Company"
  "Country (Label)": "Country"
  "Global Id": "Global ID"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


def test_original_format_loads_unchanged(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, ORIGINAL))
    assert config.workspace.fallback_manager_email == "ops-lead@example.com"
    assert config.field_mapping == {"Company (Label)": "Company", "Country (Label)": "Country", "Global Id": "Global ID"}
    assert config.safety.max_deactivation_share == 0.25 and config.api.requests_per_second == "auto"


def test_example_config_loads() -> None:
    assert load_config(EXAMPLES / "config.yaml", required=True).csv.email_column == "NTID email"


def test_missing_default_file_gives_defaults(tmp_path: Path) -> None:
    assert load_config(tmp_path / "config.yaml").workspace.fallback_group_name == "Other functions"
    with pytest.raises(ConfigError):
        load_config(tmp_path / "config.yaml", required=True)


@pytest.mark.parametrize(("text", "expected"), [
    (ORIGINAL + "safety:\n  max_deactivation_share: lots\n", "line 9, key safety.max_deactivation_share"),
    (ORIGINAL + "workspace_typo: 1\n", "line 8, key workspace_typo: unknown key"),
    ("workspace:\n  fallback_manager_email: nobody\n", "line 2, key workspace.fallback_manager_email"),
    ("workspace: [unclosed\n", "invalid YAML"),
    ("groups:\n  name_template: '{manager}'\n", "key groups.name_template"),
    ("- a\n- b\n", "top level must be a mapping"),
    ("api:\n  requests_per_second: 0\n", "line 2, key api.requests_per_second"),
])
def test_bad_config_names_key_and_line(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text))
    assert expected in str(info.value)
    assert "config.yaml" in str(info.value)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=200))
def test_arbitrary_text_loads_or_fails_cleanly(tmp_path: Path, text: str) -> None:
    try:
        load_config(write(tmp_path, text))
    except ConfigError as exc:
        assert "config.yaml" in str(exc)
