"""Observing the namespace's workloads in Prometheus: the last hour of each forecast's series, at `now`.

One query per signal serves every workload (grouped by `deployment`, `pod` or `horizontalpodautoscaler`);
pods and HPAs are mapped to their Deployments through the snapshot, so no naming convention is assumed.
Every query has an explicit time (the pass's `now`), a timeout, and the whole observation a budget
(`budget_seconds`): what is not answered in time, answers nonsense (HTML, NaN, ±Inf, no series) or fails
is marked unknown with the reason, never an error. An unreachable Prometheus is noticed once.
"""

from __future__ import annotations

import math
import string
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import structlog

from selfheal.observed import BURN_WINDOWS, HpaObservation, Observations, Series, WorkloadObservations
from selfheal.signals.queries import DEFAULTS
from selfheal.view import Snapshot, SourceState

log = structlog.get_logger("selfheal.signals")

WINDOW_SECONDS = 3600
STEP = "60s"


@dataclass(frozen=True)
class ObserveConfig:
    prometheus_url: str | None = None
    timeout_seconds: float = 5.0
    budget_seconds: float = 20.0
    queries: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULTS))


class _Unreachable(Exception):
    pass


class _Budget(Exception):
    pass


class _Client:
    def __init__(self, config: ObserveConfig, at: datetime) -> None:
        from prometheus_api_client import PrometheusConnect
        from urllib3.util.retry import Retry

        self.prom = PrometheusConnect(url=config.prometheus_url or "", retry=Retry(total=0))
        self.config = config
        self.at = at
        self.deadline = time.monotonic() + config.budget_seconds

    def _timeout(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise _Budget(
                f"not asked: the {self.config.budget_seconds:.0f} s budget for Prometheus was spent"
            )
        return min(self.config.timeout_seconds, left)

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        import requests

        try:
            data = fn(*args, timeout=self._timeout(), **kwargs)
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise _Unreachable(" ".join(f"{type(exc).__name__}: {exc}".split())[:200]) from None
        if not isinstance(data, list):
            raise ValueError(f"not a result list: {str(data)[:80]}")
        return data

    def instant(self, query: str) -> list[dict[str, Any]]:
        return self._call(self.prom.custom_query, query=query, params={"time": f"{self.at.timestamp():.3f}"})

    def range(self, query: str) -> list[dict[str, Any]]:
        start = self.at - timedelta(seconds=WINDOW_SECONDS)
        return self._call(
            self.prom.custom_query_range, query=query, start_time=start, end_time=self.at, step=STEP
        )


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
    except _Unreachable as exc:
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
        except (_Unreachable, _Budget):
            raise
        except Exception as exc:
            why = " ".join(f"{type(exc).__name__}: {exc}".split())[:160]
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
                unknown[n].setdefault(signal, "no series")

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
        restarts = ask("restarts", client.range, _query(config, "restarts", namespace=ns))
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
        for key, item in _by(memory or [], "pod", "container").items():
            if key.split("/")[0] in pods:
                mem.setdefault(pods[key.split("/")[0]], {})[key] = Series.of(item.get("values"))
        for key, item in _by(limits or [], "pod", "container").items():
            if key.split("/")[0] in pods and (v := _value(item)) is not None:
                lim.setdefault(pods[key.split("/")[0]], {})[key] = v
        for n in found:
            if n in mem:
                found[n]["memory"] = mem[n]
                found[n]["memory_limit"] = lim.get(n, {})
            else:
                unknown[n].setdefault("memory", "no working-set series")
        if hpas:
            _hpa(client, config, ns, hpas, found, ask)
    except _Budget as exc:
        for n in unknown:
            unknown[n].setdefault("rest", str(exc))


def _hpa(
    client: _Client,
    config: ObserveConfig,
    ns: str,
    hpas: dict[str, str],
    found: dict[str, dict[str, Any]],
    ask: Any,
) -> None:
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
    for hpa, dep in hpas.items():
        max_item = instant["hpa_max"].get(hpa)
        top = _value(max_item) if max_item else None
        if dep not in found or hpa not in replicas or top is None:
            continue
        util, target = (instant[k].get(hpa) for k in ("hpa_utilization", "hpa_target"))
        found[dep]["hpa"] = HpaObservation(
            Series.of(replicas[hpa].get("values")),
            top,
            _value(util) if util else None,
            _value(target) if target else None,
        )


def _sum(parts: list[Series]) -> Series:
    """Series added point by point at the times they share (the restarts of a Deployment's pods)."""
    totals: dict[float, float] = {}
    for s in parts:
        for t, v in s.points:
            totals[t] = totals.get(t, 0.0) + v
    return Series(tuple(sorted(totals.items())))
