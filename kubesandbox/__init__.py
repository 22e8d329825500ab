"""A Kubernetes API server emulator that real kubectl and the official client accept.

It is the embedded default world for `make demo` and the test world for everything else.
Layout: `resources` (what is served) → `store` (objects, resourceVersions, watch log) →
`apiserver` (verbs, discovery, tables, RBAC, dry-run) → `http` (transport) → `sandbox` (the
`Sandbox` facade); `controllers/` play kube-controller-manager and the kubelet.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kubesandbox.serve.sandbox import Sandbox

__all__ = ["Sandbox"]


def __getattr__(name: str) -> Any:  # lazy: importing a submodule must not start the whole server stack
    if name == "Sandbox":
        from kubesandbox.serve.sandbox import Sandbox

        return Sandbox
    raise AttributeError(name)
