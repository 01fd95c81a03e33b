"""`build_site`: one build of the static site from the command line, start to end.

    report = build_site(root, root / "site", today=None, clean=False)

In order:

1. A child process stats every input (contact files, settings, templates, the code, the day,
   git's HEAD) and digests them into the build's fingerprint (`quick.take`), while this process
   imports what a build needs, a module at a time, until the child answers.
2. If the last command-line build left a record with the same fingerprint and every page it
   wrote is still there, that build's report is the answer: nothing is loaded or rendered.
3. Otherwise the last build's plan is read ahead while the child finishes, the contacts are
   loaded (through the persistent parse cache, forked workers parsing what changed), and the
   site builder (`site.SiteBuilder`) plans the pages and writes those whose digest changed.
4. The new record is saved for the next run.

The live server keeps one `SiteBuilder` instead, and calls its `build()` after every save.
"""

from __future__ import annotations

import datetime as dt
import importlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from . import parallel, quick
from .model import BuildReport

if TYPE_CHECKING:
    from .contactcache import ContactCache
    from .load import Loaded


class Session(Protocol):
    """Where a build gets its contacts: the CLI's `App` (the persistent parse cache), or
    `_Plain` (a cache of the build's own). Asked for only when a real build begins."""

    @property
    def cache(self) -> ContactCache: ...

    def load(self, fresh: bool = False, meanwhile: Callable[[], None] | None = None) -> Loaded: ...


class _Plain:
    """A session of one build: a parse cache of its own, and a plain load into it."""

    def __init__(self, root: Path) -> None:
        from .contactcache import ContactCache

        self.root = root
        self.cache = ContactCache()

    def load(self, fresh: bool = False, meanwhile: Callable[[], None] | None = None) -> Loaded:
        from .load import load

        return load(self.root, self.cache, meanwhile=meanwhile)


# What a build imports, heaviest last: the parser, Jinja, then the loader and the site's code.
BUILD_MODULES = ("yaml", "jinja2", "generator.load", "generator.render", "generator.plan", "generator.site")


def build_site(
    root: Path,
    out: Path,
    today: dt.date | None = None,
    clean: bool = False,
    session: Session | None = None,
    started: Callable[[], None] | None = None,
) -> BuildReport:
    """Build `out` from the CRM at `root` (`today`: the day to build as; None: CRM_TODAY, the
    settings' `today:` or the real date). `clean` renders every page again. `session` loads
    the contacts (the CLI's reads and saves the persistent parse cache; by default a load of
    this build's own). `started` is called once a real build begins (not when nothing changed):
    the CLI shows its progress line then."""
    begun = time.perf_counter()
    pending = parallel.fork_results(lambda: quick.take(root, out, today, survey=not clean))
    seen = None if clean else quick.survey(out)  # what the last build left: needed either way
    for module in BUILD_MODULES:
        if pending.ready():
            break
        importlib.import_module(module)
    prefetched = None
    site_key = seen.meta.get("site_key") if seen is not None else None
    if isinstance(site_key, str) and not pending.ready():
        from .plan import Prefetch
        from .write import Writer

        prefetched = Prefetch(Writer(out), site_key)
        while prefetched.step() and not pending.ready():
            pass
    fingerprint = quick.unpack(pending.next(), root)
    rest = _Rest(pending)
    if seen is not None and quick.recorded(fingerprint, seen):
        seen = quick.settle(seen, out, rest.there)
        record = quick.lookup(fingerprint, seen)
        if record is not None:
            return _report_again(record, time.perf_counter() - begun)

    from .site import PLAN, SiteBuilder

    if started is not None:
        started()
    if session is None:
        session = _Plain(root)
    cache = session.cache
    builder = SiteBuilder(root, out, today=today)
    builder.cache = cache
    builder.prefetched = prefetched
    full = clean or not (out / PLAN).is_file()
    if full:
        builder.prefetch_histories()  # a full plan: git reads the histories while we parse
    # The files were just walked and stat-ed, and compared with the last load's (quick.take).
    cache.prime(fingerprint.walk, fingerprint.stamps, fingerprint.delta)
    # While forked workers parse, this process would only wait: it prepares the build instead.
    builder.preloaded = session.load(meanwhile=builder.prepare if full else None)
    # What the child found meanwhile: whether every page of the last build is there, and the
    # files' part of the site key.
    if seen is not None:
        if seen.complete is None:
            seen = quick.settle(seen, out, rest.there)
        builder.preloaded_manifest = (seen.pages, seen.meta, seen.complete)
    if rest.files_key is not None:
        builder.preloaded_files_key = (fingerprint.stamps, rest.files_key)
    report = builder.build(clean=clean)
    loaded = builder.loaded
    assert loaded is not None
    report.error_files = sorted({p.file for p in loaded.errors})
    problems = [[p.file, p.line, p.column, p.severity, p.field, p.message] for p in report.problems]
    quick.save(out, fingerprint, {"pages": report.pages, "problems": problems, "error_files": report.error_files})
    report.seconds = time.perf_counter() - begun
    return report


class _Rest:
    """The second part of `quick.take`, from the child process, taken when first wanted."""

    def __init__(self, pending: parallel.Pending) -> None:
        self._pending = pending
        self._parts: tuple[int | None, Any] | None = None

    def _take(self) -> tuple[int | None, Any]:
        if self._parts is None:
            files_key, there = self._pending.next()
            self._pending.close()
            self._parts = (files_key, there)
        return self._parts

    @property
    def files_key(self) -> int | None:
        return self._take()[0]

    @property
    def there(self) -> Any:
        return self._take()[1]


def _report_again(record: dict[str, Any], seconds: float) -> BuildReport:
    """What the last build reported, for a run that found nothing changed since."""
    from .model import Problem

    problems = [Problem(*p) for p in record["problems"]]
    pages = record["pages"]
    return BuildReport(pages, 0, pages, 0, problems, seconds, error_files=list(record["error_files"]))
