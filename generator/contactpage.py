"""The contact page and the dashboard's follow-up cards, written in Python: the same bytes as
the built-in `contact.html.j2` (with `base.html.j2`) and `_followup.html.j2` render from the
same context, about twice as fast. A cold build renders ten thousand pages and thousands of
cards, and most of Jinja's time there goes to passing every piece of text up through three
generators.

Used only while those three templates are the built-in ones, unchanged: a user's override of
any of them, or an edit to the built-in files that this module was not updated for
(`SOURCES_DIGEST`), sends contact pages and cards back to Jinja. tests/test_contactpage.py
renders generated contacts and edge cases both ways and compares the bytes, and fails when the
templates changed without this module.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .render import output_escape as _e  # what Jinja's autoescaping writes for `{{ value }}`

TEMPLATES = ("base.html.j2", "contact.html.j2", "_followup.html.j2")
# sha256 of the three built-in templates' bytes, each followed by a NUL, in TEMPLATES' order.
SOURCES_DIGEST = "55bb082d47fdfa8eade500cad296e5c05d59f6e3bbbaba9785e244f60f0e68e6"

def sources_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for name in TEMPLATES:
        digest.update((folder / name).read_bytes() + b"\0")
    return digest.hexdigest()


def usable(effective: Iterable[tuple[str, Path]], builtin: Path) -> bool:
    """May contact pages be written here? `effective` lists each page template in effect (the
    user's override wins, see `Renderer.sources`); `builtin` is the built-in templates' folder."""
    found = dict(effective)
    if any(found.get(name) != builtin / name for name in TEMPLATES):
        return False
    try:
        return sources_digest(builtin) == SOURCES_DIGEST
    except OSError:
        return False


def followup(f: dict[str, Any], show_name: bool, open: bool) -> str:  # noqa: A002 - the template's name
    """`_followup.html.j2`."""
    fid = _e(f["id"])
    status = _e(f["status"])
    out = [
        f'<article class="fu fu-{status}" id="{fid}" aria-labelledby="{fid}-title">\n  <div class="fu-head">\n'
        f'    <span class="badge kind-{_e(f["kind"])}">{_e(f["kind_label"])}</span>\n'
    ]
    if show_name:
        out.append(f'    <h3 class="fu-title" id="{fid}-title"><a href="{_e(f["href"])}">{_e(f["name"])}</a></h3>\n')
    else:
        out.append(f'    <h3 class="fu-title" id="{fid}-title">{_e(f["about"])}</h3>\n')
    due = _e(f["due"])
    out.append(
        f'    <span class="fu-when status-{status}"><time datetime="{due}">{due}</time> · {_e(f["when"])}</span>\n  </div>\n'
    )
    if show_name:
        out.append(f'<p class="fu-about">{_e(f["about"])}</p>')
    if f["missing_gained"]:
        out.append(
            '  <p class="flag"><svg viewBox="0 0 16 16" width="14" height="14" aria-hidden="true" focusable="false">'
            '<path d="M8 1.5l7 12.5H1z" fill="none" stroke="currentColor" stroke-width="1.6" stroke-linejoin="round"/>'
            '<path d="M8 6v3.6M8 11.6v.2" stroke="currentColor" stroke-width="1.6" stroke-linecap="round"/></svg>'
            f"{_e(str(f['missing_flag']).capitalize())}: set <code>gained:</code> on the interaction.</p>\n"
        )
    if f["draft"]:
        out.append(
            f'  <details class="draft"{" open" if open else ""}>\n    <summary>Draft note</summary>\n'
            f'    <pre class="draft-text" id="{fid}-draft">{_e(f["draft"])}</pre>\n  </details>\n'
            f'  <div class="actions">\n    <button type="button" class="btn btn-primary copy" data-copy="{fid}-draft" '
            f'hidden>Copy draft</button>\n    <a class="btn" href="{_e(f["mailto"])}">Write email'
        )
        if f["email"]:
            out.append(f'<span class="sr-only"> to {_e(f["name"])}</span>')
        out.append("</a>\n  </div>\n")
    elif f["draft_error"]:
        out.append(f'  <p class="flag flag-error">Draft unavailable: {_e(f["draft_error"])}</p>\n')
    out.append("</article>\n")
    return "".join(out)


_CURRENT = ' aria-current="page"'


def page(base: str, page_title: Any, nav: Any, content: str) -> str:
    """`base.html.j2` around `content`."""
    b = _e(base)
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta name="color-scheme" content="light dark">\n<title>{_e(page_title)} · Tipscale</title>\n'
        f'<link rel="icon" href="{b}static/icon.svg" type="image/svg+xml">\n'
        f'<link rel="stylesheet" href="{b}static/style.css">\n<script src="{b}static/app.js" defer></script>\n'
        f'</head>\n<body class="page-{_e(nav)}">\n<a class="skip" href="#main">Skip to content</a>\n'
        f'<header class="top">\n  <div class="wrap top-inner">\n    <a class="brand" href="{b}index.html">'
        '<svg class="logo" viewBox="0 0 24 24" width="22" height="22" aria-hidden="true" focusable="false">'
        '<rect x="2" y="2" width="20" height="20" rx="6" fill="currentColor"/><path d="M7 12.5l3.2 3.2L17 9" '
        'fill="none" stroke="#fff" stroke-width="2.4" stroke-linecap="round" stroke-linejoin="round"/></svg>'
        '<span>Tipscale</span></a>\n    <nav class="mainnav" aria-label="Main">\n'
        f'      <a href="{b}index.html"{_CURRENT if nav == "dashboard" else ""}>Follow-ups</a>\n'
        f'      <a href="{b}contacts/index.html"{_CURRENT if nav == "contacts" else ""}>Contacts</a>\n'
        f'      <a href="{b}followups.ics" class="nav-feed" title="Subscribe to your follow-ups in a calendar app">'
        'Calendar</a>\n    </nav>\n  </div>\n</header>\n<main id="main" class="wrap">\n'
        f"{content}</main>\n<footer class=\"foot\">\n  <div class=\"wrap\">Tipscale · your contacts are plain "
        "Markdown files in <code>contacts/</code>; this site is rebuilt from them.</div>\n</footer>\n</body>\n</html>\n"
    )


def _count(items: list[Any]) -> str:
    """A section heading's count (`{% if items %}<span class="count">{{ items|length }}</span>`)."""
    return f'<span class="count">{len(items)}</span>' if items else ""


def contact_page(ctx: dict[str, Any]) -> str:
    """`contact.html.j2` rendered with the context `SiteBuilder._render_contact` makes."""
    contact = ctx["contact"]
    name = _e(contact.name)
    out = [
        '<nav class="crumbs" aria-label="Breadcrumb"><a href="index.html">Contacts</a> <span aria-hidden="true">/</span> ',
        name,
        '</nav>\n\n<header class="profile">\n  <div class="avatar" aria-hidden="true">',
    ]
    out.extend(_e(word[0].upper()) for word in contact.name.split()[:2])
    out.append(f"</div>\n  <div class=\"profile-text\">\n    <h1>{name}</h1>\n")
    title, company = contact.title, contact.company
    if title or company:
        out.append(f'    <p class="profile-role">{_e(title)}')
        if title and company:
            out.append(" at ")
        if company:
            out.append(f'<a href="{_e(ctx["company_href"])}">{_e(company)}</a>')
        out.append("</p>\n")
    if contact.location:
        out.append(f'<p class="muted">{_e(contact.location)}</p>')
    tags = ctx["tags"]
    if tags:
        out.append('<p class="chips">')
        out.extend(f'<a class="tag" href="{_e(href)}">{_e(tag)}</a>' for tag, href in tags)
        out.append("</p>")
    out.append("  </div>\n</header>\n\n")
    warnings = ctx["warnings"]
    if warnings:
        out.append(f'<div class="banner banner-warn">\n  <p><strong>Warnings in <code>{_e(contact.path)}</code></strong></p>\n  <ul>')
        out.extend(f"<li><code>{_e(w)}</code></li>" for w in warnings)
        out.append("</ul>\n</div>\n")
    out.append(
        '\n<div class="contact-grid">\n<div class="contact-main">\n  <section class="section" aria-labelledby="followups-h">\n'
        '    <h2 id="followups-h">Pending follow-ups '
    )
    followups = ctx["followups"]
    out.append(f"{_count(followups)}</h2>\n")
    if followups:
        out.append('    <div class="fu-list">\n')
        out.extend(followup(f, False, True) for f in followups)
        out.append("    </div>\n")
    else:
        out.append(f'    <p class="empty">Nothing pending with {name}.</p>\n')
    out.append('  </section>\n\n  <section class="section" aria-labelledby="notes-h">\n    <h2 id="notes-h">Notes</h2>\n')
    notes = ctx["notes"]
    if notes:
        out.append(f'    <div class="notes">{_e(notes)}</div>\n')
    else:
        out.append(
            f'    <p class="empty">No notes yet. Write them below the front matter in <code>{_e(contact.path)}</code>.</p>\n'
        )
    out.append('  </section>\n\n  <section class="section" aria-labelledby="timeline-h">\n    <h2 id="timeline-h">Interactions ')
    timeline = ctx["timeline"]
    out.append(f"{_count(timeline)}</h2>\n")
    if timeline:
        out.append('    <ol class="timeline">\n')
        for t in timeline:
            date = _e(t["date"])
            out.append(f'      <li class="tl-item">\n        <p class="tl-head"><time datetime="{date}">{date}')
            if t["time"]:
                out.append(f" {_e(t['time'])}")
            out.append(f'</time> <span class="badge type-badge">{_e(t["type_label"])}</span>')
            if t["followed"]:
                out.append(f' <span class="tl-status">{_e(t["followed"])}</span>')
            out.append("</p>\n")
            if t["summary"]:
                out.append(f'<p class="tl-summary">{_e(t["summary"])}</p>')
            if t["gained"]:
                out.append(f'<p class="tl-gained"><span class="muted">Gained:</span> {_e(t["gained"])}</p>')
            people = t["with"]
            if people:
                out.append(
                    '<p class="tl-with"><span class="muted">With:</span> '
                    + ", ".join(f'<a href="{_e(href)}">{_e(who)}</a>' if href else _e(who) for who, href in people)
                    + "</p>"
                )
            out.append("      </li>\n")
        out.append("    </ol>\n")
    else:
        out.append(
            f'    <p class="empty">No interactions yet. Log one with <code>crm log {_e(contact.slug)} --type coffee</code>.</p>\n'
        )
    out.append(
        '  </section>\n</div>\n\n<aside class="contact-side" aria-label="Details">\n'
        '  <section class="card" aria-labelledby="details-h">\n    <h2 id="details-h">Details</h2>\n    <dl class="details">\n'
    )
    for email in contact.emails:
        address = _e(email)
        out.append(f'<dt>Email</dt><dd><a href="mailto:{address}">{address}</a></dd>')
    for phone in contact.phones:
        out.append(f'<dt>Phone</dt><dd><a href="tel:{_e(str(phone).replace(" ", ""))}">{_e(phone)}</a></dd>')
    for label, url, href in ctx["links"]:
        if href:
            out.append(f'<dt>{_e(label)}</dt><dd><a href="{_e(href)}" rel="noopener noreferrer">{_e(url)}</a></dd>')
        else:
            out.append(f'<dt>{_e(label)}</dt><dd><span class="unsafe-link">{_e(url)}</span></dd>')
    if contact.how_we_met:
        out.append(f"<dt>How we met</dt><dd>{_e(contact.how_we_met)}</dd>")
    if ctx["keep_in_touch"]:
        out.append(f"<dt>Keep in touch</dt><dd>{_e(ctx['keep_in_touch'])}</dd>")
    for r in ctx["reminders_done"]:
        day = _e(r.date.isoformat())
        out.append(f'<dt>Reminder done</dt><dd><time datetime="{day}">{day}</time> {_e(r.note)}</dd>')
    out.extend(f'<dt>{_e(key)}</dt><dd class="extra">{_e(value)}</dd>' for key, value in contact.extra)
    out.append(f"      <dt>File</dt><dd><code>{_e(contact.path)}</code></dd>\n    </dl>\n  </section>\n\n")
    backlinks = ctx["backlinks"]
    if backlinks:
        out.append(
            '  <section class="card" aria-labelledby="backlinks-h">\n    <h2 id="backlinks-h">Linked from</h2>\n'
            '    <ul class="plain">\n'
        )
        out.extend(
            f'<li><a href="{_e(b["href"])}">{_e(b["name"])}</a> <span class="muted">{_e(b["via"])}</span></li>'
            for b in backlinks
        )
        out.append("    </ul>\n  </section>\n")
    out.append('\n  <section class="card history" aria-labelledby="history-h">\n    <h2 id="history-h">History</h2>\n')
    history = ctx["history"]
    if history:
        out.append('    <ol class="plain">\n')
        for c in history:
            day = _e(c["date"])
            out.append(
                f'<li><time datetime="{day}">{day}</time> <span class="muted">{_e(c["author"])}</span> '
                f'<span class="hist-msg">{_e(c["message"])} <code class="sha">{_e(c["sha"])}</code></span></li>'
            )
        out.append("    </ol>\n")
    elif ctx["in_git"]:
        out.append('    <p class="muted">Not committed yet.</p>\n')
    else:
        out.append('    <p class="muted">Not in a git repository.</p>\n')
    out.append("  </section>\n</aside>\n</div>\n")
    return page(ctx["base"], ctx["page_title"], ctx["nav"], "".join(out))
