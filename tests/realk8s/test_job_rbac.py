"""The Role of aiops/self-heal-job.yaml, judged by kube-apiserver's RBAC authorizer (issue 8 §3.1).

The job runs as the real CLI with a kubeconfig holding a token of the manifest's ServiceAccount
(`kubectl create token self-heal-cpt`), in a namespace of its own: the manifest's ServiceAccount, Role and
RoleBinding are applied there with every `namespace` rewritten (tests/realk8s/jobworld.py). No audit log is
configured, so the evidence is the job's own: its exit code, its JSON log events and its history lines —
and kube-apiserver's 403 message, which names the verb, resource and API group it refused.

- As deployed (the manifest's settings ConfigMap verbatim, restart threshold 3): a pass heals one of each
  write the Role allows — an eviction, a rollback, a scale, a template restore — with zero 403s, a dry run
  plans the same, and the next pass has nothing to do.
- Every rule is needed: with any one rule removed (the Role replaced, the authorizer polled until it
  answers with the new rules, the Lease deleted as in a namespace the job never ran in), something the pass
  needs is refused, the refusal names exactly what the removed rule grants, and the pass says so: exit 3
  for a read, a `failed` action with reason `forbidden` (exit 1) for a write.
- A dry run takes no Lease, so it needs neither Lease rule.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.realk8s.cluster import Kube
from tests.realk8s.jobworld import (
    ROLE_RULES,
    JobWorld,
    Obj,
    Pass,
    app,
    crash_looping,
    deployment,
    expand,
    is_lock_rule,
    live_pods,
    namespace,
    ready,
    rule_id,
    settings_env,
    stamp,
    unique_image,
    wait_pods,
    wait_rollout,
)

DENIED = re.compile(r'cannot (\w+) resource "([^"]+)" in API group "([^"]*)"')


def denials(p: Pass) -> list[tuple[str, str, str]]:
    """(group, resource, verb) of every 403 the job reported, from kube-apiserver's own message."""
    texts = (
        [str(e.get("error", "")) for e in p.all_events]
        + [str(x.get("message", "")) for x in p.lines]
        + [p.stderr]
    )
    return sorted({(g, r, v) for text in texts for v, r, g in DENIED.findall(text)})


def grants(rule: Obj, group: str, resource: str, verb: str) -> bool:
    return group in rule["apiGroups"] and resource in rule["resources"] and verb in rule["verbs"]


# --- as deployed -----------------------------------------------------------------------------------------


class AsDeployed:
    """A namespace with one of each thing to heal, started when the module starts: crash loops need ~35 s
    to reach the manifest's restart threshold of 3, which the rule-by-rule tests below fill."""

    def __init__(self, kube: Kube, ns: str, workdir: Path) -> None:
        self.kube, self.ns = kube, ns
        self.world = JobWorld.install(kube, ns, workdir, env=settings_env(ns))
        self.worker = unique_image(ns, "worker", "1")  # crashes until restarted: a restart
        self.good, self.bad = (
            unique_image(ns, "web", "1"),
            unique_image(ns, "web", "2"),
        )  # a bad release: a rollback
        kube.behaviors({self.worker: "CrashUntilRestarted", self.bad: "CrashLoop"})
        cm, cfg = app(ns, "cfg", unique_image(ns, "cfg", "1"), "cfg-config")  # a hand edit: a restore
        stamp(workdir / "cfg.yaml", cm, cfg)
        kube.kubectl("apply", "-f", str(workdir / "cfg.yaml"))
        kube.apply(
            deployment(ns, "worker", self.worker, 1),
            deployment(ns, "web", self.good, 2),
            deployment(
                ns,
                "api",
                unique_image(ns, "api", "1"),
                3,  # a manual scale: a scale
                annotations={"selfheal.dev/desired-replicas": "3"},
            ),
        )
        for name in ("web", "api", "cfg"):
            wait_rollout(kube, ns, name)
        kube.kubectl("-n", ns, "set", "image", "deployment/web", f"app={self.bad}")
        kube.kubectl("-n", ns, "scale", "deployment/api", "--replicas=1")
        kube.kubectl("-n", ns, "set", "env", "deployment/cfg", "LOG_LEVEL=debug")


@pytest.fixture(scope="module", autouse=True)
def as_deployed(kube: Kube, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AsDeployed]:
    with namespace(kube, "job-as-deployed") as ns:
        yield AsDeployed(kube, ns, tmp_path_factory.mktemp("as-deployed"))


# --- rule by rule ----------------------------------------------------------------------------------------


class RuleWorld:
    """One crash-looping pod to evict (it crashes again after every eviction) and one Deployment to scale:
    between them, a pass uses every rule of the Role. Restart threshold 1, so a replacement counts at once."""

    ENV = {"SELFHEAL_RESTART_THRESHOLD": "1"}

    def __init__(self, kube: Kube, ns: str, workdir: Path) -> None:
        self.kube, self.ns = kube, ns
        self.world = JobWorld.install(kube, ns, workdir, env=self.ENV)
        image = unique_image(ns, "worker", "1")
        kube.behaviors({image: "CrashLoop"})
        kube.apply(
            deployment(ns, "worker", image, 1),
            deployment(
                ns, "api", unique_image(ns, "api", "1"), 2, annotations={"selfheal.dev/desired-replicas": "2"}
            ),
        )
        wait_rollout(kube, ns, "api")

    def prepare(self, rules: list[Obj]) -> str:
        """The Role with `rules`, a drifted `api`, a crash-looping `worker`, and no Lease; returns the pod."""
        self.world.set_role(rules)
        self.kube.kubectl("-n", self.ns, "delete", "lease", "self-heal-cpt", "--ignore-not-found")
        self.kube.kubectl("-n", self.ns, "scale", "deployment/api", "--replicas=1")
        [pod] = wait_pods(
            self.kube,
            self.ns,
            "worker",
            "a crash-looping worker",
            lambda ps: len(ps) == 1 and crash_looping(ps[0]) and ps,
            timeout=60,
        )
        return str(pod["metadata"]["name"])


@pytest.fixture(scope="module")
def rule_world(kube: Kube, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RuleWorld]:
    with namespace(kube, "job-rbac-rules") as ns:
        yield RuleWorld(kube, ns, tmp_path_factory.mktemp("rbac-rules"))


@pytest.mark.parametrize("rule", ROLE_RULES, ids=rule_id)
def test_without_any_one_rule_something_the_job_needs_is_forbidden(
    rule: Obj, rule_world: RuleWorld, tmp_path: Path
) -> None:
    pod = rule_world.prepare([r for r in ROLE_RULES if r != rule])
    assert expand([rule]) - rule_world.world.granted() == expand([rule])  # the authorizer no longer grants it

    p = rule_world.world.run(history=tmp_path / "history.log")

    denied = denials(p)
    assert denied, f"nothing was forbidden without {rule_id(rule)}:\n{p.describe()}"
    for group, resource, verb in denied:
        assert grants(rule, group, resource, verb), (
            f"{verb} {group}/{resource} was refused, not granted by {rule_id(rule)}"
        )
    failed = [x for x in p.lines if x["result"] == "failed"]
    if p.exit_code == 3:  # a read (or the lock) refused: the pass stops before acting
        assert p.events("run.cluster_error") and "403" in p.stderr, p.describe()
        assert failed == [] and p.applied == set(), p.describe()
    else:  # a write refused: the action failed, with the reason, in the history and the logs
        assert p.exit_code == 1, p.describe()
        assert failed and all(x["reason"] == "forbidden" for x in failed), p.describe()
        assert {e["status"] for e in p.events("action.failed")} == {403}
    assert p.applied < {("restart_pod", pod), ("scale", "api")}, p.describe()  # the namespace stays unhealed


@pytest.mark.parametrize("rule", [r for r in ROLE_RULES if is_lock_rule(r)], ids=rule_id)
def test_a_dry_run_takes_no_lease_so_it_needs_neither_lease_rule(
    rule: Obj, rule_world: RuleWorld, tmp_path: Path
) -> None:
    pod = rule_world.prepare([r for r in ROLE_RULES if r != rule])

    p = rule_world.world.run("--dry-run", history=tmp_path / "history.log")

    assert p.exit_code == 0 and denials(p) == [] and p.forbidden() == [], p.describe()
    assert p.outcomes("dry_run") == {("restart_pod", pod), ("scale", "api")}, p.describe()
    assert rule_world.kube.get("-n", rule_world.ns, "leases")["items"] == []


# --- the Role as it is (last: its crash loops had the module's time to reach 3 restarts) ------------------


def test_as_its_service_account_with_the_manifests_settings_the_job_heals_with_zero_403(
    as_deployed: AsDeployed,
) -> None:
    kube, ns, world = as_deployed.kube, as_deployed.ns, as_deployed.world
    assert world.env["SELFHEAL_RESTART_THRESHOLD"] == "3" and world.env["SELFHEAL_NAMESPACE"] == ns
    assert world.granted() == expand(ROLE_RULES)  # the authorizer grants the Role, no more (in its resources)
    [victim] = wait_pods(
        kube,
        ns,
        "worker",
        "worker at 3 restarts",
        lambda ps: len(ps) == 1 and crash_looping(ps[0], 3) and ps,
        timeout=120,
    )
    wait_pods(
        kube,
        ns,
        "web",
        "web's new revision at 3 restarts",
        lambda ps: [q for q in ps if crash_looping(q, 3)],
        timeout=120,
    )
    expected = {
        ("restart_pod", victim["metadata"]["name"]),
        ("rollback", "web"),
        ("scale", "api"),
        ("restore_template", "cfg"),
    }

    plan = world.run("--dry-run")
    assert plan.exit_code == 0 and denials(plan) == [] and plan.forbidden() == [], plan.describe()
    assert plan.outcomes("dry_run") == expected, plan.describe()

    p = world.run()

    assert p.exit_code == 0 and p.summary["results"]["failed"] == 0, p.describe()
    assert denials(p) == [] and p.forbidden() == [], p.describe()
    assert p.applied == expected, p.describe()
    # the referee: the cluster's kubectl
    wait_pods(
        kube,
        ns,
        "worker",
        "a healthy worker",
        lambda ps: len(ps) == 1 and ready(ps[0]) and ps[0]["metadata"]["uid"] != victim["metadata"]["uid"],
        timeout=60,
    )
    web = wait_rollout(kube, ns, "web")
    assert web["spec"]["template"]["spec"]["containers"][0]["image"] == as_deployed.good
    assert wait_rollout(kube, ns, "api")["spec"]["replicas"] == 3
    cfg = wait_rollout(kube, ns, "cfg")
    assert {e["name"]: e.get("value") for e in cfg["spec"]["template"]["spec"]["containers"][0]["env"]}[
        "LOG_LEVEL"
    ] == "info"
    assert all(ready(q) for name in ("web", "api", "cfg") for q in live_pods(kube, ns, name))
    # what it left behind: one history line per decision, the risk report
    assert sorted((x["action"], x["name"]) for x in p.lines if x["result"] == "applied") == sorted(expected)
    assert [x for x in p.lines if x["result"] == "failed"] == []
    assert json.loads(world.risk_file.read_text())["namespace"] == ns

    again = world.run()
    assert again.exit_code == 0 and again.applied == set() and denials(again) == [], again.describe()
    assert [x for x in again.lines if x["result"] in ("applied", "failed")] == []
