"""Reporting: the history file, the risk report and the Pushgateway metrics (the pass's outputs)."""
