"""The no-change shortcut of `crm build`: when not one input of the last command-line build has
changed, say so without loading a contact or importing the parser, Jinja or Markdown.

The inputs of a build, as cheap stamps (size, mtime_ns, inode): every contact file (the same
walk as `load`), `crm.yaml` and the user's `templates/` folder; plus the code in use
(`paths.code_digest`: every module and built-in template), the day (`--today`, `$CRM_TODAY` and
the real date), git's HEAD and the output folder. Their digest is the build's *fingerprint*.

After a command-line build, `save` keeps in `.tipscale/quick.json` of the output folder the
fingerprint taken *before* that build read anything (a file saved during the build changes its
stamp, so the next run builds again), the manifest's stamp and the build's report. The next
`crm build` trusts it only when the fingerprint is the same, the manifest is the very file that
build wrote and every page it lists is still there. Every build (the live server's too) deletes
the record before it writes a page, so the record only ever describes the site on disk.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import marshal
import os
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from .gitlog import head
from .paths import CACHE_DIR, SUMMARY, SUMMARY_LIMIT, code_digest, contact_entries, tree_files
from .write import MANIFEST, STATE_DIR, UnsafePath, Writer

RECORD = f"{STATE_DIR}/quick.json"
VERSION = 1


def stamp(path: str) -> tuple[int, int, int]:
    try:
        info = os.stat(path)
    except OSError:
        return (-1, -1, -1)
    return (info.st_size, info.st_mtime_ns, info.st_ino)


def _tree(folder: Path) -> list[tuple[str, tuple[int, int, int]]]:
    """Every file under `folder` (templates, code, through linked folders) with its stamp."""
    return [(path, stamp(path)) for path in tree_files(folder)]


RACY_NS = 2_000_000_000  # a file changed this recently may change again within its mtime's tick


class Fingerprint(NamedTuple):
    digest: str
    settled: bool  # no input changed in the last RACY_NS: the stamps can be trusted next time
    walk: Sequence[tuple[str, str]]  # the contact files (absolute path, relative path), as load walks them
    stamps: dict[str, tuple[int, int, int]]  # relative path → stamp, as load's cache takes them
    # What changed since the load summary (`summary_delta`), when `take` was asked
    delta: tuple[str, list[tuple[str, tuple[int, int, int]]]] | None = None


def fingerprint(root: Path, out: Path, today: dt.date | None) -> Fingerprint:
    """The digest of every input of a build of `root` into `out` (see the module's text)."""
    now = time.time_ns()
    files = [(str(root / "crm.yaml"), stamp(str(root / "crm.yaml")))]
    files.extend(_tree(root / "templates"))
    files.extend(_tree(root / "applications"))  # job applications (applications.APPLICATIONS_DIR)
    walk = list(contact_entries(root))
    stamps = {rel: stamp(path) for path, rel in walk}
    files.extend(stamps.items())
    context = (
        VERSION, code_digest(), str(root), os.path.abspath(out), today.isoformat() if today else None,
        os.environ.get("CRM_TODAY"), dt.date.today().isoformat(), head(root),
    )  # fmt: skip
    # As git's "racily clean" files: an edit in the same clock tick as the build, keeping the
    # size, would keep the stamp too. Such a build leaves no record, so the next one looks.
    settled = max(stamp[1] for _, stamp in files) < now - RACY_NS
    # marshal's format 0 writes equal values as equal bytes (no references, no interning), and
    # four times as fast as repr() for ten thousand stamps.
    digest = hashlib.blake2b(marshal.dumps((context, files), 0), digest_size=20)
    return Fingerprint(digest.hexdigest(), settled, walk, stamps)


def file_key(rel: str, stamp: tuple[int, int, int]) -> int:
    """A contact file's part of the build's site key (`SiteBuilder._site_key` sums them)."""
    size, mtime, inode = stamp
    part = hashlib.blake2b(f"{rel}\0{size}\0{mtime}\0{inode}".encode("utf-8", "surrogatepass"), digest_size=16)
    return int.from_bytes(part.digest(), "big")


def take(root: Path, out: Path, today: dt.date | None, survey: bool = True) -> Iterator[tuple[Any, ...]]:
    """In two parts, packed to travel through a pipe (`crm build` runs this in a child process
    while it imports and reads the last plan, and goes on with the first part while the child
    makes the second): the fingerprint (`unpack` unpacks it); then, unless the last build's
    record has that very fingerprint (nothing to build, most likely), the files' part of the
    site key, and with `survey` whether the last build's pages are all there."""
    found = fingerprint(root, out, today)
    yield pack(found._replace(delta=summary_delta(root, found.stamps)), root)
    record = Writer(out).read_json(RECORD)
    if isinstance(record, dict) and record.get("fingerprint") == found.digest:
        files_key = None
    else:
        files_key = sum(file_key(rel, stamp) for rel, stamp in found.stamps.items())
    yield (files_key, pages_there(out) if survey else None)


def summary_delta(
    root: Path, stamps: dict[str, tuple[int, int, int]]
) -> tuple[str, list[tuple[str, tuple[int, int, int]]]] | None:
    """Which contact files changed since the last full command-line load, by the stamps its
    summary saved (paths.py's SUMMARY; load.py's `_by_summary` says what the rest holds):
    (their digest, [(file, its stamp then)] in walk order). None when there is no such summary,
    the files are not the same, or more than SUMMARY_LIMIT changed. Asked in `crm build`'s
    child process, which has the stamps: the parent then never decodes ten thousand of them."""
    try:
        with open(os.path.join(root, CACHE_DIR, SUMMARY), "rb") as handle:
            size = int.from_bytes(handle.read(8), "big")
            if size > os.fstat(handle.fileno()).st_size:
                return None  # not a summary this program wrote
            digest, data = marshal.loads(handle.read(size))
        then = marshal.loads(data)
    except (OSError, ValueError, EOFError, TypeError):
        return None
    changed = changed_since(then, stamps) if type(digest) is str and type(then) is dict else None
    return None if changed is None else (digest, [(rel, then[rel]) for rel in changed])


def changed_since(
    then: dict[str, tuple[int, int, int]], stamps: dict[str, tuple[int, int, int]]
) -> list[str] | None:
    """The files whose stamp in `stamps` is not the one in `then`, in the order of `stamps`; None
    when they are not the same files or more than SUMMARY_LIMIT changed."""
    try:
        changed = {rel for rel, _ in stamps.items() - then.items()}  # in C
    except TypeError:  # a stamp that is not hashable (never one this program saves)
        return None
    # As many files as then, each of them there then (else it is among the changed): the same files.
    if len(then) != len(stamps) or len(changed) > SUMMARY_LIMIT or any(rel not in then for rel in changed):
        return None
    return [rel for rel in stamps if rel in changed] if changed else []


def recorded(found: Fingerprint, seen: Seen | None) -> bool:
    """Is `found` the fingerprint of the record the last build left (so the site may be as it
    is: `lookup` says)?"""
    return seen is not None and seen.record is not None and seen.record.get("fingerprint") == found.digest


def pages_there(out: Path) -> tuple[tuple[int, int, int], bool] | None:
    """(the manifest's stamp, is every page it lists there?), or None when the manifest changed
    while it was read. Asked in the child process of `crm build`: looking for ten thousand
    pages is tens of milliseconds the parent spends on imports instead (see `settle`)."""
    before = stamp(os.path.join(out, MANIFEST))
    writer = Writer(out)
    pages, _ = writer.load_manifest_all()
    complete = bool(pages) and not writer.missing(pages)
    return (before, complete) if stamp(os.path.join(out, MANIFEST)) == before else None


def pack(found: Fingerprint, root: Path) -> tuple[Any, ...]:
    """`found` as plain values, small (it travels through a pipe from a child process): each
    contact file's absolute path is the root's joined with its relative one."""
    prefix = str(root) + os.sep
    if os.sep != "/" or any(path != prefix + rel for path, rel in found.walk):
        return (found.digest, found.settled, found.walk, None, found.stamps, found.delta)
    rels = [rel for _, rel in found.walk]
    return (found.digest, found.settled, None, rels, [found.stamps[rel] for rel in rels], found.delta)


def unpack(packed: tuple[Any, ...], root: Path) -> Fingerprint:
    digest, settled, walk, rels, stamps, delta = packed
    if walk is not None:
        return Fingerprint(digest, settled, walk, stamps, delta)
    found = dict(zip(rels, stamps, strict=True))
    return Fingerprint(digest, settled, _Walk(str(root) + os.sep, rels), found, delta)


class _Walk(Sequence[tuple[str, str]]):
    """The contact files (absolute path, relative path) from their relative paths, made when
    first wanted (a load from the last one's summary never walks them all)."""

    def __init__(self, prefix: str, rels: list[str]) -> None:
        self._prefix, self._rels = prefix, rels
        self._made: list[tuple[str, str]] | None = None

    def _list(self) -> list[tuple[str, str]]:
        if self._made is None:
            prefix = self._prefix
            self._made = [(prefix + rel, rel) for rel in self._rels]
        return self._made

    def __getitem__(self, index: Any) -> Any:
        return self._list()[index]

    def __len__(self) -> int:
        return len(self._rels)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._list())


def forget(out: Path) -> None:
    """A build is about to change the site: the record no longer describes it."""
    try:
        os.unlink(os.path.join(out, RECORD))
    except OSError:
        pass  # none, or a folder we cannot change: then this build cannot save its manifest either


def save(out: Path, fingerprint: Fingerprint, report: dict[str, Any]) -> None:
    """After a command-line build: what the next run needs to say "nothing changed". Best
    effort: without a record (a read-only folder, say) the next run just builds."""
    if not fingerprint.settled:
        return
    manifest = stamp(os.path.join(out, MANIFEST))
    if manifest[0] < 0:
        return
    record = {"version": VERSION, "fingerprint": fingerprint.digest, "manifest": manifest, **report}
    try:
        Writer(out).write_json(RECORD, record)
    except (OSError, UnsafePath):
        pass


def _well_formed(record: dict[str, Any]) -> bool:
    problems, files = record.get("problems"), record.get("error_files")
    return (
        type(record.get("pages")) is int
        and isinstance(problems, list)
        and all(isinstance(p, list) and len(p) == 6 and type(p[1]) is type(p[2]) is int for p in problems)
        and isinstance(files, list)
        and all(isinstance(f, str) for f in files)
    )


class Seen(NamedTuple):
    """What the last build left in the output folder, as `survey` found it."""

    record: dict[str, Any] | None  # its record (None: none, or not ours)
    manifest_stamp: tuple[int, int, int]
    pages: dict[str, str]  # its manifest: page → input digest ({} when none)
    meta: dict[str, Any]
    complete: bool | None  # every page the manifest lists is there (None: not asked yet, see `settle`)


def survey(out: Path) -> Seen:
    """Read what `lookup` compares with a fingerprint (the `crm build` command does it while a
    child process takes the fingerprint; a build that follows uses the manifest read here).
    Whether every page is there is `settle`'s to say."""
    writer = Writer(out)
    record = writer.read_json(RECORD)
    manifest_stamp = stamp(os.path.join(out, MANIFEST))
    pages, meta = writer.load_manifest_all()
    return Seen(record if isinstance(record, dict) else None, manifest_stamp, pages, meta, None)


def settle(seen: Seen, out: Path, there: tuple[tuple[int, int, int], bool] | None) -> Seen:
    """`seen`, with whether every page of its manifest is there: the child's answer (`there`)
    when the child read the very manifest surveyed, else looked up here."""
    if there is not None and there[0] == seen.manifest_stamp and seen.manifest_stamp[0] >= 0:
        complete = there[1]
    else:
        complete = bool(seen.pages) and not Writer(out).missing(seen.pages)
    return seen._replace(complete=complete)


def lookup(fingerprint: Fingerprint, seen: Seen) -> dict[str, Any] | None:
    """The last build's report, if that build is what the output folder holds (`seen`: as
    surveyed just before) and its inputs are unchanged."""
    record = seen.record
    if record is None or record.get("version") != VERSION:
        return None
    if record.get("fingerprint") != fingerprint.digest:
        return None
    if record.get("manifest") != list(seen.manifest_stamp) or not _well_formed(record):
        return None
    if not seen.pages or seen.meta.get("unsaved") or not seen.complete:
        return None
    return record
