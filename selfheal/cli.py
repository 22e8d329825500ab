"""Command line: `selfheal run|plan|history|hash`, and `selfheal sandbox ...` (an alias of `kubesandbox`).

Only this module and `run.py` wire clients, files and the clock together. Exit codes:
0 fine, 1 an action failed, 2 bad configuration or input (every invalid setting is printed, one line
each, before any API call; a bad kubeconfig, manifest, dump or history path is one line), 3 cluster
unreachable or unauthorised, 4 stopped early (SIGTERM, the pass deadline), 5 an internal error (a bug:
one line on stderr, never a traceback; the traceback is in the JSON log).
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from selfheal import __version__

IN_CLUSTER_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")


STARTED = time.monotonic()  # the pass deadline counts from the process start, as activeDeadlineSeconds does
EXIT_INTERNAL = 5


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (the command, what is wrong, where to look), exit 2. An
    unknown `--some-setting` that is an environment-only setting says which variable to set instead."""

    def error(self, message: str) -> Any:  # argparse's signature is NoReturn
        from selfheal.settings import ENV_PREFIX, FLAGS, Settings

        command = self.prog.removeprefix("selfheal").strip()
        hints = [
            f"{flag} is no flag: set {ENV_PREFIX}{field.upper()}"
            for flag in message.partition("unrecognized arguments:")[2].split()
            if flag.startswith("--")
            and (field := flag[2:].partition("=")[0].replace("-", "_")) in Settings.model_fields
            and field not in FLAGS
        ]
        where = f"{command}: " if command else ""
        hint = f"; {'; '.join(hints)}" if hints else ""
        self.exit(2, f"selfheal: {where}{message}{hint} (see `{self.prog} --help`)\n")


class _StopOnSignal:
    """SIGTERM (a node drain, the Job's activeDeadlineSeconds) or SIGINT during a pass: the current write
    finishes and is recorded, the rest is recorded as not attempted, the risk report is written, then the
    process exits (code 4). A second signal is the default action again: immediate termination."""

    def __init__(self) -> None:
        self.reason = ""
        self._previous = {sig: signal.signal(sig, self._handle) for sig in (signal.SIGTERM, signal.SIGINT)}

    def _handle(self, signum: int, _frame: object) -> None:
        self.reason = f"interrupted: {signal.Signals(signum).name} received"
        signal.signal(signum, signal.SIG_DFL)

    def __call__(self) -> str:
        return self.reason

    def restore(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


def _settings_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--namespace", "-n", help="namespace to heal (else SELFHEAL_NAMESPACE, in-cluster, kubeconfig)"
    )
    p.add_argument(
        "--kubeconfig", help="kubeconfig file (else in-cluster config, KUBECONFIG, ~/.kube/config)"
    )
    p.add_argument("--context", help="kubeconfig context")
    p.add_argument("--risk-file", help="where to write the risk report (SELFHEAL_RISK_FILE)")
    p.add_argument("--history-file", help="the append-only action history (SELFHEAL_HISTORY_FILE)")
    p.add_argument("--max-actions", type=int, help="writes per pass at most (SELFHEAL_MAX_ACTIONS)")
    p.add_argument("--pushgateway-url", help="Pushgateway to push metrics to (SELFHEAL_PUSHGATEWAY_URL)")
    p.add_argument("--prometheus-url", help="Prometheus for canary error rates (SELFHEAL_PROMETHEUS_URL)")
    p.add_argument("--log-format", help="json (default), console or off (SELFHEAL_LOG_FORMAT)")
    p.add_argument("--log-level", help="debug, info, warning, error (SELFHEAL_LOG_LEVEL)")
    p.add_argument(
        "--summary", action="store_true", help="print findings, actions and risk as tables at the end"
    )
    p.add_argument(
        "--from-dump",
        metavar="FILE",
        help="replay a `kubectl get ... -o yaml` dump in a sandbox and heal that instead of a cluster",
    )


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="selfheal", description="One-pass self-healing for a Kubernetes namespace.")
    p.add_argument("--version", action="version", version=f"selfheal {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="one healing pass over one namespace, then exit")
    run.add_argument(
        "--dry-run", action="store_true", help="send every write with dryRun=All; change nothing"
    )
    _settings_flags(run)
    plan = sub.add_parser("plan", help="the same pass in dry-run, printing the plan as a table")
    _settings_flags(plan)

    history = sub.add_parser("history", help="the last actions, from the history file")
    history.add_argument("-n", type=int, default=20, help="how many lines (default 20)")
    history.add_argument("--history-file", help="the history file (SELFHEAL_HISTORY_FILE)")

    hash_ = sub.add_parser("hash", help="config hash of the Deployment(s) in a manifest, for CI to stamp")
    hash_.add_argument("file", help="a YAML manifest (multi-document or List)")

    sub.add_parser(
        "sandbox",
        add_help=False,
        help="alias of `kubesandbox` (the API emulator, installed with the dev/test setup)",
    )
    return p


def _err(message: str) -> None:
    print(f"selfheal: {message}", file=sys.stderr)


def _overrides(args: argparse.Namespace, dry_run: bool) -> dict[str, Any]:
    from selfheal.settings import FLAGS

    out = {k: getattr(args, k) for k in FLAGS if k != "dry_run" and getattr(args, k, None) is not None}
    if dry_run:
        out["dry_run"] = True
    return out


class KubeconfigError(Exception):
    """The kubeconfig cannot be used; `str()` is one line naming the file."""


def _kubeconfig_path(kubeconfig: str | None) -> Path | None:
    """The one file the official loader will read, when it is one file (KUBECONFIG may list several)."""
    if kubeconfig:
        return Path(kubeconfig)
    env = os.environ.get("KUBECONFIG", "")
    if env and os.pathsep not in env:
        return Path(env)
    return None if env else Path("~/.kube/config").expanduser()


def _check_kubeconfig(path: Path, context: str | None) -> None:
    """What the official loader reports badly (a Python error about list indices, or nothing at all), said
    in one line: missing, unreadable, not text, not YAML, not a mapping, no such context."""
    import yaml

    try:
        raw = path.read_bytes()
    except OSError as exc:
        reason = "no such file" if isinstance(exc, FileNotFoundError) else (exc.strerror or str(exc)).lower()
        raise KubeconfigError(f"kubeconfig: {path}: {reason}") from None
    try:
        doc = yaml.safe_load(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise KubeconfigError(f"kubeconfig: {path}: not a text file") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise KubeconfigError(f"kubeconfig: {path}: not YAML{where}") from None
    if doc is None:
        raise KubeconfigError(f"kubeconfig: {path}: the file is empty")
    if not isinstance(doc, dict):
        kind = {"list": "a YAML list", "str": "a YAML string"}.get(type(doc).__name__, "a YAML scalar")
        raise KubeconfigError(
            f"kubeconfig: {path}: not a kubeconfig ({kind}; expected a mapping with clusters, contexts and users)"
        )
    names = [str(c.get("name")) for c in doc.get("contexts") or [] if isinstance(c, dict)]
    wanted = context or doc.get("current-context")
    known = f"it has: {', '.join(names)}" if names else "it has none"
    if not wanted:
        raise KubeconfigError(f"kubeconfig: {path}: no current-context; choose one with --context ({known})")
    if wanted not in names:
        raise KubeconfigError(f"kubeconfig: {path}: no context {wanted!r} ({known})")


def _api_client(kubeconfig: str | None, context: str | None) -> tuple[Any, str | None]:
    """The official client for this run, and the namespace of its kubeconfig context (if any).
    Raises KubeconfigError (one line) when the configuration cannot be used."""
    from kubernetes import client, config

    cfg = client.Configuration()
    if not kubeconfig and not context and os.environ.get("KUBERNETES_SERVICE_HOST"):
        try:
            config.load_incluster_config(client_configuration=cfg)
        except Exception as exc:  # the loader's ConfigException, or an unreadable token file
            raise KubeconfigError(f"in-cluster config: {' '.join(str(exc).split())[:300]}") from None
        return client.ApiClient(cfg), None
    path = _kubeconfig_path(kubeconfig)
    if path is not None:
        _check_kubeconfig(path, context)
    try:
        config.load_kube_config(config_file=kubeconfig, context=context, client_configuration=cfg)
    except Exception as exc:  # ConfigException, a missing certificate file, ...
        where = f"kubeconfig: {path}" if path is not None else "kubeconfig"
        raise KubeconfigError(f"{where}: {' '.join(str(exc).split())[:300]}") from None
    contexts, active = config.list_kube_config_contexts(config_file=kubeconfig)
    if context:
        active = next((c for c in contexts if c["name"] == context), active)
    return client.ApiClient(cfg), (active or {}).get("context", {}).get("namespace")


def _resolve_namespace(explicit: str | None, context_namespace: str | None) -> str | None:
    if explicit:
        return explicit
    if IN_CLUSTER_NAMESPACE.is_file():
        return IN_CLUSTER_NAMESPACE.read_text().strip() or None
    return context_namespace


def cmd_run(args: argparse.Namespace, dry_run: bool) -> int:
    if args.from_dump:
        return cmd_from_dump(args, dry_run)
    return _heal(args, dry_run)


def cmd_from_dump(args: argparse.Namespace, dry_run: bool) -> int:
    """`run`/`plan --from-dump FILE`: the same pass against a sandbox replaying the dump."""
    from selfheal import replay

    if args.kubeconfig or args.context:
        _err("--from-dump replays the dump in a sandbox of its own: drop --kubeconfig/--context")
        return 2
    work = replay.workdir()
    try:
        dump = replay.inspect(args.from_dump, args.namespace, work)
        args.namespace = dump.namespace
        args.history_file = args.history_file or str(work / "logs/rollback-history.log")
        args.risk_file = args.risk_file or str(work / "aiops/risk-prediction.json")
        with replay.sandbox(dump, work) as kubeconfig:
            args.kubeconfig = str(kubeconfig)
            return _heal(args, dry_run, after=None if dry_run else replay.healed_state)
    except replay.DumpError as exc:
        _err(str(exc))
        return 2


def _heal(args: argparse.Namespace, dry_run: bool, after: Callable[[Any, str], str] | None = None) -> int:
    from selfheal.context import PassContext
    from selfheal.kube.transport import Transport
    from selfheal.logs import bind_run, configure
    from selfheal.reporting import text
    from selfheal.run import EXIT_CONFIG, Status, run_pass
    from selfheal.settings import load_settings

    settings, problems = load_settings(_overrides(args, dry_run))
    if settings is None or problems:
        for line in problems:
            _err(line)
        return EXIT_CONFIG
    configure(settings.log_level, settings.log_format)
    try:
        api_client, context_ns = _api_client(args.kubeconfig, args.context)
    except KubeconfigError as exc:  # a missing or malformed kubeconfig is configuration, not the cluster
        _err(str(exc))
        return EXIT_CONFIG
    namespace = _resolve_namespace(settings.namespace, context_ns)
    if not namespace:
        _err(
            "namespace: not set (use --namespace, SELFHEAL_NAMESPACE, or a kubeconfig context with a namespace)"
        )
        return EXIT_CONFIG
    run_id = uuid.uuid4().hex
    bind_run(run_id, namespace)
    identity = f"{os.environ.get('HOSTNAME') or socket.gethostname()}/{run_id[:12]}"
    transport = Transport.over(api_client, deadline=STARTED + settings.pass_deadline_seconds)
    stop = _StopOnSignal()
    try:
        result = run_pass(
            PassContext.from_settings(
                settings, namespace, transport, run_id=run_id, identity=identity, stop=stop
            )
        )
    finally:
        stop.restore()
    if result.status is Status.CLUSTER_ERROR:
        _err(f"cluster: {result.detail}")
    elif result.status is Status.NOT_RECORDABLE:
        _err(f"cannot record: {result.detail}")
    elif result.status is Status.INTERRUPTED:
        _err(f"stopped early: {result.detail} (what was done is recorded)")
    if settings.dry_run and result.plan is not None:
        print(text.plan_table(result.plan))
    if args.summary or after is not None:
        print(
            f"\n== pass over namespace {namespace}: {result.status}"
            f"{' (dry-run)' if settings.dry_run else ''}, exit {result.exit_code}"
        )
        if result.status is Status.LEASE_HELD:
            print(f"another run holds the Lease ({result.detail}); nothing was done")
        print("\nfindings:\n" + text.findings_table(result.findings))
        if result.outcomes or result.plan is not None:
            print("\nactions:\n" + text.outcomes_table(result.outcomes))
        if result.risk is not None:
            print("\n" + text.risk_line(result.risk))
    if after is not None and result.status is not Status.CLUSTER_ERROR:
        print("\n== the namespace after the pass\n" + after(transport, namespace))
    return result.exit_code


def cmd_history(args: argparse.Namespace) -> int:
    from selfheal.reporting.history import last_entries
    from selfheal.reporting.text import history_table
    from selfheal.settings import load_settings

    overrides = {"history_file": args.history_file} if args.history_file is not None else {}
    settings, problems = load_settings(overrides)
    if settings is None or problems:
        for line in problems:
            _err(line)
        return 2
    if args.n < 0:
        _err(f"history: -n {args.n}: give 0 or more lines")
        return 2
    path = settings.history_file
    unreadable = _unreadable_history(path)
    if unreadable:
        _err(unreadable)
        return 2
    read = last_entries(path, args.n)
    for problem in read.problems[:3]:
        _err(f"{path}: the line at byte {problem.offset} does not parse, left out: {problem.error}")
    if len(read.problems) > 3:
        _err(f"{path}: {len(read.problems) - 3} more lines do not parse, left out")
    print(history_table(read.entries))
    return 0


def _unreadable_history(path: Path) -> str:
    """Why the history at `path` cannot be read ("" when it can, or when there is none yet)."""
    import stat

    try:
        mode = path.stat().st_mode
        if stat.S_ISDIR(mode):
            return f"{path}: is a directory, not the history file"
        if not stat.S_ISREG(mode):
            return f"{path}: is not a regular file (a device, a pipe or a socket)"
        with path.open("rb"):
            return ""
    except FileNotFoundError:
        return ""  # no history yet: an empty table
    except OSError as exc:
        return f"{path}: cannot be read: {(exc.strerror or str(exc)).lower()}"


def cmd_hash(args: argparse.Namespace) -> int:
    from selfheal.confighash import ConfigHashError, hash_manifest

    try:
        hashes = hash_manifest(args.file)
    except (ConfigHashError, OSError) as exc:
        _err(" ".join(str(exc).split()))
        return 2
    except UnicodeDecodeError:
        _err(f"{args.file}: not a YAML manifest (not UTF-8 text)")
        return 2
    except (
        ValueError,
        TypeError,
        AttributeError,
    ) as exc:  # YAML that is no manifest (e.g. a list of strings)
        _err(f"{args.file}: not a Kubernetes manifest ({' '.join(str(exc).split())[:200]})")
        return 2
    if not hashes:
        _err(f"{args.file}: no Deployment in the manifest")
        return 2
    for h in hashes:
        print(f"{h.name}\t{h.config_hash}" + (f"\t{h.config_checksum}" if h.config_checksum else ""))
    return 0


def sandbox_alias(argv: Sequence[str]) -> int:
    """`selfheal sandbox ARGS` is `kubesandbox ARGS`, in this process's place (same pid, so signals reach it).

    The job never imports the sandbox: it is a separate package, absent from the production image.
    """
    import importlib.util

    if importlib.util.find_spec("kubesandbox") is None:
        _err(
            "sandbox: the kubesandbox package is not installed (it ships with the dev/test setup: "
            "`make venv`, or `pip install -e ./kubesandbox`)"
        )
        return 2
    sys.stdout.flush()
    sys.stderr.flush()
    env = {**os.environ, "KUBESANDBOX_PROG": "selfheal sandbox"}
    os.execve(sys.executable, [sys.executable, "-m", "kubesandbox", *argv], env)
    return 2  # not reached


def main(argv: Sequence[str] | None = None) -> int:
    """The command's exit code; an unexpected exception (a bug) is one line on stderr and exit 5, its
    traceback in the JSON log on stdout, never on the terminal's stderr."""
    try:
        return _main(argv)
    except KeyboardInterrupt:
        _err("interrupted")
        return 130
    except Exception as exc:
        import structlog

        structlog.get_logger("selfheal.cli").exception("internal_error")
        _err(
            f"internal error (a bug, please report it): {type(exc).__name__}: {' '.join(str(exc).split())[:300]}"
        )
        return EXIT_INTERNAL


def _main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["sandbox"]:
        return sandbox_alias(argv[1:])
    args = _parser().parse_args(argv)
    if args.command == "run":
        return cmd_run(args, dry_run=args.dry_run)
    if args.command == "plan":
        return cmd_run(args, dry_run=True)
    if args.command == "history":
        return cmd_history(args)
    if args.command == "hash":
        return cmd_hash(args)
    _err(f"unknown command {args.command}")
    return 2


def entrypoint() -> None:
    """The console script: run, flush, and leave without tearing the decoded namespace down object by
    object (0.2-0.3 s of a 20,000-pod pass, `make bench`). Every file the pass writes is complete by then:
    the history is one `os.write`, the risk report an fsync-ed rename."""
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
