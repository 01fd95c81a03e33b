"""The follow-up rules of SPEC §4: table tests per rule and edge, property tests for dates and order."""

from __future__ import annotations

import calendar
import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from generator.dates import add_months, add_period, parse_period, relative_days, spoken_date
from generator.followups import (
    STATUS_ORDER,
    followup_rate,
    pending_followups,
    select,
    sort_key,
    status_of,
)
from generator.model import Contact, FollowUp, Interaction, Period, Reminder
from generator.settings import default_settings

TODAY = dt.date(2026, 11, 25)
SETTINGS = default_settings()


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def interaction(date: str, type: str = "interview", followed_up: str | None = None, *, skip: bool = False,
                gained: str = "insight", index: int = 0) -> Interaction:  # fmt: skip
    return Interaction(
        index=index, line=1, date=day(date), time=None, type=type, summary="", gained=gained, with_=(),
        followed_up=day(followed_up) if followed_up else None, skip=skip,
    )  # fmt: skip


def contact(slug: str = "jane", name: str = "Jane", **fields) -> Contact:
    return Contact(slug=slug, path=f"contacts/{slug}.md", name=name, **fields)


def summary(items: list[FollowUp]) -> list[tuple[str, str, str, str, int]]:
    return [(f.contact, f.kind, f.due.isoformat(), f.status, f.days) for f in items]


# --- each rule ------------------------------------------------------------------------------


def test_thank_you_due_after_the_types_days():
    people = [contact(interactions=(interaction("2026-11-24", "interview"),))]
    assert summary(pending_followups(people, SETTINGS, TODAY)) == [("jane", "thank-you", "2026-11-25", "due", 0)]


@pytest.mark.parametrize(
    ("type_", "due"),
    [("interview", "2026-11-21"), ("informational-interview", "2026-11-22"), ("networking", "2026-11-22"),
     ("referral", "2026-11-21"), ("coffee", "2026-11-22")],
)  # fmt: skip
def test_default_thank_you_days_per_type(type_, due):
    people = [contact(interactions=(interaction("2026-11-20", type_),))]
    (item,) = pending_followups(people, SETTINGS, TODAY)
    assert (item.kind, item.due.isoformat(), item.status) == ("thank-you", due, "overdue")


@pytest.mark.parametrize("type_", ["call", "email", "meeting", "event", "other"])
def test_types_without_rules_owe_nothing(type_):
    assert pending_followups([contact(interactions=(interaction("2026-11-20", type_),))], SETTINGS, TODAY) == []


def test_followed_up_ends_the_thank_you_and_starts_a_check_in():
    people = [contact(interactions=(interaction("2026-11-10", "interview", "2026-11-11"),))]
    assert summary(pending_followups(people, SETTINGS, TODAY)) == [("jane", "check-in", "2026-11-18", "overdue", -7)]


def test_same_day_follow_up_counts():
    people = [contact(interactions=(interaction("2026-11-24", "interview", "2026-11-24"),))]
    assert summary(pending_followups(people, SETTINGS, TODAY)) == [("jane", "check-in", "2026-12-01", "upcoming", 6)]


def test_check_in_only_for_types_with_a_check_in_rule():
    people = [contact(interactions=(interaction("2026-11-10", "networking", "2026-11-11"),))]
    assert pending_followups(people, SETTINGS, TODAY) == []


def test_a_later_interaction_ends_the_check_in():
    people = [contact(interactions=(interaction("2026-11-10", "interview", "2026-11-11"),
                                    interaction("2026-11-15", "call", index=1)))]  # fmt: skip
    assert pending_followups(people, SETTINGS, TODAY) == []


def test_interactions_out_of_order_in_the_file():
    later_first = (interaction("2026-11-15", "call", index=0), interaction("2026-11-10", "interview", "2026-11-11", index=1))
    assert pending_followups([contact(interactions=later_first)], SETTINGS, TODAY) == []
    # the check-in of the *latest* interview still stands when it is written first
    reversed_ = (interaction("2026-11-20", "interview", "2026-11-20", index=0), interaction("2026-11-01", "call", index=1))
    assert summary(pending_followups([contact(interactions=reversed_)], SETTINGS, TODAY)) == [
        ("jane", "check-in", "2026-11-27", "upcoming", 2)
    ]


def test_skip_ends_thank_you_and_check_in():
    people = [contact(interactions=(interaction("2026-11-20", "interview", skip=True),))]
    assert pending_followups(people, SETTINGS, TODAY) == []


def test_reconnect_counts_from_the_latest_interaction():
    people = [contact(keep_in_touch=Period(30, "d"),
                      interactions=(interaction("2026-10-01", "call", index=0), interaction("2026-09-01", "call", index=1)))]  # fmt: skip
    assert summary(pending_followups(people, SETTINGS, TODAY)) == [("jane", "reconnect", "2026-10-31", "overdue", -25)]


def test_reconnect_without_interactions_is_due_today():
    people = [contact(keep_in_touch=Period(3, "m"))]
    assert summary(pending_followups(people, SETTINGS, TODAY)) == [("jane", "reconnect", "2026-11-25", "due", 0)]


def test_reconnect_in_calendar_months_clamps_to_month_end():
    people = [contact(keep_in_touch=Period(1, "m"), interactions=(interaction("2027-01-31", "call"),))]
    (item,) = pending_followups(people, SETTINGS, TODAY)
    assert item.due == dt.date(2027, 2, 28)


def test_reminders_pending_until_done():
    reminders = (
        Reminder(0, 1, day("2026-11-20"), "overdue one", False, None),
        Reminder(1, 1, day("2026-11-26"), "tomorrow", False, None),
        Reminder(2, 1, day("2026-11-01"), "done", True, None),
        Reminder(3, 1, day("2026-11-02"), "done on a date", True, day("2026-11-02")),
    )
    assert summary(pending_followups([contact(reminders=reminders)], SETTINGS, TODAY)) == [
        ("jane", "reminder", "2026-11-20", "overdue", -5),
        ("jane", "reminder", "2026-11-26", "upcoming", 1),
    ]


def test_follow_up_sent_after_its_due_date_still_ends_it():
    people = [contact(interactions=(interaction("2026-11-01", "networking", "2026-11-20"),))]
    assert pending_followups(people, SETTINGS, TODAY) == []


def test_multiple_pending_items_for_one_contact():
    person = contact(
        keep_in_touch=Period(2, "w"),
        interactions=(interaction("2026-11-20", "interview", index=0), interaction("2026-11-23", "networking", index=1)),
        reminders=(Reminder(0, 1, day("2026-11-25"), "call back", False, None),),
    )
    assert summary(pending_followups([person], SETTINGS, TODAY)) == [
        ("jane", "thank-you", "2026-11-21", "overdue", -4),
        ("jane", "reminder", "2026-11-25", "due", 0),
        ("jane", "thank-you", "2026-11-25", "due", 0),
        ("jane", "reconnect", "2026-12-07", "later", 12),
    ]


def test_missing_gained_is_flagged():
    people = [contact(interactions=(interaction("2026-11-24", "interview", gained=""),))]
    (item,) = pending_followups(people, SETTINGS, TODAY)
    assert item.note_missing_gained is True


def test_statuses_and_upcoming_window():
    assert [status_of(TODAY + dt.timedelta(days=d), TODAY, 7) for d in (-1, 0, 1, 7, 8)] == [
        "overdue", "due", "upcoming", "upcoming", "later",
    ]  # fmt: skip
    assert status_of(TODAY + dt.timedelta(days=1), TODAY, 0) == "later"


def test_order_overdue_then_due_date_then_name():
    people = [
        contact("zed", "Zed", interactions=(interaction("2026-11-20", "interview"),)),
        contact("amy", "Amy", interactions=(interaction("2026-11-20", "interview"),)),
        contact("bob", "Bob", interactions=(interaction("2026-11-10", "networking"),)),
        contact("cat", "Cat", interactions=(interaction("2026-11-24", "networking"),)),
    ]
    assert [(f.contact, f.status) for f in pending_followups(people, SETTINGS, TODAY)] == [
        ("bob", "overdue"), ("amy", "overdue"), ("zed", "overdue"), ("cat", "upcoming"),
    ]  # fmt: skip


def test_select_filters():
    people = [
        contact("a", "A", tags=("acme",), interactions=(interaction("2026-11-20", "interview"),)),
        contact("b", "B", interactions=(interaction("2026-11-24", "networking"),)),
        contact("c", "C", keep_in_touch=Period(1, "y"), interactions=(interaction("2026-11-01", "call"),)),
    ]
    items = pending_followups(people, SETTINGS, TODAY)
    by_slug = {p.slug: p for p in people}
    assert [f.contact for f in select(items)] == ["a", "b"]
    assert [f.contact for f in select(items, overdue_only=True)] == ["a"]
    assert [f.contact for f in select(items, include_all=True)] == ["a", "b", "c"]
    assert [f.contact for f in select(items, within=0)] == ["a"]
    assert [f.contact for f in select(items, within=400)] == ["a", "b", "c"]
    assert [f.contact for f in select(items, tag="ACME", contacts=by_slug)] == ["a"]


def test_followup_rate_counts_on_time_notes_in_the_last_90_days():
    people = [
        contact("a", interactions=(
            interaction("2026-11-20", "interview", "2026-11-21", index=0),  # on time (due 11-21)
            interaction("2026-11-10", "networking", "2026-11-15", index=1),  # late
            interaction("2026-11-01", "networking", index=2),  # never sent, overdue: late
            interaction("2026-11-24", "networking", index=3),  # not yet due: not counted
            interaction("2026-11-02", "interview", skip=True, index=4),  # skip: not counted
            interaction("2026-08-01", "interview", "2026-08-01", index=5),  # outside 90 days
            interaction("2026-11-03", "call", index=6),  # no thank-you rule
        )),
    ]  # fmt: skip
    rate = followup_rate(people, SETTINGS, TODAY)
    assert (rate.on_time, rate.counted, rate.percent) == (1, 3, 33)
    assert followup_rate([], SETTINGS, TODAY).percent is None


# --- dates: properties --------------------------------------------------------------------

dates = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2200, 12, 31))


@given(dates, st.integers(min_value=0, max_value=240))
def test_add_months_lands_in_the_right_month_and_clamps(start, months):
    result = add_months(start, months)
    assert (result.year * 12 + result.month) - (start.year * 12 + start.month) == months
    last = calendar.monthrange(result.year, result.month)[1]
    assert result.day == min(start.day, last)


@given(dates, st.integers(min_value=1, max_value=1000))
def test_days_and_weeks_are_exact(start, count):
    assert add_period(start, Period(count, "d")) - start == dt.timedelta(days=count)
    assert add_period(start, Period(count, "w")) - start == dt.timedelta(weeks=count)


@given(dates, st.integers(min_value=1, max_value=50))
def test_years_are_twelve_months(start, years):
    assert add_period(start, Period(years, "y")) == add_months(start, 12 * years)


def test_month_end_examples():
    assert add_months(day("2026-01-31"), 1) == day("2026-02-28")
    assert add_months(day("2028-01-31"), 1) == day("2028-02-29")
    assert add_months(day("2026-03-31"), 1) == day("2026-04-30")
    assert add_months(day("2026-12-15"), 1) == day("2027-01-15")
    assert add_period(day("2028-02-29"), Period(1, "y")) == day("2029-02-28")


@given(st.lists(st.tuples(dates, st.sampled_from(["A", "b", "C", "d"]), st.sampled_from(["thank-you", "reminder"])),
                max_size=30))  # fmt: skip
def test_sort_order_property(raw):
    items = [
        FollowUp(contact=name.lower(), name=name, kind=kind, due=due, status=status_of(due, TODAY, 7),
                 days=(due - TODAY).days)  # fmt: skip
        for due, name, kind in raw
    ]
    ordered = sorted(items, key=sort_key)
    for first, second in zip(ordered, ordered[1:], strict=False):
        assert STATUS_ORDER[first.status] <= STATUS_ORDER[second.status]
        if first.status == second.status:
            assert (first.due, first.name.casefold()) <= (second.due, second.name.casefold())


def test_parse_period():
    assert parse_period("90d") == Period(90, "d")
    assert parse_period("6W") == Period(6, "w")
    assert parse_period(14) == Period(14, "d")
    assert parse_period("0d") is None
    assert parse_period(True) is None
    assert parse_period("monthly") is None


def test_relative_and_spoken_days():
    assert [relative_days(d) for d in (-3, -1, 0, 1, 2)] == ["3 days overdue", "1 day overdue", "today", "tomorrow", "in 2 days"]
    assert spoken_date(day("2026-11-25"), TODAY) == "today"
    assert spoken_date(day("2026-11-24"), TODAY) == "yesterday"
    assert spoken_date(day("2026-11-19"), TODAY) == "on Thursday"
    assert spoken_date(day("2026-11-03"), TODAY) == "on 3 November"
    assert spoken_date(day("2025-12-03"), TODAY) == "on 3 December 2025"


def test_spoken_dates_name_days_and_months_as_strftime_does() -> None:
    for offset in range(2, 800):
        when = TODAY - dt.timedelta(days=offset)
        said = spoken_date(when, TODAY)
        if offset < 7:
            assert said == f"on {when.strftime('%A')}"
        else:
            assert said.startswith(f"on {when.day} {when.strftime('%B')}")
