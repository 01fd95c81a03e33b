"""Everything the user wrote is shown as text: no script, no unsafe link, no template evaluation."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from test_site import Node, page, parse_html

from generator.render import external_url, safe_url, url_path
from generator.site import SiteBuilder

SCRIPT = "<script>alert(1)</script>"
HOSTILE = """\
---
name: "<script>alert(1)</script> {{ 7*7 }}"
email: "x\\"@example.com"
company: '"><img src=x onerror=alert(1)>'
title: "{% raw %}raw{% endraw %} {{ config }}"
location: "' onmouseover='alert(1)"
tags: ["<b>bold</b>", "{{ 7*7 }}", "\\" onclick=\\"alert(1)"]
links:
  js: "javascript:alert(1)"
  js_upper: "JaVaScRiPt:alert(1)"
  js_tab: "java\\tscript:alert(1)"
  js_space: "  javascript:alert(1)"
  vb: "vbscript:msgbox(1)"
  data: "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="
  ok: https://example.com/?a=1&b="2"
how_we_met: "<iframe src=javascript:alert(1)></iframe>"
secret_field: "<script>alert(4)</script>"
keep_in_touch: 30d
interactions:
  - date: 2026-11-20
    type: coffee
    summary: "<script>alert(2)</script> {{ 7*7 }}"
    gained: "{% if true %}yes{% endif %} </pre><script>alert(3)</script>"
---
# Notes {{ 7*7 }}

<script>alert(5)</script>
<img src=x onerror=alert(6)>
<a href="javascript:alert(7)">raw html link</a>

[md js](javascript:alert(8)) [md vb](vbscript:alert(9)) [md data](data:text/html,<script>alert(10)</script>)
[md upper](JAVASCRIPT:alert(11)) [md entity](&#106;avascript:alert(12)) [md tab](java&#9;script:alert(13))
<javascript:alert(14)> ![pixel](https://tracker.example/pixel.png) [ok](https://example.org/page)

{% raw %}{{ 7*7 }}{% endraw %} and [[<script>alert(15)</script>]] and [[x" onclick="alert(1)|label]]
"""

ALLOWED_SCHEMES = ("http:", "https:", "mailto:", "tel:")


def _build(crm_root) -> tuple[Path, Node]:
    root = crm_root({"contacts/evil.md": HOSTILE, "contacts/friend.md": "---\nname: Friend\n---\nSee [[evil]].\n"})
    site = root / "site"
    report = SiteBuilder(root, site, today=dt.date(2026, 11, 25)).build()
    assert report.errors == [], [p.format() for p in report.errors]
    return site, page(site, "contacts/evil.html")


def _all_pages(site: Path) -> list[tuple[str, Node]]:
    return [(p.relative_to(site).as_posix(), parse_html(p.read_text(encoding="utf-8"))) for p in sorted(site.rglob("*.html"))]


def test_no_script_handler_or_unsafe_url_in_any_page(crm_root):
    site, _ = _build(crm_root)
    pages = _all_pages(site)
    assert len(pages) >= 6
    for rel, doc in pages:
        for node in doc.iter():
            if node.tag == "script":
                # Only our own files, loaded by src, with no inline code.
                assert node.text().strip() == "", rel
                assert re.search(r"(static/app|^search-\d\d)\.js$", node.attrs["src"]), rel
            assert node.tag not in ("img", "iframe", "object", "embed", "b"), (rel, node.tag)
            for name, value in node.attrs.items():
                assert not name.startswith("on"), (rel, node.tag, name, value)
                if name in ("href", "src", "action", "formaction") and value and ":" in value.split("/")[0]:
                    assert value.lower().startswith(ALLOWED_SCHEMES), (rel, value)


def test_hostile_values_are_shown_literally(crm_root):
    site, doc = _build(crm_root)
    assert doc.find("h1").norm() == f"{SCRIPT} {{{{ 7*7 }}}}"
    assert doc.find(cls="profile-role").norm() == '{% raw %}raw{% endraw %} {{ config }} at "><img src=x onerror=alert(1)>'
    assert [a.norm() for a in doc.find(cls="profile").find_all("a", cls="tag")] == [
        "<b>bold</b>", "{{ 7*7 }}", '" onclick="alert(1)']  # fmt: skip
    details = {a.norm(): b for a, b in zip(doc.find("dl").find_all("dt"), doc.find("dl").find_all("dd"), strict=True)}
    assert details["secret_field"].norm() == "<script>alert(4)</script>"
    assert details["How we met"].norm() == "<iframe src=javascript:alert(1)></iframe>"
    for label in ("js", "js_upper", "js_tab", "js_space", "vb", "data"):
        assert details[label].find_all("a") == [], label
        assert details[label].find(cls="unsafe-link")
    assert details["ok"].find("a").attrs["href"] == 'https://example.com/?a=1&b="2"'

    item = doc.find("li", cls="tl-item")
    assert item.find(cls="tl-summary").norm() == "<script>alert(2)</script> {{ 7*7 }}"
    assert item.find(cls="tl-gained").norm() == "Gained: {% if true %}yes{% endif %} </pre><script>alert(3)</script>"
    # The draft quotes `gained` as written, inside the <pre>, not as markup.
    draft = doc.find("pre", cls="draft-text").text()
    assert "{% if true %}yes{% endif %} </pre><script>alert(3)</script>" in draft

    notes = doc.find(cls="notes")
    text = notes.text()
    assert notes.find("h1").norm() == "Notes {{ 7*7 }}"
    for raw in ("<script>alert(5)</script>", "<img src=x onerror=alert(6)>", '<a href="javascript:alert(7)">',
                "{% raw %}{{ 7*7 }}{% endraw %}", "[[<script>alert(15)</script>]]"):  # fmt: skip
        assert raw in text, raw
    assert "49" not in (site / "contacts" / "evil.html").read_text(encoding="utf-8")
    hrefs = [a.attrs.get("href") for a in notes.find_all("a")]
    assert hrefs == ["https://tracker.example/pixel.png", "https://example.org/page"]
    assert notes.find_all("img") == []


def test_dashboard_list_and_search_index_escape_too(crm_root):
    site, _ = _build(crm_root)
    dashboard = page(site, "index.html")
    names = [a.find("h3").norm() for a in dashboard.find_all("article")]
    assert f"{SCRIPT} {{{{ 7*7 }}}}" in names
    row = page(site, "contacts/index.html").find("li", cls="row", data_slug="evil")
    assert row.find(cls="row-name").norm() == f"{SCRIPT} {{{{ 7*7 }}}}"
    assert row.attrs["data-name"] == f"{SCRIPT} {{{{ 7*7 }}}}"
    friend = page(site, "contacts/friend.html").find(cls="notes").find("a")
    assert friend.norm() == f"{SCRIPT} {{{{ 7*7 }}}}" and friend.attrs["href"] == "evil.html"
    index = {}
    prefix, suffix = "window.TIPSCALE_SEARCH=Object.assign(window.TIPSCALE_SEARCH||{},", ");\n"
    for part in sorted((site / "contacts").glob("search-*.js")):
        script = part.read_text(encoding="utf-8")
        assert script.startswith(prefix) and script.endswith(suffix)
        index.update(json.loads(script[len(prefix) : -len(suffix)]))
    assert SCRIPT in index["evil"][0] and len(index) == len(list((site / "contacts").glob("*.html"))) - 1


def test_url_checks():
    for bad in ["javascript:alert(1)", "JAVASCRIPT:x", " java\tscript:x", "java\nscript:x", "vbscript:x",
                "data:text/html,x", "data:image/png;base64,x", "file:///etc/passwd", "\x01javascript:x",
                "//evil.example/x", "jav\u200bascript:x"]:  # fmt: skip
        assert safe_url(bad) is None, bad
        assert external_url(bad) is None, bad
    for good in ["https://example.com", "http://x.y/z?q=1", "mailto:a@b.c", "tel:+15550100"]:
        assert safe_url(good) == good and external_url(good) == good
    assert safe_url("#section") == "#section" and safe_url("page.html") == "page.html"
    assert external_url("page.html") is None


@given(st.text(alphabet="aZ09_.~/-%?#é中 :@+&='\"<>", max_size=20))
@settings(max_examples=500)
def test_url_path_percent_encodes_exactly_as_quote(path: str) -> None:
    """url_path returns plain slugs as they are, without calling quote: the same answer."""
    from urllib.parse import quote

    assert url_path(path) == quote(path, safe="/")
