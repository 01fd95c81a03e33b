"""Job applications on the site: the pipeline page (`applications.html`: a column per stage, the
funnel in numbers), and what contact and company pages show of them.

Applications are few (a job search has tens, not thousands), so they are read on every load and
their page is planned whole every build. What they change elsewhere reaches the pages through
`digests`: each involved contact's stamp takes its applications' digest (so exactly their pages,
drafts and follow-ups are made again), and a change to any application plans the site in full.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .appfollowups import notes_owed
from .followup_pages import KIND_LABEL, card_id
from .followups import describe
from .load import Loaded
from .model import Application, FollowUp, Settings
from .render import url_path
from .slugs import slugify

PATH = "applications.html"


def digests(loaded: Loaded) -> tuple[str, dict[str, str]]:
    """(a digest of every application, contact slug → a digest of the applications it is in)."""
    whole = hashlib.blake2b(repr(loaded.applications).encode(), digest_size=16).hexdigest()
    per = {
        slug: hashlib.blake2b(repr(apps).encode(), digest_size=12).hexdigest() for slug, apps in loaded.involving.items()
    }
    return whole, per


@dataclass(frozen=True)
class Step:
    label: str
    count: int
    referred: int

    @property
    def share(self) -> int | None:
        return round(100 * self.referred / self.count) if self.count else None


def funnel(applications: Sequence[Application], settings: Settings) -> list[Step]:
    """Applied → interview → offer: how many applications reached each step, and how many of
    those came with a referral (`via`)."""
    offers = {s for s in ("offer", "accepted") if s in settings.stages}

    def step(label: str, apps: list[Application]) -> Step:
        return Step(label, len(apps), sum(1 for a in apps if a.via))

    interviewed = [a for a in applications if any(s.stage in settings.interview_stages for s in a.stages)]
    offered = [a for a in applications if any(s.stage in offers for s in a.stages)]
    return [step("Applied", list(applications)), step("Interview", interviewed), step("Offer", offered)]


def owed_by(followups: Mapping[str, list[FollowUp]], app: Application) -> list[FollowUp]:
    """The follow-ups `app` owes, from its people's lists (most urgent first)."""
    found = [
        f
        for slug in app.people()
        for f in followups.get(slug, ())
        if f.application is not None and f.application.slug == app.slug
    ]
    return sorted(found, key=lambda f: (f.due, f.name.casefold(), f.kind))


def _person(profiles: Mapping[str, tuple[Any, ...]], slug: str, prefix: str) -> dict[str, str]:
    name = profiles[slug][0] if slug in profiles else slug
    return {"name": name, "href": f"{prefix}contacts/{url_path(slug)}.html" if slug in profiles else ""}


def card(
    app: Application,
    settings: Settings,
    followups: Mapping[str, list[FollowUp]],
    profiles: Mapping[str, tuple[Any, ...]],
    companies: Mapping[str, Any],
    prefix: str,
) -> dict[str, Any]:
    """What a card of `app` shows (plain values: the page digest hashes them)."""
    owed = [
        {
            "kind": KIND_LABEL[f.kind], "to": f.name, "due": f.due.isoformat(), "status": f.status,
            "about": describe(f), "href": f"{prefix}contacts/{url_path(f.contact)}.html#{card_id(f)}",
        }  # fmt: skip
        for f in owed_by(followups, app)
    ]
    nobody = [o for o in notes_owed(app, settings) if not o.slug]
    company_key = slugify(app.company)
    return {
        "slug": app.slug, "id": "a-" + slugify(app.slug), "company": app.company, "role": app.role, "url": app.url,
        "company_href": f"{prefix}companies/{url_path(company_key)}.html" if company_key in companies else "",
        "stage": app.last.stage, "since": app.last.date.isoformat(), "next": app.next.isoformat() if app.next else "",
        "via": _person(profiles, app.via, prefix) if app.via else None,
        "contacts": [_person(profiles, s, prefix) for s in app.contacts],
        "met": [_person(profiles, s, prefix) for s in dict.fromkeys(w for st in app.stages for w in st.with_)],
        "stages": [(s.stage, s.date.isoformat()) for s in app.stages],
        "owed": owed,
        "status_check_nobody": nobody[0].due.isoformat() if nobody else "",
        "snooze": app.snooze.isoformat() if app.snooze else "",
        "path": app.path,
        "open": app.is_open(settings),
    }  # fmt: skip


def pipeline_context(
    applications: Sequence[Application],
    settings: Settings,
    followups: Mapping[str, list[FollowUp]],
    profiles: Mapping[str, tuple[Any, ...]],
    companies: Mapping[str, Any],
) -> dict[str, Any]:
    """The pipeline page's context: a column per stage (newest first in each), the funnel."""
    cards = {a.slug: card(a, settings, followups, profiles, companies, "") for a in applications}
    columns = []
    for stage in settings.stages:
        apps = sorted((a for a in applications if a.last.stage == stage), key=lambda a: (a.last.date, a.slug), reverse=True)
        columns.append({
            "stage": stage, "label": stage.replace("-", " ").capitalize(), "outcome": stage in settings.outcome_stages,
            "cards": [cards[a.slug] for a in apps],
        })  # fmt: skip
    steps = funnel(applications, settings)
    return {
        "page_title": "Applications",
        "nav": "applications",
        "columns": columns,
        "funnel": [{"label": s.label, "count": s.count, "referred": s.referred, "share": s.share} for s in steps],
        "open_count": sum(1 for a in applications if a.is_open(settings)),
        "count": len(applications),
        "owed_count": sum(len(c["owed"]) for c in cards.values()),
    }


def involvement(
    slug: str, apps: Sequence[Application], settings: Settings, prefix: str = "../"
) -> list[dict[str, str]]:
    """What a contact page lists of the applications that contact is part of."""
    out = []
    for app in apps:
        roles = []
        if app.via == slug:
            roles.append("referred you")
        if slug in app.contacts:
            roles.append("contact")
        met = [s.stage for s in app.stages if slug in s.with_]
        if met:
            roles.append("met at " + ", ".join(dict.fromkeys(met)))
        out.append({
            "company": app.company, "role": app.role, "stage": app.last.stage, "since": app.last.date.isoformat(),
            "as": "; ".join(roles), "href": f"{prefix}{PATH}#a-{slugify(app.slug)}",
        })  # fmt: skip
    return out


def at_company(applications: Sequence[Application], company_key: str) -> list[dict[str, str]]:
    """What a company page lists of the applications to that company."""
    return [
        {"role": a.role, "stage": a.last.stage, "since": a.last.date.isoformat(), "href": f"../{PATH}#a-{slugify(a.slug)}"}
        for a in applications
        if slugify(a.company) == company_key
    ]
