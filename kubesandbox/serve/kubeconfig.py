"""The kubeconfig the sandbox hands out: one cluster, the admin, and one user/context per ServiceAccount.

Why contexts per ServiceAccount: the self-healing job must be exercised with the credentials it has
in production (its ServiceAccount's token), so `kubectl --context sa-<ns>-<name>` and
`kubernetes.config.load_kube_config(context=...)` act exactly as that account, and RBAC denials show up.

When the sandbox also listens with TLS, the ServiceAccount contexts use that port, as cluster
`sandbox-tls` (its CA inlined as `certificate-authority-data`): kubectl (client-go's clientcmd)
attaches user credentials only for an `https` server and silently sends no token over plain HTTP
(kubernetes/kubectl#744), so an SA context on the HTTP port would not act as the account at all.
The `admin` context stays on plain HTTP.

The file holds bearer tokens, so it is written 0600, and atomically (temporary file in the same
directory, then `os.replace`) so a client that reads it while the sandbox (re)writes it never sees a
half-written file.
"""

from __future__ import annotations

import base64
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from kubesandbox.apiserver.rbac import token_for

CLUSTER_NAME = "sandbox"
TLS_CLUSTER_NAME = "sandbox-tls"
ADMIN_NAME = "admin"


def context_name(namespace: str, name: str) -> str:
    """The user and context name of ServiceAccount `namespace/name` in the kubeconfig: `sa-<ns>-<name>`."""
    return f"sa-{namespace}-{name}"


def kubeconfig(
    server: str,
    namespace: str,
    admin_token: str,
    service_accounts: Iterable[tuple[str, str]],
    *,
    secure_server: str | None = None,
    ca_pem: bytes | str | None = None,
) -> dict[str, Any]:
    """The kubeconfig document: cluster `sandbox` (plain HTTP, no TLS), context `admin` current.

    Each ServiceAccount (namespace, name) gets a user and a context named `sa-<ns>-<name>` whose
    default namespace is the account's own. Repeated accounts are listed once; two different accounts
    that would share a context name (`a-b/c` and `a/b-c`) are refused rather than silently merged.
    With `secure_server` (and the PEM of the CA that signed its certificate) the ServiceAccount
    contexts use cluster `sandbox-tls` instead (see the module docstring).
    """
    users: list[dict[str, Any]] = [{"name": ADMIN_NAME, "user": {"token": admin_token}}]
    contexts: list[tuple[str, str]] = [(ADMIN_NAME, namespace)]  # (user = context name, namespace)
    owners: dict[str, tuple[str, str]] = {}
    for sa_namespace, sa_name in service_accounts:
        entry = context_name(sa_namespace, sa_name)
        if entry in owners:
            if owners[entry] != (sa_namespace, sa_name):
                other = "/".join(owners[entry])
                raise ValueError(
                    f"ServiceAccounts {other} and {sa_namespace}/{sa_name} would both be context {entry!r}"
                )
            continue
        owners[entry] = (sa_namespace, sa_name)
        users.append({"name": entry, "user": {"token": token_for(sa_namespace, sa_name)}})
        contexts.append((entry, sa_namespace))

    clusters: list[dict[str, Any]] = [{"name": CLUSTER_NAME, "cluster": {"server": server}}]
    sa_cluster = CLUSTER_NAME
    if secure_server:
        if not ca_pem:
            raise ValueError("a TLS server needs the PEM of its CA")
        pem = ca_pem.encode() if isinstance(ca_pem, str) else ca_pem
        clusters.append(
            {
                "name": TLS_CLUSTER_NAME,
                "cluster": {
                    "server": secure_server,
                    "certificate-authority-data": base64.b64encode(pem).decode("ascii"),
                },
            }
        )
        sa_cluster = TLS_CLUSTER_NAME
    entries = [
        _context(user, CLUSTER_NAME if user == ADMIN_NAME else sa_cluster, ns) for user, ns in contexts
    ]
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": clusters,
        "users": users,
        "contexts": entries,
        "current-context": ADMIN_NAME,
        "preferences": {},
    }


def _context(name: str, cluster: str, namespace: str) -> dict[str, Any]:
    return {"name": name, "context": {"cluster": cluster, "user": name, "namespace": namespace}}


def write_kubeconfig(
    path: Path,
    server: str,
    namespace: str,
    admin_token: str,
    service_accounts: Iterable[tuple[str, str]],
    *,
    secure_server: str | None = None,
    ca_pem: bytes | str | None = None,
) -> None:
    """Write `kubeconfig(...)` to `path` atomically with mode 0600 (see the module docstring)."""
    document = kubeconfig(
        server, namespace, admin_token, service_accounts, secure_server=secure_server, ca_pem=ca_pem
    )
    text = yaml.safe_dump(document, sort_keys=False, default_flow_style=False)
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            os.fchmod(f.fileno(), 0o600)
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
