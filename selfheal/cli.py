"""Command line: `selfheal run|plan|history|hash|sandbox serve`. Only this module and `run.py` wire
clients, files and the clock together."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import __version__


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="selfheal", description="One-pass self-healing for a Kubernetes namespace.")
    p.add_argument("--version", action="version", version=f"selfheal {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    sandbox = sub.add_parser("sandbox", help="the Kubernetes API emulator")
    sandbox_sub = sandbox.add_subparsers(dest="sandbox_command", required=True)
    serve = sandbox_sub.add_parser("serve", help="serve a scenario on 127.0.0.1 until interrupted")
    serve.add_argument("--scenario", default="ea-plan-v5", help="a scenario file, or a bundled name")
    serve.add_argument("--port", type=int, default=0, help="0 picks a free port")
    serve.add_argument("--kubeconfig", default=None, help="where to write the kubeconfig (sandbox.kubeconfig)")
    serve.add_argument("--rbac-from", action="append", default=[], metavar="MANIFEST_FILE",
                       help="ServiceAccounts, Roles and RoleBindings to enforce (repeatable)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "sandbox" and args.sandbox_command == "serve":
        from .sandbox.serve import serve

        return serve(args.scenario, port=args.port, kubeconfig=args.kubeconfig, rbac_from=args.rbac_from)
    print(f"selfheal: unknown command {args.command}", file=sys.stderr)
    return 2
