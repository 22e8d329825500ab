"""Label and field selectors, parsed the way the API server parses `labelSelector=` / `fieldSelector=`."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from kubesandbox.resources.errors import ApiError, bad_request

_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_LABEL_KEY = re.compile(
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$"
)


@dataclass(frozen=True)
class Requirement:
    key: str
    op: str  # =, !=, in, notin, exists, !
    values: frozenset[str] = frozenset()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        if self.op in ("=", "=="):
            return present and labels[self.key] in self.values
        if self.op == "in":
            return present and labels[self.key] in self.values
        if self.op == "!=":
            return not present or labels[self.key] not in self.values
        if self.op == "notin":
            return not present or labels[self.key] not in self.values
        if self.op == "exists":
            return present
        return not present  # "!"


def _split_top_level(s: str) -> list[str]:
    parts: list[str] = []
    cur: list[str] = []
    depth = 0
    for ch in s:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return [p.strip() for p in parts if p.strip()]


_SET = re.compile(r"^(?P<key>[^\s!=()]+)\s+(?P<op>in|notin)\s*\((?P<vals>[^)]*)\)$")
_EQ = re.compile(r"^(?P<key>[^\s!=]+)\s*(?P<op>==|=|!=)\s*(?P<val>[^\s]*)$")


def _check_key(key: str, selector: str) -> None:
    if not _LABEL_KEY.match(key):
        raise bad_request(f'unable to parse requirement: invalid label key "{key}" in selector "{selector}"')


def _check_value(value: str, selector: str) -> None:
    if len(value) > 63 or not _LABEL_VALUE.match(value):
        raise bad_request(
            f'unable to parse requirement: invalid label value: "{value}" in selector "{selector}"'
        )


def parse_label_selector(selector: str) -> list[Requirement]:
    """Parse `a=b,c!=d,e in (f,g),!h,i`. Raises ApiError 400 on bad syntax."""
    reqs: list[Requirement] = []
    for part in _split_top_level(selector):
        if m := _SET.match(part):
            vals = frozenset(v.strip() for v in m["vals"].split(",") if v.strip())
            _check_key(m["key"], selector)
            for v in vals:
                _check_value(v, selector)
            reqs.append(Requirement(m["key"], m["op"], vals))
        elif m := _EQ.match(part):
            _check_key(m["key"], selector)
            _check_value(m["val"], selector)
            reqs.append(Requirement(m["key"], m["op"], frozenset([m["val"]])))
        elif part.startswith("!"):
            _check_key(part[1:].strip(), selector)
            reqs.append(Requirement(part[1:].strip(), "!"))
        else:
            _check_key(part, selector)
            reqs.append(Requirement(part, "exists"))
    return reqs


def label_matcher(selector: str | None) -> Callable[[Mapping[str, str]], bool] | None:
    if not selector:
        return None
    reqs = parse_label_selector(selector)
    return lambda labels: all(r.matches(labels) for r in reqs)


def selector_to_string(sel: Mapping[str, Any] | None) -> str:
    """metav1.LabelSelector → the string form (`matchLabels` first, then `matchExpressions`)."""
    if not sel:
        return ""
    parts = [f"{k}={v}" for k, v in sorted((sel.get("matchLabels") or {}).items())]
    for expr in sel.get("matchExpressions") or []:
        op, key, vals = expr.get("operator"), expr.get("key"), expr.get("values") or []
        if op == "In":
            parts.append(f"{key} in ({','.join(sorted(vals))})")
        elif op == "NotIn":
            parts.append(f"{key} notin ({','.join(sorted(vals))})")
        elif op == "Exists":
            parts.append(key)
        elif op == "DoesNotExist":
            parts.append(f"!{key}")
    return ",".join(parts)


def selector_matches(sel: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """metav1.LabelSelector semantics: an empty selector matches everything, a null one nothing."""
    if sel is None:
        return False
    text = selector_to_string(sel)
    matcher = label_matcher(text)
    return True if matcher is None else matcher(labels)


# Field selectors: the API server supports metadata.name and metadata.namespace for every
# resource, plus a few per-resource fields. kubectl uses metadata.name (rollout status, wait)
# and involvedObject.* for events.
_FIELD_GETTERS: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "metadata.name": lambda o: o.get("metadata", {}).get("name", ""),
    "metadata.namespace": lambda o: o.get("metadata", {}).get("namespace", ""),
    "status.phase": lambda o: o.get("status", {}).get("phase", ""),
    "spec.nodeName": lambda o: o.get("spec", {}).get("nodeName", ""),
    "involvedObject.kind": lambda o: o.get("involvedObject", {}).get("kind", ""),
    "involvedObject.name": lambda o: o.get("involvedObject", {}).get("name", ""),
    "involvedObject.namespace": lambda o: o.get("involvedObject", {}).get("namespace", ""),
    "involvedObject.uid": lambda o: o.get("involvedObject", {}).get("uid", ""),
    "reason": lambda o: o.get("reason", ""),
    "type": lambda o: o.get("type", ""),
}


def field_matcher(selector: str | None, kind: str) -> Callable[[Mapping[str, Any]], bool] | None:
    if not selector:
        return None
    checks: list[tuple[Callable[[Mapping[str, Any]], str], bool, str]] = []
    for part in _split_top_level(selector):
        m = re.match(r"^([^!=]+)(==|=|!=)(.*)$", part)
        if not m:
            raise bad_request(f"invalid selector: '{selector}'; can't understand '{part}'")
        field, op, value = m[1].strip(), m[2], m[3].strip()
        getter = _FIELD_GETTERS.get(field)
        if getter is None:
            raise ApiError(400, "BadRequest", f"field label not supported: {field}")
        checks.append((getter, op != "!=", value))
    return lambda o: all((g(o) == v) == eq for g, eq, v in checks)
