"""The cyclic garbage collector, held off while a run reads the state it keeps until it ends.

Loading ten thousand contacts from the parse cache, or restoring the last build's plan, makes
hundreds of thousands of objects that live until the command ends and form no cycles. Every
collection on the way would scan them again (tens of ms at 10,000 contacts), and once done the
next collections would scan them still. So a run collects nothing while it reads them, then
leaves them out of later collections (`gc.freeze`); what they no longer need is still freed by
reference counting.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def held() -> Iterator[None]:
    """Collect nothing in the body; then freeze what exists (see above)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()
