"""The follow-ups as the site lists them: the dashboard's capped sections, and the full lists of
compact rows behind its "and N more" links (SPEC §8), `followups/<status>.html`, in pages.

    listing = Listing.of(sorted_followups)
    pages = list_pages(listing, renderer, base)

Overdue, due and upcoming list every follow-up (overdue first, then by due date, then by name);
missed lists one row per contact, newest first, pointing at the reconnect note its contact page
drafts on the latest one. A row shows who, what and when, and links to the contact page's card
of the follow-up, where its draft is: drafts stay on contact pages.

`row_key` is everything a row or the lists' order depends on: when the changed contacts'
follow-ups have the same row keys before and after an edit (new notes, say), no list changed,
so an update plans none of these pages and the dashboard shows the cards it showed (`Shown`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .dates import relative_days
from .drafts import MISSING_GAINED_FLAG
from .followups import LISTED, describe
from .model import FollowUp
from .pages import Page, digest
from .paging import chunks, page_path, pager
from .render import Renderer, url_path
from .slugs import slugify

SECTIONS = (*LISTED, "missed")  # the full lists, in this order
KIND_LABEL = {
    "thank-you": "Thank-you",
    "check-in": "Check-in",
    "reconnect": "Reconnect",
    "reminder": "Reminder",
    "update": "Update",
    "status-check": "Status check",
    "closing": "Closing note",
}
STATUS_TITLE = {"overdue": "Overdue", "due": "Due today", "upcoming": "Upcoming", "later": "Later", "missed": "Missed"}
TEMPLATE = "followups.html.j2"

RowKey = tuple[Any, ...]


def list_href(status: str) -> str:
    """The first page of a section's full list, from the site's root."""
    return f"followups/{status}.html"


def card_id(item: FollowUp) -> str:
    """The anchor of a follow-up's card (on its contact page, and on the dashboard)."""
    return "f-" + slugify(item.uid_key)


def row_key(item: FollowUp) -> RowKey:
    """What a row of the lists shows of `item`, and what their order and sections follow from."""
    return (item.uid_key, item.kind, item.due, item.status, item.days, item.name, item.contact,
            describe(item, detailed=True), item.note_missing_gained)  # fmt: skip


def same_rows(before: Iterable[FollowUp], after: Iterable[FollowUp]) -> bool:
    """Do one contact's follow-ups show the same in every list (the "later" ones show in none)?"""
    return [row_key(f) for f in before if f.status != "later"] == [row_key(f) for f in after if f.status != "later"]


@dataclass
class Listing:
    """The follow-ups by section: overdue, due and upcoming in order (`sort_key`), and for missed
    each contact's latest missed one with how many it has, newest first."""

    sections: dict[str, list[FollowUp]]
    missed: list[tuple[FollowUp, int]]

    @staticmethod
    def of(ordered: Iterable[FollowUp]) -> Listing:
        """From every follow-up, sorted by `sort_key`."""
        sections: dict[str, list[FollowUp]] = {status: [] for status in LISTED}
        latest: dict[str, FollowUp] = {}
        missed: dict[str, int] = {}
        for item in ordered:
            if item.status in sections:
                sections[item.status].append(item)
            elif item.status == "missed":
                missed[item.contact] = missed.get(item.contact, 0) + 1
                # The one the contact page drafts the reconnect note on: the first latest.
                if item.contact not in latest or item.due > latest[item.contact].due:
                    latest[item.contact] = item
        rows = sorted(latest.values(), key=lambda f: (-f.due.toordinal(), f.name.casefold(), f.contact))
        return Listing(sections, [(f, missed[f.contact]) for f in rows])

    def counts(self) -> dict[str, int]:
        """Follow-ups per section (missed: all of them), and the contacts with missed ones."""
        counts = {status: len(items) for status, items in self.sections.items()}
        counts["missed"] = sum(n for _, n in self.missed)
        counts["missed_contacts"] = len(self.missed)
        return counts

    def rows(self, status: str) -> Sequence[tuple[FollowUp, int]]:
        if status == "missed":
            return self.missed
        return [(item, 1) for item in self.sections[status]]

    def shown(self, per_section: int) -> list[FollowUp]:
        """The dashboard's cards: the first `per_section` of each of its sections."""
        return [item for status in LISTED for item in self.sections[status][:per_section]]


@dataclass
class Shown:
    """What a build's dashboard showed: the sections' counts (`Listing.counts`) and its cards as
    (status, contact slug, follow-up key, token of the card's bytes), in order."""

    counts: dict[str, int]
    cards: list[tuple[str, str, str, str]]

    def to_plain(self) -> dict[str, Any]:
        return {"counts": self.counts, "cards": [list(card) for card in self.cards]}

    @staticmethod
    def from_plain(value: Any) -> Shown | None:
        """As `to_plain` wrote it; None for anything else (an earlier plan: a full listing then)."""
        if not isinstance(value, dict):
            return None
        counts, cards = value.get("counts"), value.get("cards")
        if not isinstance(counts, dict) or not isinstance(cards, list):
            return None
        if not all(isinstance(k, str) and type(v) is int for k, v in counts.items()):
            return None
        if not all(isinstance(c, list) and len(c) == 4 and all(isinstance(x, str) for x in c) for c in cards):
            return None
        return Shown(counts, [(c[0], c[1], c[2], c[3]) for c in cards])


def find(followups: Mapping[str, list[FollowUp]], slug: str, uid: str) -> FollowUp:
    """A contact's follow-up by its key."""
    return next(f for f in followups[slug] if f.uid_key == uid)


def section_links(counts: Mapping[str, int], prefix: str, current: str = "") -> list[dict[str, Any]]:
    """The four lists as a row of links with their counts (`prefix`: from the page to the root)."""
    return [
        {"id": status, "title": STATUS_TITLE[status], "count": counts.get(status, 0),
         "href": prefix + list_href(status), "current": status == current}
        for status in SECTIONS
    ]  # fmt: skip


def _row(item: FollowUp, missed: int) -> dict[str, Any]:
    return {
        "name": item.name,
        "href": "../contacts/" + url_path(item.contact) + ".html#" + card_id(item),
        "kind": item.kind,
        "kind_label": KIND_LABEL[item.kind],
        "about": describe(item, detailed=True),
        "due": item.due.isoformat(),
        "when": relative_days(item.days),
        "missing_gained": item.note_missing_gained and item.status != "missed",
        "missed": missed,
    }


def list_pages(listing: Listing, renderer: Renderer, base: str) -> list[Page]:
    """Every page of the four full lists."""
    counts = listing.counts()
    pages: list[Page] = []
    for status in SECTIONS:
        first = list_href(status)
        parts = chunks(listing.rows(status))
        for number, rows in enumerate(parts, 1):
            pages.append(_list_page(renderer, base, counts, status, first, number, len(parts), rows))
    return pages


def _list_page(
    renderer: Renderer, base: str, counts: dict[str, int], status: str, first: str, number: int, count: int,
    rows: Sequence[tuple[FollowUp, int]],
) -> Page:  # fmt: skip
    def made_digest() -> str:
        return digest(base, "followups", status, number, count, counts, [(row_key(f), n) for f, n in rows])

    def make() -> bytes:
        title = STATUS_TITLE[status]
        context = {
            "base": "../",
            "page_title": f"{title} follow-ups" + (f" (page {number} of {count})" if count > 1 else ""),
            "nav": "dashboard",
            "status": status,
            "title": title,
            "sections": section_links(counts, "../", status),
            "count": counts[status],
            "contacts": counts["missed_contacts"],
            "rows": [_row(f, n) for f, n in rows],
            "pager": pager(first, number, count),
            "missing_flag": MISSING_GAINED_FLAG,
        }
        return renderer.page(TEMPLATE, context).encode("utf-8")

    return Page(page_path(first, number), made_digest, make)
