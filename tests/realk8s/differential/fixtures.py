"""The `differential` fixture: a fresh namespace of the same name in the real cluster and in a new sandbox.

    def test_x(differential):
        d = differential()                       # or differential(rbac=[docs...]) for ServiceAccount tokens
        d.http("create", "POST", "/api/v1/namespaces/{ns}/configmaps", body={...})
        d.kubectl("get", "get", "configmaps", "-n", "{ns}", "-o", "json")

The sandbox starts from a scenario that holds nothing but its clock (and so the `default` namespace);
the test's namespace is created through the API in both worlds, by the same request. When the test ends,
its comparisons are checked against known-differences.yaml.

`DIFF_K8S_DIR=/tmp/k8s` (a cluster started with `tools/k8s/cluster up --dir /tmp/k8s --detach`) makes the
tests use that cluster instead of starting one: for working on the suite.
`DIFF_REPORT=file.json` writes every comparison made and the counts there at the end of the session.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubesandbox import Sandbox
from tests.realk8s.cluster import Kube
from tests.realk8s.differential.compare import REPORT, STATS, USED_PATTERNS, Differential, Known
from tests.realk8s.differential.worlds import World

SCENARIO = {
    "apiVersion": "sandbox.selfheal.dev/v1alpha1",
    "kind": "Scenario",
    "metadata": {"name": "differential"},
    "spec": {"capturedAt": "2026-01-01T12:00:00Z"},
}


@pytest.fixture(scope="session")
def real_cluster(request: pytest.FixtureRequest) -> Kube:
    d = os.environ.get("DIFF_K8S_DIR")
    if d:
        info = json.loads((Path(d) / "cluster.json").read_text())
        return Kube(Path(d), info["url"], Path(info["kubeconfig"]), Path(info["bin"]))
    kube: Kube = request.getfixturevalue("kube")
    return kube


@pytest.fixture(scope="session")
def known(request: pytest.FixtureRequest) -> Iterator[Known]:
    started = time.monotonic()
    k = Known.load()
    yield k
    STATS["seconds"] = round(time.monotonic() - started, 1)
    out = os.environ.get("DIFF_REPORT")
    if out:
        Path(out).write_text(json.dumps({"stats": STATS, "comparisons": REPORT}, indent=1))
    if _whole_suite_ran(
        request
    ):  # a pattern that matched nothing in a full run is stale: the list stays exact
        unused = [
            f"{p['id']} :: {'|'.join(p['differs'])}"
            for p in k.patterns
            if f"{p['id']} :: {'|'.join(p['differs'])}" not in USED_PATTERNS
        ]
        assert not unused, f"known-differences.yaml patterns that no difference matched: {unused}"


def _whole_suite_ran(request: pytest.FixtureRequest) -> bool:
    """Every test of every test_differential*.py module ran (no -k, -m or node selection left one out)."""
    session = request.session
    if getattr(request.config.option, "dist", "no") not in ("no", "loadgroup"):
        return False  # xdist spread the differential tests over workers: no one worker saw them all
    files = sorted(Path(__file__).parents[1].glob("test_differential*.py"))
    ran = {Path(str(i.fspath)) for i in session.items}
    return (
        all(f in ran for f in files)
        and not request.config.getoption("keyword")
        and not request.config.getoption("markexpr")
        and session.testsfailed == 0
        and all("::" not in a for a in request.config.args)
    )


def _namespace_name(test: str) -> str:
    base = "".join(c if c.isalnum() else "-" for c in test.lower())
    return ("d-" + base[:50]).strip("-").replace("--", "-") + "-" + uuid.uuid4().hex[:4]


def _token(kube: Kube, ns: str, name: str) -> str:
    return kube.kubectl("create", "token", "-n", ns, name, "--duration=1h").strip()


@pytest.fixture
def differential(real_cluster: Kube, known: Known, request: pytest.FixtureRequest) -> Iterator[Any]:
    made: list[tuple[Differential, Any]] = []

    def open_pair(rbac: Sequence[dict[str, Any]] = ()) -> Differential:
        assert not made, "one differential pair per test"
        ns = _namespace_name(request.node.name)
        docs = json.loads(
            json.dumps([{**d, "metadata": {**d["metadata"], "namespace": ns}} for d in rbac]).replace(
                "<ns>", ns
            )
        )
        rbac_file = Path(tempfile.mkdtemp(prefix="differential-rbac-")) / "rbac.yaml"
        rbac_file.write_text(yaml.safe_dump_all(docs))
        scenario = Path(tempfile.mkdtemp(prefix="differential-")) / "scenario.yaml"
        scenario.write_text(yaml.safe_dump(SCENARIO))
        cm = Sandbox.start(str(scenario), rbac_from=[rbac_file] if docs else [])
        sb = cm.__enter__()
        real = World(
            "real",
            real_cluster.url,
            real_cluster.kubeconfig,
            ns,
            ca_file=str(real_cluster.dir / "pki" / "ca.crt"),
            secure_url=real_cluster.url,
        )
        sandbox = World(
            "sandbox",
            sb.url,
            sb.kubeconfig,
            ns,
            advance=sb.advance,
            secure_url=sb.secure_url,
            ca_file=str(_ca_file(sb)),
        )
        sandbox.sandbox = sb  # type: ignore[attr-defined]
        d = Differential(real, sandbox, request.node.name, known)
        made.append((d, cm))
        if docs:  # the sandbox loaded them at start (namespace included); the real cluster gets them now
            real_cluster.kubectl("create", "namespace", ns)
            real_cluster.kubectl(
                "create", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": docs})
            )
            for doc in docs:
                if doc["kind"] == "ServiceAccount":
                    key = f"{ns}/{doc['metadata']['name']}"
                    real.tokens[key] = _token(real_cluster, ns, doc["metadata"]["name"])
                    sandbox.tokens[key] = _sandbox_token(sb, ns, doc["metadata"]["name"])
        else:
            d.http(
                "namespace-create",
                "POST",
                "/api/v1/namespaces",
                body={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}},
            )
        sb.advance(
            0
        )  # its controllers react to the new namespace (ServiceAccount, kube-root-ca.crt), as real ones
        real_cluster.wait(
            f"ServiceAccount {ns}/default", lambda: real_cluster.get("-n", ns, "serviceaccount", "default")
        )
        return d

    yield open_pair
    for d, cm in made:
        try:
            d.check()
        finally:
            cm.__exit__(None, None, None)
            subprocess.run(
                [
                    str(real_cluster.bin / "kubectl"),
                    "--kubeconfig",
                    str(real_cluster.kubeconfig),
                    "delete",
                    "namespace",
                    d.ns,
                    "--wait=false",
                ],
                capture_output=True,
            )


def _ca_file(sb: Sandbox) -> Path:
    path = Path(tempfile.mkdtemp(prefix="differential-ca-")) / "ca.crt"
    path.write_text(sb.cert.ca_pem if isinstance(sb.cert.ca_pem, str) else sb.cert.ca_pem.decode())
    return path


def _sandbox_token(sb: Sandbox, ns: str, name: str) -> str:
    cfg = yaml.safe_load(sb.kubeconfig.read_text())
    user = next(u for u in cfg["users"] if u["name"] == f"sa-{ns}-{name}")
    return str(user["user"]["token"])
