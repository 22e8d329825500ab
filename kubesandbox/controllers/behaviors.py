"""What each image does when the simulated kubelet runs it, and when CrashUntilRestarted heals.

A scenario maps images to one of the behaviours below; unknown images are Healthy.

CrashUntilRestarted models a fault that a *restart of the pod* cures (a stuck cache, a bad
lease, a leaked connection pool) but a container restart does not. The exact rule:

* For an image X with this behaviour, the first **restart event** for X is recorded, with the
  store's resourceVersion at that moment. A restart event is either
  - a pod that runs X (in `containers` or `initContainers`) being deleted: it gets a
    `deletionTimestamp` or disappears (kubectl delete, eviction, a ReplicaSet scaling down,
    the garbage collector), or
  - a Deployment rollout starting a ReplicaSet whose template runs X while the Deployment
    already has another ReplicaSet (a new template such as `rollout restart`, or an old one
    brought back by `rollout undo`).
* A container running X is **Healthy** when its pod was created after that event (the pod's
  creation resourceVersion is greater); otherwise it behaves exactly like **CrashLoop**.

So the pods that exist when the failure starts keep crash-looping, and every pod created to
replace one (by its ReplicaSet after a deletion/eviction, or by a rollout's new ReplicaSet)
comes up healthy. Container restarts by the kubelet never heal it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from kubesandbox.controllers.util import normalize_image

HEALTHY = "Healthy"
CRASH_LOOP = "CrashLoop"
CRASH_UNTIL_RESTARTED = "CrashUntilRestarted"
OOM_KILLED = "OOMKilled"
IMAGE_PULL_BACK_OFF = "ImagePullBackOff"
CREATE_CONTAINER_CONFIG_ERROR = "CreateContainerConfigError"

ALL = (
    HEALTHY,
    CRASH_LOOP,
    CRASH_UNTIL_RESTARTED,
    OOM_KILLED,
    IMAGE_PULL_BACK_OFF,
    CREATE_CONTAINER_CONFIG_ERROR,
)


def images_of(pod_spec: Mapping[str, object] | None) -> list[str]:
    spec = pod_spec or {}
    out: list[str] = []
    for field in ("initContainers", "containers"):
        for c in spec.get(field) or []:  # type: ignore[attr-defined]
            if isinstance(c, dict) and c.get("image"):
                out.append(str(c["image"]))
    return out


class Behaviors:
    """The scenario's image → behaviour table plus the CrashUntilRestarted heal record."""

    def __init__(self, table: Mapping[str, str]) -> None:
        self.table = dict(table)
        self.healed_at: dict[str, int] = {}  # image → resourceVersion of its first restart event
        self._by_norm = {normalize_image(k): v for k, v in self.table.items()}

    def of(self, image: str) -> str:
        b = self.table.get(image)
        if b is None:
            b = self._by_norm.get(normalize_image(image), HEALTHY)
        return b if b in ALL else HEALTHY

    def restart_event(self, images: Iterable[str], rv: int) -> None:
        for image in images:
            if self.of(image) == CRASH_UNTIL_RESTARTED and image not in self.healed_at:
                self.healed_at[image] = rv

    def effective(self, image: str, born_rv: int) -> str:
        """The behaviour a container of a pod created at `born_rv` shows."""
        b = self.of(image)
        if b != CRASH_UNTIL_RESTARTED:
            return b
        healed = self.healed_at.get(image)
        return HEALTHY if healed is not None and born_rv > healed else CRASH_LOOP
