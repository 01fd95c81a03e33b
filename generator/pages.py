"""A planned output file (`Page`) and the digest of its inputs, for the site's page modules."""

from __future__ import annotations

import hashlib
from collections.abc import Callable


class Page:
    """One planned output file: its path in the site, its input digest (or how to compute it,
    when that is cheaper after the page was made: the list pages' rows), how to make its bytes."""

    __slots__ = ("path", "_digest", "make")

    def __init__(self, path: str, digest: str | Callable[[], str], make: Callable[[], bytes]) -> None:
        self.path = path
        self._digest = digest
        self.make = make

    @property
    def digest(self) -> str:
        if not isinstance(self._digest, str):
            self._digest = self._digest()
        return self._digest


def digest(*parts: object) -> str:
    """A page's input digest: the reprs of `parts`, hashed."""
    made = hashlib.sha256()
    for part in parts:
        made.update(repr(part).encode("utf-8", "surrogatepass"))
        made.update(b"\x1f")
    return made.hexdigest()
