"""Which objects a controller may skip this round: the ones whose inputs have not changed since a
sync that left them at rest, until their next time-driven change (a deadline, a back-off, a PDB's
disrupted-pod expiry). This is what keeps a quiet reconcile over 20,000 pods cheap.

    cache.begin()
    for obj in objects:
        if cache.unchanged(uid, inputs, now):
            continue
        ...sync it, learning `wake` (its next time-driven change)...
        cache.synced(uid, wake, inputs_after)   # or inputs_after=None: do not skip it next round
    cache.end()
    next_wakeup = cache.wake
"""

from __future__ import annotations

import math
from collections.abc import Hashable

INF = math.inf


class SyncCache:
    def __init__(self) -> None:
        self._seen: dict[str, tuple[Hashable, float]] = {}  # uid -> (inputs at rest, next timed change)
        self._live: set[str] = set()
        self.wake = INF  # the earliest time-driven change among the objects of this round

    def begin(self) -> None:
        self.wake = INF
        self._live = set()

    def unchanged(self, uid: str, inputs: Hashable, now: float) -> bool:
        """True when the object can be skipped: same inputs as at rest, and its timer not yet due."""
        self._live.add(uid)
        seen = self._seen.get(uid)
        if seen is not None and seen[0] == inputs and now < seen[1] - 1e-6:
            self.wake = min(self.wake, seen[1])
            return True
        return False

    def synced(self, uid: str, wake: float, inputs: Hashable | None) -> None:
        """After a sync: remember the inputs it left the object at rest with (None: sync it again)."""
        self.wake = min(self.wake, wake)
        if inputs is None:
            self._seen.pop(uid, None)
        else:
            self._seen[uid] = (inputs, wake)

    def end(self) -> None:
        """Forget objects that are gone."""
        for uid in [u for u in self._seen if u not in self._live]:
            del self._seen[uid]
