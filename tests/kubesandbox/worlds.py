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


def write_world(*docs: Obj, path: Path | None = None) -> Path:
    if path is None:
        path = Path(tempfile.mkdtemp(prefix="world-")) / "world.yaml"
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
