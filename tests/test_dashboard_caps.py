"""Bounded pages (issue 21): the dashboard's sections show at most `dashboard.per_section` cards,
most urgent first, with "and N more" linking to the full lists of compact rows; long lists (the
full follow-up lists, the contact list, tag and company pages) come in pages."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from generator import paging
from generator.site import SiteBuilder
from tests.test_site import Node, page, tree

TODAY = dt.date(2026, 11, 25)


def contact(name: str, coffee: str, tags: str = "[]") -> str:
    """A contact owing a thank-you for a coffee on `coffee` (due two days later)."""
    return f"---\nname: {name}\ntags: {tags}\ninteractions:\n  - date: {coffee}\n    type: coffee\n    gained: a tip\n---\n"


def root_with(crm_root: Callable[..., Path], settings: str | None = None) -> Path:
    """7 overdue (due 2026-11-12 … 18, named so that the name order is not the due order), 3 due
    today, 5 upcoming and 2 missed, as of 2026-11-25."""
    files: dict[str, str | bytes] = {}
    for i in range(7):
        files[f"contacts/over-{i}.md"] = contact(f"Overdue {'GFEDCBA'[i]}", f"2026-11-{10 + i:02d}")
    for i in range(3):
        files[f"contacts/due-{i}.md"] = contact(f"Due {i}", "2026-11-23")
    for i in range(5):
        files[f"contacts/up-{i}.md"] = contact(f"Upcoming {i}", f"2026-11-{24 + i // 3:02d}")
    for i in range(2):
        files[f"contacts/gone-{i}.md"] = contact(f"Missed {i}", f"2026-10-0{1 + i}")
    return crm_root(files, settings=settings)


def build(root: Path) -> Path:
    report = SiteBuilder(root, root / "site", today=TODAY).build()
    assert report.errors == [], report.errors
    return root / "site"


def section(site: Path, status: str) -> Node:
    return page(site, "index.html").by_id(status)


def cards(site: Path, status: str) -> list[str]:
    return [a.norm() for a in section(site, status).find_all("h3", cls="fu-title")]


def more_link(site: Path, status: str) -> tuple[str, str] | None:
    found = section(site, status).find_all("p", cls="more")
    if not found:
        return None
    link = found[0].find("a")
    return link.norm(), link.attrs["href"] or ""


def rows(site: Path, rel: str) -> list[tuple[str, str]]:
    """(name, link) of each row of a full follow-up list page."""
    return [(a.norm(), a.attrs["href"] or "") for li in page(site, rel).find_all("li", cls="frow") for a in li.find_all("a")]


def test_each_section_shows_the_most_urgent_cards_and_links_to_the_rest(crm_root):
    site = build(root_with(crm_root, "dashboard: {per_section: 3}\n"))
    # The three most urgent (earliest due), not the first three by name.
    assert cards(site, "overdue") == ["Overdue G", "Overdue F", "Overdue E"]
    assert more_link(site, "overdue") == ("and 4 more overdue", "followups/overdue.html")
    assert cards(site, "due") == ["Due 0", "Due 1", "Due 2"] and more_link(site, "due") is None  # exactly 3
    assert cards(site, "upcoming") == ["Upcoming 0", "Upcoming 1", "Upcoming 2"]
    assert more_link(site, "upcoming") == ("and 2 more upcoming", "followups/upcoming.html")
    dashboard = page(site, "index.html")
    # The counts are the whole sections', not the cards shown.
    stats = {li.attrs["class"]: li.find("span", cls="stat-num").norm() for li in dashboard.find("ul", cls="stats").find_all("li")}
    assert stats["stat stat-overdue"] == "7" and stats["stat stat-due"] == "3" and stats["stat stat-upcoming"] == "5"
    assert [c.norm() for c in section(site, "overdue").find_all("span", cls="count")] == ["7"]
    # The missed count links to the missed list.
    missed = dashboard.find("li", cls="stat-missed")
    assert missed.find("a").attrs["href"] == "followups/missed.html" and missed.find("span", cls="stat-num").norm() == "2"
    # The full lists: every follow-up of the section, in the dashboard's order, linking to the
    # contact page's card (where the draft is), no drafts of their own.
    overdue = rows(site, "followups/overdue.html")
    assert [name for name, _ in overdue] == [f"Overdue {c}" for c in "GFEDCBA"]
    assert overdue[0][1] == "../contacts/over-0.html#f-over-0-thank-you-2026-11-10-0"
    assert 'id="f-over-0-thank-you-2026-11-10-0"' in (site / "contacts" / "over-0.html").read_text(encoding="utf-8")
    assert "Draft note" not in (site / "followups" / "overdue.html").read_text(encoding="utf-8")
    assert [name for name, _ in rows(site, "followups/due.html")] == ["Due 0", "Due 1", "Due 2"]
    assert len(rows(site, "followups/upcoming.html")) == 5
    assert [name for name, _ in rows(site, "followups/missed.html")] == ["Missed 1", "Missed 0"]  # newest first
    tabs = page(site, "followups/overdue.html").find("ul", cls="tabs")
    assert [(a.norm(), a.attrs.get("aria-current")) for a in tabs.find_all("a")] == [
        ("Overdue 7", "page"), ("Due today 3", None), ("Upcoming 5", None), ("Missed 2", None)]  # fmt: skip


def test_twenty_cards_by_default(crm_root):
    files: dict[str, str | bytes] = {
        f"contacts/p{i:02d}.md": contact(f"Person {i:02d}", f"2026-11-{10 + i % 10:02d}") for i in range(25)
    }
    site = build(crm_root(files))
    assert len(cards(site, "overdue")) == 20
    assert more_link(site, "overdue") == ("and 5 more overdue", "followups/overdue.html")
    assert len(rows(site, "followups/overdue.html")) == 25


def test_no_cards_at_all_still_links_to_the_lists(crm_root):
    site = build(root_with(crm_root, "dashboard:\n  per_section: 0\n"))
    assert cards(site, "overdue") == [] and more_link(site, "overdue") == ("7 overdue", "followups/overdue.html")


def test_the_setting_is_checked_with_its_line(crm_root, cli: Callable[..., Result]):
    root = root_with(crm_root, "upcoming_days: 7\ndashboard:\n  per_section: 500\n  cards: 3\n")
    doc = json.loads(cli(root, "check", "--format", "json").stdout)
    found = [(p["file"], p["line"], p["severity"], p["field"], p["message"]) for p in doc["problems"]]
    assert found == [
        ("crm.yaml", 3, "error", "dashboard.per_section", "expected a whole number of cards (0 to 50), found an integer (500)"),
        ("crm.yaml", 4, "warning", "dashboard.cards.<key>", "unknown key (known: per_section)"),
    ]  # fmt: skip
    site = build_anyway(root)
    assert len(cards(site, "overdue")) == 7  # the default (20) in its place


def build_anyway(root: Path) -> Path:
    SiteBuilder(root, root / "site", today=TODAY).build()
    return root / "site"


def test_long_lists_come_in_pages(crm_root, monkeypatch):
    monkeypatch.setattr(paging, "PAGE_ROWS", 3)
    root = root_with(crm_root)
    for i in range(4):  # a tag of 4 contacts: two pages
        path = root / "contacts" / f"up-{i}.md"
        path.write_text(path.read_text(encoding="utf-8").replace("tags: []", "tags: [Team]"), encoding="utf-8")
    site = build(root)
    files = set(tree(site))
    assert {"followups/overdue.html", "followups/_overdue-2.html", "followups/_overdue-3.html"} <= files
    assert "followups/_overdue-4.html" not in files and "followups/_due-2.html" not in files
    overdue = [name for rel in ("followups/overdue.html", "followups/_overdue-2.html", "followups/_overdue-3.html")
               for name, _ in rows(site, rel)]  # fmt: skip
    assert overdue == [f"Overdue {c}" for c in "GFEDCBA"]
    pager = page(site, "followups/_overdue-2.html").find("nav", cls="pager")
    assert [(a.norm(), a.attrs["href"]) for a in pager.find_all("a")] == [
        ("← Previous", "overdue.html"), ("1", "overdue.html"), ("2", "_overdue-2.html"), ("3", "_overdue-3.html"),
        ("Next →", "_overdue-3.html")]  # fmt: skip
    assert pager.find("a", aria_current="page").norm() == "2"
    # The contact list: 17 contacts, 3 a page, in name order, each once; the tags and companies
    # are browsed from the first page.
    listed = []
    for number in range(1, 7):
        rel = paging.page_path("contacts/index.html", number)
        listing = page(site, rel)
        listed += [a.norm() for a in listing.find_all("a", cls="row-name")]
        assert bool(listing.find_all("div", cls="browse")) == (number == 1), rel
    assert "contacts/_index-7.html" not in files
    assert listed == sorted(listed, key=str.casefold) and len(listed) == len(set(listed)) == 17
    assert [a.norm() for a in page(site, "tags/team.html").find_all("a", cls="row-name")] == [
        "Upcoming 0", "Upcoming 1", "Upcoming 2"]  # fmt: skip
    assert [a.norm() for a in page(site, "tags/_team-2.html").find_all("a", cls="row-name")] == ["Upcoming 3"]


@pytest.mark.parametrize("mode", ["server", "cli"])
def test_an_update_moves_cards_across_the_cap_and_removes_pages_no_longer_needed(crm_root, monkeypatch, mode):
    monkeypatch.setattr(paging, "PAGE_ROWS", 3)
    root = root_with(crm_root, "dashboard: {per_section: 3}\n")
    for i in range(4):
        path = root / "contacts" / f"up-{i}.md"
        path.write_text(path.read_text(encoding="utf-8").replace("tags: []", "tags: [Team]"), encoding="utf-8")
    out = root / "site"
    builder = SiteBuilder(root, out, today=TODAY)
    builder.build()

    def rebuild() -> None:
        (builder if mode == "server" else SiteBuilder(root, out, today=TODAY)).build()
        clean = root.parent / f"clean-{mode}-{len(list(root.parent.glob('clean-*')))}"
        SiteBuilder(root, clean, today=TODAY).build(clean=True)
        assert tree(out) == tree(clean)

    # The most urgent thank-you is sent: the fourth overdue moves onto the dashboard.
    path = root / "contacts" / "over-0.md"
    path.write_text(path.read_text(encoding="utf-8").replace("gained: a tip\n", "gained: a tip\n    followed_up: 2026-11-24\n"), encoding="utf-8")  # fmt: skip
    rebuild()
    assert cards(out, "overdue") == ["Overdue F", "Overdue E", "Overdue D"]
    assert more_link(out, "overdue") == ("and 3 more overdue", "followups/overdue.html")
    assert not (out / "followups" / "_overdue-3.html").exists()  # six rows: two pages
    # A contact leaves the tag: its second page goes.
    path = root / "contacts" / "up-3.md"
    path.write_text(path.read_text(encoding="utf-8").replace("tags: [Team]", "tags: []"), encoding="utf-8")
    rebuild()
    assert not (out / "tags" / "_team-2.html").exists()
    # New notes change no list: the dashboard still shows the same cards (and is not rendered).
    path = root / "contacts" / "over-1.md"
    path.write_text(path.read_text(encoding="utf-8") + "\nMore notes.\n", encoding="utf-8")
    rebuild()
    assert cards(out, "overdue") == ["Overdue F", "Overdue E", "Overdue D"]


def test_user_text_in_the_lists_is_escaped(crm_root):
    root = crm_root({"contacts/x.md": contact("<script>alert(1)</script> & Co", "2026-11-20")})
    text = (build(root) / "followups" / "overdue.html").read_text(encoding="utf-8")
    assert "<script>alert" not in text and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in text
