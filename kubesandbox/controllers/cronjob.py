"""The CronJob controller's bookkeeping (pkg/controller/cronjob), without the scheduler.

The sandbox does not start Jobs on a CronJob's schedule: doing that faithfully (cron syntax,
time zones, startingDeadlineSeconds, missed-start limits, concurrencyPolicy) is more than a
scenario needs, and a clock that jumps would fire schedules in bursts. Jobs come from
`kubectl create job --from=cronjob/…` instead, and for the Jobs a CronJob controls the
controller does what the real one does on every sync: warn about a running Job it did not
start (`UnexpectedJob`), drop finished or vanished Jobs from `status.active`
(`SawCompletedJob`, `MissingJob`), move `status.lastSuccessfulTime` forward, and delete finished
Jobs beyond `successfulJobsHistoryLimit` / `failedJobsHistoryLimit` (background propagation).
"""

from __future__ import annotations

import copy
import functools
from typing import Any

from kubesandbox.controllers.context import Env
from kubesandbox.controllers.events import CRONJOB
from kubesandbox.controllers.job import JOBS, is_finished
from kubesandbox.controllers.util import controller_ref, parse_ts
from kubesandbox.resources import BY_PLURAL
from kubesandbox.resources.errors import ApiError
from kubesandbox.store import Obj

CRONJOBS = BY_PLURAL[("batch", "cronjobs")]


def _by_start(a: Obj, b: Obj) -> int:
    ta = parse_ts((a.get("status") or {}).get("startTime"))
    tb = parse_ts((b.get("status") or {}).get("startTime"))
    if ta is None and tb is not None:
        return 1
    if tb is None and ta is not None:
        return -1
    if ta == tb:
        na, nb = a["metadata"]["name"], b["metadata"]["name"]
        return -1 if na < nb else (1 if na > nb else 0)
    return -1 if (ta or 0) < (tb or 0) else 1


class CronJobController:
    def __init__(self, env: Env) -> None:
        self.env = env
        self._warned: set[str] = set()

    def next_wakeup(self, now: float) -> float:
        return float("inf")

    def sync(self, now: float) -> None:
        for cj in list(self.env.store.iter_live(CRONJOBS)):
            live = self.env.store.peek(CRONJOBS, cj["metadata"]["namespace"], cj["metadata"]["name"])
            if live is not None and not live["metadata"].get("deletionTimestamp"):
                self.env.guard(
                    f"cronjob {live['metadata']['namespace']}/{live['metadata']['name']}",
                    self._sync,
                    copy.deepcopy(live),
                    now,
                )

    def _sync(self, cj: Obj, now: float) -> None:
        store = self.env.store
        m = cj["metadata"]
        jobs = [
            j
            for j in store.iter_live(JOBS, m["namespace"])
            if (controller_ref(j) or {}).get("uid") == m["uid"]
        ]
        status: dict[str, Any] = copy.deepcopy(cj.get("status") or {})
        active = list(status.get("active") or [])
        active_uids = {a.get("uid") for a in active}
        for j in jobs:
            uid = j["metadata"]["uid"]
            finished = is_finished(j)
            if uid not in active_uids and not finished:
                if uid not in self._warned:
                    self._warned.add(uid)
                    self.env.recorder.record(
                        cj,
                        "Warning",
                        "UnexpectedJob",
                        f"Saw a job that the controller did not create or forgot: {j['metadata']['name']}",
                        CRONJOB,
                        now,
                    )
            elif uid in active_uids and finished:
                active = [a for a in active if a.get("uid") != uid]
                self.env.recorder.record(
                    cj,
                    "Normal",
                    "SawCompletedJob",
                    f"Saw completed job: {j['metadata']['name']}, condition: {finished}",
                    CRONJOB,
                    now,
                )
            elif finished:
                completion = (j.get("status") or {}).get("completionTime")
                last = status.get("lastSuccessfulTime")
                if completion is not None and (
                    last is None or (parse_ts(completion) or 0) > (parse_ts(last) or 0)
                ):
                    status["lastSuccessfulTime"] = completion
        job_uids = {j["metadata"]["uid"] for j in jobs}
        for a in list(active):
            if a.get("uid") not in job_uids:
                active = [x for x in active if x.get("uid") != a.get("uid")]
                self.env.recorder.record(
                    cj, "Normal", "MissingJob", f"Active job went missing: {a.get('name')}", CRONJOB, now
                )
        if active:
            status["active"] = active
        else:
            status.pop("active", None)
        if status != (cj.get("status") or {}):

            def write(o: Obj) -> None:
                o["status"] = status

            store.mutate(CRONJOBS, m["namespace"], m["name"], write, subresource="status")
        spec = cj.get("spec") or {}
        for kind, limit in (
            ("Complete", spec.get("successfulJobsHistoryLimit", 3)),
            ("Failed", spec.get("failedJobsHistoryLimit", 1)),
        ):
            if limit is None:
                continue
            done = sorted((j for j in jobs if is_finished(j) == kind), key=functools.cmp_to_key(_by_start))
            for j in done[: max(len(done) - int(limit), 0)]:
                try:
                    store.delete(JOBS, m["namespace"], j["metadata"]["name"])
                except ApiError:
                    continue
                self.env.recorder.record(
                    cj, "Normal", "SuccessfulDelete", f"Deleted job {j['metadata']['name']}", CRONJOB, now
                )
