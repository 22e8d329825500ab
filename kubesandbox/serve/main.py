"""`kubesandbox serve`: run the emulator until SIGINT/SIGTERM, for people and scripts using kubectl.

`selfheal sandbox serve ...` is an alias kept for the scripts and docs that use it: the job's CLI
replaces its own process with `python -m kubesandbox ...` (the job never imports the sandbox), and
`KUBESANDBOX_PROG` makes the messages name the command the user typed.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from kubesandbox.apiserver.faults import Fault, parse_fault
from kubesandbox.serve.sandbox import Sandbox
from kubesandbox.serve.scenario import ScenarioError, load_scenario

PROG_ENV = "KUBESANDBOX_PROG"


def _prog() -> str:
    return os.environ.get(PROG_ENV) or "kubesandbox"


def _err(message: str) -> None:
    print(f"{_prog()}: {message}", file=sys.stderr)


def _faults(specs: Sequence[str]) -> list[Fault] | None:
    faults = []
    for spec in specs:
        try:
            faults.append(parse_fault(spec))
        except ValueError as exc:
            _err(f"--fault {spec}: {exc}")
            return None
    return faults


def _write_request_log(path: str, sb: Sandbox) -> None:
    """Every request the API server handled, one JSON object a line (faulted ones that never reached it are
    not there: a status fault answers before, a dropped request is never handled)."""
    with open(path, "w", encoding="utf-8") as fh:
        for r in sb.requests:
            fh.write(
                json.dumps(
                    {
                        "method": r.method,
                        "path": r.path,
                        "query": r.query,
                        "user": r.user,
                        "status": r.status,
                        "fieldManager": r.field_manager,
                    }
                )
                + "\n"
            )


def serve(
    scenario: str,
    *,
    port: int = 0,
    kubeconfig: str | None = None,
    rbac_from: Sequence[str] = (),
    faults: Sequence[str] = (),
    log_requests: str | None = None,
) -> int:
    rules = _faults(faults)
    if rules is None:
        return 2
    if log_requests is not None:
        try:
            open(log_requests, "w").close()  # proves it can be written, before serving
        except OSError as exc:
            _err(f"--log-requests {log_requests}: {exc.strerror or exc}")
            return 2
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
    for rule in rules:
        sb.faults.add(rule)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    sb.serve()
    print(f"sandbox ready: {sb.url} kubeconfig={sb.kubeconfig}", flush=True)
    try:
        stop.wait()
    finally:
        sb.close()
        if log_requests is not None:
            _write_request_log(log_requests, sb)
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
    s.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="METHOD:PATH_REGEX:SPEC",
        help="inject a fault (repeatable): SPEC is a status (503, 429:retry-after=2), delay=SECONDS or drop, "
        "with times=N (default 1), e.g. PATCH:/deployments/:delay=0.5,times=1000",
    )
    s.add_argument(
        "--log-requests",
        metavar="FILE",
        default=None,
        help="on exit, write every request the API server handled to FILE (JSON Lines)",
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return serve(
        args.scenario,
        port=args.port,
        kubeconfig=args.kubeconfig,
        rbac_from=args.rbac_from,
        faults=args.fault,
        log_requests=args.log_requests,
    )


def entrypoint() -> None:
    sys.exit(main())
