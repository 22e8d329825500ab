"""Bad annotations through the real pass against the sandbox (`tests.integration.harness`): a traffic split
of `{"canary":1e999,"stable":0}` used to raise OverflowError (a traceback, exit 1, nothing healed), and
`selfheal.dev/desired-replicas: "1_000"` used to scale to 1000. Now each is one finding, the pair and the
Deployment are left alone, and everything else in the namespace is healed.

(A pod with a non-integer `restartCount` cannot be arranged here: the sandbox, like an API server, keeps its
status well-typed. The reader's item-by-item decoding is tested through `tests.fakes`, see
`tests/snapshot/test_reader.py` and `test_undecodable.py`.)"""

from __future__ import annotations

import copy

from selfheal.kube.annotations import ANN_DESIRED_REPLICAS, ANN_TRAFFIC_SPLIT
from tests.integration.harness import healing_world

CANARY, REPORTING = "dese-ea-plan-v5-canary", "cpt-reporting"


def annotate(world, name: str, key: str, value: str) -> None:
    obj = copy.deepcopy(world.sb.get("Deployment", name))
    obj["metadata"].setdefault("annotations", {})[key] = value
    world.sb.put(obj)


def test_a_bad_split_and_a_bad_desired_count_are_reported_and_the_rest_is_healed(tmp_path):
    with healing_world("ea-plan-v5", tmp_path) as world:
        annotate(world, CANARY, ANN_TRAFFIC_SPLIT, '{"canary":1e999,"stable":0}')
        annotate(world, REPORTING, ANN_DESIRED_REPLICAS, "1_000")

        result = world.run()

        assert result.exit_code == 0
        causes = {(f.workload.name, f.cause.code.value) for f in result.findings}
        assert (CANARY, "traffic_split_invalid") in causes and (REPORTING, "invalid_annotation") in causes
        assert not any(o.action.workload.name == CANARY for o in result.outcomes)  # no abort, no promote
        [scale] = [o for o in result.outcomes if o.action.workload.name == REPORTING]
        assert (scale.result.value, scale.reason) == ("skipped", "invalid_annotation")
        assert world.sb.get("Deployment", REPORTING)["spec"]["replicas"] == 1
        assert any(o.result.value == "applied" for o in result.outcomes)  # the other workloads are healed
        risk = world.risk()
        assert any(f["cause"] == "traffic_split_invalid" for f in risk["findings"])
        assert (
            world.sb.get("Deployment", CANARY)["metadata"]["annotations"][ANN_TRAFFIC_SPLIT]
            == '{"canary":1e999,"stable":0}'
        )
