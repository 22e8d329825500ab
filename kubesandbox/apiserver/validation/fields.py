"""How field errors print and the checks every kind shares: names, labels, annotation keys, int-or-percent
values, label selectors (k8s.io/apimachinery `validation` and `field`)."""

from __future__ import annotations

import json
import re
from typing import Any

Obj = dict[str, Any]


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


Cause = tuple[str, str, str]

DNS1123_SUBDOMAIN_FMT = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
DNS1123_LABEL_FMT = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
QUALIFIED_NAME_FMT = r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
LABEL_VALUE_FMT = r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?"
CONFIG_KEY_FMT = r"[-._a-zA-Z0-9]+"
PERCENT_FMT = r"[0-9]+%"
IANA_SVC_NAME = re.compile(r"^[-a-z0-9]*[a-z]+[-a-z0-9]*$")  # at least one letter, no double hyphens (below)

SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
    f"start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
    f"'{DNS1123_SUBDOMAIN_FMT}')"
)
LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and "
    f"end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
    f"'{DNS1123_LABEL_FMT}')"
)
QUALIFIED_NAME_MSG = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    f"alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
    f"'{QUALIFIED_NAME_FMT}')"
)
QUALIFIED_KEY_MSG = (
    "a valid label key must consist of alphanumeric characters, '-', '_' or '.', and must start and end with "
    f"an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
    f"'{QUALIFIED_NAME_FMT}') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
)
LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must "
    f"start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for "
    f"validation is '{LABEL_VALUE_FMT}')"
)
CONFIG_KEY_MSG = (
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or "
    f"'KEY_NAME',  or 'key-name', regex used for validation is '{CONFIG_KEY_FMT}')"
)
PERCENT_MSG = (
    "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex "
    f"used for validation is '{PERCENT_FMT}')"
)
PORT_RANGE_MSG = "must be between 1 and 65535, inclusive"
POD_UPDATE_MSG = (
    "Forbidden: pod updates may not change fields other than `spec.containers[*].image`,"
    "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to "
    "existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously "
    "negative)"
)

_SUBDOMAIN = re.compile(f"^{DNS1123_SUBDOMAIN_FMT}$")
_LABEL = re.compile(f"^{DNS1123_LABEL_FMT}$")
_QUALIFIED_NAME = re.compile(f"^{QUALIFIED_NAME_FMT}$")
_LABEL_VALUE = re.compile(f"^{LABEL_VALUE_FMT}$")
_CONFIG_KEY = re.compile(f"^{CONFIG_KEY_FMT}$")
_PERCENT = re.compile(f"^{PERCENT_FMT}$")


# -- how field errors print (k8s.io/apimachinery/pkg/util/validation/field) ----------------------------------


def go_value(value: Any) -> str:
    """The value of a `field.Invalid` as its message prints it: strings quoted, numbers and booleans as they
    are, nil as null, anything else as Go's json.Marshal (sorted map keys, no spaces)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def invalid(path: str, value: Any, detail: str) -> Cause:
    return (path, "FieldValueInvalid", f"Invalid value: {go_value(value)}: {detail}")


def required(path: str, detail: str = "") -> Cause:
    return (path, "FieldValueRequired", f"Required value: {detail}" if detail else "Required value")


def duplicate(path: str, value: Any) -> Cause:
    return (path, "FieldValueDuplicate", f"Duplicate value: {go_value(value)}")


def not_found(path: str, value: Any) -> Cause:
    return (path, "FieldValueNotFound", f"Not found: {go_value(value)}")


def forbidden(path: str, detail: str) -> Cause:
    return (path, "FieldValueForbidden", f"Forbidden: {detail}")


def not_supported(path: str, value: Any, supported: tuple[str, ...]) -> Cause:
    quoted = ", ".join(f'"{v}"' for v in supported)
    return (
        path,
        "FieldValueNotSupported",
        f"Unsupported value: {go_value(value)}: supported values: {quoted}",
    )


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def nonnegative(path: str, value: Any) -> list[Cause]:
    v = _int(value)
    return [invalid(path, v, "must be greater than or equal to 0")] if v is not None and v < 0 else []


# -- names, labels, annotations -------------------------------------------------------------------------------

# kinds whose names are DNS labels; the rest are DNS subdomains
_LABEL_NAMED = {"Namespace", "Service"}
_MAX_NAME = {"CronJob": 52}


def _name(meta: Obj, kind: str) -> list[Cause]:
    name = meta.get("name", "")
    if not name:
        if meta.get("generateName"):
            return []
        return [required("metadata.name", "name or generateName is required")]
    if not isinstance(name, str):
        return [invalid("metadata.name", name, SUBDOMAIN_MSG)]
    causes: list[Cause] = []
    if kind in _LABEL_NAMED:
        if len(name) > 63:
            causes.append(invalid("metadata.name", name, "must be no more than 63 characters"))
        if not _LABEL.match(name):
            causes.append(invalid("metadata.name", name, LABEL_MSG))
    else:
        if len(name) > 253:
            causes.append(invalid("metadata.name", name, "must be no more than 253 characters"))
        if not _SUBDOMAIN.match(name):
            causes.append(invalid("metadata.name", name, SUBDOMAIN_MSG))
    limit = _MAX_NAME.get(kind)
    if limit is not None and len(name) > limit:
        causes.append(invalid("metadata.name", name, f"must be no more than {limit} characters"))
    return causes


def qualified_name(path: str, key: str) -> list[Cause]:
    """`IsQualifiedName`: an optional DNS-subdomain prefix and '/', then a name part of at most 63."""
    parts = key.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            return [invalid(path, key, "prefix part must be non-empty")]
        if len(prefix) > 253:
            return [invalid(path, key, "prefix part must be no more than 253 characters")]
        if not _SUBDOMAIN.match(prefix):
            return [invalid(path, key, "prefix part " + SUBDOMAIN_MSG)]
    else:
        return [invalid(path, key, QUALIFIED_KEY_MSG)]
    causes: list[Cause] = []
    if not name:
        causes.append(invalid(path, key, "name part must be non-empty"))
    elif len(name) > 63:
        causes.append(invalid(path, key, "name part must be no more than 63 bytes"))
    if not _QUALIFIED_NAME.match(name):
        causes.append(invalid(path, key, QUALIFIED_NAME_MSG))
    return causes


def labels(path: str, value: Any) -> list[Cause]:
    if not isinstance(value, dict):
        return []
    causes: list[Cause] = []
    for k, v in value.items():
        causes += qualified_name(path, str(k))
        if not isinstance(v, str):
            continue
        if len(v) > 63:
            causes.append(invalid(path, v, "must be no more than 63 bytes"))
        if not _LABEL_VALUE.match(v):
            causes.append(invalid(path, v, LABEL_VALUE_MSG))
    return causes


def annotation_keys(path: str, value: Any) -> list[Cause]:
    if not isinstance(value, dict):
        return []
    causes: list[Cause] = []
    for k in value:
        causes += qualified_name(path, str(k).lower())
    size = sum(len(str(k)) + len(str(v)) for k, v in value.items())
    if size > 256 * 1024:
        causes.append(
            (
                "metadata.annotations",
                "FieldValueTooLong",
                f"Too long: may not be more than {256 * 1024} bytes",
            )
        )
    return causes


def _metadata(meta: Obj, kind: str) -> list[Cause]:
    return (
        _name(meta, kind)
        + labels("metadata.labels", meta.get("labels"))
        + annotation_keys("metadata.annotations", meta.get("annotations"))
    )


# -- int-or-percent, selectors --------------------------------------------------------------------------------


def int_or_percent(path: str, value: Any) -> list[Cause]:
    """`ValidatePositiveIntOrPercent` and `IsNotMoreThan100Percent`."""
    if value is None:
        return []
    if isinstance(value, str):
        if not _PERCENT.match(value):
            return [invalid(path, value, PERCENT_MSG)]
        if int(value[:-1]) > 100:
            return [invalid(path, value, "must not be greater than 100%")]
        return []
    return nonnegative(path, value)


def _is_zero(value: Any) -> bool:
    return value in (0, "0%") or value is None


_SELECTOR_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


def selector(path: str, sel: Any) -> tuple[list[Cause], bool]:
    """`ValidateLabelSelector`: causes, and whether `LabelSelectorAsSelector` would fail."""
    if not isinstance(sel, dict):
        return [], False
    causes = labels(f"{path}.matchLabels", sel.get("matchLabels"))
    broken = False
    for i, expr in enumerate(sel.get("matchExpressions") or []):
        if not isinstance(expr, dict):
            continue
        op, values = expr.get("operator"), expr.get("values") or []
        p = f"{path}.matchExpressions[{i}]"
        if op in ("In", "NotIn"):
            if not values:
                causes.append(required(f"{p}.values", "must be specified when `operator` is 'In' or 'NotIn'"))
                broken = True
        elif op in ("Exists", "DoesNotExist"):
            if values:
                causes.append(
                    forbidden(
                        f"{p}.values", "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"
                    )
                )
                broken = True
        else:
            causes.append(invalid(f"{p}.operator", op, "not a valid selector operator"))
            broken = True
        causes += qualified_name(f"{p}.key", str(expr.get("key", "")))
    return causes, broken
