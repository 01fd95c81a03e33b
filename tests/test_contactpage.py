"""Contact pages written in Python (generator/contactpage.py) are byte for byte what the built-in
Jinja templates make, and only the built-in, unchanged templates are written that way."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from generator import contactpage
from generator.paths import builtin_templates
from generator.site import SiteBuilder

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

from generate import generate, make_history  # noqa: E402

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


def _both(root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[dict[str, bytes], dict[str, bytes]]:
    fast = _pages(root, tmp_path / "fast")
    with monkeypatch.context() as patch:
        patch.setattr(contactpage, "usable", lambda *_: False)
        slow = _pages(root, tmp_path / "jinja")
    return fast, slow


def test_a_build_with_the_built_in_templates_writes_them_in_python(
    crm_root: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without this, every comparison below could pass with Jinja on both sides."""
    written: list[str] = []
    real_page, real_card = contactpage.contact_page, contactpage.followup
    monkeypatch.setattr(contactpage, "contact_page", lambda ctx: written.append(ctx["contact"].slug) or real_page(ctx))
    monkeypatch.setattr(contactpage, "followup", lambda *a: written.append("card") or real_card(*a))
    root = crm_root({"contacts/quinn.md": EMPTY_NOTES, "contacts/plain-pat.md": PLAIN})
    _pages(root, tmp_path / "out")
    assert sorted(w for w in written if w != "card") == ["plain-pat", "quinn"]
    assert written.count("card") == 2  # Quinn's thank-you: on her page and on the dashboard


def test_the_sources_digest_is_the_built_in_templates() -> None:
    assert contactpage.sources_digest(builtin_templates()) == contactpage.SOURCES_DIGEST, (
        "A built-in template changed: update generator/contactpage.py to write the same bytes, "
        "check it with this file's tests, then set SOURCES_DIGEST to the digest above."
    )


def test_awkward_contacts_are_written_as_jinja_writes_them(
    crm_root: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = crm_root({"contacts/zoe.md": AWKWARD, "contacts/plain-pat.md": PLAIN, "contacts/quinn.md": EMPTY_NOTES})
    fast, slow = _both(root, tmp_path, monkeypatch)
    assert fast == slow and len(fast) == 5  # three contacts, the list and the dashboard
    zoe = fast["zoe.html"].decode()
    assert "&lt;script&gt;" in zoe and "<script>alert" not in zoe  # escaped, not skipped
    assert "Not in a git repository." in zoe and "Draft note" in zoe and "unsafe-link" in zoe
    assert "Warnings in" in fast["quinn.html"].decode() and "No notes yet." in fast["quinn.html"].decode()


def test_generated_contacts_with_git_history_are_written_as_jinja_writes_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "gen"
    slugs = generate(root, 160, seed=4)
    make_history(root, slugs, 6)
    # A note template that fails for one kind of follow-up: its pages show the error instead.
    (root / "templates" / "notes").mkdir(parents=True)
    (root / "templates" / "notes" / "check-in.md.j2").write_text("{{ contact.no_such_field.x }}", encoding="utf-8")
    fast, slow = _both(root, tmp_path, monkeypatch)
    assert fast == slow and len(fast) == 162
    shown = b"".join(fast.values())
    assert b"Draft unavailable:" in shown and b"Write email" in shown and b'class="sha"' in shown
    assert fast["dashboard"].count(b'<article class="fu') > 50


@pytest.mark.parametrize("name", contactpage.TEMPLATES)
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
    assert marker in _pages(root, tmp_path / "out")["quinn.html"].decode()


def test_only_the_built_in_files_with_the_known_digest_qualify(tmp_path: Path) -> None:
    builtin = builtin_templates()
    effective = [(name, builtin / name) for name in contactpage.TEMPLATES] + [("dashboard.html.j2", builtin / "x")]
    assert contactpage.usable(effective, builtin)
    assert not contactpage.usable(effective[1:], builtin)  # one not in effect at all
    copy = tmp_path / "templates"
    copy.mkdir()
    for name in contactpage.TEMPLATES:
        (copy / name).write_bytes((builtin / name).read_bytes())
    # The same names in another folder (a user's copy, even an identical one) do not qualify...
    assert not contactpage.usable([(name, copy / name) for name in contactpage.TEMPLATES], builtin)
    # ...and neither do built-in files that differ from those this module was written for.
    (copy / "base.html.j2").write_bytes((builtin / "base.html.j2").read_bytes() + b"\n")
    assert not contactpage.usable([(name, copy / name) for name in contactpage.TEMPLATES], copy)
