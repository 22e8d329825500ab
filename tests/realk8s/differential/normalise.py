"""What is masked before the two worlds' answers are compared, and why. Everything masked here is a
place a difference could hide, so each mask is as narrow as the reason for it:

- uids: random per object. Each uid is replaced by the object it names (`<uid:Deployment/web>`, from
  every object either world has answered with), so a reference to the wrong object still differs.
- resourceVersions: etcd's revision counter, different in each etcd. Masked where the API puts them
  (`metadata.resourceVersion`, list metadata, the numbers in a precondition's Conflict message); the
  concurrency semantics are compared by the requests that use them (409s, preconditions).
- times: RFC 3339 strings (creation, managedFields, conditions, container states, restartedAt...).
  The sandbox's clock is frozen at its scenario's moment, the real one is wall time. Ages in tables
  (`AGE`, `LAST SEEN`, `DURATION`, `LAST SCHEDULE`, `(5s ago)`) likewise.
- continue tokens: opaque by contract; whether one is there is compared.
- generated names: the random 5-character suffix of `generateName` (pods of ReplicaSets and Jobs, the
  ServiceAccount token volume `kube-api-access-xxxxx`), and `pod-template-hash` values (the real one is
  FNV over Go's struct dump of the template, which the sandbox does not reproduce; it is a stable hash
  of the template in both, so it is replaced by the hash's first revision: `<hash:web@1>`). A CronJob's
  job name ends in its scheduled minute, which follows the clock.
- where pods run: node names (`kwok-node-1` / `sandbox-node-1`), pod and host IPs, container and image
  IDs (the kubelet's, emulated by kwok stages on one side and the sandbox's kubelet on the other), and
  cluster IPs (allocated at random from the service range).
- the server's address in kubeconfig-dependent text (`https://127.0.0.1:PORT`).
- the CA certificate in each namespace's `kube-root-ca.crt` ConfigMap: each cluster has its own.
- in kubectl's text output (describe), durations such as an event's age: kubectl computes them from the
  local clock, against the sandbox's frozen one.
List items and table rows are sorted after masking (their order is the name order, and generated
names sort differently); everything else is compared as it is.
"""

from __future__ import annotations

import json
import re
from typing import Any

from tests.realk8s.differential.worlds import World

UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
TIME = re.compile(r"\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)")
GO_TIME = re.compile(
    r"\b\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? [+-]\d{4} \w+"
)  # describe, Go's time.String
RFC1123 = re.compile(
    r"\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d \w{3} \d{4} \d\d:\d\d:\d\d [+-]\d{4}"
)  # describe
IP = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")
NODE = re.compile(r"\b(?:kwok|sandbox)-node-\d+\b")
URL = re.compile(r"https?://127\.0\.0\.1:\d+")
ADDRESS = re.compile(r"\b127\.0\.0\.1:\d+")
API_ACCESS = re.compile(r"\bkube-api-access-[a-z0-9]{5}\b")
RV_IN_MESSAGE = re.compile(
    r"(ResourceVersion in (?:precondition|object meta): |ResourceVersion in record \()\d+"
)
AGO = re.compile(r"\(\S+ ago\)")
DURATION = re.compile(r"^(?:<unknown>|<invalid>|\d+[smhdy](?:\d+[smh])?)$")
AGE_IN_TEXT = re.compile(r"(?<![\w./:-])\d+[smhdy](?:\d+[smh])?(?![\w/:-])")  # describe's event ages
RAND_SUFFIX = "[bcdfghjklmnpqrstvwxz2456789]{5}"
AGE_COLUMNS = {
    "AGE",
    "LAST SEEN",
    "DURATION",
    "LAST SCHEDULE",
    "FIRST SEEN",
    "Age",
    "Last Seen",
    "Duration",
    "Last Schedule",
    "First Seen",
}
MASKED_KEYS = {
    "resourceVersion": "<rv>",
    "continue": "<continue>",
    "containerID": "<containerID>",
    "imageID": "<imageID>",
    "nodeName": "<node>",
    "clusterIP": "<ip>",
}


class Names:
    """The generated names and hashes one world has shown, and how they print once masked."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.hashes: dict[str, str] = {}
        self.generated: dict[str, str] = {}
        self.deployments: set[str] = set()

    def refresh(self) -> None:
        """Learn the world's ReplicaSets (their hashes and revisions) before a comparison: answers name them
        (conditions, pod names, `-o name`) without the ReplicaSet being in the answer."""
        try:
            a = self.world.http("GET", f"/apis/apps/v1/namespaces/{self.world.namespace}/replicasets")
        except Exception:
            return
        if a.status == 200:
            for rs in a.body.get("items") or []:
                self.learn({**rs, "kind": "ReplicaSet"})

    def learn(self, doc: Any) -> None:
        if isinstance(doc, dict):
            meta = doc.get("metadata")
            if isinstance(meta, dict):
                labels = meta.get("labels") or {}
                h = labels.get("pod-template-hash") if isinstance(labels, dict) else None
                if isinstance(h, str) and h and h not in self.hashes:
                    ann = meta.get("annotations") or {}
                    rev = ann.get("deployment.kubernetes.io/revision", "") if isinstance(ann, dict) else ""
                    owner = next(
                        (
                            o.get("name", "")
                            for o in meta.get("ownerReferences") or []
                            if isinstance(o, dict) and o.get("controller")
                        ),
                        "",
                    )
                    if doc.get("kind") == "ReplicaSet" and rev:
                        self.hashes[h] = f"<hash:{owner}@{rev}>"
                if doc.get("kind") == "Deployment" and isinstance(meta.get("name"), str):
                    self.deployments.add(meta["name"])
                gen, name = meta.get("generateName"), meta.get("name")
                if isinstance(gen, str) and gen and isinstance(name, str) and name.startswith(gen):
                    self.generated.setdefault(name, gen + "<rand>")
            for v in doc.values():
                self.learn(v)
        elif isinstance(doc, list):
            for v in doc:
                self.learn(v)

    def text(self, s: str) -> str:
        for name in sorted(self.generated, key=len, reverse=True):
            if name in s:
                s = s.replace(name, self.generated[name])
        for h in sorted(self.hashes, key=len, reverse=True):
            if h in s:
                s = s.replace(h, self.hashes[h])
        return s


def _uid(world: World, m: re.Match[str]) -> str:
    who = world.uids.get(m.group(0))
    return f"<uid:{who}>" if who else "<uid>"


def text(s: str, world: World, names: Names) -> str:
    s = UUID.sub(lambda m: _uid(world, m), s)
    s = TIME.sub("<time>", s)
    s = GO_TIME.sub("<time>", s)
    s = RFC1123.sub("<time>", s)
    s = URL.sub("<server>", s)
    s = ADDRESS.sub("<server>", s)
    s = API_ACCESS.sub("kube-api-access-<rand>", s)
    s = RV_IN_MESSAGE.sub(r"\1<rv>", s)
    s = names.text(s)
    s = re.sub(r"\b([a-z0-9-]+-<hash:[^>]+>-)" + RAND_SUFFIX + r"\b", r"\1<rand>", s)  # pods not yet seen
    for dep in names.deployments:  # a hash of a ReplicaSet already gone
        s = re.sub(rf"\b({re.escape(dep)}-)[bcdfghjklmnpqrstvwxz2456789]{{6,10}}\b(?!-)", r"\1<hash:?>", s)
        s = re.sub(
            rf"\b({re.escape(dep)}-)[bcdfghjklmnpqrstvwxz2456789]{{6,10}}-" + RAND_SUFFIX + r"\b",
            r"\1<hash:?>-<rand>",
            s,
        )
    s = NODE.sub("<node>", s)
    s = IP.sub("<ip>", s)
    return AGO.sub("(<ago>)", s)


def _sort_key(v: Any) -> str:
    return json.dumps(v, sort_keys=True)


def value(doc: Any, world: World, names: Names, key: str = "") -> Any:
    if isinstance(doc, dict):
        if (doc.get("metadata") or {}).get("name") == "kube-root-ca.crt" and isinstance(
            doc.get("data"), dict
        ):
            doc = {
                **doc,
                "data": {k: "<the cluster's CA>" for k in doc["data"]},
            }  # each cluster has its own CA
        out = {}
        for k, v in doc.items():
            if k in MASKED_KEYS and isinstance(v, str) and v and v != "None":
                out[k] = MASKED_KEYS[k]
            elif k in ("ip", "podIP", "hostIP") and isinstance(v, str):
                out[k] = "<ip>"
            elif k == "clusterIPs" and isinstance(v, list):
                out[k] = ["<ip>" if x != "None" else x for x in v]
            elif k == "managedFields" and isinstance(v, list):  # keyed by who wrote what how, not by position
                out[k] = {
                    f"{e.get('manager')}/{e.get('operation')}/{e.get('subresource', '-')}": value(
                        {kk: vv for kk, vv in e.items() if kk not in ("manager", "operation", "subresource")},
                        world,
                        names,
                        k,
                    )
                    for e in v
                    if isinstance(e, dict)
                }
            else:
                out[k] = value(v, world, names, k)
        if doc.get("kind") == "Table" and isinstance(out.get("rows"), list):
            ages = [
                i for i, c in enumerate(doc.get("columnDefinitions") or []) if c.get("name") in AGE_COLUMNS
            ]
            for row in out["rows"]:
                cells = row.get("cells") or []
                for i in ages:
                    if i < len(cells):
                        cells[i] = "<age>"
            out["rows"] = sorted(out["rows"], key=_sort_key)
        if isinstance(out.get("items"), list) and str(doc.get("kind", "")).endswith("List"):
            out["items"] = sorted(out["items"], key=_sort_key)
        return out
    if isinstance(doc, list):
        return [value(v, world, names, key) for v in doc]
    if isinstance(doc, str):
        return text(doc, world, names)
    return doc


def normalise(doc: Any, world: World, names: Names) -> Any:
    names.learn(doc)
    return value(doc, world, names)


# -- kubectl's text output -----------------------------------------------------------------------------


def parse_table(out: str) -> list[dict[str, str]] | None:
    """kubectl's column output (tabwriter, 3 spaces of padding) as rows of {column: cell}; None when the
    text is not one table."""
    lines = [line for line in out.splitlines() if line.strip()]
    word = r"[A-Z][A-Z0-9()/_.-]*"
    if not lines or not re.match(rf"^{word}( {word})*( {{3,}}{word}( {word})*)*\s*$", lines[0]):
        return None
    header = lines[0]
    starts = [m.start() for m in re.finditer(r"(?:^|(?<=   ))\S", header)]
    cols = [header[a:b].strip() for a, b in zip(starts, [*starts[1:], None], strict=True)]
    rows = []
    for line in lines[1:]:
        cells = [
            line[a:b].strip() if b is not None else line[a:].strip()
            for a, b in zip(starts, [*starts[1:], None], strict=True)
        ]
        rows.append(dict(zip(cols, cells, strict=True)))
    return rows


def kubectl_text(out: str, world: World, names: Names) -> Any:
    """Text output: tables (`get all` prints several, a blank line apart) become sorted rows (ages masked),
    anything else its masked lines."""
    sections = re.split(r"\n\s*\n", out.strip("\n"))
    tables = [parse_table(s) for s in sections]
    if not all(t is not None for t in tables):
        # ages masked, then runs of spaces collapsed (kubectl pads columns to the widest, masked, cell)
        return {
            "lines": [
                re.sub(r"(?<=\S) {2,}", "  ", AGE_IN_TEXT.sub("<age>", text(line, world, names)))
                for line in out.splitlines()
            ]
        }
    masked = []
    for table in tables:
        rows = [
            {
                k: ("<age>" if k in AGE_COLUMNS and DURATION.match(v) else text(v, world, names))
                for k, v in row.items()
            }
            for row in table or []
        ]
        masked.append(sorted(rows, key=_sort_key))
    return {"table": masked[0]} if len(masked) == 1 else {"tables": masked}
