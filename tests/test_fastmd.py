"""The notes' fast path (generator/fastmd.py) writes exactly what markdown-it writes, or gives up.

Every check compares with markdown-it configured by `make_markdown()` and the same resolver.
`FASTMD_EXAMPLES=20000 pytest tests/test_fastmd.py` runs the property tests longer.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator import fastmd
from generator.frontmatter import split
from generator.render import Renderer, make_markdown, url_path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

from generate import generate  # noqa: E402

MD = make_markdown()
EXAMPLES = int(os.environ.get("FASTMD_EXAMPLES", "700"))
PROPERTY = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Resolved names and hrefs hold characters that need escaping, to check both paths escape alike.
PEOPLE = {
    "ann": ("ann.html", 'Ann "Nancy" O\'Neil <&>'),
    "Bob Stone": ('bob-stone.html?x=1&y="2"', "Bob Stone"),
    "x": ("x.html", "X"),
    "é 中": ("%C3%A9.html", "É 中"),
}


def resolver(target: str) -> tuple[str, str] | None:
    return PEOPLE.get(target)


def reference(text: str, resolve: fastmd.Resolver | None = resolver) -> str:
    return MD.render(text, {"wiki_resolver": resolve})


def check(text: str, resolve: fastmd.Resolver | None = resolver) -> str | None:
    """The fast path's answer, after checking it is None or markdown-it's."""
    fast = fastmd.render(text, resolve)
    if fast is not None:
        assert fast == reference(text, resolve), text
    return fast


TYPICAL = """\
# Notes

Speaks at meetups about observability and `OpenTelemetry`. Knows [[Eleni Lee]] from a previous job.

Cares a lot about *operational ownership* and good runbooks. Hiring for a **Senior Backend Engineer**; the loop is screen → design → team chat.

- item one
- item two with [[ann]] and [[x|the X]]
"""


def test_a_typical_note_takes_the_fast_path() -> None:
    fast = check(TYPICAL)
    assert fast is not None
    assert '<a href="ann.html" class="wiki">Ann &quot;Nancy&quot; O\'Neil &lt;&amp;&gt;</a>' in fast
    assert '<span class="wiki-missing" title="No contact with this name">[[Eleni Lee]]</span>' in fast
    assert "<em>operational ownership</em>" in fast and "<strong>Senior Backend Engineer</strong>" in fast
    # Renderer.markdown really uses it: it calls no markdown-it when the fast path answers.
    class NoMarkdownIt:
        def render(self, *args: object) -> str:
            raise AssertionError("markdown-it was called")

    renderer = Renderer(None)
    renderer.md = NoMarkdownIt()  # type: ignore[assignment]
    assert str(renderer.markdown(TYPICAL, resolver)) == fast


@pytest.mark.parametrize(
    "text",
    [
        "",
        "\n\n",
        "one line",
        "# H1\n## H2\n###### H6\ntext right after\n# and a heading",
        "para\n- a list interrupting it\n- two\n\npara",
        "- loose\n\n- list\n\n\n- three\n\nafter",
        "- tight\n- list\n\n# Heading",
        "*em* **strong** (*in parens*) *a*, *b*; *c*: *d*! *e*? *f*) *g*.",
        '*across\nlines* and `code & <stuff> "q" *x* [[ann]] _u_ \\\\`',
        "[[ann]] [[ Bob Stone | Bobby ]] [[nobody]] [[x|label with | bar]] [[a&b <c> \"d\" 'e']]",
        "Tom & Jerry, R & D, & at the end &",
        "Great! 3 > 2, 1.5 years, 2024: \"quoted\" 'single' {braces} $5 100% a@b c+d e=f #tag",
        "1.5 million\n2024 was good",
        "Ünïcödé → 中文 текст 한국어",
        "# Notes\n\n**Bold** start, `code` start\n[[ann]] start\n(paren) start",
    ],
)
def test_accepted_examples_equal_markdown_it(text: str) -> None:
    assert check(text) is not None


@pytest.mark.parametrize(
    "text",
    [
        "a\\*b",
        "<b>x</b>",
        "a_b_c",
        "~~gone~~",
        "a | b\n--|--\n1 | 2",
        "[link](https://example.com)",
        "[x]",
        "x]",
        "![[ann]]",
        "> quote",
        "1. one",
        "2) two",
        "+ plus",
        "* star item",
        "***",
        "---",
        "para\n---",
        "para\n===",
        "    indented",
        " lead",
        "trail ",
        "hard  \nbreak",
        "tab\there",
        "cr\rhere",
        "nbsp\xa0here",
        "&amp;",
        "&#35;",
        "&copy;",
        "***both***",
        "a*b*c",
        "*a **b** c*",
        "**a*",
        "*a",
        "a*",
        "* a*",
        "`a",
        "``a``",
        "```\nfence\n```",
        "` a `",
        "`a\nb`",
        "# C#",
        "#nospace",
        "####### seven",
        "# ",
        "- item\nlazy continuation",
        "- item\n# heading",
        "-no space",
        "- - nested",
        "- # heading in item",
        "- 1. ordered in item",
        "中*a*",
        "*a*中",
    ],
)
def test_outside_the_subset_gives_up(text: str) -> None:
    assert fastmd.render(text, resolver) is None
    renderer = Renderer(None)
    assert str(renderer.markdown(text, resolver)) == reference(text)


def test_the_generated_corpus(tmp_path: Path) -> None:
    generate(tmp_path, 400, seed=11)
    slugs: set[str] = set()
    names: dict[str, str] = {}
    bodies: list[str] = []
    for path in sorted((tmp_path / "contacts").glob("*.md")):
        parts = split(path.read_text(encoding="utf-8"))
        slugs.add(path.stem)
        names[str(yaml.safe_load(parts.yaml_text)["name"]).casefold()] = path.stem
        bodies.append(parts.body)

    def site_resolver(target: str) -> tuple[str, str] | None:  # what the site does
        found = target if target in slugs else names.get(target.casefold())
        return None if found is None else (url_path(found) + ".html", f"Name of {found}")

    accepted = 0
    for body in bodies:
        fast = fastmd.render(body, site_resolver)
        if fast is not None:
            accepted += 1
            assert fast == reference(body, site_resolver), body
    share = accepted / len(bodies)
    print(f"fast path took {accepted} of {len(bodies)} generated notes ({share:.1%})")
    assert share >= 0.9
    assert any("[[" in body for body in bodies) and any("\n- " in body for body in bodies)


def test_no_resolver_means_missing_links() -> None:
    assert check("Knows [[ann]].", None) == (
        '<p>Knows <span class="wiki-missing" title="No contact with this name">[[ann]]</span>.</p>\n'
    )


def test_bad_characters_are_all_of_unicodes_spaces_and_controls() -> None:
    expected = {
        chr(code)
        for code in range(0x110000)
        if chr(code) not in " \n"
        and (chr(code).isspace() or code < 0x20 or 0x7F <= code <= 0x9F or 0xD800 <= code <= 0xDFFF)
    }
    found = {chr(code) for code in range(0x110000) if fastmd._BAD.match(chr(code))}
    assert found == expected


HOSTILE = [
    "<script>alert(1)</script>",
    "x <script>alert(1)</script> y",
    "`<script>alert(1)</script>`",
    "[[<script>alert(1)</script>]]",
    "[[ann|<script>alert(1)</script>]]",
    "*<script>*",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "<javascript:alert(1)>",
    "Knows [[x|javascript:alert(1)]] well",
    "javascript:alert(1)",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    '"><img src=x onerror=alert(1)>',
    "' onmouseover='alert(1)",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_notes_stay_text(text: str) -> None:
    def nasty(target: str) -> tuple[str, str] | None:
        return (
            ('x.html" onclick="alert(1)', "<script>alert(2)</script>") if target == "x" else resolver(target)
        )

    check(text, nasty)
    html = str(Renderer(None).markdown(text, nasty))
    assert html == reference(text, nasty)
    assert "<script" not in html and "<img" not in html and 'href="javascript' not in html.lower()
    assert "onclick=" not in html or "onclick=&quot;" in html


# Pieces that make the fast path's decisions hard: delimiters, block starts, escapes.
TRICKY = [
    "*", "**", "***", "`", "``", "[[", "]]", "[", "]", "|", "#", "# ", "## ", "- ", "-", "+ ", "1. ",
    "2) ", ">", "\n", "\n\n", " ", "  ", "\t", "\r", "\xa0", "a", "b", "Z", "0", "7", "ann", "x",
    "Bob Stone", " ann ", ".", ",", ";", ":", "!", "?", "(", ")", "&", "&amp;", "&#3", "&x;", "<",
    "_", "\\", "\"", "'", "=", "~", "é", "→", "中", "---", "===",
]  # fmt: skip
# Mostly pieces inside the subset, so that many examples take the fast path.
GOOD = [
    "*", "**", "`", "[[", "]]", "|", "# ", "## ", "- ", "\n", "\n", "\n\n", " ", "a", "bc", "Z", "0", "1",
    "ann", "x", "Bob Stone", "nobody", ".", ",", ";", ":", "!", "?", "(", ")", "& ", "\"", "'", ">",
    "é", "→", "中", "#",
]  # fmt: skip


@PROPERTY
@given(st.lists(st.sampled_from(TRICKY), max_size=40).map("".join))
def test_property_tricky_pieces(text: str) -> None:
    check(text)


@PROPERTY
@given(st.lists(st.sampled_from(GOOD), max_size=60).map("".join))
def test_property_mostly_good_pieces(text: str) -> None:
    check(text)


@PROPERTY
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=30))
def test_property_any_text(text: str) -> None:
    check(text)


# Notes built like real ones (words, emphasis, code, wiki links, headings, list items), then
# sometimes one tricky piece inserted anywhere: most take the fast path, near misses included.
PLAIN = ["a", "bc", "Z9", "ann", "2024", "1.5", "it's", "x-y", "中文", "é", "→", "&", ">", '"q"', "#1"]
EMPHASIZED = ["a", "bc", "Z9", "ann", "2024", "it's", "x-y", "a b", "Data-Intensive Apps", "é"]
SEPARATORS = [" "] * 8 + [", ", ". ", "; ", ": ", "! ", "? ", " (", ") ", "\n"]
ATOMS = st.one_of(
    st.sampled_from(PLAIN),
    st.sampled_from(PLAIN),
    st.sampled_from(EMPHASIZED).map(lambda w: f"*{w}*"),
    st.sampled_from(EMPHASIZED).map(lambda w: f"**{w}**"),
    st.sampled_from(["`code`", '`a <b> & "c"`', "`*x*`", "`[[ann]]`", "`_u_ \\`", "` x`"]),
    st.sampled_from(["[[ann]]", "[[x|the X]]", "[[Bob Stone]]", "[[nobody]]", "[[ ann ]]", "[[x|*a*]]"]),
)
LINES = st.tuples(
    st.sampled_from([""] * 10 + ["- "] * 5 + ["# ", "## ", "###### ", "1. ", "> ", "#", " "]),
    st.lists(st.tuples(ATOMS, st.sampled_from(SEPARATORS)), min_size=1, max_size=6),
).map(lambda t: t[0] + "".join(a + s for a, s in t[1]).rstrip(" \n"))


@st.composite
def notes(draw: st.DrawFn) -> str:
    lines = draw(st.lists(LINES, min_size=1, max_size=5))
    text = "".join(line + draw(st.sampled_from(["\n", "\n", "\n\n", "\n\n\n"])) for line in lines)
    if draw(st.integers(0, 3)) == 0:
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(TRICKY)) + text[at:]
    return text


@PROPERTY
@given(notes())
def test_property_note_shapes(text: str) -> None:
    check(text)
