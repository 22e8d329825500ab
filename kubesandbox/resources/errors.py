"""API errors as the real server reports them: a `Status` object with reason and code."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error the sandbox answers with a `meta/v1 Status` body."""

    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        list_meta: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.list_meta = list_meta or {}  # the Status's own metadata (a 410's fresh continue token)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details  # None: no `details` in the Status; {} is sent as `"details": {}`, as Go does
        self.headers = headers or {}

    def status(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": dict(self.list_meta),
            "status": "Failure",
            "message": self.message,
            "code": self.code,
        }
        if self.reason:  # Go omits an empty reason
            body["reason"] = self.reason
        if self.details is not None:
            body["details"] = self.details
        return body


def _details(group: str, kind: str, name: str | None) -> dict[str, Any]:
    details: dict[str, Any] = {"kind": kind}
    if name:
        details["name"] = name
    if group:
        details["group"] = group
    return details


def not_found(group_resource: str, group: str, plural: str, name: str) -> ApiError:
    return ApiError(404, "NotFound", f'{group_resource} "{name}" not found', _details(group, plural, name))


def already_exists(group_resource: str, group: str, plural: str, name: str) -> ApiError:
    return ApiError(
        409, "AlreadyExists", f'{group_resource} "{name}" already exists', _details(group, plural, name)
    )


def conflict(group_resource: str, group: str, plural: str, name: str, why: str) -> ApiError:
    return ApiError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {group_resource} "{name}": {why}',
        _details(group, plural, name),
    )


def stale_write(group_resource: str, group: str, plural: str, name: str) -> ApiError:
    return conflict(
        group_resource,
        group,
        plural,
        name,
        "the object has been modified; please apply your changes to the latest version and try again",
    )


def invalid(kind: str, group: str, name: str, causes: list[tuple[str, str, str]]) -> ApiError:
    """422 Invalid. Each cause is (field, reason, message), e.g. ("spec.replicas", "FieldValueInvalid", "...")."""
    parts = [f"{f}: {m}" for f, _, m in causes]
    message = f'{kind}.{group} "{name}" is invalid: ' if group else f'{kind} "{name}" is invalid: '
    message += ", ".join(parts) if len(parts) == 1 else "[" + ", ".join(parts) + "]"
    details = _details(group, kind, name)
    details["causes"] = [{"reason": r, "message": m, "field": f} for f, r, m in causes]
    return ApiError(422, "Invalid", message, details)


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def gone(message: str, continue_token: str = "") -> ApiError:
    """410 Expired; for an expired continue token, with a token to go on from there inconsistently."""
    return ApiError(
        410, "Expired", message, list_meta={"continue": continue_token} if continue_token else None
    )


def method_not_allowed(
    message: str = "the server does not allow this method on the requested resource",
) -> ApiError:
    return ApiError(405, "MethodNotAllowed", message, {})


def not_found_resource() -> ApiError:
    """A path in a served group that names no resource (`NewGenericServerResponse`: empty details)."""
    return ApiError(404, "NotFound", "the server could not find the requested resource", {})


def unsupported_value(kind: str, field: str, value: str, supported: tuple[str, ...]) -> ApiError:
    """An options object's field with a value it does not take (`field.NotSupported` on `DeleteOptions`,
    `CreateOptions`...): `DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: ...`."""
    quoted = ", ".join(f'"{v}"' for v in supported)
    return invalid(
        kind,
        "meta.k8s.io",
        "",
        [(field, "FieldValueNotSupported", f"Unsupported value: {value}: supported values: {quoted}")],
    )


def delete_precondition_failed(
    kind: str, group: str, name: str, what: str, wanted: str, actual: str
) -> ApiError:
    """`rest.BeforeDelete`'s early precondition check: a Conflict on `<Kind>[.<group>]` (the kind, not the
    resource), naming both values."""
    group_kind = f"{kind}.{group}" if group else kind
    why = (
        f"the UID in the precondition ({wanted}) does not match the UID in record ({actual}). "
        "The object might have been deleted and then recreated"
        if what == "UID"
        else f"the ResourceVersion in the precondition ({wanted}) does not match the ResourceVersion in record "
        f"({actual}). The object might have been modified"
    )
    return ApiError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {group_kind} "{name}": {why}',
        _details(group, kind, name),
    )


def storage_key(plural: str, namespace: str, name: str) -> str:
    """Where etcd keeps an object (`/registry/<resource>/<namespace>/<name>`; Services under `services/specs`)."""
    prefix = "services/specs" if plural == "services" else plural
    return f"/registry/{prefix}/{namespace}/{name}" if namespace else f"/registry/{prefix}/{name}"


def uid_precondition_failed(
    group_resource: str, group: str, plural: str, namespace: str, name: str, wanted: str, actual: str
) -> ApiError:
    """An update whose object carries another uid: the storage layer's precondition error, wrapped in a
    Conflict the way the registry reports it."""
    return conflict(
        group_resource,
        group,
        plural,
        name,
        f"StorageError: invalid object, Code: 4, Key: {storage_key(plural, namespace, name)}, ResourceVersion: 0, "
        f"AdditionalErrorMsg: Precondition failed: UID in precondition: {wanted}, UID in object meta: {actual}",
    )


def unsupported_media_type(content_type: str) -> ApiError:
    """415 for a Content-Type the endpoint does not take (the negotiation layer's words: no type named)."""
    del content_type
    return ApiError(415, "UnsupportedMediaType", "415: Unsupported Media Type", {})
