"""Use both cores for the big, cold jobs (parsing and rendering thousands of files).

Worker processes are forked, so they inherit what the parent has already built (settings,
the site model, compiled templates) and only small results travel back. Forking a process
that runs threads is unsafe, so the live server (which has threads) always stays serial, as
does any job too small to repay the start-up (about 50 ms).
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

MIN_ITEMS = 400  # below this a pool costs more than it saves


def workers() -> int:
    """How many processes a parallel job may use (1 = stay serial)."""
    if not hasattr(os, "fork") or threading.active_count() > 1:
        return 1
    wanted = os.environ.get("TIPSCALE_WORKERS", "").strip()
    if wanted.isdigit():
        return max(1, int(wanted))
    return min(2, os.cpu_count() or 1)


def fork_map(
    func: Callable[[T], R], items: Sequence[T], chunksize: int = 64, meanwhile: Callable[[], None] | None = None
) -> list[R]:
    """`[func(x) for x in items]`, in forked workers when worth it. `func` must be a module-level
    function; what it reads of module globals is inherited at fork time. `meanwhile`, if given,
    runs in this process while the workers work (or after them, when there are none)."""
    count = workers()
    if count < 2 or len(items) < MIN_ITEMS:
        results = [func(item) for item in items]
        if meanwhile is not None:
            meanwhile()
        return results
    context = multiprocessing.get_context("fork")
    gc.freeze()  # what exists now is shared with the workers: keep the collector off its pages
    try:
        with context.Pool(count) as pool:
            pending = pool.map_async(func, items, chunksize=chunksize)
            if meanwhile is not None:
                meanwhile()
            return pending.get()
    finally:
        gc.unfreeze()


_shared: Any = None


def share(value: Any) -> None:
    """Make `value` visible to the next fork_map's workers (inherited at fork time)."""
    global _shared
    _shared = value


def shared() -> Any:
    return _shared
