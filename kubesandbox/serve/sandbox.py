"""`Sandbox`: a running API server over one scenario, for tests, the demo and `selfheal sandbox serve`.

    with Sandbox.start("ea-plan-v5") as sb:
        sb.url, sb.kubeconfig          # point kubectl or the official client here
        sb.get("Deployment", "dese-ea-plan-v5")
        sb.advance(60)                 # the clock moves only when told (unless wall_clock=True)
        sb.inject("GET", r"/pods$", status=503, times=2)

In tests the clock is frozen: controllers run only inside `advance`, so nothing changes
behind a test's back and nothing sleeps. With `wall_clock=True` (what `serve` uses) a
background loop follows wall time and reconciles a few times a second, so kubectl users see
controllers converge within seconds, as on a real cluster.
"""

from __future__ import annotations

import builtins
import contextlib
import copy
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import yaml

from kubesandbox.apiserver.faults import Fault, Faults
from kubesandbox.apiserver.rbac import Authenticator, Authorizer, service_accounts_in, tokens_for
from kubesandbox.apiserver.server import ApiServer, RequestRecord
from kubesandbox.controllers import ControllerManager
from kubesandbox.controllers.disruption import evict, orphan_dependents
from kubesandbox.http import HttpServer
from kubesandbox.resources import BY_KIND_ONLY, BY_PLURAL, RESOURCES, ResourceType, resource_for_kind
from kubesandbox.resources.clock import Clock
from kubesandbox.serve.kubeconfig import write_kubeconfig
from kubesandbox.serve.scenario import Scenario, load_into, load_scenario, replay_at
from kubesandbox.serve.tls import mint
from kubesandbox.store import Obj, Store

ADMIN_TOKEN = "sandbox-admin-token"
RECONCILE_INTERVAL = 0.2


def resource_type(kind_or_plural: str) -> ResourceType:
    """`Deployment`, `deployments`, `deploy` or `deployments.apps` → its ResourceType."""
    if kind_or_plural in BY_KIND_ONLY:
        return BY_KIND_ONLY[kind_or_plural]
    base, _, group = kind_or_plural.partition(".")
    for rt in RESOURCES:
        if base in (rt.plural, rt.singular, *rt.short_names) and (not group or group == rt.group):
            return rt
    raise KeyError(f"unknown resource {kind_or_plural!r}")


def _rbac_documents(paths: Sequence[str | os.PathLike[str]]) -> list[Obj]:
    docs: list[Obj] = []
    for p in paths:
        with open(p, encoding="utf-8") as fh:
            for doc in yaml.safe_load_all(fh):
                if isinstance(doc, dict) and doc.get("kind") == "List":
                    docs.extend(d for d in doc.get("items") or [] if isinstance(d, dict))
                elif isinstance(doc, dict):
                    docs.append(doc)
    return docs


class Sandbox:
    def __init__(
        self,
        scenario: Scenario,
        *,
        rbac_from: Sequence[str | os.PathLike[str]] = (),
        wall_clock: bool = False,
        port: int = 0,
        kubeconfig: str | os.PathLike[str] | None = None,
        seed: int = 0,
    ) -> None:
        self.namespace = scenario.namespace
        # The clock starts where the scenario was captured (scenario.timeline): a frozen clock at that very
        # moment; wall time at now, with the scenario moved to now so every age is what it was at capture.
        self.clock = Clock(wall=True) if wall_clock else Clock(scenario.captured_at)
        if wall_clock:
            scenario = replay_at(scenario, self.clock.now())
        self.scenario = scenario
        self.store = Store(self.clock, seed=seed)
        frozen = load_into(self.store, scenario)
        rbac_docs = _rbac_documents(rbac_from)
        for doc in rbac_docs:
            rt = resource_for_kind(str(doc.get("apiVersion", "")), str(doc.get("kind", "")))
            if rt is not None and rt.kind in ("ServiceAccount", "Role", "RoleBinding"):
                doc = copy.deepcopy(doc)
                meta = doc.setdefault("metadata", {})
                meta.setdefault("namespace", scenario.namespace)
                if self.store.peek(rt, meta.get("namespace"), meta.get("name", "")) is None:
                    if (
                        meta.get("namespace")
                        and self.store.peek(BY_PLURAL[("", "namespaces")], None, meta["namespace"]) is None
                    ):
                        self.store.load(
                            BY_PLURAL[("", "namespaces")], {"metadata": {"name": meta["namespace"]}}
                        )
                    self.store.load(rt, doc)
        self.service_accounts = service_accounts_in(rbac_docs, default_namespace=scenario.namespace)
        tokens = tokens_for(ADMIN_TOKEN, self.service_accounts)
        roles, bindings = (
            BY_PLURAL[("rbac.authorization.k8s.io", "roles")],
            BY_PLURAL[("rbac.authorization.k8s.io", "rolebindings")],
        )
        self.cert = mint()
        self.controllers = ControllerManager(
            self.store, scenario.behaviors, frozen, ca_pem=self.cert.ca_pem.decode()
        )
        self.faults = Faults()
        self.api = ApiServer(
            self.store,
            authenticator=Authenticator(
                tokens,
                service_account_exists=lambda ns, name: (
                    self.store.peek(BY_PLURAL[("", "serviceaccounts")], ns, name) is not None
                ),
            ),
            authorizer=Authorizer(
                lambda ns: list(self.store.iter_live(roles, ns)),
                lambda ns: list(self.store.iter_live(bindings, ns)),
            ),
            evict=evict,
            orphan=orphan_dependents,
            faults=self.faults,
        )
        self._tmp = tempfile.mkdtemp(prefix="selfheal-sandbox-")
        self._http = HttpServer(self.api, port)
        self._https = HttpServer(self.api, 0, tls=self.cert.server_context(Path(self._tmp)))
        self.kubeconfig = Path(kubeconfig) if kubeconfig else Path(self._tmp) / "kubeconfig"
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        with self.store.lock:
            self.controllers.reconcile()

    # -- lifecycle ------------------------------------------------------------------------------
    @classmethod
    @contextlib.contextmanager
    def start(cls, scenario: str | Scenario = "ea-plan-v5", **kwargs: Any) -> Iterator[Sandbox]:
        sb = cls(load_scenario(scenario) if isinstance(scenario, str) else scenario, **kwargs)
        sb.serve()
        try:
            yield sb
        finally:
            sb.close()

    def serve(self) -> None:
        self._http.start()
        self._https.start()
        write_kubeconfig(
            self.kubeconfig,
            self.url,
            self.namespace,
            ADMIN_TOKEN,
            self.service_accounts,
            secure_server=self.secure_url,
            ca_pem=self.cert.ca_pem,
        )
        if self.clock.wall:
            self._ticker = threading.Thread(
                target=self._tick_forever, name="sandbox-controllers", daemon=True
            )
            self._ticker.start()

    def _tick_forever(self) -> None:
        while not self._stop.wait(RECONCILE_INTERVAL):
            with self.store.lock:
                self.controllers.reconcile()

    def close(self) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join(timeout=5)
        self._http.stop()
        self._https.stop()
        shutil.rmtree(self._tmp, ignore_errors=True)

    @property
    def url(self) -> str:
        return self._http.url

    @property
    def secure_url(self) -> str:
        """The HTTPS port: bearer tokens (ServiceAccount contexts) are only sent over TLS."""
        return self._https.url

    @property
    def port(self) -> int:
        return self._http.port

    # -- time -----------------------------------------------------------------------------------
    def advance(self, seconds: float) -> None:
        """Move the simulated clock forward, running controllers as time passes."""
        with self.store.lock:
            self.controllers.advance(seconds)

    # -- direct object access (bypasses HTTP, RBAC and faults) ------------------------------------
    def get(self, kind: str, name: str, namespace: str | None = None) -> Obj:
        rt = resource_type(kind)
        return self.store.get(rt, (namespace or self.namespace) if rt.namespaced else None, name)

    def find(self, kind: str, name: str, namespace: str | None = None) -> Obj | None:
        rt = resource_type(kind)
        obj = self.store.peek(rt, (namespace or self.namespace) if rt.namespaced else None, name)
        return copy.deepcopy(obj) if obj is not None else None

    def list(
        self, kind: str, namespace: str | None = None, label_selector: str | None = None
    ) -> builtins.list[Obj]:
        rt = resource_type(kind)
        return self.store.list(rt, (namespace or self.namespace) if rt.namespaced else None, label_selector)

    def put(self, obj: Obj) -> Obj:
        """Create or replace an object directly (a test arranging the world)."""
        rt = resource_for_kind(obj["apiVersion"], obj["kind"])
        if rt is None:
            raise KeyError(f"unknown kind {obj['apiVersion']}/{obj['kind']}")
        obj = copy.deepcopy(obj)
        meta = obj.setdefault("metadata", {})
        if rt.namespaced:
            meta.setdefault("namespace", self.namespace)
        with self.store.lock:
            if self.store.peek(rt, meta.get("namespace"), meta["name"]) is None:
                return self.store.create(rt, obj)
            meta.pop("resourceVersion", None)
            return self.store.update(rt, obj, expect_rv=False)

    # -- faults and observation -----------------------------------------------------------------
    def inject(self, method: str, path: str, **kwargs: Any) -> Fault:
        """Make the next `times` requests matching METHOD and a path regex fail (see faults.Fault)."""
        return self.faults.add(Fault(method=method, path=path, **kwargs))

    @property
    def requests(self) -> builtins.list[RequestRecord]:
        return list(self.api.requests)

    def clear_requests(self) -> None:
        self.api.requests.clear()

    # -- clients ----------------------------------------------------------------------------------
    def api_client(self, context: str | None = None) -> Any:
        """An official-client ApiClient for the admin (or a `sa-<ns>-<name>` context)."""
        from kubernetes import client, config

        cfg = client.Configuration()
        config.load_kube_config(config_file=str(self.kubeconfig), context=context, client_configuration=cfg)
        return client.ApiClient(cfg)

    def kubectl(
        self,
        *args: str,
        context: str | None = None,
        check: bool = False,
        input: str | None = None,
        timeout: float = 60,
    ) -> subprocess.CompletedProcess[str]:
        """Run the machine's real kubectl against this sandbox with a private cache dir."""
        cache = Path(self._tmp) / "kubectl-cache"
        cmd = ["kubectl", f"--kubeconfig={self.kubeconfig}", f"--cache-dir={cache}"]
        if context:
            cmd.append(f"--context={context}")
        env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
        return subprocess.run(
            [*cmd, *args], capture_output=True, text=True, check=check, input=input, timeout=timeout, env=env
        )


def sandbox_contexts(service_accounts: Iterable[tuple[str, str]]) -> list[str]:
    return [f"sa-{ns}-{name}" for ns, name in service_accounts]
