"""An `email:` value can never become more than one recipient or add headers to a link: an address
that is not plain (`?bcc=…`, `a@x,b@y`, `Name <a@x>`) is warned about, shown as text and never
linked; the draft's link goes to the first plain address."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from click.testing import Result

HOSTILE = """\
---
name: Vic Tim
email:
  - "victim@example.com?bcc=attacker@evil.example&body=PWNED"
  - a@x.com,b@y.com
  - Vic <vic@example.com>
  - vic.tim+work@example.com
interactions:
  - date: 2026-11-24
    type: interview
    summary: Screen
---
"""


def test_only_plain_addresses_are_linked(crm_root: Callable[..., Path], cli: Callable[..., Result]) -> None:
    root = crm_root({"contacts/vic.md": HOSTILE})
    env = {"CRM_TODAY": "2026-11-25"}
    check = json.loads(cli(root, "check", "--format", "json", env=env).stdout)
    warned = sorted(p["field"] for p in check["problems"] if "does not look like one email address" in p["message"])
    assert warned == ["email[0]", "email[1]", "email[2]"]
    assert cli(root, "build", env=env).exit_code == 0
    page = (root / "site" / "contacts" / "vic.html").read_text(encoding="utf-8")
    hrefs = re.findall(r'href="(mailto:[^"]*)"', page)
    assert hrefs and all(h.startswith("mailto:vic.tim+work@example.com") for h in hrefs), hrefs
    assert "bcc" not in "".join(hrefs).lower() and "b@y.com" not in "".join(hrefs)
    assert "<dd>victim@example.com?bcc=attacker@evil.example&amp;body=PWNED</dd>" in page  # shown, as text
    dashboard = (root / "site" / "index.html").read_text(encoding="utf-8")
    assert 'href="mailto:vic.tim+work@example.com?subject=' in dashboard
