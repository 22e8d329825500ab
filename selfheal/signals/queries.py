"""The PromQL the forecasts read, per namespace, grouped so that one query serves every workload.

Placeholders: `$namespace`, and `$window` in the burn-rate query. Each is a setting
(`SELFHEAL_QUERY_<NAME>`). The defaults follow common exporters: `http_requests_total` and
`http_request_duration_seconds_bucket` labelled `deployment` (the canary query's convention), cAdvisor's
`container_memory_working_set_bytes`, kube-state-metrics v2's pod and HPA series.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

_REQ = 'http_requests_total{namespace="$namespace"}'
_ERR = 'http_requests_total{namespace="$namespace",code=~"5.."}'


def _errors_or_zero(window: str) -> str:
    """A client library creates a code="500" series at the first error: a Deployment that has not failed yet
    has none, and errors / requests would have no value for it (unknown) instead of 0. Requests x 0 fills in."""
    return f"sum by (deployment) (rate({_ERR}[{window}])) or sum by (deployment) (rate({_REQ}[{window}])) * 0"


DEFAULTS: Final[Mapping[str, str]] = {
    # by deployment, range (the last hour, one point a minute)
    "request_rate": f"sum by (deployment) (rate({_REQ}[5m]))",
    "error_ratio": f"({_errors_or_zero('5m')}) / sum by (deployment) (rate({_REQ}[5m]))",
    "latency_p99": "histogram_quantile(0.99, sum by (deployment, le) "
    '(rate(http_request_duration_seconds_bucket{namespace="$namespace"}[5m])))',
    # by deployment, instant, for each burn-rate window
    "burn": f"({_errors_or_zero('$window')}) / sum by (deployment) (rate({_REQ}[$window]))",
    # by pod (mapped to its Deployment through the snapshot), range
    "restarts": 'sum by (pod) (kube_pod_container_status_restarts_total{namespace="$namespace"})',
    "memory": 'max by (pod, container) (container_memory_working_set_bytes{namespace="$namespace",'
    'container!="",container!="POD"})',
    # by pod, instant
    "memory_limit": "max by (pod, container) "
    '(kube_pod_container_resource_limits{namespace="$namespace",resource="memory"})',
    # by HPA (mapped to its Deployment through the snapshot); replicas and utilisation also as a range
    "hpa_replicas": "max by (horizontalpodautoscaler) "
    '(kube_horizontalpodautoscaler_status_current_replicas{namespace="$namespace"})',
    "hpa_max": "max by (horizontalpodautoscaler) "
    '(kube_horizontalpodautoscaler_spec_max_replicas{namespace="$namespace"})',
    "hpa_utilization": "max by (horizontalpodautoscaler) (kube_horizontalpodautoscaler_status_target_metric"
    '{namespace="$namespace",metric_target_type="utilization"})',
    "hpa_target": "max by (horizontalpodautoscaler) (kube_horizontalpodautoscaler_spec_target_metric"
    '{namespace="$namespace",metric_target_type="utilization"})',
}
