from datetime import date

import pytest

from enquiries.workdays import add_working_days, is_working_day, working_days_between


def test_weekends_do_not_count() -> None:
    assert add_working_days(date(2026, 11, 27), 1) == date(2026, 11, 30)  # Fri -> Mon


def test_christmas_and_boxing_day_substitute_do_not_count() -> None:
    # 24 Dec (Thu), then 25 Dec holiday, weekend, 28 Dec substitute Boxing Day.
    assert add_working_days(date(2026, 12, 23), 3) == date(2026, 12, 30)
    assert not is_working_day(date(2026, 12, 28))


def test_easter_monday_and_good_friday_do_not_count() -> None:
    assert not is_working_day(date(2026, 4, 3))  # Good Friday
    assert not is_working_day(date(2026, 4, 6))  # Easter Monday
    assert add_working_days(date(2026, 4, 2), 1) == date(2026, 4, 7)


def test_twenty_working_days_span_four_weeks_without_holidays() -> None:
    assert add_working_days(date(2026, 2, 2), 20) == date(2026, 3, 2)


def test_working_days_between_counts_the_end_not_the_start() -> None:
    assert working_days_between(date(2026, 12, 23), date(2026, 12, 30)) == 3
    assert working_days_between(date(2026, 12, 30), date(2026, 12, 23)) == 0


def test_negative_days_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        add_working_days(date(2026, 1, 1), -1)
