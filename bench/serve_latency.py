"""Save-to-served and save-to-browser latency of `crm serve` (a benchmark helper, not a test).

    python bench/serve_latency.py ROOT [--edits 20] [--no-browser]

Starts `crm --root ROOT serve --port 0 -q` as its own process (like a user would), then edits
one contact EDITS times, each time appending a unique line to its notes:

- save-to-served: from the moment the write returns until an HTTP GET of the contact's page
  contains the new line (polled every 20 ms);
- save-to-browser: from the moment the write returns until an open Chromium tab on that page
  shows the new line by itself (live reload; measured in a second round of edits).

Prints median/min/max and returns them from `measure(root, edits=20) -> dict` (`bench/run.py`
imports it). The contact file is restored afterwards. Targets (issue 5): save-to-served
≤ 300 ms and save-to-browser ≤ 1 s on 10,000 contacts.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
CRM = REPO / ".venv" / "bin" / "crm"
CHROMIUM = "/usr/bin/chromium"
PAUSE = 0.4  # between edits, so one edit's reload does not overlap the next save
POLL = 0.02  # between GETs of the page: faster polling steals the server process's CPU from the build


def _contact_files(root: Path) -> list[Path]:
    return sorted(p for p in (root / "contacts").rglob("*.md") if not p.name.startswith((".", "_")))


def _fetch(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return str(response.read().decode("utf-8", "replace"))
    except OSError:
        return ""


def _start_server(root: Path, startup_timeout: float) -> tuple[subprocess.Popen[str], str, float]:
    env = {**os.environ, "NO_COLOR": "1", "PYTHONUNBUFFERED": "1"}
    started = time.perf_counter()
    proc = subprocess.Popen(
        [str(CRM), "--root", str(root), "serve", "--port", "0", "-q"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + startup_timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        found = re.match(r"Serving (http://\S+)", line)
        if found:
            return proc, found.group(1), time.perf_counter() - started
    proc.kill()
    raise RuntimeError("crm serve did not start (no 'Serving' line)")


def _stop_server(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _summary(prefix: str, samples: list[float]) -> dict[str, Any]:
    if not samples:
        return {f"{prefix}_median_ms": None, f"{prefix}_min_ms": None, f"{prefix}_max_ms": None}
    return {
        f"{prefix}_median_ms": round(statistics.median(samples), 1),
        f"{prefix}_min_ms": round(min(samples), 1),
        f"{prefix}_max_ms": round(max(samples), 1),
    }


def _edit(path: Path, original: str, marker: str) -> float:
    """An in-place save (what most editors do); returns the time the write returned."""
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write(original.rstrip("\n") + f"\n\n{marker}\n")
    return time.perf_counter()


def _served_round(path: Path, original: str, page_url: str, edits: int, timeout: float) -> list[float]:
    samples: list[float] = []
    for i in range(edits):
        marker = f"Bench edit {i} {uuid.uuid4().hex[:8]}"
        saved = _edit(path, original, marker)
        deadline = saved + timeout
        while marker not in _fetch(page_url):
            if time.perf_counter() > deadline:
                raise RuntimeError(f"edit {i} not served within {timeout} s")
            time.sleep(POLL)
        samples.append((time.perf_counter() - saved) * 1000)
        time.sleep(PAUSE)
    return samples


def _browser_round(path: Path, original: str, page_url: str, edits: int, timeout: float) -> list[float]:
    from playwright.sync_api import sync_playwright

    samples: list[float] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--disable-gpu", "--disable-quic"])
        try:
            page = browser.new_page()
            page.goto(page_url)
            page.wait_for_load_state("load")
            time.sleep(PAUSE)  # the page's event stream connects
            for i in range(edits):
                marker = f"Browser edit {i} {uuid.uuid4().hex[:8]}"
                saved = _edit(path, original, marker)
                page.wait_for_function(
                    "m => document.body !== null && document.body.textContent.includes(m)",
                    arg=marker,
                    polling=5,
                    timeout=timeout * 1000,
                )
                samples.append((time.perf_counter() - saved) * 1000)
                page.wait_for_load_state("load")
                time.sleep(PAUSE)
        finally:
            browser.close()
    return samples


def measure(
    root: Path | str,
    edits: int = 20,
    browser: bool = True,
    timeout: float = 30.0,
    startup_timeout: float = 900.0,
) -> dict[str, Any]:
    """Run the server on `root`, edit one contact `edits` times per round, return the latencies.

    Keys: served_median_ms/min/max, browser_median_ms/min/max (None without a browser),
    contacts, edits, startup_s (first build included), and the raw samples in served_ms and
    browser_ms.
    """
    root = Path(root).resolve()
    files = _contact_files(root)
    if not files:
        raise RuntimeError(f"no contact files under {root / 'contacts'}")
    path = files[len(files) // 2]
    slug = path.name[:-3]
    original = path.read_text(encoding="utf-8")
    proc, url, startup = _start_server(root, startup_timeout)
    page_url = f"{url}/contacts/{urllib.request.quote(slug)}.html"
    result: dict[str, Any] = {}
    try:
        served = _served_round(path, original, page_url, edits, timeout)
        browser_ms: list[float] = []
        browser_note = ""
        if browser:
            try:
                browser_ms = _browser_round(path, original, page_url, edits, timeout)
            except ImportError as exc:
                browser_note = f"no browser: {exc}"
        result.update(_summary("served", served))
        result.update(_summary("browser", browser_ms))
        result.update(
            {
                "contacts": len(files),
                "edits": edits,
                "contact": path.relative_to(root).as_posix(),
                "startup_s": round(startup, 2),
                "served_ms": [round(s, 1) for s in served],
                "browser_ms": [round(s, 1) for s in browser_ms],
            }
        )
        if browser_note:
            result["browser_note"] = browser_note
    finally:
        path.write_text(original, encoding="utf-8", newline="")
        time.sleep(PAUSE)
        _stop_server(proc)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("root", type=Path, help="a CRM root (its contacts/ is edited, then restored)")
    parser.add_argument("--edits", type=int, default=20)
    parser.add_argument("--no-browser", action="store_true", help="measure save-to-served only")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    result = measure(args.root, edits=args.edits, browser=not args.no_browser)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"{result['contacts']} contacts, {result['edits']} edits of {result['contact']}")
    print(f"server start (first build included): {result['startup_s']} s")
    for label, key in (("save → served", "served"), ("save → browser", "browser")):
        if result[f"{key}_median_ms"] is None:
            print(f"{label}: not measured {result.get('browser_note', '')}")
            continue
        print(
            f"{label}: median {result[f'{key}_median_ms']:.0f} ms, "
            f"min {result[f'{key}_min_ms']:.0f} ms, max {result[f'{key}_max_ms']:.0f} ms"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
