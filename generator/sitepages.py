"""The pages of one contact (its page, or the page of a file with errors), its list row and
its follow-up cards."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from markupsafe import Markup

from . import sitejobs
from .checked import PLAIN_ADDRESS
from .dates import relative_days
from .drafts import MISSING_GAINED_FLAG, Draft, DraftError
from .followup_pages import KIND_LABEL, Listing, card_id
from .followups import describe
from .gitlog import Commit
from .links import resolve_link
from .model import Contact, FollowUp, Problem
from .pages import Page
from .pages import digest as _hash
from .render import Renderer, external_url, url_path
from .sitemodel import Model, slugify
from .sitestate import BuilderState, bytes_token


def plain_address(email: str) -> str:
    """One plain address, percent-encoded for a URL; "" for anything else (it would add
    recipients or headers to a mailto: link)."""
    return quote(email, safe="@+.") if PLAIN_ADDRESS.fullmatch(email) else ""

def email_href(email: str) -> str:
    address = plain_address(email)
    return "mailto:" + address if address else ""

def mailto(emails: tuple[str, ...], draft: Draft) -> str:
    """`mailto:` with subject and body filled in (RFC 6068: UTF-8, percent-encoded, CRLF), to the
    first plain address."""
    to = next(filter(None, map(plain_address, emails)), "")
    body = draft.body.rstrip("\n").replace("\r\n", "\n").replace("\n", "\r\n")
    return f"mailto:{to}?subject={quote(draft.subject, safe='')}&body={quote(body, safe='')}"


class ContactPages(BuilderState):
    """Plans one contact's page and renders its list row and follow-up cards, remembering
    what it derived while the contact's file is unchanged."""

    def _listing(self, model: Model) -> Listing:
        """The model's follow-ups by section (made once a build, from every follow-up sorted)."""
        if self._listing_of is None or self._listing_of[0] is not model:
            self._listing_of = (model, Listing.of(model.all_followups))
        return self._listing_of[1]

    def _followup_view(self, model: Model, item: FollowUp, prefix: str, draft: bool = True) -> dict[str, Any]:
        """A follow-up card's context; `draft=False`: without its note."""
        contact = model.contacts[item.contact]
        assert self.drafts is not None
        note: Draft | None = None
        error = ""
        try:
            note = self.drafts.draft(contact, item, model.loaded.settings, model.today) if draft else None
        except DraftError as exc:
            error = str(exc)
            file = str(exc).split(":", 1)[0].replace("(built-in) ", "")
            self._draft_errors.setdefault(error, Problem(file, 1, 1, "error", "", str(exc)))
        return {
            "id": card_id(item),
            "kind": item.kind,
            "kind_label": KIND_LABEL[item.kind],
            "status": item.status,
            "due": item.due.isoformat(),
            "when": relative_days(item.days),
            "about": describe(item, detailed=True),
            "missing_gained": item.note_missing_gained,
            "missing_flag": MISSING_GAINED_FLAG,
            "draft": note.text.rstrip("\n") if note is not None else "",
            "mailto": mailto(contact.emails, note) if note is not None else "",
            "draft_error": error,
            "name": contact.name,
            "href": prefix + "contacts/" + url_path(contact.slug) + ".html",
            "email": contact.email,
        }

    def _row(self, model: Model, renderer: Renderer, slug: str, key: str, kept: bool = True) -> str:
        """The contact's list row, kept under `key`; `kept=False`: a row just changed, so not
        worth reading the rows kept by an earlier run (tens of MB) to look for it."""
        html = self._rows.get(self.writer, key, read=kept)
        if html is None:
            contact = model.contacts[slug]
            last = contact.last_interaction
            html = renderer.page(
                "_row.html.j2",
                {
                    "contact": contact,
                    "href": "../contacts/" + url_path(slug) + ".html",
                    "company_href": (
                        "../companies/" + url_path(slugify(contact.company)) + ".html"
                        if contact.company
                        else ""
                    ),
                    "tags": [(tag, "../tags/" + url_path(slugify(tag)) + ".html") for tag in contact.tags],
                    "tag_keys": "|".join(slugify(t) for t in contact.tags),
                    "company_key": slugify(contact.company) if contact.company else "",
                    "last": last.date.isoformat() if last is not None else "",
                },
            )
            self._rows.put(self.writer, key, html)
        return html

    def _row_key(self, base: str, slug: str, stamp: str) -> str:
        memo = self._row_memo.get(slug)
        if memo is None or memo[0] != (base, stamp):
            memo = self._row_memo[slug] = ((base, stamp), _hash(base, "row", stamp))
        return memo[1]

    def _row_token(self, model: Model, renderer: Renderer, slug: str, key: str, kept: bool = True) -> str:
        """A list row named by its bytes: an edit to the notes leaves the list pages as they are."""
        return bytes_token(self._row(model, renderer, slug, key, kept))

    def _contact_page(self, model: Model, renderer: Renderer, slug: str, base: str) -> Page:
        contact = model.contacts[slug]
        items = model.followups.get(slug, [])
        history = model.histories.get(contact.path, [])
        problems = model.file_problems.get(contact.path, [])

        def backlinks() -> list[tuple[str, str, str]]:
            return [(b, model.profiles[b][0], kind) for b, kind in model.backlinks.get(slug, [])]

        # Everything the page shows comes from these; names of other contacts through
        # `names_signature`. Equal fingerprints mean an equal digest, without hashing again.
        fingerprint = (
            base, model.stamps[slug], model.names_signature, model.today if items else None,
            tuple(model.backlinks.get(slug, ())), history[0].sha if history else None, len(history),
            tuple(problems), self.head is not None,
        )  # fmt: skip
        memo = self._page_memo.get(slug)
        digest: str | Callable[[], str]
        if memo is not None and memo[0] == fingerprint:
            digest = memo[1]
        else:
            # Hashed when first asked: a cold build asks while the workers render (_make_pages).
            def digest() -> str:
                resolved = [
                    (target, found, model.profiles[found][0] if found else None)
                    for target, found in model.resolved.get(slug, [])
                ]
                made = _hash(
                    base,
                    "contact",
                    model.stamps[slug],
                    resolved,
                    backlinks(),
                    [(f.uid_key, f.kind, f.due, f.status, f.days) for f in items],
                    model.today if items else None,
                    [c.sha for c in history],
                    problems,
                    self.head is not None or bool(model.histories),  # "not committed yet" vs "not in git"
                )
                self._page_memo[slug] = (fingerprint, made)
                return made

        def make() -> bytes:
            return self._render_contact(model, renderer, contact, items, history, backlinks()).encode("utf-8")

        return Page(f"contacts/{slug}.html", digest, make)

    def _render_contact(
        self,
        model: Model,
        renderer: Renderer,
        contact: Contact,
        items: list[FollowUp],
        history: list[Commit],
        backlinks: list[tuple[str, str, str]],
    ) -> str:
        latest_missed = max((f for f in items if f.status == "missed"), key=lambda f: f.due, default=None)

        def resolver(target: str) -> tuple[str, str] | None:
            found = resolve_link(target, model.slugs, model.names)
            if found is None:
                return None
            return (url_path(found) + ".html", model.profiles[found][0])

        notes = renderer.markdown(contact.body, resolver) if contact.body.strip() else Markup("")
        timeline = []
        for interaction in contact.interactions_by_date():
            people = []
            for other in interaction.with_:
                if other in model.profiles:
                    people.append((model.profiles[other][0], url_path(other) + ".html"))
                else:
                    people.append((other, ""))
            if interaction.skip:
                followed = "No follow-up needed"
            elif interaction.followed_up is not None:
                followed = f"Followed up {interaction.followed_up.isoformat()}"
            elif model.loaded.settings.rule(interaction.type).thank_you is not None:
                followed = "Thank-you pending"
            else:
                followed = ""
            timeline.append(
                {
                    "date": interaction.date.isoformat(),
                    "time": interaction.time or "",
                    "type": interaction.type,
                    "type_label": interaction.type.replace("-", " ").capitalize(),
                    "summary": interaction.summary,
                    "gained": interaction.gained,
                    "with": people,
                    "followed": followed,
                }
            )
        context = {
            "base": "../",
            "page_title": contact.name,
            "nav": "contacts",
            "contact": contact,
            "emails": [(email, email_href(email)) for email in contact.emails],
            "company_href": "../companies/" + url_path(slugify(contact.company)) + ".html"
            if contact.company
            else "",
            "tags": [(tag, "../tags/" + url_path(slugify(tag)) + ".html") for tag in contact.tags],
            "links": [(label, url, external_url(url)) for label, url in contact.links],
            "keep_in_touch": contact.keep_in_touch.describe() if contact.keep_in_touch else "",
            "notes": notes,
            "timeline": timeline,
            # One reconnect note covers all a contact's missed notes: drafted on the latest.
            "followups": [
                self._followup_view(model, f, "../", draft=f.status != "missed" or f is latest_missed) for f in items
            ],
            "reminders_done": [r for r in contact.reminders if r.done],
            "applications": sitejobs.involvement(
                contact.slug, model.loaded.involving.get(contact.slug, ()), model.loaded.settings
            ),
            "backlinks": [
                {
                    "name": name,
                    "href": url_path(b) + ".html",
                    "via": "met together" if kind == "with" else "mentioned",
                }
                for b, name, kind in backlinks
            ],
            "history": [
                {
                    "date": c.when.date().isoformat(),
                    "author": c.author,
                    "message": c.message,
                    "sha": c.sha[:7],
                }
                for c in history
            ],
            "in_git": len(model.histories) > 0 or self.head is not None,
            "warnings": [
                p.format() for p in model.file_problems.get(contact.path, []) if p.severity == "warning"
            ],
        }
        return renderer.page("contact.html.j2", context)

    def _invalid_page(self, renderer: Renderer, slug: str, problems: list[Problem], base: str) -> Page:
        files = sorted({p.file for p in problems})
        digest = _hash(base, "invalid", slug, problems)

        def make() -> bytes:
            context = {
                "base": "../",
                "page_title": f"{slug} (has errors)",
                "nav": "contacts",
                "slug": slug,
                "files": files,
                "problems": [
                    {"where": f"{p.file}:{p.line}:{p.column}", "severity": p.severity, "field": p.field,
                     "message": p.message, "text": p.format()}
                    for p in problems
                ],
            }  # fmt: skip
            return renderer.page("invalid.html.j2", context).encode("utf-8")

        return Page(f"contacts/{slug}.html", digest, make)
