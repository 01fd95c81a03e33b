"""The fast parse path gives exactly what the reference path gives.

`yamlnodes.load_indexed` (values built without positions, nodes found from their path on
demand) must agree with `yamlnodes.load` (the reference: every node's path kept eagerly), and
`check_file` must report the same contacts, problems and references with either, on realistic
generated contacts, on randomly damaged copies of them and on hostile YAML.
"""

from __future__ import annotations

import datetime as dt
import random
import sys
from pathlib import Path
from typing import Any

import pytest

from generator import frontmatter, validate, yamlnodes
from generator.checked import WIKI_LINK
from generator.settings import default_settings

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

from generate import generate  # noqa: E402

SNIPPETS = [
    "name: NO", "phone: 0123", "time: 12:30", "date: 2026-02-30", "  - date: next tuesday",
    "x: !!python/object/apply:os.system ['true']", "y: !!binary aGVsbG8=", "z: !!str 3", "w: !!int '12'",
    "a: &a [1, 2]", "b: *a", "<<: {c: 1}", "? [complex, key]\n: v", "name:", "name: ''",
    "email: [a@b.c, 3, 'x y']", "tags: frontend", "tags: [a, a, ' ', 1]", "links: [x]",
    "links: {a: 3, b: ftp://x}", "keep_in_touch: 0d", "keep_in_touch: true", "reminders: 3",
    "reminders:\n  - date: 2026-13-01\n    note: x\n    done: maybe", "reminders:\n  - 5\n  - date: 2026-01-01",
    "interactions: x", "interactions:\n  - 5", "interactions:\n  - date: 2026-01-01 25:00\n    type: call",
    "interactions:\n  - type: bogus\n    followed_up: ''",
    "interactions:\n  - date: 2026-01-05\n    type: call\n    followed_up: 2026-01-01",
    "interactions:\n  - date: 2026-01-05\n    type: 3\n    with: [a, 3]\n    summary: [x]",
    "interactions:\n  - {date: 2026-01-05, type: coffe, with: solo, extra: 1}",
    "interactions:\n  - date: 2026-01-05T10:00:00\n    type: call\n    followed_up: SKIP\n    gained: null",
    "emial: x", "1: one", "true: yes", "~: nul", "'<key>': v", "<key>: {<key>: 1}", "f: 1.5e3",
    "h: 0x1F", "name: [a]", "name: {a: b}", "company: 2026-01-01", "how_we_met: on", "location: ~",
    "\tname: tab", "name: 'unclosed", "- just a list", "name: a\nname: b", "links:\n  a: x\nlinks:\n  b: y",
    "interactions:\n  - date: 2026-01-01\n    type: call\n    date: 2026-01-02", "x: " + "[" * 70 + "]" * 70,
    "x: &x\n  - *x", "name: ! 3", "name: !foo bar", "name: !!null ''", "big: " + "9" * 400,
]  # fmt: skip


def _mutate(rng: random.Random, text: str) -> str:
    lines = text.split("\n")
    for _ in range(rng.randint(1, 3)):
        i = rng.randrange(1, max(2, len(lines) - 1))
        op = rng.randrange(6)
        if op == 0 and len(lines) > 3:
            del lines[i]
        elif op == 1:
            lines.insert(i, rng.choice(SNIPPETS))
        elif op == 2:
            lines.insert(1, rng.choice(SNIPPETS))
        elif op == 3 and lines[i]:
            j = rng.randrange(len(lines[i]))
            lines[i] = lines[i][:j] + rng.choice(":-[]{}#&*!'\"|> \t0a") + lines[i][j + 1 :]
        elif op == 4:
            lines.insert(i, lines[i])
        else:
            lines.append(rng.choice(["---", "...", "[[Isaac Flores]] and [[nobody]]", "[[x|y]] [[z]]", ""]))
    return "\n".join(lines)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    root = tmp_path_factory.mktemp("gen")
    generate(root, 300, seed=5)
    texts = [p.read_text(encoding="utf-8") for p in sorted((root / "contacts").glob("*.md"))]
    rng = random.Random(11)
    damaged = [_mutate(rng, text) for text in texts for _ in range(4)]
    hostile = [pre + s + "\n---\nbody [[a]]\n" for s in SNIPPETS for pre in ("---\nname: A\n", "---\n")]
    return texts + damaged + hostile


def _yaml_texts(texts: list[str]) -> list[str]:
    out = []
    for text in texts:
        try:
            out.append(frontmatter.split(text).yaml_text)
        except frontmatter.FrontMatterError:
            pass
    return out


def _outcome(load: Any, text: str) -> Any:
    try:
        return load(text)
    except yamlnodes.YamlError as exc:
        return ("error", exc.line, exc.column, exc.message)
    except Exception as exc:  # noqa: BLE001 - a crash must be the same crash
        return ("crash", type(exc).__name__)


def _where(node: Any) -> Any:
    """A node, told apart from the others of its document (each load composes anew)."""
    if node is None:
        return None
    start, end = node.start_mark, node.end_mark
    return (type(node).__name__, node.tag, start.index, end.index, yamlnodes.raw_of(node))


def _other_paths(path: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    """Paths near an existing one that may or may not exist."""
    return [(*path, 0), (*path, "name"), (*path, "<key>"), (*path, "date", "<key>"), path[:-1] + (99,)]


def test_load_indexed_agrees_with_load(corpus: list[str]) -> None:
    compared = 0
    for text in _yaml_texts(corpus):
        reference = _outcome(yamlnodes.load, text)
        fast = _outcome(yamlnodes.load_indexed, text)
        if isinstance(reference, tuple) and isinstance(reference[0], str):
            assert fast == reference, text
            continue
        value, info, duplicates = reference
        fast_value, index, fast_duplicates = fast
        assert repr(fast_value) == repr(value), text
        assert fast_duplicates == duplicates, text
        for path, node in info.items():
            assert _where(index.get(path)) == _where(node), (text, path)
            for other in _other_paths(path):
                assert _where(index.get(other)) == _where(info.get(other)), (text, other)
        compared += 1
    assert compared > 1000


def _results(texts: list[str]) -> list[Any]:
    settings = default_settings()
    out = []
    for text in texts:
        checked = validate.check_file(text.encode("utf-8"), "contacts/x-y.md", "x-y", settings)
        out.append((checked.valid, repr(checked.contact), checked.problems, checked.references))
    return out


def test_check_file_is_the_same_with_the_reference_loader(
    corpus: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    fast = _results(corpus)
    monkeypatch.setattr(yamlnodes, "load_indexed", yamlnodes.load)
    reference = _results(corpus)
    assert fast == reference
    assert sum(1 for valid, *_ in fast if not valid) > 200  # the damage did find errors
    assert sum(1 for *_, problems, _ in fast if problems) > 400


def _split_reference(text: str) -> tuple[str, int, str, int] | tuple[str, int, str]:
    """frontmatter.split as it was first written (line by line)."""
    lines = text.split("\n")
    if lines[0].rstrip() != "---":
        return ("error", 1, "no front matter")
    for i in range(1, len(lines)):
        if lines[i].rstrip() in ("---", "..."):
            return ("\n".join(lines[1:i]) + "\n", 2, "\n".join(lines[i + 1 :]), i + 2)
    return ("error", 1, "not closed")


def _split_now(text: str) -> tuple[str, int, str, int] | tuple[str, int, str]:
    try:
        parts = frontmatter.split(text)
    except frontmatter.FrontMatterError as exc:
        return ("error", exc.line, "no front matter" if "no front" in exc.message else "not closed")
    return (parts.yaml_text, parts.yaml_line, parts.body, parts.body_line)


def test_split_agrees_with_a_line_by_line_split(corpus: list[str]) -> None:
    rng = random.Random(3)
    alphabet = ["---", "...", "--- ", "---\t", " ---", "----", "..", "a", "\n", "\n", "\n", "\r", "\x85",
                "\u2028", "\x0c", "\u3000", "x: 1", " ", "\xa0"]  # fmt: skip
    samples = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))) for _ in range(20_000)]
    for text in samples + corpus:
        assert _split_now(text) == _split_reference(text), repr(text)


def _links_reference(body: str, body_line: int) -> list[tuple[str, int, int]]:
    return [
        (m.group(1).strip(), body_line + number, m.start() + 1)
        for number, line in enumerate(body.split("\n"))
        for m in WIKI_LINK.finditer(line)
    ]


def test_wiki_links_positions_agree_with_a_line_by_line_search() -> None:
    rng = random.Random(5)
    pieces = ["[[a]]", "[[Isaac Flores]]", "[[x|y]]", "[[ b ]]", "[[", "]]", "[[c\nd]]", "\n", "\n\n",
              "text ", "é", "[[[e]]]", "[[f]] [[g]]", "\t", "[[h|]]", "[[|i]]"]  # fmt: skip
    for _ in range(3000):
        body = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 25)))
        checked = validate.check_file(
            f"---\nname: A\n---\n{body}".encode(), "contacts/a.md", "a", default_settings()
        )
        found = [(r.target, r.line, r.column) for r in checked.references]
        assert found == _links_reference(body, 4), repr(body)


def test_model_field_order_matches_the_positional_construction() -> None:
    """validate builds Contact and Interaction positionally (faster than keywords)."""
    import dataclasses

    from generator.model import Contact, Interaction

    assert [f.name for f in dataclasses.fields(Contact)] == [
        "slug", "path", "name", "emails", "phones", "company", "title", "location", "tags", "links",
        "how_we_met", "keep_in_touch", "reminders", "interactions", "extra", "body",
    ]  # fmt: skip
    assert [f.name for f in dataclasses.fields(Interaction)] == [
        "index", "line", "date", "time", "type", "summary", "gained", "with_", "followed_up", "skip", "snooze",
    ]  # fmt: skip
    checked = validate.check_file(
        b"---\nname: ' N '\nemail: e@x.y\nphone: '1'\ncompany: C\ntitle: T\nlocation: L\ntags: [t]\n"
        b"links: {l: 'https://x'}\nhow_we_met: H\nkeep_in_touch: 2w\nreminders:\n  - {date: 2026-01-02, note: R}\n"
        b"interactions:\n  - {date: 2026-01-01 10:30, type: call, summary: S, gained: G, with: [w], followed_up: skip, snooze: 2026-02-01}\n"
        b"x: 1\n---\nB",
        "contacts/n.md",
        "n",
        default_settings(),
    )
    c = checked.contact
    assert c is not None
    assert (c.slug, c.path, c.name, c.emails, c.phones, c.company, c.title, c.location, c.tags, c.links) == (
        "n", "contacts/n.md", "N", ("e@x.y",), ("1",), "C", "T", "L", ("t",), (("l", "https://x"),),
    )  # fmt: skip
    assert (c.how_we_met, str(c.keep_in_touch), c.extra, c.body) == ("H", "2w", (("x", "1"),), "B")
    (i,) = c.interactions
    assert (i.index, i.line, i.date.isoformat(), i.time, i.type, i.summary, i.gained, i.with_, i.followed_up, i.skip, i.snooze) == (
        0, 15, "2026-01-01", "10:30", "call", "S", "G", ("w",), None, True, dt.date(2026, 2, 1),
    )  # fmt: skip
