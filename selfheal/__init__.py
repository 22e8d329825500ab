"""selfheal: one-pass self-healing for a Kubernetes namespace."""

__version__ = "0.1.0"
