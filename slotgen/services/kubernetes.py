"""`kubernetes`: a batch/v1 CronJob per job, from the one schedule table.

Kubernetes only starts the pods; slotgen still does what makes a run safe. `--tries`
retries inside the pod (so `backoffLimit: 0`: a retried pod would be a second, unrecorded
attempt), and the job's lock in the database keeps two runs apart even when two clusters,
or a cluster and a cron host, schedule the same job. `concurrencyPolicy: Forbid` only
saves the pod that would have been skipped.
"""

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from slotgen import __version__
from slotgen.errors import BadInput
from slotgen.services.schedules import TASKS, Task

DEFAULT_IMAGE = f"slotgen:{__version__}"
DEFAULT_SECRET = "slotgen"
SECRET_KEY = "database-url"
"""The key in the Secret that holds the database URL."""
ZONE = "Etc/UTC"

MEMORY_REQUEST = "96Mi"
"""A whole `slotgen generate` of the demo clinic peaks at 67 MB (VmHWM) on SQLite and 78 MB
on PostgreSQL; 500 doctors over 30 days at 79 to 87 MB, 2,000 over 90 days at 88 to 112 MB."""
MEMORY_LIMIT = "256Mi"
CPU_REQUEST = "100m"

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_DOMAIN_PART = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
IMAGE = re.compile(
    rf"(?:{_DOMAIN_PART}(?:\.{_DOMAIN_PART})*(?::[0-9]+)?/)?"
    rf"{_COMPONENT}(?:/{_COMPONENT})*"
    r"(?::[\w][\w.-]{0,127})?"
    r"(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?"
)
"""An image reference as the container runtimes read it: [registry[:port]/]name[:tag][@digest]."""
MAX_IMAGE_NAME = 255
BARE_KEY = re.compile(r"[A-Za-z][A-Za-z0-9./_-]*")
DNS_LABEL = re.compile(r"[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?")
DNS_SUBDOMAIN = re.compile(r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*")


def check_image(image: str) -> str:
    name = image.split("@", 1)[0]
    if name.rfind(":") > name.rfind("/"):
        name = name[: name.rfind(":")]
    if not IMAGE.fullmatch(image) or len(name) > MAX_IMAGE_NAME:
        raise BadInput(
            f"--image: {image!r} is not an image name; expected [REGISTRY/]NAME[:TAG][@DIGEST] "
            "in lower case, e.g. registry.example.org/clinic/slotgen:0.1.0"
        )
    return image


@dataclass(frozen=True)
class KubernetesRequest:
    image: str = DEFAULT_IMAGE
    secret: str = DEFAULT_SECRET
    namespace: str | None = None

    def __post_init__(self) -> None:
        check_image(self.image)
        if not DNS_SUBDOMAIN.fullmatch(self.secret) or len(self.secret) > 253:
            raise BadInput(
                f"--secret: {self.secret!r} is not a Secret name (lower-case letters, digits, "
                "'-' and '.')"
            )
        if self.namespace is not None and not DNS_LABEL.fullmatch(self.namespace):
            raise BadInput(
                f"--namespace: {self.namespace!r} is not a namespace name (lower-case letters, "
                "digits and '-', at most 63)"
            )


def cron_jobs(request: KubernetesRequest) -> list[dict[str, Any]]:
    """One CronJob manifest per task worth running in a cluster, as plain data."""
    return [_cron_job(task, request) for task in TASKS if task.in_cluster]


def _cron_job(task: Task, request: KubernetesRequest) -> dict[str, Any]:
    labels = {"app.kubernetes.io/name": "slotgen", "app.kubernetes.io/component": task.name}
    metadata: dict[str, Any] = {"name": f"slotgen-{task.name}", "labels": labels}
    if request.namespace is not None:
        metadata["namespace"] = request.namespace
    container = _container(task.then or task.args, request)
    pod: dict[str, Any] = {
        "restartPolicy": "Never",
        "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [container],
    }
    if task.then:  # init containers run first, in turn; one that fails fails the Job
        pod["initContainers"] = [{**_container(task.args, request), "name": f"slotgen-{task.name}"}]
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": metadata,
        "spec": {
            "schedule": task.when.cron(),
            "timeZone": ZONE,
            "concurrencyPolicy": "Forbid",
            "startingDeadlineSeconds": int(task.when.starting_deadline.total_seconds()),
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 3,
            "jobTemplate": {
                "metadata": {"labels": labels},
                "spec": {
                    "backoffLimit": 0,
                    "template": {"metadata": {"labels": labels}, "spec": pod},
                },
            },
        },
    }


def _container(args: tuple[str, ...], request: KubernetesRequest) -> dict[str, Any]:
    return {
        "name": "slotgen",
        "image": request.image,
        "command": ["slotgen"],
        "args": list(args),
        "env": [
            {
                "name": "SLOTGEN_DATABASE_URL",
                "valueFrom": {"secretKeyRef": {"name": request.secret, "key": SECRET_KEY}},
            }
        ],
        "resources": {
            "requests": {"cpu": CPU_REQUEST, "memory": MEMORY_REQUEST},
            "limits": {"memory": MEMORY_LIMIT},
        },
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
    }


def to_yaml(documents: Sequence[Mapping[str, Any]]) -> str:
    """YAML for kubectl, each scalar written as JSON (JSON is YAML), so no name or value
    can ever be read as another type or break the document."""
    return "".join("---\n" + _block(document, 0) for document in documents)


def _block(value: Any, indent: int) -> str:
    pad = " " * indent
    text = ""
    if isinstance(value, Mapping):
        for key, item in value.items():
            if _nested(item):
                text += f"{pad}{_key(key)}:\n{_block(item, indent + 2)}"
            else:
                text += f"{pad}{_key(key)}: {_scalar(item)}\n"
        return text
    for item in value:
        if _nested(item):
            inner = _block(item, indent + 2)
            text += f"{pad}- {inner[indent + 2 :]}"
        else:
            text += f"{pad}- {_scalar(item)}\n"
    return text


def _key(key: str) -> str:
    return key if BARE_KEY.fullmatch(key) else json.dumps(key)


def _nested(value: Any) -> bool:
    return isinstance(value, Mapping | list | tuple) and len(value) > 0


def _scalar(value: Any) -> str:
    if isinstance(value, Mapping):
        return "{}"
    if isinstance(value, list | tuple):
        return "[]"
    return json.dumps(value)
