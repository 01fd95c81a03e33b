"""Property-based fuzzing of job applications: mutated demo application files and random stage
lists go through the checker, the notes each stage owes, the drafts and the pipeline page's
context. Whatever the bytes, the answer is problems (naming the file and a line inside it) or an
application, never an exception; every due date stays in the calendar.

A few thousand derandomized cases run in the suite; `FUZZ_EXAMPLES=100000 pytest
tests/test_fuzz_applications.py` runs a longer random search.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator.applications import check_application, involving
from generator.drafts import NoteRenderer
from generator.followups import contact_followups
from generator.model import Contact
from generator.settings import default_settings
from generator.sitejobs import pipeline_context

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "600"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize="FUZZ_EXAMPLES" not in os.environ,
)
REPO = Path(__file__).resolve().parent.parent
SEEDS = [path.read_bytes() for path in sorted((REPO / "applications").glob("*.md"))]
SETTINGS = default_settings()
SLUGS = ["raj-patel", "mia-chen", "tom-ross"]
PEOPLE = {slug: Contact(slug=slug, path=f"contacts/{slug}.md", name=slug.replace("-", " ").title()) for slug in SLUGS}
NOTES = NoteRenderer(None)
PIECES = [
    b"\n", b"\r\n", b" ", b": ", b"- ", b"---\n", b"'", b"[", b"]", b"{", b"}", b"&a ", b"*a", b"9999-12-31",
    b"0001-01-01", b"2026-02-30", b"-1", b"~", b"\xff", b"\x00", b"stage: ", b"rejected", b"interview", b"with: [",
    b"raj-patel", b"followed_up: {", b"snooze: ", b"next: ", b"checked: ", b"via: ", b"contacts: [",
]  # fmt: skip


def mutate(data: bytes, edits: list[tuple[str, float, bytes]]) -> bytes:
    for kind, where, piece in edits:
        at = int(len(data) * where)
        if kind == "insert":
            data = data[:at] + piece + data[at:]
        elif kind == "delete":
            data = data[:at] + data[at + len(piece) :]
        else:
            data = data[:at] + piece + data[at + len(piece) :]
    return data


def days() -> st.SearchStrategy[dt.date]:
    return st.one_of(st.dates(), st.sampled_from([dt.date.min, dt.date.max, dt.date(2026, 11, 25)]))


def exercise(data: bytes, today: dt.date) -> None:
    app, problems = check_application(data, "applications/fuzz.md", "fuzz", SETTINGS, set(SLUGS))
    lines = data.count(b"\n") + 1
    for problem in problems:
        assert problem.file == "applications/fuzz.md" and problem.message
        assert 1 <= problem.line <= lines + 1, problem
    if app is None:
        assert any(p.severity == "error" for p in problems)
        return
    involved = involving([app])
    followups = {}
    for slug, contact in PEOPLE.items():
        items = contact_followups(contact, SETTINGS, today, involved.get(slug, ()))
        for item in items:
            assert dt.date.min <= item.due <= dt.date.max
            NOTES.draft(contact, item, SETTINGS, today)
        followups[slug] = items
    profiles = {slug: (c.name, (), "") for slug, c in PEOPLE.items()}
    pipeline_context([app], SETTINGS, followups, profiles, {})


mutation = st.tuples(st.sampled_from(["insert", "delete", "replace"]), st.floats(0, 1), st.one_of(st.sampled_from(PIECES), st.binary(max_size=6)))


@FUZZ
@given(st.sampled_from(SEEDS), st.lists(mutation, min_size=1, max_size=6), days())
def test_mutated_demo_applications(seed: bytes, edits: list[tuple[str, float, bytes]], today: dt.date) -> None:
    exercise(mutate(seed.replace(b"daniel-okafor", b"raj-patel").replace(b"marcus-chen", b"mia-chen"), edits), today)


stage = st.fixed_dictionaries(
    {
        "stage": st.sampled_from([*SETTINGS.stages, "hired", 3, None]),
        "date": st.one_of(days(), st.sampled_from(["soon", 7, None])),
    },
    optional={
        "with": st.lists(st.sampled_from([*SLUGS, "nobody"]), max_size=3),
        "followed_up": st.dictionaries(st.sampled_from([*SLUGS, "x"]), st.one_of(days(), st.just("no")), max_size=3),
        "checked": days(),
        "note": st.text(max_size=20),
    },
)


@FUZZ
@given(
    st.lists(stage, max_size=6),
    st.sampled_from(["", "via: raj-patel\n", "via: mia-chen\ncontacts: [mia-chen, raj-patel]\n", "contacts: tom-ross\n"]),
    st.one_of(st.none(), days()),
    st.one_of(st.none(), days()),
    days(),
)
def test_random_stage_lists(stages: list[dict[str, object]], people: str, next_day: dt.date | None,
                            snooze: dt.date | None, today: dt.date) -> None:  # fmt: skip
    text = "---\ncompany: Globex\nrole: Dev\n" + people
    if next_day is not None:
        text += f"next: {next_day.isoformat()}\n"
    if snooze is not None:
        text += f"snooze: {snooze.isoformat()}\n"
    text += "stages: " + json.dumps(stages, default=lambda d: d.isoformat()) + "\n---\nNotes.\n"
    exercise(text.encode(), today)
