"""The pages that list many contacts: the dashboard, the contact list in pages, its search
index, tag and company pages, and the calendar feed."""

from __future__ import annotations

import functools
import heapq
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from markupsafe import Markup

from . import followup_pages, paging, sitejobs
from .followup_pages import Shown
from .followups import LISTED
from .model import Contact, FollowUp, Problem
from .pages import Page
from .pages import digest as _hash
from .render import Renderer, url_path
from .sitemodel import RECENT_LIMIT, Model, slugify
from .sitepages import ContactPages
from .sitestate import SEARCH_PAGES, Fragments, ShelfView, Update, bytes_token, search_key, shard_number

BROWSE_LIMIT = 100  # tags and companies the contact list's first page links to, the largest first


def largest_groups(
    groups: dict[str, tuple[str, list[str]]], key: Callable[[tuple[str, tuple[str, list[str]]]], Any]
) -> list[tuple[str, str, int]]:
    """(slug, name, members) of the BROWSE_LIMIT largest groups (ties: by slug), in `key` order."""
    kept = heapq.nsmallest(BROWSE_LIMIT, groups.items(), key=lambda kv: (-len(kv[1][1]), kv[0]))
    return [(slug, display, len(members)) for slug, (display, members) in sorted(kept, key=key)]


SEARCH_EDGES = "\"'`*_~[](){}<>,.;:!?#|"  # cut off the words of the index (app.js cuts them off the query)


def search_entry(contact: Contact) -> list[Any]:
    """A contact as the list's search shows it and looks for it (app.js reads these places):
    name, title, company, company slug, tags, tag slugs (null: the tags themselves), the last
    interaction's date, and the other words of the file (location, how we met, the notes, the
    interactions' summaries and what was gained), lower-cased. A query matches when each of its
    words is in one of these, so the index keeps a word once, without the punctuation around it,
    and not when it is part of a longer word kept."""
    parts = [contact.location, contact.how_we_met, contact.body]
    for interaction in contact.interactions:
        parts += [interaction.summary, interaction.gained]
    found = dict.fromkeys(word.strip(SEARCH_EDGES) for word in " ".join(parts).lower().split())
    found.pop("", None)
    kept = ""
    for word in sorted(found, key=len, reverse=True):
        if word not in kept:
            kept += " " + word
    last = contact.last_interaction
    tag_keys = [slugify(t) for t in contact.tags]
    return [
        contact.name, contact.title, contact.company, slugify(contact.company) if contact.company else "",
        list(contact.tags), None if tag_keys == list(contact.tags) else tag_keys,
        last.date.isoformat() if last is not None else "", kept[1:],
    ]  # fmt: skip


class ListPages(ContactPages):
    """Plans the pages that list many contacts, from the model and the fragments kept on the
    builder's shelves (rows, search entries, cards, events)."""

    def _dashboard(self, model: Model, renderer: Renderer, base: str, update: Update | None = None) -> Page:
        """The dashboard: each section's first cards (settings' `dashboard_per_section`), with
        their counts and links to the full lists. Its cards stand in its digest by a hash of their
        bytes, so an edit to a contact's notes leaves the dashboard alone; and when the contacts an
        update (`update`) planned again show in no list otherwise than before (`rows_same`), it
        shows the cards the last build showed, without sorting every follow-up again."""
        loaded = model.loaded
        rate = model.rate
        recent = [
            {
                "date": i.date.isoformat(),
                "name": name,
                "href": "contacts/" + url_path(slug) + ".html",
                "type": i.type.replace("-", " "),
                "summary": i.summary,
            }
            for _, _, name, slug, i in model.recent[:RECENT_LIMIT]
        ]
        invalid_slugs = {loaded_slug for loaded_slug in loaded.invalid if loaded_slug not in model.contacts}
        grouped: dict[str, list[Problem]] = {}
        for problem in loaded.problems:
            grouped.setdefault(problem.file, []).append(problem)
        problem_files = []
        for file, items in grouped.items():
            slug = Path(file).name[:-3] if file.endswith(".md") else ""
            problem_files.append(
                {
                    "file": file,
                    "href": "contacts/" + url_path(slug) + ".html"
                    if slug in invalid_slugs or slug in model.contacts
                    else "",
                    "invalid": any(p.severity == "error" for p in items),
                    "problems": [
                        {
                            "where": f"{p.file}:{p.line}:{p.column}",
                            "severity": p.severity,
                            "field": p.field,
                            "message": p.message,
                        }
                        for p in items
                    ],
                }  # fmt: skip
            )
        problem_files.sort(key=lambda f: (not f["invalid"], f["file"]))
        as_of = model.today if model.today != model.real_today else None
        stamps, today_text = model.stamps, str(model.today)

        def key_of(item: FollowUp, stamp: str) -> str:
            return f"{base}|{stamp}|{item.uid_key}|{item.status}|{item.days}|{today_text}"

        def card(item: FollowUp) -> Markup:
            def make() -> tuple[str, bool]:
                view = self._followup_view(model, item, "")
                html = renderer.page("_followup.html.j2", {"f": view, "show_name": True, "open": item.status != "upcoming"})
                return html, not view["draft_error"]

            return Markup(self._cards.use(self.writer, key_of(item, stamps[item.contact]), make))

        cards = self._dashboard_cards(model, update, card, key_of)

        def digest() -> str:
            shown = cards()[1]
            return _hash(
                base, "dashboard", model.today, as_of, shown.counts, shown.cards, (rate.on_time, rate.counted),
                recent, problem_files, len(model.contacts),
            )  # fmt: skip

        def make() -> bytes:
            items, shown = cards()
            counts = shown.counts
            sections = [
                {**link, "items": [card(f) for f in items if f.status == link["id"]]}
                for link in followup_pages.section_links(counts, "")[: len(LISTED)]
            ]
            context = {
                "base": "",
                "page_title": "Dashboard",
                "nav": "dashboard",
                "today": model.today.isoformat(),
                "as_of": as_of.isoformat() if as_of else "",
                "sections": sections,
                "rate": {"percent": rate.percent, "on_time": rate.on_time, "counted": rate.counted},
                "recent": recent,
                "problem_files": problem_files,
                "error_count": sum(1 for p in loaded.problems if p.severity == "error"),
                "warning_count": sum(1 for p in loaded.problems if p.severity == "warning"),
                "contact_count": len(model.contacts),
                "upcoming_days": loaded.settings.upcoming_days,
                "missed_count": counts["missed"],
                "missed_href": followup_pages.list_href("missed"),
            }
            return renderer.page("dashboard.html.j2", context).encode("utf-8")

        return Page("index.html", digest, make)

    def _dashboard_cards(
        self, model: Model, update: Update | None, card: Callable[[FollowUp], Markup],
        key_of: Callable[[FollowUp, str], str],
    ) -> Callable[[], tuple[list[FollowUp], Shown]]:  # fmt: skip
        """The dashboard's cards and what stands for them (`Shown`), made when first asked. An
        update whose contacts show as before takes the last build's cards, making again only
        the changed contacts' own; else the first cards of every section's sorted list."""
        previous = update.previous if update is not None else None
        known = previous.shown if previous is not None and update is not None and update.rows_same else None

        @functools.cache
        def made() -> tuple[list[FollowUp], Shown]:
            changed = update.changed if update is not None else set()
            if known is not None:
                items = [followup_pages.find(model.followups, slug, uid) for _, slug, uid, _ in known.cards]
                tokens = [token if f.contact not in changed else bytes_token(card(f))
                          for f, (_, _, _, token) in zip(items, known.cards, strict=True)]  # fmt: skip
                counts = known.counts
            else:
                listing = self._listing(model)
                items = listing.shown(model.loaded.settings.dashboard_per_section)
                tokens = [bytes_token(card(f)) for f in items]
                counts = listing.counts()
            if previous is not None:
                # An update names the cards it made old (the changed contacts' last ones); the
                # others stay kept (see Shelf).
                old = previous.model
                self._cards.dead = {
                    key_of(followup_pages.find(old.followups, slug, uid), old.stamps[slug])
                    for _, slug, uid, _ in (previous.shown.cards if previous.shown is not None else ())
                    if slug in changed
                }
            shown = Shown(counts, [(f.status, f.contact, f.uid_key, t) for f, t in zip(items, tokens, strict=True)])
            return items, shown

        self._shown_now = lambda: made()[1]
        return made

    def _contact_list(
        self, model: Model, renderer: Renderer, base: str, row_keys: dict[str, str], tokens: dict[str, str]
    ) -> list[Page]:
        """The contact list's pages. `row_keys`: where each row is kept; `tokens`: what stands for
        each row in the digest (its key, or a hash of its bytes). The first page also lists the
        largest tags and companies; the search form on every page looks through all contacts."""
        browse = {"tags": largest_groups(model.tags, key=lambda kv: kv[0]),
                  "companies": largest_groups(model.companies, key=lambda kv: (kv[1][0].casefold(), kv[0])),
                  "tag_total": len(model.tags), "company_total": len(model.companies)}  # fmt: skip
        context = {
            "page_title": "Contacts",
            "nav": "contacts",
            "search_scripts": [f"search-{n:02d}.js" for n in range(SEARCH_PAGES)],
            "count": len(model.order),
        }
        return self._row_pages(
            model, renderer, base, row_keys, tokens, "contacts/index.html", model.order, "contacts.html.j2",
            context, browse,
        )  # fmt: skip

    def _row_pages(
        self, model: Model, renderer: Renderer, base: str, row_keys: dict[str, str], tokens: dict[str, str],
        first: str, members: Sequence[str], template: str, context: dict[str, Any], extra: dict[str, Any],
    ) -> list[Page]:  # fmt: skip
        """A list of contact rows (`members`), in pages of paging.PAGE_ROWS; `context` is what
        every page's template gets besides, `extra` what only the first page gets."""
        parts = paging.chunks(members)

        def page(number: int, slugs: Sequence[str]) -> Page:
            shown = {**context, **extra} if number == 1 else {**context, **dict.fromkeys(extra)}

            def digest() -> str:
                return _hash(base, first, number, len(parts), shown, [tokens[s] for s in slugs])

            def make() -> bytes:
                rows = Markup("".join(self._row(model, renderer, s, row_keys[s]) for s in slugs))
                title = shown["page_title"] + (f" (page {number} of {len(parts)})" if len(parts) > 1 else "")
                values = {**shown, "base": "../", "page_title": title, "rows": rows,
                          "pager": paging.pager(first, number, len(parts))}  # fmt: skip
                return renderer.page(template, values).encode("utf-8")

            return Page(paging.page_path(first, number), digest, make)

        return [page(number, slugs) for number, slugs in enumerate(parts, 1)]

    def _search_pages(
        self, model: Model, base: str, row_keys: dict[str, str], only: set[int] | None = None
    ) -> list[Page]:
        """`contacts/search-NN.js`: what the list's search shows and looks in, per contact
        (`search_entry`), in SEARCH_PAGES parts by slug (`only`: just these parts). The list
        pages load them once loaded themselves, and search all contacts from any page.

        Scripts (not JSON fetched at run time) so search also works from file://."""
        parts: dict[int, list[str]] = {n: [] for n in range(SEARCH_PAGES)} if only is None else {n: [] for n in only}
        for slug in model.order:
            number = shard_number(slug, SEARCH_PAGES)
            if number in parts:
                parts[number].append(slug)
        pages = []
        for number, slugs in sorted(parts.items()):
            pages.append(self._search_page(model, base, row_keys, number, slugs))
        return pages

    def _search_page(self, model: Model, base: str, row_keys: dict[str, str], number: int, slugs: list[str]) -> Page:
        digest = _hash(base, "search", number, [row_keys[s] for s in slugs])

        def make() -> bytes:
            entries = []
            for slug in slugs:
                key = search_key(slug, row_keys[slug])
                entry = self._search.get(self.writer, key)
                if entry is None:
                    entry = json.dumps(slug, ensure_ascii=False) + ":" + json.dumps(
                        search_entry(model.contacts[slug]), ensure_ascii=False, separators=(",", ":")
                    )
                    self._search.put(self.writer, key, entry)
                entries.append(entry)
            body = ",\n".join(entries)
            return f"window.TIPSCALE_SEARCH=Object.assign(window.TIPSCALE_SEARCH||{{}},{{{body}}});\n".encode()

        return Page(f"contacts/search-{number:02d}.js", digest, make)

    def _group_pages(
        self,
        model: Model,
        renderer: Renderer,
        base: str,
        row_keys: dict[str, str],
        tokens: dict[str, str],
        kind: str,
        key: str,
        display: str,
        members: list[str],
    ) -> list[Page]:
        context = {
            "page_title": ("Tag: " if kind == "tags" else "") + display,
            "nav": "contacts",
            "kind": kind,
            "display": display,
            "count": len(members),
        }
        jobs = sitejobs.at_company(model.loaded.applications, key) if kind == "companies" else []
        return self._row_pages(
            model, renderer, base, row_keys, tokens, f"{kind}/{key}.html", members, "group.html.j2", context,
            {"applications": jobs},
        )  # fmt: skip

    def _pipeline(self, model: Model, renderer: Renderer, base: str) -> Page:
        """`applications.html`: the job search's pipeline and funnel (a few cards: made whole)."""
        context = sitejobs.pipeline_context(
            model.loaded.applications, model.loaded.settings, model.followups, model.profiles, model.companies
        )
        digest = _hash(base, sitejobs.PATH, context)

        def make() -> bytes:
            return renderer.page("applications.html.j2", {**context, "base": ""}).encode("utf-8")

        return Page(sitejobs.PATH, digest, make)

    def _calendar(self, model: Model, base: str, update: Update | None = None) -> Page:
        """The feed; its events stand in its digest by the sum of their parts (see `_dashboard`)."""
        from .ics import calendar, event

        stamps, today_text = model.stamps, str(model.today)
        settings, today = model.loaded.settings, model.today
        assert self.drafts is not None
        drafts = self.drafts

        def key_of(item: FollowUp, stamp: str) -> str:
            return f"{base}|{stamp}|{item.uid_key}|{item.due.isoformat()}|{item.days}|{today_text}"

        def text(item: FollowUp) -> str:
            def make() -> tuple[str, bool]:
                made, failed = event(item, model.contacts[item.contact], settings, today, drafts)
                return made, not failed

            return self._events.use(self.writer, key_of(item, stamps[item.contact]), make)

        previous = update.previous if update is not None else None
        events = self._events_now = Fragments.of(
            model, lambda item: item.status != "missed", lambda item: bytes_token(text(item)), update,
            (previous.event_tokens, previous.event_sum) if previous is not None else None, key_of, self._events,
        )  # fmt: skip

        def digest() -> str:
            return _hash(base, "ics", model.today, events.total())

        def make() -> bytes:
            items = [item for item in model.all_followups if item.status != "missed"]
            keys = [key_of(item, stamps[item.contact]) for item in items]
            self._events.live.update(keys)
            view = ShelfView(self._events, self.writer)
            return calendar(items, model.contacts, settings, today, drafts, view, keys).encode("utf-8")

        return Page("followups.ics", digest, make)
