"""How a pass behaves as a whole: dry-run, suspension, two runs at once, faults, exit codes."""

from __future__ import annotations

import threading

import pytest

from .harness import healing_world

RBAC_ROLE_WITHOUT_EVICTION = """
apiVersion: v1
kind: ServiceAccount
metadata: {name: healer, namespace: dese-ea-plan-v5}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: healer, namespace: dese-ea-plan-v5}
rules:
- {apiGroups: [""], resources: [pods, configmaps], verbs: [get, list]}
- {apiGroups: [apps], resources: [deployments, replicasets], verbs: [get, list, patch]}
- {apiGroups: [autoscaling], resources: [horizontalpodautoscalers], verbs: [list]}
- {apiGroups: [policy], resources: [poddisruptionbudgets], verbs: [list]}
- {apiGroups: [batch], resources: [cronjobs], verbs: [get]}
- {apiGroups: [coordination.k8s.io], resources: [leases], verbs: [get, create, update]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: healer, namespace: dese-ea-plan-v5}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: healer}
subjects: [{kind: ServiceAccount, name: healer, namespace: dese-ea-plan-v5}]
"""


def applied(result):
    return sorted(
        (o.action.action.value, o.action.workload.name)
        for o in result.outcomes
        if o.result.value in ("applied", "dry_run")
    )


def test_dry_run_changes_nothing_but_plans_and_records_the_same_actions(tmp_path):
    with healing_world("ea-plan-v5", tmp_path) as world:
        before = {d["metadata"]["name"]: d["spec"] for d in world.sb.list("Deployment")}
        pods_before = {p["metadata"]["name"] for p in world.sb.list("Pod")}
        result = world.run(dry_run=True)
        assert result.exit_code == 0
        assert applied(result) == [
            ("restart_pod", "cpt-worker"),
            ("restore_template", "cpt-api"),
            ("rollback", "cpt-optimizer"),
            ("scale", "cpt-reporting"),
        ]
        assert {o.result.value for o in result.outcomes} <= {"dry_run", "skipped"}
        writes = world.writes()
        assert writes and all("dryRun=All" in r.query for r in writes)
        assert not [
            r for r in world.sb.requests if "/leases" in r.path and r.method != "GET"
        ]  # no Lease taken
        world.advance(60)
        assert {d["metadata"]["name"]: d["spec"] for d in world.sb.list("Deployment")} == before
        assert pods_before <= {p["metadata"]["name"] for p in world.sb.list("Pod")}  # nobody evicted
        assert {h["result"] for h in world.history()} == {"dry_run", "skipped"}


def test_dry_run_still_reports_what_rbac_would_deny(tmp_path):
    rbac = tmp_path / "rbac.yaml"
    rbac.write_text(RBAC_ROLE_WITHOUT_EVICTION)
    with healing_world("ea-plan-v5", tmp_path, rbac_from=[rbac]) as world:
        result = world.run(context="sa-dese-ea-plan-v5-healer", dry_run=True)
        restart = [
            o
            for o in result.outcomes
            if o.action.action.value == "restart_pod" and o.result.value != "skipped"
        ]
        assert [(o.result.value, o.reason) for o in restart] == [("failed", "forbidden")]
        assert 'cannot create resource "pods/eviction"' in restart[0].message
        assert result.exit_code == 1
        assert sorted(a for a in applied(result)) == [
            ("restore_template", "cpt-api"),
            ("rollback", "cpt-optimizer"),
            ("scale", "cpt-reporting"),
        ]


@pytest.mark.parametrize("how", ["annotation", "spec.suspend"])
def test_a_suspended_cronjob_means_nothing_changes(tmp_path, how):
    with healing_world("ea-plan-v5", tmp_path) as world:
        if how == "annotation":  # exactly what the user's guide types
            world.kubectl(
                "annotate",
                "cronjob",
                "self-heal-cpt",
                "-n",
                "dese-ea-plan-v5",
                "cronjob.kubernetes.io/suspended=true",
            )
        else:
            world.kubectl("patch", "cronjob", "self-heal-cpt", "-p", '{"spec":{"suspend":true}}')
        world.sb.clear_requests()
        result = world.run()
        assert (result.exit_code, result.status) == (0, "suspended")
        assert world.writes() == []
        assert not [r for r in world.sb.requests if r.method != "GET"]
        assert world.history() == []
        assert world.risk()["risk_score"] > 0  # the risk report is still written
        if how == "annotation":
            world.kubectl(
                "annotate", "cronjob", "self-heal-cpt", "--overwrite", "cronjob.kubernetes.io/suspended=false"
            )
            assert world.run().status == "completed"


def test_two_runs_started_together_exactly_one_acts(tmp_path):
    with healing_world("ea-plan-v5", tmp_path) as world:
        results = {}
        barrier = threading.Barrier(2)

        def go(name: str) -> None:
            barrier.wait()
            results[name] = world.run(identity=name)

        threads = [threading.Thread(target=go, args=(n,)) for n in ("scheduled", "manual")]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        statuses = sorted(r.status for r in results.values())
        acted = [r for r in results.values() if applied(r)]
        assert len(acted) == 1, statuses
        assert applied(acted[0]) == [
            ("restart_pod", "cpt-worker"),
            ("restore_template", "cpt-api"),
            ("rollback", "cpt-optimizer"),
            ("scale", "cpt-reporting"),
        ]
        other = next(r for r in results.values() if r is not acted[0])
        # the other either saw the Lease held, or got it after the first finished and found cooldowns
        assert other.status in ("lease_held", "completed") and not applied(other)
        history = world.history()
        assert len([h for h in history if h["result"] == "applied"]) == 4


def test_transient_errors_are_retried_and_a_conflict_is_re_read_once(tmp_path):
    with healing_world("ea-plan-v5", tmp_path) as world:
        world.sb.inject("PATCH", r"/deployments/cpt-reporting$", status=503, times=2)
        world.sb.inject("PATCH", r"/deployments/cpt-api$", status=409, times=1)
        result = world.run()
        assert result.exit_code == 0
        assert ("scale", "cpt-reporting") in applied(result) and ("restore_template", "cpt-api") in applied(
            result
        )
        patches = [r for r in world.sb.requests if r.method == "PATCH"]
        assert (
            len([r for r in patches if r.path.endswith("/cpt-reporting")]) == 1
        )  # the 503s never reach the log
        assert world.sb.get("Deployment", "cpt-reporting")["spec"]["replicas"] == 3


def test_a_permanent_error_fails_fast_into_the_report_and_exit_1(tmp_path):
    with healing_world("ea-plan-v5", tmp_path) as world:
        world.sb.inject("PATCH", r"/deployments/cpt-reporting$", status=422, times=10)
        result = world.run()
        assert result.exit_code == 1
        failed = [o for o in result.outcomes if o.result.value == "failed"]
        assert [(o.action.workload.name, o.reason) for o in failed] == [("cpt-reporting", "invalid")]
        assert world.sb.faults._rules[0].hits == 1  # not retried
        line = next(h for h in world.history() if h["result"] == "failed")
        assert line["name"] == "cpt-reporting" and line["reason"] == "invalid"


def test_a_conflict_that_persists_fails_after_one_re_read(tmp_path):
    with healing_world("ea-plan-v5", tmp_path) as world:
        world.sb.inject("PATCH", r"/deployments/cpt-api$", status=409, times=5)
        result = world.run()
        outcome = next(o for o in result.outcomes if o.action.workload.name == "cpt-api")
        assert (outcome.result.value, outcome.reason) == ("failed", "conflict")
        assert world.sb.faults._rules[0].hits == 2


def test_an_unreachable_cluster_is_exit_3(tmp_path):
    with healing_world("ea-plan-v5", tmp_path) as world:
        world.sb.inject("GET", r".*", status=503, times=1000)
        result = world.run()
        assert (result.exit_code, result.status) == (3, "cluster_error")
        assert "503" in result.detail
        assert world.history() == []


def test_a_lease_that_cannot_be_released_does_not_undo_the_passs_result(tmp_path):
    """The Lease expires on its own; the actions done and recorded stand, and so does the exit code."""
    with healing_world("ea-plan-v5", tmp_path) as world:
        world.sb.inject("PUT", r"/leases/self-heal-cpt$", status=403, times=10)
        result = world.run()
        assert (result.exit_code, result.status) == (0, "completed")
        assert (
            len(applied(result)) == 4 and len([h for h in world.history() if h["result"] == "applied"]) == 4
        )
        lease = world.sb.get("Lease", "self-heal-cpt")
        assert lease["spec"]["holderIdentity"]  # still held: nobody could release it
        assert lease["spec"]["leaseDurationSeconds"] == 60  # ...and it expires by itself
