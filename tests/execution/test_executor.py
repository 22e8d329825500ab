"""The executor, told through the one fake seam: each story plays the API's answers and reads back the
exact requests the executor sent."""

from __future__ import annotations

import json

import pytest

from selfheal.detectors.base import propose
from selfheal.execution import Executor
from selfheal.findings import ActionKind, Ladder, PlannedAction, Result, Severity
from selfheal.kube import requests
from selfheal.kube.errors import ApiFailure
from selfheal.kube.exchange import Request, Response
from selfheal.kube.refs import ref_of
from tests.builders import make_deployment, make_pod, make_replicaset, scale_action
from tests.fakes import FakeTransport, ok, query_of, status

WEB = make_deployment(
    "web", replicas=3, annotations={"rollout.argoproj.io/traffic-split": '{"canary":10,"stable":90}'}
)
CANARY = make_deployment("web-canary", replicas=1)


def fresh(uid: str, rv: str = "7", generation: int = 1) -> Response:
    return ok({"metadata": {"uid": uid, "resourceVersion": rv, "generation": generation}})


def scale_web(to: int = 5) -> PlannedAction:
    return scale_action(WEB, to)


def abort_canary() -> PlannedAction:
    return propose(
        ActionKind.CANARY_ABORT,
        ref_of("Deployment", CANARY.metadata),
        requests.canary_abort(WEB, CANARY),
        reason="canary_errors",
        summary="abort",
        ladder=Ladder.CANARY,
        detector="test",
        severity=Severity.CRITICAL,
    )


class Script:
    """Answers GETs with the object's fresh metadata and PATCH/POSTs from a queue, per path."""

    def __init__(self, writes: dict[str, list[Response | Exception]], uids: dict[str, str] | None = None):
        self.writes = writes
        self.uids = uids or {}
        self.versions: dict[str, int] = {}

    def __call__(self, req: Request) -> Response:
        name = req.path.rstrip("/").split("/")[-1] if "/eviction" not in req.path else req.path.split("/")[-2]
        if req.method == "GET":
            self.versions[name] = self.versions.get(name, 6) + 1
            uid = self.uids.get(
                name, {"web": WEB.metadata.uid, "web-canary": CANARY.metadata.uid}.get(name, "")
            )
            return fresh(uid, str(self.versions[name]))
        queue = self.writes.get(name) or [ok({})]
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


def executor(api: FakeTransport, *, dry_run: bool = False, sleeps: list[float] | None = None) -> Executor:
    return Executor(api, dry_run=dry_run, sleep=(sleeps.append if sleeps is not None else lambda _s: None))


def test_a_write_reads_the_target_again_then_sends_the_planned_body_guarded_by_what_it_read():
    api = FakeTransport(Script({}))

    outcome = executor(api).execute(scale_web(5))

    assert outcome.result is Result.APPLIED
    get, patch = api.requests
    assert (get.method, get.path) == ("GET", "/apis/apps/v1/namespaces/shop/deployments/web")
    assert (patch.method, patch.path, patch.content_type) == (
        "PATCH",
        get.path,
        "application/merge-patch+json",
    )
    assert query_of(patch) == {"fieldManager": "selfheal"}
    assert json.loads(patch.body or b"") == {
        "spec": {"replicas": 5},
        "metadata": {"uid": WEB.metadata.uid, "resourceVersion": "7"},
    }


def test_a_409_means_the_world_moved_read_again_and_try_once_more():
    conflict = status(
        409, "Conflict", "the object has been modified; please apply your changes to the latest version"
    )
    api = FakeTransport(Script({"web": [conflict, ok({})]}))

    outcome = executor(api).execute(scale_web())

    assert outcome.result is Result.APPLIED
    assert [r.method for r in api.requests] == ["GET", "PATCH", "GET", "PATCH"]
    assert json.loads(api.requests[3].body or b"")["metadata"]["resourceVersion"] == "8"  # the fresh one


def test_a_second_409_is_a_failure_not_a_loop():
    conflict = status(409, "Conflict", "modified")
    api = FakeTransport(Script({"web": [conflict]}))

    outcome = executor(api).execute(scale_web())

    assert (outcome.result, outcome.reason) == (Result.FAILED, "conflict")
    assert [r.method for r in api.requests] == ["GET", "PATCH", "GET", "PATCH"]


def test_a_503_is_retried_with_back_off_honouring_retry_after():
    sleeps: list[float] = []
    api = FakeTransport(
        Script({"web": [status(503, "ServiceUnavailable", retry_after=3), status(503), ok({})]})
    )

    outcome = executor(api, sleeps=sleeps).execute(scale_web())

    assert outcome.result is Result.APPLIED
    assert [r.method for r in api.requests] == ["GET", "PATCH", "PATCH", "PATCH"]
    assert len(sleeps) == 2 and sleeps[0] >= 3  # never shorter than the server asked


def test_a_request_that_gets_no_answer_is_retried_too():
    api = FakeTransport(Script({"web": [ApiFailure(None, "ReadTimeoutError", "timed out"), ok({})]}))

    assert executor(api).execute(scale_web()).result is Result.APPLIED
    # the GET between the two PATCHes asks whether the first one landed (its answer lost): it had not
    assert [r.method for r in api.requests] == ["GET", "PATCH", "GET", "PATCH"]


@pytest.mark.parametrize(
    ("code", "reason", "word"),
    [
        (422, "Invalid", "invalid"),
        (403, "Forbidden", "forbidden"),
        (404, "NotFound", "not_found"),
    ],
)
def test_a_permanent_failure_fails_fast_into_the_report(code, reason, word):
    api = FakeTransport(Script({"web": [status(code, reason, f"{reason.lower()} because")]}))

    outcome = executor(api).execute(scale_web())

    assert (outcome.result, outcome.reason) == (Result.FAILED, word)
    assert f"{code} {reason}" in outcome.message
    assert [r.method for r in api.requests] == ["GET", "PATCH"]  # once, no retry


def test_when_the_second_write_of_an_action_fails_the_first_is_undone_with_its_inverse():
    api = FakeTransport(Script({"web-canary": [status(403, "Forbidden", "no scale for you")]}))

    outcome = executor(api).execute(abort_canary())

    assert (outcome.result, outcome.reason) == (Result.FAILED, "forbidden")
    assert "Deployment/web: undone" in outcome.message
    patches = [r for r in api.requests if r.method == "PATCH"]
    assert [p.path.split("/")[-1] for p in patches] == ["web", "web-canary", "web"]
    split = json.loads(patches[0].body or b"")["metadata"]["annotations"]["rollout.argoproj.io/traffic-split"]
    restored = json.loads(patches[2].body or b"")["metadata"]["annotations"][
        "rollout.argoproj.io/traffic-split"
    ]
    assert (split, restored) == ('{"canary":0,"stable":100}', '{"canary":10,"stable":90}')


def test_an_eviction_a_budget_refuses_is_a_skip_and_is_not_retried():
    pod = make_pod("web-1", owner=make_replicaset(WEB, revision=1))
    action = propose(
        ActionKind.RESTART_POD,
        ref_of("Deployment", WEB.metadata),
        (requests.eviction(pod),),
        target=ref_of("Pod", pod.metadata),
        reason="app_error",
        summary="restart",
        ladder=Ladder.HEALTH,
        detector="test",
        severity=Severity.CRITICAL,
    )
    budget = status(
        429, "TooManyRequests", "Cannot evict pod as it would violate the pod's disruption budget."
    )
    api = FakeTransport(Script({"web-1": [budget]}, uids={"web-1": pod.metadata.uid}))

    outcome = executor(api).execute(action)

    assert (outcome.result, outcome.reason) == (Result.SKIPPED, "pdb_blocked")
    assert [(r.method, r.path.split("/")[-1]) for r in api.requests] == [
        ("GET", "web-1"),
        ("POST", "eviction"),
    ]


@pytest.mark.parametrize(
    ("meta", "code"),
    [
        ({"uid": "someone-else", "resourceVersion": "9"}, "target_replaced"),
        (
            {"uid": WEB.metadata.uid, "resourceVersion": "9", "deletionTimestamp": "2024-05-01T11:59:00Z"},
            "terminating",
        ),
        ({"uid": WEB.metadata.uid, "resourceVersion": "9", "generation": 2}, "changed_since_read"),
    ],
)
def test_a_target_replaced_terminating_or_edited_since_it_was_read_is_not_written(meta, code):
    api = FakeTransport(lambda req: ok({"metadata": meta}))
    action = scale_web()
    assert action.target.generation == 1

    outcome = executor(api).execute(action)

    assert (outcome.result, outcome.reason) == (Result.SKIPPED, code)
    assert [r.method for r in api.requests] == ["GET"]


def test_a_dry_run_sends_every_write_with_dry_run_all():
    api = FakeTransport(Script({}))

    outcome = executor(api, dry_run=True).execute(abort_canary())

    assert outcome.result is Result.DRY_RUN
    assert [query_of(r) for r in api.requests if r.method == "PATCH"] == [
        {"fieldManager": "selfheal", "dryRun": "All"}
    ] * 2


def test_an_action_writing_twice_to_one_object_does_not_trip_over_its_own_generation_bump():
    """A promotion patches the stable's image (generation +1) and then its traffic split."""
    generation = {"web": 1}

    def handler(req: Request) -> Response:
        if req.method == "GET":
            return ok(
                {
                    "metadata": {
                        "uid": WEB.metadata.uid,
                        "resourceVersion": "7",
                        "generation": generation["web"],
                    }
                }
            )
        if "/spec/template" in (req.body or b"").decode():
            generation["web"] += 1
        return ok({"metadata": {"uid": WEB.metadata.uid, "generation": generation["web"]}})

    image = requests.restore_template(WEB, WEB.template_doc())
    action = propose(
        ActionKind.CANARY_PROMOTE,
        ref_of("Deployment", WEB.metadata),
        (image, requests.traffic_split(WEB, 0)),
        reason="canary_healthy",
        summary="promote",
        ladder=Ladder.CANARY,
        detector="test",
        severity=Severity.INFO,
    )

    outcome = executor(FakeTransport(handler)).execute(action)

    assert outcome.result is Result.APPLIED, outcome.message
    assert generation["web"] == 2
