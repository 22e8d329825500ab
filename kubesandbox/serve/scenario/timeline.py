"""Moving a scenario in time, so the ages it shows are the ones it was written with."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from kubesandbox.resources.clock import parse_time
from kubesandbox.serve.scenario.model import RFC3339, Scenario


def _shift(value: Any, delta: timedelta) -> Any:
    if isinstance(value, dict):
        return {k: _shift(v, delta) for k, v in value.items()}
    if isinstance(value, list):
        return [_shift(v, delta) for v in value]
    if isinstance(value, str) and RFC3339.match(value):
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
