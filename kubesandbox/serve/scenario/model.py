"""The values a scenario is made of, and where in the file each came from (for one-line errors)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NoReturn

from kubesandbox.apiserver.validation.fields import (
    DNS1123_LABEL_FMT,
    DNS1123_SUBDOMAIN_FMT,
    LABEL_VALUE_FMT,
    QUALIFIED_NAME_FMT,
)
from kubesandbox.resources import RESOURCES, ResourceType

Obj = dict[str, Any]

BEHAVIORS = (
    "Healthy",
    "CrashLoop",
    "CrashUntilRestarted",
    "OOMKilled",
    "ImagePullBackOff",
    "CreateContainerConfigError",
)
SANDBOX_API_VERSION = "sandbox.selfheal.dev/v1alpha1"
IMAGE_BEHAVIOR_KIND = "ImageBehavior"
SCENARIO_KIND = "Scenario"

NAMESPACE_RT = next(r for r in RESOURCES if r.api_version == "v1" and r.kind == "Namespace")
KINDS: dict[str, ResourceType] = {r.kind: r for r in RESOURCES}
SELECTOR_OWNERS = frozenset({"Deployment", "ReplicaSet", "Job"})
MISSING: Any = object()

DNS_LABEL = re.compile(f"^{DNS1123_LABEL_FMT}$")  # the apiserver's own formats (validation/fields.py)
DNS_1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
DNS_SUBDOMAIN = re.compile(f"^{DNS1123_SUBDOMAIN_FMT}$")
LABEL_NAME = re.compile(f"^{QUALIFIED_NAME_FMT}$")
LABEL_VALUE = re.compile(f"^{LABEL_VALUE_FMT}$")
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


class ScenarioError(Exception):
    """A scenario that cannot be loaded. `str()` is one line: file, document, field, problem."""


@dataclass(frozen=True)
class Scenario:
    """A validated scenario, ready for `load_into`.

    `objects` are in load order: Namespaces first, then everything else in document order.
    `behaviors` maps an image reference (exactly as containers spell it) to one of BEHAVIORS.
    `captured_at` is the moment the scenario shows (see `timeline.capture_time`), `anchored_by` says how
    it was found: "capturedAt" (declared), "newest timestamp" (inferred from the objects) or "default".
    """

    name: str
    namespace: str
    objects: tuple[tuple[ResourceType, Obj], ...]
    behaviors: Mapping[str, str]
    captured_at: datetime
    anchored_by: str = "default"


# -- where things are -------------------------------------------------------------------------


@dataclass(frozen=True)
class Where:
    source: str
    doc: int
    item: int | None = None
    kind: str = ""
    name: str = ""

    def __str__(self) -> str:
        text = f"document {self.doc}" + (f", item {self.item}" if self.item is not None else "")
        if self.kind:
            text += f" ({self.kind}/{self.name})" if self.name else f" ({self.kind})"
        return text

    def fail(self, field: str, problem: str) -> NoReturn:
        raise ScenarioError(
            one_line(
                f"{self.source}: {self}: {field}: {problem}" if field else f"{self.source}: {self}: {problem}"
            )
        )


@dataclass
class Entry:
    where: Where
    rt: ResourceType
    obj: Obj

    @property
    def meta(self) -> Obj:
        meta: Obj = self.obj["metadata"]
        return meta


def one_line(text: str) -> str:
    return re.sub(r"\s*\n\s*", " ", text).strip()


def show(value: Any) -> str:
    """A value the way an error message quotes it (JSON-ish, short)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        return json.dumps(value if len(value) <= 60 else value[:57] + "...")
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__
