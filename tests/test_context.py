"""The pass's wiring: the settings become one PassContext (selfheal/context.py), told through the one fake seam.

Stories against a whole API server live in tests/integration (the sandbox) and tests/realk8s (a real
control plane); here FakeTransport plays just the answers each story needs.
"""

from __future__ import annotations

from pathlib import Path

from selfheal.context import PassContext
from selfheal.detectors import DetectorConfig
from selfheal.planning import Limits
from selfheal.settings import Settings
from tests.fakes import FakeTransport, status


def test_settings_become_one_pass_context():
    s = Settings(
        max_actions=2,
        cooldown_seconds=60,
        escalation_window_seconds=120,
        restart_threshold=5,
        rollback_window_seconds=7200,
        history_file=Path("h.log"),
        risk_file=Path("r.json"),
        pushgateway_url="http://pg:9091",
        prometheus_url="http://prom:9090",
        page_size=50,
        dry_run=True,
    )

    ctx = PassContext.from_settings(
        s, "shop", FakeTransport(lambda _r: status(404)), run_id="r1", identity="me"
    )

    assert ctx.limits == Limits(2, 60, 120, 3)
    assert ctx.detectors == DetectorConfig(restart_threshold=5, rollback_window_seconds=7200)
    assert (ctx.outputs.history_file, ctx.outputs.risk_file, ctx.outputs.pushgateway_url) == (
        Path("h.log"),
        Path("r.json"),
        "http://pg:9091",
    )
    assert (
        ctx.signals.prometheus_url == "http://prom:9090"
        and "$deployment" in ctx.signals.canary_queries.requests
    )
    assert (ctx.page_size, ctx.dry_run, ctx.namespace, ctx.run_id) == (50, True, "shop", "r1")
