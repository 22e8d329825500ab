"""The guide's SLOs, measured end to end: a pass heals, a later pass verifies, and what a real Pushgateway
holds afterwards is what the SLO alerts read (monitoring/prometheus-rules.yaml).

Recovery: a crash-looping pod of an established revision, evicted by the first pass; the second pass finds
its replacement Ready and measures from the moment the pod went not Ready. Drift resolution: a Deployment
scaled by hand below its recorded replicas, scaled back by the first pass, verified by the second, measured
from the hand edit that started it (`kubectl patch`, as the API server's managedFields time it) where the
server timed it (a write through `/scale` it does not).
"""

from __future__ import annotations

import pytest

from selfheal.kube.model import ANN_DESIRED_REPLICAS
from tests.builders import image_behavior
from tests.integration.harness import healing_world
from tests.integration.worlds import applied, rolled_out, story
from tests.servers import pushed, pushgateway, scrape


@pytest.fixture(scope="module")
def gateway():
    with pushgateway() as url:
        yield url


def _verdict(world):
    [verdict] = [line for line in world.history() if line["result"] in ("verified", "not_recovered")]
    return verdict


def test_a_healed_crash_loop_is_measured_against_the_recovery_slo_in_the_gateway(tmp_path, gateway):
    # web has run shop/web:1 for a month; five minutes before the pass one pod started crash-looping
    world_file = story(
        *rolled_out("web", image="shop/web:1", replicas=4, crashing=1),
        image_behavior("shop/web:1", "CrashUntilRestarted"),
    )
    with healing_world(world_file, tmp_path) as world:
        first = world.run(pushgateway_url=gateway)
        assert {action for action, _ in applied(first)} == {"restart_pod"}
        before = scrape(gateway)
        ns = {"namespace": world.namespace}
        # pushed from the first run on, at 0: increase() needs the series before its first event
        assert pushed(before, "selfheal_recovery_seconds_count", **ns) == 0
        assert pushed(before, "selfheal_verifications_total", slo="recovery", result="verified", **ns) == 0

        world.advance(60)
        world.run(pushgateway_url=gateway)
        verdict = _verdict(world)
        assert (verdict["result"], verdict["slo"]) == ("verified", "recovery")
        after = scrape(gateway)
        assert pushed(after, "selfheal_verifications_total", slo="recovery", result="verified", **ns) == 1
        assert pushed(after, "selfheal_recovery_seconds_count", **ns) == 1
        assert pushed(after, "selfheal_recovery_seconds_sum", **ns) == pytest.approx(
            verdict["recovery_seconds"]
        )
        # five minutes of crash loop before the pass, plus the replacement's start: just over the SLO's 300 s,
        # so the 300 bucket stays at 0 and SelfHealRecoverySLOMissed would fire
        assert verdict["recovery_seconds"] > 300
        assert pushed(after, "selfheal_recovery_seconds_bucket", le="300", **ns) == 0
        assert pushed(after, "selfheal_recovery_seconds_bucket", le="450", **ns) == 1
        assert pushed(after, "selfheal_drift_resolution_seconds_count", **ns) == 0


def test_a_replica_drift_scaled_back_is_measured_against_the_drift_resolution_slo(tmp_path, gateway):
    world_file = story(
        *rolled_out("api", image="shop/api:1", replicas=1, annotations={ANN_DESIRED_REPLICAS: "3"})
    )
    with healing_world(world_file, tmp_path) as world:
        first = world.run(pushgateway_url=gateway)
        assert applied(first) == {("scale", "api")}
        ns = {"namespace": world.namespace}
        assert pushed(scrape(gateway), "selfheal_open_findings", cause="replica_drift", **ns) == 1

        world.advance(60)
        world.run(pushgateway_url=gateway)
        verdict = _verdict(world)
        assert (verdict["result"], verdict["slo"], verdict["action"]) == (
            "verified",
            "drift_resolution",
            "scale",
        )
        assert 0 <= verdict["recovery_seconds"] <= 600
        after = scrape(gateway)
        assert (
            pushed(after, "selfheal_open_findings", cause="replica_drift", **ns) == 0
        )  # the drift alert clears
        assert pushed(after, "selfheal_drift_resolution_seconds_count", **ns) == 1
        assert pushed(after, "selfheal_drift_resolution_seconds_bucket", le="600", **ns) == 1
        assert (
            pushed(after, "selfheal_verifications_total", slo="drift_resolution", result="verified", **ns)
            == 1
        )
        assert pushed(after, "selfheal_recovery_seconds_count", **ns) == 0


def test_drift_resolution_counts_from_the_hand_edit_that_started_it_where_the_api_server_timed_it(
    tmp_path, gateway
):
    # api and reports run their desired 3 replicas; someone patches api to 1 and scales reports to 1 with kubectl;
    # the job's next pass comes 4 minutes later
    world_file = story(
        *rolled_out("api", image="shop/api:1", replicas=3, annotations={ANN_DESIRED_REPLICAS: "3"}),
        *rolled_out("reports", image="shop/reports:1", replicas=3, annotations={ANN_DESIRED_REPLICAS: "3"}),
    )
    with healing_world(world_file, tmp_path) as world:
        world.kubectl("patch", "deployment/api", "--type=merge", "-p", '{"spec":{"replicas":1}}')
        world.kubectl("scale", "deployment/reports", "--replicas=1")
        world.advance(240)
        assert applied(world.run(pushgateway_url=gateway)) == {("scale", "api"), ("scale", "reports")}
        acted = {line["name"]: line for line in world.history() if line["result"] == "applied"}
        world.advance(60)
        world.run(pushgateway_url=gateway)

        verdicts = {line["name"]: line for line in world.history() if line["result"] == "verified"}
        # api: the onset is the patch, as managedFields timed it, four minutes before the pass
        assert verdicts["api"]["onset"] < acted["api"]["ts"]
        assert 240 <= verdicts["api"]["recovery_seconds"] < 300
        # reports: a write through /scale carries no time on a real API server, so the pass that acted is the
        # onset (the figure is a lower bound there)
        assert verdicts["reports"]["onset"] == acted["reports"]["ts"]
        assert verdicts["reports"]["recovery_seconds"] < 60
        after = scrape(gateway)
        ns = {"namespace": world.namespace}
        assert pushed(after, "selfheal_drift_resolution_seconds_sum", **ns) == pytest.approx(
            verdicts["api"]["recovery_seconds"] + verdicts["reports"]["recovery_seconds"]
        )
        assert pushed(after, "selfheal_drift_resolution_seconds_bucket", le="120", **ns) == 1
