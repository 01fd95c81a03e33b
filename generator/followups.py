"""The follow-up rules of SPEC §4, as pure functions of (contacts, settings, today)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from .appfollowups import application_followups
from .dates import add_period, after
from .model import Application, Contact, FollowUp, FollowUpKind, Interaction, Settings, Status

STATUS_ORDER: dict[Status, int] = {"overdue": 0, "due": 1, "upcoming": 2, "later": 3, "missed": 4}
RATE_WINDOW_DAYS = 90
# Days past due after which a note is no longer worth sending late (a reconnect note is the move):
# career advice gives a late thank-you about two weeks. A type's `late_after` overrides both.
LATE_AFTER = {"thank-you": 14, "check-in": 21}
LISTED = ("overdue", "due", "upcoming")  # what the dashboard and the default list show


def status_of(due: dt.date, today: dt.date, upcoming_days: int) -> Status:
    if due < today:
        return "overdue"
    if due == today:
        return "due"
    if (due - today).days <= upcoming_days:
        return "upcoming"
    return "later"


def sort_key(item: FollowUp) -> tuple[int, dt.date, str, str, str]:
    """Overdue first, then by due date, then by name (slug and kind break remaining ties)."""
    return (STATUS_ORDER[item.status], item.due, item.name.casefold(), item.contact, item.kind)


def _has_later_interaction(contact: Contact, interaction: Interaction) -> bool:
    return any(other.date > interaction.date for other in contact.interactions)


def contact_followups(
    contact: Contact, settings: Settings, today: dt.date, applications: Sequence[Application] = ()
) -> list[FollowUp]:
    """Every pending follow-up of one contact, unsorted: its own, and the notes it is owed by the
    job `applications` it is part of. A `snooze:` date puts one off to that day."""
    out: list[FollowUp] = []

    def add(
        kind: FollowUpKind, due: dt.date, late_after: int | None = None, snooze: dt.date | None = None, **extra: object
    ) -> None:
        if snooze is not None and snooze > due:
            due = snooze
        status = status_of(due, today, settings.upcoming_days)
        if late_after is not None and (today - due).days > late_after:
            status = "missed"
        out.append(
            FollowUp(
                contact=contact.slug,
                name=contact.name,
                kind=kind,
                due=due,
                status=status,
                days=(due - today).days,
                **extra,  # type: ignore[arg-type]
            )
        )

    for interaction in contact.interactions:
        if interaction.skip:
            continue
        rule = settings.rule(interaction.type)
        if rule.thank_you is not None and interaction.followed_up is None:
            add(
                "thank-you",
                after(interaction.date, rule.thank_you),
                LATE_AFTER["thank-you"] if rule.late_after is None else rule.late_after,
                interaction.snooze,
                interaction=interaction,
                note_missing_gained=not interaction.gained,
            )
        if (
            rule.check_in is not None
            and interaction.followed_up is not None
            and not _has_later_interaction(contact, interaction)
        ):
            add(
                "check-in",
                after(interaction.followed_up, rule.check_in),
                LATE_AFTER["check-in"] if rule.late_after is None else rule.late_after,
                interaction.snooze,
                interaction=interaction,
            )
    if contact.keep_in_touch is not None:
        last = contact.last_interaction
        add("reconnect", add_period(last.date, contact.keep_in_touch) if last else today)
    for reminder in contact.reminders:
        if not reminder.done:
            add("reminder", reminder.date, None, reminder.snooze, reminder=reminder)
    if applications:
        out.extend(application_followups(contact, applications, settings, today))
    return out


def pending_followups(
    contacts: Iterable[Contact],
    settings: Settings,
    today: dt.date,
    involving: Mapping[str, Sequence[Application]] | None = None,
) -> list[FollowUp]:
    """All pending follow-ups, sorted overdue → by due date → by name. `involving`: each
    contact's job applications (`applications.involving`)."""
    apps = involving or {}
    items = [f for c in contacts for f in contact_followups(c, settings, today, apps.get(c.slug, ()))]
    items.sort(key=sort_key)
    return items


def select(
    items: list[FollowUp],
    *,
    overdue_only: bool = False,
    within: int | None = None,
    include_all: bool = False,
    missed: bool = False,
    tag: str | None = None,
    contacts: dict[str, Contact] | None = None,
) -> list[FollowUp]:
    """The `crm followups` filters. Default: overdue, due and upcoming; `missed`: only the
    missed; `include_all`: everything, missed too."""
    if tag is not None and contacts is not None:
        wanted = tag.casefold()
        items = [f for f in items if any(t.casefold() == wanted for t in contacts[f.contact].tags)]
    if include_all:
        return items
    if missed:
        return [f for f in items if f.status == "missed"]
    if overdue_only:
        return [f for f in items if f.status == "overdue"]
    if within is not None:
        return [f for f in items if f.days <= within and f.status != "missed"]
    return [f for f in items if f.status in LISTED]


@dataclass(frozen=True)
class FollowUpRate:
    """Thank-you notes sent by their due date, among interactions of the last 90 days that owed one."""

    on_time: int
    counted: int

    @property
    def percent(self) -> int | None:
        return None if self.counted == 0 else round(100 * self.on_time / self.counted)


def followup_rate(contacts: Iterable[Contact], settings: Settings, today: dt.date) -> FollowUpRate:
    """Counted: thank-you-worthy interactions dated within the last 90 days (not `skip`) whose
    note was sent, or whose due date has passed. One still within its window and unsent is not
    yet late, so it is left out until it is sent or overdue."""
    start = after(today, -RATE_WINDOW_DAYS)
    on_time = counted = 0
    for contact in contacts:
        for interaction in contact.interactions:
            rule = settings.rule(interaction.type)
            if rule.thank_you is None or interaction.skip or not (start < interaction.date <= today):
                continue
            due = after(interaction.date, rule.thank_you)
            if interaction.followed_up is None:
                if due < today:
                    counted += 1
                continue
            counted += 1
            if interaction.followed_up <= due:
                on_time += 1
    return FollowUpRate(on_time, counted)


def describe(item: FollowUp, detailed: bool = False) -> str:
    """What a follow-up is about, in a few words (`detailed`: with the summary, for the site)."""
    app = item.application
    if app is not None:
        job = f"{app.company}, {app.role}"
        when = app.stage_date.isoformat()
        if item.kind == "status-check":
            return f"status check: {job} ({app.stage} on {when}, no news since)"
        if item.kind == "closing":
            return f"closing note: {job}, {app.stage} on {when}"
        if item.kind == "update":
            return f"update your referrer: {job}, {app.stage} on {when}"
        if app.to == "referrer":
            return f"thank your referrer: applied to {job} on {when}"
        return f"{app.stage.replace('-', ' ')} at {job} on {when}"
    interaction = item.interaction
    if interaction is not None:
        text = f"{interaction.type.replace('-', ' ')} on {interaction.date.isoformat()}"
        if detailed and interaction.summary:
            text += f": {interaction.summary}"
        if item.kind == "check-in" and interaction.followed_up:
            thanked = interaction.followed_up.isoformat()
            text += f" (thanked {thanked}, no reply since)" if detailed else f", thanked {thanked}"
        return text
    if item.reminder is not None:
        return item.reminder.note
    return "Keep in touch" if detailed else "keep in touch"
