"""Reading a scenario: the file, its YAML documents (as the API server reads JSON), each object or
ImageBehavior, then the checks and the owner links; and storing it."""

from __future__ import annotations

import copy
import importlib.resources
import os
from collections.abc import Hashable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any, NoReturn

import yaml

from kubesandbox.resources import RESOURCES, ResourceType, resource_for_kind
from kubesandbox.resources.clock import parse_time
from kubesandbox.resources.defaults import apply_defaults
from kubesandbox.resources.errors import ApiError
from kubesandbox.serve.scenario.checks import check_mapping, check_name, check_object, check_str, check_time
from kubesandbox.serve.scenario.model import (
    BEHAVIORS,
    DNS_SUBDOMAIN,
    IMAGE_BEHAVIOR_KIND,
    MISSING,
    NAMESPACE_RT,
    SANDBOX_API_VERSION,
    SCENARIO_KIND,
    Entry,
    Obj,
    Scenario,
    ScenarioError,
    Where,
    one_line,
    show,
)
from kubesandbox.serve.scenario.owners import resolve_objects
from kubesandbox.serve.scenario.timeline import capture_time
from kubesandbox.store import Store


def _scenario_dir() -> Path:
    return Path(str(importlib.resources.files("kubesandbox").joinpath("scenarios")))


def bundled_scenarios() -> list[str]:
    """Names of the scenarios shipped with the package (`ea-plan-v5`, `minimal`, ...)."""
    return sorted(p.stem for p in _scenario_dir().glob("*.yaml"))


def resolve(path_or_name: str | os.PathLike[str]) -> Path:
    """An existing file path as given, else the bundled scenario of that name (`.yaml` optional)."""
    path = Path(path_or_name)
    if path.is_file():
        return path
    text = str(path_or_name)
    stem = text[: -len(".yaml")] if text.endswith(".yaml") else text
    if "/" not in text and os.sep not in text and stem in bundled_scenarios():
        return _scenario_dir() / f"{stem}.yaml"
    raise ScenarioError(
        f"{text}: no such file, and not a bundled scenario "
        f"(bundled: {', '.join(bundled_scenarios()) or 'none'})"
    )


def load_scenario(path_or_name: str | os.PathLike[str]) -> Scenario:
    """Read, validate and resolve a scenario file; raises ScenarioError on the first problem."""
    path = resolve(path_or_name)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(one_line(f"{path.name}: cannot read: {exc}")) from None
    return parse_scenario(text, source=path.name, name=path.stem)


def parse_scenario(text: str, *, source: str = "<scenario>", name: str = "scenario") -> Scenario:
    """The scenario in `text`; `source` names it in error messages."""
    entries: list[Entry] = []
    behaviors: dict[str, tuple[str, Where]] = {}
    behavior_names: dict[str, Where] = {}
    declared: tuple[datetime, Where] | None = None
    for where, doc in _objects(_documents(text, source), source):
        parsed = _parse_object(where, doc)
        if isinstance(parsed, Entry):
            entries.append(parsed)
            continue
        if isinstance(parsed, _Capture):
            if declared is not None:
                parsed.where.fail("", f"a second Scenario document (the first is {declared[1]})")
            declared = (parsed.at, parsed.where)
            continue
        where, image, behavior = parsed
        if where.name in behavior_names:
            where.fail(
                "metadata.name",
                f'duplicate: ImageBehavior "{where.name}" is already defined by {behavior_names[where.name]}',
            )
        if image in behaviors:
            where.fail("spec.image", f"{show(image)} already has a behaviour, from {behaviors[image][1]}")
        behavior_names[where.name] = where
        behaviors[image] = (behavior, where)
    namespace, objects = resolve_objects(entries)
    captured_at, anchored_by = capture_time(declared[0] if declared else None, (obj for _, obj in objects))
    return Scenario(
        name=name,
        namespace=namespace,
        objects=objects,
        behaviors=MappingProxyType({image: b for image, (b, _) in behaviors.items()}),
        captured_at=captured_at,
        anchored_by=anchored_by,
    )


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
            elif rt is not NAMESPACE_RT:
                where = f' in namespace "{meta["namespace"]}"' if rt.namespaced else ""
                raise ScenarioError(
                    f"{scenario.name}: {rt.kind}/{meta['name']}: already in the store{where} "
                    "(load a scenario into a store that does not hold its objects)"
                )
        pods: list[str] = []
        for rt, obj in todo:
            try:
                # A real server defaults every object it stores; scenarios written by hand (or by
                # tests) may leave defaults out, and controllers rely on them (strategy, probes...).
                stored = store.load(rt, apply_defaults(copy.deepcopy(obj)))
            except ApiError as exc:  # pragma: no cover - ruled out by the check above
                raise ScenarioError(
                    one_line(f"{scenario.name}: {rt.kind}/{obj['metadata']['name']}: {exc.message}")
                ) from None
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
            raise yaml.constructor.ConstructorError(
                None, None, "a mapping key must be a scalar", key_node.start_mark
            )
        if key in out:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {show(key)}", key_node.start_mark
            )
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
        raise ScenarioError(
            one_line(f"{source}: document {len(docs) + 1}: {at}: invalid YAML: {problem}")
        ) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(one_line(f"{source}: document {len(docs) + 1}: invalid YAML: {exc}")) from None
    finally:
        loader.dispose()
    return docs


def _objects(docs: list[tuple[int, Any]], source: str) -> Iterator[tuple[Where, Any]]:
    """Every object of the file with its place: documents, and the items of `kind: List` documents."""
    for index, doc in docs:
        if doc is None:
            continue
        where = Where(source, index)
        if isinstance(doc, dict) and doc.get("kind") == "List" and doc.get("apiVersion") == "v1":
            items = doc.get("items")
            if not isinstance(items, list):
                replace(where, kind="List").fail("items", f"expected a list, got {show(items)}")
            for n, item in enumerate(items, 1):
                yield replace(where, item=n), item
        else:
            yield where, doc


# -- one object ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Capture:
    where: Where
    at: datetime


def _parse_object(where: Where, doc: Any) -> Entry | _Capture | tuple[Where, str, str]:
    if not isinstance(doc, dict):
        where.fail("", f"expected a Kubernetes object (a mapping), got {show(doc)}")
    api_version = check_str(where, doc.get("apiVersion", MISSING), "apiVersion", required=True)
    kind = check_str(where, doc.get("kind", MISSING), "kind", required=True)
    meta = doc.get("metadata")
    name = meta.get("name") if isinstance(meta, dict) else None
    where = replace(where, kind=kind, name=name if isinstance(name, str) else "")
    if api_version == SANDBOX_API_VERSION and kind == IMAGE_BEHAVIOR_KIND:
        return _parse_behavior(where, doc)
    if api_version == SANDBOX_API_VERSION and kind == SCENARIO_KIND:
        return _parse_capture(where, doc)
    rt = resource_for_kind(api_version, kind)
    if rt is None:
        _unknown_kind(where, api_version, kind)
    check_object(where, rt, doc)
    doc["metadata"].pop("resourceVersion", None)  # the store assigns its own
    return Entry(where, rt, doc)


def _unknown_kind(where: Where, api_version: str, kind: str) -> NoReturn:
    served = [r.api_version for r in RESOURCES if r.kind == kind]
    if kind in (IMAGE_BEHAVIOR_KIND, SCENARIO_KIND):
        served = [SANDBOX_API_VERSION]
    if served:
        where.fail(
            "apiVersion",
            f'no matches for kind "{kind}" in version "{api_version}" '
            f"(the sandbox serves {kind} as {', '.join(served)})",
        )
    kinds = sorted({r.kind for r in RESOURCES} | {IMAGE_BEHAVIOR_KIND, SCENARIO_KIND})
    where.fail(
        "kind",
        f'no matches for kind "{kind}" in version "{api_version}" '
        f"(kinds the sandbox serves: {', '.join(kinds)})",
    )


def _parse_behavior(where: Where, doc: Obj) -> tuple[Where, str, str]:
    meta = check_mapping(where, doc.get("metadata", MISSING), "metadata", required=True)
    name = check_str(where, meta.get("name", MISSING), "metadata.name", required=True)
    check_name(where, name, "metadata.name", DNS_SUBDOMAIN, 253)
    spec = check_mapping(where, doc.get("spec", MISSING), "spec", required=True)
    image = check_str(where, spec.get("image", MISSING), "spec.image", required=True)
    if not image or any(c.isspace() for c in image):
        where.fail("spec.image", f"expected an image reference, got {show(image)}")
    behavior = check_str(where, spec.get("behavior", MISSING), "spec.behavior", required=True)
    if behavior not in BEHAVIORS:
        where.fail("spec.behavior", f"unknown behaviour {show(behavior)} (known: {', '.join(BEHAVIORS)})")
    return where, image, behavior


def _parse_capture(where: Where, doc: Obj) -> _Capture:
    """`kind: Scenario`: when the objects were captured (`spec.capturedAt`, RFC 3339)."""
    spec = check_mapping(where, doc.get("spec", MISSING), "spec", required=True)
    value = check_str(where, spec.get("capturedAt", MISSING), "spec.capturedAt", required=True)
    check_time(where, value, "spec.capturedAt")
    return _Capture(where, parse_time(value))
