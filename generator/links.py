"""Cross-file references: `[[links]]` and `with:` slugs resolved to contacts, and a problem for
each one that leads to no contact."""

from __future__ import annotations

import difflib
import functools
from collections.abc import Callable
from collections.abc import Set as AbstractSet

from .checked import Checked, Reference
from .contactcache import ContactCache
from .model import Contact, Problem


def name_index(contacts: list[Contact]) -> dict[str, str]:
    """Lower-cased full name → slug (first one wins), for `[[Full Name]]` links."""
    index: dict[str, str] = {}
    for contact in contacts:
        index.setdefault(contact.name.casefold(), contact.slug)
    return index


def resolve_link(target: str, slugs: AbstractSet[str], names: dict[str, str]) -> str | None:
    if target in slugs:
        return target
    return names.get(target.casefold())


def resolve_cached(
    cache: ContactCache, checked: list[Checked], names: dict[str, str], slugs: frozenset[str]
) -> list[Problem]:
    """`with:` slugs that do not exist are errors; unresolved `[[links]]` are warnings. Each
    file's answer is remembered while names and slugs stay the same (a rebuild in the server
    resolves only the files that changed). `names` maps lower-cased full names to slugs."""
    if names != cache.ref_names or slugs != cache.ref_slugs:
        cache.ref_names, cache.ref_slugs, cache.ref_problems = names, slugs, {}
    memo = cache.ref_problems
    known = functools.cache(lambda: sorted(slugs))
    fresh = not memo  # a new cache, or new names: every file (one command-line run)
    stale = checked if fresh else [item for item in checked if (hit := memo.get(item.file)) is None or hit[0] is not item]
    lost = nowhere(stale, slugs, names)
    if lost:
        for item in stale:
            memo[item.file] = (item, unresolved(item, lost, known) if item.references else [])
    else:  # nearly always: every link leads somewhere
        memo.update({item.file: (item, []) for item in stale})
        if fresh:
            return []
    problems = [problem for item in checked for problem in memo[item.file][1]]
    if len(memo) > len(checked):
        live = {item.file for item in checked}
        for file in [f for f in memo if f not in live]:
            del memo[file]
    return problems


def nowhere(items: list[Checked], slugs: AbstractSet[str], names: dict[str, str]) -> set[str]:
    """The targets of these files' references that lead to no contact (each target looked up
    once: ten thousand files share most of theirs)."""
    targets = Checked.all_targets(items)
    return {target for target in targets.difference(slugs) if target.casefold() not in names}  # as resolve_link


def unresolved(item: Checked, nowhere: AbstractSet[str], known: Callable[[], list[str]]) -> list[Problem]:
    """Problems for the file's references that lead to no contact (`nowhere`: such targets;
    `known`: every slug, sorted, for "did you mean", made only when one is needed)."""
    if not nowhere:
        return []
    return [_reference_problem(ref, item.file, known()) for ref in item.references if ref.target in nowhere]


def _reference_problem(ref: Reference, file: str, known: list[str]) -> Problem:
    near = difflib.get_close_matches(ref.target, known, n=1, cutoff=0.6)
    hint = f"; did you mean {near[0]}?" if near else ""
    if ref.kind == "with":
        return Problem(file, ref.line, ref.column, "error", ref.field, f"no contact '{ref.target}'{hint}")
    return Problem(
        file, ref.line, ref.column, "warning", ref.field, f"[[{ref.target}]] links to no contact{hint}"
    )
