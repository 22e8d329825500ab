"""The user's guide's world: one pass heals every healable failure, the second pass has nothing to do."""

from __future__ import annotations

from .harness import healing_world


def test_one_pass_heals_the_bundled_world_and_the_second_is_a_no_op(tmp_path):
    with healing_world("ea-plan-v5", tmp_path) as world:
        first = world.run()
        assert first.exit_code == 0 and first.status == "completed"
        applied = {
            (o.action.action.value, o.action.workload.name)
            for o in first.outcomes
            if o.result.value == "applied"
        }
        assert applied == {
            ("rollback", "cpt-optimizer"),
            ("restart_pod", "cpt-worker"),
            ("restore_template", "cpt-api"),
            ("scale", "cpt-reporting"),
        }
        skipped = {(o.action.target.name, o.reason) for o in first.outcomes if o.result.value == "skipped"}
        assert ("cpt-debug", "bare_pod") in skipped
        assert any(
            name.startswith("cpt-ingest") and reason == "restart_not_helpful" for name, reason in skipped
        )

        world.advance(180)
        writes_before = len(world.writes())
        second = world.run()
        assert second.exit_code == 0
        assert [o for o in second.outcomes if o.result.value != "skipped"] == []
        assert len(world.writes()) == writes_before  # nothing written on the second pass

        deploys = {
            line.split()[0]: line.split()[1] for line in world.kubectl("get", "deploy").splitlines()[1:]
        }
        assert deploys["cpt-optimizer"] == "4/4" and deploys["cpt-worker"] == "4/4"
        assert deploys["cpt-reporting"] == "3/3" and deploys["cpt-api"] == "2/2"
        history = world.history()
        assert {h["result"] for h in history} <= {"applied", "skipped", "verified"}
        # the second pass closes the loop on every action the first applied
        assert {h["verifies"] for h in history if h["result"] == "verified"} == {
            h["intent"] for h in history if h["result"] == "applied"
        }
        assert all(
            {"ts", "run_id", "namespace", "action", "kind", "name", "reason", "result"} <= h.keys()
            for h in history
        )
        assert all(
            h.get("patch") and h.get("inverse") is not None
            for h in history
            if h["result"] == "applied" and h["action"] != "restart_pod"
        )
        risk = world.risk()
        assert 0 <= risk["risk_score"] <= 1 and risk["namespace"] == "dese-ea-plan-v5"
