"""Reporting: the history file, the risk report and the Pushgateway metrics (the pass's outputs).

The pass calls `record` once; `history`, `risk`, `metrics` and `text` are its parts.
"""

from selfheal.reporting.record import Outputs, PassRecord, record

__all__ = ["Outputs", "PassRecord", "record"]
