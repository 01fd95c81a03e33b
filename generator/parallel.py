"""Use both cores for the big, cold jobs (parsing and rendering thousands of files).

Worker processes are forked, so they inherit what the parent has already built (settings,
the site model, compiled templates) and only small results travel back. Forking a process
that runs threads is unsafe, so the live server (which has threads) always stays serial, as
does any job too small to repay the start-up (about 50 ms).
"""

from __future__ import annotations

import contextlib
import gc
import marshal
import os
import select
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NoReturn, TypeVar

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
    func: Callable[[T], R],
    items: Sequence[T],
    chunksize: int = 64,
    meanwhile: Callable[[], None] | None = None,
    serial: bool = False,
    each: Callable[[R], None] | None = None,
    min_items: int = MIN_ITEMS,
) -> list[R]:
    """`[func(x) for x in items]`, in forked workers when there are at least `min_items` (never
    with `serial`). The workers inherit `func` at fork time, with all it refers to (a closure
    will do): only the items and the results (which must pickle) travel. `meanwhile`, if given,
    runs in this process while the workers work (or after them, when there are none); `each`
    gets every result, in order, as soon as it is here (to show progress, or to pass it on)."""
    count = workers()
    if serial or count < 2 or len(items) < min_items:
        results = []
        for item in items:
            results.append(func(item))
            if each is not None:
                each(results[-1])
        if meanwhile is not None:
            meanwhile()
        return results
    import multiprocessing  # only when a pool is worth it (a one-file rebuild never needs one)

    context = multiprocessing.get_context("fork")
    global _job, _pool_parent
    _job, _pool_parent = func, os.getpid()
    gc.freeze()  # what exists now is shared with the workers: keep the collector off its pages
    try:
        with context.Pool(min(count, len(items))) as pool:
            arriving = pool.imap(_run, items, chunksize=chunksize)  # the workers start now
            if meanwhile is not None:
                meanwhile()
            results = []
            for result in arriving:
                results.append(result)
                if each is not None:
                    each(result)
            return results
    finally:
        _job = None
        gc.unfreeze()


_job: Callable[[Any], Any] | None = None  # the function of the running fork_map (inherited)
_pool_parent = 0  # the process that started the last pool


def _run(item: Any) -> Any:
    assert _job is not None
    return _job(item)


def in_worker() -> bool:
    """Is this a worker of a fork_map pool (not the process that runs the map)?"""
    return _pool_parent != 0 and os.getpid() != _pool_parent


# --- one job beside this process --------------------------------------------------------------


def _child(job: Callable[[], None]) -> NoReturn:
    """The end of a forked child: run `job`, then leave without running the parent's exit code
    (its buffered output and atexit handlers are the parent's)."""
    code = 1
    try:
        gc.disable()  # a short life: collecting would only copy the parent's pages
        job()
        code = 0
    except BaseException:  # noqa: BLE001,S110 - silent: the parent does the work again, or it was optional
        pass
    os._exit(code)


class Pending:
    """Results on their way from a forked child (see `fork_results`), taken in their order."""

    def __init__(self, func: Callable[[], Iterator[Any]], pid: int | None = None, fd: int | None = None) -> None:
        self._func, self._pid, self._fd = func, pid, fd
        self._taken = 0  # results handed out so far
        self._here: Iterator[Any] | None = None  # `func()` run here, once the child could not answer

    def ready(self) -> bool:
        """Has the child begun to send the next result (or is there no child)? Does not wait."""
        if self._fd is None:
            return True
        poller = select.poll()
        poller.register(self._fd, select.POLLIN)
        return bool(poller.poll(0))

    def next(self) -> Any:
        """The next result: the child's, once it has sent all of it, else computed here (by
        running `func()` again up to it)."""
        if self._fd is not None:
            data = self._message()
            if data is not None:
                try:
                    value = marshal.loads(data)
                except (EOFError, ValueError, TypeError):
                    self.close()
                else:
                    self._taken += 1
                    return value
        if self._here is None:
            self._here = self._func()
            for _ in range(self._taken):
                next(self._here)
        self._taken += 1
        return next(self._here)

    def _message(self) -> bytes | None:
        """The bytes of the child's next result (None, the child closed: it ended or failed)."""
        header = self._read(8)
        data = self._read(int.from_bytes(header, "little")) if header is not None else None
        if data is None:
            self.close()
        return data

    def _read(self, size: int) -> bytes | None:
        assert self._fd is not None
        chunks, left = [], size
        while left:
            chunk = os.read(self._fd, min(left, 1 << 20))
            if not chunk:
                return None
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def close(self) -> None:
        """Let the child go: take no more of its results (further ones are computed here)."""
        if self._fd is None:
            return
        os.close(self._fd)  # a child still writing gets an error and ends
        self._fd = None
        if self._pid is not None:
            try:
                os.waitpid(self._pid, 0)
            except ChildProcessError:  # reaped by someone else
                pass
            self._pid = None


@contextlib.contextmanager
def _interrupt_held() -> Iterator[None]:
    """Hold Ctrl-C back while forking: it reaches the parent once the child exists, and never a
    child before it runs its job (`_forked` makes children ignore it: their jobs are short, and
    a job cut short would only leave work undone)."""
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _forked() -> int:
    """os.fork() (inside `_interrupt_held`); in the child, Ctrl-C is ignored from then on."""
    pid = os.fork()
    if pid == 0:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    return pid


def fork_results(func: Callable[[], Iterator[Any]]) -> Pending:
    """Start the generator `func()` in a forked child now. Its results (which must be
    marshal-able: str, int, bool, tuple, list, dict) are the returned Pending's, taken in turn
    with `next()`: the child sends each as soon as it is made, so this process goes on with the
    first (or imports what it needs next) while the child makes the rest. Where forking is not
    safe, or for a result the child did not send whole, `func()` runs here, when asked for."""
    if workers() < 2:
        return Pending(func)
    try:
        read_end, write_end = os.pipe()
    except OSError:
        return Pending(func)
    try:
        with _interrupt_held():
            pid = _forked()
    except OSError:
        os.close(read_end)
        os.close(write_end)
        return Pending(func)
    if pid == 0:
        os.close(read_end)

        def send() -> None:
            with os.fdopen(write_end, "wb") as out:
                for value in func():
                    data = marshal.dumps(value)
                    out.write(len(data).to_bytes(8, "little") + data)
                    out.flush()

        _child(send)
    os.close(write_end)
    return Pending(func, pid, read_end)
