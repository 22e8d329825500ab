"""One healing pass over a 20,000-pod namespace: CPU and peak RSS against issue 3's targets, side by side with
the floors and the typed official-client baseline, all against the same sandbox process in the same run.

Figures (each a fresh process; CPU = user + system of the whole process, start-up included, as a CronJob
pod pays it; peak RSS = the process's VmHWM):
- start-up floor: importing what `selfheal run` imports;
- decode floor: `read_snapshot` alone (lists, msgspec Structs);
- the same lists and decoding through `selfheal.execution.Transport`, without the client's generated API
  classes: what reading costs when their import (hundreds of pydantic models) is not paid;
- the pass: `selfheal run --dry-run --log-format off` (snapshot, detectors, plan, dry-run evictions
  sent to the sandbox, history and risk files) — the figure the targets apply to;
- the baseline: `CoreV1Api.list_namespaced_pod` building the client's typed models (pods only!).
The namespace has a handful of failing pods, so the pass has real work; what it found and did is checked
against what the fixtures put there, so a fast pass that read nothing cannot pass. One more instrumented run
breaks the pass's CPU down by phase (`bench.job.Phases`), so a MISS comes with where the time went.
"""

from __future__ import annotations

import json
import pstats
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from .fixtures import expected_findings
from .measure import MIB, Context, Run, Summary, line, mib, ratio, repeat, run_job, secs

TARGET_CPU_SECONDS = 1.5
TARGET_PEAK_RSS = 150 * MIB
ISSUE_FLOOR_CPU = 0.6  # issue 3: urllib3/official-client bytes + msgspec decode of 20k pods
ISSUE_TYPED = "issue 3 measured ~31 s, 2.4 GiB"
PROFILE_TOP = 15


def _what_it_did(ctx: Context, run: Run) -> tuple[str, bool]:
    """The pass's findings and actions (from its risk report), and whether they are what the namespace holds."""
    risk = json.loads((ctx.workdir / "risk.json").read_text())
    findings = Counter(f["detector"] for f in risk["findings"])
    actions = Counter(f"{a['action']} {a['result']}" for a in risk["actions"])
    expected = expected_findings(ctx.ready.pods)
    ok = (
        run.info.get("exit_code") == 0
        and findings.get("crashloop") == expected["crashloop"]
        and actions.get("restart_pod dry_run") == expected["restartable"]
    )
    text = (
        f"exit {run.info.get('exit_code')}; findings "
        + (", ".join(f"{k} {v}" for k, v in sorted(findings.items())) or "none")
        + "; actions "
        + (", ".join(f"{k} {v}" for k, v in sorted(actions.items())) or "none")
        + f" (expected crashloop {expected['crashloop']}, restart_pod dry_run {expected['restartable']})"
    )
    return text, ok


def _profile_lines(ctx: Context, args: list[str]) -> Iterator[str]:
    prof = ctx.workdir / "pass.prof"
    run_job("cli", ctx.workdir, *args, "--profile", str(prof), tag="-profile")
    stats = pstats.Stats(str(prof))
    total = max(getattr(stats, "total_tt", 0.0), 1e-9)
    rows = getattr(stats, "stats", {})
    for title, key in (("own time", 2), ("cumulative", 3)):
        yield f"  where the pass's time goes (cProfile, one run, work phase {total:.2f} s profiled), top by {title}:"
        ranked = sorted(rows.items(), key=lambda kv: kv[1][key], reverse=True)[:PROFILE_TOP]
        for (filename, lineno, func), (_, ncalls, tottime, cumtime, _) in ranked:
            where = _short(filename)
            yield (
                f"    {tottime:7.3f} s own  {cumtime:7.3f} s cum  {ncalls:>9,} calls  "
                f"{where}:{lineno}({func})"
            )


def _phase_lines(ctx: Context, args: list[str]) -> Iterator[str]:
    """Where the pass's CPU goes, from one more run with its phases timed (see `bench.job.Phases`)."""
    run = run_job("cli", ctx.workdir, *args, "--phases", tag="-phases")
    phases: dict[str, float] = dict(run.info["phases"])
    gc_in: dict[str, float] = run.info.get("gc", {})
    rows = [
        ("interpreter start-up + imports of `selfheal run`", run.cpu_imports),
        *phases.items(),
        ("interpreter exit (teardown)", max(0.0, run.cpu - float(run.info["cpu_end"]))),
    ]
    yield (
        f"  where the CPU of `selfheal run` goes (one more run, phases timed by wrapping the functions named "
        f"below; total {secs(run.cpu)}):"
    )
    for label, spent in sorted(rows, key=lambda kv: kv[1], reverse=True):
        if spent < 0.005:
            continue
        gc_note = f"  (of which cyclic GC {gc_in[label]:.2f} s)" if gc_in.get(label, 0.0) >= 0.01 else ""
        yield f"    {spent:6.2f} s  {label}{gc_note}"


def _short(filename: str) -> str:
    for marker in ("/site-packages/", "/selfheal/", "/lib/python3"):
        if marker in filename:
            head = "selfheal/" if marker == "/selfheal/" else ""
            return head + filename.split(marker, 1)[1]
    return filename if filename.startswith("~") else Path(filename).name


def report(ctx: Context) -> Iterator[str]:
    r = ctx.ready
    n = ctx.repeats
    common = ["--kubeconfig", r.kubeconfig, "--namespace", r.namespace]
    pods = f"{r.pods:,} pods"

    startup = repeat("startup", ctx.workdir, n)
    yield line(
        "start-up floor (imports of `selfheal run`): CPU",
        secs(startup.median("cpu")),
        "info",
        note=startup.spread("cpu"),
    )
    yield line("start-up floor: peak RSS", mib(startup.median("peak_rss")), "info")

    snap = repeat("snapshot", ctx.workdir, n, *common)
    yield line(
        f"read_snapshot only, {pods} (decode floor): CPU",
        secs(snap.median("cpu")),
        "info",
        note=f"{snap.spread('cpu')}; reading {secs(snap.median('cpu_work'))} after imports "
        f"(issue 3's measured floor: ~{ISSUE_FLOOR_CPU} s)",
    )
    yield line("read_snapshot only: peak RSS", mib(snap.median("peak_rss")), "info")
    yield line("read_snapshot only: wall", secs(snap.median("wall")), "info")

    runs = []
    server_cpu = []
    for i in range(n):
        before = ctx.server.cpu_seconds()
        runs.append(run_job("cli", ctx.workdir, *common, tag=f"-{i}"))
        server_cpu.append(ctx.server.cpu_seconds() - before)
    passes = Summary(tuple(runs))
    cpu, rss = passes.median("cpu"), passes.median("peak_rss")
    cpu_ok, rss_ok = cpu <= TARGET_CPU_SECONDS, rss <= TARGET_PEAK_RSS
    yield line(
        f"selfheal run --dry-run, {pods}: CPU",
        secs(cpu),
        f"≤ {TARGET_CPU_SECONDS} s",
        ok=cpu_ok,
        note=f"{passes.spread('cpu')}; imports {secs(passes.median('cpu_imports'))} + "
        f"pass {secs(passes.median('cpu_work'))}",
    )
    yield line(
        "selfheal run --dry-run: peak RSS",
        mib(rss),
        f"≤ {mib(TARGET_PEAK_RSS)}",
        ok=rss_ok,
        note=passes.spread("peak_rss", MIB, "{:.0f}"),
    )
    yield line(
        "selfheal run --dry-run: wall",
        secs(passes.median("wall")),
        "info",
        note=f"sandbox CPU while serving it {secs(sorted(server_cpu)[len(server_cpu) // 2])}",
    )
    did, did_ok = _what_it_did(ctx, runs[-1])
    yield line(
        "selfheal run --dry-run: what it did",
        "checked" if did_ok else "WRONG",
        "as built",
        ok=did_ok,
        note=did,
    )
    yield from _phase_lines(ctx, common)

    typed_pods = min(ctx.typed_pods or r.pods, r.pods)
    typed = run_job("typed", ctx.workdir, *common, "--max-pods", str(typed_pods))
    measured = int(typed.info["pods"])
    scale = r.pods / measured
    startup_rss = startup.median("peak_rss")
    typed_cpu = typed.cpu_imports + typed.cpu_work * scale
    typed_rss = startup_rss + max(0.0, typed.peak_rss - startup_rss) * scale
    typed_wall = typed.wall + typed.info["wall_work"] * (scale - 1)
    how = (
        f"measured on all {measured:,} pods"
        if scale == 1
        else f"measured on {measured:,} pods ({secs(typed.cpu)}, {mib(typed.peak_rss)}), work scaled x{scale:.1f}"
    )
    label = "typed official client, list_namespaced_pod"
    yield line(f"{label}: CPU", secs(typed_cpu), "info", note=f"{how}; {ISSUE_TYPED}")
    yield line("typed official client: peak RSS", mib(typed_rss), "info")
    yield line("typed official client: wall", secs(typed_wall), "info")

    yield line(
        "ratio typed client / selfheal run: CPU",
        ratio(typed_cpu, cpu),
        "info",
        note="the whole pass vs decoding pods alone with typed models",
    )
    yield line("ratio typed client / selfheal run: peak RSS", ratio(typed_rss, rss), "info")
    yield line("ratio typed client / read_snapshot: CPU", ratio(typed_cpu, snap.median("cpu")), "info")
    yield line(
        "ratio typed client / read_snapshot: peak RSS", ratio(typed_rss, snap.median("peak_rss")), "info"
    )

    if ctx.profile:
        yield from _profile_lines(ctx, common)
