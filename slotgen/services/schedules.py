"""When each of slotgen's jobs runs, written once for cron, systemd timers and Kubernetes.

`slotgen crontab`, `slotgen systemd` and `slotgen kubernetes` render this one table, so
a job cannot run every 5 minutes under cron and hourly under systemd. Every time is UTC:
a local 01:00 is skipped or repeated on the nights daylight saving time changes.
"""

from dataclasses import dataclass
from datetime import timedelta

from slotgen.vocabulary import Job

WEEKDAYS = ("Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat")
"""Cron's numbering (0 = Sunday), the numbering of the rules' `day_of_week`."""


@dataclass(frozen=True)
class When:
    """A UTC schedule that both cron and systemd's OnCalendar= can say exactly.

    `every_minutes`: every N minutes from `minute` past the hour. Otherwise at `minute` past
    every hour, or past `hour` every day, or on `weekday` (0 = Sunday) only.
    """

    minute: int = 0
    hour: int | None = None
    weekday: int | None = None
    every_minutes: int | None = None
    month_day: int | None = None
    """With `hour`: on this day of every month."""

    def cron(self) -> str:
        if self.every_minutes is not None:
            first = "*" if not self.minute else f"{self.minute}-59"
            return f"{first}/{self.every_minutes} * * * *"
        hour = "*" if self.hour is None else str(self.hour)
        weekday = "*" if self.weekday is None else str(self.weekday)
        month_day = "*" if self.month_day is None else str(self.month_day)
        return f"{self.minute} {hour} {month_day} * {weekday}"

    def on_calendar(self) -> str:
        if self.every_minutes is not None:
            return f"*-*-* *:{self.minute:02d}/{self.every_minutes}:00 UTC"
        hour = "*" if self.hour is None else f"{self.hour:02d}"
        day = "" if self.weekday is None else f"{WEEKDAYS[self.weekday]} "
        month_day = "*" if self.month_day is None else f"{self.month_day:02d}"
        return f"{day}*-*-{month_day} {hour}:{self.minute:02d}:00 UTC"

    @property
    def period(self) -> timedelta:
        if self.every_minutes is not None:
            return timedelta(minutes=self.every_minutes)
        if self.hour is None:
            return timedelta(hours=1)
        if self.month_day is not None:
            return timedelta(days=28)  # the shortest month
        return timedelta(days=1 if self.weekday is None else 7)

    @property
    def spread(self) -> timedelta | None:
        """How far a timer may delay a daily or weekly job at random, so a fleet of hosts
        does not hit the database server in the same second; frequent jobs run on time."""
        return timedelta(minutes=15) if self.period >= timedelta(days=1) else None

    @property
    def starting_deadline(self) -> timedelta:
        """How late a missed run may still start: half the period, at most an hour. A
        later start would run into the next one."""
        return min(self.period / 2, timedelta(hours=1))


@dataclass(frozen=True)
class Task:
    """One scheduled slotgen command."""

    name: str
    """The unit's and the CronJob's name after `slotgen-`."""
    when: When
    args: tuple[str, ...]
    summary: str
    """One line for systemd's Description= and the manifests' comments."""
    cron_comment: tuple[str, ...]
    job: Job | None = None
    """The job it runs on record (and so takes --metrics-file), if any."""
    writes_page: bool = False
    """It writes the dashboard page, whose path each scheduler's settings name."""
    writes_feed: bool = False
    """It writes the FHIR feed, whose folder each scheduler's settings name."""
    in_cluster: bool = True
    """Worth a Kubernetes CronJob: a page or a feed written inside a pod is seen by no one."""
    then: tuple[str, ...] = ()
    """A command to run after `args` succeeded, in the same scheduled run."""
    then_job: Job | None = None
    """The job `then` runs on record, if any."""


TASKS: tuple[Task, ...] = (
    Task(
        "generate",
        When(hour=1),
        ("generate", "--days", "30", "--tries", "3", "--trigger", "cron"),
        "slotgen generate: the slots of the next 30 days",
        ("Every night at 01:00 UTC: the slots of the next 30 days, up to 3 attempts.",),
        job=Job.GENERATE,
    ),
    Task(
        "release",
        When(every_minutes=5),
        ("release", "--trigger", "cron"),
        "slotgen release: expired reservations back to open",
        ("Every 5 minutes: expired reservations back to open.",),
        job=Job.RELEASE,
    ),
    Task(
        "prune",
        When(hour=3, weekday=0),
        ("runs", "prune", "--older-than", "90d"),
        "slotgen runs prune: forget finished runs older than 90 days",
        ("Sundays at 03:00 UTC: forget finished runs older than 90 days.",),
    ),
    Task(
        "holidays",
        When(hour=2, month_day=1),
        ("holidays", "sync", "--tries", "3", "--trigger", "cron"),
        "slotgen holidays sync: public holidays as facility exceptions, then the slots",
        (
            "The 1st of every month at 02:00 UTC: the public holidays of this year and next",
            "as whole-day facility exceptions, for each facility with a holiday_country (see",
            "`slotgen facilities`), then a generate so the slots follow at once. A facility",
            "that opens on a holiday keeps that day open (`slotgen exceptions remove ID` on",
            "the holiday).",
        ),
        job=Job.HOLIDAYS,
        then=("generate", "--days", "30", "--tries", "3", "--trigger", "cron"),
        then_job=Job.GENERATE,
    ),
    Task(
        "check",
        When(minute=30),
        ("check",),
        "slotgen check: the jobs' health",
        (
            "Every hour: the jobs' health (`slotgen check`), kept in the log; printed,",
            "and so mailed, only when it is not OK.",
        ),
    ),
    Task(
        "dashboard",
        When(every_minutes=5),
        ("dashboard", "--output"),
        "slotgen dashboard: the runs' status page",
        (
            "Every 5 minutes: the runs dashboard, a static page for any web server (the",
            "folder must exist and be writable by the service user).",
        ),
        writes_page=True,
        in_cluster=False,
    ),
    Task(
        "publish",
        When(every_minutes=5, minute=1),
        ("publish", "--output"),
        "slotgen publish: the FHIR feed of open slots for patient apps",
        (
            "Every 5 minutes, a minute after release: the FHIR feed of open slots for",
            "patient apps (`slotgen publish`); the env file sets SLOTGEN_PUBLISH_BASE_URL,",
            "where the web server serves the folder (which must be writable by the service",
            "user).",
        ),
        writes_feed=True,
        in_cluster=False,
    ),
)
