"""A scenario in time: the moment it shows, and moving it so every age is what it was at capture.

The anchor (`capture_time`) is when the scenario was captured:
1. declared: a `sandbox.selfheal.dev/v1alpha1` `Scenario` document with `spec.capturedAt` (RFC 3339);
2. else inferred: the newest timestamp in its objects (creation times, condition transitions, container
   start and finish times, `lastScheduleTime`, Lease renewals, managedFields...), which for a
   `kubectl get -o yaml` dump is when it was taken, to within seconds. Not counted: annotations and
   labels (free text), `deletionTimestamp` (set in the future by a graceful delete);
3. else `DEFAULT_EPOCH` (a hand-written scenario without any time).

A sandbox maps the anchor to its clock's start: wall-clock `serve` shifts every timestamp by
`now - anchor`, so `kubectl get pods` prints the AGE and RESTARTS "(Xs ago)" the source cluster printed;
a frozen (test) clock starts at the anchor itself, so nothing needs shifting.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from kubesandbox.resources.clock import DEFAULT_EPOCH, parse_time
from kubesandbox.serve.scenario.model import RFC3339, Obj, Scenario

_FREE_TEXT = frozenset({"annotations", "labels"})  # never anchors, never moved
_NOT_OBSERVATIONS = _FREE_TEXT | {"deletionTimestamp"}


def _times(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key not in _NOT_OBSERVATIONS:
                yield from _times(item)
    elif isinstance(value, list):
        for item in value:
            yield from _times(item)
    elif isinstance(value, str) and RFC3339.match(value):
        yield value


def newest_time(objects: Iterable[Obj]) -> datetime | None:
    times = [parse_time(s) for obj in objects for s in _times(obj)]
    return max(times) if times else None


def capture_time(declared: datetime | None, objects: Iterable[Obj]) -> tuple[datetime, str]:
    """(the anchor, how it was found)."""
    if declared is not None:
        return declared, "capturedAt"
    newest = newest_time(objects)
    if newest is not None:
        return newest, "newest timestamp"
    return DEFAULT_EPOCH, "default"


def _shift(value: Any, delta: timedelta) -> Any:
    if isinstance(value, dict):
        return {k: v if k in _FREE_TEXT else _shift(v, delta) for k, v in value.items()}
    if isinstance(value, list):
        return [_shift(v, delta) for v in value]
    if isinstance(value, str) and RFC3339.match(value):
        try:
            moved = parse_time(value) + delta
        except OverflowError:  # a time at the edge of the calendar is no observation of this cluster
            return value
        if "." in value:
            return moved.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return moved.strftime("%Y-%m-%dT%H:%M:%SZ")
    return value


def shift_scenario(scenario: Scenario, delta: timedelta) -> Scenario:
    """The same scenario with every timestamp (and its anchor) moved by `delta`."""
    objects = tuple((rt, _shift(obj, delta)) for rt, obj in scenario.objects)
    return replace(scenario, objects=objects, captured_at=scenario.captured_at + delta)


def replay_at(scenario: Scenario, now: datetime) -> Scenario:
    """The scenario moved so that its capture moment is `now`: every age is what it was at capture."""
    return shift_scenario(scenario, now - scenario.captured_at)
