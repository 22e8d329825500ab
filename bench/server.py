"""The benchmark namespace served by the sandbox in its own process, so a measured job's CPU and RSS are its own.

    python -m bench.server --pods 20000 --kubeconfig FILE    # prints one JSON line when serving

Objects go straight into the Sandbox's store (`Store.load`), not through a scenario file: parsing and
validating 150 MB of YAML would take minutes, while the store holds and serves exactly the same objects.
The clock is frozen (not `serve`'s wall clock), so no controller ever runs: the namespace stays exactly as
built, and the sandbox spends no CPU between requests. Every object's JSON is rendered before the ready line,
as a real API server's watch cache is warm, so the first list measured is not the one that pays for it.

The process stops when its stdin closes (the parent exits or closes it) or on SIGTERM.

The parent side is `Server`: a context manager that starts the process and reads its ready line. It imports
nothing from `selfheal`, so the benchmark runner stays small (see `bench.measure` for why that matters).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

READY_TIMEOUT_SECONDS = 300


class _FastCopy(dict[str, object]):
    """A JSON object whose deep copy is a msgspec round trip: `Store.load` deep-copies what it stores, and
    `copy.deepcopy` of 20,000 7 KB pods takes ~9 s of the server's start; this takes well under one."""

    def __deepcopy__(self, memo: dict[int, object]) -> dict[str, object]:
        import msgspec

        copied: dict[str, object] = msgspec.json.decode(msgspec.json.encode(self))
        return copied


def main(argv: Sequence[str] | None = None) -> int:
    from bench.fixtures import NAMESPACE, namespace_objects
    from kubesandbox.resources import resource_for_kind
    from kubesandbox.serve.sandbox import ADMIN_TOKEN, Sandbox
    from kubesandbox.serve.scenario import parse_scenario
    from kubesandbox.store import dumps

    p = argparse.ArgumentParser(prog="python -m bench.server")
    p.add_argument("--pods", type=int, required=True)
    p.add_argument("--kubeconfig", required=True)
    args = p.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))

    gc.disable()  # building ~8 million containers: the cyclic GC would rescan the growing heap again and again
    t0 = time.perf_counter()
    objects = namespace_objects(args.pods)
    t_built = time.perf_counter()
    scenario = parse_scenario(
        f"apiVersion: v1\nkind: Namespace\nmetadata: {{name: {NAMESPACE}}}\n", source="bench", name=NAMESPACE
    )
    sb = Sandbox(scenario, kubeconfig=args.kubeconfig)
    types = set()
    for obj in objects:
        rt = resource_for_kind(obj["apiVersion"], obj["kind"])
        if rt is None:
            raise SystemExit(f"bench.server: no sandbox resource for {obj['apiVersion']}/{obj['kind']}")
        meta = obj["metadata"]
        if (
            sb.store.peek(rt, meta.get("namespace"), meta["name"]) is None
        ):  # kube-root-ca.crt: the sandbox's own
            sb.store.load(rt, _FastCopy(obj))
        types.add(rt)
    for rt in types:  # render every object's bytes now (Store renders lazily, on first list or get)
        sb.store.list_page(rt, NAMESPACE)
    gc.freeze()  # what is loaded now lives until the end: keep it out of later collections
    gc.enable()
    t_loaded = time.perf_counter()
    sb.serve()
    pods = [o for o in objects if o["kind"] == "Pod"]
    print(
        json.dumps(
            {
                "url": sb.url,
                "kubeconfig": str(sb.kubeconfig),
                "token": ADMIN_TOKEN,
                "namespace": NAMESPACE,
                "pods": len(pods),
                "objects": len(objects),
                "pod_bytes": sum(len(dumps(o)) for o in pods[:200]) / min(200, len(pods)),
                "build_seconds": t_built - t0,
                "load_seconds": t_loaded - t_built,
            }
        ),
        flush=True,
    )
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # nothing else goes to the parent's pipe (it is not read after the ready line)
    try:
        sys.stdin.read()  # until the parent closes our stdin
    finally:
        sb.close()
    return 0


@dataclass(frozen=True)
class Ready:
    url: str
    kubeconfig: str
    token: str
    namespace: str
    pods: int
    objects: int
    pod_bytes: float
    build_seconds: float
    load_seconds: float


class Server:
    """`with Server(pods, workdir, env) as srv:` a served benchmark namespace; `srv.ready` says where."""

    def __init__(self, pods: int, workdir: Path, env: dict[str, str]) -> None:
        self._pods, self._workdir, self._env = pods, workdir, env
        self._proc: subprocess.Popen[bytes] | None = None
        self.ready: Ready | None = None

    def __enter__(self) -> Server:
        err = open(self._workdir / "server.stderr", "wb")
        self._proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.server",
                "--pods",
                str(self._pods),
                "--kubeconfig",
                str(self._workdir / "bench.kubeconfig"),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=err,
            cwd=self._workdir,
            env=self._env,
        )
        err.close()
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()  # the server prints nothing before its ready line
        if not line:
            self._proc.wait(timeout=READY_TIMEOUT_SECONDS)
            tail = (self._workdir / "server.stderr").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"bench.server exited {self._proc.returncode} before serving:\n{tail}")
        self.ready = Ready(**json.loads(line))
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._proc is None:
            return
        if self._proc.stdin is not None:
            self._proc.stdin.close()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()

    @property
    def pid(self) -> int:
        assert self._proc is not None
        return self._proc.pid

    def cpu_seconds(self) -> float:
        """CPU (user + system) the server process has used so far (Linux /proc)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


if __name__ == "__main__":
    sys.exit(main())
