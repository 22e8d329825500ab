"""Deployments, ReplicaSets, Jobs and CronJobs (pkg/apis/apps and batch validation), CronJob schedules as
robfig/cron v3 parses them."""

from __future__ import annotations

import re
from typing import Any

from kubesandbox.apiserver.validation.fields import (
    Cause,
    _int,
    _is_zero,
    _obj,
    forbidden,
    int_or_percent,
    invalid,
    labels,
    nonnegative,
    not_supported,
    required,
    selector,
)
from kubesandbox.apiserver.validation.pods import _template
from kubesandbox.resources.selectors import selector_matches

Obj = dict[str, Any]


# -- workloads ------------------------------------------------------------------------------------------------


def _strategy(strategy: Any) -> list[Cause]:
    if not isinstance(strategy, dict):
        return []
    causes: list[Cause] = []
    kind, ru = strategy.get("type"), strategy.get("rollingUpdate")
    if kind == "Recreate":
        if ru is not None:
            causes.append(
                forbidden(
                    "spec.strategy.rollingUpdate", "may not be specified when strategy `type` is 'Recreate'"
                )
            )
    elif kind == "RollingUpdate":
        if isinstance(ru, dict):
            surge, unavailable = ru.get("maxSurge"), ru.get("maxUnavailable")
            causes += int_or_percent("spec.strategy.rollingUpdate.maxUnavailable", unavailable)
            causes += int_or_percent("spec.strategy.rollingUpdate.maxSurge", surge)
            if _is_zero(surge) and _is_zero(unavailable) and "maxSurge" in ru and "maxUnavailable" in ru:
                causes.append(
                    invalid(
                        "spec.strategy.rollingUpdate.maxUnavailable",
                        unavailable,
                        "may not be 0 when `maxSurge` is 0",
                    )
                )
    else:
        internal = {"Type": kind, "RollingUpdate": None}
        causes.append(not_supported("spec.strategy", internal, ("Recreate", "RollingUpdate")))
    return causes


def _replicated(spec: Obj, kind: str) -> list[Cause]:
    """`ValidateDeploymentSpec` / `ValidateReplicaSetSpec`."""
    causes = nonnegative("spec.replicas", spec.get("replicas"))
    if isinstance(spec.get("replicas"), bool) or (
        spec.get("replicas") is not None and _int(spec["replicas"]) is None
    ):
        causes.append(invalid("spec.replicas", spec.get("replicas"), "must be an integer"))
    if kind == "ReplicaSet":
        causes += nonnegative("spec.minReadySeconds", spec.get("minReadySeconds"))
    sel = spec.get("selector")
    broken = False
    if sel is None:
        causes.append(required("spec.selector"))
    else:
        more, broken = selector("spec.selector", sel)
        causes += more
        if isinstance(sel, dict) and not (sel.get("matchLabels") or sel.get("matchExpressions")):
            causes.append(invalid("spec.selector", sel, f"empty selector is invalid for {kind.lower()}"))
    if broken:
        causes.append(invalid("spec.selector", sel, "invalid label selector"))
    else:
        tmpl = _obj(spec.get("template"))
        tlabels = (tmpl.get("metadata") or {}).get("labels")
        if not (
            isinstance(sel, dict)
            and (sel.get("matchLabels") or sel.get("matchExpressions"))
            and selector_matches(sel, tlabels or {})
        ):
            causes.append(
                invalid(
                    "spec.template.metadata.labels",
                    tlabels or None,
                    "`selector` does not match template `labels`",
                )
            )
        causes += _template(tmpl, "spec.template", restart_policies=("Always",))
    if kind == "Deployment":
        causes += _strategy(spec.get("strategy"))
        causes += nonnegative("spec.minReadySeconds", spec.get("minReadySeconds"))
        causes += nonnegative("spec.revisionHistoryLimit", spec.get("revisionHistoryLimit"))
        pds = _int(spec.get("progressDeadlineSeconds"))
        if pds is not None:
            causes += nonnegative("spec.progressDeadlineSeconds", pds)
            if pds <= (_int(spec.get("minReadySeconds")) or 0):
                causes.append(
                    invalid("spec.progressDeadlineSeconds", pds, "must be greater than minReadySeconds")
                )
    return causes


def _job_spec(spec: Any, path: str) -> list[Cause]:
    spec = _obj(spec)
    causes: list[Cause] = []
    for k in ("parallelism", "completions", "activeDeadlineSeconds", "backoffLimit"):
        causes += nonnegative(f"{path}.{k}", spec.get(k))
    return causes + _template(
        spec.get("template"),
        f"{path}.template",
        restart_policies=("OnFailure", "Never"),
        restart_required=True,
    )


# -- CronJob schedules: robfig/cron v3's standard parser, its errors word for word --------------------------

_CRON_BOUNDS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 6))
_CRON_NAMES: tuple[dict[str, int], ...] = (
    {},
    {},
    {},
    {
        m: i + 1
        for i, m in enumerate(
            ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
        )
    },
    {d: i for i, d in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))},
)
_DESCRIPTORS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")


class _CronError(Exception):
    pass


def _cron_int(expr: str, names: dict[str, int]) -> int:
    if expr.lower() in names:
        return names[expr.lower()]
    if not re.fullmatch(r"[+-]?\d+", expr):
        raise _CronError(f'failed to parse int from {expr}: strconv.Atoi: parsing "{expr}": invalid syntax')
    value = int(expr)
    if value < 0:
        raise _CronError(f"negative number ({value}) not allowed: {expr}")
    return value


def _cron_range(expr: str, low: int, high: int, names: dict[str, int]) -> None:
    range_and_step = expr.split("/")
    low_and_high = range_and_step[0].split("-")
    single = len(low_and_high) == 1
    if low_and_high[0] in ("*", "?"):
        start, end = low, high
    else:
        start = _cron_int(low_and_high[0], names)
        if len(low_and_high) == 1:
            end = start
        elif len(low_and_high) == 2:
            end = _cron_int(low_and_high[1], names)
        else:
            raise _CronError(f"too many hyphens: {expr}")
    if len(range_and_step) == 2:
        step = _cron_int(range_and_step[1], {})
        if single and low_and_high[0] not in ("*", "?"):
            end = high
        if step == 0:
            raise _CronError(f"step of range should be a positive number: {expr}")
    elif len(range_and_step) > 2:
        raise _CronError(f"too many slashes: {expr}")
    if start < low:
        raise _CronError(f"beginning of range ({start}) below minimum ({low}): {expr}")
    if end > high:
        raise _CronError(f"end of range ({end}) above maximum ({high}): {expr}")
    if start > end:
        raise _CronError(f"beginning of range ({start}) beyond end of range ({end}): {expr}")


def cron_error(schedule: str) -> str | None:
    """Why robfig/cron's standard parser refuses `schedule` (None: it parses)."""
    if schedule.startswith("@"):
        if schedule in _DESCRIPTORS or schedule.startswith("@every "):
            return None
        return f"unrecognized descriptor: {schedule}"
    fields = schedule.split()
    if len(fields) != 5:
        return f"expected exactly 5 fields, found {len(fields)}: [{' '.join(fields)}]"
    try:
        for f, (low, high), names in zip(fields, _CRON_BOUNDS, _CRON_NAMES, strict=True):
            for part in f.split(","):
                _cron_range(part, low, high, names)
    except _CronError as exc:
        return str(exc)
    return None


def _cronjob(spec: Obj) -> list[Cause]:
    causes: list[Cause] = []
    schedule = spec.get("schedule")
    if not schedule:
        causes.append(required("spec.schedule"))
    elif isinstance(schedule, str):
        if "TZ=" in schedule:
            causes.append(
                invalid(
                    "spec.schedule",
                    schedule,
                    "cannot use TZ or CRON_TZ in schedule, use timeZone field instead",
                )
            )
        else:
            why = cron_error(schedule)
            if why:
                causes.append(invalid("spec.schedule", schedule, why))
    policy = spec.get("concurrencyPolicy")
    if policy not in ("Allow", "Forbid", "Replace"):
        causes.append(not_supported("spec.concurrencyPolicy", policy, ("Allow", "Forbid", "Replace")))
    causes += nonnegative("spec.startingDeadlineSeconds", spec.get("startingDeadlineSeconds"))
    causes += nonnegative("spec.successfulJobsHistoryLimit", spec.get("successfulJobsHistoryLimit"))
    causes += nonnegative("spec.failedJobsHistoryLimit", spec.get("failedJobsHistoryLimit"))
    jt = _obj(spec.get("jobTemplate"))
    causes += labels("spec.jobTemplate.metadata.labels", (jt.get("metadata") or {}).get("labels"))
    return causes + _job_spec(jt.get("spec"), "spec.jobTemplate.spec")
