"""Dates at the calendar's ends and huge periods never break a command (issue 22): every date
computation is held within 0001-01-01 … 9999-12-31, and a period or a number of days past a
hundred years is reported like any other invalid value, naming the file and line."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from test_followups import SETTINGS, contact, interaction, summary
from test_hostile_files import ANN, crm

from generator.dates import MAX_PERIOD_DAYS, add_months, add_period, after, parse_period
from generator.followups import followup_rate, pending_followups
from generator.model import Period, Reminder

END = dt.date.max


def test_after_holds_within_the_calendar() -> None:
    assert after(dt.date(9999, 12, 30), 2) == END
    assert after(dt.date(9999, 12, 30), 10**12) == END  # beyond timedelta's own range too
    assert after(dt.date(1, 1, 2), -5) == dt.date.min
    assert after(dt.date(2026, 1, 1), 1) == dt.date(2026, 1, 2)
    assert add_months(dt.date(9999, 12, 15), 1) == END
    assert add_period(dt.date(9990, 1, 1), Period(100, "y")) == END
    assert add_period(dt.date(9999, 12, 1), Period(5, "w")) == END


@pytest.mark.parametrize(
    "value, period",
    [(MAX_PERIOD_DAYS, Period(MAX_PERIOD_DAYS, "d")), (MAX_PERIOD_DAYS + 1, None), ("100y", Period(100, "y")),
     ("101y", None), ("1180m", Period(1180, "m")), ("1181m", None), ("5228w", Period(5228, "w")),
     ("5229w", None), ("99999999999999999999d", None), (10**30, None)],
)  # fmt: skip
def test_periods_past_a_hundred_years_are_not_periods(value: object, period: Period | None) -> None:
    assert parse_period(value) == period


def test_the_engine_at_the_end_of_the_calendar() -> None:
    people = [
        contact("a", interactions=(interaction("9999-12-30", "interview"),)),
        contact("b", interactions=(interaction("9999-12-01", "interview", followed_up="9999-12-31"),)),
        contact("c", interactions=(interaction("9999-06-01", "coffee"),), keep_in_touch=Period(100, "y")),
        contact("d", reminders=(Reminder(index=0, line=1, date=END, note="x", done=False, done_on=None),)),
    ]
    for today in (dt.date(2026, 11, 25), END, dt.date.min):
        items = pending_followups(people, SETTINGS, today)
        assert {f.contact for f in items} >= {"a", "b", "c", "d"}
        assert all(f.due <= END for f in items)
        followup_rate(people, SETTINGS, today)
    late = summary(pending_followups(people, SETTINGS, END))
    assert ("a", "thank-you", "9999-12-31", "due", 0) in late
    assert ("b", "check-in", "9999-12-31", "due", 0) in late


def test_commands_at_the_end_of_the_calendar(crm_root: Callable[..., Path]) -> None:
    root = crm_root({
        "contacts/ann.md": ANN,
        "contacts/last.md": "---\nname: Last Day\ninteractions:\n  - date: 9999-12-30\n    type: interview\n---\n",
        "contacts/years.md": "---\nname: Ages\nkeep_in_touch: 9999y\n---\n",
        "contacts/days.md": "---\nname: Days\nkeep_in_touch: 3000000\n---\n",
    })  # fmt: skip
    checked = crm(root, "check")
    assert checked.returncode == 1
    out = checked.stdout + checked.stderr
    assert "contacts/years.md:3:16: error: keep_in_touch: '9999y' is not a period" in out
    assert "contacts/days.md:3:16: error: keep_in_touch: 3000000 is not a period" in out
    assert "at most 100 years" in out
    for today in ("2026-11-25", "9999-12-31", "0001-01-01"):
        for args in (["followups", "--all"], ["followups", "--format", "json"], ["followups", "--format", "ics"],
                     ["build"]):  # fmt: skip
            result = crm(root, "--today", today, *args)
            assert "Traceback" not in result.stderr, (today, args, result.stderr[-1500:])
            assert result.returncode == 1, (today, args)  # the two invalid files
        assert (root / "site" / "contacts" / "last.html").is_file()
        assert (root / "site" / "contacts" / "ann.html").is_file()
    shown = json.loads(crm(root, "--today", "9999-12-31", "followups", "--format", "json").stdout)
    assert shown, "the last day's thank-you is listed"


def test_settings_days_past_a_hundred_years_are_errors(crm_root: Callable[..., Path]) -> None:
    root = crm_root({"contacts/ann.md": ANN}, settings="types:\n  coffee: {thank_you: 1000000000000}\n")
    result = crm(root, "check")
    assert result.returncode == 1
    assert (
        "crm.yaml:2:23: error: types.coffee.thank_you: expected a whole number of days (0 to 36,600), "
        "found an integer (1000000000000)"
    ) in result.stdout + result.stderr
