"""The built site in a real browser (a benchmark helper, not a test): page sizes, element counts,
Chromium's load times and search latency (issue 21).

    python bench/page_metrics.py SITE [--runs 5]

Serves SITE (a built `site/`) with `python -m http.server` in a process of its own, then with
Debian's Chromium (Playwright, `/usr/bin/chromium`, nothing downloaded):

- for the dashboard (`index.html`), the contact list (`contacts/index.html`) and the largest
  HTML page of the site: its bytes, its element count once loaded, and its load time (navigation
  start to the end of the load event, in a fresh browser context each run: nothing cached);
- search: on the contact list, once its index is loaded (`#filters[data-ready]`), the time
  from each keystroke (the keydown event) to the next frame after the filtered list is shown
  (app.js's `tipscale:filtered` event), typing a few queries one key at a time.

Also counts the HTML pages over 1 MB. `measure(site, runs=5) -> dict` (`bench/run.py`
imports it). Targets (issue 21): load ≤ 1 s and ≤ 15,000 elements for every page, search
≤ 100 ms from keystroke to filtered list.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
MB = 1_000_000
LOAD_MS, ELEMENTS, SEARCH_MS = 1000.0, 15_000, 100.0  # the targets

# Installed before the page's scripts: keystroke → filtered list, one sample per keystroke.
PROBE = """
window.__latencies = [];
document.addEventListener("keydown", function (e) { window.__keydown = e.timeStamp; }, true);
document.addEventListener("tipscale:filtered", function () {
  var start = window.__keydown;
  if (start === undefined) { return; }
  window.__keydown = undefined;
  requestAnimationFrame(function () {
    setTimeout(function () { window.__latencies.push(performance.now() - start); }, 0);
  });
});
"""


def html_pages(site: Path) -> list[tuple[int, str]]:
    """(bytes, path) of every HTML page, largest first (the build's own state left out)."""
    pages = []
    for folder, dirs, files in os.walk(site):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            if name.endswith(".html"):
                path = Path(folder) / name
                pages.append((path.stat().st_size, path.relative_to(site).as_posix()))
    pages.sort(key=lambda p: (-p[0], p[1]))
    return pages


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _serve(site: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(site)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(url + "/index.html", timeout=1).close()
            return proc, url
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("the static server did not start")


def _spread(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def _load(browser: Any, url: str, runs: int) -> dict[str, Any]:
    times, elements = [], 0
    for _ in range(runs):
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        try:
            page = context.new_page()
            page.goto(url, wait_until="load", timeout=60_000)
            times.append(page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd"))
            elements = page.evaluate("document.getElementsByTagName('*').length")
        finally:
            context.close()
    return {"load_ms": _spread(times), "elements": elements}


def _queries(page: Any) -> list[str]:
    """Realistic queries: the start of a first name, of a company, of a name met in the notes,
    and a word found nowhere."""
    name, company = page.evaluate(
        """() => { var d = window.TIPSCALE_SEARCH, keys = Object.keys(d).sort();
                   var e = d[keys[Math.floor(keys.length / 2)]];
                   var c = keys.map(k => d[k][2]).find(x => x) || "acme";
                   return [e[0], c]; }"""
    )
    first = name.split()[0].lower()[:5]
    return [first, company.split()[0].lower()[:6], "eng", "zqxj"]


def _search(browser: Any, url: str) -> dict[str, Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        context.add_init_script(PROBE)
        page = context.new_page()
        started = time.perf_counter()
        page.goto(url, wait_until="load", timeout=60_000)
        page.wait_for_selector("#filters[data-ready]", state="attached", timeout=120_000)
        ready_ms = (time.perf_counter() - started) * 1000
        queries = _queries(page)
        box = page.locator("#q")
        for query in queries:
            box.click()
            for key in query:
                page.keyboard.press(key)
                page.wait_for_timeout(150)  # one keystroke at a time, as a person types
            box.fill("")
            page.wait_for_timeout(150)
        latencies = page.evaluate("window.__latencies")
        shown = page.evaluate("document.getElementsByTagName('*').length")
    finally:
        context.close()
    return {
        "ready_ms": ready_ms,
        "queries": queries,
        "keystrokes": len(latencies),
        "keystroke_ms": _spread(latencies) if latencies else None,
        "elements_after_search": shown,
    }


def measure(site: Path, runs: int = 5) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    pages = html_pages(site)
    sizes = dict((path, size) for size, path in pages)
    wanted = {"dashboard": "index.html", "contact list": "contacts/index.html", "largest page": pages[0][1]}
    server, base = _serve(site)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--disable-gpu", "--disable-quic"])
            try:
                measured = {
                    label: {"path": path, "bytes": sizes[path], **_load(browser, f"{base}/{path}", runs)}
                    for label, path in wanted.items()
                }
                search = _search(browser, f"{base}/contacts/index.html")
            finally:
                browser.close()
    finally:
        server.terminate()
        server.wait()
    return {
        "pages": measured,
        "search": search,
        "html_pages": len(pages),
        "over_1mb": [path for size, path in pages if size >= MB],
        "runs": runs,
    }


def targets(result: dict[str, Any]) -> list[tuple[str, float | None, float, str]]:
    """(what, measured, limit, unit) for each target of issue 21."""
    out: list[tuple[str, float | None, float, str]] = []
    for label, page in result["pages"].items():
        out.append((f"{label} load (median)", page["load_ms"]["median"], LOAD_MS, "ms"))
        out.append((f"{label} elements", page["elements"], ELEMENTS, "elements"))
    keystroke = result["search"]["keystroke_ms"]
    out.append(("search keystroke → filtered (max)", keystroke["max"] if keystroke else None, SEARCH_MS, "ms"))
    largest = result["pages"]["largest page"]["bytes"]
    out.append(("largest HTML page", largest / MB, 1.0, "MB"))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Sizes, element counts, load times and search latency of a built site.")
    parser.add_argument("site", type=Path)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.site, args.runs), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
