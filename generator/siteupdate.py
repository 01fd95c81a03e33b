"""The site model of a build: made in full from a load (`_model`), or the last build's
updated for the few contacts whose files changed (`_incremental`), with the pages to plan again."""

from __future__ import annotations

import bisect
import datetime as dt
import heapq
from collections.abc import Callable, MutableMapping

from . import followup_pages, paging, plan
from .followup_pages import same_rows
from .followups import FollowUpRate, contact_followups, followup_rate, sort_key
from .gitlog import file_histories
from .links import name_index, resolve_link
from .load import Loaded
from .model import Contact, FollowUp, Problem
from .pages import Page
from .render import Renderer
from .settings import resolve_today
from .sitelists import ListPages
from .sitemodel import (
    RECENT_KEPT,
    RECENT_LIMIT,
    Contacts,
    Model,
    Sorted,
    file_versions,
    files_changed,
    latest_interactions,
    loose_problems,
    recent_key,
    slugify,
    stamp_text,
)
from .sitestate import SEARCH_PAGES, Update, search_key, shard_number

INCREMENTAL_LIMIT = 200  # more changed contacts than this: plan everything again


class SiteModels(ListPages):
    """Makes the site model of a build, in full or as an update of the last build's."""

    def _stamp(self, contact: Contact) -> str:
        entry = self.cache.entry(contact.path)
        stamp = stamp_text(contact.path, entry[0] if entry is not None else None)
        jobs = self._app_stamps.get(contact.slug)
        return stamp if jobs is None else f"{stamp}|{jobs}"  # its applications shape its follow-ups

    def _model(self, loaded: Loaded) -> Model:
        settings = loaded.settings
        today = self.today if self.today is not None else resolve_today(None, settings)
        contacts = loaded.by_slug()
        stamps = {contact.slug: self._stamp(contact) for contact in loaded.contacts}
        self.stamps = stamps

        # Follow-ups depend only on the contact's own file, its applications, the settings and the day.
        if (settings, today) != self._followups_for:
            self._followups_memo.clear()
            self._rate_memo.clear()
            self._followups_for = (settings, today)
        followups: dict[str, list[FollowUp]] = {}
        everything: list[FollowUp] = []
        memo = self._followups_memo
        for contact in loaded.contacts:
            stamp = stamps[contact.slug]
            hit = memo.get(contact.slug)
            if hit is not None and hit[0] == stamp:
                items = hit[1]
            else:
                items = contact_followups(contact, settings, today, loaded.involving.get(contact.slug, ()))
                items.sort(key=sort_key)
                memo[contact.slug] = (stamp, items)
            if items:
                followups[contact.slug] = items
                everything.extend(items)
        everything.sort(key=sort_key)

        # The follow-up rate, from each contact's share, remembered while its file is unchanged.
        on_time = counted = 0
        rate_memo = self._rate_memo
        shares: dict[str, tuple[int, int]] = {}
        for slug, contact in contacts.items():
            stamp = stamps[slug]
            share = rate_memo.get(slug)
            if share is None or share[0] != stamp:
                rate = followup_rate([contact], settings, today)
                share = rate_memo[slug] = (stamp, rate.on_time, rate.counted)
            shares[slug] = (share[1], share[2])
            on_time += share[1]
            counted += share[2]

        recent = latest_interactions(loaded.contacts, today)
        slugs = set(contacts)
        names = name_index(loaded.contacts)
        backlinks: dict[str, set[tuple[str, str]]] = {}
        resolved: dict[str, list[tuple[str, str | None]]] = {}
        for contact in loaded.contacts:
            entry = self.cache.entry(contact.path)
            refs = entry[1].references if entry is not None else ()
            targets: list[tuple[str, str | None]] = []
            for ref in refs:
                target = resolve_link(ref.target, slugs, names)
                targets.append((ref.target, target))
                if target is not None and target != contact.slug:
                    backlinks.setdefault(target, set()).add((contact.slug, ref.kind))
            resolved[contact.slug] = targets

        def by_name(slug: str) -> tuple[str, str]:
            return (contacts[slug].name.casefold(), slug)

        order = sorted(contacts, key=by_name)
        tags: dict[str, tuple[str, list[str]]] = {}
        companies: dict[str, tuple[str, list[str]]] = {}
        for slug in order:
            contact = contacts[slug]
            for tag in {slugify(t): t for t in reversed(contact.tags)}.values():  # once a group, first name
                tags.setdefault(slugify(tag), (tag, []))[1].append(slug)
            if contact.company:
                companies.setdefault(slugify(contact.company), (contact.company, []))[1].append(slug)

        head = self._head_now
        if head is None:
            self.histories = {}
        elif head != self.head or self._histories_partial:
            pending, self._pending_histories = self._pending_histories, None
            if pending is not None and pending.head == head:
                self.histories = pending.result()
            else:
                if pending is not None:
                    pending.cancel()
                self.histories = file_histories(self.root)
            self._histories_partial = False
        self.head = head

        file_problems: dict[str, list[Problem]] = {}
        for problem in loaded.problems:
            file_problems.setdefault(problem.file, []).append(problem)

        return Model(
            loaded=loaded,
            today=today,
            real_today=dt.date.today(),
            contacts=contacts,
            stamps=stamps,
            followups=followups,
            all_followups=Sorted(everything),
            backlinks={k: sorted(v, key=lambda b: (by_name(b[0]), b[1])) for k, v in backlinks.items()},
            resolved=resolved,
            tags=dict(sorted(tags.items())),
            companies=dict(sorted(companies.items())),
            order=order,
            histories=self.histories,
            file_problems=file_problems,
            rate=FollowUpRate(on_time, counted),
            shares=shares,
            recent=recent,
            recent_complete=len(recent) < RECENT_KEPT,
            versions=file_versions(loaded, self.cache),
            profiles={slug: (c.name, c.tags, c.company) for slug, c in contacts.items()},
            slugs=slugs,
            names=names,
            # The names as shown too: a rename that changes only letter case keeps `names` (they
            # are lower-cased) but changes every page showing that contact.
            names_signature=hash(
                (frozenset(names.items()), frozenset(slugs), frozenset((c.slug, c.name) for c in contacts.values()))
            ),
        )

    def _incremental(
        self, loaded: Loaded, renderer: Renderer
    ) -> tuple[Model, MutableMapping[str, Page], list[Page], Callable[[], list[Page]]] | None:
        """The model and page plan of the last build, updated for the few contacts whose files
        changed: (model, every planned page by path, the changed contacts' pages, a function
        that plans the summary pages). None when a full plan is needed (first build, settings,
        templates, the day or git's HEAD changed, contacts added, removed or renamed, or many
        files changed)."""
        prev = self._previous
        if prev is None:
            return None
        settings = loaded.settings
        today = self.today if self.today is not None else resolve_today(None, settings)
        if self._head_now != self.head or (self._base, today, dt.date.today(), self.head, self._apps_key) != prev.key:
            return None
        if loaded.invalid != prev.invalid:
            return None  # an invalid file changed (its page shows its problems)
        old = prev.model
        versions = file_versions(loaded, self.cache)
        if old.loaded is loaded and isinstance(old.contacts, Contacts):
            sources = old.contacts.sources  # the plan was restored for this very load
        else:
            sources = loaded.sources()
        if len(versions) != len(old.versions) or loose_problems(loaded, versions) != prev.loose:
            return None  # a file came or went, or one the load did not check (a duplicate slug) did
        start = loaded.before
        if start is not None and old.versions is start.stamps and versions is loaded.stamps:
            changed_files = start.changed  # the load found them (the plan's stamps are the summary's)
        else:
            changed_files = files_changed(versions, old.versions)
        if not changed_files or len(changed_files) > INCREMENTAL_LIMIT:
            return None
        contacts = Contacts(sources)
        profiles = plan.Changed(old.profiles)
        stamps = old.stamps.copy()
        changed: list[str] = []
        for file in changed_files:
            slug = file.rsplit("/", 1)[-1][:-3]
            if file not in old.versions or slug not in sources or slug not in old.profiles:
                return None  # a file moved, is new, or was invalid
            contact = contacts[slug]
            if contact.name != old.profiles[slug][0]:
                return None  # names show on other pages, and [[Full Name]] links resolve by them
            profiles[slug] = (contact.name, contact.tags, contact.company)
            stamps[slug] = self._stamp(contact)
            changed.append(slug)
        self.stamps = stamps
        assert self.drafts is not None
        self.drafts.stamps = stamps
        changed_set = set(changed)

        # Follow-ups of the changed contacts, and their share of the follow-up rate.
        followups = plan.Changed(old.followups)  # a few change (a restored plan's are Packed)
        everything = [f for f in old.all_followups if f.contact not in changed_set] if old.all_followups.made else None
        on_time, counted = old.rate.on_time, old.rate.counted
        shares = dict(old.shares)  # the model's, not the memo's: a failed build may have updated that
        rows_same = True
        for slug in changed:
            items = contact_followups(contacts[slug], settings, today, loaded.involving.get(slug, ()))
            items.sort(key=sort_key)
            rows_same = rows_same and same_rows(old.followups.get(slug, ()), items)
            self._followups_memo[slug] = (stamps[slug], items)
            if items:
                followups[slug] = items
                if everything is not None:
                    for followup in items:
                        bisect.insort(everything, followup, key=sort_key)
            else:
                followups.pop(slug, None)
            old_share = shares.get(slug, (0, 0))  # a restored plan keeps only the non-zero ones
            share = followup_rate([contacts[slug]], settings, today)
            self._rate_memo[slug] = (stamps[slug], share.on_time, share.counted)
            shares[slug] = (share.on_time, share.counted)
            on_time += share.on_time - old_share[0]
            counted += share.counted - old_share[1]

        # The latest interactions: those kept of the unchanged contacts are still the latest of
        # theirs, so while at least RECENT_LIMIT of them are left (or all there were), they and
        # the changed contacts' own are enough.
        kept = [r for r in old.recent if r[3] not in changed_set]
        if not old.recent_complete and len(kept) < RECENT_LIMIT:
            recent = latest_interactions(contacts.values(), today)
            recent_complete = len(recent) < RECENT_KEPT
        else:
            pool = [*kept, *latest_interactions((contacts[slug] for slug in changed), today)]
            recent = heapq.nsmallest(RECENT_KEPT, pool, key=recent_key)
            recent_complete = old.recent_complete and len(pool) < RECENT_KEPT
            if not old.recent_complete:  # past the last one kept, unchanged contacts may have more
                bound = recent_key(kept[-1])
                recent = [r for r in recent if recent_key(r) <= bound]

        # Their links: what they point at, and the back-links of what they pointed at before.
        def by_name(slug: str) -> tuple[str, str]:
            return (profiles[slug][0].casefold(), slug)

        resolved = plan.Changed(old.resolved)  # the parts as they were, and what changes
        backlinks = plan.Changed(old.backlinks)
        touched: set[str] = set()
        for slug in changed:
            for _, found in old.resolved.get(slug, []):
                if found is not None and found != slug:
                    touched.add(found)
                    backlinks[found] = [b for b in backlinks.get(found, []) if b[0] != slug]
        for slug in changed:
            entry = self.cache.entry(contacts[slug].path)
            targets: list[tuple[str, str | None]] = []
            for ref in entry[1].references if entry is not None else ():
                found = resolve_link(ref.target, old.slugs, old.names)
                targets.append((ref.target, found))
                if found is not None and found != slug:
                    touched.add(found)
                    if (slug, ref.kind) not in backlinks.get(found, []):
                        backlinks[found] = [*backlinks.get(found, []), (slug, ref.kind)]
            resolved[slug] = targets
        for target in touched:
            if backlinks.get(target):
                backlinks[target] = sorted(backlinks[target], key=lambda b: (by_name(b[0]), b[1]))
            else:
                backlinks.pop(target, None)

        # Tag and company pages the changed contacts left or joined.
        tags, companies = dict(old.tags), dict(old.companies)
        groups_touched: set[tuple[str, str]] = set()
        for slug in changed:
            before, after = old.profiles[slug], profiles[slug]
            for kind, groups, names_before, names_after in (
                ("tags", tags, before[1], after[1]),
                ("companies", companies, (before[2],) if before[2] else (), (after[2],) if after[2] else ()),
            ):  # fmt: skip
                keys_before = {slugify(n) for n in names_before}
                keys_after = {slugify(n): n for n in names_after}
                for key in keys_before | set(keys_after):
                    groups_touched.add((kind, key))
                    display, members = groups.get(key, (keys_after.get(key, ""), []))
                    members = [m for m in members if m != slug]
                    if key in keys_after:
                        members.append(slug)
                    groups[key] = (display, members)
        # Each group's order and name once every changed contact has left or joined it (a member
        # met earlier in that loop may be one whose own move is still to come).
        for kind, key in groups_touched:
            groups = tags if kind == "tags" else companies
            members = sorted(groups[key][1], key=by_name)
            if members:
                # As a full plan names it: after the first member (by name) who has it.
                first = profiles[members[0]]
                shown = first[1] if kind == "tags" else (first[2],)
                groups[key] = (next(n for n in shown if slugify(n) == key), members)
            else:
                del groups[key]
        if groups_touched:
            tags, companies = dict(sorted(tags.items())), dict(sorted(companies.items()))

        file_problems: dict[str, list[Problem]] = {}
        for problem in loaded.problems:
            file_problems.setdefault(problem.file, []).append(problem)

        model = Model(
            loaded=loaded, today=today, real_today=dt.date.today(), contacts=contacts, stamps=stamps,
            followups=followups, all_followups=Sorted(everything) if everything is not None else Sorted.of(followups),
            backlinks=backlinks, resolved=resolved,
            tags=tags, companies=companies, order=old.order, histories=old.histories,
            file_problems=file_problems, rate=FollowUpRate(on_time, counted), shares=shares, recent=recent,
            recent_complete=recent_complete, versions=versions, profiles=profiles, slugs=old.slugs, names=old.names,
            names_signature=old.names_signature,
        )  # fmt: skip

        base = self._base
        pages = plan.Changed(prev.pages)  # a restored plan's are its manifest's (`Unplanned`)
        first_pages = [
            self._contact_page(model, renderer, slug, base) for slug in sorted(changed_set | touched)
        ]
        for page in first_pages:
            pages[page.path] = page

        def summaries() -> list[Page]:
            row_keys, tokens = dict(prev.row_keys), dict(prev.row_tokens)
            search_parts = {shard_number(slug, SEARCH_PAGES) for slug in changed}
            for slug in changed:
                row_keys[slug] = self._row_key(base, slug, stamps[slug])
                tokens[slug] = self._row_token(model, renderer, slug, row_keys[slug], kept=False)
            self._row_keys_now, self._row_tokens_now = row_keys, tokens
            # The rows and search entries this update made old (the others stay in use).
            self._rows.dead = {prev.row_keys[slug] for slug in changed if slug in prev.row_keys}
            self._rows.live.update(row_keys[slug] for slug in changed)
            self._search.dead = {search_key(slug, prev.row_keys[slug]) for slug in changed if slug in prev.row_keys}
            self._search.live.update(search_key(slug, row_keys[slug]) for slug in changed)
            update = Update(prev, changed_set, rows_same)
            fresh = [
                self._dashboard(model, renderer, base, update),
                *self._contact_list(model, renderer, base, row_keys, tokens),
                self._calendar(model, base, update),
                *self._search_pages(model, base, row_keys, only=search_parts),
                self._pipeline(model, renderer, base),  # a logged interview may end a thank-you it owed
            ]
            stale: set[str] = set()
            if not rows_same:  # the full follow-up lists changed: all their pages planned again
                stale.update(path for path in pages if path.startswith("followups/"))
                fresh.extend(followup_pages.list_pages(self._listing(model), renderer, base))
            for kind, key in sorted(groups_touched):
                groups = tags if kind == "tags" else companies
                before = old.tags if kind == "tags" else old.companies
                if key in before:
                    stale.update(paging.page_path(f"{kind}/{key}.html", n)
                                 for n in range(1, paging.page_count(len(before[key][1])) + 1))  # fmt: skip
                if key in groups:
                    display, members = groups[key]
                    fresh.extend(
                        self._group_pages(model, renderer, base, row_keys, tokens, kind, key, display, members)
                    )
            for path in stale - {page.path for page in fresh}:
                pages.pop(path, None)
            for page in fresh:
                pages[page.path] = page
            return fresh

        return model, pages, first_pages, summaries
