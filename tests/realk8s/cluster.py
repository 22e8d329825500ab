"""One real control plane per test session: `tools/k8s/cluster up` once, SIGTERM at the end.

Every test under tests/realk8s/ runs in one xdist worker (tests/conftest.py groups them), so `make test`
starts one cluster. The fixtures are registered by tests/realk8s/conftest.py.

Needs: python3 with pytest, openssl, and either the binaries in .tools/k8s/<version>/bin or Go >= 1.26
on PATH to build them (a cold build takes 20-40 min; `up` runs tools/k8s/build.sh first).
"""

from __future__ import annotations

import ctypes
import json
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

CLUSTER = Path(__file__).resolve().parents[2] / "tools" / "k8s" / "cluster"
_libc = ctypes.CDLL(None, use_errno=True)


def _die_with_parent() -> None:  # the cluster stops when the test session dies, even by SIGKILL
    _libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG


@dataclass
class Kube:
    dir: Path
    url: str
    kubeconfig: Path
    bin: Path

    def kubectl(self, *args: str, input: str | None = None, check: bool = True) -> str:
        r = subprocess.run(
            [str(self.bin / "kubectl"), "--kubeconfig", str(self.kubeconfig), *args],
            input=input,
            capture_output=True,
            text=True,
        )
        if check and r.returncode:
            raise AssertionError(f"kubectl {' '.join(args)} failed: {r.stderr.strip()}")
        return r.stdout

    def get(self, *args: str) -> Any:
        return json.loads(self.kubectl("get", "-o", "json", *args))

    def apply(self, *objs: dict[str, Any]) -> None:
        self.kubectl(
            "apply", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": list(objs)})
        )

    def behaviors(self, mapping: dict[str, str]) -> None:
        """ImageBehavior documents, as the sandbox reads them, applied through `cluster behaviors`."""
        docs = [
            {
                "apiVersion": "sandbox.selfheal.dev/v1alpha1",
                "kind": "ImageBehavior",
                "metadata": {"name": f"ib-{uuid.uuid5(uuid.NAMESPACE_URL, image).hex[:10]}"},
                "spec": {"image": image, "behavior": behavior},
            }
            for image, behavior in mapping.items()
        ]
        r = subprocess.run(
            [sys.executable, str(CLUSTER), "behaviors", "--dir", str(self.dir), "-"],
            input=json.dumps({"apiVersion": "v1", "kind": "List", "items": docs}),
            capture_output=True,
            text=True,
        )
        assert r.returncode == 0, r.stderr

    def wait(self, what: str, cond: Callable[[], Any], timeout: float = 60, interval: float = 0.5) -> Any:
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            try:
                last = cond()
            except AssertionError as e:  # kubectl failed, e.g. not found yet
                last = e
            else:
                if last:
                    return last
            time.sleep(interval)
        raise AssertionError(f"timed out after {timeout} s waiting for {what}; last: {last!r}")


@pytest.fixture(scope="session")
def kube(tmp_path_factory: pytest.TempPathFactory) -> Any:
    d = tmp_path_factory.mktemp("k8s")
    p = subprocess.Popen(
        [sys.executable, str(CLUSTER), "up", "--dir", str(d)],
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=_die_with_parent,
    )
    assert p.stdout is not None
    line = p.stdout.readline()  # `up` prints exactly one line, when ready (or exits)
    if not line.startswith("k8s ready: "):
        p.wait()
        pytest.fail(f"cluster up failed (exit {p.returncode}); see {d}/logs")
    info = json.loads((d / "cluster.json").read_text())
    try:
        yield Kube(d, info["url"], Path(info["kubeconfig"]), Path(info["bin"]))
    finally:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(60)
        except subprocess.TimeoutExpired:
            subprocess.run([sys.executable, str(CLUSTER), "down", "--dir", str(d)])


@pytest.fixture
def ns(kube: Kube, request: pytest.FixtureRequest) -> Any:
    name = "t-" + request.node.name.lower().replace("_", "-")[:40].strip("-") + "-" + uuid.uuid4().hex[:4]
    kube.kubectl("create", "namespace", name)
    kube.wait(f"ServiceAccount {name}/default", lambda: kube.get("-n", name, "serviceaccount", "default"))
    yield name
    kube.kubectl("delete", "namespace", name, "--wait=false")
