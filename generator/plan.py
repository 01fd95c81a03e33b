"""The last build's plan, kept between command-line runs in `site/.tipscale/plan.json`.

A rebuild after one edit then updates the plan for the files that changed (as the live server
does in memory) instead of decoding and planning ten thousand contacts again. It is JSON (never
pickle) and is only a shortcut: it names the build it belongs to (the manifest's site key), and
one that does not match, or does not decode, is ignored and the site is planned in full.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from .cachefile import Stamp, interaction_from_json, interaction_to_json, reminder_from_json, reminder_to_json
from .followups import FollowUpRate
from .gitlog import Commit
from .model import FollowUp, Interaction, Problem

VERSION = 2

Profile = tuple[str, tuple[str, ...], str]  # name, tags, company


@dataclass
class Plan:
    """What a build planned, beyond the page digests (those are in the manifest)."""

    key: tuple[str, dt.date, dt.date, str | None]  # base digest, today, the real date, git HEAD
    versions: dict[str, Stamp]  # file → stamp
    profiles: dict[str, Profile]
    all_followups: list[FollowUp]  # sorted
    shares: dict[str, tuple[int, int]]  # slug → its part of the follow-up rate (non-zero ones)
    rate: FollowUpRate
    recent: list[tuple[str, Interaction]]  # (slug, interaction), latest first
    recent_complete: bool
    resolved: dict[str, list[tuple[str, str | None]]]
    backlinks: dict[str, list[tuple[str, str]]]
    tags: dict[str, tuple[str, list[str]]]
    companies: dict[str, tuple[str, list[str]]]
    order: list[str]
    histories: dict[str, list[Commit]]
    invalid: dict[str, list[Problem]]
    row_keys: dict[str, str]
    row_tokens: dict[str, str]
    card_tokens: dict[str, str]
    event_tokens: dict[str, str]


def _followup_to_json(f: FollowUp) -> list[Any]:
    return [
        f.contact, f.name, f.kind, f.due.isoformat(), f.status, f.days,
        interaction_to_json(f.interaction) if f.interaction is not None else None,
        reminder_to_json(f.reminder) if f.reminder is not None else None,
        f.note_missing_gained,
    ]  # fmt: skip


def _followup_from_json(d: list[Any]) -> FollowUp:
    return FollowUp(
        d[0], d[1], d[2], dt.date.fromisoformat(d[3]), d[4], d[5],
        interaction_from_json(d[6]) if d[6] is not None else None,
        reminder_from_json(d[7]) if d[7] is not None else None,
        d[8],
    )  # fmt: skip


def _problem(p: Problem) -> list[Any]:
    return [p.file, p.line, p.column, p.severity, p.field, p.message]


def encode(plan: Plan, build_id: str) -> dict[str, Any]:
    commits: list[list[Any]] = []
    numbers: dict[str, int] = {}
    histories: dict[str, list[int]] = {}
    for path, items in plan.histories.items():
        refs = []
        for commit in items:
            number = numbers.get(commit.sha)
            if number is None:
                number = numbers[commit.sha] = len(commits)
                commits.append([commit.sha, int(commit.when.timestamp()), commit.author, commit.message])
            refs.append(number)
        histories[path] = refs
    base, today, real_today, head = plan.key
    return {
        "version": VERSION,
        "build": build_id,
        "key": [base, today.isoformat(), real_today.isoformat(), head],
        "versions": plan.versions,
        "profiles": plan.profiles,
        "followups": [_followup_to_json(f) for f in plan.all_followups],
        "shares": plan.shares,
        "rate": [plan.rate.on_time, plan.rate.counted],
        "recent": [[slug, interaction_to_json(i)] for slug, i in plan.recent],
        "recent_complete": plan.recent_complete,
        "resolved": plan.resolved,
        "backlinks": plan.backlinks,
        "tags": plan.tags,
        "companies": plan.companies,
        "order": plan.order,
        "commits": commits,
        "histories": histories,
        "invalid": {slug: [_problem(p) for p in problems] for slug, problems in plan.invalid.items()},
        "row_keys": plan.row_keys,
        "row_tokens": plan.row_tokens,
        "card_tokens": plan.card_tokens,
        "event_tokens": plan.event_tokens,
    }


def decode(doc: Any, build_id: str) -> Plan | None:
    """The plan in `doc`, or None when it is not the plan of build `build_id` or is malformed."""
    if not isinstance(doc, dict) or doc.get("version") != VERSION or doc.get("build") != build_id:
        return None
    try:
        base, today, real_today, head = doc["key"]
        commits = [
            Commit(dt.datetime.fromtimestamp(int(c[1]), dt.UTC), str(c[2]), str(c[3]), str(c[0]))
            for c in doc["commits"]
        ]
        return Plan(
            key=(str(base), dt.date.fromisoformat(today), dt.date.fromisoformat(real_today), head),
            versions={str(f): (int(v[0]), int(v[1]), int(v[2])) for f, v in doc["versions"].items()},
            profiles={str(k): (str(v[0]), tuple(v[1]), str(v[2])) for k, v in doc["profiles"].items()},
            all_followups=[_followup_from_json(f) for f in doc["followups"]],
            shares={str(k): (int(v[0]), int(v[1])) for k, v in doc["shares"].items()},
            rate=FollowUpRate(int(doc["rate"][0]), int(doc["rate"][1])),
            recent=[(str(slug), interaction_from_json(i)) for slug, i in doc["recent"]],
            recent_complete=bool(doc["recent_complete"]),
            resolved={k: [(t, f) for t, f in v] for k, v in doc["resolved"].items()},
            backlinks={k: [(a, b) for a, b in v] for k, v in doc["backlinks"].items()},
            tags={k: (d, list(m)) for k, (d, m) in doc["tags"].items()},
            companies={k: (d, list(m)) for k, (d, m) in doc["companies"].items()},
            order=list(doc["order"]),
            histories={path: [commits[n] for n in refs] for path, refs in doc["histories"].items()},
            invalid={slug: [Problem(*p) for p in problems] for slug, problems in doc["invalid"].items()},
            row_keys=dict(doc["row_keys"]),
            row_tokens=dict(doc["row_tokens"]),
            card_tokens=dict(doc["card_tokens"]),
            event_tokens=dict(doc["event_tokens"]),
        )
    except (KeyError, TypeError, ValueError, IndexError, AttributeError, OverflowError):
        return None
