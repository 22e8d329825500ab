"""RBAC contract: the Role in aiops/self-heal-job.yaml is exactly what the healing pass needs.

The static cross-check (tests/deploy/test_selfheal_job.py) compares the Role with a hand-written list of
calls; this module asks the job itself. The sandbox loads the manifest's ServiceAccount, Role and
RoleBinding (`selfheal sandbox serve --rbac-from aiops/self-heal-job.yaml`), the real healing pass runs as
that ServiceAccount over HTTPS, and the sandbox authorises every request the way kube-apiserver's RBAC
authorizer does. So:

- enough: as the ServiceAccount the pass heals ea-plan-v5 exactly as the admin does, with zero 403s;
- nothing unused: every (verb, resource, name) the Role grants is used by that pass;
- nothing superfluous: with any one rule removed, something the pass needs is denied — a 403 for the
  ServiceAccount that the removed rule would have allowed — and the pass says so (an action `failed`
  with `forbidden`, or exit code 3 when a read is denied);
- dry-run is honest about permissions: its writes go out with `dryRun=All`, which the API server
  authorises like real writes, so a dry-run as the ServiceAccount meets the same 403s. The one exception
  is the Lease `create` rule: a dry-run never takes the run lock (selfheal/run.py), by design.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from selfheal.run import EXIT_ACTION_FAILED, EXIT_CLUSTER, PassResult
from tests.deploy.support import NAMESPACE, REPO, Doc, load_docs
from tests.integration.harness import HealingWorld, healing_world

JOB_MANIFEST = REPO / "aiops" / "self-heal-job.yaml"
JOB_DOCS = load_docs(JOB_MANIFEST)
ROLE = next(d for d in JOB_DOCS if d["kind"] == "Role")
BINDING = next(
    d for d in JOB_DOCS if d["kind"] == "RoleBinding" and d["roleRef"]["name"] == ROLE["metadata"]["name"]
)
SERVICE_ACCOUNT = BINDING["subjects"][0]["name"]
CONTEXT = f"sa-{NAMESPACE}-{SERVICE_ACCOUNT}"  # the kubeconfig context the sandbox writes for it
USER = f"system:serviceaccount:{NAMESPACE}:{SERVICE_ACCOUNT}"
RULES: list[Doc] = ROLE["rules"]

# What the admin run of tests/integration/test_ea_plan_v5.py applies: one of each healing action.
HEALED = {
    ("rollback", "cpt-optimizer"),
    ("restart_pod", "cpt-worker"),
    ("restore_template", "cpt-api"),
    ("scale", "cpt-reporting"),
}

_PATH = re.compile(
    r"^/(?:api/v1|apis/(?P<group>[^/]+)/[^/]+)/namespaces/[^/]+/(?P<resource>[^/]+)"
    r"(?:/(?P<name>[^/]+)(?:/(?P<sub>[^/]+))?)?$"
)
_VERBS = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}


@dataclass(frozen=True)
class Call:
    """What RBAC judges about one request (k8s.io/apiserver `RequestInfo`), read from the request log."""

    group: str
    resource: str  # with the subresource: "pods/eviction"
    verb: str
    name: str

    def __str__(self) -> str:
        return f"{self.verb} {self.group or 'core'}/{self.resource}" + (f"/{self.name}" if self.name else "")


def call_of(method: str, path: str, query: str) -> Call:
    m = _PATH.match(path)
    assert m is not None, f"the job sent a request that is not a namespaced resource request: {method} {path}"
    name, sub = m["name"] or "", m["sub"] or ""
    if method == "GET":
        verb = "watch" if re.search(r"(^|&)watch=(true|1)", query) else ("get" if name else "list")
    else:
        verb = _VERBS[method]
    return Call(m["group"] or "", m["resource"] + (f"/{sub}" if sub else ""), verb, name)


def rule_allows(rule: Doc, call: Call) -> bool:
    names = rule.get("resourceNames") or []
    return (
        call.group in rule["apiGroups"]
        and call.resource in rule["resources"]
        and call.verb in rule["verbs"]
        and (not names or call.name in names)
    )


def grants(rule: Doc) -> Iterator[tuple[str, str, str, str | None]]:
    for group in rule["apiGroups"]:
        for resource in rule["resources"]:
            for verb in rule["verbs"]:
                for name in rule.get("resourceNames") or [None]:
                    yield group, resource, verb, name


def grant_used_by(grant: tuple[str, str, str, str | None], call: Call) -> bool:
    group, resource, verb, name = grant
    return (group, resource, verb) == (call.group, call.resource, call.verb) and name in (None, call.name)


def rule_id(rule: Doc) -> str:
    names = "/" + ",".join(rule["resourceNames"]) if rule.get("resourceNames") else ""
    return f"{','.join(rule['verbs'])} {','.join(rule['resources'])}{names}"


def is_lock_rule(rule: Doc) -> bool:
    """The Lease rules: only a real run takes, renews and releases the lock; a dry-run never touches it
    (selfheal/run.py)."""
    return rule["resources"] == ["leases"]


def manifest_without(rule: Doc, tmp_path: Path) -> Path:
    """A copy of aiops/self-heal-job.yaml whose Role lacks `rule`."""
    docs = copy.deepcopy(JOB_DOCS)
    role = next(d for d in docs if d["kind"] == "Role")
    role["rules"] = [r for r in role["rules"] if r != rule]
    assert len(role["rules"]) == len(RULES) - 1
    path = tmp_path / "self-heal-job.yaml"
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False))
    return path


def actions(result: PassResult, outcome: str) -> set[tuple[str, str]]:
    return {
        (o.action.action.value, o.action.workload.name) for o in result.outcomes if o.result.value == outcome
    }


def applied(result: PassResult) -> set[tuple[str, str]]:
    return actions(result, "applied")


def planned(result: PassResult) -> set[tuple[str, str]]:
    """What a dry-run would have applied: its actions the API server accepted with `dryRun=All`."""
    return actions(result, "dry_run")


def forbidden_calls(world: HealingWorld) -> list[tuple[Call, Any]]:
    return [(call_of(r.method, r.path, r.query), r) for r in world.sb.requests if r.status == 403]


def assert_denial_shows(result: PassResult) -> None:
    """The pass itself reports the denial: a read denied is exit 3, a write denied is a failed action."""
    failed = [o for o in result.outcomes if o.result.value == "failed"]
    if result.exit_code == EXIT_CLUSTER:
        assert result.status == "cluster_error" and "403" in result.detail, result.detail
        assert result.outcomes == ()
    else:
        assert result.exit_code == EXIT_ACTION_FAILED, (result.exit_code, result.status, result.detail)
        assert failed and all(o.reason == "forbidden" for o in failed), failed


def sa_run(tmp_path: Path, manifest: Path, **overrides: Any) -> tuple[HealingWorld, PassResult]:
    with healing_world("ea-plan-v5", tmp_path / "work", rbac_from=[manifest]) as world:
        return world, world.run(context=CONTEXT, **overrides)


# --- the Role is enough --------------------------------------------------------------------------------


def test_as_its_service_account_the_job_heals_ea_plan_v5_like_the_admin_with_no_403(tmp_path: Path) -> None:
    with healing_world("ea-plan-v5", tmp_path / "admin") as admin_world:
        admin = admin_world.run()
        admin_calls = [(r.method, r.path, r.status) for r in admin_world.sb.requests]
    world, sa = sa_run(tmp_path, JOB_MANIFEST)
    sa_calls = [(r.method, r.path, r.status) for r in world.sb.requests]

    assert admin.exit_code == 0 and applied(admin) == HEALED
    assert sa.exit_code == 0 and sa.status == "completed"
    assert applied(sa) == applied(admin) == HEALED
    assert {r.user for r in world.sb.requests} == {USER}  # every request ran as the ServiceAccount
    assert [s for _, _, s in sa_calls if s in (401, 403)] == []
    # Not merely "no 403": the same requests, in the same order, with the same answers as the admin's.
    assert sa_calls == admin_calls
    assert len(sa_calls) >= 18


def test_every_permission_the_role_grants_is_used_by_the_pass(tmp_path: Path) -> None:
    world, result = sa_run(tmp_path, JOB_MANIFEST)
    calls = [call_of(r.method, r.path, r.query) for r in world.sb.requests]

    assert result.exit_code == 0
    unused = [g for rule in RULES for g in grants(rule) if not any(grant_used_by(g, c) for c in calls)]
    assert unused == []
    not_granted = [str(c) for c in calls if not any(rule_allows(rule, c) for rule in RULES)]
    assert not_granted == []


# --- every rule is needed --------------------------------------------------------------------------------


@pytest.mark.parametrize("rule", RULES, ids=rule_id)
def test_without_any_one_rule_something_the_job_needs_is_denied(rule: Doc, tmp_path: Path) -> None:
    world, result = sa_run(tmp_path, manifest_without(rule, tmp_path))
    denied = forbidden_calls(world)

    assert denied, f"nothing was denied without {rule_id(rule)}: the Role grants more than the job needs"
    for call, record in denied:
        assert record.user == USER
        assert rule_allows(rule, call), (
            f"{call} was denied, yet the removed {rule_id(rule)} does not grant it"
        )
    assert_denial_shows(result)
    assert applied(result) < HEALED  # the scenario is no longer healed


# --- dry-run meets the same RBAC ---------------------------------------------------------------------------


def test_a_dry_run_as_the_service_account_plans_the_same_healing_and_changes_nothing(tmp_path: Path) -> None:
    world, result = sa_run(tmp_path, JOB_MANIFEST, dry_run=True)
    writes = world.writes()

    assert result.exit_code == 0 and result.dry_run
    assert planned(result) == HEALED
    assert [r for r in world.sb.requests if r.status in (401, 403)] == []
    assert writes and all("dryRun=All" in r.query for r in writes)
    assert [r for r in world.sb.requests if "/leases" in r.path and r.method != "GET"] == []  # no lock taken


@pytest.mark.parametrize("rule", [r for r in RULES if not is_lock_rule(r)], ids=rule_id)
def test_a_dry_run_without_any_one_rule_reports_the_denial(rule: Doc, tmp_path: Path) -> None:
    world, result = sa_run(tmp_path, manifest_without(rule, tmp_path), dry_run=True)
    denied = forbidden_calls(world)

    assert denied and all(rule_allows(rule, call) and record.user == USER for call, record in denied)
    assert_denial_shows(result)
    assert planned(result) < HEALED  # the dry-run no longer promises the whole healing


@pytest.mark.parametrize("rule", [r for r in RULES if is_lock_rule(r)], ids=rule_id)
def test_the_lease_rules_are_the_only_ones_a_dry_run_does_not_need(rule: Doc, tmp_path: Path) -> None:
    assert len([r for r in RULES if is_lock_rule(r)]) == 2
    world, result = sa_run(tmp_path, manifest_without(rule, tmp_path), dry_run=True)

    assert result.exit_code == 0 and forbidden_calls(world) == []
    # ...while a real run without it cannot take the lock and stops before acting
    # (test_without_any_one_rule_something_the_job_needs_is_denied[create leases]).
