"""Contact pages, from the Jinja templates: every field shown and escaped, and a user's copy of
any of the templates they are made from wins."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from generator.paths import builtin_templates
from generator.site import SiteBuilder

TODAY = dt.date(2026, 11, 25)

# Everything a contact page shows, with text that must be escaped everywhere it goes.
AWKWARD = """\
---
name: "Zoë <b>O'Brien & \\"Co\\"</b>"
email: [zoe@example.com, "z<o>e@example.com"]
phone: ["+1 555 0100", "0 & 1"]
company: A&B <Labs>
title: Lead "Eng" <i>
location: Köln & <Bonn>
tags: [a&b, "<t>", plain]
links:
  site: https://example.com/?a=1&b="2"
  bad: javascript:alert(1)
how_we_met: At <script>alert(1)</script> & co
keep_in_touch: 3w
favourite: "<em>extra</em> & more"
reminders:
  - date: 2026-10-01
    note: Sent <the> "book" & more
    done: true
  - date: 2026-12-01
    note: Pending one
interactions:
  - date: 2026-11-20 14:30
    type: interview
    summary: Onsite <round> & "lunch"
    with: [plain-pat, nobody-here]
  - date: 2026-11-01
    type: coffee
    summary: Coffee
    gained: Tips on <systems> & "design"
    followed_up: 2026-11-02
  - date: 2026-06-01
    type: call
    followed_up: skip
---
Notes with *emphasis* & <html> and a link to [[plain-pat]] and [[No One]].
"""

PLAIN = """\
---
name: Pat Plain
---
"""

EMPTY_NOTES = """\
---
name: Quinn Quiet
email: quinn@example.com
compnay: Acme
interactions:
  - date: 2026-11-24
    type: interview
    summary: Phone screen
---
"""


def _pages(root: Path, out: Path) -> dict[str, bytes]:
    """The contact pages, and the dashboard (its cards are written alike)."""
    SiteBuilder(root, out, today=TODAY).build(clean=True)
    pages = {p.name: p.read_bytes() for p in sorted((out / "contacts").glob("*.html"))}
    return {**pages, "dashboard": (out / "index.html").read_bytes()}


def test_awkward_contacts_are_shown_and_escaped(crm_root: Callable[..., Path], tmp_path: Path) -> None:
    root = crm_root({"contacts/zoe.md": AWKWARD, "contacts/plain-pat.md": PLAIN, "contacts/quinn.md": EMPTY_NOTES})
    pages = _pages(root, tmp_path / "out")
    assert len(pages) == 5  # three contacts, the list and the dashboard
    zoe = pages["zoe.html"].decode()
    assert "&lt;script&gt;" in zoe and "<script>alert" not in zoe  # escaped, not skipped
    assert "<b>O" not in zoe and "Zoë &lt;b&gt;O&#39;Brien &amp; &#34;Co&#34;&lt;/b&gt;" in zoe
    assert "<em>emphasis</em>" in zoe and "&lt;html&gt;" in zoe  # Markdown rendered, raw HTML as text
    assert 'href="javascript' not in zoe and "unsafe-link" in zoe
    assert "Not in a git repository." in zoe and "Draft note" in zoe
    assert "Warnings in" in pages["quinn.html"].decode() and "No notes yet." in pages["quinn.html"].decode()
    assert pages["dashboard"].count(b'<article class="fu') >= 2


@pytest.mark.parametrize("name", ["base.html.j2", "contact.html.j2", "_followup.html.j2"])
def test_an_override_of_any_of_its_templates_is_used(
    name: str, crm_root: Callable[..., Path], tmp_path: Path
) -> None:
    root = crm_root({"contacts/quinn.md": EMPTY_NOTES})  # a thank-you pending: the follow-up part shows
    text = (builtin_templates() / name).read_text(encoding="utf-8")
    marker = "<!-- mine -->"
    for end in ("</article>", "</footer>", "</aside>"):
        text = text.replace(end, marker + end, 1)
    (root / "templates").mkdir()
    (root / "templates" / name).write_text(text, encoding="utf-8")
    pages = _pages(root, tmp_path / "out")
    assert marker in pages["quinn.html"].decode()
    if name != "contact.html.j2":
        assert marker in pages["dashboard"].decode()
