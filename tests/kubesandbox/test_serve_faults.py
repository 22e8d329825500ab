"""`kubesandbox serve --fault METHOD:PATH_REGEX:SPEC` and `--log-requests FILE`: faults driven from outside
(the soak slows the job's writes with them), and the request log a script can check afterwards."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from kubesandbox.apiserver.faults import parse_fault


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("GET:/pods$:503", dict(method="GET", path="/pods$", status=503, times=1)),
        ("GET:/pods$:429:retry-after=2", dict(status=429, retry_after=2)),
        ("get:/pods$:429,retry-after=2,times=3", dict(method="GET", status=429, retry_after=2, times=3)),
        (
            "PATCH:/deployments/[^/]+$:delay=0.5,times=1000",
            dict(path="/deployments/[^/]+$", delay=0.5, times=1000),
        ),
        ("POST:/eviction$:drop,times=3", dict(drop=True, times=3, status=None)),
        ("*:/leases/:500,times=2", dict(method="*", status=500, times=2)),
        (
            "GET:/api/v1/namespaces/a:b/pods:503",
            dict(path="/api/v1/namespaces/a:b/pods"),
        ),  # a ':' in the regex
        ("PUT:/leases/:delay=2:409", dict(delay=2.0, status=409)),
    ],
)
def test_a_fault_spec_reads_as_the_python_api_would_take_it(spec, expected):
    fault = parse_fault(spec)
    assert {k: getattr(fault, k) for k in expected} == expected


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("GET", "expected METHOD:PATH_REGEX:SPEC"),
        ("FETCH:/pods:503", "unknown method 'FETCH'"),
        ("GET:/pods", "no SPEC after the path regex '/pods'"),
        ("GET:/pods:teapot", "no SPEC after the path regex '/pods:teapot'"),
        ("GET::503", "the path regex is empty"),
        ("GET:(:503", "path regex '(' does not compile"),
        ("GET:/pods:200", "status 200 is not an error status"),
        ("GET:/pods:503,times=0", "times=0 must be at least 1"),
        ("GET:/pods:503,times=many", "times='many' is not a whole number"),
        ("GET:/pods:delay=soon", "delay='soon' is not a number of seconds"),
        ("GET:/pods:delay=-1", "delay=-1 must be between 0 and 3600 seconds"),
        ("GET:/pods:retry-after=2", "retry-after needs a status"),
        ("GET:/pods:503,drop", "drop and a status exclude each other"),
        ("GET:/pods:times=2", "the SPEC does nothing"),
    ],
)
def test_a_bad_fault_spec_says_what_is_wrong_in_one_line(spec, message):
    with pytest.raises(ValueError) as err:
        parse_fault(spec)
    assert message in str(err.value) and "\n" not in str(err.value)


def _serve(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kubesandbox",
            "serve",
            "--scenario",
            "minimal",
            "--kubeconfig",
            str(tmp_path / "kc"),
            *args,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_serve_refuses_a_bad_fault_in_one_line_before_serving(tmp_path):
    proc = _serve(tmp_path, "--fault", "GET:/pods:teapot")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and out == ""
    assert err.strip() == (
        "kubesandbox: --fault GET:/pods:teapot: no SPEC after the path regex '/pods:teapot' "
        "(expected METHOD:PATH_REGEX:SPEC, e.g. GET:/pods$:503,times=2 or "
        "PATCH:/deployments/:delay=0.5)"
    )


def test_served_faults_hit_the_matching_requests_and_the_request_log_is_written_on_exit(tmp_path):
    log = tmp_path / "requests.jsonl"
    proc = _serve(
        tmp_path,
        "--fault",
        "GET:/configmaps$:503,times=2",
        "--fault",
        "GET:/secrets$:delay=0.6",
        "--log-requests",
        str(log),
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().split()[2]

        def get(path: str) -> int:
            try:
                with urllib.request.urlopen(url + path, timeout=10) as resp:
                    return int(resp.status)
            except urllib.error.HTTPError as exc:
                return exc.code

        ns = "/api/v1/namespaces/default"
        assert [get(f"{ns}/configmaps") for _ in range(3)] == [503, 503, 200]  # times=2, then served
        started = time.monotonic()
        assert get(f"{ns}/secrets") == 200 and time.monotonic() - started >= 0.6  # held, then let through
        assert get(f"{ns}/secrets") == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    handled = [json.loads(line) for line in log.read_text().splitlines()]
    # status faults answer before the API server, so only what it handled is logged
    assert [(r["method"], r["path"], r["status"]) for r in handled] == [
        ("GET", f"{ns}/configmaps", 200),
        ("GET", f"{ns}/secrets", 200),
        ("GET", f"{ns}/secrets", 200),
    ]
    assert set(handled[0]) == {"method", "path", "query", "user", "status", "fieldManager"}
