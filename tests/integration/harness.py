"""Run the real healing pass against a running sandbox, over HTTP, through the official client.

    with healing_world("ea-plan-v5", tmp_path) as world:
        first = world.run()            # one pass at the sandbox's (frozen) time
        world.advance(120)             # controllers converge, kubelet restarts containers
        second = world.run()
        world.kubectl("get", "deploy") # the referee
        world.history()                # parsed logs/rollback-history.log
        world.risk()                   # parsed aiops/risk-prediction.json

Time: the pass gets the sandbox clock as `now`, so detectors, cooldowns and the Lease agree with
what the cluster believes, and nothing sleeps. Retries sleep through a no-op `sleep`.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubesandbox import Sandbox
from kubesandbox.serve.scenario import Scenario
from selfheal.context import PassContext
from selfheal.kube.transport import Transport
from selfheal.logs import bind_run, configure
from selfheal.run import PassResult, run_pass
from selfheal.settings import Settings

EA_NS = "dese-ea-plan-v5"


@dataclass
class HealingWorld:
    sb: Sandbox
    workdir: Path
    namespace: str

    def settings(self, **overrides: Any) -> Settings:
        base: dict[str, Any] = {
            "namespace": self.namespace,
            "risk_file": self.workdir / "aiops/risk-prediction.json",
            "history_file": self.workdir / "logs/rollback-history.log",
            "log_format": "off",
        }
        base.update(overrides)
        return Settings(**base)

    def run(
        self,
        *,
        context: str | None = None,
        identity: str | None = None,
        stop: Callable[[], str] | None = None,
        deadline: float | None = None,
        **overrides: Any,
    ) -> PassResult:
        """One pass at the sandbox's time; retries sleep through a no-op; `stop` plays SIGTERM, `deadline`
        (a time.monotonic() value) the pass deadline."""
        run_id = uuid.uuid4().hex
        configure("info", overrides.get("log_format", "off"))
        bind_run(run_id, self.namespace)
        transport = Transport.over(self.sb.api_client(context), deadline=deadline, sleep=lambda _s: None)
        return run_pass(
            PassContext.from_settings(
                self.settings(**overrides),
                self.namespace,
                transport,
                run_id=run_id,
                identity=identity or f"test/{run_id[:8]}",
                clock=self.sb.clock.now,
                sleep=lambda _s: None,
                stop=stop,
            )
        )

    def advance(self, seconds: float) -> None:
        self.sb.advance(seconds)

    def kubectl(self, *args: str) -> str:
        res = self.sb.kubectl(*args)
        assert res.returncode == 0, res.stderr
        return res.stdout

    def history(self, *, intents: bool = False) -> list[dict[str, Any]]:
        """The history's decisions (one line per decided action); with `intents`, the write-ahead intent
        lines too (one before each action's first write)."""
        path = self.workdir / "logs/rollback-history.log"
        lines = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
        return lines if intents else [e for e in lines if e["result"] != "intent"]

    def risk(self) -> dict[str, Any]:
        return json.loads((self.workdir / "aiops/risk-prediction.json").read_text())

    def writes(self) -> list[Any]:
        """Every request that changed (or dry-ran a change to) the cluster, Lease traffic excluded."""
        return [
            r
            for r in self.sb.requests
            if r.method in ("POST", "PUT", "PATCH", "DELETE") and "/leases" not in r.path
        ]


@contextlib.contextmanager
def healing_world(scenario: str | Scenario, workdir: Path, **sandbox_kwargs: Any) -> Iterator[HealingWorld]:
    with Sandbox.start(scenario, **sandbox_kwargs) as sb:
        yield HealingWorld(sb, workdir, sb.namespace)
