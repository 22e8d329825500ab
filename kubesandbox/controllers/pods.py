"""Creating and deleting pods the way workload controllers do (controller_utils.go, pod strategy)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from kubesandbox.controllers.podindex import PODS
from kubesandbox.controllers.util import new_controller_ref, qos_class
from kubesandbox.resources import BY_PLURAL
from kubesandbox.resources.admission import automounts, mount_service_account_token
from kubesandbox.resources.defaults import apply_defaults
from kubesandbox.resources.errors import ApiError
from kubesandbox.resources.managed_fields import CONTROLLER_MANAGER
from kubesandbox.resources.strategy import grace_period
from kubesandbox.store import Obj, Store

SERVICEACCOUNTS = BY_PLURAL[("", "serviceaccounts")]


def delete_pod(
    store: Store,
    pod: Obj,
    requested: int | None = None,
    preconditions: Mapping[str, Any] | None = None,
    dry_run: bool = False,
) -> Obj:
    m = pod["metadata"]
    return store.delete(
        PODS,
        m["namespace"],
        m["name"],
        preconditions=preconditions,
        dry_run=dry_run,
        grace_period_seconds=grace_period(pod, requested),
    )


def pod_prefix(owner_name: str) -> str:
    """`getPodsPrefix`: `<owner>-` (generateName)."""
    return f"{owner_name}-"


def create_from_template(
    store: Store, template: Mapping[str, Any], owner: Obj, *, finalizers: tuple[str, ...] = ()
) -> Obj | None:
    """`GetPodFromTemplate` + create: labels, annotations and finalizers from the template,
    a controller ownerReference, `generateName: <owner>-`; the API server's defaults applied."""
    tmeta = template.get("metadata") or {}
    meta: dict[str, Any] = {
        "generateName": pod_prefix(owner["metadata"]["name"]),
        "namespace": owner["metadata"]["namespace"],
    }
    if tmeta.get("labels"):
        meta["labels"] = dict(tmeta["labels"])
    if tmeta.get("annotations"):
        meta["annotations"] = dict(tmeta["annotations"])
    fins = list(tmeta.get("finalizers") or []) + [
        f for f in finalizers if f not in (tmeta.get("finalizers") or [])
    ]
    if fins:
        meta["finalizers"] = fins
    meta["ownerReferences"] = [new_controller_ref(owner)]
    pod: Obj = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta,
        "spec": copy.deepcopy(template.get("spec") or {}),
    }
    apply_defaults(pod)
    account = store.peek(
        SERVICEACCOUNTS, meta["namespace"], str(pod["spec"].get("serviceAccountName") or "default")
    )
    if automounts(pod, account):  # controllers create pods through the API: admission applies
        mount_service_account_token(pod, store.random_suffix())
    pod["status"] = {"phase": "Pending", "qosClass": qos_class(pod["spec"])}
    for _ in range(5):  # a generated name can collide; the real controller retries too
        try:
            return store.create(PODS, pod, manager=CONTROLLER_MANAGER)
        except ApiError as exc:
            if exc.reason != "AlreadyExists":
                return None
    return None
