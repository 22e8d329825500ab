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
    op: str  # =, ==, !=, in, notin, gt, lt, exists, !
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
        if self.op in ("gt", "lt"):
            try:
                have, want = int(labels[self.key]), int(next(iter(self.values)))
            except (KeyError, ValueError, StopIteration):
                return False
            return have > want if self.op == "gt" else have < want
        return not present  # "!"


_SPECIAL = "=!(),><"
_TOKENS = {")": ")", ",": ",", "!": "!", "==": "==", "=": "=", ">": "gt", "<": "lt", "!=": "!=", "(": "("}
_KEYWORDS = {"in", "notin"}
_BINARY = "in, notin, =, ==, !=, gt, lt"
_END = ("end", "")


def _lex(selector: str) -> list[tuple[str, str]]:
    """apimachinery's label lexer: (token, literal) pairs; identifiers are `id`, `in`/`notin` keywords."""
    out: list[tuple[str, str]] = []
    i, n = 0, len(selector)
    while i < n:
        ch = selector[i]
        if ch in " \t\r\n":
            i += 1
        elif ch in _SPECIAL:
            two = selector[i : i + 2]
            lit = two if two in _TOKENS else ch
            out.append((_TOKENS[lit], lit))
            i += len(lit)
        else:
            j = i
            while j < n and selector[j] not in _SPECIAL and selector[j] not in " \t\r\n":
                j += 1
            lit = selector[i:j]
            out.append((lit if lit in _KEYWORDS else "id", lit))
            i = j
    out.append(_END)
    return out


class _Parser:
    def __init__(self, selector: str) -> None:
        self.selector = selector
        self.items = _lex(selector)
        self.pos = 0

    def look(self, values: bool = True) -> tuple[str, str]:
        tok, lit = self.items[self.pos]
        return ("id", lit) if values and tok in _KEYWORDS else (tok, lit)

    def take(self, values: bool = True) -> tuple[str, str]:
        out = self.look(values)
        if self.pos < len(self.items) - 1:
            self.pos += 1
        return out

    def parse(self) -> list[Requirement]:
        reqs: list[Requirement] = []
        while True:
            tok, lit = self.look()
            if tok == "end":
                return reqs
            if tok not in ("id", "!"):
                raise ValueError(f"found '{lit}', expected: !, identifier, or 'end of string'")
            try:
                reqs.append(self.requirement())
            except ValueError as exc:
                raise ValueError(f"unable to parse requirement: {exc}") from None
            tok, lit = self.take()
            if tok == "end":
                return reqs
            if tok != ",":
                raise ValueError(f"found '{lit}', expected: ',' or 'end of string'")
            if self.look()[0] not in ("id", "!"):
                raise ValueError(f"found '{self.look()[1]}', expected: identifier after ','")

    def requirement(self) -> Requirement:
        op = ""
        tok, lit = self.take()
        if tok == "!":
            op = "!"
            tok, lit = self.take()
        if tok != "id":
            raise ValueError(f"found '{lit}', expected: identifier")
        _check_key(lit, self.selector)
        key = lit
        if op == "!" or self.look()[0] in ("end", ","):
            return Requirement(key, op or "exists")
        tok, lit = self.take(values=False)
        if tok not in ("in", "notin", "=", "==", "!=", "gt", "lt"):
            raise ValueError(f"found '{lit}', expected: {_BINARY}")
        op = tok
        values = self.set_values() if op in ("in", "notin") else self.exact_value()
        for v in values:
            _check_value(v, self.selector)
        if op in ("gt", "lt"):
            for v in values:
                if not re.fullmatch(r"-?\d+", v):
                    raise ValueError(f"for 'Gt', 'Lt' operators, the value must be an integer: {v!r}")
        return Requirement(key, op, frozenset(values))

    def exact_value(self) -> set[str]:
        if self.look()[0] in ("end", ","):
            return {""}
        tok, lit = self.take()
        if tok != "id":
            raise ValueError(f"found '{lit}', expected: identifier")
        return {lit}

    def set_values(self) -> set[str]:
        tok, lit = self.take()
        if tok != "(":
            raise ValueError(f"found '{lit}' expected: '('")
        tok, lit = self.look()
        if tok == ")":
            self.take()
            return {""}
        if tok not in ("id", ","):
            raise ValueError(f"found '{lit}', expected: ',', ')' or identifier")
        values: set[str] = set()
        while True:
            tok, lit = self.take()
            if tok == "id":
                values.add(lit)
                nxt, nlit = self.look()
                if nxt == ")":
                    self.take()
                    return values
                if nxt != ",":
                    raise ValueError(f"found '{nlit}', expected: ',' or ')'")
            elif tok == ",":
                if not values:
                    values.add("")
                nxt = self.look()[0]
                if nxt == ")":
                    values.add("")
                    self.take()
                    return values
                if nxt == ",":
                    self.take()
                    values.add("")
            else:
                raise ValueError(f"found '{lit}', expected: ',', or identifier")


def _check_key(key: str, selector: str) -> None:
    if not _LABEL_KEY.match(key):
        raise bad_request(f'unable to parse requirement: invalid label key "{key}" in selector "{selector}"')


def _check_value(value: str, selector: str) -> None:
    if len(value) > 63 or not _LABEL_VALUE.match(value):
        raise bad_request(
            f'unable to parse requirement: invalid label value: "{value}" in selector "{selector}"'
        )


def parse_label_selector(selector: str) -> list[Requirement]:
    """Parse `a=b,c!=d,e in (f,g),!h,i` as apimachinery's lexer and parser do. Raises ApiError 400."""
    try:
        return _Parser(selector).parse()
    except ValueError as exc:
        raise bad_request(str(exc)) from None


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


# Field selectors: every resource supports metadata.name and metadata.namespace; a few kinds more (their
# field label conversion functions), and those kinds word an unsupported label their own way.
_META_FIELDS: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "metadata.name": lambda o: o.get("metadata", {}).get("name", ""),
    "metadata.namespace": lambda o: o.get("metadata", {}).get("namespace", ""),
}


def _at(*path: str) -> Callable[[Mapping[str, Any]], str]:
    def get(o: Mapping[str, Any]) -> str:
        node: Any = o
        for part in path:
            node = node.get(part) if isinstance(node, Mapping) else None
        return "" if node is None else str(node).lower() if isinstance(node, bool) else str(node)

    return get


_KIND_FIELDS: dict[str, dict[str, Callable[[Mapping[str, Any]], str]]] = {
    "Pod": {
        "spec.nodeName": _at("spec", "nodeName"),
        "spec.restartPolicy": _at("spec", "restartPolicy"),
        "spec.schedulerName": _at("spec", "schedulerName"),
        "spec.serviceAccountName": _at("spec", "serviceAccountName"),
        "spec.hostNetwork": _at("spec", "hostNetwork"),
        "status.phase": _at("status", "phase"),
        "status.podIP": _at("status", "podIP"),
        "status.nominatedNodeName": _at("status", "nominatedNodeName"),
    },
    "Event": {
        **{
            f"involvedObject.{k}": _at("involvedObject", k)
            for k in ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath")
        },
        "reason": _at("reason"),
        "reportingComponent": _at("reportingComponent"),
        "source": _at("source", "component"),
        "type": _at("type"),
    },
    "Secret": {"type": _at("type")},
    "Namespace": {"status.phase": _at("status", "phase")},
    "Service": {},
    "Job": {"status.successful": _at("status", "succeeded")},
}


def _unsupported(field: str, kind: str) -> ApiError:
    if kind == "Job":
        return bad_request(f'field label "{field}" not supported for {kind}')
    if kind in _KIND_FIELDS:
        return bad_request(f"field label not supported: {field}")
    return bad_request(f'"{field}" is not a known field selector: only "metadata.name", "metadata.namespace"')


def field_matcher(selector: str | None, kind: str) -> Callable[[Mapping[str, Any]], bool] | None:
    if not selector:
        return None
    fields = {**_META_FIELDS, **_KIND_FIELDS.get(kind, {})}
    checks: list[tuple[Callable[[Mapping[str, Any]], str], bool, str]] = []
    for part in (p.strip() for p in selector.split(",") if p.strip()):
        m = re.match(r"^([^!=]+)(==|=|!=)(.*)$", part)
        if not m:
            raise bad_request(f"invalid selector: '{selector}'; can't understand '{part}'")
        field, op, value = m[1].strip(), m[2], m[3].strip()
        getter = fields.get(field)
        if getter is None:
            raise _unsupported(field, kind)
        checks.append((getter, op != "!=", value))
    return lambda o: all((g(o) == v) == eq for g, eq, v in checks)
