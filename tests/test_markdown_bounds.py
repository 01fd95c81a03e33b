"""Notes and front matter that would cost seconds, gigabytes or a crash are bounded (issue 24):
front matter over 1 MB is refused before it is parsed, notes over 256 KB are shown as plain text
(with a warning), a line nesting a thousand quotes or lists never reaches the Rust port (whose
stack it would overflow), and a bracket flood never reaches markdown-it-py's quadratic path."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from test_hostile_files import ANN, crm  # one way to run crm as a user does
from test_markdown import reference  # markdown-it-py, configured as the product's reference

from generator.frontmatter import NOTES_MARKDOWN_LIMIT
from generator.render import Renderer

RENDERER = Renderer(None)


def contact(name: str, notes: str) -> str:
    return f"---\nname: {name}\n---\n{notes}\n"


def test_deep_quotes_and_lists_build_instead_of_crashing(crm_root: Callable[..., Path]) -> None:
    quotes = "> " * 120_000 + "deep"  # 240 KB: under the plain-text bound, fatal to the port's stack
    lists = "- " * 100_000 + "deep"
    root = crm_root({"contacts/ann.md": ANN, "contacts/q.md": contact("Q", quotes), "contacts/l.md": contact("L", lists)})
    result = crm(root, "build")
    assert result.returncode == 0, (result.returncode, result.stderr[-2000:])
    quoted = (root / "site" / "contacts" / "q.html").read_text()
    assert '<pre class="notes-plain">&gt; &gt; ' in quoted and "&gt; deep\n</pre>" in quoted
    listed = (root / "site" / "contacts" / "l.html").read_text()
    assert '<pre class="notes-plain">- - ' in listed and "- deep\n</pre>" in listed


def test_nesting_a_thousand_levels_deep_is_plain_text_with_nothing_dropped() -> None:
    for text in ("> " * 1500 + "x", ">" * 3000 + "x", "1. " * 1200 + "x", "intro\n\n" + ("  - " * 1000 + "x\n") * 3):
        html = str(RENDERER.markdown(text))
        assert html == '<pre class="notes-plain">' + text.replace(">", "&gt;") + "</pre>\n"
    assert "<blockquote>" in str(RENDERER.markdown("> " * 999 + "x"))  # still Markdown


def test_nesting_under_a_thousand_levels_is_the_ports_a_known_corner_difference() -> None:
    """markdown-it-py stops nesting at 20 levels (maxNesting); the port nests on. No one quotes
    a quote 21 levels deep in a note; the cost of a check on every note is not worth it."""
    html = str(RENDERER.markdown("> " * 25 + "x"))
    assert html.count("<blockquote>") == 25
    assert reference("> " * 25 + "x").count("<blockquote>") == 20


def test_notes_over_the_bound_are_escaped_plain_text_with_links_kept(crm_root: Callable[..., Path]) -> None:
    piece = "Met at <b>DevCon</b> & talked; see [[Ann Lee]] and *this*.\n"
    notes = piece * (NOTES_MARKDOWN_LIMIT // len(piece) + 10)
    root = crm_root({"contacts/ann.md": ANN, "contacts/long.md": contact("Long Notes", notes)})
    checked = crm(root, "check")
    assert checked.returncode == 0
    out = checked.stdout + checked.stderr
    size = len(notes) // 1024
    assert f"contacts/long.md:4:1: warning: the notes are {size} KB; notes over 256 KB are shown as plain text" in out
    assert crm(root, "build").returncode == 0
    page = (root / "site" / "contacts" / "long.html").read_text()
    assert '<pre class="notes-plain">Met at &lt;b&gt;DevCon&lt;/b&gt; &amp; talked; see <a href="ann.html"' in page
    assert "<b>DevCon</b>" not in page and "<em>this</em>" not in page


def test_a_note_just_under_the_bound_is_markdown() -> None:
    text = "*a* " + "b " * ((NOTES_MARKDOWN_LIMIT - 10) // 2)
    assert str(RENDERER.markdown(text)).startswith("<p><em>a</em> b b")


def test_texts_the_port_is_quadratic_on_render_as_markdown_it_py_does() -> None:
    """Many emphasis delimiters in a paragraph, many reference definitions: markdown-it-py's HTML."""
    for text in ("*a* _b_ " * 1500, "~~a~~ " * 1200, "[a]: /x\n" * 600 + "[a]", "*a _b* c_ " * 800):
        assert str(RENDERER.markdown(text)) == reference(text)


def test_a_bracket_flood_with_a_backtick_is_plain_text() -> None:
    """Texts with `[` and a backtick go to markdown-it-py, which is quadratic in unmatched `[`."""
    html = str(RENDERER.markdown("`code` " + "[" * 30_000))
    assert html.startswith('<pre class="notes-plain">`code` [[[')
    small = "`code` " + "[" * 100
    assert str(RENDERER.markdown(small)) == reference(small)


def test_front_matter_over_a_megabyte_is_refused_before_parsing(crm_root: Callable[..., Path]) -> None:
    about = "x" * (1024 * 1024 + 10)
    tags = "[" + "a," * 600_000 + "a]"
    root = crm_root({
        "contacts/ann.md": ANN,
        "contacts/about.md": f"---\nname: Big\nabout: \"{about}\"\n---\n",
        "contacts/tags.md": f"---\nname: Tags\ntags: {tags}\n---\n",
    })  # fmt: skip
    result = crm(root, "check")
    assert result.returncode == 1
    out = result.stdout + result.stderr
    assert "contacts/about.md:2:1: error: the front matter is 1,025 KB; at most 1,024 KB" in out
    assert "contacts/tags.md:2:1: error: the front matter is 1,172 KB; at most 1,024 KB" in out
    assert "3 contact files, 2 errors" in out
    assert crm(root, "build").returncode == 1
    assert (root / "site" / "contacts" / "ann.html").is_file()
