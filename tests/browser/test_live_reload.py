"""Live reload in a real Chromium: an open contact page shows a saved edit by itself."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from generator.serve import DevServer
from generator.site import SiteBuilder

pytestmark = pytest.mark.browser

NOTES = "\n\n".join(f"Paragraph {i} of long notes about Jane." for i in range(120))


def jane(body: str) -> str:
    return f"---\nname: Jane Doe\ncompany: Acme Corp\n---\n{body}\n"


@pytest.fixture
def live(crm_root: Any) -> Iterator[tuple[Path, str]]:
    root = crm_root(
        {"contacts/jane-doe.md": jane("First version.\n\n" + NOTES)}, settings="today: 2026-11-25\n"
    )
    builder = SiteBuilder(root, root / "site")
    builder.build()
    with DevServer(root, root / "site", builder, port=0) as server:
        yield root, server.url


def test_open_page_reloads_itself_after_a_save_and_keeps_its_scroll(
    browser: Any, live: tuple[Path, str]
) -> None:
    root, url = live
    page = browser.new_page(viewport={"width": 800, "height": 600})
    try:
        page.goto(f"{url}/contacts/jane-doe.html")
        page.get_by_text("First version.").wait_for(timeout=5000)
        page.wait_for_function("() => document.documentElement.scrollHeight > 2000", timeout=5000)
        # the browser's own scroll restoration off: the position must come back from the reload script
        page.evaluate(
            "history.scrollRestoration = 'manual'; window.scrollTo(0, 1500); window.__beforeReload = true"
        )
        page.wait_for_function("() => Math.abs(window.scrollY - 1500) < 2", timeout=5000)
        page.wait_for_timeout(200)  # let the page's event stream connect before the save

        path = root / "contacts" / "jane-doe.md"
        temp = path.with_name(".jane-doe.md.tmp")
        temp.write_text(jane("Second version, saved in an editor.\n\n" + NOTES))
        os.replace(temp, path)

        page.get_by_text("Second version, saved in an editor.").wait_for(timeout=5000)
        assert page.evaluate("window.__beforeReload === undefined")  # a real reload happened
        assert page.get_by_text("First version.").count() == 0
        page.wait_for_function("() => Math.abs(window.scrollY - 1500) < 50", timeout=5000)

        path.write_text(jane("Third version.\n\n" + NOTES))  # and again: the reloaded page listens too
        page.get_by_text("Third version.").wait_for(timeout=5000)
    finally:
        page.close()


def test_a_build_failure_shows_a_banner_and_the_previous_page_stays(browser: Any, crm_root: Any) -> None:
    root = crm_root({"contacts/jane-doe.md": jane("Stable.")}, settings="today: 2026-11-25\n")
    inner = SiteBuilder(root, root / "site")
    inner.build()

    class Failing:
        fail = False

        def build(self, clean: bool = False, changed: Any = None) -> Any:
            if self.fail:
                raise RuntimeError("template exploded")
            return inner.build(clean, changed)

    builder = Failing()
    with DevServer(root, root / "site", builder, port=0) as server:
        page = browser.new_page()
        try:
            page.goto(f"{server.url}/contacts/jane-doe.html")
            page.get_by_text("Stable.").wait_for(timeout=5000)
            page.wait_for_timeout(200)
            builder.fail = True
            (root / "contacts" / "jane-doe.md").write_text(jane("Never shown."))
            page.get_by_role("alert").filter(has_text="template exploded").wait_for(timeout=5000)
            assert page.get_by_text("Stable.").count() == 1
            builder.fail = False
            (root / "contacts" / "jane-doe.md").write_text(jane("Recovered."))
            page.get_by_text("Recovered.").wait_for(timeout=5000)
            assert page.get_by_text("template exploded").count() == 0
        finally:
            page.close()
