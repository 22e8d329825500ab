"""Run one `bench.job` process and measure it from the outside: CPU (user + system) from `os.wait4`, wall time,
and the peak RSS the process reports of itself (VmHWM).

Why not `ru_maxrss` for memory: Linux copies the parent's RSS high-water mark into a child at exec
(`setmax_mm_hiwater_rss` of the old mm, which for CPython's vfork-based spawn *is* the parent's), so a
child's `ru_maxrss` is at least as large as its parent's peak. The runner stays small (it never imports
`selfheal` or holds pods), and each job reports VmHWM, which counts only its own image; `ru_maxrss` is kept
in the record so the two can be compared.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .server import Ready, Server

REPO = Path(__file__).resolve().parent.parent
MIB = 1024 * 1024


def child_env() -> dict[str, str]:
    """The runner's environment minus anything that would change what `selfheal run` does."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SELFHEAL_") and k != "KUBECONFIG"}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    env.pop("PYTHONPROFILEIMPORTTIME", None)
    return env


@dataclass(frozen=True)
class Run:
    cpu: float  # user + system seconds of the whole process (interpreter start-up included)
    wall: float  # seconds, spawn to exit
    peak_rss: float  # bytes (VmHWM)
    info: dict[str, Any] = field(default_factory=dict)  # what the job reported

    @property
    def cpu_imports(self) -> float:
        return float(self.info.get("cpu_imports", 0.0))

    @property
    def cpu_work(self) -> float:
        return float(self.info.get("cpu_work", 0.0))


class JobFailed(RuntimeError):
    pass


def run_job(mode: str, workdir: Path, *args: str, tag: str = "") -> Run:
    """`python -m bench.job MODE ...` in `workdir`, its output kept in `workdir/<mode><tag>.out|.err`."""
    name = f"{mode}{tag}"
    result = workdir / f"{name}.json"
    result.unlink(missing_ok=True)
    with open(workdir / f"{name}.out", "wb") as out, open(workdir / f"{name}.err", "wb") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.job",
                mode,
                "--result",
                str(result),
                "--workdir",
                str(workdir),
                *args,
            ],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            cwd=workdir,
            env=child_env(),
        )
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    if proc.returncode != 0 or not result.exists():
        tail = (workdir / f"{name}.err").read_text(errors="replace")[-3000:]
        raise JobFailed(f"bench.job {mode} exited {proc.returncode}:\n{tail}")
    info = json.loads(result.read_text())
    return Run(
        cpu=usage.ru_utime + usage.ru_stime, wall=wall, peak_rss=info["vm_hwm_kib"] * 1024.0, info=info
    )


@dataclass(frozen=True)
class Summary:
    """Median of repeated runs, with the spread, so one noisy run on a shared machine does not decide."""

    runs: tuple[Run, ...]

    def _values(self, attr: str) -> list[float]:
        return [float(getattr(r, attr)) for r in self.runs]

    def median(self, attr: str) -> float:
        return statistics.median(self._values(attr))

    def spread(self, attr: str, scale: float = 1.0, fmt: str = "{:.2f}") -> str:
        values = self._values(attr)
        if len(values) < 2:
            return "one run"
        return f"median of {len(values)}, range {fmt.format(min(values) / scale)}-{fmt.format(max(values) / scale)}"


@dataclass(frozen=True)
class Context:
    """What every benchmark module's `report(ctx)` gets: the served namespace and the run's settings."""

    server: Server
    workdir: Path
    repeats: int
    typed_pods: int  # pods the typed official-client baseline decodes (0: all); scaled when fewer
    profile: bool  # profile one pass even when every target is met

    @property
    def ready(self) -> Ready:
        assert self.server.ready is not None
        return self.server.ready


def repeat(mode: str, workdir: Path, times: int, *args: str) -> Summary:
    return Summary(tuple(run_job(mode, workdir, *args, tag=f"-{i}") for i in range(times)))


def line(label: str, value: str, target: str = "", *, ok: bool | None = None, note: str = "") -> str:
    """One figure: label, value, target and PASS/MISS (never an error: benchmarks inform, tests assert)."""
    mark = "" if ok is None else ("PASS" if ok else "MISS")
    text = f"{label:<52} {value:>10}  {target:<15} {mark:<4}"
    return (text + f"  {note}" if note else text).rstrip()


def mib(n: float) -> str:
    return f"{n / MIB:,.0f} MiB"


def secs(s: float) -> str:
    return f"{s:,.2f} s"


def ratio(a: float, b: float) -> str:
    return f"{a / b:,.1f}x" if b > 0 else "n/a"
