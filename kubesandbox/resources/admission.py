"""Admission plugins every real API server runs on pods, whoever creates them (a user or a controller).

`ServiceAccount` (plugin/pkg/admission/serviceaccount): unless automounting is switched off (the pod's
`automountServiceAccountToken`, else its ServiceAccount's), every container and init container that does not
already mount something at /var/run/secrets/kubernetes.io/serviceaccount gets the projected token volume
`kube-api-access-<5 random characters>` mounted there read-only, and the volume is appended to the pod: a
bound token, the `kube-root-ca.crt` ConfigMap's CA and the namespace, mode 0644.
"""

from __future__ import annotations

from typing import Any

Obj = dict[str, Any]

TOKEN_MOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"
TOKEN_VOLUME_PREFIX = "kube-api-access-"
TOKEN_EXPIRATION_SECONDS = 3607  # the admission plugin's default (an hour plus a little, so clients refresh)


def _token_volume(name: str) -> Obj:
    return {
        "name": name,
        "projected": {
            "sources": [
                {"serviceAccountToken": {"expirationSeconds": TOKEN_EXPIRATION_SECONDS, "path": "token"}},
                {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                {
                    "downwardAPI": {
                        "items": [
                            {
                                "path": "namespace",
                                "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"},
                            }
                        ]
                    }
                },
            ],
            "defaultMode": 420,
        },
    }


def automounts(pod: Obj, service_account: Obj | None) -> bool:
    """`shouldAutomount`: the pod's setting wins, then the ServiceAccount's; true when neither says."""
    spec = pod.get("spec") or {}
    if isinstance(spec.get("automountServiceAccountToken"), bool):
        return bool(spec["automountServiceAccountToken"])
    if service_account is not None and isinstance(service_account.get("automountServiceAccountToken"), bool):
        return bool(service_account["automountServiceAccountToken"])
    return True


def mount_service_account_token(pod: Obj, random_suffix: str) -> None:
    """`mountServiceAccountToken`: the token volume and its mounts (an existing `kube-api-access-*` volume is
    reused)."""
    spec = pod.setdefault("spec", {})
    volumes = spec.get("volumes") or []
    existing = next(
        (
            v["name"]
            for v in volumes
            if isinstance(v, dict) and str(v.get("name", "")).startswith(TOKEN_VOLUME_PREFIX)
        ),
        "",
    )
    name = existing or TOKEN_VOLUME_PREFIX + random_suffix
    needs_volume = False
    for field in ("initContainers", "containers"):
        for c in spec.get(field) or []:
            if not isinstance(c, dict):
                continue
            mounts = c.get("volumeMounts") or []
            if any(isinstance(m, dict) and m.get("mountPath") == TOKEN_MOUNT_PATH for m in mounts):
                continue
            c["volumeMounts"] = [*mounts, {"name": name, "readOnly": True, "mountPath": TOKEN_MOUNT_PATH}]
            needs_volume = True
    if needs_volume and not existing:
        spec["volumes"] = [*volumes, _token_volume(name)]
