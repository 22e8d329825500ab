"""What every controller of the sandbox shares during a reconcile pass."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kubesandbox.controllers.behaviors import Behaviors
from kubesandbox.controllers.events import EventRecorder
from kubesandbox.controllers.podindex import PodIndex
from kubesandbox.controllers.util import IntOrPercentError
from kubesandbox.resources.errors import ApiError
from kubesandbox.store import Store

# What a malformed object (a scenario's, or one the API let through) can make a sync raise. A real
# controller logs such an error and retries the object later; it never stops the other objects.
SYNC_ERRORS = (ApiError, IntOrPercentError, ValueError, KeyError, TypeError, AttributeError)


@dataclass
class Env:
    store: Store
    recorder: EventRecorder
    pods: PodIndex
    behaviors: Behaviors
    errors: deque[str] = field(default_factory=lambda: deque(maxlen=100))

    def guard(self, what: str, fn: Callable[..., None], *args: Any) -> None:
        """Run one object's sync, `fn(*args)`; a failure is recorded in `errors` and the pass goes on."""
        try:
            fn(*args)
        except SYNC_ERRORS as exc:
            self.errors.append(f"{what}: {exc!r}")
