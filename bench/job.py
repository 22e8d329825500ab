"""One measured client process: `python -m bench.job MODE --result FILE [options]`.

Each mode is what one line of the report measures, run in a fresh interpreter so its CPU and memory are its
own (the sandbox serves from another process):

- `startup`  imports what `selfheal run` imports, then exits: the floor every run pays before any request;
- `cli`      `selfheal run --dry-run --log-format off` over the namespace: the whole pass, as the CronJob's
             container runs it (the CLI's `main`, called in-process so the result file can be written);
- `snapshot` `selfheal.snapshot.read_snapshot` only: every list, decoded into msgspec Structs (decode floor);
- `typed`    the official client's typed models: `CoreV1Api.list_namespaced_pod`, 500 a page, all kept;
- `raw`      urllib3 pages through the pods without decoding them: how fast the sandbox serves.

The result file is one JSON object: the mode's own figures plus `vm_hwm_kib`, the process's peak resident
set read from /proc/self/status. That, not `ru_maxrss`, is the peak RSS the report prints: Linux carries the
parent's high-water mark into `ru_maxrss` across fork/vfork + exec, so a child of a large parent would
report the parent's size (see `bench.measure`).
"""

from __future__ import annotations

import time

_CPU_AT_START = time.process_time()  # interpreter start-up up to here: counted in `imports`

import argparse  # noqa: E402 - after the first clock reading, on purpose
import functools  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402


def vm_hwm_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def _api_client(kubeconfig: str) -> Any:
    from kubernetes import client, config

    cfg = client.Configuration()
    config.load_kube_config(config_file=kubeconfig, client_configuration=cfg)
    return client.ApiClient(cfg)


def _quiet_logs() -> None:
    from selfheal.logs import configure

    configure("info", "off")  # what `--log-format off` sets up for `cli`


def _imports_run() -> None:
    import kubernetes.client
    import kubernetes.config  # noqa: F401

    import selfheal.cli
    import selfheal.run  # noqa: F401


class Phases:
    """CPU per phase of the pass, measured by wrapping a few named functions (exclusive time: a wrapped call
    inside another is not counted twice). A few hundred calls are wrapped in all, so the overhead is far
    below what it measures; cProfile, by contrast, triples the pass and blames the wrong places."""

    def __init__(self) -> None:
        self.totals: dict[str, float] = {}
        self._stack: list[float] = []
        self.gc: dict[str, float] = {}  # cyclic GC time inside each phase (included in its total)
        self._labels: list[str] = []
        self._gc_started = 0.0
        gc.callbacks.append(self._on_gc)

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._gc_started = time.process_time()
        else:
            label = self._labels[-1] if self._labels else "other"
            self.gc[label] = self.gc.get(label, 0.0) + time.process_time() - self._gc_started

    def wrap(self, label: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def timed(*a: Any, **k: Any) -> Any:
            t0 = time.process_time()
            self._stack.append(0.0)
            self._labels.append(label)
            try:
                return fn(*a, **k)
            finally:
                self._labels.pop()
                inner = self._stack.pop()
                spent = time.process_time() - t0
                self.totals[label] = self.totals.get(label, 0.0) + spent - inner
                if self._stack:
                    self._stack[-1] += spent

        return timed

    def patch(self, owner: Any, attr: str, label: str) -> None:
        fn = getattr(owner, attr, None)
        if callable(fn):  # a renamed function is simply not broken out (it lands in "other")
            setattr(owner, attr, self.wrap(label, fn))


def _instrument() -> Phases:
    """Wrap the phases of `selfheal run` in the modules that call them."""
    import kubernetes.client

    import selfheal.cli
    import selfheal.kube.transport
    import selfheal.reporting.record
    import selfheal.run
    import selfheal.settings
    import selfheal.snapshot.reader

    ph = Phases()
    lazy = vars(kubernetes.client).get("__getattr__")
    if callable(lazy):  # the client imports its API classes (and the typed models they name) on first use
        vars(kubernetes.client)["__getattr__"] = ph.wrap(
            "kubernetes lazy imports (API classes, their models)", lazy
        )
    ph.patch(selfheal.settings, "load_settings", "settings")
    ph.patch(selfheal.cli, "_api_client", "kubeconfig + ApiClient")
    ph.patch(selfheal.run, "_suspended", "CronJob read (suspension)")
    ph.patch(selfheal.kube.transport.Transport, "request", "HTTP requests (urllib3)")
    ph.patch(selfheal.snapshot.reader, "decode_page", "decode pages (msgspec Structs)")
    ph.patch(selfheal.snapshot.reader, "checksums_of", "ConfigMap checksums")
    ph.patch(selfheal.run, "read_snapshot", "read_snapshot (rest)")
    ph.patch(selfheal.run, "read_canary_signals", "canary signals")
    ph.patch(selfheal.run, "run_detectors", "detectors")
    ph.patch(selfheal.run, "read_history", "history read")
    import selfheal.reporting.store

    ph.patch(selfheal.reporting.store.HistoryStore, "window", "history window read")
    ph.patch(selfheal.reporting.store.HistoryStore, "close_pass", "history append + counters")
    ph.patch(selfheal.run, "plan", "plan")
    ph.patch(selfheal.run, "log_plan", "plan")
    ph.patch(selfheal.run.Executor, "execute", "execute (dry-run writes)")
    ph.patch(selfheal.reporting.record, "append_history", "history append")
    ph.patch(selfheal.reporting.record, "write_risk_report", "risk report")
    ph.patch(selfheal.reporting.record, "build_risk_report", "risk report")
    return ph


def _imports_typed() -> None:
    import kubernetes.client  # noqa: F401


def _imports_raw() -> None:
    import urllib3  # noqa: F401


def _startup(args: argparse.Namespace) -> dict[str, Any]:
    return {}


def _cli(args: argparse.Namespace) -> dict[str, Any]:
    from selfheal.cli import main

    phases = _instrument() if args.phases else None
    t0 = time.process_time()
    work = Path(args.workdir)
    if args.history_max_bytes:
        os.environ["SELFHEAL_HISTORY_MAX_BYTES"] = str(args.history_max_bytes)
    code = main(
        [
            "run",
            "--dry-run",
            "--kubeconfig",
            args.kubeconfig,
            "--namespace",
            args.namespace,
            "--log-format",
            "off",
            "--risk-file",
            str(work / "risk.json"),
            "--history-file",
            args.history_file or str(work / "history.log"),
        ]
    )
    out: dict[str, Any] = {"exit_code": code}
    if phases is not None:
        total = time.process_time() - t0
        out["phases"] = {**phases.totals, "other": total - sum(phases.totals.values())}
        out["gc"] = phases.gc
    return out


def _snapshot(args: argparse.Namespace) -> dict[str, Any]:
    from selfheal.kube.transport import Transport
    from selfheal.snapshot import read_snapshot

    _quiet_logs()
    snap = read_snapshot(Transport.over(_api_client(args.kubeconfig)), args.namespace)
    return {
        "pods": len(snap.pods),
        "deployments": len(snap.deployments),
        "replicasets": len(snap.replicasets),
    }


def _typed(args: argparse.Namespace) -> dict[str, Any]:
    from kubernetes import client

    core = client.CoreV1Api(_api_client(args.kubeconfig))
    items: list[Any] = []
    token: str | None = None
    while True:
        page = core.list_namespaced_pod(args.namespace, limit=500, _continue=token)
        items.extend(page.items)
        token = page.metadata._continue if page.metadata is not None else None
        if not token or (args.max_pods and len(items) >= args.max_pods):
            break
    return {"pods": len(items)}


def _raw(args: argparse.Namespace) -> dict[str, Any]:
    import urllib3

    http = urllib3.PoolManager()
    headers = {"Authorization": f"Bearer {args.token}", "Accept": "application/json"}
    rounds: list[float] = []
    pods = total_bytes = 0
    for _ in range(args.rounds):
        t0 = time.perf_counter()
        token, pods, total_bytes = "", 0, 0
        while True:
            url = f"{args.url}/api/v1/namespaces/{args.namespace}/pods?limit=500" + (
                f"&continue={token}" if token else ""
            )
            data = http.request("GET", url, headers=headers).data
            total_bytes += len(data)
            # the continue token sits in the list metadata, before the items: no need to decode 3.5 MB
            head = data[:1000].decode(errors="replace").split(',"items":[', 1)[0] + "}"
            token = json.loads(head).get("metadata", {}).get("continue", "")
            # list items carry no kind (as on a real apiserver); each opens with its metadata, the list's
            # own metadata follows its apiVersion (",") and so is not counted
            pods += data.count(b'{"metadata":{')
            if not token:
                break
        rounds.append(time.perf_counter() - t0)
    return {"pods": pods, "bytes": total_bytes, "rounds": rounds}


MODES: dict[str, tuple[Callable[[], None], Callable[[argparse.Namespace], dict[str, Any]]]] = {
    "startup": (_imports_run, _startup),
    "cli": (_imports_run, _cli),
    "snapshot": (_imports_run, _snapshot),
    "typed": (_imports_typed, _typed),
    "raw": (_imports_raw, _raw),
}


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.job")
    p.add_argument("mode", choices=sorted(MODES))
    p.add_argument("--result", required=True)
    p.add_argument("--kubeconfig", default="")
    p.add_argument("--namespace", default="")
    p.add_argument("--workdir", default=".")
    p.add_argument("--url", default="")
    p.add_argument("--token", default="")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument(
        "--max-pods", type=int, default=0, help="typed: stop after the page that reaches this many"
    )
    p.add_argument("--profile", default="", help="write cProfile stats of the work phase to this file")
    p.add_argument("--phases", action="store_true", help="cli: CPU per phase of the pass (see Phases)")
    p.add_argument("--history-file", default="", help="cli: the history file (default WORKDIR/history.log)")
    p.add_argument("--history-max-bytes", type=int, default=0, help="cli: SELFHEAL_HISTORY_MAX_BYTES")
    args = p.parse_args(argv)
    imports, work = MODES[args.mode]
    imports()
    cpu_imports = time.process_time()
    wall = time.perf_counter()
    if args.profile:
        import cProfile

        prof = cProfile.Profile()
        out = prof.runcall(work, args)
        prof.dump_stats(args.profile)
    else:
        out = work(args)
    wall = time.perf_counter() - wall
    cpu_end = time.process_time()
    ru = resource.getrusage(resource.RUSAGE_SELF)
    out.update(
        vm_hwm_kib=vm_hwm_kib(),
        maxrss_kib=ru.ru_maxrss,
        cpu_imports=cpu_imports,
        cpu_start=_CPU_AT_START,
        cpu_work=cpu_end - cpu_imports,
        wall_work=wall,
        cpu_end=time.process_time(),
    )
    Path(args.result).write_text(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
