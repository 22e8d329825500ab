"""Observing the namespace's workloads in Prometheus: the last hour of each forecast's series, at `now`.

One query per signal serves every workload (grouped by `deployment`, `pod` or `horizontalpodautoscaler`);
pods and HPAs are mapped to their Deployments through the snapshot, so no naming convention is assumed.
Every query has an explicit time (the pass's `now`), a timeout, and the whole observation a budget
(`budget_seconds`): what is not answered in time, answers nonsense (HTML, NaN, ±Inf, no series) or fails
is marked unknown with the reason, never an error. An unreachable Prometheus is noticed once.

Restarts are read over the last 2 hours (rare events: the restart forecast needs their intervals), HPA
utilisation over the hour as well as at `now` (the capacity forecast's demand). A query cut short by the
budget leaves its signals "not asked", not Prometheus "unreachable"; a series whose every point is NaN or
±Inf (0/0: no traffic) is "no finite value", told apart from "no series"; an HPA that could not be observed
is unknown for its own Deployment only.
"""

from __future__ import annotations

import math
import string
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import structlog

from selfheal.observed import BURN_WINDOWS, HpaObservation, Observations, Series, WorkloadObservations
from selfheal.signals.prometheus import Prometheus, QueryFailed, Spent, Unreachable
from selfheal.signals.queries import DEFAULTS
from selfheal.view import Snapshot, SourceState

log = structlog.get_logger("selfheal.signals")

WINDOW_SECONDS = 3600
SIGNALS = ("request_rate", "error_ratio", "latency_p99", "burn", "restarts", "memory", "hpa")
RESTART_WINDOW_SECONDS = (
    7200  # restarts are rare events: the forecast reads the intervals of the last 2 hours
)
STEP = "60s"


@dataclass(frozen=True)
class ObserveConfig:
    prometheus_url: str | None = None
    timeout_seconds: float = 5.0
    budget_seconds: float = 20.0
    queries: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULTS))


class _Client:
    """The pass's questions to Prometheus, at `at`, within the observation's budget."""

    def __init__(self, config: ObserveConfig, at: datetime) -> None:
        self.prom = Prometheus(
            config.prometheus_url or "",
            timeout_seconds=config.timeout_seconds,
            budget_seconds=config.budget_seconds,
        )
        self.at = at

    def instant(self, query: str) -> list[dict[str, Any]]:
        return _listed(self.prom.instant(query, self.at))

    def range(self, query: str, window: float = WINDOW_SECONDS) -> list[dict[str, Any]]:
        return _listed(self.prom.range(query, self.at - timedelta(seconds=window), self.at, STEP))


def _listed(result: Any) -> list[dict[str, Any]]:
    if not isinstance(result, list):
        raise QueryFailed(f"not a result list: {str(result)[:80]}")
    return result


def _value(sample: Mapping[str, Any]) -> float | None:
    try:
        v = float(sample["value"][1])
    except (KeyError, IndexError, TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _by(result: list[dict[str, Any]], *labels: str) -> dict[str, dict[str, Any]]:
    out = {}
    for item in result:
        metric = item.get("metric") if isinstance(item, dict) else None
        if isinstance(metric, dict) and all(metric.get(label) for label in labels):
            out["/".join(str(metric[label]) for label in labels)] = item
    return out


def _owners(snapshot: Snapshot) -> tuple[dict[str, str], dict[str, str]]:
    """pod name -> Deployment name; HPA name -> Deployment name."""
    pods = {}
    for pod in snapshot.pods:
        dep = snapshot.deployment_of(pod)
        if dep is not None:
            pods[pod.metadata.name] = dep.metadata.name
    hpas = {
        h.metadata.name: h.spec.scale_target_ref.name
        for h in snapshot.hpas
        if h.spec.scale_target_ref.kind == "Deployment"
    }
    return pods, hpas


def read_observations(config: ObserveConfig, snapshot: Snapshot, at: datetime) -> Observations:
    """The last hour of every signal of every Deployment, at `at`. Never raises."""
    if not config.prometheus_url:
        return Observations(at=at)
    names = [d.metadata.name for d in snapshot.deployments]
    found: dict[str, dict[str, Any]] = {n: {} for n in names}
    unknown: dict[str, dict[str, str]] = {n: {} for n in names}
    try:
        client = _Client(config, at)
        _gather(client, config, snapshot, found, unknown)
    except Unreachable as exc:
        log.warning("prometheus.unreachable", url=config.prometheus_url, error=str(exc))
        return Observations(SourceState.ERROR, str(exc), at, WINDOW_SECONDS, {})
    except Exception as exc:  # an optional source never stops a pass
        detail = " ".join(f"{type(exc).__name__}: {exc}".split())[:200]
        log.warning("prometheus.failed", url=config.prometheus_url, error=detail)
        return Observations(SourceState.ERROR, detail, at, WINDOW_SECONDS, {})
    workloads = {n: replace(WorkloadObservations(**found[n]), unknown=unknown[n]) for n in names}
    return Observations(SourceState.AVAILABLE, "", at, WINDOW_SECONDS, workloads)


def _query(config: ObserveConfig, name: str, **values: str) -> str:
    return string.Template(config.queries.get(name) or DEFAULTS[name]).safe_substitute(**values)


def _gather(
    client: _Client,
    config: ObserveConfig,
    snapshot: Snapshot,
    found: dict[str, dict[str, Any]],
    unknown: dict[str, dict[str, str]],
) -> None:
    ns = snapshot.namespace
    pods, hpas = _owners(snapshot)

    def ask(signal: str, fn: Any, query: str) -> list[dict[str, Any]] | None:
        try:
            return list(fn(query))
        except (Unreachable, Spent):
            raise
        except Exception as exc:
            why = " ".join(f"{type(exc).__name__}: {exc}".split())[:160]
            log.warning("prometheus.query_failed", signal=signal, error=why)
            for n in unknown:
                unknown[n][signal] = why
            return None

    def per_deployment(signal: str, result: list[dict[str, Any]] | None) -> None:
        if result is None:
            return
        series = _by(result, "deployment")
        for n in found:
            if n in series and (s := Series.of(series[n].get("values"))):
                found[n][signal] = s
            else:
                unknown[n].setdefault(signal, _empty(series.get(n)))

    try:
        for signal in ("request_rate", "error_ratio", "latency_p99"):
            per_deployment(signal, ask(signal, client.range, _query(config, signal, namespace=ns)))
        burn: dict[str, dict[str, float]] = {n: {} for n in found}
        for window in BURN_WINDOWS:
            result = ask("burn", client.instant, _query(config, "burn", namespace=ns, window=window))
            for key, item in _by(result or [], "deployment").items():
                if key in burn and (v := _value(item)) is not None:
                    burn[key][window] = v
        for n, rates in burn.items():
            if rates:
                found[n]["burn"] = rates
        restarts = ask(
            "restarts",
            lambda q: client.range(q, RESTART_WINDOW_SECONDS),
            _query(config, "restarts", namespace=ns),
        )
        by_dep: dict[str, list[Series]] = {}
        for pod, item in _by(restarts or [], "pod").items():
            if pod in pods:
                by_dep.setdefault(pods[pod], []).append(Series.of(item.get("values")))
        for n, parts in by_dep.items():
            found[n]["restarts"] = _sum(parts)
        memory = ask("memory", client.range, _query(config, "memory", namespace=ns))
        limits = ask("memory_limit", client.instant, _query(config, "memory_limit", namespace=ns))
        mem: dict[str, dict[str, Series]] = {}
        lim: dict[str, dict[str, float]] = {}
        empty: dict[str, str] = {}
        for key, item in _by(memory or [], "pod", "container").items():
            if key.split("/")[0] in pods:
                if series := Series.of(item.get("values")):
                    mem.setdefault(pods[key.split("/")[0]], {})[key] = series
                else:
                    empty[pods[key.split("/")[0]]] = _empty(item)
        for key, item in _by(limits or [], "pod", "container").items():
            if key.split("/")[0] in pods and (v := _value(item)) is not None:
                lim.setdefault(pods[key.split("/")[0]], {})[key] = v
        for n in found:
            if n in mem:
                found[n]["memory"] = mem[n]
                found[n]["memory_limit"] = lim.get(n, {})
            else:
                unknown[n].setdefault("memory", empty.get(n, "no working-set series"))
        if hpas:
            _hpa(client, config, ns, hpas, found, unknown, ask)
    except Spent as exc:  # what was not asked is unknown for that reason, signal by signal
        scaled = set(hpas.values())
        for n in unknown:
            if n not in scaled:
                unknown[n].pop("hpa", None)  # an HPA query that failed before the budget ran out
            for signal in SIGNALS:
                if signal not in found[n] and (signal != "hpa" or n in scaled):
                    unknown[n].setdefault(signal, str(exc))


def _hpa(
    client: _Client,
    config: ObserveConfig,
    ns: str,
    hpas: dict[str, str],
    found: dict[str, dict[str, Any]],
    unknown: dict[str, dict[str, str]],
    ask: Any,
) -> None:
    """The HPAs' series, for the Deployments they scale; an HPA that could not be observed is unknown
    (`hpa`) for its Deployment only."""
    replicas = _by(
        ask("hpa", client.range, _query(config, "hpa_replicas", namespace=ns)) or [],
        "horizontalpodautoscaler",
    )
    instant = {
        name: _by(
            ask("hpa", client.instant, _query(config, name, namespace=ns)) or [], "horizontalpodautoscaler"
        )
        for name in ("hpa_max", "hpa_utilization", "hpa_target")
    }
    utilization = _by(
        ask("hpa", client.range, _query(config, "hpa_utilization", namespace=ns)) or [],
        "horizontalpodautoscaler",
    )
    failed = {dep: why.pop("hpa") for dep, why in unknown.items() if "hpa" in why}  # `ask` marked them all
    for hpa, dep in hpas.items():
        max_item = instant["hpa_max"].get(hpa)
        top = _value(max_item) if max_item else None
        current = Series.of(replicas[hpa].get("values")) if hpa in replicas else Series()
        if dep not in found:
            continue
        if not current or top is None:
            why = _empty(replicas.get(hpa)) if not current else "no maxReplicas value"
            unknown[dep]["hpa"] = failed.get(dep, f"HPA {hpa}: {why}")
            continue
        util, target = (instant[k].get(hpa) for k in ("hpa_utilization", "hpa_target"))
        found[dep]["hpa"] = HpaObservation(
            current,
            top,
            _value(util) if util else None,
            _value(target) if target else None,
            Series.of(utilization[hpa].get("values")) if hpa in utilization else Series(),
        )


def _empty(item: Mapping[str, Any] | None) -> str:
    """Why a series gave no usable point: absent, or every value NaN or infinite (0/0: no traffic)."""
    values = item.get("values") if item is not None else None
    if not isinstance(values, list) or not values:
        return "no series"
    return f"no finite value ({len(values)} points NaN or ±Inf)"


def _sum(parts: list[Series]) -> Series:
    """Series added point by point at the times they share (the restarts of a Deployment's pods)."""
    totals: dict[float, float] = {}
    for s in parts:
        for t, v in s.points:
            totals[t] = totals.get(t, 0.0) + v
    return Series(tuple(sorted(totals.items())))
