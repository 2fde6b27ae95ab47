"""Spans of time as operators type them (`90d`, `26h`, `15m`) and as they read them back.

`runs --since`, `runs prune --older-than` and `check --max-age` all read one syntax, so a
value that works in one place works in the others. An instant typed without an offset is
read in the operator's local zone, the zone `slotgen runs` shows times in.
"""

import re
from datetime import UTC, datetime, timedelta

DEFAULT_MAX_AGES = "generate=26h,release=15m"
"""How old each job's last success may be before `check` and the dashboard warn."""
UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
DURATION_SYNTAX = "a number and a unit: 30s, 15m, 26h, 7d, 2w (m is minutes)"
SINCE_SYNTAX = (
    "YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS][+HH:MM], a span back from now (24h, 7d, 2w) or a "
    "day as generate reads one (today, yesterday, -7d)"
)

_DURATION = re.compile(r"(\d{1,6})\s*([smhdw])")
_JOB_NAME = re.compile(r"[A-Za-z0-9_.-]+")


def parse_duration(text: str) -> timedelta:
    """A positive span such as `90d`; raises ValueError with the accepted syntax."""
    match = _DURATION.fullmatch(text.strip().lower())
    if match is None:
        raise ValueError(f"bad duration {text!r}: use {DURATION_SYNTAX}")
    amount = int(match[1])
    if amount == 0:
        raise ValueError(f"bad duration {text!r}: it must be more than zero")
    return timedelta(**{UNITS[match[2]]: amount})


def parse_since(text: str, now: datetime) -> datetime:
    """The aware UTC instant `text` names: an ISO date or datetime, or `now` minus a span.

    A date or datetime without an offset is local time, like the times `slotgen runs`
    prints, so an operator can paste a time from the table back in.
    """
    stripped = text.strip()
    if _DURATION.fullmatch(stripped.lower()):
        return now.astimezone(UTC) - parse_duration(stripped)
    try:
        moment = datetime.fromisoformat(stripped)
    except ValueError:
        raise ValueError(f"bad time {text!r}: use {SINCE_SYNTAX}") from None
    return moment.astimezone(UTC)


def parse_max_ages(text: str) -> dict[str, timedelta]:
    """`generate=26h,release=15m`: how old each job's last success may be.

    `none` (or an empty text) checks no job's age: an empty environment variable reads
    as unset, so `none` is how SLOTGEN_CHECK_MAX_AGE turns the age checks off. A job
    named twice is a mistake worth reporting, not a silent last-one-wins.
    """
    ages: dict[str, timedelta] = {}
    if text.strip().lower() == "none":
        return ages
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        job, equals, span = (piece.strip() for piece in item.partition("="))
        if not equals or not _JOB_NAME.fullmatch(job):
            raise ValueError(f"bad max age {item!r}: use JOB=DURATION, e.g. generate=26h")
        if job in ages:
            raise ValueError(f"max age for {job!r} given twice")
        try:
            ages[job] = parse_duration(span)
        except ValueError as exc:
            raise ValueError(f"bad max age for {job!r}: {exc}") from None
    return ages


def format_duration(span: timedelta) -> str:
    """Two units at most (`3h05m`, `2d04h`): precise enough to read at a glance, narrow
    enough for a table column. Under a second it counts milliseconds (`350ms`): most runs
    of release take that long, and "0s" would say they took nothing."""
    exact = max(0.0, span.total_seconds())
    if 0 < exact < 1:
        return f"{max(1, round(exact * 1000))}ms"
    seconds = int(exact)
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h{minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours:02d}h"


def format_span(span: timedelta) -> str:
    """A span as the operator typed it (`26h`, `90d`), for messages that echo an option."""
    seconds = int(span.total_seconds())
    for unit, size in (("w", 604_800), ("d", 86_400), ("h", 3_600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
