"""The only code that writes to the cluster: a Lease so one actor acts at a time, and an executor
that sends each planned write exactly as planned (dry-run aware, preconditioned, retried only when
the failure is transient)."""

from selfheal.execution.executor import Executor
from selfheal.execution.lease import LeaseLock, LeaseLost

__all__ = ["Executor", "LeaseLock", "LeaseLost"]
