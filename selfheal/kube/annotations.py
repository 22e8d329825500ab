"""The annotations the job reads, parsed in one place, strictly.

Every reader returns a typed value, or an `Invalid` that quotes the raw value and says why, e.g.
`selfheal.dev/desired-replicas="1_000": not a decimal integer` — never an exception, whatever a
person or a tool wrote there. The rules, one per annotation:

- `selfheal.dev/desired-replicas`: decimal ASCII digits only, after stripping ASCII spaces (no sign,
  no `_`, no `0x`, no exponent, no non-ASCII digits such as a full-width five), at most the targeting HPA's
  `maxReplicas`, else at most `DESIRED_REPLICAS_CAP` (1000). `spec.replicas` of
  `kubectl.kubernetes.io/last-applied-configuration` is held to the same bound.
- `rollout.argoproj.io/traffic-split`: a JSON object with exactly the keys `canary` and `stable`, each a
  JSON integer (not a bool, a float such as `10.0` or `1e999`, or a string) in 0..100, summing to 100.
  Any other key is refused too: an abort or a promote rewrites the whole value, so a key the job does not
  understand would be silently dropped (and a canary abort's inverse would put back a value nobody can
  read). A duplicate key is refused (which one wins is up to the reader).
- `cronjob.kubernetes.io/suspended` and `selfheal.dev/ignore`: switches, `"true"` or `"false"` (case and
  surrounding whitespace do not matter); absent is off. Anything else (`"yes"`, `"1"`, `"enabled"`) is
  read as ON, the safe side for both (hands off), and carries the `Invalid` so the caller can say so.
- `selfheal.dev/canary-auto-promote` on the stable Deployment: a switch read like the others by `flag`,
  but the caller takes an invalid value as OFF (the safe side for it: no automatic progression).
- `selfheal.dev/canary-step` (the job's own record of its last canary step, on the Deployment carrying the
  split): a JSON object with exactly `canary` (integer 0..100, the share it set), `at` (when, RFC 3339 UTC
  `YYYY-MM-DDTHH:MM:SSZ`), `stable_replicas` (the stable's replicas before the first step, integer >= 0),
  `stable_desired` and `canary_desired` (`selfheal.dev/desired-replicas` of each before the first step, a
  string or null for none).
- `deployment.kubernetes.io/revision` on a ReplicaSet: an integer as kubectl parses it (Go's
  `strconv.ParseInt(v, 10, 64)`: optional sign, ASCII digits, 64-bit); anything else is no revision.

The annotation names live here; `selfheal.kube.model` re-exports them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from selfheal.kube.model import Deployment, HorizontalPodAutoscaler

# --- annotation names this project reads or writes -----------------------------------------------------
ANN_IGNORE: Final = "selfheal.dev/ignore"
ANN_ARGOCD_TRACKING: Final = "argocd.argoproj.io/tracking-id"  # Argo CD's annotation-based tracking
ANN_CONFIG_HASH: Final = "selfheal.dev/config-hash"
ANN_CONFIG_CHECKSUM: Final = "selfheal.dev/config-checksum"
ANN_DESIRED_REPLICAS: Final = "selfheal.dev/desired-replicas"
ANN_LAST_APPLIED: Final = "kubectl.kubernetes.io/last-applied-configuration"
ANN_RESTARTED_AT: Final = "kubectl.kubernetes.io/restartedAt"
ANN_REVISION: Final = "deployment.kubernetes.io/revision"
ANN_TRAFFIC_SPLIT: Final = "rollout.argoproj.io/traffic-split"
ANN_CRONJOB_SUSPENDED: Final = "cronjob.kubernetes.io/suspended"
ANN_CANARY_AUTO_PROMOTE: Final = "selfheal.dev/canary-auto-promote"
ANN_CANARY_STEP: Final = "selfheal.dev/canary-step"
ANN_MIRROR: Final = "kubernetes.io/config.mirror"

# The most replicas the job scales a Deployment to on the word of an annotation when no HPA targets it
# (with an HPA, its maxReplicas is the bound). A typo such as "1000" for "10" stops here.
DESIRED_REPLICAS_CAP: Final = 1000
# How much of a raw value a message quotes (an annotation may hold up to 256 KiB).
QUOTE_LIMIT: Final = 120

_SPLIT_KEYS: Final = ("canary", "stable")
_INT64: Final = 2**63


@dataclass(frozen=True)
class Invalid:
    """An annotation that is present but unusable: its name, the raw value as written, and why."""

    annotation: str
    raw: str
    reason: str

    def __str__(self) -> str:
        quoted = json.dumps(self.raw, ensure_ascii=False)
        if len(quoted) > QUOTE_LIMIT:
            quoted = quoted[: QUOTE_LIMIT - 2] + '…"'
        return f"{self.annotation}={quoted}: {self.reason}"


@dataclass(frozen=True)
class TrafficSplit:
    canary: int
    stable: int


@dataclass(frozen=True)
class Flag:
    """A `"true"`/`"false"` switch as read. `on` is True for `"true"`, and for an invalid value (the
    safe side: hands off), which is then kept in `invalid`. Truthy when on."""

    on: bool
    invalid: Invalid | None = None

    def __bool__(self) -> bool:
        return self.on

    @property
    def warning(self) -> str:
        """One line for the log when the value was invalid ("" otherwise)."""
        return "" if self.invalid is None else f'{self.invalid}; treated as "true"'


# --- switches -------------------------------------------------------------------------------------------


def flag(annotations: Mapping[str, str], name: str) -> Flag:
    """The switch `name`: absent or `"false"` is off, `"true"` is on, anything else is on and invalid."""
    raw = annotations.get(name)
    if raw is None:
        return Flag(False)
    value = raw.strip().lower()
    if value in ("true", "false"):
        return Flag(value == "true")
    return Flag(True, Invalid(name, raw, 'not "true" or "false"'))


def ignored(annotations: Mapping[str, str]) -> Flag:
    """`selfheal.dev/ignore` on a Deployment or a pod."""
    return flag(annotations, ANN_IGNORE)


def cronjob_suspended(annotations: Mapping[str, str]) -> Flag:
    """The guide's `cronjob.kubernetes.io/suspended` on the job's CronJob."""
    return flag(annotations, ANN_CRONJOB_SUSPENDED)


# --- replicas -------------------------------------------------------------------------------------------


def replica_bound(hpa: HorizontalPodAutoscaler | None) -> tuple[int, str]:
    """(the most replicas an annotation may ask for, what sets that bound)."""
    if hpa is not None:
        return hpa.spec.max_replicas, f"HPA {hpa.metadata.name} maxReplicas {hpa.spec.max_replicas}"
    return DESIRED_REPLICAS_CAP, f"the cap of {DESIRED_REPLICAS_CAP} (no HPA)"


def parse_replicas(raw: str, bound: int, bound_text: str, name: str = ANN_DESIRED_REPLICAS) -> int | Invalid:
    """A replica count written as text: ASCII spaces around, decimal ASCII digits, 0..bound."""
    text = raw.strip(" ")
    if not text:
        return Invalid(name, raw, "empty")
    if not (text.isascii() and text.isdigit()):
        return Invalid(name, raw, "not a decimal integer")
    significant = text.lstrip("0") or "0"
    if len(significant) > len(str(max(bound, 0))) or int(significant) > bound:
        return Invalid(name, raw, f"above {bound_text}")
    return int(significant)


def desired_replicas(dep: Deployment, hpa: HorizontalPodAutoscaler | None = None) -> int | Invalid | None:
    """`selfheal.dev/desired-replicas`, else `spec.replicas` of last-applied-configuration; None when
    neither records a count. `hpa` is the HPA targeting `dep`, if any (its maxReplicas is the bound)."""
    bound, bound_text = replica_bound(hpa)
    raw = dep.metadata.annotations.get(ANN_DESIRED_REPLICAS)
    if raw is not None:
        return parse_replicas(raw, bound, bound_text)
    applied = last_applied(dep)
    spec = applied.get("spec") if applied is not None else None
    replicas = spec.get("replicas") if isinstance(spec, dict) else None
    if type(replicas) is not int or replicas < 0:
        return None  # not a count: no opinion, as before (kubectl would not have applied it)
    if replicas > bound:
        raw_applied = dep.metadata.annotations[ANN_LAST_APPLIED]
        return Invalid(ANN_LAST_APPLIED, raw_applied, f"spec.replicas {replicas} is above {bound_text}")
    return replicas


def last_applied(dep: Deployment) -> dict[str, Any] | None:
    """`kubectl.kubernetes.io/last-applied-configuration` as a JSON object; None when absent or not one."""
    raw = dep.metadata.annotations.get(ANN_LAST_APPLIED)
    if raw is None:
        return None
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    return doc if isinstance(doc, dict) else None


# --- traffic split --------------------------------------------------------------------------------------


class _Literal(str):
    """A JSON number that is not a plain integer, kept as written (`1e999`, `10.0`, `NaN`)."""


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _Duplicate(key)
        out[key] = value
    return out


class _Duplicate(ValueError):
    pass


class _BigInt(_Literal):
    """A JSON integer too long to be a percentage, kept as written (never converted: 10,000 digits)."""


def _int_literal(text: str) -> int | _Literal:
    return int(text) if len(text) <= 4 else _BigInt(text)  # 0..100 needs 3 digits and a sign


def _describe(value: Any) -> str:
    if isinstance(value, _Literal):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def parse_traffic_split(raw: str) -> TrafficSplit | Invalid:
    """The guide's `{"canary":10,"stable":90}`, strictly (see the module docstring)."""

    def invalid(reason: str) -> Invalid:
        return Invalid(ANN_TRAFFIC_SPLIT, raw, reason)

    try:
        doc = json.loads(
            raw,
            object_pairs_hook=_no_duplicates,
            parse_int=_int_literal,
            parse_float=_Literal,
            parse_constant=_Literal,
        )
    except _Duplicate as dup:
        return invalid(f"duplicate key {json.dumps(str(dup))}")
    except (ValueError, RecursionError):
        return invalid("not JSON")
    if not isinstance(doc, dict):
        return invalid(f"not a JSON object (a JSON {_json_type(doc)})")
    for key in _SPLIT_KEYS:
        if key not in doc:
            return invalid(f'missing "{key}"')
    extra = sorted(k for k in doc if k not in _SPLIT_KEYS)
    if extra:
        return invalid(f"unexpected key {json.dumps(extra[0], ensure_ascii=False)}")
    values: dict[str, int] = {}
    for key in _SPLIT_KEYS:
        value = doc[key]
        if isinstance(value, _BigInt):
            return invalid(f'"{key}" is {value}, outside 0..100')
        if type(value) is not int:
            return invalid(f'"{key}" is not an integer ({_describe(value)})')
        if not 0 <= value <= 100:
            return invalid(f'"{key}" is {value}, outside 0..100')
        values[key] = value
    if values["canary"] + values["stable"] != 100:
        return invalid(f"canary + stable is {values['canary'] + values['stable']}, not 100")
    return TrafficSplit(values["canary"], values["stable"])


def _json_type(doc: Any) -> str:
    if doc is None:
        return "null"
    if isinstance(doc, bool):
        return "boolean"
    if isinstance(doc, list):
        return "array"
    if isinstance(doc, str) and not isinstance(doc, _Literal):
        return "string"
    return "number"


def traffic_split(dep: Deployment) -> TrafficSplit | Invalid | None:
    """The split annotated on `dep`; None when it carries none."""
    raw = dep.metadata.annotations.get(ANN_TRAFFIC_SPLIT)
    return None if raw is None else parse_traffic_split(raw)


def split_holder(stable: Deployment, canary: Deployment) -> Deployment:
    """Which of a canary pair carries the split: stable when it has the annotation, else the canary."""
    return stable if ANN_TRAFFIC_SPLIT in stable.metadata.annotations else canary


# --- the job's record of its canary steps ---------------------------------------------------------------

_STEP_KEYS: Final = ("canary", "at", "stable_replicas", "stable_desired", "canary_desired")
_STEP_TIME: Final = "%Y-%m-%dT%H:%M:%SZ"


@dataclass(frozen=True)
class CanaryStep:
    """What the job's last canary step set (`canary` %, `at`) and what it found before its first step."""

    canary: int
    at: datetime
    stable_replicas: int
    stable_desired: str | None
    canary_desired: str | None

    def value(self) -> str:
        return json.dumps(
            {
                "canary": self.canary,
                "at": self.at.astimezone(UTC).strftime(_STEP_TIME),
                "stable_replicas": self.stable_replicas,
                "stable_desired": self.stable_desired,
                "canary_desired": self.canary_desired,
            },
            separators=(",", ":"),
        )


def parse_canary_step(raw: str) -> CanaryStep | Invalid:
    def invalid(reason: str) -> Invalid:
        return Invalid(ANN_CANARY_STEP, raw, reason)

    try:
        doc = json.loads(
            raw,
            object_pairs_hook=_no_duplicates,
            parse_int=_int_literal,
            parse_float=_Literal,
            parse_constant=_Literal,
        )
    except _Duplicate as dup:
        return invalid(f"duplicate key {json.dumps(str(dup))}")
    except (ValueError, RecursionError):
        return invalid("not JSON")
    if not isinstance(doc, dict):
        return invalid(f"not a JSON object (a JSON {_json_type(doc)})")
    if sorted(doc) != sorted(_STEP_KEYS):
        return invalid(f"keys are not exactly {', '.join(_STEP_KEYS)}")
    canary, at, replicas = doc["canary"], doc["at"], doc["stable_replicas"]
    if type(canary) is not int or not 0 <= canary <= 100:
        return invalid('"canary" is not an integer in 0..100')
    if type(replicas) is not int or not 0 <= replicas <= DESIRED_REPLICAS_CAP:
        return invalid(f'"stable_replicas" is not an integer in 0..{DESIRED_REPLICAS_CAP}')
    if type(at) is not str:
        return invalid('"at" is not a string')
    try:
        moment = datetime.strptime(at, _STEP_TIME).replace(tzinfo=UTC)
    except ValueError:
        return invalid(f'"at" is not {_STEP_TIME}')
    desired: list[str | None] = []
    for key in ("stable_desired", "canary_desired"):
        value = doc[key]
        if value is not None and type(value) is not str:
            return invalid(f'"{key}" is not a string or null')
        desired.append(value)
    return CanaryStep(canary, moment, replicas, desired[0], desired[1])


def canary_step(dep: Deployment) -> CanaryStep | Invalid | None:
    """The job's canary-step record on `dep`; None when it carries none."""
    raw = dep.metadata.annotations.get(ANN_CANARY_STEP)
    return None if raw is None else parse_canary_step(raw)


# --- revisions ------------------------------------------------------------------------------------------


def revision(annotations: Mapping[str, str]) -> int | None:
    """`deployment.kubernetes.io/revision` as kubectl reads it (`strconv.ParseInt(v, 10, 64)`)."""
    raw = annotations.get(ANN_REVISION)
    if raw is None:
        return None
    digits = raw[1:] if raw[:1] in ("+", "-") else raw
    if not digits or not (digits.isascii() and digits.isdigit()) or len(digits) > 19:
        return None
    value = -int(digits) if raw[0] == "-" else int(digits)
    return value if -_INT64 <= value < _INT64 else None
