"""Long lists split into pages of at most PAGE_ROWS rows (SPEC §8: no page grows without bound).

Page 1 of a list keeps its plain path (`contacts/index.html`, `tags/alumni.html`); page N is
`_STEM-N.html` beside it (`contacts/_index-2.html`, `tags/_alumni-2.html`). No contact file,
tag or company makes a name starting with `_` (the loader ignores such files; slugs are made of
letters, digits and hyphens), and the number after the last hyphen tells a list's pages apart
from another list's, so these paths meet no other page.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

PAGE_ROWS = 500  # rows a list page holds: about 7,000 elements and 300 KB at most

T = TypeVar("T")


def page_path(first: str, number: int) -> str:
    """The path of page `number` (from 1) of the list whose first page is `first`."""
    if number == 1:
        return first
    folder, _, name = first.rpartition("/")
    return f"{folder}/_{name.removesuffix('.html')}-{number}.html"


def page_count(rows: int) -> int:
    """Pages a list of `rows` rows takes (one, even when empty)."""
    return max(1, -(-rows // PAGE_ROWS))


def chunks(items: Sequence[T]) -> list[Sequence[T]]:
    """`items` as its pages' rows (one empty page for no items)."""
    size = PAGE_ROWS
    return [items[start : start + size] for start in range(0, len(items), size)] or [items[:0]]


def pager(first: str, number: int, count: int) -> dict[str, Any] | None:
    """What `_pager.html.j2` shows on page `number` of `count`: every page's link (the pages of
    a list share a folder, so a file name is the link), the previous and next; None for one page."""
    if count <= 1:
        return None

    def href(n: int) -> str:
        return page_path(first, n).rpartition("/")[2]

    return {
        "number": number,
        "count": count,
        "pages": [(n, href(n)) for n in range(1, count + 1)],
        "prev": href(number - 1) if number > 1 else "",
        "next": href(number + 1) if number < count else "",
    }
