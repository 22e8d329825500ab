"""What kube-controller-manager puts in every namespace: the `default` ServiceAccount (the serviceaccount
controller) and the `kube-root-ca.crt` ConfigMap holding the cluster's CA (the root-ca-cert-publisher), each
recreated when deleted. Pods' token volumes read that ConfigMap; the job lists ConfigMaps and sees it."""

from __future__ import annotations

import contextlib

from kubesandbox.controllers.context import Env
from kubesandbox.resources import BY_PLURAL, ResourceType
from kubesandbox.resources.errors import ApiError
from kubesandbox.resources.managed_fields import CONTROLLER_MANAGER
from kubesandbox.store import Obj

NAMESPACES = BY_PLURAL[("", "namespaces")]
SERVICEACCOUNTS = BY_PLURAL[("", "serviceaccounts")]
CONFIGMAPS = BY_PLURAL[("", "configmaps")]
ROOT_CA = "kube-root-ca.crt"
DESCRIPTION = (
    "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the "
    "internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of "
    "Kubernetes clusters."
)


class NamespaceContents:
    def __init__(self, env: Env, ca_pem: str) -> None:
        self.env = env
        self.ca_pem = ca_pem

    def sync(self, now: float) -> None:
        store = self.env.store
        for ns in list(store.iter_live(NAMESPACES)):
            meta = ns["metadata"]
            if meta.get("deletionTimestamp"):
                continue
            name = meta["name"]
            if store.peek(SERVICEACCOUNTS, name, "default") is None:
                # the serviceaccount controller's write records no managedFields on a real server
                self._create(SERVICEACCOUNTS, {"metadata": {"name": "default", "namespace": name}}, "")
            if store.peek(CONFIGMAPS, name, ROOT_CA) is None:
                self._create(
                    CONFIGMAPS,
                    {
                        "metadata": {
                            "name": ROOT_CA,
                            "namespace": name,
                            "annotations": {"kubernetes.io/description": DESCRIPTION},
                        },
                        "data": {"ca.crt": self.ca_pem},
                    },
                    CONTROLLER_MANAGER,
                )

    def _create(self, rt: ResourceType, obj: Obj, manager: str) -> None:
        with contextlib.suppress(ApiError):  # created meanwhile, or the namespace is going away
            self.env.store.create(rt, obj, manager=manager)
