"""The self-heal job's stories on a real control plane (issue 8 §3.2).

Every pass is the real CLI (`.venv/bin/selfheal run ... --log-format json`) run as the ServiceAccount of
aiops/self-heal-job.yaml, whose ServiceAccount, Role and RoleBinding are applied to each story's namespace
(tests/realk8s/jobworld.py), so kube-apiserver's RBAC authorizer answers every request. The referee is the
cluster's own kubectl (v1.37.2) and the job's history file; the kubelet is kwok (tools/k8s/stages).

Crash stories set SELFHEAL_RESTART_THRESHOLD=1: on kwok the first restart is immediate and the back-off
then doubles from 10 s, so restartCount 3 takes ~35 s a story; test_job_rbac.py runs the job with the
manifest's own settings (threshold 3) once. Each story has its own namespace: several failing Deployments
in one namespace would trip the mass-failure rail, and a second action on a workload its ladder.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.realk8s.cluster import Kube
from tests.realk8s.jobworld import (
    JobWorld,
    Obj,
    Pass,
    PodWatch,
    app,
    crash_looping,
    deployment,
    hpa,
    job_doc,
    live_pods,
    pdb,
    ready,
    selfheal_hash,
    settle,
    stamp,
    unique_image,
    wait_pods,
    wait_rollout,
    world_state,
)

CRASH = {"SELFHEAL_RESTART_THRESHOLD": "1"}


@pytest.fixture
def world(kube: Kube, ns: str, tmp_path: Path) -> JobWorld:
    return JobWorld.install(kube, ns, tmp_path / "job")


def assert_ok(p: Pass) -> None:
    assert p.exit_code == 0, p.describe()
    assert p.forbidden() == [], p.describe()
    assert p.outcomes("failed") == set(), p.describe()


def assert_noop(p: Pass) -> None:
    """The pass after a healing: nothing to do, nothing written."""
    assert_ok(p)
    assert p.applied == set(), p.describe()
    assert [x for x in p.lines if x.get("result") in ("applied", "failed", "dry_run")] == [], p.describe()
    assert p.summary["approved"] == 0, p.describe()


def deploy(kube: Kube, ns: str, name: str) -> Obj:
    return kube.get("-n", ns, "deployment", name, "--show-managed-fields")


def managers(obj: Obj) -> set[tuple[str, str]]:
    return {(m["manager"], m["operation"]) for m in obj["metadata"].get("managedFields") or []}


def written_at(obj: Obj, manager: str, subresource: str = "") -> str | None:
    """When `manager` last wrote `obj` (through `subresource`), as the API server's managedFields say."""
    [entry] = [
        m
        for m in obj["metadata"].get("managedFields") or []
        if m["manager"] == manager and m.get("subresource", "") == subresource
    ]
    return entry.get("time")


def line(p: Pass, action: str, name: str) -> Obj:
    found = [x for x in p.lines if x["action"] == action and x["name"] == name and x["result"] != "intent"]
    assert len(found) == 1, p.describe()
    return found[0]


# --- restart ---------------------------------------------------------------------------------------------


def test_a_crash_looping_pod_is_evicted_through_the_eviction_api(
    kube: Kube, ns: str, world: JobWorld
) -> None:
    image = unique_image(ns, "worker", "1")
    kube.behaviors({image: "CrashUntilRestarted"})  # a restart heals it: a lost connection, a stale cache
    kube.apply(deployment(ns, "worker", image, 1))
    [victim] = wait_pods(
        kube, ns, "worker", "a crash-looping pod", lambda ps: len(ps) == 1 and crash_looping(ps[0]) and ps
    )
    name, uid = victim["metadata"]["name"], victim["metadata"]["uid"]

    with PodWatch(kube, ns) as watch:
        p = world.run(env=CRASH)
        [new] = wait_pods(
            kube,
            ns,
            "worker",
            "a ready replacement",
            lambda ps: len(ps) == 1 and ps[0]["metadata"]["uid"] != uid and ready(ps[0]) and ps,
        )
        kube.wait(
            "the evicted pod gone", lambda: name not in kube.kubectl("-n", ns, "get", "pods", "-o", "name")
        )

    assert_ok(p)
    assert p.applied == {("restart_pod", name)}
    write = line(p, "restart_pod", name)["patch"][0]
    assert write["subresource"] == "eviction" and write["body"]["kind"] == "Eviction"
    assert write["body"]["deleteOptions"] == {"preconditions": {"uid": uid}}
    # The API server's Eviction API did it (a DELETE would not add this condition; the Role has no delete).
    evicted = [
        v
        for v in watch.versions(name)
        if any(
            c["type"] == "DisruptionTarget"
            and c["status"] == "True"
            and c.get("reason") == "EvictionByEvictionAPI"
            for c in v["status"].get("conditions") or []
        )
    ]
    assert evicted, [v["status"].get("conditions") for v in watch.versions(name)]
    assert evicted[-1]["metadata"].get("deletionTimestamp")
    # A single revision has nothing to roll back to; the restart is the whole remedy.
    assert p.skipped.get(("rollback", "worker")) == "no_previous_revision", p.describe()
    assert new["status"]["containerStatuses"][0]["restartCount"] == 0
    assert new["metadata"]["ownerReferences"][0]["name"] == victim["metadata"]["ownerReferences"][0]["name"]

    assert_noop(world.run(env=CRASH))


def test_a_pdb_at_its_limit_refuses_the_eviction_and_the_job_skips_pdb_blocked(
    kube: Kube, ns: str, world: JobWorld
) -> None:
    image = unique_image(ns, "queue", "1")
    kube.behaviors({image: "CrashLoop"})
    kube.apply(deployment(ns, "queue", image, 2), pdb(ns, "queue", minAvailable=1))
    crashing = wait_pods(
        kube,
        ns,
        "queue",
        "2 crash-looping pods",
        lambda ps: len(ps) == 2 and all(crash_looping(q) for q in ps) and ps,
    )
    kube.wait(
        "the PDB at its limit",
        lambda: (
            (s := kube.get("-n", ns, "pdb", "queue").get("status", {})).get("observedGeneration") == 1
            and s.get("expectedPods") == 2
            and s.get("desiredHealthy") == 1
            and s
        ),
    )
    status = kube.get("-n", ns, "pdb", "queue")["status"]
    assert (status["currentHealthy"], status["disruptionsAllowed"]) == (0, 0)
    uids = {q["metadata"]["uid"] for q in crashing}

    p = world.run(env=CRASH)

    assert_ok(p)
    assert p.applied == set()
    names = {q["metadata"]["name"] for q in crashing}
    assert {n for (a, n), why in p.skipped.items() if a == "restart_pod" and why == "pdb_blocked"} == names, (
        p.describe()
    )
    assert {e["name"] for e in p.events("action.skipped") if e.get("code") == "pdb_blocked"} == names
    time.sleep(1)
    pods = kube.get("-n", ns, "pods", "-l", "app=queue")["items"]
    assert {q["metadata"]["uid"] for q in pods} == uids
    assert not any(q["metadata"].get("deletionTimestamp") for q in pods)

    # deploy/base/pdb.yaml's answer: unhealthyPodEvictionPolicy AlwaysAllow keeps pods that are not Ready
    # evictable when the budget is used up. The same pass now evicts both.
    kube.apply(pdb(ns, "queue", minAvailable=1, unhealthyPodEvictionPolicy="AlwaysAllow"))
    kube.wait(
        "the PDB's new policy observed",
        lambda: kube.get("-n", ns, "pdb", "queue").get("status", {}).get("observedGeneration") == 2,
    )
    wait_pods(
        kube,
        ns,
        "queue",
        "2 pods in their back-off",
        lambda ps: len(ps) == 2 and all(crash_looping(q) for q in ps),
    )
    again = world.run(env=CRASH)
    assert_ok(again)
    assert again.applied == {("restart_pod", n) for n in names}, again.describe()
    wait_pods(
        kube,
        ns,
        "queue",
        "2 replacements",
        lambda ps: len(ps) == 2 and not {q["metadata"]["uid"] for q in ps} & uids,
    )


# --- rollback --------------------------------------------------------------------------------------------


def _normalised(d: Obj, name: str) -> Obj:
    """The Deployment's spec, labels and annotations with its own name (in labels, selectors and the
    last-applied-configuration, whose namespace differs too) replaced by NAME."""
    ann = dict(d["metadata"].get("annotations", {}))
    last = json.loads(ann.pop("kubectl.kubernetes.io/last-applied-configuration"))
    last["metadata"]["namespace"] = "NS"
    doc = {
        "spec": d["spec"],
        "labels": d["metadata"].get("labels", {}),
        "annotations": ann,
        "last-applied": last,
    }

    def walk(o: Any) -> Any:
        if isinstance(o, dict):
            return {k: walk(v) for k, v in o.items()}
        if isinstance(o, list):
            return [walk(v) for v in o]
        return "NAME" if o == name else o

    return walk(doc)


def _replicasets(kube: Kube, ns: str, name: str) -> list[tuple[str, str | None, str | None, int]]:
    """(image, revision, revision-history, replicas) of each ReplicaSet of the Deployment, by revision."""
    out = []
    for rs in kube.get("-n", ns, "replicasets", "-l", f"app={name}")["items"]:
        a = rs["metadata"].get("annotations", {})
        out.append(
            (
                rs["spec"]["template"]["spec"]["containers"][0]["image"],
                a.get("deployment.kubernetes.io/revision"),
                a.get("deployment.kubernetes.io/revision-history"),
                rs["spec"]["replicas"],
            )
        )
    return sorted(out, key=lambda t: int(t[1] or 0))


def test_a_bad_revision_is_rolled_back_exactly_as_kubectl_rollout_undo_does(
    kube: Kube, ns: str, world: JobWorld
) -> None:
    twin_ns = f"{ns[:50]}-twin"
    kube.kubectl("create", "namespace", twin_ns)
    try:
        good, bad = unique_image(ns, "web", "1.0"), unique_image(ns, "web", "1.1")
        kube.behaviors({bad: "CrashLoop"})
        pairs = [
            (ns, "web"),
            (twin_ns, "web-twin"),
        ]  # same history, other name (and a namespace the job ignores)
        for n, name in pairs:
            d = deployment(
                n,
                name,
                good,
                2,
                annotations={"kubernetes.io/change-cause": "release 1.0", "team": "shop"},
                ports=[{"name": "http", "containerPort": 8080}],
                readinessProbe={"httpGet": {"path": "/readyz", "port": "http"}},
            )
            kube.kubectl("apply", "-f", "-", input=json.dumps(d))  # kubectl apply: last-applied-configuration
        for n, name in pairs:
            wait_rollout(kube, n, name)
        for n, name in pairs:  # revision 2: a bad image, its change-cause, and an annotation added afterwards
            kube.kubectl(
                "-n",
                n,
                "annotate",
                f"deployment/{name}",
                "kubernetes.io/change-cause=release 1.1",
                "--overwrite",
            )
            kube.kubectl("-n", n, "set", "image", f"deployment/{name}", f"app={bad}")
            kube.kubectl("-n", n, "annotate", f"deployment/{name}", "oncall=alice")
        wait_pods(
            kube, ns, "web", "the new revision crash-looping", lambda ps: [q for q in ps if crash_looping(q)]
        )

        p = world.run(env=CRASH)
        kube.kubectl("-n", twin_ns, "rollout", "undo", "deployment/web-twin")

        assert_ok(p)
        assert p.applied == {("rollback", "web")}, p.describe()
        assert line(p, "rollback", "web")["reason"] == "bad_revision"
        healed, _ = (wait_rollout(kube, n, name) for n, name in pairs)
        assert healed["spec"]["template"]["spec"]["containers"][0]["image"] == good
        assert healed["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"
        # Field by field: the job's Deployment is the one kubectl's undo made of the twin, names aside —
        # the template of revision 1 (no pod-template-hash) and the annotations kubectl keeps (its skip list
        # from the Deployment, the rest from revision 1's ReplicaSet: oncall is gone, change-cause is 1.1's).
        mine, theirs = (
            _normalised(deploy(kube, ns, "web"), "web"),
            _normalised(deploy(kube, twin_ns, "web-twin"), "web-twin"),
        )
        assert mine == theirs
        assert "oncall" not in mine["annotations"] and "pod-template-hash" not in json.dumps(
            mine["spec"]["template"]
        )
        assert (
            _replicasets(kube, ns, "web")
            == [(bad, "2", None, 0), (good, "3", "1", 2)]
            == _replicasets(kube, twin_ns, "web-twin")
        )
        assert ("selfheal", "Update") in managers(deploy(kube, ns, "web"))
        assert ("kubectl", "Update") in managers(deploy(kube, twin_ns, "web-twin"))
        assert kube.kubectl("-n", ns, "rollout", "history", "deployment/web").replace(
            "web", "NAME"
        ) == kube.kubectl("-n", twin_ns, "rollout", "history", "deployment/web-twin").replace(
            "web-twin", "NAME"
        )

        assert_noop(world.run(env=CRASH))
    finally:
        kube.kubectl("delete", "namespace", twin_ns, "--wait=false")


# --- replicas --------------------------------------------------------------------------------------------


def test_replica_drift_is_restored(kube: Kube, ns: str, world: JobWorld) -> None:
    kube.apply(
        deployment(
            ns, "api", unique_image(ns, "api", "1"), 3, annotations={"selfheal.dev/desired-replicas": "3"}
        )
    )
    # no annotation: the desired count is kubectl apply's last-applied-configuration
    kube.kubectl(
        "apply", "-f", "-", input=json.dumps(deployment(ns, "reports", unique_image(ns, "reports", "1"), 2))
    )
    for name in ("api", "reports"):
        wait_rollout(kube, ns, name)
    kube.kubectl("-n", ns, "scale", "deployment/api", "--replicas=1")
    kube.kubectl("-n", ns, "patch", "deployment/reports", "--type=merge", "-p", '{"spec":{"replicas":5}}')
    patched_at = written_at(deploy(kube, ns, "reports"), "kubectl-patch")
    assert written_at(deploy(kube, ns, "api"), "kubectl", "scale") is None  # /scale writes carry no time

    p = world.run()

    assert_ok(p)
    assert p.applied == {("scale", "api"), ("scale", "reports")}, p.describe()
    # the drift-resolution SLO counts from the patch that started the drift; the scale's moment is unknown
    assert (line(p, "scale", "reports")["onset"], line(p, "scale", "api").get("onset")) == (patched_at, None)
    assert line(p, "scale", "api")["patch"][0]["body"] == {"spec": {"replicas": 3}}
    assert line(p, "scale", "reports")["patch"][0]["body"] == {"spec": {"replicas": 2}}
    assert line(p, "scale", "api")["inverse"][0]["body"] == {"spec": {"replicas": 1}}
    for name, want in (("api", 3), ("reports", 2)):
        d = wait_rollout(kube, ns, name)
        assert (d["spec"]["replicas"], d["status"]["readyReplicas"]) == (want, want)
        assert len(live_pods(kube, ns, name)) == want
        assert ("selfheal", "Update") in managers(deploy(kube, ns, name))

    assert_noop(world.run())


def test_under_a_real_hpa_the_job_only_clamps_to_its_bounds(kube: Kube, ns: str, world: JobWorld) -> None:
    desired = {"selfheal.dev/desired-replicas": "3"}
    kube.apply(
        deployment(ns, "api", unique_image(ns, "api", "1"), 3, annotations=desired),
        hpa(ns, "api", 2, 5),
        deployment(ns, "batch", unique_image(ns, "batch", "1"), 3, annotations=desired),
        hpa(ns, "batch", 2, 5),
    )
    for name in ("api", "batch"):
        wait_rollout(kube, ns, name)
    # No metrics-server: the real HPA controller cannot compute a utilisation and says so.
    h = kube.wait(
        "the HPA's verdict",
        lambda: (s := kube.get("-n", ns, "hpa", "api").get("status", {})).get("conditions") and s,
    )
    active = next(c for c in h["conditions"] if c["type"] == "ScalingActive")
    assert (active["status"], active["reason"]) == ("False", "FailedGetResourceMetric"), h

    # Inside [2, 5] the HPA owns the count, even against selfheal.dev/desired-replicas: nothing to do.
    # replicas 0 under an HPA is how a person switches autoscaling off: the job leaves that too.
    kube.kubectl("-n", ns, "scale", "deployment/api", "--replicas=4")
    kube.kubectl("-n", ns, "scale", "deployment/batch", "--replicas=0")
    inside = world.run()
    assert_noop(inside)
    assert not [e for e in inside.events("finding") if e["detector"] == "replica_drift"], inside.describe()

    # Outside: the job clamps to the nearest bound, which is what the HPA controller does itself even
    # without metrics ("Current number of replicas above Spec.MaxReplicas"); whoever comes first, no fight.
    kube.kubectl("-n", ns, "scale", "deployment/api", "--replicas=9")
    outside = world.run()
    assert_ok(outside)
    if outside.applied:
        assert (
            outside.applied == {("scale", "api")} and line(outside, "scale", "api")["reason"] == "hpa_clamp"
        )
        assert line(outside, "scale", "api")["patch"][0]["body"] == {"spec": {"replicas": 5}}
    else:  # the HPA controller's sync (every 15 s) got there first
        assert deploy(kube, ns, "api")["spec"]["replicas"] == 5, outside.describe()
    kube.wait(
        "the HPA to see 5 replicas",
        lambda: kube.get("-n", ns, "hpa", "api").get("status", {}).get("currentReplicas") == 5,
        timeout=40,
    )
    assert deploy(kube, ns, "api")["spec"]["replicas"] == 5
    # and the HPA of the Deployment at 0 says it is switched off; both stay as they are
    kube.wait(
        "ScalingDisabled",
        lambda: any(
            c["type"] == "ScalingActive" and c["reason"] == "ScalingDisabled"
            for c in kube.get("-n", ns, "hpa", "batch").get("status", {}).get("conditions", [])
        ),
        timeout=40,
    )
    assert_noop(world.run())
    assert (deploy(kube, ns, "api")["spec"]["replicas"], deploy(kube, ns, "batch")["spec"]["replicas"]) == (
        5,
        0,
    )


# --- configuration ---------------------------------------------------------------------------------------


def test_config_hash_drift_is_restored_from_last_applied(
    kube: Kube, ns: str, world: JobWorld, tmp_path: Path
) -> None:
    cm, d = app(ns, "api", unique_image(ns, "api", "2.3"), "api-config")
    manifest = tmp_path / "api.yaml"
    config_hash, _ = stamp(manifest, cm, d)
    kube.kubectl("apply", "-f", str(manifest))
    wait_rollout(kube, ns, "api")
    applied = deploy(kube, ns, "api")
    assert applied["metadata"]["annotations"]["selfheal.dev/config-hash"] == config_hash

    # The API server defaulted the template (imagePullPolicy, protocol, probe timings, defaultMode, ...) and
    # canonicalised its quantities; the live template still hashes to what CI stamped.
    clean = world.run()
    assert_noop(clean)
    assert not clean.events("finding") or all(
        e["detector"] != "config_drift" for e in clean.events("finding")
    )

    kube.kubectl("-n", ns, "set", "env", "deployment/api", "LOG_LEVEL=debug")  # a hand edit
    wait_rollout(kube, ns, "api")
    p = world.run()

    assert_ok(p)
    assert p.applied == {("restore_template", "api")}, p.describe()
    finding = next(e for e in p.events("finding") if e["detector"] == "config_drift")
    assert "spec.containers[name=app].env[name=LOG_LEVEL]" in finding["summary"]
    restored = wait_rollout(kube, ns, "api")
    assert restored["spec"]["template"] == applied["spec"]["template"]
    env = {e["name"]: e.get("value") for e in restored["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["LOG_LEVEL"] == "info"
    assert (
        restored["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"
    )  # revision 1's RS again
    assert ("selfheal", "Update") in managers(deploy(kube, ns, "api"))
    for q in live_pods(kube, ns, "api"):
        assert q["spec"]["containers"][0]["env"][0] == {"name": "LOG_LEVEL", "value": "info"}

    assert_noop(world.run())


def test_a_configmap_change_is_rolled_out(kube: Kube, ns: str, world: JobWorld, tmp_path: Path) -> None:
    cm, d = app(ns, "api", unique_image(ns, "api", "2.3"), "api-config")
    _, checksum = stamp(tmp_path / "api.yaml", cm, d)
    kube.kubectl("apply", "-f", str(tmp_path / "api.yaml"))
    wait_rollout(kube, ns, "api")
    old_pods = {q["metadata"]["uid"] for q in live_pods(kube, ns, "api")}
    assert_noop(world.run())

    cm["data"]["FEATURE_SEARCH"] = "off"  # a change to the ConfigMap alone: the pods keep the old values
    (tmp_path / "changed.yaml").write_text(yaml.safe_dump_all([cm, d]))
    new_checksum = selfheal_hash(tmp_path / "changed.yaml")["api"][1]
    assert new_checksum != checksum
    kube.kubectl("apply", "-f", "-", input=json.dumps(cm))
    changed_at = written_at(
        kube.get("-n", ns, "configmap", "api-config", "--show-managed-fields"), "kubectl-client-side-apply"
    )

    p = world.run()

    assert_ok(p)
    assert p.applied == {("rollout_restart", "api")}, p.describe()
    assert line(p, "rollout_restart", "api")["reason"] == "configmap_changed"
    assert line(p, "rollout_restart", "api")["onset"] == changed_at  # the drift began with the new content
    rolled = wait_rollout(kube, ns, "api")
    # the checksum the job wrote is the one CI computes from the new manifest
    assert (
        rolled["spec"]["template"]["metadata"]["annotations"]["selfheal.dev/config-checksum"] == new_checksum
    )
    assert rolled["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
    wait_pods(
        kube,
        ns,
        "api",
        "only new pods",
        lambda ps: (
            len(ps) == 1
            and not {q["metadata"]["uid"] for q in ps} & old_pods
            and all(ready(q) for q in ps)
            and ps
        ),
    )

    assert_noop(world.run())


# --- suspension, the Lease, dry-run ---------------------------------------------------------------------


def test_a_suspended_cronjob_changes_nothing(kube: Kube, ns: str, world: JobWorld) -> None:
    kube.apply(
        deployment(
            ns, "api", unique_image(ns, "api", "1"), 2, annotations={"selfheal.dev/desired-replicas": "2"}
        )
    )
    wait_rollout(kube, ns, "api")
    kube.kubectl("-n", ns, "scale", "deployment/api", "--replicas=1")
    wait_rollout(kube, ns, "api")
    cronjob = job_doc("CronJob", ns)  # aiops/self-heal-job.yaml's CronJob, in this namespace

    for switch in ("annotation", "spec.suspend"):
        cj = json.loads(json.dumps(cronjob))
        if switch == "annotation":
            cj["metadata"]["annotations"] = {"cronjob.kubernetes.io/suspended": "true"}
        else:
            cj["spec"]["suspend"] = True
        kube.apply(cj)  # kubectl apply: the second drops the annotation, the resume below drops suspend
        before = settle(kube, ns)
        p = world.run()
        assert_ok(p)
        assert [e["event"] for e in p.events("run.suspended")] == ["run.suspended"], p.describe()
        assert p.lines == [] and world.history() == [], p.describe()  # nothing decided, nothing recorded
        assert any(f["detector"] == "replica_drift" for f in world.risk()["findings"]), (
            world.risk()
        )  # still reported
        assert not p.events("action.applied")
        assert world_state(kube, ns) == before, switch  # nothing written, not even a Lease

    kube.apply(cronjob)  # resumed (the manifest as it is): the same drift is healed
    assert kube.get("-n", ns, "cronjob", "self-heal-cpt")["spec"]["suspend"] is False
    p = world.run()
    assert_ok(p)
    assert p.applied == {("scale", "api")}
    assert wait_rollout(kube, ns, "api")["spec"]["replicas"] == 2
    assert_noop(world.run())


class _StalledPrometheus:
    """A Prometheus whose queries wait until released: the run holding the Lease reads its canary signals
    after taking it, so it stays inside its pass, holding the Lease, as long as the test wants."""

    def __init__(self) -> None:
        self.inside = threading.Event()
        self.release = threading.Event()
        self.queries: list[float] = []  # when each query arrived (time.monotonic)
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.queries.append(time.monotonic())
                outer.inside.set()
                outer.release.wait(60)
                body = json.dumps(
                    {"status": "success", "data": {"resultType": "vector", "result": []}}
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()


@pytest.fixture
def prometheus() -> Iterator[_StalledPrometheus]:
    p = _StalledPrometheus()
    yield p
    p.close()


def test_two_runs_at_once_one_acts_the_other_sees_the_real_lease(
    kube: Kube, ns: str, world: JobWorld, prometheus: _StalledPrometheus
) -> None:
    image = unique_image(ns, "web", "1")
    split = {"rollout.argoproj.io/traffic-split": '{"canary":10,"stable":90}'}
    kube.apply(
        deployment(ns, "web", image, 1, annotations=split),
        deployment(ns, "web-canary", image, 1, annotations=split),
        deployment(
            ns, "api", unique_image(ns, "api", "1"), 2, annotations={"selfheal.dev/desired-replicas": "2"}
        ),
    )
    for name in ("web", "web-canary", "api"):
        wait_rollout(kube, ns, name)
    kube.kubectl("-n", ns, "scale", "deployment/api", "--replicas=1")
    env = {"SELFHEAL_PROMETHEUS_URL": prometheus.url, "SELFHEAL_PROMETHEUS_TIMEOUT_SECONDS": "60"}

    argv_a, a = world.start(env=env)
    try:
        assert prometheus.inside.wait(60), "run A never read its signals"
        lease = kube.get("-n", ns, "lease", "self-heal-cpt")["spec"]
        assert lease["holderIdentity"] and lease["leaseDurationSeconds"] == 60
        b_started = time.monotonic()
        b = world.run(env=env)  # the second run, while A holds the Lease (and waits in its first query)
        b_ended = time.monotonic()
    finally:
        prometheus.release.set()
    a_pass = world.finish(argv_a, a)

    assert_ok(b)
    assert (
        b.events("run.lease_held") and b.events("run.lease_held")[0]["holder"] == lease["holderIdentity"]
    ), b.describe()
    assert b.lines == [] and not b.events("run.summary") and not b.events("snapshot.read"), b.describe()
    assert [t for t in prometheus.queries if b_started <= t <= b_ended] == []  # B read nothing at all
    assert_ok(a_pass)
    assert a_pass.applied == {("scale", "api")}, a_pass.describe()
    assert lease["holderIdentity"].endswith(a_pass.run_id[:12])
    released = kube.get("-n", ns, "lease", "self-heal-cpt")["spec"]
    assert not released.get("holderIdentity") and released["leaseDurationSeconds"] == 1  # released at the end
    assert [x["action"] for x in world.history() if x["result"] == "applied"] == ["scale"]
    assert wait_rollout(kube, ns, "api")["spec"]["replicas"] == 2

    # Started together, without help: exactly one acts (the other waits out the Lease or finds it done).
    kube.kubectl("-n", ns, "scale", "deployment/api", "--replicas=1")
    other = world.history_file.with_name("race.log")  # a fresh history: no cooldown from the first round
    starts = [world.start(history=other), world.start(history=other)]
    passes = [world.finish(argv, proc, other) for argv, proc in starts]
    for q in passes:
        assert_ok(q)
    assert sorted(len(q.applied) for q in passes) == [0, 1], [q.describe() for q in passes]
    assert [x["action"] for x in world.history(other) if x["result"] == "applied"] == ["scale"]
    assert wait_rollout(kube, ns, "api")["spec"]["replicas"] == 2
    assert_noop(world.run(history=other))


def test_dry_run_changes_nothing(kube: Kube, ns: str, world: JobWorld) -> None:
    crash, good, bad = (
        unique_image(ns, "worker", "1"),
        unique_image(ns, "web", "1"),
        unique_image(ns, "web", "2"),
    )
    kube.behaviors({crash: "CrashLoop", bad: "ImagePullBackOff"})  # a release whose image does not exist
    kube.apply(
        deployment(ns, "worker", crash, 1),
        deployment(ns, "web", good, 1),
        deployment(
            ns, "api", unique_image(ns, "api", "1"), 2, annotations={"selfheal.dev/desired-replicas": "2"}
        ),
    )
    for name in ("web", "api"):
        wait_rollout(kube, ns, name)
    kube.kubectl("-n", ns, "set", "image", "deployment/web", f"app={bad}")
    kube.kubectl("-n", ns, "scale", "deployment/api", "--replicas=1")
    wait_pods(kube, ns, "api", "api scaled down", lambda ps: len(ps) == 1)
    wait_pods(
        kube,
        ns,
        "web",
        "web's new revision failing to pull",
        lambda ps: [
            q
            for q in ps
            if (
                (q["status"].get("containerStatuses") or [{}])[0]
                .get("state", {})
                .get("waiting", {})
                .get("reason")
                in ("ErrImagePull", "ImagePullBackOff")
            )
        ],
    )
    settle(kube, ns)
    # the crash loop in a back-off long enough for the dry run and the real run after it
    wait_pods(
        kube,
        ns,
        "worker",
        "worker crash-looping",
        lambda ps: len(ps) == 1 and crash_looping(ps[0], quiet=6) and ps,
    )
    before = world_state(kube, ns)
    env = {**CRASH, "SELFHEAL_WAITING_GRACE_SECONDS": "0"}  # image-pull errors count at once

    p = world.run("--dry-run", env=env)

    assert_ok(p)
    worker = next(n for a, n in p.outcomes("dry_run") if a == "restart_pod")
    assert p.outcomes("dry_run") == {("restart_pod", worker), ("rollback", "web"), ("scale", "api")}, (
        p.describe()
    )
    assert p.applied == set() and p.summary["dry_run"] is True
    assert "restart_pod" in p.stdout and "rollback" in p.stdout  # the plan table
    # no write (every one went out with dryRun=All and was answered), no Lease, no new field manager,
    # no pod evicted (an eviction, even dry, would show as DisruptionTarget)
    assert world_state(kube, ns) == before
    assert not any("selfheal" in str(v) for v in before.values())

    # ...and it told the truth: the real pass applies exactly what the dry run promised.
    real = world.run(env=env)
    assert_ok(real)
    assert real.applied == p.outcomes("dry_run"), real.describe()
