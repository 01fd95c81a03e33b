"""Job applications: reading and checking `applications/*.md`, and the notes each stage owes
(who gets which follow-up, by when, and when it is no longer owed)."""

from __future__ import annotations

import datetime as dt
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from generator.applications import check_application
from generator.followups import pending_followups
from generator.load import load
from generator.model import FollowUp, Settings
from generator.settings import default_settings, parse_settings

TODAY = dt.date(2026, 12, 6)
SETTINGS = default_settings()
PEOPLE = {
    "raj-patel": "Raj Patel",
    "mia-chen": "Mia Chen",
    "tom-ross": "Tom Ross",
}


def people_files(extra: dict[str, str] | None = None) -> dict[str, str]:
    files = {f"contacts/{slug}.md": f"---\nname: {name}\n---\n" for slug, name in PEOPLE.items()}
    files.update(extra or {})
    return files


def check(text: str, settings: Settings = SETTINGS) -> tuple[object, list[str]]:
    app, problems = check_application(
        textwrap.dedent(text).lstrip("\n").encode(), "applications/x.md", "x", settings, set(PEOPLE)
    )
    return app, [p.format() for p in problems]


def owed(root: Path, today: dt.date = TODAY) -> list[tuple[str, str, str, str]]:
    """(contact, kind, due, status) of every follow-up an application owes, sorted."""
    loaded = load(root)
    assert not loaded.errors, [p.format() for p in loaded.errors]
    items = pending_followups(loaded.contacts, loaded.settings, today, loaded.involving)
    return sorted((f.contact, f.kind, f.due.isoformat(), f.status) for f in items if f.application is not None)


def app_file(body: str) -> dict[str, str]:
    return {"applications/globex.md": "---\ncompany: Globex\nrole: Staff Engineer\n" + textwrap.dedent(body).lstrip("\n") + "---\n"}


# --- reading and checking ---------------------------------------------------------------------


def test_a_valid_application_reads_every_field() -> None:
    app, problems = check(
        """
        ---
        company: Globex
        role: Staff Engineer
        url: https://globex.example/jobs/42
        via: raj-patel
        contacts: [mia-chen]
        next: 2026-12-10
        stages:
          - {stage: applied, date: 2026-11-20, followed_up: {raj-patel: 2026-11-21}}
          - stage: interview
            date: 2026-12-01
            with: [mia-chen, tom-ross]
            note: system design
            checked: 2026-12-03
        ---
        Notes.
        """
    )
    assert problems == []
    assert app is not None
    assert (app.company, app.role, app.url, app.via, app.contacts, app.next) == (  # type: ignore[attr-defined]
        "Globex", "Staff Engineer", "https://globex.example/jobs/42", "raj-patel", ("mia-chen",), dt.date(2026, 12, 10),
    )  # fmt: skip
    first, second = app.stages  # type: ignore[attr-defined]
    assert first.followed_up == (("raj-patel", dt.date(2026, 11, 21)),)
    assert (second.stage, second.with_, second.note, second.checked, second.line) == (
        "interview", ("mia-chen", "tom-ross"), "system design", dt.date(2026, 12, 3), 10,
    )  # fmt: skip
    assert app.people() == ("raj-patel", "mia-chen", "tom-ross")  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("stages", "expected"),
    [
        (
            "  - {stage: interview, date: 2026-11-20}\n  - {stage: applied, date: 2026-11-21}\n",
            "applications/x.md:6:13: error: stages[1].stage: 'applied' after 'interview': stages go in the order "
            "applied, screen, interview, onsite, offer, accepted, rejected, withdrawn",
        ),
        (
            "  - {stage: applied, date: 2026-11-20}\n  - {stage: rejected, date: 2026-11-22}\n"
            "  - {stage: interview, date: 2026-11-23}\n",
            "applications/x.md:7:13: error: stages[2].stage: 'interview' after 'rejected': an outcome ends the application",
        ),
        (
            "  - {stage: applied, date: 2026-11-20}\n  - {stage: screen, date: 2026-11-10}\n",
            "applications/x.md:6:27: error: stages[1].date: 2026-11-10 is before the stage above it (applied, "
            "2026-11-20): list stages in the order they happened",
        ),
        (
            "  - {stage: aplied, date: 2026-11-20}\n",
            "applications/x.md:5:13: error: stages[0].stage: unknown stage 'aplied' (did you mean applied? stages: "
            "applied, screen, interview, onsite, offer, accepted, rejected, withdrawn; more can be added under "
            "applications: stages: in crm.yaml)",
        ),
        (
            "  - {stage: applied, date: next tuesday}\n",
            "applications/x.md:5:28: error: stages[0].date: 'next tuesday' is not a date (expected YYYY-MM-DD)",
        ),
        (
            "  - {stage: applied, date: 2026-11-20, with: [raj-patl]}\n",
            "applications/x.md:5:47: error: stages[0].with[0]: no contact 'raj-patl'; did you mean raj-patel?",
        ),
    ],
)
def test_stage_problems_name_the_line_and_what_was_expected(stages: str, expected: str) -> None:
    app, problems = check("---\ncompany: Globex\nrole: Dev\nstages:\n" + stages + "---\n")
    assert app is None
    assert expected in problems, problems


def test_a_note_cannot_be_sent_before_its_stage() -> None:
    app, problems = check(
        "---\ncompany: G\nrole: R\nstages:\n  - stage: applied\n    date: 2026-11-20\n"
        "    followed_up: {raj-patel: 2026-11-19}\n    checked: 2026-11-01\n---\n"
    )
    assert app is None
    assert problems == [
        "applications/x.md:7:30: error: stages[0].followed_up.raj-patel: 2026-11-19 is before the stage's date 2026-11-20",
        "applications/x.md:8:14: error: stages[0].checked: 2026-11-01 is before the stage's date 2026-11-20",
    ]


def test_the_fields_are_checked() -> None:
    app, problems = check(
        """
        ---
        role: 42
        url: globex.example
        via: nobody-at-all
        next: soon
        stages: []
        colour: blue
        ---
        """
    )
    assert app is None
    assert problems == [
        "applications/x.md:2:1: error: company: is required (expected text)",
        "applications/x.md:2:7: error: role: expected text, found an integer; put it in quotes",
        "applications/x.md:3:6: error: url: 'globex.example' is not a web address (expected https://…)",
        "applications/x.md:4:6: error: via: no contact 'nobody-at-all' (the file name of a contact, without .md)",
        "applications/x.md:5:7: error: next: 'soon' is not a date (expected YYYY-MM-DD)",
        "applications/x.md:6:9: error: stages: is required: a list like [{stage: applied, date: 2026-11-20}]",
        "applications/x.md:7:1: warning: colour: unknown field 'colour' (known: company, role, url, via, contacts, "
        "next, snooze, stages)",
    ]


def test_a_note_recorded_for_someone_outside_the_application_is_a_warning() -> None:
    app, problems = check(
        "---\ncompany: G\nrole: R\nstages:\n  - {stage: applied, date: 2026-11-20, followed_up: {tom-ross: 2026-11-21}}\n---\n"
    )
    assert app is not None
    assert problems == [
        "applications/x.md:5:54: warning: stages[0].followed_up.tom-ross: 'tom-ross' is not part of this "
        "application (not via, contacts or a stage's with)"
    ]


def test_stages_come_from_crm_yaml() -> None:
    settings, problems = parse_settings(
        "applications:\n  stages: [applied, take-home, panel, offer, declined]\n  interviews: [panel]\n"
        "  outcomes: [declined]\n  status_check_days: 10\n"
    )
    assert problems == []
    assert (settings.stages, settings.interview_stages, settings.outcome_stages, settings.status_check_days) == (
        ("applied", "take-home", "panel", "offer", "declined"), ("panel",), ("declined",), 10,
    )  # fmt: skip
    app, found = check("---\ncompany: G\nrole: R\nstages:\n  - {stage: take-home, date: 2026-11-20}\n---\n", settings)
    assert found == [] and app is not None
    _, found = check("---\ncompany: G\nrole: R\nstages:\n  - {stage: onsite, date: 2026-11-20}\n---\n", settings)
    assert "unknown stage 'onsite'" in found[0]


def test_wrong_stage_settings_are_reported_and_the_defaults_kept() -> None:
    settings, problems = parse_settings("applications:\n  stages: [applied, applied]\n  outcomes: [hired]\n  status_check_days: 0\n")
    assert settings.stages == default_settings().stages
    assert [p.format() for p in problems] == [
        "crm.yaml:2:11: error: applications.stages: expected a list of distinct stage names like [applied, "
        "interview], found a list (['applied', 'applied'])",
        "crm.yaml:3:13: error: applications.outcomes: 'hired' is not one of the stages (applied, screen, interview, "
        "onsite, offer, accepted, rejected, withdrawn)",
        "crm.yaml:4:22: error: applications.status_check_days: expected a whole number of days (1 to 365), found an "
        "integer (0)",
    ]


def test_an_invalid_application_is_an_error_of_the_load(crm_root: Callable[..., Path]) -> None:
    root = crm_root(people_files({"applications/bad.md": "---\ncompany: G\nrole: R\n---\n", "applications/notes.txt": "x"}))
    loaded = load(root)
    assert [p.format() for p in loaded.errors] == [
        "applications/bad.md:2:1: error: stages: is required: a list like [{stage: applied, date: 2026-11-20}]"
    ]
    assert loaded.applications == [] and len(loaded.contacts) == 3


# --- the notes each stage owes -----------------------------------------------------------------


def test_applying_with_a_referral_owes_the_referrer_a_thank_you(crm_root: Callable[..., Path]) -> None:
    root = crm_root(people_files(app_file("via: raj-patel\nstages:\n  - {stage: applied, date: 2026-12-05}\n")))
    assert owed(root) == [
        ("raj-patel", "status-check", "2026-12-12", "upcoming"),  # nobody else to ask: the referrer
        ("raj-patel", "thank-you", "2026-12-06", "due"),
    ]


def test_each_later_stage_owes_the_referrer_an_update_and_the_interviewers_a_thank_you(
    crm_root: Callable[..., Path],
) -> None:
    root = crm_root(people_files(app_file("""
        via: raj-patel
        contacts: [mia-chen]
        stages:
          - {stage: applied, date: 2026-11-20, followed_up: {raj-patel: 2026-11-21}}
          - {stage: interview, date: 2026-12-01, with: [mia-chen, tom-ross]}
    """)))
    assert owed(root) == [
        ("mia-chen", "status-check", "2026-12-08", "upcoming"),  # status_check_days after the interview
        ("mia-chen", "thank-you", "2026-12-02", "overdue"),
        ("raj-patel", "update", "2026-12-04", "overdue"),
        ("tom-ross", "thank-you", "2026-12-02", "overdue"),
    ]


def test_a_meeting_also_logged_as_an_interaction_owes_one_thank_you(crm_root: Callable[..., Path]) -> None:
    files = people_files(app_file("stages:\n  - {stage: applied, date: 2026-11-20}\n  - {stage: onsite, date: 2026-12-01, with: [tom-ross]}\n"))
    files["contacts/tom-ross.md"] = "---\nname: Tom Ross\ninteractions:\n  - {date: 2026-12-01, type: interview}\n---\n"
    root = crm_root(files)
    loaded = load(root)
    items = pending_followups(loaded.contacts, loaded.settings, TODAY, loaded.involving)
    thanks = [f for f in items if f.contact == "tom-ross" and f.kind == "thank-you"]
    assert len(thanks) == 1 and thanks[0].interaction is not None and thanks[0].application is None


def test_notes_recorded_as_sent_are_no_longer_owed(crm_root: Callable[..., Path]) -> None:
    root = crm_root(people_files(app_file("""
        via: raj-patel
        contacts: [mia-chen]
        stages:
          - {stage: applied, date: 2026-11-20}
          - stage: interview
            date: 2026-12-01
            with: [mia-chen, tom-ross]
            followed_up: {mia-chen: 2026-12-02, raj-patel: 2026-12-03}
            checked: 2026-12-05
    """)))
    assert owed(root) == [("tom-ross", "thank-you", "2026-12-02", "overdue")]


def test_the_status_check_is_due_at_next(crm_root: Callable[..., Path]) -> None:
    root = crm_root(people_files(app_file("contacts: [mia-chen]\nnext: 2026-12-20\nstages:\n  - {stage: applied, date: 2026-12-01}\n")))
    assert owed(root) == [("mia-chen", "status-check", "2026-12-20", "later")]
    # a `next` older than the latest stage is stale: status_check_days after the stage
    root = crm_root(people_files(app_file("contacts: [mia-chen]\nnext: 2026-11-01\nstages:\n  - {stage: applied, date: 2026-12-01}\n")))
    assert owed(root) == [("mia-chen", "status-check", "2026-12-08", "upcoming")]


def test_a_status_check_with_nobody_to_ask_is_not_a_contacts_follow_up(crm_root: Callable[..., Path]) -> None:
    root = crm_root(people_files(app_file("stages:\n  - {stage: applied, date: 2026-11-20}\n")))
    assert owed(root) == []


def test_an_outcome_owes_the_referrer_and_the_recruiter_a_closing_note(crm_root: Callable[..., Path]) -> None:
    root = crm_root(people_files(app_file("""
        via: raj-patel
        contacts: [mia-chen]
        stages:
          - {stage: applied, date: 2026-11-01, followed_up: {raj-patel: 2026-11-02}}
          - {stage: offer, date: 2026-11-20, followed_up: {raj-patel: 2026-11-21}}
          - {stage: accepted, date: 2026-12-04}
    """)))
    assert owed(root) == [
        ("mia-chen", "closing", "2026-12-07", "upcoming"),
        ("raj-patel", "closing", "2026-12-07", "upcoming"),
    ]


def test_a_referrer_who_is_also_the_recruiter_gets_one_closing_note(crm_root: Callable[..., Path]) -> None:
    root = crm_root(people_files(app_file(
        "via: raj-patel\ncontacts: [raj-patel]\nstages:\n  - {stage: applied, date: 2026-11-01}\n"
        "  - {stage: rejected, date: 2026-12-04}\n"
    )))
    assert owed(root) == [("raj-patel", "closing", "2026-12-07", "upcoming")]


def test_a_referrer_met_at_the_last_interview_gets_the_thank_you_not_an_update(crm_root: Callable[..., Path]) -> None:
    root = crm_root(people_files(app_file(
        "via: raj-patel\ncontacts: [mia-chen]\nstages:\n  - {stage: applied, date: 2026-11-01, followed_up: {raj-patel: 2026-11-01}}\n"
        "  - {stage: interview, date: 2026-12-04, with: [raj-patel]}\n"
    )))
    assert [o[:2] for o in owed(root)] == [("mia-chen", "status-check"), ("raj-patel", "thank-you")]


def test_a_withdrawn_application_still_owes_a_closing_note(crm_root: Callable[..., Path]) -> None:
    root = crm_root(people_files(app_file(
        "contacts: [mia-chen]\nstages:\n  - {stage: applied, date: 2026-10-01}\n  - {stage: withdrawn, date: 2026-11-30}\n"
    )))
    assert owed(root) == [("mia-chen", "closing", "2026-12-03", "overdue")]


def test_notes_go_missed_like_thank_yous(crm_root: Callable[..., Path]) -> None:
    root = crm_root(people_files(app_file("stages:\n  - {stage: applied, date: 2026-10-01}\n  - {stage: interview, date: 2026-10-10, with: [tom-ross]}\n")))
    assert owed(root) == [("tom-ross", "thank-you", "2026-10-11", "missed")]  # 56 days late: a reconnect instead


def test_snooze_puts_every_note_of_an_application_off(crm_root: Callable[..., Path]) -> None:
    body = "via: raj-patel\nsnooze: {snooze}\nstages:\n  - {{stage: applied, date: 2026-11-20}}\n  - {{stage: screen, date: 2026-11-25, with: [tom-ross]}}\n"
    root = crm_root(people_files(app_file(body.format(snooze="2026-12-15"))))
    assert owed(root) == [
        ("raj-patel", "status-check", "2026-12-15", "later"),
        ("raj-patel", "update", "2026-12-15", "later"),
        ("tom-ross", "thank-you", "2026-12-15", "later"),
    ]
    # snoozed to a day already past (but after the notes were due): due that day, overdue since
    root = crm_root(people_files(app_file(body.format(snooze="2026-12-01"))))
    assert owed(root) == [
        ("raj-patel", "status-check", "2026-12-02", "overdue"),
        ("raj-patel", "update", "2026-12-01", "overdue"),
        ("tom-ross", "thank-you", "2026-12-01", "overdue"),
    ]


def test_snooze_on_an_interaction_and_a_reminder(crm_root: Callable[..., Path]) -> None:
    root = crm_root({"contacts/ann.md": """
        ---
        name: Ann Lee
        reminders:
          - {date: 2026-12-01, note: send the deck, snooze: 2026-12-09}
        interactions:
          - {date: 2026-12-01, type: coffee, snooze: 2026-11-01}
          - {date: 2026-12-02, type: networking, snooze: 2026-12-12}
        ---
    """})
    loaded = load(root)
    items = pending_followups(loaded.contacts, loaded.settings, TODAY)
    assert sorted((f.kind, f.due.isoformat(), f.status) for f in items) == [
        ("reminder", "2026-12-09", "upcoming"),
        ("thank-you", "2026-12-03", "overdue"),  # a snooze before the due date changes nothing
        ("thank-you", "2026-12-12", "upcoming"),
    ]


def test_a_snooze_that_is_not_a_date_is_an_error(crm_root: Callable[..., Path]) -> None:
    root = crm_root({"contacts/ann.md": "---\nname: Ann\ninteractions:\n  - {date: 2026-12-01, type: coffee, snooze: later}\n---\n"})
    assert [p.format() for p in load(root).errors] == [
        "contacts/ann.md:4:46: error: interactions[0].snooze: 'later' is not a date (expected YYYY-MM-DD)"
    ]


def test_an_application_note_in_json_names_its_application(crm_root: Callable[..., Path]) -> None:
    root = crm_root(people_files(app_file("via: raj-patel\nstages:\n  - {stage: applied, date: 2026-12-05}\n")))
    loaded = load(root)
    items: list[FollowUp] = pending_followups(loaded.contacts, loaded.settings, TODAY, loaded.involving)
    thanks = next(f for f in items if f.kind == "thank-you")
    assert thanks.as_json()["application"] == {
        "slug": "globex", "company": "Globex", "role": "Staff Engineer", "stage": "applied", "date": "2026-12-05",
        "to": "referrer",
    }  # fmt: skip
    assert thanks.uid_key == "raj-patel-thank-you-globex-0"
