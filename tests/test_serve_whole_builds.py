"""While serving, the site on disk is always one complete build: a rebuild moves its files into
place together at its end (requests wait for those renames), and a failed rebuild moves none.

Real contact files in a temporary root, the real site builder as `crm serve` keeps it, a real
server on a free port.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from test_serve import WAIT, contact, get, port_of, wait_until

from generator.serve import DevServer
from generator.site import SiteBuilder


def tree(out: Path) -> dict[str, bytes]:
    """Every file of the built site (its state folder too), by path."""
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def pages(out: Path) -> dict[str, bytes]:
    return {rel: data for rel, data in tree(out).items() if not rel.startswith(".tipscale")}


def leftovers(out: Path) -> list[str]:
    return [str(p) for p in out.rglob(".tmp-*")]


def served_builder(root: Path) -> SiteBuilder:
    """The builder as `crm serve` has it after its first build."""
    builder = SiteBuilder(root, root / "site")
    builder.long_lived = True
    builder.build()
    return builder


def clean_pages(root: Path, out: Path) -> dict[str, bytes]:
    SiteBuilder(root, out).build(clean=True)
    return pages(out)


@pytest.fixture
def root(crm_root: Callable[..., Path]) -> Path:
    return crm_root(
        {
            "contacts/jane-doe.md": contact("Jane Doe", "company: Acme Corp\n", "Original notes about Jane."),
            "contacts/raj-patel.md": contact("Raj Patel", "tags: [mentor]\n", "Knows [[jane-doe]]."),
        },
        settings="today: 2026-11-25\n",
    )


def test_a_rebuild_changes_nothing_on_disk_until_it_is_complete(root: Path, tmp_path: Path) -> None:
    builder = served_builder(root)
    out = root / "site"
    before = tree(out)
    seen: list[dict[str, bytes]] = []

    @contextmanager
    def swap() -> Iterator[None]:
        seen.append(tree(out))  # every page is made by now: what a request would get
        yield

    builder.swap = swap
    (root / "contacts/jane-doe.md").write_text(contact("Jane Doe", "company: Beta Labs\n", "New notes."))
    (root / "contacts/raj-patel.md").unlink()  # a page (and a tag page) to remove
    (root / "contacts/sam-lee.md").write_text(contact("Sam Lee", "tags: [founder]\n", "Met at a meetup."))
    report = builder.build()

    assert report.written > 0 and report.removed > 0
    assert len(seen) == 1
    at_swap = {rel: data for rel, data in seen[0].items() if not rel.rpartition("/")[2].startswith(".tmp-")}
    assert at_swap == before  # not one page changed, appeared or went away before the swap
    assert any(".tmp-" in rel for rel in seen[0])  # the new files waited beside their targets
    assert leftovers(out) == []
    after = pages(out)
    assert after == clean_pages(root, tmp_path / "clean")
    assert "contacts/sam-lee.html" in after and "contacts/raj-patel.html" not in after
    assert b"New notes." in after["contacts/jane-doe.html"]


def test_a_failed_rebuild_leaves_the_last_site_whole_and_the_next_one_mends_it(root: Path, tmp_path: Path) -> None:
    builder = served_builder(root)
    builder.swap = threading.Lock  # any context manager: no server here
    out = root / "site"
    shutil.rmtree(out / "tags")
    (out / "tags").write_text("in the way")  # a file where the build needs a folder
    before = tree(out)
    (root / "contacts/jane-doe.md").write_text(contact("Jane Doe", "tags: [friend]\n", "Changed notes."))

    with pytest.raises(OSError):
        builder.build()

    assert tree(out) == before  # Jane's page was made, but never moved in
    assert leftovers(out) == []
    (out / "tags").unlink()
    builder.build()
    assert pages(out) == clean_pages(root, tmp_path / "clean")


def test_requests_wait_while_a_build_moves_its_files_in(root: Path) -> None:
    builder = SiteBuilder(root, root / "site")
    builder.build()
    server = DevServer(root, root / "site", builder, port=0, reload=True)
    server.start()
    try:
        port = port_of(server)
        assert builder.swap is not None  # the server's rebuilds publish through its state
        answers: list[int] = []
        with server.state.swapping():
            asking = threading.Thread(target=lambda: answers.append(get(port, "/contacts/jane-doe.html").status))
            asking.start()
            asking.join(0.5)
            assert answers == []  # held off while files move
        asking.join(WAIT)
        assert answers == [200]
        # And an ordinary save still reaches the served page.
        (root / "contacts/jane-doe.md").write_text(contact("Jane Doe", "", "Saved while serving."))
        wait_until(lambda: "Saved while serving." in get(port, "/contacts/jane-doe.html").text, what="the save")
        assert leftovers(root / "site") == []
    finally:
        server.stop()
