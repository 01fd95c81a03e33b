"""The notes a job application owes, from its stages (pure: the application, settings, `today`).

- The referrer (`via`) gets one note about the latest stage: a thank-you when you have only
  applied, an update at each later stage, a closing note on the outcome.
- Everyone met at an interview stage (`with`) gets a thank-you, unless that meeting is also
  logged as an interaction in their file (that interaction owes its own thank-you).
- The application's contacts (recruiter, hiring manager) get a closing note on the outcome.
- While the application is open, a status check is due at `next` (or `status_check_days`
  after the latest stage) to the first contact, else the referrer, unless asked already
  (`checked:` on that stage).

One note per person per stage: a referrer who is also the recruiter, or was met at the
interview, gets one. A note recorded in the stage's `followed_up: {slug: date}` is no longer
owed. `snooze:` puts every note of the application off to that day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from .dates import after
from .model import Application, AppNote, Contact, FollowUp, FollowUpKind, Settings, Stage, Status

UPDATE_DAYS = 3  # an update or closing note to the referrer or recruiter: within a few days
LATE_AFTER = {"thank-you": 14, "update": 21, "closing": 21}  # status checks are never too late


@dataclass(frozen=True)
class Owed:
    """One note an application owes someone (`to` is "" for a status check with no one to ask)."""

    slug: str
    kind: FollowUpKind
    stage: Stage
    to: Literal["referrer", "interviewer", "recruiter"]
    due: dt.date


def notes_owed(app: Application, settings: Settings) -> list[Owed]:
    """Every note `app` owes, in stage order (due dates before any snooze)."""
    out: list[Owed] = []
    rule = settings.rule("interview")
    thank_days = rule.thank_you if rule.thank_you is not None else 1
    for stage in app.stages:
        if stage.stage in settings.interview_stages:
            for who in stage.with_:
                if stage.sent_to(who) is None:
                    out.append(Owed(who, "thank-you", stage, "interviewer", after(stage.date, thank_days)))
    last = app.last
    answered = {who for who, _ in last.followed_up}
    if last.stage in settings.interview_stages:
        answered.update(last.with_)  # their thank-you above is this stage's note to them
    outcome = not app.is_open(settings)
    if app.via and app.via not in answered:
        if outcome:
            out.append(Owed(app.via, "closing", last, "referrer", after(last.date, UPDATE_DAYS)))
        elif len(app.stages) == 1:
            referral = settings.rule("referral").thank_you
            out.append(Owed(app.via, "thank-you", last, "referrer", after(last.date, 1 if referral is None else referral)))
        else:
            out.append(Owed(app.via, "update", last, "referrer", after(last.date, UPDATE_DAYS)))
        answered.add(app.via)
    if outcome:
        for who in app.contacts:
            if who not in answered:
                out.append(Owed(who, "closing", last, "recruiter", after(last.date, UPDATE_DAYS)))
                answered.add(who)
    elif last.checked is None:
        due = app.next if app.next is not None and app.next >= last.date else after(last.date, settings.status_check_days)
        who, to = (app.contacts[0], "recruiter") if app.contacts else (app.via, "referrer")
        out.append(Owed(who, "status-check", last, to, due))  # type: ignore[arg-type]
    return out


def logged_as_interaction(owed: Owed, contact: Contact) -> bool:
    """An interviewer's thank-you whose meeting is also logged in their own file: that
    interaction owes the thank-you, so the application does not owe a second one."""
    return owed.kind == "thank-you" and owed.to == "interviewer" and any(
        i.date == owed.stage.date for i in contact.interactions
    )


def timed(app: Application, owed: Owed, settings: Settings, today: dt.date) -> tuple[dt.date, Status]:
    """When a note is due (after the application's snooze) and its status on `today`."""
    from .followups import status_of

    due = max(owed.due, app.snooze) if app.snooze is not None else owed.due
    status = status_of(due, today, settings.upcoming_days)
    late = LATE_AFTER.get(owed.kind)
    if late is not None and (today - due).days > late:
        status = "missed"
    return due, status


def application_followups(
    contact: Contact, applications: Iterable[Application], settings: Settings, today: dt.date
) -> list[FollowUp]:
    """The follow-ups `contact` is owed by these applications (those the contact is part of)."""
    out: list[FollowUp] = []
    for app in applications:
        for owed in notes_owed(app, settings):
            if owed.slug != contact.slug or logged_as_interaction(owed, contact):
                continue
            due, status = timed(app, owed, settings, today)
            note = AppNote(
                app.slug, app.company, app.role, owed.stage.stage, owed.stage.index, owed.stage.date, owed.to, app.url,
                owed.stage.note,
            )  # fmt: skip
            out.append(FollowUp(contact.slug, contact.name, owed.kind, due, status, (due - today).days, application=note))
    return out
