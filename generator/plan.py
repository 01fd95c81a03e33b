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

VERSION = 3

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
    made = FollowUp(
        d[0], d[1], d[2], dt.date.fromisoformat(d[3]), d[4], d[5],
        interaction_from_json(d[6]) if d[6] is not None else None,
        reminder_from_json(d[7]) if d[7] is not None else None,
        d[8],
    )  # fmt: skip
    # Every restored follow-up is asked for its key (dashboard cards, calendar events): set it
    # now, cheaper than the cached property's first call (it takes a lock).
    made.__dict__["uid_key"] = made.key_text()
    return made


def _problem(p: Problem) -> list[Any]:
    return [p.file, p.line, p.column, p.severity, p.field, p.message]


# The large parts, each in a file of its own (`plan-NAME-TOKEN.json`), so that a rebuild after
# one edit writes again only the parts that edit changed (the file stamps and the row keys, most
# often), not six megabytes of JSON. plan.json names the files of the parts it goes with.
SECTIONS = (
    "versions", "profiles", "followups", "resolved", "backlinks", "tags", "companies", "order",
    "histories", "row_keys", "row_tokens", "card_tokens", "event_tokens",
)  # fmt: skip


def section_value(plan: Plan, name: str) -> Any:
    """The value behind part `name` of SECTIONS (the follow-ups are the plan's `all_followups`)."""
    return getattr(plan, "all_followups" if name == "followups" else name)


def _histories(plan: Plan) -> dict[str, Any]:
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
    return {"commits": commits, "files": histories}


def encode_section(plan: Plan, name: str) -> Any:
    """One part of the plan as JSON values (what its file holds; `decode` reads it back)."""
    if name == "versions":
        return {f: list(v) for f, v in plan.versions.items()}
    if name == "profiles":
        return {k: [v[0], list(v[1]), v[2]] for k, v in plan.profiles.items()}
    if name == "followups":
        return [_followup_to_json(f) for f in plan.all_followups]
    if name in ("resolved", "backlinks"):
        links: dict[str, list[Any]] = getattr(plan, name)
        return {k: [list(item) for item in v] for k, v in links.items()}
    if name in ("tags", "companies"):
        groups: dict[str, tuple[str, list[str]]] = getattr(plan, name)
        return {k: [display, list(members)] for k, (display, members) in groups.items()}
    if name == "order":
        return list(plan.order)
    if name == "histories":
        return _histories(plan)
    return dict(getattr(plan, name))  # row keys and tokens: str → str


def encode_head(plan: Plan, build_id: str, files: dict[str, str]) -> dict[str, Any]:
    """plan.json: the small parts, and the file of each large one."""
    base, today, real_today, head = plan.key
    return {
        "version": VERSION,
        "build": build_id,
        "key": [base, today.isoformat(), real_today.isoformat(), head],
        "shares": plan.shares,
        "rate": [plan.rate.on_time, plan.rate.counted],
        "recent": [[slug, interaction_to_json(i)] for slug, i in plan.recent],
        "recent_complete": plan.recent_complete,
        "invalid": {slug: [_problem(p) for p in problems] for slug, problems in plan.invalid.items()},
        "files": files,
    }


def decode(doc: Any, build_id: str, sections: dict[str, Any]) -> Plan | None:
    """The plan of head `doc` and its large parts (`sections`, as read from their files), or None
    when it is not the plan of build `build_id` or is malformed."""
    if not isinstance(doc, dict) or doc.get("version") != VERSION or doc.get("build") != build_id:
        return None
    try:
        base, today, real_today, head = doc["key"]
        histories = sections["histories"]
        commits = [
            Commit(dt.datetime.fromtimestamp(int(c[1]), dt.UTC), str(c[2]), str(c[3]), str(c[0]))
            for c in histories["commits"]
        ]
        return Plan(
            key=(str(base), dt.date.fromisoformat(today), dt.date.fromisoformat(real_today), head),
            versions={str(f): (int(v[0]), int(v[1]), int(v[2])) for f, v in sections["versions"].items()},
            profiles={str(k): (str(v[0]), tuple(v[1]), str(v[2])) for k, v in sections["profiles"].items()},
            all_followups=[_followup_from_json(f) for f in sections["followups"]],
            shares={str(k): (int(v[0]), int(v[1])) for k, v in doc["shares"].items()},
            rate=FollowUpRate(int(doc["rate"][0]), int(doc["rate"][1])),
            recent=[(str(slug), interaction_from_json(i)) for slug, i in doc["recent"]],
            recent_complete=bool(doc["recent_complete"]),
            resolved={k: [(t, f) for t, f in v] for k, v in sections["resolved"].items()},
            backlinks={k: [(a, b) for a, b in v] for k, v in sections["backlinks"].items()},
            tags={k: (d, list(m)) for k, (d, m) in sections["tags"].items()},
            companies={k: (d, list(m)) for k, (d, m) in sections["companies"].items()},
            order=list(sections["order"]),
            histories={path: [commits[n] for n in refs] for path, refs in histories["files"].items()},
            invalid={slug: [Problem(*p) for p in problems] for slug, problems in doc["invalid"].items()},
            row_keys=dict(sections["row_keys"]),
            row_tokens=dict(sections["row_tokens"]),
            card_tokens=dict(sections["card_tokens"]),
            event_tokens=dict(sections["event_tokens"]),
        )
    except (KeyError, TypeError, ValueError, IndexError, AttributeError, OverflowError):
        return None
