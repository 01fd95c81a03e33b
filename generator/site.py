"""The static site (SPEC §8): site model, page plan, incremental build.

    builder = SiteBuilder(root, root / "site")
    report = builder.build()          # incremental; call again after files change

Every planned page carries a digest of its inputs (the contact file's stamp, the cross-links it
shows, its follow-ups, its git history, the settings, the template sources and this code). The
manifest in the output folder remembers the digests of the last build, so an unchanged page is
neither rendered nor written. Pages that summarise everything (dashboard, contact list, tags,
companies, search index, calendar) are joins of per-contact fragments kept by their inputs, so a
change to one contact re-renders one row, not ten thousand. A rebuild updates the last build's
plan for the files that changed (in memory in the server, from `.tipscale/plan.json` between
command-line runs) instead of planning every page again. State is JSON, or marshal for the plan's
large parts (plan.py); never pickle.

The builder is built in layers, a module each, every layer adding methods to the one below:
`sitestate.BuilderState` (everything kept between builds), `sitepages.ContactPages` (a
contact's page, row and cards), `sitelists.ListPages` (dashboard, lists, search index, groups,
calendar), `siteupdate.SiteModels` (the model, in full or updated), `siteplan.PlanStore` (the
plan kept between runs), and here `SiteBuilder`: one build, as a table of contents. The
command line goes through `build.build_site`; the live server keeps one builder.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Collection, Mapping
from typing import Any

from . import collector, followup_pages, gitlog, parallel, plan, quick, sitejobs
from .contactcache import ContactCache
from .gitlog import PendingHistories
from .load import Loaded, load
from .model import BuildReport, Problem, Settings
from .pages import Page
from .pages import digest as _hash
from .paths import code_digest
from .render import Renderer
from .settings import resolve_today
from .sitemodel import Model, loose_problems
from .siteplan import PlanStore, manifest_of
from .sitestate import DraftCache, Previous, Tokens, search_key
from .siteupdate import SiteModels
from .write import Writer

PLAN = plan.HEAD

PAGE_TEMPLATES = ("contact.html.j2", "contacts.html.j2", "dashboard.html.j2", "group.html.j2", "_row.html.j2",
                  "followups.html.j2", "applications.html.j2")  # fmt: skip


class SiteBuilder(SiteModels, PlanStore):
    """Builds `out` from the CRM at `root`; keeps caches between calls (for `crm serve`)."""

    def build(self, clean: bool = False, changed: Collection[str] | None = None) -> BuildReport:
        """Build the site. `changed`, when given, lists the only paths (relative to the root)
        that may have changed since this builder's last build (the server's file watcher)."""
        try:
            report = self._build(clean, changed)
            if self.swap is not None:
                with self.swap():
                    self.writer.publish()
            return report
        except BaseException:
            if self.swap is not None:  # nothing (or not all) of this build reached the folder
                self.writer.discard()
                self.manifest, self.meta, self._previous = None, {}, None  # so the next looks at it
            raise
        finally:
            if self._pending_histories is not None:  # started for a full plan that was not made
                self._pending_histories.cancel()
                self._pending_histories = None

    def _build(self, clean: bool, changed: Collection[str] | None) -> BuildReport:
        started = time.perf_counter()
        self.out.mkdir(parents=True, exist_ok=True)
        quick.forget(self.out)  # whatever this build does, the last command-line run's record is old
        self.writer = Writer(self.out, hold=self.swap is not None)
        # A clean build renders everything again, but still removes what the last build wrote.
        previous_pages = set(self.writer.load_manifest()) if clean else set()
        if clean:
            self._reset()
        if self.manifest is None:
            if self.preloaded_manifest is not None:  # as the caller just read it
                self.manifest, self.meta, self._pages_complete = self.preloaded_manifest
                self.preloaded_manifest = None
            else:
                self.manifest, self.meta = self.writer.load_manifest_all()
            if self.meta.get("unsaved"):
                # A server stopped without saving it: which pages exist is known, their inputs not.
                self.manifest, self.meta = dict.fromkeys(self.manifest, ""), {}
        if self.preloaded is not None:
            loaded, self.preloaded = self.preloaded, None
        else:
            loaded = load(self.root, self.cache, None if clean else changed)
        self.loaded = loaded
        self._head_now = gitlog.head(self.root)  # asked once a build
        renderer = self._renderer()
        self._base = self._base_digest(loaded.settings, renderer)  # once a build: it reads every template
        self._apps_key, self._app_stamps = sitejobs.digests(loaded)
        # Nothing that shapes any page changed since the last build: done, without building the
        # model or a single digest (a no-change rebuild of 10,000 contacts stays instant).
        site_key = self._site_key(loaded)
        if self.long_lived and self._previous is None and not clean:
            self._previous = self._restore_plan(loaded)  # the server's first build: the last plan
        fast = not (self.long_lived and self._previous is None)
        if fast and not clean and site_key is not None and site_key == self.meta.get("site_key"):
            if self._all_pages_there():
                problems = list(loaded.problems) + [Problem(*p) for p in self.meta.get("build_problems", [])]
                problems.sort(key=lambda p: (p.file, p.line, p.column, p.severity, p.message))
                count = len(self.manifest)
                return BuildReport(count, 0, count, 0, problems, time.perf_counter() - started)
        problems = list(loaded.problems)
        self._draft_errors = {}
        self._written = self._skipped = 0
        if not clean and self._previous is None:
            self._previous = self._restore_plan(loaded)  # a command-line run: the last run's plan
        self._pages_complete = None  # the caller's answer is this build's alone
        # A command-line update makes objects that live until it ends, and hardly any garbage
        # with cycles: the collector would only scan them (collector.py).
        with contextlib.nullcontext() if self.long_lived or clean else collector.held():
            update = None if clean else self._incremental(loaded, renderer)
            if update is not None:
                # The pages of the contacts that changed first (the one being edited is usually
                # the one open in the browser), then the summary pages that show them.
                model, pages, first, rest = update
                self._make_pages(first)
                summaries = rest()
                self._make_pages(summaries)
                self._remember(model, pages, loaded, site_key)
                self._skipped += len(pages) - self._written - self._skipped
                # A broken note template met by pages not made again this time is still broken
                # (a change to it changes every page's digest, so this build would not be an
                # update).
                for kept in self.meta.get("build_problems", []):
                    problem = Problem(*kept)
                    self._draft_errors.setdefault(problem.message, problem)
        if update is None:
            model = self._model(loaded)
            planned = self._plan(model, renderer, problems)
            self._make_pages(planned)
            pages = {page.path: page for page in planned}
            # After the pages: the tokens it keeps are those of cards and events just rendered.
            self._remember(model, pages, loaded, site_key)
        new_manifest = manifest_of(pages)
        # A broken note template shows on the pages that render a draft, and is reported here.
        problems.extend(self._draft_errors.values())
        removed = 0
        for stale in sorted((set(self.manifest) | previous_pages) - set(new_manifest)):
            if self.writer.remove(stale):
                removed += 1
        build_problems = [
            [p.file, p.line, p.column, p.severity, p.field, p.message] for p in self._draft_errors.values()
        ]
        meta = {"site_key": site_key, "build_problems": build_problems}
        if new_manifest != self.manifest or meta != self.meta:
            self._save_manifest(new_manifest, meta)
        self.manifest = new_manifest
        self.meta = meta
        if self._rows.dead is None:  # a full plan: every row in use (an update named its dead ones)
            self._rows.live = set(self._row_keys_now.values())
            self._search.live = {search_key(slug, key) for slug, key in self._row_keys_now.items()}
        for shelf in (self._rows, self._search, self._cards, self._events):
            shelf.finish(self.writer, save=not self.long_lived)
        problems.sort(key=lambda p: (p.file, p.line, p.column, p.severity, p.message))
        count = len(new_manifest)
        return BuildReport(
            count, self._written, self._skipped, removed, problems, time.perf_counter() - started
        )

    def _remember(self, model: Model, pages: Mapping[str, Page], loaded: Loaded, site_key: str | None) -> None:
        """Keep this build's model and plan for the next build, and save the plan for the next
        command-line run (before the manifest that names it). Here, not in a child process: a
        child alive while this one goes on makes it copy every memory page it touches, which
        cost more than the few ms of writing the parts an edit changed."""
        self._previous = Previous(
            model=model,
            pages=pages,
            key=(self._base, model.today, dt.date.today(), self.head, self._apps_key),
            invalid=loaded.invalid,
            loose=loose_problems(loaded, model.versions),
            row_keys=dict(self._row_keys_now),
            row_tokens={slug: self._row_tokens_now[slug] for slug in model.order},
            shown=self._shown_now(),
            event_tokens=self._events_now.all_tokens(),
            event_sum=self._events_now.total(),
        )
        if not self.long_lived and site_key is not None:
            self._save_plan(site_key)

    def prepare(self) -> None:
        """What a cold build can do before the contacts are loaded (the caller runs it while
        workers parse them): read git's histories, compile the page templates."""
        if self._pending_histories is not None:
            self._pending_histories.result()
        renderer = self._renderer()
        renderer.refresh()
        for name in PAGE_TEMPLATES:
            try:
                renderer.env.get_template(name)
            except Exception:  # noqa: BLE001 - a broken template is reported by the build itself
                continue

    def prefetch_histories(self) -> None:
        """Start reading every file's git history now, so that git works while the caller
        loads the contacts (a cold build wants them all; `_model` takes the result)."""
        if self._pending_histories is None:
            self._pending_histories = PendingHistories(self.root)

    def _save_manifest(self, manifest: dict[str, str], meta: dict[str, Any]) -> None:
        """Save the manifest; a long-lived builder saves it marked "unsaved" only when the set of
        pages changes (rewriting it after every save costs tens of ms at 10,000 contacts), and
        for good in `flush()`. Were the server killed, the next run trusts no digest of it."""
        if not self.long_lived:
            self.writer.save_manifest(manifest, meta)
            return
        self._manifest_unsaved = True
        if self._manifest_saved != set(manifest):
            self.writer.save_manifest(manifest, {**meta, "unsaved": True})
            self._manifest_saved = set(manifest)

    def flush(self) -> None:
        """Save what a long-lived builder keeps in memory (its plan, the manifest); call when
        stopping."""
        if self._manifest_unsaved and self.manifest is not None:
            site_key = self.meta.get("site_key")
            if isinstance(site_key, str):
                self._save_plan(site_key)
            self.writer.save_manifest(self.manifest, self.meta)
            self._manifest_unsaved = False
            self._manifest_saved = set(self.manifest)
        for shelf in (self._rows, self._search, self._cards, self._events):
            live, shelf.live = shelf.live, {key for items in shelf.shards.values() for key in items}
            shelf.finish(self.writer, save=True)
            shelf.live = live

    def _make_pages(self, pages: list[Page]) -> None:
        """Render and write the pages whose inputs changed since the last build, or whose file
        is missing. A cold build renders thousands of pages: forked workers share the contact
        pages (see parallel.py) while this process makes the pages joined from kept fragments
        (so the fragments it makes are kept)."""
        manifest = self.manifest or {}
        todo: list[Page] = []
        for page in pages:
            if page.path in manifest and manifest[page.path] == page.digest and self.writer.exists(page.path):
                self._skipped += 1
            else:
                todo.append(page)
        summaries = [p for p in todo if joins_fragments(p.path)]
        others = [p for p in todo if not joins_fragments(p.path)]
        made: list[tuple[bool, list[Problem]]] = []

        def meanwhile() -> None:
            made.extend(self.make_page(page) for page in summaries)
            for page in others:
                page.digest  # noqa: B018 - hashed now, not alone after the workers (see _contact_page)

        def make_other(index: int) -> tuple[bool, list[Problem]]:  # only the index travels
            if not self.writer.staged and parallel.in_worker():
                self.writer.stage()  # a folder of its own for new files: the other worker's don't wait
            return self.make_page(others[index])

        results = parallel.fork_map(
            make_other, range(len(others)), chunksize=32, meanwhile=meanwhile, serial=self.writer.holding
        )
        results += made
        if len(others) >= parallel.MIN_ITEMS:  # workers may have staged their files (Writer.stage)
            self.writer.clear_staging()
        for changed, draft_errors in results:
            if changed:
                self._written += 1
            else:
                self._skipped += 1
            for problem in draft_errors:
                self._draft_errors.setdefault(problem.message, problem)

    def make_page(self, page: Page) -> tuple[bool, list[Problem]]:
        """Render and write one page: (bytes changed?, note-template problems it met)."""
        before = set(self._draft_errors)
        changed = self.writer.write(page.path, page.make())
        return changed, [p for key, p in self._draft_errors.items() if key not in before]

    def _reset(self) -> None:
        if self.preloaded is None:  # a preloaded result was read through self.cache: keep them together
            self.cache = ContactCache()
        self.manifest = {}
        self.meta = {}
        self._previous = None
        self._plan_files = {}
        for shelf in (self._rows, self._search, self._cards, self._events):
            shelf.clear()
        self.notes_html.clear()
        self.head = None
        self.histories = {}
        self.renderer = None
        self.drafts = None

    def _site_key(self, loaded: Loaded) -> str | None:
        """A digest of everything any page depends on: every file's stamp, the base digest
        (settings, templates, this code), the day (and the real day, for the "as of" banner) and
        git's HEAD. Each file's part is a hash remembered with its check result, and the parts
        are summed, so a rebuild after one save hashes one file, not ten thousand."""
        total = 0
        memo = self._key_memo
        preloaded, self.preloaded_files_key = self.preloaded_files_key, None
        if preloaded is not None and loaded.stamps is preloaded[0] and loaded.count == len(preloaded[0]):
            # Every file the load holds was checked against these very stamps (and it holds them
            # all): the caller's sum is this one.
            total = preloaded[1]
        else:
            entries = self.cache.entries
            for item in loaded.checked:
                hit = memo.get(item.file)
                if hit is None or hit[0] is not item:
                    entry = entries.get(item.file)
                    if entry is None:
                        return None
                    hit = memo[item.file] = (item, quick.file_key(item.file, entry[0]))
                total += hit[1]
        if len(memo) > 2 * loaded.count + 100:
            live = {item.file for item in loaded.checked}
            for file in [f for f in memo if f not in live]:
                del memo[file]
        today = self.today if self.today is not None else resolve_today(None, loaded.settings)
        return _hash(
            self._base, today, dt.date.today(), self._head_now, loaded.count,
            total % (1 << 128), loaded.problems, sorted(loaded.invalid), self._apps_key,
        )  # fmt: skip

    def _renderer(self) -> Renderer:
        user_templates = (self.root / "templates").is_dir()
        if self.renderer is None or (len(self.renderer.dirs) == 2) != user_templates:
            self.renderer = Renderer(self.root)
        return self.renderer

    def _base_digest(self, settings: Settings, renderer: Renderer) -> str:
        """What every page depends on: templates, note templates, settings, this code."""
        templates = renderer.sources_digest(extra=(code_digest(),))
        drafts = self.drafts if self.drafts is not None else DraftCache(self.root, self.stamps)
        notes = drafts.sources_digest()
        if drafts is self.drafts and notes != self._notes_digest:
            # A note template changed, appeared or went away (a server's builder lives on): the
            # compiled templates, the folders searched and the drafts made are all of the old.
            drafts = DraftCache(self.root, self.stamps)
        self.drafts, self._notes_digest = drafts, notes
        return _hash(templates, repr(settings), notes)

    def _plan(self, model: Model, renderer: Renderer, problems: list[Problem]) -> list[Page]:
        base = self._base
        assert self.drafts is not None
        self.drafts.stamps = self.stamps
        pages: list[Page] = []

        for rel, path in renderer.static_files():
            pages.append(
                Page(rel, _hash(base, rel, path.stat().st_mtime_ns, path.stat().st_size), path.read_bytes)
            )

        row_keys: dict[str, str] = {}
        for slug in model.order:
            row_keys[slug] = self._row_key(base, slug, model.stamps[slug])
        tokens = Tokens(lambda slug: self._row_token(model, renderer, slug, row_keys[slug]))
        self._row_keys_now, self._row_tokens_now = row_keys, tokens
        for slug in model.order:
            pages.append(self._contact_page(model, renderer, slug, base))
        problems_of: dict[str, list[Problem]] = {}
        for p in model.loaded.problems:  # grouped once: thousands of invalid files are common
            problems_of.setdefault(p.file.rsplit("/", 1)[-1][:-3], []).append(p)
        for slug in sorted(model.loaded.invalid):
            if slug in model.contacts:
                continue
            pages.append(self._invalid_page(renderer, slug, problems_of.get(slug, []), base))

        pages.append(self._dashboard(model, renderer, base))
        pages.extend(followup_pages.list_pages(self._listing(model), renderer, base))
        pages.extend(self._contact_list(model, renderer, base, row_keys, tokens))
        pages.extend(self._search_pages(model, base, row_keys))
        for kind, groups in (("tags", model.tags), ("companies", model.companies)):
            for key, (display, members) in groups.items():
                pages.extend(self._group_pages(model, renderer, base, row_keys, tokens, kind, key, display, members))
        pages.append(self._calendar(model, base))
        pages.append(self._pipeline(model, renderer, base))

        # Two groups (e.g. tags "C++" and "c") could slug the same; the first one wins.
        seen: set[str] = set()
        unique: list[Page] = []
        for page in pages:
            if page.path not in seen:
                seen.add(page.path)
                unique.append(page)
        return unique


def joins_fragments(path: str) -> bool:
    """Pages made from kept fragments: made in this process (not a forked worker), so the
    fragments it makes are kept too."""
    return path in ("index.html", "followups.ics", "contacts/index.html") or path.startswith(
        ("tags/", "companies/", "contacts/search-", "contacts/_index-")
    )
