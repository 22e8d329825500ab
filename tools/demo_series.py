"""The demo's Prometheus data: the last 70 minutes of ea-plan-v5's series, ending at `now` (and running on 10
minutes past it, so passes a little later still read a live hour), as OpenMetrics text for promtool.

    python tools/demo_series.py OUT.om [--now 2026-01-01T12:00:00Z]

Every Deployment of the scenario serves steady traffic and holds its memory, except:
- dese-ea-plan-v5 (the stable cpt-web): its pod `LEAKING_POD` leaks 5 MiB a minute, 899 MiB of its 1 GiB at
  `now`: an OOM kill in 25 minutes;
- cpt-reporting: its P99 creeps up (a table growing), 0.8 s at `now`, towards the 1.0 s SLO.
Pods the passes replace (cpt-api's, rolled back to their recorded template) have no series: Prometheus has not
seen them yet, and the risk report says so.
Pods, containers, limits and restart counts are read from the scenario file, so the series name what the
sandbox serves. tests/integration/test_forecasts_prometheus.py runs a healing pass against this data.
"""

from __future__ import annotations

import argparse
import random
import sys
from datetime import UTC, datetime
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.openmetrics import Recorder, autoscale, memory, restarts, traffic, wander  # noqa: E402

SCENARIO = REPO / "kubesandbox/scenarios/ea-plan-v5.yaml"
NS = "dese-ea-plan-v5"
LEAKING_POD = "dese-ea-plan-v5-657757c67c-rzl6d"
CREEPING = "cpt-reporting"
BEFORE_MINUTES, AFTER_MINUTES = 70, 10


def _mib(quantity: str) -> float:
    units = {"Ki": 2**-10, "Mi": 1, "Gi": 2**10}
    return float(quantity[:-2]) * units[quantity[-2:]] if quantity[-2:] in units else float(quantity) / 2**20


def pods() -> list[tuple[str, str, str, float, int]]:
    """(pod, Deployment, container, memory limit MiB, restart count) of every pod a Deployment owns."""
    docs = [d for d in yaml.safe_load_all(SCENARIO.read_text()) if d]
    owner = {d["metadata"]["name"]: d["metadata"]["ownerReferences"][0]["name"]
             for d in docs if d["kind"] == "ReplicaSet"}
    out = []
    for d in docs:
        refs = d["metadata"].get("ownerReferences") if d["kind"] == "Pod" else None
        if refs and refs[0]["kind"] == "ReplicaSet" and refs[0]["name"] in owner:
            c = d["spec"]["containers"][0]
            count = sum(s.get("restartCount", 0) for s in d.get("status", {}).get("containerStatuses", []))
            out.append((d["metadata"]["name"], owner[refs[0]["name"]], c["name"],
                        _mib(c["resources"]["limits"]["memory"]), count))
    return out


def series(now: datetime) -> str:
    rec = Recorder(now, BEFORE_MINUTES, AFTER_MINUTES)
    rng = random.Random("demo")
    deployments = sorted({dep for _, dep, _, _, _ in pods()})
    for pod, _dep, container, limit, count in pods():
        noise = wander(rec, rng, 3, 2)
        if pod == LEAKING_POD:
            memory(rec, NS, pod, lambda m, n=noise: 899 + 5 * m + n(m), limit, container)
        else:
            memory(rec, NS, pod, lambda m, n=noise, base=0.45 * limit: base + n(m), limit, container)
        restarts(rec, NS, pod, [-BEFORE_MINUTES] * count, container)  # as many as the scenario says, long ago
    for dep in deployments:
        load = wander(rec, rng, 0.08, 10)
        rps = 90.0 if dep == NS else 10.0 if dep.endswith("-canary") else 20.0
        p50 = (lambda m: max(0.05, 0.25 + 0.003 * m)) if dep == CREEPING else (lambda m: 0.08)
        # 0.02 % errors on the busy stable; the others fail too rarely to make a handful of 5xx a 0.1 % window
        errors = 0.0002 if dep == NS else 0.00002
        traffic(rec, rng, NS, dep, rps=lambda m, r=rps, w=load: r * (1 + w(m)), errors=lambda m, e=errors: e, p50=p50)
    autoscale(rec, NS, NS, load=lambda m: 1.0, low=3, high=10)  # the stable's HPA: 3 replicas at 33 %, calm
    return rec.openmetrics()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("out", type=Path)
    p.add_argument("--now", help="the series' end (RFC 3339; default: the wall clock)")
    args = p.parse_args(argv)
    now = datetime.fromisoformat(args.now.replace("Z", "+00:00")) if args.now else datetime.now(UTC)
    args.out.write_text(series(now.replace(microsecond=0)))
    print(f"{LEAKING_POD} leaks 5 MiB/min (OOM in ~25 min); {CREEPING}'s P99 creeps towards 1 s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
