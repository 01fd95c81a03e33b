"""`yamlnodes.quick_load` reads the usual shape of front matter without libyaml: whenever it
gives an answer, that answer is libyaml's (the same values, of the same types, and every node
at the same line and column), and it gives up on everything outside its subset.
"""

from __future__ import annotations

import datetime as dt
import random
import sys
from pathlib import Path
from typing import Any

import pytest

from generator import frontmatter, yamlnodes

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

from generate import generate  # noqa: E402


def _yaml_of(path: Path) -> str:
    return frontmatter.split(frontmatter.decode(path.read_bytes())).yaml_text


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    root = tmp_path_factory.mktemp("gen")
    generate(root, 400, seed=9)
    return [_yaml_of(path) for path in sorted((root / "contacts").glob("*.md"))]


def _agrees(text: str) -> bool:
    """Compare quick_load with libyaml on `text`; True when quick_load gave an answer."""
    quick = yamlnodes.quick_load(text)
    if quick is None:
        return False
    value, index = quick
    try:
        reference, info, duplicates = yamlnodes.load(text)
    except yamlnodes.YamlError as exc:  # pragma: no cover - the failure this test is for
        pytest.fail(f"quick_load read text libyaml rejects ({exc.message}): {text!r}")
    assert duplicates == [], text
    assert repr(value) == repr(reference), text  # repr tells 1, 1.0, True and dates apart
    for path, node in info.items():
        assert yamlnodes.position(index, path) == (node.start_mark.line, node.start_mark.column), (text, path)
        for other in [(*path, 0), (*path, "name"), (*path, "<key>"), (*path, 5, "<key>"), path[:-1] + (99,)]:
            near = info.get(other)
            expected = None if near is None else (near.start_mark.line, near.start_mark.column)
            assert yamlnodes.position(index, other) == expected, (text, other)
        # The nodes themselves, when a message wants them, are libyaml's.
        found = index.get(path)
        assert found is not None and (found.start_mark.line, found.value if isinstance(found.value, str) else None) == (
            node.start_mark.line,
            node.value if isinstance(node.value, str) else None,
        )
    return True


def test_it_reads_every_generated_contact_as_libyaml_does(generated: list[str]) -> None:
    # All of them: were the quick path lost, every build would quietly be slower.
    assert all(_agrees(text) for text in generated)


def test_the_demo_contacts_and_test_data_agree_where_read() -> None:
    files = sorted((REPO / "contacts").glob("*.md")) + sorted((REPO / "tests" / "data").rglob("*.md"))
    read = 0
    for path in files:
        try:
            text = _yaml_of(path)
        except frontmatter.FrontMatterError:
            continue
        read += _agrees(text)
    assert read >= 12  # the demo's contacts at least


# Lines and pieces of lines that stress the edges of the subset, mixed into real front matter.
PIECES = [
    "name: NO", "phone: 0123", "time: 12:30", "date: 2026-02-30", "x: 2026-01-01 10:00", "y: 1_000",
    "f: 1.5e3", "h: 0x1F", "o: 0o17", "t: .inf", "n: ~", "n2: null", "b: yes", "b2: On", "q: 'it''s'",
    'q2: "a\\"b"', 'q3: "tab\\t"', "q4: ''", 'q5: ""', "c: a # comment", "c2: a#b", "c3: C#", "u: http://x.y/z",
    "m: a: b", "e: a:", "k:", "k2:   ", "s: [a, b]", "s2: [ a ,b ]", "s3: []", "s4: [ ]", "s5: [a,]",
    "s6: [a, [b]]", "s7: [a: b]", "s8: [1, yes, ~, 2026-01-01]", "s9: ['a', b]", "s10: [-a]", "fm: {a: 1}",
    "an: &a x", "al: *a", "tg: !!str 3", "bl: |", "  block", "fo: >", "lst:", "  - a", "  - b: 1",
    "    c: 2", "  -", "    d: 3", "  - - e", "- top", "  k: v", "   odd: 3", "\tname: tab", "key : v",
    "'quoted': v", "? k", "<<: {a: 1}", "---", "...", "%YAML 1.1", "a: b\u2028c", "a: b\x85c", "a: \ufeffb",
    "a: é ü 中文", "a: --", "a: -1", "a: ?x", "a: x ", "# just a comment", "   # indented comment", "",
    "interactions:", "- date: 2026-01-01", "  type: call", "with: [a-b, c]", "a: [x] y", "a: 'x' y",
]  # fmt: skip


def _mutate(rng: random.Random, text: str) -> str:
    lines = text.split("\n")
    for _ in range(rng.randint(1, 2)):
        i = rng.randrange(0, len(lines))
        op = rng.randrange(7)
        if op == 0 and len(lines) > 2:
            del lines[i]
        elif op in (1, 2):
            indent = " " * rng.choice([0, 0, 2, 4, 6, 1, 3])
            lines.insert(i, indent + rng.choice(PIECES))
        elif op == 3 and lines[i]:
            j = rng.randrange(len(lines[i]))
            lines[i] = lines[i][:j] + rng.choice(":-[]{}#&*!'\"|>, \t0a~") + lines[i][j + 1 :]
        elif op == 4:
            lines[i] = " " * rng.choice([1, 2]) + lines[i]
        elif op == 5:
            lines[i] = lines[i].lstrip(" ")
        else:
            lines.insert(i, lines[i])
    return "\n".join(lines)


def test_damaged_texts_are_read_as_libyaml_reads_them_or_left_to_it(generated: list[str]) -> None:
    rng = random.Random(21)
    taken = left = 0
    for text in generated[:150]:
        for _ in range(40):
            if _agrees(_mutate(rng, text)):
                taken += 1
            else:
                left += 1
    # Both happen often: the damage reaches the edges of the subset from both sides.
    print(f"read {taken}, left to libyaml {left}")
    assert taken > 1000 and left > 1000


def test_random_little_documents(generated: list[str]) -> None:
    rng = random.Random(8)
    tokens = ["a", "b", "key", ": ", ":", "- ", "-", " ", "  ", "\n", "\n", "\n  ", "\n    ", "[", "]", ",",
              "'", '"', "#", " #", "1", "2026-01-01", "yes", "~", "é", "x y", "{", "}", "&", "*", "!", "|"]  # fmt: skip
    taken = 0
    for _ in range(20_000):
        text = "k: " + "".join(rng.choice(tokens) for _ in range(rng.randint(1, 14))) + "\n"
        taken += _agrees(text)
    print(f"read {taken} of 20,000")
    assert taken > 2000


@pytest.mark.parametrize(
    "text",
    [
        "name: 'a'#c\n",  # a comment needs a space before it here
        "a: [b]x\n",
        "name: a\n  b\n",  # a plain scalar over two lines
        "bio: |\n  text\n",
        "a: &x 1\nb: *x\n",
        "a: !!str 3\n",
        "a: {b: 1}\n",
        "a: 'it''s'\n",
        'a: "a\\tb"\n',
        "a: 1\na: 2\n",  # a duplicate: libyaml's path reports it with its line
        "list:\n- a\n",  # a list at its key's indent
        "  name: a\n",  # the top level indented
        "name: a\tb\n",
        "name: a\u2028b\n",
        "- a\n",
        "a: [b, 'c']\n",
        "a:\n  -\n    b: 1\n",
        "a: b: c\n",
        "",
        "# only a comment\n",
    ],
)
def test_outside_the_subset_it_leaves_the_text_to_libyaml(text: str) -> None:
    assert yamlnodes.quick_load(text) is None


def test_comments_are_read_as_libyaml_reads_them() -> None:
    text = "# a contact\nname: Ann   # how she writes it\ntags: [a, b]  # two\nphone: '+1 555'  # quoted\nnote:   # none yet\n"
    assert _agrees(text)
    quick = yamlnodes.quick_load(text)
    assert quick is not None and quick[0] == {"name": "Ann", "tags": ["a", "b"], "phone": "+1 555", "note": None}


def test_load_indexed_uses_it_and_positions_come_without_libyaml(monkeypatch: pytest.MonkeyPatch) -> None:
    text = "name: Ann\ninteractions:\n  - date: 2026-01-02\n    with: [bo, cy]\n"
    calls: list[Any] = []
    real = yamlnodes.compose

    def spy(source: str) -> Any:
        calls.append(source)
        return real(source)

    monkeypatch.setattr(yamlnodes, "compose", spy)
    value, index, duplicates = yamlnodes.load_indexed(text)
    assert value == {"name": "Ann", "interactions": [{"date": dt.date(2026, 1, 2), "with": ["bo", "cy"]}]}
    assert duplicates == []
    assert yamlnodes.position(index, ("interactions", 0, "with", 1)) == (3, 15)
    assert yamlnodes.position(index, ("interactions", 0, "date", "<key>")) == (2, 4)
    assert calls == []  # nothing composed so far
    node = index.get(("name",))  # a message quoting the value as written: composed now, once
    assert node is not None and node.value == "Ann" and len(calls) == 1
