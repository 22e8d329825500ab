"""The harness of sandbox worlds: a Sandbox started over a few objects from `tests.builders`.

with running(deployment("web", image="shop/web:1", replicas=3)) as sb:
    sb.advance(30)   # controllers roll the Deployment out
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from kubesandbox import Sandbox
from tests.builders import namespace

Obj = dict[str, Any]


def captured_at(moment: str = "2026-01-01T12:00:00Z") -> Obj:
    """The Scenario document that anchors a world in time (kubesandbox/serve/scenario/timeline.py)."""
    return {
        "apiVersion": "sandbox.selfheal.dev/v1alpha1",
        "kind": "Scenario",
        "metadata": {"name": "world"},
        "spec": {"capturedAt": moment},
    }


def write_world(*docs: Obj, path: Path | None = None) -> Path:
    """A scenario file of these documents. Test worlds are written around the sandbox's epoch
    (2026-01-01T12:00:00Z), so they say so, unless they carry a Scenario document of their own."""
    if path is None:
        path = Path(tempfile.mkdtemp(prefix="world-")) / "world.yaml"
    if not any(d.get("kind") == "Scenario" for d in docs):
        docs = (captured_at(), *docs)
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False))
    return path


@contextlib.contextmanager
def running(*docs: Obj, settle: float = 0, **kwargs: Any) -> Iterator[Sandbox]:
    """Start a sandbox over these objects (a Namespace is added when missing); advance `settle` s."""
    if not any(d.get("kind") == "Namespace" for d in docs):
        docs = (namespace(), *docs)
    with Sandbox.start(str(write_world(*docs)), **kwargs) as sb:
        if settle:
            sb.advance(settle)
        yield sb
