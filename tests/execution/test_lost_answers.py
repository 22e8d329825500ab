"""What the fault matrix found, told story by story through the one fake seam: a write whose answer was
lost is checked for before it is sent again or called failed; a 409 that answers our own write's second copy
is no conflict; a renewal that cannot reach the API server does not stop the run while the Lease is still
its own, and a lost Lease stops the pass with the action in hand recorded."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from selfheal.execution import Executor, LeaseLock, LeaseLost
from selfheal.findings import PlannedAction, Result
from selfheal.kube.errors import ApiFailure
from selfheal.kube.transport import Request, Response
from tests.builders import make_deployment, scale_action
from tests.fakes import FakeTransport, ok, status

WEB = make_deployment("web", replicas=3)
TIMEOUT = ApiFailure(None, "ReadTimeoutError", "read timed out")


def scale_web(to: int = 5) -> PlannedAction:
    return scale_action(WEB, to)


class Server:
    """A Deployment that a PATCH really changes, whatever happens to the answer (`lose` answers to lose)."""

    def __init__(self, lose: int = 0, conflict_after_loss: bool = True) -> None:
        self.replicas, self.rv, self.generation = 3, 7, 1
        self.lose = lose
        self.conflict_after_loss = conflict_after_loss

    def doc(self) -> dict[str, Any]:
        return {
            "metadata": {
                "uid": WEB.metadata.uid,
                "resourceVersion": str(self.rv),
                "generation": self.generation,
            },
            "spec": {"replicas": self.replicas},
        }

    def __call__(self, req: Request) -> Response:
        if req.method == "GET":
            return ok(self.doc())
        body = json.loads(req.body or b"{}")
        if body["metadata"]["resourceVersion"] != str(self.rv):
            return status(409, "Conflict", "the object has been modified")
        self.replicas, self.rv, self.generation = body["spec"]["replicas"], self.rv + 1, self.generation + 1
        if self.lose:
            self.lose -= 1
            raise TIMEOUT
        return ok(self.doc())


def test_a_write_whose_answer_was_lost_is_found_in_the_object_and_not_sent_again():
    server = Server(lose=1)
    api = FakeTransport(server)

    outcome = Executor(api, dry_run=False, sleep=lambda _s: None).execute(scale_web())

    assert outcome.result is Result.APPLIED
    assert [r.method for r in api.requests] == ["GET", "PATCH", "GET"]  # the GET found it applied
    assert server.generation == 2  # one write, not two


def test_a_write_whose_every_answer_is_lost_is_applied_not_failed():
    server = Server(lose=100)
    api = FakeTransport(server)

    outcome = Executor(api, dry_run=False, sleep=lambda _s: None).execute(scale_web())

    assert outcome.result is Result.APPLIED and server.replicas == 5
    assert sum(r.method == "PATCH" for r in api.requests) == 1


def test_a_409_to_our_own_write_is_not_a_change_since_read():
    """The answer is lost after the write landed; the retry (same resourceVersion) gets 409. Before the fix
    the executor re-read, saw the generation it had moved itself, and recorded `changed_since_read`."""
    server = Server()
    calls = {"patch": 0}

    def handler(req: Request) -> Response:
        if req.method == "PATCH":
            calls["patch"] += 1
            if calls["patch"] == 1:
                server(req)  # applied...
                raise ApiFailure(
                    503, "ServiceUnavailable", "the proxy lost the answer"
                )  # ...but a 503 came back
        return server(req)

    api = FakeTransport(handler)
    outcome = Executor(api, dry_run=False, sleep=lambda _s: None).execute(scale_web())

    assert (outcome.result, outcome.reason) == (Result.APPLIED, "replica_drift")
    assert [r.method for r in api.requests] == [
        "GET",
        "PATCH",
        "PATCH",
        "GET",
    ]  # 409, then found in the object
    assert server.generation == 2


# --- the Lease while acting ------------------------------------------------------------------------------------

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def held_lock(put: Response | Exception, clock: Clock) -> tuple[LeaseLock, FakeTransport]:
    def handler(req: Request) -> Response:
        if req.method == "GET":
            return status(404, "NotFound")
        if req.method == "POST":
            return ok(json.loads(req.body or b"{}"), 201)
        if isinstance(put, Exception):
            raise put
        return put

    api = FakeTransport(handler)
    lock = LeaseLock(api, "shop", "self-heal-cpt", "me", 60, clock, sleep=lambda _s: None)
    assert lock.acquire().acquired
    return lock, api


def test_a_renewal_that_cannot_reach_the_api_server_is_tolerated_while_the_lease_is_still_ours():
    clock = Clock()
    lock, api = held_lock(ApiFailure(503, "ServiceUnavailable", "down"), clock)

    clock.now = NOW + timedelta(seconds=25)  # renewal due (a third of 60 s), 35 s left: carry on
    lock.keep_alive()
    assert [r.method for r in api.requests].count("PUT") == 4  # the renewal was tried, with its retries
    clock.now = NOW + timedelta(seconds=41)  # 19 s left: less than a third, someone may take it soon
    with pytest.raises(LeaseLost, match="could not be renewed"):
        lock.keep_alive()


def test_a_lease_lost_before_an_action_stops_the_pass_with_the_action_recorded_not_attempted():
    def lost() -> None:
        raise LeaseLost("Lease shop/self-heal-cpt was taken over while this run was acting")

    api = FakeTransport(Server())
    executor = Executor(api, dry_run=False, keep_alive=lost, sleep=lambda _s: None)

    outcome = executor.execute(scale_web())

    assert (outcome.result, outcome.reason) == (Result.SKIPPED, "interrupted")
    assert executor.halted.startswith("interrupted: ") and api.requests == []
