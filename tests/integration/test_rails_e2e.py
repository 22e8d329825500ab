"""The safety rails end to end: what the pass refuses to do, and that it then really writes nothing.

Each story builds a world where acting would be wrong (or must be limited), runs the real pass
against the sandbox, and checks the refusal three ways: the outcome code, the cluster (kubectl and the
request log: no write was sent), and the history line that will explain it tomorrow.
"""

from __future__ import annotations

from typing import Any

from selfheal.kube.model import ANN_DESIRED_REPLICAS, ANN_IGNORE, ANN_MIRROR
from tests.builders import deployment, image_behavior, pdb
from tests.integration.harness import healing_world
from tests.integration.worlds import applied, decisions, kube_json, pod_names, rolled_out, story


def _crashing_pod(world, selector):
    return next(
        p
        for p in kube_json(world, "pods", "-l", selector)["items"]
        if not p["status"]["containerStatuses"][0]["ready"]
    )


def _replicas(world):
    return {d["metadata"]["name"]: d["spec"]["replicas"] for d in kube_json(world, "deploy")["items"]}


def test_bare_and_static_pods_are_never_restarted(tmp_path):
    with healing_world(story(image_behavior("shop/debug:1", "CrashLoop")), tmp_path) as world:
        world.kubectl("run", "debug", "--image=shop/debug:1")  # a bare pod: evicting it deletes it for good
        world.kubectl(
            "run",
            "kube-proxy-shim",
            "--image=shop/debug:1",  # marked as a static pod's mirror
            f"--annotations={ANN_MIRROR}=3f2a9c1e",
        )
        world.advance(90)  # both crash-loop past the restart threshold
        uids = {n: world.sb.get("Pod", n)["metadata"]["uid"] for n in ("debug", "kube-proxy-shim")}
        writes_before = len(world.writes())

        result = world.run()
        assert result.exit_code == 0
        assert {f.subject.name for f in result.findings if f.detector == "crashloop" and f.subject} == set(
            uids
        )
        assert decisions(result) == {
            ("restart_pod", "debug"): ("skipped", "bare_pod"),
            ("restart_pod", "kube-proxy-shim"): ("skipped", "static_pod"),
        }
        assert len(world.writes()) == writes_before

        pods = {p["metadata"]["name"]: p for p in kube_json(world, "pods")["items"]}
        assert {n: pods[n]["metadata"]["uid"] for n in uids} == uids
        assert all("deletionTimestamp" not in pods[n]["metadata"] for n in uids)
        assert (
            pods["debug"]["status"]["containerStatuses"][0]["state"]["waiting"]["reason"]
            == "CrashLoopBackOff"
        )
        assert {(h["name"], h["result"], h["reason"]) for h in world.history()} == {
            ("debug", "skipped", "bare_pod"),
            ("kube-proxy-shim", "skipped", "static_pod"),
        }
        assert all("patch" not in h for h in world.history())


def test_an_eviction_refused_by_the_pdb_is_skipped_and_goes_through_once_the_budget_allows(tmp_path):
    world_file = story(
        *rolled_out("web", image="shop/web:1", replicas=3, crashing=1),
        image_behavior("shop/web:1", "CrashUntilRestarted"),
        pdb("web", selector={"app": "web"}, min_available=3),
    )  # no disruption allowed at all
    with healing_world(world_file, tmp_path) as world:
        crashing = _crashing_pod(world, "app=web")["metadata"]
        first = world.run()
        assert first.exit_code == 0  # a refused eviction is a skip, not a failure
        assert decisions(first) == {("restart_pod", crashing["name"]): ("skipped", "pdb_blocked")}
        [attempt] = [r for r in world.writes() if r.path.endswith("/eviction")]
        assert attempt.status == 429

        world.advance(5)
        still = world.sb.get("Pod", crashing["name"])
        assert still["metadata"]["uid"] == crashing["uid"] and "deletionTimestamp" not in still["metadata"]
        [line] = world.history()
        assert (line["action"], line["name"], line["result"], line["reason"]) == (
            "restart_pod",
            crashing["name"],
            "skipped",
            "pdb_blocked",
        )
        assert "disruption budget" in line["message"]

        # The owner relaxes the budget; a skipped eviction started no cooldown, so the next run acts.
        world.kubectl("patch", "pdb", "web", "--type=merge", "-p", '{"spec":{"minAvailable":2}}')
        world.advance(5)
        second = world.run()
        assert applied(second) == {("restart_pod", crashing["name"])}
        world.advance(60)
        assert crashing["name"] not in pod_names(world, "app=web")
        assert kube_json(world, "deploy", "web")["status"]["availableReplicas"] == 3


def test_a_paused_deployment_is_not_rolled_back(tmp_path):
    world_file = story(
        deployment("web", image="shop/web:1", replicas=3), image_behavior("shop/web:2", "CrashLoop")
    )
    with healing_world(world_file, tmp_path) as world:
        world.advance(30)
        world.kubectl("set", "image", "deploy/web", "app=shop/web:2")
        world.advance(120)
        world.kubectl("rollout", "pause", "deploy/web")  # someone is looking at revision 2

        result = world.run()
        assert any(f.detector == "bad_revision" for f in result.findings)
        assert decisions(result)[("rollback", "web")] == ("skipped", "paused")
        assert not any(
            r.path.endswith("/deployments/web") for r in world.writes() if r.field_manager == "selfheal"
        )
        live = kube_json(world, "deploy", "web")
        assert live["spec"]["paused"] is True
        assert live["spec"]["template"]["spec"]["containers"][0]["image"] == "shop/web:2"
        line = next(h for h in world.history() if h["action"] == "rollback")
        assert (line["result"], line["reason"]) == ("skipped", "paused") and "resume it first" in line[
            "message"
        ]


def test_max_actions_caps_the_writes_of_a_pass_and_the_next_pass_does_the_rest(tmp_path):
    names = ("alpha", "bravo", "charlie", "delta")
    world_file = story(*(deployment(n, replicas=2, annotations={ANN_DESIRED_REPLICAS: "2"}) for n in names))
    with healing_world(world_file, tmp_path) as world:
        world.advance(30)
        for n in names:
            world.kubectl("scale", f"deploy/{n}", "--replicas=1")
        writes_before = len(world.writes())

        first = world.run(max_actions=2)
        assert first.exit_code == 0
        assert decisions(first) == {
            ("scale", "alpha"): ("applied", "replica_drift"),
            ("scale", "bravo"): ("applied", "replica_drift"),
            ("scale", "charlie"): ("skipped", "max_actions"),
            ("scale", "delta"): ("skipped", "max_actions"),
        }
        assert len(world.writes()) == writes_before + 2
        assert _replicas(world) == {"alpha": 2, "bravo": 2, "charlie": 1, "delta": 1}

        world.advance(30)
        second = world.run(max_actions=2)
        assert applied(second) == {("scale", "charlie"), ("scale", "delta")}
        world.advance(30)
        assert _replicas(world) == dict.fromkeys(names, 2)
        assert [(h["name"], h["result"]) for h in world.history()] == [
            ("alpha", "applied"),
            ("bravo", "applied"),
            ("charlie", "skipped"),
            ("delta", "skipped"),
            ("charlie", "applied"),
            ("delta", "applied"),
            ("alpha", "verified"),
            ("bravo", "verified"),
        ]


def test_cooldown_holds_across_runs_and_lifts_when_it_ends(tmp_path):
    limits: dict[str, Any] = {"cooldown_seconds": 300, "escalation_window_seconds": 300}
    with healing_world(
        story(deployment("web", replicas=3, annotations={ANN_DESIRED_REPLICAS: "3"})), tmp_path
    ) as world:
        world.advance(30)
        world.kubectl("scale", "deploy/web", "--replicas=1")
        first = world.run(**limits)
        assert applied(first) == {("scale", "web")}

        world.advance(60)  # someone scales it down again, a minute later
        world.kubectl("scale", "deploy/web", "--replicas=1")
        writes_before = len(world.writes())
        second = world.run(**limits)  # a new run: only the history file remembers the first one
        assert decisions(second) == {("scale", "web"): ("skipped", "cooldown")}
        skip = next(o for o in second.outcomes if o.reason == "cooldown")
        assert "cooldown ends in 240s" in skip.message
        assert len(world.writes()) == writes_before
        assert _replicas(world) == {"web": 1}

        world.advance(250)  # 310 s after the first scale: the cooldown is over
        third = world.run(**limits)
        assert applied(third) == {("scale", "web")}
        world.advance(30)
        assert kube_json(world, "deploy", "web")["status"]["availableReplicas"] == 3
        assert [(h["result"], h["reason"]) for h in world.history()] == [
            ("applied", "replica_drift"),
            ("skipped", "cooldown"),
            ("applied", "replica_drift"),
        ]


def test_escalation_restart_then_rollback_then_hands_off(tmp_path):
    # web rolled out shop/web:2 an hour ago (a recent change) and the database password was rotated under
    # it: every revision now crashes (exit 1). The pods started before the rotation still run; one has
    # already restarted.
    world_file = story(
        *rolled_out(
            "web",
            image="shop/web:2",
            previous_image="shop/web:1",
            replicas=4,
            crashing=1,
            updated="2026-01-01T11:00:00Z",
        ),
        image_behavior("shop/web:1", "CrashLoop"),
        image_behavior("shop/web:2", "CrashLoop"),
    )
    limits: dict[str, Any] = {"cooldown_seconds": 60}
    with healing_world(world_file, tmp_path) as world:
        crashing = _crashing_pod(world, "app=web")["metadata"]["name"]

        first = world.run(**limits)  # rung 1: restart the pod
        assert applied(first) == {("restart_pod", crashing)}

        world.advance(120)  # the replacement crash-loops too
        second = world.run(**limits)  # rung 2: the restart did not help, roll back
        assert applied(second) == {("rollback", "web")}
        rollback = next(o for o in second.outcomes if o.action.action.value == "rollback")
        assert rollback.action.reason == "restarts_did_not_help"
        assert rollback.action.detector == "crashloop"
        assert (
            kube_json(world, "deploy", "web")["spec"]["template"]["spec"]["containers"][0]["image"]
            == "shop/web:1"
        )

        world.advance(120)  # revision 1 crashes as well
        writes_before = len(world.writes())
        third = world.run(**limits)  # rung 3: hands off
        assert third.exit_code == 0 and applied(third) == set()
        assert {o.reason for o in third.outcomes} == {"needs_human"}
        assert {o.action.action.value for o in third.outcomes} == {"restart_pod", "rollback"}
        assert any("did not help" in o.message for o in third.outcomes)
        assert len(world.writes()) == writes_before

        world.advance(120)
        fourth = world.run(**limits)  # and it stays hands-off: no rollback ping-pong
        assert {o.reason for o in fourth.outcomes} == {"needs_human"}
        assert all("handed to a human" in o.message for o in fourth.outcomes)
        assert len(world.writes()) == writes_before

        history = world.history()
        assert [(h["action"], h["result"]) for h in history if h["result"] == "applied"] == [
            ("restart_pod", "applied"),
            ("rollback", "applied"),
        ]
        assert {h["reason"] for h in history if h["result"] == "skipped"} == {"needs_human"}
        assert {h["ladder"] for h in history} == {"health"}


def test_mass_failure_is_reported_and_nothing_is_written(tmp_path):
    # Three of four Deployments crash at once: a node or platform fault, not three application bugs.
    world_file = story(
        deployment("api", image="shop/api:1", replicas=1),
        deployment("web", image="shop/web:1", replicas=1),
        deployment("worker", image="shop/worker:1", replicas=1),
        deployment("docs", image="shop/docs:1", replicas=1),
        *(image_behavior(f"shop/{n}:1", "CrashLoop") for n in ("api", "web", "worker")),
    )
    with healing_world(world_file, tmp_path) as world:
        world.advance(90)
        uids = {p["metadata"]["uid"] for p in kube_json(world, "pods")["items"]}
        writes_before = len(world.writes())

        result = world.run()
        assert result.exit_code == 0
        assert result.plan is not None and result.plan.mass_failure
        restarts = [o for o in result.outcomes if o.action.action.value == "restart_pod"]
        assert len(restarts) == 3 and {o.reason for o in restarts} == {"mass_failure"}
        assert all("3 of 4 Deployments are failing" in o.message for o in restarts)
        assert {o.result.value for o in result.outcomes} == {"skipped"}
        assert len(world.writes()) == writes_before
        assert {p["metadata"]["uid"] for p in kube_json(world, "pods")["items"]} == uids

        risk = world.risk()
        assert next(f for f in risk["factors"] if f["name"] == "failing_workloads")["value"] == 1 - 0.5**3
        assert {a["workload"] for a in risk["actions"] if a["reason"] == "mass_failure"} == {
            "Deployment/api",
            "Deployment/web",
            "Deployment/worker",
        }
        assert {h["reason"] for h in world.history() if h["action"] == "restart_pod"} == {"mass_failure"}


def test_one_deployment_whose_every_pod_fails_is_still_an_application_case(tmp_path):
    world_file = story(
        *rolled_out("web", image="shop/web:1", replicas=4, crashing=4),
        image_behavior("shop/web:1", "CrashUntilRestarted"),
        deployment("api", replicas=1),
        deployment("docs", replicas=1),
    )
    with healing_world(world_file, tmp_path) as world:
        world.advance(10)
        crashing = pod_names(world, "app=web")
        result = world.run()
        assert result.plan is not None and not result.plan.mass_failure
        assert applied(result) == {("restart_pod", name) for name in crashing}

        world.advance(60)
        assert pod_names(world, "app=web").isdisjoint(crashing)
        assert kube_json(world, "deploy", "web")["status"]["availableReplicas"] == 4


def test_ignore_annotation_on_a_deployment_or_a_pod_is_respected(tmp_path):
    world_file = story(
        deployment("web", replicas=3, annotations={ANN_DESIRED_REPLICAS: "3", ANN_IGNORE: "true"}),
        *rolled_out("worker", image="shop/worker:1", replicas=2, crashing=1),
        image_behavior("shop/worker:1", "CrashUntilRestarted"),
    )
    with healing_world(world_file, tmp_path) as world:
        world.advance(10)
        world.kubectl("scale", "deploy/web", "--replicas=1")
        pod = _crashing_pod(world, "app=worker")["metadata"]
        world.kubectl("annotate", "pod", pod["name"], f"{ANN_IGNORE}=true")  # someone is debugging it
        writes_before = len(world.writes())

        result = world.run()
        assert result.exit_code == 0
        assert decisions(result) == {
            ("scale", "web"): ("skipped", "ignored"),
            ("restart_pod", pod["name"]): ("skipped", "ignored"),
        }
        assert len(world.writes()) == writes_before
        world.advance(30)
        assert _replicas(world) == {"web": 1, "worker": 2}
        assert world.sb.get("Pod", pod["name"])["metadata"]["uid"] == pod["uid"]
        assert {(h["name"], h["reason"]) for h in world.history()} == {
            ("web", "ignored"),
            (pod["name"], "ignored"),
        }


def test_a_terminating_pod_is_left_to_finish(tmp_path):
    world_file = story(
        *rolled_out("web", image="shop/web:1", replicas=4, crashing=1),
        image_behavior("shop/web:1", "CrashUntilRestarted"),
    )
    with healing_world(world_file, tmp_path) as world:
        crashing = _crashing_pod(world, "app=web")["metadata"]["name"]
        world.kubectl("delete", "pod", crashing, "--wait=false")  # someone got there first
        writes_before = len(world.writes())

        result = world.run()
        assert decisions(result) == {("restart_pod", crashing): ("skipped", "terminating")}
        assert len(world.writes()) == writes_before  # no eviction of a pod already on its way out
        assert "deletionTimestamp" in world.sb.get("Pod", crashing)["metadata"]

        world.advance(60)
        assert crashing not in pod_names(world, "app=web")
        assert kube_json(world, "deploy", "web")["status"]["availableReplicas"] == 4
        writes_before = len(world.writes())
        assert world.run().outcomes == ()
        assert len(world.writes()) == writes_before


def test_an_established_revision_is_restarted_then_handed_to_a_human_never_rolled_back(tmp_path):
    # web has run shop/web:2 for 17 days; a dependency's password was rotated: the pods crash one by one.
    world_file = story(
        *rolled_out("web", image="shop/web:2", previous_image="shop/web:1", replicas=4, crashing=1),
        image_behavior("shop/web:1", "CrashLoop"),
        image_behavior("shop/web:2", "CrashLoop"),
    )
    limits: dict[str, Any] = {"cooldown_seconds": 60}
    with healing_world(world_file, tmp_path) as world:
        crashing = _crashing_pod(world, "app=web")["metadata"]["name"]

        first = world.run(**limits)
        assert applied(first) == {("restart_pod", crashing)}

        world.advance(120)  # the replacement crash-loops too
        writes_before = len(world.writes())
        second = world.run(**limits)
        assert applied(second) == set() and len(world.writes()) == writes_before
        hand_off = [o for o in second.outcomes if o.reason == "needs_human"]
        assert hand_off and all("established revision is not rolled back" in o.message for o in hand_off)
        assert (
            kube_json(world, "deploy", "web")["spec"]["template"]["spec"]["containers"][0]["image"]
            == "shop/web:2"
        )
