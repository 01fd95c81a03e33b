"""`crm.yaml` + defaults → a frozen `Settings` and the problems found in it (SPEC §3)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from . import yamlnodes
from .dates import MAX_PERIOD_DAYS
from .frontmatter import FrontMatterError, decode
from .model import Me, Problem, Settings, TypeRule

FILE_NAME = "crm.yaml"

# Career-office practice: thank an interviewer within 24 hours, a networking or informational
# contact within 48, a referrer at once; check in a week after an unanswered interview note.
DEFAULT_TYPES: tuple[tuple[str, TypeRule], ...] = (
    ("interview", TypeRule(thank_you=1, check_in=7, note="interview")),
    ("informational-interview", TypeRule(thank_you=2, note="informational-interview")),
    ("networking", TypeRule(thank_you=2, note="networking")),
    ("referral", TypeRule(thank_you=1, note="referral")),
    ("coffee", TypeRule(thank_you=2, note="networking")),
    ("call", TypeRule()),
    ("email", TypeRule()),
    ("meeting", TypeRule()),
    ("event", TypeRule()),
    ("other", TypeRule()),
)

KNOWN_KEYS = ("me", "upcoming_days", "today", "types", "dashboard", "applications")
RULE_KEYS = ("thank_you", "check_in", "note", "late_after")
ME_KEYS = ("name", "email", "signature")
DASHBOARD_KEYS = ("per_section",)
APPLICATION_KEYS = ("stages", "interviews", "outcomes", "status_check_days")
# Cards per dashboard section: each holds a draft, so the dashboard stays well under 1 MB.
PER_SECTION_DEFAULT, PER_SECTION_MAX = 20, 50


DAYS_RANGE = f"0 to {MAX_PERIOD_DAYS:,}"


def default_settings() -> Settings:
    return Settings(types=DEFAULT_TYPES)


def load_settings(root: Path) -> tuple[Settings, list[Problem]]:
    path = root / FILE_NAME
    if not path.is_file():
        return default_settings(), []
    try:
        return parse_settings(decode(path.read_bytes()), FILE_NAME)
    except FrontMatterError as exc:
        if "empty" in exc.message:
            return default_settings(), []
        return default_settings(), [Problem(FILE_NAME, exc.line, 1, "error", "", exc.message)]
    except OSError as exc:
        return default_settings(), [Problem(FILE_NAME, 1, 1, "error", "", f"cannot read: {exc.strerror}")]


def parse_settings(text: str, file: str = FILE_NAME) -> tuple[Settings, list[Problem]]:
    """Pure: the text of crm.yaml → settings (defaults where invalid) and problems."""
    problems: list[Problem] = []
    try:
        data, info, duplicates = yamlnodes.load(text)
    except yamlnodes.YamlError as exc:
        return default_settings(), [Problem(file, exc.line + 1, exc.column + 1, "error", "", exc.message)]

    def at(path: tuple[str | int, ...]) -> tuple[int, int]:
        node = info.get(path)
        return (node.start_mark.line + 1, node.start_mark.column + 1) if node else (1, 1)

    def error(path: tuple[str | int, ...], message: str, severity: str = "error") -> None:
        line, column = at(path)
        field = ".".join(str(p) for p in path)
        problems.append(Problem(file, line, column, severity, field, message))  # type: ignore[arg-type]

    for path, message in duplicates:
        error(path, message, "warning")
    if data is None:
        return default_settings(), problems
    if not isinstance(data, dict):
        error((), f"expected a mapping of settings, found {yamlnodes.type_name(data)}")
        return default_settings(), problems

    for key in data:
        if key not in KNOWN_KEYS:
            error((key, "<key>"), f"unknown setting (known: {', '.join(KNOWN_KEYS)})", "warning")

    me = Me()
    raw_me = data.get("me")
    if raw_me is not None:
        if not isinstance(raw_me, dict):
            error(
                ("me",),
                f"expected a mapping with name, email, signature, found {yamlnodes.type_name(raw_me)}",
            )
        else:
            values: dict[str, str] = {}
            for key, value in raw_me.items():
                if key not in ME_KEYS:
                    error(("me", key, "<key>"), f"unknown key (known: {', '.join(ME_KEYS)})", "warning")
                elif not isinstance(value, str):
                    error(("me", key), f"expected text, found {yamlnodes.type_name(value)}; put it in quotes")
                else:
                    values[key] = value
            me = Me(**values)

    upcoming = 7
    raw_upcoming = data.get("upcoming_days", 7)
    if isinstance(raw_upcoming, bool) or not isinstance(raw_upcoming, int) or not 0 <= raw_upcoming <= MAX_PERIOD_DAYS:
        error(("upcoming_days",), f"expected a whole number of days ({DAYS_RANGE}), found {_show(raw_upcoming)}")
    else:
        upcoming = raw_upcoming

    today: dt.date | None = None
    raw_today = data.get("today")
    if raw_today is not None:
        if isinstance(raw_today, dt.date) and not isinstance(raw_today, dt.datetime):
            today = raw_today
        else:
            error(("today",), f"{_show(raw_today)} is not a date (expected YYYY-MM-DD)")

    types = dict(DEFAULT_TYPES)
    raw_types = data.get("types")
    if raw_types is not None:
        if not isinstance(raw_types, dict):
            error(
                ("types",),
                f"expected a mapping of type name to rules, found {yamlnodes.type_name(raw_types)}",
            )
        else:
            for name, raw_rule in raw_types.items():
                rule = _parse_rule(name, raw_rule, error)
                if rule is not None:
                    types[name] = rule
    per_section = _parse_dashboard(data.get("dashboard"), error)
    settings = Settings(
        me=me, upcoming_days=upcoming, today=today, types=tuple(types.items()), dashboard_per_section=per_section,
        **_parse_applications(data.get("applications"), error),
    )
    return settings, problems


def _parse_dashboard(raw: Any, error: Any) -> int:
    """`dashboard: {per_section: N}`: the cards shown per dashboard section (the rest are on the
    full follow-up lists)."""
    if raw is None:
        return PER_SECTION_DEFAULT
    if not isinstance(raw, dict):
        error(("dashboard",), f"expected a mapping like {{per_section: 20}}, found {_show(raw)}")
        return PER_SECTION_DEFAULT
    for key in raw:
        if key not in DASHBOARD_KEYS:
            error(("dashboard", key, "<key>"), f"unknown key (known: {', '.join(DASHBOARD_KEYS)})", "warning")
    value = raw.get("per_section", PER_SECTION_DEFAULT)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= PER_SECTION_MAX:
        error(("dashboard", "per_section"), f"expected a whole number of cards (0 to {PER_SECTION_MAX}), found {_show(value)}")
        return PER_SECTION_DEFAULT
    return value


def _parse_applications(raw: Any, error: Any) -> dict[str, Any]:
    """`applications: {stages: [...], interviews: [...], outcomes: [...], status_check_days: N}`:
    the stages of a job application in the order they happen, which of them are interviews (they
    owe a thank-you to the people met) and which end it; the defaults where a value is wrong."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        error(("applications",), f"expected a mapping like {{stages: [applied, interview, offer]}}, found {_show(raw)}")
        return {}
    for key in raw:
        if key not in APPLICATION_KEYS:
            error(("applications", key, "<key>"), f"unknown key (known: {', '.join(APPLICATION_KEYS)})", "warning")
    out: dict[str, Any] = {}
    stages = Settings.stages
    for key, field_name in (("stages", "stages"), ("interviews", "interview_stages"), ("outcomes", "outcome_stages")):
        value = raw.get(key)
        if value is None:
            continue
        if (
            not isinstance(value, list)
            or not value and key == "stages"
            or not all(isinstance(v, str) and v.strip() and v == v.strip() for v in value)
            or len(set(value)) != len(value)
        ):
            error(("applications", key), f"expected a list of distinct stage names like [applied, interview], found {_show(value)}")
            continue
        if key == "stages":
            stages = tuple(value)
        else:
            unknown = [v for v in value if v not in stages]
            if unknown:
                error(("applications", key), f"'{unknown[0]}' is not one of the stages ({', '.join(stages)})")
                continue
        out[field_name] = tuple(value)
    if "stages" in out:  # the default interviews and outcomes that are among the new stages
        out.setdefault("interview_stages", tuple(s for s in Settings.interview_stages if s in stages))
        out.setdefault("outcome_stages", tuple(s for s in Settings.outcome_stages if s in stages))
    days = raw.get("status_check_days")
    if days is not None:
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 365:
            error(("applications", "status_check_days"), f"expected a whole number of days (1 to 365), found {_show(days)}")
        else:
            out["status_check_days"] = days
    return out


def _parse_rule(name: str, raw: Any, error: Any) -> TypeRule | None:
    if raw is None:
        return TypeRule()
    if not isinstance(raw, dict):
        error(
            ("types", name), f"expected a mapping like {{thank_you: 2, note: networking}}, found {_show(raw)}"
        )
        return None
    values: dict[str, Any] = {}
    ok = True
    for key, value in raw.items():
        if key not in RULE_KEYS:
            error(("types", name, key, "<key>"), f"unknown rule (known: {', '.join(RULE_KEYS)})")
            ok = False
        elif key == "note":
            if (
                not isinstance(value, str)
                or not value
                or "/" in value
                or "\\" in value
                or value.startswith(".")
            ):
                error(
                    ("types", name, key),
                    f"expected a note template name like 'networking', found {_show(value)}",
                )
                ok = False
            else:
                values[key] = value
        elif isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_PERIOD_DAYS:
            error(("types", name, key), f"expected a whole number of days ({DAYS_RANGE}), found {_show(value)}")
            ok = False
        else:
            values[key] = value
    if "note" not in values and ("thank_you" in values or "check_in" in values):
        values["note"] = "networking"
    return TypeRule(**values) if ok else None


def _show(value: Any) -> str:
    if isinstance(value, yamlnodes.BadScalar):
        return repr(value.raw)
    if isinstance(value, str):
        return repr(value)
    return f"{yamlnodes.type_name(value)} ({value!r})" if value is not None else "nothing"


def resolve_today(
    option: dt.date | None, settings: Settings, environ: dict[str, str] | None = None
) -> dt.date:
    """SPEC §4: `--today`, else CRM_TODAY, else crm.yaml's `today:`, else the local date.

    A malformed CRM_TODAY raises ValueError (the CLI reports it as bad usage)."""
    import os

    if option is not None:
        return option
    env = (environ if environ is not None else os.environ).get("CRM_TODAY", "").strip()
    if env:
        try:
            return dt.date.fromisoformat(env)
        except ValueError:
            raise ValueError(f"CRM_TODAY={env!r} is not a date (expected YYYY-MM-DD)") from None
    return settings.today if settings.today is not None else dt.date.today()
