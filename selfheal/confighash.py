"""One config hash for a pod template, shared by `selfheal hash` (CI) and the config-drift detector.

The problem it solves: CI stamps `selfheal.dev/config-hash` on a Deployment from the manifest *as
written*; the detector later hashes the *live* template, which the API server has defaulted,
canonicalised and annotated. Both sides go through the same `normalise_template`, which removes that
noise, so `config_hash(manifest_template) == config_hash(live_template)` until somebody really
changes the template.

Normalisation rules (applied to a deep copy, in this order):

1. Fields controllers and tools add are dropped:
   - template annotations `kubectl.kubernetes.io/restartedAt` (kubectl rollout restart and our own
     rolling restart), `selfheal.dev/config-checksum` (our ConfigMap rolling restart; also lets CI
     stamp it without changing the hash), `selfheal.dev/config-hash` (never belongs in a template;
     dropped so stamping it by mistake cannot make the hash self-referential),
     `argocd.argoproj.io/tracking-id` (Argo CD annotation tracking);
   - template label `pod-template-hash` (the Deployment controller puts it on ReplicaSet templates);
   - `metadata.creationTimestamp` (the API server renders it as `null`).
   `app.kubernetes.io/instance` is NOT dropped: Argo CD adds it to the Deployment's own metadata,
   never to the pod template, while Helm charts write it into templates on purpose.
2. API-server defaults are dropped when the value equals the default (k8s.io/kubernetes
   `pkg/apis/core/v1/defaults.go`): pod `restartPolicy: Always`, `terminationGracePeriodSeconds: 30`,
   `dnsPolicy: ClusterFirst`, `schedulerName: default-scheduler`; container `imagePullPolicy`
   (`Always` for an untagged or `:latest` image without digest, else `IfNotPresent`),
   `terminationMessagePath: /dev/termination-log`, `terminationMessagePolicy: File`, port
   `protocol: TCP`; probe `timeoutSeconds: 1`, `periodSeconds: 10`, `successThreshold: 1`,
   `failureThreshold: 3`; every `httpGet` `scheme: HTTP` and `path: /`; every `fieldRef`
   `apiVersion: v1`; `defaultMode: 420` of configMap/secret/projected/downwardAPI volumes.
3. Zero values of Go `omitempty` fields the API server never echoes are dropped (`false`, `0`, `""`
   for `stdin`, `stdinOnce`, `tty`, `workingDir`, `readOnly`, `subPath`, `subPathExpr`,
   `initialDelaySeconds`, `hostPort`, `hostIP`, `hostNetwork`, `hostPID`, `hostIPC`, `nodeName`,
   `serviceAccountName`, `hostname`, `subdomain`, `priorityClassName`, env `value`). Pointer fields
   whose zero is meaningful (`runAsUser: 0`, `automountServiceAccountToken: false`,
   `terminationGracePeriodSeconds: 0`, ...) are kept on purpose: a drift to them must show.
4. Resource quantities (`limits`, `requests`, `overhead`, `sizeLimit`) are compared by value
   (`1Gi` == `1024Mi`, `0.5` == `500m`), because the API server canonicalises their spelling.
5. `null`, `{}` and `[]` are dropped everywhere (the API omits empty values: `resources: {}`,
   `securityContext: {}`, `args: []` mean the same as absent).
6. The result is serialised as canonical JSON (sorted keys, no whitespace, UTF-8), so key order in
   the manifest never matters; list order does (containers and env vars are ordered in Kubernetes).

The hash is `sha256:<64 hex>` of that JSON. It hashes the template AS WRITTEN, plus the removals
above; nothing is ever *added*. A default the table does not know shows up as drift on a field the
manifest never mentions (the detector names it); the planner's escalation ladder then stops after one
restore (needs_human) instead of fighting the API server.

How CI stamps it: render the final manifest (e.g. `kustomize build deploy/overlays/prod > out.yaml`),
run `selfheal hash out.yaml` (one `name sha256:...` line per Deployment) and set
`metadata.annotations["selfheal.dev/config-hash"]` of each Deployment (its own metadata, not the
template's, so stamping does not change the hash). Where the file also holds the ConfigMaps a template
reads, `selfheal hash` prints their combined checksum for the template annotation
`selfheal.dev/config-checksum` (ignored by the hash, see rule 1).
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import msgspec
import yaml

from selfheal.kube.model import PodTemplate

HASH_PREFIX = "sha256:"
_HASH_RE = re.compile(r"^sha256:[0-9a-f]{64}$")

IGNORED_TEMPLATE_ANNOTATIONS = frozenset(
    {
        "kubectl.kubernetes.io/restartedAt",
        "selfheal.dev/config-checksum",
        "selfheal.dev/config-hash",
        "argocd.argoproj.io/tracking-id",
    }
)
IGNORED_TEMPLATE_LABELS = frozenset({"pod-template-hash"})

_POD_SPEC_DEFAULTS: Mapping[str, Any] = {
    "restartPolicy": "Always",
    "terminationGracePeriodSeconds": 30,
    "dnsPolicy": "ClusterFirst",
    "schedulerName": "default-scheduler",
}
_CONTAINER_DEFAULTS: Mapping[str, Any] = {
    "terminationMessagePath": "/dev/termination-log",
    "terminationMessagePolicy": "File",
}
_PROBE_DEFAULTS: Mapping[str, Any] = {
    "timeoutSeconds": 1,
    "periodSeconds": 10,
    "successThreshold": 1,
    "failureThreshold": 3,
}
_PROBES = ("livenessProbe", "readinessProbe", "startupProbe")
_MODE_VOLUMES = ("configMap", "secret", "projected", "downwardAPI")
_OMITEMPTY_ZERO_KEYS = frozenset(
    {
        "stdin",
        "stdinOnce",
        "tty",
        "workingDir",
        "readOnly",
        "subPath",
        "subPathExpr",
        "initialDelaySeconds",
        "hostPort",
        "hostIP",
        "hostNetwork",
        "hostPID",
        "hostIPC",
        "nodeName",
        "serviceAccountName",
        "hostname",
        "subdomain",
        "priorityClassName",
        "value",
    }
)
_QUANTITY_MAP_KEYS = frozenset({"limits", "requests", "overhead"})
_QUANTITY_RE = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+))([eE][+-]?\d+|[KMGTPE]i|[numkMGTPE])?$")
_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "k": Decimal(10**3),
    "M": Decimal(10**6),
    "G": Decimal(10**9),
    "T": Decimal(10**12),
    "P": Decimal(10**15),
    "E": Decimal(10**18),
}


class ConfigHashError(ValueError):
    """A manifest that cannot be hashed (unreadable, not YAML, Deployment without a name)."""


# --- normalisation ----------------------------------------------------------------------------------


def default_pull_policy(image: str) -> str:
    """The API server's default `imagePullPolicy`: Always for `:latest` or no tag (and no digest)."""
    last = image.rsplit("/", 1)[-1]
    if "@" in image:
        return "IfNotPresent"
    tag = last.split(":", 1)[1] if ":" in last else "latest"
    return "Always" if tag == "latest" else "IfNotPresent"


def _quantity_value(raw: Any) -> Any:
    """Canonical value string of a resource quantity, or `raw` unchanged when it is not one."""
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        return raw
    m = _QUANTITY_RE.match(str(raw).strip())
    if m is None:
        return raw
    try:
        number = Decimal(m.group(1))
    except InvalidOperation:
        return raw
    suffix = m.group(2) or ""
    if suffix in _BINARY:
        number *= _BINARY[suffix]
    elif suffix in _DECIMAL:
        number *= _DECIMAL[suffix]
    elif suffix:
        number = number.scaleb(int(suffix[1:]))
    return format(number.normalize(), "f")


def _drop_defaults(doc: dict[str, Any], defaults: Mapping[str, Any]) -> None:
    for key, default in defaults.items():
        if key in doc and doc[key] == default:
            del doc[key]


def _normalise_container(c: dict[str, Any]) -> None:
    _drop_defaults(c, _CONTAINER_DEFAULTS)
    if "imagePullPolicy" in c and c["imagePullPolicy"] == default_pull_policy(str(c.get("image", ""))):
        del c["imagePullPolicy"]
    for port in c.get("ports") or []:
        if isinstance(port, dict) and port.get("protocol") == "TCP":
            del port["protocol"]
    for name in _PROBES:
        if isinstance(c.get(name), dict):
            _drop_defaults(c[name], _PROBE_DEFAULTS)


def _walk(node: Any, parent_key: str = "") -> Any:
    """Generic rules by key name (httpGet, fieldRef, omitempty zeros, quantities), then pruning."""
    if isinstance(node, list):
        items = [_walk(v, parent_key) for v in node]
        return [v for v in items if not _is_empty(v)]
    if not isinstance(node, dict):
        return node
    if parent_key == "httpGet":
        if node.get("scheme") == "HTTP":
            node.pop("scheme")
        if node.get("path") == "/":
            node.pop("path")
    if parent_key == "grpc" and node.get("service") == "":  # SetDefaults_GRPCAction
        node.pop("service")
    if parent_key == "hostPath" and node.get("type") == "":  # SetDefaults_HostPathVolumeSource
        node.pop("type")
    if (
        parent_key == "serviceAccountToken" and node.get("expirationSeconds") == 3600
    ):  # ...ServiceAccountTokenProjection
        node.pop("expirationSeconds")
    if (
        parent_key == "resourceFieldRef" and _quantity_value(node.get("divisor", "")) == "0"
    ):  # a zero divisor is printed
        node.pop("divisor")
    if parent_key == "fieldRef" and node.get("apiVersion") == "v1":
        node.pop("apiVersion")
    if parent_key in _QUANTITY_MAP_KEYS:
        node = {k: _quantity_value(v) for k, v in node.items()}
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _OMITEMPTY_ZERO_KEYS and not isinstance(value, dict | list) and value in (False, 0, ""):
            continue
        if key == "sizeLimit":
            value = _quantity_value(value)
        value = _walk(value, key)
        if not _is_empty(value):
            out[key] = value
    return out


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, dict | list) and not value)


def normalise_template(template: Mapping[str, Any]) -> dict[str, Any]:
    """The normalised form of a pod template (see the module docstring); the input is not modified."""
    doc: dict[str, Any] = copy.deepcopy(dict(template))
    meta = doc.get("metadata")
    if isinstance(meta, dict):
        meta.pop("creationTimestamp", None)
        for key, ignored in (
            ("annotations", IGNORED_TEMPLATE_ANNOTATIONS),
            ("labels", IGNORED_TEMPLATE_LABELS),
        ):
            if isinstance(meta.get(key), dict):
                meta[key] = {k: v for k, v in meta[key].items() if k not in ignored}
    spec = doc.get("spec")
    if isinstance(spec, dict):
        _drop_defaults(spec, _POD_SPEC_DEFAULTS)
        if "serviceAccount" in spec and spec["serviceAccount"] == spec.get("serviceAccountName"):
            del spec[
                "serviceAccount"
            ]  # the deprecated alias the API server keeps equal to serviceAccountName
        for c in (spec.get("initContainers") or []) + (spec.get("containers") or []):
            if isinstance(c, dict):
                _normalise_container(c)
        for vol in spec.get("volumes") or []:
            for src in _MODE_VOLUMES:
                if (
                    isinstance(vol, dict)
                    and isinstance(vol.get(src), dict)
                    and vol[src].get("defaultMode") == 420
                ):
                    del vol[src]["defaultMode"]
    result = _walk(doc)
    return result if isinstance(result, dict) else {}


def canonical_json(value: Any) -> bytes:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def _sha256(payload: bytes) -> str:
    return HASH_PREFIX + hashlib.sha256(payload).hexdigest()


def config_hash(template: Mapping[str, Any]) -> str:
    """`sha256:<hex>` of the normalised pod template."""
    return _sha256(canonical_json(normalise_template(template)))


def is_config_hash(value: str) -> bool:
    return bool(_HASH_RE.match(value))


# --- ConfigMap checksums ------------------------------------------------------------------------------


def configmap_checksum(data: Mapping[str, str] | None, binary_data: Mapping[str, str] | None) -> str:
    """`sha256:<hex>` of one ConfigMap's content (`data` and `binaryData` as base64 text).

    Absent and empty maps hash the same; key order never matters.
    """
    return _sha256(canonical_json({"binaryData": dict(binary_data or {}), "data": dict(data or {})}))


def combined_checksum(per_configmap: Mapping[str, str | None]) -> str:
    """The value of the template annotation `selfheal.dev/config-checksum`.

    `per_configmap` maps every ConfigMap name the template reads to its `configmap_checksum`, or None
    when it does not exist (an optional reference). Always the combined form, even for one ConfigMap,
    so adding a second reference does not change the rule.
    """
    return _sha256(canonical_json(dict(per_configmap)))


# --- diffs ----------------------------------------------------------------------------------------------

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_MISSING = object()


def _join(path: str, key: str) -> str:
    part = key if _IDENT.match(key) else json.dumps(key)
    if not _IDENT.match(key):
        return f"{path}[{part}]"
    return f"{path}.{part}" if path else part


def _named(items: list[Any]) -> list[str] | None:
    names = [i.get("name") for i in items if isinstance(i, dict)]
    if (
        len(names) != len(items)
        or not all(isinstance(n, str) for n in names)
        or len(set(names)) != len(names)
    ):
        return None
    return [str(n) for n in names]


def _diff(a: Any, b: Any, path: str, out: list[str]) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            _diff(a.get(key, _MISSING), b.get(key, _MISSING), _join(path, key), out)
        return
    if isinstance(a, list) and isinstance(b, list):
        names_a, names_b = _named(a), _named(b)
        if names_a is not None and names_b is not None:
            common = [n for n in names_a if n in names_b]
            if common != [n for n in names_b if n in names_a]:
                out.append(path)  # same members, different order
                return
            by_a = dict(zip(names_a, a, strict=True))
            by_b = dict(zip(names_b, b, strict=True))
            for name in names_a + [n for n in names_b if n not in by_a]:
                _diff(by_a.get(name, _MISSING), by_b.get(name, _MISSING), f"{path}[name={name}]", out)
            return
        if len(a) == len(b):
            for i, (x, y) in enumerate(zip(a, b, strict=True)):
                _diff(x, y, f"{path}[{i}]", out)
            return
    if a != b or type(a) is not type(b):  # 1 vs 1.0 vs True hash differently, so they differ here too
        out.append(path)


def drifted_fields(recorded_template: Mapping[str, Any], live_template: Mapping[str, Any]) -> list[str]:
    """Paths (`spec.containers[name=web].image`) where the normalised templates differ.

    Non-empty exactly when the two config hashes differ.
    """
    out: list[str] = []
    _diff(normalise_template(recorded_template), normalise_template(live_template), "", out)
    return out


# --- manifests ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ManifestHash:
    """One Deployment of a manifest: its config hash and, when the file holds every ConfigMap its
    template reads, the value for `selfheal.dev/config-checksum` (else None)."""

    name: str
    config_hash: str
    config_checksum: str | None


def _documents(docs: Iterable[Any]) -> Iterable[dict[str, Any]]:
    for doc in docs:
        if not isinstance(doc, dict):
            continue
        if str(doc.get("kind", "")).endswith("List") and isinstance(doc.get("items"), list):
            yield from (i for i in doc["items"] if isinstance(i, dict))
        else:
            yield doc


def template_configmaps(template: Mapping[str, Any]) -> list[str]:
    """Names of the ConfigMaps a pod template (as a JSON document) reads, sorted."""
    try:
        typed = msgspec.convert(template, type=PodTemplate)
    except msgspec.ValidationError:
        return []
    return list(typed.configmap_names())


def hash_manifest(path: str | Path) -> list[ManifestHash]:
    """Config hash of every Deployment in a YAML manifest (multi-document and `List` aware)."""
    p = Path(path)
    try:
        docs = list(_documents(yaml.safe_load_all(p.read_text(encoding="utf-8"))))
    except OSError as exc:
        raise ConfigHashError(f"{p}: cannot read: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise ConfigHashError(f"{p}: not valid YAML: {' '.join(str(exc).split())}") from exc
    configmaps = {
        str(d.get("metadata", {}).get("name", "")): configmap_checksum(d.get("data"), d.get("binaryData"))
        for d in docs
        if d.get("kind") == "ConfigMap" and isinstance(d.get("metadata"), dict)
    }
    out: list[ManifestHash] = []
    for d in docs:
        if d.get("kind") != "Deployment":
            continue
        name = (d.get("metadata") or {}).get("name")
        template = (d.get("spec") or {}).get("template")
        if not isinstance(name, str) or not name:
            raise ConfigHashError(f"{p}: a Deployment has no metadata.name")
        if not isinstance(template, dict):
            raise ConfigHashError(f"{p}: Deployment {name} has no spec.template")
        refs = template_configmaps(template)
        checksum = None
        if refs and all(r in configmaps for r in refs):
            checksum = combined_checksum({r: configmaps[r] for r in refs})
        out.append(ManifestHash(name, config_hash(template), checksum))
    return out
