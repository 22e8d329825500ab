"""The two worlds a differential test talks to: the real control plane (tools/k8s) and a sandbox.

Both are driven the same way: `http(...)` sends one request through the official Python client's
connection pool (the job's own path: `selfheal.kube.transport` does the same), `kubectl(...)` runs a
kubectl binary (v1.37.2 from .tools/k8s, or the machine's 1.32) with a private cache dir, and
`settle(...)` lets the controllers run: the sandbox's clock is advanced (it is frozen otherwise), the
real cluster is polled, both until the same condition holds.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import urllib3
from kubernetes import client, config

ROOT = Path(__file__).resolve().parents[3]
KUBECTL = {
    "1.37": ROOT / ".tools" / "k8s" / "v1.37.2" / "bin" / "kubectl",
    "1.32": Path(shutil.which("kubectl") or "/usr/bin/kubectl"),  # the machine's, as tests/kubesandbox use
}

JSON = "application/json"
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"


@dataclass
class Answer:
    """What one request got: the HTTP status (or kubectl's exit code), the body (parsed JSON when it is
    JSON, else text), and for kubectl its stderr."""

    status: int
    body: Any
    stderr: str = ""
    content_type: str = ""

    def json(self) -> Any:
        return self.body


@dataclass
class World:
    side: str  # "real" or "sandbox"
    url: str
    kubeconfig: Path
    namespace: str
    advance: Callable[[float], None] | None = None  # the sandbox's clock; None = wall time (real)
    tmp: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="differential-")))
    uids: dict[str, str] = field(default_factory=dict)  # uid -> "Kind/name", for the normaliser
    tokens: dict[str, str] = field(default_factory=dict)  # ServiceAccount "ns/name" -> bearer token
    secure_url: str = ""  # where bearer tokens go (the sandbox's HTTPS port; the real URL)
    ca_file: str = ""
    _api: Any = None

    # -- the official client's pool ---------------------------------------------------------------
    def api_client(self) -> Any:
        if self._api is None:
            cfg = client.Configuration()
            config.load_kube_config(
                config_file=str(self.kubeconfig), context="admin", client_configuration=cfg
            )
            self._api = client.ApiClient(cfg)
        return self._api

    def _token_client(self, token: str) -> Any:
        cfg = client.Configuration()
        cfg.host = self.secure_url or self.url
        cfg.ssl_ca_cert = self.ca_file or None
        cfg.api_key = {"authorization": f"Bearer {token}"}
        return client.ApiClient(cfg)

    def http(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str] | list[tuple[str, str]] | None = None,
        body: Any = None,
        content_type: str = JSON,
        accept: str = JSON,
        as_user: str = "",
    ) -> Answer:
        """One request. `body`: bytes as they are, anything else JSON-encoded. `as_user`: a ServiceAccount
        "ns/name" whose bearer token is sent (over TLS) instead of the admin's credentials."""
        api = self._token_client(self.token(as_user)) if as_user else self.api_client()
        items = list(query.items()) if isinstance(query, Mapping) else list(query or [])
        headers = {"Accept": accept}
        raw: bytes | None = None
        if body is not None:
            raw = body if isinstance(body, bytes) else json.dumps(body).encode()
            headers["Content-Type"] = content_type
        m, url, headers, _, _ = api.param_serialize(
            method, path, header_params=headers, auth_settings=["BearerToken"]
        )
        if items:
            url += "?" + urlencode(items, quote_via=quote)
        resp = api.rest_client.pool_manager.request(
            m, url, body=raw, headers=headers, retries=False, timeout=urllib3.Timeout(connect=5, read=30)
        )
        ctype = resp.headers.get("Content-Type", "")
        data = resp.data
        parsed: Any
        try:
            parsed = json.loads(data) if data else None
        except ValueError:
            parsed = data.decode(errors="replace")
        self.remember(parsed)
        return Answer(resp.status, parsed, content_type=ctype)

    def token(self, as_user: str) -> str:
        """The bearer token of ServiceAccount `as_user` ("<ns>/name": the test's namespace), or a token
        nobody issued for "bad"."""
        if as_user == "bad":
            return "not-a-token-anyone-issued"
        return self.tokens[as_user.replace("<ns>", self.namespace)]

    # -- kubectl ----------------------------------------------------------------------------------
    def kubectl(
        self,
        *args: str,
        version: str = "1.37",
        input: str | None = None,
        as_user: str = "",
        timeout: float = 60,
    ) -> Answer:
        cache = self.tmp / f"kubectl-cache-{version}"
        cmd = [str(KUBECTL[version]), f"--kubeconfig={self.kubeconfig}", f"--cache-dir={cache}"]
        if as_user:
            cmd = [
                str(KUBECTL[version]),
                f"--server={self.secure_url or self.url}",
                f"--certificate-authority={self.ca_file}",
                f"--token={self.token(as_user)}",
                f"--cache-dir={self.tmp / ('kubectl-cache-sa-' + version)}",
            ]
        else:
            cmd.append("--context=admin")
        env = {"PATH": "/usr/bin:/bin", "HOME": str(self.tmp)}
        r = subprocess.run(
            [*cmd, *args], input=input, capture_output=True, text=True, timeout=timeout, env=env
        )
        out: Any = r.stdout
        if r.returncode == 0 and r.stdout.lstrip().startswith(("{", "[")):
            with contextlib.suppress(ValueError):
                out = json.loads(r.stdout)
        self.remember(out)
        return Answer(r.returncode, out, r.stderr)

    # -- reading the world ------------------------------------------------------------------------
    def get(self, path: str, **query: str) -> Any:
        a = self.http("GET", path, query=query)
        assert a.status == 200, (self.side, path, a.body)
        return a.body

    def remember(self, doc: Any, kind: str = "") -> None:
        """Note every object's uid, so the normaliser can print uids as the object they belong to. List items
        carry no kind on a real server: they get the list's."""
        if isinstance(doc, dict):
            meta = doc.get("metadata")
            k = doc.get("kind") or kind
            if isinstance(meta, dict) and isinstance(meta.get("uid"), str) and k:
                self.uids.setdefault(meta["uid"], f"{k}/{meta.get('name', '')}")
            item_kind = (
                str(doc.get("kind", "")).removesuffix("List")
                if str(doc.get("kind", "")).endswith("List")
                else ""
            )
            for key, v in doc.items():
                if isinstance(v, (dict, list)):
                    self.remember(v, item_kind if key == "items" else "")
        elif isinstance(doc, list):
            for v in doc:
                self.remember(v, kind)

    # -- controllers --------------------------------------------------------------------------------
    def settle(self, until: Callable[[World], Any], timeout: float = 120, step: float = 1.0) -> bool:
        """Let the controllers run until `until(self)` holds: advance the sandbox's clock by `step`
        seconds at a time (at most `timeout` simulated seconds), poll the real cluster (at most
        `timeout` wall seconds). True when it converged."""
        spent = 0.0
        while True:
            try:
                if until(self):
                    return True
            except (AssertionError, KeyError, IndexError, TypeError):
                pass
            if spent >= timeout:
                return False
            if self.advance is not None:
                self.advance(step)
            else:
                time.sleep(min(step, 0.5))
            spent += step if self.advance is not None else min(step, 0.5)
