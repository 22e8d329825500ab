"""`make soak`: the job killed, interrupted and raced against a live sandbox, then checked for what it left.

    python tools/soak.py                    # 50 runs SIGKILLed while they act, then the checks
    python tools/soak.py --short            # CI: 8 kills, the same checks, a couple of minutes
    python tools/soak.py --kills 20 --sigterms 5 --seed 7 --keep

One `kubesandbox serve` follows wall time with every Deployment write slowed (`--fault PATCH:...:delay=`), so
a kill lands between writes. The namespace (`dese-ea-plan-v5`, the job's RBAC from aiops/self-heal-job.yaml,
run as its ServiceAccount with a bearer token) holds a dozen Deployments scaled below their
`selfheal.dev/desired-replicas`, and Secrets. Between runs a "person" scales some back down again (through
`deployments/scale`, as another user), so later runs still have work; cooldowns are short (12 s).

1. kills: each run is SIGKILLed at a random moment after it planned its actions; the next one starts once
   the dead run's Lease has expired and must take it over.
2. SIGTERM: runs told to stop while acting must exit 4 with their record and risk report written.
3. five runs at once: exactly one acts (the Lease), the other four find it held.
4. convergence: normal runs until one has nothing left to do.

Then: every write the API server applied for the job has its intent line (0 unrecorded changes); no
workload was acted on twice within its cooldown (0 repeated actions); every intent has exactly one outcome;
every history line parses; the risk report is valid JSON; the namespace converged; no run printed a
traceback; no output (logs, history, risk report) holds the token, a Secret's value or an Authorization
header. Prints a summary (one JSON line last) and exits 0 when every check holds, 1 when one does not.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import itertools
import json
import os
import random
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
NS = "dese-ea-plan-v5"
CONTEXT = f"sa-{NS}-self-heal-cpt"
SA_USER = f"system:serviceaccount:{NS}:self-heal-cpt"
WRITE_DELAY = 0.4  # seconds each Deployment write is held by the sandbox before it is applied
COOLDOWN = 12  # seconds: short, so later runs still have work
LEASE_SECONDS = 5  # the shortest the job allows: a killed run's Lease expires soon
MAX_ACTIONS = 4
DEPLOYMENTS = 12
RUN_TIMEOUT = 90.0


# --- the world ---------------------------------------------------------------------------------------------


def scenario(secret_values: list[str]) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}}]
    for i in range(DEPLOYMENTS):
        name = f"svc-{i:02d}"
        labels = {"app": name}
        docs.append(
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {
                    "name": name,
                    "namespace": NS,
                    "labels": labels,
                    "annotations": {"selfheal.dev/desired-replicas": "2"},
                },
                "spec": {
                    "replicas": 1,
                    "selector": {"matchLabels": labels},
                    "template": {
                        "metadata": {"labels": labels},
                        "spec": {"containers": [{"name": "app", "image": "soak/app:1"}]},
                    },
                },
            }
        )
    for i, value in enumerate(secret_values):
        docs.append(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "type": "Opaque",
                "metadata": {"name": f"soak-secret-{i}", "namespace": NS},
                "data": {"password": base64.b64encode(value.encode()).decode()},
            }
        )
    docs.append(
        {
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": {"name": "self-heal-cpt", "namespace": NS},
            "spec": {
                "schedule": "*/2 * * * *",
                "jobTemplate": {
                    "spec": {
                        "template": {
                            "spec": {
                                "restartPolicy": "Never",
                                "containers": [{"name": "job", "image": "soak/selfheal:1"}],
                            }
                        }
                    }
                },
            },
        }
    )
    return docs


class Sandbox:
    """`kubesandbox serve` in a process of its own, with writes slowed and the request log kept."""

    def __init__(self, work: Path, docs: list[dict[str, Any]]) -> None:
        import yaml

        self.work = work
        self.scenario = work / "scenario.yaml"
        self.scenario.write_text(yaml.safe_dump_all(docs))
        self.kubeconfig = work / "kubeconfig"
        self.request_log = work / "requests.jsonl"
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "kubesandbox",
                "serve",
                "--scenario",
                str(self.scenario),
                "--kubeconfig",
                str(self.kubeconfig),
                "--rbac-from",
                str(ROOT / "aiops/self-heal-job.yaml"),
                "--fault",
                f"PATCH:/deployments/[^/]+$:delay={WRITE_DELAY},times=100000000",
                "--log-requests",
                str(self.request_log),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=work,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("sandbox ready: "):
            raise SystemExit(
                f"soak: the sandbox did not start: {line}{self.proc.stderr.read() if self.proc.stderr else ''}"
            )
        self.url = line.split()[2]

    def api(self, method: str, path: str, body: Any = None, content_type: str = "application/json") -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={"Content-Type": content_type, "Accept": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read() or b"null")

    def deployments(self) -> dict[str, dict[str, Any]]:
        items = self.api("GET", f"/apis/apps/v1/namespaces/{NS}/deployments")["items"]
        return {d["metadata"]["name"]: d for d in items}

    def lease(self) -> dict[str, Any] | None:
        try:
            return self.api("GET", f"/apis/coordination.k8s.io/v1/namespaces/{NS}/leases/self-heal-cpt")
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            raise

    def scale_down(self, name: str) -> None:
        """A person scaling a Deployment by hand (the scale subresource, not slowed, not the job's user)."""
        self.api(
            "PATCH",
            f"/apis/apps/v1/namespaces/{NS}/deployments/{name}/scale?fieldManager=soak-person",
            {"spec": {"replicas": 1}},
            "application/merge-patch+json",
        )

    def stop(self) -> list[dict[str, Any]]:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)
        return [json.loads(line) for line in self.request_log.read_text().splitlines() if line.strip()]


# --- runs --------------------------------------------------------------------------------------------------


@dataclass
class Run:
    n: int
    kind: str  # kill, sigterm, race, converge
    proc: subprocess.Popen[str]
    started: float
    out: Path
    err: Path
    planned: threading.Event = field(default_factory=threading.Event)
    lines: list[str] = field(default_factory=list)
    signalled: float | None = None
    exit_code: int | None = None

    def events(self) -> list[dict[str, Any]]:
        out = []
        for line in self.lines:
            if line.startswith("{"):
                with contextlib.suppress(ValueError):
                    out.append(json.loads(line))
        return out

    def run_id(self) -> str:
        return next((e["run_id"] for e in self.events() if "run_id" in e), "")


class Soak:
    def __init__(self, work: Path, rng: random.Random) -> None:
        self.work = work
        self.rng = rng
        self.secret_values = [secrets.token_urlsafe(24) for _ in range(3)]
        self.sb = Sandbox(work, scenario(self.secret_values))
        self.history = work / "state/logs/rollback-history.log"
        self.risk = work / "state/aiops/risk-prediction.json"
        self.runs: list[Run] = []
        self.problems: list[str] = []
        self.takeovers = 0
        self.killed_acting = 0
        self.race_held = 0

    # -- one run ------------------------------------------------------------------------------------------
    def start(self, kind: str) -> Run:
        n = len(self.runs) + 1
        env = {k: v for k, v in os.environ.items() if not k.startswith("SELFHEAL_") and k != "KUBECONFIG"}
        env.update(
            {
                "PYTHONUNBUFFERED": "1",
                "HOSTNAME": f"soak-{n:03d}",
                "SELFHEAL_NAMESPACE": NS,
                "SELFHEAL_HISTORY_FILE": str(self.history),
                "SELFHEAL_RISK_FILE": str(self.risk),
                "SELFHEAL_COOLDOWN_SECONDS": str(COOLDOWN),
                "SELFHEAL_ESCALATION_WINDOW_SECONDS": str(COOLDOWN),  # a re-drift after it is news
                "SELFHEAL_LEASE_DURATION_SECONDS": str(LEASE_SECONDS),
                # racing runs: the winner acts on everything, long enough for the others to start
                "SELFHEAL_MAX_ACTIONS": str(DEPLOYMENTS if kind == "race" else MAX_ACTIONS),
            }
        )
        out, err = self.work / f"runs/{n:03d}.out", self.work / f"runs/{n:03d}.err"
        out.parent.mkdir(exist_ok=True)
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "selfheal",
                "run",
                "--kubeconfig",
                str(self.sb.kubeconfig),
                "--context",
                CONTEXT,
            ],
            stdout=subprocess.PIPE,
            stderr=err.open("w"),
            text=True,
            env=env,
            cwd=self.work,
        )
        run = Run(n, kind, proc, time.monotonic(), out, err)

        def pump() -> None:
            assert proc.stdout is not None
            with out.open("w") as fh:
                for line in proc.stdout:
                    fh.write(line)
                    run.lines.append(line)
                    if '"event": "action.planned"' in line:
                        run.planned.set()

        threading.Thread(target=pump, daemon=True).start()
        self.runs.append(run)
        return run

    def finish(self, run: Run) -> int:
        try:
            run.exit_code = run.proc.wait(timeout=RUN_TIMEOUT)
        except subprocess.TimeoutExpired:
            run.proc.kill()
            run.exit_code = run.proc.wait()
            self.problems.append(f"run {run.n} did not end within {RUN_TIMEOUT:.0f}s")
        time.sleep(0.05)  # the pump thread drains the pipe
        return run.exit_code

    def wait_for_lease(self) -> None:
        """Until the Lease is free or expired (a killed run's holds until then)."""
        deadline = time.monotonic() + 3 * LEASE_SECONDS + 5
        while time.monotonic() < deadline:
            lease = self.sb.lease()
            spec = (lease or {}).get("spec") or {}
            if not spec.get("holderIdentity"):
                return
            renewed = datetime.fromisoformat(str(spec["renewTime"]).replace("Z", "+00:00")).timestamp()
            left = renewed + int(spec.get("leaseDurationSeconds") or 0) - time.time()
            if left < 0:
                return
            time.sleep(min(left + 0.2, 1.0))
        self.problems.append("the Lease was never released nor did it expire")

    def redrift(self, share: float) -> None:
        for name, dep in self.sb.deployments().items():
            if dep["spec"]["replicas"] != 1 and self.rng.random() < share:
                self.sb.scale_down(name)

    # -- the phases ---------------------------------------------------------------------------------------
    def kills(self, count: int) -> None:
        for _ in range(count):
            self.redrift(0.6)
            self.wait_for_lease()
            before = ((self.sb.lease() or {}).get("spec") or {}).get("holderIdentity") or ""
            run = self.start("kill")
            if run.planned.wait(timeout=RUN_TIMEOUT):
                time.sleep(self.rng.uniform(0.0, MAX_ACTIONS * (WRITE_DELAY + 0.1)))
                if run.proc.poll() is None:
                    run.proc.send_signal(signal.SIGKILL)
                    run.signalled = time.monotonic()
                    self.killed_acting += 1
            self.finish(run)
            if any(e.get("event") == "run.lease_held" for e in run.events()):
                self.problems.append(
                    f"run {run.n} found the Lease held although it had expired (no takeover)"
                )
            after = ((self.sb.lease() or {}).get("spec") or {}).get("holderIdentity") or ""
            if before and run.signalled is not None:  # a dead run's expired Lease, now held by this one
                if after.startswith(f"soak-{run.n:03d}/"):
                    self.takeovers += 1
                else:
                    self.problems.append(
                        f"run {run.n} did not take over the expired Lease of {before} ({after!r})"
                    )

    def sigterms(self, count: int) -> None:
        for _ in range(count):
            self.redrift(1.0)
            self.wait_for_lease()
            run = self.start("sigterm")
            if not run.planned.wait(timeout=RUN_TIMEOUT):
                self.problems.append(f"run {run.n} (SIGTERM) planned nothing to interrupt")
            run.proc.send_signal(signal.SIGTERM)
            run.signalled = time.time()
            code = self.finish(run)
            err = run.err.read_text()
            if code != 4:
                self.problems.append(
                    f"run {run.n} (SIGTERM while acting) exited {code}, not 4: {err.strip()}"
                )
            elif not err.startswith("selfheal: stopped early: interrupted: SIGTERM received"):
                self.problems.append(f"run {run.n} (SIGTERM) said: {err.strip()!r}")
            if not self.risk.is_file() or self.risk.stat().st_mtime < run.signalled:
                self.problems.append(f"run {run.n} (SIGTERM) did not write the risk report")

    def race(self, runners: int = 5) -> None:
        self.redrift(1.0)
        self.wait_for_lease()
        batch = [self.start("race") for _ in range(runners)]
        for run in batch:
            self.finish(run)
        held = [r for r in batch if any(e.get("event") == "run.lease_held" for e in r.events())]
        codes = [r.exit_code for r in batch]
        actors = {r.run_id() for r in batch if any(e.get("event") == "action.applied" for e in r.events())}
        if any(c != 0 for c in codes):
            self.problems.append(f"racing runs exited {codes}")
        if len(actors) != 1 or len(held) != runners - 1:
            self.problems.append(
                f"{runners} runs at once: {len(actors)} acted and {len(held)} found the Lease held "
                f"(expected exactly one actor)"
            )
        self.race_held = len(held)

    def converge(self, limit: int = 12) -> bool:
        for _ in range(limit):
            self.wait_for_lease()
            run = self.start("converge")
            code = self.finish(run)
            summary = next((e for e in run.events() if e.get("event") == "run.summary"), {})
            deps = self.sb.deployments()
            settled = all(d["spec"]["replicas"] == 2 for d in deps.values())
            if code == 0 and summary.get("approved") == 0 and settled:
                return True
            time.sleep(COOLDOWN / 2)
        self.problems.append(f"the namespace did not converge in {limit} runs")
        return False

    # -- the checks ---------------------------------------------------------------------------------------
    def check(self, requests: list[dict[str, Any]]) -> dict[str, Any]:
        import msgspec

        from selfheal.findings import HistoryEntry

        lines = [line for line in self.history.read_bytes().split(b"\n") if line.strip()]
        entries = []
        for i, raw in enumerate(lines, 1):
            try:
                entries.append(msgspec.json.decode(raw, type=HistoryEntry))
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                self.problems.append(f"history line {i} does not parse: {exc}")
        intents = [e for e in entries if e.result == "intent"]
        outcomes = Counter(e.intent for e in entries if e.intent and e.result != "intent")
        # intents a killed run left (its own outcome never written), resolved by a later run
        left = [e for e in entries if e.intent and e.result != "intent" and not e.intent.startswith(e.run_id)]
        recovered = sum(e.result == "applied" for e in left)
        unresolved = [e.intent for e in intents if outcomes[e.intent] == 0]
        doubled = [e.intent for e in intents if outcomes[e.intent] > 1]
        if unresolved:
            self.problems.append(f"{len(unresolved)} intents have no outcome: {unresolved[:3]}")
        if doubled:
            self.problems.append(f"{len(doubled)} intents have more than one outcome: {doubled[:3]}")

        # every write the API server applied for the job has its intent (per target, never more writes)
        writes: Counter[tuple[str, str]] = Counter()
        for r in requests:
            if (
                r["user"] == SA_USER
                and r["method"] in ("PATCH", "POST", "PUT", "DELETE")
                and "/leases" not in r["path"]
                and r["status"] < 300
            ):
                parts = r["path"].split("/")
                kind = "Pod" if "/pods/" in r["path"] else "Deployment"
                name = parts[parts.index("pods" if kind == "Pod" else "deployments") + 1]
                writes[(kind, name)] += 1
        intended: Counter[tuple[str, str]] = Counter()
        for e in intents:
            for p in e.patch or ():
                intended[(p.kind, p.name)] += 1
        unrecorded = sum(max(0, n - intended[t]) for t, n in writes.items())
        if unrecorded:
            self.problems.append(f"{unrecorded} writes the API server applied have no intent line")

        # no workload acted on twice within its cooldown
        times: dict[str, list[datetime]] = defaultdict(list)
        for e in intents:
            times[e.workload].append(e.ts)
        repeated = 0
        for workload, ts in times.items():
            ts.sort()
            for a, b in itertools.pairwise(ts):
                if (b - a).total_seconds() < COOLDOWN:
                    repeated += 1
                    self.problems.append(f"{workload} acted on twice {(b - a).total_seconds():.1f}s apart")

        try:
            risk = json.loads(self.risk.read_text())
            if not (risk.get("namespace") == NS and 0 <= float(risk["risk_score"]) <= 1):
                self.problems.append(f"the risk report is not this namespace's: {str(risk)[:200]}")
        except (OSError, ValueError, KeyError) as exc:
            self.problems.append(f"the risk report is not valid: {exc}")

        tracebacks = [
            r.n for r in self.runs if "Traceback" in r.err.read_text() or "Traceback" in r.out.read_text()
        ]
        if tracebacks:
            self.problems.append(f"runs {tracebacks} printed a traceback")
        leaks = self.leaks()
        return {
            "intents": len(intents),
            "intents_left_by_kills": len(left),
            "found_applied": recovered,
            "abandoned": len(left) - recovered,
            "writes_applied": sum(writes.values()),
            "unrecorded": unrecorded,
            "repeated": repeated,
            "history_lines": len(lines),
            "unparsed": len(lines) - len(entries),
            "tracebacks": len(tracebacks),
            "leaks": leaks,
        }

    def leaks(self) -> int:
        import yaml

        kube = yaml.safe_load(self.sb.kubeconfig.read_text())
        token = next(
            u["user"]["token"] for u in kube["users"] if u["user"].get("token") and "self-heal" in u["name"]
        )
        needles = [token, "Authorization", "Bearer "]
        for value in self.secret_values:
            needles += [value, base64.b64encode(value.encode()).decode()]
        files = [r.out for r in self.runs] + [r.err for r in self.runs] + [self.history, self.risk]
        files += list(self.history.parent.glob("*.counters.json"))
        found = 0
        for f in files:
            text = f.read_text(errors="replace") if f.is_file() else ""
            for needle in needles:
                if needle in text:
                    found += 1
                    self.problems.append(
                        f"{f.name} holds {'the token' if needle == token else repr(needle[:12])}"
                    )
        return found


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="tools/soak.py", description=__doc__.split("\n", 1)[0])
    p.add_argument("--kills", type=int, default=50, help="runs SIGKILLed while they act (default 50)")
    p.add_argument("--sigterms", type=int, default=3, help="runs sent SIGTERM while they act (default 3)")
    p.add_argument("--short", action="store_true", help="CI: 8 kills, 2 SIGTERMs")
    p.add_argument("--seed", type=int, default=None, help="the random kill points (default: random, printed)")
    p.add_argument("--workdir", type=Path, default=None, help="keep everything here (default: a temp dir)")
    p.add_argument("--keep", action="store_true", help="keep the temp dir")
    args = p.parse_args(argv)
    if args.short:
        args.kills, args.sigterms = min(args.kills, 8), min(args.sigterms, 2)
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="selfheal-soak-"))
    work.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    print(f"soak: seed {seed}, {args.kills} kills, {args.sigterms} SIGTERMs, work dir {work}", flush=True)
    soak = Soak(work, random.Random(seed))
    requests: list[dict[str, Any]] = []
    converged = False
    try:
        soak.kills(args.kills)
        print(
            f"soak: {soak.killed_acting} of {args.kills} runs killed while acting, "
            f"{soak.takeovers} expired Leases taken over",
            flush=True,
        )
        soak.sigterms(args.sigterms)
        soak.race()
        print(f"soak: 5 runs at once, {soak.race_held} found the Lease held", flush=True)
        converged = soak.converge()
    finally:
        requests = soak.sb.stop()
    figures = soak.check(requests)
    summary = {
        "seed": seed,
        "runs": len(soak.runs),
        "killed_while_acting": soak.killed_acting,
        "sigterms": args.sigterms,
        "takeovers": soak.takeovers,
        "race_lease_held": soak.race_held,
        "converged": converged,
        **figures,
        "problems": soak.problems,
        "seconds": round(time.monotonic() - started),
    }
    for problem in soak.problems:
        print(f"soak: PROBLEM: {problem}", flush=True)
    print(json.dumps(summary), flush=True)
    if not (args.keep or args.workdir) and not soak.problems:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if not soak.problems else 1


if __name__ == "__main__":
    sys.exit(main())
