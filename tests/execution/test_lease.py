"""The Lease: one actor at a time, by client-go's leader-election rules, through the one fake seam."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from selfheal.execution import LeaseLock, LeaseLost
from selfheal.execution.lease import micro_time
from selfheal.kube.transport import Request, Response
from tests.fakes import FakeTransport, ok, status

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
PATH = "/apis/coordination.k8s.io/v1/namespaces/shop/leases"


def lease(holder: str | None, renewed: datetime, duration: int = 60, transitions: int = 2) -> dict:
    return {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": "self-heal-cpt", "namespace": "shop", "resourceVersion": "5"},
        "spec": {
            "holderIdentity": holder,
            "leaseDurationSeconds": duration,
            "acquireTime": micro_time(renewed),
            "renewTime": micro_time(renewed),
            "leaseTransitions": transitions,
        },
    }


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


class LeaseApi:
    """A Lease store: GET answers the current object, POST creates, PUT replaces (or answers `put_answer`)."""

    def __init__(
        self,
        current: dict | None = None,
        put_answer: Response | None = None,
        post_answer: Response | None = None,
    ):
        self.current = current
        self.put_answer = put_answer
        self.post_answer = post_answer

    def __call__(self, req: Request) -> Response:
        if req.method == "GET":
            return ok(self.current) if self.current else status(404, "NotFound")
        if req.method == "POST" and self.post_answer is not None:
            return self.post_answer
        if req.method == "PUT" and self.put_answer is not None:
            return self.put_answer
        self.current = json.loads(req.body or b"")
        return ok(self.current, 201 if req.method == "POST" else 200)


def lock(api: FakeTransport, clock: Clock | None = None) -> LeaseLock:
    return LeaseLock(api, "shop", "self-heal-cpt", "me/run-1", 60, clock or Clock())


def test_no_lease_yet_creates_it_held_by_this_run():
    api = FakeTransport(LeaseApi())

    state = lock(api).acquire()

    assert state.acquired
    get, post = api.requests
    assert (get.method, get.path) == ("GET", f"{PATH}/self-heal-cpt")
    assert (post.method, post.path) == ("POST", PATH)
    assert json.loads(post.body or b"")["spec"]["holderIdentity"] == "me/run-1"


def test_a_lease_another_run_renewed_recently_is_left_alone():
    api = FakeTransport(LeaseApi(lease("other/run-0", NOW - timedelta(seconds=30))))

    state = lock(api).acquire()

    assert (state.acquired, state.holder) == (False, "other/run-0")
    assert [r.method for r in api.requests] == ["GET"]


def test_an_expired_lease_is_taken_over_and_counts_a_transition():
    api = FakeTransport(LeaseApi(lease("other/run-0", NOW - timedelta(seconds=61))))

    assert lock(api).acquire().acquired
    put = json.loads(api.requests[-1].body or b"")
    assert put["metadata"]["resourceVersion"] == "5"  # optimistic concurrency: a newer one makes it 409
    assert (put["spec"]["holderIdentity"], put["spec"]["leaseTransitions"]) == ("me/run-1", 3)


@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_losing_the_race_for_the_lease_is_a_409_and_means_someone_else_acts(method):
    current = None if method == "POST" else lease(None, NOW - timedelta(minutes=5))
    api = FakeTransport(
        LeaseApi(current, put_answer=status(409, "Conflict"), post_answer=status(409, "AlreadyExists"))
    )

    assert not lock(api).acquire().acquired


def test_keep_alive_renews_after_a_third_of_the_duration_and_not_before():
    clock = Clock()
    api = FakeTransport(LeaseApi())
    held = lock(api, clock)
    held.acquire()

    clock.now = NOW + timedelta(seconds=19)
    held.keep_alive()
    assert [r.method for r in api.requests] == ["GET", "POST"]
    clock.now = NOW + timedelta(seconds=21)
    held.keep_alive()
    assert api.requests[-1].method == "PUT"
    assert json.loads(api.requests[-1].body or b"")["spec"]["renewTime"] == micro_time(clock.now)


def test_a_renewal_someone_else_beat_means_the_lease_is_lost():
    clock = Clock()
    store = LeaseApi()
    api = FakeTransport(store)
    held = lock(api, clock)
    held.acquire()
    store.put_answer = status(409, "Conflict")
    clock.now = NOW + timedelta(seconds=30)

    with pytest.raises(LeaseLost):
        held.keep_alive()


def test_release_gives_the_lease_up_at_once():
    api = FakeTransport(LeaseApi())
    held = lock(api)
    held.acquire()

    held.release()

    spec = json.loads(api.requests[-1].body or b"")["spec"]
    assert (spec["holderIdentity"], spec["leaseDurationSeconds"]) == (None, 1)
