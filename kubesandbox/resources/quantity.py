"""Resource quantities (`250m`, `1Gi`) and the pod QoS class they decide (`qos.GetPodQOS`).

The API server needs the QoS class when it creates a pod (the pod strategy sets `status.qosClass`), the
kubelet emulation when it reports status: so it lives in the bottom layer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

_SUFFIX = {
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "": Decimal(1),
    "k": Decimal(10) ** 3,
    "M": Decimal(10) ** 6,
    "G": Decimal(10) ** 9,
    "T": Decimal(10) ** 12,
    "P": Decimal(10) ** 15,
    "E": Decimal(10) ** 18,
    "Ki": Decimal(2) ** 10,
    "Mi": Decimal(2) ** 20,
    "Gi": Decimal(2) ** 30,
    "Ti": Decimal(2) ** 40,
    "Pi": Decimal(2) ** 50,
    "Ei": Decimal(2) ** 60,
}
_QUANTITY = re.compile(r"^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)([a-zA-Z]*)$")


def parse_quantity(q: Any) -> Decimal | None:
    if isinstance(q, bool):
        return None
    if isinstance(q, int | float):
        return Decimal(str(q))
    m = _QUANTITY.match(str(q).strip())
    if not m or m.group(2) not in _SUFFIX:
        return None
    try:
        return Decimal(m.group(1)) * _SUFFIX[m.group(2)]
    except InvalidOperation:
        return None


def qos_class(spec: Mapping[str, Any]) -> str:
    """`qos.GetPodQOS` for cpu and memory: BestEffort, Guaranteed or Burstable."""
    requests: dict[str, Decimal] = {}
    limits: dict[str, Decimal] = {}
    guaranteed = True
    containers = list(spec.get("initContainers") or []) + list(spec.get("containers") or [])
    for c in containers:
        res = c.get("resources") or {}
        c_req = {
            k: parse_quantity(v) for k, v in (res.get("requests") or {}).items() if k in ("cpu", "memory")
        }
        c_lim = {k: parse_quantity(v) for k, v in (res.get("limits") or {}).items() if k in ("cpu", "memory")}
        for k, v in c_req.items():
            if v is not None and v != 0:
                requests[k] = requests.get(k, Decimal(0)) + v
        for k, v in c_lim.items():
            if v is not None and v != 0:
                limits[k] = limits.get(k, Decimal(0)) + v
        if set(c_lim) != {"cpu", "memory"}:
            guaranteed = False
        for k in ("cpu", "memory"):
            if k in c_req and c_req[k] != c_lim.get(k):
                guaranteed = False
    if not requests and not limits:
        return "BestEffort"
    if guaranteed and containers:
        return "Guaranteed"
    return "Burstable"
