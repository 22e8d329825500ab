"""What one pass needs, assembled once by the wiring: `PassContext.from_settings` turns the SELFHEAL_*
settings into the typed configurations of each layer (detectors, planner limits, outputs, Prometheus
signals), so the layers below never see `Settings`. `run_pass` (run.py) takes a PassContext and nothing
else; tests build one directly."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from selfheal.detectors import DetectorConfig
from selfheal.forecast import SLO
from selfheal.kube.transport import Transport
from selfheal.planning import Limits
from selfheal.reporting import Outputs
from selfheal.settings import Settings
from selfheal.signals import (
    DEFAULT_CANARY_ERRORS_QUERY,
    DEFAULT_CANARY_REQUESTS_QUERY,
    CanaryQueries,
    ObserveConfig,
)
from selfheal.signals.queries import DEFAULTS


@dataclass(frozen=True)
class Signals:
    """Where the optional Prometheus signals come from, and what the forecasts hold them to."""

    prometheus_url: str | None = None
    canary_queries: CanaryQueries = field(default_factory=CanaryQueries)
    timeout_seconds: float = 5.0
    observe: ObserveConfig = field(default_factory=ObserveConfig)
    slo: SLO = field(default_factory=SLO)


@dataclass(frozen=True)
class PassContext:
    """Everything one pass needs, assembled once by the wiring (`from_settings`)."""

    namespace: str
    transport: Transport
    run_id: str
    identity: str  # the Lease holder: host/run
    dry_run: bool
    detectors: DetectorConfig
    limits: Limits
    outputs: Outputs
    signals: Signals
    cronjob_name: str = "self-heal-cpt"
    lease_name: str = "self-heal-cpt"
    lease_duration_seconds: int = 60
    page_size: int = 500
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    sleep: Callable[[float], None] | None = None  # retry back-off (tests pass a no-op)
    stop: Callable[[], str] = lambda: ""  # why to stop acting now ("" = go on): SIGTERM, the deadline

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        namespace: str,
        transport: Transport,
        *,
        run_id: str,
        identity: str,
        clock: Callable[[], datetime] | None = None,
        sleep: Callable[[float], None] | None = None,
        stop: Callable[[], str] | None = None,
    ) -> PassContext:
        s = settings
        return cls(
            namespace=namespace,
            transport=transport,
            run_id=run_id,
            identity=identity,
            dry_run=s.dry_run,
            detectors=DetectorConfig(
                restart_threshold=s.restart_threshold,
                waiting_grace_seconds=s.waiting_grace_seconds,
                canary_error_threshold=s.canary_error_threshold,
                canary_bake_seconds=s.canary_bake_seconds,
                canary_auto_promote=s.canary_auto_promote,
                canary_confidence=s.canary_confidence,
                canary_min_requests=s.canary_min_requests,
                canary_steps=s.canary_step_list,
                canary_slo_error_ratio=round(1 - s.slo_availability, 12),
                rollback_window_seconds=s.rollback_window_seconds,
            ),
            limits=Limits(
                s.max_actions,
                s.cooldown_seconds,
                s.escalation_window_seconds,
                s.mass_failure_min_deployments,
                s.gitops_guard,
            ),
            outputs=Outputs(
                Path(s.history_file),
                Path(s.risk_file),
                s.pushgateway_url,
                s.canary_error_threshold,
                s.history_max_bytes,
                s.risk_horizon_seconds,
            ),
            signals=Signals(
                s.prometheus_url,
                CanaryQueries(
                    s.canary_requests_query or DEFAULT_CANARY_REQUESTS_QUERY,
                    s.canary_errors_query or DEFAULT_CANARY_ERRORS_QUERY,
                ),
                s.prometheus_timeout_seconds,
                ObserveConfig(
                    s.prometheus_url,
                    s.prometheus_timeout_seconds,
                    s.prometheus_budget_seconds,
                    {name: getattr(s, f"query_{name}") or DEFAULTS[name] for name in DEFAULTS},
                ),
                SLO(availability=s.slo_availability, latency_p99_seconds=s.slo_latency_p99_seconds),
            ),
            cronjob_name=s.cronjob_name,
            lease_name=s.lease_name,
            lease_duration_seconds=s.lease_duration_seconds,
            page_size=s.page_size,
            clock=clock or (lambda: datetime.now(UTC)),
            sleep=sleep,
            stop=stop or (lambda: ""),
        )
