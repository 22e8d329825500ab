"""Small helpers the controllers share: time, conditions, int-or-percent, selectors, owners.

Everything here mirrors a helper of the real controllers (apimachinery `intstr`,
`metav1.LabelSelectorAsSelector`, `controller.ComputeHash`, `qos.GetPodQOS`) closely enough
that the numbers and strings the sandbox produces match a real cluster's.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from kubesandbox.resources.clock import parse_time, rfc3339
from kubesandbox.resources.quantity import parse_quantity as parse_quantity
from kubesandbox.resources.quantity import qos_class as qos_class
from kubesandbox.resources.selectors import label_matcher, selector_to_string
from kubesandbox.store import NAME_SUFFIX_ALPHABET, Obj

Matcher = Callable[[Mapping[str, str]], bool]

# -- time -------------------------------------------------------------------------------------


def to_ts(dt: datetime) -> float:
    return dt.timestamp()


def fmt(ts: float) -> str:
    """metav1.Time on the wire (second precision)."""
    return rfc3339(datetime.fromtimestamp(ts, UTC))


def fmt_micro(ts: float) -> str:
    """metav1.MicroTime on the wire (events' eventTime)."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def go_duration(seconds: float) -> str:
    """Go's `time.Duration.String()` for whole seconds: 40s, 1m20s, 5m0s, 1h0m0s."""
    total = int(seconds)
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    if h:
        return f"{h}h{m}m{s}s"
    if m:
        return f"{m}m{s}s"
    return f"{s}s"


def parse_ts(value: Any) -> float | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return parse_time(value).timestamp()
    except ValueError:
        return None


# -- int or percent (k8s.io/apimachinery/pkg/util/intstr) ---------------------------------------


class IntOrPercentError(ValueError):
    pass


def scaled_value(value: Any, total: int, round_up: bool) -> int:
    """`intstr.GetScaledValueFromIntOrPercent`: 3 → 3, "25%" of 10 → 3 (up) or 2 (down)."""
    if isinstance(value, bool):
        raise IntOrPercentError(f"invalid value for IntOrString: invalid type: {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        if not value.endswith("%"):
            raise IntOrPercentError("invalid value for IntOrString: invalid type: string is not a percentage")
        try:
            pct = int(value[:-1])
        except ValueError:
            raise IntOrPercentError(
                f'invalid value "{value}": strconv.Atoi: parsing "{value[:-1]}": invalid syntax'
            ) from None
        exact = pct * total / 100
        return math.ceil(exact) if round_up else math.floor(exact)
    raise IntOrPercentError(f"invalid value for IntOrString: invalid type: {type(value).__name__}")


# -- selectors --------------------------------------------------------------------------------

_NEVER: Matcher = lambda labels: False  # noqa: E731
_ALWAYS: Matcher = lambda labels: True  # noqa: E731
_compiled: dict[str, Matcher] = {}


def compile_selector(sel: Any) -> Matcher:
    """`metav1.LabelSelectorAsSelector`: nil selects nothing, `{}` everything; invalid → nothing."""
    if sel is None or not isinstance(sel, dict):
        return _NEVER
    key = json.dumps(sel, sort_keys=True)
    m = _compiled.get(key)
    if m is None:
        try:
            matcher = label_matcher(selector_to_string(sel))
        except Exception:
            matcher = _NEVER
        m = _ALWAYS if matcher is None else matcher
        if len(_compiled) > 4096:
            _compiled.clear()
        _compiled[key] = m
    return m


def labels_of(obj: Obj) -> Mapping[str, str]:
    return obj.get("metadata", {}).get("labels") or {}


# -- owners -----------------------------------------------------------------------------------


def controller_ref(obj: Obj) -> dict[str, Any] | None:
    for ref in obj.get("metadata", {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return ref
    return None


def new_controller_ref(owner: Obj) -> dict[str, Any]:
    """`metav1.NewControllerRef`: controller and blockOwnerDeletion both true."""
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def is_controlled_by(obj: Obj, owner: Obj) -> bool:
    ref = controller_ref(obj)
    return ref is not None and ref.get("uid") == owner["metadata"]["uid"]


def meta(obj: Obj) -> dict[str, Any]:
    m: dict[str, Any] = obj["metadata"]
    return m


def key_of(obj: Obj) -> tuple[str, str]:
    m = obj["metadata"]
    return m.get("namespace", ""), m["name"]


# -- conditions -------------------------------------------------------------------------------


def get_condition(conditions: Iterable[dict[str, Any]] | None, type_: str) -> dict[str, Any] | None:
    for c in conditions or []:
        if c.get("type") == type_:
            return c
    return None


def is_pod_ready(pod: Obj) -> bool:
    c = get_condition((pod.get("status") or {}).get("conditions"), "Ready")
    return c is not None and c.get("status") == "True"


def pod_ready_time(pod: Obj) -> float | None:
    c = get_condition((pod.get("status") or {}).get("conditions"), "Ready")
    if c is None or c.get("status") != "True":
        return None
    return parse_ts(c.get("lastTransitionTime"))


def is_pod_available(pod: Obj, min_ready_seconds: int, now: float) -> bool:
    """`podutil.IsPodAvailable`: ready, and ready for more than minReadySeconds."""
    if not is_pod_ready(pod):
        return False
    if min_ready_seconds == 0:
        return True
    t = pod_ready_time(pod)
    return t is not None and t + min_ready_seconds < now


def is_terminating(obj: Obj) -> bool:
    return bool(obj.get("metadata", {}).get("deletionTimestamp"))


def pod_phase(pod: Obj) -> str:
    return str((pod.get("status") or {}).get("phase") or "")


def is_pod_active(pod: Obj) -> bool:
    """`controller.IsPodActive`: not Succeeded/Failed and not being deleted."""
    return pod_phase(pod) not in ("Succeeded", "Failed") and not is_terminating(pod)


# -- pod template hash (controller.ComputeHash + rand.SafeEncodeString) ------------------------


def _fnv32a(data: bytes) -> int:
    h = 0x811C9DC5
    for b in data:
        h ^= b
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


def safe_encode(s: str) -> str:
    """`rand.SafeEncodeString`: each byte mapped onto the vowel-free alphabet."""
    return "".join(NAME_SUFFIX_ALPHABET[ord(ch) % len(NAME_SUFFIX_ALPHABET)] for ch in s)


def compute_hash(template: Any, collision_count: int | None) -> str:
    """A pod-template-hash shaped like the real one (digits of an fnv32a, safe-encoded).

    The real hash feeds Go's struct dump to fnv; the sandbox hashes canonical JSON instead,
    so the values differ from a real cluster's but have the same form and stability.
    """
    data = json.dumps(template, sort_keys=True, separators=(",", ":")).encode()
    if collision_count is not None:
        data += str(collision_count).encode()
    return safe_encode(str(_fnv32a(data)))


# -- images -----------------------------------------------------------------------------------


def normalize_image(image: str) -> str:
    """containerd's view of an image reference: `nginx` → `docker.io/library/nginx:latest`."""
    name = image
    first, _, rest = name.partition("/")
    if not rest or ("." not in first and ":" not in first and first != "localhost"):
        name = "docker.io/" + (name if rest else "library/" + name)
    last = name.rsplit("/", 1)[-1]
    if "@" not in name and ":" not in last:
        name += ":latest"
    return name
