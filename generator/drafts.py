"""Note drafts for thank-you and check-in follow-ups (SPEC §5).

Templates are `templates/notes/<note>.md.j2`: the CRM root's own `templates/` overrides the
built-in ones file by file. The first line of a rendered note is `Subject: …`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from .dates import spoken_date
from .model import AppNote, Contact, FollowUp, Settings
from .paths import builtin_templates

PLACEHOLDER = "[what you specifically gained]"
MISSING_GAINED_FLAG = "add what you gained to make it personal"
CHECK_IN_NOTE = "check-in"
RECONNECT_NOTE = "reconnect"  # for a thank-you or check-in gone past its late_after


class DraftError(Exception):
    """A note template failed; the message names the template file and line."""


@dataclass(frozen=True)
class Draft:
    subject: str
    body: str

    @property
    def text(self) -> str:
        return f"Subject: {self.subject}\n\n{self.body}"


def _lower_first(text: str) -> str:
    """`Coffee about the team` → `coffee about the team` (but keep `API`, `Acme`'s capitals)."""
    if len(text) > 1 and text[0].isupper() and not text[1].isupper():
        return text[0].lower() + text[1:]
    return text


class NoteRenderer:
    """Renders note drafts; one per CRM root (the Jinja environment caches compiled templates)."""

    def __init__(self, root: Path | None) -> None:
        import jinja2  # only commands that render notes pay for it

        from .render import KeptEnvironment

        self.user_dir = root / "templates" / "notes" if root is not None else None
        self.builtin_dir = builtin_templates() / "notes"
        search = [str(d) for d in (self.user_dir, self.builtin_dir) if d is not None and d.is_dir()]
        self.env = KeptEnvironment(
            loader=jinja2.FileSystemLoader(search),
            autoescape=False,  # plain text; the site escapes drafts when it shows them
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=False,
            trim_blocks=False,
            auto_reload=False,  # no stat a draft: a builder that lives on makes a new renderer (site.py)
        )
        self.env.filters["lower_first"] = _lower_first

    def template_path(self, note: str) -> str:
        name = f"{note}.md.j2"
        if self.user_dir is not None and (self.user_dir / name).is_file():
            return f"templates/notes/{name}"
        return f"(built-in) templates/notes/{name}"

    def sources_digest(self) -> str:
        """Changes whenever a note template (built-in or the user's) changes, or any file a note
        template may include from its folder (sub-folders too)."""
        import hashlib

        digest = hashlib.sha256()
        for mark, folder in ((b"user", self.user_dir), (b"built-in", self.builtin_dir)):
            if folder is not None and folder.is_dir():
                digest.update(b"\1" + mark + b"\0")
                for path in sorted(folder.rglob("*")):
                    if path.is_file():
                        name = path.relative_to(folder).as_posix().encode("utf-8", "surrogateescape")
                        digest.update(name + b"\0" + path.read_bytes() + b"\0")
        return digest.hexdigest()

    def draft(self, contact: Contact, followup: FollowUp, settings: Settings, today: dt.date) -> Draft | None:
        """The draft of a thank-you or check-in (a reconnect note once it is missed); None for
        other kinds."""
        if followup.application is not None:
            return self._application_draft(contact, followup, followup.application, settings, today)
        interaction = followup.interaction
        if interaction is None or followup.kind not in ("thank-you", "check-in"):
            return None
        if followup.status == "missed":
            note = RECONNECT_NOTE
        elif followup.kind == "check-in":
            note = CHECK_IN_NOTE
        else:
            note = settings.rule(interaction.type).note or "networking"
        me = settings.me
        context = {
            "contact": contact,
            "first_name": contact.name.split()[0] if contact.name.split() else contact.name,
            "interaction": interaction,
            "when": spoken_date(interaction.date, today),
            "date": interaction.date,
            "sent_when": spoken_date(interaction.followed_up, today) if interaction.followed_up else "",
            "gained": interaction.gained or PLACEHOLDER,
            "me": me,
            "signature": me.signature or me.name or "[your name]",
            "today": today,
            "kind": followup.kind,
        }
        return self._render(note, context, f"type '{interaction.type}'", "or change the type's note: in crm.yaml")

    def _application_draft(
        self, contact: Contact, followup: FollowUp, app: AppNote, settings: Settings, today: dt.date
    ) -> Draft:
        if followup.status == "missed":
            note = RECONNECT_NOTE
        elif followup.kind == "thank-you":
            note = "referral-thanks" if app.to == "referrer" else "application-thank-you"
        else:
            note = {"update": "referral-update", "status-check": "status-check", "closing": "closing"}[followup.kind]
        me = settings.me
        stage = {"stage": app.stage, "date": app.stage_date, "note": app.stage_note}
        context = {
            "contact": contact,
            "first_name": contact.name.split()[0] if contact.name.split() else contact.name,
            "application": app,
            "stage": stage,
            "stage_name": app.stage.replace("-", " "),
            "outcome": app.stage,
            "to": app.to,
            "when": spoken_date(app.stage_date, today),
            "date": app.stage_date,
            # what the reconnect note reads: the occasion, and what there is to say of it
            "interaction": {"type": app.stage, "date": app.stage_date, "summary": f"{app.role} at {app.company}"},
            "gained": PLACEHOLDER,
            "sent_when": "",
            "me": me,
            "signature": me.signature or me.name or "[your name]",
            "today": today,
            "kind": followup.kind,
        }
        return self._render(note, context, f"the {app.stage} of {app.slug}", "")

    def _render(self, note: str, context: dict[str, object], what: str, fix: str) -> Draft:
        import jinja2

        name = f"{note}.md.j2"
        try:
            template = self.env.get_template(name)
            if type(template.globals) is not dict:  # a ChainMap, copied key by key each render
                template.globals = dict(template.globals)  # (this environment's never change)
            text = template.render(context)
        except jinja2.TemplateNotFound:
            raise DraftError(f"no note template '{name}' (for {what}): add templates/notes/{name} {fix}".rstrip()) from None
        except jinja2.TemplateSyntaxError as exc:
            raise DraftError(
                f"{self.template_path(note)}:{exc.lineno}: template error: {exc.message}"
            ) from None
        except jinja2.TemplateError as exc:
            raise DraftError(
                f"{self.template_path(note)}:{_error_line(exc)}: template error: {exc}"
            ) from None
        return parse_draft(text)


def _error_line(exc: BaseException) -> int:
    """The template line of a render-time error, found in the traceback."""
    tb = exc.__traceback__
    line = 1
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.endswith(".j2"):
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def parse_draft(text: str) -> Draft:
    text = text.strip("\n")
    first, _, rest = text.partition("\n")
    if first.lower().startswith("subject:"):
        return Draft(first[len("subject:") :].strip(), rest.strip("\n") + "\n")
    return Draft("", text + "\n")
