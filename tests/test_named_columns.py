"""A column the config names on purpose must be in the users file: a typo in a group rule's column
would otherwise read as "nobody has a value" and empty every group of the rule; a rate or schedule
column changed to a name the file lacks would silently leave them unmanaged. A column at its
default name (left out, or written as ``init``'s config does) may be absent (blank cells: unmanaged)."""

from __future__ import annotations

from pathlib import Path

import pytest

from clocksync.config import load_config
from clocksync.errors import CsvError
from clocksync.load.desired import load_desired

HEADER = "NTID email,Manager NTID email,Weekly Working Hours,Department,Hourly Rate,Working Days"
ROW = "ann@example.com,,40,Sales,50.00,Mon-Fri"


def _load(tmp_path: Path, config_text: str, header: str = HEADER) -> None:
    (tmp_path / "config.yaml").write_text("workspace:\n  fallback_manager_email: ann@example.com\n" + config_text)
    (tmp_path / "users.csv").write_text(f"{header}\n{ROW}\n")
    load_desired(tmp_path / "users.csv", load_config(tmp_path / "config.yaml"))


@pytest.mark.parametrize(("config_text", "column", "key"), [
    ("group_rules:\n  - column: Departmnt\n    name: 'Dept: {value}'\n", "Departmnt", "group_rules.0.column"),
    ("group_rules:\n  - column: Department\n  - column: Location\n    name: 'Office {value}'\n", "Location",
     "group_rules.1.column"),
    ("csv:\n  hourly_rate_column: Hourly Rates\n", "Hourly Rates", "csv.hourly_rate_column"),
    ("csv:\n  cost_rate_column: Cost\n", "Cost", "csv.cost_rate_column"),
    ("csv:\n  rates_since_column: Since\n", "Since", "csv.rates_since_column"),
    ("csv:\n  working_days_column: Workdays\n", "Workdays", "csv.working_days_column"),
    ("csv:\n  week_start_column: First Day\n", "First Day", "csv.week_start_column"),
])
def test_a_column_the_config_names_must_be_in_the_file(tmp_path: Path, config_text: str, column: str,
                                                       key: str) -> None:
    with pytest.raises(CsvError) as raised:
        _load(tmp_path, config_text)
    message = str(raised.value)
    assert "users.csv" in message and "row 1" in message and repr(column) in message, message
    assert key in message and "config.yaml" in message, message
    assert "'Department'" in message, "the columns found are listed"


@pytest.mark.parametrize("config_text", [
    "group_rules:\n  - column: department\n",  # any case, as every header match
    "csv:\n  hourly_rate_column: Hourly Rate\n  working_days_column: Working Days\n",
    "",  # defaults: the rate and schedule columns are optional
    "csv:\n  rates_since_column: Rates Since\n  cost_rate_column: Cost Rate\n",  # named, but as the default (init's)
])
def test_a_named_column_that_is_there_loads(tmp_path: Path, config_text: str) -> None:
    _load(tmp_path, config_text)


def test_default_columns_may_be_absent(tmp_path: Path) -> None:
    _load(tmp_path, "", header="NTID email,Manager NTID email,Weekly Working Hours,Department,x,y")
