"""Follow-ups that age out (SPEC §4, `missed`): a thank-you more than 14 days past due, a check-in
more than 21, or a type's own `late_after`, is missed: out of the default list, the dashboard's
lists and the calendar, counted against the rate, listed by `crm followups --missed`, and shown
on the contact page with a reconnect note instead."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from generator.followups import followup_rate, pending_followups, select
from generator.model import Contact, Interaction
from generator.settings import default_settings, parse_settings

TODAY = dt.date(2026, 11, 25)
SETTINGS = default_settings()


def interaction(date: dt.date, type: str = "interview", followed_up: dt.date | None = None, skip: bool = False) -> Interaction:
    return Interaction(
        index=0, line=1, date=date, time=None, type=type, summary="", gained="advice", with_=(),
        followed_up=followed_up, skip=skip,
    )  # fmt: skip


def statuses(*interactions: Interaction, settings=SETTINGS) -> list[tuple[str, str, int]]:
    person = Contact(slug="jane", path="contacts/jane.md", name="Jane", interactions=interactions)
    return [(f.kind, f.status, f.days) for f in pending_followups([person], settings, TODAY)]


@pytest.mark.parametrize(("late", "status"), [(13, "overdue"), (14, "overdue"), (15, "missed"), (400, "missed")])
def test_a_thank_you_is_missed_after_14_days_past_due(late: int, status: str) -> None:
    due = TODAY - dt.timedelta(days=late)
    met = due - dt.timedelta(days=1)  # an interview's thank-you is due a day after
    assert statuses(interaction(met)) == [("thank-you", status, -late)]


@pytest.mark.parametrize(("late", "status"), [(21, "overdue"), (22, "missed")])
def test_a_check_in_is_missed_after_21_days_past_due(late: int, status: str) -> None:
    thanked = TODAY - dt.timedelta(days=late + 7)  # an interview's check-in is due 7 days after the note
    assert statuses(interaction(thanked - dt.timedelta(days=1), followed_up=thanked)) == [("check-in", status, -late)]


def test_a_types_late_after_overrides_both_defaults() -> None:
    settings, problems = parse_settings("types:\n  interview: {thank_you: 1, check_in: 7, late_after: 3}\n")
    assert problems == []
    met = TODAY - dt.timedelta(days=5)  # due 4 days ago
    assert statuses(interaction(met), settings=settings) == [("thank-you", "missed", -4)]
    assert statuses(interaction(met + dt.timedelta(days=1)), settings=settings) == [("thank-you", "overdue", -3)]


@pytest.mark.parametrize("value", ["-1", "soon", "true", "1.5"])
def test_a_bad_late_after_is_a_settings_error(value: str) -> None:
    _, problems = parse_settings(f"types:\n  interview: {{thank_you: 1, late_after: {value}}}\n")
    assert [p.field for p in problems] == ["types.interview.late_after"]
    assert "whole number of days" in problems[0].message


def test_skip_ends_it_and_other_kinds_never_age_out() -> None:
    long_ago = TODAY - dt.timedelta(days=300)
    assert statuses(interaction(long_ago, skip=True)) == []
    assert statuses(interaction(long_ago, "call")) == []  # no thank-you owed at all
    person = Contact(slug="jo", path="contacts/jo.md", name="Jo", reminders=(), interactions=())
    assert pending_followups([person], SETTINGS, TODAY) == []


def test_missed_leaves_the_lists_but_counts_against_the_rate() -> None:
    items_of = [interaction(TODAY - dt.timedelta(days=40)), interaction(TODAY - dt.timedelta(days=3))]
    person = Contact(slug="jane", path="contacts/jane.md", name="Jane", interactions=tuple(items_of))
    items = pending_followups([person], SETTINGS, TODAY)
    assert [f.status for f in items] == ["overdue", "missed"]  # missed sorts last
    assert [f.status for f in select(items)] == ["overdue"]
    assert [f.status for f in select(items, within=0)] == ["overdue"]
    assert [f.status for f in select(items, overdue_only=True)] == ["overdue"]
    assert [f.status for f in select(items, missed=True)] == ["missed"]
    assert [f.status for f in select(items, include_all=True)] == ["overdue", "missed"]
    rate = followup_rate([person], SETTINGS, TODAY)
    assert (rate.on_time, rate.counted) == (0, 2)


JANE = """\
---
name: Jane Doe
email: jane@example.com
company: Acme
interactions:
  - date: 2026-09-01
    type: coffee
    summary: Coffee long ago
    gained: a tip on the platform team
  - date: 2026-11-20
    type: interview
    summary: Onsite
    gained: how the team ships
---
"""


def test_the_cli_hides_them_and_lists_them_on_request(crm_root: Callable[..., Path], cli: Callable[..., Result]) -> None:
    root = crm_root({"contacts/jane.md": JANE})
    env = {"CRM_TODAY": "2026-11-25"}
    default = cli(root, "followups", env=env)
    assert "interview on 2026-11-20" in default.output
    assert "coffee on 2026-09-01" not in default.output
    assert "1 missed, too late to send (see them: crm followups --missed)" in default.output
    missed = cli(root, "followups", "--missed", env=env)
    assert "Missed (consider a reconnect note) (1)" in missed.output and "coffee on 2026-09-01" in missed.output
    assert "interview on 2026-11-20" not in missed.output
    doc = json.loads(cli(root, "followups", "--missed", "--format", "json", env=env).stdout)
    assert [(f["kind"], f["status"], f["due"]) for f in doc["followups"]] == [("thank-you", "missed", "2026-09-03")]
    calendar = cli(root, "followups", "--format", "ics", env=env).stdout
    assert calendar.count("BEGIN:VEVENT") == 1 and "2026-09" not in calendar.replace("DTSTAMP", "")
    both = cli(root, "followups", "--missed", "--all", env=env)
    assert both.exit_code == 2 and "choose one of" in both.output


def test_the_site_counts_them_and_suggests_a_reconnect_note(
    crm_root: Callable[..., Path], cli: Callable[..., Result]
) -> None:
    root = crm_root({"contacts/jane.md": JANE})
    result = cli(root, "build", env={"CRM_TODAY": "2026-11-25"})
    assert result.exit_code == 0, result.output
    dashboard = (root / "site" / "index.html").read_text(encoding="utf-8")
    # The count links to the missed list: one row per contact, linking to the reconnect draft.
    assert '<li class="stat stat-missed"><a href="followups/missed.html"><span class="stat-num">1</span>' in dashboard
    missed_list = (root / "site" / "followups" / "missed.html").read_text(encoding="utf-8")
    assert missed_list.count('<li class="frow frow-missed">') == 1
    assert '<a href="../contacts/jane.html#f-jane-thank-you-2026-09-01-0">Jane Doe</a>' in missed_list
    assert "coffee on 2026-09-01" in missed_list
    assert "fu-missed" not in dashboard and "coffee on 2026-09-01" not in dashboard  # not among the cards
    assert "interview on 2026-11-20" in dashboard
    page = (root / "site" / "contacts" / "jane.html").read_text(encoding="utf-8")
    card = page[page.index('class="fu fu-missed"') :]
    card = card[: card.index("</article>")]
    assert 'id="f-jane-thank-you-2026-09-01-0"' in card  # where the missed list's row points
    assert "Missed — too late for this note; consider a reconnect note." in card
    assert "I never properly thanked you for a tip on the platform team" in card  # the reconnect draft
    ics = (root / "site" / "followups.ics").read_text(encoding="utf-8")
    assert ics.count("BEGIN:VEVENT") == 1 and "DTSTART;VALUE=DATE:20261121" in ics and "20260903" not in ics
    # Marking the old coffee done takes it off the count (the dashboard is built again).
    path = root / "contacts" / "jane.md"
    path.write_text(path.read_text(encoding="utf-8").replace("    gained: a tip on the platform team\n",
                    "    gained: a tip on the platform team\n    followed_up: skip\n"), encoding="utf-8")  # fmt: skip
    assert cli(root, "build", env={"CRM_TODAY": "2026-11-25"}).exit_code == 0
    assert "stat-missed" not in (root / "site" / "index.html").read_text(encoding="utf-8")


def test_one_reconnect_draft_covers_all_of_a_contacts_missed_notes(
    crm_root: Callable[..., Path], cli: Callable[..., Result]
) -> None:
    older = JANE.replace("interactions:\n", "interactions:\n  - date: 2026-03-02\n    type: networking\n    summary: Meetup\n    gained: the meetup's organisers\n")  # fmt: skip
    root = crm_root({"contacts/jane.md": older})
    assert cli(root, "build", env={"CRM_TODAY": "2026-11-25"}).exit_code == 0
    page = (root / "site" / "contacts" / "jane.html").read_text(encoding="utf-8")
    cards = [c[: c.index("</article>")] for c in page.split('class="fu fu-missed"')[1:]]
    assert len(cards) == 2 and page.count("Draft note") == 2  # the interview's thank-you, one reconnect
    march, september = sorted(cards, key=lambda c: "2026-09-01" in c)
    assert "networking on 2026-03-02" in march and "drafted on the latest missed one" in march
    assert "Draft note" not in march
    assert "I never properly thanked you for a tip on the platform team" in september
