"""`selfheal sandbox serve`: run the emulator until SIGINT/SIGTERM, for people and scripts using kubectl."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from .sandbox import Sandbox
from .scenario import ScenarioError, load_scenario


def serve(scenario: str, *, port: int = 0, kubeconfig: str | None = None,
          rbac_from: Sequence[str] = ()) -> int:
    try:
        loaded = load_scenario(scenario)
    except ScenarioError as exc:
        print(f"selfheal sandbox: {exc}", file=sys.stderr)
        return 2
    for path in rbac_from:
        if not Path(path).is_file():
            print(f"selfheal sandbox: --rbac-from {path}: no such file", file=sys.stderr)
            return 2
    try:
        sb = Sandbox(loaded, rbac_from=rbac_from, wall_clock=True, port=port,
                     kubeconfig=kubeconfig or "sandbox.kubeconfig")
    except ScenarioError as exc:
        print(f"selfheal sandbox: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"selfheal sandbox: cannot listen on 127.0.0.1:{port}: {exc.strerror}", file=sys.stderr)
        return 2
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    sb.serve()
    print(f"sandbox ready: {sb.url} kubeconfig={sb.kubeconfig}", flush=True)
    try:
        stop.wait()
    finally:
        sb.close()
    return 0
