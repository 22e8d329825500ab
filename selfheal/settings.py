"""Settings: environment variables with the `SELFHEAL_` prefix, overridden by CLI flags.

`load_settings(overrides)` never raises for bad values: it returns every problem as one line that
names the field, its environment variable and its flag (only a flag that exists: `FLAGS`), so the CLI
can print them all and exit 2 before any API call. An environment variable with the `SELFHEAL_` prefix
that is not a setting is a problem too, with the setting it most likely meant (`SELFHEAL_DRYRUN`: did you
mean `SELFHEAL_DRY_RUN`?): a typo must not silently leave a default (a dry-run that acts) in force.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from selfheal.canary_gate import parse_steps

ENV_PREFIX = "SELFHEAL_"
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_URL = re.compile(r"^https?://[^\s/]+(/\S*)?$")
_USERINFO = re.compile(r"(?<=://)[^/@\s]+@")

# The settings with a command-line flag (`selfheal run|plan`), and the flag; the rest are environment only.
FLAGS: Mapping[str, str] = {
    "namespace": "--namespace",
    "risk_file": "--risk-file",
    "history_file": "--history-file",
    "max_actions": "--max-actions",
    "pushgateway_url": "--pushgateway-url",
    "prometheus_url": "--prometheus-url",
    "log_format": "--log-format",
    "log_level": "--log-level",
    "dry_run": "--dry-run",
}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, extra="ignore", frozen=True, validate_default=True
    )

    namespace: str | None = None  # None: the CLI resolves it (in-cluster file, kubeconfig context)
    cronjob_name: str = "self-heal-cpt"
    lease_name: str = "self-heal-cpt"
    lease_duration_seconds: int = Field(default=60, ge=5, le=3600)
    max_actions: int = Field(default=5, ge=0, le=1000)
    cooldown_seconds: int = Field(default=600, ge=0)
    restart_threshold: int = Field(default=3, ge=1)
    escalation_window_seconds: int = Field(default=3600, ge=0)
    rollback_window_seconds: int = Field(
        default=6 * 3600, ge=0
    )  # a revision current for less is a recent change
    waiting_grace_seconds: int = Field(default=300, ge=0)
    mass_failure_min_deployments: int = Field(default=3, ge=1)
    page_size: int = Field(default=500, ge=1, le=10000)
    risk_file: Path = Path("aiops/risk-prediction.json")
    history_file: Path = Path("logs/rollback-history.log")
    history_max_bytes: int = Field(default=16 * 1024 * 1024, ge=64 * 1024)  # then the file is rotated
    # The whole pass, all retries included, ends before this; below the CronJob's activeDeadlineSeconds (90)
    # with room for SIGTERM's grace.
    pass_deadline_seconds: float = Field(default=75.0, gt=0, le=3600)
    pushgateway_url: str | None = None
    prometheus_url: str | None = None
    prometheus_timeout_seconds: float = Field(default=5.0, gt=0, le=120)
    prometheus_budget_seconds: float = Field(default=20.0, gt=0, le=120)  # all forecast queries of a pass
    # The forecasts' PromQL, one setting per signal (None: selfheal.signals.queries.DEFAULTS).
    query_request_rate: str | None = None
    query_error_ratio: str | None = None
    query_latency_p99: str | None = None
    query_burn: str | None = None
    query_restarts: str | None = None
    query_memory: str | None = None
    query_memory_limit: str | None = None
    query_hpa_replicas: str | None = None
    query_hpa_max: str | None = None
    query_hpa_utilization: str | None = None
    query_hpa_target: str | None = None
    # The guide's SLOs, and how far ahead the risk report looks for a breach.
    slo_availability: float = Field(default=0.999, gt=0.5, lt=1)
    slo_latency_p99_seconds: float = Field(default=1.0, gt=0)
    risk_horizon_seconds: float = Field(default=3600.0, ge=60, le=7 * 86400)
    canary_error_query: str | None = None  # replaced by the two below: refused when set
    # Counts over the window, canary and stable (None: selfheal.signals.DEFAULT_CANARY_*_QUERY).
    canary_requests_query: str | None = None
    canary_errors_query: str | None = None
    canary_error_threshold: float = Field(default=0.05, gt=0, le=1)
    canary_confidence: float = Field(default=0.95, gt=0.5, lt=1)  # of the Wilson interval and the z-test
    canary_min_requests: int = Field(default=100, ge=1)  # fewer in the window: inconclusive
    canary_steps: str = "10,25,50,100"  # traffic shares, one step per pass (selfheal.canary_gate.parse_steps)
    canary_bake_seconds: int = Field(default=600, ge=0)
    canary_auto_promote: bool = False
    dry_run: bool = False
    gitops_guard: bool = True  # no rollback/restore on Deployments carrying argocd.argoproj.io/tracking-id
    log_level: str = "info"
    log_format: str = "json"  # json (one event per line, for `kubectl logs`), console (for people), off

    @field_validator("namespace")
    @classmethod
    def _namespace(cls, v: str | None) -> str | None:
        if v is not None and (len(v) > 63 or not _DNS_LABEL.match(v)):
            raise ValueError("not a valid namespace name (lowercase DNS label, at most 63 chars)")
        return v

    @field_validator("risk_file", "history_file", mode="before")
    @classmethod
    def _path(cls, v: object) -> object:
        if v is None or str(v).strip() == "":
            raise ValueError("the path is empty: give a file path")
        return v

    @field_validator("cronjob_name", "lease_name")
    @classmethod
    def _object_name(cls, v: str) -> str:
        if len(v) > 253 or not _DNS_SUBDOMAIN.match(v):
            raise ValueError("not a valid object name (lowercase DNS subdomain)")
        return v

    @field_validator("pushgateway_url", "prometheus_url")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        if v is not None and v != "" and not _URL.match(v):
            raise ValueError("not an http(s) URL")
        return v or None

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, v: str) -> str:
        if v.lower() not in {"debug", "info", "warning", "error"}:
            raise ValueError("not one of debug, info, warning, error")
        return v.lower()

    @field_validator("log_format")
    @classmethod
    def _log_format(cls, v: str) -> str:
        if v.lower() not in {"json", "console", "off"}:
            raise ValueError("not one of json, console, off")
        return v.lower()

    @field_validator("canary_error_query")
    @classmethod
    def _ratio_query(cls, v: str | None) -> str | None:
        if v:
            raise ValueError(
                "no longer read: the canary gate needs counts, not a ratio; set SELFHEAL_CANARY_REQUESTS_QUERY "
                "and SELFHEAL_CANARY_ERRORS_QUERY (requests and 5xx errors over the window, with $deployment)"
            )
        return None

    @field_validator("canary_requests_query", "canary_errors_query")
    @classmethod
    def _query(cls, v: str | None) -> str | None:
        if v is not None and v != "" and "$deployment" not in v:
            raise ValueError("must contain $deployment (replaced by each Deployment's name)")
        return v or None

    @field_validator("canary_steps")
    @classmethod
    def _steps(cls, v: str) -> str:
        return ",".join(map(str, parse_steps(v)))

    @property
    def canary_step_list(self) -> tuple[int, ...]:
        return parse_steps(self.canary_steps)

    @model_validator(mode="after")
    def _window_covers_cooldown(self) -> Settings:
        if self.escalation_window_seconds and self.escalation_window_seconds < self.cooldown_seconds:
            raise ValueError(
                f"escalation_window_seconds ({self.escalation_window_seconds}) must be at least "
                f"cooldown_seconds ({self.cooldown_seconds}), or the ladder can never climb"
            )
        return self


def _where(name: str) -> str:
    flag = FLAGS.get(name)
    return f"env {ENV_PREFIX}{name.upper()}" + (f", flag {flag}" if flag else "")


def _shown(given: object) -> str:
    if isinstance(given, dict) or given is None:
        return ""
    text = _USERINFO.sub("***@", given) if isinstance(given, str) else given  # never echo URL credentials
    return f" (got {text!r})"


def _error_line(err: Mapping[str, Any]) -> str:
    loc = err.get("loc") or ()
    msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
    if not loc:
        return f"invalid settings: {msg}"
    name = str(loc[0])
    return f"invalid setting {name} ({_where(name)}): {msg}{_shown(err.get('input'))}"


def unknown_variables(environ: Mapping[str, str]) -> list[str]:
    """One line per `SELFHEAL_*` variable that is no setting, naming the setting it most likely meant."""
    known = {ENV_PREFIX + name.upper() for name in Settings.model_fields}
    lines = []
    for var in sorted(environ):
        upper = var.upper()
        if not upper.startswith(ENV_PREFIX) or upper in known:
            continue
        suffix = upper.removeprefix(ENV_PREFIX)
        names = sorted(k.removeprefix(ENV_PREFIX) for k in known)
        longer = sorted((n for n in names if n.startswith(suffix + "_")), key=len)
        guess = longer[:1] or difflib.get_close_matches(suffix, names, n=1, cutoff=0.75)
        hint = f"did you mean {ENV_PREFIX}{guess[0]}?" if guess else "no such setting (see README, Settings)"
        lines.append(f"unknown setting {var}: {hint}")
    return lines


def load_settings(
    overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> tuple[Settings | None, list[str]]:
    """Settings from the environment, with `overrides` (CLI flags by field name; None values ignored).

    Returns (settings, []) or (None, [one line per invalid setting or unknown `SELFHEAL_` variable]).
    """
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    unknown = sorted(set(given) - set(Settings.model_fields))
    if unknown:
        return None, [f"unknown setting {name}" for name in unknown]
    problems = unknown_variables(os.environ if environ is None else environ)
    try:
        settings = Settings(**given)
    except ValidationError as exc:
        return None, problems + [_error_line(e) for e in exc.errors(include_url=False)]
    return (None, problems) if problems else (settings, [])
