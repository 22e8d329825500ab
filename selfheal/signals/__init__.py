"""Signals from Prometheus, beside the namespace's objects: the canaries' and their stables' request and
error counts (`canary`) and the series the forecasts read (`observe`). Optional: an unset URL, an
unreachable, slow or nonsensical Prometheus never stops a pass; what could not be observed is recorded
with the reason."""

from selfheal.signals.canary import (
    DEFAULT_CANARY_ERRORS_QUERY,
    DEFAULT_CANARY_REQUESTS_QUERY,
    CanaryQueries,
    read_canary_signals,
)
from selfheal.signals.observe import ObserveConfig, read_observations

__all__ = [
    "DEFAULT_CANARY_ERRORS_QUERY",
    "DEFAULT_CANARY_REQUESTS_QUERY",
    "CanaryQueries",
    "ObserveConfig",
    "read_canary_signals",
    "read_observations",
]
