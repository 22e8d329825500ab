"""What a long history costs a pass: `selfheal run --dry-run` over a small namespace with a 1,000,000-line
history, side by side with an empty one, in the same benchmark run (interleaved, median of the repeats).

Steady state: the counters state (`<history>.counters.json`) covers the whole file, as it does after the
first pass of an upgrade; the file keeps its size (`SELFHEAL_HISTORY_MAX_BYTES` set above it: with the
default 16 MiB the file would be rotated, and a million lines could not exist). What is left for the size to
cost is what the pass does with the file: the window read from its end (cooldowns, the ladder: the last hour
or so), the append of the pass's lines under the lock, the counters caught up with those lines only, the
state saved. Targets: at most 50 ms CPU and 20 MiB peak RSS more than with an empty history.

The small namespace (400 pods) keeps the pass short, so a difference of a few milliseconds is not lost in
the noise of a 20,000-pod pass. The file is built by a child process (`python -m bench.history_size make`),
as every `selfheal` import stays out of the runner (see `bench.measure`).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from .measure import MIB, Context, Summary, child_env, line, mib, run_job, secs
from .server import Server

LINES = 1_000_000
SMALL_PODS = 400
TARGET_CPU_SECONDS = 0.050
TARGET_PEAK_RSS = 20 * MIB
NO_ROTATION = 1 << 40
HISTORY_PHASES = ("history window read", "history append + counters")


def report(ctx: Context) -> Iterator[str]:
    work = ctx.workdir / "history-size"
    work.mkdir(exist_ok=True)
    big = work / "big" / "rollback-history.log"
    namespace = ctx.ready.namespace
    t0 = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.history_size",
            "make",
            str(big),
            "--lines",
            str(LINES),
            "--namespace",
            namespace,
        ],
        check=True,
        env=child_env(),
        cwd=work,
    )
    size = big.stat().st_size
    yield line(
        f"history of {LINES:,} lines: size",
        mib(size),
        "info",
        note=f"built with its counters state in {time.perf_counter() - t0:.0f} s",
    )
    (work / "server").mkdir(exist_ok=True)
    empty_runs, big_runs = [], []
    with Server(SMALL_PODS, work / "server", child_env()) as small:
        r = small.ready
        assert r is not None
        common = [
            "--kubeconfig",
            r.kubeconfig,
            "--namespace",
            r.namespace,
            "--phases",
            "--history-max-bytes",
            str(NO_ROTATION),
        ]
        for i in range(max(3, ctx.repeats)):
            empty = work / "empty" / "rollback-history.log"
            shutil.rmtree(empty.parent, ignore_errors=True)
            empty.parent.mkdir()
            empty_runs.append(run_job("cli", work, *common, "--history-file", str(empty), tag=f"-empty-{i}"))
            big_runs.append(run_job("cli", work, *common, "--history-file", str(big), tag=f"-big-{i}"))
    e, b = Summary(tuple(empty_runs)), Summary(tuple(big_runs))
    cpu = b.median("cpu") - e.median("cpu")
    rss = b.median("peak_rss") - e.median("peak_rss")
    pods = f"{r.pods:,} pods"
    yield line(
        f"selfheal run --dry-run, {pods}, empty history: CPU",
        secs(e.median("cpu")),
        "info",
        note=e.spread("cpu"),
    )
    yield line(f"the same, {LINES:,}-line history: CPU", secs(b.median("cpu")), "info", note=b.spread("cpu"))
    yield line(
        f"what {LINES:,} lines add to a pass: CPU",
        f"{cpu * 1000:+.0f} ms",
        f"≤ {TARGET_CPU_SECONDS * 1000:.0f} ms",
        ok=cpu <= TARGET_CPU_SECONDS,
        note=f"difference of the medians; after the imports: "
        f"{(b.median('cpu_work') - e.median('cpu_work')) * 1000:+.1f} ms",
    )
    yield line(f"selfheal run --dry-run, {pods}, empty history: peak RSS", mib(e.median("peak_rss")), "info")
    yield line(f"the same, {LINES:,}-line history: peak RSS", mib(b.median("peak_rss")), "info")
    yield line(
        f"what {LINES:,} lines add to a pass: peak RSS",
        f"{rss / MIB:+.1f} MiB",
        f"≤ {TARGET_PEAK_RSS / MIB:.0f} MiB",
        ok=rss <= TARGET_PEAK_RSS,
    )
    for phase in HISTORY_PHASES:
        pe = sorted(run.info.get("phases", {}).get(phase, 0.0) for run in e.runs)[len(e.runs) // 2]
        pb = sorted(run.info.get("phases", {}).get(phase, 0.0) for run in b.runs)[len(b.runs) // 2]
        yield line(
            f"  {phase}: empty / {LINES:,} lines",
            f"{pe * 1000:.1f} ms",
            "info",
            note=f"{pb * 1000:.1f} ms with the long history (median)",
        )


# --- the file ----------------------------------------------------------------------------------------------


def make(path: Path, lines: int, namespace: str) -> None:
    """`lines` history lines of `namespace`, the newest a minute ago and one every ~30 s before it (a year's
    worth), each a realistic decision (applied writes with patch and inverse, skips, dry-runs); then the
    counters state, as the first pass after an upgrade leaves it."""
    from datetime import UTC, datetime, timedelta

    import msgspec

    from selfheal.findings import HistoryEntry, PatchRecord
    from selfheal.reporting.store import HistoryStore

    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    now = datetime.now(UTC)
    step = timedelta(seconds=31.5)
    patch = (
        PatchRecord(
            kind="Deployment",
            name="app-2",
            content_type="application/merge-patch+json",
            body=msgspec.Raw(b'{"spec":{"replicas":4}}'),
        ),
    )
    inverse = (
        PatchRecord(
            kind="Deployment",
            name="app-2",
            content_type="application/merge-patch+json",
            body=msgspec.Raw(b'{"spec":{"replicas":2}}'),
        ),
    )
    kinds = [
        dict(
            action="scale",
            kind="Deployment",
            name="app-2",
            reason="replica_drift",
            result="applied",
            message="scale app-2 to 4",
            detector="replica_drift",
            ladder="replicas",
            patch=patch,
            inverse=inverse,
        ),
        dict(
            action="restart_pod",
            kind="Pod",
            name="app-1-5d8f7c9b6-x2x7q",
            reason="cooldown",
            result="skipped",
            message="Deployment/app-1 was acted on 2 min ago (cooldown 10 min)",
            detector="crashloop",
            ladder="health",
        ),
        dict(
            action="restart_pod",
            kind="Pod",
            name="app-3-7c9b6d8f5-q7x2x",
            reason="app_error",
            result="dry_run",
            message="restart pod app-3-7c9b6d8f5-q7x2x (app_error in app)",
            detector="crashloop",
            ladder="health",
        ),
    ]
    encoder = msgspec.json.Encoder()
    chunk: list[bytes] = []
    with path.open("wb") as out:
        for i in range(lines):
            k = kinds[i % len(kinds)]
            workload = (
                "Deployment/" + str(k["name"]).rsplit("-", 2)[0]
                if k["kind"] == "Pod"
                else f"Deployment/{k['name']}"
            )
            entry = HistoryEntry(
                ts=now - timedelta(minutes=1) - step * (lines - 1 - i),
                run_id=f"{i // 3:032x}",
                namespace=namespace,
                workload=workload,
                **k,
            )  # type: ignore[arg-type]
            chunk.append(encoder.encode(entry) + b"\n")
            if len(chunk) >= 10_000:
                out.write(b"".join(chunk))
                chunk.clear()
        out.write(b"".join(chunk))
    HistoryStore(path, NO_ROTATION).close_pass([])  # counts the file once: the state covers it all


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.history_size")
    sub = p.add_subparsers(dest="command", required=True)
    m = sub.add_parser("make", help="write a history file of N lines and its counters state")
    m.add_argument("path", type=Path)
    m.add_argument("--lines", type=int, default=LINES)
    m.add_argument("--namespace", required=True)
    args = p.parse_args(argv)
    make(args.path, args.lines, args.namespace)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
