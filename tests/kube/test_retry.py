"""One retry policy: what is transient, how long to wait, when to stop."""

from __future__ import annotations

import pytest

from selfheal.kube.errors import ApiFailure, is_transient
from selfheal.kube.retry import call_with_retries


@pytest.mark.parametrize(
    ("status", "transient"),
    [
        (None, True),
        (429, True),
        (500, True),
        (502, True),
        (503, True),
        (504, True),
        (400, False),
        (401, False),
        (403, False),
        (404, False),
        (409, False),
        (410, False),
        (422, False),
    ],
)
def test_only_throttling_server_errors_and_no_answer_are_transient(status, transient):
    assert is_transient(ApiFailure(status, "", "")) is transient


def test_a_non_api_error_is_never_retried():
    assert not is_transient(ValueError("bug"))


def flaky(failures: list[BaseException]):
    calls: list[int] = []

    def fn() -> str:
        calls.append(1)
        if failures:
            raise failures.pop(0)
        return "done"

    return fn, calls


def test_transient_failures_are_retried_until_success():
    sleeps: list[float] = []
    fn, calls = flaky([ApiFailure(503, "", ""), ApiFailure(None, "", "")])

    assert call_with_retries(fn, sleep=sleeps.append) == "done"
    assert len(calls) == 3 and sleeps == [0.5, 1.0]


def test_retry_after_is_honoured_but_capped():
    sleeps: list[float] = []
    fn, _ = flaky([ApiFailure(429, "", "", retry_after=3), ApiFailure(429, "", "", retry_after=600)])

    call_with_retries(fn, sleep=sleeps.append, cap=8.0)

    assert sleeps == [3, 8.0]


def test_attempts_are_bounded_and_the_last_error_is_raised():
    fn, calls = flaky([ApiFailure(503, "", str(i)) for i in range(10)])

    with pytest.raises(ApiFailure, match="3"):
        call_with_retries(fn, attempts=4, sleep=lambda _s: None)
    assert len(calls) == 4


def test_a_permanent_failure_is_raised_at_once():
    fn, calls = flaky([ApiFailure(422, "Invalid", "bad")])

    with pytest.raises(ApiFailure):
        call_with_retries(fn, sleep=lambda _s: None)
    assert len(calls) == 1
