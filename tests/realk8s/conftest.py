from tests.realk8s.cluster import kube, ns

__all__ = ["kube", "ns"]
