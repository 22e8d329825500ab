"""What every controller of the sandbox shares during a reconcile pass."""

from __future__ import annotations

from dataclasses import dataclass

from ..store import Store
from .behaviors import Behaviors
from .events import EventRecorder
from .podindex import PodIndex


@dataclass
class Env:
    store: Store
    recorder: EventRecorder
    pods: PodIndex
    behaviors: Behaviors
