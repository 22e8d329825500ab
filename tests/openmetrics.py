"""Series for a real Prometheus: OpenMetrics text for `promtool tsdb create-blocks-from openmetrics`, under the
exact metric names and labels the forecasts' default queries read (selfheal/signals/queries.py):

    http_requests_total{namespace,deployment,code}                       a client library's counter
    http_request_duration_seconds_bucket|_count|_sum{namespace,deployment,le}
    container_memory_working_set_bytes{namespace,pod,container}          cAdvisor
    kube_pod_container_resource_limits{namespace,pod,container,resource="memory",unit="byte"}   kube-state-metrics
    kube_pod_container_status_restarts_total{namespace,pod,container}
    kube_horizontalpodautoscaler_{status_current_replicas,status_desired_replicas,spec_max_replicas,
      spec_min_replicas}{namespace,horizontalpodautoscaler}
    kube_horizontalpodautoscaler_{spec,status}_target_metric{...,metric_name="cpu",metric_target_type="utilization"}

Time is in minutes relative to an origin (a test's `at`, the backtest's breach time T); every value is a
function of it. One sample every `step_seconds` (a 30 s scrape interval), counters with Poisson noise:

    rec = Recorder(origin=DEFAULT_EPOCH, before_minutes=90)
    traffic(rec, rng, "shop", "web", rps=lambda m: 50, errors=lambda m: 0.001, p50=lambda m: 0.1)
    memory(rec, "shop", "web-abc", lambda m: 400 + 2 * (m + 60), limit_mib=600)
    with prometheus(rec.openmetrics()) as url: ...
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from selfheal.view import Snapshot
from tests.builders import make_deployment, make_hpa, make_pod, make_replicaset, snapshot_of

MIB = 2.0**20
LE = (0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.5, 5.0)  # histogram buckets (seconds)

Fn = Callable[[float], float]  # minutes from the origin -> a value


class Recorder:
    """Samples grouped by metric family, then by series, in time order (what promtool's backfill wants), over
    [origin - before_minutes, origin + after_minutes]."""

    def __init__(
        self, origin: datetime, before_minutes: float, after_minutes: float = 0.0, step_seconds: int = 30
    ) -> None:
        self.origin, self.before, self.step = origin, before_minutes, step_seconds
        self.ticks = int((before_minutes + after_minutes) * 60 // step_seconds) + 1
        self.families: dict[str, tuple[str, dict[tuple[str, str], list[str]]]] = {}

    def minute(self, tick: int) -> float:
        return -self.before + tick * self.step / 60

    def tick(self, minute: float) -> int:
        return min(self.ticks - 1, max(0, round((minute + self.before) * 60 / self.step)))

    def stamp(self, tick: int) -> float:
        return (self.origin + timedelta(minutes=self.minute(tick))).timestamp()

    def add(
        self, family: str, kind: str, sample: str, labels: dict[str, str], tick: int, value: float
    ) -> None:
        series = self.families.setdefault(family, (kind, {}))[1]
        text = ",".join(f'{k}="{v}"' for k, v in labels.items())
        series.setdefault((sample, text), []).append(f"{value:.10g} {self.stamp(tick):.0f}")

    def gauge(self, name: str, labels: dict[str, str], tick: int, value: float) -> None:
        self.add(name, "gauge", name, labels, tick, value)

    def openmetrics(self) -> str:
        out: list[str] = []
        for family, (kind, series) in self.families.items():
            out.append(f"# TYPE {family} {kind}")
            for (sample, labels), points in series.items():
                out += [f"{sample}{{{labels}}} {p}" for p in points]
        out.append("# EOF")
        return "\n".join(out) + "\n"


def poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 50:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    floor, k, p = math.exp(-lam), 0, rng.random()
    while p > floor:
        k += 1
        p *= rng.random()
    return k


def wander(rec: Recorder, rng: random.Random, sd: float, tau_minutes: float) -> Fn:
    """Mean-reverting noise (an AR(1) process, stationary sd `sd`, correlation time `tau_minutes`): what a
    real metric's noise looks like, correlated from one scrape to the next."""
    phi = math.exp(-rec.step / 60 / tau_minutes)
    values, x = [], rng.gauss(0, sd)
    for _ in range(rec.ticks):
        values.append(x)
        x = phi * x + rng.gauss(0, sd * math.sqrt(1 - phi * phi))
    return lambda m: values[rec.tick(m)]


def ramp(onset: float, end: float, m: float) -> float:
    """0 before `onset`, rising linearly to 1 at `end` (minutes), and on beyond it."""
    return max(0.0, (m - onset) / (end - onset))


def _cdf(x: float, median: float, sigma: float) -> float:
    return 0.5 * (1 + math.erf((math.log(x) - math.log(median)) / (sigma * math.sqrt(2))))


def traffic(
    rec: Recorder,
    rng: random.Random | None,
    ns: str,
    deployment: str,
    *,
    rps: Fn,
    errors: Fn,
    p50: Fn,
    sigma: float = 0.5,
) -> None:
    """`http_requests_total{code}` and `http_request_duration_seconds` of a Deployment: Poisson request counts,
    log-normal latencies (median `p50`, shape `sigma`), each request failing with probability `errors` (without
    `rng`: the expected counts, no noise). The 5xx series exists only from the first error on, as a client
    library's labelled counter does."""

    def count(lam: float) -> float:
        return poisson(rng, lam) if rng is not None else max(0.0, lam)

    ok = failed = 0.0
    buckets = [0.0] * (len(LE) + 1)
    total = 0.0
    labels = {"namespace": ns, "deployment": deployment}
    for tick in range(rec.ticks):
        m = rec.minute(tick)
        rate, median = max(0.0, rps(m)) * rec.step, max(0.001, p50(m))
        cdf = [_cdf(le, median, sigma) for le in LE] + [1.0]
        draws = [count(rate * (c - p)) for p, c in zip([0.0, *cdf], cdf, strict=False)]
        n = sum(draws)
        bad = min(n, count(n * min(1.0, max(0.0, errors(m)))))
        ok, failed = ok + n - bad, failed + bad
        for i, d in enumerate(draws):
            buckets[i] += d
        cumulative = 0.0
        for le, in_bucket in zip([*(f"{le:g}" for le in LE), "+Inf"], buckets, strict=True):
            cumulative += in_bucket
            rec.add(
                "http_request_duration_seconds",
                "histogram",
                "http_request_duration_seconds_bucket",
                {**labels, "le": le},
                tick,
                cumulative,
            )
        total += n * median * math.exp(sigma * sigma / 2)
        rec.add(
            "http_request_duration_seconds",
            "histogram",
            "http_request_duration_seconds_count",
            labels,
            tick,
            cumulative,
        )
        rec.add(
            "http_request_duration_seconds",
            "histogram",
            "http_request_duration_seconds_sum",
            labels,
            tick,
            total,
        )
        rec.add("http_requests", "counter", "http_requests_total", {**labels, "code": "200"}, tick, ok)
        if failed:
            rec.add(
                "http_requests", "counter", "http_requests_total", {**labels, "code": "500"}, tick, failed
            )


def memory(
    rec: Recorder, ns: str, pod: str, working_set_mib: Fn, limit_mib: float, container: str = "app"
) -> None:
    """cAdvisor's working set (clipped to the limit: the kernel allows no more) and kube-state-metrics' memory
    limit of one container."""
    labels = {"namespace": ns, "pod": pod, "container": container}
    for tick in range(rec.ticks):
        ws = min(limit_mib, max(0.0, working_set_mib(rec.minute(tick)))) * MIB
        rec.gauge("container_memory_working_set_bytes", labels, tick, round(ws))
        rec.gauge(
            "kube_pod_container_resource_limits",
            {**labels, "resource": "memory", "unit": "byte"},
            tick,
            limit_mib * MIB,
        )


def restarts(rec: Recorder, ns: str, pod: str, at: Sequence[float], container: str = "app") -> None:
    """kube-state-metrics' restart counter of one container that restarted at the minutes `at`."""
    labels = {"namespace": ns, "pod": pod, "container": container}
    for tick in range(rec.ticks):
        n = sum(1 for a in at if a <= rec.minute(tick))
        rec.add(
            "kube_pod_container_status_restarts",
            "counter",
            "kube_pod_container_status_restarts_total",
            labels,
            tick,
            n,
        )


def steady_memory(
    rec: Recorder, rng: random.Random, ns: str, pods: Sequence[str], mib: float = 300, limit_mib: float = 1024
) -> None:
    """Working sets that hold steady (a little noise) and restart counters that stay at 0."""
    for pod in pods:
        noise = wander(rec, rng, 3, 2)
        memory(rec, ns, pod, lambda m, n=noise: mib + n(m), limit_mib)
        restarts(rec, ns, pod, [])


def autoscale(rec: Recorder, ns: str, name: str, *, load: Fn, low: int, high: int, target: float = 70) -> Fn:
    """A CPU HorizontalPodAutoscaler (1 core requested per pod) under `load` cores, as its controller acts:
    scale when utilisation is off target by more than the 10 % tolerance, up at once, down only to the highest
    recommendation of the last 5 minutes; a new replica counts from the next sync. Emits kube-state-metrics' HPA
    series; returns the replica count over time."""
    replicas, recent = low, [low] * max(1, 300 // rec.step)
    out = []
    hpa = {"namespace": ns, "horizontalpodautoscaler": name}
    metric = {**hpa, "metric_name": "cpu", "metric_target_type": "utilization"}
    for tick in range(rec.ticks):
        util = 100 * max(0.0, load(rec.minute(tick))) / replicas
        ratio = util / target
        desired = min(high, max(low, math.ceil(replicas * ratio) if abs(ratio - 1) > 0.1 else replicas))
        recent = [*recent[1:], desired]
        out.append(replicas)
        for family, labels, value in (
            ("status_current_replicas", hpa, replicas),
            ("status_desired_replicas", hpa, desired),
            ("spec_max_replicas", hpa, high),
            ("spec_min_replicas", hpa, low),
            ("spec_target_metric", metric, target),
            ("status_target_metric", metric, round(util, 1)),
        ):
            rec.gauge(f"kube_horizontalpodautoscaler_{family}", labels, tick, value)
        replicas = desired if desired > replicas else min(replicas, max(recent))
    return lambda m: out[rec.tick(m)]


def workloads(
    ns: str,
    deployments: dict[str, int],
    *,
    hpas: dict[str, tuple[int, int]] | None = None,
    canary_of: str | None = None,
) -> tuple[Snapshot, dict[str, list[str]]]:
    """The objects the series belong to, as a pass reads them (tests/builders.py): `deployments` (name ->
    pods, container `app`), an HPA (min, max) for those in `hpas`, and `<canary_of>-canary` annotated with a
    traffic split. Returns the snapshot and each Deployment's pod names (the series' `pod` labels)."""
    objects: list[object] = []
    pods: dict[str, list[str]] = {}
    for name, count in deployments.items():
        split = canary_of is not None and name == f"{canary_of}-canary"
        annotations = {"rollout.argoproj.io/traffic-split": '{"canary":10,"stable":90}'} if split else None
        dep = make_deployment(name, replicas=count, annotations=annotations)
        rs = make_replicaset(dep)
        pods[name] = [f"{rs.metadata.name}-{_suffix(name, i)}" for i in range(count)]
        objects += [dep, rs, *(make_pod(p, owner=rs, container="app") for p in pods[name])]
        if hpas and name in hpas:
            objects.append(make_hpa(dep, min_replicas=hpas[name][0], max_replicas=hpas[name][1]))
    return snapshot_of(*objects, namespace=ns), pods


def _suffix(name: str, i: int) -> str:
    alphabet = "bcdfghjklmnpqrstvwxz2456789"
    rng = random.Random(f"{name}/{i}")
    return "".join(rng.choice(alphabet) for _ in range(5))
