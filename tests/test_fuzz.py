"""Property-based fuzzing (issue 22): random and mutated contact files and settings go through the
loader, the follow-up engine, the drafts and the Markdown renderer. Whatever the bytes, the answer
is a list of problems (naming the file and a line inside it) or a contact, never an exception.

The suite runs a few thousand derandomized cases (no red CI by luck); `FUZZ_EXAMPLES=100000
pytest tests/test_fuzz.py` runs a longer random search.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator.followups import contact_followups, followup_rate
from generator.model import Settings
from generator.render import Renderer
from generator.settings import default_settings, load_settings
from generator.validate import check_file

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "1000"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    derandomize="FUZZ_EXAMPLES" not in os.environ,
)
DEMO = sorted((Path(__file__).resolve().parent.parent / "contacts").glob("*.md"))
SEEDS = [path.read_bytes() for path in DEMO]
SETTINGS = default_settings()
RENDERER = Renderer(None)

# What YAML and Markdown care about, and what breaks dates and numbers.
PIECES = [
    b"\n", b"\r\n", b"\t", b" ", b":", b": ", b"- ", b"---\n", b"'", b'"', b"[", b"]", b"{", b"}", b"&a ", b"*a",
    b"!!python/object:os.system ", b"!!binary ", b"9999-12-31", b"0001-01-01", b"2026-02-30", b"99999999999",
    b"-1", b"1e400", b".nan", b"~", b"null", b"yes", b"\xff", b"\x00", b"\xe2\x80\xae", b"\x1b]0;x\x07",
    b"[[", b"]]", b"`", b"> ", b"#", b"|\n", b">\n", b"<<: *a\n", b"? ", b"%YAML 1.1\n", b"\xef\xbb\xbf",
    b"followed_up: ", b"keep_in_touch: ", b"skip: true", b"type: interview", b"date: ", b"with: [", b"reminders:\n",
]  # fmt: skip

def mutations(pieces: list[bytes]) -> st.SearchStrategy[tuple[str, float, bytes, int]]:
    """One edit: insert, delete or replace at a relative place, with a piece or random bytes."""
    return st.tuples(
        st.sampled_from(["insert", "delete", "replace"]),
        st.floats(0, 1),
        st.one_of(st.sampled_from(pieces), st.binary(max_size=8)),
        st.integers(1, 12),
    )


mutation = mutations(PIECES)


def mutate(data: bytes, edits: list[tuple[str, float, bytes, int]]) -> bytes:
    for kind, where, piece, length in edits:
        at = int(len(data) * where)
        if kind == "insert":
            data = data[:at] + piece + data[at:]
        elif kind == "delete":
            data = data[:at] + data[at + length :]
        else:
            data = data[:at] + piece + data[at + len(piece) :]
    return data


def lines_of(data: bytes) -> int:
    return data.count(b"\n") + 1


def days() -> st.SearchStrategy[dt.date]:
    return st.one_of(st.dates(), st.sampled_from([dt.date.min, dt.date.max, dt.date(2026, 11, 25)]))


def exercise(data: bytes, today: dt.date, rules: Settings = SETTINGS) -> None:
    checked = check_file(data, "contacts/fuzz.md", "fuzz", rules)
    for problem in checked.problems:
        assert problem.file == "contacts/fuzz.md"
        assert 1 <= problem.line <= lines_of(data) + 1, problem
        assert problem.message
    contact = checked.contact
    if contact is None:
        assert any(p.severity == "error" for p in checked.problems)
        return
    for item in contact_followups(contact, rules, today):
        assert dt.date.min <= item.due <= dt.date.max
    followup_rate([contact], rules, today)
    html = str(RENDERER.markdown(contact.body))
    assert "<script" not in html.lower()


@FUZZ
@given(st.sampled_from(SEEDS), st.lists(mutation, min_size=1, max_size=6), days())
def test_mutated_demo_contacts(seed: bytes, edits: list[tuple[str, float, bytes, int]], today: dt.date) -> None:
    exercise(mutate(seed, edits), today)


@FUZZ
@given(st.binary(max_size=400), days())
def test_random_bytes(data: bytes, today: dt.date) -> None:
    exercise(data, today)


field = st.sampled_from(["name", "email", "company", "tags", "keep_in_touch", "interactions", "reminders", "x"])
scalar = st.one_of(
    st.text(max_size=12), st.integers(), st.floats(allow_nan=True), st.booleans(), st.none(), days(),
)
value = st.recursive(scalar, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=8)  # fmt: skip
interaction = st.fixed_dictionaries(
    {"date": st.one_of(days(), scalar), "type": st.one_of(st.sampled_from(["interview", "coffee", "referral"]), scalar)},
    optional={"followed_up": st.one_of(days(), scalar), "skip": scalar, "with": value, "gained": scalar},
)  # fmt: skip


def yaml_scalar(item: object) -> str:
    import json

    if isinstance(item, dt.date):
        return item.isoformat()
    if isinstance(item, float) and item != item:
        return ".nan"
    return json.dumps(item, default=str)


def yaml_of(item: object, indent: str = "") -> str:
    if isinstance(item, dict):
        return "".join(f"\n{indent}  {yaml_scalar(str(k))}: {yaml_of(v, indent + '  ')}" for k, v in item.items()) or "{}"
    if isinstance(item, list):
        return "".join(f"\n{indent}  - {yaml_of(v, indent + '    ')}" for v in item) or "[]"
    return yaml_scalar(item)


@FUZZ
@given(
    st.dictionaries(field, value, max_size=5),
    st.lists(interaction, max_size=4),
    st.one_of(st.none(), st.text(max_size=40)),
    days(),
)
def test_generated_front_matter(fields: dict[str, object], items: list[object], notes: str | None, today: dt.date) -> None:
    fields = {"name": "Fuzz", **fields}
    if items:
        fields["interactions"] = items
    text = "---" + "".join(f"\n{key}: {yaml_of(v)}" for key, v in fields.items()) + "\n---\n" + (notes or "")
    exercise(text.encode("utf-8", "surrogatepass"), today)


@FUZZ
@given(piece=st.sampled_from(PIECES), edits=st.lists(mutation, max_size=4), today=days())
def test_mutated_settings(
    tmp_path_factory: pytest.TempPathFactory, piece: bytes, edits: list[tuple[str, float, bytes, int]], today: dt.date
) -> None:
    base = (
        b"upcoming_days: 7\ntoday: 2026-11-25\ntypes:\n  interview: {thank_you: 1, check_in: 10, late_after: 10}\n"
        b"  coffee: {thank_you: 2, note: networking}\nme: {name: Alex, email: a@example.com}\n"
    )
    root = tmp_path_factory.mktemp("settings")
    (root / "crm.yaml").write_bytes(mutate(base + piece, edits))
    rules, problems = load_settings(root)
    for problem in problems:
        assert problem.file == "crm.yaml" and problem.message
    for seed in SEEDS[:3]:
        exercise(seed, today, rules)
