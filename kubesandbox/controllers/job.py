"""The Job controller (pkg/controller/job) for NonIndexed Jobs, with finalizer-based tracking.

The Job gets the selector and labels the API server generates (`batch.kubernetes.io/controller-uid`,
`batch.kubernetes.io/job-name` and their legacy forms) if it lacks them, then pods
`<job>-<5 chars>` carrying the `batch.kubernetes.io/job-tracking` finalizer, up to
`parallelism` at a time, with the pod-failure back-off (10 s doubling, 10 min cap) between
replacements. Finished pods are counted into `succeeded` / `failed` and lose the finalizer.
The Job finishes like 1.32's: `SuccessCriteriaMet` then `Complete` (CompletionsReached) with
`completionTime`, or `FailureTarget` then `Failed` (BackoffLimitExceeded, DeadlineExceeded)
once its pods are gone, with `ready`, `terminating` and `uncountedTerminatedPods: {}`.
"""

from __future__ import annotations

import copy
import math
from typing import Any

from kubesandbox.controllers import pods as P
from kubesandbox.controllers.context import Env
from kubesandbox.controllers.events import JOB
from kubesandbox.controllers.podindex import PODS
from kubesandbox.controllers.replicaset import claim_pods, rank_for_deletion
from kubesandbox.controllers.sync_cache import SyncCache
from kubesandbox.controllers.util import (
    controller_ref,
    fmt,
    get_condition,
    is_pod_ready,
    is_terminating,
    parse_ts,
    pod_phase,
)
from kubesandbox.resources import BY_PLURAL
from kubesandbox.resources.strategy import generate_selector
from kubesandbox.store import Obj

JOBS = BY_PLURAL[("batch", "jobs")]
TRACKING_FINALIZER = "batch.kubernetes.io/job-tracking"
POD_FAILURE_BACKOFF = 10.0
POD_FAILURE_BACKOFF_MAX = 600.0
INF = math.inf

_STATUS_ORDER = (
    "conditions",
    "startTime",
    "completionTime",
    "active",
    "succeeded",
    "failed",
    "terminating",
    "completedIndexes",
    "failedIndexes",
    "uncountedTerminatedPods",
    "ready",
)


def is_finished(job: Obj) -> str:
    for c in (job.get("status") or {}).get("conditions") or []:
        if c.get("type") in ("Complete", "Failed") and c.get("status") == "True":
            return str(c["type"])
    return ""


def _finish_time(pod: Obj) -> float | None:
    times = []
    for cs in (pod.get("status") or {}).get("containerStatuses") or []:
        t = parse_ts(((cs.get("state") or {}).get("terminated") or {}).get("finishedAt"))
        if t is not None:
            times.append(t)
    return max(times) if times else None


def _condition(type_: str, reason: str, message: str, now: float, status: str = "True") -> dict[str, Any]:
    return {
        "type": type_,
        "status": status,
        "lastProbeTime": fmt(now),
        "lastTransitionTime": fmt(now),
        "reason": reason,
        "message": message,
    }


class JobController:
    def __init__(self, env: Env) -> None:
        self.env = env
        self._job_wake = INF
        self._cache = SyncCache()  # a Job whose sync changed nothing waits for its inputs or its timer

    def next_wakeup(self, now: float) -> float:
        return self._cache.wake

    def sync(self, now: float) -> None:
        self._cache.begin()
        store = self.env.store
        live_uids: set[str] = set()
        idx = self.env.pods
        for job in list(store.iter_live(JOBS)):
            m = job["metadata"]
            live_uids.add(m["uid"])
            current = store.peek(JOBS, m["namespace"], m["name"])
            if current is None:
                continue
            inputs = (
                current["metadata"]["resourceVersion"],
                idx.owner_version.get(m["uid"], 0),
                idx.orphan_version.get(m["namespace"], 0),
            )
            if self._cache.unchanged(m["uid"], inputs, now):
                continue
            before = store.resource_version
            self._job_wake = INF
            self.env.guard(f"job {m['namespace']}/{m['name']}", self._sync, copy.deepcopy(current), now)
            self._cache.synced(m["uid"], self._job_wake, inputs if store.resource_version == before else None)
        self._cache.end()
        # pods left behind by a deleted Job lose the tracking finalizer (the pod informer's orphan cleanup)
        for owner_uid, bucket in list(self.env.pods.by_controller.items()):
            if owner_uid in live_uids or not bucket:
                continue
            sample_ref = controller_ref(next(iter(bucket.values())))
            if sample_ref is None or sample_ref.get("kind") != "Job":
                continue
            for pod in self.env.pods.owned_by(owner_uid):
                ref = controller_ref(pod)
                if (
                    ref is not None
                    and ref.get("kind") == "Job"
                    and TRACKING_FINALIZER in (pod["metadata"].get("finalizers") or [])
                ):
                    self._remove_finalizer(pod)

    def _remove_finalizer(self, pod: Obj) -> None:
        def fn(p: Obj) -> None:
            fins = [f for f in p["metadata"].get("finalizers") or [] if f != TRACKING_FINALIZER]
            if fins:
                p["metadata"]["finalizers"] = fins
            else:
                p["metadata"].pop("finalizers", None)

        m = pod["metadata"]
        if self.env.store.peek(PODS, m["namespace"], m["name"]) is not None:
            self.env.store.mutate(PODS, m["namespace"], m["name"], fn)

    def _sync(self, job: Obj, now: float) -> None:
        store = self.env.store
        m = job["metadata"]
        if generate_selector(job):
            labels, spec = m["labels"], job["spec"]

            def fix(o: Obj) -> None:
                o["spec"] = spec
                if not o["metadata"].get("labels"):
                    o["metadata"]["labels"] = labels

            job = copy.deepcopy(store.mutate(JOBS, m["namespace"], m["name"], fix))
            m = job["metadata"]
        spec = job.get("spec") or {}
        pods = claim_pods(self.env, job, spec.get("selector"))
        status = copy.deepcopy(job.get("status") or {})
        finished = is_finished(job)
        # count finished pods that still carry our finalizer, then release them
        new_succeeded = new_failed = 0
        for pod in pods:
            phase = pod_phase(pod)
            if phase in ("Succeeded", "Failed") and TRACKING_FINALIZER in (
                pod["metadata"].get("finalizers") or []
            ):
                if not finished:
                    if phase == "Succeeded":
                        new_succeeded += 1
                    else:
                        new_failed += 1
                self._remove_finalizer(pod)
        if finished:
            return
        old_failed = int(status.get("failed") or 0)
        succeeded = int(status.get("succeeded") or 0) + new_succeeded
        failed = old_failed + new_failed
        pods = self.env.pods.owned_by(m["uid"])
        active = [p for p in pods if pod_phase(p) not in ("Succeeded", "Failed") and not is_terminating(p)]
        terminating = [p for p in pods if is_terminating(p) and pod_phase(p) not in ("Succeeded", "Failed")]
        suspended = bool(spec.get("suspend"))
        if status.get("startTime") is None and not suspended:
            status["startTime"] = fmt(now)
        parallelism = int(spec.get("parallelism", 1) if spec.get("parallelism") is not None else 1)
        completions = spec.get("completions")
        backoff_limit = int(spec.get("backoffLimit", 6) if spec.get("backoffLimit") is not None else 6)
        conditions = status.get("conditions") or []
        target = get_condition(conditions, "FailureTarget") or get_condition(conditions, "SuccessCriteriaMet")
        finish: dict[str, Any] | None = None
        if target is None:
            exceeds = failed > old_failed and len(active) != parallelism and failed > backoff_limit
            if exceeds or self._past_backoff_on_failure(spec, active, backoff_limit):
                finish = _condition(
                    "FailureTarget",
                    "BackoffLimitExceeded",
                    "Job has reached the specified backoff limit",
                    now,
                )
            elif self._past_deadline(spec, status, now):
                finish = _condition(
                    "FailureTarget", "DeadlineExceeded", "Job was active longer than specified deadline", now
                )
            elif (
                (succeeded > 0 and not active)
                if completions is None
                else (succeeded >= int(completions) and not active)
            ):
                finish = _condition(
                    "SuccessCriteriaMet",
                    "CompletionsReached",
                    "Reached expected number of succeeded pods",
                    now,
                )
            if finish is not None:
                conditions = [*conditions, finish]
                target = finish
        if target is not None and target["type"] == "FailureTarget":
            for pod in active:
                P.delete_pod(store, pod)
                self.env.recorder.record(
                    job, "Normal", "SuccessfulDelete", f"Deleted pod: {pod['metadata']['name']}", JOB, now
                )
            terminating += active
            active = []
        elif target is None:
            active = self._manage(
                job, spec, active, pods, succeeded, parallelism, completions, suspended, now
            )
        if target is not None and not terminating and not active:
            if target["type"] == "FailureTarget":
                done = _condition("Failed", str(target["reason"]), str(target["message"]), now)
                self.env.recorder.record(
                    job, "Warning", str(target["reason"]), str(target["message"]), JOB, now
                )
            else:
                done = _condition("Complete", str(target["reason"]), str(target["message"]), now)
                status["completionTime"] = fmt(now)
                self.env.recorder.record(job, "Normal", "Completed", "Job completed", JOB, now)
            conditions = [*conditions, done]
        if conditions:
            status["conditions"] = conditions
        values = {"active": len(active), "succeeded": succeeded, "failed": failed}
        for k, v in values.items():
            if v:
                status[k] = v
            else:
                status.pop(k, None)
        status["terminating"] = len(terminating)
        status["uncountedTerminatedPods"] = {}
        status["ready"] = sum(1 for p in active if is_pod_ready(p))
        new = {k: status[k] for k in _STATUS_ORDER if k in status}
        new.update({k: v for k, v in status.items() if k not in new})
        if new != job.get("status"):

            def write(o: Obj) -> None:
                o["status"] = new

            store.mutate(JOBS, m["namespace"], m["name"], write, subresource="status")

    @staticmethod
    def _past_backoff_on_failure(spec: dict[str, Any], active: list[Obj], limit: int) -> bool:
        policy = ((spec.get("template") or {}).get("spec") or {}).get("restartPolicy")
        if policy != "OnFailure":
            return False
        restarts = 0
        for pod in active:
            st = pod.get("status") or {}
            for cs in (st.get("initContainerStatuses") or []) + (st.get("containerStatuses") or []):
                restarts += int(cs.get("restartCount") or 0)
        return restarts > 0 if limit == 0 else restarts >= limit

    def _past_deadline(self, spec: dict[str, Any], status: dict[str, Any], now: float) -> bool:
        ads = spec.get("activeDeadlineSeconds")
        start = parse_ts(status.get("startTime"))
        if ads is None or start is None:
            return False
        if now - start >= int(ads):
            return True
        self._job_wake = min(self._job_wake, start + int(ads))
        return False

    def _manage(
        self,
        job: Obj,
        spec: dict[str, Any],
        active: list[Obj],
        pods: list[Obj],
        succeeded: int,
        parallelism: int,
        completions: Any,
        suspended: bool,
        now: float,
    ) -> list[Obj]:
        want = parallelism
        if completions is not None:
            want = max(min(int(completions) - succeeded, parallelism), 0)
        elif succeeded > 0:
            want = 0 if not active else len(active)
        if suspended:
            want = 0
        if len(active) > want:
            doomed = rank_for_deletion(active, now)[: len(active) - want]
            for pod in doomed:
                P.delete_pod(self.env.store, pod)
                self.env.recorder.record(
                    job, "Normal", "SuccessfulDelete", f"Deleted pod: {pod['metadata']['name']}", JOB, now
                )
            return [p for p in active if p not in doomed]
        if len(active) < want:
            failures = [p for p in pods if pod_phase(p) == "Failed"]
            if failures:
                last = max((_finish_time(p) or now) for p in failures)
                delay = min(POD_FAILURE_BACKOFF * 2 ** (len(failures) - 1), POD_FAILURE_BACKOFF_MAX)
                if now < last + delay:
                    self._job_wake = min(self._job_wake, last + delay)
                    return active
            created = list(active)
            for _ in range(want - len(active)):
                new_pod = P.create_from_template(
                    self.env.store, spec.get("template") or {}, job, finalizers=(TRACKING_FINALIZER,)
                )
                if new_pod is None:
                    break
                created.append(new_pod)
                self.env.recorder.record(
                    job, "Normal", "SuccessfulCreate", f"Created pod: {new_pod['metadata']['name']}", JOB, now
                )
            return created
        return active
