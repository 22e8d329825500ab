"""The cell formatters every printer shares: ages, labels, selectors and the small value renderings.

A cell is only right if it is rendered the way apimachinery and `printers.go` render it (Go's
truncating `HumanDuration`, `labels.FormatLabels`, `metav1.FormatLabelSelector`, `printBoolPtr`…).
Keeping them in one place means a fix to, say, how an age rounds reaches every kind at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from kubesandbox.apiserver.tables.columns import Obj

# --------------------------------------------------------------------------------------------------
# Time: apimachinery `duration.HumanDuration` and the printers' translateTimestampSince


def human_duration(d: timedelta) -> str:
    """`k8s.io/apimachinery/pkg/util/duration.HumanDuration`: ~2-3 significant figures."""
    ns = (d.days * 86_400 + d.seconds) * 1_000_000_000 + d.microseconds * 1_000
    seconds = int(ns / 1_000_000_000)  # Go's int(d.Seconds()) truncates toward zero
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    if seconds < 60 * 2:
        return f"{seconds}s"
    minutes = ns // 60_000_000_000
    if minutes < 10:
        s = (ns // 1_000_000_000) % 60
        return f"{minutes}m" if s == 0 else f"{minutes}m{s}s"
    if minutes < 60 * 3:
        return f"{minutes}m"
    hours = ns // 3_600_000_000_000
    if hours < 8:
        m = minutes % 60
        return f"{hours}h" if m == 0 else f"{hours}h{m}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        h = hours % 24
        return f"{hours // 24}d" if h == 0 else f"{hours // 24}d{h}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        dy = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if dy == 0 else f"{hours // 24 // 365}y{dy}d"
    return f"{hours // 24 // 365}y"


def parse_time(value: Any) -> datetime | None:
    """A metav1.Time / MicroTime from JSON (RFC 3339, optionally fractional) or a datetime; None = zero."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def since(value: Any, now: datetime) -> str:
    """translateTimestampSince: `<unknown>` for a zero time, else HumanDuration(now - t)."""
    t = parse_time(value)
    return "<unknown>" if t is None else human_duration(now - t)


# --------------------------------------------------------------------------------------------------
# Reading the object: printers see whatever a client wrote, so every step tolerates a missing field


def meta(obj: Obj) -> Obj:
    return obj.get("metadata") or {}


def name_of(obj: Obj) -> str:
    return str(meta(obj).get("name", ""))


def age_of(obj: Obj, now: datetime) -> str:
    """The AGE cell: time since creationTimestamp."""
    return since(meta(obj).get("creationTimestamp"), now)


def at(obj: Any, *path: str) -> Any:
    """`obj[path[0]][path[1]]…`, None as soon as a step is missing or not a mapping."""
    cur: Any = obj
    for key in path:
        if not isinstance(cur, Mapping):
            return None
        cur = cur.get(key)
    return cur


def status_int(obj: Obj, field: str) -> int:
    """An integer status field, 0 when unset (Go's zero value)."""
    return int(at(obj, "status", field) or 0)


def condition_true(conditions: list[Obj] | None, ctype: str | None) -> bool:
    """hasJobCondition / isPodInitializedConditionTrue: the first condition of that type decides."""
    for c in conditions or []:
        if c.get("type") == ctype:
            return bool(c.get("status") == "True")
    return False


# --------------------------------------------------------------------------------------------------
# Cell renderings


def template_containers(spec: Any) -> tuple[str, str]:
    """layoutContainerCells of `spec.template.spec.containers`: names and images, comma separated."""
    containers: list[Obj] = at(spec, "template", "spec", "containers") or []
    return (
        ",".join(str(c.get("name", "")) for c in containers),
        ",".join(str(c.get("image", "")) for c in containers),
    )


def format_labels(labels: Mapping[str, str] | None) -> str:
    """labels.FormatLabels: sorted `k=v` pairs, `<none>` when empty."""
    text = ",".join(sorted(f"{k}={v}" for k, v in (labels or {}).items()))
    return text or "<none>"


def _requirement(key: str, op: str, values: list[str]) -> str:
    if op == "DoesNotExist":
        return "!" + key
    if op == "Exists":
        return key
    if op == "=":
        return f"{key}={values[0]}"
    joined = values[0] if len(values) == 1 else ",".join(sorted(values))
    return f"{key} {'in' if op == 'In' else 'notin'} ({joined})"


def selector_string(selector: Obj | None) -> str | None:
    """metav1.LabelSelectorAsSelector(...).String(); None for an invalid operator.

    A nil selector selects nothing and an empty one everything: both print as "".
    Requirements are sorted by key (labels.ByKey), values of in/notin sorted.
    """
    if not selector:
        return ""
    reqs: list[tuple[str, str]] = [
        (k, _requirement(k, "=", [str(v)])) for k, v in (selector.get("matchLabels") or {}).items()
    ]
    for expr in selector.get("matchExpressions") or []:
        op = expr.get("operator")
        if op not in ("In", "NotIn", "Exists", "DoesNotExist"):
            return None
        key = str(expr.get("key", ""))
        reqs.append((key, _requirement(key, op, [str(v) for v in expr.get("values") or []])))
    reqs.sort(key=lambda r: r[0])
    return ",".join(r for _, r in reqs)


def format_label_selector(selector: Obj | None) -> str:
    """metav1.FormatLabelSelector: the selector string, `<none>` when it is empty, `<error>` if invalid."""
    text = selector_string(selector)
    if text is None:
        return "<error>"
    return text or "<none>"


def kind_slash_name(ref: Obj) -> str:
    """`Kind/name` of a reference (an HPA's scaleTargetRef, a binding's roleRef)."""
    return f"{ref.get('kind', '')}/{ref.get('name', '')}"


def bool_ptr(value: Any) -> str:
    """printBoolPtr."""
    if value is None:
        return "<unset>"
    return "True" if value else "False"


def quantity(value: Any) -> str:
    """resource.Quantity.String() for what the sandbox stores (already canonical); nil prints `<nil>`."""
    return "<nil>" if value is None else str(value)
