"""Scenarios: a cluster's state written down as YAML, loaded into the sandbox store.

A scenario file holds what `kubectl get -o yaml` prints for the objects of a namespace, status
included: a multi-document YAML stream, or one `kind: List` with `items`. The sandbox then serves
those objects as if a real cluster had reached that state. Because a real API server would never
have held an invalid object, the loader rejects what the server would have rejected on the way in
(selector that does not match the template labels, containers without name or image, non-string
labels or annotations, bad names) and what a snapshot of a real cluster cannot contain (duplicate
objects or uids, owner references to objects that are not there). Each failure is a
`ScenarioError` whose text is one line naming the file, the document and the field, e.g.
`ea-plan-v5.yaml: document 7 (Deployment/web): spec.replicas: expected an integer, got "three"`.

`ImageBehavior` documents (`apiVersion: sandbox.selfheal.dev/v1alpha1`) are not Kubernetes objects:
they tell the kubelet emulation what the containers of an image do (see BEHAVIORS). They are
collected into `Scenario.behaviors` and never stored.

Decisions:

- Objects are stored as written, like a snapshot: no defaulting. Write what a real server shows
  (defaults included). `metadata.resourceVersion` is dropped because the store assigns every object
  a fresh one; `uid`, `creationTimestamp` and `generation` are kept, and filled by the store when
  missing.
- `metadata.namespace` is required on namespaced objects, since `kubectl get -o yaml` always prints
  it, except when the file has exactly one Namespace document: then it defaults to that namespace.
  When the file has Namespace documents, every namespace used must be one of them, so that a typo
  fails instead of quietly creating a second namespace. When it has none, a Namespace object is
  created for each namespace used (or for `default` if none is), shaped as the API server creates
  one.
- `ownerReferences` are resolved by kind and name in the dependent's own namespace (the garbage
  collector treats an owner in another namespace as absent). The owner must be in the scenario,
  because a real garbage collector would have deleted a dependent whose owner is missing. Its
  `apiVersion` must be the owner's. `uid` may be left out in hand-written scenarios: it is then
  copied from the owner, which gets a uid derived from its namespace, kind and name if it has none.
  When `uid` is given it must be the owner's. An object with a controller reference to a
  Deployment, ReplicaSet or Job must carry labels that match the owner's selector, because the
  controller would release (orphan) it otherwise.
- Times are absolute RFC 3339. The sandbox clock starts at `clock.DEFAULT_EPOCH`
  (2026-01-01T12:00:00Z), so write status times shortly before it.
- YAML is read as the API server reads JSON: unquoted timestamps stay strings, and a duplicate key
  in a mapping is an error (PyYAML would silently keep the last one).
- An image with no ImageBehavior gets the kubelet emulation's default behaviour. An ImageBehavior for
  an image that no container uses is allowed, since tests switch to such images (`kubectl set image`).
- Document numbers count every `---`-separated document from 1, empty ones included, so they match
  the file. Items of a `kind: List` are numbered from 1 within their document.
"""

from __future__ import annotations

import copy
import hashlib
import importlib.resources
import json
import os
import re
import uuid
from collections import Counter
from collections.abc import Callable, Hashable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any, NoReturn

import yaml

from .clock import parse_time
from .defaults import apply_defaults
from .errors import ApiError
from .resources import RESOURCES, ResourceType, resource_for_kind
from .selectors import parse_label_selector, selector_matches, selector_to_string
from .store import Store

Obj = dict[str, Any]

BEHAVIORS = ("Healthy", "CrashLoop", "CrashUntilRestarted", "OOMKilled", "ImagePullBackOff",
             "CreateContainerConfigError")
SANDBOX_API_VERSION = "sandbox.selfheal.dev/v1alpha1"
IMAGE_BEHAVIOR_KIND = "ImageBehavior"

_NAMESPACE_RT = next(r for r in RESOURCES if r.api_version == "v1" and r.kind == "Namespace")
_KINDS: dict[str, ResourceType] = {r.kind: r for r in RESOURCES}
_SELECTOR_OWNERS = frozenset({"Deployment", "ReplicaSet", "Job"})
_MISSING: Any = object()

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


class ScenarioError(Exception):
    """A scenario that cannot be loaded. `str()` is one line: file, document, field, problem."""


@dataclass(frozen=True)
class Scenario:
    """A validated scenario, ready for `load_into`.

    `objects` are in load order: Namespaces first, then everything else in document order.
    `behaviors` maps an image reference (exactly as containers spell it) to one of BEHAVIORS.
    """

    name: str
    namespace: str
    objects: tuple[tuple[ResourceType, Obj], ...]
    behaviors: Mapping[str, str]


# -- where things are -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Where:
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
        raise ScenarioError(_one_line(f"{self.source}: {self}: {field}: {problem}" if field
                                      else f"{self.source}: {self}: {problem}"))


@dataclass
class _Entry:
    where: _Where
    rt: ResourceType
    obj: Obj

    @property
    def meta(self) -> Obj:
        meta: Obj = self.obj["metadata"]
        return meta


def _one_line(text: str) -> str:
    return re.sub(r"\s*\n\s*", " ", text).strip()


def _show(value: Any) -> str:
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


# -- public API --------------------------------------------------------------------------------


def _scenario_dir() -> Path:
    return Path(str(importlib.resources.files("selfheal.sandbox").joinpath("scenarios")))


def bundled_scenarios() -> list[str]:
    """Names of the scenarios shipped with the package (`ea-plan-v5`, `minimal`, ...)."""
    return sorted(p.stem for p in _scenario_dir().glob("*.yaml"))


def resolve(path_or_name: str | os.PathLike[str]) -> Path:
    """An existing file path as given, else the bundled scenario of that name (`.yaml` optional)."""
    path = Path(path_or_name)
    if path.is_file():
        return path
    text = str(path_or_name)
    stem = text[:-len(".yaml")] if text.endswith(".yaml") else text
    if "/" not in text and os.sep not in text and stem in bundled_scenarios():
        return _scenario_dir() / f"{stem}.yaml"
    raise ScenarioError(f"{text}: no such file, and not a bundled scenario "
                        f"(bundled: {', '.join(bundled_scenarios()) or 'none'})")


def load_scenario(path_or_name: str | os.PathLike[str]) -> Scenario:
    """Read, validate and resolve a scenario file; raises ScenarioError on the first problem."""
    path = resolve(path_or_name)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(_one_line(f"{path.name}: cannot read: {exc}")) from None
    return parse_scenario(text, source=path.name, name=path.stem)


def parse_scenario(text: str, *, source: str = "<scenario>", name: str = "scenario") -> Scenario:
    """The scenario in `text`; `source` names it in error messages."""
    entries: list[_Entry] = []
    behaviors: dict[str, tuple[str, _Where]] = {}
    behavior_names: dict[str, _Where] = {}
    for where, doc in _objects(_documents(text, source), source):
        parsed = _parse_object(where, doc)
        if isinstance(parsed, _Entry):
            entries.append(parsed)
            continue
        where, image, behavior = parsed
        if where.name in behavior_names:
            where.fail("metadata.name", f'duplicate: ImageBehavior "{where.name}" is already defined by '
                                        f"{behavior_names[where.name]}")
        if image in behaviors:
            where.fail("spec.image", f'{_show(image)} already has a behaviour, from {behaviors[image][1]}')
        behavior_names[where.name] = where
        behaviors[image] = (behavior, where)
    namespace, objects = _resolve(entries)
    return Scenario(name=name, namespace=namespace, objects=objects,
                    behaviors=MappingProxyType({image: b for image, (b, _) in behaviors.items()}))


def load_into(store: Store, scenario: Scenario) -> list[str]:
    """Store every object of the scenario; returns the uids of the Pods it gives.

    Those pods' statuses are part of the scenario: the kubelet emulation keeps them as written.
    The store must not hold any of the objects yet (checked first, so nothing is half-loaded),
    except Namespaces: one that already exists is left as it is.
    """
    with store.lock:
        todo: list[tuple[ResourceType, Obj]] = []
        for rt, obj in scenario.objects:
            meta = obj["metadata"]
            if store.peek(rt, meta.get("namespace"), meta["name"]) is None:
                todo.append((rt, obj))
            elif rt is not _NAMESPACE_RT:
                where = f' in namespace "{meta["namespace"]}"' if rt.namespaced else ""
                raise ScenarioError(f'{scenario.name}: {rt.kind}/{meta["name"]}: already in the store{where} '
                                    "(load a scenario into a store that does not hold its objects)")
        pods: list[str] = []
        for rt, obj in todo:
            try:
                # A real server defaults every object it stores; scenarios written by hand (or by
                # tests) may leave defaults out, and controllers rely on them (strategy, probes...).
                stored = store.load(rt, apply_defaults(copy.deepcopy(obj)))
            except ApiError as exc:  # pragma: no cover - ruled out by the check above
                raise ScenarioError(_one_line(f"{scenario.name}: {rt.kind}/{obj['metadata']['name']}: "
                                              f"{exc.message}")) from None
            if rt.kind == "Pod" and rt.group == "":
                pods.append(stored["metadata"]["uid"])
        return pods


# -- reading YAML ------------------------------------------------------------------------------


class _YamlLoader(yaml.SafeLoader):
    """SafeLoader as the API server sees YAML (through JSON): no timestamp type, no duplicate keys."""


_YamlLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _construct_mapping(loader: _YamlLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    out: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, Hashable):
            raise yaml.constructor.ConstructorError(None, None, "a mapping key must be a scalar",
                                                    key_node.start_mark)
        if key in out:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {_show(key)}",
                                                    key_node.start_mark)
        out[key] = loader.construct_object(value_node, deep=True)
    return out


_YamlLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)


def _documents(text: str, source: str) -> list[tuple[int, Any]]:
    loader = _YamlLoader(text)
    docs: list[tuple[int, Any]] = []
    try:
        while loader.check_data():
            docs.append((len(docs) + 1, loader.get_data()))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        at = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "somewhere"
        problem = exc.problem or exc.context or "not valid YAML"
        raise ScenarioError(_one_line(f"{source}: document {len(docs) + 1}: {at}: invalid YAML: {problem}")) \
            from None
    except yaml.YAMLError as exc:
        raise ScenarioError(_one_line(f"{source}: document {len(docs) + 1}: invalid YAML: {exc}")) from None
    finally:
        loader.dispose()
    return docs


def _objects(docs: list[tuple[int, Any]], source: str) -> Iterator[tuple[_Where, Any]]:
    """Every object of the file with its place: documents, and the items of `kind: List` documents."""
    for index, doc in docs:
        if doc is None:
            continue
        where = _Where(source, index)
        if isinstance(doc, dict) and doc.get("kind") == "List" and doc.get("apiVersion") == "v1":
            items = doc.get("items")
            if not isinstance(items, list):
                replace(where, kind="List").fail("items", f"expected a list, got {_show(items)}")
            for n, item in enumerate(items, 1):
                yield replace(where, item=n), item
        else:
            yield where, doc


# -- one object ---------------------------------------------------------------------------------


def _parse_object(where: _Where, doc: Any) -> _Entry | tuple[_Where, str, str]:
    if not isinstance(doc, dict):
        where.fail("", f"expected a Kubernetes object (a mapping), got {_show(doc)}")
    api_version = _str(where, doc.get("apiVersion", _MISSING), "apiVersion", required=True)
    kind = _str(where, doc.get("kind", _MISSING), "kind", required=True)
    meta = doc.get("metadata")
    name = meta.get("name") if isinstance(meta, dict) else None
    where = replace(where, kind=kind, name=name if isinstance(name, str) else "")
    if api_version == SANDBOX_API_VERSION and kind == IMAGE_BEHAVIOR_KIND:
        return _parse_behavior(where, doc)
    rt = resource_for_kind(api_version, kind)
    if rt is None:
        _unknown_kind(where, api_version, kind)
    _check_metadata(where, rt, doc)
    doc["metadata"].pop("resourceVersion", None)  # the store assigns its own
    check = _KIND_CHECKS.get(kind)
    if check is not None:
        check(where, doc)
    _check_conditions(where, doc)
    return _Entry(where, rt, doc)


def _unknown_kind(where: _Where, api_version: str, kind: str) -> NoReturn:
    served = [r.api_version for r in RESOURCES if r.kind == kind]
    if kind == IMAGE_BEHAVIOR_KIND:
        served = [SANDBOX_API_VERSION]
    if served:
        where.fail("apiVersion", f'no matches for kind "{kind}" in version "{api_version}" '
                                 f"(the sandbox serves {kind} as {', '.join(served)})")
    kinds = sorted({r.kind for r in RESOURCES} | {IMAGE_BEHAVIOR_KIND})
    where.fail("kind", f'no matches for kind "{kind}" in version "{api_version}" '
                       f"(kinds the sandbox serves: {', '.join(kinds)})")


def _parse_behavior(where: _Where, doc: Obj) -> tuple[_Where, str, str]:
    meta = _mapping(where, doc.get("metadata", _MISSING), "metadata", required=True)
    name = _str(where, meta.get("name", _MISSING), "metadata.name", required=True)
    _check_name(where, name, "metadata.name", _DNS_SUBDOMAIN, 253)
    spec = _mapping(where, doc.get("spec", _MISSING), "spec", required=True)
    image = _str(where, spec.get("image", _MISSING), "spec.image", required=True)
    if not image or any(c.isspace() for c in image):
        where.fail("spec.image", f"expected an image reference, got {_show(image)}")
    behavior = _str(where, spec.get("behavior", _MISSING), "spec.behavior", required=True)
    if behavior not in BEHAVIORS:
        where.fail("spec.behavior", f"unknown behaviour {_show(behavior)} (known: {', '.join(BEHAVIORS)})")
    return where, image, behavior


def _check_metadata(where: _Where, rt: ResourceType, doc: Obj) -> None:
    meta = _mapping(where, doc.get("metadata", _MISSING), "metadata", required=True)
    name = _str(where, meta.get("name", _MISSING), "metadata.name", required=True)
    if rt is _NAMESPACE_RT:
        _check_name(where, name, "metadata.name", _DNS_LABEL, 63)
    elif rt.kind == "Service":
        _check_name(where, name, "metadata.name", _DNS_1035_LABEL, 63)
    elif rt.group == "rbac.authorization.k8s.io":
        if name in (".", "..") or "/" in name or "%" in name or not name:
            where.fail("metadata.name", f'{_show(name)}: may not be "." or ".." and may not contain "/" or "%"')
    else:
        _check_name(where, name, "metadata.name", _DNS_SUBDOMAIN, 253)
    namespace = meta.get("namespace")
    if namespace is not None and namespace != "":
        _str(where, namespace, "metadata.namespace")
        _check_name(where, namespace, "metadata.namespace", _DNS_LABEL, 63)
    _check_labels(where, meta.get("labels", _MISSING), "metadata.labels")
    _check_string_map(where, meta.get("annotations", _MISSING), "metadata.annotations")
    uid = meta.get("uid", _MISSING)
    if uid is not _MISSING and (not isinstance(uid, str) or not uid):
        where.fail("metadata.uid", f"expected a non-empty string, got {_show(uid)}")
    _time(where, meta.get("creationTimestamp", _MISSING), "metadata.creationTimestamp")
    _int(where, meta.get("generation", _MISSING), "metadata.generation", minimum=1)
    _str(where, meta.get("generateName", _MISSING), "metadata.generateName")
    _check_owner_refs(where, meta.get("ownerReferences", _MISSING))


def _check_owner_refs(where: _Where, refs: Any) -> None:
    if _list(where, refs, "metadata.ownerReferences") is None:
        return
    controllers = 0
    for i, ref in enumerate(refs):
        path = f"metadata.ownerReferences[{i}]"
        _mapping(where, ref, path, required=True)
        for key in ("apiVersion", "kind", "name"):
            _str(where, ref.get(key, _MISSING), f"{path}.{key}", required=True)
        uid = ref.get("uid", _MISSING)
        if uid is not _MISSING and uid is not None and not isinstance(uid, str):
            where.fail(f"{path}.uid", f"expected a string, got {_show(uid)}")
        _bool(where, ref.get("blockOwnerDeletion", _MISSING), f"{path}.blockOwnerDeletion")
        if _bool(where, ref.get("controller", _MISSING), f"{path}.controller"):
            controllers += 1
    if controllers > 1:
        where.fail("metadata.ownerReferences", "Only one reference can have Controller set to true")


def _check_labels(where: _Where, labels: Any, path: str) -> None:
    if _check_string_map(where, labels, path) is None:
        return
    for key, value in labels.items():
        prefix, _, label_name = key.rpartition("/")
        if (len(label_name) > 63 or not _LABEL_NAME.match(label_name)
                or (prefix and (len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix)))):
            where.fail(f"{path}", f"{_show(key)} is not a valid label key")
        if len(value) > 63 or not _LABEL_VALUE.match(value):
            where.fail(f"{path}.{key}", f"{_show(value)} is not a valid label value")


def _check_string_map(where: _Where, value: Any, path: str) -> dict[str, str] | None:
    """A map[string]string field: the API server refuses numbers or booleans as values."""
    if _mapping(where, value, path) is None:
        return None
    for key, item in value.items():
        if not isinstance(key, str):
            where.fail(path, f"keys must be strings, got {_show(key)}")
        if not isinstance(item, str):
            where.fail(f"{path}.{key}", f"expected a string, got {_show(item)} (quote it)")
    result: dict[str, str] = value
    return result


# -- kind-specific checks (the fields the controllers and the self-healing job read) ---------------


def _check_workload(where: _Where, doc: Obj) -> None:
    """Deployment and ReplicaSet: replicas, selector, template labels, containers, status counters."""
    spec = _mapping(where, doc.get("spec", _MISSING), "spec", required=True)
    _int(where, spec.get("replicas", _MISSING), "spec.replicas", minimum=0)
    selector = _check_selector(where, spec.get("selector", _MISSING), "spec.selector", required=True,
                               kind=doc["kind"].lower())
    template = _mapping(where, spec.get("template", _MISSING), "spec.template", required=True)
    labels = _check_template_meta(where, template, "spec.template")
    if not selector_matches(selector, labels):
        where.fail("spec.template.metadata.labels",
                   f"`selector` does not match template `labels` (selector {selector_to_string(selector)}, "
                   f"labels {_labels_text(labels)})")
    tspec = _mapping(where, template.get("spec", _MISSING), "spec.template.spec", required=True)
    _check_containers(where, tspec.get("containers", _MISSING), "spec.template.spec.containers")
    status = _mapping(where, doc.get("status", _MISSING), "status") or {}
    for key in ("replicas", "readyReplicas", "availableReplicas", "updatedReplicas", "unavailableReplicas",
                "fullyLabeledReplicas", "observedGeneration", "terminatingReplicas"):
        _int(where, status.get(key, _MISSING), f"status.{key}", minimum=0)


def _check_pod(where: _Where, doc: Obj) -> None:
    spec = _mapping(where, doc.get("spec", _MISSING), "spec", required=True)
    names = _check_containers(where, spec.get("containers", _MISSING), "spec.containers")
    init = _check_containers(where, spec.get("initContainers", _MISSING), "spec.initContainers", required=False)
    status = _mapping(where, doc.get("status", _MISSING), "status") or {}
    phase = status.get("phase", _MISSING)
    if phase is not _MISSING and phase not in ("Pending", "Running", "Succeeded", "Failed", "Unknown"):
        where.fail("status.phase", f"unknown phase {_show(phase)} (known: Pending, Running, Succeeded, Failed, "
                                   "Unknown)")
    _time(where, status.get("startTime", _MISSING), "status.startTime")
    _check_container_statuses(where, status.get("containerStatuses", _MISSING), "status.containerStatuses", names)
    _check_container_statuses(where, status.get("initContainerStatuses", _MISSING),
                              "status.initContainerStatuses", init)


def _check_job_template(where: _Where, template: Any, path: str) -> None:
    template = _mapping(where, template, path, required=True)
    _check_template_meta(where, template, path)
    tspec = _mapping(where, template.get("spec", _MISSING), f"{path}.spec", required=True)
    _check_containers(where, tspec.get("containers", _MISSING), f"{path}.spec.containers")
    restart = tspec.get("restartPolicy", _MISSING)
    if restart is not _MISSING and restart not in ("Never", "OnFailure"):
        where.fail(f"{path}.spec.restartPolicy", f'Unsupported value: {_show(restart)}: supported values: '
                                                 '"OnFailure", "Never"')


def _check_job(where: _Where, doc: Obj) -> None:
    spec = _mapping(where, doc.get("spec", _MISSING), "spec", required=True)
    if spec.get("selector") is not None:
        _check_selector(where, spec["selector"], "spec.selector", required=False, kind="job")
    _check_job_template(where, spec.get("template", _MISSING), "spec.template")


def _check_cronjob(where: _Where, doc: Obj) -> None:
    spec = _mapping(where, doc.get("spec", _MISSING), "spec", required=True)
    schedule = _str(where, spec.get("schedule", _MISSING), "spec.schedule", required=True)
    if len(schedule.split()) not in (1, 5, 6) or not schedule.strip():
        where.fail("spec.schedule", f"{_show(schedule)}: expected a cron schedule such as \"*/5 * * * *\"")
    policy = spec.get("concurrencyPolicy", _MISSING)
    if policy is not _MISSING and policy not in ("Allow", "Forbid", "Replace"):
        where.fail("spec.concurrencyPolicy", f'Unsupported value: {_show(policy)}: supported values: "Allow", '
                                             '"Forbid", "Replace"')
    _bool(where, spec.get("suspend", _MISSING), "spec.suspend")
    job = _mapping(where, spec.get("jobTemplate", _MISSING), "spec.jobTemplate", required=True)
    jspec = _mapping(where, job.get("spec", _MISSING), "spec.jobTemplate.spec", required=True)
    _check_job_template(where, jspec.get("template", _MISSING), "spec.jobTemplate.spec.template")


def _check_hpa(where: _Where, doc: Obj) -> None:
    spec = _mapping(where, doc.get("spec", _MISSING), "spec", required=True)
    target = _mapping(where, spec.get("scaleTargetRef", _MISSING), "spec.scaleTargetRef", required=True)
    for key in ("kind", "name"):
        _str(where, target.get(key, _MISSING), f"spec.scaleTargetRef.{key}", required=True)
    minimum = _int(where, spec.get("minReplicas", _MISSING), "spec.minReplicas", minimum=1)
    maximum = _int(where, spec.get("maxReplicas", _MISSING), "spec.maxReplicas", minimum=1, required=True)
    if maximum < (minimum or 1):
        where.fail("spec.maxReplicas", f"Invalid value: {maximum}: must be greater than or equal to `minReplicas`")


def _check_pdb(where: _Where, doc: Obj) -> None:
    spec = _mapping(where, doc.get("spec", _MISSING), "spec", required=True)
    given = [key for key in ("minAvailable", "maxUnavailable") if spec.get(key) is not None]
    if len(given) == 2:
        where.fail("spec", "minAvailable and maxUnavailable cannot be both set")
    for key in given:
        value = spec[key]
        if isinstance(value, bool) or not (
                (isinstance(value, int) and value >= 0)
                or (isinstance(value, str) and re.fullmatch(r"\d+%", value))):
            where.fail(f"spec.{key}", f"expected a non-negative integer or a percentage, got {_show(value)}")
    if spec.get("selector") is not None:
        _check_selector(where, spec["selector"], "spec.selector", required=False, kind="poddisruptionbudget")


def _check_config_map(where: _Where, doc: Obj) -> None:
    _check_string_map(where, doc.get("data", _MISSING), "data")
    _check_string_map(where, doc.get("binaryData", _MISSING), "binaryData")


def _check_secret(where: _Where, doc: Obj) -> None:
    _check_string_map(where, doc.get("data", _MISSING), "data")
    _check_string_map(where, doc.get("stringData", _MISSING), "stringData")


def _check_service(where: _Where, doc: Obj) -> None:
    spec = _mapping(where, doc.get("spec", _MISSING), "spec") or {}
    _check_string_map(where, spec.get("selector", _MISSING), "spec.selector")
    ports = _list(where, spec.get("ports", _MISSING), "spec.ports") or []
    for i, port in enumerate(ports):
        _mapping(where, port, f"spec.ports[{i}]", required=True)
        _port(where, port.get("port", _MISSING), f"spec.ports[{i}].port", required=True)


def _check_event(where: _Where, doc: Obj) -> None:
    involved = _mapping(where, doc.get("involvedObject", _MISSING), "involvedObject", required=True)
    for key in ("kind", "name"):
        _str(where, involved.get(key, _MISSING), f"involvedObject.{key}", required=True)
    _int(where, doc.get("count", _MISSING), "count", minimum=0)
    for key in ("firstTimestamp", "lastTimestamp"):
        _time(where, doc.get(key, _MISSING), key, nullable=True)


_KIND_CHECKS: dict[str, Callable[[_Where, Obj], None]] = {
    "Deployment": _check_workload,
    "ReplicaSet": _check_workload,
    "Pod": _check_pod,
    "Job": _check_job,
    "CronJob": _check_cronjob,
    "HorizontalPodAutoscaler": _check_hpa,
    "PodDisruptionBudget": _check_pdb,
    "ConfigMap": _check_config_map,
    "Secret": _check_secret,
    "Service": _check_service,
    "Event": _check_event,
}


def _check_template_meta(where: _Where, template: Obj, path: str) -> dict[str, str]:
    meta = _mapping(where, template.get("metadata", _MISSING), f"{path}.metadata") or {}
    _check_string_map(where, meta.get("annotations", _MISSING), f"{path}.metadata.annotations")
    _check_labels(where, meta.get("labels", _MISSING), f"{path}.metadata.labels")
    labels: dict[str, str] = meta.get("labels") or {}
    return labels


def _check_selector(where: _Where, selector: Any, path: str, *, required: bool, kind: str) -> Obj:
    selector = _mapping(where, selector, path, required=required)
    if selector is None:
        return {}
    _check_labels(where, selector.get("matchLabels", _MISSING), f"{path}.matchLabels")
    exprs = _list(where, selector.get("matchExpressions", _MISSING), f"{path}.matchExpressions") or []
    for i, expr in enumerate(exprs):
        epath = f"{path}.matchExpressions[{i}]"
        _mapping(where, expr, epath, required=True)
        _str(where, expr.get("key", _MISSING), f"{epath}.key", required=True)
        op = expr.get("operator")
        if op not in ("In", "NotIn", "Exists", "DoesNotExist"):
            where.fail(f"{epath}.operator", f'Unsupported value: {_show(op)}: supported values: "In", "NotIn", '
                                            '"Exists", "DoesNotExist"')
        values = _list(where, expr.get("values", _MISSING), f"{epath}.values") or []
        if any(not isinstance(v, str) for v in values):
            where.fail(f"{epath}.values", "expected a list of strings")
        if op in ("In", "NotIn") and not values:
            where.fail(f"{epath}.values", "Required value: must be specified when `operator` is 'In' or 'NotIn'")
        if op in ("Exists", "DoesNotExist") and values:
            where.fail(f"{epath}.values", "Forbidden: may not be specified when `operator` is 'Exists' or "
                                          "'DoesNotExist'")
    if required and not selector.get("matchLabels") and not exprs:
        where.fail(path, f"Invalid value: empty selector is invalid for {kind}")
    try:
        parse_label_selector(selector_to_string(selector))
    except ApiError as exc:
        where.fail(path, exc.message)
    return selector


def _check_containers(where: _Where, containers: Any, path: str, *, required: bool = True) -> set[str]:
    """The container list: each with a unique DNS-label name and an image (what the kubelet runs)."""
    if containers is _MISSING or containers is None or containers == []:
        if required:
            where.fail(path, "Required value: a pod needs at least one container")
        return set()
    _list(where, containers, path, required=True)
    names: set[str] = set()
    for i, container in enumerate(containers):
        cpath = f"{path}[{i}]"
        _mapping(where, container, cpath, required=True)
        name = _str(where, container.get("name", _MISSING), f"{cpath}.name", required=True)
        _check_name(where, name, f"{cpath}.name", _DNS_LABEL, 63)
        if name in names:
            where.fail(f"{cpath}.name", f"Duplicate value: {_show(name)}")
        names.add(name)
        image = _str(where, container.get("image", _MISSING), f"{cpath}.image", required=True)
        if not image.strip():
            where.fail(f"{cpath}.image", "Required value")
        for j, port in enumerate(_list(where, container.get("ports", _MISSING), f"{cpath}.ports") or []):
            _mapping(where, port, f"{cpath}.ports[{j}]", required=True)
            _port(where, port.get("containerPort", _MISSING), f"{cpath}.ports[{j}].containerPort", required=True)
        for j, env in enumerate(_list(where, container.get("env", _MISSING), f"{cpath}.env") or []):
            _mapping(where, env, f"{cpath}.env[{j}]", required=True)
            _str(where, env.get("name", _MISSING), f"{cpath}.env[{j}].name", required=True)
            _str(where, env.get("value", _MISSING), f"{cpath}.env[{j}].value")
    return names


def _check_container_statuses(where: _Where, statuses: Any, path: str, names: set[str]) -> None:
    """What the job classifies crash loops by: state, lastState.terminated, restartCount."""
    for i, status in enumerate(_list(where, statuses, path) or []):
        spath = f"{path}[{i}]"
        _mapping(where, status, spath, required=True)
        name = _str(where, status.get("name", _MISSING), f"{spath}.name", required=True)
        if name not in names:
            where.fail(f"{spath}.name", f"{_show(name)} is not a container of this pod "
                                        f"(containers: {', '.join(sorted(names)) or 'none'})")
        _int(where, status.get("restartCount", _MISSING), f"{spath}.restartCount", minimum=0)
        _bool(where, status.get("ready", _MISSING), f"{spath}.ready")
        _bool(where, status.get("started", _MISSING), f"{spath}.started")
        _str(where, status.get("image", _MISSING), f"{spath}.image")
        for key in ("state", "lastState"):
            _check_container_state(where, status.get(key, _MISSING), f"{spath}.{key}")


def _check_container_state(where: _Where, state: Any, path: str) -> None:
    if _mapping(where, state, path) is None:
        return
    unknown = set(state) - {"waiting", "running", "terminated"}
    if unknown:
        where.fail(f"{path}.{sorted(unknown)[0]}", "unknown container state (known: waiting, running, terminated)")
    if len(state) > 1:
        where.fail(path, f"a container is in one state at a time, got {', '.join(sorted(state))}")
    for key, detail in state.items():
        dpath = f"{path}.{key}"
        _mapping(where, detail, dpath, required=True)
        _str(where, detail.get("reason", _MISSING), f"{dpath}.reason")
        _str(where, detail.get("message", _MISSING), f"{dpath}.message")
        if key == "terminated":
            _int(where, detail.get("exitCode", _MISSING), f"{dpath}.exitCode", required=True)
            _time(where, detail.get("finishedAt", _MISSING), f"{dpath}.finishedAt", nullable=True)
        if key in ("running", "terminated"):
            _time(where, detail.get("startedAt", _MISSING), f"{dpath}.startedAt", nullable=True)


def _check_conditions(where: _Where, doc: Obj) -> None:
    status = doc.get("status")
    if not isinstance(status, dict):
        _mapping(where, doc.get("status", _MISSING), "status")
        return
    for i, c in enumerate(_list(where, status.get("conditions", _MISSING), "status.conditions") or []):
        path = f"status.conditions[{i}]"
        _mapping(where, c, path, required=True)
        _str(where, c.get("type", _MISSING), f"{path}.type", required=True)
        if c.get("status") not in ("True", "False", "Unknown"):
            where.fail(f"{path}.status", f'expected "True", "False" or "Unknown", got {_show(c.get("status"))}')
        for key in ("lastTransitionTime", "lastUpdateTime", "lastProbeTime", "lastHeartbeatTime"):
            _time(where, c.get(key, _MISSING), f"{path}.{key}", nullable=True)


# -- value checks ------------------------------------------------------------------------------


def _mapping(where: _Where, value: Any, path: str, *, required: bool = False) -> Any:
    if value is _MISSING or (value is None and not required):
        if required:
            where.fail(path, "Required value")
        return None
    if not isinstance(value, dict):
        where.fail(path, f"expected a mapping, got {_show(value)}")
    return value


def _list(where: _Where, value: Any, path: str, *, required: bool = False) -> Any:
    if value is _MISSING or (value is None and not required):
        if required:
            where.fail(path, "Required value")
        return None
    if not isinstance(value, list):
        where.fail(path, f"expected a list, got {_show(value)}")
    return value


def _str(where: _Where, value: Any, path: str, *, required: bool = False) -> Any:
    if value is _MISSING or (value is None and not required):
        if required:
            where.fail(path, "Required value")
        return None
    if not isinstance(value, str):
        where.fail(path, f"expected a string, got {_show(value)}")
    if required and not value:
        where.fail(path, "Required value")
    return value


def _int(where: _Where, value: Any, path: str, *, minimum: int | None = None, required: bool = False) -> Any:
    if value is _MISSING or (value is None and not required):
        if required:
            where.fail(path, "Required value")
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        where.fail(path, f"expected an integer, got {_show(value)}")
    if minimum is not None and value < minimum:
        where.fail(path, f"Invalid value: {value}: must be greater than or equal to {minimum}")
    return value


def _port(where: _Where, value: Any, path: str, *, required: bool = False) -> None:
    port = _int(where, value, path, required=required)
    if port is not None and not 1 <= port <= 65535:
        where.fail(path, f"Invalid value: {port}: must be between 1 and 65535, inclusive")


def _bool(where: _Where, value: Any, path: str) -> Any:
    if value is _MISSING or value is None:
        return None
    if not isinstance(value, bool):
        where.fail(path, f"expected true or false, got {_show(value)}")
    return value


def _time(where: _Where, value: Any, path: str, *, nullable: bool = False) -> None:
    if value is _MISSING or (value is None and nullable):
        return
    if not isinstance(value, str) or not _RFC3339.match(value):
        where.fail(path, f"expected an RFC 3339 time such as \"2026-01-01T11:55:00Z\", got {_show(value)}")
    try:
        parse_time(value)
    except ValueError:
        where.fail(path, f"expected an RFC 3339 time such as \"2026-01-01T11:55:00Z\", got {_show(value)}")


_NAME_RULES = {  # the API server's wording (k8s.io/apimachinery/pkg/util/validation)
    _DNS_LABEL.pattern: "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
                        "and must start and end with an alphanumeric character",
    _DNS_SUBDOMAIN.pattern: "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
                            "'-' or '.', and must start and end with an alphanumeric character",
    _DNS_1035_LABEL.pattern: "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start "
                             "with an alphabetic character, and end with an alphanumeric character",
}


def _check_name(where: _Where, name: str, path: str, pattern: re.Pattern[str], limit: int) -> None:
    if len(name) > limit:
        where.fail(path, f"Invalid value: {_show(name)}: must be no more than {limit} characters")
    if not pattern.match(name):
        where.fail(path, f"Invalid value: {_show(name)}: {_NAME_RULES[pattern.pattern]}")


def _labels_text(labels: Mapping[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items())) or "none"


# -- the file as a whole ------------------------------------------------------------------------


def _resolve(entries: list[_Entry]) -> tuple[str, tuple[tuple[ResourceType, Obj], ...]]:
    """Namespaces, duplicates, uids and owner references across documents; the load order."""
    declared = [e for e in entries if e.rt is _NAMESPACE_RT]
    declared_names = [e.meta["name"] for e in declared]
    default = declared_names[0] if len(declared) == 1 else None
    for e in entries:
        if not e.rt.namespaced:
            e.meta.pop("namespace", None)
            continue
        namespace = e.meta.get("namespace") or default
        if not namespace:
            e.where.fail("metadata.namespace", "Required value: a namespaced object needs one (it may be left "
                                               "out only when the file has exactly one Namespace document)")
        if declared and namespace not in declared_names:
            e.where.fail("metadata.namespace", f'namespace "{namespace}" is not defined in this scenario '
                                               f"(its Namespace documents: {', '.join(declared_names)})")
        e.meta["namespace"] = namespace
    used = Counter(e.meta["namespace"] for e in entries if e.rt.namespaced)
    namespace = declared_names[0] if declared else (used.most_common(1)[0][0] if used else "default")
    created = [] if declared else [_namespace_object(ns, entries) for ns in (list(used) or [namespace])]
    _check_unique(entries)
    _link_owners(entries)
    objects = [(_NAMESPACE_RT, obj) for obj in created]
    objects += [(e.rt, e.obj) for e in declared]
    objects += [(e.rt, e.obj) for e in entries if e.rt is not _NAMESPACE_RT]
    return namespace, tuple(objects)


def _namespace_object(name: str, entries: list[_Entry]) -> Obj:
    """A Namespace as the API server creates it; as old as the oldest object in it."""
    meta: Obj = {"labels": {"kubernetes.io/metadata.name": name}, "name": name}
    times = [e.meta["creationTimestamp"] for e in entries
             if e.meta.get("namespace") == name and e.meta.get("creationTimestamp")]
    if times:
        meta["creationTimestamp"] = min(times, key=parse_time)
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": meta,
            "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}


def _check_unique(entries: list[_Entry]) -> None:
    seen: dict[tuple[ResourceType, str, str], _Where] = {}
    uids: dict[str, _Where] = {}
    for e in entries:
        key = (e.rt, e.meta.get("namespace", ""), e.meta["name"])
        if key in seen:
            where = f' in namespace "{key[1]}"' if key[1] else ""
            e.where.fail("metadata.name", f'duplicate: {e.rt.kind} "{key[2]}"{where} is already defined by '
                                          f"{seen[key]}")
        seen[key] = e.where
        uid = e.meta.get("uid")
        if uid:
            if uid in uids:
                e.where.fail("metadata.uid", f"{_show(uid)} is already the uid of {uids[uid]}")
            uids[uid] = e.where


def _derived_uid(rt: ResourceType, namespace: str, name: str) -> str:
    """A stable uid (UUID v4 layout, like the API server's) for an owner the file gives none."""
    digest = hashlib.sha256(f"{rt.api_version}/{rt.kind}/{namespace}/{name}".encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def _link_owners(entries: list[_Entry]) -> None:
    by_key = {(e.rt, e.meta.get("namespace", ""), e.meta["name"]): e for e in entries}
    uids = {e.meta["uid"]: e for e in entries if e.meta.get("uid")}
    # references that name a uid first, so an owner without one takes the uid its dependents expect
    for with_uid in (True, False):
        for e in entries:
            for i, ref in enumerate(e.meta.get("ownerReferences") or []):
                if bool(ref.get("uid")) == with_uid:
                    _link(e, i, ref, by_key, uids)


def _link(e: _Entry, i: int, ref: Obj, by_key: Mapping[tuple[ResourceType, str, str], _Entry],
          uids: dict[str, _Entry]) -> None:
    path = f"metadata.ownerReferences[{i}]"
    rt = _KINDS.get(ref["kind"])
    if rt is None:
        e.where.fail(f"{path}.kind", f'owner kind {_show(ref["kind"])} is not served by the sandbox, so the owner '
                                     "cannot be in this scenario")
    if rt.namespaced and not e.rt.namespaced:
        e.where.fail(path, f"a cluster-scoped object cannot be owned by a namespaced {rt.kind}")
    namespace = e.meta.get("namespace", "") if rt.namespaced else ""
    owner = by_key.get((rt, namespace, ref["name"]))
    if owner is None:
        where = f' in namespace "{namespace}"' if namespace else ""
        e.where.fail(path, f'owner {rt.kind} "{ref["name"]}"{where} is not in this scenario (the garbage '
                           "collector would have deleted this object)")
    if ref["apiVersion"] != rt.api_version:
        e.where.fail(f"{path}.apiVersion", f"expected {_show(rt.api_version)} for a {rt.kind}, got "
                                           f"{_show(ref['apiVersion'])}")
    owner_uid = owner.meta.get("uid")
    if ref.get("uid"):
        if owner_uid and owner_uid != ref["uid"]:
            e.where.fail(f"{path}.uid", f'{_show(ref["uid"])} is not the uid of {rt.kind} "{ref["name"]}" '
                                        f"({_show(owner_uid)})")
        if not owner_uid:
            _give_uid(e, path, owner, ref["uid"], uids)
    else:
        if not owner_uid:
            owner_uid = _derived_uid(rt, namespace, ref["name"])
            _give_uid(e, path, owner, owner_uid, uids)
        ref["uid"] = owner_uid
    selector = (owner.obj.get("spec") or {}).get("selector")
    if ref.get("controller") is True and rt.kind in _SELECTOR_OWNERS and isinstance(selector, dict):
        labels = e.meta.get("labels") or {}
        if not selector_matches(selector, labels):
            e.where.fail("metadata.labels", f"{_labels_text(labels)} do not match the selector of its controller "
                                            f'{rt.kind} "{ref["name"]}" ({selector_to_string(selector)}): the '
                                            f"{rt.kind} controller would release it")


def _give_uid(e: _Entry, path: str, owner: _Entry, uid: str, uids: dict[str, _Entry]) -> None:
    taken = uids.get(uid)
    if taken is not None and taken is not owner:
        e.where.fail(f"{path}.uid", f"{_show(uid)} is the uid of {taken.where}, not of its owner {owner.where}")
    owner.meta["uid"] = uid
    uids[uid] = owner


# -- moving a scenario in time ------------------------------------------------------------------

_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")


def _shift(value: Any, delta: timedelta) -> Any:
    if isinstance(value, dict):
        return {k: _shift(v, delta) for k, v in value.items()}
    if isinstance(value, list):
        return [_shift(v, delta) for v in value]
    if isinstance(value, str) and _RFC3339.match(value):
        moved = parse_time(value) + delta
        if "." in value:
            return moved.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return moved.strftime("%Y-%m-%dT%H:%M:%SZ")
    return value


def shift_scenario(scenario: Scenario, delta: timedelta) -> Scenario:
    """The same scenario with every timestamp moved by `delta`: `serve` starts it at wall-clock now,
    so a pod written as crashing two minutes before the epoch shows `2m ago`, not months."""
    objects = tuple((rt, _shift(obj, delta)) for rt, obj in scenario.objects)
    return replace(scenario, objects=objects)
