"""Nothing lost, nothing doubled, end to end: the write-ahead record, recovery after a kill, SIGTERM and
the pass deadline, an unwritable history, and reads that survive a blip — against the sandbox."""

from __future__ import annotations

import json
import time

import pytest

from selfheal.kube.model import ANN_DESIRED_REPLICAS
from selfheal.reporting.history import append_history, intent_for
from tests.builders import deployment
from tests.integration.harness import healing_world
from tests.integration.worlds import decisions, kube_json, rolled_out, story

SCALED_BY_HAND = deployment("web", image="shop/web:1", replicas=1, annotations={ANN_DESIRED_REPLICAS: "3"})


def drifted(tmp_path, *extra):
    """web scaled to 1 by hand, desired 3; optionally more workloads."""
    return healing_world(
        story(
            *rolled_out("web", image="shop/web:1", replicas=1, annotations={ANN_DESIRED_REPLICAS: "3"}),
            *extra,
        ),
        tmp_path,
    )


def replicas(world, name="web") -> int:
    return int(kube_json(world, "deploy", name)["spec"]["replicas"])


def test_every_write_has_its_intent_on_disk_before_it_and_its_outcome_after(tmp_path):
    with drifted(tmp_path) as world:
        result = world.run()

        assert decisions(result) == {("scale", "web"): ("applied", "replica_drift")}
        lines = world.history(intents=True)
        intent, outcome = [e for e in lines if e["action"] == "scale"]
        assert (intent["result"], outcome["result"]) == ("intent", "applied")
        assert intent["intent"] == outcome["intent"] and intent["patch"] == outcome["patch"]
        assert replicas(world) == 3


@pytest.mark.parametrize(("done_in_cluster", "resolution"), [(True, "applied"), (False, "abandoned")])
def test_an_intent_a_killed_run_left_is_resolved_from_the_cluster_and_nothing_is_done_twice(
    tmp_path, done_in_cluster, resolution
):
    with drifted(tmp_path) as world:
        # A run planned the scale, wrote its intent, (maybe) sent the patch, and was killed: no outcome.
        dry = world.run(dry_run=True)
        [scale] = [o.action for o in dry.outcomes if o.action.action.value == "scale"]
        append_history(
            world.workdir / "logs/rollback-history.log",
            [
                intent_for(
                    scale,
                    run_id="killed",
                    namespace=world.namespace,
                    ts=world.sb.clock.now(),
                    intent="killed-1",
                )
            ],
        )
        if done_in_cluster:
            world.kubectl("scale", "deploy/web", "--replicas=3")
        writes = len(world.writes())

        world.advance(60)
        result = world.run()

        lines = world.history(intents=True)
        [resolved] = [e for e in lines if e.get("intent") == "killed-1" and e["result"] != "intent"]
        assert resolved["result"] == resolution and resolved.get("recovered", False) is done_in_cluster
        assert "had no outcome" in resolved["message"]
        # found: nothing left to do; abandoned: the cooldown counts it, so web is not scaled a second time
        expected = {} if done_in_cluster else {("scale", "web"): ("skipped", "cooldown")}
        assert {k: v for k, v in decisions(result).items() if k[1] == "web"} == expected
        assert [w for w in world.writes()[writes:] if "/deployments/web" in w.path] == []


def test_an_unwritable_history_is_one_line_exit_2_before_anything_is_read_or_changed(tmp_path):
    with drifted(tmp_path) as world:
        (world.workdir / "logs").mkdir()
        (world.workdir / "logs/rollback-history.log").mkdir()  # a directory where the file should be
        world.sb.clear_requests()

        result = world.run()

        assert (result.exit_code, result.status.value) == (2, "not_recordable")
        assert "rollback-history.log: is a directory" in result.detail and "\n" not in result.detail
        assert world.sb.requests == [] and replicas(world) == 1


def test_sigterm_finishes_the_current_action_records_the_rest_as_not_attempted_and_writes_the_risk(tmp_path):
    extra = [
        *rolled_out("api", image="shop/api:1", replicas=1, annotations={ANN_DESIRED_REPLICAS: "2"}),
        *rolled_out("jobs", image="shop/jobs:1", replicas=1, annotations={ANN_DESIRED_REPLICAS: "2"}),
    ]
    with drifted(tmp_path, *extra) as world:
        patches = lambda: [r for r in world.sb.requests if r.method == "PATCH"]  # noqa: E731
        world.sb.clear_requests()

        result = world.run(stop=lambda: "interrupted: SIGTERM received" if patches() else "")

        assert (result.exit_code, result.status.value) == (4, "interrupted")
        got = decisions(result)
        assert sorted(r for r, _ in got.values()).count("applied") == 1  # the one in flight finished
        assert sorted(why for r, why in got.values() if r == "skipped") == ["interrupted", "interrupted"]
        lines = world.history(intents=True)
        assert {e["intent"] for e in lines if e["result"] == "intent"} == {
            e["intent"] for e in lines if e["result"] == "applied"
        }  # every write recorded, both ends
        assert (
            json.loads((world.workdir / "aiops/risk-prediction.json").read_text())["namespace"]
            == world.namespace
        )


def test_the_pass_deadline_stops_it_before_the_next_action(tmp_path):
    with drifted(tmp_path) as world:
        result = world.run(deadline=time.monotonic() - 1)

        assert (result.exit_code, result.status.value) == (4, "interrupted")
        assert replicas(world) == 1


@pytest.mark.parametrize(
    "fault",
    [dict(status=503), dict(status=429, retry_after=1), dict(drop=True)],
    ids=["503", "429", "dropped"],
)
@pytest.mark.parametrize("path", [r"/cronjobs/self-heal-cpt$", r"/deployments$", r"/pods$"])
def test_a_blip_on_a_read_is_retried_and_the_pass_heals(tmp_path, fault, path):
    with drifted(tmp_path) as world:
        world.sb.inject("GET", path, times=2, **fault)

        result = world.run()

        assert result.exit_code == 0 and decisions(result)[("scale", "web")] == ("applied", "replica_drift")
        assert replicas(world) == 3
