"""Story worlds for the real pass: Deployments that rolled out long before the sandbox's epoch.

`tests.builders.deployment` gives a Deployment the controllers roll out from scratch; its pods all
behave like their image. Some stories need what only a snapshot of a real cluster holds: a revision
that ran healthy for weeks, and then one of its pods started crash-looping a few minutes ago.
`rolled_out` writes such a Deployment as `kubectl get -o yaml` would show it (defaults, status, its
ReplicaSets, its pods), built from `tests.builders`. Pods given in a scenario keep their status until
something replaces them (README, sandbox section), so the crash-looping pod stays exactly as written
until it is evicted.

    with healing_world(story(*rolled_out("web", image="shop/web:1", crashing=1),
                             image_behavior("shop/web:1", "CrashUntilRestarted")), tmp_path) as world:
        ...
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from kubesandbox.resources.defaults import apply_defaults
from tests.builders import NS, deployment, namespace, pod, pod_status, pod_template_hash, replicaset
from tests.kubesandbox.worlds import write_world

Obj = dict[str, Any]

CREATED = "2025-12-01T09:00:00Z"  # the first revision
UPDATED = "2025-12-15T10:00:00Z"  # the second revision, when there is one
CRASHING_SINCE = "2026-01-01T11:55:00Z"  # five minutes before the sandbox's epoch
UNREADY_SINCE = "2026-01-01T11:40:00Z"  # twenty minutes before it: longer than progressDeadlineSeconds


def story(*docs: Obj) -> str:
    """A scenario file for these documents (plus the `shop` Namespace), as `healing_world` takes it."""
    if not any(d.get("kind") == "Namespace" for d in docs):
        docs = (namespace(), *docs)
    return str(write_world(*docs))


def _replicaset(dep: Obj, image: str, revision: int, replicas: int, created: str) -> Obj:
    """Revision `revision` of `dep`, running `image`, as its Deployment controller left it."""
    template = copy.deepcopy(dep["spec"]["template"])
    template["spec"]["containers"][0]["image"] = image
    pod_hash = pod_template_hash(template)
    template["metadata"]["labels"] = {**template["metadata"]["labels"], "pod-template-hash": pod_hash}
    desired = dep["spec"]["replicas"]
    rs = replicaset(
        f"{dep['metadata']['name']}-{pod_hash}",
        template=template,
        replicas=replicas,
        labels=template["metadata"]["labels"],
        owner=dep,
        revision=revision,
        created=created,
        annotations={
            "deployment.kubernetes.io/desired-replicas": str(desired),
            "deployment.kubernetes.io/max-replicas": str(desired + 1),
        },
        ns=dep["metadata"]["namespace"],
    )
    rs["status"] = {"replicas": replicas, "observedGeneration": 1}
    if replicas:
        rs["status"].update(fullyLabeledReplicas=replicas, readyReplicas=replicas, availableReplicas=replicas)
    return rs


def _pod(rs: Obj, index: int, state: str, annotations: dict[str, str]) -> Obj:
    """Pod `index` of `rs`, started with it: running, running but unready since UNREADY_SINCE (a deadlock no
    container restart sees), or crash-looping (exit 1) since CRASHING_SINCE."""
    name = f"{rs['metadata']['name']}-{pod_template_hash({'pod': index})[:5]}"
    template = rs["spec"]["template"]
    image = template["spec"]["containers"][0]["image"]
    started = rs["metadata"]["creationTimestamp"]
    if state == "crashing":
        status = pod_status(
            image,
            started_at=started,
            ready=False,
            unready_since=CRASHING_SINCE,
            restart_count=6,
            waiting=(
                "CrashLoopBackOff",
                f"back-off 2m40s restarting failed container=app pod={name}_{rs['metadata']['namespace']}",
            ),
            last_state={
                "terminated": {
                    "exitCode": 1,
                    "reason": "Error",
                    "startedAt": "2026-01-01T11:58:59Z",
                    "finishedAt": "2026-01-01T11:59:00Z",
                }
            },
        )
    elif state == "unready":
        status = pod_status(image, started_at=started, ready=False, unready_since=UNREADY_SINCE)
    else:
        status = pod_status(image, started_at=started)
    return pod(
        name,
        template=template,
        owner=rs,
        annotations=annotations,
        started_at=started,
        status=status,
        ns=rs["metadata"]["namespace"],
    )


def rolled_out(
    name: str,
    *,
    image: str,
    replicas: int = 4,
    crashing: int = 0,
    unready: int = 0,
    previous_image: str | None = None,
    ns: str = NS,
    annotations: dict[str, str] | None = None,
    pod_annotations: dict[str, str] | None = None,
    updated: str = UPDATED,
) -> list[Obj]:
    """A Deployment whose rollout of `image` completed long ago; its last `crashing` pods crash-loop (exit 1)
    since shortly before the epoch, the `unready` pods before them run but have failed their readiness
    probe since UNREADY_SINCE. With `previous_image`, revision 1 ran that image and revision 2 (the current
    one, rolled out on `updated`, UPDATED by default: an established revision) runs `image`; the old
    ReplicaSet is kept at 0 replicas, as history."""
    dep = apply_defaults(deployment(name, image=image, replicas=replicas, ns=ns, annotations=annotations))
    revisions = [(previous_image, CREATED), (image, updated)] if previous_image else [(image, CREATED)]
    replicasets = [
        _replicaset(dep, img, i + 1, replicas if i == len(revisions) - 1 else 0, created)
        for i, (img, created) in enumerate(revisions)
    ]
    current = replicasets[-1]
    states = ["running"] * (replicas - crashing - unready) + ["unready"] * unready + ["crashing"] * crashing
    pods = [_pod(current, i, state, pod_annotations or {}) for i, state in enumerate(states)]
    available = replicas - crashing - unready
    max_unavailable = replicas // 4  # 25%, rounded down as the controller resolves it
    dep["metadata"].update(creationTimestamp=CREATED, generation=len(revisions))
    dep["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = str(len(revisions))
    enough = available >= replicas - max_unavailable
    dep["status"] = {
        "observedGeneration": len(revisions),
        "replicas": replicas,
        "updatedReplicas": replicas,
        "readyReplicas": available,
        "availableReplicas": available,
        **({"unavailableReplicas": replicas - available} if available < replicas else {}),
        "conditions": [
            {
                "type": "Available",
                "status": "True" if enough else "False",
                "reason": "MinimumReplicasAvailable" if enough else "MinimumReplicasUnavailable",
                "message": "Deployment has minimum availability."
                if enough
                else "Deployment does not have minimum availability.",
                "lastUpdateTime": CREATED if enough else CRASHING_SINCE,
                "lastTransitionTime": CREATED if enough else CRASHING_SINCE,
            },
            {
                "type": "Progressing",
                "status": "True",
                "reason": "NewReplicaSetAvailable",
                "message": f'ReplicaSet "{current["metadata"]["name"]}" has successfully progressed.',
                "lastUpdateTime": revisions[-1][1],
                "lastTransitionTime": CREATED,
            },
        ],
    }
    return [dep, *replicasets, *pods]


def workdir(tmp_path: Path, name: str) -> Path:
    """A separate working directory (history, risk file) per world when a test builds two."""
    path = tmp_path / name
    path.mkdir()
    return path


# --- reading what a pass did ------------------------------------------------------------------------


def decisions(result: Any) -> dict[tuple[str, str], tuple[str, str]]:
    """{(action, target name): (result, reason)} of a PassResult's outcomes."""
    return {
        (o.action.action.value, o.action.target.name): (o.result.value, o.reason) for o in result.outcomes
    }


def applied(result: Any) -> set[tuple[str, str]]:
    return {key for key, (res, _) in decisions(result).items() if res == "applied"}


def kube_json(world: Any, *args: str) -> Any:
    """`kubectl get ... -o json`, parsed: what the referee sees."""
    return json.loads(world.kubectl("get", *args, "-o", "json"))


def pod_names(world: Any, selector: str) -> set[str]:
    return {p["metadata"]["name"] for p in kube_json(world, "pods", "-l", selector)["items"]}
