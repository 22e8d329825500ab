"""`kubesandbox serve`: run the emulator until SIGINT/SIGTERM, for people and scripts using kubectl.

`selfheal sandbox serve ...` is an alias kept for the scripts and docs that use it: the job's CLI
replaces its own process with `python -m kubesandbox ...` (the job never imports the sandbox), and
`KUBESANDBOX_PROG` makes the messages name the command the user typed.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from kubesandbox.serve.sandbox import Sandbox
from kubesandbox.serve.scenario import ScenarioError, load_scenario

PROG_ENV = "KUBESANDBOX_PROG"


def _prog() -> str:
    return os.environ.get(PROG_ENV) or "kubesandbox"


def _err(message: str) -> None:
    print(f"{_prog()}: {message}", file=sys.stderr)


def serve(
    scenario: str, *, port: int = 0, kubeconfig: str | None = None, rbac_from: Sequence[str] = ()
) -> int:
    try:
        loaded = load_scenario(scenario)
    except ScenarioError as exc:
        _err(str(exc))
        return 2
    for path in rbac_from:
        if not Path(path).is_file():
            _err(f"--rbac-from {path}: no such file")
            return 2
    try:
        sb = Sandbox(
            loaded,
            rbac_from=rbac_from,
            wall_clock=True,
            port=port,
            kubeconfig=kubeconfig or "sandbox.kubeconfig",
        )
    except ScenarioError as exc:
        _err(str(exc))
        return 2
    except OSError as exc:
        _err(f"cannot listen on 127.0.0.1:{port}: {exc.strerror}")
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


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=_prog(), description="A Kubernetes API server emulator for kubectl and clients."
    )
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve", help="serve a scenario on 127.0.0.1 until interrupted")
    s.add_argument("--scenario", default="ea-plan-v5", help="a scenario file, or a bundled name")
    s.add_argument("--port", type=int, default=0, help="0 picks a free port")
    s.add_argument("--kubeconfig", default=None, help="where to write the kubeconfig (sandbox.kubeconfig)")
    s.add_argument(
        "--rbac-from",
        action="append",
        default=[],
        metavar="MANIFEST_FILE",
        help="ServiceAccounts, Roles and RoleBindings to enforce (repeatable)",
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return serve(args.scenario, port=args.port, kubeconfig=args.kubeconfig, rbac_from=args.rbac_from)


def entrypoint() -> None:
    sys.exit(main())
