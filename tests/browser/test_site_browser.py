"""The built demo site in a real Chromium: drafts copy, the list filters, nothing overflows at 360 px,
axe-core finds no violations (light and dark), and the Nu HTML checker accepts every page."""

from __future__ import annotations

import datetime as dt
import functools
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from generator import paging
from generator.site import SiteBuilder

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench"))
from generate import generate  # noqa: E402

pytestmark = pytest.mark.browser

VNU = REPO / ".cache" / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
SHOTS = Path("/tmp/tipscale-shots")


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("browser") / "demo"
    shutil.copytree(REPO / "contacts", root / "contacts")
    shutil.copytree(REPO / "applications", root / "applications")
    shutil.copy(REPO / "crm.yaml", root / "crm.yaml")
    # One invalid file, so the problems panel and the error banner page are checked too.
    (root / "contacts" / "broken.md").write_text("---\nname: [unclosed\n---\n", encoding="utf-8")
    report = SiteBuilder(root, root / "site", today=dt.date(2026, 11, 25)).build()
    assert len(report.errors) == 1
    return root / "site"


@pytest.fixture(scope="module")
def paged_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """120 generated contacts, three cards a dashboard section and 25 rows a list page: every
    long list in pages, as at tens of thousands of contacts."""
    root = tmp_path_factory.mktemp("browser") / "paged"
    generate(root, 120, seed=3)
    with open(root / "crm.yaml", "a", encoding="utf-8") as handle:
        handle.write("dashboard: {per_section: 3}\n")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(paging, "PAGE_ROWS", 25)
        report = SiteBuilder(root, root / "site", today=dt.date(2026, 11, 25)).build()
    assert report.errors == []
    assert (root / "site" / "followups" / "_overdue-2.html").is_file() and (root / "site" / "contacts" / "_index-5.html").is_file()
    return root / "site"


def _serve(site: Path) -> Iterator[str]:
    handler = functools.partial(_Quiet, directory=str(site))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def base_url(site: Path) -> Iterator[str]:
    yield from _serve(site)


@pytest.fixture(scope="module")
def paged_url(paged_site: Path) -> Iterator[str]:
    yield from _serve(paged_site)


@pytest.fixture
def context(browser: Any, base_url: str) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    yield ctx
    ctx.close()


def test_dashboard_shows_the_demo_overdue_followups(context, base_url):
    page = context.new_page()
    page.goto(f"{base_url}/index.html")
    names = page.locator("#overdue article h3").all_inner_texts()
    assert names == ["Tomás Müller", "Emma Johansson", "Tomás Müller", "Kenji Watanabe", "Marcus Chen", "Daniel Okafor",
                     "Sofia Álvarez", "Daniel Okafor"]  # fmt: skip
    assert page.locator(".stat-overdue .stat-num").inner_text() == "8"
    assert page.locator("#problems .problem-file").count() == 1


def test_copy_button_copies_the_draft(browser, base_url):
    ctx = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    try:
        page = ctx.new_page()
        page.goto(f"{base_url}/index.html")
        card = page.locator("#f-priya-raman-thank-you-2026-11-24-1")
        button = card.locator("button.copy")
        assert button.is_visible()  # shown once JavaScript runs
        button.click()
        page.wait_for_function("document.querySelector('#f-priya-raman-thank-you-2026-11-24-1 button.copy').textContent === 'Copied'")
        copied = page.evaluate("navigator.clipboard.readText()")
        assert copied == card.locator("pre.draft-text").text_content()
        assert copied.startswith("Subject: Thank you for the interview at Northwind Labs\n\nDear Priya,")
    finally:
        ctx.close()


def test_search_and_filters_narrow_the_contact_list(context, base_url):
    page = context.new_page()
    page.goto(f"{base_url}/contacts/index.html")
    visible = "#contact-list > li:not([hidden]) .row-name"
    assert page.locator(visible).count() == 12
    page.wait_for_selector("#filters[data-ready]", state="attached")  # the index of every contact is loaded
    assert page.locator("#tag option").count() == 1 + len(page.locator(".browse .tag").all())  # filled from it
    page.fill("#q", "northwind")  # company, tag or notes
    expect(page.locator(visible)).to_have_text([
        "Daniel Okafor", "Hannah Berg", "Kenji Watanabe", "Marcus Chen", "Priya Raman"])  # fmt: skip
    assert page.locator("#result-count").inner_text() == "5 of 12 contacts"
    page.fill("#q", "Rust deploy")  # every word, any order, any case
    expect(page.locator(visible)).to_have_text(["Kenji Watanabe"])
    page.fill("#q", "operational ownership")  # only in Priya's notes
    expect(page.locator(visible)).to_have_text(["Priya Raman"])
    page.fill("#q", "")
    page.select_option("#tag", "recruiter")
    expect(page.locator(visible)).to_have_text(["Aisha Khan", "Emma Johansson", "Marcus Chen"])
    page.select_option("#company", "northwind-labs")
    expect(page.locator(visible)).to_have_text(["Marcus Chen"])
    page.select_option("#tag", "")
    page.select_option("#company", "brightwave")
    expect(page.locator(visible)).to_have_text(["Ravi Patel", "Sofia Álvarez"])
    page.fill("#q", "nobody at all")
    assert page.locator("#no-results").is_visible()
    page.click("#reset-filters")
    assert page.locator(visible).count() == 12
    page.select_option("#sort", "last")
    expect(page.locator(visible).first).to_have_text("Emma Johansson")


def test_list_works_without_javascript(browser, base_url):
    ctx = browser.new_context(java_script_enabled=False)
    try:
        page = ctx.new_page()
        page.goto(f"{base_url}/contacts/index.html")
        assert page.locator("#contact-list > li").count() == 12
        assert not page.locator("#filters").is_visible()
        page.goto(f"{base_url}/index.html")
        assert not page.locator("button.copy").first.is_visible()
        assert page.locator("#overdue article").count() == 8
    finally:
        ctx.close()


def test_search_looks_through_every_page_of_the_list(context, paged_url, paged_site):
    page = context.new_page()
    page.goto(f"{paged_url}/contacts/index.html")
    rows = "#contact-list > li:not([hidden]) .row-name"
    assert page.locator(rows).count() == 25 and page.locator(".pager").is_visible()
    page.wait_for_selector("#filters[data-ready]", state="attached")
    last_page = (paged_site / "contacts" / "_index-5.html").read_text(encoding="utf-8")
    wanted = last_page.rsplit('class="row-name"', 1)[1].split(">", 1)[1].split("<", 1)[0]  # the last contact
    assert wanted not in (paged_site / "contacts" / "index.html").read_text(encoding="utf-8")
    page.fill("#q", wanted.lower())
    expect(page.locator(rows, has_text=wanted).first).to_have_text(wanted)
    shown = page.locator(rows).count()
    assert page.locator("#result-count").inner_text() == f"{shown} of 120 contacts"
    assert not page.locator(".pager").is_visible()
    page.locator("#contact-list a.row-name", has_text=wanted).first.click()
    assert page.locator("h1").inner_text() == wanted  # the row leads to the contact page
    page.go_back()
    page.fill("#q", "")
    assert page.locator(rows).count() == 25 and page.locator(".pager").is_visible()
    page.select_option("#sort", "last")  # the most recent contacts of all pages
    assert page.locator(rows).count() == 100 and page.locator("#more-results").is_visible()
    # The rest of the matches are counted once the browser is idle, after the rows are shown.
    expect(page.locator("#more-results")).to_have_text("Showing the first 100 of 120; type more to narrow them.")
    expect(page.locator("#result-count")).to_have_text("120 of 120 contacts")


def test_the_full_lists_and_pages_work_without_javascript(browser, paged_url):
    ctx = browser.new_context(java_script_enabled=False)
    try:
        page = ctx.new_page()
        page.goto(f"{paged_url}/index.html")
        assert page.locator("#overdue article").count() == 3
        page.locator("#overdue p.more a").click()
        assert page.url.endswith("/followups/overdue.html")
        assert page.locator("li.frow").count() == 25
        first = page.locator("li.frow a").first
        target = first.get_attribute("href")
        page.locator(".pager a[rel=next]").click()
        assert page.url.endswith("/followups/_overdue-2.html") and page.locator("li.frow").count() >= 1
        page.go_back()
        first.click()  # to the contact page's card of that follow-up
        assert page.url.endswith(target.removeprefix("..")) and page.locator(":target").count() == 1
        page.goto(f"{paged_url}/index.html")
        page.locator(".stat-missed a").click()
        assert page.url.endswith("/followups/missed.html") and page.locator("li.frow").count() >= 1
        page.locator("li.frow a").first.click()  # to the missed card that drafts the reconnect note
        card = page.locator(":target")
        assert card.count() == 1 and "fu-missed" in card.get_attribute("class")
        assert card.locator("pre.draft-text").inner_text().startswith("Subject: ")
        page.goto(f"{paged_url}/contacts/index.html")
        page.locator(".pager a[rel=next]").click()
        assert page.url.endswith("/contacts/_index-2.html") and page.locator("#contact-list > li").count() == 25
    finally:
        ctx.close()


PAGES = ["index.html", "contacts/index.html", "contacts/priya-raman.html", "contacts/broken.html",
         "tags/northwind.html", "companies/northwind-labs.html", "followups/overdue.html", "followups/missed.html",
         "applications.html", "contacts/daniel-okafor.html"]  # fmt: skip
PAGED = ["index.html", "followups/overdue.html", "followups/_overdue-2.html", "followups/missed.html",
         "contacts/index.html", "contacts/_index-2.html", "applications.html"]  # fmt: skip


@pytest.mark.parametrize("width", [360, 1280])
def test_the_pipeline_works_on_a_phone_and_without_javascript(browser, base_url, width):
    ctx = browser.new_context(viewport={"width": width, "height": 800}, java_script_enabled=False)
    try:
        page = ctx.new_page()
        page.goto(f"{base_url}/applications.html")
        columns = page.locator(".stage-col")
        assert columns.count() == 8
        boxes = [columns.nth(i).bounding_box() for i in range(columns.count())]
        if width == 360:  # stacked, one under the other, each the page's width
            assert len({round(b["x"]) for b in boxes}) == 1 and all(b["width"] <= 360 for b in boxes)
            assert [b["y"] for b in boxes] == sorted(b["y"] for b in boxes)
        else:  # side by side
            assert len({round(b["y"]) for b in boxes}) == 1
        card = page.locator("#a-northwind-labs-senior-backend-engineer")
        expect(card).to_be_visible()
        link = card.get_by_role("link", name="Thank-you to Kenji Watanabe")
        link.scroll_into_view_if_needed()
        link.click()
        assert page.url.endswith("/contacts/kenji-watanabe.html#f-kenji-watanabe-thank-you-northwind-labs-senior-backend-engineer-2")
        target = page.locator("#f-kenji-watanabe-thank-you-northwind-labs-senior-backend-engineer-2")
        expect(target).to_be_visible()
        expect(target.locator("pre.draft-text")).to_contain_text("Subject: Thank you for the interview for the Senior Backend Engineer role")
    finally:
        ctx.close()


def _every_page(base_url: str, paged_url: str) -> list[tuple[str, str]]:
    return [(f"{base_url}/{rel}", rel) for rel in PAGES] + [(f"{paged_url}/{rel}", "paged-" + rel) for rel in PAGED]


@pytest.mark.parametrize("width", [360, 1280])
def test_no_horizontal_overflow(browser, base_url, paged_url, width):
    SHOTS.mkdir(exist_ok=True)
    ctx = browser.new_context(viewport={"width": width, "height": 800})
    try:
        page = ctx.new_page()
        for url, rel in _every_page(base_url, paged_url):
            page.goto(url)
            scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
            assert scroll <= inner, (rel, width, scroll, inner)
            page.screenshot(path=str(SHOTS / f"{rel.replace('/', '_')}-{width}.png"), full_page=True)
    finally:
        ctx.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_violations(browser, base_url, paged_url, scheme):
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    ctx = browser.new_context(color_scheme=scheme, viewport={"width": 1280, "height": 900})
    try:
        page = ctx.new_page()
        for url, rel in _every_page(base_url, paged_url):
            page.goto(url)
            violations = axe.run(page).response["violations"]
            assert violations == [], (rel, scheme, [(v["id"], [n["target"] for n in v["nodes"]]) for v in violations])
    finally:
        ctx.close()


def test_contact_page_prints_without_navigation(context, base_url):
    page = context.new_page()
    page.goto(f"{base_url}/contacts/priya-raman.html")
    page.emulate_media(media="print")
    assert not page.locator("header.top").is_visible()
    assert not page.locator("button.copy").first.is_visible()
    assert page.locator(".notes").is_visible()


def test_nu_html_checker_accepts_every_page(site, paged_site):
    java = shutil.which("java")
    assert java is not None, "java is needed for the Nu HTML checker (apt-get install default-jre-headless)"
    assert VNU.is_file(), f"{VNU} is missing: run `make test` or npm install --prefix .cache vnu-jar@26"
    result = subprocess.run(
        [java, "-jar", str(VNU), "--errors-only", "--skip-non-html", str(site), str(paged_site)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr + result.stdout
