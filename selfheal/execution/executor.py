"""Send approved actions, write by write, exactly as planned.

For every write the executor
1. re-reads the target (the only per-object GET of a pass: acting, not scanning) and refuses when
   it was replaced (uid), is terminating, or had its spec edited since the snapshot (generation);
2. sends the planned body guarded by that fresh `uid` and `resourceVersion` (a precondition the
   API server enforces: a stale one is 409), with `fieldManager=selfheal` and, in dry-run,
   `dryRun=All` — so RBAC, admission and validation still answer;
3. retries transient failures (`retry.is_transient`), re-reads and tries once more on 409, and
   fails fast on anything else (403, 404, 422...) into the report.
An eviction refused by a PodDisruptionBudget (429) is a skip, not a failure. When a later write
of a multi-write action fails, the earlier ones are undone with their inverses, newest first.

A lost answer is not a failed write. When a write got no answer (a timeout, a dropped connection, a body
that never completed) it may well have been applied: before sending it again, and before calling it
failed, the executor reads the target and asks whether the write is already there (`kube.patches.
reflected`; for an eviction: the pod is gone, terminating or replaced). A 409 is asked the same question
first: it is often the answer to our own write's second copy. So a retried write never acts twice, and
an applied write is never recorded as skipped or failed.

The Lease is renewed (`keep_alive`) before an action's intent is written and between its writes. When it
is lost (`LeaseLost`) the executor stops: the action is recorded (skipped when nothing was sent, failed
with what was sent otherwise) and `halted` says why, so the pass records the rest as not attempted.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import structlog

from selfheal.execution.lease import LeaseLost
from selfheal.findings import ActionOutcome, PlannedAction, RecordError, Result, SkipCode
from selfheal.kube.errors import ApiFailure, EvictionBlocked, failure_code
from selfheal.kube.managed import JOB_FIELD_MANAGER
from selfheal.kube.patches import reflected
from selfheal.kube.requests import ContentType, Write
from selfheal.kube.retry import call_with_retries
from selfheal.kube.transport import Transport, object_path

log = structlog.get_logger("selfheal.execution")

T = TypeVar("T")


def _key(write: Write) -> tuple[str, str, str]:
    return (write.target.kind, write.target.namespace, write.target.name)


class Recorder(Protocol):
    """The write-ahead record (selfheal.reporting.store.Journal): `intent` is on disk before the action's
    first write (or raises RecordError, and the action is not taken); `outcome` after its last."""

    def intent(self, action: PlannedAction) -> str: ...

    def outcome(self, intent: str, outcome: ActionOutcome) -> None: ...


@dataclass(frozen=True)
class Refused(Exception):
    code: str
    text: str


class _Landed(Exception):
    """The write is already in the cluster (our own earlier attempt, whose answer was lost)."""


def guarded_body(write: Write, uid: str, resource_version: str) -> bytes:
    """The planned body plus the fresh uid/resourceVersion as preconditions.

    Merge and strategic patches carry them in `metadata`; a JSON patch gets two `replace` ops (the
    patched object then holds the version we read, and a newer stored one makes the update 409).
    Evictions already carry the pod's uid in `deleteOptions.preconditions`.
    """
    if write.subresource == "eviction":
        return write.body
    doc = json.loads(write.body)
    if write.content_type == ContentType.JSON_PATCH:
        guard = [
            {"op": "replace", "path": "/metadata/uid", "value": uid},
            {"op": "replace", "path": "/metadata/resourceVersion", "value": resource_version},
        ]
        return json.dumps([*guard, *doc], separators=(",", ":")).encode()
    meta = dict(doc.get("metadata") or {})
    meta.update({"uid": uid, "resourceVersion": resource_version})
    return json.dumps({**doc, "metadata": meta}, separators=(",", ":")).encode()


class Executor:
    def __init__(
        self,
        transport: Transport,
        *,
        dry_run: bool,
        keep_alive: Callable[[], None] = lambda: None,
        retry_attempts: int = 4,
        sleep: Callable[[float], None] | None = None,
        recorder: Recorder | None = None,
    ) -> None:
        self.transport = transport
        self.dry_run = dry_run
        self.keep_alive = keep_alive
        self.retry_attempts = retry_attempts
        self.sleep = sleep
        self.recorder = recorder
        self._own_generation: dict[tuple[str, str, str], int] = {}  # per action: generations its writes left
        self.unrecordable = ""  # set once the record could not be written: the pass must stop acting
        self.halted = ""  # "interrupted: why" once the Lease was lost: the pass must stop acting

    def _retrying(self, fn: Callable[[], T]) -> T:
        return call_with_retries(fn, attempts=self.retry_attempts, sleep=self.sleep or self.transport.pause)

    def _remember(self, write: Write, obj: Any) -> None:
        """The generation this action's write left the target at (so its next write is no 'edit')."""
        if write.subresource or self.dry_run or not isinstance(obj, dict):
            return
        generation = (obj.get("metadata") or {}).get("generation")
        if isinstance(generation, int):
            self._own_generation[_key(write)] = generation

    def _landed(self, write: Write, payload: bytes, live: dict[str, Any] | None = None) -> bool:
        """Is this write already in the cluster? (Reads the target unless given; False when it cannot.)"""
        t = write.target
        if live is None:
            try:
                live = self.transport.get(t.kind, t.namespace, t.name)
            except ApiFailure as exc:
                return write.subresource == "eviction" and exc.status == 404  # an evicted pod may be gone
        meta = live.get("metadata") or {}
        if write.subresource == "eviction":
            return bool(meta.get("deletionTimestamp")) or bool(t.uid and meta.get("uid") != t.uid)
        if not reflected(str(write.content_type), json.loads(payload), live):
            return False
        self._remember(write, live)
        return True

    # -- one write --------------------------------------------------------------------------------
    def _fresh(self, write: Write, fresh: dict[str, Any] | None = None) -> dict[str, Any]:
        """The target as it is now (read, unless the caller just read it), refused when it changed."""
        t = write.target
        if fresh is None:
            fresh = self.transport.get(t.kind, t.namespace, t.name)  # a GET: the transport retries blips
        meta = fresh.get("metadata") or {}
        if t.uid and meta.get("uid") != t.uid:
            raise Refused("target_replaced", f"{t} was replaced since it was read (uid changed)")
        if meta.get("deletionTimestamp"):
            raise Refused(SkipCode.TERMINATING.value, f"{t} is terminating")
        # this action's own earlier writes to the target moved its generation on: that is no edit
        expected = self._own_generation.get(_key(write), t.generation)
        if expected and meta.get("generation") not in (None, expected):
            raise Refused(
                "changed_since_read",
                f"{t} spec was edited since it was read (generation {expected} -> "
                f"{meta.get('generation')}); the next pass decides again",
            )
        return fresh

    def _send(self, write: Write, fresh: dict[str, Any], body: bytes | None = None) -> None:
        """Send one write, retrying what is transient; a lost answer is checked for before every retry and
        before giving up (`_landed`), so the same write is never applied twice."""
        t = write.target
        meta = fresh.get("metadata") or {}
        query = [("fieldManager", JOB_FIELD_MANAGER)]
        if self.dry_run:
            query.append(("dryRun", "All"))
        method = "POST" if write.verb == "create" else "PATCH"
        payload = (
            body
            if body is not None
            else guarded_body(write, str(meta.get("uid", "")), str(meta.get("resourceVersion", "")))
        )
        lost = False  # an attempt got no answer: it may have been applied

        def once() -> Any:
            nonlocal lost
            if lost and not self.dry_run and self._landed(write, payload):
                raise _Landed
            try:
                return self.transport.request(
                    method,
                    object_path(t.kind, t.namespace, t.name, write.subresource),
                    query=query,
                    content_type=str(write.content_type),
                    body=payload,
                )
            except ApiFailure as exc:
                if write.subresource == "eviction" and exc.status == 429:
                    raise EvictionBlocked(exc.message) from None
                lost = lost or exc.status is None
                raise

        try:
            answer = self._retrying(once)
        except _Landed:
            self._log_landed(write)
            return
        except ApiFailure as exc:
            if not (lost and not self.dry_run and exc.status != 409 and self._landed(write, payload)):
                raise
            self._log_landed(write)
            return
        with contextlib.suppress(ValueError):
            self._remember(write, answer.json())

    @staticmethod
    def _log_landed(write: Write) -> None:
        log.info(
            "write.answer_lost",
            kind=write.target.kind,
            name=write.target.name,
            detail="no answer came, but the write is in the cluster: not sent again",
        )

    def _apply(self, write: Write) -> None:
        fresh = self._fresh(write)
        try:
            self._send(write, fresh)
        except ApiFailure as exc:
            if exc.status != 409:
                raise
            t = write.target
            try:
                live = self.transport.get(t.kind, t.namespace, t.name)
            except ApiFailure as again:
                if not (write.subresource == "eviction" and again.status == 404):
                    raise
                live = {}  # the pod is gone: evicted (by us, its answer lost, or by someone else)
            if not self.dry_run and (
                self._landed(write, write.body, live) if live else write.subresource == "eviction"
            ):
                log.info(
                    "write.conflict_already_applied",
                    kind=t.kind,
                    name=t.name,
                    detail="409, and the object already holds this write (our own, its answer lost)",
                )
                return
            log.info("write.conflict_retry", kind=t.kind, name=t.name, error=str(exc))
            self._send(write, self._fresh(write, live or None))  # the world moved: check, then once more

    def _undo(self, sent: list[Write]) -> str:
        notes = []
        for write in reversed(sent):
            if write.inverse is None:
                notes.append(f"{write.target}: not undone ({write.inverse_note or 'no inverse'})")
                continue
            try:
                fresh = self._fresh(write)
                self._send(write, fresh, body=write.inverse)
                notes.append(f"{write.target}: undone")
            except (ApiFailure, Refused, EvictionBlocked) as exc:
                notes.append(f"{write.target}: undo failed ({exc})")
        return "; ".join(notes)

    # -- one action ---------------------------------------------------------------------------------
    def execute(self, action: PlannedAction) -> ActionOutcome:
        """Renew the Lease, record the intent, send the writes, record the outcome. An action whose intent
        cannot be recorded is not taken (`not_recorded`, and `unrecordable` is set); one whose Lease is lost
        before it starts is not taken either (`interrupted`, and `halted` is set)."""
        try:
            self.keep_alive()
        except LeaseLost as exc:
            return self._lease_lost(action, exc, [])
        if self.recorder is None or self.dry_run:
            return self._execute(action)
        try:
            intent = self.recorder.intent(action)
        except RecordError as exc:
            self.unrecordable = str(exc)
            log.error(
                "action.not_recorded", action=action.action.value, name=action.target.name, error=str(exc)
            )
            return ActionOutcome(
                action,
                Result.SKIPPED,
                SkipCode.NOT_RECORDED.value,
                f"not taken: the history cannot record it ({exc})",
            )
        outcome = self._execute(action)
        try:
            self.recorder.outcome(intent, outcome)
        except (
            RecordError
        ) as exc:  # done but unrecorded: the next pass finds the intent and checks the cluster
            self.unrecordable = str(exc)
            log.error("history.outcome_not_recorded", intent=intent, error=str(exc))
        return outcome

    def _lease_lost(self, action: PlannedAction, exc: LeaseLost, sent: list[Write]) -> ActionOutcome:
        self.halted = f"{SkipCode.INTERRUPTED.value}: {exc}"
        log.error("run.lease_lost", action=action.action.value, name=action.target.name, error=str(exc))
        if not sent:
            return ActionOutcome(action, Result.SKIPPED, SkipCode.INTERRUPTED.value, f"not attempted: {exc}")
        done = ", ".join(str(w.target) for w in sent)
        return ActionOutcome(
            action,
            Result.FAILED,
            SkipCode.INTERRUPTED.value,
            f"{exc}; {len(sent)} of {len(action.writes)} writes were sent ({done}) and are left as they are",
        )

    def _execute(self, action: PlannedAction) -> ActionOutcome:
        self._own_generation = {}
        sent: list[Write] = []
        fields = {
            "action": action.action.value,
            "kind": action.target.kind,
            "name": action.target.name,
            "reason": action.reason,
        }
        try:
            for write in action.writes:
                if sent:
                    self.keep_alive()
                self._apply(write)
                sent.append(write)
        except LeaseLost as exc:
            return self._lease_lost(action, exc, sent)
        except Refused as exc:
            undone = self._undo(sent) if sent and not self.dry_run else ""
            log.info("action.skipped", **fields, code=exc.code, detail=exc.text)
            return ActionOutcome(
                action, Result.SKIPPED, exc.code, "; ".join(filter(None, [exc.text, undone]))
            )
        except EvictionBlocked as exc:
            log.info("action.skipped", **fields, code=SkipCode.PDB_BLOCKED.value, detail=str(exc))
            return ActionOutcome(action, Result.SKIPPED, SkipCode.PDB_BLOCKED.value, str(exc))
        except ApiFailure as exc:
            undone = self._undo(sent) if sent and not self.dry_run else ""
            code = failure_code(exc)
            log.error("action.failed", **fields, code=code, status=exc.status, error=exc.message)
            return ActionOutcome(action, Result.FAILED, code, "; ".join(filter(None, [str(exc), undone])))
        result = Result.DRY_RUN if self.dry_run else Result.APPLIED
        log.info("action.dry_run" if self.dry_run else "action.applied", **fields, summary=action.summary)
        return ActionOutcome(action, result, action.reason, action.summary)
