"""The machine's real kubectl (1.32) against the sandbox: kubectl is the referee.

Each command's effect is checked in the sandbox's state, not just kubectl's exit code.
"""

from __future__ import annotations

import json

import pytest
import yaml

from tests.builders import bare_pod, cronjob, deployment, hpa
from tests.kubesandbox.worlds import running

HPA = hpa("web", min_replicas=2, max_replicas=6, cpu_utilization=70)
EVENT = {
    "apiVersion": "v1",
    "kind": "Event",
    "metadata": {"name": "web.1", "namespace": "shop"},
    "involvedObject": {"kind": "Deployment", "name": "web", "namespace": "shop"},
    "reason": "ScalingReplicaSet",
    "message": "Scaled up replica set web-abc to 2",
    "type": "Normal",
    "firstTimestamp": "2026-01-01T11:59:00Z",
    "lastTimestamp": "2026-01-01T11:59:00Z",
    "count": 1,
    "source": {"component": "deployment-controller"},
}


@pytest.fixture(scope="module")
def shop():
    """One world for the read-only commands: a rolled-out Deployment, its HPA, a CronJob, an event."""
    with running(deployment("web", replicas=2), HPA, cronjob(), EVENT, settle=30) as sb:
        yield sb


def ok(sb, *args, **kw):
    res = sb.kubectl(*args, **kw)
    assert res.returncode == 0, res.stderr
    return res.stdout


def header(out: str) -> list[str]:
    return out.splitlines()[0].split()


@pytest.mark.parametrize(
    ("resource", "columns"),
    [
        ("pods", ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]),
        ("deploy", ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]),
        ("rs", ["NAME", "DESIRED", "CURRENT", "READY", "AGE"]),
        ("hpa", ["NAME", "REFERENCE", "TARGETS", "MINPODS", "MAXPODS", "REPLICAS", "AGE"]),
        ("cronjobs", ["NAME", "SCHEDULE", "TIMEZONE", "SUSPEND", "ACTIVE", "LAST", "SCHEDULE", "AGE"]),
        ("events", ["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]),
    ],
)
def test_get_prints_the_usual_columns(shop, resource, columns):
    out = ok(shop, "get", resource)
    assert header(out) == columns
    assert len(out.splitlines()) >= 2


def test_get_pods_shows_ready_running_pods(shop):
    rows = [line.split() for line in ok(shop, "get", "pods", "-l", "app=web").splitlines()[1:]]
    assert len(rows) == 2
    assert all(r[1] == "1/1" and r[2] == "Running" for r in rows)


def test_get_deploy_shows_the_rollout_counts(shop):
    row = ok(shop, "get", "deploy", "web").splitlines()[1].split()
    assert row[:4] == ["web", "2/2", "2", "2"]


def test_get_jobs_after_create_job_from_cronjob():
    with running(cronjob(), settle=1) as sb:
        ok(sb, "create", "job", "manual-1", "--from=cronjob/self-heal-cpt")
        job = sb.get("Job", "manual-1")
        assert job["metadata"]["annotations"]["cronjob.kubernetes.io/instantiate"] == "manual"
        owner = job["metadata"]["ownerReferences"][0]
        assert (owner["kind"], owner["name"]) == ("CronJob", "self-heal-cpt")
        assert job["spec"]["template"]["spec"]["containers"][0]["image"] == "shop/selfheal:1"
        sb.advance(5)
        assert header(ok(sb, "get", "jobs"))[:3] == ["NAME", "STATUS", "COMPLETIONS"]
        assert "manual-1" in ok(sb, "get", "jobs")


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_get_output_formats_round_trip_the_object(shop, fmt):
    out = ok(shop, "get", "deploy", "web", "-o", fmt)
    obj = yaml.safe_load(out) if fmt == "yaml" else json.loads(out)
    assert (obj["apiVersion"], obj["kind"], obj["metadata"]["name"]) == ("apps/v1", "Deployment", "web")
    assert obj["status"]["availableReplicas"] == 2


@pytest.mark.parametrize(
    ("ptype", "patch"),
    [
        ("strategic", '{"spec":{"replicas":4}}'),
        ("merge", '{"spec":{"replicas":4}}'),
        ("json", '[{"op":"replace","path":"/spec/replicas","value":4}]'),
    ],
)
def test_patch_all_three_types_and_server_dry_run(ptype, patch):
    with running(deployment("web", replicas=2), settle=20) as sb:
        ok(sb, "patch", "deployment", "web", "--type", ptype, "-p", patch, "--dry-run=server")
        assert sb.get("Deployment", "web")["spec"]["replicas"] == 2
        ok(sb, "patch", "deployment", "web", "--type", ptype, "-p", patch)
        dep = sb.get("Deployment", "web")
        assert dep["spec"]["replicas"] == 4
        assert any(m["manager"] == "kubectl-patch" for m in dep["metadata"]["managedFields"])


def test_annotate_and_label():
    with running(cronjob()) as sb:
        ok(sb, "annotate", "cronjob", "self-heal-cpt", "cronjob.kubernetes.io/suspended=true")
        assert (
            sb.get("CronJob", "self-heal-cpt")["metadata"]["annotations"]["cronjob.kubernetes.io/suspended"]
            == "true"
        )
        ok(sb, "annotate", "cronjob", "self-heal-cpt", "cronjob.kubernetes.io/suspended=false", "--overwrite")
        assert (
            sb.get("CronJob", "self-heal-cpt")["metadata"]["annotations"]["cronjob.kubernetes.io/suspended"]
            == "false"
        )
        ok(sb, "label", "cronjob", "self-heal-cpt", "team=sre")
        assert sb.get("CronJob", "self-heal-cpt")["metadata"]["labels"]["team"] == "sre"


def test_scale_goes_through_the_scale_subresource():
    with running(deployment("web", replicas=2), settle=20) as sb:
        ok(sb, "scale", "deployment", "web", "--replicas=3")
        assert sb.get("Deployment", "web")["spec"]["replicas"] == 3
        assert any(r.path.endswith("/deployments/web/scale") and r.method == "PATCH" for r in sb.requests)
        sb.advance(20)
        assert len(sb.list("Pod", label_selector="app=web")) == 3


def test_rollout_restart_rolls_new_pods():
    with running(deployment("web", replicas=2), settle=20) as sb:
        old_pods = {p["metadata"]["name"] for p in sb.list("Pod")}
        ok(sb, "rollout", "restart", "deployment/web")
        tmpl = sb.get("Deployment", "web")["spec"]["template"]
        assert "kubectl.kubernetes.io/restartedAt" in tmpl["metadata"]["annotations"]
        sb.advance(60)
        pods = sb.list("Pod", label_selector="app=web")
        assert len(pods) == 2 and not old_pods & {p["metadata"]["name"] for p in pods}


def test_rollout_history_undo_and_undo_to_revision():
    with running(deployment("web", image="shop/web:1", replicas=2), settle=20) as sb:
        for tag in ("2", "3"):
            ok(sb, "set", "image", "deployment/web", f"app=shop/web:{tag}")
            sb.advance(60)
        history = ok(sb, "rollout", "history", "deployment/web")
        assert [line.split()[0] for line in history.splitlines()[2:] if line.strip()] == ["1", "2", "3"]
        ok(sb, "rollout", "undo", "deployment/web")
        assert (
            sb.get("Deployment", "web")["spec"]["template"]["spec"]["containers"][0]["image"] == "shop/web:2"
        )
        sb.advance(60)
        ok(sb, "rollout", "undo", "deployment/web", "--to-revision=1")
        dep = sb.get("Deployment", "web")
        assert dep["spec"]["template"]["spec"]["containers"][0]["image"] == "shop/web:1"
        assert "pod-template-hash" not in dep["spec"]["template"]["metadata"]["labels"]
        sb.advance(60)
        assert {p["spec"]["containers"][0]["image"] for p in sb.list("Pod", label_selector="app=web")} == {
            "shop/web:1"
        }


def test_delete_pod_and_the_replicaset_replaces_it():
    with running(deployment("web", replicas=2), bare_pod("debug"), settle=20) as sb:
        victim = sb.list("Pod", label_selector="app=web")[0]["metadata"]["name"]
        ok(sb, "delete", "pod", victim, "--wait=false")
        assert sb.get("Pod", victim)["metadata"].get("deletionTimestamp")  # graceful: Terminating first
        assert "Terminating" in ok(sb, "get", "pod", victim)
        sb.advance(20)
        assert sb.find("Pod", victim) is None
        assert len(sb.list("Pod", label_selector="app=web")) == 2
        ok(sb, "delete", "pod", "debug", "--grace-period=0", "--force")
        assert sb.find("Pod", "debug") is None


def test_rollout_status_returns_for_a_complete_rollout():
    with running(deployment("web", replicas=2), settle=30) as sb:
        out = ok(sb, "rollout", "status", "deployment/web", "--timeout=20s")
        assert "successfully rolled out" in out


def test_unknown_object_prints_kubectl_not_found():
    with running() as sb:
        res = sb.kubectl("get", "deploy", "ghost")
        assert res.returncode == 1
        assert 'Error from server (NotFound): deployments.apps "ghost" not found' in res.stderr
