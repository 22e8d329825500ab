"""Every request the job makes, named by where in the job it is made, and a world to fault each one in.

A *call site* is one request the pass sends, named `METHOD /path/{template} [page] @ module: entry > ... > caller`:
the method, the path with namespace and object name abstracted, `first`/`continue` for a list page, and the
chain of job functions that sent it (innermost module only; the transport and the retry policy are
plumbing, not call sites). Prometheus and the Pushgateway do not go through the job's transport: their call
sites are named by the fake server that answered (`prometheus: GET /api/v1/query`).

`record_sites()` runs healthy passes over the reference worlds and returns the call sites in the order
they first appear: a new request anywhere in the job shows up here without anyone listing it, and
`test_faults.py` compares the list with the checked-in one, so adding a call site is a conscious change.

    with FaultWorld(tmp_path, "fresh") as fw:
        fw.inject(site, Fault("503"), times=1)    # that call site's next request (all of them: times=10**6)
        result = fw.run()
        fw.sent, fw.front.log, fw.history(), fw.events
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import re
import sys
import time
import traceback
import uuid
from contextlib import redirect_stdout
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from kubesandbox import Sandbox
from selfheal.context import PassContext
from selfheal.kube.exchange import Request, Response
from selfheal.kube.model import ANN_DESIRED_REPLICAS, ANN_TRAFFIC_SPLIT
from selfheal.kube.transport import Transport
from selfheal.logs import bind_run, configure
from selfheal.run import PassResult, run_pass
from selfheal.settings import Settings
from tests.builders import configmap, cronjob, hpa, image_behavior, pdb
from tests.integration.faultfront import FakePrometheus, Fault, FaultFront, fake_pushgateway
from tests.integration.worlds import rolled_out, story

NS = "shop"
PAGE_SIZE = 2
REQUEST_TIMEOUT = 0.4  # seconds: the job's per-request budget in the matrix (10 s in production)
LEASE_SECONDS = 15
CLOCK_STEP = 2.0  # each reading of the pass's clock moves it on, so the Lease is renewed while acting
KILLED_RUN = "0" * 32

_PLUMBING = ("/selfheal/kube/transport.py", "/selfheal/kube/retry.py", "/tenacity/")
_PATH = re.compile(
    r"^(?P<prefix>/apis?/.*?/namespaces/)[^/]+/(?P<plural>[^/]+)(?P<name>/[^/]+)?(?P<sub>/.*)?$"
)


def template_of(path: str) -> str:
    m = _PATH.match(path)
    if not m:
        return path
    return f"{m['prefix']}{{ns}}/{m['plural']}" + ("/{name}" if m["name"] else "") + (m["sub"] or "")


def _chain() -> str:
    """`module: outer > ... > inner`: the job's functions that sent this request, in the innermost module."""
    frames = [f for f in traceback.extract_stack() if "/selfheal/" in f.filename.replace("\\", "/")]
    job = [f for f in frames if not any(p in f.filename for p in _PLUMBING)]
    if not job:
        return "?"
    inner = job[-1].filename
    names: list[str] = []
    for f in reversed(frames):  # outward from the innermost, plumbing passed through
        if any(p in f.filename for p in _PLUMBING):
            continue
        if f.filename != inner:
            break
        if not f.name.startswith("<"):  # lambdas and comprehensions are not call sites of their own
            names.append(f.name)
    module = inner.replace("\\", "/").split("/selfheal/", 1)[1].removesuffix(".py").replace("/", ".")
    return f"{module}: {' > '.join(reversed(names))}"


def site_of(req: Request) -> str:
    page = ""
    if (
        req.method == "GET"
        and template_of(req.path).endswith(("s", "ies"))
        and "{name}" not in template_of(req.path)
    ):
        page = " continue" if any(k == "continue" for k, _ in req.query) else " first"
    return f"{req.method} {template_of(req.path)}{page} @ {_chain()}"


def http_site(server: str, method: str, path: str) -> str:
    path = re.sub(r"/namespace/[^/]+", "/namespace/{ns}", path)
    return f"{server}: {method} {path}"


# --- the reference worlds ------------------------------------------------------------------------------


def world_documents() -> list[dict[str, Any]]:
    """web scaled to 1 by hand (desired 3): scale. api with a crash-looping pod: an eviction. front's canary
    at 20 % errors: canary abort (two writes). db and cache healthy. Three HPAs, PDBs and ConfigMaps, so
    every list has a continue page at PAGE_SIZE 2."""
    split = json.dumps({"canary": 10, "stable": 90}, separators=(",", ":"))
    return [
        *rolled_out("web", image="shop/web:1", replicas=1, annotations={ANN_DESIRED_REPLICAS: "3"}),
        *rolled_out("api", image="shop/api:1", replicas=3, crashing=1),
        image_behavior("shop/api:1", "CrashUntilRestarted"),
        *rolled_out("front", image="shop/front:1", replicas=2, annotations={ANN_TRAFFIC_SPLIT: split}),
        *rolled_out("front-canary", image="shop/front:2", replicas=1),
        *rolled_out("db", image="shop/db:1", replicas=2),
        *rolled_out("cache", image="shop/cache:1", replicas=2),
        hpa("db", min_replicas=2, max_replicas=4),
        hpa("cache", min_replicas=2, max_replicas=4),
        hpa("front", min_replicas=2, max_replicas=4),
        pdb("db", max_unavailable=1),
        pdb("cache", max_unavailable=1),
        pdb("api", max_unavailable=1),
        configmap("web-config", {"a": "1"}),
        configmap("api-config", {"b": "2"}),
        configmap("db-config", {"c": "3"}),
        cronjob(ns=NS),
    ]


@functools.cache
def scenario() -> Any:
    """The reference world, parsed once (YAML is most of a world's start-up; the sandbox copies it)."""
    from kubesandbox.serve.scenario import load_scenario

    return load_scenario(story(*world_documents()))


SCENARIOS = ("fresh", "inherited")  # no Lease yet; a Lease a dead run left behind (taken over)


def dangling_intents(sb: Sandbox) -> list[dict[str, Any]]:
    """Two intents a killed run wrote and never resolved: a scale of db, an eviction of a cache pod."""
    pod = next(p for p in sb.list("Pod") if p["metadata"]["name"].startswith("cache-"))
    ts = (sb.clock.now() - timedelta(minutes=30)).isoformat().replace("+00:00", "Z")
    common = {
        "ts": ts,
        "run_id": KILLED_RUN,
        "namespace": NS,
        "result": "intent",
        "detector": "replica_drift",
        "ladder": "replicas",
        "reason": "replica_drift",
        "message": "killed before its outcome",
    }
    return [
        {
            **common,
            "action": "scale",
            "kind": "Deployment",
            "name": "db",
            "workload": "Deployment/db",
            "intent": f"{KILLED_RUN}-1",
            "patch": [
                {
                    "kind": "Deployment",
                    "name": "db",
                    "content_type": "application/merge-patch+json",
                    "body": {"spec": {"replicas": 4}},
                }
            ],
        },
        {
            **common,
            "action": "restart_pod",
            "kind": "Pod",
            "name": pod["metadata"]["name"],
            "workload": "Deployment/cache",
            "intent": f"{KILLED_RUN}-2",
            "detector": "crashloop",
            "ladder": "health",
            "patch": [
                {
                    "kind": "Pod",
                    "name": pod["metadata"]["name"],
                    "subresource": "eviction",
                    "content_type": "application/json",
                    "body": {
                        "apiVersion": "policy/v1",
                        "kind": "Eviction",
                        "metadata": {"name": pod["metadata"]["name"], "namespace": NS},
                        "deleteOptions": {"preconditions": {"uid": pod["metadata"]["uid"]}},
                    },
                }
            ],
        },
    ]


def dead_lease(sb: Sandbox) -> dict[str, Any]:
    renewed = (sb.clock.now() - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": "self-heal-cpt", "namespace": NS},
        "spec": {
            "holderIdentity": "killed-host/000000000000",
            "leaseDurationSeconds": 60,
            "acquireTime": renewed,
            "renewTime": renewed,
            "leaseTransitions": 3,
        },
    }


# --- a world with faults -------------------------------------------------------------------------------


class SiteSend:
    """The transport's `send`, naming each request's call site and arming the front for planned faults."""

    def __init__(self, inner: Any, front: FaultFront) -> None:
        self.inner = inner
        self.front = front
        self.plan: dict[str, list[Any]] = {}  # site -> [fault, times left]
        self.sent: list[tuple[str, Request]] = []

    def __call__(self, req: Request) -> Response:
        site = site_of(req)
        self.sent.append((site, req))
        planned = self.plan.get(site)
        if planned is not None and planned[1] > 0:
            planned[1] -= 1
            self.front.arm(planned[0])
        return self.inner(req)


@dataclass
class FaultWorld:
    tmp_path: Path
    scenario: str = "fresh"
    sb: Any = None
    api: FaultFront = None  # type: ignore[assignment]
    prometheus: FaultFront = None  # type: ignore[assignment]
    pushgateway: FaultFront = None  # type: ignore[assignment]
    send: SiteSend = None  # type: ignore[assignment]
    events: list[dict[str, Any]] = field(default_factory=list)
    sleeps: list[float] = field(default_factory=list)
    duration: float = 0.0
    _stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)

    def __enter__(self) -> FaultWorld:
        s = self._stack
        self.sb = s.enter_context(Sandbox.start(scenario()))
        self.api = s.enter_context(FaultFront(upstream=self.sb.url))
        self.prometheus = s.enter_context(
            FaultFront(app=FakePrometheus({"front-canary": (2000, 400), "front": (20000, 10)}))
        )
        self.pushgateway = s.enter_context(FaultFront(app=fake_pushgateway))
        history = self.tmp_path / "logs/rollback-history.log"
        history.parent.mkdir(parents=True, exist_ok=True)
        history.write_text("".join(json.dumps(e) + "\n" for e in dangling_intents(self.sb)))
        if self.scenario == "inherited":
            self.sb.put(dead_lease(self.sb))
        from kubernetes import client

        cfg = client.Configuration()  # the sandbox's plain-HTTP port needs no credentials (the admin's)
        cfg.host = self.api.url
        self.send = SiteSend(Transport.over(client.ApiClient(cfg)).send, self.api)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    # -- faults -------------------------------------------------------------------------------------
    def inject(self, site: str, fault: Fault, times: int) -> None:
        server, _, rest = site.partition(": ")
        if server in ("prometheus", "pushgateway") and " @ " not in site:
            method, _, path = rest.partition(" ")
            front = self.prometheus if server == "prometheus" else self.pushgateway
            front.arm_rule(method, "^" + re.escape(path).replace(r"\{ns\}", "[^/]+") + "$", fault, times)
        else:
            self.send.plan[site] = [fault, times]

    # -- one pass -----------------------------------------------------------------------------------
    def settings(self, **overrides: Any) -> Settings:
        base: dict[str, Any] = dict(
            namespace=NS,
            risk_file=self.tmp_path / "aiops/risk-prediction.json",
            history_file=self.tmp_path / "logs/rollback-history.log",
            log_format="json",
            page_size=PAGE_SIZE,
            lease_duration_seconds=LEASE_SECONDS,
            prometheus_url=self.prometheus.url,
            pushgateway_url=self.pushgateway.url,
            prometheus_timeout_seconds=REQUEST_TIMEOUT,
            prometheus_budget_seconds=3.0,
            canary_bake_seconds=0,
        )
        base.update(overrides)
        return Settings(**base)

    def run(self, deadline_seconds: float = 60.0, **overrides: Any) -> PassResult:
        run_id = uuid.uuid4().hex
        start = self.sb.clock.now()
        ticks = iter(range(10**9))

        def clock() -> Any:
            return start + timedelta(seconds=CLOCK_STEP * next(ticks))

        def sleep(seconds: float) -> None:
            self.sleeps.append(seconds)

        transport = Transport(
            self.send,
            timeout_seconds=REQUEST_TIMEOUT,
            deadline=time.monotonic() + deadline_seconds,
            sleep=sleep,
        )
        out = io.StringIO()
        from selfheal.reporting import metrics

        push = metrics.PUSH_TIMEOUT_SECONDS, metrics.PUSH_BUDGET_SECONDS
        metrics.PUSH_TIMEOUT_SECONDS, metrics.PUSH_BUDGET_SECONDS = REQUEST_TIMEOUT, 2.5
        configure("debug", "json")
        bind_run(run_id, NS)
        began = time.monotonic()
        with redirect_stdout(out):
            try:
                result = run_pass(
                    PassContext.from_settings(
                        self.settings(**overrides),
                        NS,
                        transport,
                        run_id=run_id,
                        identity=f"matrix/{run_id[:8]}",
                        clock=clock,
                        sleep=sleep,
                    )
                )
            finally:
                configure("info", "off")
                metrics.PUSH_TIMEOUT_SECONDS, metrics.PUSH_BUDGET_SECONDS = push
        self.duration = time.monotonic() - began
        self.events = [json.loads(line) for line in out.getvalue().splitlines() if line.startswith("{")]
        return result

    # -- what happened ------------------------------------------------------------------------------
    def history(self) -> list[dict[str, Any]]:
        path = self.tmp_path / "logs/rollback-history.log"
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def sites(self) -> list[str]:
        seen = [s for s, _ in self.send.sent]
        seen += [http_site("prometheus", e.method, e.path) for e in self.prometheus.log]
        seen += [http_site("pushgateway", e.method, e.path) for e in self.pushgateway.log]
        return list(dict.fromkeys(seen))

    def applied_writes(self) -> list[tuple[str, str, str]]:
        """Writes the API server applied (forwarded and answered 2xx), Lease traffic excluded:
        (method, path, body without the executor's preconditions)."""
        out = []
        for e in self.api.log:
            if (
                e.method in ("POST", "PUT", "PATCH", "DELETE")
                and "/leases" not in e.path
                and e.upstream_status is not None
                and e.upstream_status < 300
            ):
                out.append((e.method, e.path, unguarded(e.body)))
        return out


def unguarded(body: bytes) -> str:
    """A write's body without the uid/resourceVersion the executor adds to guard it."""
    try:
        doc = json.loads(body)
    except ValueError:
        return body.decode(errors="replace")
    if isinstance(doc, list):
        doc = [op for op in doc if op.get("path") not in ("/metadata/uid", "/metadata/resourceVersion")]
    elif isinstance(doc, dict) and isinstance(doc.get("metadata"), dict):
        meta = {k: v for k, v in doc["metadata"].items() if k not in ("uid", "resourceVersion")}
        doc = {**doc, "metadata": meta} if meta else {k: v for k, v in doc.items() if k != "metadata"}
    return json.dumps(doc, sort_keys=True)


def record_sites(tmp_path: Path) -> list[tuple[str, str]]:
    """(scenario, call site) for every call site of a healthy pass over each reference world, each under
    the first scenario that makes it."""
    out: dict[str, str] = {}
    for scenario in SCENARIOS:
        work = tmp_path / f"record-{scenario}"
        work.mkdir(parents=True, exist_ok=True)
        with FaultWorld(work, scenario) as fw:
            fw.run()
            for site in fw.sites():
                out.setdefault(site, scenario)
    return [(scenario, site) for site, scenario in out.items()]


if __name__ == "__main__":  # print the call sites, for updating tests/integration/call_sites.txt
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        for scenario, site in record_sites(Path(d)):
            sys.stdout.write(f"{scenario}\t{site}\n")
