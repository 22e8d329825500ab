"""aiops/self-heal-job.yaml: least-privilege RBAC, a schedule that meets the recovery SLO, a pod that runs
read-only as non-root with its outputs on the volume, and the settings the job reads.

Whether these rules are *enough* is the RBAC contract test (the job run in the sandbox as this
ServiceAccount); here they are checked against the list of calls the job makes, so nothing more is granted.
"""

from __future__ import annotations

from pathlib import PurePosixPath

import pytest

from tests.deploy.support import NAMESPACE, Doc, cron_interval_seconds, find, load_manifests

JOB = load_manifests("aiops/self-heal-job.yaml")
ROLE = find(JOB, "Role", "self-heal-cpt")
CRONJOB = find(JOB, "CronJob", "self-heal-cpt")
JOB_SPEC = CRONJOB["spec"]["jobTemplate"]["spec"]
POD_SPEC = JOB_SPEC["template"]["spec"]
CONTAINER = POD_SPEC["containers"][0]

# (apiGroup, resource, verb, resourceName or None): every API call `selfheal run` makes. No `events`: the job
# records its actions in its history log and metrics, never as Kubernetes Events. test_rbac_contract.py
# derives the same set from the job's own requests in the sandbox.
JOB_CALLS = {
    ("", "pods", "list", None),
    ("apps", "deployments", "list", None),
    ("apps", "replicasets", "list", None),
    ("autoscaling", "horizontalpodautoscalers", "list", None),
    ("policy", "poddisruptionbudgets", "list", None),
    ("", "configmaps", "list", None),
    ("batch", "cronjobs", "get", "self-heal-cpt"),
    # The executor re-reads every write's target (uid, deletion, generation) just before writing.
    ("", "pods", "get", None),
    ("", "pods/eviction", "create", None),
    ("apps", "deployments", "get", None),
    ("apps", "deployments", "patch", None),
    ("coordination.k8s.io", "leases", "get", "self-heal-cpt"),
    ("coordination.k8s.io", "leases", "update", "self-heal-cpt"),
    # RBAC cannot restrict create by name: the object has no name yet when create is authorised.
    ("coordination.k8s.io", "leases", "create", None),
}
# The guide's recovery SLO: pod crash to ready in under 5 minutes. The job's part (noticing the crash and
# acting) must leave this much for the replacement pod to start and pass its readiness probe.
RECOVERY_SLO_SECONDS = 300
POD_START_BUDGET_SECONDS = 60


def granted(role: Doc) -> set[tuple[str, str, str, str | None]]:
    grants = set()
    for rule in role["rules"]:
        names = rule.get("resourceNames") or [None]
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                for verb in rule["verbs"]:
                    for name in names:
                        grants.add((group, resource, verb, name))
    return grants


def test_role_grants_exactly_the_calls_the_job_makes() -> None:
    assert granted(ROLE) == JOB_CALLS


def test_role_has_no_wildcards_and_nothing_cluster_scoped() -> None:
    kinds = {m.kind for m in JOB}
    assert not kinds & {"ClusterRole", "ClusterRoleBinding"}
    for rule in ROLE["rules"]:
        for field in ("apiGroups", "resources", "verbs", "resourceNames"):
            assert "*" not in rule.get(field, []), rule
        assert "nonResourceURLs" not in rule
    assert ROLE["metadata"]["namespace"] == NAMESPACE


def test_role_binding_ties_the_role_to_the_cronjobs_service_account() -> None:
    binding = find(JOB, "RoleBinding", "self-heal-cpt")

    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": "self-heal-cpt",
    }
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": POD_SPEC["serviceAccountName"], "namespace": NAMESPACE}
    ]
    assert find(JOB, "ServiceAccount", POD_SPEC["serviceAccountName"])


def test_only_the_cronjob_pods_mount_the_service_account_token() -> None:
    assert find(JOB, "ServiceAccount", "self-heal-cpt")["automountServiceAccountToken"] is False
    assert POD_SPEC["automountServiceAccountToken"] is True


def test_schedule_and_deadlines_meet_the_recovery_slo() -> None:
    interval = cron_interval_seconds(CRONJOB["spec"]["schedule"])
    worst_case = interval + CRONJOB["spec"]["startingDeadlineSeconds"] + JOB_SPEC["activeDeadlineSeconds"]

    assert worst_case <= RECOVERY_SLO_SECONDS - POD_START_BUDGET_SECONDS
    # A pass ends before the next one is due, so concurrencyPolicy Forbid never has to skip a run.
    assert JOB_SPEC["activeDeadlineSeconds"] < interval


def test_runs_never_overlap_and_failures_are_not_retried() -> None:
    spec = CRONJOB["spec"]
    assert spec["concurrencyPolicy"] == "Forbid"
    assert JOB_SPEC["backoffLimit"] == 0
    assert POD_SPEC["restartPolicy"] == "Never"
    assert spec["successfulJobsHistoryLimit"] >= 1
    assert spec["failedJobsHistoryLimit"] >= 1


def test_settings_are_the_jobs_defaults() -> None:
    settings = find(JOB, "ConfigMap", "self-heal-cpt-config")["data"]

    assert settings == {
        "SELFHEAL_NAMESPACE": NAMESPACE,
        "SELFHEAL_MAX_ACTIONS": "5",
        "SELFHEAL_COOLDOWN_SECONDS": "600",
        "SELFHEAL_RESTART_THRESHOLD": "3",
        "SELFHEAL_RISK_FILE": "/var/lib/selfheal/aiops/risk-prediction.json",
        "SELFHEAL_HISTORY_FILE": "/var/lib/selfheal/logs/rollback-history.log",
        "SELFHEAL_PUSHGATEWAY_URL": settings["SELFHEAL_PUSHGATEWAY_URL"],
        "SELFHEAL_PROMETHEUS_URL": settings["SELFHEAL_PROMETHEUS_URL"],
        "SELFHEAL_CRONJOB_NAME": CRONJOB["metadata"]["name"],
        "SELFHEAL_LEASE_NAME": "self-heal-cpt",
    }
    assert CONTAINER["envFrom"] == [{"configMapRef": {"name": "self-heal-cpt-config"}}]
    assert CONTAINER["args"] == ["run"]


@pytest.mark.parametrize("setting", ["SELFHEAL_RISK_FILE", "SELFHEAL_HISTORY_FILE"])
def test_outputs_are_written_to_the_persistent_volume(setting: str) -> None:
    """The root filesystem is read-only: every file the job writes must be under a mounted volume."""
    path = PurePosixPath(find(JOB, "ConfigMap", "self-heal-cpt-config")["data"][setting])
    mounts = {m["name"]: PurePosixPath(m["mountPath"]) for m in CONTAINER["volumeMounts"]}
    claims = {
        v["name"]: v["persistentVolumeClaim"]["claimName"]
        for v in POD_SPEC["volumes"]
        if "persistentVolumeClaim" in v
    }

    holding = [name for name, mount in mounts.items() if path.is_relative_to(mount)]
    assert holding and all(name in claims for name in holding), f"{path} is not on a PersistentVolumeClaim"
    assert find(JOB, "PersistentVolumeClaim", claims[holding[0]])


def test_the_pod_runs_as_the_images_non_root_user_with_a_writable_tmp() -> None:
    assert POD_SPEC["securityContext"]["runAsUser"] == 10001
    assert POD_SPEC["securityContext"]["fsGroup"] == 10001  # so the volume is writable by that user
    tmp = [m for m in CONTAINER["volumeMounts"] if m["mountPath"] == "/tmp"]
    assert tmp and any(v["name"] == tmp[0]["name"] and "emptyDir" in v for v in POD_SPEC["volumes"])
