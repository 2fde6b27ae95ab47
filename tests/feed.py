"""Reading a published feed the way an aggregator does, and checking every line of it.

Each line is validated by the `fhir.resources` R4B models (R4B's Slot, Schedule and
Location match R4; the package's default R5 models do not). What those models do not
check is checked here: the SMART statuses, id lengths and characters, end after start,
references that resolve within the feed, and each instant's offset being its facility
zone's offset at that instant.
"""

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fhir.resources.R4B.location import Location
from fhir.resources.R4B.schedule import Schedule
from fhir.resources.R4B.slot import Slot

MANIFEST = "$bulk-publish"
MODELS: dict[str, Any] = {"Location": Location, "Schedule": Schedule, "Slot": Slot}
FHIR_ID = re.compile(r"[A-Za-z0-9.-]{1,64}")


@dataclass
class Feed:
    manifest: dict[str, Any]
    resources: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    files: dict[str, list[str]] = field(default_factory=dict)
    """Per type, the paths the manifest names, relative to the folder."""

    @property
    def slots(self) -> list[dict[str, Any]]:
        return self.resources.get("Slot", [])

    def slot(self, database_id: int) -> dict[str, Any]:
        return next(slot for slot in self.slots if slot["id"] == f"slot-{database_id}")


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under the folder (the lock file aside), by relative path."""
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name != ".publish.lock"
    }


def read_feed(folder: Path, base_url: str, zones: dict[int, str]) -> Feed:
    """The feed in `folder`, every line validated; `zones` maps facility ids to zones."""
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    assert set(manifest) == {"transactionTime", "request", "output", "error"}
    assert manifest["request"] == f"{base_url}/{MANIFEST}"
    assert manifest["error"] == []
    datetime.strptime(manifest["transactionTime"], "%Y-%m-%dT%H:%M:%SZ")
    feed = Feed(manifest)
    for item in manifest["output"]:
        assert item["url"].startswith(base_url + "/"), item
        relative = item["url"][len(base_url) + 1 :]
        feed.files.setdefault(item["type"], []).append(relative)
        model = MODELS[item["type"]]
        for text in (folder / relative).read_text(encoding="utf-8").splitlines():
            model.model_validate_json(text)
            resource = json.loads(text)
            assert resource["resourceType"] == item["type"]
            assert FHIR_ID.fullmatch(resource["id"]), resource["id"]
            feed.resources.setdefault(item["type"], []).append(resource)
    _check_references_and_times(feed, zones)
    return feed


def _check_references_and_times(feed: Feed, zones: dict[int, str]) -> None:
    ids = {
        kind: [resource["id"] for resource in resources]
        for kind, resources in feed.resources.items()
    }
    for kind, found in ids.items():
        assert len(found) == len(set(found)), f"duplicate {kind} ids"
    locations = set(ids.get("Location", []))
    schedules = {}
    for schedule in feed.resources.get("Schedule", []):
        actors = [actor["reference"] for actor in schedule["actor"] if "reference" in actor]
        assert actors, schedule
        for reference in actors:
            assert reference.partition("/")[::2] in {("Location", id) for id in locations}
        schedules[schedule["id"]] = int(actors[0].removeprefix("Location/facility-"))
    for slot in feed.slots:
        assert slot["status"] in ("free", "busy"), slot
        kind, _, target = slot["schedule"]["reference"].partition("/")
        assert kind == "Schedule", slot["schedule"]
        assert target in schedules, slot["schedule"]
        zone = ZoneInfo(zones[schedules[target]])
        start, end = datetime.fromisoformat(slot["start"]), datetime.fromisoformat(slot["end"])
        assert end > start, slot
        for instant in (start, end):
            assert instant.utcoffset() == instant.astimezone(zone).utcoffset(), (slot, zone)
        capacity = [e for e in slot["extension"] if e["url"].endswith("/slot-capacity")]
        assert capacity == [
            {
                "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/slot-capacity",
                "valueInteger": 1,
            }
        ]
