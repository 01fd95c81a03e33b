"""Find the CRM root, walk `contacts/`, validate every file, resolve cross-references.

Contact files are read here, through contactfile.py. Parsed files are cached by their stamp
`(size, mtime_ns)` in a `ContactCache` (contactcache.py), so a long-running server re-reads only
what changed; references are resolved by links.py, and a command-line build after a few edits
starts from the last full load's summary (loadsummary.py).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from . import cachefile, links, parallel
from .applications import application_files, involving, read_applications
from .checked import Checked
from .contactcache import ContactCache, Delta, Last
from .contactfile import check_path, unreadable
from .loadsummary import Summarised, Summary, changed_since
from .model import Application, Contact, HasProblems, Problem, Settings
from .paths import CONTACTS_DIR, SUMMARY_LIMIT, contact_entries, contacts_folder_problem
from .settings import load_settings
from .slugs import MAX_SLUG_BYTES, RESERVED, long_name_problem


class Before(NamedTuple):
    """The stamps of the load summary a load started from (`_by_summary`), by their digest, and
    the files whose stamp changed since, in walk order."""

    digest: str
    stamps: dict[str, cachefile.Stamp]
    changed: list[str]


class Loaded(HasProblems):
    """Everything read from a CRM root. Contacts are decoded from the cache on first use."""

    def __init__(
        self,
        root: Path,
        settings: Settings,
        checked: list[Checked] | Summarised,
        problems: list[Problem],
        files: int,
        invalid: dict[str, list[Problem]],
        slugs: list[str] | None = None,
    ) -> None:
        self.root = root
        self.settings = settings
        # One per unique slug, in file order; or, for a load from the last one's summary, what
        # makes them when first wanted (an update after one edit wants a few of them).
        self._checked = checked if isinstance(checked, list) else None
        self._summarised = checked if not isinstance(checked, list) else None
        self.slugs = slugs  # each checked file's slug, in the same order (None: not known)
        self.problems = problems  # every problem, sorted by file, line, column
        self.files = files  # contact files read
        self.invalid = invalid  # slug → errors, for files that could not be read as a contact
        # The caller's stamps (`ContactCache.prime`), when this load took every file's from there
        # and so checked every file it holds against exactly those.
        self.stamps: dict[str, cachefile.Stamp] | None = None
        # (digest, bytes) of `stamps` as the load summary saved them (marshal): the plan keeps the
        # same stamps (site.py), and writes these very bytes.
        self.saved_stamps: tuple[str, bytes] | None = None
        # For a load from the summary: the stamps it was made with, and the files changed since.
        self.before: Before | None = None
        self._contacts: list[Contact] | None = None
        self.applications: list[Application] = []  # the valid job applications, by file name
        self.involving: dict[str, tuple[Application, ...]] = {}  # contact slug → its applications

    @property
    def checked(self) -> list[Checked]:
        """Each checked file's result, one per unique slug, in file order."""
        if self._checked is None:
            assert self._summarised is not None
            self._checked = self._summarised.checked()
        return self._checked

    @property
    def from_summary(self) -> bool:
        """Made from the last load's summary (`_by_summary`), its unchanged files' results taken
        from the parse cache when wanted."""
        return self._summarised is not None

    @property
    def count(self) -> int:
        """How many files were checked (`len(checked)`, without making them)."""
        if self._checked is None:
            assert self._summarised is not None
            return self._summarised.count()
        return len(self._checked)

    @property
    def contacts(self) -> list[Contact]:
        """Valid contacts, sorted by slug."""
        if self._contacts is None:
            found = [c.contact for c in self.checked if c.valid]
            self._contacts = sorted((c for c in found if c is not None), key=lambda c: c.slug)
        return self._contacts

    @property
    def valid_count(self) -> int:
        return sum(1 for c in self.checked if c.valid)

    def by_slug(self) -> dict[str, Contact]:
        return {c.slug: c for c in self.contacts}

    def sources(self) -> Mapping[str, Checked]:
        """The valid files' results by slug, in file order (a contact's slug is its file's name)."""
        if self._checked is None and self._summarised is not None:
            return self._summarised
        if self.slugs is None or len(self.slugs) != len(self.checked):
            return {item.file.rsplit("/", 1)[-1][:-3]: item for item in self.checked if item.valid}
        # As above, without a call per file: a file is invalid exactly when its slug is in `invalid`.
        found = dict(zip(self.slugs, self.checked, strict=True))
        for slug in self.invalid:
            found.pop(slug, None)
        return found


def _utf8(name: str) -> bool:
    """Whether a path from the file system is valid UTF-8 (else it holds surrogate escapes,
    which no page, link or JSON file can carry)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _check_in_worker(item: tuple[str, str, str], settings: Settings) -> Checked | tuple[Any, ...]:
    """In a forked worker, what the parent needs, small: the contact travels back as the record
    the parse cache saves (one bytes object, not thousands of objects to pickle and rebuild),
    and is decoded in the parent only if a command wants it."""
    checked = check_path(item[0], item[1], item[2], settings)
    return checked if not parallel.in_worker() else portable(checked)


def portable(checked: Checked) -> tuple[Any, ...]:
    """A check result as a worker sends it back (undone by `from_portable`)."""
    contact = checked.contact
    record = None if contact is None else cachefile.encode_contact(contact)
    return (checked.problems, checked.references, checked.name, record)


def from_portable(rel: str, result: Checked | tuple[Any, ...]) -> Checked:
    """The check result of file `rel` that `portable` made (a result as it is, unchanged)."""
    if isinstance(result, Checked):
        return result
    problems, references, name, record = result
    if record is None:
        return Checked(rel, None, problems, references, name=name)
    checked = Checked(rel, None, problems, references, name=name, source=functools.partial(cachefile.decode_contact, record))
    checked.saved = record
    return checked


def _walk(
    root: Path, cache: ContactCache, changed: Collection[str] | None
) -> tuple[Sequence[tuple[str, str]], set[str] | None]:
    """The contact files, and which of them to stat (None: all). With `changed` (paths relative
    to the root that a file watcher saw change) and an earlier walk, the earlier walk is reused
    when no contact file was added or removed, and only the changed files are looked at again."""
    previous = cache.walk
    if cache.primed is not None and changed is None:
        cache.walk = cache.primed[0]
        return cache.walk, None
    if changed is not None and previous is not None and cache.entries:
        known = {rel for _, rel in previous}
        recheck: set[str] = set()
        for rel in changed:
            if rel == CONTACTS_DIR:
                break  # the folder itself was made, moved or replaced: walk again
            if not rel.startswith(CONTACTS_DIR + "/"):
                continue  # crm.yaml, templates: not contact files
            exists = os.path.isfile(root / rel)
            if not rel.endswith(".md") or exists != (rel in known):
                break  # a folder, or a file added or removed: walk again
            recheck.add(rel)
        else:
            return previous, recheck
    cache.walk = list(contact_entries(root))
    return cache.walk, None


def _update(root: Path, cache: ContactCache, last: Last, recheck: set[str], settings: Settings,
            problems: list[Problem]) -> Loaded | None:  # fmt: skip
    """The last load patched for the files in `recheck` (the server's rebuild after a save),
    without a loop over every file; None when a change reaches further (a name, a file that
    is or was invalid, a duplicate): then the caller loads in full."""
    checked = list(last.checked)
    changes: list[Checked] = []
    for rel in sorted(recheck):
        index = last.position.get(rel)
        if index is None:
            return None
        old = checked[index]
        path = os.path.join(str(root), *rel.split("/"))
        stamp, hit = cache.lookup(path, rel)
        if hit is None:
            hit = check_path(path, rel, rel.rsplit("/", 1)[-1][:-3], settings)
            if unreadable(hit):
                return None  # gone or unreadable: a full load sees what is there
            cache.put(rel, stamp, hit)
        if not (old.valid and hit.valid) or hit.name != old.name:
            return None
        checked[index] = hit
        changes.append(hit)
    if cache.autosave:
        cache.save()
    item_problems = [p for p in last.item_problems if p.file not in recheck]
    ref_problems = [p for p in last.ref_problems if p.file not in recheck]
    known = functools.cache(lambda: sorted(last.slugs))
    nowhere = links.nowhere(changes, last.slugs, last.names)
    for item in changes:
        item_problems.extend(item.problems)
        found = links.unresolved(item, nowhere, known)
        cache.ref_problems[item.file] = (item, found)
        ref_problems.extend(found)
    cache.last = Last(
        last.entries, settings, checked, last.position, last.walk_problems, last.files, last.slugs,
        last.names, last.invalid, item_problems, ref_problems, last.order,
    )  # fmt: skip
    problems.extend(last.walk_problems + item_problems + ref_problems)
    problems.sort(key=lambda p: (p.file, p.line, p.column, p.severity, p.message))
    return Loaded(root, settings, checked, problems, last.files, last.invalid, last.order)


def _by_summary(root: Path, cache: ContactCache, settings: Settings, problems: list[Problem],
                stamps: dict[str, cachefile.Stamp], delta: Delta | None = None) -> Loaded | None:  # fmt: skip
    """A command-line load after a few edits, from the summary of the last full load: only the
    files whose stamp changed are read, checked and resolved (as the server's `_update` does),
    and the others' results are taken from the parse cache when wanted. `stamps` are every
    walked file's, just taken. None when there is no summary of these settings, a file came or
    went, many changed, or a change reaches further (a name, a file that is or was invalid, a
    parse cache that is not the one summarised): then the caller loads in full."""
    store = cache.store
    summary = Summary.decode(store.read_summary()) if store is not None else None
    found = changed_since(summary, stamps, delta) if summary is not None else None
    if summary is None or found is None or len(found[1]) > SUMMARY_LIMIT:
        return None
    then, changed = found
    sources = Summarised(root, cache, settings, summary, stamps)
    changes: list[Checked] = []
    for rel in changed:
        slug = rel.rsplit("/", 1)[-1][:-3]
        if slug not in sources.slugs or summary.file_of(slug) != rel or slug in summary.invalid:
            return None  # a file the load did not check (a duplicate slug), or an invalid one
        old = cache.entry(rel)
        if old is None or old[0] != then[rel]:
            return None  # the parse cache's entry is not the one summarised (a run in between)
        hit = check_path(os.path.join(str(root), *rel.split("/")), rel, slug, settings)
        if unreadable(hit) or not (old[1].valid and hit.valid) or hit.name != old[1].name:
            return None
        cache.put(rel, stamps[rel], hit)
        sources.made[slug] = hit
        changes.append(hit)
    if cache.autosave:
        cache.save()
    gone = set(changed)
    items = [p for p in summary.items if p.file not in gone]
    refs = [p for p in summary.refs if p.file not in gone]
    slugs = sources.slugs
    known = functools.cache(lambda: sorted(slugs))
    nowhere = links.nowhere(changes, slugs, summary.names)
    for item in changes:
        items.extend(item.problems)
        refs.extend(links.unresolved(item, nowhere, known))
    problems.extend(summary.walk + items + refs)
    problems.sort(key=lambda p: (p.file, p.line, p.column, p.severity, p.message))
    loaded = Loaded(root, settings, sources, problems, summary.count, summary.invalid, summary.order)
    loaded.stamps = stamps
    loaded.before = Before(summary.digest, then, changed)
    if changed and store is not None and cache.autosave:
        Summary(stamps, summary.order, summary.moved, summary.count, summary.walk, items, refs,
                 summary.names, summary.invalid).save(store, loaded)  # fmt: skip
    return loaded


def load(
    root: Path,
    cache: ContactCache | None = None,
    changed: Collection[str] | None = None,
    meanwhile: Callable[[], None] | None = None,
) -> Loaded:
    """Read and check every contact file (through `cache`), then the job applications (a few
    files, read every time). `changed`, when given, lists the only paths (relative to root) that
    may have changed since the last load with this cache. `meanwhile`, if given, may run in this
    process while workers parse (optional work: a load that parses nothing may skip it)."""
    loaded = _load_contacts(root, cache, changed, meanwhile)
    if application_files(root):
        slugs = loaded.slugs if loaded.slugs is not None else list(loaded.sources())
        found, problems = read_applications(root, loaded.settings, frozenset(slugs))
        loaded.applications = found
        loaded.involving = involving(found)
        if problems:
            loaded.problems = sorted(
                [*loaded.problems, *problems], key=lambda p: (p.file, p.line, p.column, p.severity, p.message)
            )
    return loaded


def _load_contacts(
    root: Path,
    cache: ContactCache | None = None,
    changed: Collection[str] | None = None,
    meanwhile: Callable[[], None] | None = None,
) -> Loaded:
    settings, problems = load_settings(root)
    folder_problem = contacts_folder_problem(root)
    if folder_problem is not None:
        problems = [*problems, Problem(CONTACTS_DIR, 1, 1, "error", "", folder_problem)]
    cache = cache if cache is not None else ContactCache()
    seen: dict[str, str] = {}
    cache.use_settings(settings)
    slots: list[Checked | None] = []
    misses: list[tuple[int, cachefile.Stamp, tuple[str, str, str]]] = []
    entries, recheck = _walk(root, cache, changed)
    known = cache.primed[1] if cache.primed is not None and cache.walk is cache.primed[0] else None
    delta, cache.primed, cache.primed_delta = cache.primed_delta, None, None
    last = cache.last
    if known is not None and recheck is None and last is None and cache.store is not None:
        summarised = _by_summary(root, cache, settings, list(problems), known, delta)
        if summarised is not None:
            return summarised
    if recheck is not None and last is not None and last.entries is entries and last.settings == settings:
        quick = _update(root, cache, last, recheck, settings, list(problems))
        if quick is not None:
            return quick
    settings_problems = list(problems)
    cached = cache.entries
    live = {rel for _, rel in entries}
    files = len(live)
    all_utf8 = _utf8("".join(live))  # one check for all names (nearly always so)
    stamps = known if known is not None else {}
    for path, rel in entries:
        slug = rel.rsplit("/", 1)[-1][:-3]
        if not all_utf8 and not _utf8(rel):
            shown = rel.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            problems.append(Problem(shown, 1, 1, "error", "", "the file name is not valid UTF-8; rename the file"))
            continue
        if len(slug) > MAX_SLUG_BYTES // 4 and (too_long := long_name_problem(slug)):
            problems.append(Problem(rel, 1, 1, "error", "", too_long))
            continue
        if slug in RESERVED:
            message = f"'{slug}' is the name of the contact list's page; rename the file (e.g. {slug}-1.md)"
            problems.append(Problem(rel, 1, 1, "error", "", message))
            continue
        if slug in seen:
            message = f"duplicate slug '{slug}': {seen[slug]} has the same file name; rename one"
            problems.append(Problem(rel, 1, 1, "error", "", message))
            continue
        seen[slug] = rel
        if recheck is not None and rel not in recheck and rel in cached:
            slots.append(cached[rel][1])
            continue
        # The stamp taken by the caller's walk, when it matches the cached one (as `lookup`,
        # without a call per file: this loop runs for every file).
        stamp = stamps.get(rel)
        entry = cached.get(rel)
        if stamp is not None and entry is not None and entry[0] == stamp and stamp[0] >= 0:
            slots.append(entry[1])
            continue
        stamp, hit = cache.lookup(path, rel, known)
        if hit is None:
            misses.append((len(slots), stamp, (path, rel, slug)))
        slots.append(hit)
    # A cold run parses thousands of files: use both cores for that.
    check = functools.partial(_check_in_worker, settings=settings)
    results = parallel.fork_map(check, [m[2] for m in misses], chunksize=128, meanwhile=meanwhile)
    for (index, stamp, (path, rel, slug)), result in zip(misses, results, strict=True):
        checked_file = from_portable(rel, result)
        if unreadable(checked_file):
            if not os.path.lexists(path):  # removed since the walk (an editor's save, say): not there
                known = None  # so the stamps taken then are not all this load's
                files -= 1
                live.discard(rel)
                del seen[slug]
                continue
        else:
            cache.put(rel, stamp, checked_file)
        slots[index] = checked_file
    checked = [c for c in slots if c is not None]
    if len(cached) != len(live):
        cache.forget_except(live)
    if cache.autosave:
        cache.save()

    walk_problems = problems[len(settings_problems):]
    invalid: dict[str, list[Problem]] = {}
    item_problems: list[Problem] = []
    for item in checked:
        item_problems.extend(item.problems)
        if not item.valid:
            invalid[item.file.rsplit("/", 1)[-1][:-3]] = [p for p in item.problems if p.severity == "error"]
    order = list(seen)  # each checked file's slug: `seen` lost the files `checked` lost
    names: dict[str, str] = {}
    for slug, item in zip(order, checked, strict=True):
        if item.name is not None:
            names.setdefault(item.name.casefold(), slug)
    slugs = frozenset(seen)
    ref_problems = links.resolve_cached(cache, checked, names, slugs)
    position = {item.file: index for index, item in enumerate(checked)}
    cache.last = Last(
        entries, settings, checked, position, walk_problems, files, slugs, names, invalid, item_problems,
        ref_problems, order,
    )  # fmt: skip
    problems.extend(item_problems + ref_problems)
    problems.sort(key=lambda p: (p.file, p.line, p.column, p.severity, p.message))
    loaded = Loaded(root, settings, checked, problems, files, invalid, order)
    if known is not None and recheck is None:
        loaded.stamps = known  # every stamp looked up above came from there
        if cache.store is not None and cache.autosave:  # for the next command-line build
            summary = Summary.of(known, checked, order, files, (walk_problems, item_problems, ref_problems), names, invalid)
            summary.save(cache.store, loaded)
    return loaded
