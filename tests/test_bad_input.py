"""Bad input, every family of it, through the real command line: one line saying what is wrong, the exit code
it means, and never a traceback.

Each case is what a person or a manifest could really hand the job: settings (bad values, empty paths,
unknown or misspelt `SELFHEAL_*` variables, flags that do not exist), where the record goes (a directory,
under a file, where nothing may be written, a device), `selfheal history` and `selfheal hash` on files
that are not what they should be, kubeconfigs that are not kubeconfigs, API servers answering nonsense,
dumps that cannot be replayed, and annotations a strict reader refuses (a finding, exit 0, nothing done).
Exit 1 is for a failed action only: no case here gets it.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubesandbox import Sandbox
from selfheal.kube.model import ANN_CRONJOB_SUSPENDED, ANN_DESIRED_REPLICAS, ANN_IGNORE, ANN_TRAFFIC_SPLIT
from tests.builders import cronjob, deployment, namespace

KUBECONFIG_OK = {
    "apiVersion": "v1",
    "kind": "Config",
    "current-context": "c",
    "clusters": [{"name": "c", "cluster": {"server": "{server}"}}],
    "users": [{"name": "u", "user": {}}],
    "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u", "namespace": "shop"}}],
}
NO_CURRENT = {**KUBECONFIG_OK, "current-context": ""}
NO_NAMESPACE = {**KUBECONFIG_OK, "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}]}
MISSING_CERT = {
    **KUBECONFIG_OK,
    "clusters": [
        {
            "name": "c",
            "cluster": {"server": "https://127.0.0.1:9", "certificate-authority": "/nonexistent/ca.crt"},
        }
    ],
}
CM = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {"name": "c", "namespace": "a"},
    "data": {"k": "v"},
}
BINARY = bytes(range(256)) * 8
FIFO = object()  # a named pipe stands for every special file: never /dev/null (a regression would replace it)
DEPLOYMENT_MANIFEST = yaml.safe_dump(deployment("web", ns="shop"))


@dataclass(frozen=True)
class Case:
    id: str
    argv: tuple[
        str, ...
    ]  # `{tmp}`, `{server}` (a server of `needs`) and `{kc}` (its kubeconfig) are filled in
    exit: int
    message: str  # a regular expression the one line must match
    env: dict[str, str] = field(default_factory=dict)
    files: dict[str, Any] = field(
        default_factory=dict
    )  # relative path -> text, bytes, a dict (YAML) or None (dir)
    needs: str = ""  # a server: "sandbox", "empty404", "html500", "garbage200", "unauthorized"
    stream: str = (
        "stderr"  # where the line is: stderr (one line, `selfheal: ...`) or stdout (a JSON log event)
    )


def _settings(name: str, value: str, message: str, flag: bool = False) -> Case:
    """A bad value of one setting, by its environment variable (or its flag)."""
    argv = ("run", "--kubeconfig", "{kc}")  # refused before any API call
    env: dict[str, str] = {}
    if flag:
        argv = (*argv, f"--{name.replace('_', '-')}", value)
    else:
        env = {f"SELFHEAL_{name.upper()}": value}
    return Case(
        f"setting-{name}-{'flag' if flag else 'env'}-{value or 'empty'}",
        argv,
        2,
        message,
        env,
        needs="sandbox",
    )


def _typo(var: str, meant: str | None) -> Case:
    hint = f"did you mean {meant}\\?" if meant else "no such setting"
    return Case(
        f"unknown-{var}",
        ("plan", "--kubeconfig", "{kc}"),
        2,
        f"^selfheal: unknown setting {var}: {hint}",
        {var: "1"},
        needs="sandbox",
    )


def _record(which: str, path: str, message: str, files: dict[str, Any] | None = None) -> Case:
    flag = f"--{which}-file"
    return Case(
        f"{which}-{path.strip('/').replace('/', '_') or 'root'}",
        ("run", "--kubeconfig", "{kc}", flag, path),
        2,
        message,
        files=files or {},
        needs="sandbox",
    )


def _kubeconfig(id_: str, content: Any, message: str, *extra: str) -> Case:
    files = {} if content is None else {"kc.yaml": content}
    return Case(
        f"kubeconfig-{id_}",
        ("run", "--kubeconfig", "{tmp}/kc.yaml", "-n", "shop", *extra),
        2,
        message,
        files=files,
    )


def _dump(id_: str, content: Any, message: str, *extra: str) -> Case:
    files = {} if content is None else {"dump.yaml": content}
    return Case(f"dump-{id_}", ("plan", "--from-dump", "{tmp}/dump.yaml", *extra), 2, message, files=files)


def _annotation(id_: str, message: str) -> Case:
    return Case(
        f"annotation-{id_}",
        ("run", "--kubeconfig", "{kc}", "-n", f"ann-{id_}"),
        0,
        message,
        needs="sandbox",
        stream="stdout",
    )


CASES: list[Case] = [
    # -- settings: bad values (the line names the variable, and the flag only when there is one) --------
    _settings(
        "max_actions",
        "many",
        r"invalid setting max_actions \(env SELFHEAL_MAX_ACTIONS, flag --max-actions\): "
        r"Input should be a valid integer.*got 'many'",
    ),
    _settings(
        "max_actions", "-1", r"SELFHEAL_MAX_ACTIONS, flag --max-actions\): .*greater than or equal to 0"
    ),
    _settings("max_actions", "1001", r"SELFHEAL_MAX_ACTIONS.*less than or equal to 1000"),
    _settings(
        "max_actions", "-3", r"flag --max-actions\): .*greater than or equal to 0 \(got -3\)", flag=True
    ),
    _settings(
        "cooldown_seconds",
        "-5",
        r"invalid setting cooldown_seconds \(env SELFHEAL_COOLDOWN_SECONDS\): "
        r"Input should be greater than or equal to 0",
    ),
    _settings(
        "cooldown_seconds", "10m", r"\(env SELFHEAL_COOLDOWN_SECONDS\): Input should be a valid integer"
    ),
    _settings(
        "namespace", "Not_A_Namespace", r"SELFHEAL_NAMESPACE, flag --namespace\): not a valid namespace name"
    ),
    _settings("namespace", "a" * 64, r"SELFHEAL_NAMESPACE.*at most 63 chars"),
    _settings("namespace", "UPPER", r"flag --namespace\): not a valid namespace name", flag=True),
    _settings(
        "pushgateway_url",
        "pushgateway:9091",
        r"SELFHEAL_PUSHGATEWAY_URL, flag --pushgateway-url\): "
        r"not an http\(s\) URL",
    ),
    _settings(
        "pushgateway_url", "ftp://user:secret@gw/x", r"not an http\(s\) URL \(got 'ftp://\*\*\*@gw/x'\)$"
    ),
    _settings(
        "prometheus_url", "prometheus", r"SELFHEAL_PROMETHEUS_URL, flag --prometheus-url\): not an http"
    ),
    _settings("dry_run", "perhaps", r"SELFHEAL_DRY_RUN, flag --dry-run\): Input should be a valid boolean"),
    _settings("log_level", "verbose", r"SELFHEAL_LOG_LEVEL, flag --log-level\): not one of debug, info"),
    _settings(
        "log_format", "xml", r"SELFHEAL_LOG_FORMAT, flag --log-format\): not one of json, console, off"
    ),
    _settings("log_format", "yaml", r"flag --log-format\): not one of json, console, off", flag=True),
    _settings(
        "canary_error_threshold", "5", r"\(env SELFHEAL_CANARY_ERROR_THRESHOLD\): .*less than or equal to 1"
    ),
    _settings("page_size", "0", r"\(env SELFHEAL_PAGE_SIZE\): Input should be greater than or equal to 1"),
    _settings(
        "lease_duration_seconds", "1", r"\(env SELFHEAL_LEASE_DURATION_SECONDS\): .*greater than or equal"
    ),
    _settings("cronjob_name", "Self_Heal", r"\(env SELFHEAL_CRONJOB_NAME\): not a valid object name"),
    _settings("lease_name", "", r"\(env SELFHEAL_LEASE_NAME\): not a valid object name"),
    _settings(
        "escalation_window_seconds",
        "60",
        r"^selfheal: invalid settings: escalation_window_seconds \(60\) "
        r"must be at least cooldown_seconds \(600\)",
    ),
    _settings(
        "history_file",
        "",
        r"invalid setting history_file \(env SELFHEAL_HISTORY_FILE, flag --history-file\): "
        r"the path is empty",
    ),
    _settings("risk_file", " ", r"invalid setting risk_file .*: the path is empty"),
    _settings("history_file", "", r"flag --history-file\): the path is empty", flag=True),
    _settings("pass_deadline_seconds", "0", r"\(env SELFHEAL_PASS_DEADLINE_SECONDS\): .*greater than 0"),
    _settings(
        "history_max_bytes", "10", r"\(env SELFHEAL_HISTORY_MAX_BYTES\): .*greater than or equal to 65536"
    ),
    _settings(
        "restart_threshold", "zero", r"\(env SELFHEAL_RESTART_THRESHOLD\): Input should be a valid integer"
    ),
    # -- settings: unknown variables (exit 2, with the setting a typo most likely meant) -------------------
    _typo("SELFHEAL_DRYRUN", "SELFHEAL_DRY_RUN"),
    _typo("SELFHEAL_MAX_ACTION", "SELFHEAL_MAX_ACTIONS"),
    _typo("SELFHEAL_MAXACTIONS", "SELFHEAL_MAX_ACTIONS"),
    _typo("SELFHEAL_COOLDOWN", "SELFHEAL_COOLDOWN_SECONDS"),
    _typo("SELFHEAL_NAMESPCE", "SELFHEAL_NAMESPACE"),
    _typo("SELFHEAL_LOGLEVEL", "SELFHEAL_LOG_LEVEL"),
    _typo("SELFHEAL_PROMETHEUS", "SELFHEAL_PROMETHEUS_URL"),
    _typo("SELFHEAL_FOO", None),
    _typo("SELFHEAL_HISTORY_PATH", None),
    # -- the command line: one line, never argparse's usage block -------------------------------------------
    Case(
        "cli-unknown-command",
        ("frobnicate",),
        2,
        r"^selfheal: argument command: invalid choice: 'frobnicate'",
    ),
    Case("cli-no-command", (), 2, r"^selfheal: the following arguments are required: command"),
    Case(
        "cli-flag-not-int",
        ("run", "--max-actions", "many"),
        2,
        r"^selfheal: run: argument --max-actions: invalid int value: 'many' \(see `selfheal run --help`\)",
    ),
    Case(
        "cli-env-only-setting-as-flag",
        ("run", "--cooldown-seconds", "5"),
        2,
        r"unrecognized arguments: --cooldown-seconds 5; --cooldown-seconds is no flag: set "
        r"SELFHEAL_COOLDOWN_SECONDS",
    ),
    Case(
        "cli-unknown-flag",
        ("plan", "--frobnicate"),
        2,
        r"^selfheal: unrecognized arguments: --frobnicate \(see",
    ),
    Case("cli-history-n-not-int", ("history", "-n", "x"), 2, r"^selfheal: history: argument -n: invalid int"),
    Case(
        "cli-history-n-negative",
        ("history", "-n", "-1"),
        2,
        r"^selfheal: history: -n -1: give 0 or more lines",
    ),
    # -- where the record goes: the history and the risk report (exit 2 before anything is read) -----------
    _record("history", "{tmp}/logs", "^selfheal: cannot record: .*/logs: is a directory", {"logs": None}),
    _record(
        "history",
        "{tmp}/afile/history.log",
        "^selfheal: cannot record: .*/afile/history.log: "
        r"a parent is not a directory \(.*/afile is a file\)$",
        {"afile": "x"},
    ),
    _record(
        "history",
        "/sys/kernel/selfheal-history.log",
        "^selfheal: cannot record: /sys/kernel/selfheal-history"
        r"\.log: (permission denied|operation not permitted)",
    ),
    _record(
        "history",
        "{tmp}/pipe",
        r"^selfheal: cannot record: .*/pipe: is not a regular file \(a device, a pipe",
        {"pipe": FIFO},
    ),
    _record("risk", "{tmp}/aiops", "^selfheal: cannot record: .*/aiops: is a directory", {"aiops": None}),
    _record(
        "risk",
        "{tmp}/afile/risk.json",
        "^selfheal: cannot record: .*/afile/risk.json: "
        r"a parent is not a directory \(.*/afile is a file\)$",
        {"afile": "x"},
    ),
    _record(
        "risk",
        "/sys/kernel/selfheal-risk.json",
        "^selfheal: cannot record: /sys/kernel/selfheal-risk.json: "
        "(permission denied|operation not permitted)",
    ),
    _record(
        "risk",
        "{tmp}/pipe",
        r"^selfheal: cannot record: .*/pipe: is not a regular file \(a device, a pipe",
        {"pipe": FIFO},
    ),
    # -- selfheal history --------------------------------------------------------------------------------
    Case(
        "history-a-directory",
        ("history", "--history-file", "{tmp}/logs"),
        2,
        "^selfheal: .*/logs: is a directory, not the history file",
        files={"logs": None},
    ),
    Case(
        "history-a-pipe",
        ("history", "--history-file", "{tmp}/pipe"),
        2,
        r"^selfheal: .*/pipe: is not a regular file \(a device",
        files={"pipe": FIFO},
    ),
    Case(
        "history-empty-path",
        ("history", "--history-file", ""),
        2,
        "^selfheal: invalid setting history_file .*the path is empty",
    ),
    Case(
        "history-binary",
        ("history", "--history-file", "{tmp}/h.log"),
        0,
        "^selfheal: .*/h.log: the line at byte 0 does not parse, left out",
        files={"h.log": BINARY},
    ),
    # -- selfheal hash -----------------------------------------------------------------------------------
    Case(
        "hash-binary",
        ("hash", "{tmp}/m.yaml"),
        2,
        r"^selfheal: .*/m.yaml: not a YAML manifest \(not UTF-8 text\)",
        files={"m.yaml": BINARY},
    ),
    Case(
        "hash-not-yaml",
        ("hash", "{tmp}/m.yaml"),
        2,
        "^selfheal: .*/m.yaml: not valid YAML: .*line 2",
        files={"m.yaml": "key: [unclosed\n"},
    ),
    Case(
        "hash-plain-text",
        ("hash", "{tmp}/m.txt"),
        2,
        "^selfheal: .*/m.txt: no Deployment in the manifest",
        files={"m.txt": "just some words\n"},
    ),
    Case(
        "hash-empty",
        ("hash", "{tmp}/m.yaml"),
        2,
        "^selfheal: .*/m.yaml: no Deployment in the manifest",
        files={"m.yaml": ""},
    ),
    Case(
        "hash-missing", ("hash", "{tmp}/nope.yaml"), 2, "^selfheal: .*/nope.yaml: cannot read: No such file"
    ),
    Case(
        "hash-directory",
        ("hash", "{tmp}/d"),
        2,
        "^selfheal: .*/d: cannot read: Is a directory",
        files={"d": None},
    ),
    Case(
        "hash-list-of-strings",
        ("hash", "{tmp}/m.yaml"),
        2,
        "^selfheal: .*/m.yaml: no Deployment in the manifest",
        files={"m.yaml": "- a\n- b\n"},
    ),
    Case(
        "hash-deployment-without-template",
        ("hash", "{tmp}/m.yaml"),
        2,
        "^selfheal: .*/m.yaml: Deployment web has no spec.template",
        files={"m.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {}\n"},
    ),
    # -- kubeconfig (exit 2: configuration, not the cluster) ----------------------------------------------
    _kubeconfig(
        "a-list", "- a\n- b\n", r"^selfheal: kubeconfig: .*/kc.yaml: not a kubeconfig \(a YAML list; "
    ),
    _kubeconfig("empty", "", "^selfheal: kubeconfig: .*/kc.yaml: the file is empty$"),
    _kubeconfig("missing", None, "^selfheal: kubeconfig: .*/kc.yaml: no such file$"),
    _kubeconfig("binary", BINARY, "^selfheal: kubeconfig: .*/kc.yaml: not a text file$"),
    _kubeconfig(
        "a-string", "hello\n", r"^selfheal: kubeconfig: .*/kc.yaml: not a kubeconfig \(a YAML string; "
    ),
    _kubeconfig(
        "not-yaml", "clusters: [unclosed\n", r"^selfheal: kubeconfig: .*/kc.yaml: not YAML \(line 2\)$"
    ),
    _kubeconfig(
        "unknown-context",
        KUBECONFIG_OK,
        r"^selfheal: kubeconfig: .*/kc.yaml: no context 'nope' "
        r"\(it has: c\)$",
        "--context",
        "nope",
    ),
    _kubeconfig(
        "no-current-context",
        NO_CURRENT,
        "^selfheal: kubeconfig: .*/kc.yaml: no current-context; choose "
        r"one with --context \(it has: c\)$",
    ),
    _kubeconfig(
        "no-contexts",
        {"apiVersion": "v1", "kind": "Config", "current-context": "c"},
        r"^selfheal: kubeconfig: .*/kc.yaml: no context 'c' \(it has none\)$",
    ),
    _kubeconfig("missing-ca-file", MISSING_CERT, "^selfheal: kubeconfig: .*/kc.yaml: .*ca.crt"),
    Case(
        "kubeconfig-env-missing",
        ("run", "-n", "shop"),
        2,
        "^selfheal: kubeconfig: .*/absent.yaml: no such file$",
        env={"KUBECONFIG": "{tmp}/absent.yaml"},
    ),
    Case(
        "namespace-not-set",
        ("run", "--kubeconfig", "{tmp}/kc.yaml"),
        2,
        "^selfheal: namespace: not set",
        files={"kc.yaml": NO_NAMESPACE},
    ),
    # -- the API server answering nonsense (exit 3: the cluster) ------------------------------------------
    Case(
        "cluster-404-empty-body",
        ("run", "--kubeconfig", "{kc}", "--log-format", "off"),
        3,
        "^selfheal: cluster: 404 NotFound: POST /apis/coordination.k8s.io/v1/namespaces/shop/leases: the server "
        "answered 404 with an empty body$",
        needs="empty404",
    ),
    Case(
        "cluster-401-plain-text",
        ("run", "--kubeconfig", "{kc}", "--log-format", "off"),
        3,
        "^selfheal: cluster: 401 Unauthorized: Unauthorized$",
        needs="unauthorized",
    ),
    Case(
        "cluster-lists-not-json",
        ("run", "--kubeconfig", "{kc}", "--log-format", "off"),
        3,
        "^selfheal: cluster: .*pods.*(not JSON|undecodable|JSON)",
        needs="garbage200",
    ),
    Case(
        "cluster-unreachable",
        ("run", "--kubeconfig", "{tmp}/kc.yaml", "--log-format", "off"),
        3,
        "^selfheal: cluster: no answer",
        files={
            "kc.yaml": {
                **KUBECONFIG_OK,
                "clusters": [{"name": "c", "cluster": {"server": "http://127.0.0.1:9"}}],
            }
        },
    ),
    Case(
        "cluster-namespace-missing",
        ("run", "--kubeconfig", "{kc}", "-n", "nowhere", "--log-format", "off"),
        3,
        '^selfheal: cluster: 404 NotFound: namespaces "nowhere" not found',
        needs="sandbox",
    ),
    # -- dumps for --from-dump (exit 2) ---------------------------------------------------------------------
    _dump("not-yaml", "key: [unclosed\n", r"not YAML \(line 2\)"),
    _dump("a-list", "- just\n- a list\n", "not a Kubernetes dump"),
    _dump("a-mapping", "hello: world\n", "not a Kubernetes dump"),
    _dump(
        "mixed-namespaces",
        yaml.safe_dump_all([CM, {**CM, "metadata": {"name": "d", "namespace": "b"}}]),
        "mixes namespaces a, b: choose one with --namespace",
    ),
    _dump(
        "no-namespace",
        yaml.safe_dump_all([{**CM, "metadata": {"name": "c"}}]),
        "has no metadata.namespace: say which namespace",
    ),
    _dump(
        "namespace-not-in-it",
        yaml.safe_dump_all([CM]),
        r"namespace z is not in the dump \(it holds a\)",
        "--namespace",
        "z",
    ),
    _dump(
        "unknown-kind",
        yaml.safe_dump_all(
            [{"apiVersion": "v9", "kind": "Gizmo", "metadata": {"name": "g", "namespace": "a"}}]
        ),
        "no matches for kind",
    ),
    _dump("empty", "", "."),
    _dump("binary", BINARY, "."),
    _dump("missing", None, "."),
    Case(
        "dump-with-kubeconfig",
        ("plan", "--from-dump", "{tmp}/d.yaml", "--kubeconfig", "{tmp}/kc"),
        2,
        "^selfheal: --from-dump replays the dump in a sandbox of its own: drop --kubeconfig/--context",
        files={"d.yaml": yaml.safe_dump_all([CM])},
    ),
    # -- annotations a strict reader refuses: a finding, exit 0, nothing done --------------------------------
    _annotation("underscore", r'"cause": "invalid_annotation".*selfheal.dev/desired-replicas=\\"1_000\\"'),
    _annotation("negative", r'"cause": "invalid_annotation".*selfheal.dev/desired-replicas=\\"-3\\"'),
    _annotation("hex", r'"cause": "invalid_annotation".*selfheal.dev/desired-replicas=\\"0x10\\"'),
    _annotation("too-many", r'"cause": "invalid_annotation".*selfheal.dev/desired-replicas=\\"5000\\"'),
    _annotation("split", r'"cause": "traffic_split_invalid"'),
    _annotation(
        "ignore-yes",
        r'"reason": "ignored", "text": ".*selfheal.dev/ignore=\\"yes\\".*"event": "action.skipped"',
    ),
    _annotation("suspended-maybe", r'"event": "run.suspended"'),
]

ANNOTATED: dict[str, list[dict[str, Any]]] = {
    "underscore": [deployment("web", replicas=1, annotations={ANN_DESIRED_REPLICAS: "1_000"})],
    "negative": [deployment("web", replicas=1, annotations={ANN_DESIRED_REPLICAS: "-3"})],
    "hex": [deployment("web", replicas=1, annotations={ANN_DESIRED_REPLICAS: "0x10"})],
    "too-many": [deployment("web", replicas=1, annotations={ANN_DESIRED_REPLICAS: "5000"})],
    "split": [
        deployment("web", replicas=1, annotations={ANN_TRAFFIC_SPLIT: '{"canary": 10}'}),
        deployment("web-canary", replicas=1, labels={"app": "web", "track": "canary"}),
    ],
    "ignore-yes": [deployment("web", replicas=1, annotations={ANN_DESIRED_REPLICAS: "3", ANN_IGNORE: "yes"})],
    "suspended-maybe": [
        deployment("web", replicas=1, annotations={ANN_DESIRED_REPLICAS: "3"}),
        cronjob(annotations={ANN_CRONJOB_SUSPENDED: "maybe"}),
    ],
}


# --- servers ---------------------------------------------------------------------------------------------


@contextlib.contextmanager
def answering(
    status: int, body: bytes, content_type: str = "text/plain", lists_only: bool = False
) -> Iterator[str]:
    """An HTTP server answering every request with `status` and `body` (with `lists_only`: only list GETs,
    everything else 404 with a Status, as the API server would for a namespace without objects)."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            code, data, ctype = status, body, content_type
            if lists_only and not (self.command == "GET" and self.path.split("?")[0].endswith("/pods")):
                code, ctype = 404, "application/json"
                data = json.dumps(
                    {
                        "kind": "Status",
                        "status": "Failure",
                        "reason": "NotFound",
                        "code": 404,
                        "message": "not found",
                    }
                ).encode()
                if self.command == "POST":
                    code, data = 201, json.dumps({"kind": "Lease", "metadata": {"name": "x"}}).encode()
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def live() -> Iterator[Sandbox]:
    """A sandbox following wall time, holding one namespace per annotation case."""
    with Sandbox.start("ea-plan-v5", wall_clock=True) as sb:
        for case, objects in ANNOTATED.items():
            ns = f"ann-{case}"
            sb.put(namespace(ns))
            for obj in objects:
                obj = json.loads(json.dumps(obj))
                obj["metadata"]["namespace"] = ns
                sb.put(obj)
        yield sb


SERVERS = {
    "empty404": (404, b""),
    "unauthorized": (401, b"Unauthorized"),
}


def _kubeconfig_for(server: str, path: Path) -> Path:
    doc = json.loads(json.dumps(KUBECONFIG_OK).replace("{server}", server))
    path.write_text(yaml.safe_dump(doc))
    return path


def _write(root: Path, files: dict[str, Any], server: str) -> None:
    for rel, content in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if content is None:
            p.mkdir(exist_ok=True)
        elif content is FIFO:
            os.mkfifo(p)
        elif isinstance(content, bytes):
            p.write_bytes(content)
        elif isinstance(content, dict):
            p.write_text(yaml.safe_dump(json.loads(json.dumps(content).replace("{server}", server))))
        else:
            p.write_text(content)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_one_line_and_its_exit_code(case: Case, tmp_path: Path, request: pytest.FixtureRequest):
    with contextlib.ExitStack() as stack:
        server, kc = "http://127.0.0.1:9", tmp_path / "server.kubeconfig"
        sb: Sandbox | None = None
        if case.needs == "sandbox":
            sb = request.getfixturevalue("live")
            kc = Path(sb.kubeconfig)
            server = sb.url
        elif case.needs == "garbage200":
            server = stack.enter_context(
                answering(200, b"<html>not json</html>", "text/html", lists_only=True)
            )
            _kubeconfig_for(server, kc)
        elif case.needs:
            server = stack.enter_context(answering(*SERVERS[case.needs]))
            _kubeconfig_for(server, kc)
        _write(tmp_path, case.files, server)
        fill = {"{tmp}": str(tmp_path), "{kc}": str(kc), "{server}": server}
        argv = [_fill(a, fill) for a in case.argv]
        env = {k: _fill(v, fill) for k, v in case.env.items()}
        namespace_ = next((argv[i + 1] for i, a in enumerate(argv) if a == "-n"), "")
        before = _deployments(sb, namespace_) if sb is not None and namespace_.startswith("ann-") else None

        res = _selfheal(argv, env, tmp_path)

    assert "Traceback" not in res.stderr and "Traceback" not in res.stdout, res.stderr
    assert res.returncode == case.exit, (res.returncode, res.stderr[-2000:])
    if case.stream == "stderr":
        lines = res.stderr.strip().splitlines()
        assert len(lines) >= 1 and all(line.startswith("selfheal: ") for line in lines), res.stderr
        assert case.exit == 0 or len(lines) == 1, res.stderr  # an error is one line
        assert re.search(case.message, lines[0]), lines[0]
    else:
        assert res.stderr == "", res.stderr
        assert any(re.search(case.message, line) for line in res.stdout.splitlines()), res.stdout[-3000:]
    if before is not None:  # nothing was changed
        assert sb is not None and _deployments(sb, namespace_) == before
        writes = [
            r
            for r in sb.requests
            if r.method in ("PATCH", "POST", "PUT", "DELETE")
            and f"/namespaces/{namespace_}/" in r.path
            and "/leases" not in r.path
        ]
        assert writes == []


def test_the_corpus_covers_every_family_with_at_least_60_cases():
    families = {c.id.split("-", 1)[0] for c in CASES}
    assert len(CASES) >= 60
    assert families >= {
        "setting",
        "unknown",
        "cli",
        "history",
        "risk",
        "hash",
        "kubeconfig",
        "cluster",
        "dump",
        "annotation",
        "namespace",
    }
    assert all(c.exit != 1 for c in CASES)  # exit 1 means an action failed; bad input never does


def _fill(text: str, fill: dict[str, str]) -> str:
    for key, value in fill.items():
        text = text.replace(key, value)
    return text


def _deployments(sb: Sandbox, ns: str) -> dict[str, Any]:
    return {
        d["metadata"]["name"]: (d["spec"]["replicas"], d["metadata"].get("annotations"))
        for d in sb.list("Deployment", namespace=ns)
    }


def _selfheal(argv: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("SELFHEAL_") and k != "KUBECONFIG"}
    full["HOME"] = str(cwd)  # no ~/.kube/config of the machine's
    full.update(env)
    return subprocess.run(
        [sys.executable, "-m", "selfheal", *argv],
        capture_output=True,
        text=True,
        env=full,
        cwd=cwd,
        timeout=120,
    )
