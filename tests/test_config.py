"""Config: the original format loads unchanged; bad configs name the key and line."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clocksync.config import load_config
from clocksync.errors import ConfigError
from clocksync.kinds.group_rule import GROUP_RULES
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


BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 10) + "]\n" for i in range(8))
REFUSED_BEFORE_BUILDING = {
    # review of issue 20, F3: an alias bomb grew to 1 GB in 35 s with no output
    "an alias bomb": (ORIGINAL + BOMB, "line 8: YAML anchors and aliases"),
    "one anchor and alias": (ORIGINAL + "x: &e ops@example.com\nsafety: *e\n", "line 8: YAML anchors"),
    "an anchor alone": ("workspace: &w\n  fallback_group_name: X\n", "line 1: YAML anchors"),
    "a merge key": ("a: &d {page_size: 10}\napi:\n  <<: *d\n", "line 1: YAML anchors"),
    "an anchor in a list": ("workspace:\n  never_deactivate:\n    - &m ops@example.com\n", "line 3: YAML anchors"),
    # F9: integers over 4,300 digits were a 66-line ValueError traceback
    "a long page size": (ORIGINAL + "api:\n  page_size: " + "9" * 5000 + "\n", "line 9: a number of 5,000"),
    "a long negative number": (ORIGINAL + "safety:\n  max_deactivation_share: -" + "9" * 5000 + "\n", "line 9"),
    "a long number in a list": ("workspace:\n  never_deactivate: [" + "1" * 4500 + "]\n", "line 2: a number"),
    "a long number as a key": ("field_mapping:\n  ? " + "7" * 4400 + "\n  : Company\n", "line 2: a number"),
    "a long hex number": ("api:\n  page_size: 0x" + "f" * 4000 + "1" * 4001 + "\n", "line 2"),
}


@pytest.mark.parametrize(("text", "expected"), list(REFUSED_BEFORE_BUILDING.values()), ids=list(REFUSED_BEFORE_BUILDING))
def test_what_no_config_needs_is_refused_naming_the_line(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text))
    message = str(info.value)
    assert message.startswith(f"{tmp_path / 'config.yaml'}: ") and expected in message and "\n" not in message, message


def test_a_long_quoted_text_of_digits_is_text(tmp_path: Path) -> None:
    """Only a number Python cannot read is refused; a long quoted value is the key's to judge."""
    with pytest.raises(ConfigError, match="key workspace.fallback_group_name"):
        load_config(write(tmp_path, "workspace:\n  fallback_group_name: '" + "9" * 5000 + "'\n"))


@pytest.mark.parametrize(("text", "expected"), [
    (ORIGINAL + "safety:\n  max_deactivation_share: lots\n", "line 9, key safety.max_deactivation_share"),
    (ORIGINAL + "workspace_typo: 1\n", "line 8, key workspace_typo: unknown key"),
    ("workspace:\n  fallback_manager_email: nobody\n", "line 2, key workspace.fallback_manager_email"),
    ("workspace: [unclosed\n", "invalid YAML"),
    ("groups:\n  name_template: '{manager}'\n", "key groups.name_template"),
    ("- a\n- b\n", "top level must be a mapping"),
    ("api:\n  requests_per_second: 0\n", "line 2, key api.requests_per_second"),
    # a group name's length as Clockify counts it, UTF-16 units, and what that means for emoji
    ("workspace:\n  fallback_group_name: '" + "x" * 101 + "'\n",
     "key workspace.fallback_group_name: is 101 units long; Clockify's group names hold at most 100"),
    ("workspace:\n  fallback_group_name: '" + "\U0001f642" * 50 + "x'\n",
     "is 101 units long (51 characters; Clockify counts UTF-16 units, so a character such as most emoji counts two)"),
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


# Every config key that holds an email, and where its value is in a document built around it.
_EMAIL_KEYS = {
    "fallback_manager_email": ("workspace:\n  fallback_manager_email: {value}\n", "workspace.fallback_manager_email",
                               lambda c: c.workspace.fallback_manager_email, 2),
    "never_deactivate": ("workspace:\n  never_deactivate:\n    - ops@example.com\n    - {value}\n",
                         "workspace.never_deactivate.1", lambda c: c.workspace.never_deactivate[1], 4),
    "exceptions.email": ("exceptions:\n  - ignore: [capacity]\n    reason: why\n    email: {value}\n", "exceptions.0.email",
                         lambda c: c.exceptions[0].email, 4),
    "group_rules.manager": ("group_rules:\n  - column: Dept\n    manager: {value}\n", "group_rules.0.manager",
                            lambda c: c.value(GROUP_RULES)[0].manager, 3),
}
KEYS = [pytest.param(k, id=k) for k in _EMAIL_KEYS]


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("value", [
    "mailto:noah.brown@example.com", "MAILTO:noah.brown@example.com", "Noah Brown <noah.brown@example.com>",
    "<noah.brown@example.com>", "noah.brown@example.com\u200b", "\u00a0noah.brown@example.com\u00a0",
    "noah.brown\uff20example.com", "\u202anoah.brown@example.com\u202c", "no\u00adah.brown@example.com",
    "NOAH.BROWN@EXAMPLE.COM", "n\u200boah.brown@example.com",
])
def test_a_config_email_is_read_as_an_email_cell_is(tmp_path: Path, key: str, value: str) -> None:
    """What the users file accepts in an email cell, the config accepts too, as the same address."""
    text, _, read, _ = _EMAIL_KEYS[key]
    config = load_config(write(tmp_path, text.format(value=f'"{value}"')))
    assert read(config).lower() == "noah.brown@example.com"


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize(("value", "message"), [
    ("n\u043eah.brown@example.com", "CYRILLIC SMALL LETTER O) that looks like o"),
    ("\u03b7oah.brown@example.com", "GREEK SMALL LETTER ETA"),
    ("noah.brown@ex\u0251mple.com", "LATIN SMALL LETTER ALPHA"),
    ("\U0001d427oah.brown@example.com", "MATHEMATICAL BOLD SMALL N"),
    ("noah.brown@\u0301example.com", "COMBINING ACUTE ACCENT"),
    ("noah.brown@example.com\x07", "U+0007 BELL"),
    ("noah.brown@example.com; emma.wilson@example.com", "two addresses"),
    ("Emma <noah.brown@example.com", "unclosed"),
    ("noah.brown", "no '@'"),
    ("\u202enoah.brown@example.com", "RIGHT-TO-LEFT OVERRIDE"),
])
def test_a_config_email_that_is_not_what_it_looks_like_names_key_and_line(tmp_path: Path, key: str, value: str,
                                                                          message: str) -> None:
    text, where, _, line = _EMAIL_KEYS[key]
    escaped = value.encode("unicode_escape").decode().replace('"', '\\"')
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text.format(value=f'"{escaped}"')))
    assert f"line {line}, key {where}: " in str(info.value)
    assert message in str(info.value)
    assert all(c.isprintable() or c == "\n" for c in str(info.value)), "invisible characters shown escaped"


@pytest.mark.parametrize("key", ["never_deactivate", "exceptions.email"])
def test_a_blank_config_email_in_a_list_is_refused(tmp_path: Path, key: str) -> None:
    text, where, _, line = _EMAIL_KEYS[key]
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text.format(value='"\u200b "')))
    assert f"line {line}, key {where}: must be an email address (it is blank)" in str(info.value)


@pytest.mark.parametrize(("entries", "bad"), [
    ('["GlobalID"]', "GlobalID"),             # the attack's typo: the values it meant to hide were printed
    ('["Global ID", "Salary band"]', "Salary band"),  # a field the mapping does not have
    ('["Company "]', None),                   # a name matches as a header does: any case, spacing, NFC
    ('["global id"]', None),
])
def test_sensitive_fields_must_name_mapped_fields(tmp_path: Path, entries: str, bad: str | None) -> None:
    path = tmp_path / "config.yaml"
    path.write_text('field_mapping:\n  "Global Id": "Global ID"\n  "Company (Label)": "Company"\n'
                    f"sensitive_fields: {entries}\n")
    if bad is None:
        load_config(path)
        return
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    message = str(raised.value)
    assert "line 4" in message and "sensitive_fields" in message and repr(bad) in message, message
