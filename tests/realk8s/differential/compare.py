"""Send the same request to both worlds, normalise both answers, and name every difference.

A difference is one line: `~ path` (both have it, the values differ), `+real path` (only the real
apiserver's answer has it), `+sandbox path`. Paths are JSON paths into the normalised answer (`status`
is the HTTP status or kubectl's exit code, `body...` the answer, `stderr...` kubectl's stderr); list
elements that have a `name` (containers, volumes, ports) or a `type` (conditions) are addressed by it.

Each test's comparisons are checked against `known-differences.yaml` when the test ends
(`Differential.check`): a difference not listed fails, and so does a listed one that did not occur.
"""

from __future__ import annotations

import fnmatch
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.realk8s.differential.normalise import Names, kubectl_text, normalise
from tests.realk8s.differential.worlds import JSON, Answer, World

HERE = Path(__file__).parent
KNOWN_FILE = HERE / "known-differences.yaml"

BodyFor = Any  # a value, or a function World -> value (for bodies that carry a world's uid)


def _key_of(items: list[Any]) -> str | None:
    for key in ("name", "type", "key"):
        if all(isinstance(x, dict) and isinstance(x.get(key), str) for x in items):
            values = [x[key] for x in items]
            if len(set(values)) == len(values):
                return key
    return None


def _join(path: str, key: str) -> str:
    if re.fullmatch(r"[A-Za-z_$][A-Za-z0-9_$-]*", key):
        return f"{path}.{key}" if path else key
    return f"{path}[{json.dumps(key)}]"


Found = tuple[str, Any, Any]  # (the difference's line, the real value, the sandbox's value)
ABSENT = "<absent>"


def diff(real: Any, sandbox: Any, path: str = "") -> list[Found]:
    if isinstance(real, dict) and isinstance(sandbox, dict):
        out: list[Found] = []
        for k in sorted(set(real) | set(sandbox), key=str):
            p = _join(path, str(k))
            if k not in sandbox:
                out.append((f"+real {p}", real[k], ABSENT))
            elif k not in real:
                out.append((f"+sandbox {p}", ABSENT, sandbox[k]))
            else:
                out += diff(real[k], sandbox[k], p)
        return out
    if isinstance(real, list) and isinstance(sandbox, list):
        key = _key_of(real + sandbox) if real and sandbox else None
        if key is not None and len({x[key] for x in real + sandbox}) >= max(len(real), len(sandbox)):
            r = {x[key]: x for x in real}
            s = {x[key]: x for x in sandbox}
            out = []
            for name in [*r, *(n for n in s if n not in r)]:
                p = f"{path}[{key}={name}]"
                if name not in s:
                    out.append((f"+real {p}", r[name], ABSENT))
                elif name not in r:
                    out.append((f"+sandbox {p}", ABSENT, s[name]))
                else:
                    out += diff(r[name], s[name], p)
            if not out and [x[key] for x in real] != [x[key] for x in sandbox]:
                out.append((f"~ {path} (order)", [x[key] for x in real], [x[key] for x in sandbox]))
            return out
        out = []
        for i in range(max(len(real), len(sandbox))):
            p = f"{path}[{i}]"
            if i >= len(sandbox):
                out.append((f"+real {p}", real[i], ABSENT))
            elif i >= len(real):
                out.append((f"+sandbox {p}", ABSENT, sandbox[i]))
            else:
                out += diff(real[i], sandbox[i], p)
        return out
    if real != sandbox:
        return [(f"~ {path}", real, sandbox)]
    return []


@dataclass
class Comparison:
    label: str
    real: Any
    sandbox: Any
    found: list[Found]

    @property
    def differences(self) -> list[str]:
        return [line for line, _, _ in self.found]


@dataclass
class Known:
    """known-differences.yaml. Two kinds of entries:

    - `id: <test name>/<label>`, `differs`: the exact difference lines of that comparison;
    - `id` with a `*` (fnmatch, e.g. `*` for every comparison), `differs`: patterns of difference lines accepted
      wherever they occur, for a difference the sandbox has everywhere by design (each must still occur somewhere
      in a full run).

    Every entry says `why` it is accepted."""

    entries: dict[str, dict[str, Any]]
    patterns: list[dict[str, Any]]

    @classmethod
    def load(cls, path: Path = KNOWN_FILE) -> Known:
        docs = yaml.safe_load(path.read_text()) if path.exists() else None
        entries: dict[str, dict[str, Any]] = {}
        patterns: list[dict[str, Any]] = []
        for e in docs or []:
            assert e.get("why"), f"known-differences.yaml: {e['id']} says no why"
            if "*" in e["id"]:
                patterns.append(e)
                continue
            assert e["id"] not in entries, f"known-differences.yaml lists {e['id']} twice"
            entries[e["id"]] = e
        return cls(entries, patterns)

    def for_test(self, test: str) -> dict[str, list[str]]:
        prefix = test + "/"
        return {k: list(e["differs"]) for k, e in self.entries.items() if k.startswith(prefix)}

    def accepted(self, cid: str, line: str) -> bool:
        """Whether a pattern entry accepts this difference line of comparison `cid` (and note that it did)."""
        for p in self.patterns:
            if fnmatch.fnmatchcase(cid, p["id"]) and any(fnmatch.fnmatchcase(line, d) for d in p["differs"]):
                USED_PATTERNS.add(p["id"] + " :: " + "|".join(p["differs"]))
                return True
        return False


USED_PATTERNS: set[str] = set()


STATS: dict[str, Any] = {"requests": 0, "comparisons": 0, "differing": 0, "tests": 0}
REPORT: list[dict[str, Any]] = []


@dataclass
class Differential:
    real: World
    sandbox: World
    test: str
    known: Known
    compared: list[Comparison] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.names = {w.side: Names(w) for w in (self.real, self.sandbox)}

    @property
    def worlds(self) -> tuple[World, World]:
        return self.real, self.sandbox

    @property
    def ns(self) -> str:
        return self.real.namespace

    # -- comparing ------------------------------------------------------------------------------------
    def _norm(self, world: World, doc: Any) -> Any:
        names = self.names[world.side]
        names.refresh()
        return normalise(doc, world, names)

    def compare(self, label: str, real: Any, sandbox: Any) -> list[str]:
        """Compare two values already taken from the worlds (normalised here)."""
        assert all(c.label != label for c in self.compared), f"label {label} used twice in {self.test}"
        r, s = self._norm(self.real, real), self._norm(self.sandbox, sandbox)
        found = diff(r, s)
        self.compared.append(Comparison(label, r, s, found))
        STATS["comparisons"] += 1
        return [line for line, _, _ in found]

    def _answer(self, world: World, a: Answer, *, kubectl: bool) -> dict[str, Any]:
        names = self.names[world.side]
        if not kubectl:
            doc: dict[str, Any] = {"status": a.status, "body": a.body}
            if a.content_type and a.content_type.split(";")[0] != JSON:
                doc["contentType"] = a.content_type
            return doc
        body = a.body
        if isinstance(body, str):
            names.refresh()
            try:
                loaded = (
                    yaml.safe_load(body) if body.lstrip().startswith(("apiVersion:", "kind:", "- ")) else None
                )
            except yaml.YAMLError:
                loaded = None
            if isinstance(loaded, (dict, list)):
                body = loaded
            else:
                names.learn(body)
                body = kubectl_text(body, world, names)
        return {"status": a.status, "body": body, "stderr": self._stderr(a.stderr)}

    @staticmethod
    def _stderr(err: str) -> list[str]:
        return [line for line in err.splitlines() if line.strip()]

    def both(self, fn: Callable[[World], Any]) -> tuple[Any, Any]:
        """Run `fn` in each world, no comparison (setting a world up)."""
        return fn(self.real), fn(self.sandbox)

    def http(
        self,
        label: str,
        method: str,
        path: str,
        *,
        body: BodyFor = None,
        query: Any = None,
        path_fill: Callable[[World], dict[str, str]] | None = None,
        **kw: Any,
    ) -> tuple[Answer, Answer]:
        """One request to each world. `body` and `query` may be functions of the world; `{ns}` in the path is
        the namespace, other `{...}` come from `path_fill(world)`."""
        answers = []
        for w in self.worlds:
            b = body(w) if callable(body) else body
            q = query(w) if callable(query) else query
            fill = {"ns": w.namespace, **(path_fill(w) if path_fill else {})}
            answers.append(w.http(method, _fill(path, fill), body=b, query=q, **kw))
            STATS["requests"] += 1
        r, s = answers
        self.compare(
            label, self._answer(self.real, r, kubectl=False), self._answer(self.sandbox, s, kubectl=False)
        )
        return r, s

    def kubectl(
        self,
        label: str,
        *args: str,
        input: str | None = None,
        per_world: dict[str, dict[str, str]] | None = None,
        **kw: Any,
    ) -> tuple[Answer, Answer]:
        """`{ns}` in the arguments is the namespace; `per_world` fills other `{...}` per world."""
        answers = []
        for w in self.worlds:
            fill = {"ns": w.namespace, **((per_world or {}).get(w.side) or {})}
            answers.append(w.kubectl(*(_fill(a, fill) for a in args), input=input, **kw))
            STATS["requests"] += 1
        r, s = answers
        self.compare(
            label, self._answer(self.real, r, kubectl=True), self._answer(self.sandbox, s, kubectl=True)
        )
        return r, s

    def settle(
        self, label: str, until: Callable[[World], Any], timeout: float = 120, step: float = 1.0
    ) -> None:
        """Let both worlds' controllers converge on `until`; that both did is compared."""
        done = {w.side: w.settle(until, timeout=timeout, step=step) for w in self.worlds}
        self.compare(label, {"converged": done["real"]}, {"converged": done["sandbox"]})

    # -- the verdict ----------------------------------------------------------------------------------
    def check(self) -> None:
        expected = self.known.for_test(self.test)
        problems = []
        for c in self.compared:
            cid = f"{self.test}/{c.label}"
            REPORT.append(
                {
                    "id": cid,
                    "differs": c.differences,
                    "values": {line: {"real": rv, "sandbox": sv} for line, rv, sv in c.found},
                }
            )
            if c.differences:
                STATS["differing"] += 1
            want = expected.pop(cid, [])
            got = [d for d in c.differences if not self.known.accepted(cid, d)]
            if sorted(got) != sorted(want):
                new = [d for d in got if d not in want]
                gone = [d for d in want if d not in got]
                detail: dict[str, Any] = {"new": new, "no longer differs (remove it from the list)": gone}
                for line, rv, sv in c.found:
                    if line in new:
                        detail.setdefault("values", {})[line] = {"real": rv, "sandbox": sv}
                problems.append(f"{cid}: {json.dumps(detail, indent=1, default=str)[:6000]}")
        for cid in expected:
            problems.append(f"{cid}: listed in known-differences.yaml but not compared by this test")
        STATS["tests"] += 1
        assert not problems, "\n".join(problems)


def _fill(arg: str, values: dict[str, str]) -> str:
    for k, v in values.items():
        arg = arg.replace("{" + k + "}", v)
    return arg
