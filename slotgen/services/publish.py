"""`publish`: the FHIR feed of SMART Scheduling Links, written into a folder atomically.

How a reader is kept from half a feed: every file is first written in full under a
temporary name beside its final one; only then are the changed files renamed into place,
and the manifest last. A reader that fetched the previous manifest still finds every file
it names: files the new manifest drops are deleted by the next publish, not this one.
Nothing is renamed before everything is written, so a failure leaves the previous feed as
it was.

Nothing is skipped because a row's `updated_at` did not move (the booking app may book
with plain SQL): every file is made anew from the rows and compared byte by byte with the
one in place. Only a file that differs is replaced, and `transactionTime` is the clock's
only when some file or the list of files changed; otherwise it is the previous
manifest's, so an unchanged feed is byte-identical and caches and ETags keep working.
"""

import contextlib
import json
import logging
import os
import stat
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Connection

from slotgen.core.dates import MAX_DAYS, MIDNIGHT, UnknownZoneError, load_zone, local_instant
from slotgen.db import publish as store
from slotgen.db.database import Database
from slotgen.errors import BadInput
from slotgen.publishing.mapping import (
    LOCATIONS_FILE,
    MANIFEST_NAME,
    SCHEDULES_FILE,
    SLOTS_FOLDER,
    BookingLink,
    FeedFacility,
    FeedFile,
    FeedSchedule,
    SlotMapper,
    check_base_url,
    line,
    location,
    manifest,
    manifest_text,
    schedule,
    slot_file,
    utc_instant,
)
from slotgen.services.common import require_known
from slotgen.vocabulary import FeedSlotStatus, feed_status

log = logging.getLogger("slotgen.publish")

DEFAULT_DAYS = 30
LOCK_NAME = ".publish.lock"
TEMP_SUFFIX = ".tmp"


@dataclass(frozen=True)
class PublishRequest:
    output: Path
    base_url: str
    facility_ids: tuple[int, ...] = ()
    days: int = DEFAULT_DAYS
    booking_url: str | None = None
    booking_phone: str | None = None
    include_busy: bool = True
    link: BookingLink | None = field(init=False)

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "base_url", check_base_url(self.base_url))
            link = None if self.booking_url is None else BookingLink(self.booking_url)
        except ValueError as exc:
            raise BadInput(str(exc)) from None
        object.__setattr__(self, "link", link)
        if isinstance(self.days, bool) or not 0 <= self.days <= MAX_DAYS:
            raise BadInput(f"--days must be 0 to {MAX_DAYS}, got {self.days!r}")
        if self.booking_phone is not None and not self.booking_phone.strip():
            raise BadInput("--booking-phone is empty: give a number, or leave the option out")


@dataclass
class PublishReport:
    output: Path
    transaction_time: str = ""
    changed: bool = False
    locations: int = 0
    schedules: int = 0
    slots: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FeedSlotStatus, 0))
    files: int = 0
    replaced: int = 0
    removed: int = 0
    warnings: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    """Facilities left out of the feed (a bad zone), by id: the run exits 1."""

    @property
    def ok(self) -> bool:
        return not self.skipped

    def summary(self) -> str:
        free, busy = self.slots[FeedSlotStatus.FREE], self.slots[FeedSlotStatus.BUSY]
        what = (
            f"{self.locations:,} locations, {self.schedules:,} schedules, "
            f"{free + busy:,} slots ({free:,} free, {busy:,} busy) in {self.files:,} NDJSON files"
        )
        if not self.changed:
            return f"Feed unchanged: {what}; transactionTime {self.transaction_time} kept"
        return (
            f"Published {what}; replaced {self.replaced:,} files, removed {self.removed:,}; "
            f"transactionTime {self.transaction_time}"
        )

    def json(self) -> dict[str, Any]:
        return {
            "output": str(self.output),
            "manifest": str(self.output / MANIFEST_NAME),
            "transaction_time": self.transaction_time,
            "changed": self.changed,
            "locations": self.locations,
            "schedules": self.schedules,
            "slots": dict(self.slots),
            "files": self.files,
            "replaced": self.replaced,
            "removed": self.removed,
            "warnings": self.warnings,
            "skipped": self.skipped,
        }


def writable_folder(output: Path) -> Path:
    """The absolute output folder, made if only its last part is missing, and proven
    writable by writing in it: checked before the database is read, so a typo is bad
    input and the feed already there is left alone."""
    folder = output.absolute()
    if folder.exists() and not folder.is_dir():
        raise BadInput(f"--output: {folder} is not a folder")
    try:
        folder.mkdir(mode=0o755, exist_ok=True)
        (folder / SLOTS_FOLDER).mkdir(mode=0o755, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise BadInput(f"--output: cannot write in {folder}: {exc.strerror or exc}") from None
    return folder


@contextlib.contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """One publish at a time per folder: a second waits for the first (POSIX flock)."""
    with open(folder / LOCK_NAME, "a") as handle:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX: no lock
            yield
            return
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class Staged:
    """Files written under temporary names, renamed into place only when all are done."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.pending: list[tuple[Path, Path]] = []
        self.open_files: list[tuple[IO[str], Path]] = []

    def start(self, relative: str) -> IO[str]:
        """A new file for `relative`, written beside it under a temporary name."""
        target = self.folder / relative
        fd, temp = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.", suffix=TEMP_SUFFIX
        )
        handle = os.fdopen(fd, "w", encoding="utf-8", newline="\n")
        self.open_files.append((handle, Path(temp)))
        return handle

    def finish(self, relative: str) -> None:
        """Close the file being written for `relative`; keep it only if it differs."""
        handle, staged = self.open_files.pop()
        handle.flush()
        target = self.folder / relative
        if _same_bytes(staged, target):
            handle.close()
            staged.unlink()
            return
        os.fsync(handle.fileno())  # on disk before the rename makes it the feed's
        handle.close()
        os.chmod(staged, 0o644)
        self.pending.append((staged, target))

    def write(self, relative: str, lines: Iterable[str]) -> None:
        handle = self.start(relative)
        handle.writelines(lines)
        self.finish(relative)

    def discard(self) -> None:
        for handle, staged in self.open_files:
            handle.close()
            staged.unlink(missing_ok=True)
        for staged, _ in self.pending:
            staged.unlink(missing_ok=True)
        self.open_files.clear()
        self.pending.clear()

    def commit(self) -> int:
        for staged, target in self.pending:
            os.replace(staged, target)
        done = len(self.pending)
        self.pending.clear()
        return done


def _same_bytes(one: Path, other: Path) -> bool:
    try:
        if one.stat().st_size != other.stat().st_size:
            return False
        with one.open("rb") as left, other.open("rb") as right:
            while True:
                a, b = left.read(1 << 16), right.read(1 << 16)
                if a != b:
                    return False
                if not a:
                    return True
    except FileNotFoundError:
        return False


def previous_manifest(folder: Path) -> dict[str, Any]:
    """The manifest in place, or {} when there is none or it is not a manifest."""
    try:
        value = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _named_paths(value: dict[str, Any]) -> set[str]:
    """The files a manifest names, relative to the folder (under its own base URL)."""
    request = value.get("request")
    if not isinstance(request, str) or not request.endswith(f"/{MANIFEST_NAME}"):
        return set()
    base_url = request.removesuffix(f"/{MANIFEST_NAME}")
    paths = set()
    for item in value.get("output") or []:
        url = item.get("url") if isinstance(item, dict) else None
        if isinstance(url, str) and url.startswith(base_url + "/"):
            paths.add(url[len(base_url) + 1 :])
    return paths


def _feed_facilities(rows: list[store.FacilityRow], report: PublishReport) -> list[FeedFacility]:
    found = []
    for row in rows:
        try:
            zone = load_zone(row.timezone)
        except UnknownZoneError:
            report.skipped.append(
                f"facility {row.id}: unknown time zone {row.timezone!r}; left out of the feed"
            )
            continue
        found.append(FeedFacility(row.id, row.name, zone, *row[3:]))
    return found


def publish(database: Database, request: PublishRequest, now: datetime) -> PublishReport:
    """Write the feed as of `now` into `request.output`; see the module's docstring."""
    folder = writable_folder(request.output)
    report = PublishReport(folder)
    with folder_lock(folder):
        _clear_leftovers(folder)
        before = previous_manifest(folder)
        staged = Staged(folder)
        try:
            files = _write_feed(database, request, now, staged, report)
            same = not staged.pending and _outputs(before) == [
                (entry.type, f"{request.base_url}/{entry.path}", list(entry.states))
                for entry in files
            ]
            kept = before.get("transactionTime")
            report.transaction_time = kept if same and isinstance(kept, str) else utc_instant(now)
            text = manifest_text(manifest(report.transaction_time, request.base_url, files))
            staged.write(MANIFEST_NAME, [text])
        except BaseException:
            staged.discard()
            raise
        report.changed = bool(staged.pending)
        report.replaced = staged.commit()  # the manifest was staged last: renamed last
        report.files = len(files)
        keep = {entry.path for entry in files} | _named_paths(before)
        report.removed = _remove_stale(folder, keep)
    for warning in report.warnings:
        log.warning("%s", warning)
    for skipped in report.skipped:
        log.error("%s", skipped)
    log.info("%s", report.summary())
    return report


def _outputs(value: dict[str, Any]) -> list[tuple[Any, Any, Any]]:
    return [
        (item.get("type"), item.get("url"), (item.get("extension") or {}).get("state", []))
        for item in value.get("output") or []
        if isinstance(item, dict)
    ]


def _write_feed(
    database: Database,
    request: PublishRequest,
    now: datetime,
    staged: Staged,
    report: PublishReport,
) -> list[FeedFile]:
    """Every file but the manifest, staged; returns the list the manifest names."""
    engine = database.engine
    with store.snapshot(engine) as connection:
        require_known(connection, request.facility_ids)
        facilities = _feed_facilities(
            store.feed_facilities(connection, request.facility_ids), report
        )
        by_id = {facility.id: facility for facility in facilities}
        for facility in facilities:
            missing = facility.lacks()
            if missing:
                report.warnings.append(
                    f"facility {facility.id} lacks {', '.join(missing)}: published without; "
                    "add them to the facility and import it again"
                )
        ids = list(by_id)
        offered = store.schedule_services(connection, ids)
        schedules = [
            FeedSchedule(*row, tuple(offered.get((row.facility_id, row.doctor_id), ())))
            for row in store.feed_schedules(connection, ids, now)
        ]
        names = store.service_names(connection)
        states = tuple(sorted({f.state.strip() for f in facilities if f.state and f.state.strip()}))
        files = [
            FeedFile("Location", LOCATIONS_FILE, states),
            FeedFile("Schedule", SCHEDULES_FILE, states),
        ]
        staged.write(LOCATIONS_FILE, (line(location(f)) + "\n" for f in facilities))
        report.locations = len(facilities)
        staged.write(
            SCHEDULES_FILE,
            (
                line(schedule(entry, by_id[entry.facility_id], request.base_url)) + "\n"
                for entry in schedules
            ),
        )
        report.schedules = len(schedules)
        for facility in facilities:
            mapper = SlotMapper(
                facility, request.link, request.booking_phone, names, request.base_url
            )
            files += _write_slots(connection, mapper, request, now, staged=staged, report=report)
    return files


def _write_slots(
    connection: Connection,
    mapper: SlotMapper,
    request: PublishRequest,
    now: datetime,
    *,
    staged: Staged,
    report: PublishReport,
) -> list[FeedFile]:
    """A facility's slots, one file per ISO week of their local start dates."""
    facility = mapper.facility
    today = now.astimezone(facility.zone).date()
    until = local_instant(today + timedelta(days=request.days + 1), MIDNIGHT, facility.zone)
    state = (facility.state.strip(),) if facility.state and facility.state.strip() else ()
    files: list[FeedFile] = []
    handle: IO[str] | None = None
    week: tuple[int, int] | None = None
    statuses: Counter[str] = Counter()
    for batch in store.feed_slots(
        connection, facility.id, now, until, include_taken=request.include_busy
    ):
        for row in batch:
            text, this_week = mapper.line(row)
            if handle is None or this_week != week:
                if handle is not None:
                    staged.finish(files[-1].path)
                week = this_week
                files.append(FeedFile("Slot", slot_file(facility.id, week), state))
                handle = staged.start(files[-1].path)
            handle.write(text + "\n")
            statuses[row.status] += 1
    for status, count in statuses.items():
        report.slots[feed_status(status)] += count
    if handle is not None:
        staged.finish(files[-1].path)
    return files


def _clear_leftovers(folder: Path) -> None:
    """Temporary files of a publish that died (SIGKILL, a full disk): never named, never
    served, safe to delete while holding the folder's lock."""
    for place in (folder, folder / SLOTS_FOLDER):
        for path in place.glob(f".*{TEMP_SUFFIX}"):
            path.unlink(missing_ok=True)


def _remove_stale(folder: Path, keep: set[str]) -> int:
    """Slot files neither this manifest nor the one before it names."""
    removed = 0
    for path in (folder / SLOTS_FOLDER).glob("*.ndjson"):
        relative = f"{SLOTS_FOLDER}/{path.name}"
        if relative not in keep and stat.S_ISREG(path.lstat().st_mode):
            path.unlink(missing_ok=True)
            removed += 1
    return removed
