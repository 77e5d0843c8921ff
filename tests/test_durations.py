from decimal import Decimal

import pytest

from clocksync.durations import daily_seconds, format_duration, parse_duration, parse_hours


@pytest.mark.parametrize(("weekly", "expected"), [("40", "PT8H"), ("37.5", "PT7H30M"), ("37,5", "PT7H30M"),
                                                   ("32", "PT6H24M"), ("0", "PT0S"), ("39.9", "PT7H59M"), ("37.3", "PT7H28M"), ("0.01", "PT0S")])
def test_weekly_hours_to_daily_capacity(weekly: str, expected: str) -> None:
    assert format_duration(daily_seconds(parse_hours(weekly))) == expected


@pytest.mark.parametrize("text", ["PT8H", "PT8H0M", "PT480M", "PT28800S", "pt8h", "PT7.5H"][:5])
def test_equal_durations_compare_equal(text: str) -> None:
    assert parse_duration(text) == 8 * 3600


def test_fractional_hours() -> None:
    assert parse_duration("PT7.5H") == 27000


@pytest.mark.parametrize("bad", ["abc", "-1", "1e999", "nan", "169", "", "4E1", "4e+01", "3.75E1", "4_0", "Infinity",
                                 "\u0664\u0660", "40h", "1,2,3", "1.2.3"])
def test_bad_hours(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_hours(bad)


@pytest.mark.parametrize("bad", ["8h", "P", "PT", "P1W", "PT-1H"])
def test_bad_durations(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(bad)


def test_hours_keep_decimal_precision() -> None:
    assert parse_hours(" 37,5 ") == Decimal("37.5")
