"""Copy the real v1.37.2 apiserver's OpenAPI v3 documents for the group versions the sandbox serves into
kubesandbox/apiserver/openapi/ (gzipped, byte for byte), so kubectl's client-side validation (`create -f`,
`apply -f`) and `kubectl explain` work against the sandbox.

    tools/k8s/cluster up --dir /tmp/k8s --detach
    .venv/bin/python -m tests.realk8s.differential.capture_openapi /tmp/k8s/kubeconfig

tests/realk8s/test_differential_reads.py::test_openapi holds the copies to the running server.
"""

from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path

from kubesandbox.apiserver.openapi import DATA, GROUP_VERSIONS, file_for

KUBECTL = Path(__file__).resolve().parents[3] / ".tools" / "k8s" / "v1.37.2" / "bin" / "kubectl"


def main(kubeconfig: str) -> None:
    for gv in GROUP_VERSIONS:
        raw = subprocess.run(
            [str(KUBECTL), "--kubeconfig", kubeconfig, "get", "--raw", f"/openapi/v3/{gv}"],
            check=True,
            capture_output=True,
        ).stdout
        (DATA / file_for(gv)).write_bytes(gzip.compress(raw, mtime=0))
        print(f"{gv}: {len(raw)} bytes")


if __name__ == "__main__":
    main(sys.argv[1])
